package roles_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// world is a store with an index observing it, as the server wires them.
type world struct {
	t  testing.TB
	db *store.DB
	ix *roles.Index
}

func newWorld(t testing.TB) *world {
	ix := roles.NewIndex()
	db := storetest.Open(t, store.Options{Observers: []store.Observer{ix}})
	if err := ix.Load(db); err != nil {
		t.Fatal(err)
	}
	return &world{t: t, db: db, ix: ix}
}

func (w *world) do(fn func(tx *store.Tx) error) {
	w.t.Helper()
	storetest.MustUpdate(w.t, w.db, fn)
}

func (w *world) role(name string, perms ...string) store.Role {
	w.t.Helper()
	var r store.Role
	w.do(func(tx *store.Tx) (err error) {
		role := store.Role{Name: name}
		if err := storetest.EnsureScopes(tx, "https://api.example.com", perms...); err != nil {
			return err
		}
		for _, p := range perms {
			role.Permissions = append(role.Permissions, store.Permission{ResourceServerIdentifier: "https://api.example.com", PermissionName: p})
		}
		r, err = tx.CreateRole(role)
		return err
	})
	return r
}

func (w *world) org(name string) store.Organization {
	w.t.Helper()
	var o store.Organization
	w.do(func(tx *store.Tx) (err error) {
		o, err = tx.CreateOrganization(store.Organization{Name: name})
		return err
	})
	return o
}

// roleSummary is a resolution as "role:source,source" strings sorted by role
// name (sources by kind, then group name), for readable comparisons. The
// answer's own order (by id) is checked by canonicalOrder.
func roleSummary(res roles.Resolution) []string {
	var out []string
	for _, r := range res.Roles {
		var srcs []string
		for _, src := range r.Sources {
			s := src.Type() + "/" + src.Scope()
			if src.Group != nil {
				s += "/" + src.Group.Name
			}
			if src.Mapping != nil {
				s += "/" + src.Mapping.Value
			}
			if src.Rule != nil {
				s += "/" + src.Rule.Name
			}
			srcs = append(srcs, s)
		}
		slices.Sort(srcs)
		out = append(out, r.Name+":"+strings.Join(srcs, ","))
	}
	slices.Sort(out)
	return out
}

// answer is what a resolution says, in exported terms only: two indexes may
// hold different internal encodings of the same answer.
func answer(res roles.Resolution) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %v %+v\n", res.UserID, res.ConnectionID, res.Active, res.Organization)
	for _, r := range res.Roles {
		fmt.Fprintf(&b, "%s %q %q %v %s:", r.ID, r.Name, r.Description, r.Permissions, r.Scope)
		for _, s := range r.Sources {
			fmt.Fprintf(&b, " %s/%s", s.Type(), s.Scope())
			if s.Group != nil {
				fmt.Fprintf(&b, "/%s/%s", s.Group.ID, s.Group.Name)
			}
			if s.Mapping != nil {
				fmt.Fprintf(&b, "/%s/%s/%s", s.Mapping.ID, s.Mapping.ConnectionID, s.Mapping.Value)
			}
			if s.Rule != nil {
				fmt.Fprintf(&b, "/%s/%s", s.Rule.ID, s.Rule.Name)
			}
			for _, via := range s.Via() {
				fmt.Fprintf(&b, "<%s", via.ID)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// canonicalOrder reports how an answer breaks DESIGN §2's order: roles by
// id; within a role, tenant before organization, direct before group
// before IdP role mapping, groups by id, mappings by value.
func canonicalOrder(res roles.Resolution) error {
	rank := func(s roles.Source) string {
		k := "0"
		if s.Organization {
			k = "1"
		}
		if s.Group != nil {
			k += "1" + s.Group.ID
		}
		if s.Mapping != nil {
			k += "2" + s.Mapping.Value + "\x00" + s.Mapping.ID
		}
		if s.Rule != nil {
			k += "3" + s.Rule.Name + "\x00" + s.Rule.ID
		}
		return k
	}
	for i, r := range res.Roles {
		if i > 0 && res.Roles[i-1].ID >= r.ID {
			return fmt.Errorf("role %s after %s", r.ID, res.Roles[i-1].ID)
		}
		for j := 1; j < len(r.Sources); j++ {
			if rank(r.Sources[j-1]) > rank(r.Sources[j]) {
				return fmt.Errorf("role %s: source %+v after %+v", r.Name, r.Sources[j], r.Sources[j-1])
			}
		}
	}
	return nil
}

func (w *world) resolve(s roles.Subject) roles.Resolution {
	w.t.Helper()
	res, err := w.ix.Resolve(s)
	if err != nil {
		w.t.Fatalf("Resolve(%+v): %v", s, err)
	}
	if err := canonicalOrder(res); err != nil {
		w.t.Errorf("answer out of order: %v", err)
	}
	return res
}

func TestTenantRolesAreDirectRolesAndGroupRolesWithTheirSources(t *testing.T) {
	w := newWorld(t)
	c := storetest.MustConnection(t, w.db, "acme")
	alice := storetest.MustUser(t, w.db, c.ID, "alice")
	eng := storetest.MustGroup(t, w.db, c.ID, "Eng", alice.ID)
	ops := storetest.MustGroup(t, w.db, c.ID, "Ops", alice.ID)
	storetest.MustGroup(t, w.db, c.ID, "Sales") // alice is not in it
	admin, viewer, billing := w.role("admin"), w.role("viewer"), w.role("billing")
	w.do(func(tx *store.Tx) error {
		if _, err := tx.BindGroupRoles(eng.ID, []string{admin.ID, viewer.ID}); err != nil {
			return err
		}
		if _, err := tx.BindGroupRoles(ops.ID, []string{viewer.ID}); err != nil {
			return err
		}
		_, err := tx.BindUserRoles(alice.ID, []string{billing.ID, viewer.ID})
		return err
	})
	got := roleSummary(w.resolve(roles.Subject{UserID: alice.ID}))
	want := []string{
		"admin:group/tenant/Eng",
		"billing:direct/tenant",
		"viewer:direct/tenant,group/tenant/Eng,group/tenant/Ops",
	}
	if !slices.Equal(got, want) {
		t.Errorf("roles =\n  %v\nwant\n  %v (sorted by role id, every source listed)", got, want)
	}
	// Removing a role from a group stops the inheritance at once.
	w.do(func(tx *store.Tx) error { _, err := tx.UnbindGroupRoles(eng.ID, []string{admin.ID}); return err })
	if got := roleSummary(w.resolve(roles.Subject{UserID: alice.ID})); slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "admin:") }) {
		t.Errorf("admin still granted after unbinding: %v", got)
	}
}

func TestOrganizationScope(t *testing.T) {
	w := newWorld(t)
	c := storetest.MustConnection(t, w.db, "acme")
	other := storetest.MustConnection(t, w.db, "globex")
	alice := storetest.MustUser(t, w.db, c.ID, "alice")
	bob := storetest.MustUser(t, w.db, other.ID, "bob")
	eng := storetest.MustGroup(t, w.db, c.ID, "Eng", alice.ID)
	o := w.org("tenant-a")
	tenantRole, orgRole, memberRole := w.role("tenant-role"), w.role("org-role"), w.role("member-role")
	w.do(func(tx *store.Tx) error {
		if _, err := tx.BindGroupRoles(eng.ID, []string{tenantRole.ID}); err != nil {
			return err
		}
		if _, err := tx.EnableConnection(o.ID, c.ID, false); err != nil {
			return err
		}
		_, err := tx.BindOrganizationGroupRoles(o.ID, eng.ID, []string{orgRole.ID})
		return err
	})
	inOrg := roles.Subject{UserID: alice.ID, OrganizationID: o.ID}

	// Not a member: no roles at all, not even tenant roles.
	res := w.resolve(inOrg)
	if res.Organization == nil || res.Organization.Member || len(res.Roles) != 0 {
		t.Fatalf("non-member: %+v, want member false and no roles", res)
	}
	// Explicit member, auto-membership off: member roles only; the
	// organization group binding is inert and tenant roles stay out.
	w.do(func(tx *store.Tx) error {
		if _, err := tx.AddOrganizationMembers(o.ID, []string{alice.ID}); err != nil {
			return err
		}
		_, err := tx.BindOrganizationMemberRoles(o.ID, alice.ID, []string{memberRole.ID})
		return err
	})
	if got, want := roleSummary(w.resolve(inOrg)), []string{"member-role:direct/organization"}; !slices.Equal(got, want) {
		t.Errorf("explicit member without auto-membership: %v, want %v", got, want)
	}
	// Auto-membership on: the organization group binding takes effect.
	w.do(func(tx *store.Tx) error { _, err := tx.UpdateEnabledConnection(o.ID, c.ID, true); return err })
	if got, want := roleSummary(w.resolve(inOrg)), []string{"member-role:direct/organization", "org-role:group/organization/Eng"}; !slices.Equal(got, want) {
		t.Errorf("with auto-membership: %v, want %v", got, want)
	}
	if r := w.resolve(inOrg); !r.Organization.AutoMembership || !r.Organization.Member {
		t.Errorf("organization status %+v, want member by auto-membership", r.Organization)
	}
	// Without an organization, organization-scope roles never appear.
	if got := roleSummary(w.resolve(roles.Subject{UserID: alice.ID})); !slices.Equal(got, []string{"tenant-role:group/tenant/Eng"}) {
		t.Errorf("tenant answer includes organization roles: %v", got)
	}
	// Auto-membership off again: inert once more.
	w.do(func(tx *store.Tx) error { _, err := tx.UpdateEnabledConnection(o.ID, c.ID, false); return err })
	if got := roleSummary(w.resolve(inOrg)); slices.Contains(got, "org-role:group/organization/Eng") {
		t.Errorf("organization group role still effective with auto-membership off: %v", got)
	}
	// A user of a connection not enabled on the organization is no member.
	if r := w.resolve(roles.Subject{UserID: bob.ID, OrganizationID: o.ID}); r.Organization.Member {
		t.Errorf("bob is a member of %s without being added or auto-enrolled", o.ID)
	}
	if _, err := w.ix.Resolve(roles.Subject{UserID: alice.ID, OrganizationID: "org_0000000000000000"}); !errors.Is(err, roles.ErrOrganizationNotFound) {
		t.Errorf("unknown organization: %v, want organization_not_found", err)
	}
}

func TestDeactivatedUsersHaveNoRolesUntilReactivated(t *testing.T) {
	w := newWorld(t)
	c := storetest.MustConnection(t, w.db, "acme")
	alice := storetest.MustUser(t, w.db, c.ID, "alice")
	g := storetest.MustGroup(t, w.db, c.ID, "Eng", alice.ID)
	admin := w.role("admin")
	w.do(func(tx *store.Tx) error { _, err := tx.BindGroupRoles(g.ID, []string{admin.ID}); return err })
	setActive := func(active bool) {
		w.do(func(tx *store.Tx) error {
			_, err := tx.UpdateUser(c.ID, alice.ID, func(u *store.User) error { u.Active = active; return nil })
			return err
		})
	}
	setActive(false)
	if res := w.resolve(roles.Subject{UserID: alice.ID}); res.Active || len(res.Roles) != 0 {
		t.Errorf("deactivated user: %+v, want active false and no roles", res)
	}
	setActive(true)
	if res := w.resolve(roles.Subject{UserID: alice.ID}); !res.Active || len(res.Roles) != 1 {
		t.Errorf("reactivated user: %+v, want the role back", res)
	}
	w.do(func(tx *store.Tx) error { return tx.DeleteUser(c.ID, alice.ID) })
	if _, err := w.ix.Resolve(roles.Subject{UserID: alice.ID}); !errors.Is(err, roles.ErrUserNotFound) {
		t.Errorf("deleted user: %v, want user_not_found (never an empty success)", err)
	}
}

func TestSubjectsByUserNameAndExternalID(t *testing.T) {
	w := newWorld(t)
	c := storetest.MustConnection(t, w.db, "acme")
	alice := storetest.MustUser(t, w.db, c.ID, "Alice@Example.com")
	w.do(func(tx *store.Tx) error {
		_, err := tx.UpdateUser(c.ID, alice.ID, func(u *store.User) error { u.ExternalID = "00u1"; return nil })
		return err
	})
	for _, s := range []roles.Subject{
		{ConnectionID: c.ID, UserName: "alice@EXAMPLE.com"},
		{ConnectionID: c.ID, ExternalID: "00u1"},
	} {
		if res := w.resolve(s); res.UserID != alice.ID {
			t.Errorf("%+v resolved to %s, want %s", s, res.UserID, alice.ID)
		}
	}
	// Renaming moves the name.
	w.do(func(tx *store.Tx) error {
		_, err := tx.UpdateUser(c.ID, alice.ID, func(u *store.User) error { u.UserName = "alice2"; return nil })
		return err
	})
	if _, err := w.ix.Resolve(roles.Subject{ConnectionID: c.ID, UserName: "alice@example.com"}); !errors.Is(err, roles.ErrUserNotFound) {
		t.Errorf("old userName still resolves: %v", err)
	}
	bob := storetest.MustUser(t, w.db, c.ID, "bob")
	w.do(func(tx *store.Tx) error {
		_, err := tx.UpdateUser(c.ID, bob.ID, func(u *store.User) error { u.ExternalID = "00u1"; return nil })
		return err
	})
	if _, err := w.ix.Resolve(roles.Subject{ConnectionID: c.ID, ExternalID: "00u1"}); !errors.Is(err, roles.ErrAmbiguousSubject) {
		t.Errorf("shared externalId: %v, want ambiguous_subject", err)
	}
	for _, bad := range []roles.Subject{{}, {ConnectionID: c.ID}, {UserID: alice.ID, UserName: "x", ConnectionID: c.ID}} {
		if _, err := w.ix.Resolve(bad); !errors.Is(err, roles.ErrInvalidSubject) {
			t.Errorf("subject %+v: %v, want invalid_subject", bad, err)
		}
	}
}

func TestWaitForRevision(t *testing.T) {
	w := newWorld(t)
	c := storetest.MustConnection(t, w.db, "acme")
	rev := w.db.Revision()
	if err := w.ix.WaitFor(context.Background(), rev, time.Second); err != nil {
		t.Errorf("a reached revision: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- w.ix.WaitFor(context.Background(), rev+1, 2*time.Second) }()
	time.Sleep(20 * time.Millisecond)
	storetest.MustUser(t, w.db, c.ID, "alice")
	if err := <-done; err != nil {
		t.Errorf("waiting for the next write: %v", err)
	}
	if err := w.ix.WaitFor(context.Background(), rev+100, 50*time.Millisecond); !errors.Is(err, roles.ErrRevisionNotReached) {
		t.Errorf("a revision never reached: %v", err)
	}
}

// The index is kept up to date change by change; after any sequence of
// writes it must answer exactly as an index loaded from scratch would.
func TestIncrementalIndexMatchesAFreshLoad(t *testing.T) {
	seed := time.Now().UnixNano()
	if s, err := strconv.ParseInt(os.Getenv("ROLES_TEST_SEED"), 10, 64); err == nil {
		seed = s // replay a failure
	}
	t.Logf("seed %d (ROLES_TEST_SEED replays it)", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	w := newWorld(t)
	cons := []store.Connection{storetest.MustConnection(t, w.db, "a"), storetest.MustConnection(t, w.db, "b")}
	var users []store.User
	var groups []store.Group
	var roleIDs, orgIDs []string
	// userNames and externalIds come from a small pool, so renames collide,
	// externalIds are shared and case varies.
	names := []string{"ann", "Bob", "ANN2", "carl", "ann3"}
	for i := range 4 {
		roleIDs = append(roleIDs, w.role(fmt.Sprintf("r%d", i), fmt.Sprintf("p%d", i)).ID)
		orgIDs = append(orgIDs, w.org(fmt.Sprintf("o%d", i)).ID)
	}
	compare := func(step int) {
		fresh := roles.NewIndex()
		if err := fresh.Load(w.db); err != nil {
			t.Fatal(err)
		}
		// Lookups by name: every userName and externalId in play, in any
		// case, resolves to the same user (or the same error) in both.
		for _, name := range names {
			for _, c := range cons {
				for _, s := range []roles.Subject{
					{ConnectionID: c.ID, UserName: name}, {ConnectionID: c.ID, UserName: strings.ToUpper(name)},
					{ConnectionID: c.ID, ExternalID: name},
				} {
					a, errA := w.ix.Resolve(s)
					b, errB := fresh.Resolve(s)
					if a.UserID != b.UserID || fmt.Sprint(errA) != fmt.Sprint(errB) {
						t.Fatalf("after step %d, subject %+v: incremental %s (%v), fresh %s (%v)", step, s, a.UserID, errA, b.UserID, errB)
					}
				}
			}
		}
		for _, u := range users {
			for _, org := range append([]string{""}, orgIDs...) {
				s := roles.Subject{UserID: u.ID, OrganizationID: org}
				a, errA := w.ix.Resolve(s)
				b, errB := fresh.Resolve(s)
				if !reflect.DeepEqual(answer(a), answer(b)) || (errA == nil) != (errB == nil) {
					t.Fatalf("after step %d, subject %+v:\n incremental %s(%v)\n fresh       %s(%v)", step, s, answer(a), errA, answer(b), errB)
				}
			}
		}
	}
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	for step := range 1000 {
		if step%25 == 24 {
			compare(step)
		}
		_, _ = w.db.Update(context.Background(), storetest.Origin, func(tx *store.Tx) error {
			c := cons[rng.IntN(len(cons))]
			// Few users and groups, so random operations keep meeting the
			// same memberships and bindings.
			switch op := rng.IntN(18); {
			case op == 0 && len(users) < 6 || len(users) < 3:
				u, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: fmt.Sprintf("u%d", step), Active: true})
				if err == nil {
					users = append(users, u)
				}
				return err
			case op == 1 && len(groups) < 4 || len(groups) < 2:
				g, err := tx.CreateGroup(store.Group{ConnectionID: c.ID, DisplayName: fmt.Sprintf("g%d", step)}, nil)
				if err == nil {
					groups = append(groups, g)
				}
				return err
			case op == 2:
				g, u := groups[rng.IntN(len(groups))], users[rng.IntN(len(users))]
				_, err := tx.AddMembers(g.ConnectionID, g.ID, []store.Member{{ID: u.ID}})
				return err
			case op == 3:
				g, u := groups[rng.IntN(len(groups))], users[rng.IntN(len(users))]
				_, err := tx.RemoveMembers(g.ConnectionID, g.ID, []string{u.ID})
				return err
			case op == 4:
				_, err := tx.BindGroupRoles(groups[rng.IntN(len(groups))].ID, []string{pick(roleIDs)})
				return err
			case op == 5:
				_, err := tx.UnbindGroupRoles(groups[rng.IntN(len(groups))].ID, []string{pick(roleIDs)})
				return err
			case op == 6:
				_, err := tx.BindUserRoles(users[rng.IntN(len(users))].ID, []string{pick(roleIDs)})
				return err
			case op == 7:
				u := users[rng.IntN(len(users))]
				_, err := tx.UpdateUser(u.ConnectionID, u.ID, func(u *store.User) error { u.Active = !u.Active; return nil })
				return err
			case op == 8:
				o := pick(orgIDs)
				if _, err := tx.EnableConnection(o, c.ID, rng.IntN(2) == 0); err != nil {
					_, err = tx.UpdateEnabledConnection(o, c.ID, rng.IntN(2) == 0)
					return err
				}
				return nil
			case op == 9:
				_, err := tx.AddOrganizationMembers(pick(orgIDs), []string{users[rng.IntN(len(users))].ID})
				return err
			case op == 10:
				_, err := tx.BindOrganizationGroupRoles(pick(orgIDs), groups[rng.IntN(len(groups))].ID, []string{pick(roleIDs)})
				return err
			case op == 11:
				_, err := tx.BindOrganizationMemberRoles(pick(orgIDs), users[rng.IntN(len(users))].ID, []string{pick(roleIDs)})
				return err
			case op == 12 && rng.IntN(4) == 0:
				i := rng.IntN(len(groups))
				g := groups[i]
				groups = slices.Delete(groups, i, i+1)
				return tx.DeleteGroup(g.ConnectionID, g.ID)
			case op == 13 && rng.IntN(6) == 0:
				i := rng.IntN(len(roleIDs))
				id := roleIDs[i]
				if err := tx.DeleteRole(id); err != nil {
					return err
				}
				roleIDs = slices.Delete(roleIDs, i, i+1)
				role, err := tx.CreateRole(store.Role{Name: fmt.Sprintf("r-%d", step)})
				roleIDs = append(roleIDs, role.ID)
				return err
			case op == 14 || op == 15:
				// Nested groups of one connection, cycles included.
				parent, child := groups[rng.IntN(len(groups))], groups[rng.IntN(len(groups))]
				if parent.ConnectionID != child.ConnectionID || parent.ID == child.ID {
					return nil
				}
				if op == 14 {
					_, err := tx.AddMembers(parent.ConnectionID, parent.ID, []store.Member{{ID: child.ID}})
					return err
				}
				_, err := tx.RemoveMembers(parent.ConnectionID, parent.ID, []string{child.ID})
				return err
			case op == 17:
				u := users[rng.IntN(len(users))]
				name, ext := pick(names), pick(append(names, ""))
				_, err := tx.UpdateUser(u.ConnectionID, u.ID, func(u *store.User) error {
					if rng.IntN(2) == 0 {
						u.UserName = name // may collide: the store refuses, nothing changes
					}
					u.ExternalID = ext
					return nil
				})
				return err
			case op == 16 && rng.IntN(3) == 0:
				_, err := tx.UpdateTenantSettings(func(s *store.TenantSettings) error {
					if rng.IntN(2) == 0 {
						s.NestedGroupRoles = !s.NestedGroupRoles
					} else {
						s.TenantRolesInOrganizations = !s.TenantRolesInOrganizations
					}
					return nil
				})
				return err
			}
			return nil
		})
	}
	compare(1000)
}

// nestedSummary is roleSummary with each nested source's path:
// "role:group/tenant/Staff<Backend<Engineering" (bound group, then the way
// down from the user's own group).
func nestedSummary(res roles.Resolution) []string {
	var out []string
	for _, r := range res.Roles {
		var srcs []string
		for _, src := range r.Sources {
			s := src.Type() + "/" + src.Scope()
			if src.Group != nil {
				s += "/" + src.Group.Name
			}
			for _, via := range src.Via() {
				s += "<" + via.Name
			}
			srcs = append(srcs, s)
		}
		slices.Sort(srcs)
		out = append(out, r.Name+":"+strings.Join(srcs, ","))
	}
	slices.Sort(out)
	return out
}

func TestNestedGroupRolesFollowTheTenantSettingThroughCycles(t *testing.T) {
	w := newWorld(t)
	c := storetest.MustConnection(t, w.db, "acme")
	alice := storetest.MustUser(t, w.db, c.ID, "alice")
	bob := storetest.MustUser(t, w.db, c.ID, "bob")
	// Staff ⊃ Engineering ⊃ Backend ∋ alice, and Backend ∋ Staff ∋ bob: a
	// membership cycle through every group.
	backend := storetest.MustGroup(t, w.db, c.ID, "Backend", alice.ID)
	eng := storetest.MustGroup(t, w.db, c.ID, "Engineering", backend.ID)
	staff := storetest.MustGroup(t, w.db, c.ID, "Staff", eng.ID, bob.ID)
	w.do(func(tx *store.Tx) error {
		_, err := tx.AddMembers(c.ID, backend.ID, []store.Member{{ID: staff.ID}})
		return err
	})
	backendRole, engRole, staffRole, orgRole := w.role("backend-role"), w.role("eng-role"), w.role("staff-role"), w.role("org-role")
	o := w.org("acme-org")
	w.do(func(tx *store.Tx) error {
		for g, r := range map[string]string{backend.ID: backendRole.ID, eng.ID: engRole.ID, staff.ID: staffRole.ID} {
			if _, err := tx.BindGroupRoles(g, []string{r}); err != nil {
				return err
			}
		}
		if _, err := tx.EnableConnection(o.ID, c.ID, true); err != nil {
			return err
		}
		_, err := tx.BindOrganizationGroupRoles(o.ID, staff.ID, []string{orgRole.ID})
		return err
	})
	setNested := func(on bool) {
		w.do(func(tx *store.Tx) error {
			_, err := tx.UpdateTenantSettings(func(s *store.TenantSettings) error { s.NestedGroupRoles = on; return nil })
			return err
		})
	}
	check := func(label string, s roles.Subject, want ...string) {
		t.Helper()
		if got := nestedSummary(w.resolve(s)); !slices.Equal(got, want) {
			t.Errorf("%s:\n got  %v\n want %v", label, got, want)
		}
	}
	aliceTenant, aliceOrg := roles.Subject{UserID: alice.ID}, roles.Subject{UserID: alice.ID, OrganizationID: o.ID}

	// Off (the default): only the groups a user is in directly.
	check("off", aliceTenant, "backend-role:group/tenant/Backend")
	check("off, bob", roles.Subject{UserID: bob.ID}, "staff-role:group/tenant/Staff")

	setNested(true)
	check("on", aliceTenant,
		"backend-role:group/tenant/Backend",
		"eng-role:group/tenant/Engineering<Backend",
		"staff-role:group/tenant/Staff<Backend<Engineering")
	// The cycle brings bob up through Backend and Engineering, each once.
	check("on, bob", roles.Subject{UserID: bob.ID},
		"backend-role:group/tenant/Backend<Staff",
		"eng-role:group/tenant/Engineering<Staff<Backend",
		"staff-role:group/tenant/Staff")
	// Organization group roles flow the same way, still only with
	// auto-membership on; tenant roles stay out of the organization's
	// answer unless the tenant says otherwise.
	check("on, in the organization", aliceOrg,
		"org-role:group/organization/Staff<Backend<Engineering")
	setTenantInOrgs(w, true)
	check("on, in the organization, tenant roles too", aliceOrg,
		"backend-role:group/tenant/Backend",
		"eng-role:group/tenant/Engineering<Backend",
		"org-role:group/organization/Staff<Backend<Engineering",
		"staff-role:group/tenant/Staff<Backend<Engineering")
	setTenantInOrgs(w, false)
	w.do(func(tx *store.Tx) error { _, err := tx.UpdateEnabledConnection(o.ID, c.ID, false); return err })
	if got := nestedSummary(w.resolve(aliceOrg)); len(got) != 0 {
		t.Errorf("auto-membership off, not an explicit member: %v, want no roles", got)
	}

	// Cutting the chain stops the inheritance at once.
	w.do(func(tx *store.Tx) error { _, err := tx.RemoveMembers(c.ID, eng.ID, []string{backend.ID}); return err })
	check("Backend out of Engineering", aliceTenant, "backend-role:group/tenant/Backend")

	// Off again: back to direct groups, with the member groups kept.
	w.do(func(tx *store.Tx) error {
		_, err := tx.AddMembers(c.ID, eng.ID, []store.Member{{ID: backend.ID}})
		return err
	})
	setNested(false)
	check("off again", aliceTenant, "backend-role:group/tenant/Backend")
	setNested(true)
	check("on again", aliceTenant,
		"backend-role:group/tenant/Backend",
		"eng-role:group/tenant/Engineering<Backend",
		"staff-role:group/tenant/Staff<Backend<Engineering")

	// A fresh index loads the setting and the member groups from the store.
	fresh := roles.NewIndex()
	if err := fresh.Load(w.db); err != nil {
		t.Fatal(err)
	}
	res, err := fresh.Resolve(aliceTenant)
	if err != nil || !reflect.DeepEqual(answer(res), answer(w.resolve(aliceTenant))) {
		t.Errorf("fresh load answers %v (%v), incremental %v", nestedSummary(res), err, nestedSummary(w.resolve(aliceTenant)))
	}
}

// Past a few dozen groups the walk switches from scanning to a set; the
// answer must not change: every group reached once, by one path.
func TestNestedGroupRolesWithManyGroups(t *testing.T) {
	w := newWorld(t)
	c := storetest.MustConnection(t, w.db, "acme")
	alice := storetest.MustUser(t, w.db, c.ID, "alice")
	var direct []string
	for i := range 40 {
		direct = append(direct, storetest.MustGroup(t, w.db, c.ID, fmt.Sprintf("team-%02d", i), alice.ID).ID)
	}
	all := storetest.MustGroup(t, w.db, c.ID, "All", direct...)
	company := storetest.MustGroup(t, w.db, c.ID, "Company", all.ID)
	allRole, companyRole := w.role("all-role"), w.role("company-role")
	w.do(func(tx *store.Tx) error {
		if _, err := tx.BindGroupRoles(all.ID, []string{allRole.ID}); err != nil {
			return err
		}
		if _, err := tx.BindGroupRoles(company.ID, []string{companyRole.ID}); err != nil {
			return err
		}
		_, err := tx.UpdateTenantSettings(func(s *store.TenantSettings) error { s.NestedGroupRoles = true; return nil })
		return err
	})
	// Of the forty equally short paths, the one through the group with the
	// smallest id.
	first := slices.Min(direct)
	var via string
	w.do(func(tx *store.Tx) error {
		g, err := tx.Group(c.ID, first)
		via = g.DisplayName
		return err
	})
	for range 3 { // scratch reuse must not leak state between answers
		res := w.resolve(roles.Subject{UserID: alice.ID})
		if got := nestedSummary(res); !slices.Equal(got, []string{"all-role:group/tenant/All<" + via, "company-role:group/tenant/Company<" + via + "<All"}) {
			t.Fatalf("got %v", got)
		}
	}
}

// A long nesting chain names at most MaxVia groups per source: the user's
// own group, then those just below the granting group, with ViaLength
// telling the whole path's length. Without the bound the answer grew with
// the square of the chain.
func TestNestedGroupRolesShortenLongPaths(t *testing.T) {
	w := newWorld(t)
	c := storetest.MustConnection(t, w.db, "acme")
	alice := storetest.MustUser(t, w.db, c.ID, "alice")
	const n = 3 * roles.MaxVia
	chain := []store.Group{storetest.MustGroup(t, w.db, c.ID, "g00", alice.ID)}
	for i := 1; i < n; i++ {
		chain = append(chain, storetest.MustGroup(t, w.db, c.ID, fmt.Sprintf("g%02d", i), chain[i-1].ID))
	}
	w.do(func(tx *store.Tx) error {
		for _, g := range chain {
			r, err := tx.CreateRole(store.Role{Name: "role-" + g.DisplayName})
			if err != nil {
				return err
			}
			if _, err := tx.BindGroupRoles(g.ID, []string{r.ID}); err != nil {
				return err
			}
		}
		_, err := tx.UpdateTenantSettings(func(s *store.TenantSettings) error { s.NestedGroupRoles = true; return nil })
		return err
	})
	res := w.resolve(roles.Subject{UserID: alice.ID})
	if len(res.Roles) != n {
		t.Fatalf("%d roles, want %d", len(res.Roles), n)
	}
	for _, r := range res.Roles {
		src := r.Sources[0]
		depth, _ := strconv.Atoi(strings.TrimPrefix(src.Group.Name, "g"))
		var want []string
		switch {
		case depth <= roles.MaxVia:
			for i := range depth {
				want = append(want, chain[i].DisplayName)
			}
		default:
			want = append(want, "g00")
			for i := depth - roles.MaxVia + 1; i < depth; i++ {
				want = append(want, chain[i].DisplayName)
			}
		}
		var got []string
		for _, g := range src.Via() {
			got = append(got, g.Name)
		}
		if !slices.Equal(got, want) || src.ViaLength() != depth {
			t.Errorf("%s: via %v (length %d), want %v (length %d)", src.Group.Name, got, src.ViaLength(), want, depth)
		}
	}
}
