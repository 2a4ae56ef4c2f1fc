package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
	"github.com/rolecall/rolecall/store/storetest"
)

var ctx = context.Background()

func TestUserNameIsUniqueCaseInsensitivelyPerConnection(t *testing.T) {
	db := storetest.Open(t)
	a := storetest.MustConnection(t, db, "acme")
	b := storetest.MustConnection(t, db, "globex")
	storetest.MustUser(t, db, a.ID, "Bjensen@Example.com")

	_, err := db.Update(ctx, storetest.Origin, func(tx *store.Tx) error {
		_, err := tx.CreateUser(store.User{ConnectionID: a.ID, UserName: "BJENSEN@example.COM"})
		return err
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second user with the same userName in one connection: got %v, want ErrConflict", err)
	}
	// The same userName in another connection is a different user.
	storetest.MustUser(t, db, b.ID, "bjensen@example.com")

	err = db.View(func(r *store.ReadTx) error {
		u, err := r.UserByName(a.ID, "bjensen@EXAMPLE.com")
		if err != nil {
			return err
		}
		if u.UserName != "Bjensen@Example.com" {
			t.Errorf("lookup returned userName %q, want the stored spelling", u.UserName)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReadsAreScopedToTheConnection(t *testing.T) {
	db := storetest.Open(t)
	a := storetest.MustConnection(t, db, "acme")
	b := storetest.MustConnection(t, db, "globex")
	u := storetest.MustUser(t, db, a.ID, "alice")
	g := storetest.MustGroup(t, db, a.ID, "Sales", u.ID)

	err := db.View(func(r *store.ReadTx) error {
		if _, err := r.User(b.ID, u.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("user of connection A read through B: got %v, want ErrNotFound", err)
		}
		if _, err := r.Group(b.ID, g.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("group of connection A read through B: got %v, want ErrNotFound", err)
		}
		if _, err := r.UserByName(b.ID, "alice"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("userName lookup leaked across connections: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Writes through the wrong connection fail and change nothing.
	_, err = db.Update(ctx, storetest.Origin, func(tx *store.Tx) error {
		_, err := tx.RemoveMembers(b.ID, g.ID, []string{u.ID})
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("membership write through another connection: got %v, want ErrNotFound", err)
	}
	if got := storetest.MemberIDs(t, db, g.ID); !slices.Equal(got, []string{u.ID}) {
		t.Errorf("members after rejected write = %v", got)
	}
}

func TestUpdateUserMovesIndexes(t *testing.T) {
	db := storetest.Open(t)
	c := storetest.MustConnection(t, db, "acme")
	u := storetest.MustUser(t, db, c.ID, "alice")
	storetest.MustUser(t, db, c.ID, "bob")

	rev := storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		_, err := tx.UpdateUser(c.ID, u.ID, func(u *store.User) error {
			u.UserName, u.ExternalID, u.Active = "alice2", "ext-1", false
			return nil
		})
		return err
	})
	err := db.View(func(r *store.ReadTx) error {
		if _, err := r.UserByName(c.ID, "alice"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("old userName still resolves: %v", err)
		}
		got, err := r.UserByName(c.ID, "ALICE2")
		if err != nil {
			return err
		}
		if got.Active || got.Revision != rev || got.ExternalID != "ext-1" {
			t.Errorf("updated user = %+v, want inactive, revision %d, externalId ext-1", got, rev)
		}
		byExt, err := r.UsersByExternalID(c.ID, "ext-1")
		if err != nil || len(byExt) != 1 || byExt[0].ID != u.ID {
			t.Errorf("UsersByExternalID = %v, %v", byExt, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Update(ctx, storetest.Origin, func(tx *store.Tx) error {
		_, err := tx.UpdateUser(c.ID, u.ID, func(u *store.User) error { u.UserName = "Bob"; return nil })
		return err
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("rename onto an existing userName: got %v, want ErrConflict", err)
	}
}

func TestNoOpWriteDoesNotAdvanceRevisionOrAudit(t *testing.T) {
	db := storetest.Open(t)
	c := storetest.MustConnection(t, db, "acme")
	u := storetest.MustUser(t, db, c.ID, "alice")
	before := db.Revision()
	rev := storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		_, err := tx.UpdateUser(c.ID, u.ID, func(*store.User) error { return nil })
		return err
	})
	if rev != before || db.Revision() != before {
		t.Errorf("no-op update moved revision %d → %d (returned %d)", before, db.Revision(), rev)
	}
	if n := len(auditTypes(t, db)); n != 3 { // connection, scim config, user
		t.Errorf("audit entries = %d, want 3 (no entry for a no-op)", n)
	}
}

func TestInvalidMemberRejectsTheWholeWrite(t *testing.T) {
	db := storetest.Open(t)
	a := storetest.MustConnection(t, db, "acme")
	b := storetest.MustConnection(t, db, "globex")
	u1 := storetest.MustUser(t, db, a.ID, "u1")
	u2 := storetest.MustUser(t, db, a.ID, "u2")
	foreign := storetest.MustUser(t, db, b.ID, "intruder")
	g := storetest.MustGroup(t, db, a.ID, "Sales", u1.ID)
	rev := db.Revision()

	for _, bad := range []string{foreign.ID, "usr_0000000000000000", "string id 1", g.ID} {
		_, err := db.Update(ctx, storetest.Origin, func(tx *store.Tx) error {
			if _, err := tx.AddMembers(a.ID, g.ID, []store.Member{{ID: u2.ID}}); err != nil {
				return err
			}
			_, err := tx.AddMembers(a.ID, g.ID, []store.Member{{ID: bad}})
			return err
		})
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("adding member %q: got %v, want ErrInvalid", bad, err)
		}
	}
	if got := storetest.MemberIDs(t, db, g.ID); !slices.Equal(got, []string{u1.ID}) {
		t.Errorf("members after rejected writes = %v, want only %s (the valid add in the same write must be undone)", got, u1.ID)
	}
	if db.Revision() != rev {
		t.Errorf("rejected writes advanced the revision %d → %d", rev, db.Revision())
	}
}

func TestMembershipKeysBothWays(t *testing.T) {
	db := storetest.Open(t)
	c := storetest.MustConnection(t, db, "acme")
	u1 := storetest.MustUser(t, db, c.ID, "u1")
	u2 := storetest.MustUser(t, db, c.ID, "u2")
	u3 := storetest.MustUser(t, db, c.ID, "u3")
	g := storetest.MustGroup(t, db, c.ID, "Eng", u1.ID, u2.ID)
	h := storetest.MustGroup(t, db, c.ID, "Ops", u1.ID)

	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		if err := tx.ReplaceMembers(c.ID, g.ID, []store.Member{{ID: u2.ID}, {ID: u3.ID}}); err != nil {
			return err
		}
		_, err := tx.RemoveMembers(c.ID, h.ID, []string{u1.ID, "usr_notamember00000"})
		return err
	})
	want := []string{u2.ID, u3.ID}
	slices.Sort(want)
	if got := storetest.MemberIDs(t, db, g.ID); !slices.Equal(got, want) {
		t.Errorf("members after replace = %v, want %v", got, want)
	}
	err := db.View(func(r *store.ReadTx) error {
		if n := r.MemberCount(g.ID); n != 2 {
			t.Errorf("MemberCount = %d, want 2", n)
		}
		groups, err := r.GroupsOf(u1.ID)
		if err != nil {
			return err
		}
		if len(groups) != 0 {
			t.Errorf("u1 still in %v", groups)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Deleting a user removes its memberships; deleting a group removes its own.
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteUser(c.ID, u2.ID) })
	if got := storetest.MemberIDs(t, db, g.ID); !slices.Equal(got, []string{u3.ID}) {
		t.Errorf("members after deleting u2 = %v", got)
	}
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteGroup(c.ID, g.ID) })
	err = db.View(func(r *store.ReadTx) error {
		if groups, _ := r.GroupsOf(u3.ID); len(groups) != 0 {
			t.Errorf("u3 still member of %v after its group was deleted", groups)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestGroupCommitIsolatesFailingWrites(t *testing.T) {
	db := storetest.Open(t)
	c := storetest.MustConnection(t, db, "acme")
	start := db.Revision()

	const writers = 64
	var wg sync.WaitGroup
	errs := make([]error, writers)
	revs := make([]uint64, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			revs[i], errs[i] = db.Update(ctx, storetest.Origin, func(tx *store.Tx) error {
				u, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: fmt.Sprintf("user%d", i), Active: true})
				if err != nil {
					return err
				}
				switch i % 4 {
				case 1: // fails after writing: must be undone in place
					return errors.New("boom")
				case 2: // panics after writing: must be undone too
					_ = u
					panic("kaboom")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	ok := 0
	seen := map[uint64]bool{}
	for i, err := range errs {
		switch i % 4 {
		case 1, 2:
			if err == nil {
				t.Errorf("writer %d: expected an error", i)
			}
		default:
			if err != nil {
				t.Errorf("writer %d failed although it was valid: %v", i, err)
				continue
			}
			ok++
			if seen[revs[i]] {
				t.Errorf("revision %d handed to two writes", revs[i])
			}
			seen[revs[i]] = true
		}
	}
	if got := db.Revision() - start; got != uint64(ok) {
		t.Errorf("revision advanced by %d, want %d (one per successful write)", got, ok)
	}
	err := db.View(func(r *store.ReadTx) error {
		if n := r.UserCount(c.ID); n != ok {
			t.Errorf("UserCount = %d, want %d", n, ok)
		}
		return r.EachUser(c.ID, func(u store.User) (bool, error) {
			var i int
			fmt.Sscanf(u.UserName, "user%d", &i)
			if i%4 == 1 || i%4 == 2 {
				t.Errorf("user %s of a failed write survived", u.UserName)
			}
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAcknowledgedWritesSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := bboltdb.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := storetest.MustConnection(t, db, "acme")
	u := storetest.MustUser(t, db, c.ID, "alice")
	rev := db.Revision()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Update(ctx, storetest.Origin, func(*store.Tx) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update after Close: got %v, want ErrClosed", err)
	}

	db, err = bboltdb.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Revision() != rev {
		t.Errorf("revision after reopen = %d, want %d", db.Revision(), rev)
	}
	if err := db.View(func(r *store.ReadTx) error { _, err := r.User(c.ID, u.ID); return err }); err != nil {
		t.Errorf("user lost across reopen: %v", err)
	}
	if err := db.Verify(); err != nil {
		t.Error(err)
	}
}

func TestDeepPagesMatchAFullScan(t *testing.T) {
	db := storetest.Open(t)
	c := storetest.MustConnection(t, db, "acme")
	const n = 1000
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		for i := range n {
			if _, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: fmt.Sprintf("u%04d", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	// Punch holes so chunks are uneven.
	var all []store.User
	_ = db.View(func(r *store.ReadTx) error {
		return r.EachUser(c.ID, func(u store.User) (bool, error) { all = append(all, u); return true, nil })
	})
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		for i := 0; i < n; i += 7 {
			if err := tx.DeleteUser(c.ID, all[i].ID); err != nil {
				return err
			}
		}
		return nil
	})
	var want []string
	for i, u := range all {
		if i%7 != 0 {
			want = append(want, u.ID)
		}
	}
	err := db.View(func(r *store.ReadTx) error {
		for _, offset := range []int{0, 1, 255, 256, 300, 700, len(want) - 3, len(want), len(want) + 10} {
			page, total, err := r.UserPage(c.ID, offset, 10)
			if err != nil {
				return err
			}
			if total != len(want) {
				t.Errorf("total = %d, want %d", total, len(want))
			}
			end := min(offset+10, len(want))
			var wantPage []string
			if offset < len(want) {
				wantPage = want[offset:end]
			}
			var got []string
			for _, u := range page {
				got = append(got, u.ID)
			}
			if !slices.Equal(got, wantPage) {
				t.Errorf("page at offset %d = %v, want %v", offset, got, wantPage)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAuditEntryPerChangeInTheSameTransaction(t *testing.T) {
	db := storetest.Open(t)
	c := storetest.MustConnection(t, db, "acme")
	u1 := storetest.MustUser(t, db, c.ID, "u1")
	u2 := storetest.MustUser(t, db, c.ID, "u2")
	u3 := storetest.MustUser(t, db, c.ID, "u3")
	g := storetest.MustGroup(t, db, c.ID, "Eng")
	origin := store.Origin{Actor: store.Actor{Type: store.ActorSCIMToken, ID: "tok_x"}, Channel: store.ChannelSCIM, RequestID: "req-42"}
	rev, err := db.Update(ctx, origin, func(tx *store.Tx) error {
		_, err := tx.AddMembers(c.ID, g.ID, []store.Member{{ID: u1.ID}, {ID: u2.ID}, {ID: u3.ID}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var entries []store.AuditEntry
	_ = db.View(func(r *store.ReadTx) error {
		entries, _, err = r.AuditLog("", 100, false, store.AuditFilter{Type: "group.member.added"})
		return err
	})
	if len(entries) != 3 {
		t.Fatalf("group.member.added entries = %d, want 3 (one per membership)", len(entries))
	}
	for _, e := range entries {
		if e.Revision != rev || e.RequestID != "req-42" || e.Actor != origin.Actor || e.Channel != store.ChannelSCIM || e.Target.ID != g.ID {
			t.Errorf("entry %+v does not carry the write's revision %d, request id, actor, channel and target", e, rev)
		}
	}
}

func TestAuditLogPagesBothWays(t *testing.T) {
	db := storetest.Open(t)
	c := storetest.MustConnection(t, db, "acme")
	for i := range 5 {
		storetest.MustUser(t, db, c.ID, fmt.Sprintf("u%d", i))
	}
	all := auditTypes(t, db)
	if len(all) != 7 {
		t.Fatalf("entries = %v", all)
	}
	var ids []string
	from := ""
	for {
		var page []store.AuditEntry
		var next string
		_ = db.View(func(r *store.ReadTx) (err error) {
			page, next, err = r.AuditLog(from, 3, true, store.AuditFilter{})
			return err
		})
		for _, e := range page {
			ids = append(ids, e.ID)
		}
		if next == "" {
			break
		}
		from = next
	}
	if want := []string{"7", "6", "5", "4", "3", "2", "1"}; !slices.Equal(ids, want) {
		t.Errorf("descending ids = %v, want %v", ids, want)
	}
}

func TestSCIMTokens(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	db := storetest.Open(t, store.Options{Now: clock})
	a := storetest.MustConnection(t, db, "acme")
	var tok, shortLived store.SCIMToken
	var secret, shortSecret string
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		var err error
		if tok, secret, err = tx.CreateSCIMToken(a.ID, []string{"get:users"}, 0); err != nil {
			return err
		}
		shortLived, shortSecret, err = tx.CreateSCIMToken(a.ID, nil, time.Hour)
		return err
	})
	got, err := db.AuthenticateSCIMToken(secret)
	if err != nil || got.ID != tok.ID || got.ConnectionID != a.ID || !got.HasScope("get:users") || got.HasScope("post:users") {
		t.Fatalf("AuthenticateSCIMToken = %+v, %v", got, err)
	}
	for name, bad := range map[string]string{
		"empty": "", "garbage": "hello", "api key shape": "rck_" + secret[4:],
		"wrong secret": secret[:len(secret)-2] + "xx", "unknown id": "rcs_0000000000000000_" + secret[21:],
	} {
		if _, err := db.AuthenticateSCIMToken(bad); !errors.Is(err, store.ErrUnauthorized) {
			t.Errorf("%s token: got %v, want ErrUnauthorized", name, err)
		}
	}
	now = now.Add(2 * time.Hour)
	if _, err := db.AuthenticateSCIMToken(shortSecret); !errors.Is(err, store.ErrUnauthorized) {
		t.Errorf("expired token %s: got %v, want ErrUnauthorized", shortLived.ID, err)
	}
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteSCIMToken(a.ID, tok.ID) })
	if _, err := db.AuthenticateSCIMToken(secret); !errors.Is(err, store.ErrUnauthorized) {
		t.Errorf("revoked token: got %v, want ErrUnauthorized", err)
	}
	// No secret and no hash ever reaches the audit log.
	_ = db.View(func(r *store.ReadTx) error {
		entries, _, _ := r.AuditLog("", 100, false, store.AuditFilter{})
		raw, _ := json.Marshal(entries)
		if containsAny(string(raw), secret, shortSecret, "hash") {
			t.Errorf("audit log contains a secret or hash: %s", raw)
		}
		return nil
	})
}

func TestDeleteConnectionCascades(t *testing.T) {
	db := storetest.Open(t)
	a := storetest.MustConnection(t, db, "acme")
	b := storetest.MustConnection(t, db, "globex")
	u := storetest.MustUser(t, db, a.ID, "alice")
	storetest.MustGroup(t, db, a.ID, "Sales", u.ID)
	keep := storetest.MustUser(t, db, b.ID, "bob")
	var secret string
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		_, secret, err = tx.CreateSCIMToken(a.ID, nil, 0)
		return err
	})
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteConnection(a.ID) })
	if _, err := db.AuthenticateSCIMToken(secret); !errors.Is(err, store.ErrUnauthorized) {
		t.Errorf("token of a deleted connection still works: %v", err)
	}
	_ = db.View(func(r *store.ReadTx) error {
		if _, err := r.UserByID(u.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("user of deleted connection: %v", err)
		}
		if _, err := r.User(b.ID, keep.ID); err != nil {
			t.Errorf("user of another connection lost: %v", err)
		}
		return nil
	})
}

type recordingObserver struct {
	mu      sync.Mutex
	changes []store.Change
	rev     uint64
}

func (o *recordingObserver) Committed(rev uint64, changes []store.Change) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rev = rev
	o.changes = append(o.changes, changes...)
}

func TestObserversSeeAChangeBeforeItsWriterReturns(t *testing.T) {
	obs := &recordingObserver{}
	db := storetest.Open(t, store.Options{Observers: []store.Observer{obs}})
	c := storetest.MustConnection(t, db, "acme")
	u := storetest.MustUser(t, db, c.ID, "alice")
	g := storetest.MustGroup(t, db, c.ID, "Sales", u.ID)
	rev := storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		_, err := tx.RemoveMembers(c.ID, g.ID, []string{u.ID})
		return err
	})
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.rev != rev {
		t.Errorf("observer at revision %d when writer returned %d", obs.rev, rev)
	}
	last := obs.changes[len(obs.changes)-1]
	if last.Kind != store.MemberRemoved || last.GroupID != g.ID || last.MemberID != u.ID {
		t.Errorf("last change = %+v, want MemberRemoved %s/%s", last, g.ID, u.ID)
	}
}

func auditTypes(t *testing.T, db *store.DB) []string {
	t.Helper()
	var types []string
	_ = db.View(func(r *store.ReadTx) error {
		entries, _, err := r.AuditLog("", 1000, false, store.AuditFilter{})
		for _, e := range entries {
			types = append(types, e.Type)
		}
		return err
	})
	return types
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// A write that changes many memberships stores its audit entries as one run;
// readers must still see one entry per change, with consecutive ids, in
// order, pageable from any id in both directions, and ids must keep counting
// after a reopen.
func TestAuditRunsReadAsOneEntryPerChange(t *testing.T) {
	dir := t.TempDir()
	db, err := bboltdb.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := storetest.MustConnection(t, db, "acme")
	var ids []string
	for i := range 5 {
		ids = append(ids, storetest.MustUser(t, db, c.ID, fmt.Sprintf("u%d", i)).ID)
	}
	g := storetest.MustGroup(t, db, c.ID, "Eng")
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		members := []store.Member{{ID: ids[0]}, {ID: ids[1]}, {ID: ids[2]}, {ID: ids[3]}}
		if _, err := tx.AddMembers(c.ID, g.ID, members); err != nil {
			return err
		}
		_, err := tx.RemoveMembers(c.ID, g.ID, []string{ids[0], ids[1]})
		return err
	})
	all := func(db *store.DB, desc bool, take int, filter store.AuditFilter) (got []string) {
		from := ""
		for {
			var page []store.AuditEntry
			var next string
			if err := db.View(func(r *store.ReadTx) (err error) {
				page, next, err = r.AuditLog(from, take, desc, filter)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			for _, e := range page {
				got = append(got, e.ID+":"+e.Type)
			}
			if next == "" {
				return got
			}
			from = next
		}
	}
	asc := all(db, false, 3, store.AuditFilter{})
	if len(asc) != 14 { // connection, scim config, 5 users, group, 4 added, 2 removed
		t.Fatalf("entries = %v", asc)
	}
	for i, e := range asc {
		if !strings.HasPrefix(e, fmt.Sprintf("%d:", i+1)) {
			t.Errorf("entry %d is %s: ids must count up by one", i, e)
		}
	}
	desc := all(db, true, 4, store.AuditFilter{})
	slices.Reverse(desc)
	if !slices.Equal(desc, asc) {
		t.Errorf("newest-first paging %v differs from oldest-first %v", desc, asc)
	}
	if got := all(db, false, 1, store.AuditFilter{Type: "group.member.deleted"}); !slices.Equal(got, []string{"13:group.member.deleted", "14:group.member.deleted"}) {
		t.Errorf("filtered entries = %v", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = bboltdb.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.MustUser(t, db, c.ID, "after-reopen")
	if got := all(db, true, 1, store.AuditFilter{}); got[0] != "15:user.created" {
		t.Errorf("first entry after reopen = %s, want id 15", got[0])
	}
}

// Authentication is cached; a revocation must still take effect at once: no
// authentication that starts after the revoking write returned may succeed,
// however many readers were filling the cache meanwhile.
func TestRevokedTokenFailsAsSoonAsTheRevocationReturns(t *testing.T) {
	db := storetest.Open(t)
	c := storetest.MustConnection(t, db, "acme")
	for round := range 20 {
		var tok store.SCIMToken
		var secret string
		storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
			tok, secret, err = tx.CreateSCIMToken(c.ID, nil, 0)
			return err
		})
		var revoked atomic.Bool
		var violations atomic.Int64
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					after := revoked.Load()
					if _, err := db.AuthenticateSCIMToken(secret); err == nil && after {
						violations.Add(1)
					}
				}
			}()
		}
		time.Sleep(2 * time.Millisecond)
		storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteSCIMToken(c.ID, tok.ID) })
		revoked.Store(true)
		time.Sleep(2 * time.Millisecond)
		close(stop)
		wg.Wait()
		if n := violations.Load(); n > 0 {
			t.Fatalf("round %d: %d authentications succeeded after the revocation returned", round, n)
		}
	}
}

// Every page size walks every record exactly once: a cursor is the last
// item returned, and the next page starts after it.
func TestCursorPagingLosesNothing(t *testing.T) {
	db := storetest.Open(t)
	var cons, members []string
	var c store.Connection
	for i := range 7 {
		c = storetest.MustConnection(t, db, fmt.Sprintf("c%d", i))
		cons = append(cons, c.ID)
	}
	for i := range 7 {
		members = append(members, storetest.MustUser(t, db, c.ID, fmt.Sprintf("u%d", i)).ID)
	}
	g := storetest.MustGroup(t, db, c.ID, "g", members...)
	slices.Sort(cons) // listings are in id order; same-millisecond ids are not creation order
	slices.Sort(members)
	for take := 1; take <= 8; take++ {
		var gotCons, gotMembers []string
		_ = db.View(func(r *store.ReadTx) error {
			for after := ""; ; {
				page, next, err := r.Connections(after, take)
				if err != nil {
					return err
				}
				for _, c := range page {
					gotCons = append(gotCons, c.ID)
				}
				if next == "" {
					break
				}
				after = next
			}
			for after := ""; ; {
				page, next := r.Members(g.ID, after, take)
				for _, m := range page {
					gotMembers = append(gotMembers, m.ID)
				}
				if next == "" {
					break
				}
				after = next
			}
			return nil
		})
		if !slices.Equal(gotCons, cons) {
			t.Errorf("take %d: connections %v, want %v", take, gotCons, cons)
		}
		if !slices.Equal(gotMembers, members) {
			t.Errorf("take %d: members %v, want %v", take, gotMembers, members)
		}
	}
}
