package main

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// orgWorld is alice with a role from each of the four bindings: direct and
// Enterprise Group (tenant), member and Organization Group (organization),
// each role with its own permission; an organization with auto-membership,
// one she was added to explicitly and one she is not in.
type orgWorld struct {
	s                      *testServer
	alice, eng             string
	auto, explicit, none   string
	direct, tenantGroup    string // role ids
	member, orgGroup       string
	permissionsOf          map[string]string // role name → permission name
	connectionID, rolesAPI string
}

func newOrgWorld(t *testing.T, s *testServer) *orgWorld {
	t.Helper()
	w := &orgWorld{s: s, rolesAPI: "https://api.acme.test", permissionsOf: map[string]string{}}
	var base string
	w.connectionID, base = s.connection(t, "acme")
	idp := scimClient{t, base, s.scimToken(t, w.connectionID)}
	w.alice = idp.user("alice@acme.test")
	w.eng = idp.group("Engineering", w.alice)
	s.api(t, "POST", "/resource-servers", map[string]any{"identifier": w.rolesAPI, "name": "Acme API", "scopes": []any{
		map[string]any{"value": "read:all"}, map[string]any{"value": "admin:all"},
		map[string]any{"value": "read:org"}, map[string]any{"value": "write:org"}}}, 201)
	role := func(name, perm string) string {
		id := s.api(t, "POST", "/roles", map[string]any{"name": name}, 201)["id"].(string)
		s.api(t, "POST", "/roles/"+id+"/permissions", map[string]any{"permissions": []any{
			map[string]any{"resource_server_identifier": w.rolesAPI, "permission_name": perm}}}, 201)
		w.permissionsOf[name] = perm
		return id
	}
	w.direct, w.tenantGroup = role("direct", "read:all"), role("tenant-group", "admin:all")
	w.member, w.orgGroup = role("member", "read:org"), role("org-group", "write:org")
	s.api(t, "POST", "/users/"+w.alice+"/roles", map[string]any{"roles": []string{w.direct}}, 204)
	s.api(t, "POST", "/groups/"+w.eng+"/roles", map[string]any{"roles": []string{w.tenantGroup}}, 204)
	org := func(name string) string {
		return s.api(t, "POST", "/organizations", map[string]any{"name": name}, 201)["id"].(string)
	}
	w.auto, w.explicit, w.none = org("auto"), org("explicit"), org("none")
	s.api(t, "POST", "/organizations/"+w.auto+"/enabled_connections", map[string]any{"connection_id": w.connectionID, "assign_membership_on_login": true}, 201)
	s.api(t, "POST", "/organizations/"+w.auto+"/groups/"+w.eng+"/roles", map[string]any{"roles": []string{w.orgGroup}}, 204)
	s.api(t, "POST", "/organizations/"+w.explicit+"/members", map[string]any{"members": []string{w.alice}}, 204)
	for _, o := range []string{w.auto, w.explicit} {
		s.api(t, "POST", "/organizations/"+o+"/members/"+w.alice+"/roles", map[string]any{"roles": []string{w.member}}, 204)
	}
	return w
}

// rolesAndScopes is "name/scope" per role of a result, sorted.
func rolesAndScopes(result map[string]any) []string {
	var out []string
	for _, r := range result["roles"].([]any) {
		role := r.(map[string]any)
		out = append(out, fmt.Sprint(role["name"], "/", role["scope"]))
	}
	slices.Sort(out)
	return out
}

func strs(list any) []string {
	var out []string
	for _, v := range list.([]any) {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

// batch asks for alice without an organization and in each organization,
// in one query, and checks every result holds only what the rule allows:
// roles with their scopes, sources at the same scopes, permissions and
// claims of exactly those roles.
func (w *orgWorld) batch(t *testing.T, minRevision string, want map[string][]string) {
	t.Helper()
	orgs := []string{"", w.auto, w.explicit, w.none}
	var subjects []any
	for _, o := range orgs {
		s := map[string]any{"user_id": w.alice}
		if o != "" {
			s["organization_id"] = o
		}
		subjects = append(subjects, s)
	}
	rev, _ := strconv.Atoi(minRevision)
	resp, out := call(t, "POST", w.s.URL+"/api/v2/effective-roles/query", testAdminToken, map[string]any{"subjects": subjects, "min_revision": rev})
	if resp.StatusCode != 200 {
		t.Fatalf("query: %d %v", resp.StatusCode, out)
	}
	for i, o := range orgs {
		label := map[string]string{"": "no organization", w.auto: "auto-membership", w.explicit: "explicit member", w.none: "not a member"}[o]
		res := out["results"].([]any)[i].(map[string]any)
		got := rolesAndScopes(res)
		if !slices.Equal(got, want[label]) {
			t.Errorf("%s: roles %v, want %v", label, got, want[label])
		}
		var names, perms []string
		for _, rs := range want[label] {
			name, scope, _ := strings.Cut(rs, "/")
			names = append(names, name)
			perms = append(perms, w.permissionsOf[name])
			for _, r := range res["roles"].([]any) {
				if r.(map[string]any)["name"] != name {
					continue
				}
				for _, src := range r.(map[string]any)["sources"].([]any) {
					if s := src.(map[string]any)["scope"]; s != scope {
						t.Errorf("%s: role %s has a source at %v scope: %v", label, name, s, src)
					}
				}
			}
		}
		slices.Sort(names)
		slices.Sort(perms)
		claims := res["claims"].(map[string]any)
		if got := slices.Sorted(slices.Values(strs(claims["roles"]))); !slices.Equal(got, names) {
			t.Errorf("%s: claims.roles %v, want %v", label, got, names)
		}
		if got := strs(claims["permissions"]); !slices.Equal(got, perms) {
			t.Errorf("%s: claims.permissions %v, want %v", label, got, perms)
		}
		var gotPerms []string
		for _, p := range res["permissions"].([]any) {
			gotPerms = append(gotPerms, p.(map[string]any)["permission_name"].(string))
		}
		if !slices.Equal(gotPerms, perms) {
			t.Errorf("%s: permissions %v, want %v", label, gotPerms, perms)
		}
	}
}

// get calls a GET effective-* endpoint and returns its answer.
func (w *orgWorld) get(t *testing.T, path string) map[string]any {
	t.Helper()
	resp, out := call(t, "GET", w.s.URL+"/api/v2"+path, testAdminToken, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, out)
	}
	return out
}

func permissionNamesOf(out map[string]any) []string {
	var names []string
	for _, p := range out["permissions"].([]any) {
		names = append(names, p.(map[string]any)["permission_name"].(string))
	}
	return names
}

func TestOrganizationLoginsCarryOrganizationRolesOnly(t *testing.T) {
	s := startServer(t)
	w := newOrgWorld(t, s)
	tenant := []string{"direct/tenant", "tenant-group/tenant"}
	orgOnly := map[string][]string{
		"no organization": tenant,
		"auto-membership": {"member/organization", "org-group/organization"},
		"explicit member": {"member/organization"}, // the group binding is inert without auto-membership
		"not a member":    nil,
	}
	w.batch(t, "", orgOnly)
	// The GET endpoints follow the same rule.
	if got := rolesAndScopes(w.get(t, "/users/"+w.alice+"/effective-roles?organization_id="+w.auto)); !slices.Equal(got, orgOnly["auto-membership"]) {
		t.Errorf("GET effective-roles in the organization: %v, want %v", got, orgOnly["auto-membership"])
	}
	if got := rolesAndScopes(w.get(t, "/organizations/"+w.explicit+"/members/"+w.alice+"/effective-roles")); !slices.Equal(got, orgOnly["explicit member"]) {
		t.Errorf("GET member effective-roles: %v, want %v", got, orgOnly["explicit member"])
	}
	if got := permissionNamesOf(w.get(t, "/users/"+w.alice+"/effective-permissions?organization_id="+w.auto)); !slices.Equal(got, []string{"read:org", "write:org"}) {
		t.Errorf("GET effective-permissions in the organization: %v, want [read:org write:org]", got)
	}
	if got := permissionNamesOf(w.get(t, "/users/"+w.alice+"/effective-permissions")); !slices.Equal(got, []string{"admin:all", "read:all"}) {
		t.Errorf("GET effective-permissions without an organization: %v, want [admin:all read:all]", got)
	}

	// The tenant setting restores the union, at once and audited.
	resp, out := call(t, "PATCH", s.URL+"/api/v2/tenants/settings", testAdminToken, map[string]any{"flags": map[string]any{"tenant_roles_in_organizations": true}})
	if resp.StatusCode != 200 || fmt.Sprint(out) != "map[flags:map[nested_group_roles:false tenant_roles_in_organizations:true]]" {
		t.Fatalf("PATCH settings: %d %v", resp.StatusCode, out)
	}
	union := map[string][]string{
		"no organization": tenant,
		"auto-membership": append([]string{"member/organization", "org-group/organization"}, tenant...),
		"explicit member": append([]string{"member/organization"}, tenant...),
		"not a member":    nil,
	}
	for _, list := range union {
		slices.Sort(list)
	}
	w.batch(t, resp.Header.Get("Rolecall-Revision"), union)
	entries := s.api(t, "GET", "/logs?type=tenant.settings.updated", nil, 200)["logs"].([]any)
	if len(entries) != 1 || fmt.Sprint(entries[0].(map[string]any)["before"], entries[0].(map[string]any)["after"]) !=
		"map[nested_group_roles:false tenant_roles_in_organizations:false] map[nested_group_roles:false tenant_roles_in_organizations:true]" {
		t.Errorf("audit entries %v, want one from off to on", entries)
	}

	// The setting survives a restart: the index loads it.
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	s2 := startServer(t, func(c *config) { c.Data = s.Data })
	w.s = s2
	w.batch(t, "", union)

	// Off again: organization roles only.
	resp, _ = call(t, "PATCH", s2.URL+"/api/v2/tenants/settings", testAdminToken, map[string]any{"flags": map[string]any{"tenant_roles_in_organizations": false}})
	if resp.StatusCode != 200 {
		t.Fatalf("PATCH settings off: %d", resp.StatusCode)
	}
	w.batch(t, resp.Header.Get("Rolecall-Revision"), orgOnly)
	// A flag of the wrong type is refused and changes nothing.
	if resp, out := call(t, "PATCH", s2.URL+"/api/v2/tenants/settings", testAdminToken, map[string]any{"flags": map[string]any{"tenant_roles_in_organizations": "yes"}}); resp.StatusCode != 400 {
		t.Errorf("PATCH with a string flag: %d %v, want 400", resp.StatusCode, out)
	}
	if got := s2.api(t, "GET", "/tenants/settings", nil, 200); fmt.Sprint(got) != "map[flags:map[nested_group_roles:false tenant_roles_in_organizations:false]]" {
		t.Errorf("settings after a refused PATCH: %v", got)
	}
}

// A login server asks for the parts it uses; each part it gets is the same
// as in the full answer, and the parts it did not ask for are absent.
func TestLoginQueryIncludeSelectsParts(t *testing.T) {
	s := startServer(t)
	w := newOrgWorld(t, s)
	query := func(t *testing.T, body map[string]any) (int, map[string]any) {
		t.Helper()
		body["subjects"] = []any{map[string]any{"user_id": w.alice}, map[string]any{"user_id": w.alice, "organization_id": w.auto}}
		resp, out := call(t, "POST", s.URL+"/api/v2/effective-roles/query", testAdminToken, body)
		return resp.StatusCode, out
	}
	_, full := query(t, map[string]any{})
	withoutSources := func(roles any) []any {
		var out []any
		for _, r := range roles.([]any) {
			role := map[string]any{}
			for k, v := range r.(map[string]any) {
				if k != "sources" {
					role[k] = v
				}
			}
			out = append(out, role)
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		include any
		want    []string // the result's keys beside user and organization
		sources bool
	}{
		{"default", nil, []string{"claims", "permissions", "roles"}, true},
		{"roles", []string{"roles"}, []string{"roles"}, false},
		{"claims", []string{"claims"}, []string{"claims"}, false},
		{"roles, sources and permissions", []string{"roles", "sources", "permissions"}, []string{"permissions", "roles"}, true},
		{"sources imply roles", []string{"sources"}, []string{"roles"}, true},
		{"permissions and claims, repeated", []string{"claims", "permissions", "claims"}, []string{"claims", "permissions"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{}
			if tc.include != nil {
				body["include"] = tc.include
			}
			status, out := query(t, body)
			if status != 200 {
				t.Fatalf("status %d: %v", status, out)
			}
			for i, r := range out["results"].([]any) {
				res, fullRes := r.(map[string]any), full["results"].([]any)[i].(map[string]any)
				var keys []string
				for k := range res {
					if k != "user" && k != "organization" {
						keys = append(keys, k)
					}
				}
				slices.Sort(keys)
				if !slices.Equal(keys, tc.want) {
					t.Errorf("result %d parts %v, want %v", i, keys, tc.want)
				}
				if !reflect.DeepEqual(res["user"], fullRes["user"]) || !reflect.DeepEqual(res["organization"], fullRes["organization"]) {
					t.Errorf("result %d names %v %v, full answer %v %v", i, res["user"], res["organization"], fullRes["user"], fullRes["organization"])
				}
				for _, part := range tc.want {
					want := fullRes[part]
					if part == "roles" && !tc.sources {
						want = withoutSources(want)
					}
					if !reflect.DeepEqual(res[part], want) {
						t.Errorf("result %d %s:\n got  %v\n want %v", i, part, res[part], want)
					}
				}
			}
		})
	}
	// resource_server narrows claims as it narrows permissions.
	if _, out := query(t, map[string]any{"include": []string{"claims"}, "resource_server": "https://other.test"}); fmt.Sprint(out["results"].([]any)[0].(map[string]any)["claims"]) != "map[permissions:[] roles:[direct tenant-group]]" {
		t.Errorf("claims for another API: %v", out["results"])
	}
	for _, tc := range []struct {
		name    string
		include any
		detail  string
	}{
		{"unknown value", []string{"roles", "groups"}, `"groups"`},
		{"empty list", []string{}, "at least one"},
		{"not a list", "roles", "include"},
		{"wrong case", []string{"Roles"}, `"Roles"`},
	} {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			resp, out := call(t, "POST", s.URL+"/api/v2/effective-roles/query", testAdminToken,
				map[string]any{"subjects": []any{map[string]any{"user_id": w.alice}}, "include": tc.include})
			assertAPIError(t, resp, out, http.StatusBadRequest, "invalid_body")
			if msg, _ := out["message"].(string); !strings.Contains(msg, tc.detail) {
				t.Errorf("message %q does not name %s", msg, tc.detail)
			}
		})
	}
}

// The GET endpoints take include as a query parameter; without it they
// answer as they always did.
func TestEffectiveEndpointsIncludeParameter(t *testing.T) {
	s := startServer(t)
	w := newOrgWorld(t, s)
	u := "/users/" + w.alice
	keys := func(out map[string]any) []string {
		var k []string
		for key := range out {
			if key != "user_id" && key != "active" && key != "organization" && key != "revision" {
				k = append(k, key)
			}
		}
		slices.Sort(k)
		return k
	}
	full := w.get(t, u+"/effective-roles")
	for _, tc := range []struct {
		path    string
		want    []string
		sources bool
	}{
		{u + "/effective-roles", []string{"roles"}, true},
		{u + "/effective-roles?include=roles", []string{"roles"}, false},
		{u + "/effective-roles?include=roles,claims", []string{"claims", "roles"}, false},
		{u + "/effective-roles?include=roles&include=sources", []string{"roles"}, true},
		{u + "/effective-roles?include=permissions,claims", []string{"claims", "permissions"}, false},
		{u + "/effective-permissions", []string{"permissions"}, false},
		{u + "/effective-permissions?include=claims", []string{"claims"}, false},
		{u + "/effective-permissions?include=permissions,roles&organization_id=" + w.auto, []string{"permissions", "roles"}, false},
		{"/organizations/" + w.auto + "/members/" + w.alice + "/effective-roles?include=claims", []string{"claims"}, false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			out := w.get(t, tc.path)
			if got := keys(out); !slices.Equal(got, tc.want) {
				t.Errorf("parts %v, want %v", got, tc.want)
			}
			if roles, ok := out["roles"].([]any); ok {
				_, has := roles[0].(map[string]any)["sources"]
				if has != tc.sources {
					t.Errorf("roles carry sources: %v, want %v", has, tc.sources)
				}
				if !strings.Contains(tc.path, "organization") && len(roles) != len(full["roles"].([]any)) {
					t.Errorf("%d roles, the full answer has %d", len(roles), len(full["roles"].([]any)))
				}
			}
		})
	}
	if got := w.get(t, u+"/effective-roles?include=claims")["claims"]; fmt.Sprint(got) != "map[permissions:[admin:all read:all] roles:[direct tenant-group]]" {
		t.Errorf("claims %v", got)
	}
	if got := w.get(t, "/organizations/"+w.auto+"/members/"+w.alice+"/effective-roles?include=claims")["claims"]; fmt.Sprint(got) != "map[permissions:[read:org write:org] roles:[member org-group]]" {
		t.Errorf("claims in the organization %v", got)
	}
	for _, path := range []string{
		u + "/effective-roles?include=everything",
		u + "/effective-roles?include=",
		u + "/effective-roles?include=roles,,claims",
		u + "/effective-permissions?include=ROLES",
		"/organizations/" + w.auto + "/members/" + w.alice + "/effective-roles?include=role",
	} {
		resp, out := call(t, "GET", s.URL+"/api/v2"+path, testAdminToken, nil)
		assertAPIError(t, resp, out, http.StatusBadRequest, "invalid_query_string")
		if msg, _ := out["message"].(string); !strings.Contains(msg, "include") {
			t.Errorf("%s: message %q does not name include", path, msg)
		}
	}
}
