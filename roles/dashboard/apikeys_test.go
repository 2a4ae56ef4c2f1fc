package dashboard_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/roles/api"
)

var keySecret = regexp.MustCompile(`id="api-key-secret" value="([^"]+)"`)

// createKey posts the create form and returns the one-time page.
func (b *browser) createKey(form url.Values) page {
	b.t.Helper()
	form.Set("csrf", b.csrf)
	return b.postWith("/dashboard/api-keys", form, nil)
}

// apiKeyScopes is what the API says a key holds, by key name.
func (e *env) apiKeyScopes(name string) []string {
	e.t.Helper()
	for _, k := range e.apiCall("GET", "/api-keys", nil, 200)["api_keys"].([]any) {
		k := k.(map[string]any)
		if k["name"] == name {
			var out []string
			for _, s := range k["scopes"].([]any) {
				out = append(out, s.(string))
			}
			slices.Sort(out)
			return out
		}
	}
	return nil
}

// TestAPIKeysAreCreatedFromPresetsShownOnceAndRevoked: the login-server
// preset makes a key that can ask for effective roles and nothing else; the
// secret is on the one answer that creates it (uncached) and on no other
// page; revoking asks first.
func TestAPIKeysAreCreatedFromPresetsShownOnceAndRevoked(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	b := e.browser()
	b.signIn(adminToken)
	p := b.visit("/dashboard/api-keys")
	mustContain(t, "empty keys page", p.body, "No API keys are stored yet", "ROLECALL_ADMIN_TOKEN", "Create API key",
		`id="preset-login" name="preset" value="login" checked`, "Login server", "Read-only", "Full access", "Choose scopes")

	p = b.createKey(url.Values{"name": {"login-eu"}, "preset": {"login"}})
	if p.status != http.StatusCreated || p.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d, Cache-Control %q; want 201, no-store\n%s", p.status, p.header.Get("Cache-Control"), p.body)
	}
	m := keySecret.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("the new key's page shows no secret:\n%s", p.body)
	}
	secret := m[1]
	mustContain(t, "one-time page", p.body, "shown only once", `data-copy="api-key-secret"`, "read:user_effective_roles", "login-eu")
	if got := e.apiKeyScopes("login-eu"); !slices.Equal(got, []string{api.ScopeReadUserEffectiveRoles}) {
		t.Errorf("login-eu's scopes: %v", got)
	}
	// The key answers the login query, and nothing else.
	ask := func(path, body string) int {
		req := httptest.NewRequest("POST", "/api/v2"+path, strings.NewReader(body))
		if body == "" {
			req = httptest.NewRequest("GET", "/api/v2"+path, nil)
		}
		req.Header.Set("Authorization", "Bearer "+secret)
		rec := httptest.NewRecorder()
		e.api.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := ask("/effective-roles/query", `{"subjects":[{"user_id":"`+f.alice+`"}]}`); code != 200 {
		t.Errorf("the login-server key on the login query: %d, want 200", code)
	}
	if code := ask("/roles", ""); code != 403 {
		t.Errorf("the login-server key on GET /roles: %d, want 403", code)
	}

	// The other presets, and chosen scopes.
	for _, tt := range []struct {
		form url.Values
		want []string
	}{
		{url.Values{"name": {"auditor"}, "preset": {"read-only"}}, nil},
		{url.Values{"name": {"admin-tool"}, "preset": {"full"}}, slices.Sorted(slices.Values(api.AllScopes))},
		{url.Values{"name": {"picked"}, "preset": {"custom"}, "scopes": {api.ScopeReadRoles, api.ScopeReadUsers}}, []string{api.ScopeReadRoles, api.ScopeReadUsers}},
		// Boxes ticked under another preset are not read.
		{url.Values{"name": {"login-us"}, "preset": {"login"}, "scopes": {api.ScopeDeleteRoles}}, []string{api.ScopeReadUserEffectiveRoles}},
	} {
		name := tt.form.Get("name")
		if p := b.createKey(tt.form); p.status != http.StatusCreated {
			t.Fatalf("create %s: %d\n%s", name, p.status, p.body)
		}
		got := e.apiKeyScopes(name)
		if tt.want == nil {
			for _, s := range got {
				if !strings.HasPrefix(s, "read:") {
					t.Errorf("read-only key holds %s", s)
				}
			}
			if len(got) < 10 {
				t.Errorf("read-only key holds only %v", got)
			}
		} else if !slices.Equal(got, tt.want) {
			t.Errorf("%s's scopes: %v, want %v", name, got, tt.want)
		}
	}

	// Refusals come back with the API's message and what was typed.
	e.unchanged(func() {
		p := b.submit("/dashboard/api-keys", url.Values{"name": {"nothing"}, "preset": {"custom"}})
		mustContain(t, "custom without scopes", p.body, "invalid_body", html.EscapeString("'scopes' must list at least one scope"), `value="nothing"`,
			`id="preset-custom" name="preset" value="custom" checked`)
		p = b.submit("/dashboard/api-keys", url.Values{"name": {"odd"}, "preset": {"everything"}})
		mustContain(t, "unknown preset", p.body, "Choose what the key may do")
		p = b.submit("/dashboard/api-keys", url.Values{"preset": {"login"}})
		mustContain(t, "no name", p.body, "invalid_body", html.EscapeString("'name' must be 1 to 128 characters"))
	})

	// The secret is on no other page.
	for _, path := range []string{"/dashboard/api-keys", "/dashboard/logs", "/dashboard/logs?type=api_key.created", "/dashboard/roles"} {
		mustNotContain(t, path, b.visit(path).body, secret, adminToken)
	}
	list := b.visit("/dashboard/api-keys")
	mustContain(t, "keys page", list.body, "login-eu", "read:user_effective_roles", "Read-only (every read:… scope)", "Full access (every scope)", "Never", "Revoke API key login-eu")

	// Revoking asks first, then the key no longer works.
	id := keyIDByName(e, "login-eu")
	e.unchanged(func() {
		p := b.postWith("/dashboard/api-keys/"+id+"/revoke", url.Values{"csrf": {b.csrf}, "name": {"login-eu"}}, nil)
		mustContain(t, "unconfirmed revoke", p.body, "Revoke API key login-eu?", `name="confirm" value="yes"`)
	})
	p = b.submit("/dashboard/api-keys/"+id+"/revoke", url.Values{"name": {"login-eu"}})
	mustContain(t, "revoked", p.body, "API key login-eu revoked.")
	mustNotContain(t, "revoked", p.body, "Revoke API key login-eu")
	if code := ask("/effective-roles/query", `{"subjects":[{"user_id":"`+f.alice+`"}]}`); code != 401 {
		t.Errorf("a revoked key on the login query: %d, want 401", code)
	}
}

func keyIDByName(e *env, name string) string {
	e.t.Helper()
	for _, k := range e.apiCall("GET", "/api-keys", nil, 200)["api_keys"].([]any) {
		if k := k.(map[string]any); k["name"] == name {
			return k["id"].(string)
		}
	}
	e.t.Fatalf("no API key %s", name)
	return ""
}

// TestAPIKeysPageOffersOnlyWhatTheKeyMayGrant: a key cannot mint a stronger
// one, so presets beyond its scopes are disabled (and forced, refused by the
// API); without create or delete scopes there is no form and no trash icon;
// revoking the session's own key signs it out.
func TestAPIKeysPageOffersOnlyWhatTheKeyMayGrant(t *testing.T) {
	e := newEnv(t)
	keyID, secret := e.key("key manager", api.ScopeReadAPIKeys, api.ScopeCreateAPIKeys, api.ScopeDeleteAPIKeys, api.ScopeReadUserEffectiveRoles, api.ScopeReadRoles)
	b := e.browser()
	b.signIn(secret)
	p := b.visit("/dashboard/api-keys")
	mustContain(t, "limited key", p.body, `id="preset-login" name="preset" value="login" checked`, `id="preset-full" name="preset" value="full" disabled`,
		`id="preset-read-only" name="preset" value="read-only" disabled`, "a key cannot create a stronger one", "This session",
		`value="read:roles">`, `value="delete:roles" disabled`)
	e.unchanged(func() {
		p := b.submit("/dashboard/api-keys", url.Values{"name": {"sneaky"}, "preset": {"full"}})
		mustContain(t, "forced full access", p.body, "insufficient_scope", "HTTP 403", "cannot grant scope")
	})

	_, reader := e.key("key reader", api.ScopeReadAPIKeys)
	rb := e.browser()
	rb.signIn(reader)
	p = rb.visit("/dashboard/api-keys")
	mustContain(t, "read-only keys page", p.body, "key manager")
	mustNotContain(t, "read-only keys page", p.body, "Create API key", "Revoke API key")
	e.unchanged(func() {
		p := rb.submit("/dashboard/api-keys", url.Values{"name": {"x"}, "preset": {"login"}})
		mustContain(t, "forced create", p.body, "Insufficient scope, expected: create:api_keys")
		p = rb.submit("/dashboard/api-keys/"+keyID+"/revoke", url.Values{"name": {"key manager"}})
		mustContain(t, "forced revoke", p.body, "Insufficient scope, expected: delete:api_keys")
	})

	// Revoking the key the session signed in with ends the session.
	mustContain(t, "own key", b.visit("/dashboard/api-keys").body, "You are signed in with this key: revoking it signs you out.")
	p = b.submit("/dashboard/api-keys/"+keyID+"/revoke", url.Values{"name": {"key manager"}})
	mustContain(t, "after revoking the session's key", p.body, "the API key was revoked", `id="api_key"`)
}
