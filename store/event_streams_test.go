package store_test

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
	"github.com/rolecall/rolecall/store/storetest"
)

func ptr[T any](v T) *T { return &v }

func mustStream(t testing.TB, db *store.DB, name string, types ...string) (store.EventStream, string) {
	t.Helper()
	var s store.EventStream
	var secret string
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		s, secret, err = tx.CreateEventStream(store.EventStreamSpec{Name: ptr(name), Subscriptions: types,
			Endpoint: ptr("https://hooks.example.com/rolecall"), Token: ptr("outbound-token-123")})
		return err
	})
	return s, secret
}

// A stream's create, update, rotation and deletion are logical changes with
// audit entries, which never show the token or the signing secret.
func TestEventStreamLifecycleIsAuditedWithoutSecrets(t *testing.T) {
	db := storetest.Open(t)
	s, secret := mustStream(t, db, "sessions", store.EventUserDeleted, store.EventUserDeleted, store.EventGroupMemberDeleted)
	if !store.ValidID(store.PrefixEventStream, s.ID) || s.Status != store.EventStreamEnabled || s.AuthMethod != "bearer" {
		t.Fatalf("created %+v", s)
	}
	if got := s.Subscriptions; len(got) != 2 {
		t.Errorf("subscriptions %v, want the repeat dropped", got)
	}
	if !strings.HasPrefix(secret, "whsec_") {
		t.Errorf("secret %q", secret)
	}
	var rotated string
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		if _, err = tx.UpdateEventStream(s.ID, store.EventStreamSpec{Name: ptr("renamed")}); err != nil {
			return err
		}
		_, rotated, err = tx.RotateEventStreamSecret(s.ID)
		return err
	})
	if rotated == secret || rotated == "" {
		t.Errorf("rotated secret %q, old %q", rotated, secret)
	}
	if err := db.View(func(r *store.ReadTx) error {
		tok, sec, err := r.EventStreamCredentials(s.ID)
		if tok != "outbound-token-123" || sec != rotated {
			t.Errorf("credentials %q %q, want the token as given and the rotated secret", tok, sec)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	rev := db.Revision()
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteEventStream(s.ID) })
	if db.Revision() != rev+1 {
		t.Errorf("delete: revision %d, want %d", db.Revision(), rev+1)
	}
	var types []string
	if err := db.View(func(r *store.ReadTx) error {
		entries, _, err := r.AuditLog("", 100, false, store.AuditFilter{TargetID: s.ID})
		for _, e := range entries {
			types = append(types, e.Type)
			for _, secretText := range []string{"outbound-token-123", secret, rotated} {
				if bytes.Contains(e.Before, []byte(secretText)) || bytes.Contains(e.After, []byte(secretText)) {
					t.Errorf("audit entry %s %s shows a secret", e.ID, e.Type)
				}
			}
		}
		if _, err := r.EventStream(s.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted stream: err %v, want ErrNotFound", err)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{store.EventEventStreamCreated, store.EventEventStreamUpdated, store.EventEventStreamUpdated, store.EventEventStreamDeleted}
	if strings.Join(types, " ") != strings.Join(want, " ") {
		t.Errorf("audit types %v, want %v", types, want)
	}
}

func TestEventStreamRejectsBadFields(t *testing.T) {
	db := storetest.Open(t)
	long := strings.Repeat("x", 3000)
	cases := []struct {
		name string
		spec store.EventStreamSpec
		want string
	}{
		{"no name", store.EventStreamSpec{Endpoint: ptr("https://a.example"), Subscriptions: []string{store.EventUserCreated}}, "name"},
		{"long name", store.EventStreamSpec{Name: ptr(long), Endpoint: ptr("https://a.example"), Subscriptions: []string{store.EventUserCreated}}, "1 to 128"},
		{"no subscription", store.EventStreamSpec{Name: ptr("n"), Endpoint: ptr("https://a.example")}, "at least one subscription"},
		{"unknown type", store.EventStreamSpec{Name: ptr("n"), Endpoint: ptr("https://a.example"), Subscriptions: []string{"user.exploded"}}, "unknown event type"},
		{"userinfo", store.EventStreamSpec{Name: ptr("n"), Endpoint: ptr("https://u:p@a.example"), Subscriptions: []string{store.EventUserCreated}}, "user information"},
		{"ftp", store.EventStreamSpec{Name: ptr("n"), Endpoint: ptr("ftp://a.example"), Subscriptions: []string{store.EventUserCreated}}, "https://"},
		{"relative", store.EventStreamSpec{Name: ptr("n"), Endpoint: ptr("/hook"), Subscriptions: []string{store.EventUserCreated}}, "absolute"},
		{"long url", store.EventStreamSpec{Name: ptr("n"), Endpoint: ptr("https://a.example/" + long), Subscriptions: []string{store.EventUserCreated}}, "2048"},
		{"token with newline", store.EventStreamSpec{Name: ptr("n"), Endpoint: ptr("https://a.example"), Subscriptions: []string{store.EventUserCreated}, Token: ptr("a\nb")}, "one line"},
	}
	rev := db.Revision()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.Update(context.Background(), store.Origin{}, func(tx *store.Tx) error {
				_, _, err := tx.CreateEventStream(tc.spec)
				return err
			})
			if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want ErrInvalid mentioning %q", err, tc.want)
			}
		})
	}
	if db.Revision() != rev {
		t.Errorf("rejected creates moved the revision %d → %d", rev, db.Revision())
	}
	for i := range store.MaxEventStreams {
		mustStream(t, db, "s"+string(rune('a'+i)), store.EventUserCreated)
	}
	_, err := db.Update(context.Background(), store.Origin{}, func(tx *store.Tx) error {
		_, _, err := tx.CreateEventStream(store.EventStreamSpec{Name: ptr("one too many"), Endpoint: ptr("https://a.example"), Subscriptions: []string{store.EventUserCreated}})
		return err
	})
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "at most 20") {
		t.Errorf("stream %d: err %v, want the limit", store.MaxEventStreams+1, err)
	}
}

func TestValidateEventStreamEndpointHTTPOnlyWhenAllowed(t *testing.T) {
	if err := store.ValidateEventStreamEndpoint("http://127.0.0.1:9/hook", false); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "--allow-http-webhooks") {
		t.Errorf("http without the flag: %v", err)
	}
	if err := store.ValidateEventStreamEndpoint("http://127.0.0.1:9/hook", true); err != nil {
		t.Errorf("http with the flag: %v", err)
	}
}

// Webhook addresses must be globally routable: every special-purpose range
// is refused with a reason that names it, in every spelling.
func TestCheckWebhookAddress(t *testing.T) {
	tests := []struct {
		name, ip string
		want     string // "" = allowed
	}{
		{name: "public v4", ip: "93.184.215.14"},
		{name: "public v4 next to CGNAT", ip: "100.128.0.1"},
		{name: "public v6", ip: "2606:4700::6810:84e5"},
		{name: "mapped public", ip: "::ffff:8.8.8.8"},
		{name: "NAT64 of public", ip: "64:ff9b::808:808"},
		{name: "6to4 of public", ip: "2002:808:808::1"},
		{name: "loopback v4", ip: "127.0.0.1", want: "a loopback address 127.0.0.1"},
		{name: "loopback v4 other", ip: "127.1.2.3", want: "loopback"},
		{name: "loopback v6", ip: "::1", want: "a loopback address ::1"},
		{name: "unspecified v4", ip: "0.0.0.0", want: "unspecified"},
		{name: "unspecified v6", ip: "::", want: "unspecified"},
		{name: "this network", ip: "0.1.2.3", want: "(in 0.0.0.0/8)"},
		{name: "RFC 1918 10/8", ip: "10.0.0.5", want: "a private address 10.0.0.5"},
		{name: "RFC 1918 172.16/12", ip: "172.31.255.1", want: "private"},
		{name: "RFC 1918 192.168/16", ip: "192.168.0.1", want: "private"},
		{name: "ULA fc00::/7", ip: "fd12:3456::1", want: "private"},
		{name: "link-local v4", ip: "169.254.1.1", want: "link-local"},
		{name: "link-local v6", ip: "fe80::1", want: "link-local"},
		{name: "link-local v6 with zone", ip: "fe80::1%eth0", want: "link-local"},
		{name: "metadata v4", ip: "169.254.169.254", want: "a cloud metadata address 169.254.169.254"},
		{name: "metadata v6", ip: "fd00:ec2::254", want: "cloud metadata"},
		{name: "CGNAT", ip: "100.64.0.1", want: "a carrier-grade NAT address 100.64.0.1 (in 100.64.0.0/10)"},
		{name: "multicast v4", ip: "224.0.0.1", want: "multicast"},
		{name: "multicast v6", ip: "ff02::1", want: "multicast"},
		{name: "broadcast", ip: "255.255.255.255", want: "(in 240.0.0.0/4)"},
		{name: "documentation v4", ip: "192.0.2.10", want: "documentation"},
		{name: "documentation v6", ip: "2001:db8::1", want: "documentation"},
		{name: "benchmarking", ip: "198.18.0.1", want: "benchmarking"},
		{name: "mapped loopback", ip: "::ffff:127.0.0.1", want: "a loopback address ::ffff:127.0.0.1"},
		{name: "mapped private", ip: "::ffff:10.0.0.5", want: "private"},
		{name: "mapped metadata", ip: "::ffff:169.254.169.254", want: "cloud metadata"},
		{name: "IPv4-compatible", ip: "::a00:5", want: "IPv4-compatible"},
		{name: "NAT64 of loopback", ip: "64:ff9b::7f00:1", want: "loopback address behind NAT64"},
		{name: "NAT64 local use", ip: "64:ff9b:1::a00:5", want: "local-use NAT64"},
		{name: "6to4 of private", ip: "2002:a00:5::1", want: "private address behind 6to4"},
		{name: "Teredo", ip: "2001:0:4136:e378::1", want: "IETF protocol"},
		{name: "site-local", ip: "fec0::1", want: "site-local"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := store.CheckWebhookAddress(netip.MustParseAddr(tc.ip))
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("got %v, want allowed", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if err := store.CheckWebhookAddress(netip.Addr{}); err == nil {
		t.Errorf("the zero address: allowed")
	}
}

// Without --allow-http-webhooks an endpoint whose host is a non-global IP
// literal is refused at once; names are left to the dial-time check; with
// the flag (local receivers) private addresses pass, as http:// does.
func TestValidateEventStreamEndpointRefusesPrivateIPLiterals(t *testing.T) {
	tests := []struct {
		name, url string
		allow     bool
		want      string // "" = valid
	}{
		{name: "loopback", url: "https://127.0.0.1/hook", want: "a loopback address 127.0.0.1"},
		{name: "loopback with port", url: "https://127.0.0.1:8443/hook", want: "loopback"},
		{name: "metadata", url: "https://169.254.169.254/latest/meta-data/", want: "cloud metadata address 169.254.169.254"},
		{name: "private", url: "https://10.0.0.5/hook", want: "a private address 10.0.0.5"},
		{name: "v6 loopback", url: "https://[::1]/hook", want: "loopback address ::1"},
		{name: "mapped", url: "https://[::ffff:10.0.0.5]/hook", want: "private"},
		{name: "v6 zone", url: "https://[fe80::1%25eth0]/hook", want: "link-local"},
		{name: "public literal", url: "https://93.184.215.14/hook"},
		{name: "name", url: "https://hooks.example.com/hook"},
		{name: "localhost name left to the dial", url: "https://localhost/hook"},
		{name: "private with the flag", url: "https://10.0.0.5/hook", allow: true},
		{name: "loopback http with the flag", url: "http://127.0.0.1:9/hook", allow: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := store.ValidateEventStreamEndpoint(tc.url, tc.allow)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("got %v, want valid", err)
			case tc.want != "" && (!errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want ErrInvalid containing %q", err, tc.want)
			}
		})
	}
}

// The cursor, failure time and lease are bookkeeping: they move no
// revision and write no audit entry, and only the lease holder moves them.
func TestEventStreamBookkeepingIsNotAChange(t *testing.T) {
	clock := newTestClock()
	db := storetest.Open(t, store.Options{Now: clock.Now})
	s, _ := mustStream(t, db, "s", store.EventUserCreated)
	st, err := db.EventStreamState(s.ID)
	if err != nil || st.Position.Revision != db.Revision() || st.Position.After == 0 {
		t.Fatalf("new cursor %+v (%v), want past the create at revision %d", st, err, db.Revision())
	}
	rev := db.Revision()
	held, _, err := db.AcquireEventStreamLease(s.ID, "a", time.Minute)
	if err != nil || !held {
		t.Fatalf("lease to a: %v %v", held, err)
	}
	if held, until, _ := db.AcquireEventStreamLease(s.ID, "b", time.Minute); held || !until.Equal(clock.Now().Add(time.Minute)) {
		t.Errorf("b took a's live lease (held %v, until %v)", held, until)
	}
	if err := db.AdvanceEventStream(s.ID, "b", store.FeedPosition{Revision: rev + 5}); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("b advanced a's stream: %v", err)
	}
	if err := db.MarkEventStreamFailing(s.ID, "a", clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := db.AdvanceEventStream(s.ID, "a", store.FeedPosition{Revision: rev + 5, After: 7}); err != nil {
		t.Fatal(err)
	}
	if err := db.AdvanceEventStream(s.ID, "a", store.FeedPosition{Revision: rev + 1}); err != nil {
		t.Fatal(err)
	}
	st, _ = db.EventStreamState(s.ID)
	if st.Position.Revision != rev+5 || !st.FailingSince.IsZero() {
		t.Errorf("state %+v, want revision %d kept (never back) and failure cleared", st, rev+5)
	}
	clock.Advance(2 * time.Minute)
	if held, _, _ := db.AcquireEventStreamLease(s.ID, "b", time.Minute); !held {
		t.Errorf("b could not take over an expired lease")
	}
	if db.Revision() != rev {
		t.Errorf("bookkeeping moved the revision %d → %d", rev, db.Revision())
	}
	var n int
	_ = db.View(func(r *store.ReadTx) error {
		entries, _, err := r.AuditLog("", 100, false, store.AuditFilter{})
		n = len(entries)
		return err
	})
	if n != 1 {
		t.Errorf("%d audit entries, want only the create's", n)
	}
}

// Streams and their cursors travel in an export, and the imported store
// verifies.
func TestEventStreamsExportAndImport(t *testing.T) {
	db := storetest.OpenBolt(t)
	s, _ := mustStream(t, db, "s", store.EventUserCreated)
	if _, _, err := db.AcquireEventStreamLease(s.ID, "n", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := db.AdvanceEventStream(s.ID, "n", store.FeedPosition{Revision: 9, After: 9}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordEventStreamAttempts(map[string][]store.EventStreamAttempt{s.ID: {{Time: time.Now(), EventID: "42", Attempt: 1, OK: true, Node: "n"}}}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := db.Export(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	e, err := bboltdb.OpenEngine(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Import(context.Background(), e, &buf); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := bboltdb.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if err := db2.Verify(); err != nil {
		t.Errorf("imported store: %v", err)
	}
	st, err := db2.EventStreamState(s.ID)
	if err != nil || st.Position != (store.FeedPosition{Revision: 9, After: 9}) {
		t.Errorf("imported cursor %+v (%v)", st, err)
	}
	_ = db2.View(func(r *store.ReadTx) error {
		tok, _, err := r.EventStreamCredentials(s.ID)
		if err != nil || tok != "outbound-token-123" {
			t.Errorf("imported token %q (%v)", tok, err)
		}
		got, err := r.EventStreamAttempts(s.ID)
		if err != nil || len(got) != 1 || got[0].EventID != "42" || got[0].Node != "n" {
			t.Errorf("imported attempts %+v (%v), want the one recorded", got, err)
		}
		return nil
	})
}

// On bbolt only one process opens the store, so a lease left by a process
// that died (kill -9) is not waited for after a restart.
func TestEventStreamLeaseOfAnEarlierOpeningIsDead(t *testing.T) {
	dir := t.TempDir()
	db, err := bboltdb.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := mustStream(t, db, "s", store.EventUserCreated)
	if held, _, err := db.AcquireEventStreamLease(s.ID, "before", time.Hour); err != nil || !held {
		t.Fatalf("lease: %v %v", held, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = bboltdb.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if held, _, err := db.AcquireEventStreamLease(s.ID, "after", time.Minute); err != nil || !held {
		t.Errorf("after a restart: held %v (%v), want the dead process's lease taken", held, err)
	}
}

func attemptsOf(t *testing.T, db *store.DB, id string) []store.EventStreamAttempt {
	t.Helper()
	var got []store.EventStreamAttempt
	if err := db.View(func(r *store.ReadTx) (err error) { got, err = r.EventStreamAttempts(id); return err }); err != nil {
		t.Fatalf("attempts of %s: %v", id, err)
	}
	return got
}

// Recent attempts are kept per stream in the store, whichever node recorded
// them: a ring of the newest EventStreamAttemptsKept by time, newest first,
// written as bookkeeping (no revision, no audit entry), gone with the stream.
func TestEventStreamAttemptsRing(t *testing.T) {
	db := storetest.Open(t)
	s, _ := mustStream(t, db, "s", store.EventUserCreated)
	other, _ := mustStream(t, db, "other", store.EventUserCreated)
	rev := db.Revision()
	if got := attemptsOf(t, db, s.ID); got == nil || len(got) != 0 {
		t.Errorf("new stream's attempts %v, want an empty list", got)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(i int, node string) store.EventStreamAttempt {
		return store.EventStreamAttempt{Time: t0.Add(time.Duration(i) * time.Second), EventID: strconv.Itoa(i), EventType: store.EventUserCreated,
			Attempt: 1, OK: i%3 != 0, StatusCode: 200, Node: node, Error: strings.Repeat("x", 1000)}
	}
	// Node a records 0..119 in batches of 30; node b's batch of odd
	// seconds 121..159 arrives before a's last batch (batches cross).
	var bBatch []store.EventStreamAttempt
	for i := 121; i < 160; i += 2 {
		bBatch = append(bBatch, at(i, "b"))
	}
	for lo := 0; lo < 120; lo += 30 {
		var batch []store.EventStreamAttempt
		for i := lo; i < lo+30; i++ {
			batch = append(batch, at(i, "a"))
		}
		if lo == 90 {
			if err := db.RecordEventStreamAttempts(map[string][]store.EventStreamAttempt{s.ID: bBatch, "est_gone00000000000000000": {at(1, "b")}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.RecordEventStreamAttempts(map[string][]store.EventStreamAttempt{s.ID: batch, other.ID: batch[:1]}); err != nil {
			t.Fatal(err)
		}
	}
	got := attemptsOf(t, db, s.ID)
	if len(got) != store.EventStreamAttemptsKept {
		t.Fatalf("%d attempts kept, want %d", len(got), store.EventStreamAttemptsKept)
	}
	if got[0].EventID != "159" || got[0].Node != "b" || got[len(got)-1].EventID != "40" {
		t.Errorf("newest %s (%s), oldest %s; want 159 from b and 40", got[0].EventID, got[0].Node, got[len(got)-1].EventID)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Time.After(got[i-1].Time) {
			t.Fatalf("attempt %d (%v) newer than %d (%v): want newest first", i, got[i].Time, i-1, got[i-1].Time)
		}
	}
	if len(got[0].Error) > 256 {
		t.Errorf("error text of %d bytes kept, want it bounded", len(got[0].Error))
	}
	if n := len(attemptsOf(t, db, other.ID)); n != 4 {
		t.Errorf("other stream has %d attempts, want its own 4", n)
	}
	if db.Revision() != rev {
		t.Errorf("recording attempts moved the revision %d → %d", rev, db.Revision())
	}
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteEventStream(s.ID) })
	if err := db.View(func(r *store.ReadTx) error { _, err := r.EventStreamAttempts(s.ID); return err }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("attempts of a deleted stream: %v, want ErrNotFound", err)
	}
	if err := db.RecordEventStreamAttempts(map[string][]store.EventStreamAttempt{s.ID: {at(1, "a")}}); err != nil {
		t.Errorf("recording for a deleted stream: %v, want it dropped", err)
	}
	if err := db.Verify(); err != nil {
		t.Errorf("verify after delete: %v", err)
	}
}

// BenchmarkRecordEventStreamAttempts is one flush: a batch of 10 attempts
// into a full ring (read, merge, trim, write, commit), the cost a delivering
// node pays at most every FlushInterval per stream, whatever its rate.
func BenchmarkRecordEventStreamAttempts(b *testing.B) {
	db := storetest.Open(b)
	s, _ := mustStream(b, db, "s", store.EventUserCreated)
	batch := make([]store.EventStreamAttempt, 10)
	now := time.Now()
	for i := 0; b.Loop(); i++ {
		for j := range batch {
			batch[j] = store.EventStreamAttempt{Time: now.Add(time.Duration(i*10+j) * time.Millisecond), EventID: strconv.Itoa(i*10 + j),
				EventType: store.EventUserCreated, Attempt: 1, StatusCode: 200, OK: true, LatencyMS: 12.5, Node: "node-0123456789ab"}
		}
		if err := db.RecordEventStreamAttempts(map[string][]store.EventStreamAttempt{s.ID: batch}); err != nil {
			b.Fatal(err)
		}
	}
}
