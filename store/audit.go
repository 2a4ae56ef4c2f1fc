package store

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
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

// auditRecordLen is how many entries a stored record holds.
func auditRecordLen(v []byte) int {
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
	b = append(b[:len(b)-1], `,"items":[`...)
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
// would, but the bytes may differ: see appendJSONString.
func (e *AuditEntry) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, e.ID)
	b = append(b, `,"date":"`...)
	b = e.Date.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","type":`...)
	b = appendJSONString(b, e.Type)
	b = append(b, `,"actor":{"type":`...)
	b = appendJSONString(b, e.Actor.Type)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, e.Actor.ID)
	b = append(b, `},"channel":`...)
	b = appendJSONString(b, e.Channel)
	b = append(b, `,"target":{"type":`...)
	b = appendJSONString(b, e.Target.Type)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, e.Target.ID)
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
		b = appendJSONString(b, e.RequestID)
	}
	b = append(b, `,"revision":`...)
	b = strconv.AppendUint(b, e.Revision, 10)
	return append(b, '}')
}

// appendJSON encodes a member with the fields and order encoding/json would
// write; strings as appendJSONString writes them.
func (m Member) appendJSON(b []byte) []byte {
	b = append(b, `{"value":`...)
	b = appendJSONString(b, m.ID)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, m.Type)
	if m.Display != "" {
		b = append(b, `,"display":`...)
		b = appendJSONString(b, m.Display)
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped (the latter always as \u00XX), invalid UTF-8
// replaced by U+FFFD. It decodes to the same string as encoding/json's
// encoding but is not byte-identical to it: encoding/json also escapes <, >
// and & (HTML safety) and U+2028 and U+2029, and writes \n, \r, \t, \b and
// \f in short form; none of that changes the decoded value.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
