package roles_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// BenchmarkEffectiveRolesGroupUnbind unbinds (then binds, alternately) a
// role with a permission from a group of 100k members, durably, with a
// deriver running: one op is the time until all 100k
// user.effective_roles.changed entries are written. Meanwhile a writer
// makes small writes (a user's update, one at a time) and the p99 and max
// of their latency are reported, with the p99 of the same writes while
// nothing is derived: the derivation must not stall them. With
// ROLECALL_BENCH_SMALL set the group has 10k members.
func BenchmarkEffectiveRolesGroupUnbind(b *testing.B) {
	n := 100_000
	if os.Getenv("ROLECALL_BENCH_SMALL") != "" {
		n = 10_000
	}
	ix := roles.NewIndex()
	db := storetest.Open(b, store.Options{NoSync: os.Getenv("ROLECALL_BENCH_NOSYNC") != "", Observers: []store.Observer{ix}})
	c := storetest.MustConnection(b, db, "acme")
	ids := storetest.SeedUsers(b, db, c.ID, n)
	other := storetest.MustUser(b, db, c.ID, "writer@example.com")
	var role store.Role
	storetest.MustUpdate(b, db, func(tx *store.Tx) (err error) {
		if err := storetest.EnsureScopes(tx, "https://api.example.com", "read"); err != nil {
			return err
		}
		role, err = tx.CreateRole(store.Role{Name: "reader", Permissions: []store.Permission{{ResourceServerIdentifier: "https://api.example.com", PermissionName: "read"}}})
		return err
	})
	g := storetest.MustGroup(b, db, c.ID, "everyone", ids...)
	storetest.MustUpdate(b, db, func(tx *store.Tx) error { _, err := tx.BindGroupRoles(g.ID, []string{role.ID}); return err })
	if err := ix.Load(db); err != nil {
		b.Fatal(err)
	}
	d := roles.StartDeriver(db, ix, roles.DeriverOptions{OnError: func(err error) { b.Error(err) }})
	b.Cleanup(d.Stop)
	settle(b, db, d)

	// write makes small writes until ctx ends, recording their latency.
	write := func(ctx context.Context, into *[]time.Duration) {
		for j := 0; ctx.Err() == nil; j++ {
			start := time.Now()
			if _, err := db.Update(context.Background(), storetest.Origin, func(tx *store.Tx) error {
				_, err := tx.UpdateUser(c.ID, other.ID, func(u *store.User) error { u.ExternalID = fmt.Sprint(j); return nil })
				return err
			}); err != nil {
				b.Error(err) // not Fatal: this may run on its own goroutine
				return
			}
			*into = append(*into, time.Since(start))
			time.Sleep(time.Millisecond)
		}
	}
	p99 := func(l []time.Duration) float64 {
		if len(l) == 0 {
			return 0
		}
		slices.Sort(l)
		return float64(l[len(l)*99/100].Microseconds()) / 1000
	}
	var idle, busy []time.Duration
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		// The same writes with nothing to derive, for comparison.
		ctx, stop := context.WithTimeout(context.Background(), 300*time.Millisecond)
		write(ctx, &idle)
		stop()

		before := d.Stats().Events
		ctx, stop = context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); write(ctx, &busy) }()
		start := time.Now()
		storetest.MustUpdate(b, db, func(tx *store.Tx) error {
			if i%2 == 0 {
				_, err := tx.UnbindGroupRoles(g.ID, []string{role.ID})
				return err
			}
			_, err := tx.BindGroupRoles(g.ID, []string{role.ID})
			return err
		})
		for d.Stats().Events < before+uint64(n) {
			time.Sleep(time.Millisecond)
		}
		total += time.Since(start)
		stop()
		wg.Wait()
	}
	b.ReportMetric(p99(idle), "p99-idle-write-ms")
	b.ReportMetric(p99(busy), "p99-write-ms")
	b.ReportMetric(float64(slices.Max(append(busy, 0)).Microseconds())/1000, "max-write-ms")
	b.ReportMetric(total.Seconds()/float64(b.N), "s/unbind")
	b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "events/s")
	if got := d.Stats().Events; got != uint64(n*b.N) {
		b.Errorf("%d events for %d unbindings of %d members, want exactly %d", got, b.N, n, n*b.N)
	}
}
