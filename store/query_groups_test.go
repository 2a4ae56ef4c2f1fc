package store_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

func mustGroupExt(t testing.TB, db *store.DB, conID, name, externalID string) store.Group {
	t.Helper()
	var g store.Group
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		g, err = tx.CreateGroup(store.Group{ConnectionID: conID, DisplayName: name, ExternalID: externalID}, nil)
		return err
	})
	return g
}

// pageAll follows next cursors until the end and returns every item's id,
// failing on a repeated id or a cursor that does not advance.
func pageAll[T any](t *testing.T, take int, id func(T) string, list func(after string, take int) ([]T, string, error)) []string {
	t.Helper()
	var ids []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		page, next, err := list(after, take)
		if err != nil {
			t.Fatalf("page after %q: %v", after, err)
		}
		if len(page) > take {
			t.Fatalf("page of %d items, take %d", len(page), take)
		}
		if next != "" && len(page) < take {
			t.Fatalf("short page (%d of %d) with a next cursor %q", len(page), take, next)
		}
		for _, v := range page {
			if slices.Contains(ids, id(v)) {
				t.Fatalf("%s listed twice (page after %q)", id(v), after)
			}
			ids = append(ids, id(v))
		}
		if next == "" {
			return ids
		}
		after = next
	}
}

func groupID(g store.Group) string { return g.ID }

func queryGroups(t *testing.T, db *store.DB, q store.GroupQuery, take int) []string {
	t.Helper()
	var ids []string
	if err := db.View(func(r *store.ReadTx) error {
		ids = pageAll(t, take, groupID, func(after string, take int) ([]store.Group, string, error) {
			return r.QueryGroups(q, after, take)
		})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestQueryGroupsUsesEachFilterAndPagesWithoutGapsOrRepeats(t *testing.T) {
	db := storetest.Open(t)
	acme := storetest.MustConnection(t, db, "acme")
	globex := storetest.MustConnection(t, db, "globex")
	var acmeIDs, all []string
	for i := range 7 {
		g := mustGroupExt(t, db, acme.ID, fmt.Sprintf("Engineering %d", i), fmt.Sprintf("ext-%d", i%2))
		acmeIDs = append(acmeIDs, g.ID)
		all = append(all, g.ID)
	}
	ops := mustGroupExt(t, db, globex.ID, "Engineering 3", "ext-1")
	sales := mustGroupExt(t, db, globex.ID, "Sales", "")
	all = append(all, ops.ID, sales.ID)
	slices.Sort(all)

	tests := []struct {
		name string
		q    store.GroupQuery
		want []string
	}{
		{"everything in id order", store.GroupQuery{}, all},
		{"a connection in creation order", store.GroupQuery{ConnectionID: acme.ID}, acmeIDs},
		{"a name across connections, any case", store.GroupQuery{Name: "ENGINEERING 3"}, sorted(acmeIDs[3], ops.ID)},
		{"a name within a connection", store.GroupQuery{ConnectionID: globex.ID, Name: "engineering 3"}, []string{ops.ID}},
		{"a name is not a prefix", store.GroupQuery{Name: "Engineering"}, nil},
		{"an externalId across connections", store.GroupQuery{ExternalID: "ext-1"}, sorted(acmeIDs[1], acmeIDs[3], acmeIDs[5], ops.ID)},
		{"an externalId is exact", store.GroupQuery{ExternalID: "EXT-1"}, nil},
		{"name and externalId together", store.GroupQuery{Name: "engineering 3", ExternalID: "ext-1", ConnectionID: acme.ID}, []string{acmeIDs[3]}},
		{"a search across connections", store.GroupQuery{Search: "NEERING 3"}, sorted(acmeIDs[3], ops.ID)},
		{"a search within a connection, in id order", store.GroupQuery{ConnectionID: acme.ID, Search: "engineering"}, sorted(slices.Clone(acmeIDs)...)},
		{"a search with an externalId", store.GroupQuery{ExternalID: "ext-0", Search: "4"}, []string{acmeIDs[4]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, take := range []int{1, 2, 3, 100} {
				if got := queryGroups(t, db, tt.q, take); !slices.Equal(got, tt.want) {
					t.Errorf("take %d: got %v, want %v", take, got, tt.want)
				}
			}
			_ = db.View(func(r *store.ReadTx) error {
				groups, next, err := r.QueryGroups(tt.q, "", 0)
				var got []string
				for _, g := range groups {
					got = append(got, g.ID)
				}
				if err != nil || next != "" || !slices.Equal(got, tt.want) {
					t.Errorf("take 0 (no limit): %v, next %q, err %v; want %v in one page", got, next, err, tt.want)
				}
				return nil
			})
		})
	}
}

func sorted(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

func TestQueryGroupsCursorSurvivesDeletionOfTheLastGroupListed(t *testing.T) {
	for _, byConnection := range []bool{true, false} {
		t.Run(fmt.Sprintf("byConnection=%v", byConnection), func(t *testing.T) {
			db := storetest.Open(t)
			c := storetest.MustConnection(t, db, "acme")
			var ids []string
			for i := range 4 {
				ids = append(ids, storetest.MustGroup(t, db, c.ID, fmt.Sprintf("g%d", i)).ID)
			}
			q := store.GroupQuery{}
			if byConnection {
				q.ConnectionID = c.ID // creation order
			} else {
				slices.Sort(ids) // id order: ids made in one millisecond are not in creation order
			}
			var next string
			_ = db.View(func(r *store.ReadTx) (err error) {
				_, next, err = r.QueryGroups(q, "", 2)
				return err
			})
			storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteGroup(c.ID, ids[1]) })
			var page []store.Group
			_ = db.View(func(r *store.ReadTx) (err error) {
				page, next, err = r.QueryGroups(q, next, 2)
				return err
			})
			if len(page) != 2 || page[0].ID != ids[2] || page[1].ID != ids[3] || next != "" {
				t.Errorf("page after deleting the cursor's group = %v (next %q), want %s and %s and no next", page, next, ids[2], ids[3])
			}
		})
	}
}

func TestQueryGroupsRejectsUnknownConnectionsAndForeignCursors(t *testing.T) {
	db := storetest.Open(t)
	c := storetest.MustConnection(t, db, "acme")
	storetest.MustGroup(t, db, c.ID, "g")
	_ = db.View(func(r *store.ReadTx) error {
		if _, _, err := r.QueryGroups(store.GroupQuery{ConnectionID: "con_0000000000000000"}, "", 10); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown connection: %v, want ErrNotFound", err)
		}
		if _, _, err := r.QueryGroups(store.GroupQuery{ConnectionID: "nonsense"}, "", 10); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("malformed connection id: %v, want ErrNotFound", err)
		}
		for _, tt := range []struct {
			q     store.GroupQuery
			after string
		}{
			{store.GroupQuery{ConnectionID: c.ID}, "grp_0000000000000000"},
			{store.GroupQuery{}, "17"},
			{store.GroupQuery{Name: "g"}, "usr_0000000000000000"},
		} {
			if _, _, err := r.QueryGroups(tt.q, tt.after, 10); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("query %+v after %q: %v, want ErrInvalid", tt.q, tt.after, err)
			}
		}
		return nil
	})
}

// BenchmarkQueryGroups pages 10k groups of one connection among 20k: a page
// by connection or name must not depend on how many groups there are.
func BenchmarkQueryGroups(b *testing.B) {
	db := storetest.Open(b)
	acme := storetest.MustConnection(b, db, "acme")
	other := storetest.MustConnection(b, db, "other")
	for _, c := range []store.Connection{other, acme} {
		storetest.MustUpdate(b, db, func(tx *store.Tx) error {
			for i := range 10_000 {
				if _, err := tx.CreateGroup(store.Group{ConnectionID: c.ID, DisplayName: fmt.Sprintf("group %05d", i)}, nil); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for _, bc := range []struct {
		name string
		q    store.GroupQuery
	}{
		{"connection", store.GroupQuery{ConnectionID: acme.ID}},
		{"name", store.GroupQuery{Name: "GROUP 09999"}},
		{"all", store.GroupQuery{}},
		{"search-sparse", store.GroupQuery{Search: "99"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				_ = db.View(func(r *store.ReadTx) error {
					_, _, err := r.QueryGroups(bc.q, "", 50)
					return err
				})
			}
		})
	}
}
