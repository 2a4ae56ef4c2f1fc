package store

import (
	"encoding/json"
	"strconv"
)

// AuditFilter narrows an audit listing. Empty fields match everything.
type AuditFilter struct {
	Type     string // exact event type, e.g. "group.member.added"
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
	var k, v []byte
	start, _ := strconv.ParseUint(from, 10, 64)
	step := c.Next
	switch {
	case descending && start == 0:
		k, v = c.Last()
		step = c.Prev
	case descending:
		if sk, _ := c.Seek(u64(start)); sk == nil {
			k, v = c.Last() // `from` is past the end: start from the newest
		} else {
			k, v = c.Prev()
		}
		step = c.Prev
	default:
		k, v = c.Seek(u64(start + 1))
	}
	for ; k != nil; k, v = step() {
		var e AuditEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, "", err
		}
		if !filter.match(&e) {
			continue
		}
		if len(entries) == take {
			// More remain; the next page starts after the last entry returned.
			return entries, entries[len(entries)-1].ID, nil
		}
		entries = append(entries, e)
	}
	return entries, "", nil
}
