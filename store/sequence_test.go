package store_test

import (
	"slices"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// TestSequenceWindowsWalkCreationOrder pages a connection's users and groups
// by sequence number in both directions, with another connection's records
// interleaved and a deleted record in the middle.
func TestSequenceWindowsWalkCreationOrder(t *testing.T) {
	db := storetest.Open(t)
	a := storetest.MustConnection(t, db, "acme")
	b := storetest.MustConnection(t, db, "globex")
	var users []store.User
	var groups []store.Group
	for i := range 6 {
		users = append(users, storetest.MustUser(t, db, a.ID, "u"+string(rune('a'+i))))
		groups = append(groups, storetest.MustGroup(t, db, a.ID, "g"+string(rune('a'+i))))
		storetest.MustUser(t, db, b.ID, "other"+string(rune('a'+i)))
		storetest.MustGroup(t, db, b.ID, "other"+string(rune('a'+i)))
	}
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		if err := tx.DeleteUser(a.ID, users[2].ID); err != nil {
			return err
		}
		return tx.DeleteGroup(a.ID, groups[2].ID)
	})
	for i := 1; i < len(users); i++ {
		if users[i].Sequence() <= users[i-1].Sequence() || groups[i].Sequence() <= groups[i-1].Sequence() {
			t.Fatalf("sequence numbers do not grow with creation: users %d→%d, groups %d→%d",
				users[i-1].Sequence(), users[i].Sequence(), groups[i-1].Sequence(), groups[i].Sequence())
		}
	}
	live := []int{0, 1, 3, 4, 5}
	seq := func(i int) uint64 { return users[i].Sequence() }
	cases := []struct {
		name     string
		before   bool
		seq      uint64
		limit    int
		want     []int
		wantMore bool
	}{
		{"after 0, all", false, 0, 10, live, false},
		{"after 0, two", false, 0, 2, []int{0, 1}, true},
		{"after the second", false, seq(1), 2, []int{3, 4}, true},
		{"after the deleted one", false, seq(2), 5, []int{3, 4, 5}, false},
		{"after the last", false, seq(5), 5, nil, false},
		{"after, limit 0 with more", false, seq(4), 0, nil, true},
		{"after the largest sequence", false, ^uint64(0), 3, nil, false},
		{"before the last", true, seq(5), 2, []int{3, 4}, true},
		{"before the deleted one", true, seq(2), 5, []int{0, 1}, false},
		{"before the first", true, seq(0), 5, nil, false},
		{"before everything to come", true, ^uint64(0), 3, []int{3, 4, 5}, true},
		{"before, limit 0 with more", true, seq(1), 0, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want, wantGroups []string
			for _, i := range c.want {
				want = append(want, users[i].ID)
				wantGroups = append(wantGroups, groups[i].ID)
			}
			// Users and groups were created in step, so their sequence
			// numbers agree and one table serves both.
			gseq := c.seq
			err := db.View(func(r *store.ReadTx) error {
				var us []store.User
				var gs []store.Group
				var more, gmore bool
				var err error
				if c.before {
					us, more, err = r.UsersBefore(a.ID, c.seq, c.limit)
					if err == nil {
						gs, gmore, err = r.GroupsBefore(a.ID, gseq, c.limit)
					}
				} else {
					us, more, err = r.UsersAfter(a.ID, c.seq, c.limit)
					if err == nil {
						gs, gmore, err = r.GroupsAfter(a.ID, gseq, c.limit)
					}
				}
				if err != nil {
					return err
				}
				var got, gotGroups []string
				for _, u := range us {
					got = append(got, u.ID)
				}
				for _, g := range gs {
					gotGroups = append(gotGroups, g.ID)
				}
				if !slices.Equal(got, want) || more != c.wantMore {
					t.Errorf("users: got %v more=%v, want %v more=%v", got, more, want, c.wantMore)
				}
				if !slices.Equal(gotGroups, wantGroups) || gmore != c.wantMore {
					t.Errorf("groups: got %v more=%v, want %v more=%v", gotGroups, gmore, wantGroups, c.wantMore)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
