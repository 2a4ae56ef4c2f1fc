package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The dashboard's end-to-end tests drive a real headless Chromium against
// `rolecall serve`. Without a browser they skip, unless
// ROLECALL_REQUIRE_BROWSER=1 (CI) makes that a failure. Screenshots of each
// main page go to a directory per test under ROLECALL_SCREENSHOT_DIR, or to
// a temporary directory.

// findBrowser returns the Chromium (or Chrome) to drive.
func findBrowser(t *testing.T) string {
	t.Helper()
	required := os.Getenv("ROLECALL_REQUIRE_BROWSER") == "1"
	if testing.Short() && !required {
		t.Skip("browser tests skipped in -short mode")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if required {
		t.Fatal("ROLECALL_REQUIRE_BROWSER=1 but no Chromium is installed (Debian: apt-get install chromium)")
	}
	t.Skip("no Chromium installed (Debian: apt-get install chromium); set ROLECALL_REQUIRE_BROWSER=1 to fail instead")
	return ""
}

// e2e is one browser tab on one running server.
type e2e struct {
	t     *testing.T
	ctx   context.Context
	s     *testServer
	shots string
	n     int
}

func newE2E(t *testing.T, s *testServer) *e2e {
	t.Helper()
	chrome := findBrowser(t)
	shots := os.Getenv("ROLECALL_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	} else if shots = filepath.Join(shots, t.Name()); os.MkdirAll(shots, 0o755) != nil {
		t.Fatalf("cannot create the screenshot directory %s", shots)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	// The whole browser run is bounded: a hung step fails instead of
	// stalling the suite.
	ctx, cancelTimeout := context.WithTimeout(context.Background(), 90*time.Second)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelTimeout()
	})
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("start %s: %v", chrome, err)
	}
	return &e2e{t: t, ctx: tabCtx, s: s, shots: shots}
}

// do runs steps, failing the test with what was being done.
func (b *e2e) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// open navigates to a dashboard path.
func (b *e2e) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.s.URL+path))
}

// load runs a step that navigates (a click on a link or a submit button) and
// waits for the next page to load.
func (b *e2e) load(what string, step chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, step)); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *e2e) value(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("value of %s: %v", sel, err)
	}
	return v
}

// text is the visible text of the page.
func (b *e2e) text() string {
	b.t.Helper()
	return b.textOf("body")
}

// textOf is the visible text of the first element sel matches.
func (b *e2e) textOf(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).innerText`, sel)))
	if err != nil {
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

func (b *e2e) has(sel string) bool {
	b.t.Helper()
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q) !== null`, sel)))
	if err != nil {
		b.t.Fatalf("query %s: %v", sel, err)
	}
	return ok
}

func (b *e2e) see(what string, wants ...string) {
	b.t.Helper()
	text := b.text()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			b.t.Errorf("%s: the page does not say %q; it says:\n%s", what, w, text)
		}
	}
}

// shot saves a PNG of the whole page.
func (b *e2e) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	b.n++
	path := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
}

// confirmDialog waits for the confirmation dialog, checks its question, and
// confirms it, waiting for the page the form leads to.
func (b *e2e) confirmDialog(question, shot string) {
	b.t.Helper()
	b.do("wait for the confirmation dialog", chromedp.WaitVisible(chromedp.ID("confirm-dialog")))
	got, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.ID("confirm-message")))
	if err != nil || got != question {
		b.t.Errorf("the dialog asks %q (%v), want %q", got, err, question)
	}
	if shot != "" {
		b.shot(shot)
	}
	b.load("confirm", chromedp.Click(chromedp.ID("confirm-ok")))
}

// effectiveRoleNames asks the API for a user's effective roles (in an
// organization when org is not empty), as name → sources "type:group:scope".
func effectiveRoleNames(t *testing.T, s *testServer, userID, org string) map[string][]string {
	t.Helper()
	path := "/users/" + userID + "/effective-roles"
	if org != "" {
		path = "/organizations/" + org + "/members/" + userID + "/effective-roles"
	}
	out := s.api(t, "GET", path, nil, http.StatusOK)
	got := map[string][]string{}
	for _, r := range out["roles"].([]any) {
		role := r.(map[string]any)
		for _, src := range role["sources"].([]any) {
			s := src.(map[string]any)
			name, _ := s["group_name"].(string)
			got[role["name"].(string)] = append(got[role["name"].(string)], fmt.Sprintf("%s:%s:%s", s["type"], name, s["scope"]))
		}
	}
	return got
}

func roleIDByName(t *testing.T, s *testServer, name string) string {
	t.Helper()
	for _, r := range s.api(t, "GET", "/roles?name_filter="+name, nil, http.StatusOK)["roles"].([]any) {
		if r.(map[string]any)["name"] == name {
			return r.(map[string]any)["id"].(string)
		}
	}
	t.Fatalf("no role %s", name)
	return ""
}

// TestDashboardAssignsGroupRolesInABrowser is the flow in Chromium:
// sign in; create a connection and a token; provision users and groups over
// SCIM; assign roles to an Enterprise Group and check the user's effective
// roles through the API; remove one with the trash icon; the same for an
// Organization Group with auto-membership off (inert, and the page says so)
// and on (effective); then the audit log and sign out.
func TestDashboardAssignsGroupRolesInABrowser(t *testing.T) {
	s := startServer(t)
	b := newE2E(t, s)
	start := time.Now()

	// Sign in.
	b.open("/dashboard")
	b.do("sign-in page", chromedp.WaitVisible(chromedp.ID("api_key")))
	b.shot("sign-in")
	b.do("type the key", chromedp.SendKeys(chromedp.ID("api_key"), testAdminToken))
	b.load("sign in", chromedp.Submit(chromedp.ID("api_key")))
	b.see("after sign-in", "Connections", "ROLECALL_ADMIN_TOKEN")
	if text := b.text(); strings.Contains(text, testAdminToken) {
		t.Fatal("a page shows the API key")
	}

	// Create a connection (SCIM on) and generate a token.
	b.do("connection name", chromedp.SendKeys(chromedp.ID("name"), "acme-okta"))
	b.load("create connection", chromedp.Click(chromedp.Search(`//button[normalize-space()="Create"]`)))
	b.see("connection page", "Connection acme-okta created", "SCIM endpoint URL", "No tokens yet")
	endpoint := b.value("#scim-endpoint")
	if !strings.HasPrefix(endpoint, s.URL+"/scim/v2/connections/con_") {
		t.Fatalf("SCIM endpoint %q, want one under %s", endpoint, s.URL)
	}
	b.load("generate token", chromedp.Click(chromedp.Search(`//button[normalize-space()="Generate token"]`)))
	b.see("token page", "Copy this token now", "shown only once")
	conID := strings.TrimPrefix(endpoint, s.URL+"/scim/v2/connections/")
	token := b.value("#token-secret")
	if token == "" {
		t.Fatal("the token page shows no token")
	}
	b.shot("token-once")

	// Provision over SCIM with the token the browser got.
	alice := scimPostUser(t, endpoint, token, "alice@acme.example", "alice@acme.example")
	bob := scimPostUser(t, endpoint, token, "bob@acme.example", "bob@acme.example")
	carol := scimPostUser(t, endpoint, token, "carol@acme.example", "carol@acme.example")
	eng := scimPostGroup(t, endpoint, token, "Engineering", alice, bob)
	support := scimPostGroup(t, endpoint, token, "Support", carol)

	b.load("back to the connection", chromedp.Click(chromedp.Search(`//a[starts-with(normalize-space(), "I have copied it")]`)))
	b.see("connection with a token", "All ten SCIM scopes")
	if strings.Contains(b.text(), token) {
		t.Error("the connection page shows the token's secret")
	}
	b.shot("connection")
	b.open("/dashboard/connections")
	b.shot("connections")

	// Roles, created in the browser.
	b.open("/dashboard/roles")
	for _, r := range [][2]string{{"admin", "Full access"}, {"viewer", "Read only"}, {"billing", "Invoices and payments"}} {
		b.do("role form", chromedp.SendKeys(chromedp.ID("name"), r[0]), chromedp.SendKeys(chromedp.ID("description"), r[1]))
		b.load("create role", chromedp.Click(chromedp.Search(`//button[normalize-space()="Create"]`)))
		b.see("role page", "Role "+r[0]+" created")
		b.open("/dashboard/roles")
	}
	b.shot("roles")
	// An API refusal is shown with its message and code, the form kept.
	b.do("duplicate role", chromedp.SendKeys(chromedp.ID("name"), "admin"))
	b.load("create duplicate", chromedp.Click(chromedp.Search(`//button[normalize-space()="Create"]`)))
	b.see("API error", "Conflict", "role_conflict", "HTTP 409")
	if v := b.value("#name"); v != "admin" {
		t.Errorf("the refused form lost what was typed: name %q", v)
	}
	b.shot("api-error")

	// User Management > Enterprise Groups: search, open, Roles tab, Assign Roles.
	b.open("/dashboard/groups")
	b.do("search groups", chromedp.SendKeys(chromedp.ID("search"), "engin"))
	b.load("search", chromedp.Submit(chromedp.ID("search")))
	b.see("group search", "Engineering", "acme-okta")
	if strings.Contains(b.text(), "Support") {
		t.Error("the search for 'engin' lists Support")
	}
	b.shot("enterprise-groups")
	b.load("open the group", chromedp.Click(chromedp.Search(`//a[.="Engineering"]`)))
	b.see("group page", "acme-okta", "ext-Engineering", "alice@acme.example", "bob@acme.example")
	b.shot("enterprise-group-members")
	b.load("Roles tab", chromedp.Click(chromedp.Search(`//nav[@aria-label="Group"]/a[.="Roles"]`)))
	b.see("empty Roles tab", "No roles assigned to this group yet")
	b.load("Assign Roles", chromedp.Click(chromedp.Search(`//a[.="Assign Roles"]`)))
	// The filter narrows the list as you type; picks survive it.
	b.do("filter roles", chromedp.SendKeys(chromedp.ID("role-search"), "view"))
	if b.visibleChoices() != "viewer" {
		t.Errorf("typing 'view' leaves %q visible, want viewer only", b.visibleChoices())
	}
	b.do("pick viewer", chromedp.Click(chromedp.Search(`//label[strong[.="viewer"]]`)))
	b.do("clear the filter", chromedp.SendKeys(chromedp.ID("role-search"), "\b\b\b\b"))
	b.do("pick admin", chromedp.Click(chromedp.Search(`//label[strong[.="admin"]]`)))
	b.shot("assign-roles")
	b.load("Assign", chromedp.Click(chromedp.Search(`//button[normalize-space()="Assign"]`)))
	b.see("Roles tab", "2 roles assigned", "admin", "viewer")
	b.shot("enterprise-group-roles")
	want := map[string][]string{"admin": {"group:Engineering:tenant"}, "viewer": {"group:Engineering:tenant"}}
	if got := effectiveRoleNames(t, s, alice, ""); !mapsEqual(got, want) {
		t.Errorf("alice's effective roles after Assign: %v, want %v", got, want)
	}

	// The trash icon, with confirmation; the role disappears.
	b.do("trash viewer", chromedp.Click(chromedp.CSS(`button[aria-label="Remove role viewer"]`)))
	b.confirmDialog("Remove role viewer from group Engineering?", "remove-role-dialog")
	b.see("after removal", "Role viewer removed")
	if b.has(`button[aria-label="Remove role viewer"]`) {
		t.Error("viewer is still listed after its removal")
	}
	want = map[string][]string{"admin": {"group:Engineering:tenant"}}
	if got := effectiveRoleNames(t, s, bob, ""); !mapsEqual(got, want) {
		t.Errorf("bob's effective roles after the removal: %v, want %v", got, want)
	}

	// Users: search and the user's page with effective roles and why.
	b.open("/dashboard/users")
	b.do("search users", chromedp.SendKeys(chromedp.ID("search"), "alice@"))
	b.load("search", chromedp.Submit(chromedp.ID("search")))
	b.shot("users")
	b.load("open alice", chromedp.Click(chromedp.Search(`//a[.="alice@acme.example"]`)))
	b.see("user page", "Active", "Effective roles", "admin", "member of Engineering", "tenant scope")
	b.shot("user-effective-roles")

	// Organizations: create, enable the connection with auto-membership off.
	b.open("/dashboard/organizations")
	b.do("organization form", chromedp.SendKeys(chromedp.ID("name"), "acme"), chromedp.SendKeys(chromedp.ID("display_name"), "Acme Inc."))
	b.load("create organization", chromedp.Click(chromedp.Search(`//button[normalize-space()="Create"]`)))
	b.see("organization page", "Organization acme created", "Acme Inc.")
	orgID := strings.TrimPrefix(b.location(), s.URL+"/dashboard/organizations/")
	b.load("Connections tab", chromedp.Click(chromedp.Search(`//nav[@aria-label="Organization"]/a[.="Connections"]`)))
	b.load("enable acme-okta", chromedp.Click(chromedp.Search(`//button[normalize-space()="Enable"]`)))
	b.see("enabled", "Connection enabled", "acme-okta", "Off")
	b.shot("organization-connections")
	b.load("Groups tab", chromedp.Click(chromedp.Search(`//nav[@aria-label="Organization"]/a[.="Groups"]`)))
	b.see("organization groups", "Engineering", "Support", "Off: group roles have no effect")
	b.shot("organization-groups")
	b.load("open Support", chromedp.Click(chromedp.Search(`//a[.="Support"]`)))
	b.load("Assign Roles", chromedp.Click(chromedp.Search(`//a[.="Assign Roles"]`)))
	b.do("pick billing and viewer",
		chromedp.Click(chromedp.Search(`//label[strong[.="billing"]]`)),
		chromedp.Click(chromedp.Search(`//label[strong[.="viewer"]]`)))
	b.load("Assign", chromedp.Click(chromedp.Search(`//button[normalize-space()="Assign"]`)))
	b.see("inert bindings", "These role bindings have no effect until auto-membership is turned on",
		"No effect: auto-membership is off", "billing", "viewer")
	b.shot("organization-group-inert")
	if got := effectiveRoleNames(t, s, carol, orgID); len(got) != 0 {
		t.Errorf("carol's roles in acme with auto-membership off: %v, want none", got)
	}
	for _, r := range s.api(t, "GET", "/organizations/"+orgID+"/groups/"+support+"/roles", nil, http.StatusOK)["roles"].([]any) {
		if role := r.(map[string]any); role["effective"] != false || role["reason"] != "auto_membership_disabled" {
			t.Errorf("binding %v with auto-membership off: want effective false, reason auto_membership_disabled", role)
		}
	}

	// The trash icon by keyboard: focus, Enter, Tab to the confirm button, Enter.
	b.do("focus the trash icon", chromedp.Focus(chromedp.CSS(`button[aria-label="Remove role viewer"]`)), chromedp.KeyEvent("\r"))
	b.do("dialog open", chromedp.WaitVisible(chromedp.ID("confirm-dialog")))
	b.load("confirm by keyboard", chromedp.KeyEvent("\t\r"))
	b.see("after keyboard removal", "Role viewer removed", "billing")
	if b.has(`button[aria-label="Remove role viewer"]`) {
		t.Error("viewer is still bound to Support after its removal")
	}

	// Turn auto-membership on from the warning: the binding takes effect.
	b.load("turn on", chromedp.Click(chromedp.Search(`//button[starts-with(normalize-space(), "Turn on auto-membership")]`)))
	b.see("effective bindings", "Auto-membership turned on", "Effective", "billing")
	if strings.Contains(b.text(), "have no effect until") {
		t.Error("the page still says the bindings have no effect")
	}
	b.shot("organization-group-effective")
	want = map[string][]string{"billing": {"group:Support:organization"}}
	if got := effectiveRoleNames(t, s, carol, orgID); !mapsEqual(got, want) {
		t.Errorf("carol's roles in acme with auto-membership on: %v, want %v", got, want)
	}
	b.open("/dashboard/users/" + carol + "?organization_id=" + orgID)
	b.see("carol in acme", "Effective roles in acme", "billing", "member of Support", "organization scope")
	b.shot("user-effective-roles-in-organization")

	// The role page and its delete confirmation (listing the bindings).
	b.open("/dashboard/roles/" + roleIDByName(t, s, "admin") + "/groups")
	b.see("role page", "Enterprise Groups with this role", "Engineering")
	b.shot("role")
	b.load("Settings tab", chromedp.Click(chromedp.Search(`//nav[@aria-label="Role"]/a[.="Settings"]`)))
	b.load("delete role", chromedp.Click(chromedp.Search(`//a[.="Delete role"]`)))
	b.see("delete confirmation", "Delete role admin?", "Engineering")
	b.shot("role-delete-confirmation")

	// The audit log, newest first, filtered by type (the newest entries
	// overall are the user.effective_roles.changed ones it caused).
	b.open("/dashboard/logs?type=organization.connection.updated")
	b.see("audit log", "organization.connection.updated", "API key ROLECALL_ADMIN_TOKEN bootstrap")
	b.do("open the newest entry's before/after", chromedp.Click(chromedp.CSS("table.log summary")))
	if got := strings.Fields(b.textOf("table.changes tr.changed")); !slices.Equal(got, []string{"assign_membership_on_login", "false", "true"}) {
		t.Errorf("the newest entry's changed field reads %q, want auto-membership false → true", got)
	}
	b.shot("audit-log")
	b.do("filter", chromedp.SetValue(chromedp.ID("type"), "group.role.deleted"))
	b.load("filter the log", chromedp.Submit(chromedp.ID("target_id")))
	b.see("filtered log", "group.role.deleted", eng)
	if strings.Contains(b.textOf("table.log"), "group.role.assigned") {
		t.Error("the log filtered by group.role.deleted lists other types")
	}

	// Sign out.
	b.load("sign out", chromedp.Click(chromedp.Search(`//button[.="Sign out"]`)))
	b.see("signed out", "You have signed out")
	b.shot("signed-out")
	b.open("/dashboard/roles")
	b.do("back at sign-in", chromedp.WaitVisible(chromedp.ID("api_key")))

	// A key with read scopes only sees no action it cannot take.
	reader := s.api(t, "POST", "/api-keys", map[string]any{"name": "auditor", "scopes": []string{
		"read:connections", "read:groups", "read:users", "read:roles", "read:organizations", "read:organization_groups", "read:logs",
	}}, http.StatusCreated)["key"].(string)
	b.do("type the reader key", chromedp.SendKeys(chromedp.ID("api_key"), reader))
	b.load("sign in as the reader", chromedp.Submit(chromedp.ID("api_key")))
	b.open("/dashboard/organizations/" + orgID + "/groups/" + support)
	b.see("read-only organization group", "auditor", "billing", "Effective")
	for _, sel := range []string{`button[aria-label^="Remove role"]`, `a[href$="/roles/assign"]`, `form[action$="/connections/` + conID + `"]`} {
		if b.has(sel) {
			t.Errorf("a read-only key is offered %s", sel)
		}
	}
	b.shot("read-only-key")

	t.Logf("browser flow took %s; screenshots in %s", time.Since(start).Round(time.Millisecond), b.shots)
}

// visibleChoices lists the role names the assign page's list shows.
func (b *e2e) visibleChoices() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll("#role-choices li:not([hidden]) strong")].map(e => e.textContent).join(",")`))
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

func (b *e2e) location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return loc
}

func mapsEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestDashboardKeysMembersAndNestedRolesInABrowser drives the dashboard's
// follow-up pages in Chromium: create a login-server API key and use it on
// the login query; turn nested group roles on and see the path on the user
// page; add a member to an organization and assign it a role there; list
// every binding a role delete removes; revoke the key.
func TestDashboardKeysMembersAndNestedRolesInABrowser(t *testing.T) {
	s := startServer(t)
	conID, base := s.connection(t, "acme-okta")
	idp := scimClient{t, base, s.scimToken(t, conID)}
	alice := scimPostUser(t, base, idp.token, "alice@acme.example", "alice@acme.example")
	bob := scimPostUser(t, base, idp.token, "bob@acme.example", "bob@acme.example")
	dave := scimPostUser(t, base, idp.token, "dave@acme.example", "dave@acme.example")
	backend := scimPostGroup(t, base, idp.token, "Backend", bob)
	eng := scimPostGroup(t, base, idp.token, "Engineering", alice)
	idp.do("PATCH", "/Groups/"+eng, patchOp(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": backend}}}), 204)
	engineer := s.api(t, "POST", "/roles", map[string]any{"name": "engineer", "description": "Builds things"}, http.StatusCreated)["id"].(string)
	billing := s.api(t, "POST", "/roles", map[string]any{"name": "billing", "description": "Invoices and payments"}, http.StatusCreated)["id"].(string)
	s.api(t, "POST", "/groups/"+eng+"/roles", map[string]any{"roles": []string{engineer}}, http.StatusNoContent)
	org := s.api(t, "POST", "/organizations", map[string]any{"name": "acme", "display_name": "Acme Inc."}, http.StatusCreated)["id"].(string)
	s.api(t, "POST", "/organizations/"+org+"/enabled_connections", map[string]any{"connection_id": conID, "assign_membership_on_login": false}, http.StatusCreated)

	b := newE2E(t, s)
	start := time.Now()
	b.open("/dashboard/login")
	b.do("type the key", chromedp.SendKeys(chromedp.ID("api_key"), testAdminToken))
	b.load("sign in", chromedp.Submit(chromedp.ID("api_key")))

	// API keys: a login-server key, created in the browser, shown once.
	b.open("/dashboard/api-keys")
	b.see("API keys page", "No API keys are stored yet", "Login server", "Only read:user_effective_roles")
	b.do("key name", chromedp.SendKeys(chromedp.ID("name"), "login-server"), chromedp.Click(chromedp.ID("preset-login")))
	b.shot("api-key-create")
	b.load("create the key", chromedp.Click(chromedp.Search(`//button[normalize-space()="Create API key"]`)))
	b.see("one-time key page", "Copy this key now", "shown only once", "read:user_effective_roles")
	loginKey := b.value("#api-key-secret")
	if loginKey == "" {
		t.Fatal("the new key's page shows no key")
	}
	b.shot("api-key-once")
	query := func() map[string]any {
		t.Helper()
		resp, out := call(t, "POST", s.URL+"/api/v2/effective-roles/query", loginKey, map[string]any{"subjects": []any{map[string]any{"user_id": bob}}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("the login-server key on the login query: %d %v", resp.StatusCode, out)
		}
		return out["results"].([]any)[0].(map[string]any)
	}
	if roles := query()["roles"].([]any); len(roles) != 0 {
		t.Errorf("bob's roles with nested group roles off: %v, want none", roles)
	}
	if resp, _ := call(t, "GET", s.URL+"/api/v2/roles", loginKey, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the login-server key on GET /roles: %d, want 403", resp.StatusCode)
	}
	b.load("back to the keys", chromedp.Click(chromedp.Search(`//a[starts-with(normalize-space(), "I have copied it")]`)))
	b.see("keys list", "login-server", "read:user_effective_roles")
	if strings.Contains(b.text(), loginKey) {
		t.Error("the keys page shows the key's secret")
	}
	b.shot("api-keys")

	// Settings: turn nested group roles on, after the dialog.
	b.load("Settings", chromedp.Click(chromedp.Search(`//nav[@aria-label="Sections"]//a[.="Settings"]`)))
	b.see("settings", "Nested group roles", "Off", "Cycles")
	b.shot("settings")
	b.do("turn on", chromedp.Click(chromedp.Search(`//button[normalize-space()="Turn on nested group roles"]`)))
	b.confirmDialog("Turn on nested group roles? Every role bound to a group reaches the members of its member groups at once, at any depth: this can give roles to many more users.", "settings-confirm-dialog")
	b.see("settings on", "Nested group roles are on", "Turn off nested group roles")
	b.shot("settings-on")
	res := query()
	src := res["roles"].([]any)[0].(map[string]any)["sources"].([]any)[0].(map[string]any)
	if via, _ := src["via"].([]any); src["group_id"] != eng || len(via) != 1 || via[0].(map[string]any)["group_id"] != backend {
		t.Errorf("bob's source with nested group roles on: %v, want Engineering via Backend", src)
	}
	b.open("/dashboard/users/" + bob)
	b.see("bob's page", "engineer", "member of Backend → in Engineering (tenant scope)")
	b.shot("user-nested-via")
	b.load("follow the path", chromedp.Click(chromedp.Search(`//ul[@class="sources"]//a[.="Backend"]`)))
	b.see("Backend's page", "Backend", "bob@acme.example")

	// Organizations > Members: add dave by search, then a role for him there.
	b.open("/dashboard/organizations/" + org)
	b.load("Members tab", chromedp.Click(chromedp.Search(`//nav[@aria-label="Organization"]/a[.="Members"]`)))
	b.see("empty members", "No members yet")
	b.load("Add Members", chromedp.Click(chromedp.Search(`//a[.="Add Members"]`)))
	b.do("search dave", chromedp.SendKeys(chromedp.ID("search"), "dave"))
	b.load("search", chromedp.Submit(chromedp.ID("search")))
	b.do("pick dave", chromedp.Click(chromedp.Search(`//label[strong[.="dave@acme.example"]]`)))
	b.shot("organization-members-add")
	b.load("Add", chromedp.Click(chromedp.Search(`//button[normalize-space()="Add"]`)))
	b.see("members", "1 member added", "dave@acme.example")
	b.shot("organization-members")
	b.load("open dave", chromedp.Click(chromedp.Search(`//a[.="dave@acme.example"]`)))
	b.see("member page", "Roles in acme", "Explicit")
	b.load("Assign Roles", chromedp.Click(chromedp.Search(`//a[.="Assign Roles"]`)))
	b.do("pick billing", chromedp.Click(chromedp.Search(`//label[strong[.="billing"]]`)))
	b.load("Assign", chromedp.Click(chromedp.Search(`//button[normalize-space()="Assign"]`)))
	b.see("member roles", "1 role assigned", "billing", "assigned to the user in this organization")
	b.shot("organization-member")
	assertIDs(t, "dave's roles in acme", answerIDs(s.api(t, "GET", "/organizations/"+org+"/members/"+dave+"/roles", nil, http.StatusOK), "roles", "id"), []string{billing})
	if got := effectiveRoleNames(t, s, dave, org); !mapsEqual(got, map[string][]string{"billing": {"direct::organization"}}) {
		t.Errorf("dave's effective roles in acme: %v, want billing, direct in the organization", got)
	}

	// The role delete page lists a direct user binding and an org binding.
	s.api(t, "POST", "/users/"+alice+"/roles", map[string]any{"roles": []string{billing}}, http.StatusNoContent)
	s.api(t, "POST", "/organizations/"+org+"/groups/"+backend+"/roles", map[string]any{"roles": []string{billing}}, http.StatusNoContent)
	b.open("/dashboard/roles/" + billing)
	b.load("delete role", chromedp.Click(chromedp.Search(`//a[.="Delete role"]`)))
	b.see("delete confirmation", "Delete role billing?", "removes 3 bindings", "No Enterprise Group carries it",
		"Users assigned directly", "alice@acme.example", "Organization Groups", "Backend in organization acme",
		"Organization members", "dave@acme.example in organization acme")
	b.shot("role-delete-all-kinds")

	// Revoke the login-server key with the trash icon: it stops working.
	b.open("/dashboard/api-keys")
	b.do("trash the key", chromedp.Click(chromedp.CSS(`button[aria-label="Revoke API key login-server"]`)))
	b.confirmDialog("Revoke API key login-server? Anything that uses it is refused from now on.", "api-key-revoke-dialog")
	b.see("revoked", "API key login-server revoked")
	if resp, _ := call(t, "POST", s.URL+"/api/v2/effective-roles/query", loginKey, map[string]any{"subjects": []any{map[string]any{"user_id": bob}}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the revoked key on the login query: %d, want 401", resp.StatusCode)
	}
	t.Logf("browser flow took %s; screenshots in %s", time.Since(start).Round(time.Millisecond), b.shots)
}

// TestDashboardRoleTabsAndAPIsInABrowser drives the role page's tabs, the
// APIs page and the permission picker in Chromium: create an API with its
// scopes; on a role's Permissions tab choose the API (the script narrows the
// scopes to it) and one of its scopes; assign the role to a user from the
// Users tab and remove it through the dialog; see the Enterprise Groups and
// Organizations tabs; the audit log names what it shows; a missing page has
// a way back; and ids never wrap.
func TestDashboardRoleTabsAndAPIsInABrowser(t *testing.T) {
	s := startServer(t)
	conID, base := s.connection(t, "acme-okta")
	token := s.scimToken(t, conID)
	alice := scimPostUser(t, base, token, "alice@acme.example", "alice@acme.example")
	eng := scimPostGroup(t, base, token, "Engineering", alice)
	analyst := s.api(t, "POST", "/roles", map[string]any{"name": "analyst", "description": "Reads the reports"}, http.StatusCreated)["id"].(string)
	s.api(t, "POST", "/groups/"+eng+"/roles", map[string]any{"roles": []string{analyst}}, http.StatusNoContent)
	org := s.api(t, "POST", "/organizations", map[string]any{"name": "acme", "display_name": "Acme Inc."}, http.StatusCreated)["id"].(string)
	s.api(t, "POST", "/organizations/"+org+"/enabled_connections", map[string]any{"connection_id": conID, "assign_membership_on_login": true}, http.StatusCreated)
	s.api(t, "POST", "/organizations/"+org+"/groups/"+eng+"/roles", map[string]any{"roles": []string{analyst}}, http.StatusNoContent)
	s.api(t, "POST", "/resource-servers", map[string]any{"identifier": "https://billing.acme.example", "name": "Billing",
		"scopes": []map[string]string{{"value": "read:invoices", "description": "Read invoices"}}}, http.StatusCreated)

	b := newE2E(t, s)
	start := time.Now()
	b.open("/dashboard/login")
	b.do("type the key", chromedp.SendKeys(chromedp.ID("api_key"), testAdminToken))
	b.load("sign in", chromedp.Submit(chromedp.ID("api_key")))

	// APIs: create one with two scopes from the form.
	b.load("APIs", chromedp.Click(chromedp.Search(`//nav[@aria-label="Sections"]//a[.="APIs"]`)))
	b.see("APIs page", "Billing", "https://billing.acme.example", "read:invoices")
	b.do("API form",
		chromedp.SendKeys(chromedp.ID("identifier"), "https://reports.acme.example"),
		chromedp.SendKeys(chromedp.ID("api-name"), "Reports"),
		chromedp.SendKeys(chromedp.ID("scopes"), "read:reports Read reports\nwrite:reports Write reports"))
	b.shot("apis")
	b.load("create the API", chromedp.Click(chromedp.Search(`//button[normalize-space()="Create"]`)))
	b.see("API page", "API Reports created", "read:reports", "Read reports", "write:reports", "Delete API")
	b.shot("api")

	// The role's Permissions tab: choose the API, then a scope.
	b.open("/dashboard/roles/" + analyst)
	b.see("role settings tab", "Settings", "Permissions", "Enterprise Groups", "Users", "Organizations", "Delete role")
	b.load("Permissions tab", chromedp.Click(chromedp.Search(`//nav[@aria-label="Role"]/a[.="Permissions"]`)))
	b.see("empty permissions", "No permissions yet")
	b.do("choose Reports", chromedp.SetValue(chromedp.ID("picker-api"), "https://reports.acme.example"),
		chromedp.Evaluate[chromedp.Void](`void document.getElementById("picker-api").dispatchEvent(new Event("change"))`))
	if got := b.enabledScopes(); got != "read:reports — Read reports,write:reports — Write reports" {
		t.Errorf("after choosing Reports the scope list offers %q, want Reports' two scopes only", got)
	}
	b.do("choose read:reports", chromedp.SetValue(chromedp.ID("picker-permission"), "api=https%3A%2F%2Freports.acme.example&scope=read%3Areports"))
	b.shot("permission-picker")
	b.load("add the permission", chromedp.Click(chromedp.Search(`//button[normalize-space()="Add permission"]`)))
	b.see("permissions", "Permission added", "read:reports", "Read reports", "Reports", "https://reports.acme.example")
	b.shot("role-permissions")
	perms := s.api(t, "GET", "/roles/"+analyst+"/permissions", nil, http.StatusOK)["permissions"].([]any)
	if len(perms) != 1 || perms[0].(map[string]any)["permission_name"] != "read:reports" || perms[0].(map[string]any)["resource_server_name"] != "Reports" {
		t.Errorf("the role's permissions after the picker: %v", perms)
	}

	// Users tab: Add Users, then the trash icon with its dialog.
	b.load("Users tab", chromedp.Click(chromedp.Search(`//nav[@aria-label="Role"]/a[.="Users"]`)))
	b.see("empty users tab", "No user has this role directly")
	b.load("Add Users", chromedp.Click(chromedp.Search(`//a[.="Add Users"]`)))
	b.do("search alice", chromedp.SendKeys(chromedp.ID("search"), "alice"))
	b.load("search", chromedp.Submit(chromedp.ID("search")))
	b.do("pick alice", chromedp.Click(chromedp.Search(`//label[strong[.="alice@acme.example"]]`)))
	b.load("Assign", chromedp.Click(chromedp.Search(`//button[normalize-space()="Assign"]`)))
	b.see("users tab", "Role assigned to 1 user", "alice@acme.example", alice)
	b.shot("role-users")
	b.noWrappedIDs("role users tab")
	assertIDs(t, "alice's direct roles", answerIDs(s.api(t, "GET", "/users/"+alice+"/roles", nil, http.StatusOK), "roles", "id"), []string{analyst})
	b.do("trash alice", chromedp.Click(chromedp.CSS(`button[aria-label="Remove user alice@acme.example"]`)))
	b.confirmDialog("Remove role analyst from user alice@acme.example? Only the direct assignment goes: roles through the user's groups stay.", "role-user-remove-dialog")
	b.see("after removal", "Role removed from alice@acme.example", "No user has this role directly")
	assertIDs(t, "alice's direct roles after removal", answerIDs(s.api(t, "GET", "/users/"+alice+"/roles", nil, http.StatusOK), "roles", "id"), nil)

	b.load("Enterprise Groups tab", chromedp.Click(chromedp.Search(`//nav[@aria-label="Role"]/a[.="Enterprise Groups"]`)))
	b.see("groups tab", "Engineering", "acme-okta")
	b.load("Organizations tab", chromedp.Click(chromedp.Search(`//nav[@aria-label="Role"]/a[.="Organizations"]`)))
	b.see("organizations tab", "Organization Groups", "Engineering", "acme")
	b.shot("role-organizations")
	b.noWrappedIDs("role organizations tab")

	// The audit log names what it shows, and its ids do not wrap.
	b.open("/dashboard/logs")
	b.see("audit log", "user.role.deleted on user alice@acme.example", "role_id analyst", "API key ROLECALL_ADMIN_TOKEN")
	b.shot("audit-log-names")
	b.noWrappedIDs("audit log")
	// In a narrow window too, where the log's fixed columns are tight.
	b.do("narrow window", chromedp.EmulateViewport(760, 900))
	b.noWrappedIDs("audit log, narrow")
	b.shot("audit-log-narrow")
	b.do("wide window", chromedp.EmulateViewport(1280, 900))

	// A missing page offers a way back.
	b.open("/dashboard/roles/rol_0000000000000000")
	b.see("404 page", "Page not found", "inexistent_role", "Back to Roles", "Dashboard home")
	b.shot("not-found")
	b.load("back to roles", chromedp.Click(chromedp.Search(`//a[.="Back to Roles"]`)))
	b.see("roles list", "analyst")
	t.Logf("browser flow took %s; screenshots in %s", time.Since(start).Round(time.Millisecond), b.shots)
}

// enabledScopes lists the permission picker's scopes that can be chosen.
func (b *e2e) enabledScopes() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll("#picker-permission optgroup:not([disabled]) option")].map(o => o.textContent).join(",")`))
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// noWrappedIDs fails when an id (a <code> in a table) is laid out on more
// than one line.
func (b *e2e) noWrappedIDs(what string) {
	b.t.Helper()
	wrapped, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("td code")].filter(c => c.getClientRects().length > 1 || c.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(c).fontSize) + 8).map(c => c.textContent)`))
	if err != nil {
		b.t.Fatal(err)
	}
	if len(wrapped) > 0 {
		b.t.Errorf("%s: ids wrapped over lines: %v", what, wrapped)
	}
}

// TestDashboardEventStreamsInABrowser drives the event streams pages in
// Chromium against `rolecall serve --allow-http-webhooks` and a real
// receiver that checks the bearer token and the signature: create a stream
// (the signing secret shown once, handed to the receiver), send a test
// event and see the receiver's answer, see a real change delivered in the
// deliveries table, disable and enable it, rotate the secret through the
// dialog (the old one stops verifying), and delete it. The bearer token is
// on no page.
func TestDashboardEventStreamsInABrowser(t *testing.T) {
	s := startServer(t, func(c *config) { c.AllowHTTPWebhooks = true })
	h := newHookReceiver(t, 0)
	types := func() []string {
		var out []string
		for _, ev := range h.accepted() {
			out = append(out, ev.Type)
		}
		return out
	}

	b := newE2E(t, s)
	start := time.Now()
	b.open("/dashboard/login")
	b.do("type the key", chromedp.SendKeys(chromedp.ID("api_key"), testAdminToken))
	b.load("sign in", chromedp.Submit(chromedp.ID("api_key")))

	b.load("Event streams", chromedp.Click(chromedp.Search(`//nav[@aria-label="Sections"]//a[.="Event streams"]`)))
	b.see("empty streams page", "No event streams yet", "Create event stream", "role.created")
	b.do("stream form",
		chromedp.SendKeys(chromedp.ID("name"), "billing-app"),
		chromedp.SendKeys(chromedp.ID("endpoint"), h.srv.URL+"/hook"),
		chromedp.SendKeys(chromedp.ID("webhook_token"), hookToken),
		chromedp.Click(chromedp.CSS(`input[name="subscriptions"][value="role.created"]`)))
	b.shot("event-stream-create")
	b.load("create the stream", chromedp.Click(chromedp.Search(`//button[normalize-space()="Create event stream"]`)))
	b.see("one-time secret page", "Copy this signing secret now", "shown only once", "Rolecall-Signature", "role.created")
	secret := b.value("#signing-secret")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("the new stream's page shows no signing secret: %q", secret)
	}
	h.secret.Store(secret)
	b.shot("event-stream-secret")

	b.load("back to the stream", chromedp.Click(chromedp.Search(`//a[starts-with(normalize-space(), "I have copied it")]`)))
	b.see("stream page", "billing-app", "Enabled", h.srv.URL+"/hook", "Bearer token (never shown)", "No delivery attempts yet")
	b.load("send a test event", chromedp.Click(chromedp.Search(`//button[normalize-space()="Send test event"]`)))
	b.see("test outcome", "delivered: the receiver answered HTTP 200", "event_stream.test")
	if got := types(); !slices.Equal(got, []string{"event_stream.test"}) {
		t.Errorf("the receiver accepted %v, want the test event", got)
	}

	// A real change is delivered by the server's deliverer.
	s.api(t, "POST", "/roles", map[string]any{"name": "auditor"}, http.StatusCreated)
	eventually(t, "role.created delivered", 10*time.Second, func() bool { return slices.Contains(types(), "role.created") })
	b.load("reload", chromedp.Reload())
	b.see("deliveries", "role.created", "event_stream.test")
	b.shot("event-stream-deliveries")

	b.load("disable", chromedp.Click(chromedp.Search(`//button[normalize-space()="Disable"]`)))
	b.see("disabled", "Event stream billing-app is disabled", "This stream delivers nothing")
	b.shot("event-stream-disabled")
	b.load("enable", chromedp.Click(chromedp.Search(`//button[normalize-space()="Enable"]`)))
	b.see("enabled", "Event stream billing-app is enabled")

	// Rotate through the dialog: the old secret stops verifying.
	b.do("rotate", chromedp.Click(chromedp.Search(`//button[normalize-space()="Rotate signing secret"]`)))
	b.confirmDialog("Rotate the signing secret of billing-app? The old secret stops signing at once: the receiver rejects every event until it has the new one.", "event-stream-rotate-dialog")
	b.see("rotated", "New signing secret for billing-app", "The old secret no longer signs")
	rotated := b.value("#signing-secret")
	if rotated == secret || !strings.HasPrefix(rotated, "whsec_") {
		t.Fatalf("the rotate page shows %q, want a new secret", rotated)
	}
	b.load("back to the stream", chromedp.Click(chromedp.Search(`//a[starts-with(normalize-space(), "I have copied it")]`)))
	b.load("test with the old secret", chromedp.Click(chromedp.Search(`//button[normalize-space()="Send test event"]`)))
	b.see("refused by the receiver", "Test event not delivered", "the receiver answered HTTP 401")
	h.secret.Store(rotated)
	b.load("test with the new secret", chromedp.Click(chromedp.Search(`//button[normalize-space()="Send test event"]`)))
	b.see("accepted again", "delivered: the receiver answered HTTP 200")
	b.shot("event-stream-tested")
	if text := b.text(); strings.Contains(text, hookToken) || strings.Contains(text, secret) || strings.Contains(text, rotated) {
		t.Error("the stream page shows the bearer token or a signing secret")
	}

	b.do("delete", chromedp.Click(chromedp.Search(`//button[normalize-space()="Delete event stream"]`)))
	b.confirmDialog("Delete event stream billing-app? It stops delivering at once, and the events it has not delivered are never sent. This cannot be undone.", "event-stream-delete-dialog")
	b.see("deleted", "Event stream billing-app deleted.", "No event streams yet")
	if list := s.api(t, "GET", "/event-streams", nil, http.StatusOK)["event_streams"].([]any); len(list) != 0 {
		t.Errorf("streams after the delete: %v", list)
	}
	t.Logf("browser flow took %s; screenshots in %s", time.Since(start).Round(time.Millisecond), b.shots)
}
