package conformance_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rolecall/rolecall/conformance"
	"github.com/rolecall/rolecall/conformance/conformancetest"
)

// refTarget starts a reference server with the given defects and returns a Target on a fresh
// connection, with a read-only token, a foreign connection and the Management API.
func refTarget(t *testing.T, defects ...string) (*refServer, conformance.Target) {
	t.Helper()
	ref := newRefServer(defects...)
	srv := httptest.NewServer(ref)
	t.Cleanup(srv.Close)
	return ref, newRefTarget(ref, srv)
}

func newRefTarget(ref *refServer, srv *httptest.Server) conformance.Target {
	con, token, readOnly := ref.newConnection()
	foreign, foreignToken, _ := ref.newConnection()
	return conformance.Target{
		BaseURL:        srv.URL + "/scim/v2/connections/" + con,
		Token:          token,
		Client:         srv.Client(),
		ReadOnlyToken:  readOnly,
		ForeignBaseURL: srv.URL + "/scim/v2/connections/" + foreign,
		ForeignToken:   foreignToken,
		ManagementURL:  srv.URL + "/api/v2",
		APIKey:         ref.newAPIKey(),
		ConnectionID:   con,
		// Scenarios run one at a time and turn the settings they flip back.
		MayChangeTenantSettings: true,
	}
}

// TestScenariosAgainstReferenceServer runs every scenario against the in-memory reference server,
// each on a fresh connection with a foreign one beside it: the scenario data must be passable.
func TestScenariosAgainstReferenceServer(t *testing.T) {
	ref := newRefServer()
	srv := httptest.NewServer(ref)
	t.Cleanup(srv.Close)
	conformancetest.Run(t, func(t *testing.T) conformance.Target { return newRefTarget(ref, srv) })
}

// Scenarios must not assume an empty connection: running all of them twice on one shared
// connection passes too.
func TestCheckSharesOneConnection(t *testing.T) {
	_, target := refTarget(t)
	for round := 1; round <= 2; round++ {
		for _, r := range conformance.Check(t.Context(), target) {
			if !r.Passed || r.Skipped {
				t.Errorf("round %d: %s: passed=%v skipped=%v %s\n  %s", round, r.Scenario, r.Passed, r.Skipped, r.SkipReason, strings.Join(r.Failures, "\n  "))
			}
		}
	}
}

func TestCheckCleanupDeletesWhatItCreated(t *testing.T) {
	ref, target := refTarget(t)
	target.Cleanup = true
	for _, r := range conformance.Check(t.Context(), target) {
		if !r.Passed {
			t.Fatalf("%s failed: %v", r.Scenario, r.Failures)
		}
	}
	ref.mu.Lock()
	defer ref.mu.Unlock()
	for id, con := range ref.connections {
		if len(con.users)+len(con.groups) > 0 {
			t.Errorf("connection %s keeps %d users and %d groups after cleanup", id, len(con.users), len(con.groups))
		}
	}
	if n := len(ref.api.rules) + len(ref.api.mappings); n > 0 {
		t.Errorf("the Management API keeps %d rules and %d role mappings after cleanup", len(ref.api.rules), len(ref.api.mappings))
	}
	if n := len(ref.api.roles) + len(ref.api.orgs) + len(ref.api.apis); n > 0 {
		t.Errorf("the Management API keeps %d roles, %d organizations and %d resource servers after cleanup", len(ref.api.roles), len(ref.api.orgs), len(ref.api.apis))
	}
	if n := len(ref.api.keys); n != 1 {
		t.Errorf("%d API keys after cleanup, want only the target's own", n)
	}
}

// Each deliberate defect of the reference server must make the scenarios that record the
// behaviour fail, at the step that observes it.
func TestCheckCatchesDefects(t *testing.T) {
	tests := []struct {
		defect   string
		scenario string
		step     string
	}{
		{defectRemoveAllMembers, "entra/remove-members-with-value-list", "the other two members are still there"},
		{defectCaseSensitiveNames, "okta/duplicate-username-conflict", "the userName in capitals conflicts too"},
		{defectPartialPatch, "rfc/patch-is-atomic", "none of it was applied"},
		{defectPartialPatch, "rfc/unknown-member-rejected", "the members are unchanged"},
		{defectIgnoreAttributes, "entra/group-lookup-excluding-members", "by displayName without members"},
		{defectIgnoreAttributes, "rfc/attributes-and-excluded-attributes", "attributes=userName"},
		{defectOrgGroupRolesWithoutAutoMembership, "roles/organization-group-role-inert-without-auto-membership", "the explicit member gets neither the inert group role nor the tenant role"},
		{defectDeactivatedKeepsRoles, "roles/deactivated-user-has-no-roles", "deactivated: active false and nothing granted"},
		{defectRoleDeleteKeepsBindings, "roles/role-deletion-cascades", "the group lost it"},
		{defectMissingUserIsEmpty, "roles/deleted-user-is-an-error", "its effective roles are 404"},
		{defectMissingUserIsEmpty, "roles/unknown-subject-is-an-error", "effective roles of an unknown user"},
		{defectNestedAlwaysOn, "roles/nested-group-roles-do-not-flow-by-default", "only the child's role reaches its member"},
		{defectNestedAlwaysOn, "roles/nested-group-roles-flow-when-enabled", "off: only the direct group's role"},
		{defectTenantRolesInEveryOrganization, "roles/organization-logins-carry-organization-roles-only", "one batch: tenant roles without an organization, organization roles only inside each"},
		{defectTenantRolesInEveryOrganization, "roles/tenant-roles-apply-in-organizations-when-enabled", "off: organization roles only"},
		{defectMappingCaseSensitive, "roles/idp-role-mapping-grants-entra-app-role", "the login answer carries the mapped role with the IdP value as its source"},
		{defectMappingCaseSensitive, "roles/idp-role-mapping-entitlement-value", "alice has the mapped role"},
		{defectOrgRulesWithoutAutoMembership, "roles/idp-role-mapping-in-organization-needs-auto-membership", "an explicit member gets nothing from the mapping"},
		{defectOrgRulesWithoutAutoMembership, "roles/rule-in-organization-follows-auto-membership", "an explicit member gets nothing from the rule"},
		{defectRuleEditKeepsFilter, "roles/rule-edit-read-your-writes", "at the edit's revision alice has lost it"},
		{defectRoleDeleteKeepsEmptyRules, "roles/role-deletion-drops-it-from-rules", "the rule left without roles is deleted"},
		{defectEventsIgnorePermissions, "roles/effective-roles-event-role-permissions-changed", "the entry adds both permissions, sorted, and no role"},
		{defectEventsForgetDeletedUser, "roles/effective-roles-event-group-and-user-deleted", "the user deletion's entry removes the rest, naming alice"},
	}
	for _, tt := range tests {
		t.Run(tt.defect+"/"+tt.scenario, func(t *testing.T) {
			_, target := refTarget(t, tt.defect)
			ctx := t.Context()
			if strings.Contains(tt.scenario, "/effective-roles-event-") {
				// The reference server logs its entries at once: waiting the scenario's
				// "eventually" out would only slow the test.
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 1500*time.Millisecond)
				defer cancel()
			}
			results := conformance.Check(ctx, target, tt.scenario)
			if len(results) != 1 {
				t.Fatalf("Check(%q) returned %d results, want 1", tt.scenario, len(results))
			}
			r := results[0]
			if r.Passed || r.Skipped {
				t.Fatalf("passed=%v skipped=%v, want a failure", r.Passed, r.Skipped)
			}
			if r.Step != tt.step {
				t.Errorf("failed at step %q, want %q; failures:\n%s", r.Step, tt.step, strings.Join(r.Failures, "\n"))
			}
		})
	}
}

// A server that answers every request with 400 and a non-SCIM body: the failures must say what
// was expected, what came back, and show the body.
func TestCheckReportsWhatCameBack(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"nope, not SCIM"}`))
	}))
	t.Cleanup(srv.Close)
	target := conformance.Target{BaseURL: srv.URL + "/scim", Token: "t", Client: srv.Client()}

	results := conformance.Check(context.Background(), target, "okta/get-nonexistent-404", "rfc/etag-versions")
	if len(results) != 2 {
		t.Fatalf("got %d results, want 2", len(results))
	}
	notFound, etag := results[0], results[1]
	if notFound.Scenario != "okta/get-nonexistent-404" || notFound.Passed || notFound.Step != "a user id that does not exist" {
		t.Fatalf("unexpected result %+v", notFound)
	}
	text := strings.Join(notFound.Failures, "\n")
	for _, want := range []string{
		`GET /Users/`,
		`status: want 404, got 400`,
		`scimError: want schemas to contain "urn:ietf:params:scim:api:messages:2.0:Error"`,
		`scimError: want status "400" (the HTTP status as a string), got null`,
		`response: 400 {"error":"nope, not SCIM"}`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("failures lack %q:\n%s", want, text)
		}
	}
	if s := notFound.String(); !strings.HasPrefix(s, "FAIL okta/get-nonexistent-404\n  step \"a user id that does not exist\" (source: Okta") ||
		!strings.Contains(s, "\n    GET /Users/") {
		t.Errorf("String() = %q", s)
	}
	if s := etag.String(); !strings.HasPrefix(s, "SKIP rfc/etag-versions: ServiceProviderConfig unavailable") {
		t.Errorf("String() = %q", s)
	}
	if !strings.Contains(notFound.Source, "https://developer.okta.com/") {
		t.Errorf("Source = %q, want the cited document", notFound.Source)
	}
	if !etag.Skipped || !strings.Contains(etag.SkipReason, "ServiceProviderConfig") {
		t.Errorf("etag scenario: skipped=%v reason=%q, want skipped for want of a ServiceProviderConfig", etag.Skipped, etag.SkipReason)
	}
}

// Without a read-only token or a foreign connection, the scenarios and steps that need them are
// skipped and say why; the rest of those scenarios still runs.
func TestCheckSkipsWhatTheTargetCannotDo(t *testing.T) {
	_, target := refTarget(t)
	target.ReadOnlyToken, target.ForeignBaseURL, target.ForeignToken = "", "", ""
	results := conformance.Check(t.Context(), target, "rfc/read-only-token-cannot-write", "rfc/unknown-member-rejected", "rfc/foreign-user-invisible")
	byName := map[string]conformance.Result{}
	for _, r := range results {
		byName[r.Scenario] = r
	}
	if r := byName["rfc/read-only-token-cannot-write"]; !r.Skipped || !strings.Contains(r.SkipReason, "read-only token") {
		t.Errorf("read-only scenario: %+v, want skipped", r)
	}
	if r := byName["rfc/foreign-user-invisible"]; !r.Skipped || !strings.Contains(r.SkipReason, "foreign connection") {
		t.Errorf("foreign scenario: %+v, want skipped", r)
	}
	r := byName["rfc/unknown-member-rejected"]
	if !r.Passed || r.Skipped {
		t.Fatalf("unknown-member scenario: %+v, want passed with skipped steps", r)
	}
	if len(r.SkippedSteps) != 2 || !strings.HasPrefix(r.SkippedSteps[0], "create a user in the foreign connection: ") {
		t.Errorf("SkippedSteps = %q, want the two foreign steps", r.SkippedSteps)
	}
}

// Without the Management API every role scenario is skipped as a whole, saying why; without the
// connection id only those that enable it on an organization or name users by it.
func TestCheckSkipsRoleScenariosWithoutTheManagementAPI(t *testing.T) {
	_, target := refTarget(t)
	target.ConnectionID = ""
	for _, r := range conformance.Check(t.Context(), target, "roles") {
		needsConnection := slices.Contains(scenarioNeeds(t, r.Scenario), conformance.NeedsConnectionID)
		switch {
		case needsConnection && (!r.Skipped || r.SkipReason != "the target has no connection id"):
			t.Errorf("%s: %+v, want skipped for want of the connection id", r.Scenario, r)
		case !needsConnection && !r.Passed:
			t.Errorf("%s: %+v, want passed", r.Scenario, r)
		}
	}
	target.ManagementURL = ""
	results := conformance.Check(t.Context(), target, "roles")
	if len(results) < 20 {
		t.Fatalf("%d role scenarios", len(results))
	}
	for _, r := range results {
		if !r.Skipped || r.SkipReason != "the target has no Management API URL and API key" {
			t.Errorf("%s: %+v, want skipped for want of the Management API", r.Scenario, r)
		}
	}
}

func scenarioNeeds(t *testing.T, name string) []string {
	for _, s := range conformance.Scenarios() {
		if s.Name == name {
			return s.Needs
		}
	}
	t.Fatalf("no scenario %s", name)
	return nil
}

func TestCheckSelectsScenarios(t *testing.T) {
	_, target := refTarget(t)
	names := func(only ...string) []string {
		var out []string
		for _, r := range conformance.Check(t.Context(), target, only...) {
			out = append(out, r.Scenario)
		}
		return out
	}
	for _, n := range names("entra") {
		if !strings.HasPrefix(n, "entra/") {
			t.Errorf("selector entra selected %s", n)
		}
	}
	if got := names("rfc/patch-*"); len(got) != 5 {
		t.Errorf("rfc/patch-* selected %v, want the 5 PATCH scenarios", got)
	}
	if got := names("okta/put-replaces-user", "nothing/else"); !slices.Equal(got, []string{"okta/put-replaces-user"}) {
		t.Errorf("exact selector selected %v", got)
	}
}

var (
	rfcSection   = regexp.MustCompile(`^RFC \d+ §\d`)
	scenarioDirs = []string{"okta", "entra", "rfc", "roles"}
)

// The scenario data: every file parses (Scenarios panics otherwise), lives under okta, entra, rfc
// or roles, cites a document with a URL or an RFC section and a quote, has a unique name, and uses
// only known matcher kinds. Role scenarios need the Management API as a whole, so a target
// without it skips them rather than running their SCIM steps alone; their names carry {{run}}.
func TestScenarioData(t *testing.T) {
	scenarios := conformance.Scenarios()
	if len(scenarios) < 40 {
		t.Fatalf("only %d scenarios", len(scenarios))
	}
	seen := map[string]bool{}
	perDir := map[string]int{}
	for _, s := range scenarios {
		dir, _, _ := strings.Cut(s.Name, "/")
		perDir[dir]++
		if !slices.Contains(scenarioDirs, dir) {
			t.Errorf("%s: not under okta/, entra/, rfc/ or roles/", s.Name)
		}
		if dir == "roles" && !slices.Contains(s.Needs, conformance.NeedsManagementAPI) {
			t.Errorf("%s: a role scenario must need %q at the scenario level", s.Name, conformance.NeedsManagementAPI)
		}
		if seen[s.Name] {
			t.Errorf("%s: duplicate name", s.Name)
		}
		seen[s.Name] = true
		if !strings.HasPrefix(s.Source.URL, "https://") && !rfcSection.MatchString(s.Source.Section) {
			t.Errorf("%s: source has neither an https URL nor an RFC section: %+v", s.Name, s.Source)
		}
		if s.Source.Title == "" || len(s.Source.Quote) < 20 {
			t.Errorf("%s: source needs a title and a quote", s.Name)
		}
		for _, st := range s.Steps {
			for _, m := range slices.Concat(st.Expect.Body, st.Expect.Headers) {
				if _, ok := conformance.MatcherKinds[m.Kind]; !ok {
					t.Errorf("%s, step %q: unknown matcher kind %q", s.Name, st.Name, m.Kind)
				}
			}
		}
	}
	for _, dir := range scenarioDirs {
		if perDir[dir] < 5 {
			t.Errorf("%s/ has %d scenarios", dir, perDir[dir])
		}
	}
}

// Scenarios hands out copies: a caller changing them does not change what Run replays.
func TestScenariosReturnsCopies(t *testing.T) {
	a := conformance.Scenarios()
	a[0].Name = "changed"
	if b := conformance.Scenarios(); b[0].Name == "changed" {
		t.Error("Scenarios returned the shared slice")
	}
}
