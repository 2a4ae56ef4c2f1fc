package roles_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

func setTenantInOrgs(w *world, on bool) {
	w.t.Helper()
	w.do(func(tx *store.Tx) error {
		_, err := tx.UpdateTenantSettings(func(s *store.TenantSettings) error { s.TenantRolesInOrganizations = on; return nil })
		return err
	})
}

// permissionNames lists the permission names a resolution folds to.
func permissionNames(res roles.Resolution) []string {
	var out []string
	for _, p := range res.Permissions("") {
		out = append(out, p.PermissionName)
	}
	return out
}

// An organization login carries the organization's roles only (Auth0's
// rule): member roles and organization group roles. Tenant roles (direct,
// tenant-scope group roles) join them only with the tenant setting on; a
// login without an organization gets the tenant roles whatever the setting.
func TestOrganizationAnswersCarryOrganizationRolesOnly(t *testing.T) {
	w := newWorld(t)
	c := storetest.MustConnection(t, w.db, "acme")
	alice := storetest.MustUser(t, w.db, c.ID, "alice")
	eng := storetest.MustGroup(t, w.db, c.ID, "Eng", alice.ID)
	direct, tenantGroup := w.role("direct-role", "read:all"), w.role("tenant-group-role", "admin:all")
	member, orgGroup := w.role("member-role", "read:org"), w.role("org-group-role", "write:org")
	auto, explicit := w.org("auto"), w.org("explicit")
	w.do(func(tx *store.Tx) error {
		if _, err := tx.BindUserRoles(alice.ID, []string{direct.ID}); err != nil {
			return err
		}
		if _, err := tx.BindGroupRoles(eng.ID, []string{tenantGroup.ID}); err != nil {
			return err
		}
		for _, o := range []store.Organization{auto, explicit} {
			if _, err := tx.EnableConnection(o.ID, c.ID, o.ID == auto.ID); err != nil {
				return err
			}
			if _, err := tx.BindOrganizationGroupRoles(o.ID, eng.ID, []string{orgGroup.ID}); err != nil {
				return err
			}
		}
		if _, err := tx.AddOrganizationMembers(explicit.ID, []string{alice.ID}); err != nil {
			return err
		}
		for _, o := range []store.Organization{auto, explicit} {
			if _, err := tx.BindOrganizationMemberRoles(o.ID, alice.ID, []string{member.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	tenantRoles := []string{"direct-role:direct/tenant", "tenant-group-role:group/tenant/Eng"}
	for _, tc := range []struct {
		name      string
		tenantOn  bool
		org       string
		wantRoles []string
		wantPerms []string
	}{
		{"no organization", false, "", tenantRoles, []string{"admin:all", "read:all"}},
		{"no organization, setting on", true, "", tenantRoles, []string{"admin:all", "read:all"}},
		{"auto-membership", false, auto.ID,
			[]string{"member-role:direct/organization", "org-group-role:group/organization/Eng"}, []string{"read:org", "write:org"}},
		{"explicit member, group binding inert", false, explicit.ID,
			[]string{"member-role:direct/organization"}, []string{"read:org"}},
		{"auto-membership, setting on", true, auto.ID,
			append([]string{"member-role:direct/organization", "org-group-role:group/organization/Eng"}, tenantRoles...),
			[]string{"admin:all", "read:all", "read:org", "write:org"}},
		{"explicit member, setting on", true, explicit.ID,
			append([]string{"member-role:direct/organization"}, tenantRoles...), []string{"admin:all", "read:all", "read:org"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setTenantInOrgs(w, tc.tenantOn)
			res := w.resolve(roles.Subject{UserID: alice.ID, OrganizationID: tc.org})
			want := slices.Sorted(slices.Values(tc.wantRoles))
			if got := roleSummary(res); !slices.Equal(got, want) {
				t.Errorf("roles\n got  %v\n want %v", got, want)
			}
			if got := permissionNames(res); !slices.Equal(got, tc.wantPerms) {
				t.Errorf("permissions %v, want %v", got, tc.wantPerms)
			}
			for _, r := range res.Roles {
				wantScope := roles.ScopeOrganization
				if r.Name == direct.Name || r.Name == tenantGroup.Name {
					wantScope = roles.ScopeTenant
				}
				if r.Scope != wantScope {
					t.Errorf("role %s scope %q, want %q", r.Name, r.Scope, wantScope)
				}
			}
		})
	}

	// A role granted both ways carries both sources with the setting on, and
	// only the organization's without it.
	w.do(func(tx *store.Tx) error { _, err := tx.BindUserRoles(alice.ID, []string{member.ID}); return err })
	setTenantInOrgs(w, true)
	inAuto := roles.Subject{UserID: alice.ID, OrganizationID: auto.ID}
	if got := roleSummary(w.resolve(inAuto)); !slices.Contains(got, "member-role:direct/organization,direct/tenant") {
		t.Errorf("setting on: %v, want member-role from both scopes", got)
	}
	setTenantInOrgs(w, false)
	if got := roleSummary(w.resolve(inAuto)); !slices.Contains(got, "member-role:direct/organization") {
		t.Errorf("setting off: %v, want member-role from the organization only", got)
	}

	// A fresh index reads the setting from the store.
	setTenantInOrgs(w, true)
	fresh := roles.NewIndex()
	if err := fresh.Load(w.db); err != nil {
		t.Fatal(err)
	}
	res, err := fresh.Resolve(inAuto)
	if got, want := fmt.Sprint(roleSummary(res), err), fmt.Sprint(roleSummary(w.resolve(inAuto)), nil); got != want {
		t.Errorf("fresh load answers %s, incremental %s", got, want)
	}
}

// Non-members get nothing whichever rule is in force.
func TestNonMembersGetNoRolesWhateverTheSetting(t *testing.T) {
	w := newWorld(t)
	c := storetest.MustConnection(t, w.db, "acme")
	alice := storetest.MustUser(t, w.db, c.ID, "alice")
	admin := w.role("admin")
	o := w.org("elsewhere")
	w.do(func(tx *store.Tx) error { _, err := tx.BindUserRoles(alice.ID, []string{admin.ID}); return err })
	for _, on := range []bool{false, true} {
		setTenantInOrgs(w, on)
		res := w.resolve(roles.Subject{UserID: alice.ID, OrganizationID: o.ID})
		if res.Organization == nil || res.Organization.Member || len(res.Roles) != 0 {
			t.Errorf("setting %v: %+v, want member false and no roles", on, res)
		}
	}
}

// Direct permissions are tenant-level, like direct roles: an organization
// login carries them only while tenant roles apply in organizations.
func TestDirectPermissionsFollowTheOrganizationRule(t *testing.T) {
	w := newWorld(t)
	con := storetest.MustConnection(t, w.db, "acme")
	alice := storetest.MustUser(t, w.db, con.ID, "alice")
	storetest.MustResourceServer(t, w.db, "https://api.acme.test", "read:reports")
	var org store.Organization
	w.do(func(tx *store.Tx) (err error) {
		if org, err = tx.CreateOrganization(store.Organization{Name: "acme-org"}); err != nil {
			return err
		}
		if _, err = tx.AddOrganizationMembers(org.ID, []string{alice.ID}); err != nil {
			return err
		}
		_, err = tx.AssignUserPermissions(alice.ID, []store.Permission{{ResourceServerIdentifier: "https://api.acme.test", PermissionName: "read:reports"}})
		return err
	})
	cases := []struct {
		org  string
		on   bool
		want []string
	}{
		{"", false, []string{"read:reports"}},
		{org.ID, false, nil},
		{org.ID, true, []string{"read:reports"}},
	}
	for _, tc := range cases {
		setTenantInOrgs(w, tc.on)
		res := w.resolve(roles.Subject{UserID: alice.ID, OrganizationID: tc.org})
		if got := permissionNames(res); !slices.Equal(got, tc.want) {
			t.Errorf("organization %q, tenant roles in organizations %v: permissions %v, want %v", tc.org, tc.on, got, tc.want)
		}
	}
}
