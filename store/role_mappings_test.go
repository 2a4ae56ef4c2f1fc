package store_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
	"github.com/rolecall/rolecall/store/storetest"
)

func mustRoleMapping(t *testing.T, db *store.DB, m store.RoleMapping) store.RoleMapping {
	t.Helper()
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		m, err = tx.CreateRoleMapping(m)
		return err
	})
	return m
}

func mappingIDs(t *testing.T, db *store.DB, connectionID string) []string {
	t.Helper()
	var ids []string
	if err := db.View(func(r *store.ReadTx) error {
		list, err := r.RoleMappings(connectionID)
		for _, m := range list {
			ids = append(ids, m.ID)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestCreateRoleMappingChecksItsParts(t *testing.T) {
	db := storetest.Open(t)
	c := storetest.MustConnection(t, db, "entra")
	admin := mustRole(t, db, "billing-admin")
	org := mustOrg(t, db, "acme")
	m := mustRoleMapping(t, db, store.RoleMapping{ConnectionID: c.ID, IdPValue: "Billing.Admin", RoleID: admin.ID})
	if !store.ValidID(store.PrefixRoleMapping, m.ID) || m.Created.IsZero() {
		t.Fatalf("created mapping = %+v, want an id and a time", m)
	}
	// The same value at organization scope is another mapping.
	mustRoleMapping(t, db, store.RoleMapping{ConnectionID: c.ID, IdPValue: "Billing.Admin", RoleID: admin.ID, OrganizationID: org.ID})

	for _, tc := range []struct {
		name string
		m    store.RoleMapping
		want error
	}{
		{"duplicate in another case", store.RoleMapping{ConnectionID: c.ID, IdPValue: "billing.admin", RoleID: admin.ID}, store.ErrConflict},
		{"unknown role", store.RoleMapping{ConnectionID: c.ID, IdPValue: "x", RoleID: "rol_0000000000000000"}, store.ErrNotFound},
		{"unknown organization", store.RoleMapping{ConnectionID: c.ID, IdPValue: "x", RoleID: admin.ID, OrganizationID: "org_0000000000000000"}, store.ErrNotFound},
		{"unknown connection", store.RoleMapping{ConnectionID: "con_0000000000000000", IdPValue: "x", RoleID: admin.ID}, store.ErrNotFound},
		{"empty value", store.RoleMapping{ConnectionID: c.ID, RoleID: admin.ID}, store.ErrInvalid},
		{"value too long", store.RoleMapping{ConnectionID: c.ID, IdPValue: strings.Repeat("v", store.MaxIdPValueLen+1), RoleID: admin.ID}, store.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.Update(t.Context(), storetest.Origin, func(tx *store.Tx) error { _, err := tx.CreateRoleMapping(tc.m); return err })
			if !errors.Is(err, tc.want) {
				t.Errorf("CreateRoleMapping = %v, want %v", err, tc.want)
			}
		})
	}
	if got := mappingIDs(t, db, c.ID); len(got) != 2 {
		t.Errorf("mappings after rejected writes = %v, want the 2 created", got)
	}
	if n := auditCount(t, db, store.EventConnectionRoleMappingCreated, ""); n != 2 {
		t.Errorf("%d %s entries, want 2", n, store.EventConnectionRoleMappingCreated)
	}
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteRoleMapping(c.ID, m.ID) })
	if n := auditCount(t, db, store.EventConnectionRoleMappingDeleted, ""); n != 1 {
		t.Errorf("%d %s entries, want 1", n, store.EventConnectionRoleMappingDeleted)
	}
	other := storetest.MustConnection(t, db, "okta")
	id := mappingIDs(t, db, c.ID)[0]
	if _, err := db.Update(t.Context(), storetest.Origin, func(tx *store.Tx) error { return tx.DeleteRoleMapping(other.ID, id) }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting another connection's mapping = %v, want ErrNotFound", err)
	}
}

// Deleting the role, the organization or the connection a mapping names
// deletes the mapping, audited as a cascade; Verify (when the test ends)
// checks that no index entry outlived it.
func TestRoleMappingCascades(t *testing.T) {
	for _, tc := range []struct {
		name string
		drop func(tx *store.Tx, con, role, org string) error
		left int // mappings of the connection left (of 3: tenant, org, other role)
	}{
		{"role", func(tx *store.Tx, _, role, _ string) error { return tx.DeleteRole(role) }, 1},
		{"organization", func(tx *store.Tx, _, _, org string) error { return tx.DeleteOrganization(org) }, 2},
		{"connection", func(tx *store.Tx, con, _, _ string) error { return tx.DeleteConnection(con) }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := storetest.Open(t)
			c := storetest.MustConnection(t, db, "entra")
			admin, viewer := mustRole(t, db, "admin"), mustRole(t, db, "viewer")
			org := mustOrg(t, db, "acme")
			mustRoleMapping(t, db, store.RoleMapping{ConnectionID: c.ID, IdPValue: "Admin", RoleID: admin.ID})
			mustRoleMapping(t, db, store.RoleMapping{ConnectionID: c.ID, IdPValue: "Admin", RoleID: admin.ID, OrganizationID: org.ID})
			mustRoleMapping(t, db, store.RoleMapping{ConnectionID: c.ID, IdPValue: "Viewer", RoleID: viewer.ID})
			storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tc.drop(tx, c.ID, admin.ID, org.ID) })
			left := 0
			_ = db.View(func(r *store.ReadTx) error {
				return r.EachRoleMapping(func(store.RoleMapping) { left++ })
			})
			if left != tc.left {
				t.Errorf("%d mappings left, want %d", left, tc.left)
			}
			if n := auditCount(t, db, store.EventConnectionRoleMappingDeleted, store.ChannelCascade); n != 3-tc.left {
				t.Errorf("%d cascade deletions audited, want %d", n, 3-tc.left)
			}
		})
	}
}

func TestVerifyReportsARoleMappingWithoutItsIndex(t *testing.T) {
	dir := t.TempDir()
	db, err := bboltdb.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := storetest.MustConnection(t, db, "entra")
	m := mustRoleMapping(t, db, store.RoleMapping{ConnectionID: c.ID, IdPValue: "Admin", RoleID: mustRole(t, db, "admin").ID})
	db.Close()
	bdb, err := bolt.Open(dir+"/"+bboltdb.FileName, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = bdb.Update(func(btx *bolt.Tx) error {
		return btx.Bucket([]byte("role_role_mappings")).Delete([]byte(m.RoleID + m.ID))
	})
	bdb.Close()
	db, err = bboltdb.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Verify(); err == nil || !strings.Contains(err.Error(), "not indexed under "+m.RoleID) {
		t.Errorf("Verify = %v, want the missing role index reported", err)
	}
}

func TestIdPValues(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"none", `{"userName":"a"}`, nil},
		{"roles then entitlements, each once", `{"roles":[{"value":"A","type":"WindowsAzureActiveDirectoryRole"},{"value":"B"}],"entitlements":[{"value":"A"},{"value":"C"}]}`, []string{"A", "B", "C"}},
		{"values that are no strings are skipped", `{"roles":[{"value":7},{"display":"x"},{"value":""}]}`, nil},
		{"not an object", `"roles"`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := store.IdPValues(json.RawMessage(tc.doc)); !slices.Equal(got, tc.want) {
				t.Errorf("IdPValues(%s) = %q, want %q", tc.doc, got, tc.want)
			}
		})
	}
}

// A user's changes carry its roles and entitlements values, so observers
// (the role index) learn them without reading documents.
func TestUserChangesCarryIdPValues(t *testing.T) {
	db := storetest.Open(t)
	var got [][]string
	db.AddObserver(changeFunc(func(_ uint64, cs []store.Change) {
		for _, c := range cs {
			if c.Kind == store.UserCreated || c.Kind == store.UserUpdated {
				got = append(got, c.IdPValues)
			}
		}
	}))
	c := storetest.MustConnection(t, db, "entra")
	var u store.User
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		u, err = tx.CreateUser(store.User{ConnectionID: c.ID, UserName: "ada", Active: true, Doc: json.RawMessage(`{"roles":[{"value":"Billing.Admin"}]}`)})
		return err
	})
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		_, err := tx.UpdateUser(c.ID, u.ID, func(u *store.User) error { u.Doc = json.RawMessage(`{}`); return nil })
		return err
	})
	if len(got) != 2 || !slices.Equal(got[0], []string{"Billing.Admin"}) || got[1] != nil {
		t.Errorf("IdPValues of the user's changes = %q, want [[Billing.Admin] []]", got)
	}
}

type changeFunc func(uint64, []store.Change)

func (f changeFunc) Committed(rev uint64, cs []store.Change) { f(rev, cs) }
