package dashboard_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/roles/api"
	"github.com/rolecall/rolecall/roles/dashboard"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

const adminToken = "dashboard-test-admin-token-0123456789abcdef"

// clock is a settable time source for session expiry.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is the Management API and the dashboard over a fresh store, served
// like the real server serves them: /api/v2/ and /dashboard/ on one origin.
type env struct {
	t     testing.TB
	db    *store.DB
	api   *api.API
	clock *clock
	srv   *httptest.Server
}

// newAPI wires the Management API over db as the binary does.
func newAPI(tb testing.TB, db *store.DB) *api.API {
	tb.Helper()
	index := roles.NewIndex()
	db.AddObserver(index)
	if err := index.Load(db); err != nil {
		tb.Fatalf("load the role index: %v", err)
	}
	return api.New(db, index, api.Options{AdminToken: adminToken})
}

func newEnv(t testing.TB, mutate ...func(*dashboard.Options)) *env {
	t.Helper()
	// One clock for the store (which owns session lifetimes) and the
	// dashboard (cookie lifetimes).
	clk := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	db := storetest.Open(t, store.Options{Now: clk.Now})
	mgmt := newAPI(t, db)
	opts := dashboard.Options{Now: clk.Now}
	for _, m := range mutate {
		m(&opts)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v2/", mgmt)
	mux.Handle("/dashboard/", dashboard.New(mgmt, opts))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, api: mgmt, clock: clk, srv: srv}
}

// apiCall calls the Management API as the admin and expects status want.
func (e *env) apiCall(method, path string, body any, want int) map[string]any {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, "/api/v2"+path, rd)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	rec := httptest.NewRecorder()
	e.api.ServeHTTP(rec, req)
	if rec.Code != want {
		e.t.Fatalf("%s %s: %d, want %d: %s", method, path, rec.Code, want, rec.Body)
	}
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return out
}

// key creates an API key with the given scopes and returns its id and secret.
func (e *env) key(name string, scopes ...string) (id, secret string) {
	e.t.Helper()
	out := e.apiCall("POST", "/api-keys", map[string]any{"name": name, "scopes": scopes}, http.StatusCreated)
	return out["id"].(string), out["key"].(string)
}

// unchanged runs fn and fails when the store's revision moved: a refused
// form must write nothing.
func (e *env) unchanged(fn func()) {
	e.t.Helper()
	before := e.db.Revision()
	fn()
	if after := e.db.Revision(); after != before {
		e.t.Errorf("revision went from %d to %d: the refused request changed something", before, after)
	}
}

// browser is a cookie-keeping client that does not follow redirects on its
// own, so tests see each answer; it remembers the last page's CSRF token.
type browser struct {
	t      testing.TB
	e      *env
	client *http.Client
	csrf   string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, e: e, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is one answer. body is its HTML without the <bdi> isolation around
// names, so assertions read as the text does; raw is the HTML as sent.
type page struct {
	status   int
	location string
	header   http.Header
	body     string
	raw      string
}

var bdiTags = strings.NewReplacer("<bdi>", "", "</bdi>", "")

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	p := page{status: resp.StatusCode, location: resp.Header.Get("Location"), header: resp.Header, body: bdiTags.Replace(string(raw)), raw: string(raw)}
	if m := csrfInput.FindStringSubmatch(p.body); m != nil {
		b.csrf = m[1]
	}
	return p
}

// get fetches a page without following redirects.
func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.e.srv.URL+path, nil)
	return b.do(req)
}

// visit fetches a page, following redirects, and expects 200.
func (b *browser) visit(path string) page {
	b.t.Helper()
	p := b.get(path)
	for i := 0; i < 5 && p.location != ""; i++ {
		p = b.get(p.location)
	}
	if p.status != http.StatusOK {
		b.t.Fatalf("GET %s: %d\n%s", path, p.status, p.body)
	}
	return p
}

// postWith posts a form with the given extra headers (Origin is the server's
// unless headers say otherwise) and does not follow the redirect.
func (b *browser) postWith(path string, form url.Values, headers map[string]string) page {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.srv.URL)
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return b.do(req)
}

// submit posts a form as the dashboard's own pages do (same origin, the
// session's CSRF token, confirmed) and follows the redirect to the next page.
func (b *browser) submit(path string, form url.Values) page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf)
	form.Set("confirm", "yes")
	p := b.postWith(path, form, nil)
	for i := 0; i < 5 && p.location != ""; i++ {
		p = b.get(p.location)
	}
	return p
}

// signIn signs in with secret and expects to land on a dashboard page.
func (b *browser) signIn(secret string) page {
	b.t.Helper()
	b.get("/dashboard/login")
	p := b.postWith("/dashboard/login", url.Values{"api_key": {secret}}, nil)
	if p.status != http.StatusSeeOther {
		b.t.Fatalf("sign in: %d, want 303\n%s", p.status, p.body)
	}
	return p
}

// sessionCookie is the session cookie the last sign-in set, as the browser
// was told it.
func sessionCookie(t testing.TB, p page) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "rolecall_session" {
			return c
		}
	}
	t.Fatalf("no rolecall_session cookie in %v", p.header)
	return nil
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s: does not contain %q", what, w)
		}
	}
}

func mustNotContain(t *testing.T, what, body string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(body, u) {
			t.Errorf("%s: contains %q", what, u)
		}
	}
}
