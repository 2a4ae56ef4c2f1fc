package dashboard_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rolecall/rolecall/roles/dashboard"
)

// secondNode serves another Management API and dashboard over e's store,
// as a second Rolecall node (or the same node after a restart) would: it
// shares nothing with e but the store.
func (e *env) secondNode() *env {
	e.t.Helper()
	mgmt := newAPI(e.t, e.db)
	mux := http.NewServeMux()
	mux.Handle("/api/v2/", mgmt)
	mux.Handle("/dashboard/", dashboard.New(mgmt, dashboard.Options{Now: e.clock.Now}))
	srv := httptest.NewServer(mux)
	e.t.Cleanup(srv.Close)
	return &env{t: e.t, db: e.db, api: mgmt, clock: e.clock, srv: srv}
}

// on is the same browser (its cookies, its last CSRF token) talking to
// another node.
func (b *browser) on(e *env) *browser {
	return &browser{t: b.t, e: e, client: b.client, csrf: b.csrf}
}

// TestAnyNodeServesASession: a session started on one node opens pages on
// another, whose forms accept the CSRF token the first node's page gave
// and whose next page shows the flash the first node left; signing out on
// the second ends the session on the first.
func TestAnyNodeServesASession(t *testing.T) {
	one := newEnv(t)
	two := one.secondNode()
	b1 := one.browser()
	c := sessionCookie(t, b1.signIn(adminToken))
	b1.visit("/dashboard/roles")

	b2 := b1.on(two)
	mustContain(t, "roles page on node 2", b2.visit("/dashboard/roles").body, "ROLECALL_ADMIN_TOKEN")
	b2.csrf = b1.csrf // the token node 1's page gave
	p := b2.postWith("/dashboard/roles", url.Values{"name": {"made-on-two"}, "csrf": {b2.csrf}}, nil)
	if p.status != http.StatusSeeOther {
		t.Fatalf("form on node 2 with node 1's CSRF token: %d\n%s", p.status, p.body)
	}
	// A refused form's flash (with what was typed) set by node 2 shows on node 1.
	p = b2.postWith("/dashboard/roles", url.Values{"name": {"made-on-two"}, "description": {"typed on two"}, "csrf": {b2.csrf}}, nil)
	if p.status != http.StatusSeeOther {
		t.Fatalf("duplicate role on node 2: %d", p.status)
	}
	page := b1.visit("/dashboard/roles")
	mustContain(t, "node 1 after node 2's refused form", page.body, "role_conflict", "typed on two")
	mustNotContain(t, "node 1's next page", b1.visit("/dashboard/roles").body, "role_conflict")

	p = b2.postWith("/dashboard/logout", url.Values{"csrf": {b2.csrf}}, nil)
	if p.status != http.StatusSeeOther || p.location != "/dashboard/login?m=signed-out" {
		t.Fatalf("sign out on node 2: %d to %q", p.status, p.location)
	}
	replay, _ := http.NewRequest("GET", one.srv.URL+"/dashboard/roles", nil)
	replay.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(replay)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/dashboard/login?m=revoked") {
		t.Errorf("node 1 with the cookie signed out on node 2: %d to %q, want the sign-in page", resp.StatusCode, loc)
	}
}

// TestAnIdleSessionExpiresOnEveryNode: used on node 1, a session stays
// live on node 2 while the uses are less than an hour apart, wherever they
// were, and after an idle hour neither node serves it.
func TestAnIdleSessionExpiresOnEveryNode(t *testing.T) {
	one := newEnv(t)
	two := one.secondNode()
	b1 := one.browser()
	b1.signIn(adminToken)
	b2 := b1.on(two)
	one.clock.Advance(50 * time.Minute)
	b1.visit("/dashboard/roles")
	one.clock.Advance(50 * time.Minute) // 100 min after sign-in, 50 after the use on node 1
	mustContain(t, "node 2, 50 min after a use on node 1", b2.visit("/dashboard/roles").body, "ROLECALL_ADMIN_TOKEN")
	one.clock.Advance(61 * time.Minute)
	p := b1.get("/dashboard/roles")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/dashboard/login?m=expired") {
		t.Fatalf("node 1 after 61 idle minutes: %d to %q, want the sign-in page saying it expired", p.status, p.location)
	}
	if p := b2.get("/dashboard/roles"); p.status != http.StatusSeeOther {
		t.Errorf("node 2 after the session expired: %d, want the sign-in page", p.status)
	}
}
