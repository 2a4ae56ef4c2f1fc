package store_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// BenchmarkUserByName and BenchmarkAddMember run on every engine, bbolt
// included, in store/postgres (go test ./store/postgres -bench .).

func BenchmarkUserPage(b *testing.B) {
	db := storetest.Open(b)
	c := storetest.MustConnection(b, db, "acme")
	storetest.SeedUsers(b, db, c.ID, 100_000)
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
