package store

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Event streams push the audit log to webhooks (Auth0's Event Streams). The
// audit log, written in each change's own transaction, is the outbox: a
// stream is a record (what to send where) plus a durable cursor into the
// log (a FeedPosition, as the change feed uses). The delivery itself lives
// above the store (package roles/streams); the store keeps:
//
//   - the stream records: created, updated, deleted and their secrets
//     rotated by logical writes (Tx), each a revision with an audit entry
//     (event_stream.created/updated/deleted) that never shows the bearer
//     token or the signing secret;
//   - per stream, the cursor and the time delivery started failing, and a
//     delivery lease (holder node, expiry) so that on a shared engine one
//     node at a time delivers a stream. These are bookkeeping, written by
//     raw engine writes (DB methods below) that bump no revision and write
//     no audit entry: otherwise every delivery would itself be an event.
//
// The bearer token is an outbound credential (Rolecall presents it to the
// receiver), so it is stored as given, not hashed; the signing secret too,
// since Rolecall signs with it. Neither leaves the store except through
// EventStreamCredentials, for the deliverer. Both travel in exports
// (backups), as the rest of the store's secrets do.
//
//   - per stream, its recent delivery attempts (a ring of the last
//     EventStreamAttemptsKept, whichever node made them), so that every
//     node answers GET …/deliveries alike and a restart keeps them. The
//     deliverer writes them in batches (RecordEventStreamAttempts), raw as
//     above, so an attempt costs no commit of its own.
//
// Everything lives in one bucket, keyed by a one-byte kind then the id:
// 's'+id the record, 'c'+id the cursor, 'l'+id the lease, 'd'+id the
// attempts ring (one JSON array, oldest first).

// PrefixEventStream is the id prefix of event streams (Auth0's "est_").
const PrefixEventStream = "est"

// Event stream statuses.
const (
	EventStreamEnabled  = "enabled"
	EventStreamDisabled = "disabled"
)

// Event stream bounds.
const (
	MaxEventStreams            = 20
	MaxEventStreamName         = 128
	MaxEventStreamEndpoint     = 2048
	MaxEventStreamToken        = 4096
	MaxEventStreamStatusReason = 512
)

// EventStreamTestEvent is the type of the test event a stream can be sent on
// demand; it is never in the audit log.
const EventStreamTestEvent = "event_stream.test"

var bucketEventStreams = []byte("event_streams") // 's'|estID → stream, 'c'|estID → cursor, 'l'|estID → lease, 'd'|estID → attempts

// EventStream is a stream's configuration, without its secrets.
type EventStream struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Subscriptions []string `json:"subscriptions"`
	Endpoint      string   `json:"endpoint"`
	// AuthMethod is "bearer" when a token is presented, else "".
	AuthMethod   string    `json:"auth_method,omitempty"`
	Status       string    `json:"status"`
	StatusReason string    `json:"status_reason,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Subscribed reports whether the stream delivers events of type typ.
func (s EventStream) Subscribed(typ string) bool { return slices.Contains(s.Subscriptions, typ) }

type eventStreamRecord struct {
	EventStream
	Token  string `json:"token,omitempty"`
	Secret string `json:"secret"`
}

// EventStreamSpec is what a create or update sets. On update, a nil field
// (an empty Subscriptions) is left as it was; a Token of "" removes the
// authorization.
type EventStreamSpec struct {
	Name          *string
	Subscriptions []string
	Endpoint      *string
	Token         *string
	Status        *string
	// StatusReason goes with Status; enabling clears it.
	StatusReason string
}

func streamKey(kind byte, id string) []byte { return append([]byte{kind}, id...) }

// ValidateEventStreamEndpoint checks a webhook URL: absolute http(s) with a
// host, no user information, no fragment, at most MaxEventStreamEndpoint
// bytes; http only when allowHTTP. Without allowHTTP (the server's
// --allow-http-webhooks, meant for local receivers) a host that is an IP
// literal must also be globally routable (see CheckWebhookAddress): a
// stream must not turn the server into a probe of its private network.
// Host names are checked where it counts, on the address dialled (package
// roles/streams). The error (ErrInvalid) says which rule.
func ValidateEventStreamEndpoint(raw string, allowHTTP bool) error {
	if raw == "" || len(raw) > MaxEventStreamEndpoint {
		return errorf(ErrInvalid, "the webhook endpoint must be a URL of 1 to %d bytes", MaxEventStreamEndpoint)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return errorf(ErrInvalid, "the webhook endpoint %q is not an absolute URL", raw)
	}
	switch {
	case u.User != nil:
		return errorf(ErrInvalid, "the webhook endpoint must not hold user information; use webhook_authorization")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errorf(ErrInvalid, "the webhook endpoint must not have a fragment")
	case u.Scheme == "https":
	case u.Scheme == "http" && allowHTTP:
	case u.Scheme == "http":
		return errorf(ErrInvalid, "the webhook endpoint must be https:// (http:// only when the server runs with --allow-http-webhooks)")
	default:
		return errorf(ErrInvalid, "the webhook endpoint must be https://")
	}
	if allowHTTP {
		return nil
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
		if err := CheckWebhookAddress(ip); err != nil {
			return errorf(ErrInvalid, "the webhook endpoint is %s", err)
		}
	}
	return nil
}

// Special-purpose ranges that netip's predicates do not name and that are
// not globally routable (IANA IPv4/IPv6 Special-Purpose Address Registries).
var nonGlobalPrefixes = []struct {
	prefix netip.Prefix
	why    string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "a \"this network\" address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved or broadcast address"},
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible address"},
	{netip.MustParsePrefix("100::/64"), "a discard address"},
	{netip.MustParsePrefix("2001::/23"), "an IETF protocol address (Teredo included)"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
}

var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")   // embeds an IPv4 address in its last 32 bits
	sixToFour   = netip.MustParsePrefix("2002::/16")      // embeds an IPv4 address in bits 16–47
	metadataV4  = netip.MustParseAddr("169.254.169.254")  // AWS, GCP, Azure, OpenStack…
	metadataV6  = netip.MustParseAddr("fd00:ec2::254")    // AWS over IPv6
	localNAT64  = netip.MustParsePrefix("64:ff9b:1::/48") // local-use NAT64: private by definition
)

// CheckWebhookAddress returns nil when ip is globally routable, and else an
// error saying what it is ("a loopback address 127.0.0.1"): loopback,
// private (RFC 1918, fc00::/7), link-local (169.254.0.0/16, fe80::/10,
// cloud metadata), unspecified, multicast, carrier-grade NAT, documentation
// and other special-purpose ranges. IPv4-mapped IPv6 addresses, NAT64 and
// 6to4 addresses are judged by the IPv4 address they carry. Webhook
// deliveries refuse such addresses unless the server allows local
// receivers (--allow-http-webhooks).
func CheckWebhookAddress(ip netip.Addr) error {
	switch why, in := nonGlobal(ip); {
	case why == "":
		return nil
	case in.IsValid():
		return fmt.Errorf("%s %s (in %s)", why, ip, in)
	default:
		return fmt.Errorf("%s %s", why, ip)
	}
}

// nonGlobal says why ip is not globally routable, and the special-purpose
// range it is in if netip names none; why is "" when ip is global.
func nonGlobal(ip netip.Addr) (why string, in netip.Prefix) {
	if !ip.IsValid() {
		return "an invalid address", netip.Prefix{}
	}
	ip = ip.WithZone("").Unmap()
	switch {
	case ip == metadataV4 || ip == metadataV6:
		return "a cloud metadata address", netip.Prefix{}
	case ip.IsUnspecified():
		return "an unspecified address", netip.Prefix{}
	case ip.IsLoopback():
		return "a loopback address", netip.Prefix{}
	case ip.IsPrivate():
		return "a private address", netip.Prefix{}
	case ip.IsLinkLocalUnicast():
		return "a link-local address", netip.Prefix{}
	case ip.IsMulticast():
		return "a multicast address", netip.Prefix{}
	case localNAT64.Contains(ip):
		return "a local-use NAT64 address", localNAT64
	case nat64Prefix.Contains(ip):
		b := ip.As16()
		if why, in := nonGlobal(netip.AddrFrom4([4]byte(b[12:16]))); why != "" {
			return why + " behind NAT64", in
		}
		return "", netip.Prefix{}
	case sixToFour.Contains(ip):
		b := ip.As16()
		if why, in := nonGlobal(netip.AddrFrom4([4]byte(b[2:6]))); why != "" {
			return why + " behind 6to4", in
		}
		return "", netip.Prefix{}
	}
	for _, p := range nonGlobalPrefixes {
		if p.prefix.Contains(ip) {
			return p.why, p.prefix
		}
	}
	if !ip.IsGlobalUnicast() {
		return "a non-global address", netip.Prefix{}
	}
	return "", netip.Prefix{}
}

func validateStreamName(name string) error {
	if name == "" || len(name) > MaxEventStreamName {
		return errorf(ErrInvalid, "an event stream name must be 1 to %d bytes", MaxEventStreamName)
	}
	return nil
}

// normaliseSubscriptions checks every type is an audit event type and
// drops repeats, keeping the order given.
func normaliseSubscriptions(types []string) ([]string, error) {
	if len(types) == 0 {
		return nil, errorf(ErrInvalid, "an event stream needs at least one subscription")
	}
	if len(types) > len(EventTypes) {
		return nil, errorf(ErrInvalid, "an event stream has at most %d subscriptions (one per event type)", len(EventTypes))
	}
	out := make([]string, 0, len(types))
	for _, t := range types {
		if !slices.Contains(EventTypes, t) {
			return nil, errorf(ErrInvalid, "unknown event type %q in subscriptions", t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

func validateToken(tok string) error {
	if len(tok) > MaxEventStreamToken || strings.ContainsAny(tok, "\r\n") {
		return errorf(ErrInvalid, "the webhook token must be at most %d bytes, on one line", MaxEventStreamToken)
	}
	return nil
}

// newStreamSecret returns a signing secret: "whsec_" and 32 random bytes.
func newStreamSecret() string {
	var raw [secretBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		panic("store: crypto/rand failed: " + err.Error())
	}
	return "whsec_" + base64.RawURLEncoding.EncodeToString(raw[:])
}

// CreateEventStream creates an enabled stream and returns it with its
// signing secret (the only time it is shown). Name, Subscriptions and
// Endpoint are required; the endpoint is checked with http allowed (the
// layer above decides whether it is). Its cursor starts after this write:
// it delivers what happens from now on. Errors: ErrInvalid for a bad field
// or more than MaxEventStreams streams.
func (tx *Tx) CreateEventStream(spec EventStreamSpec) (EventStream, string, error) {
	if spec.Name == nil || spec.Endpoint == nil {
		return EventStream{}, "", errorf(ErrInvalid, "an event stream needs a name and a webhook endpoint")
	}
	if err := validateStreamName(*spec.Name); err != nil {
		return EventStream{}, "", err
	}
	subs, err := normaliseSubscriptions(spec.Subscriptions)
	if err != nil {
		return EventStream{}, "", err
	}
	if err := ValidateEventStreamEndpoint(*spec.Endpoint, true); err != nil {
		return EventStream{}, "", err
	}
	n := 0
	tx.scanPrefix(bucketEventStreams, []byte{'s'}, func(_, _ []byte) bool { n++; return true })
	if n >= MaxEventStreams {
		return EventStream{}, "", errorf(ErrInvalid, "at most %d event streams may exist", MaxEventStreams)
	}
	rec := eventStreamRecord{EventStream: EventStream{
		Name: *spec.Name, Subscriptions: subs, Endpoint: *spec.Endpoint, Status: EventStreamEnabled,
		CreatedAt: tx.now, UpdatedAt: tx.now,
	}, Secret: newStreamSecret()}
	if spec.Token != nil && *spec.Token != "" {
		if err := validateToken(*spec.Token); err != nil {
			return EventStream{}, "", err
		}
		rec.Token, rec.AuthMethod = *spec.Token, "bearer"
	}
	if spec.Status != nil && *spec.Status != EventStreamEnabled {
		return EventStream{}, "", errorf(ErrInvalid, "a new event stream is enabled")
	}
	for {
		rec.ID = NewID(PrefixEventStream)
		if !tx.has(bucketEventStreams, streamKey('s', rec.ID)) {
			break
		}
	}
	tx.putJSON(bucketEventStreams, streamKey('s', rec.ID), rec)
	tx.audit(EventEventStreamCreated, Target{"event_stream", rec.ID}, nil, rec.EventStream)
	// Past this write's entries: the entry just written is the last so far.
	tx.putJSON(bucketEventStreams, streamKey('c', rec.ID), streamCursor{Position: FeedPosition{Revision: tx.rev, After: tx.nextAudit - 1}})
	return rec.EventStream, rec.Secret, tx.err
}

func (r *ReadTx) eventStream(id string) (eventStreamRecord, error) {
	var rec eventStreamRecord
	if ValidID(PrefixEventStream, id) {
		if _, err := r.getJSON(bucketEventStreams, streamKey('s', id), &rec); err != nil {
			return rec, err
		}
	}
	if rec.ID == "" {
		return rec, notFound("event stream", id)
	}
	return rec, nil
}

// EventStream returns a stream, without secrets (ErrNotFound).
func (r *ReadTx) EventStream(id string) (EventStream, error) {
	rec, err := r.eventStream(id)
	return rec.EventStream, err
}

// EventStreams lists every stream in creation order, without secrets.
func (r *ReadTx) EventStreams() ([]EventStream, error) {
	var out []EventStream
	var ferr error
	r.scanPrefix(bucketEventStreams, []byte{'s'}, func(_, v []byte) bool {
		var rec eventStreamRecord
		if ferr = json.Unmarshal(v, &rec); ferr != nil {
			return false
		}
		out = append(out, rec.EventStream)
		return true
	})
	return out, ferr
}

// EventStreamCredentials returns a stream's bearer token ("" for none) and
// signing secret: for the deliverer only, never for an answer or a log.
func (r *ReadTx) EventStreamCredentials(id string) (token, secret string, err error) {
	rec, err := r.eventStream(id)
	return rec.Token, rec.Secret, err
}

// UpdateEventStream changes the fields spec sets. Disabling keeps the
// cursor; enabling resumes from it and clears the failure bookkeeping.
// Errors: ErrNotFound, ErrInvalid.
func (tx *Tx) UpdateEventStream(id string, spec EventStreamSpec) (EventStream, error) {
	rec, err := tx.eventStream(id)
	if err != nil {
		return EventStream{}, err
	}
	before := rec.EventStream
	if spec.Name != nil {
		if err := validateStreamName(*spec.Name); err != nil {
			return EventStream{}, err
		}
		rec.Name = *spec.Name
	}
	if spec.Subscriptions != nil {
		if rec.Subscriptions, err = normaliseSubscriptions(spec.Subscriptions); err != nil {
			return EventStream{}, err
		}
	}
	if spec.Endpoint != nil {
		if err := ValidateEventStreamEndpoint(*spec.Endpoint, true); err != nil {
			return EventStream{}, err
		}
		rec.Endpoint = *spec.Endpoint
	}
	if spec.Token != nil {
		if err := validateToken(*spec.Token); err != nil {
			return EventStream{}, err
		}
		rec.Token, rec.AuthMethod = *spec.Token, ""
		if rec.Token != "" {
			rec.AuthMethod = "bearer"
		}
	}
	if spec.Status != nil {
		switch *spec.Status {
		case EventStreamEnabled:
			if rec.Status != EventStreamEnabled {
				tx.resetStreamFailure(id)
			}
			rec.Status, rec.StatusReason = EventStreamEnabled, ""
		case EventStreamDisabled:
			if len(spec.StatusReason) > MaxEventStreamStatusReason {
				spec.StatusReason = spec.StatusReason[:MaxEventStreamStatusReason]
			}
			rec.Status, rec.StatusReason = EventStreamDisabled, spec.StatusReason
		default:
			return EventStream{}, errorf(ErrInvalid, "status must be %q or %q", EventStreamEnabled, EventStreamDisabled)
		}
	}
	changed := !streamsEqual(before, rec.EventStream) || spec.Token != nil
	if !changed {
		return rec.EventStream, tx.err
	}
	rec.UpdatedAt = tx.now
	tx.putJSON(bucketEventStreams, streamKey('s', id), rec)
	tx.audit(EventEventStreamUpdated, Target{"event_stream", id}, before, rec.EventStream)
	return rec.EventStream, tx.err
}

func streamsEqual(a, b EventStream) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// resetStreamFailure clears when delivery started failing, so that a
// re-enabled stream gets its whole disable-after time again.
func (tx *Tx) resetStreamFailure(id string) {
	var cur streamCursor
	if _, err := tx.getJSON(bucketEventStreams, streamKey('c', id), &cur); err != nil {
		tx.err = err
		return
	}
	if !cur.FailingSince.IsZero() {
		cur.FailingSince = time.Time{}
		tx.putJSON(bucketEventStreams, streamKey('c', id), cur)
	}
}

// RotateEventStreamSecret gives a stream a new signing secret, returned
// (the only time it is shown); the old one stops signing at once.
func (tx *Tx) RotateEventStreamSecret(id string) (EventStream, string, error) {
	rec, err := tx.eventStream(id)
	if err != nil {
		return EventStream{}, "", err
	}
	before := rec.EventStream
	rec.Secret = newStreamSecret()
	rec.UpdatedAt = tx.now
	tx.putJSON(bucketEventStreams, streamKey('s', id), rec)
	tx.audit(EventEventStreamUpdated, Target{"event_stream", id}, before, rec.EventStream)
	return rec.EventStream, rec.Secret, tx.err
}

// DeleteEventStream deletes a stream with its cursor, lease and recent
// attempts (ErrNotFound).
func (tx *Tx) DeleteEventStream(id string) error {
	rec, err := tx.eventStream(id)
	if err != nil {
		return err
	}
	tx.del(bucketEventStreams, streamKey('s', id))
	tx.del(bucketEventStreams, streamKey('c', id))
	tx.del(bucketEventStreams, streamKey('l', id))
	tx.del(bucketEventStreams, streamKey('d', id))
	tx.audit(EventEventStreamDeleted, Target{"event_stream", id}, rec.EventStream, nil)
	return tx.err
}

// AuditHead is the id of the newest audit entry (0: none), for lag metrics.
func (r *ReadTx) AuditHead() uint64 {
	if k, v := r.bucket(bucketAudit).Cursor().Last(); k != nil {
		return readU64(k) + uint64(auditRecordLen(v)) - 1
	}
	return 0
}

// streamCursor is a stream's delivery bookkeeping.
type streamCursor struct {
	Position     FeedPosition `json:"position"`
	FailingSince time.Time    `json:"failing_since,omitzero"`
}

// streamLease says which node delivers a stream, until when. Opened is
// the opening of the DB that wrote it (see DB.opened): on an engine only
// one process opens (bbolt), a lease from an earlier opening belongs to a
// process that is gone (killed, say), so it is not waited for.
type streamLease struct {
	Node    string    `json:"node"`
	Expires time.Time `json:"expires"`
	Opened  string    `json:"opened,omitempty"`
}

// live reports whether the lease binds db's callers.
func (l streamLease) live(db *DB, now time.Time) bool {
	return now.Before(l.Expires) && (db.shared != nil || l.Opened == db.opened)
}

// EventStreamState is a stream's delivery bookkeeping as the deliverer sees it.
type EventStreamState struct {
	// Position: every entry up to it was delivered (or was not subscribed).
	Position FeedPosition
	// FailingSince is when delivery of the entry after Position started
	// failing; zero while it succeeds.
	FailingSince time.Time
}

// ErrLeaseLost: a node wrote a stream's bookkeeping without holding its
// delivery lease (another node took it over); it must stop delivering.
var ErrLeaseLost = errors.New("store: the event stream's delivery lease is held by another node")

// EventStreamState reads a stream's cursor (ErrNotFound when the stream is gone).
func (db *DB) EventStreamState(id string) (EventStreamState, error) {
	var cur streamCursor
	err := db.View(func(r *ReadTx) error {
		if _, err := r.eventStream(id); err != nil {
			return err
		}
		_, err := r.getJSON(bucketEventStreams, streamKey('c', id), &cur)
		return err
	})
	return EventStreamState(cur), err
}

// updateStream runs fn on a stream's cursor in a raw write (no revision, no
// audit entry), when the stream exists and node holds its lease (or no one
// does).
func (db *DB) updateStream(id, node string, fn func(*streamCursor)) error {
	return db.engineUpdate(func(btx EngineTx) error {
		b := btx.Bucket(bucketEventStreams)
		if b.Get(streamKey('s', id)) == nil {
			return notFound("event stream", id)
		}
		if raw := b.Get(streamKey('l', id)); raw != nil {
			var l streamLease
			if err := json.Unmarshal(raw, &l); err != nil {
				return err
			}
			if l.Node != node && (db.shared != nil || l.Opened == db.opened) {
				return ErrLeaseLost
			}
		}
		var cur streamCursor
		if raw := b.Get(streamKey('c', id)); raw != nil {
			if err := json.Unmarshal(raw, &cur); err != nil {
				return err
			}
		}
		fn(&cur)
		raw, err := json.Marshal(cur)
		if err != nil {
			return err
		}
		return b.Put(streamKey('c', id), raw)
	})
}

// AdvanceEventStream moves a stream's cursor to pos (never back) and clears
// its failure time, as bookkeeping: no revision, no audit entry. node must
// hold the stream's lease (ErrLeaseLost); ErrNotFound when it was deleted.
func (db *DB) AdvanceEventStream(id, node string, pos FeedPosition) error {
	return db.updateStream(id, node, func(c *streamCursor) {
		if pos.Revision > c.Position.Revision || pos.After > c.Position.After {
			c.Position = FeedPosition{Revision: max(pos.Revision, c.Position.Revision), After: max(pos.After, c.Position.After)}
		}
		c.FailingSince = time.Time{}
	})
}

// MarkEventStreamFailing records that delivery has been failing since
// since, unless an earlier time is recorded (bookkeeping, as above).
func (db *DB) MarkEventStreamFailing(id, node string, since time.Time) error {
	return db.updateStream(id, node, func(c *streamCursor) {
		if c.FailingSince.IsZero() {
			c.FailingSince = since.UTC()
		}
	})
}

// AcquireEventStreamLease makes node the deliverer of a stream until ttl from
// now, when no other node holds an unexpired lease, or renews node's own
// (bookkeeping, as above). It reports whether node holds the lease and, when
// another does, until when.
func (db *DB) AcquireEventStreamLease(id, node string, ttl time.Duration) (held bool, until time.Time, err error) {
	now := db.now().UTC()
	err = db.engineUpdate(func(btx EngineTx) error {
		b := btx.Bucket(bucketEventStreams)
		if b.Get(streamKey('s', id)) == nil {
			return notFound("event stream", id)
		}
		if raw := b.Get(streamKey('l', id)); raw != nil {
			var l streamLease
			if err := json.Unmarshal(raw, &l); err != nil {
				return err
			}
			if l.Node != node && l.live(db, now) {
				until = l.Expires
				return nil
			}
		}
		raw, err := json.Marshal(streamLease{Node: node, Expires: now.Add(ttl), Opened: db.opened})
		if err != nil {
			return err
		}
		held, until = true, now.Add(ttl)
		return b.Put(streamKey('l', id), raw)
	})
	return held, until, err
}

// ReleaseEventStreamLease gives up node's lease of a stream (on shutdown),
// so another node takes over without waiting for it to expire.
func (db *DB) ReleaseEventStreamLease(id, node string) error {
	return db.engineUpdate(func(btx EngineTx) error {
		b := btx.Bucket(bucketEventStreams)
		raw := b.Get(streamKey('l', id))
		if raw == nil {
			return nil
		}
		var l streamLease
		if err := json.Unmarshal(raw, &l); err != nil {
			return err
		}
		if l.Node != node {
			return nil
		}
		return b.Delete(streamKey('l', id))
	})
}

// EventStreamAttemptsKept is how many recent delivery attempts a stream keeps.
const EventStreamAttemptsKept = 100

// maxAttemptError bounds an attempt's error text in the ring.
const maxAttemptError = 256

// EventStreamAttempt is one delivery attempt (or test event) of a stream.
type EventStreamAttempt struct {
	Time       time.Time `json:"time"`
	EventID    string    `json:"event_id"`
	EventType  string    `json:"event_type"`
	Attempt    int       `json:"attempt"`
	StatusCode int       `json:"status_code,omitempty"`
	LatencyMS  float64   `json:"latency_ms"`
	OK         bool      `json:"ok"`
	Error      string    `json:"error,omitempty"`
	// Node is the node that made the attempt.
	Node string `json:"node,omitempty"`
}

// RecordEventStreamAttempts adds attempts to the rings of their streams (by
// stream id), keeping each ring's newest EventStreamAttemptsKept by Time, in
// one raw write: no revision, no audit entry, one commit for the whole
// batch. Attempts of a stream that no longer exists are dropped. It is for
// the deliverer, which batches its attempts; any node may record (a test
// event is sent by the node asked), so no lease is needed.
func (db *DB) RecordEventStreamAttempts(batch map[string][]EventStreamAttempt) error {
	if len(batch) == 0 {
		return nil
	}
	return db.engineUpdate(func(btx EngineTx) error {
		b := btx.Bucket(bucketEventStreams)
		for id, add := range batch {
			if len(add) == 0 || b.Get(streamKey('s', id)) == nil {
				continue
			}
			var ring []EventStreamAttempt
			if raw := b.Get(streamKey('d', id)); raw != nil {
				if err := json.Unmarshal(raw, &ring); err != nil {
					return fmt.Errorf("store: event stream %s attempts: %w", id, err)
				}
			}
			for _, a := range add {
				a.Time = a.Time.UTC()
				if len(a.Error) > maxAttemptError {
					a.Error = strings.ToValidUTF8(a.Error[:maxAttemptError], "")
				}
				ring = append(ring, a)
			}
			// Several nodes record into one ring, each in batches: order by
			// when the attempt was made, not when it was recorded.
			slices.SortStableFunc(ring, func(x, y EventStreamAttempt) int { return x.Time.Compare(y.Time) })
			if n := len(ring) - EventStreamAttemptsKept; n > 0 {
				ring = ring[n:]
			}
			raw, err := json.Marshal(ring)
			if err != nil {
				return err
			}
			if err := b.Put(streamKey('d', id), raw); err != nil {
				return err
			}
		}
		return nil
	})
}

// EventStreamAttempts returns a stream's recorded attempts, newest first
// (at most EventStreamAttemptsKept). Errors: ErrNotFound.
func (r *ReadTx) EventStreamAttempts(id string) ([]EventStreamAttempt, error) {
	if _, err := r.eventStream(id); err != nil {
		return nil, err
	}
	ring := []EventStreamAttempt{}
	if _, err := r.getJSON(bucketEventStreams, streamKey('d', id), &ring); err != nil {
		return nil, err
	}
	slices.Reverse(ring)
	return ring, nil
}

// verifyEventStreams checks every cursor and lease belongs to a stream and
// every stream record decodes.
func verifyEventStreams(r *ReadTx, report func(string, ...any)) {
	r.scanPrefix(bucketEventStreams, nil, func(k, v []byte) bool {
		if len(k) != 1+IDLen || !ValidID(PrefixEventStream, string(k[1:])) {
			report("event stream key %q is malformed", k)
			return true
		}
		switch k[0] {
		case 's':
			var rec eventStreamRecord
			if err := json.Unmarshal(v, &rec); err != nil || rec.ID != string(k[1:]) {
				report("event stream %s: record does not decode or names another id", k[1:])
			}
		case 'c', 'l', 'd':
			if !r.has(bucketEventStreams, streamKey('s', string(k[1:]))) {
				report("event stream %s: %c key without a stream", k[1:], k[0])
			}
			var ring []EventStreamAttempt
			if k[0] == 'd' && (json.Unmarshal(v, &ring) != nil || len(ring) > EventStreamAttemptsKept) {
				report("event stream %s: the attempts ring does not decode or holds more than %d", k[1:], EventStreamAttemptsKept)
			}
		default:
			report("event stream key %q has an unknown kind", k)
		}
		return true
	})
}
