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
	times    []time.Time // when each of events' requests began
	rejected int
}

func newHookReceiver(t *testing.T, delay time.Duration) *hookReceiver {
	h := &hookReceiver{delay: delay}
	h.secret.Store("")
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
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
		h.times = append(h.times, began)
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

// firstAfter is when the first accepted event's request began after t
// (zero: none yet); a request already under way at t does not count.
func (h *hookReceiver) firstAfter(t time.Time) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, at := range h.times {
		if at.After(t) {
			return at
		}
	}
	return time.Time{}
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
	// The receiver counts a delivery as it answers; the stream counts it
	// once it has read the answer, a moment later.
	line := `rolecall_event_stream_delivered_total{stream="` + idSecret[0] + `"} 15`
	eventually(t, "metrics with "+line, 5*time.Second, func() bool {
		resp, err := http.Get(s.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.Contains(string(raw), line)
	})
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

// --event-stream-lease (ROLECALL_EVENT_STREAM_LEASE) sets how soon another
// node takes over a dead node's streams: 30s by default, 2s to 10m.
func TestEventStreamLeaseFlag(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want time.Duration
		bad  bool
	}{
		{name: "default", want: 30 * time.Second},
		{name: "env", env: map[string]string{"ROLECALL_EVENT_STREAM_LEASE": "5s"}, want: 5 * time.Second},
		{name: "flag over env", args: []string{"--event-stream-lease", "2m"}, env: map[string]string{"ROLECALL_EVENT_STREAM_LEASE": "5s"}, want: 2 * time.Minute},
		{name: "lowest", args: []string{"--event-stream-lease", "2s"}, want: 2 * time.Second},
		{name: "highest", args: []string{"--event-stream-lease", "10m"}, want: 10 * time.Minute},
		{name: "too short", args: []string{"--event-stream-lease", "1500ms"}, bad: true},
		{name: "too long", env: map[string]string{"ROLECALL_EVENT_STREAM_LEASE": "11m"}, bad: true},
		{name: "not a duration", env: map[string]string{"ROLECALL_EVENT_STREAM_LEASE": "soon"}, bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseServeConfig(tc.args, env(tc.env), io.Discard)
			switch {
			case tc.bad && (err == nil || !strings.Contains(err.Error(), "event-stream-lease") || !strings.Contains(err.Error(), "2s to 10m0s")):
				t.Errorf("got %v, want an error naming event-stream-lease and its bounds", err)
			case !tc.bad && (err != nil || cfg.StreamLease != tc.want):
				t.Errorf("got %v (%v), want %v", cfg.StreamLease, err, tc.want)
			}
		})
	}
}

// streamDeliveries is GET …/deliveries on one node: the attempts (newest
// first) and whether that node delivers the stream.
func streamDeliveries(t *testing.T, base, id string) (attempts []streams.Attempt, delivering bool) {
	t.Helper()
	resp, err := authGet(base+"/api/v2/event-streams/"+id+"/deliveries", testAdminToken)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Deliveries []streams.Attempt `json:"deliveries"`
		Stats      struct {
			Delivering bool `json:"delivering"`
		} `json:"stats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("deliveries on %s: %d %v", base, resp.StatusCode, err)
	}
	return out.Deliveries, out.Stats.Delivering
}

func authGet(url, token string) (*http.Response, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return http.DefaultClient.Do(req)
}

// Two real nodes over one PostgreSQL with a 2s lease, writes flowing: kill
// -9 the node holding the stream's lease; the other takes over within about
// the lease, every event is delivered at least once, in order, with its id
// (a repeat only around the takeover), and the survivor lists the attempts
// the dead node made (they are in the store).
func TestEventStreamTakeoverAfterKill9OnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dsn := pgtest.DSN(t)
	const lease = 2 * time.Second
	flags := []string{"--store", dsn, "--allow-http-webhooks", "--scim-rate", "0", "--event-stream-lease", lease.String()}
	rc := newHookReceiver(t, 20*time.Millisecond)
	nodes := []*serverProcess{startProcess(t, t.TempDir(), flags...), startProcess(t, t.TempDir(), flags...)}
	idSecret := strings.Fields(createStream(t, nodes[0].URL, rc.srv.URL+"/hook", "user.created"))
	id := idSecret[0]
	rc.secret.Store(idSecret[1])
	var holder, survivor *serverProcess
	eventually(t, "a node to hold the lease", 10*time.Second, func() bool {
		for i, n := range nodes {
			if _, delivering := streamDeliveries(t, n.URL, id); delivering {
				holder, survivor = n, nodes[1-i]
				return true
			}
		}
		return false
	})
	s := &testServer{URL: survivor.URL}
	conID, _ := s.connection(t, "takeover")
	token := s.scimToken(t, conID)

	// Writes keep flowing through the survivor while the holder dies.
	const total = 60
	var mu sync.Mutex
	var want []string
	written := make(chan error, 1)
	go func() {
		for i := range total {
			raw, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": fmt.Sprintf("t%03d", i)})
			req, _ := http.NewRequest("POST", survivor.URL+"/scim/v2/connections/"+conID+"/Users", strings.NewReader(string(raw)))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/scim+json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				written <- err
				return
			}
			var out struct{ ID string }
			err = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusCreated {
				written <- fmt.Errorf("create user %d: %d %v", i, resp.StatusCode, err)
				return
			}
			mu.Lock()
			want = append(want, out.ID)
			mu.Unlock()
			time.Sleep(15 * time.Millisecond)
		}
		written <- nil
	}()

	// Kill the holder once it has delivered some events and the survivor
	// already lists some of its attempts (written to the store in batches).
	var deadNode string
	eventually(t, "the survivor listing the holder's attempts", 15*time.Second, func() bool {
		if len(rc.accepted()) < 10 {
			return false
		}
		attempts, delivering := streamDeliveries(t, survivor.URL, id)
		if delivering {
			t.Fatal("the survivor delivers while the holder lives")
		}
		for _, a := range attempts {
			if a.Node != "" {
				deadNode = a.Node
				return true
			}
		}
		return false
	})
	killed := time.Now()
	holder.kill(t)
	before := len(rc.accepted())
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	if before >= total {
		t.Fatalf("all %d events delivered before the kill: the test did not exercise a takeover", before)
	}

	eventually(t, "an event after the kill", 2*lease+5*time.Second, func() bool { return !rc.firstAfter(killed).IsZero() })
	if took := rc.firstAfter(killed).Sub(killed); took > lease+2*time.Second {
		t.Errorf("the survivor took over %v after the kill, want within about the %v lease", took, lease)
	}
	eventually(t, "every event", 20*time.Second, func() bool { return len(firstSeen(t, rc.accepted())) >= total })
	time.Sleep(300 * time.Millisecond) // a late repeat would arrive by now
	evs := rc.accepted()
	mu.Lock()
	defer mu.Unlock()
	if got := firstSeen(t, evs); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("delivered in order %v, want %v", got, want)
	}
	if extra := len(evs) - total; extra > 2 {
		t.Errorf("%d repeats for one takeover, want at most the event in flight", extra)
	}
	attempts, delivering := streamDeliveries(t, survivor.URL, id)
	if !delivering {
		t.Errorf("the survivor does not say it delivers the stream")
	}
	byNode := map[string]int{}
	for _, a := range attempts {
		byNode[a.Node]++
	}
	if byNode[deadNode] == 0 || len(byNode) != 2 {
		t.Errorf("the survivor lists attempts by %v, want the dead node %s's and its own", byNode, deadNode)
	}
	t.Logf("took over %v after the kill; %d deliveries for %d events; attempts listed by node %v",
		rc.firstAfter(killed).Sub(killed).Round(time.Millisecond), len(evs), total, byNode)
}

// Without --allow-http-webhooks a stream cannot point at the private
// network: an https:// endpoint whose host is a loopback, link-local (cloud
// metadata) or private IP literal is refused at once, on create and on
// PATCH, in the Management API error shape naming the reason.
func TestEventStreamRefusesPrivateAddressesWithoutTheFlag(t *testing.T) {
	s := startServer(t)
	body := func(endpoint string) map[string]any {
		return map[string]any{
			"name": "ssrf", "subscriptions": []map[string]string{{"event_type": "user.created"}},
			"destination": map[string]any{"type": "webhook", "configuration": map[string]any{"webhook_endpoint": endpoint}},
		}
	}
	refused := func(what string, resp *http.Response, out map[string]any, want string) {
		t.Helper()
		msg, _ := out["message"].(string)
		if resp.StatusCode != http.StatusBadRequest || out["statusCode"] != float64(400) || out["error"] == nil || out["errorCode"] == nil ||
			!strings.Contains(msg, want) || !strings.Contains(msg, "webhook endpoint") {
			t.Errorf("%s: %d %v, want 400 naming %q", what, resp.StatusCode, out, want)
		}
	}
	for endpoint, want := range map[string]string{
		"https://127.0.0.1/hook":                    "loopback address 127.0.0.1",
		"https://169.254.169.254/latest/meta-data/": "cloud metadata address 169.254.169.254",
		"https://10.0.0.5:8443/hook":                "private address 10.0.0.5",
		"https://[::1]/hook":                        "loopback address ::1",
		"https://[::ffff:192.168.0.1]/hook":         "private address ::ffff:192.168.0.1",
	} {
		resp, out := call(t, "POST", s.URL+"/api/v2/event-streams", testAdminToken, body(endpoint))
		refused("POST "+endpoint, resp, out, want)
	}
	resp, out := call(t, "POST", s.URL+"/api/v2/event-streams", testAdminToken, body("https://hooks.example.com/rolecall"))
	id, _ := out["id"].(string)
	if resp.StatusCode != http.StatusCreated || id == "" {
		t.Fatalf("public endpoint: %d %v", resp.StatusCode, out)
	}
	resp, out = call(t, "PATCH", s.URL+"/api/v2/event-streams/"+id, testAdminToken, map[string]any{
		"destination": map[string]any{"type": "webhook", "configuration": map[string]any{"webhook_endpoint": "https://169.254.169.254/"}},
	})
	refused("PATCH to metadata", resp, out, "cloud metadata address")
	_, out = call(t, "GET", s.URL+"/api/v2/event-streams/"+id, testAdminToken, nil)
	if got, _ := json.Marshal(out["destination"]); !strings.Contains(string(got), "hooks.example.com") {
		t.Errorf("after a refused PATCH the destination is %s, want unchanged", got)
	}
}

// With --allow-http-webhooks (local receivers) private addresses are
// accepted, as http:// is.
func TestEventStreamAllowsPrivateAddressesWithTheFlag(t *testing.T) {
	s := startServer(t, func(c *config) { c.AllowHTTPWebhooks = true })
	resp, out := call(t, "POST", s.URL+"/api/v2/event-streams", testAdminToken, map[string]any{
		"name": "local", "subscriptions": []map[string]string{{"event_type": "user.created"}},
		"destination": map[string]any{"type": "webhook", "configuration": map[string]any{"webhook_endpoint": "https://127.0.0.1:9/hook"}},
	})
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("loopback with the flag: %d %v", resp.StatusCode, out)
	}
}
