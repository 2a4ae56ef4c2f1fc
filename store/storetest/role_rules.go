package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/store"
)

// roleRules: attribute rules are checked, audited, cascaded when a role,
// organization or connection goes, and a rule change reaches observers
// whole; Run's Verify checks no index entry outlives its rule.
func roleRules(t *testing.T, db *store.DB) {
	c := MustConnection(t, db, "okta")
	var admin, viewer store.Role
	var org store.Organization
	MustUpdate(t, db, func(tx *store.Tx) (err error) {
		if admin, err = tx.CreateRole(store.Role{Name: "admin"}); err != nil {
			return err
		}
		if viewer, err = tx.CreateRole(store.Role{Name: "viewer"}); err != nil {
			return err
		}
		org, err = tx.CreateOrganization(store.Organization{Name: "acme"})
		return err
	})
	create := func(rule store.RoleRule) (store.RoleRule, error) {
		_, err := db.Update(t.Context(), Origin, func(tx *store.Tx) (err error) {
			rule, err = tx.CreateRoleRule(rule)
			return err
		})
		return rule, err
	}
	for _, tc := range []struct {
		name string
		rule store.RoleRule
		want error
	}{
		{"no name", store.RoleRule{Filter: `title pr`, RoleIDs: []string{admin.ID}}, store.ErrInvalid},
		{"no filter", store.RoleRule{Name: "x", RoleIDs: []string{admin.ID}}, store.ErrInvalid},
		{"filter too long", store.RoleRule{Name: "x", Filter: strings.Repeat("a", store.MaxRoleRuleFilterLen+1), RoleIDs: []string{admin.ID}}, store.ErrInvalid},
		{"no roles", store.RoleRule{Name: "x", Filter: `title pr`}, store.ErrInvalid},
		{"unknown role", store.RoleRule{Name: "x", Filter: `title pr`, RoleIDs: []string{"rol_0000000000000000"}}, store.ErrNotFound},
		{"unknown organization", store.RoleRule{Name: "x", Filter: `title pr`, RoleIDs: []string{admin.ID}, OrganizationID: "org_0000000000000000"}, store.ErrNotFound},
		{"unknown connection", store.RoleRule{Name: "x", Filter: `title pr`, RoleIDs: []string{admin.ID}, ConnectionID: "con_0000000000000000"}, store.ErrNotFound},
	} {
		before := db.Revision()
		if _, err := create(tc.rule); !errors.Is(err, tc.want) {
			t.Errorf("%s: CreateRoleRule = %v, want %v", tc.name, err, tc.want)
		}
		if db.Revision() != before {
			t.Errorf("%s: a refused rule moved the revision", tc.name)
		}
	}

	var seen []store.Change
	db.AddObserver(observerFunc(func(_ uint64, changes []store.Change) {
		for _, ch := range changes {
			if ch.Kind == store.RoleRuleChanged || ch.Kind == store.RoleRuleDeleted {
				seen = append(seen, ch)
			}
		}
	}))
	sales, err := create(store.RoleRule{Name: "sales", Filter: `department eq "Sales"`, RoleIDs: []string{admin.ID, viewer.ID, admin.ID}, ConnectionID: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !store.ValidID(store.PrefixRoleRule, sales.ID) || !slices.Equal(sales.RoleIDs, []string{admin.ID, viewer.ID}) {
		t.Errorf("created %+v, want an id and the roles once each", sales)
	}
	vp, err := create(store.RoleRule{Name: "vp", Filter: `title sw "VP"`, RoleIDs: []string{admin.ID}, OrganizationID: org.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0].Rule == nil || seen[0].Rule.Filter != sales.Filter {
		t.Errorf("observers saw %+v, want two RoleRuleChanged carrying the rule", seen)
	}

	rev := db.Revision()
	MustUpdate(t, db, func(tx *store.Tx) error {
		_, err := tx.UpdateRoleRule(sales.ID, func(r *store.RoleRule) error { return nil })
		return err
	})
	if db.Revision() != rev {
		t.Errorf("a no-op rule update moved the revision")
	}
	MustUpdate(t, db, func(tx *store.Tx) error {
		_, err := tx.UpdateRoleRule(sales.ID, func(r *store.RoleRule) error { r.Name = "sales team"; return nil })
		return err
	})
	for _, want := range []struct {
		typ     string
		channel string
		n       int
	}{{store.EventRoleRuleCreated, "", 2}, {store.EventRoleRuleUpdated, "", 1}} {
		if n := len(auditLog(t, db, store.AuditFilter{Type: want.typ})); n != want.n {
			t.Errorf("%d %s entries, want %d", n, want.typ, want.n)
		}
	}

	// Deleting admin takes it out of sales (which keeps viewer) and deletes
	// vp (left with no role).
	MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteRole(admin.ID) })
	view(t, db, func(r *store.ReadTx) error {
		if got, err := r.RoleRule(sales.ID); err != nil || !slices.Equal(got.RoleIDs, []string{viewer.ID}) || got.Name != "sales team" {
			t.Errorf("sales after deleting admin: %+v, %v; want only viewer", got, err)
		}
		if _, err := r.RoleRule(vp.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("vp after deleting its only role: %v, want ErrNotFound", err)
		}
		return nil
	})
	vp, err = create(store.RoleRule{Name: "vp", Filter: `title sw "VP"`, RoleIDs: []string{viewer.ID}, OrganizationID: org.ID})
	if err != nil {
		t.Fatal(err)
	}
	MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteOrganization(org.ID) })
	MustUpdate(t, db, func(tx *store.Tx) error { return tx.DeleteConnection(c.ID) })
	view(t, db, func(r *store.ReadTx) error {
		if ids := r.RoleRuleIDs(); len(ids) != 0 {
			t.Errorf("rules %v outlived their organization and connection", ids)
		}
		return nil
	})
	cascades := 0
	for _, e := range auditLog(t, db, store.AuditFilter{Type: store.EventRoleRuleDeleted}) {
		if e.Channel == store.ChannelCascade {
			cascades++
		}
	}
	if cascades != 3 {
		t.Errorf("%d cascade rule deletions audited, want 3", cascades)
	}
	if last := seen[len(seen)-1]; last.Kind != store.RoleRuleDeleted || last.Rule == nil || last.Rule.ID != sales.ID {
		t.Errorf("last rule change %+v, want the deletion of sales", last)
	}
}

type observerFunc func(uint64, []store.Change)

func (f observerFunc) Committed(rev uint64, changes []store.Change) { f(rev, changes) }
