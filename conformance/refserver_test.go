package conformance_test

// refServer is a small in-memory SCIM server that does what the scenarios record, so the package
// can prove its scenario data is consistent and passable without importing a real server. It is
// a test fixture, not a model implementation: it keeps everything in one mutex-guarded map.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const maxBodyBytes = 8 << 20

type refServer struct {
	mu          sync.Mutex
	connections map[string]*connection
	tokens      map[string]tokenGrant
	seq         int
	defects     map[string]bool // deliberate bugs, to prove the scenarios catch them
	api         *refAPI         // the Management API (refserver_api_test.go)
}

type tokenGrant struct {
	connection string
	readOnly   bool
}

type connection struct {
	id     string
	users  map[string]*resource
	groups map[string]*resource
}

type resource struct {
	id       string
	rt       *resourceType
	attrs    map[string]any // canonical names; the extension under its URN
	created  time.Time
	modified time.Time
	version  int
	seq      int
}

// Deliberate defects a test can switch on.
const (
	defectRemoveAllMembers   = "remove-all-members"   // Remove members with a value list empties the group
	defectCaseSensitiveNames = "case-sensitive-names" // userName compared with its case
	defectPartialPatch       = "partial-patch"        // a failing PATCH keeps the operations before the failure
	defectIgnoreAttributes   = "ignore-attributes"    // attributes/excludedAttributes ignored
)

func newRefServer(defects ...string) *refServer {
	s := &refServer{connections: map[string]*connection{}, tokens: map[string]tokenGrant{}, defects: map[string]bool{}}
	for _, d := range defects {
		s.defects[d] = true
	}
	s.api = newRefAPI(s)
	return s
}

// newConnection returns a fresh connection id with a full and a read-only token.
func (s *refServer) newConnection() (id, token, readOnly string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id = "con_" + randHex(6)
	s.connections[id] = &connection{id: id, users: map[string]*resource{}, groups: map[string]*resource{}}
	token, readOnly = "tok_"+randHex(16), "tok_"+randHex(16)
	s.tokens[token] = tokenGrant{connection: id}
	s.tokens[readOnly] = tokenGrant{connection: id, readOnly: true}
	return id, token, readOnly
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// scimError is an error with its HTTP status and scimType.
type scimError struct {
	status   int
	scimType string
	detail   string
}

func (e *scimError) Error() string { return e.detail }

func fail(status int, scimType, format string, args ...any) *scimError {
	return &scimError{status: status, scimType: scimType, detail: fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	var se *scimError
	if !errors.As(err, &se) {
		se = fail(http.StatusInternalServerError, "", "%v", err)
	}
	body := map[string]any{"schemas": []string{errorSchema}, "status": strconv.Itoa(se.status), "detail": se.detail}
	if se.scimType != "" {
		body["scimType"] = se.scimType
	}
	writeJSON(w, se.status, body)
}

func (s *refServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, apiPrefix+"/") {
		s.api.mux.ServeHTTP(w, r)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/scim/v2/connections/")
	if !ok {
		writeError(w, fail(404, "", "no such endpoint"))
		return
	}
	conID, route, _ := strings.Cut(rest, "/")
	base := "http://" + r.Host + "/scim/v2/connections/" + conID
	if r.ContentLength > maxBodyBytes {
		writeError(w, fail(http.StatusRequestEntityTooLarge, "", "request body larger than %d bytes", maxBodyBytes))
		return
	}
	grant, ok := s.authorize(r, conID)
	if !ok {
		writeError(w, fail(http.StatusUnauthorized, "", "missing or invalid bearer token"))
		return
	}
	if grant.readOnly && r.Method != http.MethodGet {
		writeError(w, fail(http.StatusForbidden, "", "the token may only read"))
		return
	}
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			writeError(w, fail(http.StatusRequestEntityTooLarge, "", "request body too large"))
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method != http.MethodGet {
		// Every write advances the revision the Management API's queries wait for.
		s.api.revision++
		w.Header().Set(revisionHdr, strconv.Itoa(s.api.revision))
	}
	con := s.connections[conID]
	collection, id, hasID := strings.Cut(route, "/")
	switch collection {
	case "ServiceProviderConfig":
		writeJSON(w, 200, serviceProviderConfig())
	case "ResourceTypes":
		writeJSON(w, 200, listOf(resourceTypesJSON()))
	case "Schemas":
		schemas := schemasJSON()
		if !hasID {
			writeJSON(w, 200, listOf(schemas))
			return
		}
		for _, sc := range schemas {
			if sc.(map[string]any)["id"] == id {
				writeJSON(w, 200, sc)
				return
			}
		}
		writeError(w, fail(404, "", "no schema %s", id))
	case "Users", "Groups":
		rt, store := userType, con.users
		if collection == "Groups" {
			rt, store = groupType, con.groups
		}
		h := &handler{s: s, con: con, rt: rt, store: store, base: base, w: w, r: r, body: body}
		if err := h.serve(id, hasID); err != nil {
			writeError(w, err)
		}
	default:
		writeError(w, fail(404, "", "no such endpoint"))
	}
}

func (s *refServer) authorize(r *http.Request, conID string) (tokenGrant, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return tokenGrant{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.tokens[strings.TrimSpace(token)]
	return g, ok && g.connection == conID
}

func serviceProviderConfig() map[string]any {
	return map[string]any{
		"schemas":        []string{spcSchema},
		"patch":          map[string]any{"supported": true},
		"bulk":           map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":         map[string]any{"supported": true, "maxResults": 1000},
		"changePassword": map[string]any{"supported": false},
		"sort":           map[string]any{"supported": true},
		"etag":           map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "OAuth Bearer Token", "description": "a bearer token of the connection",
		}},
	}
}

func resourceTypesJSON() []any {
	return []any{
		map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"},
			"id":      "User", "name": "User", "endpoint": "/Users", "schema": userSchema,
			"schemaExtensions": []any{map[string]any{"schema": enterpriseSchema, "required": false}},
		},
		map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"},
			"id":      "Group", "name": "Group", "endpoint": "/Groups", "schema": groupSchema,
		},
	}
}

func schemasJSON() []any {
	one := func(id, name string, defs []*attrDef) any {
		return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"}, "id": id, "name": name, "attributes": schemaJSON(defs)}
	}
	return []any{one(userSchema, "User", userAttrs), one(groupSchema, "Group", groupAttrs), one(enterpriseSchema, "EnterpriseUser", enterpriseAttrs)}
}

func listOf(items []any) map[string]any {
	return map[string]any{"schemas": []string{listSchema}, "totalResults": len(items), "startIndex": 1, "itemsPerPage": len(items), "Resources": items}
}

// handler serves one request on /Users or /Groups; the server lock is held.
type handler struct {
	s     *refServer
	con   *connection
	rt    *resourceType
	store map[string]*resource
	base  string
	w     http.ResponseWriter
	r     *http.Request
	body  []byte
}

func (h *handler) serve(id string, hasID bool) error {
	switch {
	case !hasID && h.r.Method == http.MethodGet:
		return h.list()
	case !hasID && h.r.Method == http.MethodPost:
		return h.create()
	case hasID:
		res, ok := h.store[id]
		if !ok {
			return fail(404, "", "%s %s not found", h.rt.name, id)
		}
		switch h.r.Method {
		case http.MethodGet:
			if inm := h.r.Header.Get("If-None-Match"); inm != "" && inm == etag(res) {
				h.w.Header().Set("ETag", etag(res))
				h.w.WriteHeader(http.StatusNotModified)
				return nil
			}
			return h.respond(200, res)
		case http.MethodDelete:
			delete(h.store, id)
			h.s.api.resourceDeleted(h.rt, id)
			h.w.WriteHeader(http.StatusNoContent)
			return nil
		case http.MethodPut, http.MethodPatch:
			if im := h.r.Header.Get("If-Match"); im != "" && im != etag(res) {
				return fail(http.StatusPreconditionFailed, "", "the resource has changed")
			}
			if h.r.Method == http.MethodPut {
				return h.replace(res)
			}
			return h.patch(res)
		}
	}
	return fail(http.StatusMethodNotAllowed, "", "method not allowed")
}

func etag(r *resource) string { return fmt.Sprintf(`W/"%d"`, r.version) }

func (h *handler) decode() (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(h.body))
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fail(400, "invalidSyntax", "body is not JSON: %v", err)
	}
	if dec.More() {
		return nil, fail(400, "invalidSyntax", "trailing data after the JSON body")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fail(400, "invalidSyntax", "body is not a JSON object")
	}
	return obj, nil
}

func requireSchema(body map[string]any, want string) error {
	list, _ := memberFold(body, "schemas").([]any)
	for _, s := range list {
		if str, ok := s.(string); ok && strings.EqualFold(str, want) {
			return nil
		}
	}
	return fail(400, "invalidSyntax", "schemas must contain %s", want)
}

func memberFold(obj map[string]any, key string) any {
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

func (h *handler) create() error {
	body, err := h.decode()
	if err != nil {
		return err
	}
	if err := requireSchema(body, h.rt.schema); err != nil {
		return err
	}
	attrs, err := normalizeResource(h.rt, body)
	if err != nil {
		return err
	}
	h.s.seq++
	now := time.Now().UTC()
	res := &resource{id: randHex(8), rt: h.rt, attrs: attrs, created: now, modified: now, version: 1, seq: h.s.seq}
	if err := h.check(res); err != nil {
		return err
	}
	h.store[res.id] = res
	h.w.Header().Set("Location", h.location(res))
	return h.respond(http.StatusCreated, res)
}

func (h *handler) replace(res *resource) error {
	body, err := h.decode()
	if err != nil {
		return err
	}
	if err := requireSchema(body, h.rt.schema); err != nil {
		return err
	}
	attrs, err := normalizeResource(h.rt, body)
	if err != nil {
		return err
	}
	next := *res
	next.attrs = attrs
	if err := h.check(&next); err != nil {
		return err
	}
	h.commit(res, &next)
	return h.respond(200, res)
}

func (h *handler) commit(res, next *resource) {
	if !reflect.DeepEqual(res.attrs, next.attrs) {
		res.attrs = next.attrs
		res.modified = time.Now().UTC()
		res.version++
	}
}

// check enforces what must hold after every write: required attributes, uniqueness within the
// connection, and members that are resources of the connection.
func (h *handler) check(res *resource) error {
	key := "userName"
	if h.rt == groupType {
		key = "displayName"
	}
	name, _ := res.attrs[key].(string)
	if name == "" {
		return fail(400, "invalidValue", "%s is required", key)
	}
	for _, other := range h.store {
		same := strings.EqualFold(other.attrs[key].(string), name)
		if h.s.defects[defectCaseSensitiveNames] {
			same = other.attrs[key].(string) == name
		}
		if other.id != res.id && same {
			return fail(409, "uniqueness", "%s %q is already in use", key, name)
		}
	}
	if h.rt == groupType {
		members, _ := res.attrs["members"].([]any)
		for _, m := range members {
			v, _ := m.(map[string]any)["value"].(string)
			if h.con.users[v] == nil && h.con.groups[v] == nil {
				return fail(400, "invalidValue", "member %q is not a user or group of this connection", v)
			}
		}
	}
	return nil
}

func (h *handler) location(res *resource) string { return h.base + h.rt.endpoint + "/" + res.id }

func (h *handler) render(res *resource) map[string]any {
	out := deepCopy(res.attrs).(map[string]any)
	delete(out, "password")
	out["id"] = res.id
	schemas := []any{h.rt.schema}
	if ext, ok := out[h.rt.extURN].(map[string]any); ok && len(ext) > 0 {
		schemas = append(schemas, h.rt.extURN)
	} else if h.rt.extURN != "" {
		delete(out, h.rt.extURN)
	}
	out["schemas"] = schemas
	if h.rt == groupType && out["members"] == nil {
		out["members"] = []any{}
	}
	out["meta"] = map[string]any{
		"resourceType": h.rt.name,
		"created":      res.created.Format(time.RFC3339Nano),
		"lastModified": res.modified.Format(time.RFC3339Nano),
		"location":     h.location(res),
		"version":      etag(res),
	}
	return out
}

func (h *handler) respond(status int, res *resource) error {
	out, err := h.project(h.render(res))
	if err != nil {
		return err
	}
	h.w.Header().Set("ETag", etag(res))
	writeJSON(h.w, status, out)
	return nil
}

// project applies the attributes and excludedAttributes query parameters.
func (h *handler) project(out map[string]any) (map[string]any, error) {
	q := h.r.URL.Query()
	sc := resourceScope(h.rt)
	if h.s.defects[defectIgnoreAttributes] {
		return out, nil
	}
	if attrs := q.Get("attributes"); attrs != "" {
		kept := map[string]any{"id": out["id"], "schemas": out["schemas"]}
		for _, name := range strings.Split(attrs, ",") {
			ref, ok := sc.resolve(strings.TrimSpace(name))
			if !ok || ref.attr.never {
				continue
			}
			src, dst := out, kept
			if ref.ext != "" {
				src, _ = out[ref.ext].(map[string]any)
				if _, ok := kept[ref.ext]; !ok {
					kept[ref.ext] = map[string]any{}
				}
				dst = kept[ref.ext].(map[string]any)
			}
			v, ok := src[ref.attr.name]
			if !ok {
				continue
			}
			if ref.sub == nil {
				dst[ref.attr.name] = v
				continue
			}
			if m, ok := v.(map[string]any); ok {
				if sv, ok := m[ref.sub.name]; ok {
					part, _ := dst[ref.attr.name].(map[string]any)
					if part == nil {
						part = map[string]any{}
					}
					part[ref.sub.name] = sv
					dst[ref.attr.name] = part
				}
			}
		}
		return kept, nil
	}
	if excluded := q.Get("excludedAttributes"); excluded != "" {
		for _, name := range strings.Split(excluded, ",") {
			ref, ok := sc.resolve(strings.TrimSpace(name))
			if !ok || ref.attr.name == "id" {
				continue
			}
			container := out
			if ref.ext != "" {
				container, _ = out[ref.ext].(map[string]any)
			}
			if ref.sub == nil {
				delete(container, ref.attr.name)
			} else if m, ok := container[ref.attr.name].(map[string]any); ok {
				delete(m, ref.sub.name)
			}
		}
	}
	return out, nil
}

func (h *handler) list() error {
	q := h.r.URL.Query()
	sc := resourceScope(h.rt)
	var f filter
	if expr := q.Get("filter"); expr != "" {
		var err error
		if f, err = parseFilter(expr, sc); err != nil {
			return fail(400, "invalidFilter", "%v", err)
		}
	}
	var matched []*resource
	for _, res := range h.store {
		if f == nil || f.match(h.render(res)) {
			matched = append(matched, res)
		}
	}
	sort.Slice(matched, func(i, j int) bool { return matched[i].seq < matched[j].seq })
	if by := q.Get("sortBy"); by != "" {
		if ref, ok := sc.resolve(by); ok {
			key := func(r *resource) string {
				vals := ref.values(h.render(r))
				if len(vals) == 0 {
					return "\uffff"
				}
				s := fmt.Sprint(vals[0])
				if !ref.leaf().caseExact {
					s = strings.ToLower(s)
				}
				return s
			}
			desc := strings.EqualFold(q.Get("sortOrder"), "descending")
			sort.SliceStable(matched, func(i, j int) bool {
				if desc {
					return key(matched[i]) > key(matched[j])
				}
				return key(matched[i]) < key(matched[j])
			})
		}
	}
	start, count := 1, len(matched)
	if v, err := strconv.Atoi(q.Get("startIndex")); err == nil && v > 1 {
		start = v
	}
	if v, err := strconv.Atoi(q.Get("count")); err == nil {
		count = max(v, 0)
	}
	page := []any{}
	for i := start - 1; i < len(matched) && len(page) < count; i++ {
		out, err := h.project(h.render(matched[i]))
		if err != nil {
			return err
		}
		page = append(page, out)
	}
	writeJSON(h.w, 200, map[string]any{
		"schemas": []string{listSchema}, "totalResults": len(matched), "startIndex": start, "itemsPerPage": len(page), "Resources": page,
	})
	return nil
}

// normalizeResource checks a create or PUT body against the schema and returns the stored form:
// canonical names, nulls dropped, read-only and unknown attributes ignored, Entra's string
// booleans and bare manager ids accepted.
func normalizeResource(rt *resourceType, body map[string]any) (map[string]any, error) {
	out := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(body)) {
		v := body[k]
		if strings.EqualFold(k, "schemas") || v == nil {
			continue
		}
		if rt.extURN != "" && strings.EqualFold(k, rt.extURN) {
			obj, ok := v.(map[string]any)
			if !ok {
				return nil, fail(400, "invalidValue", "%s must be an object", k)
			}
			ext := map[string]any{}
			for ek, ev := range obj {
				def := find(rt.extAttrs, ek)
				if def == nil || ev == nil {
					continue
				}
				nv, err := normalizeValue(def, ev)
				if err != nil {
					return nil, err
				}
				ext[def.name] = nv
			}
			if len(ext) > 0 {
				out[rt.extURN] = ext
			}
			continue
		}
		def := find(rt.attrs, k)
		if def == nil || def.readOnly {
			continue
		}
		nv, err := normalizeValue(def, v)
		if err != nil {
			return nil, err
		}
		if nv != nil {
			out[def.name] = nv
		}
	}
	return out, nil
}

func normalizeValue(def *attrDef, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if def.multi {
		list, ok := v.([]any)
		if !ok {
			if _, isObj := v.(map[string]any); !isObj {
				return nil, fail(400, "invalidValue", "%s must be a list", def.name)
			}
			list = []any{v}
		}
		out := []any{}
		for _, el := range list {
			nv, err := normalizeSingle(def, el)
			if err != nil {
				return nil, err
			}
			if nv != nil {
				out = append(out, nv)
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
	return normalizeSingle(def, v)
}

func normalizeSingle(def *attrDef, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch def.typ {
	case "boolean":
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			if bv, err := strconv.ParseBool(strings.ToLower(b)); err == nil {
				return bv, nil
			}
		}
		return nil, fail(400, "invalidValue", "%s must be a boolean", def.name)
	case "complex":
		if valueDef := find(def.sub, "value"); valueDef != nil && !def.multi {
			// Entra sends manager as a bare id, or as a one-element list of {$ref, value}.
			switch x := v.(type) {
			case string:
				v = map[string]any{"value": x}
			case []any:
				if len(x) == 1 {
					v = x[0]
				}
			}
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fail(400, "invalidValue", "%s must be an object", def.name)
		}
		out := map[string]any{}
		for k, sv := range obj {
			sub := find(def.sub, k)
			if sub == nil || sv == nil {
				continue
			}
			nv, err := normalizeSingle(sub, sv)
			if err != nil {
				return nil, err
			}
			out[sub.name] = nv
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	default:
		s, ok := v.(string)
		if !ok {
			return nil, fail(400, "invalidValue", "%s must be a string", def.name)
		}
		return s, nil
	}
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}
