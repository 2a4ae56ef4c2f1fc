package store_test

import (
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// seedUsers creates n users named u0000000… in one write and returns their ids.
func seedUsers(b *testing.B, db *store.DB, conID string, n int) []string {
	b.Helper()
	ids := make([]string, 0, n)
	const perWrite = 20000
	for start := 0; start < n; start += perWrite {
		storetest.MustUpdate(b, db, func(tx *store.Tx) error {
			for i := start; i < min(start+perWrite, n); i++ {
				u, err := tx.CreateUser(store.User{ConnectionID: conID, UserName: fmt.Sprintf("u%07d@example.com", i), Active: true, Doc: []byte(`{"active":true}`)})
				if err != nil {
					return err
				}
				ids = append(ids, u.ID)
			}
			return nil
		})
	}
	return ids
}

func BenchmarkUserByName(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			db := storetest.Open(b)
			c := storetest.MustConnection(b, db, "acme")
			seedUsers(b, db, c.ID, n)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				name := fmt.Sprintf("U%07d@EXAMPLE.com", (i*7919)%n)
				if err := db.View(func(r *store.ReadTx) error { _, err := r.UserByName(c.ID, name); return err }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAddMember adds (and removes again, to keep sizes constant) one
// member of a group of 1k members and of a group of 100k members, durably, in
// the same database: the cost must not depend on the group's size, because a
// membership is its own key and the member list is never rewritten.
func BenchmarkAddMember(b *testing.B) {
	db := storetest.Open(b, store.Options{NoSync: os.Getenv("ROLECALL_BENCH_NOSYNC") != ""})
	c := storetest.MustConnection(b, db, "acme")
	const spare = 20_000
	ids := seedUsers(b, db, c.ID, 100_000+spare)
	groups := map[int]store.Group{}
	for _, n := range []int{1_000, 100_000} {
		g := storetest.MustGroup(b, db, c.ID, fmt.Sprintf("size-%d", n))
		storetest.MustUpdate(b, db, func(tx *store.Tx) error {
			members := make([]store.Member, n)
			for i := range n {
				members[i] = store.Member{ID: ids[i]}
			}
			_, err := tx.AddMembers(c.ID, g.ID, members)
			return err
		})
		groups[n] = g
	}
	for _, n := range []int{1_000, 100_000} {
		g := groups[n]
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				id := ids[100_000+i%spare]
				storetest.MustUpdate(b, db, func(tx *store.Tx) error {
					if _, err := tx.AddMembers(c.ID, g.ID, []store.Member{{ID: id}}); err != nil {
						return err
					}
					_, err := tx.RemoveMembers(c.ID, g.ID, []string{id})
					return err
				})
			}
		})
	}
}

func BenchmarkUserPage(b *testing.B) {
	db := storetest.Open(b)
	c := storetest.MustConnection(b, db, "acme")
	seedUsers(b, db, c.ID, 100_000)
	for _, offset := range []int{0, 99_900} {
		b.Run(fmt.Sprintf("offset=%d", offset), func(b *testing.B) {
			for b.Loop() {
				if err := db.View(func(r *store.ReadTx) error {
					page, _, err := r.UserPage(c.ID, offset, 100)
					if len(page) != 100 {
						b.Fatalf("page has %d users", len(page))
					}
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCreateUserConcurrent shows group commit at work: with 16 writers
// each write is durable, yet the fsync cost is shared by a batch.
func BenchmarkCreateUserConcurrent(b *testing.B) {
	db := storetest.Open(b)
	c := storetest.MustConnection(b, db, "acme")
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			storetest.MustUpdate(b, db, func(tx *store.Tx) error {
				_, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: fmt.Sprintf("p%d", i), Active: true, Doc: []byte(`{}`)})
				return err
			})
		}
	})
}
