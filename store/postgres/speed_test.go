package postgres_test

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/postgres/pgtest"
	"github.com/rolecall/rolecall/store/storetest"
)

// GetMany (store.MultiGetter) answers exactly as a Get of each key would:
// committed values, the transaction's own buffered and sent writes, deletes,
// empty values, absent and repeated keys, writes a savepoint took back, and
// more keys than one query carries.
func TestGetManyAnswersLikeGet(t *testing.T) {
	e := newEngine(t, pgtest.DSN(t))
	name := []byte("b")
	etx, err := e.Begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	b, err := etx.CreateBucketIfNotExists(name)
	if err != nil {
		t.Fatal(err)
	}
	b.Put([]byte("a"), []byte("a0"))
	b.Put([]byte("c"), []byte("c0"))
	b.Put([]byte("e"), []byte{})
	b.Put([]byte("s"), []byte("s0"))
	for i := range 9000 {
		b.Put(fmt.Appendf(nil, "n%05d", i), fmt.Appendf(nil, "v%d", i))
	}
	if err := etx.Commit(); err != nil {
		t.Fatal(err)
	}

	etx, err = e.Begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer etx.Rollback()
	b = etx.Bucket(name)
	b.Put([]byte("a"), []byte("a1")) // buffered
	b.Delete([]byte("c"))
	b.Put([]byte("f"), []byte("f1"))
	b.Cursor().First() // sends them
	b.Put([]byte("g"), []byte("g1"))
	sp := etx.(store.Savepointer)
	if err := sp.Savepoint(); err != nil {
		t.Fatal(err)
	}
	b.Put([]byte("s"), []byte("s1"))
	b.Put([]byte("t"), []byte("t1"))
	b.Cursor().First() // sends them, and the savepoint
	if err := sp.RollbackToSavepoint(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "a1", "e": "", "f": "f1", "g": "g1", "s": "s0"}
	keys := [][]byte{[]byte("a"), []byte("c"), []byte("e"), []byte("f"), []byte("g"), []byte("s"), []byte("t"), []byte("x"), []byte("a")}
	for i := range 9000 {
		k := fmt.Sprintf("n%05d", i)
		keys, want[k] = append(keys, []byte(k)), fmt.Sprintf("v%d", i)
	}
	check := func(b store.Bucket) {
		t.Helper()
		got := b.(store.MultiGetter).GetMany(keys)
		if len(got) != len(keys) {
			t.Fatalf("GetMany returned %d values for %d keys", len(got), len(keys))
		}
		for i, k := range keys {
			w, present := want[string(k)]
			if (got[i] != nil) != present || string(got[i]) != w {
				t.Errorf("GetMany %q = %q (present %v), want %q (present %v)", k, got[i], got[i] != nil, w, present)
			}
		}
	}
	check(b)
	check(b) // now from the buffer
	if err := etx.Err(); err != nil {
		t.Fatal(err)
	}
	if err := etx.Commit(); err != nil {
		t.Fatal(err)
	}

	rtx, err := e.Begin(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rtx.Rollback()
	check(rtx.Bucket(name))
	if err := rtx.Err(); err != nil {
		t.Fatal(err)
	}
}

// Membership writes and list pages read what they need in a few round
// trips, however many members or users they touch, on a node that has none
// of it cached: one query per bucket, not one per key.
func TestMembershipWritesAndPagesCostRoundTripsNotPerKey(t *testing.T) {
	const n = 1000
	dsn := pgtest.DSN(t)
	seeder := open(t, dsn)
	con := storetest.MustConnection(t, seeder, "acme")
	ids := storetest.SeedUsers(t, seeder, con.ID, n)
	g := storetest.MustGroup(t, seeder, con.ID, "big")

	// Another node, whose write cache is empty.
	e := newEngine(t, dsn)
	db, err := store.New(e, e.Location(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	members := func(ids []string) []store.Member {
		ms := make([]store.Member, len(ids))
		for i, id := range ids {
			ms[i] = store.Member{ID: id}
		}
		return ms
	}
	// BEGIN with the revision, the audit log's tail, a lookup per bucket,
	// cursor batches, the flush and COMMIT; the node's first write also
	// looks its buckets up by name.
	const most = 16
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"add 1,000 members", func(t *testing.T) {
			storetest.MustUpdate(t, db, func(tx *store.Tx) error {
				added, err := tx.AddMembers(con.ID, g.ID, members(ids))
				if added != n {
					t.Errorf("added %d, want %d", added, n)
				}
				return err
			})
		}},
		{"replace them with half", func(t *testing.T) {
			storetest.MustUpdate(t, db, func(tx *store.Tx) error {
				return tx.ReplaceMembers(con.ID, g.ID, members(ids[:n/2]))
			})
		}},
		{"remove 1,000 ids, half of them members", func(t *testing.T) {
			storetest.MustUpdate(t, db, func(tx *store.Tx) error {
				removed, err := tx.RemoveMembers(con.ID, g.ID, ids)
				if removed != n/2 {
					t.Errorf("removed %d, want %d", removed, n/2)
				}
				return err
			})
		}},
		{"page of 100 users by position", func(t *testing.T) {
			if err := db.View(func(r *store.ReadTx) error {
				page, _, err := r.UserPage(con.ID, n-100, 100)
				if len(page) != 100 {
					t.Errorf("page has %d users, want 100", len(page))
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}},
		{"page of 100 users of a connection", func(t *testing.T) {
			if err := db.View(func(r *store.ReadTx) error {
				page, next, err := r.QueryUsers(store.UserQuery{ConnectionID: con.ID}, "", 100)
				if len(page) != 100 || next == "" {
					t.Errorf("page has %d users (next %q), want 100 and a next page", len(page), next)
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}},
		{"groups of a page of 100 users", func(t *testing.T) {
			storetest.MustUpdate(t, seeder, func(tx *store.Tx) error { // on the other node
				_, err := tx.AddMembers(con.ID, g.ID, members(ids[:100]))
				return err
			})
			before := e.RoundTrips()
			if err := db.View(func(r *store.ReadTx) error {
				groups, err := r.GroupsOfMany(ids[:100], 0)
				if len(groups) != 100 {
					t.Errorf("groups of %d users, want 100", len(groups))
				}
				for i, gs := range groups {
					if len(gs) != 1 || gs[0].ID != g.ID {
						t.Errorf("user %d is in %v, want just %s", i, gs, g.ID)
					}
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			// BEGIN with the memberships, then the groups.
			if got := e.RoundTrips() - before; got > 3 {
				t.Errorf("%d round trips, want at most 3", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.RoundTrips()
			tt.run(t)
			if got := e.RoundTrips() - before; got > most {
				t.Errorf("%d round trips, want at most %d", got, most)
			}
		})
	}
}

// A write transaction sends a key it knows the server lacks as a plain
// insert, and a delete of such a key not at all. Whatever reads, flushes and
// savepoints come between, that knowledge must hold: a wrong insert fails
// the commit (duplicate key), a skipped delete leaves a row behind.
func TestWritesOfKeysKnownAbsentCommitWhateverCameBetween(t *testing.T) {
	e := newEngine(t, pgtest.DSN(t))
	type step func(t *testing.T, etx store.EngineTx, b store.Bucket)
	var (
		get  = func(t *testing.T, _ store.EngineTx, b store.Bucket) { b.Get([]byte("k")) }
		many = func(t *testing.T, _ store.EngineTx, b store.Bucket) {
			b.(store.MultiGetter).GetMany([][]byte{[]byte("k"), []byte("o")})
		}
		flush = func(t *testing.T, _ store.EngineTx, b store.Bucket) { b.Cursor().First() }
		put   = func(v string) step {
			return func(t *testing.T, _ store.EngineTx, b store.Bucket) { b.Put([]byte("k"), []byte(v)) }
		}
		del = func(t *testing.T, _ store.EngineTx, b store.Bucket) { b.Delete([]byte("k")) }
		sp  = func(t *testing.T, etx store.EngineTx, _ store.Bucket) {
			if err := etx.(store.Savepointer).Savepoint(); err != nil {
				t.Fatal(err)
			}
		}
		undo = func(t *testing.T, etx store.EngineTx, _ store.Bucket) {
			if err := etx.(store.Savepointer).RollbackToSavepoint(); err != nil {
				t.Fatal(err)
			}
		}
		keep = func(t *testing.T, etx store.EngineTx, _ store.Bucket) {
			if err := etx.(store.Savepointer).ReleaseSavepoint(); err != nil {
				t.Fatal(err)
			}
		}
	)
	tests := []struct {
		name  string
		steps []step
		want  string // committed; "" absent
	}{
		{"read absent, put", []step{get, put("1")}, "1"},
		{"read absent by GetMany, put", []step{many, put("1")}, "1"},
		{"put, flush, put again", []step{get, put("1"), flush, put("2")}, "2"},
		{"put, flush, delete", []step{get, put("1"), flush, del}, ""},
		{"put, flush, delete, flush, put", []step{get, put("1"), flush, del, flush, put("3")}, "3"},
		{"put, delete, never sent", []step{get, put("1"), del}, ""},
		{"put under a sent savepoint rolled back, put again", []step{get, sp, put("1"), flush, undo, put("2")}, "2"},
		{"delete under a sent savepoint rolled back, put again", []step{get, put("1"), flush, sp, del, flush, undo, put("2")}, "2"},
		{"put before and under a sent savepoint rolled back", []step{get, put("1"), sp, put("2"), flush, undo, put("3")}, "3"},
		{"put under an unsent savepoint rolled back, put again", []step{get, sp, put("1"), undo, put("2")}, "2"},
		{"delete under a sent savepoint released", []step{get, put("1"), flush, sp, del, flush, keep}, ""},
		{"read absent, flush, put, flush, delete, put", []step{get, flush, put("1"), flush, del, put("2")}, "2"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Appendf(nil, "absent%d", i)
			etx, err := e.Begin(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			defer etx.Rollback()
			b, err := etx.CreateBucketIfNotExists(name)
			if err != nil {
				t.Fatal(err)
			}
			b.Put([]byte("o"), []byte("other")) // a second key, so flushes send something
			for _, s := range tt.steps {
				s(t, etx, b)
			}
			if err := etx.Err(); err != nil {
				t.Fatal(err)
			}
			if err := etx.Commit(); err != nil {
				t.Fatalf("commit: %v", err)
			}
			rtx, err := e.Begin(ctx, false)
			if err != nil {
				t.Fatal(err)
			}
			defer rtx.Rollback()
			if got := rtx.Bucket(name).Get([]byte("k")); string(got) != tt.want || (got != nil) != (tt.want != "") {
				t.Errorf("committed %q (present %v), want %q", got, got != nil, tt.want)
			}
		})
	}
}

// Last on an append-mostly bucket (the audit log, read once per group
// commit) is answered from what the node's write transactions read and
// wrote when that suffices, with no round trip, and is still exactly the
// last key after deletes and savepoints; a move from it asks the server.
func TestLastOfAnAppendMostlyBucketComesFromTheBufferWhenItCan(t *testing.T) {
	e := newEngine(t, pgtest.DSN(t))
	name := []byte("audit")
	if !store.AppendMostly(name) {
		t.Fatalf("%q is not an append-mostly bucket", name)
	}
	write := func(fn func(etx store.EngineTx, b store.Bucket)) {
		t.Helper()
		etx, err := e.Begin(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		defer etx.Rollback()
		b, err := etx.CreateBucketIfNotExists(name)
		if err != nil {
			t.Fatal(err)
		}
		b.Get([]byte("x")) // BEGIN: the node's last write's buffer is taken over
		fn(etx, b)
		if err := etx.Err(); err != nil {
			t.Fatal(err)
		}
		if err := etx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	last := func(b store.Bucket, want string) store.Cursor {
		t.Helper()
		c := b.Cursor()
		if k, v := c.Last(); string(k) != want || (want != "" && string(v) != "v"+want) {
			t.Errorf("Last = %q, %q; want %q", k, v, want)
		}
		return c
	}
	write(func(_ store.EngineTx, b store.Bucket) {
		last(b, "")
		b.Put([]byte("k1"), []byte("vk1"))
		last(b, "k1")
		b.Delete([]byte("k1"))
		last(b, "")
		for _, k := range []string{"k1", "k2", "k3"} {
			b.Put([]byte(k), []byte("v"+k))
		}
	})
	write(func(_ store.EngineTx, b store.Bucket) {
		b.Put([]byte("k4"), []byte("vk4"))
	})
	write(func(etx store.EngineTx, b store.Bucket) {
		before := e.RoundTrips()
		c := last(b, "k4")
		if n := e.RoundTrips() - before; n != 0 {
			t.Errorf("Last after the node's own write: %d round trips, want 0", n)
		}
		if k, _ := c.Prev(); string(k) != "k3" {
			t.Errorf("Prev after Last = %q, want k3", k)
		}
		b.Delete([]byte("k4"))
		last(b, "k3")
		sp := etx.(store.Savepointer)
		if err := sp.Savepoint(); err != nil {
			t.Fatal(err)
		}
		b.Put([]byte("k9"), []byte("vk9"))
		last(b, "k9")
		b.Cursor().First() // sends k9 and the savepoint
		if err := sp.RollbackToSavepoint(); err != nil {
			t.Fatal(err)
		}
		last(b, "k3")
		b.Put([]byte("k5"), []byte("vk5"))
	})
	rtx, err := e.Begin(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rtx.Rollback()
	last(rtx.Bucket(name), "k5")
}

// Large values (a PATCH's changes record and audit runs) are compressed with
// lz4 where the server has it: pglz took a fifth of a 1,000-operation
// PATCH's server time.
func TestLargeValuesAreCompressedWithLZ4(t *testing.T) {
	dsn := pgtest.DSN(t)
	newEngine(t, dsn) // migrates
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var version int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version < 140000 {
		t.Skipf("PostgreSQL %d has no lz4 column compression", version)
	}
	var got string
	if err := conn.QueryRow(ctx, "SELECT attcompression::text FROM pg_attribute WHERE attrelid = 'kv'::regclass AND attname = 'v'").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "l" {
		t.Errorf("kv.v compression = %q, want l (lz4)", got)
	}
}

// A large write of keys the transaction read as absent sends them as plain
// inserts, all at once: what commits is exactly what was written, whatever the values (empty, large, binary) and savepoints, and a
// key that another session inserted after it was read absent fails the
// commit, leaving none of the write behind.
func TestLargeWritesOfKeysKnownAbsent(t *testing.T) {
	dsn := pgtest.DSN(t)
	e := newEngine(t, dsn)
	const n = 300
	keys := make([][]byte, n)
	values := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "k%04d\x00\xff", i)
		switch i % 3 {
		case 0:
			values[i] = []byte{}
		case 1:
			values[i] = bytes.Repeat([]byte{byte(i), 0, 0xff}, 3000)
		default:
			values[i] = fmt.Appendf(nil, "v%d", i)
		}
	}
	tests := []struct {
		name string
		// between runs after the keys were read absent and before they
		// are written.
		between func(t *testing.T, etx store.EngineTx)
		// after runs after they are written, before the commit.
		after   func(t *testing.T, etx store.EngineTx, b store.Bucket)
		wantErr bool
	}{
		{name: "plain"},
		{name: "under a sent savepoint released", between: func(t *testing.T, etx store.EngineTx) {
			etx.(store.Savepointer).Savepoint()
		}, after: func(t *testing.T, etx store.EngineTx, b store.Bucket) {
			b.Cursor().First() // flushes: the writes go under the savepoint
			etx.(store.Savepointer).ReleaseSavepoint()
		}},
		{name: "under an unsent savepoint released", between: func(t *testing.T, etx store.EngineTx) {
			etx.(store.Savepointer).Savepoint()
		}, after: func(t *testing.T, etx store.EngineTx, _ store.Bucket) {
			etx.(store.Savepointer).ReleaseSavepoint()
		}},
		{name: "rolled back to a sent savepoint, written again", between: func(t *testing.T, etx store.EngineTx) {
			etx.(store.Savepointer).Savepoint()
		}, after: func(t *testing.T, etx store.EngineTx, b store.Bucket) {
			b.Cursor().First()
			etx.(store.Savepointer).RollbackToSavepoint()
			for i, k := range keys {
				b.Put(k, values[i])
			}
		}},
		{name: "one key inserted by another session meanwhile", between: func(t *testing.T, _ store.EngineTx) {
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, "INSERT INTO kv (bucket, k, v) SELECT id, $2, 'theirs' FROM buckets WHERE name = $1",
				"large"+t.Name(), keys[n/2]); err != nil {
				t.Fatal(err)
			}
		}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := []byte("large" + t.Name())
			setup, err := e.Begin(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := setup.CreateBucketIfNotExists(name); err != nil {
				t.Fatal(err)
			}
			if err := setup.Commit(); err != nil {
				t.Fatal(err)
			}

			etx, err := e.Begin(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			defer etx.Rollback()
			b := etx.Bucket(name)
			for i, v := range b.(store.MultiGetter).GetMany(keys) {
				if v != nil {
					t.Fatalf("key %d present before the write", i)
				}
			}
			if tt.between != nil {
				tt.between(t, etx)
			}
			for i, k := range keys {
				b.Put(k, values[i])
			}
			if tt.after != nil {
				tt.after(t, etx, b)
			}
			err = etx.Err()
			if err == nil {
				err = etx.Commit()
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("commit: err %v, want an error: %v", err, tt.wantErr)
			}

			rtx, err := e.Begin(ctx, false)
			if err != nil {
				t.Fatal(err)
			}
			defer rtx.Rollback()
			got := rtx.Bucket(name).(store.MultiGetter).GetMany(keys)
			for i := range keys {
				want := values[i]
				switch {
				case tt.wantErr && i == n/2:
					want = []byte("theirs")
				case tt.wantErr:
					want = nil
				}
				if !bytes.Equal(got[i], want) || (got[i] == nil) != (want == nil) {
					t.Errorf("key %d: committed %.20q (present %v), want %.20q (present %v)", i, got[i], got[i] != nil, want, want != nil)
				}
			}
		})
	}
}

// Writes that name their lookups (store.Origin.Reads) have them read for
// the whole group commit at once: 50 users created in one commit cost the
// same round trips as a few, not one uniqueness check each.
func TestGroupCommitReadsNamedLookupsAtOnce(t *testing.T) {
	const n = 50
	e := newEngine(t, pgtest.DSN(t))
	db, err := store.New(e, e.Location(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	con := storetest.MustConnection(t, db, "acme")
	storetest.SeedUsers(t, db, con.ID, 10) // the node's first writes look its buckets up
	// Hold the committer, so that the n creations queue and commit together.
	release := make(chan struct{})
	held := make(chan struct{})
	go func() {
		_, _ = db.Update(t.Context(), store.Origin{}, func(*store.Tx) error { close(held); <-release; return nil })
	}()
	<-held
	before, commits := e.RoundTrips(), db.Stats().Commits
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("new%03d@acme.test", i)
			_, err := db.Update(t.Context(), store.Origin{Reads: []store.Lookup{store.UserNameLookup(con.ID, name)}}, func(tx *store.Tx) error {
				_, err := tx.CreateUser(store.User{ConnectionID: con.ID, UserName: name, Active: true})
				return err
			})
			errs <- err
		}()
	}
	time.Sleep(200 * time.Millisecond) // for the goroutines to queue their writes
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	rounds, batches := uint64(e.RoundTrips()-before), db.Stats().Commits-commits
	t.Logf("%d creations: %d round trips in %d commits", n, rounds, batches)
	if batches > 3 {
		t.Fatalf("the creations took %d commits, want them gathered", batches)
	}
	if rounds > 16*batches {
		t.Errorf("%d round trips for %d creations in %d commits, want at most %d: one per creation", rounds, n, batches, 16*batches)
	}
}

// A database filled from empty is analyzed as it grows, each time about as
// many rows were written as it held, so the plans its connections cache are made again from fresh
// statistics (analyze.go), without waiting for autovacuum.
func TestAGrowingDatabaseIsAnalyzedAsItGrows(t *testing.T) {
	dsn := pgtest.DSN(t)
	e := newEngine(t, dsn)
	db, err := store.New(e, e.Location(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	reltuples := func() float64 {
		var n float64
		if err := conn.QueryRow(ctx, "SELECT reltuples FROM pg_class WHERE oid = 'kv'::regclass").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var seen []float64
	for round, users := range []int{600, 1000, 2000, 4000} {
		c := storetest.MustConnection(t, db, fmt.Sprintf("c%d", round))
		storetest.SeedUsers(t, db, c.ID, users)
		deadline := time.Now().Add(10 * time.Second)
		for e.Analyses() < int64(round+1) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		seen = append(seen, reltuples())
	}
	if e.Analyses() != 4 || !slices.IsSorted(seen) || seen[0] <= 0 {
		t.Errorf("after seeding 600, 1000, 2000 and 4000 users: %d analyses, kv's row estimates %v; want one per round, growing", e.Analyses(), seen)
	}
}
