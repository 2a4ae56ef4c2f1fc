package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/store/storetest"
)

// includeWorld is alice with a direct role, holding one permission, and a
// member role in an organization she was added to.
func includeWorld(t *testing.T) (m *mgmt, alice, org string) {
	m = newMgmt(t)
	con := m.connection("acme")
	alice = m.user(con, "alice")
	admin, member := m.role("admin"), m.role("member")
	storetest.MustResourceServer(t, m.db, "https://api.example.com", "read:all")
	m.do("POST", "/roles/"+admin+"/permissions", map[string]any{"permissions": []any{
		map[string]any{"resource_server_identifier": "https://api.example.com", "permission_name": "read:all"}}}, 201)
	m.do("POST", "/users/"+alice+"/roles", map[string]any{"roles": []string{admin}}, 204)
	org = m.org("acme-org")
	m.do("POST", "/organizations/"+org+"/members", map[string]any{"members": []string{alice}}, 204)
	m.do("POST", "/organizations/"+org+"/members/"+alice+"/roles", map[string]any{"roles": []string{member}}, 204)
	return m, alice, org
}

// parts lists an answer's keys other than those naming the subject.
func parts(out map[string]any) string {
	var keys []string
	for k := range out {
		switch k {
		case "user", "user_id", "active", "organization", "revision":
		default:
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}

func TestQueryIncludeParts(t *testing.T) {
	m, alice, _ := includeWorld(t)
	for _, tc := range []struct {
		name    string
		include any
		want    string
		sources bool
	}{
		{"absent: everything", nil, "claims,permissions,roles", true},
		{"null: everything", "null", "claims,permissions,roles", true},
		{"roles", []string{"roles"}, "roles", false},
		{"claims", []string{"claims"}, "claims", false},
		{"permissions", []string{"permissions"}, "permissions", false},
		{"roles with sources and permissions", []string{"roles", "sources", "permissions"}, "permissions,roles", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := fmt.Sprintf(`{"subjects":[{"user_id":%q}]}`, alice)
			switch v := tc.include.(type) {
			case string:
				body = strings.TrimSuffix(body, "}") + `,"include":` + v + "}"
			case []string:
				body = strings.TrimSuffix(body, "}") + `,"include":["` + strings.Join(v, `","`) + `"]}`
			}
			res := m.do("POST", "/effective-roles/query", body, 200)["results"].([]any)[0].(map[string]any)
			if got := parts(res); got != tc.want {
				t.Errorf("parts %q, want %q", got, tc.want)
			}
			if roles, ok := res["roles"].([]any); ok {
				if _, got := roles[0].(map[string]any)["sources"]; got != tc.sources {
					t.Errorf("sources present %v, want %v", got, tc.sources)
				}
				if roles[0].(map[string]any)["scope"] != "tenant" {
					t.Errorf("role %v: scope missing or wrong without sources", roles[0])
				}
			}
		})
	}
}

func TestIncludeRefusesUnknownParts(t *testing.T) {
	m, alice, org := includeWorld(t)
	for _, body := range []string{
		fmt.Sprintf(`{"subjects":[{"user_id":%q}],"include":["roles","everything"]}`, alice),
		fmt.Sprintf(`{"subjects":[{"user_id":%q}],"include":[]}`, alice),
		fmt.Sprintf(`{"subjects":[{"user_id":%q}],"include":"claims"}`, alice),
		fmt.Sprintf(`{"subjects":[{"user_id":%q}],"include":[""]}`, alice),
	} {
		m.fails("POST", "/effective-roles/query", body, 400, "invalid_body")
	}
	for _, path := range []string{
		"/users/" + alice + "/effective-roles?include=everything",
		"/users/" + alice + "/effective-roles?include=",
		"/users/" + alice + "/effective-permissions?include=claims,",
		"/organizations/" + org + "/members/" + alice + "/effective-roles?include=member",
	} {
		m.fails("GET", path, nil, 400, "invalid_query_string")
	}
	// The include check comes before the subject: a bad include on a
	// missing user is still the include's 400.
	m.fails("GET", "/users/usr_0000000000000000/effective-roles?include=x", nil, 400, "invalid_query_string")
}

func TestGetEffectiveRolesInsideAnOrganization(t *testing.T) {
	m, alice, org := includeWorld(t)
	names := func(out map[string]any) string {
		var n []string
		for _, r := range out["roles"].([]any) {
			n = append(n, r.(map[string]any)["name"].(string))
		}
		return strings.Join(n, ",")
	}
	if got := names(m.do("GET", "/users/"+alice+"/effective-roles", nil, 200)); got != "admin" {
		t.Errorf("without an organization: %s, want admin", got)
	}
	out := m.do("GET", "/users/"+alice+"/effective-roles?organization_id="+org+"&include=roles,claims", nil, 200)
	if got := names(out); got != "member" {
		t.Errorf("inside the organization: %s, want member (tenant roles stay out)", got)
	}
	if got := fmt.Sprint(out["organization"], out["claims"]); got != fmt.Sprintf("map[auto_membership:false id:%s member:true] map[permissions:[] roles:[member]]", org) {
		t.Errorf("organization and claims: %s", got)
	}
	m.fails("GET", "/users/"+alice+"/effective-roles?organization_id=org_0000000000000000", nil, 404, "inexistent_organization")
}

func TestTenantSettingsFlagsChangeOneAtATime(t *testing.T) {
	m := newMgmt(t)
	if got := fmt.Sprint(m.do("GET", "/tenants/settings", nil, 200)); got != "map[flags:map[nested_group_roles:false tenant_roles_in_organizations:false]]" {
		t.Fatalf("defaults %s", got)
	}
	m.do("PATCH", "/tenants/settings", map[string]any{"flags": map[string]any{"tenant_roles_in_organizations": true}}, 200)
	m.do("PATCH", "/tenants/settings", map[string]any{"flags": map[string]any{"nested_group_roles": true}}, 200)
	if got := fmt.Sprint(m.do("GET", "/tenants/settings", nil, 200)); got != "map[flags:map[nested_group_roles:true tenant_roles_in_organizations:true]]" {
		t.Errorf("after two PATCHes %s, want both on", got)
	}
	if n := len(m.logs("tenant.settings.updated")); n != 2 {
		t.Errorf("%d audit entries, want 2", n)
	}
	// Setting a flag to what it is writes nothing.
	m.do("PATCH", "/tenants/settings", map[string]any{"flags": map[string]any{"tenant_roles_in_organizations": true}}, 200)
	if n := len(m.logs("tenant.settings.updated")); n != 2 {
		t.Errorf("%d audit entries after a no-op PATCH, want 2", n)
	}
	m.unchanged(func() {
		m.fails("PATCH", "/tenants/settings", `{"flags":{"tenant_roles_in_organizations":1}}`, 400, "invalid_body")
	})
}
