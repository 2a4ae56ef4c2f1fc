package dashboard_test

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
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
	"github.com/rolecall/rolecall/roles/streams"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// receiverToken is the bearer token streams present to the test receiver;
// no page may ever show it.
const receiverToken = "receiver-bearer-token-never-shown-0123456789"

// newStreamsEnv is newEnv with event stream delivery wired as the binary
// wires it with --allow-http-webhooks: test events and recent deliveries
// work, and http:// receivers (httptest servers) are accepted.
func newStreamsEnv(t *testing.T) *env {
	t.Helper()
	clk := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	db := storetest.Open(t, store.Options{Now: clk.Now})
	index := roles.NewIndex()
	db.AddObserver(index)
	if err := index.Load(db); err != nil {
		t.Fatalf("load the role index: %v", err)
	}
	deliverer := streams.New(db, index, streams.Options{AllowHTTP: true, AttemptTimeout: 5 * time.Second})
	mgmt := api.New(db, index, api.Options{AdminToken: adminToken, Streams: deliverer, AllowHTTPWebhooks: true})
	mux := http.NewServeMux()
	mux.Handle("/api/v2/", mgmt)
	mux.Handle("/dashboard/", dashboard.New(mgmt, dashboard.Options{Now: clk.Now}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, api: mgmt, clock: clk, srv: srv}
}

// receiver is a webhook endpoint that accepts only events with the bearer
// token and a valid signature under its current secret (401 otherwise),
// and keeps the types it accepted.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	types  []string
}

func newReceiver(t *testing.T) *receiver {
	h := &receiver{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		h.mu.Lock()
		defer h.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+receiverToken ||
			streams.Verify(h.secret, r.Header.Get(streams.SignatureHeader), body, 5*time.Minute, time.Now()) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev streams.CloudEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.types = append(h.types, ev.Type)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *receiver) setSecret(s string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.secret = s
}

func (h *receiver) accepted() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.types...)
}

var signingSecret = regexp.MustCompile(`id="signing-secret" value="([^"]+)"`)

// streamForm is the create form for a stream to endpoint.
func streamForm(name, endpoint string, types ...string) url.Values {
	return url.Values{"name": {name}, "endpoint": {endpoint}, "webhook_token": {receiverToken}, "subscriptions": types}
}

// streamStatus is what the API says of a stream's status.
func (e *env) streamStatus(id string) string {
	e.t.Helper()
	return e.apiCall("GET", "/event-streams/"+id, nil, http.StatusOK)["status"].(string)
}

func (e *env) onlyStreamID() string {
	e.t.Helper()
	list := e.apiCall("GET", "/event-streams", nil, http.StatusOK)["event_streams"].([]any)
	if len(list) != 1 {
		e.t.Fatalf("%d event streams, want 1", len(list))
	}
	return list[0].(map[string]any)["id"].(string)
}

// TestEventStreamsAreCreatedTestedRotatedAndDeleted walks a stream's life
// in the dashboard against a real receiver: the signing secret is on the
// create's answer only (uncached), and the receiver verifies events with
// it; a test event's outcome is shown and lands in the deliveries table;
// rotating asks first, shows the new secret once, and the old one stops
// verifying; disable and enable go through the API; delete asks first. The
// bearer token and the secrets are on no other page.
func TestEventStreamsAreCreatedTestedRotatedAndDeleted(t *testing.T) {
	e := newStreamsEnv(t)
	h := newReceiver(t)
	b := e.browser()
	b.signIn(adminToken)
	p := b.visit("/dashboard/event-streams")
	mustContain(t, "empty streams page", p.body, `class="empty"`, "No event streams yet", "Create event stream",
		`name="subscriptions" value="user.deleted"`, `name="webhook_token" type="password"`, `aria-current="page">Event streams<`)

	form := streamForm("billing-app", h.srv.URL+"/hook", "user.deleted", "role.created")
	form.Set("csrf", b.csrf)
	p = b.postWith("/dashboard/event-streams", form, nil)
	if p.status != http.StatusCreated || p.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d, Cache-Control %q; want 201, no-store\n%s", p.status, p.header.Get("Cache-Control"), p.body)
	}
	m := signingSecret.FindStringSubmatch(p.body)
	if m == nil || !strings.HasPrefix(m[1], "whsec_") {
		t.Fatalf("the new stream's page shows no signing secret:\n%s", p.body)
	}
	secret := m[1]
	mustContain(t, "one-time page", p.body, "shown only once", `data-copy="signing-secret"`, "Rolecall-Signature", "user.deleted, role.created")
	mustNotContain(t, "one-time page", p.body, receiverToken)
	h.setSecret(secret)
	id := e.onlyStreamID()
	if got := e.streamStatus(id); got != "enabled" {
		t.Errorf("new stream's status: %q, want enabled", got)
	}

	// A test event reaches the receiver, which verifies it; the outcome is
	// shown and the attempt is in the deliveries table.
	p = b.submit("/dashboard/event-streams/"+id+"/test", nil)
	mustContain(t, "test sent", p.body, "Test event test_", "delivered: the receiver answered HTTP 200 in", "Recent deliveries", "event_stream.test", `<span class="badge ok">200</span>`)
	mustContain(t, "stream counters", p.body, "Behind by <strong>", "delivered,", "failed attempts")
	if got := h.accepted(); len(got) != 1 || got[0] != "event_stream.test" {
		t.Errorf("the receiver accepted %v, want one event_stream.test", got)
	}

	// Rotating asks first; then the new secret is shown once, and the old
	// one no longer verifies.
	e.unchanged(func() {
		p := b.postWith("/dashboard/event-streams/"+id+"/rotate-secret", url.Values{"csrf": {b.csrf}, "name": {"billing-app"}}, nil)
		mustContain(t, "unconfirmed rotate", p.body, "Rotate the signing secret of billing-app?", `name="confirm" value="yes"`)
	})
	p = b.postWith("/dashboard/event-streams/"+id+"/rotate-secret", url.Values{"csrf": {b.csrf}, "name": {"billing-app"}, "confirm": {"yes"}}, nil)
	if p.status != http.StatusOK || p.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("rotate: %d, Cache-Control %q; want 200, no-store\n%s", p.status, p.header.Get("Cache-Control"), p.body)
	}
	m = signingSecret.FindStringSubmatch(p.body)
	if m == nil || m[1] == secret {
		t.Fatalf("the rotate page shows no new secret:\n%s", p.body)
	}
	rotated := m[1]
	mustContain(t, "rotated page", p.body, "New signing secret for", "The old secret no longer signs")
	p = b.submit("/dashboard/event-streams/"+id+"/test", nil)
	mustContain(t, "test with the old secret at the receiver", p.body, "Test event not delivered", "the receiver answered HTTP 401", "delivery_failed", `<span class="badge warn">401</span>`)
	mustNotContain(t, "receiver's 401", p.body, `id="api_key"`) // the receiver's 401 does not end the session
	h.setSecret(rotated)
	p = b.submit("/dashboard/event-streams/"+id+"/test", nil)
	mustContain(t, "test with the new secret", p.body, "delivered: the receiver answered HTTP 200")

	// Disable and enable.
	p = b.submit("/dashboard/event-streams/"+id+"/status", url.Values{"status": {"disabled"}, "name": {"billing-app"}})
	mustContain(t, "disabled", p.body, "Event stream billing-app is disabled", `id="stream-status">Disabled<`, ">Enable</button>")
	if got := e.streamStatus(id); got != "disabled" {
		t.Errorf("status after Disable: %q", got)
	}
	mustContain(t, "list", b.visit("/dashboard/event-streams").body, "billing-app", "Disabled", h.srv.URL+"/hook", "Bearer token")
	p = b.submit("/dashboard/event-streams/"+id+"/status", url.Values{"status": {"enabled"}, "name": {"billing-app"}})
	mustContain(t, "enabled", p.body, "Event stream billing-app is enabled", `id="stream-status">Enabled<`, ">Disable</button>")
	if got := e.streamStatus(id); got != "enabled" {
		t.Errorf("status after Enable: %q", got)
	}

	// Neither the token nor a secret is on any other page.
	for _, path := range []string{"/dashboard/event-streams", "/dashboard/event-streams/" + id, "/dashboard/logs", "/dashboard/logs?type=event_stream.created"} {
		p := b.visit(path)
		mustNotContain(t, path, p.body, receiverToken, secret, rotated, adminToken, "<no value>", "ZgotmplZ")
	}
	mustContain(t, "logs", b.visit("/dashboard/logs?type=event_stream.created").body, "/dashboard/event-streams/"+id)

	// Delete asks first.
	e.unchanged(func() {
		p := b.postWith("/dashboard/event-streams/"+id+"/delete", url.Values{"csrf": {b.csrf}, "name": {"billing-app"}}, nil)
		mustContain(t, "unconfirmed delete", p.body, "Delete event stream billing-app?", `name="confirm" value="yes"`)
	})
	p = b.submit("/dashboard/event-streams/"+id+"/delete", url.Values{"name": {"billing-app"}})
	mustContain(t, "deleted", p.body, "Event stream billing-app deleted.", "No event streams yet")
	e.apiCall("GET", "/event-streams/"+id, nil, http.StatusNotFound)
	if p := b.get("/dashboard/event-streams/" + id); p.status != http.StatusNotFound {
		t.Errorf("a deleted stream's page: %d, want 404", p.status)
	}
}

// TestARefusedStreamFormKeepsNoToken: a create the API refuses comes back
// with its message and what was typed, except the bearer token, which is
// neither in the page nor in the flash cookie that carries the form.
func TestARefusedStreamFormKeepsNoToken(t *testing.T) {
	e := newEnv(t) // without --allow-http-webhooks, and without delivery
	b := e.browser()
	b.signIn(adminToken)
	b.visit("/dashboard/event-streams")
	tests := []struct {
		name  string
		form  url.Values
		wants []string
	}{
		{"http endpoint", streamForm("hooks", "http://127.0.0.1:9/hook", "role.created"),
			[]string{"invalid_body", "--allow-http-webhooks", `value="hooks"`, `value="http://127.0.0.1:9/hook"`, `value="role.created" checked`}},
		{"no subscription", streamForm("hooks", "https://app.example/hook"),
			[]string{"invalid_body", "at least one subscription", `value="https://app.example/hook"`}},
		{"no name", streamForm("", "https://app.example/hook", "role.created"),
			[]string{"invalid_body", "name must be 1 to 128 bytes"}},
		{"unknown event type", streamForm("hooks", "https://app.example/hook", "role.exploded"),
			[]string{"invalid_body", html.EscapeString(`unknown event type "role.exploded"`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.unchanged(func() {
				tt.form.Set("csrf", b.csrf)
				p := b.postWith("/dashboard/event-streams", tt.form, nil)
				if p.status != http.StatusSeeOther {
					t.Fatalf("refused create: %d, want 303\n%s", p.status, p.body)
				}
				for _, c := range (&http.Response{Header: p.header}).Cookies() {
					raw, _, _ := strings.Cut(c.Value, ".")
					if c.Name == "rolecall_flash" {
						if body, _ := base64.RawURLEncoding.DecodeString(raw); strings.Contains(string(body), receiverToken) || !strings.Contains(string(body), "invalid_body") {
							t.Errorf("the flash cookie: %s; want the API's error and no token", body)
						}
					}
				}
				p = b.visit(p.location)
				mustContain(t, tt.name, p.body, tt.wants...)
				mustNotContain(t, tt.name, p.body, receiverToken)
			})
		})
	}

	// Without delivery running, a test event says so.
	id := e.apiCall("POST", "/event-streams", map[string]any{"name": "x", "subscriptions": []any{map[string]string{"event_type": "role.created"}},
		"destination": map[string]any{"type": "webhook", "configuration": map[string]any{"webhook_endpoint": "https://app.example/hook"}}}, http.StatusCreated)["id"].(string)
	p := b.submit("/dashboard/event-streams/"+id+"/test", nil)
	mustContain(t, "test without delivery", p.body, "event_streams_off", "HTTP 503")
}

// TestStreamPagesFollowTheKeysScopes: a key that may only read streams
// sees them and their deliveries but no form that changes them, and
// forcing one shows the API's 403 and changes nothing; a key that cannot
// read them has no Event streams entry and gets the API's 403.
func TestStreamPagesFollowTheKeysScopes(t *testing.T) {
	e := newStreamsEnv(t)
	id := e.apiCall("POST", "/event-streams", map[string]any{"name": "audit-sink", "subscriptions": []any{map[string]string{"event_type": "role.created"}},
		"destination": map[string]any{"type": "webhook", "configuration": map[string]any{"webhook_endpoint": "https://sink.example/hook"}}}, http.StatusCreated)["id"].(string)
	_, reader := e.key("stream reader", api.ScopeReadEventStreams)
	b := e.browser()
	b.signIn(reader)
	mustContain(t, "home", b.visit("/dashboard/").body, "audit-sink", "Event streams")
	list := b.visit("/dashboard/event-streams")
	mustNotContain(t, "read-only list", list.body, "Create event stream")
	page := b.visit("/dashboard/event-streams/" + id)
	mustContain(t, "read-only stream page", page.body, "https://sink.example/hook", "role.created", "Recent deliveries", "lacks <code>update:event_streams</code>")

	// Attempts another server made are in the store, so this page lists
	// them, naming the server.
	if err := e.db.RecordEventStreamAttempts(map[string][]store.EventStreamAttempt{id: {{Time: e.clock.Now(), EventID: "4242",
		EventType: "role.created", Attempt: 3, StatusCode: 503, Error: "HTTP 503", Node: "node-elsewhere"}}}); err != nil {
		t.Fatal(err)
	}
	page = b.visit("/dashboard/event-streams/" + id)
	mustContain(t, "another server's attempt", page.body, "<code>4242</code>", "attempt 3", `<span class="badge warn">503</span>`,
		"by <code>node-elsewhere</code>", "every server shows the same list")
	mustNotContain(t, "another server's attempt", page.body, "each shows its own", "on this server")
	mustNotContain(t, "read-only stream page", page.body, "Send test event", "Rotate signing secret", "Delete event stream", ">Disable</button>")

	forced := []struct {
		path, scope string
		form        url.Values
	}{
		{"/dashboard/event-streams", "create:event_streams", streamForm("sneaky", "https://sink.example/x", "role.created")},
		{"/dashboard/event-streams/" + id + "/status", "update:event_streams", url.Values{"status": {"disabled"}}},
		{"/dashboard/event-streams/" + id + "/test", "update:event_streams", nil},
		{"/dashboard/event-streams/" + id + "/rotate-secret", "update:event_streams", nil},
		{"/dashboard/event-streams/" + id + "/delete", "delete:event_streams", nil},
	}
	for _, fc := range forced {
		e.unchanged(func() {
			p := b.submit(fc.path, fc.form)
			mustContain(t, "forced "+fc.path, p.body, "Insufficient scope, expected: "+fc.scope, "insufficient_scope", "HTTP 403")
			mustNotContain(t, "forced "+fc.path, p.body, "whsec_")
		})
	}

	_, other := e.key("role reader", api.ScopeReadRoles)
	ob := e.browser()
	ob.signIn(other)
	mustNotContain(t, "navigation", ob.visit("/dashboard/roles").body, ">Event streams<")
	if p := ob.get("/dashboard/event-streams"); p.status != http.StatusForbidden || !strings.Contains(p.body, "read:event_streams") {
		t.Errorf("streams page without read:event_streams: %d, want 403 naming the scope", p.status)
	}
}

// TestEveryStreamFormNeedsTheCSRFToken: each stream form refuses a
// same-origin POST without the session's token (even confirmed) and
// changes nothing, the test event included (it writes nothing, but it
// reaches out to the receiver).
func TestEveryStreamFormNeedsTheCSRFToken(t *testing.T) {
	e := newStreamsEnv(t)
	h := newReceiver(t)
	id := e.apiCall("POST", "/event-streams", map[string]any{"name": "x", "subscriptions": []any{map[string]string{"event_type": "role.created"}},
		"destination": map[string]any{"type": "webhook", "configuration": map[string]any{"webhook_endpoint": h.srv.URL}}}, http.StatusCreated)["id"].(string)
	b := e.browser()
	b.signIn(adminToken)
	forms := map[string]url.Values{
		"/dashboard/event-streams":                          streamForm("y", h.srv.URL, "role.created"),
		"/dashboard/event-streams/" + id + "/status":        {"status": {"disabled"}},
		"/dashboard/event-streams/" + id + "/test":          {},
		"/dashboard/event-streams/" + id + "/rotate-secret": {},
		"/dashboard/event-streams/" + id + "/delete":        {},
	}
	for path, form := range forms {
		t.Run(path, func(t *testing.T) {
			form.Set("confirm", "yes")
			e.unchanged(func() {
				p := b.postWith(path, form, nil)
				if p.status != http.StatusForbidden || !strings.Contains(p.body, "nothing changed") {
					t.Errorf("POST %s without the CSRF token: %d, want 403 saying nothing changed", path, p.status)
				}
			})
		})
	}
	if len(h.accepted()) != 0 {
		t.Errorf("the receiver got %v from refused forms", h.accepted())
	}
}

// TestStreamNamesAreIsolated: a stream's name is rendered inside <bdi> on
// its pages, so a right-to-left override cannot reorder the text around it.
func TestStreamNamesAreIsolated(t *testing.T) {
	e := newEnv(t)
	const sly = "hook\u202Ekooh"
	id := e.apiCall("POST", "/event-streams", map[string]any{"name": sly, "subscriptions": []any{map[string]string{"event_type": "role.created"}},
		"destination": map[string]any{"type": "webhook", "configuration": map[string]any{"webhook_endpoint": "https://sink.example/hook"}}}, http.StatusCreated)["id"].(string)
	b := e.browser()
	b.signIn(adminToken)
	occurrence := regexp.MustCompile(`(<[^<>]*>)([^<>]*` + "\u202E" + `[^<>]*)(<[^<>]*>)`)
	for _, path := range []string{"/dashboard/event-streams", "/dashboard/event-streams/" + id} {
		p := b.visit(path)
		if !strings.Contains(p.raw, "\u202E") {
			t.Fatalf("%s does not show the name", path)
		}
		for _, occ := range occurrence.FindAllStringSubmatch(p.raw, -1) {
			if !strings.HasPrefix(occ[1], "<title") && (occ[1] != "<bdi>" || occ[3] != "</bdi>") {
				t.Errorf("%s: a name outside <bdi>: %q", path, occ[0])
			}
		}
	}
}
