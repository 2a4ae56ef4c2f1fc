package roles

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/bits"
	"net/http"
	"strconv"
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

// resolveForAPI resolves and maps subject errors to Management API errors.
func (a *API) resolveForAPI(r *http.Request, s Subject) (Resolution, error) {
	min, err := minRevisionParam(r)
	if err != nil {
		return Resolution{}, err
	}
	if err := a.waitRevision(r, min); err != nil {
		return Resolution{}, err
	}
	res, err := a.index.Resolve(s)
	var se *SubjectError
	if errors.As(err, &se) {
		switch {
		case errors.Is(err, ErrUserNotFound):
			return res, newError(http.StatusNotFound, "inexistent_user", "%s", se.Message)
		case errors.Is(err, ErrOrganizationNotFound):
			return res, newError(http.StatusNotFound, "inexistent_organization", "%s", se.Message)
		}
		return res, badQuery("%s", se.Message)
	}
	return res, err
}

// GET /users/{id}/effective-roles → {"user_id","active","roles":[{id, name,
// description, scope, sources}],"revision"}. A deactivated user answers
// active false and no roles; a missing user is a 404.
func (a *API) userEffectiveRoles(w http.ResponseWriter, r *http.Request, _ caller) error {
	res, err := a.resolveForAPI(r, Subject{UserID: r.PathValue("id")})
	if err != nil {
		return err
	}
	a.writeEffective(w, res)
	return nil
}

// GET /organizations/{id}/members/{user_id}/effective-roles: the same, inside
// an organization, with the user's standing in it.
func (a *API) memberEffectiveRoles(w http.ResponseWriter, r *http.Request, _ caller) error {
	res, err := a.resolveForAPI(r, Subject{UserID: r.PathValue("user_id"), OrganizationID: r.PathValue("id")})
	if err != nil {
		return err
	}
	a.writeEffective(w, res)
	return nil
}

func (a *API) writeEffective(w http.ResponseWriter, res Resolution) {
	rev := a.index.Revision()
	b := make([]byte, 0, 512+len(res.Roles)*160)
	b = append(b, `{"user_id":`...)
	b = store.AppendJSONString(b, res.UserID)
	b = append(b, `,"active":`...)
	b = strconv.AppendBool(b, res.Active)
	if res.Organization != nil {
		b = append(b, `,"organization":`...)
		b = appendOrganization(b, res.Organization)
	}
	b = append(b, `,"roles":`...)
	b = appendRoles(b, res.Roles, true)
	b = append(b, `,"revision":`...)
	b = strconv.AppendUint(b, rev, 10)
	b = append(b, "}\n"...)
	writeRaw(w, http.StatusOK, rev, b)
}

// GET /users/{id}/effective-permissions → {"permissions":[{resource_server_identifier,
// permission_name, roles}]}, narrowed by ?resource_server=.
func (a *API) userEffectivePermissions(w http.ResponseWriter, r *http.Request, _ caller) error {
	res, err := a.resolveForAPI(r, Subject{UserID: r.PathValue("id"), OrganizationID: r.URL.Query().Get("organization_id")})
	if err != nil {
		return err
	}
	rev := a.index.Revision()
	b := make([]byte, 0, 256)
	b = append(b, `{"user_id":`...)
	b = store.AppendJSONString(b, res.UserID)
	b = append(b, `,"active":`...)
	b = strconv.AppendBool(b, res.Active)
	b = append(b, `,"permissions":[`...)
	for i, p := range res.Permissions(r.URL.Query().Get("resource_server")) {
		if i > 0 {
			b = append(b, ',')
		}
		b = a.index.appendDescribedPermission(b, p.Permission)
		b = append(b, `,"roles":[`...)
		for j, id := range p.Roles {
			if j > 0 {
				b = append(b, ',')
			}
			b = store.AppendJSONString(b, id)
		}
		b = append(appendPermissionSources(append(b, ']'), p, res), '}')
	}
	b = append(b, `],"revision":`...)
	b = strconv.AppendUint(b, rev, 10)
	b = append(b, "}\n"...)
	writeRaw(w, http.StatusOK, rev, b)
	return nil
}

// queryRequest is the login query (DESIGN §3): one subject or a batch.
type queryRequest struct {
	Subjects       []Subject `json:"subjects"`
	MinRevision    uint64    `json:"min_revision"`
	ResourceServer string    `json:"resource_server"`
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
	if err := a.waitRevision(r, q.MinRevision); err != nil {
		return err
	}
	buf := answerBuffers.Get().(*[]byte)
	defer answerBuffers.Put(buf)
	b := append((*buf)[:0], `{"results":[`...)
	// One read lock for the batch, so every result reflects one revision.
	rev := a.index.resolveBatch(q.Subjects, func(i int, res Resolution, err error) {
		if i > 0 {
			b = append(b, ',')
		}
		if err != nil {
			b = appendSubjectError(b, q.Subjects[i], err)
			return
		}
		b = a.index.appendResult(b, res, q.ResourceServer)
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
// the answers reflect.
func (ix *Index) resolveBatch(subjects []Subject, fn func(i int, res Resolution, err error)) uint64 {
	buf := answerPool.Get().(*answerScratch)
	defer answerPool.Put(buf)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for i, s := range subjects {
		u, err := ix.lookup(s)
		var res Resolution
		if err == nil {
			res, err = ix.withDirect(ix.resolve(u, s.OrganizationID, buf))
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

// appendResult writes one query result. It runs under the index's read lock
// (in resolveBatch): permission ranks and the permission table must agree.
func (ix *Index) appendResult(b []byte, res Resolution, resourceServer string) []byte {
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
	b = append(b, `,"roles":`...)
	b = appendRoles(b, res.Roles, false)

	// Permissions: the union of the roles' ranks, in rank (resource
	// server, name) order. The scratch holds two bitsets: permission ranks,
	// then claim names.
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
	b = append(b, `,"permissions":[`...)
	first := true
	for wi, w := range bitset {
		for w != 0 {
			p := &ix.perms[wi*64+bits.TrailingZeros64(w)]
			w &= w - 1
			if resourceServer != "" && p.ResourceServerIdentifier != resourceServer {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, p.json...)
			claimSet[p.claimIndex/64] |= 1 << (p.claimIndex % 64)
		}
		bitset[wi] = 0
	}
	// claims: what a login server puts in a token; permission names sorted,
	// each once.
	b = append(b, `],"claims":{"roles":[`...)
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
		claimSet[wi] = 0
	}
	permScratch.Put(set)
	return append(b, "]}}"...)
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

// appendRoles writes roles with their sources; description is included on
// the Management API's endpoints, left out of the lean login answer.
func appendRoles(b []byte, roles []EffectiveRole, withDescription bool) []byte {
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
