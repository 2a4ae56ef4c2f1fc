package store_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
	"github.com/rolecall/rolecall/store/postgres"
	"github.com/rolecall/rolecall/store/postgres/pgtest"
	"github.com/rolecall/rolecall/store/storetest"
)

// testClock is a settable clock shared by stores and their tests.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// mustKey creates an API key.
func mustKey(t testing.TB, db *store.DB, name string, scopes ...string) store.APIKey {
	t.Helper()
	var k store.APIKey
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		k, _, err = tx.CreateAPIKey(name, scopes, 0)
		return err
	})
	return k
}

// mustSession starts a session for a stored key.
func mustSession(t *testing.T, db *store.DB, keyID string) (store.Session, string) {
	t.Helper()
	var s store.Session
	var secret string
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		s, secret, err = tx.CreateSession(keyID, nil)
		return err
	})
	return s, secret
}

// authOK authenticates a session secret and expects it to work.
func authOK(t *testing.T, db *store.DB, secret, what string) (store.Session, store.APIKey) {
	t.Helper()
	s, k, err := db.AuthenticateSession(secret)
	if err != nil {
		t.Fatalf("%s: AuthenticateSession: %v", what, err)
	}
	return s, k
}

// authFails authenticates a session secret and expects want.
func authFails(t *testing.T, db *store.DB, secret string, want error, what string) {
	t.Helper()
	if _, _, err := db.AuthenticateSession(secret); !errors.Is(err, want) {
		t.Fatalf("%s: AuthenticateSession = %v, want %v", what, err, want)
	}
}

func sessionAudit(t *testing.T, db *store.DB, typ string) []store.AuditEntry {
	t.Helper()
	var out []store.AuditEntry
	if err := db.View(func(r *store.ReadTx) (err error) {
		out, _, err = r.AuditLog("", 100, false, store.AuditFilter{Type: typ})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSessionSecretsAreStoredOnlyHashed: a session acts with its key's
// scopes; a wrong or malformed secret fails; neither the secret nor its
// hash is in a listing, the audit log, or anywhere in the stored data.
func TestSessionSecretsAreStoredOnlyHashed(t *testing.T) {
	db := storetest.Open(t)
	k := mustKey(t, db, "admin", "read:roles", "create:roles")
	s, secret := mustSession(t, db, k.ID)
	if !strings.HasPrefix(secret, "rcd_") || !store.IsSessionSecret(secret) || store.IsSessionSecret("rck_x") {
		t.Errorf("secret %q: want an rcd_ secret that IsSessionSecret recognises", secret)
	}
	if s.KeyID != k.ID || !s.ExpiresAt.Equal(s.CreatedAt.Add(8*time.Hour)) {
		t.Errorf("session %+v: want key %s and an 8 h lifetime", s, k.ID)
	}
	got, key := authOK(t, db, secret, "fresh session")
	if got.ID != s.ID || key.ID != k.ID || strings.Join(key.Scopes, " ") != "read:roles create:roles" {
		t.Errorf("AuthenticateSession = %+v, %+v: want the session and its key's scopes", got, key)
	}
	for name, bad := range map[string]string{
		"wrong random part": secret[:len(secret)-4] + "AAAA",
		"malformed":         "rcd_nope",
		"an API key's form": strings.Replace(secret, "rcd_", "rck_", 1),
	} {
		authFails(t, db, bad, store.ErrUnauthorized, name)
	}

	var listed []store.Session
	if err := db.View(func(r *store.ReadTx) (err error) { listed, err = r.Sessions(k.ID); return err }); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0].ID != s.ID {
		t.Errorf("Sessions(%s) = %+v, want the one session", k.ID, listed)
	}
	if created := sessionAudit(t, db, "session.created"); len(created) != 1 || created[0].Target.ID != s.ID {
		t.Errorf("session.created entries %+v, want one for %s", created, s.ID)
	}
	var dump bytes.Buffer
	if _, err := db.Export(context.Background(), &dump); err != nil {
		t.Fatal(err)
	}
	// The random part may itself hold '_' (base64url): cut after the id.
	prefix := "rcd_" + strings.TrimPrefix(s.ID, "ses_") + "_"
	random := strings.TrimPrefix(secret, prefix)
	if random == secret || len(random) < 32 {
		t.Fatalf("secret %q: want %s and a random part", secret, prefix)
	}
	if strings.Contains(dump.String(), random) {
		t.Errorf("the stored data contains the session secret")
	}
	for _, e := range sessionAudit(t, db, "") {
		if raw := string(e.After) + string(e.Before); strings.Contains(raw, "hash") || strings.Contains(raw, random) {
			t.Errorf("audit entry %s shows %s", e.Type, raw)
		}
	}
}

// TestSessionsEndWhenIdleOrOld: an hour without use or eight hours in all
// ends a session (ErrSessionExpired, which is an ErrUnauthorized), and an
// expired session is gone: turning the clock back does not revive it.
func TestSessionsEndWhenIdleOrOld(t *testing.T) {
	clk := newTestClock()
	db := storetest.Open(t, store.Options{Now: clk.Now})
	k := mustKey(t, db, "admin", "read:roles")

	t.Run("idle", func(t *testing.T) {
		_, secret := mustSession(t, db, k.ID)
		clk.Advance(59 * time.Minute)
		authOK(t, db, secret, "59 min after sign-in")
		clk.Advance(59 * time.Minute) // idle time counts from the last use
		authOK(t, db, secret, "59 min after the last use")
		clk.Advance(61 * time.Minute)
		authFails(t, db, secret, store.ErrSessionExpired, "61 idle minutes")
		authFails(t, db, secret, store.ErrUnauthorized, "61 idle minutes")
		clk.Advance(-61 * time.Minute)
		authFails(t, db, secret, store.ErrUnauthorized, "an expired session, the clock turned back")
	})
	t.Run("absolute", func(t *testing.T) {
		_, secret := mustSession(t, db, k.ID)
		for used := time.Duration(0); used < 7*time.Hour+30*time.Minute; used += 45 * time.Minute {
			clk.Advance(45 * time.Minute)
			authOK(t, db, secret, "in use")
		}
		clk.Advance(45 * time.Minute) // 8 h 15 min after sign-in, 45 min after the last use
		authFails(t, db, secret, store.ErrSessionExpired, "8 h after sign-in")
	})
	t.Run("key expires first", func(t *testing.T) {
		var secret string
		storetest.MustUpdate(t, db, func(tx *store.Tx) error {
			short, _, err := tx.CreateAPIKey("short", []string{"read:roles"}, 30*time.Minute)
			if err != nil {
				return err
			}
			_, secret, err = tx.CreateSession(short.ID, nil)
			return err
		})
		authOK(t, db, secret, "the key's first half hour")
		clk.Advance(31 * time.Minute)
		authFails(t, db, secret, store.ErrUnauthorized, "the key expired")
	})
}

// TestDeletingAKeyEndsItsSessions: the sessions of a deleted key stop
// working at once (a cascade, audited), other keys' sessions do not; an
// ended session (sign-out) stops working at once too, even cached.
func TestDeletingAKeyEndsItsSessions(t *testing.T) {
	db := storetest.Open(t)
	k := mustKey(t, db, "admin", "read:roles")
	other := mustKey(t, db, "other", "read:roles")
	_, s1 := mustSession(t, db, k.ID)
	_, s2 := mustSession(t, db, k.ID)
	otherSession, s3 := mustSession(t, db, other.ID)
	for _, s := range []string{s1, s2, s3} {
		authOK(t, db, s, "before the deletion") // now cached
	}
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteAPIKey(k.ID) })
	authFails(t, db, s1, store.ErrUnauthorized, "first session of the deleted key")
	authFails(t, db, s2, store.ErrUnauthorized, "second session of the deleted key")
	authOK(t, db, s3, "another key's session")
	deleted := sessionAudit(t, db, "session.deleted")
	if len(deleted) != 2 || deleted[0].Channel != store.ChannelCascade {
		t.Errorf("session.deleted entries %+v, want two cascades", deleted)
	}
	if err := db.View(func(r *store.ReadTx) error {
		left, err := r.Sessions(k.ID)
		if len(left) != 0 {
			t.Errorf("Sessions of the deleted key = %+v", left)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}

	storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteSession(otherSession.ID) })
	authFails(t, db, s3, store.ErrUnauthorized, "a deleted session")
	if deleted := sessionAudit(t, db, "session.deleted"); len(deleted) != 3 || deleted[2].Channel == store.ChannelCascade {
		t.Errorf("session.deleted entries %+v, want the sign-out's own", deleted)
	}
	_, err := db.Update(context.Background(), storetest.Origin, func(tx *store.Tx) error { return tx.DeleteSession(otherSession.ID) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting it again: %v, want ErrNotFound", err)
	}
}

// TestSessionsOfAKeyTheStoreDoesNotHold: the bootstrap admin token's
// sessions carry the caller's fingerprint, which the store keeps out of
// the audit log; such a session cannot claim a stored key's id, and a
// stored key's session needs that key to exist.
func TestSessionsOfAKeyTheStoreDoesNotHold(t *testing.T) {
	db := storetest.Open(t)
	fp := []byte("fingerprint-of-the-admin-token!!")
	var s store.Session
	var secret string
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		s, secret, err = tx.CreateSession("bootstrap", fp)
		return err
	})
	got, key := authOK(t, db, secret, "bootstrap session")
	if !bytes.Equal(got.KeyFingerprint, fp) || key.ID != "bootstrap" || key.Scopes != nil {
		t.Errorf("AuthenticateSession = %+v, %+v: want the fingerprint and a bare key id", got, key)
	}
	if entries := sessionAudit(t, db, "session.created"); len(entries) != 1 || bytes.Contains(entries[0].After, fp) {
		t.Errorf("session.created %+v: want one entry without the fingerprint", entries)
	}
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteSession(s.ID) })
	authFails(t, db, secret, store.ErrUnauthorized, "ended bootstrap session")

	k := mustKey(t, db, "admin", "read:roles")
	for name, tc := range map[string]struct {
		keyID string
		fp    []byte
		want  error
	}{
		"a stored key's id with a fingerprint": {k.ID, fp, store.ErrInvalid},
		"an empty key id":                      {"", fp, store.ErrInvalid},
		"an unknown key":                       {"key_0000000000000000", nil, store.ErrNotFound},
		"not a key id":                         {"bootstrap", nil, store.ErrNotFound},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := db.Update(context.Background(), storetest.Origin, func(tx *store.Tx) error {
				_, _, err := tx.CreateSession(tc.keyID, tc.fp)
				return err
			})
			if !errors.Is(err, tc.want) {
				t.Errorf("CreateSession(%q) = %v, want %v", tc.keyID, err, tc.want)
			}
		})
	}
}

// TestSessionLastUseSurvivesARestart: last use is kept in memory and
// persisted on Close (and every minute), so a session used 50 min after
// sign-in is still live 100 min after it, after a restart.
func TestSessionLastUseSurvivesARestart(t *testing.T) {
	clk := newTestClock()
	dir := t.TempDir()
	db, err := bboltdb.Open(dir, store.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	k := mustKey(t, db, "admin", "read:roles")
	_, secret := mustSession(t, db, k.ID)
	clk.Advance(50 * time.Minute)
	authOK(t, db, secret, "50 min after sign-in")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = bboltdb.Open(dir, store.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clk.Advance(50 * time.Minute)
	authOK(t, db, secret, "after a restart, 50 min after the last use")
	clk.Advance(61 * time.Minute)
	authFails(t, db, secret, store.ErrSessionExpired, "61 min after the last use")
	if err := db.Verify(); err != nil {
		t.Error(err)
	}
}

// TestSessionsAcrossNodes (PostgreSQL): a session created on node A works
// on node B; a use on A that B never saw keeps it live on B past B's own
// idea of its idle time; its sign-out on A ends it on B within a second.
func TestSessionsAcrossNodes(t *testing.T) {
	dsn := pgtest.DSN(t)
	clk := newTestClock()
	open := func() *store.DB {
		db, err := postgres.Open(context.Background(), dsn, store.Options{Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	a, b := open(), open()
	defer b.Close()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { _ = b.Follow(ctx) }()

	k := mustKey(t, a, "admin", "read:roles")
	s, secret := mustSession(t, a, k.ID)
	authOK(t, b, secret, "on node B") // cached on B from now on
	clk.Advance(50 * time.Minute)
	authOK(t, a, secret, "on node A, 50 min later")
	if err := a.Close(); err != nil { // flushes A's last use, as its minute tick would
		t.Fatal(err)
	}
	a = open()
	defer a.Close()
	clk.Advance(20 * time.Minute) // 70 min after B's last use, 20 after A's
	authOK(t, b, secret, "on node B, 20 min after a use on node A")

	storetest.MustUpdate(t, a, func(tx *store.Tx) error { return tx.DeleteSession(s.ID) })
	deadline := time.Now().Add(time.Second)
	for {
		if _, _, err := b.AuthenticateSession(secret); errors.Is(err, store.ErrUnauthorized) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a session ended on node A still works on node B after 1 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := a.Verify(); err != nil {
		t.Error(err)
	}
}

// BenchmarkAuthenticateSession: a request's session check, served from the
// credential cache, beside an API key's.
func BenchmarkAuthenticateSession(b *testing.B) {
	db := storetest.Open(b)
	var keySecret, secret string
	storetest.MustUpdate(b, db, func(tx *store.Tx) error {
		k, ks, err := tx.CreateAPIKey("admin", []string{"read:roles"}, 0)
		if err != nil {
			return err
		}
		keySecret = ks
		_, secret, err = tx.CreateSession(k.ID, nil)
		return err
	})
	b.Run("session", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := db.AuthenticateSession(secret); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("api key", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.AuthenticateAPIKey(keySecret); err != nil {
				b.Fatal(err)
			}
		}
	})
}
