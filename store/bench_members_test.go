package store_test

import (
	"fmt"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// BenchmarkMemberOps is the store's part of a membership PATCH of n
// operations: half the ids leave the group and half join it, in one write,
// and the next write moves them back. On PostgreSQL (ROLECALL_TEST_POSTGRES)
// the members' checks are one query per bucket; on bbolt each is a Get.
func BenchmarkMemberOps(b *testing.B) {
	db := storetest.Open(b)
	c := storetest.MustConnection(b, db, "acme")
	ids := storetest.SeedUsers(b, db, c.ID, 2_000)
	for _, n := range []int{1, 1_000} {
		b.Run(fmt.Sprintf("ops=%d", n), func(b *testing.B) {
			g := storetest.MustGroup(b, db, c.ID, fmt.Sprintf("g%d", n))
			setA, setB := ids[:max(n/2, 1)], ids[1000:1000+max(n/2, 1)]
			members := func(ids []string) []store.Member {
				ms := make([]store.Member, len(ids))
				for i, id := range ids {
					ms[i] = store.Member{ID: id}
				}
				return ms
			}
			storetest.MustUpdate(b, db, func(tx *store.Tx) error {
				_, err := tx.AddMembers(c.ID, g.ID, members(setA))
				return err
			})
			for i := 0; b.Loop(); i++ {
				out, in := setA, setB
				if i%2 == 1 {
					out, in = setB, setA
				}
				storetest.MustUpdate(b, db, func(tx *store.Tx) error {
					if n > 1 {
						if _, err := tx.RemoveMembers(c.ID, g.ID, out); err != nil {
							return err
						}
					}
					_, err := tx.AddMembers(c.ID, g.ID, members(in))
					return err
				})
			}
		})
	}
}
