package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rolecall/rolecall/store"
)

// Run is the conformance suite every store engine passes: the invariants
// the store keeps over any engine (revision +1 per committed change and none
// for a no-op or a failed write, audit entries in the same transaction as
// their change, cascades, membership both ways, secondary indexes, cursor
// paging that loses nothing under concurrent inserts, hashed credentials).
// open returns a fresh, empty store for one subtest; Run checks Verify when
// each subtest ends, before the store is closed by open's own cleanup.
//
//	func TestConformance(t *testing.T) { storetest.Run(t, func(t *testing.T) *store.DB { return OpenMine(t) }) }
func Run(t *testing.T, open func(t *testing.T) *store.DB) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, db *store.DB)
	}{
		{"RevisionPerCommittedChange", revisionPerCommittedChange},
		{"ConcurrentWritesGetDistinctRevisions", concurrentWritesGetDistinctRevisions},
		{"AuditEntryInTheSameTransaction", auditEntryInTheSameTransaction},
		{"MembershipBothWays", membershipBothWays},
		{"SecondaryIndexes", secondaryIndexes},
		{"UniqueNamesPerConnection", uniqueNamesPerConnection},
		{"CascadeDeleteUser", cascadeDeleteUser},
		{"CascadeDeleteGroup", cascadeDeleteGroup},
		{"CascadeDeleteRole", cascadeDeleteRole},
		{"CascadeDeleteConnection", cascadeDeleteConnection},
		{"PagingLosesNothingUnderConcurrentInserts", pagingLosesNothingUnderConcurrentInserts},
		{"HashedCredentials", hashedCredentials},
		{"LargeWriteAndItsUndo", largeWriteAndItsUndo},
		{"RoleRules", roleRules},
		{"GroupsOfManyAnswersLikeGroupsOf", groupsOfManyAnswersLikeGroupsOf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := open(t)
			t.Cleanup(func() { // runs before open's cleanup closes db
				if err := db.Verify(); err != nil {
					t.Errorf("store invariants broken after %s:\n%v", tc.name, err)
				}
			})
			tc.run(t, db)
		})
	}
}

func view(t *testing.T, db *store.DB, fn func(r *store.ReadTx) error) {
	t.Helper()
	if err := db.View(fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func auditLog(t *testing.T, db *store.DB, filter store.AuditFilter) []store.AuditEntry {
	t.Helper()
	var all []store.AuditEntry
	view(t, db, func(r *store.ReadTx) error {
		for from := ""; ; {
			page, next, err := r.AuditLog(from, 100, false, filter)
			if err != nil {
				return err
			}
			all = append(all, page...)
			if next == "" {
				return nil
			}
			from = next
		}
	})
	return all
}

func revisionPerCommittedChange(t *testing.T, db *store.DB) {
	c := MustConnection(t, db, "acme")
	start := db.Revision()
	u := MustUser(t, db, c.ID, "alice")
	if got := db.Revision(); got != start+1 {
		t.Fatalf("revision after one write = %d, want %d", got, start+1)
	}
	// A no-op write: no revision, no audit entry.
	entries := len(auditLog(t, db, store.AuditFilter{}))
	rev := MustUpdate(t, db, func(tx *store.Tx) error {
		_, err := tx.UpdateUser(c.ID, u.ID, func(*store.User) error { return nil })
		return err
	})
	if rev != start+1 || db.Revision() != start+1 {
		t.Errorf("no-op write: returned %d, revision %d; want both %d", rev, db.Revision(), start+1)
	}
	// A failed write that had changed something: undone, no revision.
	_, err := db.Update(context.Background(), Origin, func(tx *store.Tx) error {
		if _, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: "bob"}); err != nil {
			return err
		}
		return errors.New("refused")
	})
	if err == nil || db.Revision() != start+1 {
		t.Errorf("failed write: err %v, revision %d; want an error and revision %d", err, db.Revision(), start+1)
	}
	if got := len(auditLog(t, db, store.AuditFilter{})); got != entries {
		t.Errorf("audit entries after a no-op and a failed write = %d, want %d", got, entries)
	}
	view(t, db, func(r *store.ReadTx) error {
		if _, err := r.UserByName(c.ID, "bob"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("user of the failed write: got %v, want ErrNotFound", err)
		}
		if got := r.Revision(); got != db.Revision() {
			t.Errorf("stored revision %d, DB revision %d", got, db.Revision())
		}
		return nil
	})
	// One write that makes many changes is still one revision.
	rev = MustUpdate(t, db, func(tx *store.Tx) error {
		for i := range 3 {
			if _, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: fmt.Sprintf("u%d", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if rev != start+2 {
		t.Errorf("three users in one write: revision %d, want %d", rev, start+2)
	}
}

func concurrentWritesGetDistinctRevisions(t *testing.T, db *store.DB) {
	c := MustConnection(t, db, "acme")
	start := db.Revision()
	const writers = 32
	revs := make([]uint64, writers)
	errs := make([]error, writers)
	ids := make([]string, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			revs[i], errs[i] = db.Update(context.Background(), Origin, func(tx *store.Tx) error {
				u, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: fmt.Sprintf("user%d", i)})
				if err != nil {
					return err
				}
				ids[i] = u.ID
				if i%4 == 1 {
					return errors.New("refused after writing")
				}
				return nil
			})
		})
	}
	wg.Wait()
	var got []uint64
	for i, err := range errs {
		if (err != nil) != (i%4 == 1) {
			t.Errorf("writer %d: err %v", i, err)
		}
		if err == nil {
			got = append(got, revs[i])
		}
	}
	slices.Sort(got)
	for i, rev := range got {
		if rev != start+1+uint64(i) {
			t.Fatalf("revisions of the successful writes = %v, want %d..%d without gaps or repeats", got, start+1, start+uint64(len(got)))
		}
	}
	if db.Revision() != start+uint64(len(got)) {
		t.Errorf("revision = %d, want %d", db.Revision(), start+uint64(len(got)))
	}
	// Each write's audit entry carries the revision that write returned.
	byID := map[string]uint64{}
	for i, err := range errs {
		if err == nil {
			byID[ids[i]] = revs[i]
		}
	}
	for _, e := range auditLog(t, db, store.AuditFilter{Type: "user.created"}) {
		if want, ok := byID[e.Target.ID]; ok {
			if e.Revision != want {
				t.Errorf("audit entry of %s at revision %d, its write returned %d", e.Target.ID, e.Revision, want)
			}
			delete(byID, e.Target.ID)
		}
	}
	if len(byID) != 0 {
		t.Errorf("committed writes without their audit entry: %v", byID)
	}
}

func auditEntryInTheSameTransaction(t *testing.T, db *store.DB) {
	c := MustConnection(t, db, "acme")
	u1 := MustUser(t, db, c.ID, "u1")
	u2 := MustUser(t, db, c.ID, "u2")
	g := MustGroup(t, db, c.ID, "Eng")
	origin := store.Origin{Actor: store.Actor{Type: store.ActorSCIMToken, ID: "tok_x"}, Channel: store.ChannelSCIM, RequestID: "req-42"}
	rev, err := db.Update(context.Background(), origin, func(tx *store.Tx) error {
		_, err := tx.AddMembers(c.ID, g.ID, []store.Member{{ID: u1.ID}, {ID: u2.ID}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	entries := auditLog(t, db, store.AuditFilter{Type: "group.member.added"})
	if len(entries) != 2 {
		t.Fatalf("group.member.added entries = %d, want 2 (one per membership)", len(entries))
	}
	for _, e := range entries {
		if e.Revision != rev || e.RequestID != "req-42" || e.Actor != origin.Actor || e.Target.ID != g.ID {
			t.Errorf("entry %+v does not carry the write's revision %d, request id, actor and target", e, rev)
		}
	}
	// Audit ids count up by one across writes, in commit order.
	all := auditLog(t, db, store.AuditFilter{})
	for i, e := range all {
		if e.ID != fmt.Sprint(i+1) {
			t.Fatalf("audit entry %d has id %s: ids must count up by one", i, e.ID)
		}
		if i > 0 && e.Revision < all[i-1].Revision {
			t.Errorf("audit entry %s at revision %d follows one at %d", e.ID, e.Revision, all[i-1].Revision)
		}
	}
}

func membershipBothWays(t *testing.T, db *store.DB) {
	c := MustConnection(t, db, "acme")
	u1 := MustUser(t, db, c.ID, "u1")
	u2 := MustUser(t, db, c.ID, "u2")
	u3 := MustUser(t, db, c.ID, "u3")
	g := MustGroup(t, db, c.ID, "Eng", u1.ID, u2.ID)
	h := MustGroup(t, db, c.ID, "Ops", u1.ID, g.ID) // a nested group
	MustUpdate(t, db, func(tx *store.Tx) error {
		if err := tx.ReplaceMembers(c.ID, g.ID, []store.Member{{ID: u2.ID}, {ID: u3.ID}}); err != nil {
			return err
		}
		_, err := tx.RemoveMembers(c.ID, h.ID, []string{u1.ID})
		return err
	})
	want := []string{u2.ID, u3.ID}
	slices.Sort(want)
	if got := MemberIDs(t, db, g.ID); !slices.Equal(got, want) {
		t.Errorf("members of Eng = %v, want %v", got, want)
	}
	view(t, db, func(r *store.ReadTx) error {
		if n := r.MemberCount(g.ID); n != 2 {
			t.Errorf("MemberCount = %d, want 2", n)
		}
		if !r.IsMember(g.ID, u3.ID) || r.IsMember(g.ID, u1.ID) {
			t.Errorf("IsMember disagrees with the member list")
		}
		for id, want := range map[string][]string{u1.ID: nil, u3.ID: {g.ID}, g.ID: {h.ID}} {
			groups, err := r.GroupsOf(id)
			if err != nil {
				return err
			}
			var got []string
			for _, g := range groups {
				got = append(got, g.ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("GroupsOf(%s) = %v, want %v", id, got, want)
			}
		}
		return nil
	})
	// A member of another connection is refused, and the write left no trace.
	other := MustConnection(t, db, "globex")
	foreign := MustUser(t, db, other.ID, "intruder")
	rev := db.Revision()
	_, err := db.Update(context.Background(), Origin, func(tx *store.Tx) error {
		if _, err := tx.AddMembers(c.ID, g.ID, []store.Member{{ID: u1.ID}}); err != nil {
			return err
		}
		_, err := tx.AddMembers(c.ID, g.ID, []store.Member{{ID: foreign.ID}})
		return err
	})
	if !errors.Is(err, store.ErrInvalid) || db.Revision() != rev {
		t.Errorf("foreign member: got %v at revision %d, want ErrInvalid at %d", err, db.Revision(), rev)
	}
	if got := MemberIDs(t, db, g.ID); !slices.Equal(got, want) {
		t.Errorf("members after the refused write = %v, want %v", got, want)
	}
}

func secondaryIndexes(t *testing.T, db *store.DB) {
	c := MustConnection(t, db, "acme")
	u := MustUser(t, db, c.ID, "Bjensen@Example.com")
	g := MustGroup(t, db, c.ID, "Sales Team")
	MustUpdate(t, db, func(tx *store.Tx) error {
		if _, err := tx.UpdateUser(c.ID, u.ID, func(u *store.User) error { u.ExternalID = "ext-1"; return nil }); err != nil {
			return err
		}
		_, err := tx.UpdateGroup(c.ID, g.ID, func(g *store.Group) error { g.ExternalID = "gext-1"; return nil })
		return err
	})
	check := func(userName, ext, groupName, gext string) {
		t.Helper()
		view(t, db, func(r *store.ReadTx) error {
			if got, err := r.UserByName(c.ID, strings.ToUpper(userName)); err != nil || got.ID != u.ID {
				t.Errorf("UserByName(%q) = %v, %v", userName, got.ID, err)
			}
			if got, err := r.UsersByExternalID(c.ID, ext); err != nil || len(got) != 1 || got[0].ID != u.ID {
				t.Errorf("UsersByExternalID(%q) = %v, %v", ext, got, err)
			}
			if got, err := r.GroupByName(c.ID, strings.ToLower(groupName)); err != nil || got.ID != g.ID {
				t.Errorf("GroupByName(%q) = %v, %v", groupName, got.ID, err)
			}
			if got, err := r.GroupsByExternalID(c.ID, gext); err != nil || len(got) != 1 || got[0].ID != g.ID {
				t.Errorf("GroupsByExternalID(%q) = %v, %v", gext, got, err)
			}
			if got, _, err := r.QueryUsers(store.UserQuery{ConnectionID: c.ID, UserName: userName}, "", 10); err != nil || len(got) != 1 {
				t.Errorf("QueryUsers userName eq %q = %v, %v", userName, got, err)
			}
			return nil
		})
	}
	check("Bjensen@Example.com", "ext-1", "Sales Team", "gext-1")
	// Renames move every index: the old keys find nothing.
	MustUpdate(t, db, func(tx *store.Tx) error {
		if _, err := tx.UpdateUser(c.ID, u.ID, func(u *store.User) error { u.UserName, u.ExternalID = "babs", "ext-2"; return nil }); err != nil {
			return err
		}
		_, err := tx.UpdateGroup(c.ID, g.ID, func(g *store.Group) error { g.DisplayName, g.ExternalID = "Sales", "gext-2"; return nil })
		return err
	})
	check("babs", "ext-2", "Sales", "gext-2")
	view(t, db, func(r *store.ReadTx) error {
		if _, err := r.UserByName(c.ID, "bjensen@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("old userName still resolves: %v", err)
		}
		if got, _ := r.UsersByExternalID(c.ID, "ext-1"); len(got) != 0 {
			t.Errorf("old externalId still resolves: %v", got)
		}
		if _, err := r.GroupByName(c.ID, "Sales Team"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("old displayName still resolves: %v", err)
		}
		return nil
	})
}

func uniqueNamesPerConnection(t *testing.T, db *store.DB) {
	a := MustConnection(t, db, "acme")
	b := MustConnection(t, db, "globex")
	// Concurrent creations of one userName and one displayName: exactly one
	// of each wins (the engine's single writer makes check-then-write safe).
	const racers = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := map[string]int{}
	for i := range racers {
		wg.Go(func() {
			_, err := db.Update(context.Background(), Origin, func(tx *store.Tx) error {
				if i%2 == 0 {
					_, err := tx.CreateUser(store.User{ConnectionID: a.ID, UserName: "SAME"})
					return err
				}
				_, err := tx.CreateGroup(store.Group{ConnectionID: a.ID, DisplayName: "same"}, nil)
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won[fmt.Sprint(i%2)]++
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("racer %d: got %v, want nil or ErrConflict", i, err)
			}
		})
	}
	wg.Wait()
	if won["0"] != 1 || won["1"] != 1 {
		t.Errorf("winners = %v, want one user and one group", won)
	}
	// The same names in another connection are other records.
	MustUser(t, db, b.ID, "same")
	MustGroup(t, db, b.ID, "SAME")
}

func cascadeDeleteUser(t *testing.T, db *store.DB) {
	c := MustConnection(t, db, "acme")
	u := MustUser(t, db, c.ID, "alice")
	keep := MustUser(t, db, c.ID, "bob")
	g := MustGroup(t, db, c.ID, "Eng", u.ID, keep.ID)
	var role store.Role
	MustUpdate(t, db, func(tx *store.Tx) (err error) {
		if role, err = tx.CreateRole(store.Role{Name: "admin"}); err != nil {
			return err
		}
		_, err = tx.BindUserRoles(u.ID, []string{role.ID})
		return err
	})
	MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteUser(c.ID, u.ID) })
	if got := MemberIDs(t, db, g.ID); !slices.Equal(got, []string{keep.ID}) {
		t.Errorf("members after deleting alice = %v, want [%s]", got, keep.ID)
	}
	view(t, db, func(r *store.ReadTx) error {
		if n := r.MemberCount(g.ID); n != 1 {
			t.Errorf("MemberCount = %d, want 1", n)
		}
		if ids, _, _ := r.RoleUsers(role.ID, "", 10); len(ids) != 0 {
			t.Errorf("role still bound to the deleted user: %v", ids)
		}
		if _, err := r.UserByName(c.ID, "alice"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted user's name still resolves: %v", err)
		}
		if n := r.UserCount(c.ID); n != 1 {
			t.Errorf("UserCount = %d, want 1", n)
		}
		return nil
	})
}

func cascadeDeleteGroup(t *testing.T, db *store.DB) {
	c := MustConnection(t, db, "acme")
	u := MustUser(t, db, c.ID, "alice")
	g := MustGroup(t, db, c.ID, "Eng", u.ID)
	outer := MustGroup(t, db, c.ID, "All", g.ID)
	var role store.Role
	MustUpdate(t, db, func(tx *store.Tx) (err error) {
		if role, err = tx.CreateRole(store.Role{Name: "eng"}); err != nil {
			return err
		}
		_, err = tx.BindGroupRoles(g.ID, []string{role.ID})
		return err
	})
	MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteGroup(c.ID, g.ID) })
	view(t, db, func(r *store.ReadTx) error {
		if groups, _ := r.GroupsOf(u.ID); len(groups) != 0 {
			t.Errorf("alice still in %v after her group was deleted", groups)
		}
		if r.IsMember(outer.ID, g.ID) || r.MemberCount(outer.ID) != 0 {
			t.Errorf("the deleted group is still a member of its parent")
		}
		if ids, _, _ := r.RoleGroups(role.ID, "", 10); len(ids) != 0 {
			t.Errorf("role still bound to the deleted group: %v", ids)
		}
		return nil
	})
}

func cascadeDeleteRole(t *testing.T, db *store.DB) {
	c := MustConnection(t, db, "acme")
	u := MustUser(t, db, c.ID, "alice")
	g := MustGroup(t, db, c.ID, "Eng", u.ID)
	var role store.Role
	MustUpdate(t, db, func(tx *store.Tx) (err error) {
		if role, err = tx.CreateRole(store.Role{Name: "admin"}); err != nil {
			return err
		}
		if _, err = tx.BindGroupRoles(g.ID, []string{role.ID}); err != nil {
			return err
		}
		_, err = tx.BindUserRoles(u.ID, []string{role.ID})
		return err
	})
	MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteRole(role.ID) })
	view(t, db, func(r *store.ReadTx) error {
		if ids, _ := r.GroupRoles(g.ID); len(ids) != 0 {
			t.Errorf("group still has roles %v", ids)
		}
		if ids, _ := r.UserRoles(u.ID); len(ids) != 0 {
			t.Errorf("user still has roles %v", ids)
		}
		if _, err := r.Role(role.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted role: %v", err)
		}
		return nil
	})
}

func cascadeDeleteConnection(t *testing.T, db *store.DB) {
	a := MustConnection(t, db, "acme")
	b := MustConnection(t, db, "globex")
	u := MustUser(t, db, a.ID, "alice")
	g := MustGroup(t, db, a.ID, "Sales", u.ID)
	keep := MustUser(t, db, b.ID, "bob")
	var secret string
	MustUpdate(t, db, func(tx *store.Tx) (err error) {
		_, secret, err = tx.CreateSCIMToken(a.ID, nil, 0)
		return err
	})
	if _, err := db.AuthenticateSCIMToken(secret); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteConnection(a.ID) })
	if _, err := db.AuthenticateSCIMToken(secret); !errors.Is(err, store.ErrUnauthorized) {
		t.Errorf("token of a deleted connection: got %v, want ErrUnauthorized", err)
	}
	view(t, db, func(r *store.ReadTx) error {
		if _, err := r.UserByID(u.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("user of the deleted connection: %v", err)
		}
		if _, err := r.GroupByID(g.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("group of the deleted connection: %v", err)
		}
		if _, err := r.User(b.ID, keep.ID); err != nil {
			t.Errorf("user of another connection lost: %v", err)
		}
		return nil
	})
}

// Pages are read in separate transactions while other writers insert: every
// record that existed before the walk appears exactly once, in order.
func pagingLosesNothingUnderConcurrentInserts(t *testing.T, db *store.DB) {
	c := MustConnection(t, db, "acme")
	var before []string
	MustUpdate(t, db, func(tx *store.Tx) error {
		for i := range 300 {
			u, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: fmt.Sprintf("u%04d", i)})
			if err != nil {
				return err
			}
			before = append(before, u.ID)
		}
		return nil
	})
	g := MustGroup(t, db, c.ID, "all")
	MustUpdate(t, db, func(tx *store.Tx) error {
		members := make([]store.Member, len(before))
		for i, id := range before {
			members[i] = store.Member{ID: id}
		}
		_, err := tx.AddMembers(c.ID, g.ID, members)
		return err
	})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			MustUpdate(t, db, func(tx *store.Tx) error {
				u, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: fmt.Sprintf("new%04d", i)})
				if err != nil {
					return err
				}
				_, err = tx.AddMembers(c.ID, g.ID, []store.Member{{ID: u.ID}})
				return err
			})
		}
	})
	walk := func(page func(r *store.ReadTx, after string) ([]string, string, error)) []string {
		var got []string
		for after := ""; ; {
			var ids []string
			var next string
			view(t, db, func(r *store.ReadTx) (err error) {
				ids, next, err = page(r, after)
				return err
			})
			got = append(got, ids...)
			if next == "" {
				return got
			}
			after = next
		}
	}
	users := walk(func(r *store.ReadTx, after string) ([]string, string, error) {
		list, next, err := r.QueryUsers(store.UserQuery{ConnectionID: c.ID}, after, 7)
		ids := make([]string, len(list))
		for i, u := range list {
			ids[i] = u.ID
		}
		return ids, next, err
	})
	members := walk(func(r *store.ReadTx, after string) ([]string, string, error) {
		list, next := r.Members(g.ID, after, 7)
		ids := make([]string, len(list))
		for i, m := range list {
			ids[i] = m.ID
		}
		return ids, next, nil
	})
	close(stop)
	wg.Wait()
	for name, got := range map[string][]string{"users": users, "members": members} {
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				t.Errorf("%s: %s listed twice", name, id)
			}
			seen[id] = true
		}
		for _, id := range before {
			if !seen[id] {
				t.Errorf("%s: %s, present before the walk, was never listed", name, id)
			}
		}
	}
	if !slices.IsSorted(members) {
		t.Errorf("members are not in id order")
	}
}

func hashedCredentials(t *testing.T, db *store.DB) {
	c := MustConnection(t, db, "acme")
	var tok store.SCIMToken
	var secret, keySecret string
	MustUpdate(t, db, func(tx *store.Tx) (err error) {
		if tok, secret, err = tx.CreateSCIMToken(c.ID, []string{"get:users"}, 0); err != nil {
			return err
		}
		_, keySecret, err = tx.CreateAPIKey("ci", nil, 0)
		return err
	})
	if got, err := db.AuthenticateSCIMToken(secret); err != nil || got.ID != tok.ID {
		t.Fatalf("AuthenticateSCIMToken = %+v, %v", got, err)
	}
	if _, err := db.AuthenticateAPIKey(keySecret); err != nil {
		t.Fatalf("AuthenticateAPIKey: %v", err)
	}
	if _, err := db.AuthenticateSCIMToken(secret[:len(secret)-2] + "xx"); !errors.Is(err, store.ErrUnauthorized) {
		t.Errorf("wrong secret: got %v, want ErrUnauthorized", err)
	}
	// Neither the secret nor its hash is readable back.
	view(t, db, func(r *store.ReadTx) error {
		toks, err := r.SCIMTokens(c.ID)
		if err != nil {
			return err
		}
		keys, err := r.APIKeys()
		if err != nil {
			return err
		}
		entries, _, err := r.AuditLog("", 100, false, store.AuditFilter{})
		raw, _ := json.Marshal([]any{toks, keys, entries})
		for _, s := range []string{secret, keySecret, secret[21:], "hash"} {
			if strings.Contains(string(raw), s) {
				t.Errorf("a token listing or the audit log contains %q", s)
			}
		}
		return err
	})
	MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteSCIMToken(c.ID, tok.ID) })
	if _, err := db.AuthenticateSCIMToken(secret); !errors.Is(err, store.ErrUnauthorized) {
		t.Errorf("revoked token: got %v, want ErrUnauthorized", err)
	}
}

// A write larger than any engine batch (cursor pages, flushes), undone
// because a later step fails, leaves nothing; done again, it all commits.
func largeWriteAndItsUndo(t *testing.T, db *store.DB) {
	c := MustConnection(t, db, "acme")
	create := func(tx *store.Tx) error {
		var members []store.Member
		for i := range 1500 {
			u, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: fmt.Sprintf("u%05d", i)})
			if err != nil {
				return err
			}
			members = append(members, store.Member{ID: u.ID})
		}
		_, err := tx.CreateGroup(store.Group{ConnectionID: c.ID, DisplayName: "big"}, members)
		return err
	}
	rev := db.Revision()
	_, err := db.Update(context.Background(), Origin, func(tx *store.Tx) error {
		if err := create(tx); err != nil {
			return err
		}
		return errors.New("refused at the end")
	})
	if err == nil || db.Revision() != rev {
		t.Fatalf("refused write: err %v, revision %d (want %d)", err, db.Revision(), rev)
	}
	view(t, db, func(r *store.ReadTx) error {
		if n := r.UserCount(c.ID); n != 0 {
			t.Errorf("UserCount after the undone write = %d, want 0", n)
		}
		return nil
	})
	MustUpdate(t, db, create)
	var g store.Group
	view(t, db, func(r *store.ReadTx) (err error) {
		if n := r.UserCount(c.ID); n != 1500 {
			t.Errorf("UserCount = %d, want 1500", n)
		}
		g, err = r.GroupByName(c.ID, "big")
		return err
	})
	if n := len(MemberIDs(t, db, g.ID)); n != 1500 {
		t.Errorf("members = %d, want 1500", n)
	}
	MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteGroup(c.ID, g.ID) })
}
