package postgres

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/postgres/pgtest"
)

// testEngine is an engine on a fresh database of the test server, closed
// when the test ends; the test skips without one.
func testEngine(t *testing.T) *Engine {
	e, err := NewEngine(context.Background(), pgtest.DSN(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// ScanPrefixes walks each prefix as a cursor would, whether the prefix has
// no keys, more keys than one query reads, no end (empty, all 0xff), or keys
// the transaction has not sent yet; and its query reads the rows under each
// prefix only, not every later row of the bucket.
func TestScanPrefixesWalksEachPrefixAsACursorWould(t *testing.T) {
	ctx := context.Background()
	e := testEngine(t)
	name := []byte("scan")
	etx, err := e.Begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	b, err := etx.CreateBucketIfNotExists(name)
	if err != nil {
		t.Fatal(err)
	}
	put := func(b store.Bucket, k string) {
		if err := b.Put([]byte(k), []byte("v"+k)); err != nil {
			t.Fatal(err)
		}
	}
	for p := range 30 {
		for i := range 100 {
			put(b, fmt.Sprintf("a/%03d/%03d", p, i))
		}
	}
	for i := range scanFirst + 44 {
		put(b, "b/"+strconv.Itoa(100000+i))
	}
	put(b, "\xff\xff")
	put(b, "\xff\xff\x01")
	if err := etx.Commit(); err != nil {
		t.Fatal(err)
	}

	etx, err = e.Begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer etx.Rollback()
	b = etx.Bucket(name)
	put(b, "a/007/unsent") // buffered: the scan must see it
	prefixes := [][]byte{[]byte("a/007/"), []byte("zz"), []byte("b/"), []byte("\xff\xff"), nil, []byte("a/029/"), []byte("a/007/0")}
	byCursor := func(p []byte) []string {
		var keys []string
		c := b.Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			keys = append(keys, string(k)+"="+string(v))
		}
		return keys
	}
	want := make([][]string, len(prefixes))
	for i, p := range prefixes {
		want[i] = byCursor(p)
	}
	got := make([][]string, len(prefixes))
	b.(store.MultiScanner).ScanPrefixes(prefixes, func(i int, k, v []byte) bool {
		got[i] = append(got[i], string(k)+"="+string(v))
		return true
	})
	if err := etx.Err(); err != nil {
		t.Fatal(err)
	}
	for i, p := range prefixes {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("prefix %q: %d keys %.3q…, want %d keys %.3q…", p, len(got[i]), got[i], len(want[i]), want[i])
		}
	}
	if len(want[0]) != 101 || len(want[2]) != scanFirst+44 || len(want[3]) != 2 {
		t.Fatalf("fixture: %d, %d and %d keys under the prefixes", len(want[0]), len(want[2]), len(want[3]))
	}

	// The plan: each range is an index condition at both ends.
	var plan []string
	id, _ := e.bucketID(string(name))
	rows, err := e.pool.Query(ctx, "EXPLAIN (ANALYZE, COSTS OFF) "+sqlScanPrefixes, id,
		[][]byte{[]byte("a/000/"), []byte("a/015/")}, [][]byte{[]byte("a/0000"), []byte("a/0150")}, scanFirst)
	if err == nil {
		plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range plan {
		if m := regexp.MustCompile(`Rows Removed by Filter: (\d+)`).FindStringSubmatch(line); m != nil && m[1] != "0" {
			t.Errorf("the query filters rows out instead of bounding its index scan: %s\n%s", line, strings.Join(plan, "\n"))
		}
	}
}
