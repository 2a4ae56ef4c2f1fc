package dashboard_test

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rolecall/rolecall/roles/dashboard"
)

// countingAPI counts the Management API requests the dashboard makes.
type countingAPI struct {
	api   http.Handler
	calls atomic.Int64
}

func (c *countingAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.calls.Add(1)
	c.api.ServeHTTP(w, r)
}

// withCountingAPI serves a second dashboard over e's API that counts its
// API requests, and returns an env whose browser uses it.
func withCountingAPI(e *env) (*env, *countingAPI) {
	c := &countingAPI{api: e.api}
	mux := http.NewServeMux()
	mux.Handle("/api/v2/", e.api)
	mux.Handle("/dashboard/", dashboard.New(c, dashboard.Options{Now: e.clock.Now}))
	srv := httptest.NewServer(mux)
	e.t.Cleanup(srv.Close)
	return &env{t: e.t, db: e.db, api: e.api, clock: e.clock, srv: srv}, c
}

var logIDs = regexp.MustCompile(`revision (\d+)`)

// TestAuditLogNamesItsIdsAndPagesBothWays: each id an entry shows has its
// name beside it (the target, the ids in before/after, the actor's key; a
// deleted object's name from the log), each looked up once per page however
// many rows name it; Next and Previous follow the API's cursor, and
// Previous comes back to exactly the page before.
func TestAuditLogNamesItsIdsAndPagesBothWays(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	e.apiCall("POST", "/groups/"+f.eng+"/roles", map[string]any{"roles": []string{f.admin}}, 204)
	gone := e.apiCall("POST", "/roles", map[string]any{"name": "temporary"}, 201)["id"].(string)
	e.apiCall("DELETE", "/roles/"+gone, nil, 204)
	for i := range 70 {
		e.apiCall("PATCH", "/roles/"+f.viewer, map[string]any{"description": fmt.Sprintf("edit %d", i)}, 200)
	}
	e, api := withCountingAPI(e)
	b := e.browser()
	b.signIn(adminToken)

	before := api.calls.Load()
	first := b.visit("/dashboard/logs")
	// 50 rows about one role: a handful of reads (the page, the names, the
	// keys), not one per row.
	if n := api.calls.Load() - before; n > 6 {
		t.Errorf("the first log page made %d API requests, want at most 6 (one per distinct id)", n)
	}
	mustContain(t, "first page", first.body, "role.updated", `on role <strong>viewer</strong> <code>`+f.viewer+`</code>`,
		`API key <strong>ROLECALL_ADMIN_TOKEN</strong> <code>bootstrap</code>`, `rel="next"`)
	mustNotContain(t, "first page", first.body, `rel="prev"`, "« Newest")

	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(first.body)
	second := b.visit(html.UnescapeString(next[1]))
	mustContain(t, "second page", second.body, `rel="prev"`, "« Newest",
		`on role <strong>temporary</strong> <code>`+gone+`</code> <span class="badge warn">deleted</span>`,
		`on group <strong>Engineering</strong> <code>`+f.eng+`</code>`,
		`<span class="muted">role_id</span> <strong>admin</strong> <a href="/dashboard/roles/`+f.admin+`"><code>`+f.admin+`</code></a>`)
	firstIDs, secondIDs := logIDs.FindAllStringSubmatch(first.body, -1), logIDs.FindAllStringSubmatch(second.body, -1)
	if len(firstIDs) != 50 || len(secondIDs) == 0 || atoi(secondIDs[0][1]) >= atoi(firstIDs[49][1]) {
		t.Fatalf("pages of %d and %d entries; the second must start below the first's last", len(firstIDs), len(secondIDs))
	}

	prev := regexp.MustCompile(`href="([^"]+)" rel="prev"`).FindStringSubmatch(second.body)
	back := b.visit(html.UnescapeString(prev[1]))
	if got, want := join(logIDs.FindAllStringSubmatch(back.body, -1)), join(firstIDs); got != want {
		t.Errorf("Previous from the second page shows revisions %s, want the first page's %s", got, want)
	}
	mustNotContain(t, "back at the newest", back.body, `rel="prev"`)
	mustContain(t, "back at the newest", back.body, `rel="next"`)

	// The filter carries through the links.
	p := b.visit("/dashboard/logs?type=role.updated")
	if m := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(p.body); m == nil || !strings.Contains(m[1], "type=role.updated") {
		t.Errorf("the filtered log's Next link %v does not keep the filter", m)
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func join(ms [][]string) string {
	var out []string
	for _, m := range ms {
		out = append(out, m[1])
	}
	return strings.Join(out, ",")
}
