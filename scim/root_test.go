package scim_test

import (
	"net/http"
	"slices"
	"testing"
)

// TestRootQueryListsUsersAndGroups: GET / and POST /.search (RFC 7644
// §3.4.2.1) list every user, then every group, each in creation order;
// filters apply to both, an attribute a resource type does not have has no
// value there, and pages window the combined list.
func TestRootQueryListsUsersAndGroups(t *testing.T) {
	d := newDirectory(t)
	users := []string{d.alice, d.bob, d.carol, d.dave, d.eve, d.kelvin}
	groups := []string{d.admins, d.devs, d.ops, d.empty}
	all := append(slices.Clone(users), groups...)
	cases := []struct {
		name, query string
		total       int
		want        []string
	}{
		{"everything", "", 10, all},
		{"a window across both types", "startIndex=5&count=4", 10, all[4:8]},
		{"the groups' window", "startIndex=8&count=5", 10, all[7:]},
		{"count zero", "count=0", 10, nil},
		{"userName: groups have none", "filter=" + urlQuery(`userName eq "bob@acme.test"`), 1, []string{d.bob}},
		{"not userName: every group matches", "filter=" + urlQuery(`not (userName pr)`), 4, groups},
		{"displayName: both types have one", "filter=" + urlQuery(`displayName sw "A"`), 2, []string{d.alice, d.admins}},
		{"by resource type", "filter=" + urlQuery(`meta.resourceType eq "Group"`), 4, groups},
		{"externalId across types", "filter=" + urlQuery(`externalId eq "gx" or externalId eq "ext-a"`), 3, []string{d.alice, d.admins, d.devs}},
		{"members: users have none", "filter=" + urlQuery(`members eq "`+d.bob+`"`), 3, []string{d.admins, d.devs, d.ops}},
		{"groups: groups have none", "filter=" + urlQuery(`groups.value eq "`+d.admins+`"`), 2, []string{d.alice, d.bob}},
		{"id of either type", "filter=" + urlQuery(`id eq "`+d.carol+`" or id eq "`+d.ops+`"`), 2, []string{d.carol, d.ops}},
		{"sorted by displayName, missing last", "sortBy=displayName&count=3", 10, []string{d.admins, d.alice, d.devs}},
		{"sorted by id descending", "sortBy=id&sortOrder=descending&count=2", 10, []string{sorted(all...)[9], sorted(all...)[8]}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := d.mustList(t, "GET", "/?"+c.query, nil)
			want := c.want
			if want == nil {
				want = []string{}
			}
			if got := l.ids(); !slices.Equal(got, want) {
				t.Errorf("GET /?%s\nfound %v, want %v", c.query, d.names(got), d.names(want))
			}
			if l.TotalResults != c.total {
				t.Errorf("totalResults %d, want %d", l.TotalResults, c.total)
			}
		})
	}
	// Each resource is rendered as its own endpoint renders it.
	l := d.mustList(t, "GET", "/?filter="+urlQuery(`id eq "`+d.carol+`" or id eq "`+d.devs+`"`), nil)
	for i, path := range []string{"/Users/" + d.carol, "/Groups/" + d.devs} {
		if got := d.mustDo(t, http.StatusOK, "GET", path, nil).object(t); !sameJSON(roundTrip(t, l.Resources[i]), got) {
			t.Errorf("root query renders %s as\n%s\nGET renders\n%s", path, toJSON(l.Resources[i]), toJSON(got))
		}
	}
	// POST /.search answers what GET / does.
	searched := d.mustDo(t, http.StatusOK, "POST", "/.search", map[string]any{"schemas": []string{searchSchema},
		"filter": `displayName sw "A" or meta.resourceType eq "Group"`, "attributes": []string{"displayName"}, "startIndex": 2, "count": 3})
	got := d.mustDo(t, http.StatusOK, "GET", "/?filter="+urlQuery(`displayName sw "A" or meta.resourceType eq "Group"`)+"&attributes=displayName&startIndex=2&count=3", nil)
	if !sameJSON(searched.object(t), got.object(t)) {
		t.Errorf("POST /.search and GET / differ:\nsearch %s\nGET    %s", searched.body, got.body)
	}
}

// TestRootQueryNeedsBothReadScopes: a root query reads users and groups, so
// a token needs get:users and get:groups.
func TestRootQueryNeedsBothReadScopes(t *testing.T) {
	tg := newTarget(t)
	tg.mustCreateUser(t, "root@acme.test", nil)
	for _, scopes := range [][]string{{"get:users"}, {"get:groups"}, {"post:users", "post:groups"}} {
		token := mustToken(t, tg.db, tg.con.ID, 0, scopes...)
		wantSCIMError(t, tg.do(t, "GET", "/", nil, withToken(token)), http.StatusForbidden, "")
		wantSCIMError(t, tg.do(t, "POST", "/.search", map[string]any{"schemas": []string{searchSchema}}, withToken(token)), http.StatusForbidden, "")
	}
	both := mustToken(t, tg.db, tg.con.ID, 0, "get:users", "get:groups")
	tg.mustDo(t, http.StatusOK, "GET", "/", nil, withToken(both))
}

// TestRootQueryErrorsAreSCIMErrors: a filter attribute no resource type has,
// a sortBy none can sort by, a bad SearchRequest.
func TestRootQueryErrorsAreSCIMErrors(t *testing.T) {
	tg := newTarget(t)
	for _, c := range []struct {
		query, scimType string
	}{
		{"filter=" + urlQuery(`nosuch eq "x"`), "invalidFilter"},
		{"filter=" + urlQuery(`userName eq "x" and nosuch pr`), "invalidFilter"},
		{"filter=" + urlQuery(`userName eq`), "invalidFilter"},
		{"sortBy=nosuch", "invalidValue"},
		{"sortOrder=up", "invalidValue"},
		{"count=x", "invalidValue"},
		{"cursor=garbage", "invalidCursor"},
		{"cursor&startIndex=2", "invalidValue"},
	} {
		wantSCIMError(t, tg.do(t, "GET", "/?"+c.query, nil), http.StatusBadRequest, c.scimType)
	}
	wantSCIMError(t, tg.do(t, "POST", "/.search", map[string]any{"filter": "userName pr"}), http.StatusBadRequest, "invalidSyntax")
	wantSCIMError(t, tg.do(t, "POST", "/", map[string]any{"schemas": []string{searchSchema}}), http.StatusMethodNotAllowed, "")
	wantSCIMError(t, tg.do(t, "GET", "/.search", nil), http.StatusMethodNotAllowed, "")
}
