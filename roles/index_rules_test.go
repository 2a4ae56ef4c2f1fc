package roles_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// scimUser creates a user whose document has the given attributes besides
// userName and active; "department" goes into the enterprise extension.
func scimUser(w *world, connectionID, name string, active bool, attrs map[string]any) store.User {
	w.t.Helper()
	var u store.User
	w.do(func(tx *store.Tx) (err error) {
		u, err = tx.CreateUser(store.User{ConnectionID: connectionID, UserName: name, Active: active, Doc: userDoc(name, active, attrs)})
		return err
	})
	return u
}

func userDoc(name string, active bool, attrs map[string]any) json.RawMessage {
	doc := map[string]any{"userName": name, "active": active}
	for k, v := range attrs {
		if k == "department" {
			doc[enterprise] = map[string]any{"department": v}
			continue
		}
		doc[k] = v
	}
	raw, _ := json.Marshal(doc)
	return raw
}

// setAttrs replaces a user's document attributes, as a SCIM PUT would.
func (w *world) setAttrs(u store.User, attrs map[string]any) uint64 {
	w.t.Helper()
	return storetest.MustUpdate(w.t, w.db, func(tx *store.Tx) error {
		_, err := tx.UpdateUser(u.ConnectionID, u.ID, func(nu *store.User) error {
			nu.Doc = userDoc(u.UserName, u.Active, attrs)
			return nil
		})
		return err
	})
}

// rule creates a rule and waits, as a query with min_revision does, until
// the index reflects it.
func (w *world) rule(rule store.RoleRule) store.RoleRule {
	w.t.Helper()
	rev := storetest.MustUpdate(w.t, w.db, func(tx *store.Tx) (err error) {
		rule, err = tx.CreateRoleRule(rule)
		return err
	})
	w.waitFor(rev)
	return rule
}

func (w *world) waitFor(rev uint64) {
	w.t.Helper()
	if err := w.ix.WaitFor(context.Background(), rev, 10*time.Second); err != nil {
		w.t.Fatalf("WaitFor(%d): %v", rev, err)
	}
}

// A rule gives its roles to the active users its filter matches, with the
// rule as the source; a user write, a rule edit and a rule deletion change
// the answer; a fresh Load answers the same.
func TestAttributeRulesGrantRolesWithProvenance(t *testing.T) {
	w := newWorld(t)
	c := storetest.MustConnection(t, w.db, "okta")
	other := storetest.MustConnection(t, w.db, "entra")
	crm := w.role("crm-user", "crm:use")
	alice := scimUser(w, c.ID, "alice", true, map[string]any{"department": "Sales"})
	bob := scimUser(w, c.ID, "bob", true, map[string]any{"department": "Engineering"})
	carol := scimUser(w, c.ID, "carol", false, map[string]any{"department": "sales"})
	dave := scimUser(w, other.ID, "dave", true, map[string]any{"department": "Sales"})
	rule := w.rule(store.RoleRule{Name: "sales", Filter: `department eq "Sales"`, RoleIDs: []string{crm.ID}})

	for _, tc := range []struct {
		name string
		u    store.User
		want []string
	}{
		{"matching", alice, []string{"crm-user:rule/tenant/sales"}},
		{"not matching", bob, nil},
		{"inactive", carol, nil},
		{"other connection", dave, []string{"crm-user:rule/tenant/sales"}},
	} {
		if got := roleSummary(w.resolve(roles.Subject{UserID: tc.u.ID})); !slices.Equal(got, tc.want) {
			t.Errorf("%s: roles = %v, want %v", tc.name, got, tc.want)
		}
	}
	b, _, err := w.ix.AppendEffectiveAnswer(nil, roles.Subject{UserID: alice.ID}, "", roles.AllParts)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"sources":[{"type":"rule","rule_id":"` + rule.ID + `","rule_name":"sales","scope":"tenant"}]`; !strings.Contains(string(b), want) {
		t.Errorf("answer %s\nwant it to hold %s", b, want)
	}

	// Bob moves to Sales: at once, with no evaluation to wait for.
	w.setAttrs(bob, map[string]any{"department": "Sales"})
	if got := roleSummary(w.resolve(roles.Subject{UserID: bob.ID})); len(got) != 1 {
		t.Errorf("bob in Sales has %v, want crm-user", got)
	}

	// Narrowed to the other connection: alice and bob lose it, dave keeps it.
	rev := storetest.MustUpdate(t, w.db, func(tx *store.Tx) error {
		_, err := tx.UpdateRoleRule(rule.ID, func(r *store.RoleRule) error { r.ConnectionID = other.ID; r.Name = "sales (entra)"; return nil })
		return err
	})
	w.waitFor(rev)
	for _, tc := range []struct {
		u    store.User
		want []string
	}{{alice, nil}, {bob, nil}, {dave, []string{"crm-user:rule/tenant/sales (entra)"}}} {
		if got := roleSummary(w.resolve(roles.Subject{UserID: tc.u.ID})); !slices.Equal(got, tc.want) {
			t.Errorf("after narrowing, %s has %v, want %v", tc.u.UserName, got, tc.want)
		}
	}

	fresh := roles.NewIndex()
	if err := fresh.Load(w.db); err != nil {
		t.Fatal(err)
	}
	if err := fresh.WaitFor(context.Background(), w.db.Revision(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, u := range []store.User{alice, bob, carol, dave} {
		want := w.resolve(roles.Subject{UserID: u.ID})
		if got, err := fresh.Resolve(roles.Subject{UserID: u.ID}); err != nil || answer(got) != answer(want) {
			t.Errorf("a fresh Load answers\n%s(%v), incremental\n%s", answer(got), err, answer(want))
		}
	}

	w.do(func(tx *store.Tx) error { return tx.DeleteRoleRule(rule.ID) })
	if got := roleSummary(w.resolve(roles.Subject{UserID: dave.ID})); len(got) != 0 {
		t.Errorf("after the rule is deleted dave has %v, want nothing", got)
	}
}

// A user write re-evaluates only the rules reading an attribute it
// changed: not every rule, and none when it changes nothing a rule reads;
// of the rules guarded by an equality (department eq "Sales"), only those
// whose value is the user's.
func TestRulesReEvaluateOnlyForChangedAttributes(t *testing.T) {
	w := newWorld(t)
	c := storetest.MustConnection(t, w.db, "okta")
	role := w.role("r", "p")
	alice := scimUser(w, c.ID, "alice", true, map[string]any{"department": "Sales", "title": "VP Sales"})
	for i, f := range []string{`department eq "Sales"`, `title sw "VP"`, `emails[type eq "work"]`, `nickName eq "al"`} {
		w.rule(store.RoleRule{Name: fmt.Sprint("rule", i), Filter: f, RoleIDs: []string{role.ID}})
	}
	for _, tc := range []struct {
		name  string
		attrs map[string]any
		want  uint64
	}{
		{"title changes", map[string]any{"department": "Sales", "title": "Director"}, 1},
		{"nothing a rule reads", map[string]any{"department": "Sales", "title": "Director", "displayName": "Alice"}, 0},
		// department eq "Sales" has a guard: leaving Sales needs no
		// evaluation (the rule cannot match), joining it one.
		{"department leaves Sales, title changes", map[string]any{"department": "Eng", "title": "VP", "displayName": "Alice"}, 1},
		{"department back to sales", map[string]any{"department": "sales", "title": "VP", "displayName": "Alice"}, 1},
		{"department to Eng again", map[string]any{"department": "Eng", "title": "VP", "displayName": "Alice"}, 0},
		{"emails appear", map[string]any{"department": "Eng", "title": "VP", "displayName": "Alice", "emails": []any{map[string]any{"value": "a@x", "type": "work"}}}, 1},
	} {
		before := w.ix.RuleEvaluations()
		w.setAttrs(alice, tc.attrs)
		if got := w.ix.RuleEvaluations() - before; got != tc.want {
			t.Errorf("%s: %d rule evaluations, want %d", tc.name, got, tc.want)
		}
	}
	if got := roleSummary(w.resolve(roles.Subject{UserID: alice.ID})); !slices.Equal(got, []string{"r:rule/tenant/rule1,rule/tenant/rule2"}) {
		t.Errorf("alice has %v, want r from rule1 (title) and rule2 (emails)", got)
	}
}

// An organization's rules apply as its group roles do: only with
// auto-membership of the user's connection.
func TestOrganizationRulesFollowAutoMembership(t *testing.T) {
	w := newWorld(t)
	c := storetest.MustConnection(t, w.db, "okta")
	approver := w.role("approver", "approve")
	auto, explicit := w.org("auto"), w.org("explicit")
	alice := scimUser(w, c.ID, "alice", true, map[string]any{"title": "VP Finance"})
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
	for _, o := range []store.Organization{auto, explicit} {
		w.rule(store.RoleRule{Name: "vp-" + o.Name, Filter: `title sw "VP"`, RoleIDs: []string{approver.ID}, OrganizationID: o.ID})
	}
	for _, tc := range []struct {
		name string
		s    roles.Subject
		want []string
	}{
		{"tenant: an organization rule does not apply", roles.Subject{UserID: alice.ID}, nil},
		{"auto-membership", roles.Subject{UserID: alice.ID, OrganizationID: auto.ID}, []string{"approver:rule/organization/vp-auto"}},
		{"explicit member, rule inert", roles.Subject{UserID: alice.ID, OrganizationID: explicit.ID}, nil},
	} {
		if got := roleSummary(w.resolve(tc.s)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: roles = %v, want %v", tc.name, got, tc.want)
		}
	}
	w.do(func(tx *store.Tx) error { return tx.DeleteOrganization(auto.ID) })
	if got := roleSummary(w.resolve(roles.Subject{UserID: alice.ID})); len(got) != 0 {
		t.Errorf("after the organization is deleted: %v, want nothing", got)
	}
}

// A new rule is evaluated off the commit path: the write returns, WaitFor
// its revision returns once the rule is installed, and users written
// meanwhile keep what their own change decided.
func TestNewRuleIsEvaluatedInTheBackground(t *testing.T) {
	w := newWorld(t)
	c := storetest.MustConnection(t, w.db, "okta")
	role := w.role("r", "p")
	ids := storetest.SeedUsers(t, w.db, c.ID, 3000)
	alice := scimUser(w, c.ID, "alice", true, map[string]any{"title": "VP"})
	before := w.ix.RuleEvaluations()
	var rule store.RoleRule
	rev := storetest.MustUpdate(t, w.db, func(tx *store.Tx) (err error) {
		rule, err = tx.CreateRoleRule(store.RoleRule{Name: "everyone but VPs", Filter: `not (title sw "VP")`, RoleIDs: []string{role.ID}})
		return err
	})
	// alice stops being a VP while the rule may still be pending.
	last := w.setAttrs(alice, map[string]any{"title": "Engineer"})
	w.waitFor(rev)
	if got := w.ix.RuleEvaluations() - before; got < uint64(len(ids)) {
		t.Errorf("%d evaluations after WaitFor, want at least one per user (%d)", got, len(ids))
	}
	w.waitFor(last)
	for _, id := range []string{ids[0], ids[len(ids)-1], alice.ID} {
		if got := roleSummary(w.resolve(roles.Subject{UserID: id})); !slices.Equal(got, []string{"r:rule/tenant/" + rule.Name}) {
			t.Errorf("user %s has %v, want r from the rule", id, got)
		}
	}
}

// A rule is installed over many users in chunks, with the index's lock
// released between them: user writes and rule edits landing between chunks
// leave the same answers as a fresh Load of the final state.
func TestRuleInstalledInChunksAgreesWithAFreshLoad(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(uint64(seed), 0))
	w := newWorld(t)
	c := storetest.MustConnection(t, w.db, "okta")
	role := w.role("r", "p")
	var users []store.User
	w.do(func(tx *store.Tx) error {
		for i := range 6000 { // three chunks and more
			name := fmt.Sprintf("u%05d", i)
			u, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: name, Active: true, Doc: userDoc(name, true, map[string]any{"title": fmt.Sprint("T", i%10)})})
			if err != nil {
				return err
			}
			users = append(users, u)
		}
		return nil
	})
	done := make(chan struct{})
	go func() { // user writes while rules are evaluated and installed
		defer close(done)
		for range 150 {
			w.setAttrs(users[rnd.IntN(len(users))], map[string]any{"title": fmt.Sprint("T", rnd.IntN(10))})
		}
	}()
	a := w.rule(store.RoleRule{Name: "a", Filter: `title eq "T1" or title eq "T2"`, RoleIDs: []string{role.ID}})
	storetest.MustUpdate(t, w.db, func(tx *store.Tx) (err error) {
		_, err = tx.CreateRoleRule(store.RoleRule{Name: "b", Filter: `not (title eq "T5")`, RoleIDs: []string{role.ID}})
		return err
	})
	storetest.MustUpdate(t, w.db, func(tx *store.Tx) error {
		_, err := tx.UpdateRoleRule(a.ID, func(r *store.RoleRule) error { r.Filter = `title eq "T3"`; return nil })
		return err
	})
	<-done
	w.waitFor(w.db.Revision())

	fresh := roles.NewIndex()
	if err := fresh.Load(w.db); err != nil {
		t.Fatal(err)
	}
	if err := fresh.WaitFor(context.Background(), w.db.Revision(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		want, err := fresh.Resolve(roles.Subject{UserID: u.ID})
		if err != nil {
			t.Fatal(err)
		}
		if got := w.resolve(roles.Subject{UserID: u.ID}); answer(got) != answer(want) {
			t.Fatalf("user %s: incremental answer\n%s, a fresh Load's\n%s", u.UserName, answer(got), answer(want))
		}
	}
}

// Editing a rule's name, roles or organization keeps its match set: no
// user is evaluated again, and the answer names the rule as it is now.
// Editing its filter evaluates it again over the users.
func TestRuleEditsReEvaluateOnlyForFilterOrConnection(t *testing.T) {
	w := newWorld(t)
	c := storetest.MustConnection(t, w.db, "okta")
	r1, r2 := w.role("r1", "p"), w.role("r2", "p")
	ids := storetest.SeedUsers(t, w.db, c.ID, 500)
	rule := w.rule(store.RoleRule{Name: "everyone", Filter: `active eq true`, RoleIDs: []string{r1.ID}})
	edit := func(fn func(r *store.RoleRule)) uint64 {
		t.Helper()
		before := w.ix.RuleEvaluations()
		rev := storetest.MustUpdate(t, w.db, func(tx *store.Tx) error {
			_, err := tx.UpdateRoleRule(rule.ID, func(r *store.RoleRule) error { fn(r); return nil })
			return err
		})
		w.waitFor(rev)
		return w.ix.RuleEvaluations() - before
	}
	if got := edit(func(r *store.RoleRule) { r.Name, r.RoleIDs = "all of them", []string{r2.ID} }); got != 0 {
		t.Errorf("renaming the rule and changing its roles evaluated it %d times, want 0", got)
	}
	if got := roleSummary(w.resolve(roles.Subject{UserID: ids[42]})); !slices.Equal(got, []string{"r2:rule/tenant/all of them"}) {
		t.Errorf("after the edit: %v, want r2 from the renamed rule", got)
	}
	if got := edit(func(r *store.RoleRule) { r.Filter = `active eq true and userName pr` }); got < uint64(len(ids)) {
		t.Errorf("changing the filter evaluated it %d times, want at least once per user (%d)", got, len(ids))
	}
}

// A deleted rule grants nothing from its deletion's revision on, though it
// is taken off its many users in the background, chunk by chunk.
func TestDeletedRuleGrantsNothingAtOnce(t *testing.T) {
	w := newWorld(t)
	c := storetest.MustConnection(t, w.db, "okta")
	role := w.role("r", "p")
	ids := storetest.SeedUsers(t, w.db, c.ID, 6000) // three chunks
	rule := w.rule(store.RoleRule{Name: "everyone", Filter: `active eq true`, RoleIDs: []string{role.ID}})
	if got := roleSummary(w.resolve(roles.Subject{UserID: ids[0]})); len(got) != 1 {
		t.Fatalf("before the deletion: %v, want r from the rule", got)
	}
	w.do(func(tx *store.Tx) error { return tx.DeleteRoleRule(rule.ID) })
	for _, id := range ids {
		if got := roleSummary(w.resolve(roles.Subject{UserID: id})); len(got) != 0 {
			t.Fatalf("user %s right after the deletion has %v, want nothing", id, got)
		}
	}
}
