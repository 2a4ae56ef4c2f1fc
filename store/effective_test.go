package store_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// record runs RecordEffectiveRoles in a write of its own.
func record(t *testing.T, db *store.DB, s store.EffectiveRoles) bool {
	t.Helper()
	var wrote bool
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		wrote, err = tx.RecordEffectiveRoles(s, true)
		return err
	})
	return wrote
}

// lastEffectiveEvent is the data of the newest user.effective_roles.changed
// entry, as JSON, and how many there are.
func lastEffectiveEvent(t *testing.T, db *store.DB) (string, int) {
	t.Helper()
	var data string
	var n int
	if err := db.View(func(r *store.ReadTx) error {
		entries, _, err := r.AuditLog("", 1000, false, store.AuditFilter{Type: store.EventUserEffectiveRolesChanged})
		n = len(entries)
		if n > 0 {
			data = string(entries[n-1].After)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return data, n
}

// RecordEffectiveRoles writes a state and its event only when the grants
// differ and the state is newer than the recorded one: a lagging node's
// older answer is ignored, an equal one is no change. A deleted user's
// event names it as last recorded.
func TestRecordEffectiveRoles(t *testing.T) {
	db := storetest.Open(t)
	c := storetest.MustConnection(t, db, "acme")
	alice := storetest.MustUser(t, db, c.ID, "alice")
	org := mustOrg(t, db, "globex")
	admin := store.RoleRef{ID: "rol_00000000000000a1", Name: "admin"}
	viewer := store.RoleRef{ID: "rol_00000000000000b2", Name: "viewer"}
	read := store.Permission{ResourceServerIdentifier: "https://api", PermissionName: "read"}
	state := func(rev uint64, org string, roles ...store.RoleRef) store.EffectiveRoles {
		s := store.EffectiveRoles{UserID: alice.ID, OrganizationID: org, Revision: rev, Roles: roles, UserName: "alice", ConnectionID: c.ID}
		if len(roles) > 0 {
			s.Permissions = []store.Permission{read}
		}
		return s
	}

	if !record(t, db, state(10, "", admin)) {
		t.Fatal("a first non-empty state was not recorded")
	}
	got, _ := lastEffectiveEvent(t, db)
	want := `{"user_id":"` + alice.ID + `","user_name":"alice","connection_id":"` + c.ID + `","organization_id":null,` +
		`"roles_added":[{"id":"rol_00000000000000a1","name":"admin"}],"roles_removed":[],` +
		`"permissions_added":[{"resource_server_identifier":"https://api","permission_name":"read"}],"permissions_removed":[]}`
	if got != want {
		t.Errorf("event data\n%s\nwant\n%s", got, want)
	}

	tests := []struct {
		name  string
		state store.EffectiveRoles
		wrote bool
	}{
		{"older revision (a lagging node)", state(9, ""), false},
		{"same revision", state(10, "", viewer), false},
		{"same grants", state(11, "", admin), false},
		{"renamed role: same grants", state(12, "", store.RoleRef{ID: admin.ID, Name: "administrator"}), false},
		{"new grants", state(13, "", admin, viewer), true},
		{"organization scope, first", state(14, org.ID, viewer), true},
		{"emptied: a tombstone", state(15, ""), true},
		{"older than the tombstone", state(14, "", admin), false},
	}
	for _, tt := range tests {
		_, before := lastEffectiveEvent(t, db)
		if wrote := record(t, db, tt.state); wrote != tt.wrote {
			t.Errorf("%s: wrote %v, want %v", tt.name, wrote, tt.wrote)
		}
		if _, after := lastEffectiveEvent(t, db); (after == before+1) != tt.wrote || after > before+1 {
			t.Errorf("%s: %d events written, want %v", tt.name, after-before, tt.wrote)
		}
	}
	got, _ = lastEffectiveEvent(t, db)
	var change store.EffectiveRolesChange
	if err := json.Unmarshal([]byte(got), &change); err != nil {
		t.Fatal(err)
	}
	if len(change.RolesRemoved) != 2 || len(change.RolesAdded) != 0 || change.OrganizationID != nil {
		t.Errorf("emptying event %s, want admin and viewer removed at tenant scope", got)
	}

	// A deleted user's event carries the name last recorded.
	if name, con, ok := func() (n, c string, ok bool) {
		_ = db.View(func(r *store.ReadTx) error { n, c, ok = r.UserName(alice.ID); return nil })
		return
	}(); name != "alice" || con != c.ID || !ok {
		t.Errorf("UserName = %q, %q, %v; want alice, %s", name, con, ok, c.ID)
	}
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteUser(c.ID, alice.ID) })
	if !record(t, db, store.EffectiveRoles{UserID: alice.ID, OrganizationID: org.ID, Revision: 20}) {
		t.Fatal("a deleted user's organization state was not emptied")
	}
	got, _ = lastEffectiveEvent(t, db)
	if err := json.Unmarshal([]byte(got), &change); err != nil {
		t.Fatal(err)
	}
	if change.UserName != "alice" || change.ConnectionID != c.ID || change.OrganizationID == nil || *change.OrganizationID != org.ID {
		t.Errorf("deleted user's event %s, want alice of %s in %s", got, c.ID, org.ID)
	}
	if err := db.View(func(r *store.ReadTx) error {
		states, err := r.EffectiveRolesOf(alice.ID)
		if len(states) != 2 || !states[0].Empty() || states[0].Revision != 15 || states[1].OrganizationID != org.ID {
			t.Errorf("recorded states %+v, want two tombstones, tenant first", states)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// The derived-through mark only moves forward and is not a change.
func TestMarkEffectiveRolesThrough(t *testing.T) {
	db := storetest.Open(t)
	through := func() (uint64, bool) {
		var rev uint64
		var ok bool
		_ = db.View(func(r *store.ReadTx) error { rev, ok = r.EffectiveRolesThrough(); return nil })
		return rev, ok
	}
	if _, ok := through(); ok {
		t.Fatal("a new store says it has been derived")
	}
	rev := db.Revision()
	for _, mark := range []uint64{7, 5} {
		if err := db.MarkEffectiveRolesThrough(mark); err != nil {
			t.Fatal(err)
		}
	}
	if got, ok := through(); got != 7 || !ok {
		t.Errorf("mark %d (%v), want 7: it never moves back", got, ok)
	}
	if db.Revision() != rev {
		t.Errorf("marking moved the revision %d→%d", rev, db.Revision())
	}
}

// A batch write records each state as RecordEffectiveRoles would, in turn
// (several scopes of one user, and the same scope twice, see what the
// earlier states recorded), and the batch reads answer as the per-user
// ones: missing users and users without states included.
func TestRecordAndReadEffectiveRolesMany(t *testing.T) {
	db := storetest.Open(t)
	c := storetest.MustConnection(t, db, "acme")
	alice := storetest.MustUser(t, db, c.ID, "alice")
	bob := storetest.MustUser(t, db, c.ID, "bob")
	carol := storetest.MustUser(t, db, c.ID, "carol") // never recorded
	org := mustOrg(t, db, "globex")
	admin := store.RoleRef{ID: "rol_00000000000000a1", Name: "admin"}
	viewer := store.RoleRef{ID: "rol_00000000000000b2", Name: "viewer"}
	state := func(user string, rev uint64, org string, roles ...store.RoleRef) store.EffectiveRoles {
		return store.EffectiveRoles{UserID: user, OrganizationID: org, Revision: rev, Roles: roles}
	}
	_, before := lastEffectiveEvent(t, db)
	var wrote int
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		wrote, err = tx.RecordEffectiveRolesMany([]store.EffectiveRoles{
			state(alice.ID, 10, org.ID, viewer),
			state(alice.ID, 10, "", admin),
			state(bob.ID, 10, "", viewer),
			state(alice.ID, 11, "", admin, viewer), // after the tenant state above
			state(alice.ID, 11, org.ID, viewer),    // same grants: no change
			state(bob.ID, 9, "", admin),            // older than the one above
		}, true)
		return err
	})
	if _, after := lastEffectiveEvent(t, db); wrote != 4 || after-before != 4 {
		t.Errorf("wrote %d states with %d events, want 4 and 4", wrote, after-before)
	}

	missing := "usr_00000000000000zz"
	ids := []string{bob.ID, missing, alice.ID, carol.ID, alice.ID}
	if err := db.View(func(r *store.ReadTx) error {
		many, err := r.EffectiveRolesOfMany(ids)
		if err != nil {
			return err
		}
		if len(many) != len(ids) {
			t.Fatalf("EffectiveRolesOfMany returned %d answers for %d ids", len(many), len(ids))
		}
		for i, id := range ids {
			one, err := r.EffectiveRolesOf(id)
			if err != nil {
				return err
			}
			if got, want := fmt.Sprintf("%+v", many[i]), fmt.Sprintf("%+v", one); got != want {
				t.Errorf("EffectiveRolesOfMany[%d] (%s) = %s, want %s", i, id, got, want)
			}
		}
		got := many[2]
		if len(got) != 2 || got[0].OrganizationID != "" || len(got[0].Roles) != 2 || got[0].Revision != 11 ||
			got[1].OrganizationID != org.ID || got[1].Revision != 10 || got[0].UserID != alice.ID {
			t.Errorf("alice's states %+v, want tenant {admin viewer}@11 then %s {viewer}@10", got, org.ID)
		}
		names, cons := r.UserNames(ids)
		for i, id := range ids {
			name, con, _ := r.UserName(id)
			if names[i] != name || cons[i] != con {
				t.Errorf("UserNames[%d] = %q, %q; want %q, %q as UserName", i, names[i], cons[i], name, con)
			}
		}
		if names[0] != "bob" || cons[1] != "" {
			t.Errorf("UserNames = %q, %q; want bob first and no connection for a missing user", names, cons)
		}
		var users []string
		r.EachEffectiveRolesUser(func(id string) { users = append(users, id) })
		want := []string{alice.ID, bob.ID}
		slices.Sort(want)
		if !slices.Equal(users, want) {
			t.Errorf("EachEffectiveRolesUser = %v, want alice and bob in id order", users)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
