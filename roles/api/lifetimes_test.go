package api_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolecall/rolecall/roles/api"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

func TestTokenLifetimesAreBoundedWithoutOverflow(t *testing.T) {
	m := newMgmt(t)
	conn := m.do("POST", "/connections", map[string]any{"name": "acme", "strategy": "okta"}, http.StatusCreated)["id"].(string)
	m.do("POST", "/connections/"+conn+"/scim-configuration", map[string]any{}, http.StatusCreated)
	for _, tc := range []struct {
		name     string
		lifetime any
		want     int
	}{
		{"below Auth0's minimum", 899, http.StatusBadRequest},
		{"the minimum", 900, http.StatusCreated},
		{"one year", 365 * 24 * 3600, http.StatusCreated},
		{"a second over a year", 365*24*3600 + 1, http.StatusBadRequest},
		{"overflows nanoseconds", int64(18446744074), http.StatusBadRequest},
		{"exponent form", 1e18, http.StatusBadRequest},
		{"negative", -1, http.StatusBadRequest},
		{"not a number", "forever", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/connections/" + conn + "/scim-configuration/tokens", "/api-keys"} {
				body := map[string]any{"token_lifetime": tc.lifetime}
				if path == "/api-keys" {
					body["name"], body["scopes"] = "k", []string{api.ScopeReadRoles}
				}
				rec, out := m.send(mgmtAdminToken, "POST", path, body)
				if rec.Code != tc.want {
					t.Errorf("POST %s token_lifetime=%v: %d %v, want %d", path, tc.lifetime, rec.Code, out, tc.want)
				}
				if tc.want == http.StatusCreated && out["valid_until"] == nil {
					t.Errorf("POST %s: no valid_until in %v", path, out)
				}
			}
		})
	}
}

func TestAnAPIKeyStopsWorkingWhenItExpires(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	db := storetest.Open(t, store.Options{Now: func() time.Time { return time.Unix(0, now.Load()).UTC() }})
	handler := newAPI(t, db, api.Options{AdminToken: mgmtAdminToken})
	m := &mgmt{t: t, db: db, api: handler}
	key := m.do("POST", "/api-keys", map[string]any{"name": "short-lived", "scopes": []string{api.ScopeReadRoles}, "token_lifetime": 3600}, http.StatusCreated)
	secret := key["key"].(string)
	if rec, out := m.send(secret, "GET", "/roles", nil); rec.Code != http.StatusOK {
		t.Fatalf("a fresh key: %d %v", rec.Code, out)
	}
	now.Add(int64(time.Hour))
	if rec, out := m.send(secret, "GET", "/roles", nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("an hour later: %d %v, want 401", rec.Code, out)
	}
	// The listing says when it expired.
	keys := m.do("GET", "/api-keys", nil, http.StatusOK)["api_keys"].([]any)
	if until := keys[0].(map[string]any)["valid_until"]; until != "2026-03-01T13:00:00Z" {
		t.Errorf("valid_until = %v, want 2026-03-01T13:00:00Z", until)
	}
}
