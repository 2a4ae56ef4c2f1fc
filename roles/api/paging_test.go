package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/roles/api"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// pagingFixture is a tenant with five of everything a listing pages: roles,
// users, a role's users, a user's roles, organizations, an organization's
// members (explicit and auto) and a member's roles, and audit entries.
type pagingFixture struct {
	m                  *mgmt
	acme, globex       string
	users              []string // acme's, in creation order
	roleIDs            []string // sorted
	orgs               []string // sorted
	org                string   // the organization with members
	carol, dave        string   // globex users, members through auto-membership
	roleWithUsers, bob string
}

func newPagingFixture(t *testing.T) *pagingFixture {
	m := newMgmt(t)
	f := &pagingFixture{m: m, acme: m.connection("acme"), globex: m.connection("globex")}
	for i := range 5 {
		f.users = append(f.users, m.user(f.acme, fmt.Sprintf("user%d", i)))
		f.roleIDs = append(f.roleIDs, m.role(fmt.Sprintf("role%d", i)))
	}
	f.carol, f.dave = m.user(f.globex, "carol"), m.user(f.globex, "dave")
	slices.Sort(f.roleIDs)
	for i := range 5 {
		f.orgs = append(f.orgs, m.org(fmt.Sprintf("org%d", i)))
	}
	slices.Sort(f.orgs)
	f.org, f.bob, f.roleWithUsers = f.orgs[0], f.users[1], f.roleIDs[0]
	m.do("POST", "/organizations/"+f.org+"/members", map[string]any{"members": f.users[:3]}, 204)
	m.do("POST", "/organizations/"+f.org+"/members", map[string]any{"members": []string{f.carol}}, 204)
	m.do("POST", "/organizations/"+f.org+"/enabled_connections", map[string]any{"connection_id": f.globex, "assign_membership_on_login": true}, 201)
	m.do("POST", "/roles/"+f.roleWithUsers+"/users", map[string]any{"users": f.users}, 204)
	m.do("POST", "/users/"+f.bob+"/roles", map[string]any{"roles": f.roleIDs}, 204)
	m.do("POST", "/organizations/"+f.org+"/members/"+f.bob+"/roles", map[string]any{"roles": f.roleIDs}, 204)
	return f
}

// pagingCases are the listings Auth0 pages in both styles, with what each
// holds in order.
func (f *pagingFixture) pagingCases() []struct {
	name, path, list, key string
	want                  []string
} {
	explicitOthers := slices.Sorted(slices.Values(f.users[:3]))
	return []struct {
		name, path, list, key string
		want                  []string
	}{
		{"roles", "/roles", "roles", "id", f.roleIDs},
		{"roles by name", "/roles?name_filter=ROLE", "roles", "id", f.roleIDs},
		{"role users", "/roles/" + f.roleWithUsers + "/users", "users", "user_id", slices.Sorted(slices.Values(f.users))},
		{"users of a connection", "/users?connection_id=" + f.acme, "users", "user_id", f.users},
		{"user roles", "/users/" + f.bob + "/roles", "roles", "id", f.roleIDs},
		{"organizations", "/organizations", "organizations", "id", f.orgs},
		{"organization members", "/organizations/" + f.org + "/members", "members", "user_id", append([]string{f.carol, f.dave}, explicitOthers...)},
		{"member roles", "/organizations/" + f.org + "/members/" + f.bob + "/roles", "roles", "id", f.roleIDs},
		{"user organizations", "/users/" + f.bob + "/organizations", "organizations", "id", []string{f.org}},
	}
}

func withQuery(path, query string) string {
	if strings.Contains(path, "?") {
		return path + "&" + query
	}
	return path + "?" + query
}

// pageByIndex loops on page=0,1,… as an Auth0 client does, until a page
// comes back short, failing if it does not end.
func (m *mgmt) pageByIndex(path, list, key string, perPage int, totals bool) []string {
	m.t.Helper()
	var all []string
	for page := 0; ; page++ {
		if page > 100 {
			m.t.Fatalf("%s: paging by index does not end", path)
		}
		q := "page=" + strconv.Itoa(page) + "&per_page=" + strconv.Itoa(perPage)
		if totals {
			q += "&include_totals=true"
		}
		out := m.do("GET", withQuery(path, q), nil, 200)
		if _, ok := out["next"]; ok {
			m.t.Errorf("%s: an index page carries next: %v", q, out)
		}
		items := listField(out, list, key)
		if totals {
			if out["start"] != float64(page*perPage) || out["limit"] != float64(perPage) {
				m.t.Errorf("%s: start %v limit %v, want %d and %d", q, out["start"], out["limit"], page*perPage, perPage)
			}
		}
		all = append(all, items...)
		if len(items) < perPage {
			return all
		}
	}
}

// TestListsPageInBothAuth0Styles: every listing Auth0 pages both ways gives
// the same items, each once and in the same order, through from/take and
// through page/per_page; include_totals tells the true total on each page.
func TestListsPageInBothAuth0Styles(t *testing.T) {
	f := newPagingFixture(t)
	m := f.m
	for _, tc := range f.pagingCases() {
		t.Run(tc.name, func(t *testing.T) {
			m.t = t
			for _, size := range []int{1, 2, 3, 50} {
				m.sameIDs(fmt.Sprintf("from/take=%d", size), m.pageThrough(tc.path, tc.list, tc.key, size), tc.want)
				m.sameIDs(fmt.Sprintf("page/per_page=%d", size), m.pageByIndex(tc.path, tc.list, tc.key, size, false), tc.want)
				m.sameIDs(fmt.Sprintf("page/per_page=%d with totals", size), m.pageByIndex(tc.path, tc.list, tc.key, size, true), tc.want)
			}
			for _, q := range []string{"include_totals=true", "include_totals=true&take=1", "include_totals=true&page=1&per_page=1", "include_totals=true&page=99"} {
				if out := m.do("GET", withQuery(tc.path, q), nil, 200); out["total"] != float64(len(tc.want)) {
					t.Errorf("%s: total %v, want %d", q, out["total"], len(tc.want))
				}
			}
			// A page past the end is empty, not an error; per_page defaults to 50.
			if got := listField(m.do("GET", withQuery(tc.path, "page=99"), nil, 200), tc.list, tc.key); len(got) != 0 {
				t.Errorf("page 99: %v, want none", got)
			}
			if got := listField(m.do("GET", withQuery(tc.path, "page=0"), nil, 200), tc.list, tc.key); !slices.Equal(got, tc.want) {
				t.Errorf("page 0 of 50: %v, want %v", got, tc.want)
			}
		})
	}
}

// TestLogsPageInBothStyles: the audit log pages by index, oldest first or
// newest first, with Auth0's {"logs","start","limit","length","total"}.
func TestLogsPageInBothStyles(t *testing.T) {
	f := newPagingFixture(t)
	m := f.m
	all := listField(m.do("GET", "/logs?take=100", nil, 200), "logs", "id")
	if len(all) < 10 {
		t.Fatalf("only %d audit entries", len(all))
	}
	m.sameIDs("page/per_page", m.pageByIndex("/logs", "logs", "id", 7, true), all)
	m.sameIDs("from/take", m.pageThrough("/logs", "logs", "id", 7), all)
	desc := slices.Clone(all)
	slices.Reverse(desc)
	m.sameIDs("newest first", m.pageByIndex("/logs?order=desc", "logs", "id", 7, false), desc)
	out := m.do("GET", "/logs?page=1&per_page=3&include_totals=true", nil, 200)
	if out["total"] != float64(len(all)) || out["length"] != float64(3) || out["start"] != float64(3) || out["limit"] != float64(3) {
		t.Errorf("totals %v, want total %d, length 3, start 3, limit 3", out, len(all))
	}
	typed := m.do("GET", "/logs?type=role.created&include_totals=true&per_page=2", nil, 200)
	if typed["total"] != float64(5) || len(typed["logs"].([]any)) != 2 {
		t.Errorf("role.created: %v, want 2 of a total of 5", typed)
	}
}

// TestListQueryStringsAreChecked: a parameter a listing does not know, one
// given twice, both paging styles at once or a value out of range is 400
// invalid_query_string naming the parameter, and never silently ignored.
func TestListQueryStringsAreChecked(t *testing.T) {
	f := newPagingFixture(t)
	m := f.m
	for _, tc := range []struct{ path, param string }{
		{"/users?q=alice", "'q'"},
		{"/users?search_engine=v3", "'search_engine'"},
		{"/roles?name=x", "'name'"},
		{"/logs?sort=date:-1", "'sort'"},
		{"/organizations?page=0&from=x", "'from'"},
		{"/roles?per_page=5&take=5", "'take'"},
		{"/users?page=1&take=2", "'take'"},
		{"/roles?per_page=0", "'per_page'"},
		{"/roles?per_page=101", "'per_page'"},
		{"/roles?page=-1", "'page'"},
		{"/roles?page=x", "'page'"},
		{"/roles?take=0", "'take'"},
		{"/roles?include_totals=yes", "'include_totals'"},
		{"/roles?take=1&take=2", "'take'"},
		{"/groups?page=0", "'page'"},
		{"/groups?include_totals=true", "'include_totals'"},
		{"/groups/" + "grp_0000000000000000" + "/members?per_page=1", "'per_page'"},
		{"/organizations/" + f.org + "/groups?page=0", "'page'"},
		{"/roles/" + f.roleWithUsers + "/groups?page=0", "'page'"},
		{"/organizations/" + f.org + "/members?fields=user_id", "'fields'"},
		{"/users/" + f.bob + "/organizations?per_page=x", "'per_page'"},
	} {
		rec, out := m.send(mgmtAdminToken, "GET", tc.path, nil)
		assertMgmtError(t, tc.path, rec, out, http.StatusBadRequest, "invalid_query_string")
		if msg, _ := out["message"].(string); !strings.Contains(msg, tc.param) {
			t.Errorf("%s: message %q does not name %s", tc.path, msg, tc.param)
		}
	}
}

// TestIndexPagesAreExactWithinTheByteBudget: over real HTTP, a page/per_page
// page whose items exceed the byte budget is refused (400 naming per_page)
// rather than cut short, which would shift every later page; per_page=1
// always fits, so an index-paging client still sees every user exactly once.
func TestIndexPagesAreExactWithinTheByteBudget(t *testing.T) {
	const budget = 4 << 10
	db := storetest.Open(t)
	handler := newAPI(t, db, api.Options{AdminToken: mgmtAdminToken, ListPageBytes: budget})
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	con := storetest.MustConnection(t, db, "acme")
	var users []string
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		for i := range 6 {
			doc, _ := json.Marshal(map[string]any{"displayName": strings.Repeat("n", budget/2)})
			u, err := tx.CreateUser(store.User{ConnectionID: con.ID, UserName: fmt.Sprintf("u%d", i), Active: true, Doc: doc})
			if err != nil {
				return err
			}
			users = append(users, u.ID)
		}
		return nil
	})
	status, _, out, _ := getPage(t, srv, "/users?connection_id="+con.ID+"&per_page=3")
	if msg, _ := out["message"].(string); status != http.StatusBadRequest || out["errorCode"] != "invalid_query_string" || !strings.Contains(msg, "'per_page'") {
		t.Errorf("over-budget index page: %d %v, want 400 invalid_query_string naming per_page", status, out)
	}
	var got []string
	for page := 0; page < 20; page++ {
		status, _, out, size := getPage(t, srv, fmt.Sprintf("/users?connection_id=%s&per_page=1&page=%d&include_totals=true", con.ID, page))
		if status != http.StatusOK {
			t.Fatalf("page %d: %d %v", page, status, out)
		}
		if out["total"] != float64(len(users)) {
			t.Errorf("page %d: total %v, want %d", page, out["total"], len(users))
		}
		if size > 2*budget {
			t.Errorf("page %d: %d bytes", page, size)
		}
		items := listField(out, "users", "user_id")
		got = append(got, items...)
		if len(items) < 1 {
			break
		}
	}
	if !slices.Equal(got, users) {
		t.Errorf("pages give %v, want %v", got, users)
	}
	// The checkpoint style still stops early at the budget, as before.
	status, _, out, _ = getPage(t, srv, "/users?connection_id="+con.ID+"&take=3")
	if status != http.StatusOK || len(out["users"].([]any)) != 1 || out["next"] == nil {
		t.Errorf("from/take page: %d %v, want one user and next", status, out)
	}
}
