package scim_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/scim"
	"github.com/rolecall/rolecall/scim/document"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// labelled is a group seeded straight into the store: users[i] is a member
// labelled "Person i" for i < labelled, unlabelled up to members, and not a
// member beyond; teams are member groups labelled "Team j".
type labelled struct {
	group string
	users []string
	teams []string
}

func newLabelled(t *testing.T, tg *target, labelledN, members, users, teams int) labelled {
	t.Helper()
	var l labelled
	storetest.MustUpdate(t, tg.db, func(tx *store.Tx) error {
		var ms []store.Member
		for i := range users {
			name := fmt.Sprintf("person%d@acme.test", i)
			u, err := tx.CreateUser(store.User{ConnectionID: tg.con.ID, UserName: name, Active: true, Doc: []byte(`{"userName":"` + name + `","active":true}`)})
			if err != nil {
				return err
			}
			l.users = append(l.users, u.ID)
			switch {
			case i < labelledN:
				ms = append(ms, store.Member{ID: u.ID, Display: "Person " + strconv.Itoa(i)})
			case i < members:
				ms = append(ms, store.Member{ID: u.ID})
			}
		}
		for j := range teams {
			name := "Team " + strconv.Itoa(j)
			g, err := tx.CreateGroup(store.Group{ConnectionID: tg.con.ID, DisplayName: name, Doc: []byte(`{"displayName":"` + name + `"}`)}, nil)
			if err != nil {
				return err
			}
			l.teams = append(l.teams, g.ID)
			ms = append(ms, store.Member{ID: g.ID, Display: name})
		}
		g, err := tx.CreateGroup(store.Group{ConnectionID: tg.con.ID, DisplayName: "Labelled", Doc: []byte(`{"displayName":"Labelled"}`)}, ms)
		l.group = g.ID
		return err
	})
	return l
}

func removeWhere(filter string) map[string]any { return op("remove", "members["+filter+"]", nil) }

func labelledMember(id, display string) []map[string]any {
	return []map[string]any{{"value": id, "display": display}}
}

// TestGroupPatchFilteredRemovesOnALargeGroup sends one PATCH of many filtered
// removes, of every shape, mixed with adds, to a group of 560 members, and
// checks the members left against the semantics the small cases pin down
// (TestGroupPatchRemoveWhereSeesMembersChangedEarlierInTheRequest): eq is
// case-insensitive; a stored member keeps its stored label when added back;
// a new member has the label it was last added with.
func TestGroupPatchFilteredRemovesOnALargeGroup(t *testing.T) {
	tg := newTarget(t)
	l := newLabelled(t, tg, 500, 550, 560, 5)
	u := l.users
	var ops []map[string]any
	for i := range 100 {
		ops = append(ops, removeWhere(`display eq "PERSON `+strconv.Itoa(i)+`"`)) // 0..99
	}
	ops = append(ops,
		removeWhere(`display eq "Person 100" and type eq "User"`),         // 100
		removeWhere(`display eq "Person 101" and type eq "Group"`),        // none
		removeWhere(`display eq "Person 102" or display eq "person 103"`), // 102, 103
		removeWhere(`type eq "group"`),                                    // the teams
		op("add", "members", labelledMember(u[0], "Back")),                // u0 again, labelled "Person 0"
		removeWhere(`display eq "Back"`),                                  // none: the stored label stays
		op("add", "members", labelledMember(u[550], "Fresh")),             // new
		removeWhere(`display eq "fresh"`),                                 // u550
		op("add", "members", labelledMember(u[551], "A")),                 // new
		op("add", "members", labelledMember(u[551], "B")),                 // relabelled
		removeWhere(`display eq "A"`),                                     // none
		removeWhere(`display sw "Person 49"`),                             // 490..499
		removeWhere(`not (display pr)`),                                   // 500..549
		removeWhere(`display ew "7" and type ne "Group"`),                 // ...7 except 0 (re-added, kept "Person 0")
		removeWhere(`value eq "`+u[200]+`" and display eq "Person 200"`),  // 200
		removeWhere(`display eq "Person 300" and value eq "`+u[301]+`"`),  // none
		op("add", "members", labelledMember(u[552], "Person 400")),        // new, same label as 400
		removeWhere(`display eq "person 400"`),                            // 400 and u552
		op("remove", "members", members(u[450])),                          // 450
		op("add", "members", members(u[450])),                             // back, with its stored label
		removeWhere(`type eq "User" and display eq "Person 450"`),         // 450
	)
	want := []string{u[0], u[551]}
	for i := 101; i < 490; i++ {
		if i != 102 && i != 103 && i%10 != 7 && i != 200 && i != 400 && i != 450 {
			want = append(want, u[i])
		}
	}
	tg.mustDo(t, http.StatusNoContent, "PATCH", "/Groups/"+l.group, patchOp(ops...))
	if got := memberIDs(t, tg.db, l.group); !slices.Equal(got, sorted(want...)) {
		t.Errorf("%d members left, want %d:\n  extra %v\n  missing %v", len(got), len(want), minus(got, want), minus(want, got))
	}
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// TestPatchOperationsAreCapped: a PATCH of more than MaxPatchOperations
// operations, to a User or a Group, is 400 tooMany naming the limit, and
// nothing of it is applied; MaxPatchOperations operations are accepted.
func TestPatchOperationsAreCapped(t *testing.T) {
	tg := newTarget(t)
	user := tg.mustCreateUser(t, "capped@acme.test", nil)
	extra := tg.mustCreateUser(t, "extra@acme.test", nil)
	group := tg.mustCreateGroup(t, "Capped", nil)
	for _, c := range []struct {
		name, path string
		first      map[string]any // a change to look for after a refusal
		field      string         // the attribute the other operations replace
	}{
		{"User", "/Users/" + user, op("replace", "title", "first"), "title"},
		{"Group", "/Groups/" + group, op("add", "members", members(extra)), "displayName"},
	} {
		ops := func(n int) map[string]any {
			out := []map[string]any{c.first}
			for len(out) < n {
				out = append(out, op("replace", c.field, "v"+strconv.Itoa(len(out))))
			}
			return patchOp(out...)
		}
		t.Run(c.name, func(t *testing.T) {
			before := tg.db.Revision()
			res := tg.do(t, "PATCH", c.path, ops(scim.MaxPatchOperations+1))
			wantSCIMError(t, res, http.StatusBadRequest, "tooMany")
			if d := str(res.object(t)["detail"]); !strings.Contains(d, strconv.Itoa(scim.MaxPatchOperations)) {
				t.Errorf("detail %q does not name the limit %d", d, scim.MaxPatchOperations)
			}
			if got := tg.db.Revision(); got != before {
				t.Errorf("store revision %d after the refused PATCH, want %d: something was applied", got, before)
			}
			if got := memberIDs(t, tg.db, group); len(got) != 0 {
				t.Errorf("members %v after the refused PATCH, want none", got)
			}
			tg.mustDo(t, http.StatusNoContent, "PATCH", c.path, ops(scim.MaxPatchOperations))
		})
	}
}

// TestGroupPatchMemberFilterTestsAreBounded: filters the member index cannot
// answer test every member once per operation; past MaxMemberFilterChecks
// tests the PATCH is 400 tooMany naming the limit, and nothing is applied.
// The same number of operations with eq filters uses the index and passes.
func TestGroupPatchMemberFilterTestsAreBounded(t *testing.T) {
	tg := newTarget(t)
	l := newLabelled(t, tg, 1000, 1000, 1001, 0)
	extra := l.users[1000]
	n := scim.MaxMemberFilterChecks/1000 + 1 // each tests the 1,000 members and extra
	body := func(filter string) map[string]any {
		ops := []map[string]any{op("add", "members", members(extra))}
		for range n {
			ops = append(ops, removeWhere(filter))
		}
		return patchOp(ops...)
	}
	before := tg.db.Revision()
	res := tg.do(t, "PATCH", "/Groups/"+l.group, body(`display sw "nobody"`))
	wantSCIMError(t, res, http.StatusBadRequest, "tooMany")
	if d := str(res.object(t)["detail"]); !strings.Contains(d, strconv.Itoa(scim.MaxMemberFilterChecks)) {
		t.Errorf("detail %q does not name the limit %d", d, scim.MaxMemberFilterChecks)
	}
	if got := tg.db.Revision(); got != before {
		t.Errorf("store revision %d after the refused PATCH, want %d: something was applied", got, before)
	}
	tg.mustDo(t, http.StatusNoContent, "PATCH", "/Groups/"+l.group, body(`display eq "nobody"`))
	if got := len(memberIDs(t, tg.db, l.group)); got != 1001 {
		t.Errorf("%d members, want 1001", got)
	}
}

// TestUserPatchWorkIsBounded: operations whose work on a user's multi-valued
// attributes adds up beyond document.MaxCost are 400 tooMany naming the
// limit, and the user is unchanged.
func TestUserPatchWorkIsBounded(t *testing.T) {
	tg := newTarget(t)
	user := tg.mustCreateUser(t, "many@acme.test", nil)
	var emails []map[string]any
	for i := range 2000 {
		emails = append(emails, map[string]any{"value": fmt.Sprintf("e%d@acme.test", i), "type": "work"})
	}
	before := tg.db.Revision()
	res := tg.do(t, "PATCH", "/Users/"+user, patchOp(op("replace", "title", "x"), op("add", "emails", emails)))
	wantSCIMError(t, res, http.StatusBadRequest, "tooMany")
	if d := str(res.object(t)["detail"]); !strings.Contains(d, strconv.Itoa(document.MaxCost)) {
		t.Errorf("detail %q does not name the limit %d", d, document.MaxCost)
	}
	if got := tg.db.Revision(); got != before {
		t.Errorf("store revision %d after the refused PATCH, want %d: something was applied", got, before)
	}
	tg.mustDo(t, http.StatusNoContent, "PATCH", "/Users/"+user, patchOp(op("add", "emails", emails[:50])))
}

// TestGroupPatchDisplayEqFoldsCaseLikeFilters: the member index folds case
// as filters do (strings.EqualFold), beyond ASCII too, for labels stored
// before the request and labels added in it.
func TestGroupPatchDisplayEqFoldsCaseLikeFilters(t *testing.T) {
	tg := newTarget(t)
	u := make([]string, 4)
	for i := range u {
		u[i] = tg.mustCreateUser(t, "fold"+strconv.Itoa(i)+"@acme.test", nil)
	}
	g := tg.mustCreateGroup(t, "Fold", nil)
	tg.mustDo(t, http.StatusNoContent, "PATCH", "/Groups/"+g, patchOp(
		op("add", "members", labelledMember(u[0], "équipe")),
		op("add", "members", labelledMember(u[1], "kelvin")),
	))
	tg.mustDo(t, http.StatusNoContent, "PATCH", "/Groups/"+g, patchOp(
		op("add", "members", labelledMember(u[2], "ǅemal")), // a title-case letter
		op("add", "members", labelledMember(u[3], "Straße")),
		removeWhere(`display eq "ÉQUIPE"`),
		removeWhere("display eq \"\u212Aelvin\""), // KELVIN SIGN folds to k
		removeWhere(`display eq "ǆemal"`),
		removeWhere(`display eq "STRASSE"`), // EqualFold does not expand ß: stays
	))
	if got := memberIDs(t, tg.db, g); !slices.Equal(got, []string{u[3]}) {
		t.Errorf("members %v, want only %s", got, u[3])
	}
}
