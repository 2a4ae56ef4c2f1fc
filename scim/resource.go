package scim

import (
	"net/http"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/rolecall/rolecall/scim/document"
	"github.com/rolecall/rolecall/store"
)

// The handlers of one resource and of creation, for every resource type:
// what differs between types is in their descriptors (resource_type.go).

// get serves GET /{Users,Groups}/{id}: 200 with the resource, projected as
// asked, and its ETag.
func (res *resource) get(w http.ResponseWriter, r *http.Request, id string) {
	st := stateOf(r)
	var out map[string]any
	var version string
	err := res.h.db.View(func(tx *store.ReadTx) error {
		rec, err := res.load(tx, st, id)
		if err != nil {
			return err
		}
		out, version, err = res.render(tx, st, rec, projectionOf(r.URL.Query()))
		return err
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", version)
	writeJSON(w, http.StatusOK, out)
}

// notModified answers If-None-Match for GET by id without rendering.
func (res *resource) notModified(r *http.Request, id string) bool {
	st := stateOf(r)
	var version string
	if err := res.h.db.View(func(tx *store.ReadTx) error {
		rec, err := res.load(tx, st, id)
		if err != nil {
			return err
		}
		version, err = res.records.version(tx, rec)
		return err
	}); err != nil {
		return false
	}
	return etagMatches(r.Header.Get("If-None-Match"), version)
}

// etagMatches compares an If-Match / If-None-Match header with an entity tag,
// weakly (RFC 9110 §8.8.3.2), accepting "*" and comma-separated lists.
func etagMatches(header, tag string) bool {
	strip := func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "W/") }
	for _, candidate := range strings.Split(header, ",") {
		if c := strings.TrimSpace(candidate); c == "*" || strip(c) == strip(tag) {
			return true
		}
	}
	return false
}

// checkIfMatch fails with 412 when the request's If-Match does not match the
// resource's current version.
func checkIfMatch(r *http.Request, version string) error {
	if h := r.Header.Get("If-Match"); h != "" && !etagMatches(h, version) {
		return scimErr(http.StatusPreconditionFailed, "", "The resource has changed: its version is %s, not %s.", version, h)
	}
	return nil
}

// submitted is a POST or PUT body, decoded and normalised.
type submitted struct {
	doc map[string]any
	// members are a Group's members; membersPresent says the body had
	// "members" (a PUT without them keeps the group's).
	members        []store.Member
	membersPresent bool
}

// prepareWrite decodes and normalises a POST or PUT body. It validates as
// much as can be validated without the store: JSON, schemas, attribute types
// and required attributes.
func (res *resource) prepareWrite(body []byte) (submitted, error) {
	var raw any
	if err := decodeValue(body, &raw); err != nil {
		return submitted{}, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The request body is not valid JSON: %v.", err)
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return submitted{}, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The request body must be a JSON object.")
	}
	var schemas any
	for k, v := range obj {
		if strings.EqualFold(k, "schemas") {
			schemas = v
		}
	}
	if !listsSchema(schemas, res.schemas[0]) {
		return submitted{}, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, `The body must list %q in "schemas".`, res.schemas[0])
	}
	doc, err := res.doc.Normalize(obj)
	if err != nil {
		return submitted{}, err
	}
	in := submitted{doc: doc}
	if res.members {
		members, present, err := res.doc.Members(obj)
		if err != nil {
			return submitted{}, err
		}
		in.members, in.membersPresent = membersOf(members), present
	}
	return in, nil
}

func listsSchema(v any, want string) bool {
	list, ok := v.([]any)
	if !ok {
		return false
	}
	for _, s := range list {
		if str, ok := s.(string); ok && strings.EqualFold(str, want) {
			return true
		}
	}
	return false
}

func membersOf(members []document.Member) []store.Member {
	out := make([]store.Member, len(members))
	for i, m := range members {
		out[i] = store.Member{ID: m.Value, Display: m.Display}
	}
	return out
}

// create stores a submitted document, completed with the type's defaults,
// as a new resource.
func (res *resource) create(r *http.Request, in submitted) (record, error) {
	st := stateOf(r)
	for k, v := range res.defaults {
		if _, ok := in.doc[k]; !ok {
			in.doc[k] = v
		}
	}
	raw := mustJSON(in.doc) // encoded here: write functions run on the committer
	var reads []store.Lookup
	if l, ok := res.records.(creationReads); ok {
		reads = l.creationReads(st.connectionID, in)
	}
	var rec record
	err := res.h.update(r, func(tx *store.Tx) (err error) {
		rec, err = res.records.create(tx, st.connectionID, in, raw)
		return err
	}, reads...)
	return rec, err
}

// creationReads is implemented by the records whose creation looks up a
// key known from the document (a uniqueness check): named in the write's
// origin, it is read with the rest of its group commit.
type creationReads interface {
	creationReads(connectionID string, in submitted) []store.Lookup
}

// post serves POST /{Users,Groups}: 201 with the created resource, its
// Location and ETag. It renders from the document in hand instead of reading
// the new record back: creating users is the hottest write IdPs make.
func (res *resource) post(w http.ResponseWriter, r *http.Request, body []byte) {
	st := stateOf(r)
	in, err := res.prepareWrite(body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	rec, err := res.create(r, in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", st.baseURL+res.endpoint+"/"+rec.id)
	// A new user is in no group yet, and a group's version is its record's:
	// either way the version is the new record's.
	w.Header().Set("ETag", etag(rec.revision))
	p := projectionOf(r.URL.Query())
	if !p.given() && res.emptyWhenNew {
		// The common case: the stored document plus id, the empty derived
		// attribute, meta and schemas.
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(res.createdJSON(st, rec))
		return
	}
	out, err := res.renderCreated(st, rec, in.doc, p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

// put serves PUT /{Users,Groups}/{id}: the document is replaced whole, and
// the answer is 200 with the resource as GET renders it. Two deliberate
// exceptions keep IdP round-trips from losing data: a PUT without "active"
// keeps the user's active state, and a group PUT without "members" keeps the
// members (a PUT with "members": [] empties the group); see records.replace.
func (res *resource) put(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	st := stateOf(r)
	in, err := res.prepareWrite(body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var rec record
	err = res.h.update(r, func(tx *store.Tx) (err error) {
		rec, err = res.records.replace(tx, r, st.connectionID, id, in)
		return err
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	res.renderAfterWrite(w, r, rec, http.StatusOK)
}

// delete serves DELETE /{Users,Groups}/{id}: 204.
func (res *resource) delete(w http.ResponseWriter, r *http.Request, id string) {
	st := stateOf(r)
	err := res.h.update(r, func(tx *store.Tx) error {
		rec, err := res.load(&tx.ReadTx, st, id)
		if err != nil {
			return err
		}
		if r.Header.Get("If-Match") != "" {
			version, err := res.records.version(&tx.ReadTx, rec)
			if err != nil {
				return err
			}
			if err := checkIfMatch(r, version); err != nil {
				return err
			}
		}
		return res.records.remove(tx, st.connectionID, id)
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
