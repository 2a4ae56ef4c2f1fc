package roles_test

import (
	"context"
	"testing"
	"time"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/postgres"
	"github.com/rolecall/rolecall/store/postgres/pgtest"
	"github.com/rolecall/rolecall/store/storetest"
)

// On PostgreSQL the deriver compares a batch of users in a few round trips,
// not a few per user: unbinding a role from a group of 250 members (one
// batch) reads their recorded states and names in one query each and
// records the 250 changes in one write. It skips unless
// ROLECALL_TEST_POSTGRES names a server.
func TestEffectiveRolesBatchCostsRoundTripsNotPerUser(t *testing.T) {
	const n = 250 // the default batch
	e, err := postgres.NewEngine(context.Background(), pgtest.DSN(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ix := roles.NewIndex()
	db, err := store.New(e, e.Location(), store.Options{Observers: []store.Observer{ix}})
	if err != nil {
		e.Close()
		t.Fatal(err)
	}
	defer db.Close()
	c := storetest.MustConnection(t, db, "acme")
	ids := storetest.SeedUsers(t, db, c.ID, n)
	var role store.Role
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		if err := storetest.EnsureScopes(tx, "https://api.example.com", "read"); err != nil {
			return err
		}
		role, err = tx.CreateRole(store.Role{Name: "reader", Permissions: []store.Permission{{ResourceServerIdentifier: "https://api.example.com", PermissionName: "read"}}})
		return err
	})
	g := storetest.MustGroup(t, db, c.ID, "everyone", ids...)
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { _, err := tx.BindGroupRoles(g.ID, []string{role.ID}); return err })
	if err := ix.Load(db); err != nil {
		t.Fatal(err)
	}
	// No marks while measuring: they are bookkeeping writes of their own.
	d := roles.StartDeriver(db, ix, roles.DeriverOptions{MarkEvery: time.Hour, OnError: func(err error) { t.Error(err) }})
	defer d.Stop()
	settle(t, db, d) // the silent baseline: n states recorded

	before, trips := d.Stats(), e.RoundTrips()
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { _, err := tx.UnbindGroupRoles(g.ID, []string{role.ID}); return err })
	settle(t, db, d)
	after := d.Stats()
	if got := after.Events - before.Events; got != n {
		t.Fatalf("%d events after unbinding a role from %d members, want %d", got, n, n)
	}
	// The unbinding's own write, then per deriver pass a read (BEGIN, two
	// GetMany, COMMIT) and a write (BEGIN with the revision, the audit
	// log's tail, one GetMany, the flush, COMMIT). Per user it would be
	// hundreds.
	const most = 16
	if got := e.RoundTrips() - trips; got > most {
		t.Errorf("unbinding and deriving %d users cost %d round trips (%d deriver writes), want at most %d",
			n, got, after.Writes-before.Writes, most)
	}
}
