package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/store/httpconv"
)

// maxSubjects bounds one login query (DESIGN §3).
const maxSubjects = 100

// minRevisionWait is how long a query waits for min_revision (DESIGN §7).
const minRevisionWait = time.Second

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

// The parts each endpoint answers without include: the login query
// everything, the GET endpoints what they always answered.
const (
	queryParts                = roles.AllParts
	effectiveRolesParts       = roles.PartRoles | roles.PartSources
	effectivePermissionsParts = roles.PartPermissions
)

// includeNames lists the include values in the order error messages name them.
var includeNames = []struct {
	name string
	part roles.Parts
}{{"roles", roles.PartRoles}, {"sources", roles.PartSources}, {"permissions", roles.PartPermissions}, {"claims", roles.PartClaims}}

const includeAllowed = "roles, sources, permissions, claims"

// parseInclude reads include values; ok false names the first unknown one
// (or "" for an empty list).
func parseInclude(values []string) (p roles.Parts, bad string, ok bool) {
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
	if p&roles.PartSources != 0 {
		p |= roles.PartRoles // sources hang on their roles
	}
	return p, "", true
}

// includeParam reads ?include=roles,claims (repeatable) on the GET
// endpoints; absent, the endpoint's default parts.
func includeParam(r *http.Request, def roles.Parts) (roles.Parts, error) {
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
	var se *roles.SubjectError
	if errors.As(err, &se) {
		switch {
		case errors.Is(err, roles.ErrUserNotFound):
			return newError(http.StatusNotFound, "inexistent_user", "%s", se.Message)
		case errors.Is(err, roles.ErrOrganizationNotFound):
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
	return a.writeEffective(w, r, roles.Subject{UserID: r.PathValue("id"), OrganizationID: r.URL.Query().Get("organization_id")}, effectiveRolesParts)
}

// GET /organizations/{id}/members/{user_id}/effective-roles: the same, inside
// an organization, with the user's standing in it.
func (a *API) memberEffectiveRoles(w http.ResponseWriter, r *http.Request, _ caller) error {
	return a.writeEffective(w, r, roles.Subject{UserID: r.PathValue("user_id"), OrganizationID: r.PathValue("id")}, effectiveRolesParts)
}

// GET /users/{id}/effective-permissions → {"permissions":[{resource_server_identifier,
// permission_name, roles}]}, narrowed by ?resource_server=, inside an
// organization with ?organization_id=.
func (a *API) userEffectivePermissions(w http.ResponseWriter, r *http.Request, _ caller) error {
	return a.writeEffective(w, r, roles.Subject{UserID: r.PathValue("id"), OrganizationID: r.URL.Query().Get("organization_id")}, effectivePermissionsParts)
}

// writeEffective answers the GET endpoints: {"user_id","active",
// "organization"?, then the parts ?include= asks for (def without it):
// "roles" (with description, and sources unless left out), "permissions"
// (each with the ids of the roles granting it), "claims"; and "revision"}.
func (a *API) writeEffective(w http.ResponseWriter, r *http.Request, s roles.Subject, def roles.Parts) error {
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
	b, rev, err := a.index.AppendEffectiveAnswer(nil, s, r.URL.Query().Get("resource_server"), want)
	if err != nil {
		return subjectAPIError(err)
	}
	writeRaw(w, http.StatusOK, rev, append(b, '\n'))
	return nil
}

// queryRequest is the login query (DESIGN §3): one subject or a batch.
// Include picks the parts of each result (nil: all of them).
type queryRequest struct {
	Subjects       []roles.Subject `json:"subjects"`
	MinRevision    uint64          `json:"min_revision"`
	ResourceServer string          `json:"resource_server"`
	Include        []string        `json:"include"`
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
	b, rev := a.index.AppendQueryAnswer((*buf)[:0], q.Subjects, q.ResourceServer, want)
	b = append(b, '\n')
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

func writeRaw(w http.ResponseWriter, status int, rev uint64, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body))) // no chunked framing
	w.Header().Set(httpconv.RevisionHeader, strconv.FormatUint(rev, 10))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
