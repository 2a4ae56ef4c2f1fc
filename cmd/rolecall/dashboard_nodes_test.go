package main

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rolecall/rolecall/store/postgres/pgtest"
)

// dashboardAt is one dashboard request to a node with the session cookie
// (when not empty), not following redirects; a POST comes from the node's
// own origin.
func dashboardAt(t *testing.T, node *serverProcess, method, path, cookie string, form url.Values) (status int, location, body string, setCookies []*http.Cookie) {
	t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, node.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", node.URL)
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "rolecall_session", Value: cookie})
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(raw), resp.Cookies()
}

var csrfValue = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestDashboardSessionsSpanNodes runs two `rolecall serve` processes on one
// PostgreSQL database (skipped without ROLECALL_TEST_POSTGRES): a browser
// signed in through node 1 uses the dashboard on node 2, pages and forms
// alike; signing out on node 2 makes node 1 refuse the cookie within a
// second.
func TestDashboardSessionsSpanNodes(t *testing.T) {
	dsn := pgtest.DSN(t)
	one := startProcess(t, t.TempDir(), "--store", dsn)
	two := startProcess(t, t.TempDir(), "--store", dsn)

	status, location, body, cookies := dashboardAt(t, one, "POST", "/dashboard/login", "", url.Values{"api_key": {testAdminToken}})
	if status != http.StatusSeeOther {
		t.Fatalf("sign in on node 1: %d to %q\n%s", status, location, body)
	}
	var session string
	for _, c := range cookies {
		if c.Name == "rolecall_session" {
			session = c.Value
		}
	}
	if !strings.HasPrefix(session, "rcd_") {
		t.Fatalf("sign in on node 1 set cookies %v, want a session cookie", cookies)
	}

	status, _, body, _ = dashboardAt(t, two, "GET", "/dashboard/roles", session, nil)
	if status != http.StatusOK || !strings.Contains(body, "ROLECALL_ADMIN_TOKEN") {
		t.Fatalf("GET /dashboard/roles on node 2 with node 1's session: %d\n%s", status, body)
	}
	m := csrfValue.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("node 2's roles page has no CSRF token")
	}
	status, location, _, _ = dashboardAt(t, two, "POST", "/dashboard/roles", session, url.Values{"name": {"made-on-node-2"}, "csrf": {m[1]}})
	if status != http.StatusSeeOther || strings.Contains(location, "/login") {
		t.Fatalf("create a role on node 2: %d to %q", status, location)
	}
	admin := &testServer{URL: one.URL}
	if roles := admin.api(t, "GET", "/roles?name_filter=made-on-node-2", nil, http.StatusOK)["roles"].([]any); len(roles) != 1 {
		t.Errorf("the role made through node 2's dashboard: %v", roles)
	}

	status, location, _, _ = dashboardAt(t, two, "POST", "/dashboard/logout", session, url.Values{"csrf": {m[1]}})
	if status != http.StatusSeeOther || location != "/dashboard/login?m=signed-out" {
		t.Fatalf("sign out on node 2: %d to %q", status, location)
	}
	signedOut := time.Now()
	for {
		status, location, _, _ = dashboardAt(t, one, "GET", "/dashboard/roles", session, nil)
		if status == http.StatusSeeOther && strings.HasPrefix(location, "/dashboard/login") {
			break
		}
		if time.Since(signedOut) > time.Second {
			t.Fatalf("node 1 still serves the session signed out on node 2 after %s: %d to %q", time.Since(signedOut), status, location)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
