package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolecall/rolecall/roles/streams"
	"github.com/rolecall/rolecall/store/postgres/pgtest"
)

const hookToken = "e2e-receiver-token-never-logged"

// hookReceiver is a webhook endpoint that checks the bearer token and the
// signature (rejecting forgeries with 401) and keeps what it accepted.
type hookReceiver struct {
	srv    *httptest.Server
	secret atomic.Value // string
	delay  time.Duration

	mu       sync.Mutex
	events   []streams.CloudEvent
	rejected int
}

func newHookReceiver(t *testing.T, delay time.Duration) *hookReceiver {
	h := &hookReceiver{delay: delay}
	h.secret.Store("")
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		secret := h.secret.Load().(string)
		if r.Header.Get("Authorization") != "Bearer "+hookToken ||
			streams.Verify(secret, r.Header.Get(streams.SignatureHeader), body, 5*time.Minute, time.Now()) != nil {
			h.mu.Lock()
			h.rejected++
			h.mu.Unlock()
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		time.Sleep(h.delay)
		var ev streams.CloudEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.events = append(h.events, ev)
		h.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) accepted() []streams.CloudEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]streams.CloudEvent(nil), h.events...)
}

func createStream(t *testing.T, base, endpoint string, types ...string) (id string) {
	t.Helper()
	var subs []map[string]string
	for _, ty := range types {
		subs = append(subs, map[string]string{"event_type": ty})
	}
	resp, out := call(t, "POST", base+"/api/v2/event-streams", testAdminToken, map[string]any{
		"name": "e2e", "subscriptions": subs,
		"destination": map[string]any{"type": "webhook", "configuration": map[string]any{
			"webhook_endpoint": endpoint, "webhook_authorization": map[string]any{"method": "bearer", "token": hookToken}}},
	})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create stream: %d %v", resp.StatusCode, out)
	}
	return out["id"].(string) + " " + out["signing_secret"].(string)
}

func scimUsers(t *testing.T, base, conID, token, prefix string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		resp, out := call(t, "POST", base+"/scim/v2/connections/"+conID+"/Users", token, map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": fmt.Sprintf("%s%03d", prefix, i)})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create user: %d %v", resp.StatusCode, out)
		}
		ids[i] = out["id"].(string)
	}
	return ids
}

func eventually(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// firstSeen is the user ids of the events in arrival order, each once, and
// whether every repeat carried the id the first delivery did.
func firstSeen(t *testing.T, evs []streams.CloudEvent) []string {
	t.Helper()
	eventID := map[string]string{}
	var order []string
	for _, ev := range evs {
		user := ev.Data.Target.ID
		if prev, ok := eventID[user]; ok {
			if prev != ev.ID {
				t.Errorf("user %s delivered as event %s and %s", user, prev, ev.ID)
			}
			continue
		}
		eventID[user] = ev.ID
		order = append(order, user)
	}
	return order
}

// End to end in process: SCIM writes reach the webhook in order, signed; the
// metrics count them; the token appears in no answer and no log line; a
// forged signature is refused by the receiver.
func TestEventStreamDeliversSCIMWrites(t *testing.T) {
	s := startServer(t, func(c *config) { c.AllowHTTPWebhooks = true })
	rc := newHookReceiver(t, 0)
	idSecret := strings.Fields(createStream(t, s.URL, rc.srv.URL+"/hook", "user.created"))
	rc.secret.Store(idSecret[1])
	conID, _ := s.connection(t, "streams")
	token := s.scimToken(t, conID)
	want := scimUsers(t, s.URL, conID, token, "u", 15)
	eventually(t, "15 events", 10*time.Second, func() bool { return len(rc.accepted()) >= 15 })
	if got := firstSeen(t, rc.accepted()); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("delivered %v, want %v", got, want)
	}
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if line := `rolecall_event_stream_delivered_total{stream="` + idSecret[0] + `"} 15`; !strings.Contains(string(raw), line) {
		t.Errorf("metrics lack %q", line)
	}
	rc.secret.Store("whsec_forged")
	_, att := call(t, "POST", s.URL+"/api/v2/event-streams/"+idSecret[0]+"/test", testAdminToken, nil)
	if att["ok"] != false || att["status_code"] != float64(http.StatusUnauthorized) {
		t.Errorf("test event with the receiver expecting another secret: %v", att)
	}
	// While the receiver refuses, the stream lags and counts failures;
	// once it accepts again, the lag drains to zero.
	stats := func() map[string]any {
		_, d := call(t, "GET", s.URL+"/api/v2/event-streams/"+idSecret[0]+"/deliveries", testAdminToken, nil)
		st, _ := d["stats"].(map[string]any)
		return st
	}
	scimUsers(t, s.URL, conID, token, "late", 3)
	eventually(t, "a lag of 3 events", 10*time.Second, func() bool {
		st := stats()
		lag, _ := st["lag_events"].(float64)
		failed, _ := st["failed"].(float64)
		return lag >= 3 && failed >= 2 && st["delivering"] == true
	})
	rc.secret.Store(idSecret[1])
	eventually(t, "the lag drained", 15*time.Second, func() bool {
		st := stats()
		return st["lag_events"] == float64(0) && st["lag_seconds"] == float64(0) && st["delivered"] == float64(18)
	})
	_, got := call(t, "GET", s.URL+"/api/v2/event-streams/"+idSecret[0], testAdminToken, nil)
	_, logs := call(t, "GET", s.URL+"/api/v2/logs?take=100", testAdminToken, nil)
	for _, text := range []string{fmt.Sprint(got), fmt.Sprint(logs), s.logs.String()} {
		if strings.Contains(text, hookToken) {
			t.Errorf("the bearer token leaked: %.300s", text)
		}
	}
}

func TestEventStreamRefusesHTTPWithoutTheFlag(t *testing.T) {
	s := startServer(t)
	resp, out := call(t, "POST", s.URL+"/api/v2/event-streams", testAdminToken, map[string]any{
		"name": "e2e", "subscriptions": []map[string]string{{"event_type": "user.created"}},
		"destination": map[string]any{"type": "webhook", "configuration": map[string]any{"webhook_endpoint": "http://127.0.0.1:9/hook"}},
	})
	if msg, _ := out["message"].(string); resp.StatusCode != http.StatusBadRequest || !strings.Contains(msg, "--allow-http-webhooks") {
		t.Errorf("http endpoint without the flag: %d %v", resp.StatusCode, out)
	}
}

// kill -9 of a real server mid-delivery, then a restart: every event is
// delivered at least once, in order of first delivery, repeats with the
// same id.
func TestEventStreamSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	rc := newHookReceiver(t, 15*time.Millisecond)
	p := startProcess(t, dir, "--allow-http-webhooks", "--scim-rate", "0")
	s := &testServer{URL: p.URL}
	idSecret := strings.Fields(createStream(t, p.URL, rc.srv.URL+"/hook", "user.created"))
	rc.secret.Store(idSecret[1])
	conID, _ := s.connection(t, "crash-streams")
	token := s.scimToken(t, conID)
	want := scimUsers(t, p.URL, conID, token, "u", 40)
	eventually(t, "some deliveries", 10*time.Second, func() bool { return len(rc.accepted()) >= 10 })
	p.kill(t)
	delivered := len(rc.accepted())
	if delivered >= len(want) {
		t.Fatalf("all %d delivered before the kill: the test did not exercise a crash", delivered)
	}
	startProcess(t, dir, "--allow-http-webhooks", "--scim-rate", "0")
	eventually(t, "every event after the restart", 20*time.Second, func() bool { return len(firstSeen(t, rc.accepted())) >= len(want) })
	if got := firstSeen(t, rc.accepted()); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("delivered %v, want %v", got, want)
	}
	t.Logf("%d delivered before the kill, %d deliveries in all for %d events", delivered, len(rc.accepted()), len(want))
}

// Two nodes over one PostgreSQL: each event is delivered by one of them.
func TestEventStreamTwoNodesDeliverOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	rc := newHookReceiver(t, 0)
	a := startProcess(t, t.TempDir(), "--store", dsn, "--allow-http-webhooks", "--scim-rate", "0")
	b := startProcess(t, t.TempDir(), "--store", dsn, "--allow-http-webhooks", "--scim-rate", "0")
	idSecret := strings.Fields(createStream(t, a.URL, rc.srv.URL+"/hook", "user.created"))
	rc.secret.Store(idSecret[1])
	s := &testServer{URL: b.URL}
	conID, _ := s.connection(t, "two-nodes-streams")
	token := s.scimToken(t, conID)
	var want []string
	for i := range 10 { // writes through both nodes
		want = append(want, scimUsers(t, []string{a.URL, b.URL}[i%2], conID, token, fmt.Sprintf("n%d-", i), 3)...)
	}
	eventually(t, "every event", 20*time.Second, func() bool { return len(rc.accepted()) >= len(want) })
	time.Sleep(500 * time.Millisecond) // a duplicate would arrive by now
	evs := rc.accepted()
	if got := firstSeen(t, evs); strings.Join(got, ",") != strings.Join(want, ",") || len(evs) != len(want) {
		t.Errorf("%d deliveries for %d events; order %v, want %v", len(evs), len(want), got, want)
	}
}

func TestEventStreamFlagsAndEnvTwins(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cfg, err := parseServeConfig(nil, env(map[string]string{"ROLECALL_ALLOW_HTTP_WEBHOOKS": "true", "ROLECALL_EVENT_STREAM_DISABLE_AFTER": "2h"}), io.Discard)
	if err != nil || !cfg.AllowHTTPWebhooks || cfg.StreamDisableAfter != 2*time.Hour {
		t.Errorf("from env: %+v %v", cfg, err)
	}
	cfg, err = parseServeConfig([]string{"--allow-http-webhooks=false", "--event-stream-disable-after", "30m"}, env(map[string]string{"ROLECALL_ALLOW_HTTP_WEBHOOKS": "true"}), io.Discard)
	if err != nil || cfg.AllowHTTPWebhooks || cfg.StreamDisableAfter != 30*time.Minute {
		t.Errorf("flags over env: allow %v, after %v, %v", cfg.AllowHTTPWebhooks, cfg.StreamDisableAfter, err)
	}
	if cfg, _ := parseServeConfig(nil, env(nil), io.Discard); cfg.AllowHTTPWebhooks || cfg.StreamDisableAfter != 24*time.Hour {
		t.Errorf("defaults: allow %v, after %v; want https only and 24h", cfg.AllowHTTPWebhooks, cfg.StreamDisableAfter)
	}
	_, err = parseServeConfig([]string{"--event-stream-disable-after", "0s"}, env(map[string]string{"ROLECALL_ALLOW_HTTP_WEBHOOKS": "maybe"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "event-stream-disable-after") || !strings.Contains(err.Error(), "allow-http-webhooks") {
		t.Errorf("bad values: %v, want both named", err)
	}
}
