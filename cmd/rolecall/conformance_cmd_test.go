package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/conformance"
)

// runCmd runs `rolecall <args>` with the given environment and returns the
// exit code and both outputs.
func runCmd(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

var summaryLine = regexp.MustCompile(`(?m)^(\d+) passed, (\d+) failed, (\d+) skipped \((\d+) scenarios\)$`)

// The whole suite against a fresh server, on fresh connections: every
// scenario passes (the server advertises etag and sort, and the command makes
// a read-only token, a foreign connection and uses the Management API, so
// nothing is skipped), and it leaves nothing behind.
func TestConformanceCommandPassesAgainstTheServer(t *testing.T) {
	s := startServer(t)
	code, stdout, stderr := runCmd(t, nil, "conformance", "--url", s.URL+"/", "--api-key", testAdminToken, "--change-tenant-settings")
	if code != 0 {
		t.Fatalf("exit code %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	all := len(conformance.Scenarios())
	m := summaryLine.FindStringSubmatch(stdout)
	if m == nil || m[1] != strconv.Itoa(all) || m[2] != "0" || m[3] != "0" {
		t.Fatalf("summary %q, want all %d passed\n%s", m, all, stdout)
	}
	for _, want := range []string{"PASS okta/put-replaces-user\n", "PASS roles/organization-group-role-follows-auto-membership\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Fresh connections, roles, organizations and minted API keys are gone.
	if cons := s.api(t, "GET", "/connections", nil, 200)["connections"].([]any); len(cons) != 0 {
		t.Errorf("%d connections left behind: %v", len(cons), cons)
	}
	if roles := s.api(t, "GET", "/roles", nil, 200)["roles"].([]any); len(roles) != 0 {
		t.Errorf("%d roles left behind", len(roles))
	}
	if orgs := s.api(t, "GET", "/organizations", nil, 200)["organizations"].([]any); len(orgs) != 0 {
		t.Errorf("%d organizations left behind", len(orgs))
	}
	if keys := s.api(t, "GET", "/api-keys", nil, 200)["api_keys"].([]any); len(keys) != 0 {
		t.Errorf("%d API keys left behind", len(keys))
	}
	if flags := s.api(t, "GET", "/tenants/settings", nil, 200)["flags"].(map[string]any); flags["nested_group_roles"] != false {
		t.Errorf("tenant flags after the run: %v, want nested_group_roles turned back off", flags)
	}
	// Without --change-tenant-settings, the scenario that flips one is skipped.
	code, stdout, _ = runCmd(t, nil, "conformance", "--url", s.URL, "--api-key", testAdminToken, "--run", "^roles/nested")
	if code != 0 || !strings.Contains(stdout, "SKIP roles/nested-group-roles-flow-when-enabled: the target may not change tenant settings\n") ||
		!strings.Contains(stdout, "PASS roles/nested-group-roles-do-not-flow-by-default\n") {
		t.Errorf("exit %d, output:\n%s\nwant the settings scenario skipped", code, stdout)
	}
}

// An existing connection (--scim-url, --token) with the API key from the
// environment: the connection id comes from the URL, so the organization
// scenarios run; --run selects them; what they created is deleted.
func TestConformanceCommandOnAnExistingConnection(t *testing.T) {
	s := startServer(t)
	id, base := s.connection(t, "acme-okta")
	token := s.scimToken(t, id)
	code, stdout, stderr := runCmd(t, map[string]string{"ROLECALL_ADMIN_TOKEN": testAdminToken, "ROLECALL_SCIM_TOKEN": token},
		"conformance", "--url", s.URL, "--scim-url", base, "--run", `^roles/organization-group|^rfc/read-only`)
	if code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"PASS roles/organization-group-role-follows-auto-membership\n",
		"PASS roles/organization-group-role-inert-when-connection-disabled\n",
		"SKIP rfc/read-only-token-cannot-write: the target has no read-only token\n",
		"3 passed, 0 failed, 1 skipped (4 scenarios)",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "PASS okta/") {
		t.Errorf("--run selected more than asked:\n%s", stdout)
	}
	if users := s.api(t, "GET", "/users?connection_id="+id, nil, 200)["users"].([]any); len(users) != 0 {
		t.Errorf("%d users left in the existing connection", len(users))
	}
	if groups := s.api(t, "GET", "/groups?connection_id="+id, nil, 200)["groups"].([]any); len(groups) != 0 {
		t.Errorf("%d groups left in the existing connection", len(groups))
	}
	if cons := s.api(t, "GET", "/connections", nil, 200)["connections"].([]any); len(cons) != 1 {
		t.Errorf("connections after the run: %v, want only the existing one (the foreign one deleted)", cons)
	}
}

// A server that answers wrongly: the failing scenario is reported with what
// came back, and the exit code is 1.
func TestConformanceCommandFailsAgainstAWrongServer(t *testing.T) {
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(http.StatusOK) // a 200 for everything, a missing user included
		w.Write([]byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"x","userName":"x"}`))
	}))
	t.Cleanup(stub.Close)
	code, stdout, stderr := runCmd(t, nil, "conformance", "--url", stub.URL, "--scim-url", stub.URL+"/scim/v2",
		"--token", "t", "--run", `^okta/get-nonexistent-404$|^roles/enterprise-group-role-inherited`)
	if code != 1 {
		t.Fatalf("exit code %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"FAIL okta/get-nonexistent-404\n",
		"status: want 404, got 200",
		"SKIP roles/enterprise-group-role-inherited-at-login: the target has no Management API URL and API key",
		"0 passed, 1 failed, 1 skipped (2 scenarios)",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

// Setup failures (a wrong API key) exit 1 with the API's answer; usage
// errors exit 2 and name every problem.
func TestConformanceCommandErrors(t *testing.T) {
	s := startServer(t)
	code, _, stderr := runCmd(t, nil, "conformance", "--url", s.URL, "--api-key", "rck_0000000000000000_wrong")
	if code != 1 || !strings.Contains(stderr, "setup: POST /connections: 401") || !strings.Contains(stderr, "invalid_token") {
		t.Errorf("wrong key: exit %d, stderr %q; want 1 and the API's 401", code, stderr)
	}

	code, _, stderr = runCmd(t, nil, "conformance", "--url", "ftp://x", "--run", "(", "--token", "t")
	if code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	for _, want := range []string{"url \"ftp://x\"", "api-key: required", "run \"(\"", "only with --scim-url"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("usage errors lack %q:\n%s", want, stderr)
		}
	}
	code, _, stderr = runCmd(t, nil, "conformance", "--url", s.URL, "--api-key", testAdminToken, "--run", "^nothing/")
	if code != 2 || !strings.Contains(stderr, "no scenario matches") {
		t.Errorf("empty selection: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCmd(t, nil, "conformance", "--url", s.URL, "--scim-url", s.URL+"/scim/v2/connections/con_x")
	if code != 2 || !strings.Contains(stderr, "token: required with --scim-url") {
		t.Errorf("scim-url without a token: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := runCmd(t, nil, "conformance", "-h"); code != 0 || !strings.Contains(stderr, "Usage: rolecall conformance") {
		t.Errorf("-h: exit %d, stderr %q", code, stderr)
	}
	if code, stdout, _ := runCmd(t, nil, "help"); code != 0 || !strings.Contains(stdout, "rolecall conformance [flags]") {
		t.Errorf("the usage text does not list the conformance command: %q", stdout)
	}
}
