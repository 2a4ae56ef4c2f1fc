package scim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolecall/rolecall/scim"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/httpconv"
	"github.com/rolecall/rolecall/store/storetest"
)

const (
	errorSchema        = "urn:ietf:params:scim:api:messages:2.0:Error"
	listSchema         = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	patchSchema        = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	searchSchema       = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	bulkRequestSchema  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	bulkResponseSchema = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	userSchema         = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupSchema        = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseURN      = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// target is the SCIM surface of one connection over a fresh store, served
// over HTTP by httptest, with an all-scopes token of that connection.
type target struct {
	db    *store.DB
	con   store.Connection
	token string
	srv   *httptest.Server
	base  string // srv.URL + scim.PathPrefix + con.ID
}

// newTarget starts a SCIM server over a new store with one connection
// ("acme") and an all-scopes token. The store is verified when the test ends.
// fsync is off: these tests are about the HTTP surface, not durability.
func newTarget(tb testing.TB) *target {
	tb.Helper()
	return newTargetWith(tb, store.Options{}, scim.Options{})
}

// newTargetWith is newTarget with store and SCIM options (NoSync is forced).
func newTargetWith(tb testing.TB, so store.Options, o scim.Options) *target {
	tb.Helper()
	so.NoSync = true
	db := storetest.Open(tb, so)
	return newTargetOn(tb, db, scim.NewHandler(db, o))
}

// newTargetOn serves h (a handler over db) for a new connection of db.
func newTargetOn(tb testing.TB, db *store.DB, h http.Handler) *target {
	tb.Helper()
	con := storetest.MustConnection(tb, db, fmt.Sprintf("acme-%d", time.Now().UnixNano()))
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return &target{
		db:    db,
		con:   con,
		token: mustToken(tb, db, con.ID, 0, store.SCIMTokenScopes...),
		srv:   srv,
		base:  srv.URL + scim.PathPrefix + con.ID,
	}
}

// clock is a settable clock for the store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// mustToken issues a SCIM token for a connection and returns its secret.
// lifetime 0 means it never expires.
func mustToken(tb testing.TB, db *store.DB, connectionID string, lifetime time.Duration, scopes ...string) string {
	tb.Helper()
	var secret string
	storetest.MustUpdate(tb, db, func(tx *store.Tx) (err error) {
		_, secret, err = tx.CreateSCIMToken(connectionID, scopes, lifetime)
		return err
	})
	return secret
}

// mustTokenID issues a SCIM token and returns both its id and its secret.
func mustTokenID(tb testing.TB, db *store.DB, connectionID string, scopes ...string) (id, secret string) {
	tb.Helper()
	storetest.MustUpdate(tb, db, func(tx *store.Tx) error {
		t, s, err := tx.CreateSCIMToken(connectionID, scopes, 0)
		id, secret = t.ID, s
		return err
	})
	return id, secret
}

// response is what a request answered, body read in full.
type response struct {
	method, url string
	status      int
	header      http.Header
	body        []byte
}

func (r response) String() string {
	body := string(r.body)
	if len(body) > 600 {
		body = body[:600] + "…"
	}
	return fmt.Sprintf("%s %s → %d %s", r.method, r.url, r.status, body)
}

// reqOption changes a request before it is sent.
type reqOption func(*http.Request)

// withHeader sets a request header.
func withHeader(key, value string) reqOption {
	return func(r *http.Request) { r.Header.Set(key, value) }
}

// withToken sends secret as the bearer token instead of the target's token.
func withToken(secret string) reqOption {
	return withHeader("Authorization", "Bearer "+secret)
}

// withoutAuth sends no Authorization header.
func withoutAuth() reqOption {
	return func(r *http.Request) { r.Header.Del("Authorization") }
}

// do sends a request to path (relative to the connection's SCIM root, with
// its query, sent as written). body is nil (no body), a string or []byte
// (sent as is), or any other value (encoded as JSON).
func (tg *target) do(tb testing.TB, method, path string, body any, opts ...reqOption) response {
	tb.Helper()
	return doURL(tb, method, tg.base+path, tg.token, body, opts...)
}

func doURL(tb testing.TB, method, url, token string, body any, opts ...reqOption) response {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			tb.Fatalf("encode request body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		tb.Fatalf("new request %s %s: %v", method, url, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if rd != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for _, o := range opts {
		o(req)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return response{method: method, url: url, status: res.StatusCode, header: res.Header, body: raw}
}

// mustDo sends a request and fails the test unless it answers want.
func (tg *target) mustDo(tb testing.TB, want int, method, path string, body any, opts ...reqOption) response {
	tb.Helper()
	res := tg.do(tb, method, path, body, opts...)
	if res.status != want {
		tb.Fatalf("%v\nwant status %d", res, want)
	}
	return res
}

// object decodes the response body as a JSON object.
func (r response) object(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		tb.Fatalf("%v\nbody is not a JSON object: %v", r, err)
	}
	return m
}

// revision is the response's Rolecall-Revision header; the test fails when it
// is missing or not a number.
func (r response) revision(tb testing.TB) uint64 {
	tb.Helper()
	h := r.header.Get(httpconv.RevisionHeader)
	n, err := strconv.ParseUint(h, 10, 64)
	if err != nil {
		tb.Fatalf("%v\n%s header = %q, want a revision number", r, httpconv.RevisionHeader, h)
	}
	return n
}

// scimErrorProblem says what is wrong with r as a SCIM error response
// (RFC 7644 §3.12: the Error schema, status as a string equal to the
// response's; detail is optional there), or "" when nothing is.
func scimErrorProblem(r response) string {
	var e struct {
		Schemas []string `json:"schemas"`
		Status  string   `json:"status"`
		Detail  *string  `json:"detail"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		return fmt.Sprintf("body is not a SCIM error object: %v", err)
	}
	switch {
	case !slices.Contains(e.Schemas, errorSchema):
		return fmt.Sprintf("schemas = %q, want it to contain %s", e.Schemas, errorSchema)
	case e.Status != strconv.Itoa(r.status):
		return fmt.Sprintf("status field = %q, want %q (the response status)", e.Status, strconv.Itoa(r.status))
	}
	return ""
}

// wantSCIMError fails the test unless r is a SCIM error with the given status
// and, when scimType is not empty, that scimType.
func wantSCIMError(tb testing.TB, r response, status int, scimType string) {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("%v\nwant status %d", r, status)
	}
	if p := scimErrorProblem(r); p != "" {
		tb.Fatalf("%v\nnot a SCIM error: %s", r, p)
	}
	if str(r.object(tb)["detail"]) == "" {
		tb.Fatalf("%v\nthe SCIM error has no detail saying what went wrong", r)
	}
	if got := str(r.object(tb)["scimType"]); scimType != "" && got != scimType {
		tb.Fatalf("%v\nscimType = %q, want %q", r, got, scimType)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// mustCreateUser creates a user over SCIM with the given attributes beside
// schemas and userName, and returns its id.
func (tg *target) mustCreateUser(tb testing.TB, userName string, attrs map[string]any) string {
	tb.Helper()
	body := map[string]any{"schemas": []string{userSchema}, "userName": userName}
	for k, v := range attrs {
		body[k] = v
	}
	return str(tg.mustDo(tb, http.StatusCreated, "POST", "/Users", body).object(tb)["id"])
}

// mustCreateGroup creates a group over SCIM with the given members and
// returns its id.
func (tg *target) mustCreateGroup(tb testing.TB, displayName string, attrs map[string]any, memberIDs ...string) string {
	tb.Helper()
	body := map[string]any{"schemas": []string{groupSchema}, "displayName": displayName}
	for k, v := range attrs {
		body[k] = v
	}
	if len(memberIDs) > 0 {
		members := make([]map[string]any, len(memberIDs))
		for i, id := range memberIDs {
			members[i] = map[string]any{"value": id}
		}
		body["members"] = members
	}
	return str(tg.mustDo(tb, http.StatusCreated, "POST", "/Groups", body).object(tb)["id"])
}

// patchOp builds a PatchOp body from operations.
func patchOp(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{patchSchema}, "Operations": ops}
}

// op is one PATCH operation; path and value are left out when empty or nil.
func op(name, path string, value any) map[string]any {
	o := map[string]any{"op": name}
	if path != "" {
		o["path"] = path
	}
	if value != nil {
		o["value"] = value
	}
	return o
}

// members builds a members value list from ids.
func members(ids ...string) []map[string]any {
	out := make([]map[string]any, len(ids))
	for i, id := range ids {
		out[i] = map[string]any{"value": id}
	}
	return out
}

// list is a decoded ListResponse.
type list struct {
	TotalResults int              `json:"totalResults"`
	ItemsPerPage int              `json:"itemsPerPage"`
	StartIndex   int              `json:"startIndex"`
	Schemas      []string         `json:"schemas"`
	Resources    []map[string]any `json:"Resources"`
}

func (l list) ids() []string {
	ids := make([]string, len(l.Resources))
	for i, r := range l.Resources {
		ids[i] = str(r["id"])
	}
	return ids
}

// mustList sends a list request and decodes its 200 ListResponse.
func (tg *target) mustList(tb testing.TB, method, path string, body any) list {
	tb.Helper()
	res := tg.mustDo(tb, http.StatusOK, method, path, body)
	var l list
	if err := json.Unmarshal(res.body, &l); err != nil {
		tb.Fatalf("%v\nnot a ListResponse: %v", res, err)
	}
	if !slices.Contains(l.Schemas, listSchema) {
		tb.Fatalf("%v\nschemas = %q, want %s", res, l.Schemas, listSchema)
	}
	if l.Resources == nil {
		tb.Fatalf("%v\nResources missing, want a (possibly empty) list", res)
	}
	return l
}

// memberIDs lists a group's member ids from the store, sorted.
func memberIDs(tb testing.TB, db *store.DB, groupID string) []string {
	tb.Helper()
	ids := storetest.MemberIDs(tb, db, groupID)
	slices.Sort(ids)
	if ids == nil {
		ids = []string{}
	}
	return ids
}

// sorted returns a sorted copy of ids, never nil.
func sorted(ids ...string) []string {
	out := append([]string{}, ids...)
	slices.Sort(out)
	return out
}

// mustGroup reads a group from the store.
func mustGroup(tb testing.TB, db *store.DB, connectionID, id string) store.Group {
	tb.Helper()
	var g store.Group
	if err := db.View(func(tx *store.ReadTx) (err error) {
		g, err = tx.Group(connectionID, id)
		return err
	}); err != nil {
		tb.Fatalf("read group %s: %v", id, err)
	}
	return g
}

// mustUser reads a user from the store.
func mustUser(tb testing.TB, db *store.DB, connectionID, id string) store.User {
	tb.Helper()
	var u store.User
	if err := db.View(func(tx *store.ReadTx) (err error) {
		u, err = tx.User(connectionID, id)
		return err
	}); err != nil {
		tb.Fatalf("read user %s: %v", id, err)
	}
	return u
}

// auditEntries reads every audit entry matching filter, oldest first.
func auditEntries(tb testing.TB, db *store.DB, filter store.AuditFilter) []store.AuditEntry {
	tb.Helper()
	var out []store.AuditEntry
	if err := db.View(func(tx *store.ReadTx) error {
		from := ""
		for {
			page, next, err := tx.AuditLog(from, 500, false, filter)
			if err != nil {
				return err
			}
			out = append(out, page...)
			if next == "" {
				return nil
			}
			from = next
		}
	}); err != nil {
		tb.Fatalf("read audit log: %v", err)
	}
	return out
}

// decodeJSON decodes raw JSON into a generic value, for comparisons that
// must not depend on key order or spacing.
func decodeJSON(tb testing.TB, raw []byte) any {
	tb.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatalf("not JSON: %v\n%s", err, raw)
	}
	return v
}

// roundTrip encodes and decodes v, so values built in Go compare equal to
// decoded JSON (numbers become float64, structs become maps).
func roundTrip(tb testing.TB, v any) any {
	tb.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("encode: %v", err)
	}
	return decodeJSON(tb, raw)
}

// sameJSON reports whether two decoded JSON values are equal.
func sameJSON(a, b any) bool { return reflect.DeepEqual(a, b) }

// toJSON renders v for failure messages.
func toJSON(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	if len(raw) > 800 {
		return string(raw[:800]) + "…"
	}
	return string(raw)
}

// urlQuery escapes a query parameter value.
func urlQuery(s string) string { return url.QueryEscape(s) }

func itoa(n int) string { return strconv.Itoa(n) }
