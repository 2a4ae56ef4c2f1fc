package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/rolecall/rolecall/store"
)

// groupsOfManyAnswersLikeGroupsOf: GroupsOfMany answers exactly as GroupsOf
// for each id (users and groups, repeated, unknown, in no group, in more
// groups than a network engine reads at once), inside a write that has just
// changed memberships and not yet committed them, and after the commit; a
// bound stops it before a member, never inside one.
func groupsOfManyAnswersLikeGroupsOf(t *testing.T, db *store.DB) {
	con := MustConnection(t, db, "acme")
	users := SeedUsers(t, db, con.ID, 5)
	g0 := MustGroup(t, db, con.ID, "g0", users[0], users[1])
	g1 := MustGroup(t, db, con.ID, "g1", users[1], users[3])
	MustGroup(t, db, con.ID, "g2", g0.ID)
	MustUpdate(t, db, func(tx *store.Tx) error { // users[3] in 300 groups
		for i := range 300 {
			if _, err := tx.CreateGroup(store.Group{ConnectionID: con.ID, DisplayName: fmt.Sprintf("many%03d", i)},
				[]store.Member{{ID: users[3]}}); err != nil {
				return err
			}
		}
		return nil
	})
	ids := append(slices.Clone(users), g0.ID, g1.ID, users[1], "usr_00000000000000000000000000")

	check := func(t *testing.T, r *store.ReadTx) {
		t.Helper()
		got, err := r.GroupsOfMany(ids, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(ids) {
			t.Fatalf("GroupsOfMany answered %d members, want %d", len(got), len(ids))
		}
		for i, id := range ids {
			want, err := r.GroupsOf(id)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got[i], want, func(a, b store.Group) bool { return a.ID == b.ID && a.DisplayName == b.DisplayName }) {
				t.Errorf("GroupsOfMany[%d] (%s) = %d groups %v, want GroupsOf's %d %v", i, id, len(got[i]), groupIDs(got[i]), len(want), groupIDs(want))
			}
		}
		for _, most := range []int{1, 2, 3, 301} {
			part, err := r.GroupsOfMany(ids, most)
			if err != nil {
				t.Fatal(err)
			}
			if len(part) == 0 || len(part) > len(ids) {
				t.Fatalf("most %d: answered %d members", most, len(part))
			}
			n := 0
			for i := range part {
				if !slices.EqualFunc(part[i], got[i], func(a, b store.Group) bool { return a.ID == b.ID }) {
					t.Errorf("most %d: member %d has %v, want %v", most, i, groupIDs(part[i]), groupIDs(got[i]))
				}
				n += len(part[i])
			}
			if len(part) < len(ids) && n < most {
				t.Errorf("most %d: stopped after %d members in %d groups", most, len(part), n)
			}
		}
	}
	MustUpdate(t, db, func(tx *store.Tx) error {
		if _, err := tx.AddMembers(con.ID, g1.ID, []store.Member{{ID: users[2]}, {ID: users[4]}}); err != nil {
			return err
		}
		if _, err := tx.RemoveMembers(con.ID, g0.ID, []string{users[1]}); err != nil {
			return err
		}
		if _, err := tx.CreateGroup(store.Group{ConnectionID: con.ID, DisplayName: "g3"}, []store.Member{{ID: users[4]}, {ID: g1.ID}}); err != nil {
			return err
		}
		t.Run("in the write", func(t *testing.T) { check(t, &tx.ReadTx) })
		return nil
	})
	t.Run("committed", func(t *testing.T) { view(t, db, func(r *store.ReadTx) error { check(t, r); return nil }) })
}

func groupIDs(gs []store.Group) []string {
	ids := make([]string, len(gs))
	for i, g := range gs {
		ids[i] = g.DisplayName
	}
	return ids
}
