package store_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
	"github.com/rolecall/rolecall/store/storetest"
)

func perm(ident, name string) store.Permission {
	return store.Permission{ResourceServerIdentifier: ident, PermissionName: name}
}

func TestResourceServerIdentifierIsUniqueAndFixed(t *testing.T) {
	db := storetest.Open(t)
	rs := storetest.MustResourceServer(t, db, "https://api.example", "read:a")
	for name, try := range map[string]func(*store.Tx) error{
		"duplicate identifier": func(tx *store.Tx) error {
			_, err := tx.CreateResourceServer(store.ResourceServer{Identifier: "https://api.example", Name: "again"})
			return err
		},
	} {
		if _, err := db.Update(ctx, storetest.Origin, try); !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: got %v, want ErrConflict", name, err)
		}
	}
	long := strings.Repeat("x", store.MaxScopeValue+1)
	for name, try := range map[string]func(*store.Tx) error{
		"empty identifier": func(tx *store.Tx) error {
			_, err := tx.CreateResourceServer(store.ResourceServer{Name: "n"})
			return err
		},
		"identifier too long": func(tx *store.Tx) error {
			_, err := tx.CreateResourceServer(store.ResourceServer{Identifier: strings.Repeat("i", store.MaxResourceServerIdentifier+1), Name: "n"})
			return err
		},
		"empty name": func(tx *store.Tx) error {
			_, err := tx.CreateResourceServer(store.ResourceServer{Identifier: "https://other"})
			return err
		},
		"scope twice": func(tx *store.Tx) error {
			_, err := tx.CreateResourceServer(store.ResourceServer{Identifier: "https://other", Name: "n",
				Scopes: []store.ResourceServerScope{{Value: "a"}, {Value: "a"}}})
			return err
		},
		"scope too long": func(tx *store.Tx) error {
			_, err := tx.CreateResourceServer(store.ResourceServer{Identifier: "https://other", Name: "n",
				Scopes: []store.ResourceServerScope{{Value: long}}})
			return err
		},
		"identifier changed": func(tx *store.Tx) error {
			_, err := tx.UpdateResourceServer(rs.ID, func(r *store.ResourceServer) error { r.Identifier = "https://moved"; return nil })
			return err
		},
	} {
		if _, err := db.Update(ctx, storetest.Origin, try); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
	rev := db.Revision()
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		_, err := tx.UpdateResourceServer(rs.ID, func(*store.ResourceServer) error { return nil })
		return err
	})
	if db.Revision() != rev {
		t.Errorf("an update that changes nothing moved the revision %d → %d", rev, db.Revision())
	}
	_ = db.View(func(r *store.ReadTx) error {
		got, err := r.ResourceServerByIdentifier("https://api.example")
		if err != nil || got.ID != rs.ID {
			t.Errorf("by identifier: got %v, %v; want %s", got.ID, err, rs.ID)
		}
		if _, err := r.ResourceServerByIdentifier("https://API.example"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("identifiers are case-sensitive: got %v, want ErrNotFound", err)
		}
		return nil
	})
}

func TestResourceServersListPagesInIDOrder(t *testing.T) {
	db := storetest.Open(t)
	var want []string
	for _, ident := range []string{"https://a", "https://b", "https://c"} {
		want = append(want, storetest.MustResourceServer(t, db, ident).ID)
	}
	slices.Sort(want) // ids made in one millisecond sort by their random part
	var got []string
	after := ""
	for range 4 {
		var page []store.ResourceServer
		var next string
		_ = db.View(func(r *store.ReadTx) (err error) { page, next, err = r.ResourceServers(after, 2); return err })
		for _, rs := range page {
			got = append(got, rs.ID)
		}
		if next == "" {
			break
		}
		after = next
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged ids = %v, want %v", got, want)
	}
}

func TestRolePermissionsMustBeScopesOfAnExistingResourceServer(t *testing.T) {
	db := storetest.Open(t)
	storetest.MustResourceServer(t, db, "https://api.example", "read:reports")
	role := mustRole(t, db, "viewer")
	for name, p := range map[string]store.Permission{
		"unknown resource server": perm("https://api.exmaple", "read:reports"),
		"undefined scope":         perm("https://api.example", "raed:reports"),
	} {
		_, err := db.Update(ctx, storetest.Origin, func(tx *store.Tx) error {
			_, err := tx.UpdateRole(role.ID, func(r *store.Role) error {
				r.Permissions = append(r.Permissions, perm("https://api.example", "read:reports"), p)
				return nil
			})
			return err
		})
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
		_, err = db.Update(ctx, storetest.Origin, func(tx *store.Tx) error {
			_, err := tx.CreateRole(store.Role{Name: "new " + name, Permissions: []store.Permission{p}})
			return err
		})
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s on create: got %v, want ErrInvalid", name, err)
		}
	}
	_ = db.View(func(r *store.ReadTx) error {
		got, _ := r.Role(role.ID)
		if len(got.Permissions) != 1 {
			t.Errorf("rejected updates changed the role's permissions: %v", got.Permissions)
		}
		return nil
	})
}

// setupPermissions makes two APIs; a role and a user with permissions on
// both.
func setupPermissions(t *testing.T, db *store.DB) (reports, billing store.ResourceServer, role store.Role, user store.User) {
	t.Helper()
	reports = storetest.MustResourceServer(t, db, "https://reports", "read:reports", "write:reports")
	billing = storetest.MustResourceServer(t, db, "https://billing", "read:invoices")
	c := storetest.MustConnection(t, db, "acme")
	user = storetest.MustUser(t, db, c.ID, "alice")
	all := []store.Permission{perm("https://reports", "read:reports"), perm("https://reports", "write:reports"), perm("https://billing", "read:invoices")}
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		if role, err = tx.CreateRole(store.Role{Name: "analyst", Permissions: all}); err != nil {
			return err
		}
		_, err = tx.AssignUserPermissions(user.ID, all)
		return err
	})
	return reports, billing, role, user
}

func rolePermissions(t *testing.T, db *store.DB, roleID string) []store.Permission {
	t.Helper()
	var ps []store.Permission
	_ = db.View(func(r *store.ReadTx) error { role, err := r.Role(roleID); ps = role.Permissions; return err })
	return ps
}

func userPermissions(t *testing.T, db *store.DB, userID string) []store.Permission {
	t.Helper()
	var ps []store.Permission
	_ = db.View(func(r *store.ReadTx) (err error) { ps, err = r.UserPermissions(userID); return err })
	return ps
}

func TestDeletingAResourceServerRemovesItsPermissionsAsAuditedCascades(t *testing.T) {
	db := storetest.Open(t)
	reports, _, role, user := setupPermissions(t, db)
	rev := db.Revision()
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteResourceServer(reports.ID) })
	if db.Revision() != rev+1 {
		t.Errorf("revision %d → %d, want one step for the whole cascade", rev, db.Revision())
	}
	want := []store.Permission{perm("https://billing", "read:invoices")}
	if got := rolePermissions(t, db, role.ID); !slices.Equal(got, want) {
		t.Errorf("role permissions = %v, want %v", got, want)
	}
	if got := userPermissions(t, db, user.ID); !slices.Equal(got, want) {
		t.Errorf("user permissions = %v, want %v", got, want)
	}
	for typ, n := range map[string]int{"role.permission.deleted": 2, "user.permission.deleted": 2} {
		if got := auditCount(t, db, typ, store.ChannelCascade); got != n {
			t.Errorf("%s cascade entries = %d, want %d", typ, got, n)
		}
	}
	if got := auditCount(t, db, "resource_server.deleted", store.ChannelSystem); got != 1 {
		t.Errorf("resource_server.deleted entries = %d, want 1", got)
	}
	// The identifier is free again, and a new API of that name starts empty.
	fresh := storetest.MustResourceServer(t, db, "https://reports", "read:reports")
	if fresh.ID == reports.ID {
		t.Error("a new resource server reused the old id")
	}
}

func TestRemovingAScopeRemovesThePermissionsUsingIt(t *testing.T) {
	db := storetest.Open(t)
	reports, _, role, user := setupPermissions(t, db)
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		_, err := tx.UpdateResourceServer(reports.ID, func(rs *store.ResourceServer) error {
			rs.Scopes = []store.ResourceServerScope{{Value: "read:reports", Description: "Read reports"}}
			return nil
		})
		return err
	})
	want := []store.Permission{perm("https://billing", "read:invoices"), perm("https://reports", "read:reports")}
	if got := rolePermissions(t, db, role.ID); !slices.Equal(got, want) {
		t.Errorf("role permissions = %v, want %v", got, want)
	}
	if got := userPermissions(t, db, user.ID); !slices.Equal(got, want) {
		t.Errorf("user permissions = %v, want %v", got, want)
	}
	for _, typ := range []string{"role.permission.deleted", "user.permission.deleted"} {
		if got := auditCount(t, db, typ, store.ChannelCascade); got != 1 {
			t.Errorf("%s cascade entries = %d, want 1", typ, got)
		}
	}
}

func TestDirectUserPermissionsAreValidatedAndCascadeWithTheUser(t *testing.T) {
	db := storetest.Open(t)
	_, _, _, user := setupPermissions(t, db)
	for name, p := range map[string]store.Permission{
		"unknown resource server": perm("https://nope", "read:reports"),
		"undefined scope":         perm("https://reports", "delete:reports"),
	} {
		_, err := db.Update(ctx, storetest.Origin, func(tx *store.Tx) error {
			_, err := tx.AssignUserPermissions(user.ID, []store.Permission{p})
			return err
		})
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
	if _, err := db.Update(ctx, storetest.Origin, func(tx *store.Tx) error {
		_, err := tx.AssignUserPermissions("usr_0000000000000000", []store.Permission{perm("https://reports", "read:reports")})
		return err
	}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown user: got %v, want ErrNotFound", err)
	}
	var removed int
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		removed, err = tx.RemoveUserPermissions(user.ID, []store.Permission{perm("https://reports", "write:reports"), perm("https://nope", "x")})
		return err
	})
	if removed != 1 {
		t.Errorf("removed %d, want 1 (unknown ones are ignored)", removed)
	}
	if got := auditCount(t, db, "user.permission.deleted", store.ChannelSystem); got != 1 {
		t.Errorf("user.permission.deleted entries = %d, want 1", got)
	}
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteUser(user.ConnectionID, user.ID) })
	if got := auditCount(t, db, "user.permission.deleted", store.ChannelCascade); got != 2 {
		t.Errorf("cascaded user.permission.deleted entries = %d, want 2", got)
	}
	// Verify, when the test ends, checks that no key outlived the user.
}

// A file written at schema version 2 (permissions as free strings, no
// resource servers) opens with a resource server for every identifier its
// roles use, defining the scopes they use.
func TestOpeningAVersion2FileCreatesResourceServersForUsedPermissions(t *testing.T) {
	dir := t.TempDir()
	db, err := bboltdb.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	storetest.MustResourceServer(t, db, "https://reports", "read:reports", "write:reports", "unused")
	storetest.MustResourceServer(t, db, "https://billing", "read:invoices")
	var a, b store.Role
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		if a, err = tx.CreateRole(store.Role{Name: "a", Permissions: []store.Permission{perm("https://reports", "read:reports"), perm("https://billing", "read:invoices")}}); err != nil {
			return err
		}
		b, err = tx.CreateRole(store.Role{Name: "b", Permissions: []store.Permission{perm("https://reports", "write:reports")}})
		return err
	})
	db.Close()
	// Back to the version 2 layout: no resource server buckets.
	bdb, err := bolt.Open(dir+"/"+bboltdb.FileName, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Update(func(btx *bolt.Tx) error {
		for _, name := range []string{"resource_servers", "resource_server_identifiers", "resource_server_roles", "user_permissions", "resource_server_users"} {
			if err := btx.DeleteBucket([]byte(name)); err != nil {
				return err
			}
		}
		return btx.Bucket([]byte("meta")).Put([]byte("schema_version"), []byte{0, 0, 0, 0, 0, 0, 0, 2})
	}); err != nil {
		t.Fatal(err)
	}
	bdb.Close()

	db, err = bboltdb.Open(dir, store.Options{})
	if err != nil {
		t.Fatalf("open version 2 file: %v", err)
	}
	defer db.Close()
	if err := db.Verify(); err != nil {
		t.Errorf("invariants after migration: %v", err)
	}
	_ = db.View(func(r *store.ReadTx) error {
		for ident, want := range map[string][]string{
			"https://reports": {"read:reports", "write:reports"},
			"https://billing": {"read:invoices"},
		} {
			rs, err := r.ResourceServerByIdentifier(ident)
			if err != nil {
				t.Errorf("%s after migration: %v", ident, err)
				continue
			}
			var got []string
			for _, s := range rs.Scopes {
				got = append(got, s.Value)
			}
			if !slices.Equal(got, want) || rs.Name != ident {
				t.Errorf("%s: name %q scopes %v, want name %q scopes %v", ident, rs.Name, got, ident, want)
			}
		}
		return nil
	})
	// The migrated APIs behave like any: deleting one cascades to the roles.
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		rs, err := tx.ResourceServerByIdentifier("https://reports")
		if err != nil {
			return err
		}
		return tx.DeleteResourceServer(rs.ID)
	})
	if got := rolePermissions(t, db, a.ID); !slices.Equal(got, []store.Permission{perm("https://billing", "read:invoices")}) {
		t.Errorf("role a after deleting its API = %v", got)
	}
	if got := rolePermissions(t, db, b.ID); len(got) != 0 {
		t.Errorf("role b after deleting its API = %v, want none", got)
	}
	if err := db.Verify(); err != nil {
		t.Error(err)
	}
}

func TestVerifyReportsAPermissionWithoutItsResourceServer(t *testing.T) {
	dir := t.TempDir()
	db, err := bboltdb.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	storetest.MustResourceServer(t, db, "https://reports", "read:reports")
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		_, err := tx.CreateRole(store.Role{Name: "a", Permissions: []store.Permission{perm("https://reports", "read:reports")}})
		return err
	})
	db.Close()
	bdb, err := bolt.Open(dir+"/"+bboltdb.FileName, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = bdb.Update(func(btx *bolt.Tx) error {
		return btx.Bucket([]byte("resource_server_identifiers")).Delete([]byte("https://reports"))
	})
	bdb.Close()
	db, err = bboltdb.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Verify(); err == nil || !strings.Contains(err.Error(), "identifier index") {
		t.Errorf("Verify = %v, want the missing identifier index reported", err)
	}
}
