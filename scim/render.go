package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rolecall/rolecall/store"
)

// Rendering: every endpoint renders a resource through render (or, for a
// resource just created, from the document in hand), so the projection
// rules (RFC 7643 §3.1's "returned") hold everywhere.

// etag is the entity tag of a resource at a store revision.
func etag(revision uint64) string { return `W/"` + strconv.FormatUint(revision, 10) + `"` }

// record is the part of a user or group that rendering needs.
type record struct {
	id, externalID    string
	doc               json.RawMessage
	created, modified time.Time
	revision          uint64
	seq               uint64 // position in the connection's creation order
	// groups are a User's groups when a list page read them with the
	// page's other users' (store.ReadTx.GroupsOfMany); nil: read them.
	groups *[]store.Group
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

func str(doc map[string]any, key string) string {
	s, _ := doc[key].(string)
	return s
}

// full is the complete representation of a record that filters, sorting and
// projection work on: the document plus id, meta and schemas. The derived
// attribute (a User's groups, a Group's members) is added by the caller,
// and so is a User's meta.version, which depends on its groups (see
// records.attachDerived). meta's times keep full precision so filters on
// them are exact; output uses whole seconds (see output).
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
	doc["schemas"] = res.schemaList()
	doc["meta"] = map[string]any{
		"resourceType": res.name,
		"created":      rec.created.UTC().Format(time.RFC3339Nano),
		"lastModified": rec.modified.UTC().Format(time.RFC3339Nano),
		"version":      etag(rec.revision),
		"location":     st.baseURL + res.endpoint + "/" + rec.id,
	}
	return doc
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
	return res.records.load(tx, st.connectionID, id)
}

// render projects one resource as the client asked and returns it with its
// version.
func (res *resource) render(tx *store.ReadTx, st *request, rec record, p projection) (map[string]any, string, error) {
	full, err := res.full(st, rec)
	if err != nil {
		return nil, "", err
	}
	version, err := res.records.attachForOutput(tx, st, rec, full, p)
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

// renderCreated renders a resource just created from doc, the document in
// hand, as projection p asks.
func (res *resource) renderCreated(st *request, rec record, doc map[string]any, p projection) (map[string]any, error) {
	full := res.fullFrom(st, rec, doc)
	if res.emptyWhenNew {
		full[res.derived] = []any{}
	} else if err := res.h.db.View(func(tx *store.ReadTx) error {
		_, err := res.records.attachForOutput(tx, st, rec, full, p)
		return err
	}); err != nil {
		return nil, err
	}
	return output(res.doc.Project(full, p.attributes, p.excluded)), nil
}

// createdJSON is the representation of a resource just created, without
// projection, built from its stored document: what render would produce,
// spliced rather than re-projected and re-encoded (creating users is the
// hottest write IdPs make). The resource's derived attribute must be empty.
func (res *resource) createdJSON(st *request, rec record) []byte {
	ts := rec.created.UTC().Format(time.RFC3339)
	head := mustJSON(map[string]any{
		"id":        rec.id,
		res.derived: []any{},
		"schemas":   res.schemaList(),
		"meta": map[string]any{
			"resourceType": res.name, "created": ts, "lastModified": ts,
			"version": etag(rec.revision), "location": st.baseURL + res.endpoint + "/" + rec.id,
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
