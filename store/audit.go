package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/rolecall/rolecall/store/httpconv"
	"slices"
	"strconv"
	"time"
)

// AuditFilter narrows an audit listing. Empty fields match everything.
type AuditFilter struct {
	Type     string // exact event type, one of EventTypes
	TargetID string // exact target id
}

func (f AuditFilter) match(e *AuditEntry) bool {
	return (f.Type == "" || e.Type == f.Type) && (f.TargetID == "" || e.Target.ID == f.TargetID)
}

// AuditLog pages the audit log. Entries come oldest first starting after the
// entry id `from` ("" for the beginning), or newest first when descending is
// set (starting before `from`). next is the `from` of the following page, or ""
// when there are no more.
func (r *ReadTx) AuditLog(from string, take int, descending bool, filter AuditFilter) (entries []AuditEntry, next string, err error) {
	c := r.bucket(bucketAudit).Cursor()
	start, _ := strconv.ParseUint(from, 10, 64)
	// Records hold runs of entries keyed by their first id, so the entry
	// after (or before) `from` may sit inside the record just before the
	// seek position.
	var k, v []byte
	step := c.Next
	switch {
	case descending && start == 0:
		k, v = c.Last()
		step = c.Prev
	case descending:
		if sk, _ := c.Seek(u64(start)); sk == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		step = c.Prev
	default:
		k, v = c.Seek(u64(start + 1))
		switch {
		case k == nil:
			k, v = c.Last()
		case readU64(k) > start+1:
			if pk, pv := c.Prev(); pk != nil {
				k, v = pk, pv
			} else {
				k, v = c.First()
			}
		}
	}
	for ; k != nil; k, v = step() {
		var rec auditRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil, "", err
		}
		batch := rec.entries(readU64(k))
		if descending {
			slices.Reverse(batch)
		}
		for i := range batch {
			e := &batch[i]
			id, _ := strconv.ParseUint(e.ID, 10, 64)
			if start != 0 && (descending && id >= start || !descending && id <= start) {
				continue
			}
			if !filter.match(e) {
				continue
			}
			if len(entries) == take {
				// More remain; the next page starts after the last entry returned.
				return entries, entries[len(entries)-1].ID, nil
			}
			entries = append(entries, *e)
		}
	}
	return entries, "", nil
}

// auditItem is what differs between the entries of a run.
type auditItem struct {
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
}

// auditRun is a run of entries sharing everything but their items. A run of
// one is stored exactly as a single AuditEntry.
type auditRun struct {
	first uint64
	head  AuditEntry
	items []auditItem
}

// auditRecord is the on-disk form: an AuditEntry, with "items" when it holds
// a run of more than one.
type auditRecord struct {
	AuditEntry
	Items []auditItem `json:"items,omitempty"`
}

// entries expands a record into its entries, ids counting up from first.
func (rec *auditRecord) entries(first uint64) []AuditEntry {
	if len(rec.Items) == 0 {
		return []AuditEntry{rec.AuditEntry}
	}
	out := make([]AuditEntry, len(rec.Items))
	for i, item := range rec.Items {
		e := rec.AuditEntry
		e.ID = strconv.FormatUint(first+uint64(i), 10)
		e.Before, e.After = item.Before, item.After
		out[i] = e
	}
	return out
}

// auditRecordLen is how many entries a stored record holds. Every commit
// asks it of the log's last record, which after a large PATCH holds a
// thousand entries: a record of a run says its length just before its
// items ("n"), read without decoding the rest; older records, and single
// entries, are decoded.
func auditRecordLen(v []byte) int {
	// The first `,"items":[` is the record's own: the fields before it are
	// the run's head, whose strings are escaped and which holds no raw
	// JSON (a run's before and after are in its items).
	if i := bytes.Index(v, []byte(`,"items":[`)); i > 0 {
		head := v[:i]
		if j := bytes.LastIndex(head, []byte(`,"n":`)); j >= 0 {
			if n, err := strconv.Atoi(string(head[j+len(`,"n":`):])); err == nil && n > 0 {
				return n
			}
		}
	}
	var probe struct {
		Items []json.RawMessage `json:"items"`
	}
	if json.Unmarshal(v, &probe) != nil || len(probe.Items) == 0 {
		return 1
	}
	return len(probe.Items)
}

func (run *auditRun) appendJSON(b []byte) []byte {
	e := run.head
	if len(run.items) == 1 {
		e.Before, e.After = run.items[0].Before, run.items[0].After
		return e.appendJSON(b)
	}
	b = e.appendJSON(b)
	b = append(b[:len(b)-1], `,"n":`...)
	b = strconv.AppendInt(b, int64(len(run.items)), 10)
	b = append(b, `,"items":[`...)
	for i, item := range run.items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if len(item.Before) > 0 {
			b = append(b, `"before":`...)
			b = append(b, item.Before...)
		}
		if len(item.After) > 0 {
			if len(item.Before) > 0 {
				b = append(b, ',')
			}
			b = append(b, `"after":`...)
			b = append(b, item.After...)
		}
		b = append(b, '}')
	}
	return append(b, ']', '}')
}

// appendJSON encodes the entry without reflection (a PATCH that changes a
// thousand memberships writes a thousand entries), with the fields and field
// order encoding/json would write. Its strings decode to what encoding/json's
// would, but the bytes may differ: see httpconv.AppendJSONString.
func (e *AuditEntry) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = httpconv.AppendJSONString(b, e.ID)
	b = append(b, `,"date":"`...)
	b = e.Date.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","type":`...)
	b = httpconv.AppendJSONString(b, e.Type)
	b = append(b, `,"actor":{"type":`...)
	b = httpconv.AppendJSONString(b, e.Actor.Type)
	b = append(b, `,"id":`...)
	b = httpconv.AppendJSONString(b, e.Actor.ID)
	b = append(b, `},"channel":`...)
	b = httpconv.AppendJSONString(b, e.Channel)
	b = append(b, `,"target":{"type":`...)
	b = httpconv.AppendJSONString(b, e.Target.Type)
	b = append(b, `,"id":`...)
	b = httpconv.AppendJSONString(b, e.Target.ID)
	b = append(b, '}')
	if len(e.Before) > 0 {
		b = append(b, `,"before":`...)
		b = append(b, e.Before...)
	}
	if len(e.After) > 0 {
		b = append(b, `,"after":`...)
		b = append(b, e.After...)
	}
	if e.RequestID != "" {
		b = append(b, `,"request_id":`...)
		b = httpconv.AppendJSONString(b, e.RequestID)
	}
	b = append(b, `,"revision":`...)
	b = strconv.AppendUint(b, e.Revision, 10)
	return append(b, '}')
}

// appendJSON encodes a member with the fields and order encoding/json would
// write; strings as httpconv.AppendJSONString writes them.
func (m Member) appendJSON(b []byte) []byte {
	b = append(b, `{"value":`...)
	b = httpconv.AppendJSONString(b, m.ID)
	b = append(b, `,"type":`...)
	b = httpconv.AppendJSONString(b, m.Type)
	if m.Display != "" {
		b = append(b, `,"display":`...)
		b = httpconv.AppendJSONString(b, m.Display)
	}
	return append(b, '}')
}

// FeedPosition is a place in the audit log for the change feed: past every
// entry of the revisions up to Revision, and past the entry with id After (0:
// none). Both bounds hold at once, so a position can stand in the middle of
// one revision's entries (a PATCH adding a thousand members writes a thousand
// entries at one revision) and a page may end there without losing or
// repeating an entry. Entry ids increase with revision (one writer, entries
// written in commit order), so After, when set, always lies in revision
// Revision+1 or earlier.
type FeedPosition struct {
	Revision uint64
	After    uint64
}

// AuditFeed returns up to take entries past from (revision > from.Revision
// and id > from.After), oldest first, and the position past them: past the
// last entry returned, with Revision the highest revision whose entries have
// all been returned. When the page reaches the end of the log, next.Revision
// is the snapshot's revision (not the last entry's), so that revisions that
// wrote no entry do not make a waiting reader wake for nothing.
//
// The first entry past from.Revision is found without reading the log from
// its start: a galloping search from the newest entry back (a reader that
// keeps up finds it in one or two probes, one that is far behind in
// O(log distance)), then a binary search, each probe reading one record's
// head only. The write path stays as it was: no index to keep.
func (r *ReadTx) AuditFeed(from FeedPosition, take int) (entries []AuditEntry, next FeedPosition, err error) {
	next = from
	if snap := r.Revision(); snap > next.Revision {
		next.Revision = snap
	}
	if take <= 0 {
		return nil, from, nil
	}
	c := r.bucket(bucketAudit).Cursor()
	start, err := feedStart(c, from)
	if err != nil || start == 0 {
		return nil, next, err
	}
	// One entry more than asked says whether the page ends mid-revision.
	entries, _, err = r.AuditLog(strconv.FormatUint(start-1, 10), take+1, false, AuditFilter{})
	if err != nil {
		return nil, from, err
	}
	if len(entries) <= take {
		if len(entries) > 0 {
			next.After, _ = strconv.ParseUint(entries[len(entries)-1].ID, 10, 64)
		}
		return entries, next, nil
	}
	following := entries[take]
	entries = entries[:take]
	return entries, from.Past(entries, &following), nil
}

// Past returns the position past entries, a page read from p, when the entry
// after the page is following (nil: the page ends a revision).
func (p FeedPosition) Past(entries []AuditEntry, following *AuditEntry) FeedPosition {
	if len(entries) == 0 {
		return p
	}
	last := entries[len(entries)-1]
	next := FeedPosition{Revision: last.Revision}
	next.After, _ = strconv.ParseUint(last.ID, 10, 64)
	if following != nil && following.Revision == last.Revision {
		next.Revision-- // that revision continues on the next page
	}
	next.Revision = max(next.Revision, p.Revision)
	return next
}

// feedStart is the id of the first entry past from, or 0 when there is none.
func feedStart(c Cursor, from FeedPosition) (uint64, error) {
	k, v := c.Last()
	if k == nil {
		return 0, nil
	}
	last := readU64(k) + uint64(auditRecordLen(v)) - 1
	if from.After >= last {
		return 0, nil
	}
	if from.Revision == 0 {
		return from.After + 1, nil
	}
	rev := func(id uint64) (uint64, error) { return auditRevisionAt(c, id) }
	// The entry right after a mid-revision cursor is usually the one.
	if from.After > 0 {
		r, err := rev(from.After + 1)
		if err != nil || r > from.Revision {
			return from.After + 1, err
		}
	}
	// Invariant: rev(lo) <= from.Revision (lo 0: before the log), rev(hi) > from.Revision.
	hi := last
	if r, err := rev(hi); err != nil || r <= from.Revision {
		return 0, err
	}
	lo := from.After
	for step := uint64(1); ; step *= 2 {
		if hi-lo <= step {
			break
		}
		probe := hi - step
		r, err := rev(probe)
		if err != nil {
			return 0, err
		}
		if r <= from.Revision {
			lo = probe
			break
		}
		hi = probe
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		r, err := rev(mid)
		if err != nil {
			return 0, err
		}
		if r > from.Revision {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, nil
}

// auditRevisionAt is the revision of the entry with the given id, which must
// exist: the revision of the record holding it, read from the record's head
// without decoding its items (they follow the revision in the record).
func auditRevisionAt(c Cursor, id uint64) (uint64, error) {
	// Records are keyed by their first entry's id: the one holding id is
	// at id or just before the seek position.
	k, v := c.Seek(u64(id))
	switch {
	case k == nil:
		k, v = c.Last()
	case readU64(k) > id:
		k, v = c.Prev()
	}
	if k == nil {
		return 0, fmt.Errorf("store: audit entry %d not found", id)
	}
	dec := json.NewDecoder(bytes.NewReader(v))
	if _, err := dec.Token(); err != nil {
		return 0, fmt.Errorf("store: decode audit record %d: %w", readU64(k), err)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return 0, fmt.Errorf("store: decode audit record %d: %w", readU64(k), err)
		}
		if t == "revision" {
			var rev uint64
			if err := dec.Decode(&rev); err != nil {
				return 0, fmt.Errorf("store: decode audit record %d: %w", readU64(k), err)
			}
			return rev, nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return 0, fmt.Errorf("store: decode audit record %d: %w", readU64(k), err)
		}
	}
	return 0, fmt.Errorf("store: audit record %d has no revision", readU64(k))
}
