package roles

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/bits"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rolecall/rolecall/store"
)

// maxSubjects bounds one login query (DESIGN §3).
const maxSubjects = 100

// minRevisionWait is how long a query waits for min_revision (DESIGN §7).
const minRevisionWait = time.Second

// effectiveRoutes registers the effective-role endpoints and the login query.
func (a *API) effectiveRoutes(p string) {
	a.handle("GET "+p+"/users/{id}/effective-roles", ScopeReadUserEffectiveRoles, "user", a.userEffectiveRoles)
	a.handle("GET "+p+"/users/{id}/effective-permissions", ScopeReadUserEffectiveRoles, "user", a.userEffectivePermissions)
	a.handle("GET "+p+"/organizations/{id}/members/{user_id}/effective-roles", ScopeReadUserEffectiveRoles, "user", a.memberEffectiveRoles)
	a.handle("POST "+p+"/effective-roles/query", ScopeReadUserEffectiveRoles, "subject", a.queryEffectiveRoles)
}

// waitRevision honours ?min_revision= (or the body's min_revision): the
// answer must reflect at least that revision.
func (a *API) waitRevision(r *http.Request, min uint64) error {
	if min == 0 {
		return nil
	}
	if err := a.index.WaitFor(r.Context(), min, minRevisionWait); err != nil {
		return newError(http.StatusConflict, "revision_not_reached",
			"revision %d not reached within %s (current %d)", min, minRevisionWait, a.index.Revision())
	}
	return nil
}

func minRevisionParam(r *http.Request) (uint64, error) {
	s := r.URL.Query().Get("min_revision")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, badQuery("min_revision must be a non-negative integer")
	}
	return n, nil
}

// parts is the set of an effective-role answer's parts a caller asked for
// with include. An answer always names the user (and the organization when
// one was asked for); the rest is left out, and not computed, unless asked.
type parts uint8

const (
	partRoles       parts = 1 << iota // the roles, with scope
	partSources                       // each role's sources (implies partRoles)
	partPermissions                   // the permissions the roles grant
	partClaims                        // the token-shaped claims block

	// Without include: the login query answers everything, the GET
	// endpoints what they always answered.
	queryParts                = partRoles | partSources | partPermissions | partClaims
	effectiveRolesParts       = partRoles | partSources
	effectivePermissionsParts = partPermissions
)

// includeNames lists the include values in the order error messages name them.
var includeNames = []struct {
	name string
	part parts
}{{"roles", partRoles}, {"sources", partSources}, {"permissions", partPermissions}, {"claims", partClaims}}

const includeAllowed = "roles, sources, permissions, claims"

// parseInclude reads include values; ok false names the first unknown one
// (or "" for an empty list).
func parseInclude(values []string) (p parts, bad string, ok bool) {
	if len(values) == 0 {
		return 0, "", false
	}
	for _, v := range values {
		known := false
		for _, n := range includeNames {
			if v == n.name {
				p, known = p|n.part, true
				break
			}
		}
		if !known {
			return 0, v, false
		}
	}
	if p&partSources != 0 {
		p |= partRoles // sources hang on their roles
	}
	return p, "", true
}

// includeParam reads ?include=roles,claims (repeatable) on the GET
// endpoints; absent, the endpoint's default parts.
func includeParam(r *http.Request, def parts) (parts, error) {
	raw, present := r.URL.Query()["include"]
	if !present {
		return def, nil
	}
	var values []string
	for _, v := range raw {
		values = append(values, strings.Split(v, ",")...)
	}
	p, bad, ok := parseInclude(values)
	switch {
	case ok:
		return p, nil
	case bad == "":
		return 0, badQuery("include must name at least one of %s", includeAllowed)
	}
	return 0, badQuery("include: unknown value %q; allowed values are %s", bad, includeAllowed)
}

// subjectAPIError maps a subject's resolution error to a Management API error.
func subjectAPIError(err error) error {
	var se *SubjectError
	if errors.As(err, &se) {
		switch {
		case errors.Is(err, ErrUserNotFound):
			return newError(http.StatusNotFound, "inexistent_user", "%s", se.Message)
		case errors.Is(err, ErrOrganizationNotFound):
			return newError(http.StatusNotFound, "inexistent_organization", "%s", se.Message)
		}
		return badQuery("%s", se.Message)
	}
	return err
}

// GET /users/{id}/effective-roles → {"user_id","active","roles":[{id, name,
// description, scope, sources}],"revision"}, inside an organization with
// ?organization_id=. A deactivated user answers active false and no roles;
// a missing user is a 404.
func (a *API) userEffectiveRoles(w http.ResponseWriter, r *http.Request, _ caller) error {
	return a.writeEffective(w, r, Subject{UserID: r.PathValue("id"), OrganizationID: r.URL.Query().Get("organization_id")}, effectiveRolesParts)
}

// GET /organizations/{id}/members/{user_id}/effective-roles: the same, inside
// an organization, with the user's standing in it.
func (a *API) memberEffectiveRoles(w http.ResponseWriter, r *http.Request, _ caller) error {
	return a.writeEffective(w, r, Subject{UserID: r.PathValue("user_id"), OrganizationID: r.PathValue("id")}, effectiveRolesParts)
}

// GET /users/{id}/effective-permissions → {"permissions":[{resource_server_identifier,
// permission_name, roles}]}, narrowed by ?resource_server=, inside an
// organization with ?organization_id=.
func (a *API) userEffectivePermissions(w http.ResponseWriter, r *http.Request, _ caller) error {
	return a.writeEffective(w, r, Subject{UserID: r.PathValue("id"), OrganizationID: r.URL.Query().Get("organization_id")}, effectivePermissionsParts)
}

// writeEffective answers the GET endpoints: {"user_id","active",
// "organization"?, then the parts ?include= asks for (def without it):
// "roles" (with description, and sources unless left out), "permissions"
// (each with the ids of the roles granting it), "claims"; and "revision"}.
func (a *API) writeEffective(w http.ResponseWriter, r *http.Request, s Subject, def parts) error {
	want, err := includeParam(r, def)
	if err != nil {
		return err
	}
	min, err := minRevisionParam(r)
	if err != nil {
		return err
	}
	if err := a.waitRevision(r, min); err != nil {
		return err
	}
	rs := r.URL.Query().Get("resource_server")
	var b []byte
	rev := a.index.resolveBatch([]Subject{s}, want&partSources != 0, func(_ int, res Resolution, resErr error) {
		if err = resErr; err != nil {
			return
		}
		b = make([]byte, 0, 512+len(res.Roles)*160)
		b = append(b, `{"user_id":`...)
		b = store.AppendJSONString(b, res.UserID)
		b = append(b, `,"active":`...)
		b = strconv.AppendBool(b, res.Active)
		if res.Organization != nil {
			b = append(b, `,"organization":`...)
			b = appendOrganization(b, res.Organization)
		}
		if want&partRoles != 0 {
			b = append(b, `,"roles":`...)
			b = appendRoles(b, res.Roles, true, want&partSources != 0)
		}
		if want&partPermissions != 0 {
			b = a.index.appendPermissionsWithRoles(b, res, rs)
		}
		if want&partClaims != 0 {
			b = a.index.appendPermissionParts(b, res, rs, false, true)
		}
	})
	if err != nil {
		return subjectAPIError(err)
	}
	b = append(b, `,"revision":`...)
	b = strconv.AppendUint(b, rev, 10)
	b = append(b, "}\n"...)
	writeRaw(w, http.StatusOK, rev, b)
	return nil
}

// appendPermissionsWithRoles writes ,"permissions":[{resource_server_identifier,
// permission_name, roles}], the GET endpoints' form.
func (ix *Index) appendPermissionsWithRoles(b []byte, res Resolution, resourceServer string) []byte {
	b = append(b, `,"permissions":[`...)
	for i, p := range res.Permissions(resourceServer) {
		if i > 0 {
			b = append(b, ',')
		}
		b = ix.appendDescribedPermission(b, p.Permission)
		b = append(b, `,"roles":[`...)
		for j, id := range p.Roles {
			if j > 0 {
				b = append(b, ',')
			}
			b = store.AppendJSONString(b, id)
		}
		b = append(appendPermissionSources(append(b, ']'), p, res), '}')
	}
	return append(b, ']')
}

// queryRequest is the login query (DESIGN §3): one subject or a batch.
// Include picks the parts of each result (nil: all of them).
type queryRequest struct {
	Subjects       []Subject `json:"subjects"`
	MinRevision    uint64    `json:"min_revision"`
	ResourceServer string    `json:"resource_server"`
	Include        []string  `json:"include"`
}

// POST /effective-roles/query answers one result per subject, in order:
// the user, the organization when asked, the roles with their sources, the
// permissions and a token-shaped claims block, or an error for a subject
// that does not resolve. The whole batch answers at one index revision.
func (a *API) queryEffectiveRoles(w http.ResponseWriter, r *http.Request, _ caller) error {
	var q queryRequest
	if err := decodeBody(r, &q); err != nil {
		return err
	}
	if len(q.Subjects) == 0 || len(q.Subjects) > maxSubjects {
		return badBody("Payload validation error: 'subjects' must list 1 to %d subjects", maxSubjects)
	}
	want := queryParts
	if q.Include != nil {
		var bad string
		var ok bool
		if want, bad, ok = parseInclude(q.Include); !ok {
			if bad == "" {
				return badBody("Payload validation error: 'include' must name at least one of %s", includeAllowed)
			}
			return badBody("Payload validation error: 'include' has an unknown value %q; allowed values are %s", bad, includeAllowed)
		}
	}
	if err := a.waitRevision(r, q.MinRevision); err != nil {
		return err
	}
	buf := answerBuffers.Get().(*[]byte)
	defer answerBuffers.Put(buf)
	b := append((*buf)[:0], `{"results":[`...)
	// One read lock for the batch, so every result reflects one revision.
	rev := a.index.resolveBatch(q.Subjects, want&partSources != 0, func(i int, res Resolution, err error) {
		if i > 0 {
			b = append(b, ',')
		}
		if err != nil {
			b = appendSubjectError(b, q.Subjects[i], err)
			return
		}
		b = a.index.appendResult(b, res, q.ResourceServer, want)
	})
	b = append(b, `],"revision":`...)
	b = strconv.AppendUint(b, rev, 10)
	b = append(b, "}\n"...)
	writeRaw(w, http.StatusOK, rev, b)
	if cap(b) <= 1<<20 {
		*buf = b // keep the grown buffer for the next answer
	}
	return nil
}

// answerBuffers recycles login-query answer buffers: an answer for a user in
// fifty groups is tens of kilobytes, and growing one by doubling every time
// costs more than writing it.
var answerBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// resolveBatch resolves subjects under one read lock and returns the revision
// the answers reflect. Without sources, the roles carry none (see resolve).
func (ix *Index) resolveBatch(subjects []Subject, sources bool, fn func(i int, res Resolution, err error)) uint64 {
	buf := answerPool.Get().(*answerScratch)
	defer answerPool.Put(buf)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for i, s := range subjects {
		u, err := ix.lookup(s)
		var res Resolution
		if err == nil {
			res, err = ix.withDirect(ix.resolve(u, s.OrganizationID, buf, sources))
		}
		fn(i, res, err)
	}
	return ix.revision
}

// answerPool: resolveBatch hands each answer to fn, which encodes it before
// the next, so one set of buffers serves a whole batch.
var answerPool = sync.Pool{New: func() any { return new(answerScratch) }}

func writeRaw(w http.ResponseWriter, status int, rev uint64, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body))) // no chunked framing
	w.Header().Set(RevisionHeader, strconv.FormatUint(rev, 10))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// permScratch is a reusable bitset over permission ranks.
var permScratch = sync.Pool{New: func() any { return new([]uint64) }}

// appendResult writes one query result: the user, the organization when
// asked, then the parts in want. It runs under the index's read lock (in
// resolveBatch): permission ranks and the permission table must agree.
func (ix *Index) appendResult(b []byte, res Resolution, resourceServer string, want parts) []byte {
	b = append(b, `{"user":{"id":`...)
	b = store.AppendJSONString(b, res.UserID)
	b = append(b, `,"connection_id":`...)
	b = store.AppendJSONString(b, res.ConnectionID)
	b = append(b, `,"active":`...)
	b = strconv.AppendBool(b, res.Active)
	b = append(b, '}')
	if res.Organization != nil {
		b = append(b, `,"organization":`...)
		b = appendOrganization(b, res.Organization)
	}
	if want&partRoles != 0 {
		b = append(b, `,"roles":`...)
		b = appendRoles(b, res.Roles, false, want&partSources != 0)
	}
	if want&(partPermissions|partClaims) != 0 {
		b = ix.appendPermissionParts(b, res, resourceServer, want&partPermissions != 0, want&partClaims != 0)
	}
	return append(b, '}')
}

// appendPermissionParts writes ,"permissions":[…] (the lean form, without
// the granting roles) and ,"claims":{"roles","permissions"}, each when
// asked. Permissions are the union of the roles' ranks, in rank (resource
// server, name) order; claims list permission names sorted, each once. It
// runs under the index's read lock.
func (ix *Index) appendPermissionParts(b []byte, res Resolution, resourceServer string, perms, claims bool) []byte {
	// The scratch holds two bitsets: permission ranks, then claim names.
	set := permScratch.Get().(*[]uint64)
	words, claimWords := (len(ix.perms)+63)/64, (len(ix.claims)+63)/64
	if len(*set) < words+claimWords {
		*set = make([]uint64, words+claimWords)
	}
	bitset, claimSet := (*set)[:words], (*set)[words:words+claimWords]
	for _, role := range res.Roles {
		for _, rank := range role.permRanks {
			bitset[rank/64] |= 1 << (rank % 64)
		}
	}
	ix.markDirect(bitset, res)
	if perms {
		b = append(b, `,"permissions":[`...)
	}
	first := true
	for wi, w := range bitset {
		for w != 0 {
			p := &ix.perms[wi*64+bits.TrailingZeros64(w)]
			w &= w - 1
			if resourceServer != "" && p.ResourceServerIdentifier != resourceServer {
				continue
			}
			if perms {
				if !first {
					b = append(b, ',')
				}
				first = false
				b = append(b, p.json...)
			}
			claimSet[p.claimIndex/64] |= 1 << (p.claimIndex % 64)
		}
		bitset[wi] = 0
	}
	if perms {
		b = append(b, ']')
	}
	if claims {
		b = append(b, `,"claims":{"roles":[`...)
		for i, role := range res.Roles {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, role.jsonName...)
		}
		b = append(b, `],"permissions":[`...)
		first = true
		for wi, w := range claimSet {
			for w != 0 {
				if !first {
					b = append(b, ',')
				}
				first = false
				b = append(b, ix.claims[wi*64+bits.TrailingZeros64(w)]...)
				w &= w - 1
			}
		}
		b = append(b, "]}"...)
	}
	clear(claimSet)
	permScratch.Put(set)
	return b
}

func appendOrganization(b []byte, o *OrganizationStatus) []byte {
	b = append(b, `{"id":`...)
	b = store.AppendJSONString(b, o.ID)
	b = append(b, `,"member":`...)
	b = strconv.AppendBool(b, o.Member)
	b = append(b, `,"auto_membership":`...)
	b = strconv.AppendBool(b, o.AutoMembership)
	return append(b, '}')
}

// appendRoles writes roles, with their sources when asked; description is
// included on the Management API's endpoints, left out of the lean login
// answer.
func appendRoles(b []byte, roles []EffectiveRole, withDescription, withSources bool) []byte {
	b = append(b, '[')
	for i, role := range roles {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, role.jsonHead...)
		if withDescription {
			b = append(b, role.jsonDescription...)
		}
		b = append(b, `,"scope":`...)
		b = store.AppendJSONString(b, role.Scope)
		if !withSources {
			b = append(b, '}')
			continue
		}
		b = append(b, `,"sources":[`...)
		for j, s := range role.Sources {
			if j > 0 {
				b = append(b, ',')
			}
			if s.Group == nil {
				b = append(b, `{"type":"direct"`...)
			} else {
				b = append(b, s.Group.jsonSource...)
			}
			b = append(b, `,"scope":"`...)
			b = append(b, s.Scope()...)
			b = append(b, '"')
			if via := s.Via(); len(via) > 0 {
				b = append(b, `,"via":[`...)
				for k, g := range via {
					if k > 0 {
						b = append(b, ',')
					}
					b = append(b, '{')
					b = append(b, g.jsonSource[len(groupSourceHead):]...)
					b = append(b, '}')
				}
				b = append(b, ']')
				if n := s.ViaLength(); n > len(via) { // shortened: see Source.Via
					b = append(b, `,"via_length":`...)
					b = strconv.AppendInt(b, int64(n), 10)
				}
			}
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	}
	return append(b, ']')
}

func appendSubjectError(b []byte, s Subject, err error) []byte {
	code, msg := "invalid_subject", err.Error()
	var se *SubjectError
	if errors.As(err, &se) {
		code = se.Code.Error()
	}
	subject, _ := json.Marshal(s)
	b = append(b, `{"subject":`...)
	b = append(b, bytes.TrimSpace(subject)...)
	b = append(b, `,"error":{"errorCode":`...)
	b = store.AppendJSONString(b, code)
	b = append(b, `,"message":`...)
	b = store.AppendJSONString(b, msg)
	return append(b, "}}"...)
}
