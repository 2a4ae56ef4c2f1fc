package scim_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/scim"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// directory is a connection with users and groups whose attributes exercise
// every list plan: unique and shared externalIds, case variants, nested
// groups, a user in several groups, and a second connection beside it.
type directory struct {
	*target
	alice, bob, carol, dave, eve, kelvin string // user ids
	admins, devs, ops, empty             string // group ids
	foreignUser                          string // a user of another connection
	name                                 map[string]string
}

func newDirectory(t *testing.T) *directory {
	t.Helper()
	d := &directory{target: newTarget(t)}
	d.alice = d.mustCreateUser(t, "Alice@Acme.test", map[string]any{"externalId": "ext-a", "displayName": "Alice", "title": "Engineer",
		"emails": []any{map[string]any{"value": "alice@acme.test", "type": "work"}}})
	d.bob = d.mustCreateUser(t, "bob@acme.test", map[string]any{"externalId": "ext-shared", "title": "Engineer", "active": false})
	d.carol = d.mustCreateUser(t, "carol@acme.test", map[string]any{"externalId": "ext-shared", "title": "Manager",
		"emails": []any{map[string]any{"value": "carol@home.test", "type": "home"}}})
	d.dave = d.mustCreateUser(t, "Dave@acme.test", nil)
	d.eve = d.mustCreateUser(t, "eve@acme.test", map[string]any{"externalId": "EXT-A"})
	d.kelvin = d.mustCreateUser(t, "Kelvin@acme.test", nil)

	d.admins = d.mustCreateGroup(t, "Admins", map[string]any{"externalId": "gx"}, d.alice, d.bob)
	d.devs = d.mustCreateGroup(t, "Devs", map[string]any{"externalId": "gx"}, d.bob, d.carol)
	d.ops = d.mustCreateGroup(t, "Ops", nil, d.bob, d.admins)
	d.empty = d.mustCreateGroup(t, "Empty", nil)

	other := storetest.MustConnection(t, d.db, "other")
	d.foreignUser = storetest.MustUser(t, d.db, other.ID, "alice@acme.test").ID
	storetest.MustGroup(t, d.db, other.ID, "Admins", d.foreignUser)

	d.name = map[string]string{
		d.alice: "alice", d.bob: "bob", d.carol: "carol", d.dave: "dave", d.eve: "eve", d.kelvin: "kelvin",
		d.admins: "admins", d.devs: "devs", d.ops: "ops", d.empty: "empty", d.foreignUser: "foreign",
	}
	return d
}

// names maps ids to fixture names for readable failures.
func (d *directory) names(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		if n, ok := d.name[id]; ok {
			out[i] = n
		} else {
			out[i] = id
		}
	}
	return out
}

// scanVariants returns filter f as given (an index may serve it) and in
// forms no index plan accepts, which must find exactly the same resources.
func scanVariants(f string) map[string]string {
	return map[string]string{
		"as given":    f,
		"or itself":   "(" + f + ") or (" + f + ")",
		"not not":     "not (not (" + f + "))",
		"and present": "(" + f + ") and id pr",
	}
}

// TestListPlansFindTheSameUsersAsAScan runs every filter as given and in
// forms that force a scan: the ids, their order and totalResults agree, and
// match what the filter means.
func TestListPlansFindTheSameUsersAsAScan(t *testing.T) {
	d := newDirectory(t)
	cases := []struct {
		filter string
		want   []string
	}{
		{`userName eq "Alice@Acme.test"`, []string{d.alice}},
		{`userName eq "alice@acme.test"`, []string{d.alice}},
		{`userName eq "ALICE@ACME.TEST"`, []string{d.alice}},
		{`userName eq "\u212Aelvin@acme.test"`, []string{d.kelvin}}, // KELVIN SIGN folds to k
		{`userName eq "nobody@acme.test"`, nil},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "carol@acme.test"`, []string{d.carol}},
		{`USERNAME eq "dave@acme.test"`, []string{d.dave}},
		{`externalId eq "ext-shared"`, []string{d.bob, d.carol}},
		{`externalId eq "ext-a"`, []string{d.alice}},
		{`externalId eq "EXT-A"`, []string{d.eve}},
		{`externalId eq "ext"`, nil},
		{`id eq "` + d.carol + `"`, []string{d.carol}},
		{`id eq "` + d.admins + `"`, nil},
		{`id eq "` + d.foreignUser + `"`, nil},
		{`id eq "garbage"`, nil},
		{`userName eq "alice@acme.test" and active eq true`, []string{d.alice}},
		{`userName eq "bob@acme.test" and active eq true`, nil},
		{`externalId eq "ext-shared" and title eq "Manager"`, []string{d.carol}},
		{`externalId eq "ext-shared" and userName sw "B"`, []string{d.bob}},
		{`id eq "` + d.bob + `" and externalId eq "ext-shared"`, []string{d.bob}},
		{`id eq "` + d.bob + `" and externalId eq "ext-a"`, nil},
		{`title eq "Engineer"`, []string{d.alice, d.bob}},
		{`active eq false`, []string{d.bob}},
		{`emails[type eq "work"]`, []string{d.alice}},
		{`emails.value ew "@home.test"`, []string{d.carol}},
		{`groups.value eq "` + d.admins + `"`, []string{d.alice, d.bob}},
		{`groups[display eq "Devs"] and userName sw "c"`, []string{d.carol}},
		{`userName sw "a" or userName sw "d"`, []string{d.alice, d.dave}},
	}
	for _, c := range cases {
		for variant, f := range scanVariants(c.filter) {
			t.Run(c.filter+"/"+variant, func(t *testing.T) {
				l := d.mustList(t, "GET", "/Users?filter="+urlQuery(f), nil)
				want := c.want
				if want == nil {
					want = []string{}
				}
				// Order is checked by TestIndexPlansListInCreationOrderLikeAScan.
				if got := sorted(l.ids()...); !slices.Equal(got, sorted(want...)) {
					t.Errorf("filter %s\nfound %v, want %v", f, d.names(got), d.names(want))
				}
				if l.TotalResults != len(want) {
					t.Errorf("filter %s: totalResults %d, want %d", f, l.TotalResults, len(want))
				}
			})
		}
	}
}

// TestListPlansFindTheSameGroupsAsAScan does the same for groups, with the
// members plan (a user in several groups, nested groups, unknown members).
func TestListPlansFindTheSameGroupsAsAScan(t *testing.T) {
	d := newDirectory(t)
	cases := []struct {
		filter string
		want   []string
	}{
		{`displayName eq "Admins"`, []string{d.admins}},
		{`displayName eq "aDMINS"`, []string{d.admins}},
		{`displayName eq "Nobody"`, nil},
		{`externalId eq "gx"`, []string{d.admins, d.devs}},
		{`externalId eq "GX"`, nil},
		{`id eq "` + d.devs + `"`, []string{d.devs}},
		{`id eq "` + d.alice + `"`, nil},
		{`members eq "` + d.bob + `"`, []string{d.admins, d.devs, d.ops}},
		{`members eq "` + d.alice + `"`, []string{d.admins}},
		{`members eq "` + d.dave + `"`, nil},
		{`members eq "` + d.admins + `"`, []string{d.ops}},
		{`members eq "` + d.foreignUser + `"`, nil},
		{`members eq "usr_0000000000000000"`, nil},
		{`members.value eq "` + d.carol + `"`, []string{d.devs}},
		{`members[value eq "` + d.carol + `"]`, []string{d.devs}},
		{`id eq "` + d.admins + `" and members eq "` + d.alice + `"`, []string{d.admins}},
		{`id eq "` + d.admins + `" and members eq "` + d.carol + `"`, nil},
		{`members eq "` + d.bob + `" and displayName sw "d"`, []string{d.devs}},
		{`members eq "` + d.bob + `" and externalId eq "gx"`, []string{d.admins, d.devs}},
		{`displayName eq "Devs" and members eq "` + d.alice + `"`, nil},
		{`members pr`, []string{d.admins, d.devs, d.ops}},
		{`not (members pr)`, []string{d.empty}},
	}
	for _, c := range cases {
		for variant, f := range scanVariants(c.filter) {
			t.Run(c.filter+"/"+variant, func(t *testing.T) {
				l := d.mustList(t, "GET", "/Groups?filter="+urlQuery(f), nil)
				want := c.want
				if want == nil {
					want = []string{}
				}
				// Order is checked by TestIndexPlansListInCreationOrderLikeAScan.
				if got := sorted(l.ids()...); !slices.Equal(got, sorted(want...)) {
					t.Errorf("filter %s\nfound %v, want %v", f, d.names(got), d.names(want))
				}
				if l.TotalResults != len(want) {
					t.Errorf("filter %s: totalResults %d, want %d", f, l.TotalResults, len(want))
				}
			})
		}
	}
}

// TestMembersFilterWithAValueThatIsNotAnIDFindsNothing: members eq "…" with a
// value that is a prefix of real member ids (or empty) must find no group,
// as a scan does; the members plan prefix-scans the reverse index with it.
func TestMembersFilterWithAValueThatIsNotAnIDFindsNothing(t *testing.T) {
	d := newDirectory(t)
	for _, value := range []string{"usr", "usr_", d.bob[:10], d.admins[:12], "grp_", ""} {
		t.Run(value, func(t *testing.T) {
			f := `members eq "` + value + `"`
			for variant, vf := range scanVariants(f) {
				res := d.do(t, "GET", "/Groups?filter="+urlQuery(vf), nil)
				if res.status != http.StatusOK {
					t.Errorf("%s: %v\nwant 200 with no groups", variant, res)
					continue
				}
				if l := d.mustList(t, "GET", "/Groups?filter="+urlQuery(vf), nil); l.TotalResults != 0 {
					t.Errorf("%s: found %v, want none", vf, d.names(l.ids()))
				}
			}
		})
	}
}

// TestFilteredWindowsAgreeWithTheFullResult pages filtered results, with and
// without an index plan: each window is the matching slice of the full
// result of the same query, and totalResults counts every match.
func TestFilteredWindowsAgreeWithTheFullResult(t *testing.T) {
	d := newDirectory(t)
	cases := []struct {
		name       string
		filter     string
		start, cnt int
		matches    []string // in any order
	}{
		{"first of two shared externalIds", `externalId eq "ext-shared"`, 1, 1, []string{d.bob, d.carol}},
		{"second of two shared externalIds", `externalId eq "ext-shared"`, 2, 1, []string{d.bob, d.carol}},
		{"window past the matches", `externalId eq "ext-shared"`, 3, 5, []string{d.bob, d.carol}},
		{"count zero", `externalId eq "ext-shared"`, 1, 0, []string{d.bob, d.carol}},
		{"groups of bob, second and third", `members eq "` + d.bob + `"`, 2, 2, []string{d.admins, d.devs, d.ops}},
		{"scan, middle", `title eq "Engineer" or externalId eq "ext-shared"`, 2, 1, []string{d.alice, d.bob, d.carol}},
		{"index, exact user", `userName eq "CAROL@acme.test"`, 1, 10, []string{d.carol}},
	}
	for _, c := range cases {
		for variant, f := range scanVariants(c.filter) {
			t.Run(c.name+"/"+variant, func(t *testing.T) {
				endpoint := "/Users"
				if strings.HasPrefix(c.filter, "members") {
					endpoint = "/Groups"
				}
				full := d.mustList(t, "GET", endpoint+"?filter="+urlQuery(f), nil)
				if got := sorted(full.ids()...); !slices.Equal(got, sorted(c.matches...)) {
					t.Fatalf("filter %s found %v, want %v", f, d.names(got), d.names(sorted(c.matches...)))
				}
				query := "filter=" + urlQuery(f) + "&startIndex=" + itoa(c.start) + "&count=" + itoa(c.cnt)
				l := d.mustList(t, "GET", endpoint+"?"+query, nil)
				from := min(c.start-1, len(full.ids()))
				want := full.ids()[from:min(from+c.cnt, len(full.ids()))]
				if got := l.ids(); !slices.Equal(got, want) {
					t.Errorf("filter %s startIndex=%d count=%d\nfound %v, want %v (of %v)", f, c.start, c.cnt, d.names(got), d.names(want), d.names(full.ids()))
				}
				if l.TotalResults != len(c.matches) {
					t.Errorf("totalResults %d, want %d", l.TotalResults, len(c.matches))
				}
				if l.StartIndex != c.start || l.ItemsPerPage != len(want) {
					t.Errorf("startIndex %d, itemsPerPage %d; want %d, %d", l.StartIndex, l.ItemsPerPage, c.start, len(want))
				}
			})
		}
	}
}

// TestSortedListsAgreeAcrossPlans sorts filtered results (ties broken by id)
// with and without an index plan.
func TestSortedListsAgreeAcrossPlans(t *testing.T) {
	d := newDirectory(t)
	byName := []string{d.alice, d.bob, d.carol, d.dave, d.eve, d.kelvin} // case-insensitive userName order
	reversed := slices.Clone(byName)
	slices.Reverse(reversed)
	// title: Engineer (alice, bob), Manager (carol), then the users without
	// one; ties by id.
	byTitle := append(append(sorted(d.alice, d.bob), d.carol), sorted(d.dave, d.eve, d.kelvin)...)
	cases := []struct {
		name   string
		filter string
		query  string
		total  int
		want   []string
	}{
		{"case-insensitive", `userName pr`, "sortBy=userName", 6, byName},
		{"descending", `userName pr`, "sortBy=userName&sortOrder=descending", 6, reversed},
		{"window", `userName pr`, "sortBy=userName&startIndex=2&count=3", 6, byName[1:4]},
		{"descending window", `userName pr`, "sortBy=userName&sortOrder=descending&startIndex=5&count=5", 6, reversed[4:]},
		{"window past the end", `userName pr`, "sortBy=userName&startIndex=7", 6, nil},
		{"sortBy is case-insensitive", `userName pr`, "sortBy=USERNAME", 6, byName},
		{"sortOrder is case-insensitive", `userName pr`, "sortBy=userName&sortOrder=DESCENDING", 6, reversed},
		{"index plan", `userName eq "carol@acme.test"`, "sortBy=userName&sortOrder=descending", 1, []string{d.carol}},
		{"ties by id, missing last", `id pr`, "sortBy=title", 6, byTitle},
		{"shared externalIds descending", `externalId eq "ext-shared"`, "sortBy=userName&sortOrder=descending", 2, []string{d.carol, d.bob}},
		{"shared externalIds window", `externalId eq "ext-shared"`, "sortBy=userName&startIndex=2&count=1", 2, []string{d.carol}},
		{"count zero", `userName pr`, "sortBy=userName&count=0", 6, nil},
		{"no filter", ``, "sortBy=userName&sortOrder=descending&count=2", 6, reversed[:2]},
	}
	for _, c := range cases {
		variants := scanVariants(c.filter)
		if c.filter == "" {
			variants = map[string]string{"no filter": ""}
		}
		for variant, f := range variants {
			t.Run(c.name+"/"+variant, func(t *testing.T) {
				path := "/Users?" + c.query
				if f != "" {
					path += "&filter=" + urlQuery(f)
				}
				l := d.mustList(t, "GET", path, nil)
				want := c.want
				if want == nil {
					want = []string{}
				}
				if got := l.ids(); !slices.Equal(got, want) {
					t.Errorf("filter %s %s\nfound %v, want %v", f, c.query, d.names(got), d.names(want))
				}
				if l.TotalResults != c.total {
					t.Errorf("filter %s %s: totalResults %d, want %d", f, c.query, l.TotalResults, c.total)
				}
			})
		}
	}
	// Groups sort by displayName case-insensitively too.
	l := d.mustList(t, "GET", "/Groups?sortBy=displayName&sortOrder=descending", nil)
	if got, want := l.ids(), []string{d.ops, d.empty, d.devs, d.admins}; !slices.Equal(got, want) {
		t.Errorf("groups by displayName descending: %v, want %v", d.names(got), d.names(want))
	}
}

// TestIndexPlansListInCreationOrderLikeAScan: without sortBy, results come in
// creation order (list.go's candidates says so), whatever the plan. Many
// records created in one commit share their ids' millisecond, so id order
// and creation order differ.
func TestIndexPlansListInCreationOrderLikeAScan(t *testing.T) {
	tg := newTarget(t)
	const n = 20
	var user store.User
	storetest.MustUpdate(t, tg.db, func(tx *store.Tx) error {
		var err error
		if user, err = tx.CreateUser(store.User{ConnectionID: tg.con.ID, UserName: "member@acme.test", Active: true,
			Doc: []byte(`{"userName":"member@acme.test","active":true}`)}); err != nil {
			return err
		}
		for i := range n {
			name := "same-" + itoa(i)
			if _, err := tx.CreateUser(store.User{ConnectionID: tg.con.ID, UserName: name, ExternalID: "same", Active: true,
				Doc: []byte(`{"userName":"` + name + `","externalId":"same","active":true}`)}); err != nil {
				return err
			}
			if _, err := tx.CreateGroup(store.Group{ConnectionID: tg.con.ID, DisplayName: name, ExternalID: "same",
				Doc: []byte(`{"displayName":"` + name + `","externalId":"same"}`)}, []store.Member{{ID: user.ID}}); err != nil {
				return err
			}
		}
		return nil
	})
	for _, c := range []struct{ endpoint, filter string }{
		{"/Users", `externalId eq "same"`},
		{"/Groups", `externalId eq "same"`},
		{"/Groups", `members eq "` + user.ID + `"`},
	} {
		indexed := tg.mustList(t, "GET", c.endpoint+"?filter="+urlQuery(c.filter), nil).ids()
		scanned := tg.mustList(t, "GET", c.endpoint+"?filter="+urlQuery("not (not ("+c.filter+"))"), nil).ids()
		if !slices.Equal(indexed, scanned) {
			t.Errorf("%s %s: the index plan lists\n%v\nthe scan lists\n%v", c.endpoint, c.filter, indexed, scanned)
		}
	}
}

// TestCountZeroAnswersOnlyTheTotal, filtered or not, users and groups.
func TestCountZeroAnswersOnlyTheTotal(t *testing.T) {
	d := newDirectory(t)
	for _, c := range []struct {
		path  string
		total int
	}{
		{"/Users?count=0", 6},
		{"/Groups?count=0", 4},
		{"/Users?count=0&filter=" + urlQuery(`title eq "Engineer"`), 2},
		{"/Groups?count=0&filter=" + urlQuery(`members eq "`+d.bob+`"`), 3},
		{"/Users?count=0&sortBy=userName", 6},
	} {
		l := d.mustList(t, "GET", c.path, nil)
		if l.TotalResults != c.total || len(l.Resources) != 0 || l.ItemsPerPage != 0 {
			t.Errorf("GET %s: totalResults %d, %d resources, itemsPerPage %d; want %d, 0, 0", c.path, l.TotalResults, len(l.Resources), l.ItemsPerPage, c.total)
		}
	}
}

// TestUnfilteredPagesWalkTheConnectionOnce pages through users with every
// kind of startIndex and count.
func TestUnfilteredPagesWalkTheConnectionOnce(t *testing.T) {
	tg := newTargetWith(t, store.Options{}, scim.Options{MaxResults: 5})
	var all []string
	for i := range 12 {
		all = append(all, tg.mustCreateUser(t, "page-"+itoa(i)+"@acme.test", nil))
	}
	// The other connection's users never show up.
	other := storetest.MustConnection(t, tg.db, "other")
	storetest.MustUser(t, tg.db, other.ID, "page-0@acme.test")

	cases := []struct {
		name, query    string
		wantStartIndex int
		want           []string
	}{
		{"first page", "startIndex=1&count=4", 1, all[0:4]},
		{"middle page", "startIndex=5&count=4", 5, all[4:8]},
		{"last partial page", "startIndex=11&count=4", 11, all[10:12]},
		{"just past the end", "startIndex=13&count=4", 13, nil},
		{"far past the end", "startIndex=1000000&count=4", 1000000, nil},
		{"startIndex 0 means 1", "startIndex=0&count=2", 1, all[0:2]},
		{"negative startIndex means 1", "startIndex=-7&count=2", 1, all[0:2]},
		{"count above the maximum is capped", "count=1000", 1, all[0:5]},
		{"no count is the maximum", "", 1, all[0:5]},
		{"negative count is zero", "count=-3", 1, nil},
		{"count 0", "count=0", 1, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := tg.mustList(t, "GET", "/Users?"+c.query, nil)
			want := c.want
			if want == nil {
				want = []string{}
			}
			if got := l.ids(); !slices.Equal(got, want) {
				t.Errorf("GET /Users?%s: ids %v, want %v", c.query, got, want)
			}
			if l.TotalResults != len(all) {
				t.Errorf("totalResults %d, want %d", l.TotalResults, len(all))
			}
			if l.StartIndex != c.wantStartIndex {
				t.Errorf("startIndex %d, want %d", l.StartIndex, c.wantStartIndex)
			}
			if l.ItemsPerPage != len(want) {
				t.Errorf("itemsPerPage %d, want %d", l.ItemsPerPage, len(want))
			}
		})
	}

	// Walking page by page gives every user once, in a stable order.
	var walked []string
	for start := 1; start <= len(all); start += 3 {
		walked = append(walked, tg.mustList(t, "GET", "/Users?count=3&startIndex="+itoa(start), nil).ids()...)
	}
	if !slices.Equal(walked, all) {
		t.Errorf("walking pages of 3 gave %v, want %v", walked, all)
	}
}

// TestNonIntegerPagingParametersAre400 covers count and startIndex.
func TestNonIntegerPagingParametersAre400(t *testing.T) {
	tg := newTarget(t)
	for _, q := range []string{
		"count=abc", "count=1.5", "count=", "count=1e3", "count=0x10",
		"startIndex=one", "startIndex=2.0", "startIndex=99999999999999999999999",
		"count=99999999999999999999999",
	} {
		for _, endpoint := range []string{"/Users", "/Groups"} {
			res := tg.do(t, "GET", endpoint+"?"+q, nil)
			if q == "count=" {
				// An empty parameter is an absent one.
				if res.status != http.StatusOK {
					t.Errorf("%v\nwant 200 for an empty count", res)
				}
				continue
			}
			wantSCIMError(t, res, http.StatusBadRequest, "invalidValue")
		}
	}
}

// TestDeletedUsersLeaveLaterPagesWithoutDuplicates deletes users between two
// page reads: the deleted ones are gone and no user of the first page
// reappears on the second.
func TestDeletedUsersLeaveLaterPagesWithoutDuplicates(t *testing.T) {
	tg := newTarget(t)
	var all []string
	for i := range 9 {
		all = append(all, tg.mustCreateUser(t, "del-"+itoa(i)+"@acme.test", nil))
	}
	first := tg.mustList(t, "GET", "/Users?startIndex=1&count=3", nil).ids()
	tg.mustDo(t, http.StatusNoContent, "DELETE", "/Users/"+all[1], nil) // on the first page
	tg.mustDo(t, http.StatusNoContent, "DELETE", "/Users/"+all[4], nil) // on the second page
	second := tg.mustList(t, "GET", "/Users?startIndex=4&count=3", nil)
	for _, id := range second.ids() {
		if slices.Contains(first, id) {
			t.Errorf("user %s of the first page shows up again on the second: %v", id, second.ids())
		}
		if id == all[1] || id == all[4] {
			t.Errorf("deleted user %s is still listed: %v", id, second.ids())
		}
	}
	if second.TotalResults != len(all)-2 {
		t.Errorf("totalResults %d after two deletions, want %d", second.TotalResults, len(all)-2)
	}
	// The filtered and sorted plans agree.
	for _, q := range []string{"filter=" + urlQuery("userName sw \"del-\""), "sortBy=userName"} {
		l := tg.mustList(t, "GET", "/Users?"+q, nil)
		if slices.Contains(l.ids(), all[1]) || slices.Contains(l.ids(), all[4]) || l.TotalResults != len(all)-2 {
			t.Errorf("GET /Users?%s after deletions: %v (total %d)", q, l.ids(), l.TotalResults)
		}
	}
}

// TestListErrorsAreSCIMErrors: bad filters, sortOrder and sortBy.
func TestListErrorsAreSCIMErrors(t *testing.T) {
	tg := newTarget(t)
	tg.mustCreateUser(t, "x@acme.test", nil)
	for _, c := range []struct {
		query, scimType string
	}{
		{"filter=" + urlQuery(`userName eq`), "invalidFilter"},
		{"filter=" + urlQuery(`userName zz "x"`), "invalidFilter"},
		{"filter=" + urlQuery(`(userName eq "x"`), "invalidFilter"},
		{"filter=" + urlQuery(`nosuchattribute eq "x"`), "invalidFilter"},
		{"filter=" + urlQuery(`emails[type eq "work"`), "invalidFilter"},
		{"sortOrder=sideways", "invalidValue"},
	} {
		res := tg.do(t, "GET", "/Users?"+c.query, nil)
		wantSCIMError(t, res, http.StatusBadRequest, c.scimType)
	}
}

// TestSearchAnswersWhatTheEquivalentGetDoes compares POST /.search with GET
// for the same query, users and groups.
func TestSearchAnswersWhatTheEquivalentGetDoes(t *testing.T) {
	d := newDirectory(t)
	cases := []struct {
		endpoint string
		search   map[string]any
		query    string
	}{
		{"/Users", map[string]any{}, ""},
		{"/Users", map[string]any{"filter": `title eq "Engineer"`}, "filter=" + urlQuery(`title eq "Engineer"`)},
		{"/Users", map[string]any{"filter": `userName sw "a" or externalId eq "ext-shared"`, "attributes": []string{"userName", "emails"}, "sortBy": "userName", "sortOrder": "descending", "startIndex": 2, "count": 2},
			"filter=" + urlQuery(`userName sw "a" or externalId eq "ext-shared"`) + "&attributes=userName,emails&sortBy=userName&sortOrder=descending&startIndex=2&count=2"},
		{"/Users", map[string]any{"excludedAttributes": []string{"groups", "emails"}, "startIndex": 0, "count": 3}, "excludedAttributes=groups,emails&startIndex=0&count=3"},
		{"/Users", map[string]any{"startIndex": -4, "count": 0}, "startIndex=-4&count=0"},
		{"/Users", map[string]any{"count": 1000000}, "count=1000000"},
		{"/Users", map[string]any{"filter": `userName eq "ALICE@acme.test"`}, "filter=" + urlQuery(`userName eq "ALICE@acme.test"`)},
		{"/Groups", map[string]any{"filter": `members eq "` + d.bob + `"`, "excludedAttributes": []string{"members"}}, "filter=" + urlQuery(`members eq "`+d.bob+`"`) + "&excludedAttributes=members"},
		{"/Groups", map[string]any{"attributes": []string{"displayName", "members.value"}, "sortBy": "displayName"}, "attributes=displayName,members.value&sortBy=displayName"},
	}
	for _, c := range cases {
		t.Run(c.endpoint+"?"+c.query, func(t *testing.T) {
			body := map[string]any{"schemas": []string{searchSchema}}
			for k, v := range c.search {
				body[k] = v
			}
			searched := d.mustDo(t, http.StatusOK, "POST", c.endpoint+"/.search", body)
			got := d.mustDo(t, http.StatusOK, "GET", c.endpoint+"?"+c.query, nil)
			if !sameJSON(searched.object(t), got.object(t)) {
				t.Errorf("POST .search and GET differ:\nsearch %s\nGET    %s", searched.body, got.body)
			}
		})
	}
}

// TestSearchRejectsBadRequests: a SearchRequest must name its schema and be
// POSTed.
func TestSearchRejectsBadRequests(t *testing.T) {
	tg := newTarget(t)
	for _, c := range []struct {
		name     string
		body     any
		scimType string
	}{
		{"no schemas", map[string]any{"filter": `userName pr`}, "invalidSyntax"},
		{"wrong schema", map[string]any{"schemas": []string{patchSchema}}, "invalidSyntax"},
		{"schemas not a list", map[string]any{"schemas": searchSchema}, "invalidSyntax"},
		{"not JSON", "{", "invalidSyntax"},
		{"empty body", "", "invalidSyntax"},
		{"bad filter", map[string]any{"schemas": []string{searchSchema}, "filter": "userName eq"}, "invalidFilter"},
		{"bad sortOrder", map[string]any{"schemas": []string{searchSchema}, "sortOrder": "up"}, "invalidValue"},
		{"count not a number", map[string]any{"schemas": []string{searchSchema}, "count": "ten"}, "invalidSyntax"},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantSCIMError(t, tg.do(t, "POST", "/Users/.search", c.body), http.StatusBadRequest, c.scimType)
		})
	}
	for _, method := range []string{"GET", "PUT", "PATCH", "DELETE"} {
		for _, endpoint := range []string{"/Users/.search", "/Groups/.search"} {
			wantSCIMError(t, tg.do(t, method, endpoint, nil), http.StatusMethodNotAllowed, "")
		}
	}
}

// TestCursorPaginationIsServed: DESIGN §6 promises cursor pagination (RFC
// 9865) beside startIndex/count.
func TestCursorPaginationIsServed(t *testing.T) {
	tg := newTarget(t)
	for i := range 3 {
		tg.mustCreateUser(t, "cursor-"+itoa(i)+"@acme.test", nil)
	}
	res := tg.mustDo(t, http.StatusOK, "GET", "/Users?cursor&count=2", nil)
	if str(res.object(t)["nextCursor"]) == "" {
		t.Errorf("%v\nno nextCursor with two of three users", res)
	}
}

// budgetDirectory is a directory with users of very different sizes (a few
// large ones, one larger than the page budget), served twice over the same
// store: budgeted with pageBytes, and unbounded as the reference.
type budgetDirectory struct {
	*directory
	ref *target
}

func newBudgetDirectory(t *testing.T, pageBytes int) *budgetDirectory {
	t.Helper()
	db := storetest.Open(t, store.Options{NoSync: true})
	tg := newTargetOn(t, db, scim.NewHandler(db, scim.Options{ListPageBytes: pageBytes}))
	d := &directory{target: tg, name: map[string]string{}}
	for i := range 14 {
		attrs := map[string]any{"title": "Engineer"}
		switch i % 5 {
		case 1:
			attrs["title"] = strings.Repeat("E", pageBytes/3) // three of these nearly fill a page
		case 3:
			attrs["displayName"] = strings.Repeat("d", pageBytes/2)
		}
		if i == 6 {
			attrs["title"] = strings.Repeat("T", 3*pageBytes) // larger than a page: alone
		}
		id := d.mustCreateUser(t, "u"+itoa(i)+"@acme.test", attrs)
		d.name[id] = "u" + itoa(i)
	}
	d.mustCreateGroup(t, "Everyone", nil, slices.Collect(func(yield func(string) bool) {
		for id := range d.name {
			if !yield(id) {
				return
			}
		}
	})...)
	ref := *tg
	ref.srv = httptest.NewServer(scim.NewHandler(db, scim.Options{}))
	t.Cleanup(ref.srv.Close)
	ref.base = ref.srv.URL + scim.PathPrefix + tg.con.ID
	return &budgetDirectory{directory: d, ref: &ref}
}

var budgetQueries = []string{
	"/Users",
	"/Users?filter=" + urlQuery(`title pr`),
	"/Users?filter=" + urlQuery(`not (title sw "T")`),
	"/Users?sortBy=title",
	"/Users?sortBy=userName&sortOrder=descending",
	"/Users?attributes=userName,title",
	"/",
	"/?filter=" + urlQuery(`displayName pr or userName pr`),
	"/?sortBy=displayName",
}

// TestListPagesStopAtTheByteBudget pages listings of large users with a
// small page budget, by startIndex and by cursor (forward and back): each
// page holds at most the budget or a single larger resource, itemsPerPage
// says how many came, and the pages together are exactly the unbounded
// listing, in its order.
func TestListPagesStopAtTheByteBudget(t *testing.T) {
	const budget = 6 << 10
	d := newBudgetDirectory(t, budget)
	for _, q := range budgetQueries {
		sep := "?"
		if strings.Contains(q, "?") {
			sep = "&"
		}
		t.Run(q, func(t *testing.T) {
			full := d.ref.mustList(t, "GET", q, nil)
			if full.TotalResults < 10 {
				t.Fatalf("reference listing has %d resources; the fixture is too small", full.TotalResults)
			}
			var got []string
			short := false
			for start := 1; start <= full.TotalResults; {
				res := d.mustDo(t, http.StatusOK, "GET", q+sep+"count=50&startIndex="+itoa(start), nil)
				var l list
				if err := json.Unmarshal(res.body, &l); err != nil {
					t.Fatal(err)
				}
				if l.ItemsPerPage != len(l.Resources) || l.StartIndex != start || l.TotalResults != full.TotalResults {
					t.Fatalf("startIndex %d: itemsPerPage %d, %d resources, startIndex %d, totalResults %d; want %d, %d, %d",
						start, l.ItemsPerPage, len(l.Resources), l.StartIndex, l.TotalResults, len(l.Resources), start, full.TotalResults)
				}
				if len(l.Resources) == 0 {
					t.Fatalf("startIndex %d of %d: an empty page makes no progress", start, full.TotalResults)
				}
				if size := len(toJSON(l.Resources)); len(l.Resources) > 1 && size > budget {
					t.Errorf("startIndex %d: %d resources in %d bytes, over the budget of %d", start, len(l.Resources), size, budget)
				}
				short = short || len(l.Resources) < min(50, full.TotalResults-start+1)
				got = append(got, l.ids()...)
				start += l.ItemsPerPage
			}
			if !short {
				t.Errorf("no page was cut short by the budget")
			}
			if !slices.Equal(got, full.ids()) {
				t.Errorf("startIndex pages give\n%v\nthe unbounded listing is\n%v", d.names(got), d.names(full.ids()))
			}
			d.walkBudgeted(t, q+sep+"count=50", nil, full, budget)
		})
	}
	// POST .search pages the same way.
	search := map[string]any{"schemas": []string{searchSchema}, "filter": `title pr`, "count": 50}
	d.walkBudgeted(t, "/Users/.search", search, d.ref.mustList(t, "GET", "/Users?filter="+urlQuery(`title pr`), nil), budget)
}

// walkBudgeted follows nextCursor from the first page to the last, then
// previousCursor back to the first: each way the pages hold exactly the
// listing full, in its order, and none is over budget unless it holds one
// resource. (The pages need not be the same both ways: each is filled
// greedily from where it starts.)
func (d *budgetDirectory) walkBudgeted(t *testing.T, path string, search map[string]any, full list, budget int) {
	t.Helper()
	check := func(p cursorPage) {
		if size := len(toJSON(p.Resources)); len(p.Resources) > 1 && size > budget {
			t.Errorf("%s: a page of %d resources in %d bytes, over the budget of %d", path, len(p.Resources), size, budget)
		}
		if len(p.Resources) == 0 || p.TotalResults != full.TotalResults {
			t.Fatalf("%s: a page of %d resources with totalResults %d, want some of %d", path, len(p.Resources), p.TotalResults, full.TotalResults)
		}
	}
	var forward []string
	p := d.mustCursorPage(t, path, "", search)
	for i := 0; ; i++ {
		check(p)
		forward = append(forward, p.ids()...)
		if p.NextCursor == nil || i > len(full.Resources) {
			break
		}
		p = d.mustCursorPage(t, path, *p.NextCursor, search)
	}
	if !slices.Equal(forward, full.ids()) {
		t.Errorf("%s: nextCursor pages give\n%v\nthe unbounded listing is\n%v", path, d.names(forward), d.names(full.ids()))
	}
	backward := p.ids()
	for i := 0; p.PreviousCursor != nil && i <= len(full.Resources); i++ {
		p = d.mustCursorPage(t, path, *p.PreviousCursor, search)
		check(p)
		backward = append(p.ids(), backward...)
	}
	if !slices.Equal(backward, full.ids()) {
		t.Errorf("%s: previousCursor pages give\n%v\nthe unbounded listing is\n%v", path, d.names(backward), d.names(full.ids()))
	}
}

// TestListPageBudgetAlsoBoundsGroups: a group's members count toward the
// page: a group whose members alone exceed the budget comes alone.
func TestListPageBudgetAlsoBoundsGroups(t *testing.T) {
	d := newBudgetDirectory(t, 2<<10)
	small := d.mustCreateGroup(t, "Nobody", nil)
	l := d.mustList(t, "GET", "/Groups?count=10", nil)
	if l.TotalResults != 2 || len(l.Resources) != 1 || l.ItemsPerPage != 1 {
		t.Fatalf("first page: totalResults %d, itemsPerPage %d, %d resources; want 2, 1, 1", l.TotalResults, l.ItemsPerPage, len(l.Resources))
	}
	l = d.mustList(t, "GET", "/Groups?count=10&startIndex=2", nil)
	if !slices.Equal(l.ids(), []string{small}) {
		t.Errorf("second page = %v, want the small group", l.ids())
	}
	// Without members, both fit.
	if l = d.mustList(t, "GET", "/Groups?count=10&excludedAttributes=members", nil); len(l.Resources) != 2 {
		t.Errorf("excludedAttributes=members: %d resources, want 2", len(l.Resources))
	}
}
