package scim_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/scim"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// cursorPage is a decoded cursor-paged ListResponse.
type cursorPage struct {
	list
	NextCursor     *string `json:"nextCursor"`
	PreviousCursor *string `json:"previousCursor"`
	raw            map[string]any
}

// mustCursorPage GETs one cursor page of path (which has its query but no
// cursor) or POSTs its SearchRequest body when search is set.
func (tg *target) mustCursorPage(t *testing.T, path, cursor string, search map[string]any) cursorPage {
	t.Helper()
	var res response
	if search != nil {
		body := map[string]any{"cursor": cursor}
		for k, v := range search {
			body[k] = v
		}
		res = tg.mustDo(t, http.StatusOK, "POST", path, body)
	} else {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		q := "cursor"
		if cursor != "" {
			q += "=" + urlQuery(cursor)
		}
		res = tg.mustDo(t, http.StatusOK, "GET", path+sep+q, nil)
	}
	var p cursorPage
	if err := json.Unmarshal(res.body, &p); err != nil {
		t.Fatalf("%v\nnot a ListResponse: %v", res, err)
	}
	p.raw = res.object(t)
	if !slices.Contains(p.Schemas, listSchema) || p.Resources == nil {
		t.Fatalf("%v\nnot a ListResponse", res)
	}
	for _, c := range []*string{p.NextCursor, p.PreviousCursor} {
		if c != nil && (*c == "" || strings.Trim(*c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") != "") {
			t.Fatalf("%v\ncursor %q is empty or has characters outside RFC 3986's unreserved set", res, *c)
		}
	}
	if _, ok := p.raw["startIndex"]; ok {
		t.Errorf("%v\na cursor-paged answer has startIndex", res)
	}
	if p.ItemsPerPage != len(p.Resources) {
		t.Errorf("%v\nitemsPerPage %d with %d resources", res, p.ItemsPerPage, len(p.Resources))
	}
	return p
}

// walkCursor follows nextCursor from the first page to the last and returns
// every id in order, checking that the first page has no previousCursor and
// the last no nextCursor, and that previousCursor walks back through the
// same pages.
func (tg *target) walkCursor(t *testing.T, path string, search map[string]any, total int) []string {
	t.Helper()
	var ids []string
	var pages [][]string
	cursor := ""
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatalf("%s: more than 100 pages", path)
		}
		p := tg.mustCursorPage(t, path, cursor, search)
		if i == 0 && p.PreviousCursor != nil {
			t.Errorf("%s: the first page has a previousCursor", path)
		}
		if i > 0 && p.PreviousCursor == nil && len(p.Resources) > 0 {
			t.Errorf("%s: page %d has no previousCursor", path, i+1)
		}
		if p.TotalResults != total {
			t.Errorf("%s: page %d says totalResults %d, want %d", path, i+1, p.TotalResults, total)
		}
		ids = append(ids, p.ids()...)
		pages = append(pages, p.ids())
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	// Walk back from the last page.
	back := tg.mustCursorPage(t, path, cursor, search)
	for i := len(pages) - 2; i >= 0 && back.PreviousCursor != nil; i-- {
		back = tg.mustCursorPage(t, path, *back.PreviousCursor, search)
		if !slices.Equal(back.ids(), pages[i]) {
			t.Errorf("%s: previousCursor to page %d gives %v, forward it was %v", path, i+1, back.ids(), pages[i])
		}
		if i == 0 && back.PreviousCursor != nil {
			t.Errorf("%s: walking back, the first page has a previousCursor", path)
		}
	}
	return ids
}

// TestCursorPagesWalkEveryPlanOnce: nextCursor walks each listing (no filter,
// an index plan, a scan, sorted, a root query; GET and POST .search) page by
// page to exactly the resources of the unpaged listing, in its order.
func TestCursorPagesWalkEveryPlanOnce(t *testing.T) {
	d := newDirectory(t)
	for i := range 7 {
		d.mustCreateUser(t, "more-"+itoa(i)+"@acme.test", map[string]any{"externalId": "ext-shared", "title": "Engineer"})
	}
	queries := []string{
		"/Users",
		"/Users?filter=" + urlQuery(`externalId eq "ext-shared"`),
		"/Users?filter=" + urlQuery(`title eq "Engineer" or userName sw "d"`),
		"/Users?sortBy=userName",
		"/Users?sortBy=title&sortOrder=descending",
		"/Users?filter=" + urlQuery(`externalId eq "ext-shared"`) + "&sortBy=userName&sortOrder=descending",
		"/Groups?filter=" + urlQuery(`members eq "`+d.bob+`"`),
		"/Groups?sortBy=displayName",
		"/",
		"/?sortBy=displayName",
		"/?filter=" + urlQuery(`displayName pr or userName sw "m"`),
	}
	for _, q := range queries {
		for _, count := range []int{1, 2, 3, 50} {
			t.Run(q+"/count="+itoa(count), func(t *testing.T) {
				full := d.mustList(t, "GET", q, nil)
				sep := "?"
				if strings.Contains(q, "?") {
					sep = "&"
				}
				got := d.walkCursor(t, q+sep+"count="+itoa(count), nil, full.TotalResults)
				if !slices.Equal(got, full.ids()) {
					t.Errorf("cursor pages of %d give\n%v\nthe unpaged listing is\n%v", count, d.names(got), d.names(full.ids()))
				}
			})
		}
	}
	// POST .search pages the same way, the cursor in the body.
	search := map[string]any{"schemas": []string{searchSchema}, "filter": `title eq "Engineer"`, "sortBy": "userName", "count": 2}
	full := d.mustList(t, "GET", "/Users?filter="+urlQuery(`title eq "Engineer"`)+"&sortBy=userName", nil)
	if got := d.walkCursor(t, "/Users/.search", search, full.TotalResults); !slices.Equal(got, full.ids()) {
		t.Errorf("POST .search cursor pages give %v, want %v", d.names(got), d.names(full.ids()))
	}
	if got := d.walkCursor(t, "/.search", map[string]any{"schemas": []string{searchSchema}, "count": 4}, 17); len(got) != 17 {
		t.Errorf("POST /.search cursor pages give %d resources, want 17", len(got))
	}
}

// TestCursorPagesAreStableUnderWrites creates and deletes users between page
// requests: no user is listed twice or skipped that existed throughout, and
// the deleted ones disappear, in creation order and sorted.
func TestCursorPagesAreStableUnderWrites(t *testing.T) {
	for _, q := range []string{"/Users?count=3", "/Users?count=3&sortBy=userName", "/Users?count=3&filter=" + urlQuery(`userName sw "s-"`)} {
		t.Run(q, func(t *testing.T) {
			tg := newTarget(t)
			var all []string
			for i := range 9 {
				all = append(all, tg.mustCreateUser(t, "s-"+itoa(i)+"@acme.test", nil))
			}
			first := tg.mustCursorPage(t, q, "", nil)
			if !slices.Equal(first.ids(), all[:3]) {
				t.Fatalf("first page %v, want %v", first.ids(), all[:3])
			}
			// Delete the page's last user and the next page's first; add
			// users that sort first and last.
			tg.mustDo(t, http.StatusNoContent, "DELETE", "/Users/"+all[2], nil)
			tg.mustDo(t, http.StatusNoContent, "DELETE", "/Users/"+all[3], nil)
			early := tg.mustCreateUser(t, "s-0a@acme.test", nil)
			late := tg.mustCreateUser(t, "s-99@acme.test", nil)
			var rest []string
			cursor := *first.NextCursor
			for {
				p := tg.mustCursorPage(t, q, cursor, nil)
				rest = append(rest, p.ids()...)
				if p.NextCursor == nil {
					break
				}
				cursor = *p.NextCursor
			}
			// In creation order both new users come after the cursor;
			// sorted by userName, s-0a sorts before it and s-99 last.
			want := append(slices.Clone(all[4:]), early, late)
			if strings.Contains(q, "sortBy") {
				want = append(slices.Clone(all[4:]), late)
			}
			if !slices.Equal(rest, want) {
				t.Errorf("after writes, the following pages list %v, want %v", rest, want)
			}
		})
	}
}

// TestCursorErrors: a cursor that is not one, one of another query, cursor
// with startIndex.
func TestCursorErrors(t *testing.T) {
	tg := newTarget(t)
	for i := range 3 {
		tg.mustCreateUser(t, "c-"+itoa(i)+"@acme.test", nil)
	}
	sortedCursor := *tg.mustCursorPage(t, "/Users?count=1&sortBy=userName", "", nil).NextCursor
	plainCursor := *tg.mustCursorPage(t, "/Users?count=1", "", nil).NextCursor
	groupCursor := ""
	tg.mustCreateGroup(t, "G1", nil)
	tg.mustCreateGroup(t, "G2", nil)
	groupCursor = *tg.mustCursorPage(t, "/Groups?count=1", "", nil).NextCursor
	for _, c := range []struct{ name, query string }{
		{"not base64", "/Users?cursor=%21%21%21"},
		{"base64 of garbage", "/Users?cursor=Z2FyYmFnZQ"},
		{"a JSON that is no cursor", "/Users?cursor=e30"},
		{"sorted cursor on an unsorted query", "/Users?cursor=" + sortedCursor},
		{"unsorted cursor on a sorted query", "/Users?sortBy=userName&cursor=" + plainCursor},
		{"another sort order", "/Users?sortBy=userName&sortOrder=descending&cursor=" + sortedCursor},
		{"another filter", "/Users?filter=" + urlQuery(`userName pr`) + "&cursor=" + plainCursor},
		{"another endpoint", "/Users?cursor=" + groupCursor},
		{"a root query", "/?cursor=" + plainCursor},
		{"too long", "/Users?cursor=" + strings.Repeat("A", 70000)},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantSCIMError(t, tg.do(t, "GET", c.query, nil), http.StatusBadRequest, "invalidCursor")
		})
	}
	// Another connection cannot use this one's cursor.
	other := newTargetOn(t, tg.db, scim.NewHandler(tg.db, scim.Options{}))
	other.mustCreateUser(t, "o-1@acme.test", nil)
	wantSCIMError(t, other.do(t, "GET", "/Users?count=1&cursor="+plainCursor, nil), http.StatusBadRequest, "invalidCursor")
	// cursor and startIndex together.
	wantSCIMError(t, tg.do(t, "GET", "/Users?cursor&startIndex=2", nil), http.StatusBadRequest, "invalidValue")
	wantSCIMError(t, tg.do(t, "POST", "/Users/.search", map[string]any{"schemas": []string{searchSchema}, "cursor": "", "startIndex": 1}), http.StatusBadRequest, "invalidValue")
	wantSCIMError(t, tg.do(t, "POST", "/Users/.search", map[string]any{"schemas": []string{searchSchema}, "cursor": "x"}), http.StatusBadRequest, "invalidCursor")
	// A different count and projection are fine.
	p := tg.mustCursorPage(t, "/Users?count=2&attributes=userName", plainCursor, nil)
	if len(p.Resources) != 2 {
		t.Errorf("the second page with count=2 has %d users, want 2", len(p.Resources))
	}
}

// TestCursorPageSizes: count 0 answers only the total; no count is the
// maximum; a cursor past the last page is an empty last page.
func TestCursorPageSizes(t *testing.T) {
	tg := newTargetWith(t, store.Options{}, scim.Options{MaxResults: 4})
	for i := range 6 {
		tg.mustCreateUser(t, "size-"+itoa(i)+"@acme.test", nil)
	}
	zero := tg.mustCursorPage(t, "/Users?count=0", "", nil)
	if zero.TotalResults != 6 || len(zero.Resources) != 0 || zero.NextCursor != nil {
		t.Errorf("count=0: totalResults %d, %d resources, nextCursor %v; want 6, 0, none", zero.TotalResults, len(zero.Resources), zero.NextCursor)
	}
	first := tg.mustCursorPage(t, "/Users", "", nil)
	if len(first.Resources) != 4 || first.NextCursor == nil {
		t.Errorf("no count: %d resources, nextCursor %v; want 4 and a cursor", len(first.Resources), first.NextCursor)
	}
	last := tg.mustCursorPage(t, "/Users", *first.NextCursor, nil)
	if len(last.Resources) != 2 || last.NextCursor != nil || last.PreviousCursor == nil {
		t.Errorf("last page: %d resources, nextCursor %v, previousCursor %v; want 2, none, one", len(last.Resources), last.NextCursor, last.PreviousCursor)
	}
	// Everything after the cursor is deleted: an empty last page.
	storetest.MustUpdate(t, tg.db, func(tx *store.Tx) error {
		for _, id := range last.ids() {
			if err := tx.DeleteUser(tg.con.ID, id); err != nil {
				return err
			}
		}
		return nil
	})
	empty := tg.mustCursorPage(t, "/Users", *first.NextCursor, nil)
	if len(empty.Resources) != 0 || empty.NextCursor != nil || empty.TotalResults != 4 {
		t.Errorf("after deleting the last page: %d resources, nextCursor %v, total %d; want 0, none, 4", len(empty.Resources), empty.NextCursor, empty.TotalResults)
	}
}

// TestCursorPaginationIsServed: DESIGN §6 promises cursor pagination (RFC
// 9865) beside startIndex/count.
func TestCursorPaginationIsServedForGroupsToo(t *testing.T) {
	tg := newTarget(t)
	var all []string
	for i := range 5 {
		all = append(all, tg.mustCreateGroup(t, "cg-"+itoa(i), nil))
	}
	if got := tg.walkCursor(t, "/Groups?count=2&excludedAttributes=members", nil, 5); !slices.Equal(got, all) {
		t.Errorf("group cursor pages %v, want %v", got, all)
	}
}
