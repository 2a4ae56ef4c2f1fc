package scim_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rolecall/rolecall/scim"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// TestRequestsWithoutAValidTokenOfTheConnectionAre401 sends every kind of bad
// credential to reads, writes and discovery: each answers 401 with a SCIM
// error and a WWW-Authenticate challenge, and changes nothing.
func TestRequestsWithoutAValidTokenOfTheConnectionAre401(t *testing.T) {
	clk := newClock()
	tg := newTargetWith(t, store.Options{Now: clk.Now}, scim.Options{})
	userID := tg.mustCreateUser(t, "victim@acme.test", map[string]any{"externalId": "victim-ext"})
	groupID := tg.mustCreateGroup(t, "Victims", nil, userID)

	expiring := mustToken(t, tg.db, tg.con.ID, time.Hour, store.SCIMTokenScopes...)
	revokedID, revoked := mustTokenID(t, tg.db, tg.con.ID, store.SCIMTokenScopes...)
	storetest.MustUpdate(t, tg.db, func(tx *store.Tx) error { return tx.DeleteSCIMToken(tg.con.ID, revokedID) })
	clk.advance(2 * time.Hour)

	other := storetest.MustConnection(t, tg.db, "other")
	foreign := mustToken(t, tg.db, other.ID, 0, store.SCIMTokenScopes...)
	// A secret whose id part names a real token but whose random part differs.
	wrongSecret := tg.token[:len(tg.token)-4] + "AAAA"
	if wrongSecret == tg.token {
		wrongSecret = tg.token[:len(tg.token)-4] + "BBBB"
	}
	// A well-formed secret of a token id that was never issued.
	neverIssued := "rcs_0000000000000000_" + strings.Repeat("A", 43)

	credentials := []struct {
		name string
		auth reqOption
	}{
		{"no Authorization header", withoutAuth()},
		{"Basic scheme", withHeader("Authorization", "Basic dXNlcjpwYXNz")},
		{"Bearer without a token", withHeader("Authorization", "Bearer ")},
		{"Bearer with spaces only", withHeader("Authorization", "Bearer    ")},
		{"scheme only", withHeader("Authorization", "Bearer")},
		{"garbage token", withToken("not-a-token")},
		{"API key shaped token", withToken("rck_0000000000000000_" + strings.Repeat("A", 43))},
		{"never issued token", withToken(neverIssued)},
		{"wrong secret of an existing token", withToken(wrongSecret)},
		{"expired token", withToken(expiring)},
		{"revoked token", withToken(revoked)},
		{"token of another connection", withToken(foreign)},
	}
	requests := []struct {
		method, path string
		body         any
	}{
		{"GET", "/Users", nil},
		{"GET", "/Users/" + userID, nil},
		{"GET", "/Users?filter=" + urlQuery(`userName eq "victim@acme.test"`), nil},
		{"POST", "/Users", map[string]any{"schemas": []string{userSchema}, "userName": "intruder"}},
		{"PATCH", "/Groups/" + groupID, patchOp(op("remove", "members", nil))},
		{"DELETE", "/Users/" + userID, nil},
		{"POST", "/Groups/.search", map[string]any{"schemas": []string{searchSchema}}},
		{"GET", "/ServiceProviderConfig", nil},
		{"GET", "/Schemas", nil},
		{"GET", "/ResourceTypes", nil},
	}
	for _, c := range credentials {
		for _, rq := range requests {
			t.Run(c.name+"/"+rq.method+" "+rq.path, func(t *testing.T) {
				before := tg.db.Revision()
				res := tg.do(t, rq.method, rq.path, rq.body, c.auth)
				wantSCIMError(t, res, http.StatusUnauthorized, "")
				if h := res.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
					t.Errorf("%v\nWWW-Authenticate = %q, want a Bearer challenge", res, h)
				}
				for _, secret := range []string{userID, groupID, "victim", tg.con.ID + "/Users"} {
					if strings.Contains(string(res.body), secret) {
						t.Errorf("%v\nthe 401 body leaks %q", res, secret)
					}
				}
				if after := tg.db.Revision(); after != before {
					t.Errorf("store revision went from %d to %d on a 401", before, after)
				}
			})
		}
	}
	// And the resources are intact.
	tg.mustDo(t, http.StatusOK, "GET", "/Users/"+userID, nil)
	if got := memberIDs(t, tg.db, groupID); !slices.Equal(got, []string{userID}) {
		t.Errorf("members after the rejected requests = %v, want [%s]", got, userID)
	}
}

// TestDisablingSCIMRevokesTheTokensAtOnce: deleting a connection's SCIM
// configuration (or the connection) makes its tokens fail with 401 on the
// next request, even though they were just used (and cached).
func TestDisablingSCIMRevokesTheTokensAtOnce(t *testing.T) {
	tg := newTarget(t)
	tg.mustDo(t, http.StatusOK, "GET", "/Users", nil)
	storetest.MustUpdate(t, tg.db, func(tx *store.Tx) error { return tx.DeleteSCIMConfig(tg.con.ID) })
	wantSCIMError(t, tg.do(t, "GET", "/Users", nil), http.StatusUnauthorized, "")

	other := newTargetOn(t, tg.db, scim.NewHandler(tg.db, scim.Options{}))
	other.mustDo(t, http.StatusOK, "GET", "/Groups", nil)
	storetest.MustUpdate(t, tg.db, func(tx *store.Tx) error { return tx.DeleteConnection(other.con.ID) })
	wantSCIMError(t, other.do(t, "GET", "/Groups", nil), http.StatusUnauthorized, "")
}

// TestATokenReachesOnlyItsOwnConnection checks that two connections in one
// store never see each other's users and groups, by URL or by id.
func TestATokenReachesOnlyItsOwnConnection(t *testing.T) {
	tg := newTarget(t)
	mine := tg.mustCreateUser(t, "mine@acme.test", nil)
	myGroup := tg.mustCreateGroup(t, "Mine", nil, mine)

	other := newTargetOn(t, tg.db, scim.NewHandler(tg.db, scim.Options{}))
	theirs := other.mustCreateUser(t, "theirs@other.test", nil)

	// The other connection's token sees only its own data on its own URL...
	l := other.mustList(t, "GET", "/Users", nil)
	if got := l.ids(); !slices.Equal(got, []string{theirs}) {
		t.Errorf("other connection lists users %v, want only [%s]", got, theirs)
	}
	// ...and cannot address ours by id through it, whatever the method.
	for _, rq := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/Users/" + mine, nil},
		{"GET", "/Groups/" + myGroup, nil},
		{"PUT", "/Users/" + mine, map[string]any{"schemas": []string{userSchema}, "userName": "stolen"}},
		{"PATCH", "/Users/" + mine, patchOp(op("replace", "userName", "stolen"))},
		{"PATCH", "/Groups/" + myGroup, patchOp(op("add", "members", members(theirs)))},
		{"DELETE", "/Users/" + mine, nil},
		{"DELETE", "/Groups/" + myGroup, nil},
	} {
		res := other.do(t, rq.method, rq.path, rq.body)
		wantSCIMError(t, res, http.StatusNotFound, "")
	}
	for _, f := range []string{`id eq "` + mine + `"`, `userName eq "mine@acme.test"`} {
		if l := other.mustList(t, "GET", "/Users?filter="+urlQuery(f), nil); l.TotalResults != 0 {
			t.Errorf("other connection's filter %s found %v", f, l.ids())
		}
	}
	// A group of ours cannot take their user as a member.
	res := tg.do(t, "PATCH", "/Groups/"+myGroup, patchOp(op("add", "members", members(theirs))))
	wantSCIMError(t, res, http.StatusBadRequest, "invalidValue")

	// Our data is untouched.
	if u := mustUser(t, tg.db, tg.con.ID, mine); u.UserName != "mine@acme.test" {
		t.Errorf("userName = %q after the other connection's writes, want mine@acme.test", u.UserName)
	}
	if got := memberIDs(t, tg.db, myGroup); !slices.Equal(got, []string{mine}) {
		t.Errorf("members = %v, want [%s]", got, mine)
	}
}

// scopeCase is one operation and the scope it needs. prepare creates what the
// request needs with the all-scopes token and returns the request.
type scopeCase struct {
	name    string
	scope   string
	prepare func(t *testing.T, tg *target, n int) (method, path string, body any)
}

func scopeCases() []scopeCase {
	user := func(t *testing.T, tg *target, n int) string {
		return tg.mustCreateUser(t, "scoped-"+itoa(n)+"@acme.test", nil)
	}
	group := func(t *testing.T, tg *target, n int) string {
		return tg.mustCreateGroup(t, "Scoped "+itoa(n), nil)
	}
	return []scopeCase{
		{"list users", "get:users", func(t *testing.T, tg *target, n int) (string, string, any) {
			return "GET", "/Users", nil
		}},
		{"filter users", "get:users", func(t *testing.T, tg *target, n int) (string, string, any) {
			return "GET", "/Users?filter=" + urlQuery(`userName eq "x"`), nil
		}},
		{"get user", "get:users", func(t *testing.T, tg *target, n int) (string, string, any) {
			return "GET", "/Users/" + user(t, tg, n), nil
		}},
		{"search users", "get:users", func(t *testing.T, tg *target, n int) (string, string, any) {
			return "POST", "/Users/.search", map[string]any{"schemas": []string{searchSchema}}
		}},
		{"create user", "post:users", func(t *testing.T, tg *target, n int) (string, string, any) {
			return "POST", "/Users", map[string]any{"schemas": []string{userSchema}, "userName": "created-" + itoa(n)}
		}},
		{"replace user", "put:users", func(t *testing.T, tg *target, n int) (string, string, any) {
			return "PUT", "/Users/" + user(t, tg, n), map[string]any{"schemas": []string{userSchema}, "userName": "replaced-" + itoa(n)}
		}},
		{"patch user", "patch:users", func(t *testing.T, tg *target, n int) (string, string, any) {
			return "PATCH", "/Users/" + user(t, tg, n), patchOp(op("replace", "active", false))
		}},
		{"delete user", "delete:users", func(t *testing.T, tg *target, n int) (string, string, any) {
			return "DELETE", "/Users/" + user(t, tg, n), nil
		}},
		{"list groups", "get:groups", func(t *testing.T, tg *target, n int) (string, string, any) {
			return "GET", "/Groups", nil
		}},
		{"get group", "get:groups", func(t *testing.T, tg *target, n int) (string, string, any) {
			return "GET", "/Groups/" + group(t, tg, n), nil
		}},
		{"search groups", "get:groups", func(t *testing.T, tg *target, n int) (string, string, any) {
			return "POST", "/Groups/.search", map[string]any{"schemas": []string{searchSchema}}
		}},
		{"create group", "post:groups", func(t *testing.T, tg *target, n int) (string, string, any) {
			return "POST", "/Groups", map[string]any{"schemas": []string{groupSchema}, "displayName": "Created " + itoa(n)}
		}},
		{"replace group", "put:groups", func(t *testing.T, tg *target, n int) (string, string, any) {
			return "PUT", "/Groups/" + group(t, tg, n), map[string]any{"schemas": []string{groupSchema}, "displayName": "Replaced " + itoa(n)}
		}},
		{"patch group", "patch:groups", func(t *testing.T, tg *target, n int) (string, string, any) {
			return "PATCH", "/Groups/" + group(t, tg, n), patchOp(op("add", "members", members(user(t, tg, n))))
		}},
		{"delete group", "delete:groups", func(t *testing.T, tg *target, n int) (string, string, any) {
			return "DELETE", "/Groups/" + group(t, tg, n), nil
		}},
	}
}

// TestEachOperationNeedsItsScope runs every operation with a token holding
// only the scope it needs (it succeeds) and with one holding every scope but
// that one (403, a SCIM error, nothing changed).
func TestEachOperationNeedsItsScope(t *testing.T) {
	tg := newTarget(t)
	n := 0
	for _, c := range scopeCases() {
		t.Run(c.name, func(t *testing.T) {
			without := slices.DeleteFunc(slices.Clone(store.SCIMTokenScopes), func(s string) bool { return s == c.scope })
			only := mustToken(t, tg.db, tg.con.ID, 0, c.scope)
			lacking := mustToken(t, tg.db, tg.con.ID, 0, without...)

			n++
			method, path, body := c.prepare(t, tg, n)
			before := tg.db.Revision()
			res := tg.do(t, method, path, body, withToken(lacking))
			wantSCIMError(t, res, http.StatusForbidden, "")
			if !strings.Contains(string(res.body), c.scope) {
				t.Errorf("%v\nthe 403 does not name the missing scope %q", res, c.scope)
			}
			if after := tg.db.Revision(); after != before {
				t.Errorf("store revision went from %d to %d on a 403", before, after)
			}

			n++
			method, path, body = c.prepare(t, tg, n)
			if res := tg.do(t, method, path, body, withToken(only)); res.status < 200 || res.status > 299 {
				t.Errorf("%v\nwith only %q: want a 2xx", res, c.scope)
			}
		})
	}
}

// TestDiscoveryNeedsOnlyAValidTokenOfTheConnection reads every discovery
// endpoint with a token that has no scope at all.
func TestDiscoveryNeedsOnlyAValidTokenOfTheConnection(t *testing.T) {
	tg := newTargetWith(t, store.Options{}, scim.Options{MaxResults: 250})
	none := mustToken(t, tg.db, tg.con.ID, 0)
	for _, path := range []string{
		"/ServiceProviderConfig",
		"/ResourceTypes",
		"/ResourceTypes/User",
		"/ResourceTypes/Group",
		"/Schemas",
		"/Schemas/" + userSchema,
		"/Schemas/" + groupSchema,
		"/Schemas/" + enterpriseURN,
	} {
		t.Run(path, func(t *testing.T) {
			res := tg.mustDo(t, http.StatusOK, "GET", path, nil, withToken(none))
			if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
				t.Errorf("Content-Type = %q, want application/scim+json", ct)
			}
		})
	}
	// The same token may not read resources.
	wantSCIMError(t, tg.do(t, "GET", "/Users", nil, withToken(none)), http.StatusForbidden, "")
	wantSCIMError(t, tg.do(t, "GET", "/Groups", nil, withToken(none)), http.StatusForbidden, "")
}

// TestServiceProviderConfigTellsTheTruth compares the advertised features
// with what the server does.
func TestServiceProviderConfigTellsTheTruth(t *testing.T) {
	tg := newTargetWith(t, store.Options{}, scim.Options{MaxResults: 250, BulkMaxOperations: 7, BulkMaxPayload: 5000})
	spc := tg.mustDo(t, http.StatusOK, "GET", "/ServiceProviderConfig", nil).object(t)
	want := map[string]any{
		"patch.supported":                    true,
		"filter.supported":                   true,
		"filter.maxResults":                  float64(250),
		"sort.supported":                     true,
		"etag.supported":                     true,
		"bulk.supported":                     true,
		"bulk.maxOperations":                 float64(7),
		"bulk.maxPayloadSize":                float64(5000),
		"changePassword.supported":           false,
		"pagination.cursor":                  true,
		"pagination.index":                   true,
		"pagination.defaultPaginationMethod": "index",
		"pagination.defaultPageSize":         float64(250),
		"pagination.maxPageSize":             float64(250),
	}
	for path, w := range want {
		feature, field, _ := strings.Cut(path, ".")
		m, _ := spc[feature].(map[string]any)
		if got := m[field]; got != w {
			t.Errorf("ServiceProviderConfig %s = %v, want %v", path, got, w)
		}
	}
	schemes, _ := spc["authenticationSchemes"].([]any)
	if len(schemes) == 0 {
		t.Errorf("authenticationSchemes is empty; want the bearer token scheme")
	}
	if timeout, _ := spc["pagination"].(map[string]any)["cursorTimeout"].(float64); timeout < 1 {
		t.Errorf("pagination.cursorTimeout = %v, want a positive number of seconds", timeout)
	}
	// The bulk limits are the ones enforced (TestBulkLimitsAre413 checks
	// them in detail), the page size too.
	ops := make([]any, 8)
	for i := range ops {
		ops[i] = map[string]any{"method": "DELETE", "path": "/Users/usr_0000000000000000"}
	}
	wantSCIMError(t, tg.do(t, "POST", "/Bulk", map[string]any{"schemas": []string{bulkRequestSchema}, "Operations": ops}), http.StatusRequestEntityTooLarge, "")
	if l := tg.mustList(t, "GET", "/Users?count=100000&cursor", nil); l.ItemsPerPage > 250 {
		t.Errorf("a cursor page of %d, above maxPageSize", l.ItemsPerPage)
	}
	// ServiceProviderConfig is read-only.
	wantSCIMError(t, tg.do(t, "PUT", "/ServiceProviderConfig", map[string]any{}), http.StatusMethodNotAllowed, "")
}

// TestScopesCannotBeBypassedThroughTheV2Prefix: the library strips a leading
// "/v2" from paths, so /scim/v2/connections/{id}/v2/Users used to reach the
// Users handlers with no scope check. Only our own routes answer now.
func TestScopesCannotBeBypassedThroughTheV2Prefix(t *testing.T) {
	tg := newTarget(t)
	victim := tg.mustCreateUser(t, "victim@acme.test", nil)
	groupsOnly := mustToken(t, tg.db, tg.con.ID, 0, "get:groups")

	res := tg.do(t, "GET", "/v2/Users", nil, withToken(groupsOnly))
	if res.status == http.StatusOK || strings.Contains(string(res.body), victim) {
		t.Errorf("%v\na get:groups token listed users through /v2/Users", res)
	}
	before := tg.db.Revision()
	res = tg.do(t, "DELETE", "/v2/Users/"+victim, nil, withToken(groupsOnly))
	if res.status < 400 {
		t.Errorf("%v\na get:groups token deleted a user through /v2/Users/{id}", res)
	}
	if after := tg.db.Revision(); after != before {
		t.Errorf("store revision went from %d to %d", before, after)
	}
	tg.mustDo(t, http.StatusOK, "GET", "/Users/"+victim, nil)
}
