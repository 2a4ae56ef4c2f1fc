package streams

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/rolecall/rolecall/store"
)

// Defaults of Options.
const (
	DefaultMinBackoff     = time.Second
	DefaultMaxBackoff     = 5 * time.Minute
	DefaultMaxRetryAfter  = time.Hour
	DefaultAttemptTimeout = 10 * time.Second
	DefaultDisableAfter   = 24 * time.Hour
	DefaultLeaseTTL       = 30 * time.Second
	// MaxResponseBytes is how much of a receiver's answer is read (and
	// discarded): enough to reuse the connection, never a flood.
	MaxResponseBytes = 64 << 10
	// DeliveriesKept is how many recent attempts a stream keeps (in the
	// store, whichever node made them).
	DeliveriesKept = store.EventStreamAttemptsKept
	// DefaultFlushInterval is how often a node writes its recent attempts
	// to the store: one raw write for every stream's batch, so an attempt
	// costs no commit of its own.
	DefaultFlushInterval = 500 * time.Millisecond
	// stopGrace is how long a stop waits for an attempt in flight.
	stopGrace = 2 * time.Second
	// pageSize is how many audit entries a stream reads at a time.
	pageSize = 100
)

// Waiter is what wakes deliveries: the role index's revision, which follows
// every node's commits (roles.Index).
type Waiter interface {
	WaitFor(ctx context.Context, rev uint64, timeout time.Duration) error
	Revision() uint64
}

// Options configure a Manager. Zero values take the defaults above.
type Options struct {
	// Node names this process in delivery leases; default: random.
	Node string
	// Source is the CloudEvents source of every event.
	Source string
	// AllowHTTP lets streams deliver to http:// endpoints and to addresses
	// that are not globally routable (local receivers, tests). Without it an
	// http:// stream's deliveries fail, and so does any attempt whose
	// endpoint resolves, when dialled, to a loopback, private, link-local
	// (cloud metadata), multicast or other special-purpose address (see
	// store.CheckWebhookAddress): a stream is no probe of the private
	// network, not even by DNS rebinding.
	AllowHTTP      bool
	MinBackoff     time.Duration
	MaxBackoff     time.Duration
	MaxRetryAfter  time.Duration // longest Retry-After honoured as given
	AttemptTimeout time.Duration
	DisableAfter   time.Duration
	LeaseTTL       time.Duration
	// FlushInterval: how often recent attempts are written to the store.
	FlushInterval time.Duration
	// Client sends the requests; default: one with AttemptTimeout-bound
	// dials and headers that follows no redirect, uses no proxy, and (unless
	// AllowHTTP) dials only globally routable addresses. A Client given here
	// is used as is: the address check is then its own business.
	Client *http.Client
	Log    zerolog.Logger
	Now    func() time.Time
}

// Attempt is one delivery attempt, as GET …/deliveries shows it; Node
// names the node that made it.
type Attempt = store.EventStreamAttempt

// Stats are a stream's delivery counters on this node.
type Stats struct {
	StreamID  string `json:"-"`
	Delivered uint64 `json:"delivered"` // events the receiver accepted
	Failed    uint64 `json:"failed"`    // failed attempts
	// LagEvents: audit entries past the cursor (subscribed or not).
	LagEvents uint64 `json:"lag_events"`
	// LagSeconds: age of the oldest event not yet delivered, 0 when caught up.
	LagSeconds float64 `json:"lag_seconds"`
	Delivering bool    `json:"delivering"` // this node holds the lease and delivers the stream
}

// Manager delivers every enabled stream. Its methods are safe for
// concurrent use.
type Manager struct {
	db   *store.DB
	wait Waiter
	opts Options

	mu    sync.Mutex
	state map[string]*streamState // by stream id, kept while the stream exists

	flushMu sync.Mutex // one flush at a time; see flush
}

type streamState struct {
	mu sync.Mutex
	// unflushed are this node's attempts not yet in the store, oldest
	// first; at most DeliveriesKept (older ones would fall out of the ring).
	unflushed    []Attempt
	delivered    uint64
	failed       uint64
	pendingSince time.Time // date of the event being delivered; zero when idle
	delivering   bool
}

// New returns a Manager over db; Run starts it.
func New(db *store.DB, w Waiter, opts Options) *Manager {
	if opts.Node == "" {
		var b [6]byte
		_, _ = crand.Read(b[:])
		opts.Node = "node-" + hex.EncodeToString(b[:])
	}
	if opts.Source == "" {
		opts.Source = "rolecall"
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.MinBackoff, DefaultMinBackoff)
	def(&opts.MaxBackoff, DefaultMaxBackoff)
	def(&opts.MaxRetryAfter, DefaultMaxRetryAfter)
	def(&opts.AttemptTimeout, DefaultAttemptTimeout)
	def(&opts.DisableAfter, DefaultDisableAfter)
	def(&opts.LeaseTTL, DefaultLeaseTTL)
	def(&opts.FlushInterval, DefaultFlushInterval)
	opts.MaxBackoff = max(opts.MaxBackoff, opts.MinBackoff)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Client == nil {
		opts.Client = newClient(opts.AttemptTimeout, !opts.AllowHTTP)
	}
	return &Manager{db: db, wait: w, opts: opts, state: map[string]*streamState{}}
}

// flush writes every stream's unflushed attempts to the store in one raw
// write. flushMu keeps Deliveries from reading the store before a batch is
// in it and the node's memory after the batch left it.
func (m *Manager) flush() {
	m.flushMu.Lock()
	defer m.flushMu.Unlock()
	m.mu.Lock()
	states := maps.Clone(m.state)
	m.mu.Unlock()
	batch := map[string][]Attempt{}
	for id, st := range states {
		st.mu.Lock()
		if len(st.unflushed) > 0 {
			batch[id] = slices.Clone(st.unflushed)
		}
		st.mu.Unlock()
	}
	if len(batch) == 0 {
		return
	}
	if err := m.db.RecordEventStreamAttempts(batch); err != nil {
		// Kept for the next flush (bounded by record).
		m.opts.Log.Warn().Err(err).Msg("event streams: recording recent deliveries failed")
		return
	}
	for id, done := range batch {
		st := states[id]
		st.mu.Lock()
		// Drop what was written: the attempts up to the last one written.
		// record may have dropped the oldest meanwhile (the queue is
		// bounded); if it dropped them all, everything queued is newer.
		last := done[len(done)-1]
		n := slices.IndexFunc(st.unflushed, func(a Attempt) bool { return a == last }) + 1
		st.unflushed = append(st.unflushed[:0], st.unflushed[n:]...)
		st.mu.Unlock()
	}
}

// flushLoop flushes every FlushInterval until ctx ends.
func (m *Manager) flushLoop(ctx context.Context) {
	t := time.NewTicker(m.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.flush()
		}
	}
}

// newClient is an HTTP client for webhooks: bounded dials, handshakes and
// header waits, a small idle pool, and no redirects (a 3xx is a failure:
// the endpoint is what the operator configured, nowhere else). With
// globalOnly every connection is checked where it is made, on the address
// resolved and about to be connected to, so a name that resolves public
// when the stream is created and private at delivery (DNS rebinding) gains
// nothing. No proxy: the check must see the receiver's address, not a
// proxy's (HTTPS_PROXY would hide the one and fail on the other).
func newClient(timeout time.Duration, globalOnly bool) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if globalOnly {
		dialer.ControlContext = refuseNonGlobal
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// AddressError is why a dial was refused: the endpoint resolved to an
// address that is not globally routable.
type AddressError struct {
	Addr netip.Addr
	Err  error // from store.CheckWebhookAddress
}

func (e *AddressError) Error() string {
	return "endpoint resolves to " + e.Err.Error() + "; deliveries go only to globally routable addresses (local receivers need --allow-http-webhooks)"
}

// refuseNonGlobal is a net.Dialer ControlContext: it runs for every address
// the dialer tries, after resolution and before the connection is made.
func refuseNonGlobal(_ context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &AddressError{Err: fmt.Errorf("an address that cannot be checked (%q)", address)}
	}
	if err := store.CheckWebhookAddress(ap.Addr()); err != nil {
		return &AddressError{Addr: ap.Addr(), Err: err}
	}
	return nil
}

// Node is the name this Manager holds leases under.
func (m *Manager) Node() string { return m.opts.Node }

func (m *Manager) stream(id string) *streamState {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.state[id]
	if st == nil {
		st = &streamState{}
		m.state[id] = st
	}
	return st
}

// worker is a running stream goroutine.
type worker struct {
	version time.Time // the stream's UpdatedAt when started
	cancel  context.CancelFunc
	done    chan struct{}
}

// Run delivers until ctx ends, then stops every stream, writes its recent
// attempts to the store and releases its leases. It re-reads the streams
// whenever the revision advances (a stream created, changed or deleted on
// any node) and every LeaseTTL/3 (to take over streams whose holder died).
// While it runs, recent attempts are written every FlushInterval.
func (m *Manager) Run(ctx context.Context) {
	workers := map[string]*worker{}
	flushCtx, stopFlushing := context.WithCancel(context.WithoutCancel(ctx))
	flushDone := make(chan struct{})
	go func() { defer close(flushDone); m.flushLoop(flushCtx) }()
	defer func() {
		for _, w := range workers {
			w.cancel()
			<-w.done
		}
		stopFlushing()
		<-flushDone
		m.flush()
		for id := range workers {
			_ = m.db.ReleaseEventStreamLease(id, m.opts.Node)
		}
	}()
	for ctx.Err() == nil {
		rev := m.wait.Revision()
		var list []store.EventStream
		err := m.db.View(func(r *store.ReadTx) error {
			var err error
			list, err = r.EventStreams()
			return err
		})
		if err != nil {
			m.opts.Log.Warn().Err(err).Msg("event streams: reading the streams failed")
		}
		live := map[string]bool{}
		for _, s := range list {
			if err != nil {
				break
			}
			live[s.ID] = true
			w := workers[s.ID]
			if w != nil && (s.Status != store.EventStreamEnabled || !w.version.Equal(s.UpdatedAt)) {
				w.cancel()
				<-w.done
				_ = m.db.ReleaseEventStreamLease(s.ID, m.opts.Node)
				delete(workers, s.ID)
				w = nil
			}
			if w == nil && s.Status == store.EventStreamEnabled {
				wctx, cancel := context.WithCancel(ctx)
				w = &worker{version: s.UpdatedAt, cancel: cancel, done: make(chan struct{})}
				workers[s.ID] = w
				go func() {
					defer close(w.done)
					m.work(wctx, s)
				}()
			}
		}
		if err == nil {
			for id, w := range workers {
				if !live[id] {
					w.cancel()
					<-w.done
					delete(workers, id)
				}
			}
			m.mu.Lock()
			for id := range m.state {
				if !live[id] {
					delete(m.state, id)
				}
			}
			m.mu.Unlock()
		}
		_ = m.wait.WaitFor(ctx, rev+1, m.opts.LeaseTTL/3)
	}
}

// errStop ends a stream's worker: the stream was disabled, deleted, or its
// lease lost.
var errStop = errors.New("streams: stop")

// work delivers one stream until ctx ends or the stream stops.
func (m *Manager) work(ctx context.Context, s store.EventStream) {
	st := m.stream(s.ID)
	log := m.opts.Log.With().Str("event_stream_id", s.ID).Logger()
	defer func() {
		st.mu.Lock()
		st.delivering, st.pendingSince = false, time.Time{}
		st.mu.Unlock()
	}()
	var token, secret string
	if err := m.db.View(func(r *store.ReadTx) error {
		var err error
		token, secret, err = r.EventStreamCredentials(s.ID)
		return err
	}); err != nil {
		return
	}
	d := &delivery{m: m, s: s, st: st, token: token, secret: secret, log: log}
	for ctx.Err() == nil {
		held, until, err := m.db.AcquireEventStreamLease(s.ID, m.opts.Node, m.opts.LeaseTTL)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return
		case err != nil:
			log.Warn().Err(err).Msg("event stream: taking the delivery lease failed")
			sleep(ctx, time.Second)
			continue
		case !held:
			st.mu.Lock()
			st.delivering = false
			st.mu.Unlock()
			// Another node delivers; look again when its lease would expire.
			sleep(ctx, time.Until(until)+time.Duration(rand.Int64N(int64(m.opts.LeaseTTL/10)+1)))
			continue
		}
		st.mu.Lock()
		st.delivering = true
		st.mu.Unlock()
		d.leaseUntil = until
		err = d.run(ctx)
		if errors.Is(err, store.ErrLeaseLost) {
			log.Info().Msg("event stream: another node took over delivery")
			continue
		}
		if err != nil && ctx.Err() == nil {
			if errors.Is(err, errStop) || errors.Is(err, store.ErrNotFound) {
				return
			}
			log.Warn().Err(err).Msg("event stream: delivery failed; retrying")
			sleep(ctx, time.Second)
		}
	}
}

// delivery is one stream's delivery state while its node holds the lease.
type delivery struct {
	m             *Manager
	s             store.EventStream
	st            *streamState
	token, secret string
	log           zerolog.Logger
	leaseUntil    time.Time
	failingSince  time.Time
}

// renew keeps the lease: renewed once a third of it has passed.
func (d *delivery) renew() error {
	ttl := d.m.opts.LeaseTTL
	if time.Until(d.leaseUntil) > ttl*2/3 {
		return nil
	}
	held, until, err := d.m.db.AcquireEventStreamLease(d.s.ID, d.m.opts.Node, ttl)
	if err != nil {
		return err
	}
	if !held {
		return store.ErrLeaseLost
	}
	d.leaseUntil = until
	return nil
}

// run delivers pages of the log from the cursor, waiting for new entries
// when caught up, until an error or ctx ends.
func (d *delivery) run(ctx context.Context) error {
	state, err := d.m.db.EventStreamState(d.s.ID)
	if err != nil {
		return err
	}
	pos := state.Position
	d.failingSince = state.FailingSince
	for ctx.Err() == nil {
		if err := d.renew(); err != nil {
			return err
		}
		var entries []store.AuditEntry
		var next store.FeedPosition
		if err := d.m.db.View(func(r *store.ReadTx) error {
			var err error
			entries, next, err = r.AuditFeed(pos, pageSize)
			return err
		}); err != nil {
			return err
		}
		if len(entries) == 0 {
			// Caught up: wait for a newer revision, waking in time to renew.
			_ = d.m.wait.WaitFor(ctx, next.Revision+1, d.m.opts.LeaseTTL/3)
			continue
		}
		skipped := false
		for i, e := range entries {
			at := next
			if i+1 < len(entries) {
				at = pos.Past(entries[:i+1], &entries[i+1])
			}
			if !d.s.Subscribed(e.Type) {
				skipped = true
				continue
			}
			if err := d.deliver(ctx, e); err != nil {
				if skipped && i > 0 {
					// Keep what was passed over before the failure.
					_ = d.m.db.AdvanceEventStream(d.s.ID, d.m.opts.Node, pos.Past(entries[:i], &entries[i]))
				}
				return err
			}
			if err := d.m.db.AdvanceEventStream(d.s.ID, d.m.opts.Node, at); err != nil {
				return err
			}
			skipped = false
		}
		if skipped {
			if err := d.m.db.AdvanceEventStream(d.s.ID, d.m.opts.Node, next); err != nil {
				return err
			}
		}
		pos = next
	}
	return ctx.Err()
}

// deliver sends one event until the receiver accepts it, the stream is
// disabled for failing too long, or ctx ends.
func (d *delivery) deliver(ctx context.Context, e store.AuditEntry) error {
	body, err := json.Marshal(NewCloudEvent(d.m.opts.Source, e))
	if err != nil {
		return err
	}
	d.st.mu.Lock()
	d.st.pendingSince = e.Date
	d.st.mu.Unlock()
	defer func() {
		d.st.mu.Lock()
		d.st.pendingSince = time.Time{}
		d.st.mu.Unlock()
	}()
	opts := &d.m.opts
	for n := 1; ; n++ {
		if err := d.renew(); err != nil {
			return err
		}
		a, retryAfter := d.m.send(ctx, d.s, d.token, d.secret, e.ID, e.Type, body)
		if !a.OK && ctx.Err() != nil {
			return ctx.Err() // cut short by a stop, not the receiver's fault
		}
		a.Attempt = n
		d.m.record(d.st, a)
		if a.OK {
			d.failingSince = time.Time{}
			return nil
		}
		d.log.Warn().Str("event_id", e.ID).Int("attempt", n).Int("status", a.StatusCode).Str("error", a.Error).Msg("event stream: delivery attempt failed")
		now := opts.Now()
		if d.failingSince.IsZero() {
			d.failingSince = now
			if err := d.m.db.MarkEventStreamFailing(d.s.ID, opts.Node, now); err != nil {
				return err
			}
		}
		if now.Sub(d.failingSince) >= opts.DisableAfter {
			return d.disable(ctx, a)
		}
		wait := backoff(opts.MinBackoff, opts.MaxBackoff, n)
		if retryAfter > 0 {
			wait = min(retryAfter, opts.MaxRetryAfter)
		}
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// disable marks the stream disabled with why: a logical change, so it has an
// audit entry (event_stream.updated) and every node sees it.
func (d *delivery) disable(ctx context.Context, last Attempt) error {
	why := last.Error
	if why == "" {
		why = "HTTP " + strconv.Itoa(last.StatusCode)
	}
	reason := fmt.Sprintf("deliveries failed for %s (last: %s)", d.m.opts.DisableAfter, why)
	status := store.EventStreamDisabled
	_, err := d.m.db.Update(ctx, store.Origin{Actor: store.Actor{Type: store.ActorSystem, ID: "event_streams"}, Channel: store.ChannelSystem},
		func(tx *store.Tx) error {
			_, err := tx.UpdateEventStream(d.s.ID, store.EventStreamSpec{Status: &status, StatusReason: reason})
			return err
		})
	if err != nil {
		return err
	}
	d.log.Warn().Str("reason", reason).Msg("event stream disabled")
	return errStop
}

// backoff is full jitter: uniform in [0, min(max, min·2^(n-1))], at least a
// millisecond.
func backoff(lo, hi time.Duration, n int) time.Duration {
	ceil := hi
	if n-1 < 40 {
		ceil = min(hi, lo<<(n-1))
	}
	return max(time.Millisecond, time.Duration(rand.Int64N(int64(ceil)+1)))
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// send makes one attempt. retryAfter is the receiver's Retry-After on a
// 429 or 503 (0: none).
func (m *Manager) send(ctx context.Context, s store.EventStream, token, secret, eventID, eventType string, body []byte) (a Attempt, retryAfter time.Duration) {
	start := m.opts.Now()
	a = Attempt{Time: start.UTC(), EventID: eventID, EventType: eventType}
	defer func() { a.LatencyMS = float64(m.opts.Now().Sub(start).Microseconds()) / 1000 }()
	if err := store.ValidateEventStreamEndpoint(s.Endpoint, m.opts.AllowHTTP); err != nil {
		a.Error = err.Error()
		return a, 0
	}
	// A stop lets an attempt already on the wire finish for a moment: cut
	// off after the receiver has accepted, the event would be sent again
	// by whichever node delivers next.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.opts.AttemptTimeout)
	defer cancel()
	stopAfter := context.AfterFunc(ctx, func() { time.AfterFunc(stopGrace, cancel) })
	defer stopAfter()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, s.Endpoint, bytes.NewReader(body))
	if err != nil {
		a.Error = "cannot build the request"
		return a, 0
	}
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set("User-Agent", "rolecall-event-streams")
	req.Header.Set(SignatureHeader, Sign(secret, m.opts.Now(), body))
	req.Header.Set("Ce-Id", eventID) // lets a receiver deduplicate before parsing
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := m.opts.Client.Do(req)
	if err != nil {
		a.Error = describe(err, actx)
		return a, 0
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxResponseBytes))
	resp.Body.Close()
	a.StatusCode = resp.StatusCode
	a.OK = resp.StatusCode >= 200 && resp.StatusCode < 300
	switch {
	case a.OK:
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		a.Error = "redirect not followed"
	default:
		a.Error = "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), m.opts.Now())
	}
	return a, retryAfter
}

// describe says why a request failed without the URL (which the operator
// knows) or anything the receiver sent.
func describe(err error, ctx context.Context) string {
	var ae *AddressError
	if errors.As(err, &ae) {
		return ae.Error()
	}
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return "connection failed: " + op.Err.Error()
	}
	return "request failed"
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, 1<<30)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// record counts an attempt and queues it for the store (the next flush).
func (m *Manager) record(st *streamState, a Attempt) {
	a.Time, a.Node = a.Time.UTC(), m.opts.Node
	st.mu.Lock()
	defer st.mu.Unlock()
	if a.OK {
		st.delivered++
	} else {
		st.failed++
	}
	if len(st.unflushed) == DeliveriesKept {
		st.unflushed = append(st.unflushed[:0], st.unflushed[1:]...)
	}
	st.unflushed = append(st.unflushed, a)
}

// Deliveries returns a stream's recent attempts, newest first (at most
// DeliveriesKept): those every node recorded in the store, and this node's
// not yet written. Errors: store.ErrNotFound.
func (m *Manager) Deliveries(id string) ([]Attempt, error) {
	m.flushMu.Lock()
	defer m.flushMu.Unlock()
	var out []Attempt
	if err := m.db.View(func(r *store.ReadTx) (err error) { out, err = r.EventStreamAttempts(id); return err }); err != nil {
		return nil, err
	}
	m.mu.Lock()
	st := m.state[id]
	m.mu.Unlock()
	if st != nil {
		st.mu.Lock()
		mine := slices.Clone(st.unflushed)
		st.mu.Unlock()
		slices.Reverse(mine)
		out = append(mine, out...)
		slices.SortStableFunc(out, func(x, y Attempt) int { return y.Time.Compare(x.Time) })
	}
	return out[:min(len(out), DeliveriesKept)], nil
}

// Test sends a test event (type store.EventStreamTestEvent, a fresh id) to
// a stream now, once, outside its cursor and whatever its status, and
// returns the attempt. ErrNotFound when the stream does not exist.
func (m *Manager) Test(ctx context.Context, id string) (Attempt, error) {
	var s store.EventStream
	var token, secret string
	var rev uint64
	err := m.db.View(func(r *store.ReadTx) error {
		var err error
		if s, err = r.EventStream(id); err != nil {
			return err
		}
		rev = r.Revision()
		token, secret, err = r.EventStreamCredentials(id)
		return err
	})
	if err != nil {
		return Attempt{}, err
	}
	var b [8]byte
	_, _ = crand.Read(b[:])
	e := store.AuditEntry{ID: "test_" + hex.EncodeToString(b[:]), Date: m.opts.Now().UTC(), Type: store.EventStreamTestEvent,
		Actor: store.Actor{Type: store.ActorSystem, ID: "event_streams"}, Channel: store.ChannelSystem,
		Target: store.Target{Type: "event_stream", ID: s.ID}, Revision: rev}
	body, err := json.Marshal(NewCloudEvent(m.opts.Source, e))
	if err != nil {
		return Attempt{}, err
	}
	a, _ := m.send(ctx, s, token, secret, e.ID, e.Type, body)
	a.Attempt = 1
	m.record(m.stream(id), a)
	return a, nil
}

// Stats returns every stream's counters on this node, by stream id order.
func (m *Manager) Stats() []Stats {
	var list []store.EventStream
	var head uint64
	_ = m.db.View(func(r *store.ReadTx) error {
		var err error
		list, err = r.EventStreams()
		head = r.AuditHead()
		return err
	})
	out := make([]Stats, 0, len(list))
	for _, s := range list {
		out = append(out, m.stats(s.ID, head))
	}
	return out
}

// StreamStats returns one stream's counters on this node; the lag in
// events comes from the durable cursor, so every node answers it alike.
func (m *Manager) StreamStats(id string) Stats {
	var head uint64
	_ = m.db.View(func(r *store.ReadTx) error { head = r.AuditHead(); return nil })
	return m.stats(id, head)
}

func (m *Manager) stats(id string, head uint64) Stats {
	state, _ := m.db.EventStreamState(id)
	now := m.opts.Now()
	st := m.stream(id)
	st.mu.Lock()
	x := Stats{StreamID: id, Delivered: st.delivered, Failed: st.failed, Delivering: st.delivering}
	if !st.pendingSince.IsZero() {
		x.LagSeconds = now.Sub(st.pendingSince).Seconds()
	}
	st.mu.Unlock()
	if after := state.Position.After; head > after {
		x.LagEvents = head - after
	}
	return x
}
