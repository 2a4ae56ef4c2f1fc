package streams_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/roles/streams"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

const testToken = "receiver-token-do-not-log"

// receiver is a webhook endpoint that checks what a receiver must check
// (bearer token, content type, signature by its own HMAC code) and answers
// what the test tells it to.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret func() string

	mu       sync.Mutex
	answer   func(n int) (status int, header http.Header, delay time.Duration) // n counts requests from 1
	requests int
	times    []time.Time
	events   []streams.CloudEvent // accepted (2xx) ones, in arrival order
	problems []string
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t, answer: func(int) (int, http.Header, time.Duration) { return http.StatusNoContent, nil, 0 }}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.requests++
	n := rc.requests
	rc.times = append(rc.times, time.Now())
	answer := rc.answer
	rc.mu.Unlock()
	var problems []string
	if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
		problems = append(problems, "authorization "+got)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/cloudevents+json" {
		problems = append(problems, "content type "+ct)
	}
	if !verifySignature(rc.secret(), r.Header.Get("Rolecall-Signature"), body) {
		problems = append(problems, "bad signature")
	}
	var ev streams.CloudEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		problems = append(problems, "body: "+err.Error())
	}
	status, header, delay := answer(n)
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
		}
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.problems = append(rc.problems, problems...)
	if status/100 == 2 && len(problems) == 0 {
		rc.events = append(rc.events, ev)
	}
}

// verifySignature is the receiver's side of the documented scheme, written
// independently of the package: t=<unix>,v1=<hex hmac-sha256(secret, t.body)>,
// within five minutes.
func verifySignature(secret, header string, body []byte) bool {
	var ts, sig string
	for _, p := range strings.Split(header, ",") {
		if v, ok := strings.CutPrefix(p, "t="); ok {
			ts = v
		}
		if v, ok := strings.CutPrefix(p, "v1="); ok {
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%s.%s", ts, body)
	return hmac.Equal([]byte(hex.EncodeToString(m.Sum(nil))), []byte(sig))
}

func (rc *receiver) setAnswer(f func(n int) (int, http.Header, time.Duration)) {
	rc.mu.Lock()
	rc.answer = f
	rc.mu.Unlock()
}

func (rc *receiver) accepted() []streams.CloudEvent {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.problems) > 0 {
		rc.t.Errorf("receiver saw problems: %v", rc.problems)
		rc.problems = nil
	}
	return append([]streams.CloudEvent(nil), rc.events...)
}

// waitFor polls cond (test code only) until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type env struct {
	db    *store.DB
	index *roles.Index
	con   store.Connection
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T) *env {
	db := storetest.Open(t)
	ix := roles.NewIndex()
	db.AddObserver(ix)
	if err := ix.Load(db); err != nil {
		t.Fatal(err)
	}
	return &env{db: db, index: ix, con: storetest.MustConnection(t, db, "okta"), logs: &syncBuffer{}}
}

// start runs a manager with tiny bounds until the test ends.
func (e *env) start(t *testing.T, opts streams.Options) *streams.Manager {
	opts.AllowHTTP = true
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&opts.MinBackoff, 5*time.Millisecond)
	def(&opts.MaxBackoff, 20*time.Millisecond)
	def(&opts.AttemptTimeout, 2*time.Second)
	def(&opts.LeaseTTL, 300*time.Millisecond)
	opts.Log = zerolog.New(e.logs)
	m := streams.New(e.db, e.index, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return m
}

func ptr[T any](v T) *T { return &v }

func deliveries(t *testing.T, m *streams.Manager, id string) []streams.Attempt {
	t.Helper()
	d, err := m.Deliveries(id)
	if err != nil {
		t.Fatalf("deliveries of %s: %v", id, err)
	}
	return d
}

// run runs m until the returned stop is called (or the test ends).
func run(t *testing.T, m *streams.Manager) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// stream creates a stream to rc for types and points rc's signature check
// at its secret.
func (e *env) stream(t *testing.T, rc *receiver, types ...string) store.EventStream {
	t.Helper()
	var s store.EventStream
	var secret string
	storetest.MustUpdate(t, e.db, func(tx *store.Tx) (err error) {
		s, secret, err = tx.CreateEventStream(store.EventStreamSpec{Name: ptr("test"), Subscriptions: types,
			Endpoint: ptr(rc.srv.URL + "/hook"), Token: ptr(testToken)})
		return err
	})
	rc.secret = func() string { return secret }
	return s
}

func (e *env) users(t *testing.T, prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = storetest.MustUser(t, e.db, e.con.ID, fmt.Sprintf("%s%03d", prefix, i)).ID
	}
	return ids
}

// targets are the user ids of accepted user events, in arrival order.
func targets(evs []streams.CloudEvent) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Data.Target.ID)
	}
	return out
}

func TestDeliversSubscribedEventsInOrderSigned(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	e.stream(t, rc, store.EventUserCreated)
	e.start(t, streams.Options{Source: "https://rolecall.example/api/v2"})
	want := e.users(t, "u", 30)
	storetest.MustGroup(t, e.db, e.con.ID, "not subscribed")
	waitFor(t, "30 events", func() bool { return len(rc.accepted()) >= 30 })
	evs := rc.accepted()
	if got := targets(evs); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("delivered users %v, want %v in order", got, want)
	}
	for _, ev := range evs {
		if ev.Type != store.EventUserCreated || ev.SpecVersion != "1.0" || ev.Source != "https://rolecall.example/api/v2" || ev.ID != ev.Data.ID {
			t.Errorf("event %+v", ev)
		}
	}
	if strings.Contains(e.logs.String(), testToken) {
		t.Errorf("the log shows the bearer token")
	}
}

// A receiver that fails with 500, then recovers, gets every event once
// accepted, none skipped or reordered; the attempts are visible.
func TestRetriesAfterFailuresWithoutSkipping(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	rc.setAnswer(func(n int) (int, http.Header, time.Duration) {
		if n%3 != 0 { // two failures before each success
			return http.StatusInternalServerError, nil, 0
		}
		return http.StatusOK, nil, 0
	})
	s := e.stream(t, rc, store.EventUserCreated)
	m := e.start(t, streams.Options{})
	want := e.users(t, "u", 10)
	waitFor(t, "10 events", func() bool { return len(rc.accepted()) >= 10 })
	if got := targets(rc.accepted()); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("delivered %v, want %v", got, want)
	}
	waitFor(t, "stats", func() bool {
		for _, st := range m.Stats() {
			if st.StreamID == s.ID {
				return st.Delivered == 10 && st.Failed == 20 && st.LagEvents == 0
			}
		}
		return false
	})
	d := deliveries(t, m, s.ID)
	if len(d) != 30 || !d[0].OK || d[1].OK || d[1].StatusCode != 500 || d[1].Error == "" || d[1].Attempt != 2 {
		t.Errorf("deliveries (newest first) %+v", d[:min(3, len(d))])
	}
}

func TestHonoursRetryAfter(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	rc.setAnswer(func(n int) (int, http.Header, time.Duration) {
		if n == 1 {
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}, 0
		}
		return http.StatusOK, nil, 0
	})
	e.stream(t, rc, store.EventUserCreated)
	e.start(t, streams.Options{})
	e.users(t, "u", 1)
	waitFor(t, "the retried event", func() bool { return len(rc.accepted()) == 1 })
	rc.mu.Lock()
	gap := rc.times[1].Sub(rc.times[0])
	rc.mu.Unlock()
	if gap < time.Second {
		t.Errorf("retried %v after a 429 with Retry-After: 1 (backoff alone is 20ms at most)", gap)
	}
}

func TestAttemptTimesOut(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	rc.setAnswer(func(n int) (int, http.Header, time.Duration) {
		if n == 1 {
			return http.StatusOK, nil, 5 * time.Second
		}
		return http.StatusOK, nil, 0
	})
	s := e.stream(t, rc, store.EventUserCreated)
	m := e.start(t, streams.Options{AttemptTimeout: 100 * time.Millisecond})
	e.users(t, "u", 1)
	waitFor(t, "the event after a timeout", func() bool { d := deliveries(t, m, s.ID); return len(d) >= 2 && d[0].OK })
	if d := deliveries(t, m, s.ID); d[1].Error != "timeout" || d[1].LatencyMS > 2000 {
		t.Errorf("first attempt %+v, want a timeout after about 100ms", d[1])
	}
}

// A stream failing for DisableAfter is disabled with the reason, and
// resumes from its cursor when enabled again.
func TestDisabledAfterFailingThenResumes(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	var failing sync.Mutex
	fail := true
	rc.setAnswer(func(int) (int, http.Header, time.Duration) {
		failing.Lock()
		defer failing.Unlock()
		if fail {
			return http.StatusBadGateway, nil, 0
		}
		return http.StatusOK, nil, 0
	})
	s := e.stream(t, rc, store.EventUserCreated)
	e.start(t, streams.Options{DisableAfter: 200 * time.Millisecond})
	want := e.users(t, "u", 3)
	var got store.EventStream
	waitFor(t, "the stream disabled", func() bool {
		_ = e.db.View(func(r *store.ReadTx) (err error) { got, err = r.EventStream(s.ID); return err })
		return got.Status == store.EventStreamDisabled
	})
	if !strings.Contains(got.StatusReason, "HTTP 502") {
		t.Errorf("reason %q, want the last failure", got.StatusReason)
	}
	failing.Lock()
	fail = false
	failing.Unlock()
	want = append(want, e.users(t, "v", 2)...) // written while disabled
	storetest.MustUpdate(t, e.db, func(tx *store.Tx) error {
		_, err := tx.UpdateEventStream(s.ID, store.EventStreamSpec{Status: ptr(store.EventStreamEnabled)})
		return err
	})
	waitFor(t, "every event after re-enabling", func() bool { return len(rc.accepted()) >= 5 })
	if got := targets(rc.accepted()); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("delivered %v, want %v", got, want)
	}
}

// A receiver that hangs delays only its own stream.
func TestSlowReceiverDoesNotDelayOtherStreams(t *testing.T) {
	e := newEnv(t)
	slow := newReceiver(t)
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	slow.setAnswer(func(int) (int, http.Header, time.Duration) {
		<-hang
		return http.StatusOK, nil, 0
	})
	fast := newReceiver(t)
	e.stream(t, slow, store.EventUserCreated)
	e.stream(t, fast, store.EventUserCreated)
	e.start(t, streams.Options{AttemptTimeout: time.Minute})
	start := time.Now()
	e.users(t, "u", 20)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("20 writes took %v with a hung receiver", d)
	}
	waitFor(t, "the fast stream", func() bool { return len(fast.accepted()) == 20 })
}

// The test event goes out at once, outside the cursor.
func TestTestEvent(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	s := e.stream(t, rc, store.EventUserCreated)
	m := e.start(t, streams.Options{})
	a, err := m.Test(context.Background(), s.ID)
	if err != nil || !a.OK || a.StatusCode != http.StatusNoContent || a.EventType != store.EventStreamTestEvent {
		t.Fatalf("test attempt %+v (%v)", a, err)
	}
	if evs := rc.accepted(); len(evs) != 1 || evs[0].Type != store.EventStreamTestEvent || evs[0].ID != a.EventID {
		t.Errorf("received %+v", evs)
	}
	if _, err := m.Test(context.Background(), "est_0000000000000000"); err == nil {
		t.Errorf("test of a missing stream: no error")
	}
}

// Without AllowHTTP, an http:// stream is never sent to.
func TestHTTPEndpointRefusedWithoutTheFlag(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	s := e.stream(t, rc, store.EventUserCreated)
	m := streams.New(e.db, e.index, streams.Options{Log: zerolog.Nop()})
	a, err := m.Test(context.Background(), s.ID)
	if err != nil || a.OK || !strings.Contains(a.Error, "--allow-http-webhooks") {
		t.Errorf("attempt %+v (%v), want refused", a, err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.requests != 0 {
		t.Errorf("the receiver got %d requests", rc.requests)
	}
}

// Two managers (two nodes) share the store: each event is delivered by one
// of them; when the holder stops, the other takes over from the cursor.
func TestOneNodeDeliversAStream(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	e.stream(t, rc, store.EventUserCreated)
	ctx1, stop1 := context.WithCancel(context.Background())
	m1 := streams.New(e.db, e.index, streams.Options{Node: "one", AllowHTTP: true, MinBackoff: 5 * time.Millisecond, LeaseTTL: 300 * time.Millisecond, Log: zerolog.Nop()})
	done1 := make(chan struct{})
	go func() { defer close(done1); m1.Run(ctx1) }()
	t.Cleanup(func() { stop1(); <-done1 })
	waitFor(t, "node one to take the lease", func() bool {
		st := m1.Stats()
		return len(st) == 1 && st[0].Delivering
	})
	e.start(t, streams.Options{Node: "two"})
	want := e.users(t, "u", 10)
	waitFor(t, "10 events", func() bool { return len(rc.accepted()) >= 10 })
	stop1()
	<-done1
	want = append(want, e.users(t, "v", 10)...)
	waitFor(t, "20 events", func() bool { return len(rc.accepted()) >= 20 })
	time.Sleep(50 * time.Millisecond)
	if got := targets(rc.accepted()); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("delivered %v, want each of %v once, in order", got, want)
	}
}

func TestVerifyRejectsForgeriesAndReplays(t *testing.T) {
	now := time.Now()
	body := []byte(`{"id":"1"}`)
	h := streams.Sign("whsec_a", now, body)
	cases := []struct {
		name, secret, header string
		body                 []byte
		now                  time.Time
		ok                   bool
	}{
		{"genuine", "whsec_a", h, body, now, true},
		{"other secret", "whsec_b", h, body, now, false},
		{"changed body", "whsec_a", h, []byte(`{"id":"2"}`), now, false},
		{"replayed later", "whsec_a", h, body, now.Add(10 * time.Minute), false},
		{"no signature", "whsec_a", "t=" + strconv.FormatInt(now.Unix(), 10), body, now, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := streams.Verify(tc.secret, tc.header, tc.body, 5*time.Minute, tc.now)
			if (err == nil) != tc.ok {
				t.Errorf("Verify: %v, want ok %v", err, tc.ok)
			}
			if got := verifySignature(tc.secret, tc.header, tc.body); got != tc.ok && tc.name != "replayed later" {
				t.Errorf("the receiver's own check says %v", got)
			}
		})
	}
}

// Recent attempts are kept in the store: a node that never delivered the
// stream lists the deliverer's attempts (written in batches), its own test
// event shows at once (not yet written), and after both stop a new
// manager lists them all.
func TestRecentDeliveriesAreSharedAndSurviveAStop(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	s := e.stream(t, rc, store.EventUserCreated)
	opts := func(node string) streams.Options {
		return streams.Options{Node: node, AllowHTTP: true, MinBackoff: 5 * time.Millisecond, LeaseTTL: 300 * time.Millisecond,
			FlushInterval: 20 * time.Millisecond, Log: zerolog.Nop()}
	}
	one := streams.New(e.db, e.index, opts("one"))
	stopOne := run(t, one)
	waitFor(t, "node one to take the lease", func() bool { return one.StreamStats(s.ID).Delivering })
	two := streams.New(e.db, e.index, opts("two"))
	stopTwo := run(t, two)
	rev := e.db.Revision()
	want := e.users(t, "u", 5)
	waitFor(t, "5 events", func() bool { return len(rc.accepted()) >= 5 })
	waitFor(t, "node two to list node one's attempts", func() bool { return len(deliveries(t, two, s.ID)) == 5 })
	d := deliveries(t, two, s.ID)
	for i, a := range d {
		if a.Node != "one" || !a.OK {
			t.Errorf("attempt %d %+v, want one's successful delivery", i, a)
		}
	}
	if d[0].Time.Before(d[4].Time) {
		t.Errorf("deliveries not newest first: %v … %v", d[0].Time, d[4].Time)
	}
	if e.db.Revision() != rev+uint64(len(want)) {
		t.Errorf("revision %d after %d writes from %d: recording attempts must not be a change", e.db.Revision(), len(want), rev)
	}
	a, err := two.Test(context.Background(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := deliveries(t, two, s.ID); len(d) != 6 || d[0].EventID != a.EventID || d[0].Node != "two" {
		t.Errorf("right after the test event, node two lists %d, newest %+v", len(d), d[0])
	}
	stopOne()
	stopTwo()
	three := streams.New(e.db, e.index, opts("three"))
	d = deliveries(t, three, s.ID)
	if len(d) != 6 || d[0].EventID != a.EventID || d[5].Node != "one" {
		t.Errorf("after both stopped, a new manager lists %d attempts (newest %+v), want all 6", len(d), d[0])
	}
}

// Attempts reach the store in batches, never one write per delivery: with
// a long flush interval none is written while delivering, and every one is
// written when the manager stops.
func TestAttemptsAreWrittenInBatchesAndOnStop(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	s := e.stream(t, rc, store.EventUserCreated)
	m := streams.New(e.db, e.index, streams.Options{Node: "one", AllowHTTP: true, LeaseTTL: 300 * time.Millisecond,
		FlushInterval: time.Hour, Log: zerolog.Nop()})
	stop := run(t, m)
	e.users(t, "u", 20)
	waitFor(t, "20 events", func() bool { return len(rc.accepted()) >= 20 })
	stored := func() []store.EventStreamAttempt {
		var got []store.EventStreamAttempt
		if err := e.db.View(func(r *store.ReadTx) (err error) { got, err = r.EventStreamAttempts(s.ID); return err }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	// The receiver counts an event before it answers; the sender records
	// the attempt once it has the answer.
	waitFor(t, "the delivering node to list its 20 unwritten attempts", func() bool { return len(deliveries(t, m, s.ID)) == 20 })
	if got := stored(); len(got) != 0 {
		t.Errorf("%d attempts written while delivering with an hour's flush interval, want none yet", len(got))
	}
	stop()
	if got := stored(); len(got) != 20 || got[0].Node != "one" {
		t.Errorf("after the stop, %d attempts in the store, want all 20", len(got))
	}
}
