package scim_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// people is a connection with six users and a group to nest.
type people struct {
	*target
	u      [7]string // u[1]..u[6]; u[0] unused
	nested string    // a group that can be a member
	name   map[string]string
}

func newPeople(t *testing.T) *people {
	t.Helper()
	p := &people{target: newTarget(t), name: map[string]string{}}
	for i := 1; i <= 6; i++ {
		p.u[i] = p.mustCreateUser(t, "u"+itoa(i)+"@acme.test", nil)
		p.name[p.u[i]] = "u" + itoa(i)
	}
	p.nested = p.mustCreateGroup(t, "Nested", nil)
	p.name[p.nested] = "nested"
	return p
}

func (p *people) names(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		if n, ok := p.name[id]; ok {
			out[i] = n
		} else {
			out[i] = id
		}
	}
	slices.Sort(out)
	return out
}

func valueEq(id string) string { return `members[value eq "` + id + `"]` }

// TestGroupPatchAppliesTheNetEffectOfMemberOperations runs PATCHes that mix
// every kind of member operation, in order, and checks the membership the
// store ends with.
func TestGroupPatchAppliesTheNetEffectOfMemberOperations(t *testing.T) {
	p := newPeople(t)
	u := p.u
	cases := []struct {
		name    string
		initial []string
		ops     []map[string]any
		want    []string
	}{
		{"remove by filter, then add", []string{u[1], u[2]},
			[]map[string]any{op("remove", valueEq(u[1]), nil), op("add", "members", members(u[3]))},
			[]string{u[2], u[3]}},
		{"add, then remove the same by filter", []string{u[1]},
			[]map[string]any{op("add", "members", members(u[2])), op("remove", valueEq(u[2]), nil)},
			[]string{u[1]}},
		{"remove, then add the same back", []string{u[1], u[2]},
			[]map[string]any{op("remove", valueEq(u[1]), nil), op("add", "members", members(u[1]))},
			[]string{u[1], u[2]}},
		{"replace, then add", []string{u[1], u[2]},
			[]map[string]any{op("replace", "members", members(u[3])), op("add", "members", members(u[4]))},
			[]string{u[3], u[4]}},
		{"replace keeping one", []string{u[1], u[2]},
			[]map[string]any{op("replace", "members", members(u[2], u[3]))},
			[]string{u[2], u[3]}},
		{"replace with none", []string{u[1], u[2]},
			[]map[string]any{op("replace", "members", []any{})},
			nil},
		{"remove all, then add", []string{u[1], u[2]},
			[]map[string]any{op("remove", "members", nil), op("add", "members", members(u[5]))},
			[]string{u[5]}},
		{"add, then remove all", []string{u[1]},
			[]map[string]any{op("add", "members", members(u[2])), op("remove", "members", nil)},
			nil},
		{"remove all, add back, remove one", []string{u[1], u[2]},
			[]map[string]any{op("remove", "members", nil), op("add", "members", members(u[1], u[2])), op("remove", valueEq(u[2]), nil)},
			[]string{u[1]}},
		{"Entra: Remove path members with a value list", []string{u[1], u[2], u[3]},
			[]map[string]any{op("Remove", "members", members(u[1], u[3]))},
			[]string{u[2]}},
		{"Entra: Add with capitalized op", []string{u[1]},
			[]map[string]any{op("Add", "members", members(u[2]))},
			[]string{u[1], u[2]}},
		{"remove with an or filter", []string{u[1], u[2], u[3]},
			[]map[string]any{op("remove", `members[value eq "`+u[1]+`" or value eq "`+u[3]+`"]`, nil)},
			[]string{u[2]}},
		{"remove members of type User", []string{u[1], u[2], p.nested},
			[]map[string]any{op("remove", `members[type eq "User"]`, nil)},
			[]string{p.nested}},
		{"pathless add of members", []string{u[1]},
			[]map[string]any{op("add", "", map[string]any{"members": members(u[2], u[3])})},
			[]string{u[1], u[2], u[3]}},
		{"duplicate ids in one add", nil,
			[]map[string]any{op("add", "members", members(u[1], u[1], u[2]))},
			[]string{u[1], u[2]}},
		{"the same id added twice in two operations", []string{u[3]},
			[]map[string]any{op("add", "members", members(u[1])), op("add", "members", members(u[1]))},
			[]string{u[1], u[3]}},
		{"all of it in one request", []string{u[1], u[2], u[3]},
			[]map[string]any{
				op("remove", valueEq(u[1]), nil),
				op("add", "members", members(u[4], u[5])),
				op("Remove", "members", members(u[2])),
				op("replace", "members", members(u[3], u[4], u[6])),
				op("remove", valueEq(u[6]), nil),
				op("add", "members", members(u[1])),
				op("replace", "displayName", "Renamed"),
			},
			[]string{u[1], u[3], u[4]}},
		{"remove all, then Entra remove of one, then add", []string{u[1], u[2]},
			[]map[string]any{op("remove", "members", nil), op("Remove", "members", members(u[1])), op("add", "members", members(u[2]))},
			[]string{u[2]}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := p.mustCreateGroup(t, "Net "+itoa(i), nil, c.initial...)
			res := p.do(t, "PATCH", "/Groups/"+g, patchOp(c.ops...))
			if res.status != http.StatusNoContent {
				t.Fatalf("%v\nwant 204", res)
			}
			if got := memberIDs(t, p.db, g); !slices.Equal(got, sorted(c.want...)) {
				t.Errorf("members %v, want %v", p.names(got), p.names(c.want))
			}
			// GET agrees with the store.
			var got struct {
				Members []struct{ Value string } `json:"members"`
			}
			if err := json.Unmarshal(p.mustDo(t, http.StatusOK, "GET", "/Groups/"+g, nil).body, &got); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, m := range got.Members {
				ids = append(ids, m.Value)
			}
			if !slices.Equal(sorted(ids...), sorted(c.want...)) {
				t.Errorf("GET lists members %v, want %v", p.names(ids), p.names(c.want))
			}
		})
	}
}

// TestGroupPatchRemoveWhereSeesMembersChangedEarlierInTheRequest: a value
// filter other than value eq (type, display) must match the membership as
// the earlier operations of the same PATCH left it.
func TestGroupPatchRemoveWhereSeesMembersChangedEarlierInTheRequest(t *testing.T) {
	p := newPeople(t)
	u := p.u
	cases := []struct {
		name    string
		initial []string
		ops     []map[string]any
		want    []string
	}{
		{"replace keeping a member, then remove by a value filter", []string{u[1], u[2]},
			[]map[string]any{op("replace", "members", members(u[1], u[3])), op("remove", `members[value sw "usr_"]`, nil)},
			nil},
		{"remove all, add a member back, then remove by a value filter", []string{u[1]},
			[]map[string]any{op("remove", "members", nil), op("add", "members", members(u[1])), op("remove", `members[value sw "usr_"]`, nil)},
			nil},
		{"replace keeping a member, then remove by type", []string{u[1], u[2]},
			[]map[string]any{op("replace", "members", members(u[1], u[3])), op("remove", `members[type eq "User"]`, nil)},
			nil},
		{"add, then remove by type", nil,
			[]map[string]any{op("add", "members", members(u[1])), op("remove", `members[type eq "User"]`, nil)},
			nil},
		{"add with a label, then remove by label", nil,
			[]map[string]any{op("add", "members", []any{map[string]any{"value": u[1], "display": "Temp"}}), op("remove", `members[display eq "Temp"]`, nil)},
			nil},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := p.mustCreateGroup(t, "Where "+itoa(i), nil, c.initial...)
			p.mustDo(t, http.StatusNoContent, "PATCH", "/Groups/"+g, patchOp(c.ops...))
			if got := memberIDs(t, p.db, g); !slices.Equal(got, sorted(c.want...)) {
				t.Errorf("members %v, want %v", p.names(got), p.names(c.want))
			}
		})
	}
}

// TestGroupPatchWithAnUnknownMemberAppliesNothing: an id that is not a member
// candidate anywhere in an add or replace fails the whole PATCH with 400
// invalidValue, even when a later operation removes it again; the
// membership, the displayName and the store revision stay as they were.
func TestGroupPatchWithAnUnknownMemberAppliesNothing(t *testing.T) {
	p := newPeople(t)
	u := p.u
	other := storetest.MustConnection(t, p.db, "other")
	foreign := storetest.MustUser(t, p.db, other.ID, "foreign@other.test").ID
	const unknown = "usr_0000000000000000"
	cases := []struct {
		name string
		ops  []map[string]any
	}{
		{"add an unknown id", []map[string]any{op("add", "members", members(unknown))}},
		{"add a known and an unknown id", []map[string]any{op("add", "members", members(u[3], unknown))}},
		{"rename, then add an unknown id", []map[string]any{op("replace", "displayName", "Renamed"), op("add", "members", members(u[3])), op("add", "members", members(unknown))}},
		{"replace with an unknown id", []map[string]any{op("replace", "members", members(u[1], unknown))}},
		{"add and remove the unknown id again", []map[string]any{op("add", "members", members(unknown)), op("remove", valueEq(unknown), nil)}},
		{"add the unknown id, then remove all", []map[string]any{op("add", "members", members(unknown)), op("remove", "members", nil)}},
		{"add the unknown id, then Entra remove", []map[string]any{op("add", "members", members(unknown)), op("Remove", "members", members(unknown))}},
		{"add the unknown id, then replace", []map[string]any{op("add", "members", members(unknown)), op("replace", "members", members(u[4]))}},
		{"pathless add of an unknown id", []map[string]any{op("add", "", map[string]any{"members": members(unknown), "displayName": "Renamed"})}},
		{"a user of another connection", []map[string]any{op("add", "members", members(foreign))}},
		{"not an id", []map[string]any{op("remove", "members", nil), op("add", "members", members("bob@acme.test"))}},
		{"the group itself", nil}, // filled in below
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := p.mustCreateGroup(t, "Unknown "+itoa(i), nil, u[1], u[2])
			ops := c.ops
			if ops == nil {
				ops = []map[string]any{op("add", "members", members(g))}
			}
			before := p.db.Revision()
			groupBefore := mustGroup(t, p.db, p.con.ID, g)
			res := p.do(t, "PATCH", "/Groups/"+g, patchOp(ops...))
			wantSCIMError(t, res, http.StatusBadRequest, "invalidValue")
			if after := p.db.Revision(); after != before {
				t.Errorf("store revision went from %d to %d on a rejected PATCH", before, after)
			}
			if got := memberIDs(t, p.db, g); !slices.Equal(got, sorted(u[1], u[2])) {
				t.Errorf("members %v after a rejected PATCH, want [u1 u2]", p.names(got))
			}
			groupAfter := mustGroup(t, p.db, p.con.ID, g)
			if groupAfter.DisplayName != groupBefore.DisplayName || groupAfter.Revision != groupBefore.Revision {
				t.Errorf("group went from %q rev %d to %q rev %d on a rejected PATCH", groupBefore.DisplayName, groupBefore.Revision, groupAfter.DisplayName, groupAfter.Revision)
			}
		})
	}
}

// TestMemberLabelsComeBackAsDisplay: "display" (RFC 7643) and "displayName"
// (as Microsoft's suite sends it) are both kept and returned as "display".
func TestMemberLabelsComeBackAsDisplay(t *testing.T) {
	p := newPeople(t)
	u := p.u
	g := p.mustCreateGroup(t, "Labels", nil)
	p.mustDo(t, http.StatusNoContent, "PATCH", "/Groups/"+g, patchOp(
		op("add", "members", []any{
			map[string]any{"value": u[1], "display": "One"},
			map[string]any{"value": u[2], "displayName": "Two"},
			map[string]any{"value": u[3]},
			map[string]any{"value": p.nested},
		}),
	))
	res := p.mustDo(t, http.StatusOK, "GET", "/Groups/"+g, nil)
	var got struct {
		Members []map[string]any `json:"members"`
	}
	if err := json.Unmarshal(res.body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{u[1]: "One", u[2]: "Two", u[3]: "", p.nested: ""}
	if len(got.Members) != len(want) {
		t.Fatalf("%v\nwant %d members", res, len(want))
	}
	for _, m := range got.Members {
		id := str(m["value"])
		label, ok := m["display"]
		switch {
		case want[id] == "" && ok:
			t.Errorf("member %s has display %v, want none", p.name[id], label)
		case want[id] != "" && label != want[id]:
			t.Errorf("member %s has display %v, want %q", p.name[id], label, want[id])
		}
		if _, ok := m["displayName"]; ok {
			t.Errorf("member %s is returned with displayName; labels are returned as display", p.name[id])
		}
		wantType, wantRef := "User", p.base+"/Users/"+id
		if id == p.nested {
			wantType, wantRef = "Group", p.base+"/Groups/"+id
		}
		if m["type"] != wantType || str(m["$ref"]) != wantRef {
			t.Errorf("member %s: type %v, $ref %v; want %s and %s", p.name[id], m["type"], m["$ref"], wantType, wantRef)
		}
	}
}

// TestGroupPatchAuditsEachMembershipWithTheRequestID: three members added by
// one PATCH are three group.member.added entries carrying the request id, the
// token as actor and the write's revision.
func TestGroupPatchAuditsEachMembershipWithTheRequestID(t *testing.T) {
	p := newPeople(t)
	u := p.u
	tokenID, secret := mustTokenID(t, p.db, p.con.ID, store.SCIMTokenScopes...)
	g := p.mustCreateGroup(t, "Audited", nil, u[1])
	res := p.mustDo(t, http.StatusNoContent, "PATCH", "/Groups/"+g, patchOp(
		op("add", "members", members(u[2], u[3])),
		op("add", "members", members(u[1], u[4], u[2])), // u1 is a member already, u2 repeated
	), withToken(secret), withHeader("X-Request-Id", "req-audit-42"))
	rev := res.revision(t)

	entries := auditEntries(t, p.db, store.AuditFilter{Type: "group.member.added", TargetID: g})
	var added []string
	for _, e := range entries {
		if e.Revision != rev {
			continue // the entry of the group's creation
		}
		var m store.Member
		if err := json.Unmarshal(e.After, &m); err != nil {
			t.Fatalf("entry %s: after %s: %v", e.ID, e.After, err)
		}
		added = append(added, m.ID)
		if e.RequestID != "req-audit-42" {
			t.Errorf("entry %s: request_id %q, want req-audit-42", e.ID, e.RequestID)
		}
		if e.Actor.Type != store.ActorSCIMToken || e.Actor.ID != tokenID {
			t.Errorf("entry %s: actor %+v, want {scim_token %s}", e.ID, e.Actor, tokenID)
		}
		if e.Channel != store.ChannelSCIM {
			t.Errorf("entry %s: channel %q, want %q", e.ID, e.Channel, store.ChannelSCIM)
		}
	}
	if !slices.Equal(sorted(added...), sorted(u[2], u[3], u[4])) {
		t.Errorf("PATCH adding u2, u3, u4 wrote group.member.added for %v, want exactly [u2 u3 u4]", p.names(added))
	}
	// The removal side: one group.member.deleted per member removed.
	res = p.mustDo(t, http.StatusNoContent, "PATCH", "/Groups/"+g, patchOp(op("remove", "members", nil)), withHeader("X-Request-Id", "req-remove"))
	rev = res.revision(t)
	var removed []string
	for _, e := range auditEntries(t, p.db, store.AuditFilter{Type: "group.member.deleted", TargetID: g}) {
		if e.Revision == rev && e.RequestID == "req-remove" {
			var m store.Member
			_ = json.Unmarshal(e.Before, &m)
			removed = append(removed, m.ID)
		}
	}
	if !slices.Equal(sorted(removed...), sorted(u[1], u[2], u[3], u[4])) {
		t.Errorf("remove-all wrote group.member.deleted for %v, want [u1 u2 u3 u4]", p.names(removed))
	}
}

// TestUserPatchOntoATakenUserNameAppliesNothing: the 409 undoes the other
// operations of the PATCH too.
func TestUserPatchOntoATakenUserNameAppliesNothing(t *testing.T) {
	tg := newTarget(t)
	tg.mustCreateUser(t, "taken@acme.test", nil)
	u := tg.mustCreateUser(t, "mover@acme.test", map[string]any{"title": "Before"})
	before := tg.db.Revision()
	res := tg.do(t, "PATCH", "/Users/"+u, patchOp(
		op("replace", "title", "After"),
		op("replace", "userName", "TAKEN@acme.test"),
		op("replace", "active", false),
	))
	wantSCIMError(t, res, http.StatusConflict, "uniqueness")
	if after := tg.db.Revision(); after != before {
		t.Errorf("store revision went from %d to %d on a 409", before, after)
	}
	got := mustUser(t, tg.db, tg.con.ID, u)
	if got.UserName != "mover@acme.test" || !got.Active {
		t.Errorf("user is %q active=%v after a 409, want mover@acme.test active", got.UserName, got.Active)
	}
	if title := tg.mustDo(t, http.StatusOK, "GET", "/Users/"+u, nil).object(t)["title"]; title != "Before" {
		t.Errorf("title %v after a 409, want Before", title)
	}
	// Renaming onto a case variant of its own name is allowed.
	tg.mustDo(t, http.StatusNoContent, "PATCH", "/Users/"+u, patchOp(op("replace", "userName", "MOVER@acme.test")))
	if got := mustUser(t, tg.db, tg.con.ID, u).UserName; got != "MOVER@acme.test" {
		t.Errorf("userName %q, want MOVER@acme.test", got)
	}
}

// TestPatchIsAtomicAcrossOperations: a failing operation after good ones
// leaves the resource as it was, and the error names the operation.
func TestPatchIsAtomicAcrossOperations(t *testing.T) {
	p := newPeople(t)
	user := p.u[1]
	g := p.mustCreateGroup(t, "Atomic", nil, p.u[1])
	for _, c := range []struct {
		name, path string
		ops        []map[string]any
		scimType   string
	}{
		{"user: bad path after a good op", "/Users/" + user, []map[string]any{op("replace", "title", "X"), op("replace", "nosuch", "y")}, "invalidPath"},
		{"user: bad filter after a good op", "/Users/" + user, []map[string]any{op("replace", "title", "X"), op("replace", `emails[nosuch eq "x"].value`, "y")}, "invalidFilter"},
		{"user: unknown op", "/Users/" + user, []map[string]any{op("replace", "title", "X"), op("move", "title", "y")}, "invalidValue"},
		{"user: remove without path", "/Users/" + user, []map[string]any{op("replace", "title", "X"), op("remove", "", nil)}, "noTarget"},
		{"user: remove userName", "/Users/" + user, []map[string]any{op("replace", "title", "X"), op("remove", "userName", nil)}, "mutability"},
		{"user: wrong type", "/Users/" + user, []map[string]any{op("replace", "title", "X"), op("replace", "active", map[string]any{"a": 1})}, "invalidValue"},
		{"user: replace with no match", "/Users/" + user, []map[string]any{op("replace", "title", "X"), op("replace", `emails[type eq "work"].value`, "a@b")}, "noTarget"},
		{"group: bad op after a member add", "/Groups/" + g, []map[string]any{op("add", "members", members(p.u[2])), op("replace", "nosuch", "y")}, "invalidPath"},
		{"group: remove displayName", "/Groups/" + g, []map[string]any{op("add", "members", members(p.u[2])), op("remove", "displayName", nil)}, "mutability"},
		{"group: bad member shape", "/Groups/" + g, []map[string]any{op("add", "members", members(p.u[2])), op("add", "members", "string id 1")}, "invalidValue"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := p.db.Revision()
			want := p.mustDo(t, http.StatusOK, "GET", c.path, nil).object(t)
			res := p.do(t, "PATCH", c.path, patchOp(c.ops...))
			wantSCIMError(t, res, http.StatusBadRequest, c.scimType)
			if after := p.db.Revision(); after != before {
				t.Errorf("store revision went from %d to %d", before, after)
			}
			if got := p.mustDo(t, http.StatusOK, "GET", c.path, nil).object(t); !sameJSON(got, want) {
				t.Errorf("resource changed by a rejected PATCH:\nbefore %s\nafter  %s", toJSON(want), toJSON(got))
			}
		})
	}
}

// TestPatchBodiesThatAreNotPatchOpsAre400 covers the envelope.
func TestPatchBodiesThatAreNotPatchOpsAre400(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "envelope@acme.test", nil)
	for _, c := range []struct {
		name string
		body any
	}{
		{"no schemas", map[string]any{"Operations": []any{op("replace", "title", "x")}}},
		{"wrong schema", map[string]any{"schemas": []string{userSchema}, "Operations": []any{op("replace", "title", "x")}}},
		{"no operations", map[string]any{"schemas": []string{patchSchema}}},
		{"empty operations", map[string]any{"schemas": []string{patchSchema}, "Operations": []any{}}},
		{"operations not a list", map[string]any{"schemas": []string{patchSchema}, "Operations": map[string]any{}}},
		{"not JSON", "{"},
		{"empty body", ""},
		{"a JSON list", "[]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantSCIMError(t, tg.do(t, "PATCH", "/Users/"+u, c.body), http.StatusBadRequest, "invalidSyntax")
		})
	}
	wantSCIMError(t, tg.do(t, "PATCH", "/Users/usr_0000000000000000", patchOp(op("replace", "title", "x"))), http.StatusNotFound, "")
	wantSCIMError(t, tg.do(t, "PATCH", "/Groups/grp_0000000000000000", patchOp(op("add", "members", members(u)))), http.StatusNotFound, "")
}

// TestPatchWithAttributesAnswersTheResource: 200 with the projected resource
// instead of 204.
func TestPatchWithAttributesAnswersTheResource(t *testing.T) {
	p := newPeople(t)
	g := p.mustCreateGroup(t, "Answered", nil, p.u[1])
	res := p.mustDo(t, http.StatusOK, "PATCH", "/Groups/"+g+"?excludedAttributes=members", patchOp(op("add", "members", members(p.u[2]))))
	body := res.object(t)
	if _, ok := body["members"]; ok {
		t.Errorf("excludedAttributes=members answered members: %s", res.body)
	}
	if body["displayName"] != "Answered" || body["id"] != g {
		t.Errorf("PATCH answered %s, want the group", res.body)
	}
	if got := res.header.Get("ETag"); got == "" {
		t.Errorf("PATCH answered no ETag")
	}
	res = p.mustDo(t, http.StatusOK, "PATCH", "/Users/"+p.u[1]+"?attributes=title", patchOp(op("replace", "title", "Boss")))
	if got := res.object(t); got["title"] != "Boss" || got["userName"] != nil {
		t.Errorf("PATCH ?attributes=title answered %s, want title Boss and no userName", res.body)
	}
}

// TestUserPatchAcceptsIdPQuirks: Okta's pathless replace and Entra's
// capitalized ops with string booleans.
func TestUserPatchAcceptsIdPQuirks(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "quirks@acme.test", map[string]any{"active": true})
	tg.mustDo(t, http.StatusNoContent, "PATCH", "/Users/"+u, patchOp(op("replace", "", map[string]any{"active": false})))
	if mustUser(t, tg.db, tg.con.ID, u).Active {
		t.Errorf("Okta's pathless replace of active=false left the user active")
	}
	tg.mustDo(t, http.StatusNoContent, "PATCH", "/Users/"+u, patchOp(op("Replace", "active", "True")))
	if !mustUser(t, tg.db, tg.con.ID, u).Active {
		t.Errorf(`Entra's Replace active "True" left the user inactive`)
	}
	tg.mustDo(t, http.StatusNoContent, "PATCH", "/Users/"+u, patchOp(
		op("Add", `emails[type eq "work"].value`, "q@acme.test"),
		op("Replace", "", map[string]any{"name.givenName": "Q", enterpriseURN + ":department": "D"}),
	))
	got := tg.mustDo(t, http.StatusOK, "GET", "/Users/"+u, nil).object(t)
	want := roundTrip(t, map[string]any{
		"emails":      []any{map[string]any{"type": "work", "value": "q@acme.test"}},
		"name":        map[string]any{"givenName": "Q"},
		enterpriseURN: map[string]any{"department": "D"},
	}).(map[string]any)
	for k, v := range want {
		if !sameJSON(got[k], v) {
			t.Errorf("%s = %s, want %s", k, toJSON(got[k]), toJSON(v))
		}
	}
}

// TestUserPatchKeepsTheIndexesInStep: a PATCHed userName or externalId finds
// the user through the index plans, and the old values no longer do.
func TestUserPatchKeepsTheIndexesInStep(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "before@acme.test", map[string]any{"externalId": "ext-before"})
	tg.mustDo(t, http.StatusNoContent, "PATCH", "/Users/"+u, patchOp(
		op("replace", "userName", "after@acme.test"),
		op("replace", "externalId", "ext-after"),
	))
	for f, want := range map[string][]string{
		`userName eq "AFTER@acme.test"`:   {u},
		`externalId eq "ext-after"`:       {u},
		`userName eq "before@acme.test"`:  {},
		`externalId eq "ext-before"`:      {},
		`id eq "` + u + `" and active pr`: {u},
	} {
		if l := tg.mustList(t, "GET", "/Users?filter="+urlQuery(f), nil); !slices.Equal(l.ids(), want) {
			t.Errorf("after PATCH, %s finds %v, want %v", f, l.ids(), want)
		}
	}
	g := tg.mustCreateGroup(t, "Before", map[string]any{"externalId": "gext-before"})
	tg.mustDo(t, http.StatusNoContent, "PATCH", "/Groups/"+g, patchOp(op("replace", "", map[string]any{"displayName": "After", "externalId": "gext-after"})))
	for f, want := range map[string][]string{
		`displayName eq "after"`:      {g},
		`externalId eq "gext-after"`:  {g},
		`displayName eq "Before"`:     {},
		`externalId eq "gext-before"`: {},
	} {
		if l := tg.mustList(t, "GET", "/Groups?filter="+urlQuery(f), nil); !slices.Equal(l.ids(), want) {
			t.Errorf("after PATCH, %s finds %v, want %v", f, l.ids(), want)
		}
	}
}
