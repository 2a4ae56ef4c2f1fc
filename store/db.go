package store

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// schemaVersion is the layout version this binary writes. Bump it with a
// migration in migrations when the key layout changes.
const schemaVersion = 6

// maxBatch caps how many queued writes one group commit takes, so a flood of
// writers cannot make a single transaction (and its latency) unbounded.
const maxBatch = 512

// Options configure Open. The zero value is valid.
type Options struct {
	// Now is the clock; nil means time.Now. Tests pass a fake.
	Now func() time.Time
	// Observers are told about every committed change, in commit order, before
	// the writers are released (see Observer).
	Observers []Observer
	// NoSync disables fsync. Only for benchmarks that measure something other
	// than durability; never in production.
	NoSync bool
}

// Observer receives the changes of every committed batch, in commit order.
// Committed is called on the committer goroutine after the commit is durable
// and before any writer of the batch is released, so a caller that got a
// successful Update can rely on every observer having seen its change. It must
// be fast and must not call back into the DB's write path.
type Observer interface {
	Committed(revision uint64, changes []Change)
}

// DB is the store. It is safe for concurrent use; Close it exactly once.
type DB struct {
	engine      Engine
	location    string // the engine's data, for messages: a file path, a database
	shared      Shared // the engine, when other processes share it; else nil
	now         func() time.Time
	observersMu sync.RWMutex
	observers   []Observer

	queue    chan *pendingWrite
	stop     chan struct{}
	stopped  chan struct{}
	closing  atomic.Bool
	closeMu  sync.RWMutex // held for reading while enqueueing; Close takes it to drain safely
	revision atomic.Uint64
	// applyMu orders the publication of revisions to observers: the
	// committer's own, and (shared engines) other processes' ones that
	// Follow or a commit catches up on.
	applyMu sync.Mutex
	// committing (shared engines) is the revisions [0]..[1] of the group
	// commit this process is committing and has not yet published, or nil.
	// A commit wakes Follow (NOTIFY) before the committer publishes it;
	// Follow leaves these revisions to the committer, which has their
	// changes in memory, rather than reading and decoding them back.
	committing atomic.Pointer[[2]uint64]
	// scratch is the committer's reusable per-write state, so a batch does not
	// regrow its undo log and change list from nothing.
	scratch Tx

	// opened names this opening of the store (random), for event stream
	// leases (event_streams.go).
	opened string

	tokenUse tokenUse
	creds    credentialCache
	stats    dbStats
}

type dbStats struct {
	commits, writes, failed atomic.Uint64
	commitNanos             atomic.Uint64 // in the engine's Commit: page writes and fsyncs
	applyNanos              atomic.Uint64 // running write functions
	gatherNanos             atomic.Uint64 // waiting for a batch to fill
}

// Stats are cumulative counters of the write path, for metrics.
type Stats struct {
	Commits      uint64        // group commits (engine transactions)
	Writes       uint64        // successful Update calls
	FailedWrites uint64        // Update calls whose function failed (undone)
	CommitTime   time.Duration // time spent in the engine's Commit (write + fsync)
	ApplyTime    time.Duration // time spent running write functions
	GatherTime   time.Duration // time spent waiting for a batch to fill
	PagesWritten int64         // pages written by commits (bbolt only); fsync cost grows with it
	Revision     uint64
}

// Stats returns the write-path counters. Writes/Commits is the average group
// commit size.
func (db *DB) Stats() Stats {
	var pages int64
	if pc, ok := db.engine.(PageCounter); ok {
		pages = pc.PagesWritten()
	}
	return Stats{
		Commits: db.stats.commits.Load(), Writes: db.stats.writes.Load(), FailedWrites: db.stats.failed.Load(),
		CommitTime: time.Duration(db.stats.commitNanos.Load()), Revision: db.Revision(),
		ApplyTime: time.Duration(db.stats.applyNanos.Load()), GatherTime: time.Duration(db.stats.gatherNanos.Load()),
		PagesWritten: pages,
	}
}

type pendingWrite struct {
	origin Origin
	fn     func(*Tx) error
	rev    uint64
	err    error
	done   chan struct{}
}

// New opens the store over engine e, whose data location (a file, a
// database) names it in messages. A new engine gets every bucket; an older
// layout is migrated; data that is not a Rolecall store, or that lacks its
// schema version, fails with a *FileError wrapping ErrNotDataFile or
// ErrDamaged, and data of a newer Rolecall with ErrNewerSchema: nothing is
// initialised over existing data. On failure e is left open.
func New(e Engine, location string, opts Options) (*DB, error) {
	db := &DB{
		engine:    e,
		location:  location,
		now:       opts.Now,
		observers: opts.Observers,
		queue:     make(chan *pendingWrite, 4*maxBatch),
		stop:      make(chan struct{}),
		stopped:   make(chan struct{}),
	}
	db.shared, _ = e.(Shared)
	db.opened = NewID("opn")
	if db.now == nil {
		db.now = time.Now
	}
	if err := db.init(); err != nil {
		return nil, err
	}
	go db.commitLoop()
	go db.flushLoop()
	return db, nil
}

// init creates the buckets of a new store or migrates an older one, and
// loads the revision. Data that holds buckets but no Rolecall meta bucket is
// another program's, and a meta bucket without a schema version is damaged:
// neither is initialised over.
func (db *DB) init() error {
	path := db.location
	return db.engineUpdate(func(btx EngineTx) error {
		meta := btx.Bucket(bucketMeta)
		if meta == nil {
			if !btx.Empty() {
				return fileErrorf(path, ErrNotDataFile, "it holds data, but without Rolecall's meta bucket")
			}
			for _, name := range allBuckets {
				if _, err := btx.CreateBucketIfNotExists(name); err != nil {
					return fmt.Errorf("store: create bucket %s: %w", name, err)
				}
			}
			meta = btx.Bucket(bucketMeta)
			if err := meta.Put(metaSchemaVersion, u64(schemaVersion)); err != nil {
				return err
			}
		}
		version := readU64(meta.Get(metaSchemaVersion))
		switch {
		case version == 0:
			return fileErrorf(path, ErrDamaged, "its meta bucket has no schema version")
		case version > schemaVersion:
			return fmt.Errorf("store: %s: %w (file %d, binary %d); run the newer Rolecall", path, ErrNewerSchema, version, schemaVersion)
		case version < schemaVersion:
			if err := migrate(btx, version); err != nil {
				return err
			}
		}
		db.revision.Store(readU64(meta.Get(metaRevision)))
		return nil
	})
}

// migrations[v] upgrades a file from schema version v to v+1.
var migrations = map[uint64]func(EngineTx) error{
	// 1 → 2: roles, organizations and their bindings.
	1: createMissingBuckets,
	// 2 → 3: resource servers for the permissions already used (resource_servers.go).
	2: migrateResourceServers,
	// 3 → 4: dashboard sessions (sessions.go).
	3: createMissingBuckets,
	// 4 → 5: IdP role mappings (role_mappings.go).
	4: createMissingBuckets,
	// 5 → 6: event streams (event_streams.go), attribute rules (role_rules.go)
	// and derived effective roles (effective.go).
	5: createMissingBuckets,
}

func createMissingBuckets(btx EngineTx) error {
	for _, name := range allBuckets {
		if _, err := btx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return nil
}

func migrate(btx EngineTx, from uint64) error {
	for v := from; v < schemaVersion; v++ {
		step, ok := migrations[v]
		if !ok {
			return fmt.Errorf("store: no migration from schema version %d", v)
		}
		if err := step(btx); err != nil {
			return fmt.Errorf("store: migrate schema %d→%d: %w", v, v+1, err)
		}
	}
	return btx.Bucket(bucketMeta).Put(metaSchemaVersion, u64(schemaVersion))
}

// tokenUseFlushEvery is how stale a persisted last-use time may be.
const tokenUseFlushEvery = time.Minute

func (db *DB) flushLoop() {
	t := time.NewTicker(tokenUseFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = db.flushTokenUse() // best effort; retried next tick and on Close
		case <-db.stop:
			return
		}
	}
}

// AddObserver registers an observer of every batch committed from now on.
// An observer that also loads a snapshot (an in-memory index) must register
// first and load second, skipping batches the snapshot already holds by
// their revision: then no batch is missed or applied twice.
func (db *DB) AddObserver(o Observer) {
	db.observersMu.Lock()
	defer db.observersMu.Unlock()
	db.observers = append(db.observers, o)
}

// Revision is the store-wide revision of the last committed change.
func (db *DB) Revision() uint64 { return db.revision.Load() }

// Close stops accepting writes, commits the writes already queued, persists
// token last-use times and closes the file.
func (db *DB) Close() error {
	if db.closing.Swap(true) {
		return ErrClosed
	}
	db.closeMu.Lock() // waits until no Update is between its closing check and its enqueue
	close(db.stop)
	db.closeMu.Unlock()
	<-db.stopped
	flushErr := db.flushTokenUse()
	return errors.Join(flushErr, db.engine.Close())
}

// View runs fn on a consistent read-only snapshot.
func (db *DB) View(fn func(*ReadTx) error) error {
	etx, err := db.engine.Begin(context.Background(), false)
	if err != nil {
		return fmt.Errorf("store: begin read: %w", err)
	}
	defer etx.Rollback()
	err = fn(&ReadTx{etx: etx, db: db})
	if rerr := etx.Err(); rerr != nil {
		// A read failed under fn (a lost database connection): whatever fn
		// concluded from it is not to be trusted.
		return fmt.Errorf("store: read: %w", rerr)
	}
	return err
}

// engineUpdate runs fn in a write transaction of its own, outside the commit
// loop: for opening (init, migrations) and for bookkeeping that is not a
// change (token last-use times).
func (db *DB) engineUpdate(fn func(EngineTx) error) error {
	etx, err := db.engine.Begin(context.Background(), true)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(etx); err != nil {
		etx.Rollback()
		return err
	}
	if err := etx.Err(); err != nil {
		etx.Rollback()
		return err
	}
	return etx.Commit()
}

// Origin says who asked for a write; it is recorded on every audit entry.
type Origin struct {
	Actor     Actor
	Channel   string // ChannelSCIM, ChannelAPI or ChannelSystem
	RequestID string
	// Reads names keys the write will look up (UserNameLookup, …), so that
	// an engine whose reads are round trips (PostgreSQL) reads those of a
	// whole group commit at once instead of one write after the other. It
	// is a hint: a wrong or missing one costs a read, never a result.
	Reads []Lookup
}

// Lookup is a key a write will read; see Origin.Reads.
type Lookup struct{ bucket, key []byte }

// UserNameLookup is the uniqueness check of a user created or renamed to
// userName in the connection.
func UserNameLookup(connectionID, userName string) Lookup {
	return Lookup{bucketUserNames, catS(connectionID, Fold(userName))}
}

// GroupNameLookup is the uniqueness check of a group created or renamed to
// displayName in the connection.
func GroupNameLookup(connectionID, displayName string) Lookup {
	return Lookup{bucketGroupNames, catS(connectionID, Fold(displayName))}
}

// prefetch reads at once what the writes of a batch said they will look up,
// on an engine that reads many keys in one round trip; the engine's
// transaction keeps the answers for the writes' own reads. On other engines
// (bbolt: reads are memory) it does nothing.
func prefetch(r *ReadTx, batch []*pendingWrite) {
	var byBucket map[string][][]byte
	for _, p := range batch {
		for _, l := range p.origin.Reads {
			if byBucket == nil {
				byBucket = map[string][][]byte{}
			}
			byBucket[string(l.bucket)] = append(byBucket[string(l.bucket)], l.key)
		}
	}
	for name, keys := range byBucket {
		if len(keys) < 2 {
			continue // the write's own Get costs the same round trip
		}
		if m, ok := r.bucket([]byte(name)).(MultiGetter); ok {
			m.GetMany(keys)
		}
	}
}

// Update runs fn as one atomic write and returns the revision it committed at
// (the current revision when fn changed nothing). fn runs on the committer
// goroutine, possibly in the same engine transaction as other writers' functions;
// when it returns an error, everything it did is undone and that error is
// returned. When Update returns nil the change is durable and every Observer
// has seen it.
func (db *DB) Update(ctx context.Context, origin Origin, fn func(*Tx) error) (uint64, error) {
	p := &pendingWrite{origin: origin, fn: fn, done: make(chan struct{})}
	db.closeMu.RLock()
	if db.closing.Load() {
		db.closeMu.RUnlock()
		return 0, ErrClosed
	}
	select {
	case db.queue <- p:
		db.closeMu.RUnlock()
	case <-ctx.Done():
		db.closeMu.RUnlock()
		return 0, ctx.Err()
	}
	// Once queued the write will be decided; wait for it even if ctx ends, so a
	// caller never reports failure for a write that then commits.
	<-p.done
	return p.rev, p.err
}

// commitLoop is the committer: it takes every write queued, runs them in one
// transaction, commits and releases them, and repeats.
//
// Commits are strictly serial (the engine has one writer), so writers released by
// commit k return while commit k+1 is already running, and with n concurrent
// writers batches settle at about n/2. The committer therefore gathers: it
// remembers how many writers were active when the last commit ended (its
// batch plus those that queued meanwhile) and, before the next commit, waits
// until as many are queued, for at most half an average commit. A lone
// writer sees an active count of 1 and never waits.
func (db *DB) commitLoop() {
	defer close(db.stopped)
	batch := make([]*pendingWrite, 0, maxBatch)
	gather := time.NewTimer(time.Hour)
	gather.Stop()
	active := 1
	var avgCommit time.Duration
	for {
		var first *pendingWrite
		select {
		case first = <-db.queue:
		case <-db.stop:
			// Drain what was queued before Close; Update refuses new writes now.
			for {
				select {
				case p := <-db.queue:
					db.commit(append(batch[:0], p))
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
		batch = db.drain(batch)
		if len(batch) < active && avgCommit > 0 {
			gatherStart := time.Now()
			gather.Reset(min(max(avgCommit/2, 20*time.Microsecond), 2*time.Millisecond))
		wait:
			for len(batch) < active && len(batch) < maxBatch {
				select {
				case p := <-db.queue:
					batch = append(batch, p)
				case <-gather.C:
					break wait
				case <-db.stop:
					break wait
				}
			}
			if !gather.Stop() {
				select {
				case <-gather.C:
				default:
				}
			}
			db.stats.gatherNanos.Add(uint64(time.Since(gatherStart)))
		}
		start := time.Now()
		db.commit(batch)
		took := time.Since(start)
		if avgCommit == 0 {
			avgCommit = took
		} else {
			avgCommit += (took - avgCommit) / 8
		}
		active = len(batch) + len(db.queue)
	}
}

// drain adds every queued write to batch without waiting, up to maxBatch.
func (db *DB) drain(batch []*pendingWrite) []*pendingWrite {
	for len(batch) < maxBatch {
		select {
		case p := <-db.queue:
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}

// commit runs a batch of writes in one engine transaction and releases them.
func (db *DB) commit(batch []*pendingWrite) {
	defer func() {
		for _, p := range batch {
			close(p.done)
		}
	}()
	btx, err := db.engine.Begin(context.Background(), true)
	if err != nil {
		for _, p := range batch {
			p.err = fmt.Errorf("store: begin: %w", err)
		}
		return
	}
	tx := &db.scratch
	*tx = Tx{ReadTx: ReadTx{etx: btx, db: db}, now: db.now().UTC(), undo: tx.undo[:0], auditRun: auditRun{items: tx.auditRun.items[:0]}}
	tx.sp, _ = btx.(Savepointer)
	defer func() {
		// Keep the buffers, drop what points into the finished transaction.
		*tx = Tx{undo: clearUndo(tx.undo), auditRun: auditRun{items: tx.auditRun.items[:0]}}
	}()
	applyStart := time.Now()
	// The revision and the next audit id are read in the transaction, not
	// remembered: on a shared engine another process may have committed
	// since, and the write lock Begin took keeps them still until Commit.
	base := readU64(btx.Bucket(bucketMeta).Get(metaRevision))
	if db.shared != nil && base > db.revision.Load() {
		// Publish the others' writes first, so observers see every revision
		// in order.
		if err := db.catchUp(&ReadTx{etx: btx, db: db}, base); err != nil {
			btx.Rollback()
			db.failAll(batch, err)
			return
		}
	}
	prefetch(&tx.ReadTx, batch)
	applied, ok := applyBatch(tx, batch, base)
	if !ok {
		// An undo failed: the transaction can no longer be trusted.
		btx.Rollback()
		return
	}
	db.stats.applyNanos.Add(uint64(time.Since(applyStart)))
	if db.shared != nil && applied.rev != base {
		db.committing.Store(&[2]uint64{base + 1, applied.rev})
		defer db.committing.Store(nil) // after publish (defers run last first)
	}
	if err := db.commitAt(btx, base, applied.rev); err != nil {
		db.failAll(batch, err)
		return
	}
	db.stats.commits.Add(1)
	for _, p := range batch {
		if p.err == nil {
			db.stats.writes.Add(1)
		} else {
			db.stats.failed.Add(1)
		}
	}
	if applied.rev != base {
		// Before any writer of the batch is released.
		db.publish(applied.rev, applied.changes, applied.resetCredentials)
	}
}

// appliedBatch is what a batch's writes did together.
type appliedBatch struct {
	rev              uint64   // the revision after the batch
	changes          []Change // of every write that committed, in order
	resetCredentials bool     // some write changed a token or key
}

// applyBatch runs each write of batch in tx, from revision base: a write
// that changed something gets the next revision, one that failed is undone
// in place (to its savepoint, or from the undo log) and keeps its error. ok
// is false when an undo or a savepoint failed; every write then has an error
// and the engine transaction must be rolled back.
func applyBatch(tx *Tx, batch []*pendingWrite, base uint64) (applied appliedBatch, ok bool) {
	applied.rev = base
	auditNext := nextAuditID(tx.etx)
	for _, p := range batch {
		tx.start(p.origin, applied.rev+1, auditNext)
		if tx.sp != nil {
			if err := tx.sp.Savepoint(); err != nil {
				failBatch(batch, p, fmt.Errorf("store: savepoint failed, batch rolled back: %w", err))
				return applied, false
			}
		}
		p.err = runWrite(p.fn, tx)
		if p.err == nil {
			tx.flushAudit()
		}
		if p.err == nil && tx.db.shared != nil && tx.mutated {
			tx.recordChanges()
		}
		if p.err == nil && tx.err != nil {
			p.err = tx.err
		}
		if p.err != nil {
			if undoErr := tx.undoAll(); undoErr != nil {
				failBatch(batch, p, fmt.Errorf("store: undo failed, batch rolled back: %w", undoErr))
				return applied, false
			}
			continue
		}
		if tx.sp != nil {
			if err := tx.sp.ReleaseSavepoint(); err != nil {
				failBatch(batch, p, fmt.Errorf("store: savepoint failed, batch rolled back: %w", err))
				return applied, false
			}
		}
		if !tx.mutated {
			p.rev = applied.rev
			continue
		}
		auditNext = tx.nextAudit
		applied.resetCredentials = applied.resetCredentials || tx.credentialsChanged
		applied.rev++
		p.rev = applied.rev
		applied.changes = append(applied.changes, tx.changes...)
	}
	return applied, true
}

// failBatch gives err to p and to every write of batch that has no error of
// its own: the batch's engine transaction is to be rolled back.
func failBatch(batch []*pendingWrite, p *pendingWrite, err error) {
	for _, q := range batch {
		if q.err == nil || q == p {
			q.err = err
		}
	}
}

// commitAt records rev as the store's revision (when the batch moved it from
// base) and commits btx; on any error btx is rolled back.
func (db *DB) commitAt(btx EngineTx, base, rev uint64) error {
	if rev != base {
		if err := btx.Bucket(bucketMeta).Put(metaRevision, u64(rev)); err != nil {
			btx.Rollback()
			return err
		}
	}
	if err := btx.Err(); err != nil {
		btx.Rollback()
		return err
	}
	start := time.Now()
	if err := btx.Commit(); err != nil {
		return err
	}
	db.stats.commitNanos.Add(uint64(time.Since(start)))
	return nil
}

// committerPublishes reports whether the revisions from+1..upTo are all of
// the group commit this process is committing, which the committer will
// publish itself (see committing). If the commit fails, they are not in
// the store; if its outcome is unknown, the next catch-up finds them.
func (db *DB) committerPublishes(from, upTo uint64) bool {
	c := db.committing.Load()
	return c != nil && from+1 >= c[0] && upTo <= c[1]
}

// nextAuditID is the id the next audit entry gets: one past the last entry's
// run.
func nextAuditID(etx EngineTx) uint64 {
	if k, v := etx.Bucket(bucketAudit).Cursor().Last(); k != nil {
		return readU64(k) + uint64(auditRecordLen(v))
	}
	return 1
}

// publish tells every observer about committed revisions up to rev, then
// makes rev the DB's revision. Observers see revisions in increasing order,
// whichever goroutine publishes them.
func (db *DB) publish(rev uint64, changes []Change, resetCredentials bool) {
	db.applyMu.Lock()
	defer db.applyMu.Unlock()
	if rev <= db.revision.Load() {
		return // published already (Follow got there first)
	}
	if resetCredentials {
		db.creds.reset()
	}
	db.observersMu.RLock()
	for _, o := range db.observers {
		o.Committed(rev, changes)
	}
	db.observersMu.RUnlock()
	db.revision.Store(rev)
}

func (db *DB) failAll(batch []*pendingWrite, err error) {
	for _, p := range batch {
		if p.err == nil {
			p.err = fmt.Errorf("store: commit: %w", err)
		}
	}
}

// clearUndo empties a reused undo log without keeping its bucket pointers and
// byte slices alive. A log grown by one huge write (a 100k-member group
// deletion) is dropped rather than kept and cleared on every batch.
func clearUndo(undo []undoEntry) []undoEntry {
	if cap(undo) > 1<<14 {
		return nil
	}
	clear(undo[:cap(undo)])
	return undo[:0]
}

// runWrite calls fn, turning a panic into an error so one bad write cannot take
// down the committer (and with it every other writer).
func runWrite(fn func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: write function panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return fn(tx)
}
