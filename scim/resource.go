package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/rolecall/rolecall/scim/document"
	"github.com/rolecall/rolecall/store"
)

type kind int

const (
	kindUser kind = iota
	kindGroup
)

// resource serves one resource type (Users or Groups): reads, writes and
// lists, each rendered here, so that every endpoint renders a resource the
// same way.
type resource struct {
	h    *Handler
	kind kind
	doc  *document.ResourceType
}

const (
	userSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"
	enterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	groupSchema      = "urn:ietf:params:scim:schemas:core:2.0:Group"
)

func (res *resource) name() string {
	if res.kind == kindUser {
		return "User"
	}
	return "Group"
}

func (res *resource) endpoint() string {
	if res.kind == kindUser {
		return "/Users"
	}
	return "/Groups"
}

// noun names the resource type in token scopes ("get:users").
func (res *resource) noun() string {
	if res.kind == kindUser {
		return "users"
	}
	return "groups"
}

func (res *resource) schemas() []string {
	if res.kind == kindUser {
		return []string{userSchema, enterpriseSchema}
	}
	return []string{groupSchema}
}

// etag is the entity tag of a resource at a store revision.
func etag(revision uint64) string { return `W/"` + strconv.FormatUint(revision, 10) + `"` }

// userVersion is a user's entity tag (meta.version). A user's representation
// lists its groups with their display names, so the tag must change when
// they do, not only when the user's record does: it is the largest revision
// among the user's record and its groups' records, and how many groups there
// are (a user in no group has the plain tag of its record).
//
// The pair identifies the representation. Every change that adds to it (the
// user changes, joins a group, a group is renamed: the group's revision moves
// with its name and its membership) commits at a revision above all those
// the pair saw, so the maximum grows; it can come back down only when
// everything newer is gone again (the user left those groups, or they were
// deleted), and then what is left is a subset of what was there, with the
// same revisions, which the count tells apart. A change that only takes away
// (leaving a group, a group deleted) lowers the count.
func userVersion(revision uint64, groups []store.Group) string {
	if len(groups) == 0 {
		return etag(revision)
	}
	top := revision
	for _, g := range groups {
		top = max(top, g.Revision)
	}
	return `W/"` + strconv.FormatUint(top, 10) + "." + strconv.Itoa(len(groups)) + `"`
}

// record is the part of a user or group that rendering needs.
type record struct {
	id, externalID    string
	doc               json.RawMessage
	created, modified time.Time
	revision          uint64
	seq               uint64 // position in the connection's creation order
}

func userRecord(u store.User) record {
	return record{u.ID, u.ExternalID, u.Doc, u.Created, u.Modified, u.Revision, u.Sequence()}
}

func groupRecord(g store.Group) record {
	return record{g.ID, g.ExternalID, g.Doc, g.Created, g.Modified, g.Revision, g.Sequence()}
}

func decodeDoc(raw json.RawMessage) (map[string]any, error) {
	doc := map[string]any{}
	if len(raw) == 0 {
		return doc, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	return doc, nil
}

func mustJSON(v any) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		// Documents are built from decoded JSON; they always encode.
		panic("scim: encode document: " + err.Error())
	}
	return raw
}

// full is the complete representation of a record that filters, sorting and
// projection work on: the document plus id, meta and schemas. Derived
// attributes (a User's groups, a Group's members) are added by the caller,
// and so is a User's meta.version, which depends on its groups (see
// attachDerived). meta's times keep full precision so filters on them are
// exact; output uses whole seconds (see output).
func (res *resource) full(st *request, rec record) (map[string]any, error) {
	doc, err := decodeDoc(rec.doc)
	if err != nil {
		return nil, err
	}
	return res.fullFrom(st, rec, doc), nil
}

// fullFrom completes a decoded document into the full representation.
func (res *resource) fullFrom(st *request, rec record, doc map[string]any) map[string]any {
	doc["id"] = rec.id
	doc["schemas"] = res.schemas()
	doc["meta"] = map[string]any{
		"resourceType": res.name(),
		"created":      rec.created.UTC().Format(time.RFC3339Nano),
		"lastModified": rec.modified.UTC().Format(time.RFC3339Nano),
		"version":      etag(rec.revision),
		"location":     st.baseURL + res.endpoint() + "/" + rec.id,
	}
	return doc
}

// attachDerived adds a User's groups or a Group's members to full, as maps
// that filters and sub-attribute projections can look into. For a User it
// also sets meta.version, which the groups decide, and returns it.
func (res *resource) attachDerived(tx *store.ReadTx, st *request, rec record, full map[string]any) (string, error) {
	if res.kind == kindUser {
		groups, err := tx.GroupsOf(rec.id)
		if err != nil {
			return "", err
		}
		list := make([]any, 0, len(groups))
		for _, g := range groups {
			list = append(list, map[string]any{
				"value": g.ID, "display": g.DisplayName, "type": "direct",
				"$ref": st.baseURL + "/Groups/" + g.ID,
			})
		}
		full["groups"] = list
		version := userVersion(rec.revision, groups)
		if meta, ok := full["meta"].(map[string]any); ok {
			meta["version"] = version
		}
		return version, nil
	}
	members, _ := tx.Members(rec.id, "", 0)
	list := make([]any, 0, len(members))
	for _, m := range members {
		item := map[string]any{"value": m.ID, "type": m.Type, "$ref": memberRef(st, m)}
		if m.Display != "" {
			item["display"] = m.Display
		}
		list = append(list, item)
	}
	full["members"] = list
	return etag(rec.revision), nil
}

func memberRef(st *request, m store.Member) string {
	return st.baseURL + "/" + m.Type + "s/" + m.ID
}

// attachForOutput adds the derived attribute for a response and returns the
// resource's version. A group's members go in as encoded JSON (the bytes
// encoding/json would write for the maps, keys sorted): a 50,000-member group
// then costs a few megabytes instead of a hundred in maps. Projections that
// reach inside members (attributes=members.value) get the map form. A
// User's groups are always read: its version depends on them.
func (res *resource) attachForOutput(tx *store.ReadTx, st *request, rec record, full map[string]any, p projection) (string, error) {
	switch {
	case res.kind == kindUser:
		return res.attachDerived(tx, st, rec, full)
	case !res.doc.Wants(p.attributes, p.excluded, "members"):
		return etag(rec.revision), nil
	case p.reachesInto("members"):
		return res.attachDerived(tx, st, rec, full)
	}
	members, _ := tx.Members(rec.id, "", 0)
	b := make([]byte, 0, 2+len(members)*(100+len(st.baseURL)))
	b = append(b, '[')
	for i, m := range members {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"$ref":`...)
		b = store.AppendJSONString(b, memberRef(st, m))
		if m.Display != "" {
			b = append(b, `,"display":`...)
			b = store.AppendJSONString(b, m.Display)
		}
		b = append(b, `,"type":`...)
		b = store.AppendJSONString(b, m.Type)
		b = append(b, `,"value":`...)
		b = store.AppendJSONString(b, m.ID)
		b = append(b, '}')
	}
	full["members"] = json.RawMessage(append(b, ']'))
	return etag(rec.revision), nil
}

func (res *resource) derivedName() string {
	if res.kind == kindUser {
		return "groups"
	}
	return "members"
}

// versionIn is the current version of a record: for a User it reads the
// user's groups.
func (res *resource) versionIn(tx *store.ReadTx, rec record) (string, error) {
	if res.kind == kindGroup {
		return etag(rec.revision), nil
	}
	groups, err := tx.GroupsOf(rec.id)
	if err != nil {
		return "", err
	}
	return userVersion(rec.revision, groups), nil
}

// projection reads attributes= and excludedAttributes= from a query.
type projection struct{ attributes, excluded []string }

func projectionOf(q map[string][]string) projection {
	split := func(key string) []string {
		var out []string
		for _, v := range q[key] {
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
		}
		return out
	}
	return projection{attributes: split("attributes"), excluded: split("excludedAttributes")}
}

func (p projection) given() bool { return len(p.attributes)+len(p.excluded) > 0 }

// reachesInto reports whether the projection names a sub-attribute of attr.
func (p projection) reachesInto(attr string) bool {
	for _, list := range [][]string{p.attributes, p.excluded} {
		for _, path := range list {
			if len(path) > len(attr) && strings.EqualFold(path[:len(attr)], attr) && (path[len(attr)] == '.' || path[len(attr)] == '[') {
				return true
			}
		}
	}
	return false
}

// load reads one record of the request's connection.
func (res *resource) load(tx *store.ReadTx, st *request, id string) (record, error) {
	if res.kind == kindUser {
		u, err := tx.User(st.connectionID, id)
		return userRecord(u), err
	}
	g, err := tx.Group(st.connectionID, id)
	return groupRecord(g), err
}

// render projects one resource as the client asked and returns it with its
// version.
func (res *resource) render(tx *store.ReadTx, st *request, rec record, p projection) (map[string]any, string, error) {
	full, err := res.full(st, rec)
	if err != nil {
		return nil, "", err
	}
	version, err := res.attachForOutput(tx, st, rec, full, p)
	if err != nil {
		return nil, "", err
	}
	return output(res.doc.Project(full, p.attributes, p.excluded)), version, nil
}

// output finishes a projected representation for a response: meta's times in
// whole seconds.
func output(projected map[string]any) map[string]any {
	meta, ok := projected["meta"].(map[string]any)
	if !ok {
		return projected
	}
	out := make(map[string]any, len(meta))
	for k, v := range meta {
		if s, isString := v.(string); isString && (k == "created" || k == "lastModified") {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				v = t.UTC().Format(time.RFC3339)
			}
		}
		out[k] = v
	}
	projected["meta"] = out
	return projected
}

// renderAfterWrite renders the resource a write produced, as the client's
// projection asks, with its ETag.
func (res *resource) renderAfterWrite(w http.ResponseWriter, r *http.Request, rec record, status int) {
	st := stateOf(r)
	var out map[string]any
	var version string
	err := res.h.db.View(func(tx *store.ReadTx) (err error) {
		out, version, err = res.render(tx, st, rec, projectionOf(r.URL.Query()))
		return err
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", version)
	writeJSON(w, status, out)
}

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
		version, err = res.versionIn(tx, rec)
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

// prepareWrite decodes and normalises a POST or PUT body, keeping the
// normalised document (and a Group's members) on the request state. It
// validates as much as can be validated without the store: JSON, schemas,
// attribute types and required attributes.
func (res *resource) prepareWrite(st *request, body []byte) error {
	var raw any
	if err := decodeValue(body, &raw); err != nil {
		return scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The request body is not valid JSON: %v.", err)
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The request body must be a JSON object.")
	}
	var schemas any
	for k, v := range obj {
		if strings.EqualFold(k, "schemas") {
			schemas = v
		}
	}
	if !listsSchema(schemas, res.schemas()[0]) {
		return scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, `The body must list %q in "schemas".`, res.schemas()[0])
	}
	doc, err := res.doc.Normalize(obj)
	if err != nil {
		return err
	}
	if res.kind == kindGroup {
		members, present, err := res.doc.Members(obj)
		if err != nil {
			return err
		}
		st.members, st.membersPresent = membersOf(members), present
	}
	st.body = doc
	return nil
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

func str(doc map[string]any, key string) string {
	s, _ := doc[key].(string)
	return s
}

// create stores the request's normalised body as a new resource and returns
// the record and its document.
func (res *resource) create(r *http.Request) (record, map[string]any, error) {
	st := stateOf(r)
	doc := st.body
	if _, ok := doc["active"]; !ok && res.kind == kindUser {
		doc["active"] = true // IdPs provision active users; say so explicitly
	}
	raw := mustJSON(doc) // encoded here: write functions run on the committer
	var rec record
	err := res.h.update(r, func(tx *store.Tx) error {
		if res.kind == kindUser {
			u, err := tx.CreateUser(store.User{
				ConnectionID: st.connectionID, UserName: str(doc, "userName"), ExternalID: str(doc, "externalId"),
				Active: doc["active"] == true, Doc: raw,
			})
			rec = userRecord(u)
			return err
		}
		g, err := tx.CreateGroup(store.Group{
			ConnectionID: st.connectionID, DisplayName: str(doc, "displayName"), ExternalID: str(doc, "externalId"),
			Doc: raw,
		}, st.members)
		rec = groupRecord(g)
		return err
	})
	return rec, doc, err
}

// post serves POST /{Users,Groups}: 201 with the created resource, its
// Location and ETag. It renders from the document in hand instead of reading
// the new record back: creating users is the hottest write IdPs make.
func (res *resource) post(w http.ResponseWriter, r *http.Request, body []byte) {
	st := stateOf(r)
	if err := res.prepareWrite(st, body); err != nil {
		writeError(w, r, err)
		return
	}
	rec, doc, err := res.create(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", st.baseURL+res.endpoint()+"/"+rec.id)
	// A new user is in no group yet: its version is its record's.
	w.Header().Set("ETag", etag(rec.revision))
	p := projectionOf(r.URL.Query())
	if !p.given() && res.kind == kindUser {
		// The common case: the stored document plus id, groups, meta and
		// schemas, spliced rather than re-projected and re-encoded.
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(res.createdUserJSON(st, rec))
		return
	}
	full := res.fullFrom(st, rec, doc)
	if res.kind == kindUser {
		full["groups"] = []any{}
	} else if err := res.h.db.View(func(tx *store.ReadTx) error {
		_, err := res.attachForOutput(tx, st, rec, full, p)
		return err
	}); err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, output(res.doc.Project(full, p.attributes, p.excluded)))
}

// createdUserJSON is the representation of a user just created, built from
// its stored document: what render would produce with no projection (a new
// user has no groups yet).
func (res *resource) createdUserJSON(st *request, rec record) []byte {
	ts := rec.created.UTC().Format(time.RFC3339)
	head := mustJSON(map[string]any{
		"id":      rec.id,
		"groups":  []any{},
		"schemas": res.schemas(),
		"meta": map[string]any{
			"resourceType": res.name(), "created": ts, "lastModified": ts,
			"version": etag(rec.revision), "location": st.baseURL + res.endpoint() + "/" + rec.id,
		},
	})
	if len(rec.doc) <= 2 { // "{}"
		return head
	}
	out := make([]byte, 0, len(head)+len(rec.doc))
	out = append(out, head[:len(head)-1]...)
	out = append(out, ',')
	return append(out, rec.doc[1:]...)
}

// put serves PUT /{Users,Groups}/{id}: the document is replaced whole, and
// the answer is 200 with the resource as GET renders it. Two deliberate
// exceptions keep IdP round-trips from losing data: a PUT without "active"
// keeps the user's active state, and a group PUT without "members" keeps the
// members (a PUT with "members": [] empties the group).
func (res *resource) put(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	st := stateOf(r)
	if err := res.prepareWrite(st, body); err != nil {
		writeError(w, r, err)
		return
	}
	doc := st.body
	var rec record
	err := res.h.update(r, func(tx *store.Tx) error {
		if res.kind == kindUser {
			u, err := tx.UpdateUser(st.connectionID, id, func(u *store.User) error {
				if r.Header.Get("If-Match") != "" {
					version, err := res.versionIn(&tx.ReadTx, userRecord(*u))
					if err != nil {
						return err
					}
					if err := checkIfMatch(r, version); err != nil {
						return err
					}
				}
				if _, ok := doc["active"]; !ok {
					doc["active"] = u.Active
				}
				u.UserName, u.ExternalID, u.Active, u.Doc = str(doc, "userName"), str(doc, "externalId"), doc["active"] == true, mustJSON(doc)
				return nil
			})
			rec = userRecord(u)
			return err
		}
		g, err := tx.UpdateGroup(st.connectionID, id, func(g *store.Group) error {
			if err := checkIfMatch(r, etag(g.Revision)); err != nil {
				return err
			}
			g.DisplayName, g.ExternalID, g.Doc = str(doc, "displayName"), str(doc, "externalId"), mustJSON(doc)
			return nil
		})
		if err != nil {
			return err
		}
		if st.membersPresent {
			if err := tx.ReplaceMembers(st.connectionID, id, st.members); err != nil {
				return err
			}
			if g, err = tx.Group(st.connectionID, id); err != nil {
				return err
			}
		}
		rec = groupRecord(g)
		return nil
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
			version, err := res.versionIn(&tx.ReadTx, rec)
			if err != nil {
				return err
			}
			if err := checkIfMatch(r, version); err != nil {
				return err
			}
		}
		if res.kind == kindUser {
			return tx.DeleteUser(st.connectionID, id)
		}
		return tx.DeleteGroup(st.connectionID, id)
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
