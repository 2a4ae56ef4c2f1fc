package postgres

import (
	"context"
	"time"
)

// PostgreSQL keeps a statement's generic plan for as long as the
// connection lives, planned with the table's statistics of the moment it
// was made; only an ANALYZE of the table makes it plan again. A fresh
// database filled by an IdP's first sync (100k users in minutes) therefore
// kept the plans it made while kv held a few rows: reading the uniqueness
// keys of a group commit then scanned the whole bucket, filtering key by
// key (2 ms a commit at 20k users, growing with every user), until
// autovacuum got round to analyzing the table. So the engine analyzes kv
// itself whenever it has written (inserted or upserted) as many rows as kv
// held at the last analysis (at least analyzeMinRows): statistics are never
// more than a doubling behind, and the plans they invalidate are made again
// from them. Autovacuum analyzes after a tenth of that; this only keeps a
// fast-growing table from outrunning it.
const analyzeMinRows = 1000

// noteInserted counts rows a committed transaction wrote and starts an
// ANALYZE in the background when they add up to the table's size.
func (e *Engine) noteInserted(n int) {
	if n == 0 {
		return
	}
	total := e.inserted.Add(int64(n))
	if total < max(analyzeMinRows, e.analyzedRows.Load()) || !e.analyzing.CompareAndSwap(false, true) {
		return
	}
	e.inserted.Store(0)
	go func() {
		defer e.analyzing.Store(false)
		ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
		defer cancel()
		if _, err := e.pool.Exec(ctx, "ANALYZE kv"); err != nil {
			return // autovacuum analyzes it in time; nothing is wrong meanwhile
		}
		var rows float64
		if e.pool.QueryRow(ctx, "SELECT reltuples FROM pg_class WHERE oid = 'kv'::regclass").Scan(&rows) == nil && rows > 0 {
			e.analyzedRows.Store(int64(rows))
		}
		e.analyses.Add(1)
	}()
}

// Analyses is how many times the engine has analyzed kv (see noteInserted).
func (e *Engine) Analyses() int64 { return e.analyses.Load() }
