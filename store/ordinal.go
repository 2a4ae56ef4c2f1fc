package store

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// An ordinal index lists one connection's users (or groups) in creation order
// and answers "the n-th one" without walking the n before it. Keys are
// conID|seq → id in the order bucket; the chunk bucket counts the live entries
// of each run of 1<<chunkBits sequence numbers (conID|seq>>chunkBits → count).
// Finding position n sums the few hundred chunk counts, then walks at most one
// chunk: page 1,000 of 100k users costs about what page 1 costs.
type ordinal struct {
	order, chunks []byte
	seqKind       string // name of the per-connection sequence in bucketMeta
}

const chunkBits = 8

var (
	userOrdinal  = ordinal{order: bucketUserOrder, chunks: bucketUserChunks, seqKind: "u"}
	groupOrdinal = ordinal{order: bucketGroupOrder, chunks: bucketGroupChunks, seqKind: "g"}
)

// add appends id to the connection's order and returns its sequence number.
func (o ordinal) add(tx *Tx, conID, id string) uint64 {
	seqKey := metaSeqKey(o.seqKind, conID)
	seq := readU64(tx.get(bucketMeta, seqKey)) + 1
	tx.put(bucketMeta, seqKey, u64(seq))
	tx.put(o.order, cat([]byte(conID), u64(seq)), []byte(id))
	tx.addCounter(o.chunks, cat([]byte(conID), u64(seq>>chunkBits)), 1)
	return seq
}

func (o ordinal) remove(tx *Tx, conID string, seq uint64) {
	tx.del(o.order, cat([]byte(conID), u64(seq)))
	tx.addCounter(o.chunks, cat([]byte(conID), u64(seq>>chunkBits)), -1)
}

// count is the number of live entries of the connection.
func (o ordinal) count(r *ReadTx, conID string) int {
	total := 0
	r.scanPrefix(o.chunks, []byte(conID), func(_, v []byte) bool {
		total += int(readU64(v))
		return true
	})
	return total
}

// page returns the ids at positions [offset, offset+limit) and the total.
func (o ordinal) page(r *ReadTx, conID string, offset, limit int) (ids []string, total int) {
	prefix := []byte(conID)
	startChunk, skip, found := uint64(0), offset, false
	r.scanPrefix(o.chunks, prefix, func(k, v []byte) bool {
		n := int(readU64(v))
		if !found && skip < n {
			startChunk, found = binary.BigEndian.Uint64(k[len(prefix):]), true
		} else if !found {
			skip -= n
		}
		total += n
		return true
	})
	if !found || limit <= 0 {
		return nil, total
	}
	c := r.bucket(o.order).Cursor()
	for k, v := c.Seek(cat(prefix, u64(startChunk<<chunkBits))); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if skip > 0 {
			skip--
			continue
		}
		ids = append(ids, string(v))
		if len(ids) == limit {
			break
		}
	}
	return ids, total
}

// each calls fn with every id of the connection in order until fn returns false.
func (o ordinal) each(r *ReadTx, conID string, fn func(id string) bool) {
	r.scanPrefix(o.order, []byte(conID), func(_, v []byte) bool { return fn(string(v)) })
}

// after returns up to limit ids whose sequence number is greater than seq, in
// order, and whether more follow them. limit 0 only answers whether any does.
func (o ordinal) after(r *ReadTx, conID string, seq uint64, limit int) (ids []string, more bool) {
	if seq == ^uint64(0) {
		return nil, false
	}
	limit = max(limit, 0)
	prefix := []byte(conID)
	c := r.bucket(o.order).Cursor()
	for k, v := c.Seek(cat(prefix, u64(seq+1))); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(ids) == limit {
			return ids, true
		}
		ids = append(ids, string(v))
	}
	return ids, false
}

// before returns the last (up to) limit ids whose sequence number is less
// than seq, in order, and whether more precede them. limit 0 only answers
// whether any does.
func (o ordinal) before(r *ReadTx, conID string, seq uint64, limit int) (ids []string, more bool) {
	limit = max(limit, 0)
	prefix := []byte(conID)
	c := r.bucket(o.order).Cursor()
	var k, v []byte
	if k, _ = c.Seek(cat(prefix, u64(seq))); k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
		if len(ids) == limit {
			more = true
			break
		}
		ids = append(ids, string(v))
	}
	slices.Reverse(ids)
	return ids, more
}
