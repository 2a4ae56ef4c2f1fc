package roles_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
	"github.com/rolecall/rolecall/store/storetest"
)

// startDeriver starts a deriver on w, stopped when the test ends (before
// the store closes).
func startDeriver(w *world) *roles.Deriver {
	d := roles.StartDeriver(w.db, w.ix, roles.DeriverOptions{Batch: 2, MarkEvery: time.Millisecond,
		OnError: func(err error) { w.t.Errorf("deriver: %v", err) }})
	w.t.Cleanup(d.Stop)
	return d
}

// settle waits until d has derived every change up to db's revision.
func settle(tb testing.TB, db *store.DB, d *roles.Deriver) {
	tb.Helper()
	rev := db.Revision()
	deadline := time.Now().Add(10 * time.Second)
	for d.Stats().Through < rev {
		if time.Now().After(deadline) {
			tb.Fatalf("deriver stuck: %+v, store at revision %d", d.Stats(), rev)
		}
		time.Sleep(time.Millisecond)
	}
}

// effectiveEvents reads the user.effective_roles.changed entries after the
// audit entry id after, each summarised as
// "user scope +[roles] -[roles] +[perms] -[perms]" (scope: tenant or the
// organization's name in orgNames), and the id of the last entry of the log.
func effectiveEvents(tb testing.TB, db *store.DB, after string, orgNames map[string]string) ([]string, string) {
	tb.Helper()
	var out []string
	last := after
	if err := db.View(func(r *store.ReadTx) error {
		entries, _, err := r.AuditLog(after, 1<<20, false, store.AuditFilter{})
		for _, e := range entries {
			last = e.ID
			if e.Type != store.EventUserEffectiveRolesChanged {
				continue
			}
			var c store.EffectiveRolesChange
			if err := json.Unmarshal(e.After, &c); err != nil {
				return err
			}
			if e.Target != (store.Target{Type: "user", ID: c.UserID}) || c.ConnectionID == "" {
				tb.Errorf("entry %s: target %+v, connection %q; want the user and its connection", e.ID, e.Target, c.ConnectionID)
			}
			scope := "tenant"
			if c.OrganizationID != nil {
				scope = orgNames[*c.OrganizationID]
			}
			names := func(rs []store.RoleRef) string {
				var s []string
				for _, r := range rs {
					s = append(s, r.Name)
				}
				return "[" + strings.Join(s, " ") + "]"
			}
			perms := func(ps []store.Permission) string {
				var s []string
				for _, p := range ps {
					s = append(s, p.PermissionName)
				}
				return "[" + strings.Join(s, " ") + "]"
			}
			out = append(out, fmt.Sprintf("%s %s +%s -%s +%s -%s", c.UserName, scope,
				names(c.RolesAdded), names(c.RolesRemoved), perms(c.PermissionsAdded), perms(c.PermissionsRemoved)))
		}
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	slices.Sort(out)
	return out, last
}

// effectiveFixture is a small tenant: connection acme with alice (in Eng)
// and bob, an entra connection with carol (IdP value Billing.Admin), roles
// admin (admin:all) and viewer (read:all), group Parent, organization
// globex.
type effectiveFixture struct {
	*world
	acme, entra          store.Connection
	alice, bob, carol    store.User
	eng, parent          store.Group
	admin, viewer        store.Role
	org                  store.Organization
	orgNames             map[string]string
	bindGroup, unbindGrp func(g store.Group, r store.Role)
	ruleID               string // an attribute rule a case's setup created
}

func newEffectiveFixture(t *testing.T) *effectiveFixture {
	w := newWorld(t)
	f := &effectiveFixture{world: w}
	f.acme = storetest.MustConnection(t, w.db, "acme")
	f.entra = storetest.MustConnection(t, w.db, "entra")
	f.alice = storetest.MustUser(t, w.db, f.acme.ID, "alice")
	f.bob = storetest.MustUser(t, w.db, f.acme.ID, "bob")
	f.carol = entraUser(w, f.entra.ID, "carol", true, "Billing.Admin")
	f.eng = storetest.MustGroup(t, w.db, f.acme.ID, "Eng", f.alice.ID)
	f.parent = storetest.MustGroup(t, w.db, f.acme.ID, "Parent")
	f.admin, f.viewer = w.role("admin", "admin:all"), w.role("viewer", "read:all")
	f.org = w.org("globex")
	f.orgNames = map[string]string{f.org.ID: "globex"}
	f.bindGroup = func(g store.Group, r store.Role) {
		w.do(func(tx *store.Tx) error { _, err := tx.BindGroupRoles(g.ID, []string{r.ID}); return err })
	}
	f.unbindGrp = func(g store.Group, r store.Role) {
		w.do(func(tx *store.Tx) error { _, err := tx.UnbindGroupRoles(g.ID, []string{r.ID}); return err })
	}
	return f
}

func (f *effectiveFixture) setActive(u store.User, active bool) {
	f.do(func(tx *store.Tx) error {
		_, err := tx.UpdateUser(u.ConnectionID, u.ID, func(u *store.User) error { u.Active = active; return nil })
		return err
	})
}

// rule creates or changes an attribute rule (id "" creates) and waits
// until the index has evaluated it; it returns the rule's id.
func (f *effectiveFixture) rule(id, filter string, roles ...store.Role) string {
	var ids []string
	for _, r := range roles {
		ids = append(ids, r.ID)
	}
	f.do(func(tx *store.Tx) error {
		if id == "" {
			rule, err := tx.CreateRoleRule(store.RoleRule{Name: "rule", Filter: filter, RoleIDs: ids})
			id = rule.ID
			return err
		}
		_, err := tx.UpdateRoleRule(id, func(r *store.RoleRule) error { r.Filter, r.RoleIDs = filter, ids; return nil })
		return err
	})
	if err := f.ix.WaitFor(context.Background(), f.db.Revision(), 5*time.Second); err != nil {
		f.t.Fatalf("rule %s not evaluated: %v", filter, err)
	}
	return id
}

func (f *effectiveFixture) settings(fn func(s *store.TenantSettings)) {
	f.do(func(tx *store.Tx) error {
		_, err := tx.UpdateTenantSettings(func(s *store.TenantSettings) error { fn(s); return nil })
		return err
	})
}

func (f *effectiveFixture) addMember(g store.Group, id string) {
	f.do(func(tx *store.Tx) error {
		_, err := tx.AddMembers(g.ConnectionID, g.ID, []store.Member{{ID: id}})
		return err
	})
}

// Every cause that changes a user's effective roles emits exactly one
// user.effective_roles.changed entry per affected user and scope, with what
// was added and removed; changes that grant nothing new emit none.
func TestEffectiveRolesChangedForEveryCause(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *effectiveFixture) // before the deriver's baseline
		act   func(f *effectiveFixture)
		want  []string
	}{
		{
			name: "group role bound",
			act:  func(f *effectiveFixture) { f.bindGroup(f.eng, f.admin) },
			want: []string{"alice tenant +[admin] -[] +[admin:all] -[]"},
		},
		{
			name:  "group role unbound",
			setup: func(f *effectiveFixture) { f.bindGroup(f.eng, f.admin) },
			act:   func(f *effectiveFixture) { f.unbindGrp(f.eng, f.admin) },
			want:  []string{"alice tenant +[] -[admin] +[] -[admin:all]"},
		},
		{
			name: "direct role and permission",
			act: func(f *effectiveFixture) {
				f.do(func(tx *store.Tx) error {
					if _, err := tx.BindUserRoles(f.bob.ID, []string{f.viewer.ID}); err != nil {
						return err
					}
					_, err := tx.AssignUserPermissions(f.bob.ID, []store.Permission{{ResourceServerIdentifier: "https://api.example.com", PermissionName: "admin:all"}})
					return err
				})
			},
			want: []string{"bob tenant +[viewer] -[] +[admin:all read:all] -[]"},
		},
		{
			name: "attribute rule created",
			act:  func(f *effectiveFixture) { f.rule("", `userName sw "a"`, f.viewer) },
			want: []string{"alice tenant +[viewer] -[] +[read:all] -[]"},
		},
		{
			name:  "attribute rule filter edited",
			setup: func(f *effectiveFixture) { f.ruleID = f.rule("", `userName sw "a"`, f.viewer) },
			act:   func(f *effectiveFixture) { f.rule(f.ruleID, `userName sw "b"`, f.viewer) },
			want: []string{
				"alice tenant +[] -[viewer] +[] -[read:all]",
				"bob tenant +[viewer] -[] +[read:all] -[]",
			},
		},
		{
			name:  "attribute rule roles edited",
			setup: func(f *effectiveFixture) { f.ruleID = f.rule("", `userName sw "a"`, f.viewer) },
			act:   func(f *effectiveFixture) { f.rule(f.ruleID, `userName sw "a"`, f.admin) },
			want:  []string{"alice tenant +[admin] -[viewer] +[admin:all] -[read:all]"},
		},
		{
			name:  "attribute rule deleted",
			setup: func(f *effectiveFixture) { f.ruleID = f.rule("", `userName sw "a"`, f.viewer) },
			act: func(f *effectiveFixture) {
				f.do(func(tx *store.Tx) error { return tx.DeleteRoleRule(f.ruleID) })
			},
			want: []string{"alice tenant +[] -[viewer] +[] -[read:all]"},
		},
		{
			name:  "member added",
			setup: func(f *effectiveFixture) { f.bindGroup(f.eng, f.admin) },
			act:   func(f *effectiveFixture) { f.addMember(f.eng, f.bob.ID) },
			want:  []string{"bob tenant +[admin] -[] +[admin:all] -[]"},
		},
		{
			name:  "member removed",
			setup: func(f *effectiveFixture) { f.bindGroup(f.eng, f.admin) },
			act: func(f *effectiveFixture) {
				f.do(func(tx *store.Tx) error {
					_, err := tx.RemoveMembers(f.acme.ID, f.eng.ID, []string{f.alice.ID})
					return err
				})
			},
			want: []string{"alice tenant +[] -[admin] +[] -[admin:all]"},
		},
		{
			name: "nested membership with nested group roles on",
			setup: func(f *effectiveFixture) {
				f.settings(func(s *store.TenantSettings) { s.NestedGroupRoles = true })
				f.bindGroup(f.parent, f.viewer)
			},
			act:  func(f *effectiveFixture) { f.addMember(f.parent, f.eng.ID) },
			want: []string{"alice tenant +[viewer] -[] +[read:all] -[]"},
		},
		{
			name: "nested group unbound reaches the member group's users",
			setup: func(f *effectiveFixture) {
				f.settings(func(s *store.TenantSettings) { s.NestedGroupRoles = true })
				f.bindGroup(f.parent, f.viewer)
				f.addMember(f.parent, f.eng.ID)
			},
			act:  func(f *effectiveFixture) { f.unbindGrp(f.parent, f.viewer) },
			want: []string{"alice tenant +[] -[viewer] +[] -[read:all]"},
		},
		{
			name:  "nested membership with nested group roles off",
			setup: func(f *effectiveFixture) { f.bindGroup(f.parent, f.viewer) },
			act:   func(f *effectiveFixture) { f.addMember(f.parent, f.eng.ID) },
			want:  nil,
		},
		{
			name: "tenant setting nested_group_roles",
			setup: func(f *effectiveFixture) {
				f.bindGroup(f.parent, f.viewer)
				f.addMember(f.parent, f.eng.ID)
			},
			act:  func(f *effectiveFixture) { f.settings(func(s *store.TenantSettings) { s.NestedGroupRoles = true }) },
			want: []string{"alice tenant +[viewer] -[] +[read:all] -[]"},
		},
		{
			name:  "deactivation",
			setup: func(f *effectiveFixture) { f.bindGroup(f.eng, f.admin) },
			act:   func(f *effectiveFixture) { f.setActive(f.alice, false) },
			want:  []string{"alice tenant +[] -[admin] +[] -[admin:all]"},
		},
		{
			name: "reactivation",
			setup: func(f *effectiveFixture) {
				f.bindGroup(f.eng, f.admin)
				f.setActive(f.alice, false)
			},
			act:  func(f *effectiveFixture) { f.setActive(f.alice, true) },
			want: []string{"alice tenant +[admin] -[] +[admin:all] -[]"},
		},
		{
			name: "auto-membership toggled on",
			setup: func(f *effectiveFixture) {
				f.do(func(tx *store.Tx) error {
					if _, err := tx.EnableConnection(f.org.ID, f.acme.ID, false); err != nil {
						return err
					}
					_, err := tx.BindOrganizationGroupRoles(f.org.ID, f.eng.ID, []string{f.viewer.ID})
					return err
				})
			},
			act: func(f *effectiveFixture) {
				f.do(func(tx *store.Tx) error { _, err := tx.UpdateEnabledConnection(f.org.ID, f.acme.ID, true); return err })
			},
			want: []string{"alice globex +[viewer] -[] +[read:all] -[]"},
		},
		{
			name: "auto-membership connection removed",
			setup: func(f *effectiveFixture) {
				f.do(func(tx *store.Tx) error {
					if _, err := tx.EnableConnection(f.org.ID, f.acme.ID, true); err != nil {
						return err
					}
					_, err := tx.BindOrganizationGroupRoles(f.org.ID, f.eng.ID, []string{f.viewer.ID})
					return err
				})
			},
			act: func(f *effectiveFixture) {
				f.do(func(tx *store.Tx) error { return tx.DisableConnection(f.org.ID, f.acme.ID) })
			},
			want: []string{"alice globex +[] -[viewer] +[] -[read:all]"},
		},
		{
			name: "organization member role bound",
			setup: func(f *effectiveFixture) {
				f.do(func(tx *store.Tx) error {
					_, err := tx.AddOrganizationMembers(f.org.ID, []string{f.bob.ID})
					return err
				})
			},
			act: func(f *effectiveFixture) {
				f.do(func(tx *store.Tx) error {
					_, err := tx.BindOrganizationMemberRoles(f.org.ID, f.bob.ID, []string{f.admin.ID})
					return err
				})
			},
			want: []string{"bob globex +[admin] -[] +[admin:all] -[]"},
		},
		{
			name: "organization member removed",
			setup: func(f *effectiveFixture) {
				f.do(func(tx *store.Tx) error {
					if _, err := tx.AddOrganizationMembers(f.org.ID, []string{f.bob.ID}); err != nil {
						return err
					}
					_, err := tx.BindOrganizationMemberRoles(f.org.ID, f.bob.ID, []string{f.admin.ID})
					return err
				})
			},
			act: func(f *effectiveFixture) {
				f.do(func(tx *store.Tx) error {
					_, err := tx.RemoveOrganizationMembers(f.org.ID, []string{f.bob.ID})
					return err
				})
			},
			want: []string{"bob globex +[] -[admin] +[] -[admin:all]"},
		},
		{
			name: "organization deleted",
			setup: func(f *effectiveFixture) {
				f.do(func(tx *store.Tx) error {
					if _, err := tx.AddOrganizationMembers(f.org.ID, []string{f.bob.ID}); err != nil {
						return err
					}
					_, err := tx.BindOrganizationMemberRoles(f.org.ID, f.bob.ID, []string{f.admin.ID})
					return err
				})
			},
			act:  func(f *effectiveFixture) { f.do(func(tx *store.Tx) error { return tx.DeleteOrganization(f.org.ID) }) },
			want: []string{"bob globex +[] -[admin] +[] -[admin:all]"},
		},
		{
			name: "tenant setting tenant_roles_in_organizations",
			setup: func(f *effectiveFixture) {
				f.bindGroup(f.eng, f.admin)
				f.do(func(tx *store.Tx) error {
					_, err := tx.AddOrganizationMembers(f.org.ID, []string{f.alice.ID})
					return err
				})
			},
			act: func(f *effectiveFixture) {
				f.settings(func(s *store.TenantSettings) { s.TenantRolesInOrganizations = true })
			},
			want: []string{"alice globex +[admin] -[] +[admin:all] -[]"},
		},
		{
			name: "role deleted",
			setup: func(f *effectiveFixture) {
				f.bindGroup(f.eng, f.admin)
				f.do(func(tx *store.Tx) error {
					_, err := tx.BindUserRoles(f.bob.ID, []string{f.admin.ID, f.viewer.ID})
					return err
				})
			},
			act: func(f *effectiveFixture) { f.do(func(tx *store.Tx) error { return tx.DeleteRole(f.admin.ID) }) },
			want: []string{
				"alice tenant +[] -[admin] +[] -[admin:all]",
				"bob tenant +[] -[admin] +[] -[admin:all]",
			},
		},
		{
			name: "role permissions changed",
			setup: func(f *effectiveFixture) {
				f.bindGroup(f.eng, f.admin)
				f.do(func(tx *store.Tx) error { return storetest.EnsureScopes(tx, "https://api.example.com", "admin:write") })
			},
			act: func(f *effectiveFixture) {
				f.do(func(tx *store.Tx) error {
					_, err := tx.UpdateRole(f.admin.ID, func(r *store.Role) error {
						r.Permissions = []store.Permission{{ResourceServerIdentifier: "https://api.example.com", PermissionName: "admin:write"}}
						return nil
					})
					return err
				})
			},
			want: []string{"alice tenant +[] -[] +[admin:write] -[admin:all]"},
		},
		{
			name:  "role renamed: same grants",
			setup: func(f *effectiveFixture) { f.bindGroup(f.eng, f.admin) },
			act: func(f *effectiveFixture) {
				f.do(func(tx *store.Tx) error {
					_, err := tx.UpdateRole(f.admin.ID, func(r *store.Role) error { r.Name = "administrator"; return nil })
					return err
				})
			},
			want: nil,
		},
		{
			name:  "group deleted",
			setup: func(f *effectiveFixture) { f.bindGroup(f.eng, f.admin) },
			act: func(f *effectiveFixture) {
				f.do(func(tx *store.Tx) error { return tx.DeleteGroup(f.acme.ID, f.eng.ID) })
			},
			want: []string{"alice tenant +[] -[admin] +[] -[admin:all]"},
		},
		{
			name:  "user deleted",
			setup: func(f *effectiveFixture) { f.bindGroup(f.eng, f.admin) },
			act: func(f *effectiveFixture) {
				f.do(func(tx *store.Tx) error { return tx.DeleteUser(f.acme.ID, f.alice.ID) })
			},
			want: []string{"alice tenant +[] -[admin] +[] -[admin:all]"},
		},
		{
			name: "IdP role mapping added",
			act: func(f *effectiveFixture) {
				f.mapping(store.RoleMapping{ConnectionID: f.entra.ID, IdPValue: "billing.admin", RoleID: f.admin.ID})
			},
			want: []string{"carol tenant +[admin] -[] +[admin:all] -[]"},
		},
		{
			name: "IdP role mapping removed",
			setup: func(f *effectiveFixture) {
				f.mapping(store.RoleMapping{ConnectionID: f.entra.ID, IdPValue: "billing.admin", RoleID: f.admin.ID})
			},
			act: func(f *effectiveFixture) {
				f.do(func(tx *store.Tx) error {
					var ms []store.RoleMapping
					var err error
					if ms, err = tx.RoleMappings(f.entra.ID); err != nil {
						return err
					}
					return tx.DeleteRoleMapping(f.entra.ID, ms[0].ID)
				})
			},
			want: []string{"carol tenant +[] -[admin] +[] -[admin:all]"},
		},
		{
			name: "bound and unbound in one write: nothing changed",
			act: func(f *effectiveFixture) {
				f.do(func(tx *store.Tx) error {
					if _, err := tx.BindGroupRoles(f.eng.ID, []string{f.admin.ID}); err != nil {
						return err
					}
					_, err := tx.UnbindGroupRoles(f.eng.ID, []string{f.admin.ID})
					return err
				})
			},
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newEffectiveFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			d := startDeriver(f.world)
			settle(t, f.db, d)
			if got, _ := effectiveEvents(t, f.db, "", f.orgNames); len(got) != 0 {
				t.Fatalf("the first start announced %v; want a silent baseline", got)
			}
			_, last := effectiveEvents(t, f.db, "", f.orgNames)
			tt.act(f)
			settle(t, f.db, d)
			got, _ := effectiveEvents(t, f.db, last, f.orgNames)
			if !slices.Equal(got, tt.want) {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// A restart finds what a crash left underived: changes committed while no
// deriver ran (the mark is behind the revision) are compared on the next
// start and emitted once, coalesced; the start after that emits nothing.
// The first start over existing data announces nothing (a baseline).
func TestEffectiveRolesAfterACrashAreEmittedOnce(t *testing.T) {
	dir := t.TempDir()
	open := func() (*world, func()) {
		ix := roles.NewIndex()
		db, err := bboltdb.Open(dir, store.Options{Observers: []store.Observer{ix}})
		if err != nil {
			t.Fatal(err)
		}
		if err := ix.Load(db); err != nil {
			t.Fatal(err)
		}
		return &world{t: t, db: db, ix: ix}, func() {
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	run := func(w *world, fn func(d *roles.Deriver)) {
		d := roles.StartDeriver(w.db, w.ix, roles.DeriverOptions{OnError: func(err error) { t.Errorf("deriver: %v", err) }})
		settle(t, w.db, d)
		if fn != nil {
			fn(d)
		}
		d.Stop()
	}

	// Data from before the feature: the first start records it silently.
	w, closeDB := open()
	acme := storetest.MustConnection(t, w.db, "acme")
	alice := storetest.MustUser(t, w.db, acme.ID, "alice")
	eng := storetest.MustGroup(t, w.db, acme.ID, "Eng", alice.ID)
	admin, viewer := w.role("admin", "admin:all"), w.role("viewer", "read:all")
	w.do(func(tx *store.Tx) error { _, err := tx.BindGroupRoles(eng.ID, []string{admin.ID}); return err })
	run(w, nil)
	got, last := effectiveEvents(t, w.db, "", nil)
	if len(got) != 0 {
		t.Fatalf("first start: %v, want a silent baseline", got)
	}
	// Changes no deriver sees (the process died before deriving them).
	w.do(func(tx *store.Tx) error {
		if _, err := tx.UnbindGroupRoles(eng.ID, []string{admin.ID}); err != nil {
			return err
		}
		_, err := tx.BindGroupRoles(eng.ID, []string{viewer.ID})
		return err
	})
	w.do(func(tx *store.Tx) error { _, err := tx.BindUserRoles(alice.ID, []string{viewer.ID}); return err })
	closeDB()

	w, closeDB = open()
	run(w, nil)
	got, last = effectiveEvents(t, w.db, last, nil)
	if want := []string{"alice tenant +[viewer] -[admin] +[read:all] -[admin:all]"}; !slices.Equal(got, want) {
		t.Errorf("after the restart: %v, want %v", got, want)
	}
	closeDB()

	w, closeDB = open()
	defer closeDB()
	rev := w.db.Revision()
	run(w, func(d *roles.Deriver) {
		if s := d.Stats(); s.Compared != 0 {
			t.Errorf("a clean restart compared %d users; want none (the mark is current)", s.Compared)
		}
	})
	if got, _ := effectiveEvents(t, w.db, last, nil); len(got) != 0 {
		t.Errorf("the second restart emitted %v again", got)
	}
	if w.db.Revision() != rev {
		t.Errorf("revision %d after an idle start, want %d: derived writes must not feed themselves", w.db.Revision(), rev)
	}
}

// Derived writes change nothing the index resolves: once a change is
// derived the deriver goes idle and the revision stays.
func TestEffectiveRolesDerivingDoesNotFeedItself(t *testing.T) {
	f := newEffectiveFixture(t)
	d := startDeriver(f.world)
	settle(t, f.db, d) // the baseline: what exists before derivation begins
	f.bindGroup(f.eng, f.admin)
	settle(t, f.db, d)
	rev, stats := f.db.Revision(), d.Stats()
	if stats.Events != 1 {
		t.Fatalf("stats %+v, want one event", stats)
	}
	time.Sleep(50 * time.Millisecond)
	if got := d.Stats(); f.db.Revision() != rev || got.Writes != stats.Writes || got.Compared != stats.Compared {
		t.Errorf("idle deriver moved: revision %d→%d, stats %+v→%+v", rev, f.db.Revision(), stats, got)
	}
}

// Two nodes deriving the same changes (two indexes and derivers over one
// store) write each event once: the second finds the state recorded.
func TestEffectiveRolesTwoDeriversWriteEachEventOnce(t *testing.T) {
	f := newEffectiveFixture(t)
	second := roles.NewIndex()
	f.db.AddObserver(second)
	if err := second.Load(f.db); err != nil {
		t.Fatal(err)
	}
	d1 := startDeriver(f.world)
	d2 := startDeriver(&world{t: t, db: f.db, ix: second})
	settle(t, f.db, d1)
	settle(t, f.db, d2)
	_, last := effectiveEvents(t, f.db, "", f.orgNames)
	for range 3 {
		f.bindGroup(f.eng, f.admin)
		f.addMember(f.eng, f.bob.ID)
		f.unbindGrp(f.eng, f.admin)
		f.do(func(tx *store.Tx) error {
			_, err := tx.RemoveMembers(f.acme.ID, f.eng.ID, []string{f.bob.ID})
			return err
		})
		settle(t, f.db, d1)
		settle(t, f.db, d2)
	}
	got, _ := effectiveEvents(t, f.db, last, f.orgNames)
	// Each round: alice (and maybe bob) gain admin and lose it again, but
	// never twice in a row for the same user: every event is a real change.
	seen := map[string]string{}
	var n int
	if err := f.db.View(func(r *store.ReadTx) error {
		entries, _, err := r.AuditLog(last, 1<<20, false, store.AuditFilter{Type: store.EventUserEffectiveRolesChanged})
		for _, e := range entries {
			var c store.EffectiveRolesChange
			if err := json.Unmarshal(e.After, &c); err != nil {
				return err
			}
			dir := "+"
			if len(c.RolesRemoved) > 0 {
				dir = "-"
			}
			if seen[c.UserName] == dir {
				t.Errorf("entry %s repeats %s%s: a duplicate", e.ID, dir, c.UserName)
			}
			seen[c.UserName] = dir
			n++
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n == 0 || seen["alice"] != "-" {
		t.Errorf("events %v: want alice's gains and losses, ending with a loss", got)
	}
}
