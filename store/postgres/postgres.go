// Package postgres is the store's engine for several Rolecall nodes: the
// store's ordered key-value buckets as rows of one PostgreSQL table, kv
// (bucket, k, v) with primary key (bucket, k). It is the only package that
// imports pgx.
//
// Every domain operation, index, cascade, audit entry and revision is done by
// package store over the engine, exactly as on bbolt; this package keeps the
// engine contract of store/engine.go:
//
//   - Ordered keys: the primary key is a btree over (bucket, k), and bytea
//     compares bytewise, so cursors are index range scans.
//   - One writer at a time across every node: a write transaction takes
//     pg_advisory_xact_lock(writerLock) before its first statement and holds
//     it until it ends. That lock (not SQL isolation) is what makes the
//     store-wide revision gap-free and increasing in commit order, and what
//     keeps userName and displayName unique per connection and cascades
//     whole: the store checks and writes them under it. Writers run at READ
//     COMMITTED; since nobody else writes while the lock is held, every read
//     they make is as stable as under SERIALIZABLE, without its aborts.
//   - Readers run REPEATABLE READ READ ONLY: one consistent snapshot, never
//     blocking and never blocked by the writer.
//   - Durability: synchronous_commit is on for every session (unless
//     Options.NoSync), so Commit returns once the commit is in the WAL on disk
//     (and on synchronous standbys, if the server has them).
//
// Speed: a write transaction buffers its Puts and Deletes in memory and
// sends them in one round trip (unnest arrays: a plain INSERT for keys known
// absent on the server, an upsert for the others, a delete per bucket)
// before a cursor query that could see them and with COMMIT; Gets answer
// from the buffer first. GetMany (store.MultiGetter) reads many keys with
// one query, where the store would look up a key per member or record.
// Cursors fetch keys in batches. BEGIN (and the writer lock) travel with the
// transaction's first query. So a group commit of many writes costs its
// reads' round trips, one flush and one durable COMMIT. Three things keep
// the reads few:
//
//   - Savepoints (store.Savepointer) instead of the store's undo log, so a
//     write reads no value it replaces. A savepoint is sent only if a flush
//     happens under it; until then it is a journal of the buffer.
//   - For append-mostly buckets (store.AppendMostly), the greatest key on
//     the server, read once with the first Get (or cursor Last) that needs
//     it: a key above it and not in the buffer is absent (fresh ids,
//     sequence numbers), and Last is often known without a query (the audit
//     log's tail, read by every group commit).
//   - A node's next write transaction keeps the buffer of its last one when
//     no other node has written since (cache.go: a writer token read with
//     BEGIN).
//
// What remains per write is its own lookups that miss (a user creation:
// one, the userName check); per group commit, BEGIN with the revision, the
// flush and COMMIT. Values are stored with lz4 compression where the server
// has it (migration 0003).
//
// Several nodes: the engine implements store.Shared. A committing write
// transaction sends NOTIFY rolecall_commits; Commits listens on a dedicated
// connection, and store.DB.Follow catches up on the others' revisions.
//
// Schema migrations (migrations/*.sql, embedded) are applied by Open under a
// session advisory lock, so nodes starting together migrate once.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rolecall/rolecall/store"
)

// Advisory lock keys ("rolecall" and "rolecalm" as 64-bit integers). Every
// node of one database takes the same ones.
const (
	// writerLock is held by every write transaction (transaction level).
	writerLock int64 = 0x726f6c6563616c6c
	// migrateLock is held while Open applies schema migrations (session
	// level).
	migrateLock int64 = 0x726f6c6563616c6d
)

// notifyChannel is the LISTEN/NOTIFY channel of commits.
const notifyChannel = "rolecall_commits"

// defaultMaxConns is the pool size when the DSN sets no pool_max_conns:
// readers run in parallel on their own connections; the writer needs one.
const defaultMaxConns = 32

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Open connects to the PostgreSQL database named by dsn (a URL,
// postgres://user:password@host:port/db?sslmode=..., or key=value pairs, as
// libpq takes them; pool_max_conns sets the pool size), applies the schema
// migrations this binary embeds, and opens the store over it. A database
// migrated by a newer Rolecall fails with store.ErrNewerSchema. The store's
// location (in messages) is the DSN without its password.
func Open(ctx context.Context, dsn string, opts store.Options) (*store.DB, error) {
	e, err := NewEngine(ctx, dsn, opts)
	if err != nil {
		return nil, err
	}
	db, err := store.New(e, e.location, opts)
	if err != nil {
		e.Close()
		return nil, err
	}
	return db, nil
}

// NewEngine connects and migrates, like Open, and returns the engine without
// a store over it (for tools that look at the data themselves).
func NewEngine(ctx context.Context, dsn string, opts store.Options) (*Engine, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: postgres DSN: %w", err) // pgx's message omits the password
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	sync := "on"
	if opts.NoSync {
		sync = "off"
	}
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = sync
	cfg.ConnConfig.RuntimeParams["application_name"] = "rolecall"
	location := locationOf(cfg.ConnConfig)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", location, err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: %s: %w", location, err)
	}
	e := &Engine{pool: pool, location: location, listenCfg: cfg.ConnConfig.Copy(), buckets: map[string]int16{}}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	var rows float64 // -1 before the first analysis
	if err := pool.QueryRow(ctx, "SELECT reltuples FROM pg_class WHERE oid = 'kv'::regclass").Scan(&rows); err == nil && rows > 0 {
		e.analyzedRows.Store(int64(rows))
	}
	return e, nil
}

// locationOf names a database without its password.
func locationOf(c *pgx.ConnConfig) string {
	host := c.Host
	if strings.HasPrefix(host, "/") {
		return fmt.Sprintf("postgres://%s@/%s?host=%s", c.User, c.Database, host)
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", c.User, host, c.Port, c.Database)
}

// Engine is a PostgreSQL database as a store.Engine.
type Engine struct {
	pool      *pgxpool.Pool
	location  string
	listenCfg *pgx.ConnConfig
	ctx       context.Context // ends at Close: stops the listeners
	cancel    context.CancelFunc

	cache writeCache // the last committed write transaction's reads and writes

	roundTrips atomic.Int64 // see RoundTrips

	// Rows written since kv was last analyzed, its size then, the analyses
	// made, and whether one is running (analyze.go).
	inserted, analyzedRows, analyses atomic.Int64
	analyzing                        atomic.Bool

	// buckets caches bucket ids by name, and mirrors the mirror buckets
	// among them by id. The store never deletes a bucket, so an id once
	// committed stays valid for good.
	mu      sync.RWMutex
	buckets map[string]int16
	mirrors map[int16]*mirror
}

var _ store.Shared = (*Engine)(nil)

// Location is the database, without its password.
func (e *Engine) Location() string { return e.location }

// RoundTrips is how many round trips to the server the engine's
// transactions have made so far (batches sent; a ROLLBACK is one too). What
// a store operation costs on a network engine is mostly its round trips,
// so tests and benchmarks count them.
func (e *Engine) RoundTrips() int64 { return e.roundTrips.Load() }

// Close closes the connection pool and stops the listeners.
func (e *Engine) Close() error {
	e.cancel()
	e.pool.Close()
	return nil
}

func (e *Engine) bucketID(name string) (int16, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	id, ok := e.buckets[name]
	return id, ok
}

func (e *Engine) rememberBuckets(ids map[string]int16, mirrors map[int16]*mirror) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for name, id := range ids {
		e.buckets[name] = id
	}
	for id, m := range mirrors {
		if e.mirrors == nil {
			e.mirrors = map[int16]*mirror{}
		}
		e.mirrors[id] = m
	}
}

func (e *Engine) mirror(id int16) *mirror {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.mirrors[id]
}

// migration is one embedded schema file, NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, ent := range entries {
		num, _, ok := strings.Cut(ent.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(ent.Name(), ".sql") {
			return nil, fmt.Errorf("migration file %q is not NNNN_name.sql", ent.Name())
		}
		raw, err := migrationFiles.ReadFile("migrations/" + ent.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: ent.Name(), sql: string(raw)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	return ms, nil
}

// migrate applies the embedded migrations the database lacks, each in its
// own transaction with its row in schema_migrations, holding a session
// advisory lock so that nodes starting together apply each one once.
func migrate(ctx context.Context, pool *pgxpool.Pool) (err error) {
	ms, err := migrations()
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLock); err != nil {
		return fmt.Errorf("take the migration lock: %w", err)
	}
	defer func() {
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLock); uerr != nil {
			conn.Conn().Close(context.Background()) // closing the session releases the lock
			err = errors.Join(err, uerr)
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var applied int
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&applied); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	if known := ms[len(ms)-1].version; applied > known {
		return fmt.Errorf("%w (database schema %d, binary %d); run the newer Rolecall", store.ErrNewerSchema, applied, known)
	}
	for _, m := range ms {
		if m.version <= applied {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name)
			return err
		})
		if err != nil {
			return fmt.Errorf("apply migration %s: %w", m.name, err)
		}
	}
	return nil
}
