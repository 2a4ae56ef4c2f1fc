package scim

import (
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	scimerrors "github.com/elimity-com/scim/errors"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/rolecall/rolecall/scim/document"
	"github.com/rolecall/rolecall/store"
)

// memberEditor collects the member operations of one group PATCH and plans
// their net effect: each membership is written (and audited) at most once
// however many operations touch it, and the group record is rewritten once.
// Every id ever added is validated, so an unknown member fails the PATCH even
// when a later operation removes it again.
//
// It reads the group from view, a snapshot, while the operations apply;
// plan then fixes the changes against that snapshot, and commit writes them.
type memberEditor struct {
	view                  *store.ReadTx // nil once planned
	connectionID, groupID string
	cleared               bool            // a remove-all/replace happened: start from empty
	state                 map[string]bool // id → member after the operations so far
	order                 []string        // ids in first-touched order, for stable audit order
	added                 []store.Member  // every id ever added, for validation
	display               map[string]string
	index                 *memberIndex // built by the first RemoveWhere
	checks                int          // member filter tests so far (MaxMemberFilterChecks)

	// The plan: what commit writes.
	transient []store.Member // added, then removed again: validated only
	removes   []string
	adds      []store.Member
}

var _ document.MemberEditor = (*memberEditor)(nil)

func (e *memberEditor) set(id string, member bool) {
	if _, seen := e.state[id]; !seen {
		e.order = append(e.order, id)
	}
	e.state[id] = member
}

func (e *memberEditor) Add(members []document.Member) error {
	for _, m := range members {
		var before store.Member
		var was bool
		if e.index != nil {
			before, was = e.current(m.Value)
		}
		e.set(m.Value, true)
		e.added = append(e.added, store.Member{ID: m.Value})
		if m.Display != "" {
			e.display[m.Value] = m.Display
		}
		if e.index != nil {
			if now, _ := e.current(m.Value); !was || now != before {
				e.index.insert(now, e.index.slot(now.ID))
			}
		}
	}
	return nil
}

func (e *memberEditor) Remove(ids []string) error {
	for _, id := range ids {
		e.set(id, false)
	}
	return nil
}

func (e *memberEditor) RemoveAll() error {
	e.cleared = true
	for id := range e.state {
		e.state[id] = false
	}
	return nil
}

func (e *memberEditor) Replace(members []document.Member) error {
	if err := e.RemoveAll(); err != nil {
		return err
	}
	return e.Add(members)
}

// RemoveWhere removes the current members matching a members[…] value filter
// that is not a plain list of ids. Candidates come from the index when the
// filter has an eq on value, display or type; each is tested against the
// whole filter, as is every current member otherwise.
func (e *memberEditor) RemoveWhere(expr filter.Expression) error {
	if e.index == nil {
		stored, _ := e.view.Members(e.groupID, "", 0)
		e.index = &memberIndex{members: stored, stored: len(stored), slots: map[string]int32{}, chains: map[indexKey]chain{}}
	}
	idx := e.index
	keys, ok := candidates(expr)
	if !ok {
		keys = []indexKey{{attr: attrAny}}
	}
	const name = "members"
	path := &filter.ValuePath{AttributePath: filter.AttributePath{AttributeName: name}, ValueFilter: expr}
	el := map[string]any{}
	doc := map[string]any{name: []any{el}}
	for _, k := range keys {
		if !idx.built[k.attr] {
			e.indexAll(k.attr)
		}
		idx.scan++
		c := idx.chains[k]
		for prev, i := int32(0), c.head; i != 0; {
			en := idx.entries[i-1]
			next := en.next
			id := idx.members[en.slot].ID
			m, current := e.current(id)
			if !current || idx.visited[en.slot] == idx.scan || k.attr != attrAny && foldHash(k.attr.of(m)) != k.hash {
				// Gone, repeated in this chain, or relabelled: unlink.
				if prev == 0 {
					c.head = next
				} else {
					idx.entries[prev-1].next = next
				}
				if next == 0 {
					c.tail = prev
				}
				i = next
				continue
			}
			idx.visited[en.slot] = idx.scan
			if e.checks++; e.checks > MaxMemberFilterChecks {
				return scimErr(http.StatusBadRequest, scimerrors.ScimTypeTooMany, "The PATCH tests members against members[…] filters more than %d times (MaxMemberFilterChecks). Filter by value, display or type with eq, or send fewer operations.", MaxMemberFilterChecks)
			}
			el["value"], el["type"], el["display"] = m.ID, m.Type, m.Display
			if document.Group.Match(path, doc) {
				e.set(id, false) // unlinked by the next scan that meets it
			}
			prev, i = i, next
		}
		idx.chains[k] = c
	}
	return nil
}

// current reports whether id is a member after the operations so far (the
// index must be built), and
// the member with the type and display it will have once committed: a
// stored member keeps its own (AddMembers does not relabel one the group
// has, even after a remove-all that added it back), a new one gets the type
// its id names and the display it was added with.
func (e *memberEditor) current(id string) (store.Member, bool) {
	member, touched := e.state[id]
	if touched && !member || !touched && e.cleared {
		return store.Member{}, false
	}
	stored, isStored := e.index.storedMember(id)
	switch {
	case isStored:
		return stored, true
	case touched:
		return store.Member{ID: id, Type: memberType(id), Display: e.display[id]}, true
	}
	return store.Member{}, false
}

// indexAll indexes every current member by a.
func (e *memberEditor) indexAll(a memberAttr) {
	idx := e.index
	idx.built[a] = true
	for slot := range idx.stored {
		if m, current := e.current(idx.members[slot].ID); current {
			idx.add(a, m, int32(slot))
		}
	}
	for _, id := range e.order {
		if _, isStored := idx.storedMember(id); !isStored {
			if m, current := e.current(id); current {
				idx.add(a, m, idx.slot(id))
			}
		}
	}
}

// memberAttr names a member sub-attribute the index keys on.
type memberAttr uint8

const (
	attrAny memberAttr = iota // every current member
	attrValue
	attrDisplay
	attrType
)

func (a memberAttr) of(m store.Member) string {
	switch a {
	case attrValue:
		return m.ID
	case attrDisplay:
		return m.Display
	default:
		return m.Type
	}
}

type indexKey struct {
	attr memberAttr
	hash uint64 // foldHash of the value; 0 for attrAny
}

// chain is a list of index entries, 1-based (0 ends it).
type chain struct{ head, tail int32 }

type indexEntry struct{ slot, next int32 }

// memberIndex finds a group's current members by value, display or type,
// hashed as folded for a case-insensitive eq (a collision only adds a
// candidate, which the filter then rejects). An attribute is indexed when a
// filter first needs it, and kept up to date as operations apply: additions
// are inserted, and entries that went stale (removed, relabelled, repeated)
// are unlinked by the scans that meet them, so each costs one visit once
// gone. Members are numbered by slot: the stored ones in id order, then the
// ones new to the group.
type memberIndex struct {
	members []store.Member // by slot; a new member's entry holds only its id
	stored  int            // members[:stored] are the snapshot's, sorted by id
	slots   map[string]int32
	built   [attrType + 1]bool
	chains  map[indexKey]chain
	entries []indexEntry
	visited []uint32 // by slot: the last chain scan that met it
	scan    uint32
}

// storedMember returns id's membership in the snapshot.
func (idx *memberIndex) storedMember(id string) (store.Member, bool) {
	i, found := slices.BinarySearchFunc(idx.members[:idx.stored], id, func(m store.Member, id string) int { return strings.Compare(m.ID, id) })
	if !found {
		return store.Member{}, false
	}
	return idx.members[i], true
}

// slot numbers a member, giving one to an id new to the group.
func (idx *memberIndex) slot(id string) int32 {
	if i, found := slices.BinarySearchFunc(idx.members[:idx.stored], id, func(m store.Member, id string) int { return strings.Compare(m.ID, id) }); found {
		return int32(i)
	}
	if s, ok := idx.slots[id]; ok {
		return s
	}
	s := int32(len(idx.members))
	idx.members = append(idx.members, store.Member{ID: id})
	idx.slots[id] = s
	return s
}

// insert indexes a member, as it is now, by every attribute indexed so far.
func (idx *memberIndex) insert(m store.Member, slot int32) {
	for a, built := range idx.built {
		if built {
			idx.add(memberAttr(a), m, slot)
		}
	}
}

func (idx *memberIndex) add(a memberAttr, m store.Member, slot int32) {
	for int(slot) >= len(idx.visited) {
		idx.visited = append(idx.visited, 0)
	}
	k := indexKey{attr: a}
	if a != attrAny {
		k.hash = foldHash(a.of(m))
	}
	idx.entries = append(idx.entries, indexEntry{slot: slot})
	e := int32(len(idx.entries))
	c := idx.chains[k]
	if c.head == 0 {
		c.head = e
	} else {
		idx.entries[c.tail-1].next = e
	}
	c.tail = e
	idx.chains[k] = c
}

// candidates returns the index keys whose members include every member expr
// can match: an eq on value, display or type with a string; for and, the
// more selective side (value, then display, then type); for or, both sides.
// ok is false when the filter needs every member tested.
func candidates(expr filter.Expression) (keys []indexKey, ok bool) {
	switch x := expr.(type) {
	case *filter.AttributeExpression:
		p := x.AttributePath
		want, isString := x.CompareValue.(string)
		if x.Operator != filter.EQ || !isString || p.URIPrefix != nil || p.SubAttribute != nil {
			return nil, false
		}
		var a memberAttr
		switch {
		case strings.EqualFold(p.AttributeName, "value"):
			a = attrValue
		case strings.EqualFold(p.AttributeName, "display"):
			a = attrDisplay
		case strings.EqualFold(p.AttributeName, "type"):
			a = attrType
		default:
			return nil, false
		}
		return []indexKey{{a, foldHash(want)}}, true
	case *filter.LogicalExpression:
		left, lok := candidates(x.Left)
		right, rok := candidates(x.Right)
		switch {
		case x.Operator == filter.OR:
			return append(left, right...), lok && rok
		case x.Operator != filter.AND:
			return nil, false
		case lok && rok && weakest(right) < weakest(left):
			return right, true
		case lok:
			return left, true
		default:
			return right, rok
		}
	}
	return nil, false
}

// weakest is the least selective attribute among keys: a type matches half
// a group, a display or value a member or two.
func weakest(keys []indexKey) memberAttr {
	var w memberAttr
	for _, k := range keys {
		w = max(w, k.attr)
	}
	return w
}

// foldHash hashes s as folded for strings.EqualFold (FNV-1a over each rune
// mapped to the smallest of its case-folding orbit), so strings EqualFold
// holds equal hash equal.
func foldHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); {
		r := rune(s[i])
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A' // 'A' < 'a'; the other members of K's and S's orbits are not ASCII
			}
			i++
		} else {
			c, size := utf8.DecodeRuneInString(s[i:])
			i += size
			r = c
			for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
				r = min(r, f)
			}
		}
		h = (h ^ uint64(r)) * 1099511628211
	}
	return h
}

// memberType is the type a member id names; "" for an id that is neither a
// user's nor a group's (commit rejects those).
func memberType(id string) string {
	switch {
	case strings.HasPrefix(id, store.PrefixUser+"_"):
		return store.MemberUser
	case strings.HasPrefix(id, store.PrefixGroup+"_"):
		return store.MemberGroup
	}
	return ""
}

// plan fixes the net changes against the snapshot, and lets it go.
func (e *memberEditor) plan() {
	// Net additions are validated by AddMembers; ids added and then removed
	// again never reach it, so they are checked at commit.
	for _, m := range e.added {
		if !e.state[m.ID] {
			e.transient = append(e.transient, m)
		}
	}
	// AddMembers skips members the group has and RemoveMembers ignores ids it
	// does not have, so the wanted states go to them as they are.
	if e.cleared {
		stored, _ := e.view.Members(e.groupID, "", 0)
		for _, m := range stored {
			if !e.state[m.ID] {
				e.removes = append(e.removes, m.ID)
			}
		}
	}
	for _, id := range e.order {
		switch {
		case e.state[id]:
			e.adds = append(e.adds, store.Member{ID: id, Display: e.display[id]})
		case !e.cleared:
			e.removes = append(e.removes, id)
		}
	}
	e.view, e.index, e.state, e.added, e.display = nil, nil, nil, nil, nil
}

// commit writes the planned changes. The group must be at the revision of
// the snapshot the plan was made on.
func (e *memberEditor) commit(tx *store.Tx) error {
	if len(e.transient) > 0 {
		if err := tx.ValidateMembers(e.connectionID, e.groupID, e.transient); err != nil {
			return err
		}
	}
	if len(e.removes) > 0 {
		if _, err := tx.RemoveMembers(e.connectionID, e.groupID, e.removes); err != nil {
			return err
		}
	}
	if len(e.adds) > 0 {
		if _, err := tx.AddMembers(e.connectionID, e.groupID, e.adds); err != nil {
			return err
		}
	}
	return nil
}
