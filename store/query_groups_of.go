package store

import "bytes"

// scanPrefixes calls fn for every key under each of prefixes, prefix by
// prefix, each in key order, until fn returns false (see MultiScanner). A
// network engine's bucket walks them all in one call; otherwise each prefix
// is a cursor walk of its own, which on bbolt is a memory read.
func (r *ReadTx) scanPrefixes(bucket []byte, prefixes [][]byte, fn func(i int, k, v []byte) bool) {
	b := r.bucket(bucket)
	if m, ok := b.(MultiScanner); ok && len(prefixes) > 1 {
		m.ScanPrefixes(prefixes, fn)
		return
	}
	for i, p := range prefixes {
		c := b.Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			if !fn(i, k, v) {
				return
			}
		}
	}
}

// GroupsOfMany answers GroupsOf for each of memberIDs, in order, reading
// the memberships of them all in one walk and their groups in one go, so
// that a page of users costs a round trip or two on a network engine, not
// two per user.
//
// It answers for a leading run of memberIDs, not always all of them: once
// the members answered are in most groups or more between them, it stops
// before the next member (a page of users each in thousands of groups must
// not be held at once). The first member is always answered, whatever its
// number of groups, as GroupsOf would; most <= 0 means no bound. The
// caller asks again for the rest.
func (r *ReadTx) GroupsOfMany(memberIDs []string, most int) ([][]Group, error) {
	if len(memberIDs) == 0 {
		return nil, nil
	}
	prefixes := make([][]byte, len(memberIDs))
	for i, id := range memberIDs {
		prefixes[i] = []byte(id)
	}
	var (
		ids      []string                         // every membership's group id, member by member
		ends     = make([]int, 0, len(memberIDs)) // each member's end in ids
		answered = len(memberIDs)
		seen     = 1 // members whose keys the walk reached
	)
	r.scanPrefixes(bucketMemberOf, prefixes, func(i int, k, _ []byte) bool {
		if i >= seen {
			if most > 0 && len(ids) >= most {
				answered = i // the members before i are complete
				return false
			}
			seen = i + 1
		}
		for len(ends) < i {
			ends = append(ends, len(ids))
		}
		ids = append(ids, string(k[len(memberIDs[i]):]))
		return true
	})
	if err := r.etx.Err(); err != nil {
		return nil, err
	}
	for len(ends) < answered {
		ends = append(ends, len(ids))
	}
	groups, err := r.groupsByID(ids)
	if err != nil {
		return nil, err
	}
	out := make([][]Group, answered)
	from := 0
	for i, end := range ends {
		out[i] = groups[from:end:end]
		from = end
	}
	return out, nil
}
