package roles_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// entraUser creates a user whose SCIM roles carry values, as Entra ID
// provisions app role assignments.
func entraUser(w *world, connectionID, name string, active bool, values ...string) store.User {
	w.t.Helper()
	var u store.User
	w.do(func(tx *store.Tx) (err error) {
		u, err = tx.CreateUser(store.User{ConnectionID: connectionID, UserName: name, Active: active, Doc: rolesDoc(values...)})
		return err
	})
	return u
}

func rolesDoc(values ...string) json.RawMessage {
	var list []map[string]any
	for _, v := range values {
		list = append(list, map[string]any{"value": v, "type": "WindowsAzureActiveDirectoryRole", "primary": false})
	}
	raw, _ := json.Marshal(map[string]any{"roles": list})
	return raw
}

func (w *world) mapping(m store.RoleMapping) store.RoleMapping {
	w.t.Helper()
	w.do(func(tx *store.Tx) (err error) {
		m, err = tx.CreateRoleMapping(m)
		return err
	})
	return m
}

// A user whose roles carry a mapped value has the mapped role, with the
// value and connection as its source; values match whole and
// case-insensitively; changing the user's values or the mappings changes
// the answer at once, and a fresh Load answers the same.
func TestIdPRoleMappingsGrantRolesWithProvenance(t *testing.T) {
	w := newWorld(t)
	c := storetest.MustConnection(t, w.db, "entra")
	other := storetest.MustConnection(t, w.db, "okta")
	billing, reader := w.role("billing-admin", "billing:admin"), w.role("reader", "read:all")
	alice := entraUser(w, c.ID, "alice", true, "Billing.Admin", "Unmapped")
	bob := entraUser(w, other.ID, "bob", true, "Billing.Admin")
	m := w.mapping(store.RoleMapping{ConnectionID: c.ID, IdPValue: "billing.admin", RoleID: billing.ID})
	w.mapping(store.RoleMapping{ConnectionID: c.ID, IdPValue: "Billing", RoleID: reader.ID}) // no prefix match

	res := w.resolve(roles.Subject{UserID: alice.ID})
	if got, want := roleSummary(res), []string{"billing-admin:idp_role/tenant/billing.admin"}; !slices.Equal(got, want) {
		t.Fatalf("alice's roles = %v, want %v", got, want)
	}
	if src := res.Roles[0].Sources[0]; src.Mapping.ConnectionID != c.ID || src.Mapping.ID != m.ID {
		t.Errorf("source = %+v, want mapping %s of connection %s", src.Mapping, m.ID, c.ID)
	}
	if got := roleSummary(w.resolve(roles.Subject{UserID: bob.ID})); len(got) != 0 {
		t.Errorf("bob (another connection) has %v, want nothing: mappings are per connection", got)
	}
	b, _, err := w.ix.AppendEffectiveAnswer(nil, roles.Subject{UserID: alice.ID}, "", roles.AllParts)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"sources":[{"type":"idp_role","value":"billing.admin","connection_id":"` + c.ID + `","scope":"tenant"}]`; !strings.Contains(string(b), want) {
		t.Errorf("answer %s\nwant it to hold %s", b, want)
	}

	fresh := roles.NewIndex()
	if err := fresh.Load(w.db); err != nil {
		t.Fatal(err)
	}
	loaded, err := fresh.Resolve(roles.Subject{UserID: alice.ID})
	if err != nil || answer(loaded) != answer(res) {
		t.Errorf("a fresh Load answers\n%s(%v), incremental\n%s", answer(loaded), err, answer(res))
	}

	// The IdP takes the value away: the role goes.
	w.do(func(tx *store.Tx) error {
		_, err := tx.UpdateUser(c.ID, alice.ID, func(u *store.User) error { u.Doc = rolesDoc("Unmapped"); return nil })
		return err
	})
	if got := roleSummary(w.resolve(roles.Subject{UserID: alice.ID})); len(got) != 0 {
		t.Errorf("after the value is removed alice has %v, want nothing", got)
	}
	// Entitlements count too.
	w.do(func(tx *store.Tx) error {
		_, err := tx.UpdateUser(c.ID, alice.ID, func(u *store.User) error {
			u.Doc = json.RawMessage(`{"entitlements":[{"value":"BILLING.ADMIN"}]}`)
			return nil
		})
		return err
	})
	if got := roleSummary(w.resolve(roles.Subject{UserID: alice.ID})); len(got) != 1 {
		t.Errorf("with the value as an entitlement alice has %v, want billing-admin", got)
	}
	// Deleting the mapping takes the role away.
	w.do(func(tx *store.Tx) error { return tx.DeleteRoleMapping(c.ID, m.ID) })
	if got := roleSummary(w.resolve(roles.Subject{UserID: alice.ID})); len(got) != 0 {
		t.Errorf("after the mapping is deleted alice has %v, want nothing", got)
	}
}

// An inactive user gets nothing from mappings; an organization's mappings
// follow the organization group rules: effective only with auto-membership
// of the user's connection.
func TestIdPRoleMappingsInOrganizations(t *testing.T) {
	w := newWorld(t)
	c := storetest.MustConnection(t, w.db, "entra")
	tenantRole, orgRole := w.role("tenant-role", "t"), w.role("org-role", "o")
	auto, explicit := w.org("auto"), w.org("explicit")
	alice := entraUser(w, c.ID, "alice", true, "App.User")
	carol := entraUser(w, c.ID, "carol", false, "App.User")
	w.mapping(store.RoleMapping{ConnectionID: c.ID, IdPValue: "App.User", RoleID: tenantRole.ID})
	for _, o := range []store.Organization{auto, explicit} {
		w.mapping(store.RoleMapping{ConnectionID: c.ID, IdPValue: "App.User", RoleID: orgRole.ID, OrganizationID: o.ID})
	}
	w.do(func(tx *store.Tx) error {
		if _, err := tx.EnableConnection(auto.ID, c.ID, true); err != nil {
			return err
		}
		if _, err := tx.EnableConnection(explicit.ID, c.ID, false); err != nil {
			return err
		}
		_, err := tx.AddOrganizationMembers(explicit.ID, []string{alice.ID})
		return err
	})
	for _, tc := range []struct {
		name string
		s    roles.Subject
		want []string
	}{
		{"tenant", roles.Subject{UserID: alice.ID}, []string{"tenant-role:idp_role/tenant/App.User"}},
		{"auto-membership", roles.Subject{UserID: alice.ID, OrganizationID: auto.ID}, []string{"org-role:idp_role/organization/App.User"}},
		{"explicit member, mapping inert", roles.Subject{UserID: alice.ID, OrganizationID: explicit.ID}, nil},
		{"inactive", roles.Subject{UserID: carol.ID}, nil},
		{"inactive, auto-membership", roles.Subject{UserID: carol.ID, OrganizationID: auto.ID}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := roleSummary(w.resolve(tc.s)); !slices.Equal(got, tc.want) {
				t.Errorf("roles = %v, want %v", got, tc.want)
			}
		})
	}
	setTenantInOrgs(w, true)
	if got, want := roleSummary(w.resolve(roles.Subject{UserID: alice.ID, OrganizationID: auto.ID})),
		[]string{"org-role:idp_role/organization/App.User", "tenant-role:idp_role/tenant/App.User"}; !slices.Equal(got, want) {
		t.Errorf("with tenant roles in organizations: %v, want %v", got, want)
	}
	// Deleting the organization cascades to its mappings, and the index follows.
	w.do(func(tx *store.Tx) error { return tx.DeleteOrganization(auto.ID) })
	if got := roleSummary(w.resolve(roles.Subject{UserID: alice.ID})); len(got) != 1 {
		t.Errorf("after the organization is deleted: %v, want the tenant role only", got)
	}
}
