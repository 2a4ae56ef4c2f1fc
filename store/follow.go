package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// On a shared engine (several Rolecall processes over one PostgreSQL), a
// process's observers (the role index, the credential cache) must learn of
// the writes the other processes commit. Each write therefore also stores
// its changes under its revision in bucketChanges, in its own transaction;
// every process publishes revisions in order: its own when it commits them,
// the others' when Follow (woken by the engine's commit notifications, and
// polling besides) or its own next commit reads them. Revisions are gap-free
// and committed in order (the engine's single writer), so reading every
// revision above the last published one misses nothing.

// changeRecord is what bucketChanges holds for one revision.
type changeRecord struct {
	Changes []Change `json:"c,omitempty"`
	// Credentials: the write deleted a SCIM token or API key, so credential
	// caches must be emptied.
	Credentials bool `json:"cred,omitempty"`
}

// changesKept is how many revisions bucketChanges keeps. A process that falls
// further behind than this (stopped, partitioned) cannot replay and reloads
// its observers instead (see ErrChangesPruned).
const changesKept = 200_000

// recordChanges stores this write's changes under its revision.
func (tx *Tx) recordChanges() {
	raw, err := json.Marshal(changeRecord{Changes: tx.changes, Credentials: tx.credentialsChanged})
	if err != nil {
		tx.err = fmt.Errorf("store: encode changes: %w", err)
		return
	}
	tx.putNew(bucketChanges, u64(tx.rev), raw)
	if tx.rev > changesKept && tx.rev%1024 == 0 {
		// Prune in steps, one old range per thousand writes.
		c := tx.bucket(bucketChanges).Cursor()
		limit := u64(tx.rev - changesKept)
		var old [][]byte
		for k, _ := c.First(); k != nil && string(k) < string(limit) && len(old) < 4096; k, _ = c.Next() {
			old = append(old, append([]byte(nil), k...))
		}
		for _, k := range old {
			tx.del(bucketChanges, k)
		}
	}
}

// ErrChangesPruned: a process fell so far behind that the changes it needs
// are gone. Its observers must reload from the store (Follow's caller).
var ErrChangesPruned = fmt.Errorf("store: the changes needed to catch up were pruned")

// catchUp publishes every revision above the DB's revision up to upTo, read
// from r.
func (db *DB) catchUp(r *ReadTx, upTo uint64) error {
	db.applyMu.Lock()
	defer db.applyMu.Unlock()
	from := db.revision.Load()
	if upTo <= from || db.committerPublishes(from, upTo) {
		return nil
	}
	c := r.bucket(bucketChanges).Cursor()
	next := from + 1
	for k, v := c.Seek(u64(next)); k != nil && next <= upTo; k, v = c.Next() {
		rev := readU64(k)
		if rev != next {
			return fmt.Errorf("%w (revision %d is missing)", ErrChangesPruned, next)
		}
		var rec changeRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("store: decode the changes of revision %d: %w", rev, err)
		}
		if rec.Credentials {
			db.creds.reset()
		}
		db.observersMu.RLock()
		for _, o := range db.observers {
			o.Committed(rev, rec.Changes)
		}
		db.observersMu.RUnlock()
		db.revision.Store(rev)
		next++
	}
	if err := r.etx.Err(); err != nil {
		return err
	}
	if next <= upTo {
		return fmt.Errorf("%w (revision %d is missing)", ErrChangesPruned, next)
	}
	return nil
}

// followPoll is how often Follow looks for other processes' writes when no
// notification arrives: the bound on how stale a process can be if
// notifications are lost.
const followPoll = 250 * time.Millisecond

// Follow keeps this process's observers up to date with the writes other
// processes commit, until ctx ends. It returns nil at once on an engine that
// is not shared. It returns ErrChangesPruned when the process fell behind
// further than the changes kept; the caller then reloads its observers and
// calls Follow again.
func (db *DB) Follow(ctx context.Context) error {
	if db.shared == nil {
		return nil
	}
	wake := db.shared.Commits(ctx)
	t := time.NewTicker(followPoll)
	defer t.Stop()
	for {
		if err := db.CatchUp(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-t.C:
		}
	}
}

// CatchUp publishes every revision other processes committed since this one
// last looked. It is what Follow runs on each wake-up; /readyz-style checks
// call it once at start.
func (db *DB) CatchUp() error {
	if db.shared == nil {
		return nil
	}
	return db.View(func(r *ReadTx) error {
		latest := readU64(r.get(bucketMeta, metaRevision))
		return db.catchUp(r, latest)
	})
}

// StoredRevision is the latest revision committed by any process, read from
// the engine (the DB's Revision is the latest this process has published).
func (db *DB) StoredRevision() (uint64, error) {
	var rev uint64
	err := db.View(func(r *ReadTx) error {
		rev = readU64(r.get(bucketMeta, metaRevision))
		return nil
	})
	return rev, err
}
