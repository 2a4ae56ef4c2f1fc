package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/postgres"
	"github.com/rolecall/rolecall/store/postgres/pgtest"
	"github.com/rolecall/rolecall/store/storetest"
)

var ctx = context.Background()

func newEngine(t testing.TB, dsn string) *postgres.Engine {
	t.Helper()
	e, err := postgres.NewEngine(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func open(t *testing.T, dsn string, opts ...store.Options) *store.DB {
	t.Helper()
	var o store.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	db, err := postgres.Open(ctx, dsn, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// The engine contract (store/engine.go): bytewise order, cursors that see
// the transaction's own writes, in batches, both ways.
func TestCursorsSeeTheTransactionsOwnWritesInBytewiseOrder(t *testing.T) {
	e := newEngine(t, pgtest.DSN(t))
	etx, err := e.Begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer etx.Rollback() // after Commit, a no-op; after a failure, frees the connection
	b, err := etx.CreateBucketIfNotExists([]byte("b"))
	if err != nil {
		t.Fatal(err)
	}
	// More keys than a cursor batch, including bytes a text collation would
	// misorder.
	var want []string
	for i := range 600 {
		k := fmt.Sprintf("k%04d", i)
		want = append(want, k)
		b.Put([]byte(k), []byte("v"+k))
	}
	for _, k := range []string{"a", "a\x00", "a\xff", "\x00", "\xff\xff", "B"} {
		want = append(want, k)
		b.Put([]byte(k), []byte{})
	}
	slices.SortFunc(want, func(x, y string) int { return bytes.Compare([]byte(x), []byte(y)) })
	walk := func(b store.Bucket, desc bool) []string {
		c := b.Cursor()
		var got []string
		first, next := c.First, c.Next
		if desc {
			first, next = c.Last, c.Prev
		}
		for k, v := first(); k != nil; k, v = next() {
			if v == nil {
				t.Fatalf("key %q without a value", k)
			}
			got = append(got, string(k))
		}
		return got
	}
	if got := walk(b, false); !slices.Equal(got, want) {
		t.Fatalf("ascending walk of uncommitted writes: %d keys, want %d in bytewise order", len(got), len(want))
	}
	rev := slices.Clone(want)
	slices.Reverse(rev)
	if got := walk(b, true); !slices.Equal(got, rev) {
		t.Fatalf("descending walk differs")
	}
	// A write during a walk is seen by the rest of the walk.
	c := b.Cursor()
	k, _ := c.Seek([]byte("k0100"))
	if string(k) != "k0100" {
		t.Fatalf("Seek = %q", k)
	}
	b.Delete([]byte("k0101"))
	b.Put([]byte("k0100a"), []byte("new"))
	if k, v := c.Next(); string(k) != "k0100a" || string(v) != "new" {
		t.Errorf("Next after writes = %q %q, want the key just put", k, v)
	}
	if k, _ := c.Next(); string(k) != "k0102" {
		t.Errorf("Next = %q, want k0102 (k0101 was deleted)", k)
	}
	if k, _ := c.Prev(); string(k) != "k0100a" {
		t.Errorf("Prev = %q, want k0100a", k)
	}
	if k, _ := c.Seek([]byte("\xff\xff\x00")); k != nil {
		t.Errorf("Seek past the end = %q, want nil", k)
	}
	if v := b.Get([]byte("k0101")); v != nil {
		t.Errorf("Get of a deleted key = %q", v)
	}
	if v := b.Get([]byte("a")); v == nil || len(v) != 0 {
		t.Errorf("Get of an empty value = %v, want present and empty", v)
	}
	if err := etx.Err(); err != nil {
		t.Fatal(err)
	}
	if err := etx.Commit(); err != nil {
		t.Fatal(err)
	}

	// Committed, the same in a read transaction.
	rtx, err := e.Begin(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rtx.Rollback()
	rb := rtx.Bucket([]byte("b"))
	if rb == nil {
		t.Fatal("bucket missing after commit")
	}
	if rtx.Bucket([]byte("nope")) != nil || rtx.Empty() {
		t.Errorf("a missing bucket exists, or the engine reads as empty")
	}
	want = slices.DeleteFunc(want, func(k string) bool { return k == "k0101" })
	want = append(want, "k0100a")
	slices.SortFunc(want, func(x, y string) int { return bytes.Compare([]byte(x), []byte(y)) })
	if got := walk(rb, false); !slices.Equal(got, want) {
		t.Errorf("committed keys differ from the written ones")
	}
}

func TestRollbackLeavesNothing(t *testing.T) {
	e := newEngine(t, pgtest.DSN(t))
	etx, _ := e.Begin(ctx, true)
	defer etx.Rollback()
	b, _ := etx.CreateBucketIfNotExists([]byte("b"))
	b.Put([]byte("k"), []byte("v"))
	if k, _ := b.Cursor().First(); string(k) != "k" { // flushed to the server
		t.Fatalf("First = %q", k)
	}
	etx.Rollback()
	rtx, _ := e.Begin(ctx, false)
	defer rtx.Rollback()
	if rtx.Bucket([]byte("b")) != nil || !rtx.Empty() {
		t.Errorf("a rolled-back bucket exists")
	}
}

// A savepoint takes back exactly the writes made under it, in the buffer and
// on the server, whether or not a cursor sent them there (and with them the
// SAVEPOINT) before it ended; writes before and after it commit.
func TestSavepointTakesBackOnlyTheWritesUnderIt(t *testing.T) {
	e := newEngine(t, pgtest.DSN(t))
	tests := []struct {
		name     string
		flush    bool // a cursor walk under the savepoint sends its writes
		rollback bool
		want     map[string]string // in the transaction after the savepoint ends, and committed
	}{
		{"rolled back, buffered only", false, true, map[string]string{"a": "a1", "c": "c0", "d": "d1"}},
		{"rolled back, sent", true, true, map[string]string{"a": "a1", "c": "c0", "d": "d1"}},
		{"released, buffered only", false, false, map[string]string{"a": "a2", "b": "b2", "d": "d1"}},
		{"released, sent", true, false, map[string]string{"a": "a2", "b": "b2", "d": "d1"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := []byte(fmt.Sprintf("sp%d", i))
			update := func(fn func(store.EngineTx, store.Bucket)) {
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
				fn(etx, b)
				if err := etx.Err(); err != nil {
					t.Fatal(err)
				}
				if err := etx.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			contents := func(b store.Bucket) map[string]string {
				got := map[string]string{}
				c := b.Cursor()
				for k, v := c.First(); k != nil; k, v = c.Next() {
					got[string(k)] = string(v)
				}
				return got
			}
			update(func(_ store.EngineTx, b store.Bucket) {
				b.Put([]byte("a"), []byte("a0"))
				b.Put([]byte("c"), []byte("c0"))
			})
			update(func(etx store.EngineTx, b store.Bucket) {
				sp := etx.(store.Savepointer)
				b.Put([]byte("a"), []byte("a1")) // buffered before the savepoint
				_ = b.Get([]byte("c"))           // cached before it
				if err := sp.Savepoint(); err != nil {
					t.Fatal(err)
				}
				b.Put([]byte("a"), []byte("a2"))
				b.Put([]byte("b"), []byte("b2"))
				b.Delete([]byte("c"))
				if tt.flush {
					if got, want := contents(b), map[string]string{"a": "a2", "b": "b2"}; !maps.Equal(got, want) {
						t.Fatalf("under the savepoint: got %v, want %v", got, want)
					}
				}
				end := sp.ReleaseSavepoint
				if tt.rollback {
					end = sp.RollbackToSavepoint
				}
				if err := end(); err != nil {
					t.Fatal(err)
				}
				b.Put([]byte("d"), []byte("d1"))
				for _, k := range []string{"a", "b", "c", "d"} {
					want, ok := tt.want[k]
					if got := b.Get([]byte(k)); (got != nil) != ok || string(got) != want {
						t.Errorf("Get(%q) after the savepoint = %q, want %q (present %v)", k, got, want, ok)
					}
				}
				if got := contents(b); !maps.Equal(got, tt.want) {
					t.Errorf("cursor after the savepoint: got %v, want %v", got, tt.want)
				}
			})
			rtx, err := e.Begin(ctx, false)
			if err != nil {
				t.Fatal(err)
			}
			defer rtx.Rollback()
			if got := contents(rtx.Bucket(name)); !maps.Equal(got, tt.want) {
				t.Errorf("committed: got %v, want %v", got, tt.want)
			}
		})
	}
}

// A read that fails (the connection is gone) is reported by Err, never a
// panic, and View returns it.
func TestLostConnectionIsAnError(t *testing.T) {
	dsn := pgtest.DSN(t)
	db := open(t, dsn)
	c := storetest.MustConnection(t, db, "acme")
	storetest.MustUser(t, db, c.ID, "alice")
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	err = db.View(func(r *store.ReadTx) error {
		if _, err := r.UserByName(c.ID, "alice"); err != nil {
			return err
		}
		if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"); err != nil {
			t.Fatal(err)
		}
		_, err := r.UserByName(c.ID, "alice")
		return err
	})
	if err == nil {
		t.Fatal("View over a terminated connection returned nil")
	}
	// The pool replaces the dead connections: the store keeps working.
	storetest.MustUser(t, db, c.ID, "bob")
}

// Nodes starting together apply each migration once.
func TestNodesStartingTogetherMigrateOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, err := postgres.Open(ctx, dsn, store.Options{})
			if err == nil {
				err = db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n, distinct int
	if err := conn.QueryRow(ctx, "SELECT count(*), count(DISTINCT version) FROM schema_migrations").Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != distinct || n == 0 {
		t.Errorf("schema_migrations holds %d rows for %d versions", n, distinct)
	}
	// A database migrated by a newer binary is refused.
	if _, err := conn.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')"); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Open(ctx, dsn, store.Options{}); !errors.Is(err, store.ErrNewerSchema) {
		t.Errorf("newer schema: got %v, want ErrNewerSchema", err)
	}
}

type revisionObserver struct{ last atomic.Uint64 }

func (o *revisionObserver) Committed(rev uint64, _ []store.Change) {
	// A group commit is published at its last revision; revisions only
	// ever increase.
	if prev := o.last.Swap(rev); rev <= prev {
		panic(fmt.Sprintf("observer got revision %d after %d", rev, prev))
	}
}

// Two nodes over one database: writes through both get one gap-free
// sequence of revisions, and each node's observers follow the other's
// writes (LISTEN/NOTIFY, then a catch-up read).
func TestTwoNodesShareOneRevisionSequence(t *testing.T) {
	dsn := pgtest.DSN(t)
	obsA, obsB := &revisionObserver{}, &revisionObserver{}
	a := open(t, dsn, store.Options{Observers: []store.Observer{obsA}})
	b := open(t, dsn, store.Options{Observers: []store.Observer{obsB}})
	followCtx, stop := context.WithCancel(ctx)
	var following sync.WaitGroup
	for _, db := range []*store.DB{a, b} {
		following.Go(func() {
			if err := db.Follow(followCtx); err != nil {
				t.Error(err)
			}
		})
	}
	defer func() { stop(); following.Wait() }()

	c := storetest.MustConnection(t, a, "acme")
	const perNode = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	var revs []uint64
	for n, db := range []*store.DB{a, b} {
		for i := range perNode {
			wg.Go(func() {
				rev, err := db.Update(ctx, storetest.Origin, func(tx *store.Tx) error {
					_, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: fmt.Sprintf("n%d-%d", n, i)})
					return err
				})
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				revs = append(revs, rev)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	slices.Sort(revs)
	top := revs[len(revs)-1]
	for i, rev := range revs {
		if want := top - uint64(len(revs)-1-i); rev != want {
			t.Fatalf("revisions across two nodes = %v: not one gap-free sequence", revs)
		}
	}
	// Both nodes' observers reach the top within a second (Follow polls
	// every 250 ms even without a notification).
	deadline := time.Now().Add(time.Second)
	for obsA.last.Load() != top || obsB.last.Load() != top {
		if time.Now().After(deadline) {
			t.Fatalf("observers at %d and %d, want both at %d", obsA.last.Load(), obsB.last.Load(), top)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if a.Revision() != top || b.Revision() != top {
		t.Errorf("node revisions %d, %d; want %d", a.Revision(), b.Revision(), top)
	}
	// A token revoked on one node fails on the other once it has caught up.
	var tok store.SCIMToken
	var secret string
	storetest.MustUpdate(t, a, func(tx *store.Tx) (err error) {
		tok, secret, err = tx.CreateSCIMToken(c.ID, nil, 0)
		return err
	})
	if err := b.CatchUp(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AuthenticateSCIMToken(secret); err != nil {
		t.Fatalf("token created on node A, on node B: %v", err)
	}
	storetest.MustUpdate(t, a, func(tx *store.Tx) error { return tx.DeleteSCIMToken(c.ID, tok.ID) })
	deadline = time.Now().Add(time.Second)
	for {
		if _, err := b.AuthenticateSCIMToken(secret); errors.Is(err, store.ErrUnauthorized) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("token revoked on node A still works on node B after 1 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, db := range []*store.DB{a, b} {
		if err := db.Verify(); err != nil {
			t.Error(err)
		}
	}
}

// Writes that fail after a cursor read (so their savepoint reached the
// server) share group commits with writes that succeed: each failed one is
// taken back whole, the others commit whole, one revision each.
func TestFailedWritesLeaveTheirBatchIntact(t *testing.T) {
	db := storetest.OpenPostgres(t)
	c := storetest.MustConnection(t, db, "acme")
	g := storetest.MustGroup(t, db, c.ID, "everyone")
	start := db.Revision()
	const writers = 64
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			_, errs[i] = db.Update(ctx, storetest.Origin, func(tx *store.Tx) error {
				u, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: fmt.Sprintf("u%02d", i), ExternalID: fmt.Sprint(i)})
				if err != nil {
					return err
				}
				if _, err := tx.AddMembers(c.ID, g.ID, []store.Member{{ID: u.ID}}); err != nil {
					return err
				}
				if i%2 == 1 {
					tx.UserCount(c.ID) // a cursor: sends the write so far
					return errors.New("refused")
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (err != nil) != (i%2 == 1) {
			t.Errorf("write %d: err %v, want an error only for odd writes", i, err)
		}
	}
	if got, want := db.Revision(), start+writers/2; got != want {
		t.Errorf("revision = %d, want %d", got, want)
	}
	if got := len(storetest.MemberIDs(t, db, g.ID)); got != writers/2 {
		t.Errorf("members = %d, want %d", got, writers/2)
	}
	err := db.View(func(r *store.ReadTx) error {
		if n := r.UserCount(c.ID); n != writers/2 {
			t.Errorf("UserCount = %d, want %d", n, writers/2)
		}
		for i := range writers {
			_, err := r.UserByName(c.ID, fmt.Sprintf("u%02d", i))
			if (err == nil) != (i%2 == 0) {
				t.Errorf("user u%02d: err %v, want it only for even writes", i, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st := db.Stats(); st.Commits >= st.Writes+st.FailedWrites {
		t.Logf("no batch held two writes (commits %d, writes %d): the test proved less", st.Commits, st.Writes+st.FailedWrites)
	}
}

// A node keeps what its last write transaction read and wrote for the next
// one, but never past another node's commit: a value the other node changed
// is read again.
func TestAnotherNodesCommitInvalidatesTheWriteCache(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := newEngine(t, dsn), newEngine(t, dsn)
	update := func(e *postgres.Engine, fn func(store.Bucket)) {
		t.Helper()
		etx, err := e.Begin(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		defer etx.Rollback()
		bk, err := etx.CreateBucketIfNotExists([]byte("b"))
		if err != nil {
			t.Fatal(err)
		}
		fn(bk)
		if err := etx.Err(); err != nil {
			t.Fatal(err)
		}
		if err := etx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	get := func(e *postgres.Engine, key string) (v string) {
		t.Helper()
		update(e, func(bk store.Bucket) {
			bk.Get([]byte("first")) // goes with BEGIN, which reads the token
			v = string(bk.Get([]byte(key)))
		})
		return v
	}
	update(a, func(bk store.Bucket) {
		bk.Put([]byte("k"), []byte("a1"))
		bk.Put([]byte("gone"), []byte("x"))
	})
	if got := get(a, "k"); got != "a1" {
		t.Fatalf("node A reads its own write: %q, want a1", got)
	}
	update(b, func(bk store.Bucket) {
		bk.Put([]byte("k"), []byte("b1"))
		bk.Delete([]byte("gone"))
	})
	if got := get(a, "k"); got != "b1" {
		t.Errorf("node A after node B's commit: %q, want b1", got)
	}
	if got := get(a, "gone"); got != "" {
		t.Errorf("node A reads a key node B deleted: %q", got)
	}
	update(a, func(bk store.Bucket) { bk.Put([]byte("k"), []byte("a2")) })
	if got := get(b, "k"); got != "a2" {
		t.Errorf("node B after node A's commit: %q, want a2", got)
	}
}
