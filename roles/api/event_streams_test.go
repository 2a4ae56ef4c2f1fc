package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/roles/api"
	"github.com/rolecall/rolecall/roles/streams"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

const streamToken = "outbound-secret-token-never-shown"

func streamBody(endpoint string) map[string]any {
	return map[string]any{
		"name":          "sessions",
		"subscriptions": []map[string]any{{"event_type": "user.deleted"}, {"event_type": "group.member.deleted"}},
		"destination": map[string]any{"type": "webhook", "configuration": map[string]any{
			"webhook_endpoint":      endpoint,
			"webhook_authorization": map[string]any{"method": "bearer", "token": streamToken},
		}},
	}
}

// newStreamsMgmt is the API with a deliverer and http:// endpoints allowed
// (for httptest receivers), as `rolecall serve --allow-http-webhooks` runs.
func newStreamsMgmt(t *testing.T, allowHTTP bool) *mgmt {
	db := storetest.Open(t)
	index := roles.NewIndex()
	db.AddObserver(index)
	if err := index.Load(db); err != nil {
		t.Fatal(err)
	}
	m := streams.New(db, index, streams.Options{AllowHTTP: allowHTTP, Log: zerolog.Nop()})
	return &mgmt{t: t, db: db, api: api.New(db, index, api.Options{AdminToken: mgmtAdminToken, Streams: m, AllowHTTPWebhooks: allowHTTP})}
}

func TestEventStreamsCRUDNeverShowsTheToken(t *testing.T) {
	m := newStreamsMgmt(t, false)
	created := m.do("POST", "/event-streams", streamBody("https://hooks.example.com/rolecall"), http.StatusCreated)
	id, _ := created["id"].(string)
	secret, _ := created["signing_secret"].(string)
	if !strings.HasPrefix(id, "est_") || created["status"] != "enabled" || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("created %v", created)
	}
	answers := []map[string]any{
		m.do("GET", "/event-streams/"+id, nil, http.StatusOK),
		m.do("GET", "/event-streams", nil, http.StatusOK),
		m.do("PATCH", "/event-streams/"+id, map[string]any{"status": "disabled", "name": "renamed"}, http.StatusOK),
	}
	rotated := m.do("POST", "/event-streams/"+id+"/rotate-secret", nil, http.StatusOK)
	if s, _ := rotated["signing_secret"].(string); s == "" || s == secret {
		t.Errorf("rotated secret %q (old %q)", s, secret)
	}
	logs := m.do("GET", "/logs", nil, http.StatusOK)
	answers = append(answers, created, rotated, logs)
	for i, a := range answers {
		text := fmt.Sprint(a)
		if strings.Contains(text, streamToken) {
			t.Errorf("answer %d shows the token: %s", i, text)
		}
		if i < 3 && strings.Contains(text, secret) {
			t.Errorf("answer %d shows the signing secret", i)
		}
	}
	if got := answers[2]; got["status"] != "disabled" || got["name"] != "renamed" {
		t.Errorf("patched %v", got)
	}
	m.do("DELETE", "/event-streams/"+id, nil, http.StatusNoContent)
	m.fails("GET", "/event-streams/"+id, nil, http.StatusNotFound, "inexistent_event_stream")
	m.fails("PATCH", "/event-streams/est_0000000000000000", map[string]any{"name": "x"}, http.StatusNotFound, "inexistent_event_stream")
}

func TestEventStreamsRejectBadBodies(t *testing.T) {
	m := newStreamsMgmt(t, false)
	with := func(f func(b map[string]any)) map[string]any {
		b := streamBody("https://hooks.example.com/x")
		f(b)
		return b
	}
	config := func(b map[string]any) map[string]any {
		return b["destination"].(map[string]any)["configuration"].(map[string]any)
	}
	cases := []struct {
		name string
		body map[string]any
		want string
	}{
		{"http without the flag", streamBody("http://127.0.0.1:9/hook"), "--allow-http-webhooks"},
		{"user information", streamBody("https://u:p@hooks.example.com/"), "user information"},
		{"endpoint too long", streamBody("https://hooks.example.com/" + strings.Repeat("a", 2100)), "2048"},
		{"name too long", with(func(b map[string]any) { b["name"] = strings.Repeat("n", 129) }), "1 to 128"},
		{"no subscriptions", with(func(b map[string]any) { b["subscriptions"] = []any{} }), "at least one subscription"},
		{"unknown event type", with(func(b map[string]any) { b["subscriptions"] = []any{map[string]any{"event_type": "user.exploded"}} }), "unknown event type"},
		{"not a webhook", with(func(b map[string]any) { b["destination"].(map[string]any)["type"] = "eventbridge" }), "webhook"},
		{"basic auth", with(func(b map[string]any) {
			config(b)["webhook_authorization"] = map[string]any{"method": "basic", "token": "x"}
		}), "bearer"},
		{"token too long", with(func(b map[string]any) {
			config(b)["webhook_authorization"] = map[string]any{"method": "bearer", "token": strings.Repeat("t", 4097)}
		}), "4096"},
		{"no endpoint", with(func(b map[string]any) { delete(config(b), "webhook_endpoint") }), "webhook_endpoint"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m.t = t
			m.unchanged(func() {
				rec, out := m.send(mgmtAdminToken, "POST", "/event-streams", tc.body)
				assertMgmtError(t, tc.name, rec, out, http.StatusBadRequest, "invalid_body")
				if msg, _ := out["message"].(string); !strings.Contains(msg, tc.want) {
					t.Errorf("message %q, want it to name %q", msg, tc.want)
				}
			})
		})
	}
	m.t = t
	for i := range store.MaxEventStreams {
		m.do("POST", "/event-streams", with(func(b map[string]any) { b["name"] = fmt.Sprint("s", i) }), http.StatusCreated)
	}
	m.unchanged(func() {
		m.fails("POST", "/event-streams", streamBody("https://hooks.example.com/x"), http.StatusBadRequest, "invalid_body")
	})
}

func TestEventStreamsNeedTheirScopes(t *testing.T) {
	m := newStreamsMgmt(t, false)
	for _, c := range []struct{ method, path, scope string }{
		{"GET", "/event-streams", api.ScopeReadEventStreams},
		{"POST", "/event-streams", api.ScopeCreateEventStreams},
		{"PATCH", "/event-streams/est_0000000000000000", api.ScopeUpdateEventStreams},
		{"DELETE", "/event-streams/est_0000000000000000", api.ScopeDeleteEventStreams},
		{"POST", "/event-streams/est_0000000000000000/test", api.ScopeUpdateEventStreams},
	} {
		rec, out := m.send(m.keyWithout(c.scope), c.method, c.path, streamBody("https://hooks.example.com/x"))
		assertMgmtError(t, c.method+" "+c.path, rec, out, http.StatusForbidden, "insufficient_scope")
	}
}

// POST …/test sends a signed test event at once and answers the attempt,
// which GET …/deliveries then lists; http:// works with the flag.
func TestEventStreamTestEventAndDeliveries(t *testing.T) {
	m := newStreamsMgmt(t, true)
	var secret atomic.Value
	var got atomic.Int32
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, 1<<16)
		n, _ := r.Body.Read(body)
		sec, _ := secret.Load().(string)
		if r.Header.Get("Authorization") != "Bearer "+streamToken || streams.Verify(sec, r.Header.Get(streams.SignatureHeader), body[:n], 5*time.Minute, time.Now()) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		got.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer rc.Close()
	created := m.do("POST", "/event-streams", streamBody(rc.URL+"/hook"), http.StatusCreated)
	secret.Store(created["signing_secret"])
	id := created["id"].(string)
	att := m.do("POST", "/event-streams/"+id+"/test", nil, http.StatusOK)
	if att["ok"] != true || att["status_code"] != float64(http.StatusAccepted) || att["event_type"] != store.EventStreamTestEvent || got.Load() != 1 {
		t.Errorf("test attempt %v (receiver accepted %d)", att, got.Load())
	}
	d := m.do("GET", "/event-streams/"+id+"/deliveries", nil, http.StatusOK)
	if list, _ := d["deliveries"].([]any); len(list) != 1 {
		t.Errorf("deliveries %v", d)
	}
	m.fails("POST", "/event-streams/est_0000000000000000/test", nil, http.StatusNotFound, "inexistent_event_stream")
	m.fails("GET", "/event-streams/est_0000000000000000/deliveries", nil, http.StatusNotFound, "inexistent_event_stream")
}

func TestEventStreamTestWithoutDelivererIsUnavailable(t *testing.T) {
	m := newMgmt(t)
	id := m.do("POST", "/event-streams", streamBody("https://hooks.example.com/x"), http.StatusCreated)["id"].(string)
	m.fails("POST", "/event-streams/"+id+"/test", nil, http.StatusServiceUnavailable, "event_streams_off")
	// The recent attempts are in the store, so a node that does not deliver
	// still lists the ones other nodes made.
	if err := m.db.RecordEventStreamAttempts(map[string][]store.EventStreamAttempt{id: {
		{Time: time.Now().Add(-time.Second), EventID: "7", EventType: store.EventUserCreated, Attempt: 1, StatusCode: 500, Error: "HTTP 500", Node: "other"},
		{Time: time.Now(), EventID: "7", EventType: store.EventUserCreated, Attempt: 2, StatusCode: 200, OK: true, Node: "other"},
	}}); err != nil {
		t.Fatal(err)
	}
	d := m.do("GET", "/event-streams/"+id+"/deliveries", nil, http.StatusOK)
	list, _ := d["deliveries"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["attempt"] != float64(2) || list[0].(map[string]any)["node"] != "other" || d["stats"] != nil {
		t.Errorf("deliveries without a deliverer %v, want the 2 recorded, newest first, no stats", d)
	}
}
