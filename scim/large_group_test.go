package scim_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// largeGroup is a group of 5,000 users, some with display labels that need
// escaping, created directly in the store.
type largeGroup struct {
	*target
	id      string
	members map[string]string // id → display label ("" for none)
}

const largeGroupSize = 5000

func newLargeGroup(t *testing.T) *largeGroup {
	t.Helper()
	lg := &largeGroup{target: newTarget(t), members: map[string]string{}}
	labels := []string{"", `Quote "q" \ back`, "<b>&amp;</b>", "Zoë \u2028 line", "tab\tnew\nline\x00\x1f", "bad \xff\xc3( utf-8", "plain"}
	var ms []store.Member
	storetest.MustUpdate(t, lg.db, func(tx *store.Tx) error {
		for i := range largeGroupSize {
			name := "big-" + itoa(i) + "@acme.test"
			u, err := tx.CreateUser(store.User{ConnectionID: lg.con.ID, UserName: name, Active: true,
				Doc: []byte(`{"active":true,"userName":"` + name + `"}`)})
			if err != nil {
				return err
			}
			label := labels[i%len(labels)]
			lg.members[u.ID] = label
			ms = append(ms, store.Member{ID: u.ID, Display: label})
		}
		return nil
	})
	storetest.MustUpdate(t, lg.db, func(tx *store.Tx) error {
		g, err := tx.CreateGroup(store.Group{ConnectionID: lg.con.ID, DisplayName: "Big", Doc: []byte(`{"displayName":"Big"}`)}, ms)
		lg.id = g.ID
		return err
	})
	return lg
}

// groupMembers decodes the members of a group response.
func groupMembers(t *testing.T, res response) (members []map[string]any, present bool) {
	t.Helper()
	var body map[string]json.RawMessage
	if err := json.Unmarshal(res.body, &body); err != nil {
		t.Fatalf("%v\n%v", res, err)
	}
	raw, ok := body["members"]
	if !ok {
		return nil, false
	}
	if err := json.Unmarshal(raw, &members); err != nil {
		t.Fatalf("members: %v", err)
	}
	return members, true
}

// TestLargeGroup reads and changes a group of 5,000 members (built once).
func TestLargeGroup(t *testing.T) {
	lg := newLargeGroup(t)
	t.Run("GET returns every member", lg.testGetReturnsEveryMember)
	t.Run("members encode as the map form would", lg.testMembersEncodeAsTheMapFormWould)
	t.Run("PATCH touches only the named members", lg.testPatchTouchesOnlyTheNamedMembers)
}

// testGetReturnsEveryMember: all 5,000 with value, type, $ref and the label
// when there is one; excludedAttributes=members returns none;
// attributes=members.value returns only values.
func (lg *largeGroup) testGetReturnsEveryMember(t *testing.T) {
	full := lg.mustDo(t, http.StatusOK, "GET", "/Groups/"+lg.id, nil)
	ms, _ := groupMembers(t, full)
	if len(ms) != largeGroupSize {
		t.Fatalf("GET returned %d members, want %d", len(ms), largeGroupSize)
	}
	seen := map[string]bool{}
	for _, m := range ms {
		id := str(m["value"])
		label, known := lg.members[id]
		if !known || seen[id] {
			t.Fatalf("member %q is unknown or repeated", id)
		}
		seen[id] = true
		if m["type"] != "User" || m["$ref"] != lg.base+"/Users/"+id {
			t.Fatalf("member %s: type %v, $ref %v", id, m["type"], m["$ref"])
		}
		// JSON cannot carry invalid UTF-8: labels come back as encoding/json
		// writes them, with U+FFFD for each bad byte.
		want := roundTrip(t, label)
		if got, ok := m["display"]; (label == "") == ok || ok && got != want {
			t.Fatalf("member %s: display %q (present %v), want %q", id, got, ok, want)
		}
	}

	res := lg.mustDo(t, http.StatusOK, "GET", "/Groups/"+lg.id+"?excludedAttributes=members", nil)
	if _, present := groupMembers(t, res); present {
		t.Errorf("excludedAttributes=members returned members")
	}
	if obj := res.object(t); obj["displayName"] != "Big" || obj["id"] != lg.id {
		t.Errorf("excludedAttributes=members answered %s, want the group without members", res.body)
	}

	res = lg.mustDo(t, http.StatusOK, "GET", "/Groups/"+lg.id+"?attributes=members.value", nil)
	values, _ := groupMembers(t, res)
	if len(values) != largeGroupSize {
		t.Fatalf("attributes=members.value returned %d members, want %d", len(values), largeGroupSize)
	}
	for _, m := range values {
		if len(m) != 1 || !seen[str(m["value"])] {
			t.Fatalf("attributes=members.value returned member %v, want only a known value", m)
		}
	}
	if obj := res.object(t); obj["displayName"] != nil {
		t.Errorf("attributes=members.value also returned displayName")
	}
}

// testMembersEncodeAsTheMapFormWould compares the members JSON the server
// writes directly with the map form, which a projection reaching into members
// produces, and the list endpoint's with the resource's.
func (lg *largeGroup) testMembersEncodeAsTheMapFormWould(t *testing.T) {
	direct := lg.mustDo(t, http.StatusOK, "GET", "/Groups/"+lg.id, nil)
	viaMaps := lg.mustDo(t, http.StatusOK, "GET", "/Groups/"+lg.id+"?attributes=members.value,members.type,members.$ref,members.display", nil)
	a, _ := groupMembers(t, direct)
	b, _ := groupMembers(t, viaMaps)
	byID := func(ms []map[string]any) {
		slices.SortFunc(ms, func(x, y map[string]any) int { return strings.Compare(str(x["value"]), str(y["value"])) })
	}
	byID(a)
	byID(b)
	if !sameJSON(roundTrip(t, a), roundTrip(t, b)) {
		for i := range min(len(a), len(b)) {
			if !sameJSON(roundTrip(t, a[i]), roundTrip(t, b[i])) {
				t.Fatalf("member %d differs:\ndirect %s\nmaps   %s", i, toJSON(a[i]), toJSON(b[i]))
			}
		}
		t.Fatalf("direct encoding has %d members, map form %d", len(a), len(b))
	}
	// The list endpoint renders the same members.
	l := lg.mustList(t, "GET", "/Groups?filter="+urlQuery(`displayName eq "big"`), nil)
	if len(l.Resources) != 1 {
		t.Fatalf("filter found %d groups, want 1", len(l.Resources))
	}
	listed := l.Resources[0]
	resource := direct.object(t)
	if !sameJSON(roundTrip(t, listed["members"]), resource["members"]) {
		t.Errorf("the list renders other members than GET by id")
	}
	// And excluding members from the list leaves them out there too.
	l = lg.mustList(t, "GET", "/Groups?excludedAttributes=members", nil)
	if _, ok := l.Resources[0]["members"]; ok {
		t.Errorf("list with excludedAttributes=members returned members")
	}
}

// testPatchTouchesOnlyTheNamedMembers removes one member of 5,000 and adds
// one: the others stay. It changes the group, so it runs last.
func (lg *largeGroup) testPatchTouchesOnlyTheNamedMembers(t *testing.T) {
	var some string
	for id := range lg.members {
		some = id
		break
	}
	newcomer := lg.mustCreateUser(t, "newcomer@acme.test", nil)
	lg.mustDo(t, http.StatusNoContent, "PATCH", "/Groups/"+lg.id, patchOp(
		op("remove", valueEq(some), nil),
		op("add", "members", members(newcomer)),
	))
	got := memberIDs(t, lg.db, lg.id)
	if len(got) != largeGroupSize || slices.Contains(got, some) || !slices.Contains(got, newcomer) {
		t.Errorf("after removing one and adding one: %d members, removed one present %v, newcomer present %v",
			len(got), slices.Contains(got, some), slices.Contains(got, newcomer))
	}
}
