package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// present is the value of keys whose existence is the information (index and
// membership-reverse keys). bbolt's Get cannot tell an absent key from an
// empty value reliably, so these keys hold one byte.
var present = []byte{1}

// ReadTx is a read-only view of the store. Its methods return decoded copies.
// It is only valid inside the function passed to View or Update.
type ReadTx struct {
	etx     EngineTx
	db      *DB
	buckets map[string]Bucket
}

func (r *ReadTx) bucket(name []byte) Bucket {
	if b, ok := r.buckets[string(name)]; ok {
		return b
	}
	if r.buckets == nil {
		r.buckets = make(map[string]Bucket, 8)
	}
	b := r.etx.Bucket(name)
	if b == nil {
		// Every bucket is created by init; a missing one is a corrupt store.
		panic(fmt.Sprintf("store: bucket %q missing", name))
	}
	r.buckets[string(name)] = b
	return b
}

// appendMostly are the buckets whose new keys sort after the existing ones.
var appendMostly = map[string]bool{
	string(bucketUsers): true, string(bucketGroups): true, string(bucketConnections): true,
	string(bucketSCIMTokens): true, string(bucketAPIKeys): true,
	string(bucketUserOrder): true, string(bucketGroupOrder): true, string(bucketAudit): true,
}

func (r *ReadTx) get(bucket, key []byte) []byte { return r.bucket(bucket).Get(key) }

func (r *ReadTx) has(bucket, key []byte) bool { return r.bucket(bucket).Get(key) != nil }

func (r *ReadTx) getJSON(bucket, key []byte, v any) (bool, error) {
	raw := r.get(bucket, key)
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("store: decode %s/%q: %w", bucket, key, err)
	}
	return true, nil
}

// getEach calls fn with the value of each key of bucket (nil: absent), in
// order. A network engine's bucket (a MultiGetter) reads them all in one
// call; otherwise each is its own Get, which on bbolt is a memory read and
// cheaper than building a batch. fn must not call the transaction (a value
// may live only until then): callers read first, then write.
func (r *ReadTx) getEach(bucket []byte, keys [][]byte, fn func(i int, v []byte)) {
	b := r.bucket(bucket)
	if m, ok := b.(MultiGetter); ok && len(keys) > 1 {
		for i, v := range m.GetMany(keys) {
			fn(i, v)
		}
		return
	}
	for i, key := range keys {
		fn(i, b.Get(key))
	}
}

// User and group records are stored as connectionID|JSON so that connection
// scoping checks (on every member of a group write) need no JSON decoding.
func (r *ReadTx) inConnection(bucket []byte, connectionID, id string) bool {
	raw := r.get(bucket, []byte(id))
	return len(raw) >= IDLen && string(raw[:IDLen]) == connectionID
}

// scanPrefix calls fn for every key with the given prefix, in key order, until
// fn returns false. k and v are only valid during the call.
func (r *ReadTx) scanPrefix(bucket, prefix []byte, fn func(k, v []byte) bool) {
	c := r.bucket(bucket).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if !fn(k, v) {
			return
		}
	}
}

// Tx is a write transaction for one logical write. Its mutation methods do the
// whole domain operation: checks, records, indexes, audit entry and change feed.
// A failed write is taken back without disturbing the other writes of its
// group commit: by rolling back to the savepoint taken before it, when the
// engine has savepoints (sp), else from an undo log of every low-level change.
type Tx struct {
	ReadTx
	now    time.Time
	origin Origin
	rev    uint64 // the revision this write commits at
	// sp is the engine transaction's savepoints, or nil: then undo is kept.
	// A network engine has them, so that a put costs no read of the value it
	// replaces.
	sp      Savepointer
	undo    []undoEntry
	mutated bool
	changes []Change
	err     error // first low-level failure; the write fails with it
	// nextAudit is the id of the next audit entry. The committer owns the
	// counter (it is the only writer): it hands it to each write and keeps
	// what a successful write advanced it to.
	nextAudit uint64
	auditRun  auditRun // entries not yet written (see flushAudit)
	// credentialsChanged: this write deleted a SCIM token or API key, so the
	// credential cache must be reset once it commits.
	credentialsChanged bool
}

type undoEntry struct {
	bucket  Bucket
	key     []byte
	old     []byte
	existed bool
}

// start resets the per-write state before the next write of a batch runs.
func (tx *Tx) start(origin Origin, rev, nextAudit uint64) {
	tx.origin = origin
	tx.rev = rev
	tx.undo = tx.undo[:0]
	tx.mutated = false
	tx.changes = nil
	tx.err = nil
	tx.nextAudit = nextAudit
	tx.auditRun.items = tx.auditRun.items[:0]
	tx.credentialsChanged = false
}

// newID returns an id with the given prefix that no record in bucket has.
func (tx *Tx) newID(prefix string, bucket []byte) string {
	for {
		if id := NewID(prefix); !tx.has(bucket, []byte(id)) {
			return id
		}
	}
}

// Now is the time of the current group commit, the same for all its writes.
func (tx *Tx) Now() time.Time { return tx.now }

// Revision is the revision the current write will commit at.
func (tx *Tx) Revision() uint64 { return tx.rev }

func (tx *Tx) put(bucket, key, value []byte) {
	if tx.err != nil {
		return
	}
	b := tx.bucket(bucket)
	if tx.sp == nil {
		old := b.Get(key)
		tx.undo = append(tx.undo, undoEntry{bucket: b, key: key, old: bytes.Clone(old), existed: old != nil})
	}
	if err := b.Put(key, value); err != nil {
		tx.err = fmt.Errorf("store: put %s: %w", bucket, err)
		return
	}
	tx.mutated = true
}

// putNew writes a key the caller knows is absent (a fresh id, a sequence
// number past the end, a membership just checked): its undo is a delete, so
// no read of the old value is needed.
func (tx *Tx) putNew(bucket, key, value []byte) {
	if tx.err != nil {
		return
	}
	b := tx.bucket(bucket)
	if tx.sp == nil {
		tx.undo = append(tx.undo, undoEntry{bucket: b, key: key})
	}
	if err := b.Put(key, value); err != nil {
		tx.err = fmt.Errorf("store: put %s: %w", bucket, err)
		return
	}
	tx.mutated = true
}

func (tx *Tx) putJSON(bucket, key []byte, v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		tx.err = fmt.Errorf("store: encode %s: %w", bucket, err)
		return
	}
	tx.put(bucket, key, raw)
}

func (tx *Tx) putRecord(bucket []byte, id, connectionID string, v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		tx.err = fmt.Errorf("store: encode %s: %w", bucket, err)
		return
	}
	tx.put(bucket, []byte(id), append([]byte(connectionID), raw...))
}

func (tx *Tx) del(bucket, key []byte) {
	if tx.err != nil {
		return
	}
	b := tx.bucket(bucket)
	// The read is needed even with savepoints: deleting an absent key is
	// no change, and must not make the write a revision.
	old := b.Get(key)
	if old == nil {
		return
	}
	if tx.sp == nil {
		tx.undo = append(tx.undo, undoEntry{bucket: b, key: bytes.Clone(key), old: bytes.Clone(old), existed: true})
	}
	if err := b.Delete(key); err != nil {
		tx.err = fmt.Errorf("store: delete %s: %w", bucket, err)
		return
	}
	tx.mutated = true
}

// delKnown deletes a key whose current value the caller just read, sparing
// the undo log a second lookup.
func (tx *Tx) delKnown(bucket, key, old []byte) {
	if tx.err != nil {
		return
	}
	b := tx.bucket(bucket)
	if tx.sp == nil {
		tx.undo = append(tx.undo, undoEntry{bucket: b, key: key, old: bytes.Clone(old), existed: true})
	}
	if err := b.Delete(key); err != nil {
		tx.err = fmt.Errorf("store: delete %s: %w", bucket, err)
		return
	}
	tx.mutated = true
}

// delPrefix deletes every key with the given prefix, calling fn (if not nil)
// with each key and value first. Keys are collected before anything changes:
// fn may write to any bucket, this one included.
func (tx *Tx) delPrefix(bucket, prefix []byte, fn func(k, v []byte)) {
	type kv struct{ k, v []byte }
	var found []kv
	tx.scanPrefix(bucket, prefix, func(k, v []byte) bool {
		found = append(found, kv{bytes.Clone(k), bytes.Clone(v)})
		return true
	})
	for _, e := range found {
		if fn != nil {
			fn(e.k, e.v)
		}
		tx.del(bucket, e.k)
	}
}

// addCounter adds delta to an 8-byte counter, deleting the key at zero.
func (tx *Tx) addCounter(bucket, key []byte, delta int64) uint64 {
	n := int64(readU64(tx.get(bucket, key))) + delta
	if n <= 0 {
		tx.del(bucket, key)
		return 0
	}
	tx.put(bucket, key, u64(uint64(n)))
	return uint64(n)
}

// undoAll takes back every change of the current write: to its savepoint,
// or from the undo log, newest first.
func (tx *Tx) undoAll() error {
	if tx.sp != nil {
		if err := tx.sp.RollbackToSavepoint(); err != nil {
			return err
		}
	}
	for i := len(tx.undo) - 1; i >= 0; i-- {
		u := tx.undo[i]
		var err error
		if u.existed {
			err = u.bucket.Put(u.key, u.old)
		} else {
			err = u.bucket.Delete(u.key)
		}
		if err != nil {
			return err
		}
	}
	tx.undo = tx.undo[:0]
	tx.changes = nil
	tx.mutated = false
	tx.auditRun.items = tx.auditRun.items[:0]
	tx.credentialsChanged = false
	return nil
}

// emit records a change for the observers.
func (tx *Tx) emit(c Change) { tx.changes = append(tx.changes, c) }

// Actor types recorded on audit entries.
const (
	ActorAPIKey    = "api_key"
	ActorSCIMToken = "scim_token"
	ActorSystem    = "system"
)

// Channels recorded on audit entries.
const (
	ChannelSCIM    = "scim"
	ChannelAPI     = "api"
	ChannelCascade = "cascade" // a change made because another change required it
	ChannelSystem  = "system"
)

// Actor is who made a change: an API key, a SCIM token, or the system. It
// holds ids only, never secrets.
type Actor struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Target is what an audit entry is about.
type Target struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// AuditEntry is one change, written in the change's own transaction.
type AuditEntry struct {
	ID        string          `json:"id"`
	Date      time.Time       `json:"date"`
	Type      string          `json:"type"`
	Actor     Actor           `json:"actor"`
	Channel   string          `json:"channel"`
	Target    Target          `json:"target"`
	Before    json.RawMessage `json:"before,omitempty"`
	After     json.RawMessage `json:"after,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
	Revision  uint64          `json:"revision"`
}

// audit appends an entry for a change made directly by the write's origin.
func (tx *Tx) audit(typ string, target Target, before, after any) {
	tx.appendAudit(tx.origin.Channel, typ, target, before, after)
}

// auditCascade appends an entry for a change the write caused indirectly.
func (tx *Tx) auditCascade(typ string, target Target, before, after any) {
	tx.appendAudit(ChannelCascade, typ, target, before, after)
}

func (tx *Tx) appendAudit(channel, typ string, target Target, before, after any) {
	if tx.err != nil {
		return
	}
	item := auditItem{Before: rawJSON(before), After: rawJSON(after)}
	run := &tx.auditRun
	if len(run.items) > 0 && run.head.Type == typ && run.head.Channel == channel && run.head.Target == target {
		run.items = append(run.items, item)
		tx.nextAudit++
		return
	}
	tx.flushAudit()
	actor := tx.origin.Actor
	if actor.Type == "" {
		actor = Actor{Type: ActorSystem, ID: "system"}
	}
	run.first = tx.nextAudit
	run.head = AuditEntry{
		ID: strconv.FormatUint(run.first, 10), Date: tx.now, Type: typ, Actor: actor, Channel: channel,
		Target: target, RequestID: tx.origin.RequestID, Revision: tx.rev,
	}
	run.items = append(run.items[:0], item)
	tx.nextAudit++
}

// flushAudit writes the pending run of audit entries as one record. Entries
// of one write that share type, target, actor and channel (a PATCH adding a
// thousand members) differ only in before/after, so they are stored together
// and expanded on read: one put instead of a thousand, a fifth of the bytes.
func (tx *Tx) flushAudit() {
	run := &tx.auditRun
	if len(run.items) == 0 || tx.err != nil {
		return
	}
	tx.putNew(bucketAudit, u64(run.first), run.appendJSON(make([]byte, 0, 192+len(run.items)*96)))
	run.items = run.items[:0]
}

func rawJSON(v any) json.RawMessage {
	switch v := v.(type) {
	case nil:
		return nil
	case json.RawMessage:
		return v
	case Member:
		return v.appendJSON(make([]byte, 0, 64))
	}
	raw, err := json.Marshal(v)
	if err != nil {
		// Audit payloads are store-built values; failing to encode one is a bug.
		panic(fmt.Sprintf("store: encode audit payload: %v", err))
	}
	return raw
}
