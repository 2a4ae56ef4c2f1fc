package dashboard_test

import (
	"crypto/tls"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rolecall/rolecall/roles/api"
	"github.com/rolecall/rolecall/roles/dashboard"
)

// TestSignInKeepsTheKeyOnTheServer: pages need a session; signing in with a
// wrong key shows the API's refusal; a good key gets an HttpOnly,
// SameSite=Strict cookie scoped to /dashboard/ that expires with the session
// and holds nothing but the session's secret.
func TestSignInKeepsTheKeyOnTheServer(t *testing.T) {
	e := newEnv(t)
	b := e.browser()

	p := b.get("/dashboard/roles")
	if p.status != http.StatusSeeOther || p.location != "/dashboard/login?next=%2Fdashboard%2Froles" {
		t.Fatalf("GET /dashboard/roles signed out: %d to %q, want 303 to the sign-in page", p.status, p.location)
	}

	p = b.postWith("/dashboard/login", url.Values{"api_key": {"rck_not-a-real-key"}}, nil)
	if p.status != http.StatusUnauthorized {
		t.Fatalf("sign in with a wrong key: %d, want 401", p.status)
	}
	mustContain(t, "wrong key", p.body, "invalid_token")
	mustNotContain(t, "wrong key", p.body, "rck_not-a-real-key")

	_, secret := e.key("roles admin", api.ScopeReadRoles, api.ScopeCreateRoles)
	p = b.postWith("/dashboard/login", url.Values{"api_key": {secret}, "next": {"/dashboard/roles"}}, nil)
	if p.status != http.StatusSeeOther || p.location != "/dashboard/roles" {
		t.Fatalf("sign in: %d to %q, want 303 to /dashboard/roles", p.status, p.location)
	}
	c := sessionCookie(t, p)
	raw := p.header.Get("Set-Cookie")
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/dashboard/" || c.Secure {
		t.Errorf("cookie %q: want HttpOnly, SameSite=Strict, Path=/dashboard/, not Secure over plain http", raw)
	}
	if want := e.clock.Now().Add(8 * time.Hour); !c.Expires.Equal(want) || c.MaxAge != int((8*time.Hour).Seconds()) {
		t.Errorf("cookie %q: want it to expire with the session at %s", raw, want)
	}
	if strings.Contains(c.Value, secret) || !strings.HasPrefix(c.Value, "rcd_") {
		t.Errorf("cookie value %q: want a session secret, never the key", c.Value)
	}
	page := b.visit("/dashboard/roles")
	mustContain(t, "roles page", page.body, "roles admin")
	mustNotContain(t, "roles page", page.body, secret)

	// A sign-in from another site is refused (login CSRF).
	other := e.browser()
	p = other.postWith("/dashboard/login", url.Values{"api_key": {secret}}, map[string]string{"Origin": "https://evil.example"})
	if p.status != http.StatusForbidden || len(p.header.Values("Set-Cookie")) != 0 {
		t.Errorf("cross-site sign-in: %d with cookies %v, want 403 and no session", p.status, p.header.Values("Set-Cookie"))
	}
	// next never leads off the dashboard.
	p = other.postWith("/dashboard/login", url.Values{"api_key": {secret}, "next": {"//evil.example/x"}}, nil)
	if p.location != "/dashboard/" {
		t.Errorf("sign in with next=//evil.example/x goes to %q, want /dashboard/", p.location)
	}
}

// TestSessionCookieIsSecureOverTLSAndWithAnHTTPSPublicURL.
func TestSessionCookieIsSecureOverTLSAndWithAnHTTPSPublicURL(t *testing.T) {
	t.Run("public URL", func(t *testing.T) {
		e := newEnv(t, func(o *dashboard.Options) { o.PublicURL = "https://rolecall.example.com" })
		b := e.browser()
		p := b.postWith("/dashboard/login", url.Values{"api_key": {adminToken}}, map[string]string{"Origin": "https://rolecall.example.com"})
		if c := sessionCookie(t, p); !c.Secure {
			t.Errorf("cookie %q: want Secure behind an https public URL", p.header.Get("Set-Cookie"))
		}
		p = b.postWith("/dashboard/login", url.Values{"api_key": {adminToken}}, nil) // Origin: the test server's http URL
		if p.status != http.StatusForbidden {
			t.Errorf("sign-in from an origin other than the public URL: %d, want 403", p.status)
		}
	})
	t.Run("TLS", func(t *testing.T) {
		e := newEnv(t)
		srv := httptest.NewTLSServer(e.srv.Config.Handler)
		defer srv.Close()
		client := srv.Client()
		client.Jar, _ = cookiejar.New(nil)
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		client.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
		req, _ := http.NewRequest("POST", srv.URL+"/dashboard/login", strings.NewReader(url.Values{"api_key": {adminToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", srv.URL)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var secure bool
		for _, c := range resp.Cookies() {
			secure = c.Name == "rolecall_session" && c.Secure
		}
		if !secure {
			t.Errorf("cookie %q over TLS: want Secure", resp.Header.Get("Set-Cookie"))
		}
	})
}

// TestEveryFormNeedsTheSessionsCSRFTokenAndOurOrigin: a POST without the
// token, with another session's token, from another origin, or saying
// nothing about its origin is refused with 403 and changes nothing; the same
// form done right works.
func TestEveryFormNeedsTheSessionsCSRFTokenAndOurOrigin(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(adminToken)
	b.visit("/dashboard/roles")
	good := b.csrf

	other := e.browser()
	other.signIn(adminToken)
	other.visit("/dashboard/roles")
	if other.csrf == good {
		t.Fatal("two sessions share a CSRF token")
	}

	form := func(token string) url.Values {
		return url.Values{"name": {"auditor"}, "csrf": {token}}
	}
	// A token one character off the good one (never the good one itself,
	// whatever character it starts with).
	wrong := "x" + good[1:]
	if good[0] == 'x' {
		wrong = "y" + good[1:]
	}
	tests := []struct {
		name    string
		form    url.Values
		headers map[string]string
	}{
		{"no token", url.Values{"name": {"auditor"}}, nil},
		{"empty token", form(""), nil},
		{"wrong token", form(wrong), nil},
		{"another session's token", form(other.csrf), nil},
		{"cross-origin Origin", form(good), map[string]string{"Origin": "https://evil.example"}},
		{"Origin null", form(good), map[string]string{"Origin": "null"}},
		{"cross-site Sec-Fetch-Site", form(good), map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"cross-origin Referer without Origin", form(good), map[string]string{"Origin": "", "Referer": "https://evil.example/page"}},
		{"no Origin, Referer or Sec-Fetch-Site", form(good), map[string]string{"Origin": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.unchanged(func() {
				p := b.postWith("/dashboard/roles", tt.form, tt.headers)
				if p.status != http.StatusForbidden {
					t.Errorf("status %d, want 403", p.status)
				}
				mustContain(t, tt.name, p.body, "nothing changed")
			})
		})
	}
	e.unchanged(func() {
		if p := b.postWith("/dashboard/logout", url.Values{}, nil); p.status != http.StatusForbidden {
			t.Errorf("sign out without a token: %d, want 403", p.status)
		}
	})

	p := b.postWith("/dashboard/roles", form(good), map[string]string{"Origin": "", "Referer": e.srv.URL + "/dashboard/roles"})
	if p.status != http.StatusSeeOther {
		t.Fatalf("same-origin form with the token: %d, want 303\n%s", p.status, p.body)
	}
	if got := e.apiCall("GET", "/roles?name_filter=auditor", nil, 200)["roles"].([]any); len(got) != 1 {
		t.Errorf("role not created by the good form: %v", got)
	}
}

// TestSessionsEndWhenIdleOrOld: an hour without use, or eight hours in all,
// ends a session; the user is sent to sign in with a message saying why.
func TestSessionsEndWhenIdleOrOld(t *testing.T) {
	e := newEnv(t)

	t.Run("idle", func(t *testing.T) {
		b := e.browser()
		b.signIn(adminToken)
		e.clock.Advance(59 * time.Minute)
		b.visit("/dashboard/roles")
		e.clock.Advance(59 * time.Minute) // idle time counts from the last use
		b.visit("/dashboard/roles")
		e.clock.Advance(61 * time.Minute)
		p := b.get("/dashboard/roles")
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/dashboard/login?m=expired") {
			t.Fatalf("after 61 idle minutes: %d to %q, want the sign-in page saying it expired", p.status, p.location)
		}
		mustContain(t, "sign-in page", b.visit(p.location).body, "Your session expired")
		e.clock.Advance(-61 * time.Minute)
		if p := b.get("/dashboard/roles"); p.status != http.StatusSeeOther {
			t.Errorf("an ended session came back: %d", p.status)
		}
	})

	t.Run("absolute", func(t *testing.T) {
		b := e.browser()
		b.signIn(adminToken)
		for used := time.Duration(0); used < 7*time.Hour+30*time.Minute; used += 45 * time.Minute {
			e.clock.Advance(45 * time.Minute)
			b.visit("/dashboard/roles")
		}
		e.clock.Advance(45 * time.Minute) // 8 h 15 min after sign-in, 45 min after the last use
		if p := b.get("/dashboard/roles"); p.status != http.StatusSeeOther || !strings.Contains(p.location, "m=expired") {
			t.Fatalf("8 h after sign-in: %d to %q, want the sign-in page", p.status, p.location)
		}
	})

	t.Run("a form posted to an expired session changes nothing", func(t *testing.T) {
		b := e.browser()
		b.signIn(adminToken)
		b.visit("/dashboard/roles")
		e.clock.Advance(2 * time.Hour)
		e.unchanged(func() {
			if p := b.postWith("/dashboard/roles", url.Values{"name": {"late"}, "csrf": {b.csrf}}, nil); p.status != http.StatusSeeOther || !strings.Contains(p.location, "/dashboard/login") {
				t.Errorf("POST to an expired session: %d to %q, want the sign-in page", p.status, p.location)
			}
		})
	})
}

// TestSignOutEndsTheSession: the cookie is cleared and the old session id no
// longer works, even replayed.
func TestSignOutEndsTheSession(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	c := sessionCookie(t, b.signIn(adminToken))
	b.visit("/dashboard/roles")
	p := b.postWith("/dashboard/logout", url.Values{"csrf": {b.csrf}}, nil)
	if p.status != http.StatusSeeOther || p.location != "/dashboard/login?m=signed-out" {
		t.Fatalf("sign out: %d to %q", p.status, p.location)
	}
	cleared := sessionCookie(t, p)
	if cleared.MaxAge >= 0 || cleared.Value != "" {
		t.Errorf("sign out set %q, want the cookie deleted", p.header.Get("Set-Cookie"))
	}
	mustContain(t, "signed out", b.visit(p.location).body, "You have signed out")

	replay, _ := http.NewRequest("GET", e.srv.URL+"/dashboard/roles", nil)
	replay.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(replay)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the signed-out session id still opens pages: %d", resp.StatusCode)
	}
}

// TestAKeyRevokedElsewhereEndsTheSession: the API answers 401, so the next
// page ends the session and says why.
func TestAKeyRevokedElsewhereEndsTheSession(t *testing.T) {
	e := newEnv(t)
	id, secret := e.key("temp", api.ScopeReadRoles)
	b := e.browser()
	b.signIn(secret)
	b.visit("/dashboard/roles")
	e.apiCall("DELETE", "/api-keys/"+id, nil, http.StatusNoContent)
	p := b.get("/dashboard/roles")
	if p.status != http.StatusSeeOther || !strings.Contains(p.location, "m=revoked") {
		t.Fatalf("after revocation: %d to %q, want the sign-in page saying the key was revoked", p.status, p.location)
	}
	mustContain(t, "sign-in page", b.visit(p.location).body, "API key was revoked")
	if p := b.get("/dashboard/roles"); p.status != http.StatusSeeOther || strings.Contains(p.location, "revoked") {
		t.Errorf("the session outlived its key: %d to %q", p.status, p.location)
	}
}

// TestPagesAreNeitherCachedNorFramed.
func TestPagesAreNeitherCachedNorFramed(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(adminToken)
	for _, path := range []string{"/dashboard/login", "/dashboard/roles"} {
		p := b.visit(path)
		if p.header.Get("Cache-Control") != "no-store" || p.header.Get("X-Frame-Options") != "DENY" ||
			!strings.Contains(p.header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("%s headers %v: want no-store, DENY framing and a strict CSP", path, p.header)
		}
	}
}

// TestEveryFormRouteRefusesAPostWithoutTheToken: each of the dashboard's
// forms, old and new, refuses a same-origin POST without the session's CSRF
// token (even confirmed) and changes nothing.
func TestEveryFormRouteRefusesAPostWithoutTheToken(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	e.apiCall("POST", "/organizations/"+f.org+"/members", map[string]any{"members": []string{f.alice}}, 204)
	keyID, _ := e.key("victim", api.ScopeReadRoles)
	tok := e.apiCall("POST", "/connections/"+f.con+"/scim-configuration/tokens", map[string]any{}, 201)["token_id"].(string)
	b := e.browser()
	b.signIn(adminToken)
	org := "/dashboard/organizations/" + f.org
	forms := map[string]url.Values{
		"/dashboard/connections":                                         {"name": {"x"}, "strategy": {"okta"}},
		"/dashboard/connections/" + f.con + "/delete":                    {},
		"/dashboard/connections/" + f.con + "/scim":                      {},
		"/dashboard/connections/" + f.con + "/tokens":                    {},
		"/dashboard/connections/" + f.con + "/tokens/" + tok + "/revoke": {},
		"/dashboard/groups/" + f.eng + "/roles":                          {"roles": {f.admin}},
		"/dashboard/groups/" + f.eng + "/roles/remove":                   {"role": {f.admin}},
		"/dashboard/users/" + f.alice + "/roles":                         {"roles": {f.admin}},
		"/dashboard/users/" + f.alice + "/roles/remove":                  {"role": {f.admin}},
		"/dashboard/roles":                                               {"name": {"x"}},
		"/dashboard/roles/" + f.admin:                                    {"name": {"x"}},
		"/dashboard/roles/" + f.admin + "/delete":                        {},
		"/dashboard/roles/" + f.admin + "/permissions":                   {"resource_server_identifier": {"a"}, "permission_name": {"b"}},
		"/dashboard/roles/" + f.admin + "/permissions/remove":            {"resource_server_identifier": {"a"}, "permission_name": {"b"}},
		"/dashboard/organizations":                                       {"name": {"x"}},
		org:                                                              {"name": {"x"}},
		org + "/delete":                                                  {},
		org + "/connections":                                             {"connection_id": {f.con}},
		org + "/connections/" + f.con:                                    {"assign_membership_on_login": {"on"}},
		org + "/connections/" + f.con + "/remove":                        {},
		org + "/groups/" + f.eng + "/roles":                              {"roles": {f.admin}},
		org + "/groups/" + f.eng + "/roles/remove":                       {"role": {f.admin}},
		org + "/members":                                                 {"members": {f.bob}},
		org + "/members/remove":                                          {"user_id": {f.alice}},
		org + "/members/" + f.alice + "/roles":                           {"roles": {f.admin}},
		org + "/members/" + f.alice + "/roles/remove":                    {"role": {f.admin}},
		"/dashboard/api-keys":                                            {"name": {"x"}, "preset": {"login"}},
		"/dashboard/api-keys/" + keyID + "/revoke":                       {},
		"/dashboard/settings":                                            {"nested_group_roles": {"on"}},
	}
	for path, form := range forms {
		t.Run(path, func(t *testing.T) {
			form.Set("confirm", "yes")
			e.unchanged(func() {
				p := b.postWith(path, form, nil)
				if p.status != http.StatusForbidden || !strings.Contains(p.body, "nothing changed") {
					t.Errorf("POST %s without the CSRF token: %d, want 403 saying nothing changed", path, p.status)
				}
			})
		})
	}
}
