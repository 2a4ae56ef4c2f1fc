package store

import "context"

// The store keeps its records, indexes, memberships and audit log as keys in
// named buckets of an ordered key-value engine, and does every domain
// operation (checks, records, index keys, cascades, audit, revision) itself,
// in one place, over the Engine interface below. A backend provides only
// the engine: embedded bbolt (package store/bboltdb, the default) or
// PostgreSQL (package store/postgres, for several nodes). So every invariant
// holds the same on both, and the conformance suite (store/storetest)
// checks it on both.
//
// The contract an engine must keep:
//
//   - Keys in a bucket are ordered bytewise; cursors walk them in that order
//     and see the transaction's own writes.
//   - A write transaction is serializable against every other write
//     transaction of every process sharing the engine: at most one is open
//     at a time (bbolt has one writer; PostgreSQL takes a transaction-level
//     advisory lock at Begin). The store relies on this for uniqueness
//     (userName, displayName per connection), cascades, and the store-wide
//     revision being gap-free and increasing in commit order.
//   - A read transaction is a consistent snapshot.
//   - Commit returns nil only once the transaction is durable.
//   - Byte slices returned by Get and cursors are valid only until the next
//     call on the transaction (bbolt: until it ends); callers copy what they
//     keep.
//   - Get and cursor moves cannot return errors (bbolt's cannot fail); an
//     engine whose reads can fail (a network) returns nil and reports the
//     failure from Err, which the store checks before trusting a read
//     transaction's answer and before committing a write.

// Engine is an ordered, transactional key-value store with named buckets.
type Engine interface {
	// Begin starts a transaction. A writable one waits for every other
	// writer (of every process sharing the engine) to finish.
	Begin(ctx context.Context, writable bool) (EngineTx, error)
	// Close releases the engine. Transactions must be finished first.
	Close() error
}

// EngineTx is one engine transaction.
type EngineTx interface {
	// Bucket returns the named bucket, or nil when it does not exist.
	Bucket(name []byte) Bucket
	// CreateBucketIfNotExists creates a bucket (write transactions only).
	CreateBucketIfNotExists(name []byte) (Bucket, error)
	// Empty reports whether the engine holds no bucket at all: a new store.
	Empty() bool
	// Err is the first failure of a read that could not report it.
	Err() error
	Commit() error
	Rollback() error
}

// Bucket is a named, ordered set of keys.
type Bucket interface {
	Get(key []byte) []byte
	Put(key, value []byte) error
	Delete(key []byte) error
	Cursor() Cursor
}

// Cursor walks a bucket's keys in order. A move returns nil, nil past either
// end.
type Cursor interface {
	First() (key, value []byte)
	Last() (key, value []byte)
	Seek(seek []byte) (key, value []byte)
	Next() (key, value []byte)
	Prev() (key, value []byte)
}

// Shared is implemented by an engine that several Rolecall processes use at
// once (PostgreSQL). The store then keeps every committed write's changes in
// the engine, so that each process can bring its observers (the role index,
// the credential cache) up to date with the others' writes, and Follow runs
// that catch-up.
type Shared interface {
	Engine
	// Commits returns a channel that receives a value soon after any
	// process commits a write (PostgreSQL: LISTEN/NOTIFY). Missing a wake-up
	// is harmless: Follow also polls.
	Commits(ctx context.Context) <-chan struct{}
}

// Savepointer is implemented by a write transaction that can take back part
// of itself cheaply (PostgreSQL: SAVEPOINT, queued with its buffered writes,
// so it costs no round trip of its own). The group commit runs many writes in
// one engine transaction and must undo a failed one without disturbing the
// others: with a Savepointer it brackets each write with Savepoint and then
// ReleaseSavepoint or RollbackToSavepoint; without one it keeps an undo log,
// which reads the old value of every key a write puts (free on bbolt, a
// round trip each on a network engine).
//
// At most one savepoint is open at a time; the store never nests them.
// Gets and cursors after RollbackToSavepoint see the transaction as it was at
// Savepoint. An error from any of them leaves the transaction unusable (the
// store rolls it back).
type Savepointer interface {
	// Savepoint marks the transaction's current state.
	Savepoint() error
	// RollbackToSavepoint takes back every Put and Delete since Savepoint
	// and ends the savepoint.
	RollbackToSavepoint() error
	// ReleaseSavepoint ends the savepoint, keeping the writes since it.
	ReleaseSavepoint() error
}

// MultiGetter is implemented by a bucket that reads many keys for about the
// price of one (PostgreSQL: one query, one round trip, where each Get is a
// round trip of its own). The store reads through it where a write or a page
// looks up a key per member or per record; on an engine without it (bbolt,
// whose Gets are memory reads) it calls Get for each key instead.
type MultiGetter interface {
	// GetMany returns the value of each key as Get would (nil: absent), in
	// the order of keys, seeing the transaction's own writes. The values are
	// valid until the next call on the transaction. A failed read returns
	// nils and is reported by the transaction's Err, as for Get.
	GetMany(keys [][]byte) [][]byte
}

// PageCounter is implemented by an engine that can tell how many pages its
// commits wrote (bbolt), for the write-path metrics.
type PageCounter interface {
	PagesWritten() int64
}

// A Mirror is a bucket whose keys are exactly another bucket's keys with
// their two parts swapped, all with the same value: member_of
// (memberID|grpID) mirrors members (grpID|memberID). The store writes both
// in the same transaction, so an engine may keep a mirror like any other
// bucket (bbolt), or derive it from the other bucket through an index of
// its own and not store its writes (PostgreSQL: one row per membership, not
// two).
type Mirror struct {
	Bucket, Of []byte
	Split      int    // the length of the first part of Of's keys
	Value      []byte // every key's value
}

// MirrorOf returns the mirror the bucket is, if it is one.
func MirrorOf(bucket []byte) (Mirror, bool) {
	if string(bucket) == string(bucketMemberOf) {
		return Mirror{Bucket: bucketMemberOf, Of: bucketMembers, Split: IDLen, Value: present}, true
	}
	return Mirror{}, false
}

// AppendMostly reports whether new keys of the bucket sort after its
// existing ones (time-ordered ids, sequence numbers), so that an engine may
// pack its pages full (bbolt's fill percent).
func AppendMostly(bucket []byte) bool { return appendMostly[string(bucket)] }

// MultiScanner is implemented by a bucket that walks the keys under many
// prefixes for about the price of one walk (PostgreSQL: one query, one
// round trip, where each prefix's cursor is a round trip of its own). The
// store reads through it where a page looks up a range per record (the
// groups of each listed user); on an engine without it (bbolt, whose
// cursors are memory reads) it walks a cursor per prefix instead.
type MultiScanner interface {
	// ScanPrefixes calls fn with every key that has prefixes[i] as a
	// prefix, and its value, prefix by prefix in the order given and each
	// prefix's keys in key order, until fn returns false. It sees the
	// transaction's own writes, as a cursor does. k and v are valid only
	// during the call, and fn must not call the transaction. A failed read
	// ends the walk and is reported by the transaction's Err.
	ScanPrefixes(prefixes [][]byte, fn func(i int, k, v []byte) bool)
}
