package store_test

import (
	"errors"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
	"github.com/rolecall/rolecall/store/storetest"
)

func mustRole(t *testing.T, db *store.DB, name string) store.Role {
	t.Helper()
	var r store.Role
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		if err := storetest.EnsureScopes(tx, "https://api", "read:"+name, "write"); err != nil {
			return err
		}
		r, err = tx.CreateRole(store.Role{Name: name, Permissions: []store.Permission{{ResourceServerIdentifier: "https://api", PermissionName: "read:" + name}}})
		return err
	})
	return r
}

func mustOrg(t *testing.T, db *store.DB, name string) store.Organization {
	t.Helper()
	var o store.Organization
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		o, err = tx.CreateOrganization(store.Organization{Name: name})
		return err
	})
	return o
}

func auditCount(t *testing.T, db *store.DB, typ, channel string) int {
	t.Helper()
	n := 0
	_ = db.View(func(r *store.ReadTx) error {
		entries, _, err := r.AuditLog("", 10000, false, store.AuditFilter{Type: typ})
		for _, e := range entries {
			if channel == "" || e.Channel == channel {
				n++
			}
		}
		return err
	})
	return n
}

func TestBindingGroupRolesIsIdempotentAndAllOrNothing(t *testing.T) {
	db := storetest.Open(t)
	c := storetest.MustConnection(t, db, "acme")
	g := storetest.MustGroup(t, db, c.ID, "Eng")
	admin, viewer := mustRole(t, db, "admin"), mustRole(t, db, "viewer")

	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		_, err := tx.BindGroupRoles(g.ID, []string{admin.ID, admin.ID})
		return err
	})
	rev := db.Revision()
	n := 0
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		n, err = tx.BindGroupRoles(g.ID, []string{admin.ID})
		return err
	})
	if n != 0 || db.Revision() != rev {
		t.Errorf("binding a bound role again added %d and moved the revision %d → %d", n, rev, db.Revision())
	}
	for name, ids := range map[string][]string{
		"unknown role":   {viewer.ID, "rol_0000000000000000"},
		"malformed role": {viewer.ID, "admin"},
	} {
		_, err := db.Update(ctx, storetest.Origin, func(tx *store.Tx) error {
			_, err := tx.BindGroupRoles(g.ID, ids)
			return err
		})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: got %v, want ErrNotFound", name, err)
		}
	}
	if _, err := db.Update(ctx, storetest.Origin, func(tx *store.Tx) error {
		_, err := tx.BindGroupRoles("grp_0000000000000000", []string{viewer.ID})
		return err
	}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown group: got %v, want ErrNotFound", err)
	}
	_ = db.View(func(r *store.ReadTx) error {
		roles, _ := r.GroupRoles(g.ID)
		if !slices.Equal(roles, []string{admin.ID}) {
			t.Errorf("group roles = %v, want only %s (rejected calls must bind nothing)", roles, admin.ID)
		}
		return nil
	})
	// Unbinding what is not bound is a no-op, not an error.
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		_, err := tx.UnbindGroupRoles(g.ID, []string{viewer.ID})
		return err
	})
	if got := auditCount(t, db, "group.role.assigned", ""); got != 1 {
		t.Errorf("group.role.assigned entries = %d, want 1", got)
	}
}

func TestDeletingARoleRemovesEveryBindingAsAuditedCascades(t *testing.T) {
	db := storetest.Open(t)
	c := storetest.MustConnection(t, db, "acme")
	u := storetest.MustUser(t, db, c.ID, "alice")
	g := storetest.MustGroup(t, db, c.ID, "Eng", u.ID)
	o := mustOrg(t, db, "globex")
	role := mustRole(t, db, "admin")
	keep := mustRole(t, db, "viewer")
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		if _, err := tx.EnableConnection(o.ID, c.ID, true); err != nil {
			return err
		}
		for _, rid := range []string{role.ID, keep.ID} {
			if _, err := tx.BindGroupRoles(g.ID, []string{rid}); err != nil {
				return err
			}
			if _, err := tx.BindUserRoles(u.ID, []string{rid}); err != nil {
				return err
			}
			if _, err := tx.BindOrganizationMemberRoles(o.ID, u.ID, []string{rid}); err != nil {
				return err
			}
			if _, err := tx.BindOrganizationGroupRoles(o.ID, g.ID, []string{rid}); err != nil {
				return err
			}
		}
		return nil
	})
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteRole(role.ID) })

	_ = db.View(func(r *store.ReadTx) error {
		for name, got := range map[string][]string{
			"group":      must(r.GroupRoles(g.ID)),
			"user":       must(r.UserRoles(u.ID)),
			"org member": must(r.OrganizationMemberRoles(o.ID, u.ID)),
			"org group":  must(r.OrganizationGroupRoles(o.ID, g.ID)),
		} {
			if !slices.Equal(got, []string{keep.ID}) {
				t.Errorf("%s roles after deleting %s = %v, want only %s", name, role.ID, got, keep.ID)
			}
		}
		return nil
	})
	for _, typ := range []string{"group.role.deleted", "user.role.deleted", "organization.member.role.deleted", "organization.group.role.deleted"} {
		if n := auditCount(t, db, typ, store.ChannelCascade); n != 1 {
			t.Errorf("%s cascade entries = %d, want 1", typ, n)
		}
	}
}

func must(ids []string, err error) []string {
	if err != nil {
		panic(err)
	}
	return ids
}

func TestDeletingUsersGroupsConnectionsAndOrganizationsCascades(t *testing.T) {
	db := storetest.Open(t)
	c := storetest.MustConnection(t, db, "acme")
	u := storetest.MustUser(t, db, c.ID, "alice")
	g := storetest.MustGroup(t, db, c.ID, "Eng", u.ID)
	o := mustOrg(t, db, "globex")
	role := mustRole(t, db, "admin")
	setup := func() {
		storetest.MustUpdate(t, db, func(tx *store.Tx) error {
			if _, err := tx.EnableConnection(o.ID, c.ID, false); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
			if _, err := tx.AddOrganizationMembers(o.ID, []string{u.ID}); err != nil {
				return err
			}
			if _, err := tx.BindOrganizationMemberRoles(o.ID, u.ID, []string{role.ID}); err != nil {
				return err
			}
			_, err := tx.BindOrganizationGroupRoles(o.ID, g.ID, []string{role.ID})
			return err
		})
	}
	setup()
	// Removing a member removes its roles in the organization.
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		_, err := tx.RemoveOrganizationMembers(o.ID, []string{u.ID})
		return err
	})
	_ = db.View(func(r *store.ReadTx) error {
		if roles := must(r.OrganizationMemberRoles(o.ID, u.ID)); len(roles) != 0 {
			t.Errorf("removed member keeps roles %v", roles)
		}
		return nil
	})
	setup()
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteGroup(c.ID, g.ID) })
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteUser(c.ID, u.ID) })
	_ = db.View(func(r *store.ReadTx) error {
		members, _, _ := r.OrganizationMembers(o.ID, "", 0)
		if len(members) != 0 {
			t.Errorf("deleted user still a member: %v", members)
		}
		return nil
	})
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteConnection(c.ID) })
	_ = db.View(func(r *store.ReadTx) error {
		if ecs, _ := r.EnabledConnections(o.ID); len(ecs) != 0 {
			t.Errorf("deleted connection still enabled: %v", ecs)
		}
		return nil
	})
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteOrganization(o.ID) })
	// Verify (run when the test ends) checks no binding outlived its parts.
}

func TestOrganizationGroupBindingNeedsTheConnectionEnabled(t *testing.T) {
	db := storetest.Open(t)
	c := storetest.MustConnection(t, db, "acme")
	u := storetest.MustUser(t, db, c.ID, "alice")
	g := storetest.MustGroup(t, db, c.ID, "Eng", u.ID)
	o := mustOrg(t, db, "globex")
	role := mustRole(t, db, "admin")
	bind := func() error {
		_, err := db.Update(ctx, storetest.Origin, func(tx *store.Tx) error {
			_, err := tx.BindOrganizationGroupRoles(o.ID, g.ID, []string{role.ID})
			return err
		})
		return err
	}
	if err := bind(); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("binding in an organization without the group's connection: got %v, want ErrNotFound", err)
	}
	memberRoles := func() error {
		_, err := db.Update(ctx, storetest.Origin, func(tx *store.Tx) error {
			_, err := tx.BindOrganizationMemberRoles(o.ID, u.ID, []string{role.ID})
			return err
		})
		return err
	}
	if err := memberRoles(); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("member roles for a non-member: got %v, want ErrNotFound", err)
	}
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { _, err := tx.EnableConnection(o.ID, c.ID, true); return err })
	if err := bind(); err != nil {
		t.Fatal(err)
	}
	if err := memberRoles(); err != nil {
		t.Errorf("auto-membership makes alice a member: %v", err)
	}
	// Disabling the connection keeps the binding (inert); unbinding still works.
	storetest.MustUpdate(t, db, func(tx *store.Tx) error { return tx.DisableConnection(o.ID, c.ID) })
	_ = db.View(func(r *store.ReadTx) error {
		if roles := must(r.OrganizationGroupRoles(o.ID, g.ID)); !slices.Equal(roles, []string{role.ID}) {
			t.Errorf("binding after disabling the connection = %v, want it kept", roles)
		}
		return nil
	})
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		_, err := tx.UnbindOrganizationGroupRoles(o.ID, g.ID, []string{role.ID})
		return err
	})
}

func TestRoleNamesAreUniqueAndPermissionsNormalised(t *testing.T) {
	db := storetest.Open(t)
	r := mustRole(t, db, "Admin")
	if _, err := db.Update(ctx, storetest.Origin, func(tx *store.Tx) error {
		_, err := tx.CreateRole(store.Role{Name: "ADMIN"})
		return err
	}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate role name: got %v, want ErrConflict", err)
	}
	var updated store.Role
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		updated, err = tx.UpdateRole(r.ID, func(role *store.Role) error {
			p := store.Permission{ResourceServerIdentifier: "https://api", PermissionName: "write"}
			role.Permissions = append(role.Permissions, p, p)
			return nil
		})
		return err
	})
	if len(updated.Permissions) != 2 {
		t.Errorf("permissions = %v, want the duplicate dropped", updated.Permissions)
	}
}

// A file written by schema version 1 (no role buckets) opens and migrates.
func TestOpeningAVersion1FileMigratesIt(t *testing.T) {
	dir := t.TempDir()
	db, err := bboltdb.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := storetest.MustConnection(t, db, "acme")
	db.Close()
	// Turn the file back into version 1: drop the role buckets, reset the version.
	bdb, err := bolt.Open(dir+"/"+bboltdb.FileName, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Update(func(btx *bolt.Tx) error {
		for _, name := range []string{"roles", "role_names", "group_roles", "role_groups", "organizations"} {
			if err := btx.DeleteBucket([]byte(name)); err != nil {
				return err
			}
		}
		return btx.Bucket([]byte("meta")).Put([]byte("schema_version"), []byte{0, 0, 0, 0, 0, 0, 0, 1})
	}); err != nil {
		t.Fatal(err)
	}
	bdb.Close()

	db, err = bboltdb.Open(dir, store.Options{})
	if err != nil {
		t.Fatalf("open version 1 file: %v", err)
	}
	defer db.Close()
	mustRole(t, db, "admin")
	if err := db.View(func(r *store.ReadTx) error { _, err := r.Connection(c.ID); return err }); err != nil {
		t.Errorf("data lost in migration: %v", err)
	}
	if err := db.Verify(); err != nil {
		t.Error(err)
	}
}
