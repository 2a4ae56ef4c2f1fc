package store_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// feedLog builds an audit log whose revisions hold one entry, runs of many
// (a group gaining members: one record of a run), and several records (a
// user created and added to a group in one write), and returns every entry.
func feedLog(t *testing.T, db *store.DB) []store.AuditEntry {
	t.Helper()
	c := storetest.MustConnection(t, db, "acme")
	var ids []string
	for i := range 40 {
		ids = append(ids, storetest.MustUser(t, db, c.ID, fmt.Sprintf("user%02d", i)).ID)
	}
	g := storetest.MustGroup(t, db, c.ID, "everyone")
	h := storetest.MustGroup(t, db, c.ID, "some")
	addAll := func(groupID string, ids []string) {
		storetest.MustUpdate(t, db, func(tx *store.Tx) error {
			members := make([]store.Member, len(ids))
			for i, id := range ids {
				members[i] = store.Member{ID: id}
			}
			_, err := tx.AddMembers(c.ID, groupID, members)
			return err
		})
	}
	addAll(g.ID, ids[:25]) // one revision, 25 entries in one record
	addAll(h.ID, ids[:1])
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		// One revision, several records: users created, then both groups gain them.
		var fresh []string
		for i := range 5 {
			u, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: fmt.Sprintf("late%d", i), Active: true, Doc: []byte(`{}`)})
			if err != nil {
				return err
			}
			fresh = append(fresh, u.ID)
		}
		for _, gid := range []string{g.ID, h.ID} {
			members := make([]store.Member, len(fresh))
			for i, id := range fresh {
				members[i] = store.Member{ID: id}
			}
			if _, err := tx.AddMembers(c.ID, gid, members); err != nil {
				return err
			}
		}
		return nil
	})
	addAll(g.ID, ids[25:])
	storetest.MustUser(t, db, c.ID, "last")

	var all []store.AuditEntry
	if err := db.View(func(r *store.ReadTx) error {
		var err error
		all, _, err = r.AuditLog("", 1<<20, false, store.AuditFilter{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return all
}

func feedPage(t *testing.T, db *store.DB, from store.FeedPosition, take int) ([]store.AuditEntry, store.FeedPosition) {
	t.Helper()
	var entries []store.AuditEntry
	var next store.FeedPosition
	if err := db.View(func(r *store.ReadTx) error {
		var err error
		entries, next, err = r.AuditFeed(from, take)
		return err
	}); err != nil {
		t.Fatalf("AuditFeed(%+v, %d): %v", from, take, err)
	}
	return entries, next
}

// TestAuditFeedPagesLoseAndRepeatNothing walks the feed with every page size
// from one entry up: pages that end inside a big revision must resume exactly
// after their last entry, and each page's Revision must never claim a
// revision whose entries are not all delivered.
func TestAuditFeedPagesLoseAndRepeatNothing(t *testing.T) {
	db := storetest.Open(t)
	all := feedLog(t, db)
	for take := 1; take <= len(all)+1; take++ {
		t.Run(strconv.Itoa(take), func(t *testing.T) {
			var got []store.AuditEntry
			var pos store.FeedPosition
			for pages := 0; ; pages++ {
				if pages > len(all)+1 {
					t.Fatalf("no end after %d pages", pages)
				}
				page, next := feedPage(t, db, pos, take)
				if len(page) > take {
					t.Fatalf("page of %d entries, take %d", len(page), take)
				}
				got = append(got, page...)
				for _, e := range all[len(got):] {
					if e.Revision <= next.Revision {
						t.Fatalf("after %d entries next.Revision = %d, but entry %s of revision %d is not delivered",
							len(got), next.Revision, e.ID, e.Revision)
					}
				}
				if len(page) == 0 {
					break
				}
				pos = next
			}
			if len(got) != len(all) {
				t.Fatalf("got %d entries, want %d", len(got), len(all))
			}
			for i := range all {
				if got[i].ID != all[i].ID {
					t.Fatalf("entry %d: got id %s, want %s", i, got[i].ID, all[i].ID)
				}
			}
		})
	}
}

// TestAuditFeedFromEveryRevision starts the feed from each revision (the
// search for the first newer entry) and from each entry id within it.
func TestAuditFeedFromEveryRevision(t *testing.T) {
	db := storetest.Open(t)
	all := feedLog(t, db)
	last := all[len(all)-1].Revision
	for from := uint64(0); from <= last+1; from++ {
		var want []string
		for _, e := range all {
			if e.Revision > from {
				want = append(want, e.ID)
			}
		}
		page, next := feedPage(t, db, store.FeedPosition{Revision: from}, len(all)+1)
		var got []string
		for _, e := range page {
			got = append(got, e.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("from revision %d: got %v, want %v", from, got, want)
		}
		if want := max(from, db.Revision()); next.Revision != want {
			t.Errorf("from revision %d: next.Revision = %d, want %d (the snapshot's)", from, next.Revision, want)
		}
	}
	for i, e := range all {
		after, _ := strconv.ParseUint(e.ID, 10, 64)
		page, _ := feedPage(t, db, store.FeedPosition{Revision: e.Revision - 1, After: after}, 1)
		if i+1 == len(all) {
			if len(page) != 0 {
				t.Errorf("after the last entry: got %v", page)
			}
			continue
		}
		if len(page) != 1 || page[0].ID != all[i+1].ID {
			t.Errorf("after entry %s: got %v, want entry %s", e.ID, page, all[i+1].ID)
		}
	}
}

func TestAuditFeedOfAnEmptyLog(t *testing.T) {
	db := storetest.Open(t)
	page, next := feedPage(t, db, store.FeedPosition{}, 10)
	if len(page) != 0 || next != (store.FeedPosition{Revision: db.Revision()}) {
		t.Errorf("empty log: got %v, %+v", page, next)
	}
}
