package main

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// auth0Tenant is a tenant provisioned over SCIM and the Management API with
// a few of everything Auth0 clients page through.
type auth0Tenant struct {
	s                 *testServer
	acme, globex      string
	acmeUsers         []string // in creation order
	carol, dave       string   // globex users
	roleIDs, orgs     []string // sorted
	org, bob, anyRole string
	acmeBase          string // the acme connection's SCIM base URL
	acmeToken         string
	orgByName         map[string]string
}

func newAuth0Tenant(t *testing.T) *auth0Tenant {
	s := startServer(t)
	tn := &auth0Tenant{s: s, orgByName: map[string]string{}}
	var acmeBase, globexBase string
	tn.acme, acmeBase = s.connection(t, uniqueName("acme"))
	tn.globex, globexBase = s.connection(t, uniqueName("globex"))
	acmeToken, globexToken := s.scimToken(t, tn.acme), s.scimToken(t, tn.globex)
	tn.acmeBase, tn.acmeToken = acmeBase, acmeToken
	for i := range 5 {
		name := fmt.Sprintf("user%d", i)
		tn.acmeUsers = append(tn.acmeUsers, scimPostUser(t, acmeBase, acmeToken, name, name+"@acme.example"))
		tn.roleIDs = append(tn.roleIDs, s.api(t, "POST", "/roles", map[string]any{"name": "role" + strconv.Itoa(i)}, 201)["id"].(string))
		name = "org" + strconv.Itoa(i)
		tn.orgByName[name] = s.api(t, "POST", "/organizations", map[string]any{"name": name}, 201)["id"].(string)
		tn.orgs = append(tn.orgs, tn.orgByName[name])
	}
	tn.carol = scimPostUser(t, globexBase, globexToken, "carol", "carol@globex.example")
	tn.dave = scimPostUser(t, globexBase, globexToken, "dave", "dave@globex.example")
	slices.Sort(tn.roleIDs)
	slices.Sort(tn.orgs)
	tn.org, tn.bob, tn.anyRole = tn.orgs[0], tn.acmeUsers[1], tn.roleIDs[0]
	p := "/organizations/" + tn.org
	s.api(t, "POST", p+"/members", map[string]any{"members": append(slices.Clone(tn.acmeUsers[:3]), tn.carol)}, 204)
	s.api(t, "POST", p+"/enabled_connections", map[string]any{"connection_id": tn.globex, "assign_membership_on_login": true}, 201)
	s.api(t, "POST", "/roles/"+tn.anyRole+"/users", map[string]any{"users": tn.acmeUsers}, 204)
	s.api(t, "POST", "/users/"+tn.bob+"/roles", map[string]any{"roles": tn.roleIDs}, 204)
	s.api(t, "POST", p+"/members/"+tn.bob+"/roles", map[string]any{"roles": tn.roleIDs}, 204)
	return tn
}

func addQuery(path, q string) string {
	if strings.Contains(path, "?") {
		return path + "&" + q
	}
	return path + "?" + q
}

// loopOnPage is an Auth0 client paging by index: page=0,1,… until a page
// comes back short. It fails if the loop does not end or repeats an item.
func (s *testServer) loopOnPage(t *testing.T, path, list, key string, perPage int, total int) []string {
	t.Helper()
	var all []string
	for page := 0; ; page++ {
		if page > 50 {
			t.Fatalf("%s: looping on page does not end", path)
		}
		out := s.api(t, "GET", addQuery(path, fmt.Sprintf("page=%d&per_page=%d&include_totals=true", page, perPage)), nil, 200)
		if out["total"] != float64(total) || out["start"] != float64(page*perPage) || out["limit"] != float64(perPage) {
			t.Errorf("%s page %d: total %v start %v limit %v, want %d, %d, %d", path, page, out["total"], out["start"], out["limit"], total, page*perPage, perPage)
		}
		items := answerIDs(out, list, key)
		for _, id := range items {
			if slices.Contains(all, id) {
				t.Fatalf("%s page %d: %s seen twice", path, page, id)
			}
		}
		all = append(all, items...)
		if len(items) < perPage {
			return all
		}
	}
}

// followNext pages with from/take, following next.
func (s *testServer) followNext(t *testing.T, path, list, key string, take int) []string {
	t.Helper()
	var all []string
	from := ""
	for pages := 0; pages < 50; pages++ {
		q := "take=" + strconv.Itoa(take)
		if from != "" {
			q += "&from=" + from
		}
		out := s.api(t, "GET", addQuery(path, q), nil, 200)
		all = append(all, answerIDs(out, list, key)...)
		next, _ := out["next"].(string)
		if next == "" {
			return all
		}
		from = next
	}
	t.Fatalf("%s: following next does not end", path)
	return nil
}

// TestAuth0ClientsPageEveryListingEitherWay: over real HTTP, every listing
// Auth0 pages both ways gives the same items once each through from/take and
// through a client looping on page, with include_totals telling the truth.
func TestAuth0ClientsPageEveryListingEitherWay(t *testing.T) {
	tn := newAuth0Tenant(t)
	s := tn.s
	explicit := slices.Sorted(slices.Values(tn.acmeUsers[:3]))
	s.settleDerived(t) // derived audit entries follow the writes
	logs := answerIDs(s.api(t, "GET", "/logs?take=100", nil, 200), "logs", "id")
	for _, tc := range []struct {
		name, path, list, key string
		want                  []string
	}{
		{"roles", "/roles", "roles", "id", tn.roleIDs},
		{"role users", "/roles/" + tn.anyRole + "/users", "users", "user_id", slices.Sorted(slices.Values(tn.acmeUsers))},
		{"users", "/users?connection_id=" + tn.acme, "users", "user_id", tn.acmeUsers},
		{"user roles", "/users/" + tn.bob + "/roles", "roles", "id", tn.roleIDs},
		{"user organizations", "/users/" + tn.carol + "/organizations", "organizations", "id", []string{tn.org}},
		{"organizations", "/organizations", "organizations", "id", tn.orgs},
		{"organization members", "/organizations/" + tn.org + "/members", "members", "user_id", append([]string{tn.carol, tn.dave}, explicit...)},
		{"member roles", "/organizations/" + tn.org + "/members/" + tn.bob + "/roles", "roles", "id", tn.roleIDs},
		{"logs", "/logs", "logs", "id", logs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, size := range []int{1, 2, 50} {
				assertIDs(t, fmt.Sprintf("page/per_page=%d", size), s.loopOnPage(t, tc.path, tc.list, tc.key, size, len(tc.want)), tc.want)
				assertIDs(t, fmt.Sprintf("from/take=%d", size), s.followNext(t, tc.path, tc.list, tc.key, size), tc.want)
			}
		})
	}
}

// TestListQueryParametersAreCheckedOverHTTP: what an operation does not know
// (its OpenAPI entry does not name it), or both paging styles at once, is
// 400 invalid_query_string naming the parameter; ?q=alice no longer answers
// everyone.
func TestListQueryParametersAreCheckedOverHTTP(t *testing.T) {
	tn := newAuth0Tenant(t)
	for _, tc := range []struct{ path, param string }{
		{"/users?q=alice", "'q'"},
		{"/users?page=0&from=x", "'from'"},
		{"/roles?per_page=10&take=10", "'take'"},
		{"/organizations/" + tn.org + "/members?per_page=500", "'per_page'"},
		{"/logs?page=-1", "'page'"},
		{"/roles/" + tn.anyRole + "/users?include_totals=1", "'include_totals'"},
		{"/groups?page=1", "'page'"},
		// Lists that are never paged and single resources take no filter.
		{"/api-keys?name=login", "'name'"},
		{"/event-streams?status=enabled", "'status'"},
		{"/connections/" + tn.acme + "/role-mappings?idp_value=x", "'idp_value'"},
		{"/roles/" + tn.anyRole + "?fields=name", "'fields'"},
	} {
		resp, body := call(t, "GET", tn.s.URL+"/api/v2"+tc.path, testAdminToken, nil)
		assertAPIError(t, resp, body, http.StatusBadRequest, "invalid_query_string")
		if msg, _ := body["message"].(string); !strings.Contains(msg, tc.param) {
			t.Errorf("%s: message %q does not name %s", tc.path, msg, tc.param)
		}
	}
}

// TestTheEndpointsAuth0UsersReachFor: role users from the role's side, a
// user's organizations, an organization by name, one log entry, membership
// marks, and the Organization Group 404 that reading and binding agree on.
func TestTheEndpointsAuth0UsersReachFor(t *testing.T) {
	tn := newAuth0Tenant(t)
	s := tn.s
	role := s.api(t, "POST", "/roles", map[string]any{"name": "support"}, 201)["id"].(string)
	s.api(t, "POST", "/roles/"+role+"/users", map[string]any{"users": []string{tn.carol, tn.dave}}, 204)
	assertIDs(t, "support's users", answerIDs(s.api(t, "GET", "/roles/"+role+"/users", nil, 200), "users", "user_id"), sortedCopyOf(tn.carol, tn.dave))
	s.api(t, "DELETE", "/roles/"+role+"/users", map[string]any{"users": []string{tn.dave}}, 204)
	assertIDs(t, "dave's roles", answerIDs(s.api(t, "GET", "/users/"+tn.dave+"/roles", nil, 200), "roles", "id"), []string{})
	resp, body := call(t, "POST", s.URL+"/api/v2/roles/"+role+"/users", testAdminToken, map[string]any{"users": []string{tn.dave, "usr_0000000000000000"}})
	assertAPIError(t, resp, body, 404, "inexistent_user")
	assertIDs(t, "dave's roles after a refused assignment", answerIDs(s.api(t, "GET", "/users/"+tn.dave+"/roles", nil, 200), "roles", "id"), []string{})
	assigned := s.api(t, "GET", "/logs?type=user.role.assigned&target_id="+tn.carol, nil, 200)["logs"].([]any)
	if len(assigned) != 1 {
		t.Fatalf("user.role.assigned for carol: %v, want one", assigned)
	}
	id := assigned[0].(map[string]any)["id"].(string)
	if got := s.api(t, "GET", "/logs/"+id, nil, 200); got["id"] != id || got["type"] != "user.role.assigned" {
		t.Errorf("GET /logs/%s: %v", id, got)
	}

	if got := s.api(t, "GET", "/organizations/name/org3", nil, 200); got["id"] != tn.orgByName["org3"] || got["name"] != "org3" {
		t.Errorf("organization by name: %v", got)
	}
	resp, body = call(t, "GET", s.URL+"/api/v2/organizations/name/nobody", testAdminToken, nil)
	assertAPIError(t, resp, body, 404, "inexistent_organization")

	marks := map[string]string{}
	for _, m := range s.api(t, "GET", "/organizations/"+tn.org+"/members", nil, 200)["members"].([]any) {
		mv := m.(map[string]any)
		marks[mv["user_id"].(string)] = mv["membership"].(string)
	}
	if marks[tn.carol] != "explicit" || marks[tn.dave] != "auto" || marks[tn.bob] != "explicit" || len(marks) != 5 {
		t.Errorf("membership marks %v: want carol explicit (explicit and auto), dave auto, bob explicit", marks)
	}
	for _, o := range s.api(t, "GET", "/users/"+tn.dave+"/organizations", nil, 200)["organizations"].([]any) {
		if ov := o.(map[string]any); ov["id"] != tn.org || ov["membership"] != "auto" {
			t.Errorf("dave's organizations: %v", ov)
		}
	}

	// An acme group is no Organization Group of tn.org (acme is not enabled
	// on it): GET and POST on its roles answer the same 404.
	group := scimPostGroup(t, tn.acmeBase, tn.acmeToken, "eng", tn.bob)
	path := s.URL + "/api/v2/organizations/" + tn.org + "/groups/" + group + "/roles"
	postResp, post := call(t, "POST", path, testAdminToken, map[string]any{"roles": []string{role}})
	getResp, get := call(t, "GET", path, testAdminToken, nil)
	assertAPIError(t, postResp, post, 404, "inexistent_organization_group")
	assertAPIError(t, getResp, get, 404, "inexistent_organization_group")
	if get["message"] != post["message"] {
		t.Errorf("GET says %q, POST %q: want the same message", get["message"], post["message"])
	}
}
