package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rolecall/rolecall/store"
)

// A mirror bucket stores no rows; its cursor and prefix scans read the
// mirrored bucket through the mirror's index, bounded at both ends: never a
// sequential scan, never rows filtered out one by one.
func TestMirrorReadsThroughItsIndex(t *testing.T) {
	ctx := context.Background()
	e := testEngine(t)
	spec, _ := store.MirrorOf([]byte("member_of"))
	id := func(n int) string { return fmt.Sprintf("usr_%0*d", spec.Split-4, n) }
	etx, err := e.Begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := etx.CreateBucketIfNotExists(spec.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	of := etx.Bucket(spec.Of)
	for g := range 20 {
		for u := range 500 {
			grp, usr := fmt.Sprintf("grp_%0*d", spec.Split-4, g), id(u)
			of.Put([]byte(grp+usr), []byte("{}"))
			mb.Put([]byte(usr+grp), spec.Value)
		}
	}
	if err := etx.Commit(); err != nil {
		t.Fatal(err)
	}
	m := mb.(*bucket).m
	if m == nil {
		t.Fatal("member_of was not created as a mirror")
	}
	var rows int
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM kv WHERE bucket = (SELECT id FROM buckets WHERE name = 'member_of')").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("the mirror holds %d rows, want none", rows)
	}
	if _, err := e.pool.Exec(ctx, "ANALYZE kv"); err != nil {
		t.Fatal(err)
	}
	plans := map[string][]any{
		"scan":           {m.scan, [][]byte{[]byte(id(7)), []byte(id(300))}, [][]byte{[]byte(id(8)), []byte(id(301))}, 256},
		"seek":           {m.fetchFrom[0][1], 16, []byte(id(250))},
		"previous":       {m.fetchFrom[1][0], 16, []byte(id(250))},
		"first":          {m.fetchFirst[0], 16},
		"last":           {m.fetchFirst[1], 16},
		"next after key": {m.fetchFrom[0][0], 256, []byte(id(499))},
	}
	for name, q := range plans {
		rows, err := e.pool.Query(ctx, "EXPLAIN (ANALYZE, COSTS OFF) "+q[0].(string), q[1:]...)
		var plan []string
		if err == nil {
			plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, fmt.Sprintf("kv_mirror_%d", mb.(*bucket).id)) || strings.Contains(text, "Seq Scan") ||
			slices.ContainsFunc(plan, func(l string) bool {
				return strings.Contains(l, "Rows Removed by Filter") && !strings.HasSuffix(l, ": 0")
			}) {
			t.Errorf("%s does not read through the mirror's index alone:\n%s", name, text)
		}
	}

	// What the store reads: a member's groups, in key order, own writes
	// included.
	etx, err = e.Begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer etx.Rollback()
	of, mb = etx.Bucket(spec.Of), etx.Bucket(spec.Bucket)
	late := fmt.Sprintf("grp_%0*d", spec.Split-4, 99)
	of.Put([]byte(late+id(7)), []byte("{}"))
	of.Delete([]byte(fmt.Sprintf("grp_%0*d", spec.Split-4, 3) + id(7)))
	var got []string
	c := mb.Cursor()
	for k, v := c.Seek([]byte(id(7))); k != nil && strings.HasPrefix(string(k), id(7)); k, v = c.Next() {
		if string(v) != string(spec.Value) {
			t.Errorf("value %q, want %q", v, spec.Value)
		}
		got = append(got, string(k[spec.Split:]))
	}
	if len(got) != 20 || got[3] != fmt.Sprintf("grp_%0*d", spec.Split-4, 4) || got[19] != late {
		t.Errorf("groups of %s through the mirror: %v", id(7), got)
	}
	if v := mb.Get([]byte(id(7) + late)); string(v) != string(spec.Value) {
		t.Errorf("Get of a mirrored key written in the transaction: %q", v)
	}
	if vs := mb.(store.MultiGetter).GetMany([][]byte{[]byte(id(7) + late), []byte(id(8) + late), []byte("x")}); vs[0] == nil || vs[1] != nil || vs[2] != nil {
		t.Errorf("GetMany through the mirror: %q", vs)
	}
}
