package postgres_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// The PostgreSQL targets, measured side by side with bbolt on the
// same machine (engine=postgres skips without ROLECALL_TEST_POSTGRES):
//
//	ROLECALL_TEST_POSTGRES=$(.ci/postgres start) go test ./store/postgres -run '^$' -bench .
//
// Every write is durable (bbolt: fsync; PostgreSQL: synchronous_commit on).
var engines = []struct {
	name string
	open func(testing.TB, ...store.Options) *store.DB
}{
	{"bbolt", storetest.OpenBolt},
	{"postgres", storetest.OpenPostgres},
}

// seedUsers creates n users in writes of 20k and returns their ids.
func seedUsers(b *testing.B, db *store.DB, conID string, n int) []string {
	b.Helper()
	ids := make([]string, 0, n)
	const perWrite = 20_000
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

// BenchmarkCreateUser16Clients is durable ingest: 16 concurrent writers each
// creating a user (a POST /Users without the HTTP), through the store's
// group commit. ns/op is the inverse of the aggregate throughput.
func BenchmarkCreateUser16Clients(b *testing.B) {
	for _, e := range engines {
		b.Run("engine="+e.name, func(b *testing.B) {
			db := e.open(b)
			c := storetest.MustConnection(b, db, "acme")
			doc := []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x","name":{"givenName":"Barbara","familyName":"Jensen"},"emails":[{"value":"x@example.com","primary":true}],"active":true}`)
			var next atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for range 16 {
				wg.Go(func() {
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						storetest.MustUpdate(b, db, func(tx *store.Tx) error {
							_, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: fmt.Sprintf("p%d@example.com", i), ExternalID: fmt.Sprint(i), Active: true, Doc: doc})
							return err
						})
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			st := db.Stats()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			if st.Commits > 0 {
				// What bounds the rate: running the writes (their reads'
				// round trips) or the durable commit.
				b.ReportMetric(float64(st.Writes)/float64(st.Commits), "writes/commit")
				b.ReportMetric(float64(st.ApplyTime.Microseconds())/float64(st.Commits), "apply-µs/commit")
				b.ReportMetric(float64(st.CommitTime.Microseconds())/float64(st.Commits), "commit-µs/commit")
			}
		})
	}
}

// BenchmarkUserByName is a userName eq lookup (one View) at 1k and 100k
// users: the index makes it independent of the count.
func BenchmarkUserByName(b *testing.B) {
	for _, e := range engines {
		for _, n := range []int{1_000, 100_000} {
			b.Run(fmt.Sprintf("engine=%s/users=%d", e.name, n), func(b *testing.B) {
				db := e.open(b)
				c := storetest.MustConnection(b, db, "acme")
				seedUsers(b, db, c.ID, n)
				for i := 0; b.Loop(); i++ {
					name := fmt.Sprintf("U%07d@EXAMPLE.com", (i*7919)%n)
					if err := db.View(func(r *store.ReadTx) error { _, err := r.UserByName(c.ID, name); return err }); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkAddMember adds one member to a group of 1k and of 100k members
// (and removes it again, in the same durable write, to keep the sizes): a
// membership is two rows, whatever the group's size.
func BenchmarkAddMember(b *testing.B) {
	for _, e := range engines {
		b.Run("engine="+e.name, func(b *testing.B) {
			db := e.open(b)
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
		})
	}
}
