package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Derived effective roles. The role index (package roles) resolves a user's
// effective roles from everything that grants them; the deriver there
// compares its answer with the state recorded here and, when they differ,
// records the new state with a user.effective_roles.changed audit entry in
// one write (RecordEffectiveRoles). Comparing states rather than replaying
// changes makes the event exact, coalesced and crash-safe: whatever a crash
// interrupts, the next comparison finds again.
//
// bucketEffectiveRoles holds, per user, one record with the last recorded
// state of each of its scopes (the tenant, or one organization): the
// deriver reads and writes a batch of users' records in one query each on a
// network engine, not one per user and scope. A state that became empty
// stays as a tombstone carrying its revision, so that a lagging node
// (several nodes over PostgreSQL) can tell it is older. metaEffectiveThrough is the
// revision through which every change has been compared; a store without it
// has never been derived (the first start with the feature takes a silent
// baseline).

// metaEffectiveThrough: all changes up to this revision have been derived.
var metaEffectiveThrough = []byte("effective_roles_through")

// RoleRef names a role in effective-role states and events.
type RoleRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// EffectiveRoles is a user's effective roles and permissions in one scope,
// as the role index answered them at Revision.
type EffectiveRoles struct {
	UserID         string `json:"-"`
	OrganizationID string `json:"-"` // "" for the tenant scope
	// UserName and ConnectionID name the user in events (UserName).
	UserName     string `json:"user_name,omitempty"`
	ConnectionID string `json:"connection_id,omitempty"`
	// Revision is the role index revision the state was computed at.
	Revision uint64 `json:"rev"`
	// Roles sorted by id; Permissions by resource server, then name.
	Roles       []RoleRef    `json:"roles,omitempty"`
	Permissions []Permission `json:"permissions,omitempty"`
}

// Empty reports whether the state grants nothing.
func (e *EffectiveRoles) Empty() bool { return len(e.Roles) == 0 && len(e.Permissions) == 0 }

// sameGrants reports whether two states grant the same roles and permissions
// (names aside: a renamed role is the same role).
func (e *EffectiveRoles) sameGrants(o *EffectiveRoles) bool {
	return slices.EqualFunc(e.Roles, o.Roles, func(a, b RoleRef) bool { return a.ID == b.ID }) &&
		slices.Equal(e.Permissions, o.Permissions)
}

// EffectiveRolesChange is the data of a user.effective_roles.changed audit
// entry (its "after"): the user, the scope, and what the change added and
// removed. OrganizationID is nil for the tenant scope (null in JSON); the
// lists are never null.
type EffectiveRolesChange struct {
	UserID             string       `json:"user_id"`
	UserName           string       `json:"user_name"`
	ConnectionID       string       `json:"connection_id"`
	OrganizationID     *string      `json:"organization_id"`
	RolesAdded         []RoleRef    `json:"roles_added"`
	RolesRemoved       []RoleRef    `json:"roles_removed"`
	PermissionsAdded   []Permission `json:"permissions_added"`
	PermissionsRemoved []Permission `json:"permissions_removed"`
}

// effectiveScope is one scope's state inside a user's record.
type effectiveScope struct {
	Org string `json:"org,omitempty"`
	EffectiveRoles
}

// decodeEffective decodes a user's record: its states, tenant scope first,
// then organizations in id order (the order they are written in).
func decodeEffective(userID string, v []byte) ([]EffectiveRoles, error) {
	var rec []effectiveScope
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("store: decode %s/%q: %w", bucketEffectiveRoles, userID, err)
	}
	out := make([]EffectiveRoles, len(rec))
	for i, s := range rec {
		out[i] = s.EffectiveRoles
		out[i].UserID, out[i].OrganizationID = userID, s.Org
	}
	return out, nil
}

func encodeEffective(states []EffectiveRoles) ([]byte, error) {
	rec := make([]effectiveScope, len(states))
	for i, s := range states {
		rec[i] = effectiveScope{Org: s.OrganizationID, EffectiveRoles: s}
	}
	return json.Marshal(rec)
}

// EffectiveRolesOf returns the recorded states of a user, tenant scope
// first, then its organizations in id order; tombstones (empty states)
// included.
func (r *ReadTx) EffectiveRolesOf(userID string) ([]EffectiveRoles, error) {
	raw := r.get(bucketEffectiveRoles, []byte(userID))
	if raw == nil {
		return nil, nil
	}
	return decodeEffective(userID, raw)
}

// EffectiveRolesOfMany returns, in the order of userIDs, what
// EffectiveRolesOf returns for each. It reads them all at once (one round
// trip on a network engine): the deriver compares hundreds of users per
// batch.
func (r *ReadTx) EffectiveRolesOfMany(userIDs []string) ([][]EffectiveRoles, error) {
	out := make([][]EffectiveRoles, len(userIDs))
	var err error
	r.getEach(bucketEffectiveRoles, idKeys(userIDs), func(i int, v []byte) {
		if v != nil && err == nil {
			out[i], err = decodeEffective(userIDs[i], v)
		}
	})
	return out, err
}

func idKeys(ids []string) [][]byte {
	keys := make([][]byte, len(ids))
	for i, id := range ids {
		keys[i] = []byte(id)
	}
	return keys
}

// EachEffectiveRolesUser calls fn with every user id that has a recorded
// state, in id order, each once.
func (r *ReadTx) EachEffectiveRolesUser(fn func(userID string)) {
	r.scanPrefix(bucketEffectiveRoles, nil, func(k, _ []byte) bool {
		fn(string(k))
		return true
	})
}

// EffectiveRolesThrough is the revision through which every change has been
// derived, and false when effective roles were never derived in this store.
func (r *ReadTx) EffectiveRolesThrough() (uint64, bool) {
	v := r.get(bucketMeta, metaEffectiveThrough)
	return readU64(v), v != nil
}

// RecordEffectiveRoles records state as a user's effective roles in its
// scope when they differ from the recorded ones, and reports whether it
// wrote. With emit it writes, in the same write, a
// user.effective_roles.changed audit entry (target: the user) whose data is
// the difference; without it the state is recorded silently (a baseline).
//
// A state computed at a revision no newer than the recorded one's is
// ignored: a node whose role index lags never writes an older answer over a
// newer one, and two nodes deriving the same change write it once (the
// second finds the state equal). That holds because the deriver records
// only states no attribute rule is still being evaluated for: installing a
// rule changes answers without a new revision. A state that becomes empty is kept as a
// tombstone. A state without a UserName (a deleted user's) keeps the
// recorded UserName and ConnectionID.
func (tx *Tx) RecordEffectiveRoles(state EffectiveRoles, emit bool) (bool, error) {
	n, err := tx.RecordEffectiveRolesMany([]EffectiveRoles{state}, emit)
	return n == 1, err
}

// RecordEffectiveRolesMany records each of states in turn as
// RecordEffectiveRoles would, and returns how many it wrote. It reads each
// user's record once, all at once (one round trip on a network engine), and
// writes each changed record once.
func (tx *Tx) RecordEffectiveRolesMany(states []EffectiveRoles, emit bool) (int, error) {
	var users []string
	seen := make(map[string]int, len(states))
	for _, s := range states {
		if _, ok := seen[s.UserID]; !ok {
			seen[s.UserID] = len(users)
			users = append(users, s.UserID)
		}
	}
	recorded, err := tx.EffectiveRolesOfMany(users)
	if err != nil {
		return 0, err
	}
	changed := make([]bool, len(users))
	wrote := 0
	for _, state := range states {
		u := seen[state.UserID]
		var ok bool
		if recorded[u], ok = tx.recordEffective(recorded[u], state, emit); ok {
			changed[u] = true
			wrote++
		}
	}
	for u, id := range users {
		if !changed[u] {
			continue
		}
		raw, err := encodeEffective(recorded[u])
		if err != nil {
			return 0, fmt.Errorf("store: encode %s: %w", bucketEffectiveRoles, err)
		}
		tx.put(bucketEffectiveRoles, []byte(id), raw)
	}
	if tx.err != nil {
		return 0, tx.err
	}
	return wrote, nil
}

// recordEffective applies state to a user's recorded states (sorted by
// scope), writing its audit entry with emit, and reports whether it changed
// them.
func (tx *Tx) recordEffective(recorded []EffectiveRoles, state EffectiveRoles, emit bool) ([]EffectiveRoles, bool) {
	i, found := slices.BinarySearchFunc(recorded, state.OrganizationID, func(e EffectiveRoles, org string) int {
		return strings.Compare(e.OrganizationID, org)
	})
	var old EffectiveRoles
	if found {
		old = recorded[i]
		if old.Revision >= state.Revision {
			return recorded, false
		}
	}
	if old.sameGrants(&state) {
		return recorded, false
	}
	if state.UserName == "" {
		state.UserName, state.ConnectionID = old.UserName, old.ConnectionID
	}
	if emit {
		change := EffectiveRolesChange{
			UserID: state.UserID, UserName: state.UserName, ConnectionID: state.ConnectionID,
			RolesAdded: []RoleRef{}, RolesRemoved: []RoleRef{}, PermissionsAdded: []Permission{}, PermissionsRemoved: []Permission{},
		}
		if state.OrganizationID != "" {
			org := state.OrganizationID
			change.OrganizationID = &org
		}
		diffSorted(state.Roles, old.Roles, func(a, b RoleRef) int { return strings.Compare(a.ID, b.ID) },
			func(r RoleRef) { change.RolesAdded = append(change.RolesAdded, r) },
			func(r RoleRef) { change.RolesRemoved = append(change.RolesRemoved, r) })
		diffSorted(state.Permissions, old.Permissions, comparePermission,
			func(p Permission) { change.PermissionsAdded = append(change.PermissionsAdded, p) },
			func(p Permission) { change.PermissionsRemoved = append(change.PermissionsRemoved, p) })
		tx.audit(EventUserEffectiveRolesChanged, Target{"user", state.UserID}, nil, change)
	}
	if found {
		recorded[i] = state
	} else {
		recorded = slices.Insert(recorded, i, state)
	}
	return recorded, true
}

// diffSorted walks two sorted lists: added gets what only now has, removed
// what only before has.
func diffSorted[T any](now, before []T, cmp func(a, b T) int, added, removed func(T)) {
	i, j := 0, 0
	for i < len(now) || j < len(before) {
		switch {
		case j == len(before) || i < len(now) && cmp(now[i], before[j]) < 0:
			added(now[i])
			i++
		case i == len(now) || cmp(now[i], before[j]) > 0:
			removed(before[j])
			j++
		default:
			i++
			j++
		}
	}
}

func comparePermission(a, b Permission) int {
	if c := strings.Compare(a.ResourceServerIdentifier, b.ResourceServerIdentifier); c != 0 {
		return c
	}
	return strings.Compare(a.PermissionName, b.PermissionName)
}

// MarkEffectiveRolesThrough records that every change up to rev has been
// derived, unless a later revision is recorded already. It is bookkeeping,
// not a change: it bumps no revision and writes no audit entry, so marking
// does not itself leave the mark behind.
func (db *DB) MarkEffectiveRolesThrough(rev uint64) error {
	return db.engineUpdate(func(etx EngineTx) error {
		meta := etx.Bucket(bucketMeta)
		if old := meta.Get(metaEffectiveThrough); old != nil && readU64(old) >= rev {
			return nil
		}
		return meta.Put(metaEffectiveThrough, u64(rev))
	})
}

// UserName returns a user's userName and connection, reading no more of its
// record than that: the deriver names thousands of users per batch.
func (r *ReadTx) UserName(id string) (userName, connectionID string, ok bool) {
	return userNameOf(r.get(bucketUsers, []byte(id)))
}

// UserNames returns, in the order of ids, each user's userName and
// connection as UserName does ("" both for a user that does not exist),
// reading them all at once (one round trip on a network engine).
func (r *ReadTx) UserNames(ids []string) (userNames, connectionIDs []string) {
	userNames, connectionIDs = make([]string, len(ids)), make([]string, len(ids))
	r.getEach(bucketUsers, idKeys(ids), func(i int, raw []byte) {
		userNames[i], connectionIDs[i], _ = userNameOf(raw)
	})
	return userNames, connectionIDs
}

// userNameOf reads the userName and connection of a user record
// (connectionID|JSON), decoding no more of the JSON than it must.
func userNameOf(raw []byte) (userName, connectionID string, ok bool) {
	if len(raw) < IDLen {
		return "", "", false
	}
	dec := json.NewDecoder(bytes.NewReader(raw[IDLen:]))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", string(raw[:IDLen]), true
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			break
		}
		if key == "un" {
			var name string
			if dec.Decode(&name) == nil {
				return name, string(raw[:IDLen]), true
			}
			break
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			break
		}
	}
	return "", string(raw[:IDLen]), true
}
