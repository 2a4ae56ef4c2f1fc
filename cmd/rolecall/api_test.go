package main

import (
	"net/http"
	"strings"
	"testing"
)

// apiError asserts the Management API's one error shape.
func assertAPIError(t *testing.T, resp *http.Response, body map[string]any, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %v", resp.StatusCode, status, body)
	}
	if body["statusCode"] != float64(status) || body["error"] != http.StatusText(status) || body["errorCode"] != code || body["message"] == "" {
		t.Errorf("error body %v, want statusCode %d, error %q, errorCode %q and a message", body, status, http.StatusText(status), code)
	}
}

func TestManagementAPIRequiresAKeyWithTheScope(t *testing.T) {
	s := startServer(t)
	resp, body := call(t, "GET", s.URL+"/api/v2/connections", "", nil)
	assertAPIError(t, resp, body, 401, "missing_authorization")
	resp, body = call(t, "GET", s.URL+"/api/v2/connections", "rck_0000000000000000_nope", nil)
	assertAPIError(t, resp, body, 401, "invalid_token")

	key := s.api(t, "POST", "/api-keys", map[string]any{"name": "reader", "scopes": []string{"read:connections"}}, 201)
	secret := key["key"].(string)
	if resp, _ := call(t, "GET", s.URL+"/api/v2/connections", secret, nil); resp.StatusCode != 200 {
		t.Errorf("read with read:connections: %d", resp.StatusCode)
	}
	resp, body = call(t, "POST", s.URL+"/api/v2/connections", secret, map[string]any{"name": "x", "strategy": "okta"})
	assertAPIError(t, resp, body, 403, "insufficient_scope")

	// A key cannot mint a more powerful key.
	minter := s.api(t, "POST", "/api-keys", map[string]any{"name": "minter", "scopes": []string{"create:api_keys"}}, 201)
	resp, body = call(t, "POST", s.URL+"/api/v2/api-keys", minter["key"].(string), map[string]any{"name": "evil", "scopes": []string{"delete:connections"}})
	assertAPIError(t, resp, body, 403, "insufficient_scope")

	// Listing never shows a secret, and deleting revokes at once.
	list := s.api(t, "GET", "/api-keys", nil, 200)
	if strings.Contains(toJSON(list), secret) || strings.Contains(toJSON(list), "hash") {
		t.Errorf("API key list shows a secret: %v", list)
	}
	s.api(t, "DELETE", "/api-keys/"+key["id"].(string), nil, 204)
	resp, body = call(t, "GET", s.URL+"/api/v2/connections", secret, nil)
	assertAPIError(t, resp, body, 401, "invalid_token")
}

func TestConnectionsAndSCIMTokens(t *testing.T) {
	s := startServer(t)
	conID, base := s.connection(t, "acme-okta")

	resp, body := call(t, "POST", s.URL+"/api/v2/connections", testAdminToken, map[string]any{"name": "ACME-OKTA", "strategy": "okta"})
	assertAPIError(t, resp, body, 409, "connection_conflict")
	resp, body = call(t, "POST", s.URL+"/api/v2/connections", testAdminToken, map[string]any{"name": "bad name!", "strategy": "okta"})
	assertAPIError(t, resp, body, 400, "invalid_body")
	resp, body = call(t, "POST", s.URL+"/api/v2/connections", testAdminToken, map[string]any{"name": "x", "strategy": "okta", "bogus": 1})
	assertAPIError(t, resp, body, 400, "invalid_body")
	resp, body = call(t, "GET", s.URL+"/api/v2/connections/con_0000000000000000", testAdminToken, nil)
	assertAPIError(t, resp, body, 404, "inexistent_connection")

	tok := s.api(t, "POST", "/connections/"+conID+"/scim-configuration/tokens",
		map[string]any{"scopes": []string{"get:users"}, "token_lifetime": 3600}, 201)
	secret := tok["token"].(string)
	if tok["valid_until"] == nil || tok["token_id"] == "" {
		t.Errorf("token create answer %v lacks valid_until or token_id", tok)
	}
	resp, body = call(t, "POST", s.URL+"/api/v2/connections/"+conID+"/scim-configuration/tokens", testAdminToken,
		map[string]any{"scopes": []string{"get:everything"}})
	assertAPIError(t, resp, body, 400, "invalid_body")

	// The token works for its scope only, on its connection only.
	if resp, _ := call(t, "GET", base+"/Users", secret, nil); resp.StatusCode != 200 {
		t.Errorf("GET /Users with get:users: %d", resp.StatusCode)
	}
	if resp, _ := call(t, "POST", base+"/Users", secret, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a"}`); resp.StatusCode != 403 {
		t.Errorf("POST /Users without post:users: %d, want 403", resp.StatusCode)
	}
	otherID, otherBase := s.connection(t, "globex")
	_ = otherID
	if resp, _ := call(t, "GET", otherBase+"/Users", secret, nil); resp.StatusCode != 401 {
		t.Errorf("token used on another connection: %d, want 401", resp.StatusCode)
	}

	// Listing tokens shows last use and never the secret.
	tokens := s.apiList(t, "/connections/"+conID+"/scim-configuration/tokens")
	if len(tokens) != 1 || tokens[0]["last_used_at"] == nil || strings.Contains(toJSON(tokens), secret) {
		t.Errorf("token list %v: want one token with last_used_at and no secret", tokens)
	}
	// Revocation is immediate.
	s.api(t, "DELETE", "/connections/"+conID+"/scim-configuration/tokens/"+tok["token_id"].(string), nil, 204)
	if resp, _ := call(t, "GET", base+"/Users", secret, nil); resp.StatusCode != 401 {
		t.Errorf("revoked token: %d, want 401", resp.StatusCode)
	}

	// Deleting the SCIM configuration revokes every token of the connection.
	live := s.scimToken(t, conID)
	s.api(t, "DELETE", "/connections/"+conID+"/scim-configuration", nil, 204)
	if resp, _ := call(t, "GET", base+"/Users", live, nil); resp.StatusCode != 401 {
		t.Errorf("token after SCIM configuration deletion: %d, want 401", resp.StatusCode)
	}
	resp, body = call(t, "POST", s.URL+"/api/v2/connections/"+conID+"/scim-configuration/tokens", testAdminToken, map[string]any{})
	assertAPIError(t, resp, body, 404, "inexistent_scim_configuration")
}

func TestAuditLogRecordsManagementAndSCIMChanges(t *testing.T) {
	s := startServer(t)
	conID, base := s.connection(t, "acme")
	secret := s.scimToken(t, conID)
	resp, _ := call(t, "POST", base+"/Users", secret, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice","password":"hunter2"}`)
	if resp.StatusCode != 201 {
		t.Fatalf("create user: %d", resp.StatusCode)
	}
	logs := s.api(t, "GET", "/logs?take=100", nil, 200)
	entries := logs["logs"].([]any)
	var types []string
	for _, e := range entries {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	want := []string{"connection.created", "scim_configuration.created", "scim_token.created", "user.created"}
	if strings.Join(types, ",") != strings.Join(want, ",") {
		t.Errorf("audit types %v, want %v", types, want)
	}
	last := entries[len(entries)-1].(map[string]any)
	actor := last["actor"].(map[string]any)
	if actor["type"] != "scim_token" || last["channel"] != "scim" || last["request_id"] == "" {
		t.Errorf("user.created entry %v: want a scim_token actor, channel scim and a request id", last)
	}
	raw := toJSON(logs)
	if strings.Contains(raw, secret) || strings.Contains(raw, "hunter2") || strings.Contains(raw, testAdminToken) {
		t.Errorf("audit log leaks a secret: %s", raw)
	}
	// Paging: take=2 gives a cursor that continues where the page ended.
	page1 := s.api(t, "GET", "/logs?take=2", nil, 200)
	page2 := s.api(t, "GET", "/logs?take=2&from="+page1["next"].(string), nil, 200)
	got := page2["logs"].([]any)[0].(map[string]any)["type"]
	if got != "scim_token.created" {
		t.Errorf("second page starts with %v, want scim_token.created", got)
	}
}

func TestOversizeBodiesAre413InEachSurfacesShape(t *testing.T) {
	s := startServer(t, func(c *config) { c.MaxBody = 64 << 10 })
	conID, base := s.connection(t, "acme")
	secret := s.scimToken(t, conID)
	big := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"big","displayName":"` + strings.Repeat("x", 70<<10) + `"}`
	resp, body := call(t, "POST", base+"/Users", secret, big)
	if resp.StatusCode != 413 || body["status"] != "413" || body["schemas"] == nil {
		t.Errorf("SCIM oversize POST: %d %v, want 413 with a SCIM error body", resp.StatusCode, body)
	}
	resp, body = call(t, "POST", s.URL+"/api/v2/connections", testAdminToken, `{"name":"`+strings.Repeat("x", 70<<10)+`","strategy":"okta"}`)
	assertAPIError(t, resp, body, 413, "payload_too_large")
	if resp, out := call(t, "GET", base+"/Users?filter=userName%20eq%20%22big%22", secret, nil); resp.StatusCode != 200 || out["totalResults"] != float64(0) {
		t.Errorf("the rejected user exists: %v", out)
	}
}

func (s *testServer) apiList(t *testing.T, path string) []map[string]any {
	t.Helper()
	resp, err := http.NewRequest("GET", s.URL+"/api/v2"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Header.Set("Authorization", "Bearer "+testAdminToken)
	r, err := http.DefaultClient.Do(resp)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var out []map[string]any
	if err := jsonDecode(r.Body, &out); err != nil || r.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", path, r.StatusCode, err)
	}
	return out
}

// ServiceProviderConfig's bulk limit never promises more than the server's
// body limit accepts.
func TestBulkLimitFollowsTheBodyLimit(t *testing.T) {
	for _, tc := range []struct {
		maxBody, want int64
	}{{512 << 10, 512 << 10}, {defaultMaxBody, 1 << 20}} {
		s := startServer(t, func(c *config) { c.MaxBody = tc.maxBody })
		id, base := s.connection(t, "bulk")
		resp, spc := call(t, "GET", base+"/ServiceProviderConfig", s.scimToken(t, id), nil)
		bulk, _ := spc["bulk"].(map[string]any)
		if resp.StatusCode != 200 || bulk["supported"] != true || bulk["maxPayloadSize"] != float64(tc.want) {
			t.Errorf("max body %d: %d bulk %v, want maxPayloadSize %d", tc.maxBody, resp.StatusCode, bulk, tc.want)
		}
	}
}
