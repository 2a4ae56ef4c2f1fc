package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/postgres"
	"github.com/rolecall/rolecall/store/postgres/pgtest"
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

// BenchmarkCreateUser16Clients is durable ingest: 16 concurrent writers each
// creating a user (a POST /Users without the HTTP), through the store's
// group commit. ns/op is the inverse of the aggregate throughput.
func BenchmarkCreateUser16Clients(b *testing.B) {
	for _, e := range engines {
		b.Run("engine="+e.name, func(b *testing.B) {
			db, roundTrips := e.open(b), func() int64 { return 0 }
			if e.name == "postgres" {
				db, roundTrips = openCounting(b)
			}
			c := storetest.MustConnection(b, db, "acme")
			doc := []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x","name":{"givenName":"Barbara","familyName":"Jensen"},"emails":[{"value":"x@example.com","primary":true}],"active":true}`)
			var next atomic.Int64
			b.ResetTimer()
			trips0, commits0 := roundTrips(), db.Stats().Commits
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
			if trips := roundTrips() - trips0; trips > 0 {
				b.ReportMetric(float64(trips)/float64(st.Commits-commits0), "round-trips/commit")
			}
		})
	}
}

// openCounting opens a store on a fresh PostgreSQL database (skipping
// without one, as storetest.OpenPostgres) and returns its engine's round-trip
// count.
func openCounting(b *testing.B) (*store.DB, func() int64) {
	e, err := postgres.NewEngine(context.Background(), pgtest.DSN(b), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.New(e, e.Location(), store.Options{})
	if err != nil {
		e.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db, e.RoundTrips
}

// BenchmarkUserByName is a userName eq lookup (one View) at 1k and 100k
// users: the index makes it independent of the count.
func BenchmarkUserByName(b *testing.B) {
	for _, e := range engines {
		for _, n := range []int{1_000, 100_000} {
			b.Run(fmt.Sprintf("engine=%s/users=%d", e.name, n), func(b *testing.B) {
				db := e.open(b)
				c := storetest.MustConnection(b, db, "acme")
				storetest.SeedUsers(b, db, c.ID, n)
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
			ids := storetest.SeedUsers(b, db, c.ID, 100_000+spare)
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

// arrivals records when each revision reached a store's observers.
type arrivals struct {
	mu sync.Mutex
	at map[uint64]time.Time
}

func (a *arrivals) Committed(rev uint64, _ []store.Change) {
	now := time.Now()
	a.mu.Lock()
	a.at[rev] = now
	a.mu.Unlock()
}

// BenchmarkPropagation: node A commits a steady 1,000 writes/s (one user
// creation each, durable); node B, another store on the same database,
// follows (LISTEN/NOTIFY, then a catch-up read by revision). Reported: how
// long after A's observers saw a revision B's observers saw it, p50 and p99
// (target p99 ≤ 50 ms). An observer is where a node's role index is fed.
// Run with -benchtime 5000x: b.N writes take b.N ms.
func BenchmarkPropagation(b *testing.B) {
	a := &arrivals{at: map[uint64]time.Time{}}
	bb := &arrivals{at: map[uint64]time.Time{}}
	dsn := pgtest.DSN(b)
	nodeA, err := postgres.Open(context.Background(), dsn, store.Options{Observers: []store.Observer{a}})
	if err != nil {
		b.Fatal(err)
	}
	defer nodeA.Close()
	nodeB, err := postgres.Open(context.Background(), dsn, store.Options{Observers: []store.Observer{bb}})
	if err != nil {
		b.Fatal(err)
	}
	defer nodeB.Close()
	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan error, 1)
	go func() { followed <- nodeB.Follow(ctx) }()
	c := storetest.MustConnection(b, nodeA, "acme")
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		// Paced to the clock, not a ticker (which drops ticks on a busy
		// machine): the average stays 1,000/s.
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Millisecond)))
		wg.Go(func() {
			storetest.MustUpdate(b, nodeA, func(tx *store.Tx) error {
				_, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: fmt.Sprintf("p%d@example.com", i), Active: true, Doc: []byte(`{"active":true}`)})
				return err
			})
		})
	}
	wg.Wait()
	last := nodeA.Revision()
	for deadline := time.Now().Add(5 * time.Second); nodeB.Revision() < last && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	cancel()
	if err := <-followed; err != nil {
		b.Fatal(err)
	}
	a.mu.Lock()
	bb.mu.Lock()
	defer a.mu.Unlock()
	defer bb.mu.Unlock()
	// A's observers see each group commit once, at its last revision; B's
	// see every revision.
	var lat []time.Duration
	for rev, ta := range a.at {
		tb, ok := bb.at[rev]
		if !ok {
			b.Fatalf("revision %d never reached node B (B at %d)", rev, nodeB.Revision())
		}
		lat = append(lat, max(tb.Sub(ta), 0))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
