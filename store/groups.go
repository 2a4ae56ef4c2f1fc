package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Group is a SCIM group of one connection. Its members are not part of the
// record: each membership is its own pair of keys (see AddMembers).
type Group struct {
	ID           string
	ConnectionID string
	DisplayName  string
	ExternalID   string
	Doc          json.RawMessage // other SCIM attributes, canonical form
	Created      time.Time
	Modified     time.Time
	Revision     uint64
	seq          uint64
}

type groupRecord struct {
	ID           string          `json:"id"`
	ConnectionID string          `json:"con"`
	DisplayName  string          `json:"dn"`
	ExternalID   string          `json:"ext,omitempty"`
	Doc          json.RawMessage `json:"doc,omitempty"`
	Created      time.Time       `json:"c"`
	Modified     time.Time       `json:"m"`
	Revision     uint64          `json:"rev"`
	Seq          uint64          `json:"seq"`
}

func (g Group) record() groupRecord {
	return groupRecord{g.ID, g.ConnectionID, g.DisplayName, g.ExternalID, g.Doc, g.Created, g.Modified, g.Revision, g.seq}
}

func (r groupRecord) group() Group {
	return Group{r.ID, r.ConnectionID, r.DisplayName, r.ExternalID, r.Doc, r.Created, r.Modified, r.Revision, r.Seq}
}

func (g Group) audit() map[string]any {
	return map[string]any{"connection_id": g.ConnectionID, "displayName": g.DisplayName, "externalId": g.ExternalID}
}

// Member types.
const (
	MemberUser  = "User"
	MemberGroup = "Group"
)

// Member is one member of a group: a user or (nested) group of the same
// connection. Display is the label the IdP sent with the membership, if any.
type Member struct {
	ID      string `json:"value"`
	Type    string `json:"type"`
	Display string `json:"display,omitempty"`
}

// The value of a membership key: one type byte, then the display label.
func encodeMember(m Member) []byte {
	t := byte('U')
	if m.Type == MemberGroup {
		t = 'G'
	}
	return append([]byte{t}, m.Display...)
}

func decodeMember(id []byte, v []byte) Member {
	m := Member{ID: string(id), Type: MemberUser}
	if len(v) > 0 {
		if v[0] == 'G' {
			m.Type = MemberGroup
		}
		m.Display = string(v[1:])
	}
	return m
}

// GroupByID returns a group of any connection, or ErrNotFound.
func (r *ReadTx) GroupByID(id string) (Group, error) {
	if !ValidID(PrefixGroup, id) {
		return Group{}, notFound("group", id)
	}
	return groupAt(id, r.get(bucketGroups, []byte(id)))
}

// groupAt decodes the stored value of group id (nil: absent, ErrNotFound).
func groupAt(id string, raw []byte) (Group, error) {
	if !ValidID(PrefixGroup, id) || len(raw) < IDLen {
		return Group{}, notFound("group", id)
	}
	var rec groupRecord
	if err := json.Unmarshal(raw[IDLen:], &rec); err != nil {
		return Group{}, fmt.Errorf("store: decode group: %w", err)
	}
	return rec.group(), nil
}

// groupsByID returns the groups of ids, in order, reading them in one go
// (see getEach); ErrNotFound when one is missing, like GroupByID.
func (r *ReadTx) groupsByID(ids []string) ([]Group, error) {
	return loadEach(r, bucketGroups, ids, groupAt)
}

// Group returns a group of the given connection; one of another connection is
// ErrNotFound, exactly like a missing one.
func (r *ReadTx) Group(connectionID, id string) (Group, error) {
	if !r.inConnection(bucketGroups, connectionID, id) {
		return Group{}, notFound("group", id)
	}
	return r.GroupByID(id)
}

// GroupByName finds a group by displayName, compared case-insensitively.
func (r *ReadTx) GroupByName(connectionID, displayName string) (Group, error) {
	id := r.get(bucketGroupNames, catS(connectionID, Fold(displayName)))
	if id == nil {
		return Group{}, errorf(ErrNotFound, "no group with displayName %q", displayName)
	}
	return r.GroupByID(string(id))
}

// GroupsByExternalID returns the groups with exactly this externalId.
func (r *ReadTx) GroupsByExternalID(connectionID, externalID string) ([]Group, error) {
	return r.groupsByID(r.idsByExtID(bucketGroupExtIDs, connectionID, externalID))
}

// GroupPage returns the connection's groups at positions [offset, offset+limit)
// in creation order, and how many groups the connection has.
func (r *ReadTx) GroupPage(connectionID string, offset, limit int) ([]Group, int, error) {
	ids, total := groupOrdinal.page(r, connectionID, offset, limit)
	groups, err := r.groupsByID(ids)
	return groups, total, err
}

// Sequence is the group's position in its connection's creation order (see
// User.Sequence).
func (g Group) Sequence() uint64 { return g.seq }

// GroupsAfter is UsersAfter for groups.
func (r *ReadTx) GroupsAfter(connectionID string, seq uint64, limit int) ([]Group, bool, error) {
	ids, more := groupOrdinal.after(r, connectionID, seq, limit)
	groups, err := r.groupsByID(ids)
	return groups, more, err
}

// GroupsBefore is UsersBefore for groups.
func (r *ReadTx) GroupsBefore(connectionID string, seq uint64, limit int) ([]Group, bool, error) {
	ids, more := groupOrdinal.before(r, connectionID, seq, limit)
	groups, err := r.groupsByID(ids)
	return groups, more, err
}

// GroupCount is the number of groups of the connection.
func (r *ReadTx) GroupCount(connectionID string) int { return groupOrdinal.count(r, connectionID) }

// EachGroup calls fn with every group of the connection in creation order
// until fn returns false or an error.
func (r *ReadTx) EachGroup(connectionID string, fn func(Group) (bool, error)) error {
	var ferr error
	groupOrdinal.each(r, connectionID, func(id string) bool {
		g, err := r.GroupByID(id)
		if err == nil {
			var more bool
			more, err = fn(g)
			if err == nil {
				return more
			}
		}
		ferr = err
		return false
	})
	return ferr
}

// IsMember reports whether memberID is a direct member of the group.
func (r *ReadTx) IsMember(groupID, memberID string) bool {
	return r.has(bucketMembers, catS(groupID, memberID))
}

// MemberCount is the number of direct members of the group.
func (r *ReadTx) MemberCount(groupID string) int {
	return int(readU64(r.get(bucketMemberCount, []byte(groupID))))
}

// Members returns up to limit members of the group in id order, starting after
// the member id `after` ("" for the start); next is the `after` of the next
// page (the last member returned), or "" at the end. limit <= 0 means all.
func (r *ReadTx) Members(groupID, after string, limit int) (members []Member, next string) {
	prefix := []byte(groupID)
	c := r.bucket(bucketMembers).Cursor()
	k, v := c.Seek(catS(groupID, after))
	if after != "" && k != nil && bytes.Equal(k, catS(groupID, after)) {
		k, v = c.Next()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if limit > 0 && len(members) == limit {
			return members, members[len(members)-1].ID
		}
		members = append(members, decodeMember(k[len(prefix):], v))
	}
	return members, ""
}

// GroupsOf returns the groups memberID (a user or group) is a direct member of,
// in group id order.
func (r *ReadTx) GroupsOf(memberID string) ([]Group, error) {
	var ids []string
	r.scanPrefix(bucketMemberOf, []byte(memberID), func(k, _ []byte) bool {
		ids = append(ids, string(k[len(memberID):]))
		return true
	})
	return r.groupsByID(ids)
}

// CreateGroup stores a new group with its initial members. ErrConflict when the
// displayName is taken (case-insensitively) in the connection; ErrInvalid when
// a member is not a user or group of the same connection (nothing is stored).
func (tx *Tx) CreateGroup(g Group, members []Member) (Group, error) {
	if err := tx.connectionExists(g.ConnectionID); err != nil {
		return g, err
	}
	if g.DisplayName == "" {
		return g, errorf(ErrInvalid, "displayName is required")
	}
	if err := checkIndexed("displayName", g.DisplayName); err != nil {
		return g, err
	}
	if err := checkIndexed("externalId", g.ExternalID); err != nil {
		return g, err
	}
	nameKey := catS(g.ConnectionID, Fold(g.DisplayName))
	if tx.has(bucketGroupNames, nameKey) {
		return g, errorf(ErrConflict, "displayName %q is already taken in this connection", g.DisplayName)
	}
	g.ID = tx.newID(PrefixGroup, bucketGroups)
	members, err := tx.checkMembers(g.ConnectionID, g.ID, members)
	if err != nil {
		return g, err
	}
	g.Created, g.Modified, g.Revision = tx.now, tx.now, tx.rev
	g.seq = groupOrdinal.add(tx, g.ConnectionID, g.ID)
	tx.put(bucketGroupNames, nameKey, []byte(g.ID))
	if g.ExternalID != "" {
		tx.put(bucketGroupExtIDs, catS(g.ConnectionID, g.ExternalID, g.ID), present)
	}
	tx.putRecord(bucketGroups, g.ID, g.ConnectionID, g.record())
	tx.audit(EventGroupCreated, Target{"group", g.ID}, nil, g.audit())
	tx.emit(Change{Kind: GroupCreated, ConnectionID: g.ConnectionID, GroupID: g.ID, Name: g.DisplayName})
	added := tx.addMembers(g, members)
	tx.addCounter(bucketMemberCount, []byte(g.ID), int64(added))
	return g, tx.err
}

// UpdateGroup loads a group of the connection, lets fn change DisplayName,
// ExternalID and Doc, and saves the result. No change is a no-op.
func (tx *Tx) UpdateGroup(connectionID, id string, fn func(*Group) error) (Group, error) {
	old, err := tx.Group(connectionID, id)
	if err != nil {
		return old, err
	}
	g := old
	g.Doc = bytes.Clone(old.Doc)
	if err := fn(&g); err != nil {
		return old, err
	}
	g.ID, g.ConnectionID, g.Created, g.seq = old.ID, old.ConnectionID, old.Created, old.seq
	if g.DisplayName == old.DisplayName && g.ExternalID == old.ExternalID && bytes.Equal(g.Doc, old.Doc) {
		return old, nil
	}
	if g.DisplayName == "" {
		return old, errorf(ErrInvalid, "displayName is required")
	}
	if err := checkIndexed("displayName", g.DisplayName); err != nil {
		return old, err
	}
	if err := checkIndexed("externalId", g.ExternalID); err != nil {
		return old, err
	}
	if oldKey, newKey := Fold(old.DisplayName), Fold(g.DisplayName); oldKey != newKey {
		key := catS(connectionID, newKey)
		if tx.has(bucketGroupNames, key) {
			return old, errorf(ErrConflict, "displayName %q is already taken in this connection", g.DisplayName)
		}
		tx.del(bucketGroupNames, catS(connectionID, oldKey))
		tx.put(bucketGroupNames, key, []byte(g.ID))
	}
	if g.ExternalID != old.ExternalID {
		if old.ExternalID != "" {
			tx.del(bucketGroupExtIDs, catS(connectionID, old.ExternalID, g.ID))
		}
		if g.ExternalID != "" {
			tx.put(bucketGroupExtIDs, catS(connectionID, g.ExternalID, g.ID), present)
		}
	}
	g.Modified, g.Revision = tx.now, tx.rev
	tx.putRecord(bucketGroups, g.ID, g.ConnectionID, g.record())
	tx.audit(EventGroupUpdated, Target{"group", g.ID}, old.audit(), g.audit())
	tx.emit(Change{Kind: GroupUpdated, ConnectionID: connectionID, GroupID: g.ID, Name: g.DisplayName})
	return g, tx.err
}

// ValidateMembers checks, without writing anything, that every member is a
// user or group of the connection and not the group itself: ErrInvalid names
// the first one that is not.
func (r *ReadTx) ValidateMembers(connectionID, groupID string, members []Member) error {
	_, err := r.checkMembers(connectionID, groupID, members)
	return err
}

// checkMembers verifies that every member is a user or group of the
// connection (and not the group itself), fills in the member types, and drops
// duplicates. Nothing is written; on error the caller writes nothing either.
func (r *ReadTx) checkMembers(connectionID, groupID string, members []Member) ([]Member, error) {
	out := make([]Member, 0, len(members))
	seen := make(map[string]struct{}, len(members))
	for _, m := range members {
		if _, dup := seen[m.ID]; dup {
			continue
		}
		seen[m.ID] = struct{}{}
		out = append(out, m)
	}
	ours := r.inConnectionEach(connectionID, out)
	for i := range out {
		m := &out[i]
		switch {
		case strings.HasPrefix(m.ID, PrefixUser+"_"):
			if !ours[i] {
				return nil, errorf(ErrInvalid, "member %q is not a user of this connection", m.ID)
			}
			m.Type = MemberUser
		case strings.HasPrefix(m.ID, PrefixGroup+"_"):
			if m.ID == groupID {
				return nil, errorf(ErrInvalid, "a group cannot be a member of itself")
			}
			if !ours[i] {
				return nil, errorf(ErrInvalid, "member %q is not a group of this connection", m.ID)
			}
			m.Type = MemberGroup
		default:
			return nil, errorf(ErrInvalid, "member %q is not a user or group of this connection", m.ID)
		}
		if len(m.Display) > maxIndexedLen {
			m.Display = m.Display[:maxIndexedLen]
		}
	}
	// Insert in key order: bbolt grows one node per touched page until commit,
	// and random-order inserts into a growing node cost a memmove each, which
	// turns a 50k-member write quadratic. Sorted inserts append instead.
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// inConnectionEach reports, for each member, whether its id is a user or
// group of the connection (by its prefix; false for any other id), with one
// read of each bucket (see getEach) rather than one per member.
func (r *ReadTx) inConnectionEach(connectionID string, members []Member) []bool {
	ours := make([]bool, len(members))
	for _, kind := range []struct {
		bucket []byte
		prefix string
	}{{bucketUsers, PrefixUser + "_"}, {bucketGroups, PrefixGroup + "_"}} {
		var keys [][]byte
		var at []int
		for i, m := range members {
			if strings.HasPrefix(m.ID, kind.prefix) {
				keys, at = append(keys, []byte(m.ID)), append(at, i)
			}
		}
		r.getEach(kind.bucket, keys, func(i int, raw []byte) {
			ours[at[i]] = len(raw) >= IDLen && string(raw[:IDLen]) == connectionID
		})
	}
	return ours
}

// addMembers writes the memberships of members (checked) that the group does
// not have yet, reading them all at once (see getEach), and returns how many
// it added. The caller adjusts the group's member count (once per write, not
// per member).
func (tx *Tx) addMembers(g Group, members []Member) int {
	keys := make([][]byte, len(members))
	for i, m := range members {
		keys[i] = catS(g.ID, m.ID)
	}
	fresh := make([]bool, len(members))
	tx.getEach(bucketMembers, keys, func(i int, v []byte) { fresh[i] = v == nil })
	tx.changes = slices.Grow(tx.changes, len(members)) // one change each, at most
	added := 0
	for i, m := range members {
		if fresh[i] {
			tx.addMember(g, m, keys[i])
			added++
		}
	}
	return added
}

// addMember writes one new membership (both directions); key is its forward
// key.
func (tx *Tx) addMember(g Group, m Member, key []byte) {
	// The reverse key exists exactly when the forward one does (Verify).
	tx.putNew(bucketMembers, key, encodeMember(m))
	tx.putNew(bucketMemberOf, catS(m.ID, g.ID), present)
	tx.audit(EventGroupMemberAdded, Target{"group", g.ID}, nil, m)
	tx.emit(Change{Kind: MemberAdded, ConnectionID: g.ConnectionID, GroupID: g.ID, MemberID: m.ID})
}

// removeMembers deletes the memberships of the group's members among ids
// (both directions), reading them all at once (see getEach), and returns how
// many it removed; other ids are ignored. The caller adjusts the group's
// member count.
func (tx *Tx) removeMembers(g Group, ids []string) int {
	keys := make([][]byte, 0, len(ids))
	seen := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		if _, dup := seen[id]; !dup {
			seen[id] = struct{}{}
			keys = append(keys, catS(g.ID, id))
		}
	}
	type member struct {
		key, raw []byte
	}
	var found []member
	tx.getEach(bucketMembers, keys, func(i int, v []byte) {
		if v != nil {
			found = append(found, member{keys[i], bytes.Clone(v)})
		}
	})
	tx.changes = slices.Grow(tx.changes, len(found))
	for _, m := range found {
		tx.dropMember(g, string(m.key[len(g.ID):]), m.key, m.raw, false)
	}
	return len(found)
}

// removeMember deletes one membership (both directions) if it exists. The
// caller adjusts the group's member count.
func (tx *Tx) removeMember(g Group, memberID string, cascade bool) bool {
	key := catS(g.ID, memberID)
	raw := tx.get(bucketMembers, key)
	if raw == nil {
		return false
	}
	tx.dropMember(g, memberID, key, raw, cascade)
	return true
}

// dropMember deletes one existing membership (both directions): key is its
// forward key, raw that key's value.
func (tx *Tx) dropMember(g Group, memberID string, key, raw []byte, cascade bool) {
	m := decodeMember([]byte(memberID), raw)
	tx.delKnown(bucketMembers, key, raw)
	tx.delKnown(bucketMemberOf, catS(memberID, g.ID), present) // exists with the forward key (Verify)
	if cascade {
		tx.auditCascade(EventGroupMemberDeleted, Target{"group", g.ID}, m, nil)
	} else {
		tx.audit(EventGroupMemberDeleted, Target{"group", g.ID}, m, nil)
	}
	tx.emit(Change{Kind: MemberRemoved, ConnectionID: g.ConnectionID, GroupID: g.ID, MemberID: memberID})
}

// touchGroup gives a group a new revision after its membership changed, so
// ETags and meta.lastModified follow the member list. It rewrites only the
// small group record, never the member list.
func (tx *Tx) touchGroup(g Group) {
	g.Modified, g.Revision = tx.now, tx.rev
	tx.putRecord(bucketGroups, g.ID, g.ConnectionID, g.record())
}

// AddMembers adds members to a group of the connection; members it already has
// are skipped. Every member must be a user or group of the same connection, or
// the call fails with ErrInvalid and adds nothing. It returns how many were
// added. The cost is independent of the group's size.
func (tx *Tx) AddMembers(connectionID, groupID string, members []Member) (int, error) {
	g, err := tx.Group(connectionID, groupID)
	if err != nil {
		return 0, err
	}
	members, err = tx.checkMembers(connectionID, groupID, members)
	if err != nil {
		return 0, err
	}
	added := tx.addMembers(g, members)
	if added > 0 {
		tx.addCounter(bucketMemberCount, []byte(g.ID), int64(added))
		tx.touchGroup(g)
	}
	return added, tx.err
}

// RemoveMembers removes the given member ids from a group of the connection;
// ids that are not members are ignored. It returns how many were removed.
func (tx *Tx) RemoveMembers(connectionID, groupID string, memberIDs []string) (int, error) {
	g, err := tx.Group(connectionID, groupID)
	if err != nil {
		return 0, err
	}
	removed := tx.removeMembers(g, memberIDs)
	if removed > 0 {
		tx.addCounter(bucketMemberCount, []byte(g.ID), -int64(removed))
		tx.touchGroup(g)
	}
	return removed, tx.err
}

// RemoveAllMembers empties a group of the connection.
func (tx *Tx) RemoveAllMembers(connectionID, groupID string) (int, error) {
	members, _ := tx.Members(groupID, "", 0)
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.ID
	}
	return tx.RemoveMembers(connectionID, groupID, ids)
}

// ReplaceMembers makes the group's member list exactly members: it removes the
// members not listed and adds the new ones, validating all first (ErrInvalid,
// nothing changed, when one is not of the connection).
func (tx *Tx) ReplaceMembers(connectionID, groupID string, members []Member) error {
	g, err := tx.Group(connectionID, groupID)
	if err != nil {
		return err
	}
	members, err = tx.checkMembers(connectionID, groupID, members)
	if err != nil {
		return err
	}
	want := make(map[string]struct{}, len(members))
	for _, m := range members {
		want[m.ID] = struct{}{}
	}
	current, _ := tx.Members(groupID, "", 0)
	var gone []string
	for _, m := range current {
		if _, keep := want[m.ID]; !keep {
			gone = append(gone, m.ID)
		}
	}
	removed := tx.removeMembers(g, gone)
	added := tx.addMembers(g, members)
	if removed != 0 || added != 0 {
		tx.addCounter(bucketMemberCount, []byte(g.ID), int64(added-removed))
		tx.touchGroup(g)
	}
	return tx.err
}

// DeleteGroup deletes a group of the connection, its memberships in both
// directions (the group's own members and the groups it is a member of).
func (tx *Tx) DeleteGroup(connectionID, id string) error {
	return tx.dropGroup(connectionID, id, true)
}

func (tx *Tx) dropGroup(connectionID, id string, auditIt bool) error {
	g, err := tx.Group(connectionID, id)
	if err != nil {
		return err
	}
	count := tx.MemberCount(g.ID)
	// The group's own member list is deleted with the group: one entry for the
	// deletion (with the count) rather than one per member.
	tx.delPrefix(bucketMembers, []byte(g.ID), func(k, _ []byte) {
		memberID := string(k[len(g.ID):])
		tx.del(bucketMemberOf, catS(memberID, g.ID))
		tx.emit(Change{Kind: MemberRemoved, ConnectionID: connectionID, GroupID: g.ID, MemberID: memberID})
	})
	tx.del(bucketMemberCount, []byte(g.ID))
	tx.dropMemberships(g.ID, auditIt)
	tx.dropGroupBindings(g.ID)
	tx.del(bucketGroupNames, catS(connectionID, Fold(g.DisplayName)))
	if g.ExternalID != "" {
		tx.del(bucketGroupExtIDs, catS(connectionID, g.ExternalID, g.ID))
	}
	groupOrdinal.remove(tx, connectionID, g.seq)
	tx.del(bucketGroups, []byte(g.ID))
	if auditIt {
		before := g.audit()
		before["members"] = count
		tx.audit(EventGroupDeleted, Target{"group", g.ID}, before, nil)
	}
	tx.emit(Change{Kind: GroupDeleted, ConnectionID: connectionID, GroupID: g.ID})
	return tx.err
}

// dropMemberships removes memberID from every group it belongs to.
func (tx *Tx) dropMemberships(memberID string, auditIt bool) {
	groups, err := tx.GroupsOf(memberID)
	if err != nil {
		tx.err = err
		return
	}
	for _, g := range groups {
		if auditIt {
			tx.removeMember(g, memberID, true)
		} else {
			tx.del(bucketMembers, catS(g.ID, memberID))
			tx.del(bucketMemberOf, catS(memberID, g.ID))
			tx.emit(Change{Kind: MemberRemoved, ConnectionID: g.ConnectionID, GroupID: g.ID, MemberID: memberID})
		}
		tx.addCounter(bucketMemberCount, []byte(g.ID), -1)
		tx.touchGroup(g)
	}
}
