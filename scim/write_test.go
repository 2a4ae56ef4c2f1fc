package scim_test

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rolecall/rolecall/store/storetest"
)

// TestGetAnswersAnETagEqualToMetaVersion checks users and groups.
func TestGetAnswersAnETagEqualToMetaVersion(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "etag@acme.test", nil)
	g := tg.mustCreateGroup(t, "ETags", nil, u)
	for _, path := range []string{"/Users/" + u, "/Groups/" + g} {
		res := tg.mustDo(t, http.StatusOK, "GET", path, nil)
		meta, _ := res.object(t)["meta"].(map[string]any)
		version := str(meta["version"])
		if version == "" {
			t.Fatalf("%v\nmeta.version is missing", res)
		}
		if got := res.header.Get("ETag"); got != version {
			t.Errorf("GET %s: ETag = %q, meta.version = %q; want them equal", path, got, version)
		}
	}
}

// TestIfNoneMatchAnswers304UntilTheResourceChanges: 304 without a body for
// the current ETag, 200 for an older one after a change.
func TestIfNoneMatchAnswers304UntilTheResourceChanges(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "cache@acme.test", nil)
	g := tg.mustCreateGroup(t, "Cached", nil)
	for _, c := range []struct {
		path   string
		change map[string]any
	}{
		{"/Users/" + u, patchOp(op("replace", "displayName", "Changed"))},
		{"/Groups/" + g, patchOp(op("add", "members", members(u)))},
	} {
		t.Run(c.path, func(t *testing.T) {
			tag := tg.mustDo(t, http.StatusOK, "GET", c.path, nil).header.Get("ETag")
			for _, header := range []string{tag, strings.TrimPrefix(tag, "W/"), `"nope", ` + tag, "*"} {
				res := tg.do(t, "GET", c.path, nil, withHeader("If-None-Match", header))
				if res.status != http.StatusNotModified {
					t.Errorf("%v\nIf-None-Match %s: want 304", res, header)
				}
				if len(res.body) != 0 {
					t.Errorf("If-None-Match %s: 304 with a body of %d bytes, want none", header, len(res.body))
				}
			}
			res := tg.mustDo(t, http.StatusOK, "GET", c.path, nil, withHeader("If-None-Match", `W/"999999"`))
			if str(res.object(t)["id"]) == "" {
				t.Errorf("%v\nIf-None-Match with another tag: want the resource", res)
			}

			tg.mustDo(t, http.StatusNoContent, "PATCH", c.path, c.change)
			res = tg.mustDo(t, http.StatusOK, "GET", c.path, nil, withHeader("If-None-Match", tag))
			if got := res.header.Get("ETag"); got == tag {
				t.Errorf("ETag is still %s after a change", got)
			}
		})
	}
}

// TestUserETagChangesWhenItsGroupsChange: a user's representation lists its
// groups, so joining, leaving or a renamed group must change its ETag, or
// If-None-Match answers 304 for a stale representation.
func TestUserETagChangesWhenItsGroupsChange(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "joiner@acme.test", nil)
	g := tg.mustCreateGroup(t, "Joined", nil)
	for _, change := range []map[string]any{
		patchOp(op("add", "members", members(u))),
		patchOp(op("replace", "displayName", "Renamed")),
		patchOp(op("remove", "members", nil)),
	} {
		before := tg.mustDo(t, http.StatusOK, "GET", "/Users/"+u, nil)
		tg.mustDo(t, http.StatusNoContent, "PATCH", "/Groups/"+g, change)
		res := tg.do(t, "GET", "/Users/"+u, nil, withHeader("If-None-Match", before.header.Get("ETag")))
		if res.status == http.StatusNotModified {
			after := tg.mustDo(t, http.StatusOK, "GET", "/Users/"+u, nil)
			t.Errorf("after PATCH %s of its group, If-None-Match %s answered 304, but the user changed:\nbefore %s\nafter  %s",
				toJSON(change["Operations"]), before.header.Get("ETag"), before.body, after.body)
		}
	}
}

// TestUserETagFollowsEveryChangeToItsGroups: with the user in two groups,
// leaving one, one being deleted, renamed or emptied, and a group PUT all
// change the user's ETag; If-None-Match and If-Match follow it; and the
// version in lists equals the ETag.
func TestUserETagFollowsEveryChangeToItsGroups(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "twogroups@acme.test", nil)
	other := tg.mustCreateUser(t, "other@acme.test", nil)
	a := tg.mustCreateGroup(t, "A", nil, u)
	b := tg.mustCreateGroup(t, "B", nil, u, other)
	c := tg.mustCreateGroup(t, "C", nil, u)
	seen := map[string]string{}
	check := func(what string) string {
		t.Helper()
		res := tg.mustDo(t, http.StatusOK, "GET", "/Users/"+u, nil)
		tag := res.header.Get("ETag")
		if prev, dup := seen[tag]; dup {
			t.Errorf("after %s the user's ETag is %s, as after %s, but the representation changed:\n%s", what, tag, prev, res.body)
		}
		seen[tag] = what
		meta, _ := res.object(t)["meta"].(map[string]any)
		if meta["version"] != tag {
			t.Errorf("after %s: meta.version %v, ETag %s", what, meta["version"], tag)
		}
		l := tg.mustList(t, "GET", "/Users?filter="+urlQuery(`id eq "`+u+`"`), nil)
		if v := l.Resources[0]["meta"].(map[string]any)["version"]; v != tag {
			t.Errorf("after %s: the list says version %v, GET says %s", what, v, tag)
		}
		tg.mustDo(t, http.StatusNotModified, "GET", "/Users/"+u, nil, withHeader("If-None-Match", tag))
		return tag
	}
	tag := check("creation")
	// Leaving B: B's revision moves, but B is no longer listed.
	tg.mustDo(t, http.StatusNoContent, "PATCH", "/Groups/"+b, patchOp(op("remove", `members[value eq "`+u+`"]`, nil)))
	tg.mustDo(t, http.StatusOK, "GET", "/Users/"+u, nil, withHeader("If-None-Match", tag))
	check("leaving B")
	tg.mustDo(t, http.StatusNoContent, "DELETE", "/Groups/"+c, nil)
	check("C deleted")
	tg.mustDo(t, http.StatusOK, "PUT", "/Groups/"+a, map[string]any{"schemas": []string{groupSchema}, "displayName": "A renamed"})
	check("A renamed by PUT")
	tg.mustDo(t, http.StatusNoContent, "PATCH", "/Groups/"+b, patchOp(op("add", "members", members(u))))
	tag = check("joining B again")
	// A stale tag is refused, the current one accepted, for PATCH and PUT.
	wantSCIMError(t, tg.do(t, "PATCH", "/Users/"+u, patchOp(op("replace", "title", "x")), withHeader("If-Match", `W/"1"`)), http.StatusPreconditionFailed, "")
	res := tg.mustDo(t, http.StatusNoContent, "PATCH", "/Users/"+u, patchOp(op("replace", "title", "x")), withHeader("If-Match", tag))
	tag = check("a PATCH of the user")
	if res.header.Get("ETag") != tag {
		t.Errorf("the PATCH answered ETag %s, GET says %s", res.header.Get("ETag"), tag)
	}
	put := tg.mustDo(t, http.StatusOK, "PUT", "/Users/"+u, map[string]any{"schemas": []string{userSchema}, "userName": "twogroups@acme.test"}, withHeader("If-Match", tag))
	tag = check("a PUT of the user")
	if put.header.Get("ETag") != tag {
		t.Errorf("the PUT answered ETag %s, GET says %s", put.header.Get("ETag"), tag)
	}
	tg.mustDo(t, http.StatusNoContent, "DELETE", "/Users/"+u, nil, withHeader("If-Match", tag))
}

// TestStaleIfMatchIs412AndChangesNothing covers PUT, PATCH and DELETE of
// users and groups: a stale ETag fails with 412 and leaves the store as it
// was; the current one succeeds.
func TestStaleIfMatchIs412AndChangesNothing(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "ifmatch@acme.test", map[string]any{"displayName": "Before"})
	other := tg.mustCreateUser(t, "other@acme.test", nil)
	g := tg.mustCreateGroup(t, "IfMatch", nil, u)
	cases := []struct {
		name         string
		method, path string
		body         any
	}{
		{"put user", "PUT", "/Users/" + u, map[string]any{"schemas": []string{userSchema}, "userName": "ifmatch@acme.test", "displayName": "After"}},
		{"patch user", "PATCH", "/Users/" + u, patchOp(op("replace", "displayName", "After"))},
		{"put group", "PUT", "/Groups/" + g, map[string]any{"schemas": []string{groupSchema}, "displayName": "Renamed", "members": members(other)}},
		{"patch group", "PATCH", "/Groups/" + g, patchOp(op("add", "members", members(u)), op("replace", "displayName", "Patched"))},
		{"delete group", "DELETE", "/Groups/" + g, nil},
		{"delete user", "DELETE", "/Users/" + u, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			current := tg.mustDo(t, http.StatusOK, "GET", c.path, nil)
			tag := current.header.Get("ETag")
			stale := `W/"1"`
			before := tg.db.Revision()
			res := tg.do(t, c.method, c.path, c.body, withHeader("If-Match", stale))
			wantSCIMError(t, res, http.StatusPreconditionFailed, "")
			if after := tg.db.Revision(); after != before {
				t.Errorf("store revision went from %d to %d on a 412", before, after)
			}
			if again := tg.mustDo(t, http.StatusOK, "GET", c.path, nil); !sameJSON(again.object(t), current.object(t)) {
				t.Errorf("resource changed by a 412:\nbefore %s\nafter  %s", current.body, again.body)
			}
			res = tg.do(t, c.method, c.path, c.body, withHeader("If-Match", tag))
			if res.status < 200 || res.status > 299 {
				t.Errorf("%v\nIf-Match with the current ETag %s: want a 2xx", res, tag)
			}
		})
	}
}

// TestIfMatchWithAnOlderETagOfTheSameResourceIs412 uses an ETag the resource
// really had before its last change.
func TestIfMatchWithAnOlderETagOfTheSameResourceIs412(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "older@acme.test", nil)
	old := tg.mustDo(t, http.StatusOK, "GET", "/Users/"+u, nil).header.Get("ETag")
	tg.mustDo(t, http.StatusNoContent, "PATCH", "/Users/"+u, patchOp(op("replace", "title", "New")))
	res := tg.do(t, "PATCH", "/Users/"+u, patchOp(op("replace", "title", "Newer")), withHeader("If-Match", old))
	wantSCIMError(t, res, http.StatusPreconditionFailed, "")
	if got := tg.mustDo(t, http.StatusOK, "GET", "/Users/"+u, nil).object(t)["title"]; got != "New" {
		t.Errorf("title = %v after a 412, want New", got)
	}
}

// TestEveryWriteAnswersAHigherRevision runs a sequence of writes of every
// kind: each answers Rolecall-Revision above the previous one and equal to
// the store's revision once it has returned.
func TestEveryWriteAnswersAHigherRevision(t *testing.T) {
	tg := newTarget(t)
	var u, g string
	steps := []struct {
		name string
		do   func(t *testing.T) response
	}{
		{"post user", func(t *testing.T) response {
			res := tg.mustDo(t, http.StatusCreated, "POST", "/Users", map[string]any{"schemas": []string{userSchema}, "userName": "rev@acme.test"})
			u = str(res.object(t)["id"])
			return res
		}},
		{"post group", func(t *testing.T) response {
			res := tg.mustDo(t, http.StatusCreated, "POST", "/Groups", map[string]any{"schemas": []string{groupSchema}, "displayName": "Rev", "members": members(u)})
			g = str(res.object(t)["id"])
			return res
		}},
		{"put user", func(t *testing.T) response {
			return tg.mustDo(t, http.StatusOK, "PUT", "/Users/"+u, map[string]any{"schemas": []string{userSchema}, "userName": "rev2@acme.test"})
		}},
		{"patch user", func(t *testing.T) response {
			return tg.mustDo(t, http.StatusNoContent, "PATCH", "/Users/"+u, patchOp(op("replace", "active", false)))
		}},
		{"patch user with attributes", func(t *testing.T) response {
			return tg.mustDo(t, http.StatusOK, "PATCH", "/Users/"+u+"?attributes=active", patchOp(op("replace", "active", true)))
		}},
		{"patch group", func(t *testing.T) response {
			return tg.mustDo(t, http.StatusNoContent, "PATCH", "/Groups/"+g, patchOp(op("remove", "members", nil)))
		}},
		{"put group", func(t *testing.T) response {
			return tg.mustDo(t, http.StatusOK, "PUT", "/Groups/"+g, map[string]any{"schemas": []string{groupSchema}, "displayName": "Rev 2", "members": members(u)})
		}},
		{"delete group", func(t *testing.T) response { return tg.mustDo(t, http.StatusNoContent, "DELETE", "/Groups/"+g, nil) }},
		{"delete user", func(t *testing.T) response { return tg.mustDo(t, http.StatusNoContent, "DELETE", "/Users/"+u, nil) }},
	}
	prev := tg.db.Revision()
	for _, s := range steps {
		res := s.do(t)
		got := res.revision(t)
		if got <= prev {
			t.Errorf("%s: %s %d, want more than the previous write's %d", s.name, "Rolecall-Revision", got, prev)
		}
		if now := tg.db.Revision(); got != now {
			t.Errorf("%s: Rolecall-Revision %d, but the store is at %d after it returned", s.name, got, now)
		}
		prev = got
	}
}

// TestNoOpWritesDoNotAdvanceTheRevision: a PATCH that changes nothing (the
// same value again, an existing member again) commits nothing.
func TestNoOpWritesDoNotAdvanceTheRevision(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "noop@acme.test", map[string]any{"displayName": "Same", "active": true})
	g := tg.mustCreateGroup(t, "NoOp", nil, u)
	for _, c := range []struct {
		name, path string
		body       any
	}{
		{"replace userName with itself", "/Users/" + u, patchOp(op("replace", "userName", "noop@acme.test"))},
		{"replace displayName with itself", "/Users/" + u, patchOp(op("replace", "displayName", "Same"))},
		{"pathless replace with the same values", "/Users/" + u, patchOp(op("replace", "", map[string]any{"active": true, "displayName": "Same"}))},
		{"remove an absent attribute", "/Users/" + u, patchOp(op("remove", "title", nil))},
		{"replace group displayName with itself", "/Groups/" + g, patchOp(op("replace", "displayName", "NoOp"))},
		{"add an existing member", "/Groups/" + g, patchOp(op("add", "members", members(u)))},
		{"replace members with the same list", "/Groups/" + g, patchOp(op("replace", "members", members(u)))},
		{"remove a member that is not one", "/Groups/" + g, patchOp(op("remove", `members[value eq "usr_0000000000000000"]`, nil))},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := tg.db.Revision()
			etagBefore := tg.mustDo(t, http.StatusOK, "GET", c.path, nil).header.Get("ETag")
			tg.mustDo(t, http.StatusNoContent, "PATCH", c.path, c.body)
			if after := tg.db.Revision(); after != before {
				t.Errorf("store revision went from %d to %d on a no-op PATCH", before, after)
			}
			if etagAfter := tg.mustDo(t, http.StatusOK, "GET", c.path, nil).header.Get("ETag"); etagAfter != etagBefore {
				t.Errorf("ETag went from %s to %s on a no-op PATCH", etagBefore, etagAfter)
			}
		})
	}
	if got := memberIDs(t, tg.db, g); !slices.Equal(got, []string{u}) {
		t.Errorf("members = %v, want [%s]", got, u)
	}
}

// TestPostAnswers201WithWhatAGetReturns checks status, Location and ETag and
// compares the body with a following GET, for users (plain, quirky,
// enterprise) and groups (empty, with members and labels).
func TestPostAnswers201WithWhatAGetReturns(t *testing.T) {
	tg := newTarget(t)
	u1 := tg.mustCreateUser(t, "member1@acme.test", nil)
	u2 := tg.mustCreateUser(t, "member2@acme.test", nil)
	cases := []struct {
		name     string
		endpoint string
		body     map[string]any
	}{
		{"minimal user", "/Users", map[string]any{"schemas": []string{userSchema}, "userName": "min@acme.test"}},
		{"full user", "/Users", map[string]any{
			"schemas":  []string{userSchema, enterpriseURN},
			"userName": "Full@Acme.test", "externalId": "ext-full", "active": false,
			"name":        map[string]any{"givenName": "Ful", "familyName": "User", "formatted": "Ful User"},
			"emails":      []any{map[string]any{"value": "full@acme.test", "type": "work", "primary": true}},
			"password":    "never returned",
			enterpriseURN: map[string]any{"department": "R&D", "employeeNumber": "42", "manager": map[string]any{"value": u1}},
		}},
		{"user with IdP quirks", "/Users", map[string]any{
			"schemas":  []string{userSchema},
			"UserName": "quirky@acme.test", "active": "True",
			"emails":                      `[{"value":"q@acme.test","type":"work"}]`,
			"name.givenName":              "Q",
			enterpriseURN + ":department": "Quirks",
		}},
		{"user with unicode", "/Users", map[string]any{"schemas": []string{userSchema}, "userName": "zoë@acme.test", "displayName": "Zoë \u2603 <&>"}},
		{"empty group", "/Groups", map[string]any{"schemas": []string{groupSchema}, "displayName": "Empty"}},
		{"group with members", "/Groups", map[string]any{
			"schemas": []string{groupSchema}, "displayName": "Members", "externalId": "grp-ext",
			"members": []any{map[string]any{"value": u1, "display": "One"}, map[string]any{"value": u2}},
		}},
		{"group with displayName labels", "/Groups", map[string]any{
			"schemas": []string{groupSchema}, "displayName": "Labels",
			"members": []any{map[string]any{"value": u2, "displayName": "Two"}},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := tg.mustDo(t, http.StatusCreated, "POST", c.endpoint, c.body)
			created := res.object(t)
			id := str(created["id"])
			wantLocation := tg.base + c.endpoint + "/" + id
			if got := res.header.Get("Location"); got != wantLocation {
				t.Errorf("Location = %q, want %q", got, wantLocation)
			}
			meta, _ := created["meta"].(map[string]any)
			if got := res.header.Get("ETag"); got == "" || got != str(meta["version"]) {
				t.Errorf("ETag = %q, meta.version = %v; want them equal and set", got, meta["version"])
			}
			if got := str(meta["location"]); got != wantLocation {
				t.Errorf("meta.location = %q, want %q", got, wantLocation)
			}
			if _, ok := created["password"]; ok {
				t.Errorf("the created user's password is returned: %s", res.body)
			}
			got := tg.mustDo(t, http.StatusOK, "GET", c.endpoint+"/"+id, nil)
			if !sameJSON(created, got.object(t)) {
				t.Errorf("POST body differs from a following GET:\nPOST %s\nGET  %s", res.body, got.body)
			}
		})
	}
}

// TestPostWithProjectionAnswersTheProjectedResource asks POST for some
// attributes only.
func TestPostWithProjectionAnswersTheProjectedResource(t *testing.T) {
	tg := newTarget(t)
	res := tg.mustDo(t, http.StatusCreated, "POST", "/Users?attributes=userName", map[string]any{"schemas": []string{userSchema}, "userName": "proj@acme.test", "title": "Hidden"})
	body := res.object(t)
	if body["userName"] != "proj@acme.test" || body["id"] == nil {
		t.Errorf("projected POST body %s lacks id or userName", res.body)
	}
	if _, ok := body["title"]; ok {
		t.Errorf("projected POST body %s has title, which was not asked for", res.body)
	}
	if _, ok := body["meta"]; ok {
		t.Errorf("projected POST body %s has meta, whose sub-attributes are returned by default only (RFC 7643 §3.1)", res.body)
	}
	id := str(body["id"])
	get := tg.mustDo(t, http.StatusOK, "GET", "/Users/"+id+"?attributes=userName", nil).object(t)
	delete(get, "meta") // see TestProjectionLeavesOutMetaOnEveryEndpoint
	if !sameJSON(body, get) {
		t.Errorf("projected POST differs from the projected GET:\nPOST %s\nGET  %s", res.body, toJSON(get))
	}
}

// TestPostWithExcludedAttributesAnswersWhatAGetReturns: the projected POST
// of a user still has its (empty) groups, as GET has.
func TestPostWithExcludedAttributesAnswersWhatAGetReturns(t *testing.T) {
	tg := newTarget(t)
	for _, endpoint := range []string{"/Users", "/Groups"} {
		body := map[string]any{"schemas": []string{userSchema}, "userName": "excl@acme.test", "title": "Hidden", "nickName": "shown"}
		if endpoint == "/Groups" {
			body = map[string]any{"schemas": []string{groupSchema}, "displayName": "Excluded", "externalId": "hidden"}
		}
		res := tg.mustDo(t, http.StatusCreated, "POST", endpoint+"?excludedAttributes=title,externalId", body)
		created := res.object(t)
		get := tg.mustDo(t, http.StatusOK, "GET", endpoint+"/"+str(created["id"])+"?excludedAttributes=title,externalId", nil)
		if !sameJSON(created, get.object(t)) {
			t.Errorf("POST %s?excludedAttributes differs from the GET:\nPOST %s\nGET  %s", endpoint, res.body, get.body)
		}
	}
}

// TestProjectionLeavesOutMetaOnEveryEndpoint: with attributes=userName, meta
// (returned "default", RFC 7643 §3.1) is left out by lists, POST and PATCH,
// but GET by id and PUT, rendered by the library, always add it.
func TestProjectionLeavesOutMetaOnEveryEndpoint(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "meta@acme.test", nil)
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/Users/" + u + "?attributes=userName", nil},
		{"PUT", "/Users/" + u + "?attributes=userName", map[string]any{"schemas": []string{userSchema}, "userName": "meta@acme.test"}},
		{"PATCH", "/Users/" + u + "?attributes=userName", patchOp(op("replace", "title", "T"))},
		{"GET", "/Users?attributes=userName&filter=" + urlQuery(`id eq "`+u+`"`), nil},
	} {
		res := tg.mustDo(t, http.StatusOK, c.method, c.path, c.body)
		if strings.Contains(string(res.body), `"meta"`) {
			t.Errorf("%v\nmeta is in a response projected to userName", res)
		}
	}
}

// TestPutWithoutActiveKeepsTheUsersActiveState: IdPs that PUT without
// "active" must not reactivate or deactivate the user.
func TestPutWithoutActiveKeepsTheUsersActiveState(t *testing.T) {
	tg := newTarget(t)
	for _, active := range []bool{false, true} {
		name := "active-" + map[bool]string{true: "yes", false: "no"}[active] + "@acme.test"
		u := tg.mustCreateUser(t, name, map[string]any{"active": active, "title": "Old"})
		res := tg.mustDo(t, http.StatusOK, "PUT", "/Users/"+u, map[string]any{"schemas": []string{userSchema}, "userName": name, "title": "New"})
		if got := res.object(t)["active"]; got != active {
			t.Errorf("PUT without active on a user with active=%v answered active=%v", active, got)
		}
		stored := mustUser(t, tg.db, tg.con.ID, u)
		if stored.Active != active {
			t.Errorf("after PUT without active, the stored user has Active=%v, want %v", stored.Active, active)
		}
		if got := tg.mustDo(t, http.StatusOK, "GET", "/Users/"+u, nil).object(t); got["active"] != active || got["title"] != "New" {
			t.Errorf("GET after PUT = active %v, title %v; want %v, New", got["active"], got["title"], active)
		}
	}
	// With "active" given, PUT sets it.
	u := tg.mustCreateUser(t, "flip@acme.test", map[string]any{"active": true})
	tg.mustDo(t, http.StatusOK, "PUT", "/Users/"+u, map[string]any{"schemas": []string{userSchema}, "userName": "flip@acme.test", "active": false})
	if mustUser(t, tg.db, tg.con.ID, u).Active {
		t.Errorf("PUT with active=false left the user active")
	}
}

// TestPutReplacesTheWholeUserDocument: attributes left out of a PUT are gone.
func TestPutReplacesTheWholeUserDocument(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "whole@acme.test", map[string]any{"title": "Old", "externalId": "ext-old", "nickName": "nick"})
	res := tg.mustDo(t, http.StatusOK, "PUT", "/Users/"+u, map[string]any{"schemas": []string{userSchema}, "userName": "Whole@acme.test", "title": "New"})
	got := res.object(t)
	for _, gone := range []string{"externalId", "nickName"} {
		if _, ok := got[gone]; ok {
			t.Errorf("PUT without %s kept it: %s", gone, res.body)
		}
	}
	if got["userName"] != "Whole@acme.test" || got["title"] != "New" {
		t.Errorf("PUT answered %s, want userName Whole@acme.test and title New", res.body)
	}
	if get := tg.mustDo(t, http.StatusOK, "GET", "/Users/"+u, nil); !sameJSON(got, get.object(t)) {
		t.Errorf("PUT body differs from a following GET:\nPUT %s\nGET %s", res.body, get.body)
	}
	if l := tg.mustList(t, "GET", "/Users?filter="+urlQuery(`externalId eq "ext-old"`), nil); l.TotalResults != 0 {
		t.Errorf("the old externalId still finds %v after PUT removed it", l.ids())
	}
	// The indexes follow: a new externalId and userName find the user.
	tg.mustDo(t, http.StatusOK, "PUT", "/Users/"+u, map[string]any{"schemas": []string{userSchema}, "userName": "renamed@acme.test", "externalId": "ext-new"})
	for _, f := range []string{`externalId eq "ext-new"`, `userName eq "RENAMED@acme.test"`} {
		if l := tg.mustList(t, "GET", "/Users?filter="+urlQuery(f), nil); !slices.Equal(l.ids(), []string{u}) {
			t.Errorf("after PUT, %s finds %v, want [%s]", f, l.ids(), u)
		}
	}
	if l := tg.mustList(t, "GET", "/Users?filter="+urlQuery(`userName eq "whole@acme.test"`), nil); l.TotalResults != 0 {
		t.Errorf("the old userName still finds %v after PUT renamed the user", l.ids())
	}
}

// TestGroupPutKeepsMembersUnlessItListsThem: no "members" keeps them,
// "members": [] empties the group, a list replaces them.
func TestGroupPutKeepsMembersUnlessItListsThem(t *testing.T) {
	tg := newTarget(t)
	u1 := tg.mustCreateUser(t, "p1@acme.test", nil)
	u2 := tg.mustCreateUser(t, "p2@acme.test", nil)
	u3 := tg.mustCreateUser(t, "p3@acme.test", nil)
	g := tg.mustCreateGroup(t, "Put", nil, u1, u2)
	put := func(body map[string]any) response {
		body["schemas"] = []string{groupSchema}
		return tg.mustDo(t, http.StatusOK, "PUT", "/Groups/"+g, body)
	}

	put(map[string]any{"displayName": "Put renamed"})
	if got := memberIDs(t, tg.db, g); !slices.Equal(got, sorted(u1, u2)) {
		t.Errorf("after PUT without members: members %v, want %v", got, sorted(u1, u2))
	}
	if got := mustGroup(t, tg.db, tg.con.ID, g).DisplayName; got != "Put renamed" {
		t.Errorf("displayName = %q, want %q", got, "Put renamed")
	}

	res := put(map[string]any{"displayName": "Put renamed", "members": members(u2, u3)})
	if got := memberIDs(t, tg.db, g); !slices.Equal(got, sorted(u2, u3)) {
		t.Errorf("after PUT with [u2 u3]: members %v, want %v", got, sorted(u2, u3))
	}
	if get := tg.mustDo(t, http.StatusOK, "GET", "/Groups/"+g, nil); !sameJSON(res.object(t), get.object(t)) {
		t.Errorf("PUT body differs from a following GET:\nPUT %s\nGET %s", res.body, get.body)
	}

	put(map[string]any{"displayName": "Put renamed", "members": []any{}})
	if got := memberIDs(t, tg.db, g); len(got) != 0 {
		t.Errorf("after PUT with members []: members %v, want none", got)
	}
}

// TestUnknownMembersInPostOrPutAre400AndChangeNothing: a member id that is not
// a user or group of the connection rejects the whole write.
func TestUnknownMembersInPostOrPutAre400AndChangeNothing(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "known@acme.test", nil)
	g := tg.mustCreateGroup(t, "Known", nil, u)
	other := storetest.MustConnection(t, tg.db, "other")
	foreignUser := storetest.MustUser(t, tg.db, other.ID, "foreign@other.test").ID
	foreignGroup := storetest.MustGroup(t, tg.db, other.ID, "Foreign").ID
	for _, c := range []struct {
		name, member string
		post         bool // also try it in a POST (a group may hold another group, not itself)
	}{
		{"unissued user id", "usr_0000000000000000", true},
		{"unissued group id", "grp_0000000000000000", true},
		{"not an id", "garbage", true},
		{"empty-looking id", " ", true},
		{"user of another connection", foreignUser, true},
		{"group of another connection", foreignGroup, true},
		{"the group itself", g, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := tg.db.Revision()
			if c.post {
				res := tg.do(t, "POST", "/Groups", map[string]any{"schemas": []string{groupSchema}, "displayName": "New " + c.name, "members": members(u, c.member)})
				wantSCIMError(t, res, http.StatusBadRequest, "invalidValue")
			}
			res := tg.do(t, "PUT", "/Groups/"+g, map[string]any{"schemas": []string{groupSchema}, "displayName": "Renamed", "members": members(c.member)})
			wantSCIMError(t, res, http.StatusBadRequest, "invalidValue")
			if after := tg.db.Revision(); after != before {
				t.Errorf("store revision went from %d to %d", before, after)
			}
		})
	}
	if l := tg.mustList(t, "GET", "/Groups", nil); l.TotalResults != 1 {
		t.Errorf("groups after rejected POSTs: %v, want only %s", l.ids(), g)
	}
	grp := mustGroup(t, tg.db, tg.con.ID, g)
	if grp.DisplayName != "Known" {
		t.Errorf("displayName = %q after rejected PUTs, want Known", grp.DisplayName)
	}
	if got := memberIDs(t, tg.db, g); !slices.Equal(got, []string{u}) {
		t.Errorf("members = %v after rejected PUTs, want [%s]", got, u)
	}
}

// TestWriteConflictsAre409Uniqueness covers userName and displayName, which
// are unique per connection case-insensitively.
func TestWriteConflictsAre409Uniqueness(t *testing.T) {
	tg := newTarget(t)
	tg.mustCreateUser(t, "taken@acme.test", nil)
	u := tg.mustCreateUser(t, "free@acme.test", nil)
	tg.mustCreateGroup(t, "Taken", nil)
	g := tg.mustCreateGroup(t, "Free", nil)
	for _, c := range []struct {
		name         string
		method, path string
		body         any
	}{
		{"post user", "POST", "/Users", map[string]any{"schemas": []string{userSchema}, "userName": "TAKEN@acme.test"}},
		{"put user", "PUT", "/Users/" + u, map[string]any{"schemas": []string{userSchema}, "userName": "Taken@Acme.Test"}},
		{"patch user", "PATCH", "/Users/" + u, patchOp(op("replace", "userName", "taken@ACME.test"))},
		{"post group", "POST", "/Groups", map[string]any{"schemas": []string{groupSchema}, "displayName": "taken"}},
		{"put group", "PUT", "/Groups/" + g, map[string]any{"schemas": []string{groupSchema}, "displayName": "TAKEN"}},
		{"patch group", "PATCH", "/Groups/" + g, patchOp(op("replace", "displayName", "tAkEn"))},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := tg.db.Revision()
			wantSCIMError(t, tg.do(t, c.method, c.path, c.body), http.StatusConflict, "uniqueness")
			if after := tg.db.Revision(); after != before {
				t.Errorf("store revision went from %d to %d on a 409", before, after)
			}
		})
	}
}

// TestConcurrentIfMatchWritesLetExactlyOneWin sends PATCHes with the same
// If-Match at once: the store coalesces them into group commits, yet exactly
// one applies and the others answer 412.
func TestConcurrentIfMatchWritesLetExactlyOneWin(t *testing.T) {
	tg := newTarget(t)
	const n = 16
	var users []string
	for i := range n {
		users = append(users, tg.mustCreateUser(t, "racer-"+itoa(i)+"@acme.test", nil))
	}
	g := tg.mustCreateGroup(t, "Race", nil)
	tag := tg.mustDo(t, http.StatusOK, "GET", "/Groups/"+g, nil).header.Get("ETag")
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = tg.do(t, "PATCH", "/Groups/"+g, patchOp(op("add", "members", members(users[i]))), withHeader("If-Match", tag)).status
		}()
	}
	wg.Wait()
	won := 0
	for i, s := range statuses {
		switch s {
		case http.StatusNoContent:
			won++
			if got := memberIDs(t, tg.db, g); !slices.Equal(got, []string{users[i]}) {
				t.Errorf("the winner added %s, but the members are %v", users[i], got)
			}
		case http.StatusPreconditionFailed:
		default:
			t.Errorf("PATCH %d answered %d, want 204 or 412", i, s)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d PATCHes with the same If-Match applied, want exactly 1 (statuses %v)", won, n, statuses)
	}
}

// TestConcurrentMemberPatchesAllApply: PATCHes without If-Match that add
// different members at once all land.
func TestConcurrentMemberPatchesAllApply(t *testing.T) {
	tg := newTarget(t)
	const n = 24
	var users []string
	for i := range n {
		users = append(users, tg.mustCreateUser(t, "crowd-"+itoa(i)+"@acme.test", nil))
	}
	g := tg.mustCreateGroup(t, "Crowd", nil)
	revisions := make([]uint64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := tg.do(t, "PATCH", "/Groups/"+g, patchOp(op("add", "members", members(users[i]))))
			if res.status != http.StatusNoContent {
				t.Errorf("%v\nwant 204", res)
				return
			}
			revisions[i] = res.revision(t)
		}()
	}
	wg.Wait()
	if got := memberIDs(t, tg.db, g); !slices.Equal(got, sorted(users...)) {
		t.Errorf("after %d concurrent adds the group has %d members, want all %d", n, len(got), n)
	}
	seen := map[uint64]bool{}
	for _, r := range revisions {
		if seen[r] {
			t.Errorf("two writes answered the same revision %d: each commit of a change advances it by one", r)
		}
		seen[r] = true
	}
}

// TestPutOfWhatGetReturnsChangesNothing: IdPs read a resource and PUT it
// back; that round trip must succeed and leave the resource as it was
// (no new version either: nothing changed).
func TestPutOfWhatGetReturnsChangesNothing(t *testing.T) {
	tg := newTarget(t)
	m := tg.mustCreateUser(t, "manager@acme.test", nil)
	bodies := []map[string]any{
		{"schemas": []string{userSchema}, "userName": "plain@acme.test"},
		{"schemas": []string{userSchema, enterpriseURN}, "userName": "rich@acme.test", "externalId": "rich", "active": false,
			"name":        map[string]any{"givenName": "R", "familyName": "Ich", "formatted": "R Ich"},
			"displayName": "Rich", "nickName": "r", "title": "T", "userType": "Employee", "locale": "en-US", "timezone": "Europe/Paris",
			"emails":       []any{map[string]any{"value": "rich@acme.test", "type": "work", "primary": true}, map[string]any{"value": "r@home.test", "type": "home"}},
			"phoneNumbers": []any{map[string]any{"value": "+1 555", "type": "mobile"}},
			"addresses":    []any{map[string]any{"streetAddress": "1 Main", "locality": "Town", "type": "work", "primary": true}},
			"roles":        []any{map[string]any{"value": "admin"}},
			enterpriseURN:  map[string]any{"employeeNumber": "7", "department": "D", "manager": map[string]any{"value": m}},
		},
		{"schemas": []string{groupSchema}, "displayName": "Round trip", "externalId": "rt", "members": members(m)},
	}
	for _, body := range bodies {
		endpoint := "/Users"
		if body["displayName"] == "Round trip" {
			endpoint = "/Groups"
		}
		id := str(tg.mustDo(t, http.StatusCreated, "POST", endpoint, body).object(t)["id"])
		before := tg.mustDo(t, http.StatusOK, "GET", endpoint+"/"+id, nil)
		doc := before.object(t)
		res := tg.do(t, "PUT", endpoint+"/"+id, doc)
		if res.status != http.StatusOK {
			t.Errorf("%v\nPUT of what GET returned: want 200", res)
			continue
		}
		if after := tg.mustDo(t, http.StatusOK, "GET", endpoint+"/"+id, nil); !sameJSON(after.object(t), doc) {
			t.Errorf("PUT of what GET returned changed the resource:\nbefore %s\nafter  %s", before.body, after.body)
		}
	}
}

// TestPostAndPutAcceptTheSameBodies: a body POST accepts, PUT accepts too,
// or a resource created by POST cannot be PUT back as it was sent.
func TestPostAndPutAcceptTheSameBodies(t *testing.T) {
	tg := newTarget(t)
	for i, extra := range []map[string]any{
		{"x509Certificates": []any{map[string]any{"value": "not base64!"}}},
		{"x509Certificates": []any{map[string]any{"value": "TUlJQw=="}}},
	} {
		body := map[string]any{"schemas": []string{userSchema}, "userName": "same-" + itoa(i) + "@acme.test"}
		for k, v := range extra {
			body[k] = v
		}
		post := tg.do(t, "POST", "/Users", body)
		if post.status != http.StatusCreated {
			continue // rejected by both is fine; PUT is checked below only for created ones
		}
		if put := tg.do(t, "PUT", "/Users/"+str(post.object(t)["id"]), body); put.status != http.StatusOK {
			t.Errorf("%v\nPOST accepted the same body (201)", put)
		}
	}
}
