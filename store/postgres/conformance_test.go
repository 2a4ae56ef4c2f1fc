package postgres_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/postgres"
	"github.com/rolecall/rolecall/store/postgres/pgtest"
	"github.com/rolecall/rolecall/store/storetest"
)

// TestConformance runs the store's conformance suite on PostgreSQL; it skips
// unless ROLECALL_TEST_POSTGRES names a server.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.DB { return storetest.OpenPostgres(t) })
}

// TestConformanceWithMembershipsStoredTwice runs the suite on a database
// whose member_of bucket was created before migration 0004 made it a
// mirror: it keeps its own rows (mirror_of NULL, no index), and every
// invariant holds on that layout too.
func TestConformanceWithMembershipsStoredTwice(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.DB {
		db, _ := openStoredTwice(t)
		return db
	})
}

// On that layout a membership is two rows, as the older nodes of a rolling
// upgrade expect.
func TestMembershipsStoredTwiceKeepTheirRows(t *testing.T) {
	db, dsn := openStoredTwice(t)
	c := storetest.MustConnection(t, db, "acme")
	u := storetest.MustUser(t, db, c.ID, "alice")
	storetest.MustGroup(t, db, c.ID, "Eng", u.ID)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var rows int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM kv WHERE bucket = (SELECT id FROM buckets WHERE name = 'member_of')`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Errorf("member_of holds %d rows, want the membership's 1", rows)
	}
}

// openStoredTwice opens a fresh store whose member_of bucket is turned back
// into an ordinary bucket, as one created before migration 0004 is.
func openStoredTwice(t *testing.T) (*store.DB, string) {
	dsn := pgtest.DSN(t)
	db, err := postgres.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var index string
	if err := conn.QueryRow(ctx, `UPDATE buckets SET mirror_of = NULL WHERE name = 'member_of' AND mirror_of IS NOT NULL
		RETURNING 'kv_mirror_' || id`).Scan(&index); err != nil {
		t.Fatalf("member_of is not a mirror in a new database: %v", err)
	}
	if _, err := conn.Exec(ctx, "DROP INDEX "+index); err != nil {
		t.Fatal(err)
	}
	db, err = postgres.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Verify(); err != nil {
			t.Errorf("store invariants broken after test:\n%v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("store.Close: %v", err)
		}
	})
	return db, dsn
}
