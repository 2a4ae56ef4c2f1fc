package main

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// scimClient provisions over SCIM as an IdP would.
type scimClient struct {
	t     *testing.T
	base  string
	token string
}

func (c scimClient) do(method, path string, body any, want int) map[string]any {
	c.t.Helper()
	resp, out := call(c.t, method, c.base+path, c.token, body)
	if resp.StatusCode != want {
		c.t.Fatalf("SCIM %s %s: %d, want %d: %v", method, path, resp.StatusCode, want, out)
	}
	return out
}

func (c scimClient) user(name string) string {
	c.t.Helper()
	return c.do("POST", "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": name}, 201)["id"].(string)
}

func (c scimClient) group(name string, members ...string) string {
	c.t.Helper()
	var list []any
	for _, m := range members {
		list = append(list, map[string]any{"value": m})
	}
	return c.do("POST", "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": name, "members": list}, 201)["id"].(string)
}

func patchOp(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}
}

// query asks the login query for one subject and returns its result.
func (s *testServer) query(t *testing.T, key string, subject map[string]any) map[string]any {
	t.Helper()
	resp, out := call(t, "POST", s.URL+"/api/v2/effective-roles/query", key, map[string]any{"subjects": []any{subject}})
	if resp.StatusCode != 200 {
		t.Fatalf("query %v: %d %v", subject, resp.StatusCode, out)
	}
	return out["results"].([]any)[0].(map[string]any)
}

func roleNames(result map[string]any) []string {
	var names []string
	for _, r := range result["roles"].([]any) {
		names = append(names, r.(map[string]any)["name"].(string))
	}
	slices.Sort(names)
	return names
}

func TestLoginQueryFollowsBindingsAtBothScopes(t *testing.T) {
	s := startServer(t)
	conID, base := s.connection(t, "acme")
	idp := scimClient{t, base, s.scimToken(t, conID)}
	alice := idp.user("alice@acme.test")
	eng := idp.group("Engineering", alice)
	admin := s.api(t, "POST", "/roles", map[string]any{"name": "admin"}, 201)["id"].(string)
	support := s.api(t, "POST", "/roles", map[string]any{"name": "support"}, 201)["id"].(string)
	s.api(t, "POST", "/resource-servers", map[string]any{"identifier": "https://api.acme.test", "scopes": []any{map[string]any{"value": "delete:everything"}}}, 201)
	s.api(t, "POST", "/roles/"+admin+"/permissions", map[string]any{"permissions": []any{
		map[string]any{"resource_server_identifier": "https://api.acme.test", "permission_name": "delete:everything"}}}, 201)

	// A key that can only ask for effective roles.
	login := s.api(t, "POST", "/api-keys", map[string]any{"name": "login", "scopes": []string{"read:user_effective_roles"}}, 201)["key"].(string)
	if resp, _ := call(t, "GET", s.URL+"/api/v2/roles", login, nil); resp.StatusCode != 403 {
		t.Errorf("login key listing roles: %d, want 403", resp.StatusCode)
	}

	// Enterprise Group: bind at tenant scope, inherit at login.
	s.api(t, "POST", "/groups/"+eng+"/roles", map[string]any{"roles": []string{admin}}, 204)
	res := s.query(t, login, map[string]any{"user_id": alice})
	if got := roleNames(res); !slices.Equal(got, []string{"admin"}) {
		t.Fatalf("roles %v, want [admin]", got)
	}
	role := res["roles"].([]any)[0].(map[string]any)
	src := role["sources"].([]any)[0].(map[string]any)
	if src["type"] != "group" || src["group_id"] != eng || src["group_name"] != "Engineering" || src["scope"] != "tenant" {
		t.Errorf("source %v, want group Engineering at tenant scope", src)
	}
	claims := res["claims"].(map[string]any)
	if fmt.Sprint(claims["roles"]) != "[admin]" || fmt.Sprint(claims["permissions"]) != "[delete:everything]" {
		t.Errorf("claims %v", claims)
	}
	// The same by userName (case-insensitive) and through GET /users/{id}/effective-roles.
	if got := roleNames(s.query(t, login, map[string]any{"connection_id": conID, "user_name": "ALICE@acme.test"})); !slices.Equal(got, []string{"admin"}) {
		t.Errorf("by user_name: %v", got)
	}
	if resp, out := call(t, "GET", s.URL+"/api/v2/users/"+alice+"/effective-roles", login, nil); resp.StatusCode != 200 || len(out["roles"].([]any)) != 1 {
		t.Errorf("GET effective-roles: %d %v", resp.StatusCode, out)
	}

	// Organization Group: inert until the connection has auto-membership.
	org := s.api(t, "POST", "/organizations", map[string]any{"name": "acme-corp"}, 201)["id"].(string)
	s.api(t, "POST", "/organizations/"+org+"/enabled_connections", map[string]any{"connection_id": conID, "assign_membership_on_login": false}, 201)
	s.api(t, "POST", "/organizations/"+org+"/groups/"+eng+"/roles", map[string]any{"roles": []string{support}}, 204)
	inOrg := map[string]any{"user_id": alice, "organization_id": org}
	if res := s.query(t, login, inOrg); res["organization"].(map[string]any)["member"] != false || len(res["roles"].([]any)) != 0 {
		t.Errorf("not a member yet: %v", res)
	}
	s.api(t, "PATCH", "/organizations/"+org+"/enabled_connections/"+conID, map[string]any{"assign_membership_on_login": true}, 200)
	// Inside the organization, its roles only: the tenant role stays out.
	if got := roleNames(s.query(t, login, inOrg)); !slices.Equal(got, []string{"support"}) {
		t.Errorf("with auto-membership: %v, want [support]", got)
	}
	s.api(t, "PATCH", "/organizations/"+org+"/enabled_connections/"+conID, map[string]any{"assign_membership_on_login": false}, 200)
	s.api(t, "POST", "/organizations/"+org+"/members", map[string]any{"members": []string{alice}}, 204)
	if got := roleNames(s.query(t, login, inOrg)); len(got) != 0 {
		t.Errorf("explicit member without auto-membership: %v, want none (organization group role inert)", got)
	}

	// Removal at the IdP: the member leaves the group.
	idp.do("PATCH", "/Groups/"+eng, patchOp(map[string]any{"op": "remove", "path": `members[value eq "` + alice + `"]`}), 204)
	if got := roleNames(s.query(t, login, map[string]any{"user_id": alice})); len(got) != 0 {
		t.Errorf("roles after leaving the group: %v", got)
	}
	// Deactivation: active false, no roles, even with a direct role.
	s.api(t, "POST", "/users/"+alice+"/roles", map[string]any{"roles": []string{support}}, 204)
	idp.do("PATCH", "/Users/"+alice, patchOp(map[string]any{"op": "replace", "value": map[string]any{"active": false}}), 204)
	if res := s.query(t, login, map[string]any{"user_id": alice}); res["user"].(map[string]any)["active"] != false || len(res["roles"].([]any)) != 0 {
		t.Errorf("deactivated: %v", res)
	}

	// A batch answers in order; an unknown subject is an error, not an empty success.
	resp, out := call(t, "POST", s.URL+"/api/v2/effective-roles/query", login, map[string]any{"subjects": []any{
		map[string]any{"user_id": "usr_0000000000000000"},
		map[string]any{"user_id": alice},
		map[string]any{"user_id": alice, "organization_id": "org_0000000000000000"},
	}})
	if resp.StatusCode != 200 {
		t.Fatalf("batch: %d %v", resp.StatusCode, out)
	}
	results := out["results"].([]any)
	codes := []any{}
	for _, r := range results {
		if e, ok := r.(map[string]any)["error"].(map[string]any); ok {
			codes = append(codes, e["errorCode"])
		} else {
			codes = append(codes, "ok")
		}
	}
	if fmt.Sprint(codes) != "[user_not_found ok organization_not_found]" {
		t.Errorf("batch results %v", codes)
	}
	if resp, _ := call(t, "GET", s.URL+"/api/v2/users/usr_0000000000000000/effective-roles", login, nil); resp.StatusCode != 404 {
		t.Errorf("effective roles of a missing user: %d, want 404", resp.StatusCode)
	}
}

func TestQueryMinRevision(t *testing.T) {
	s := startServer(t)
	resp, _ := call(t, "POST", s.URL+"/api/v2/roles", testAdminToken, map[string]any{"name": "admin"})
	rev, _ := strconv.ParseUint(resp.Header.Get("Rolecall-Revision"), 10, 64)
	if rev == 0 {
		t.Fatal("write answered without Rolecall-Revision")
	}
	conID, base := s.connection(t, "acme")
	alice := scimClient{t, base, s.scimToken(t, conID)}.user("alice")
	body := func(min uint64) map[string]any {
		return map[string]any{"subjects": []any{map[string]any{"user_id": alice}}, "min_revision": min}
	}
	if resp, out := call(t, "POST", s.URL+"/api/v2/effective-roles/query", testAdminToken, body(rev)); resp.StatusCode != 200 || out["revision"].(float64) < float64(rev) {
		t.Errorf("min_revision %d: %d %v", rev, resp.StatusCode, out)
	}
	start := time.Now()
	resp, out := call(t, "POST", s.URL+"/api/v2/effective-roles/query", testAdminToken, body(rev+1000))
	if resp.StatusCode != 409 || out["errorCode"] != "revision_not_reached" {
		t.Errorf("unreachable min_revision: %d %v, want 409 revision_not_reached", resp.StatusCode, out)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond || waited > 3*time.Second {
		t.Errorf("waited %v, want about 1 s", waited)
	}
	for name, b := range map[string]any{
		"no subjects":  map[string]any{"subjects": []any{}},
		"101 subjects": map[string]any{"subjects": make([]any, 101)},
		"unknown key":  map[string]any{"subjects": []any{map[string]any{"user_id": alice}}, "bogus": 1},
	} {
		if resp, _ := call(t, "POST", s.URL+"/api/v2/effective-roles/query", testAdminToken, b); resp.StatusCode != 400 {
			t.Errorf("%s: %d, want 400", name, resp.StatusCode)
		}
	}
}

// TestNoAnswerGrantsWhatAnAcknowledgedWriteTookAway hammers the login query
// from several goroutines while writes take a role away in every way there
// is and give it back. Once a revoking write has returned 2xx, no query that
// starts afterwards may still grant the role.
func TestNoAnswerGrantsWhatAnAcknowledgedWriteTookAway(t *testing.T) {
	s := startServer(t)
	conID, base := s.connection(t, "acme")
	idp := scimClient{t, base, s.scimToken(t, conID)}
	alice := idp.user("alice")
	eng := idp.group("Engineering", alice)
	org := s.api(t, "POST", "/organizations", map[string]any{"name": "acme-corp"}, 201)["id"].(string)
	s.api(t, "POST", "/organizations/"+org+"/enabled_connections", map[string]any{"connection_id": conID, "assign_membership_on_login": true}, 201)

	// epoch counts state changes: odd while revoked (from the moment a
	// revoking write returned until the next granting write starts). A
	// query whose whole lifetime lies in one odd epoch must not see the role.
	var epoch atomic.Int64
	var violations, checked atomic.Int64
	var roleName atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{}
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				before := epoch.Load()
				name, _ := roleName.Load().(string)
				res := queryWith(client, s.URL, testAdminToken, alice, org)
				if res == nil {
					continue
				}
				checked.Add(1)
				if before%2 == 1 && epoch.Load() == before && name != "" && slices.Contains(res, name) {
					violations.Add(1)
				}
			}
		}()
	}
	api := func(method, path string, body any, want int) map[string]any {
		return s.api(t, method, path, body, want)
	}
	for round := range 8 {
		role := api("POST", "/roles", map[string]any{"name": fmt.Sprintf("r%d", round)}, 201)["id"].(string)
		roleName.Store(fmt.Sprintf("r%d", round))
		revokes := []struct {
			grant, revoke func()
		}{
			{func() { api("POST", "/groups/"+eng+"/roles", map[string]any{"roles": []string{role}}, 204) },
				func() { api("DELETE", "/groups/"+eng+"/roles", map[string]any{"roles": []string{role}}, 204) }},
			{func() { api("POST", "/groups/"+eng+"/roles", map[string]any{"roles": []string{role}}, 204) },
				func() {
					idp.do("PATCH", "/Groups/"+eng, patchOp(map[string]any{"op": "remove", "path": "members", "value": []any{map[string]any{"value": alice}}}), 204)
				}},
			{func() {
				idp.do("PATCH", "/Groups/"+eng, patchOp(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": alice}}}), 204)
			},
				func() {
					idp.do("PATCH", "/Users/"+alice, patchOp(map[string]any{"op": "Replace", "path": "active", "value": "False"}), 204)
				}},
			{func() {
				idp.do("PATCH", "/Users/"+alice, patchOp(map[string]any{"op": "replace", "value": map[string]any{"active": true}}), 204)
				api("DELETE", "/groups/"+eng+"/roles", map[string]any{"roles": []string{role}}, 204)
				api("POST", "/organizations/"+org+"/groups/"+eng+"/roles", map[string]any{"roles": []string{role}}, 204)
			}, func() {
				api("PATCH", "/organizations/"+org+"/enabled_connections/"+conID, map[string]any{"assign_membership_on_login": false}, 200)
			}},
			{func() {
				api("PATCH", "/organizations/"+org+"/enabled_connections/"+conID, map[string]any{"assign_membership_on_login": true}, 200)
			}, func() { api("DELETE", "/roles/"+role, nil, 204) }},
		}
		for _, step := range revokes {
			if epoch.Load()%2 == 1 {
				epoch.Add(1) // granting from here on
			}
			step.grant()
			time.Sleep(2 * time.Millisecond)
			step.revoke()
			epoch.Add(1) // revoked: the write has returned
			time.Sleep(3 * time.Millisecond)
		}
	}
	close(stop)
	wg.Wait()
	client.CloseIdleConnections()
	if n := violations.Load(); n > 0 {
		t.Fatalf("%d of %d answers granted a role an acknowledged write had taken away", n, checked.Load())
	}
	if checked.Load() < 100 {
		t.Errorf("only %d queries ran; the test proves little", checked.Load())
	}
}

// queryWith returns the role names of one subject, or nil on any failure.
func queryWith(client *http.Client, url, key, user, org string) []string {
	body := fmt.Sprintf(`{"subjects":[{"user_id":%q,"organization_id":%q}]}`, user, org)
	req, _ := http.NewRequest("POST", url+"/api/v2/effective-roles/query", stringsReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := client.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var out struct {
		Results []struct {
			Roles []struct {
				Name string `json:"name"`
			} `json:"roles"`
		} `json:"results"`
	}
	if resp.StatusCode != 200 || jsonDecode(resp.Body, &out) != nil || len(out.Results) != 1 {
		return nil
	}
	names := []string{}
	for _, r := range out.Results[0].Roles {
		names = append(names, r.Name)
	}
	return names
}

// Two APIs may define the same permission name; the answer lists each
// (resource server, name) pair once, and the token-shaped claims list each
// name once, sorted. Narrowed to one resource server, only its permissions.
func TestLoginQueryFoldsPermissionsAcrossRolesAndAPIs(t *testing.T) {
	s := startServer(t)
	conID, base := s.connection(t, "acme")
	idp := scimClient{t, base, s.scimToken(t, conID)}
	bob := idp.user("bob@acme.test")
	ops := idp.group("Ops", bob)
	perm := func(api, name string) map[string]any {
		return map[string]any{"resource_server_identifier": api, "permission_name": name}
	}
	const billing, infra = "https://billing.acme.test", "https://infra.acme.test"
	for api, scopes := range map[string][]string{billing: {"read", "write"}, infra: {"read", "audit"}} {
		var defs []any
		for _, sc := range scopes {
			defs = append(defs, map[string]any{"value": sc})
		}
		s.api(t, "POST", "/resource-servers", map[string]any{"identifier": api, "scopes": defs}, 201)
	}
	reader := s.api(t, "POST", "/roles", map[string]any{"name": "reader"}, 201)["id"].(string)
	writer := s.api(t, "POST", "/roles", map[string]any{"name": "writer"}, 201)["id"].(string)
	s.api(t, "POST", "/roles/"+reader+"/permissions", map[string]any{"permissions": []any{
		perm(billing, "read"), perm(infra, "read"), perm(infra, "audit")}}, 201)
	s.api(t, "POST", "/roles/"+writer+"/permissions", map[string]any{"permissions": []any{
		perm(billing, "write"), perm(billing, "read")}}, 201)
	s.api(t, "POST", "/groups/"+ops+"/roles", map[string]any{"roles": []string{reader, writer}}, 204)

	ask := func(body map[string]any) map[string]any {
		t.Helper()
		resp, out := call(t, "POST", s.URL+"/api/v2/effective-roles/query", testAdminToken, body)
		if resp.StatusCode != 200 {
			t.Fatalf("query: %d %v", resp.StatusCode, out)
		}
		return out["results"].([]any)[0].(map[string]any)
	}
	pairs := func(res map[string]any) []string {
		var out []string
		for _, p := range res["permissions"].([]any) {
			m := p.(map[string]any)
			out = append(out, m["resource_server_identifier"].(string)+" "+m["permission_name"].(string))
		}
		return out
	}
	res := ask(map[string]any{"subjects": []any{map[string]any{"user_id": bob}}})
	if got, want := pairs(res), []string{billing + " read", billing + " write", infra + " audit", infra + " read"}; !slices.Equal(got, want) {
		t.Errorf("permissions %v, want %v", got, want)
	}
	if got := fmt.Sprint(res["claims"].(map[string]any)["permissions"]); got != "[audit read write]" {
		t.Errorf("claim permissions %s, want [audit read write]", got)
	}

	res = ask(map[string]any{"subjects": []any{map[string]any{"user_id": bob}}, "resource_server": infra})
	if got, want := pairs(res), []string{infra + " audit", infra + " read"}; !slices.Equal(got, want) {
		t.Errorf("narrowed to %s: permissions %v, want %v", infra, got, want)
	}
	if got := fmt.Sprint(res["claims"].(map[string]any)["permissions"]); got != "[audit read]" {
		t.Errorf("narrowed claim permissions %s, want [audit read]", got)
	}
	// The scratch bitsets are reused: a query for a user without roles right
	// after must not inherit the previous answer's bits.
	carol := idp.user("carol@acme.test")
	res = ask(map[string]any{"subjects": []any{map[string]any{"user_id": carol}}})
	if len(res["permissions"].([]any)) != 0 || len(res["claims"].(map[string]any)["permissions"].([]any)) != 0 {
		t.Errorf("a user without roles: %v", res)
	}

	// In a batch each answer is the one its subject gets alone: answers
	// share buffers while they are encoded, one after the other.
	single := func(id string) string {
		return toJSON(ask(map[string]any{"subjects": []any{map[string]any{"user_id": id}}}))
	}
	want := []string{single(bob), single(carol), single(bob)}
	_, batch := call(t, "POST", s.URL+"/api/v2/effective-roles/query", testAdminToken, map[string]any{"subjects": []any{
		map[string]any{"user_id": bob}, map[string]any{"user_id": carol}, map[string]any{"user_id": bob}}})
	for i, r := range batch["results"].([]any) {
		if got := toJSON(r); got != want[i] {
			t.Errorf("batch result %d:\n got  %s\n want %s", i, got, want[i])
		}
	}
}

// Nested group roles are a tenant setting (PATCH /tenants/settings), off by
// default; on, a role bound to a group reaches the members of its member
// groups and each source says which groups it came through.
func TestNestedGroupRolesSettingOverHTTP(t *testing.T) {
	s := startServer(t)
	conID, base := s.connection(t, "acme")
	idp := scimClient{t, base, s.scimToken(t, conID)}
	alice := idp.user("alice@acme.test")
	backend := idp.group("Backend", alice)
	eng := idp.group("Engineering")
	// Entra and Okta send member groups like users, by id.
	idp.do("PATCH", "/Groups/"+eng, patchOp(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": backend}}}), 204)
	role := s.api(t, "POST", "/roles", map[string]any{"name": "engineer"}, 201)["id"].(string)
	s.api(t, "POST", "/groups/"+eng+"/roles", map[string]any{"roles": []string{role}}, 204)

	if got := s.api(t, "GET", "/tenants/settings", nil, 200); fmt.Sprint(got) != "map[flags:map[nested_group_roles:false tenant_roles_in_organizations:false]]" {
		t.Fatalf("default settings %v", got)
	}
	if got := roleNames(s.query(t, testAdminToken, map[string]any{"user_id": alice})); len(got) != 0 {
		t.Fatalf("nested roles off: %v, want none", got)
	}

	// Turning it on answers with the revision to wait for.
	resp, out := call(t, "PATCH", s.URL+"/api/v2/tenants/settings", testAdminToken, map[string]any{"flags": map[string]any{"nested_group_roles": true}})
	rev := resp.Header.Get("Rolecall-Revision")
	if resp.StatusCode != 200 || fmt.Sprint(out) != "map[flags:map[nested_group_roles:true tenant_roles_in_organizations:false]]" || rev == "" {
		t.Fatalf("PATCH settings: %d %v revision %q", resp.StatusCode, out, rev)
	}
	n, _ := strconv.Atoi(rev)
	_, answer := call(t, "POST", s.URL+"/api/v2/effective-roles/query", testAdminToken, map[string]any{"subjects": []any{map[string]any{"user_id": alice}}, "min_revision": n})
	res := answer["results"].([]any)[0].(map[string]any)
	if got := roleNames(res); !slices.Equal(got, []string{"engineer"}) {
		t.Fatalf("nested roles on: %v, want [engineer]", got)
	}
	src := res["roles"].([]any)[0].(map[string]any)["sources"].([]any)[0].(map[string]any)
	via, _ := src["via"].([]any)
	if src["group_id"] != eng || len(via) != 1 || fmt.Sprint(via[0]) != fmt.Sprintf("map[group_id:%s group_name:Backend]", backend) {
		t.Errorf("source %v, want Engineering via Backend", src)
	}

	// The change is audited; a key without the scope is refused.
	entries := s.api(t, "GET", "/logs?type=tenant.settings.updated", nil, 200)["logs"].([]any)
	if len(entries) != 1 || fmt.Sprint(entries[0].(map[string]any)["after"]) != "map[nested_group_roles:true tenant_roles_in_organizations:false]" {
		t.Errorf("audit entries %v, want one with the settings after", entries)
	}
	reader := s.api(t, "POST", "/api-keys", map[string]any{"name": "reader", "scopes": []string{"read:tenant_settings"}}, 201)["key"].(string)
	if resp, _ := call(t, "PATCH", s.URL+"/api/v2/tenants/settings", reader, map[string]any{"flags": map[string]any{"nested_group_roles": false}}); resp.StatusCode != 403 {
		t.Errorf("PATCH with read:tenant_settings only: %d, want 403", resp.StatusCode)
	}
	if resp, out := call(t, "PATCH", s.URL+"/api/v2/tenants/settings", testAdminToken, map[string]any{"flags": map[string]any{"nested_group_roles": "yes"}}); resp.StatusCode != 400 {
		t.Errorf("PATCH with a string flag: %d %v, want 400", resp.StatusCode, out)
	}
	if got := s.api(t, "GET", "/tenants/settings", nil, 200); fmt.Sprint(got) != "map[flags:map[nested_group_roles:true tenant_roles_in_organizations:false]]" {
		t.Errorf("refused PATCHes changed the settings: %v", got)
	}
}
