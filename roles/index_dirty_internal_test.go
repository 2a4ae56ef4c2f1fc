package roles

import (
	"slices"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// A membership change marks its user only where the group can pass roles
// on, yet never loses a user whose roles an unbinding took away: the group
// the unbinding marked may be expanded after the user has left it.
func TestMembershipMarksOnlyWhereTheGroupGrants(t *testing.T) {
	ix := NewIndex()
	db := storetest.Open(t, store.Options{Observers: []store.Observer{ix}})
	if err := ix.Load(db); err != nil {
		t.Fatal(err)
	}
	do := func(fn func(tx *store.Tx) error) { t.Helper(); storetest.MustUpdate(t, db, fn) }
	conn := storetest.MustConnection(t, db, "acme")
	alice := storetest.MustUser(t, db, conn.ID, "alice")
	bob := storetest.MustUser(t, db, conn.ID, "bob")
	carol := storetest.MustUser(t, db, conn.ID, "carol")
	eng := storetest.MustGroup(t, db, conn.ID, "Eng", alice.ID)
	plain := storetest.MustGroup(t, db, conn.ID, "Plain")
	parent := storetest.MustGroup(t, db, conn.ID, "Parent")
	var admin store.Role
	do(func(tx *store.Tx) (err error) {
		admin, err = tx.CreateRole(store.Role{Name: "admin"})
		if err != nil {
			return err
		}
		_, err = tx.BindGroupRoles(eng.ID, []string{admin.ID})
		return err
	})
	addMember := func(g store.Group, id string) {
		do(func(tx *store.Tx) error { _, err := tx.AddMembers(conn.ID, g.ID, []store.Member{{ID: id}}); return err })
	}
	removeMember := func(g store.Group, id string) {
		do(func(tx *store.Tx) error { _, err := tx.RemoveMembers(conn.ID, g.ID, []string{id}); return err })
	}
	ix.trackDirty(false)
	taken := func() []string {
		set, _ := ix.takeDirty()
		return ix.dirtyUsers(set)
	}

	addMember(plain, bob.ID)
	if got := taken(); len(got) != 0 {
		t.Errorf("joining a group without roles marked %v, want no one", got)
	}
	addMember(eng, bob.ID)
	if got := taken(); !slices.Equal(got, []string{bob.ID}) {
		t.Errorf("joining a group with roles marked %v, want bob %s", got, bob.ID)
	}

	// Unbound and left in one write: the group is still to be expanded.
	do(func(tx *store.Tx) error {
		if _, err := tx.UnbindGroupRoles(eng.ID, []string{admin.ID}); err != nil {
			return err
		}
		_, err := tx.RemoveMembers(conn.ID, eng.ID, []string{bob.ID})
		return err
	})
	if got := taken(); !slices.Contains(got, bob.ID) || !slices.Contains(got, alice.ID) {
		t.Errorf("unbinding then leaving in one write marked %v, want alice and bob", got)
	}

	// Unbound, taken by the deriver, and left before the deriver expands
	// the group to its members.
	do(func(tx *store.Tx) error { _, err := tx.BindGroupRoles(eng.ID, []string{admin.ID}); return err })
	taken()
	do(func(tx *store.Tx) error { _, err := tx.UnbindGroupRoles(eng.ID, []string{admin.ID}); return err })
	set, _ := ix.takeDirty()
	removeMember(eng, alice.ID)
	got := append(ix.dirtyUsers(set), taken()...)
	if !slices.Contains(got, alice.ID) {
		t.Errorf("leaving a group whose expansion was pending marked %v, want alice %s among them", got, alice.ID)
	}

	// With nesting, a group passes on the roles of the groups above it.
	do(func(tx *store.Tx) error {
		if _, err := tx.UpdateTenantSettings(func(s *store.TenantSettings) error { s.NestedGroupRoles = true; return nil }); err != nil {
			return err
		}
		_, err := tx.BindGroupRoles(parent.ID, []string{admin.ID})
		return err
	})
	addMember(parent, plain.ID)
	taken()
	addMember(plain, carol.ID)
	if got := taken(); !slices.Equal(got, []string{carol.ID}) {
		t.Errorf("joining a member group of a group with roles marked %v, want carol %s", got, carol.ID)
	}
}

// A commit without changes (another node's deriver recording states)
// still wakes the deriver, which has then derived through its revision:
// otherwise it reports itself behind until the next change.
func TestACommitWithoutChangesWakesTheDeriver(t *testing.T) {
	ix := NewIndex()
	db := storetest.Open(t, store.Options{Observers: []store.Observer{ix}})
	if err := ix.Load(db); err != nil {
		t.Fatal(err)
	}
	_, wake, _, _ := ix.trackDirty(false)
	select {
	case <-wake:
	default:
	}
	ix.Committed(db.Revision()+1, nil)
	select {
	case <-wake:
	default:
		t.Fatal("the deriver was not woken")
	}
}
