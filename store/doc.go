// Package store persists everything Rolecall knows in one embedded bbolt file and
// keeps every invariant that must hold across a commit: records, secondary
// indexes, membership keys in both directions, cascades, the audit log and the
// store-wide revision all change together or not at all.
//
// It imports bbolt and the standard library only. Nothing in it knows about
// HTTP, SCIM wire formats or role semantics; its exported API speaks in domain
// terms (CreateUser, AddMembers, CreateSCIMToken, ...) so that a second backend
// can sit behind the same API and run the same tests.
//
// # Transactions
//
// Reads run in [DB.View] on a consistent snapshot and never block writers.
// Writes run in [DB.Update]: the function receives a [*Tx] whose mutation
// methods perform the checks, the change, the index updates, the audit entry
// and the change-feed record for one domain operation. One call to Update is
// one logical write: it either commits whole or leaves no trace.
//
// Concurrent Update calls are coalesced into group commits: a single committer
// goroutine runs every queued write function inside one bbolt transaction,
// commits (two fsyncs), and only then releases the callers. A write function
// that fails is undone in place from an undo log, so a bad request never costs
// its batch-mates a retry and never leaves a partial write behind.
//
// Write functions run on the committer goroutine, one at a time: they must be
// quick (do parsing and encoding before calling Update), must not block, and
// must not call Update or View themselves.
//
// # Caveats
//
//   - Values returned by the store are decoded copies; nothing aliases bbolt
//     memory, so they stay valid after the transaction ends.
//   - A write acknowledged by Update is on disk (fsync) and visible to every
//     later View and to every [Observer] before Update returns.
//   - Every committed write that changes something advances [DB.Revision] by
//     exactly one; a write that changes nothing does not.
//   - Secrets (SCIM tokens, API keys) are stored only as SHA-256 hashes of
//     256-bit random values and compared in constant time; the clear value
//     exists only in the return value of the call that created it.
package store
