package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/roles/api"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

const mgmtAdminToken = "mgmt-test-admin-token-0123456789abcdef"

// mgmt is the Management API over a fresh store, called in-process.
type mgmt struct {
	t   *testing.T
	db  *store.DB
	api *api.API
}

func newMgmt(t *testing.T) *mgmt {
	t.Helper()
	db := storetest.Open(t)
	handler := newAPI(t, db, api.Options{AdminToken: mgmtAdminToken})
	return &mgmt{t: t, db: db, api: handler}
}

// newAPI wires the Management API over db as the binary does: a role index
// subscribed to db's commits and loaded, then the API over both.
func newAPI(tb testing.TB, db *store.DB, opts api.Options) *api.API {
	tb.Helper()
	index := roles.NewIndex()
	db.AddObserver(index)
	if err := index.Load(db); err != nil {
		tb.Fatalf("load the role index: %v", err)
	}
	return api.New(db, index, opts)
}

// send makes one request with a bearer token ("" for none) and decodes a
// JSON object answer (nil when there is none).
func (m *mgmt) send(token, method, path string, body any) (*httptest.ResponseRecorder, map[string]any) {
	m.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		raw, _ = json.Marshal(b)
	}
	req := httptest.NewRequest(method, "/api/v2"+path, bytes.NewReader(raw))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	m.api.ServeHTTP(rec, req)
	checkResponse(m.t, method, "/api/v2"+path, rec.Code, rec.Header(), rec.Body.Bytes())
	var out map[string]any
	if b := bytes.TrimSpace(rec.Body.Bytes()); len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			m.t.Fatalf("%s %s: answer is not a JSON object: %s", method, path, b)
		}
	}
	return rec, out
}

// do calls the API as the admin and expects status want.
func (m *mgmt) do(method, path string, body any, want int) map[string]any {
	m.t.Helper()
	rec, out := m.send(mgmtAdminToken, method, path, body)
	if rec.Code != want {
		m.t.Fatalf("%s %s: status %d, want %d: %s", method, path, rec.Code, want, rec.Body)
	}
	return out
}

// fails calls the API as the admin and expects the one error shape with the
// given status and errorCode.
func (m *mgmt) fails(method, path string, body any, status int, code string) {
	m.t.Helper()
	rec, out := m.send(mgmtAdminToken, method, path, body)
	assertMgmtError(m.t, method+" "+path, rec, out, status, code)
}

func assertMgmtError(t *testing.T, what string, rec *httptest.ResponseRecorder, out map[string]any, status int, code string) {
	t.Helper()
	if rec.Code != status || out["statusCode"] != float64(status) || out["error"] != http.StatusText(status) ||
		out["errorCode"] != code || out["message"] == "" {
		t.Errorf("%s: %d %v, want %d with errorCode %q and a message", what, rec.Code, out, status, code)
	}
}

// unchanged runs fn and fails when it changed the store's revision: a
// rejected write must apply nothing.
func (m *mgmt) unchanged(fn func()) {
	m.t.Helper()
	before := m.db.Revision()
	fn()
	if after := m.db.Revision(); after != before {
		m.t.Errorf("revision went from %d to %d: the rejected request changed something", before, after)
	}
}

// keyWithout creates an API key holding every scope but one.
func (m *mgmt) keyWithout(scope string) string {
	m.t.Helper()
	scopes := slices.DeleteFunc(slices.Clone(api.AllScopes), func(s string) bool { return s == scope })
	var secret string
	storetest.MustUpdate(m.t, m.db, func(tx *store.Tx) (err error) {
		_, secret, err = tx.CreateAPIKey("all but "+scope, scopes, 0)
		return err
	})
	return secret
}

func (m *mgmt) role(name string) string {
	m.t.Helper()
	return m.do("POST", "/roles", map[string]any{"name": name, "description": "the " + name + " role"}, 201)["id"].(string)
}

func (m *mgmt) org(name string) string {
	m.t.Helper()
	return m.do("POST", "/organizations", map[string]any{"name": name}, 201)["id"].(string)
}

func (m *mgmt) connection(name string) string {
	m.t.Helper()
	return storetest.MustConnection(m.t, m.db, name).ID
}

func (m *mgmt) user(conID, userName string) string {
	m.t.Helper()
	return storetest.MustUser(m.t, m.db, conID, userName).ID
}

// userDoc creates a user with an externalId and a SCIM document as the SCIM
// surface stores it.
func (m *mgmt) userDoc(conID, userName, externalID, doc string) string {
	m.t.Helper()
	var u store.User
	storetest.MustUpdate(m.t, m.db, func(tx *store.Tx) (err error) {
		u, err = tx.CreateUser(store.User{ConnectionID: conID, UserName: userName, ExternalID: externalID, Active: true, Doc: []byte(doc)})
		return err
	})
	return u.ID
}

func (m *mgmt) group(conID, name string, memberIDs ...string) string {
	m.t.Helper()
	return storetest.MustGroup(m.t, m.db, conID, name, memberIDs...).ID
}

func (m *mgmt) groupExt(conID, name, externalID string) string {
	m.t.Helper()
	var g store.Group
	storetest.MustUpdate(m.t, m.db, func(tx *store.Tx) (err error) {
		g, err = tx.CreateGroup(store.Group{ConnectionID: conID, DisplayName: name, ExternalID: externalID}, nil)
		return err
	})
	return g.ID
}

// logs lists the audit entries of one type, oldest first.
func (m *mgmt) logs(typ string) []map[string]any {
	m.t.Helper()
	out := m.do("GET", "/logs?take=100&type="+typ, nil, 200)
	var entries []map[string]any
	for _, e := range out["logs"].([]any) {
		entries = append(entries, e.(map[string]any))
	}
	return entries
}

// listField collects one string field of every object of a list field.
func listField(out map[string]any, list, key string) []string {
	items, _ := out[list].([]any)
	got := []string{}
	for _, it := range items {
		s, _ := it.(map[string]any)[key].(string)
		got = append(got, s)
	}
	return got
}

// pageThrough follows next cursors with take, failing on a repeated item, a
// page over take, or a cursor on a short page; it returns every item's key.
func (m *mgmt) pageThrough(path, list, key string, take int) []string {
	m.t.Helper()
	sep := "?"
	if bytes.ContainsRune([]byte(path), '?') {
		sep = "&"
	}
	var all []string
	from := ""
	for pages := 0; ; pages++ {
		if pages > 200 {
			m.t.Fatalf("%s: paging does not end", path)
		}
		url := path + sep + "take=" + strconv.Itoa(take)
		if from != "" {
			url += "&from=" + from
		}
		out := m.do("GET", url, nil, 200)
		got := listField(out, list, key)
		if len(got) > take {
			m.t.Fatalf("%s: page of %d, take %d", url, len(got), take)
		}
		next, _ := out["next"].(string)
		if next != "" && len(got) < take {
			m.t.Fatalf("%s: short page of %d with next %q", url, len(got), next)
		}
		for _, id := range got {
			if slices.Contains(all, id) {
				m.t.Fatalf("%s: %s listed twice", url, id)
			}
		}
		all = append(all, got...)
		if next == "" {
			return all
		}
		from = next
	}
}

func sortedCopy(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// sameIDs fails the test when got differs from want.
func (m *mgmt) sameIDs(what string, got, want []string) {
	m.t.Helper()
	if !slices.Equal(got, want) {
		m.t.Errorf("%s: got %v, want %v", what, got, want)
	}
}
