package api_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rolecall/rolecall/roles/api"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// signIn starts a session with POST /sessions as token and returns its secret.
func (m *mgmt) signIn(token string) string {
	m.t.Helper()
	rec, out := m.send(token, "POST", "/sessions", nil)
	if rec.Code != http.StatusCreated {
		m.t.Fatalf("POST /sessions: %d %v", rec.Code, out)
	}
	secret, _ := out["session"].(string)
	return secret
}

// TestASessionActsWithItsKeysScopes: POST /sessions answers the session
// secret once (no-store) with the key it acts for; the secret then works
// as a bearer credential with exactly the key's scopes, may create API
// keys when the key may, but not sessions; its writes are audited as the
// key's; DELETE /sessions/self ends it at once.
func TestASessionActsWithItsKeysScopes(t *testing.T) {
	m := newMgmt(t)
	var keyID, keySecret string
	storetest.MustUpdate(t, m.db, func(tx *store.Tx) error {
		k, secret, err := tx.CreateAPIKey("roles admin", []string{api.ScopeReadRoles, api.ScopeCreateRoles, api.ScopeCreateAPIKeys}, 0)
		keyID, keySecret = k.ID, secret
		return err
	})
	rec, out := m.send(keySecret, "POST", "/sessions", nil)
	if rec.Code != http.StatusCreated || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("POST /sessions: %d %v %v, want 201, no-store", rec.Code, rec.Header(), out)
	}
	secret, _ := out["session"].(string)
	key, _ := out["key"].(map[string]any)
	if !strings.HasPrefix(secret, "rcd_") || key["id"] != keyID || key["name"] != "roles admin" || out["idle_timeout"] != float64(3600) {
		t.Errorf("POST /sessions answered %v: want an rcd_ secret, the key and the idle timeout", out)
	}
	if strings.Contains(rec.Body.String(), keySecret) {
		t.Errorf("the answer holds the key's secret")
	}

	if rec, out := m.send(secret, "GET", "/roles", nil); rec.Code != http.StatusOK {
		t.Errorf("GET /roles with the session: %d %v", rec.Code, out)
	}
	rec, out = m.send(secret, "GET", "/users", nil)
	assertMgmtError(t, "GET /users with the session", rec, out, http.StatusForbidden, "insufficient_scope")
	rec, out = m.send(secret, "POST", "/roles", map[string]any{"name": "made-in-a-session"})
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST /roles with the session: %d %v", rec.Code, out)
	}
	if entries := m.logs("role.created"); len(entries) != 1 || entries[0]["actor"].(map[string]any)["id"] != keyID {
		t.Errorf("role.created %v: want the key as the actor", entries)
	}
	if rec, out := m.send(secret, "POST", "/api-keys", map[string]any{"name": "minted", "scopes": []string{api.ScopeReadRoles}}); rec.Code != http.StatusCreated {
		t.Errorf("POST /api-keys with a session whose key may: %d %v", rec.Code, out)
	}
	m.unchanged(func() {
		rec, out := m.send(secret, "POST", "/sessions", nil)
		assertMgmtError(t, "POST /sessions with a session", rec, out, http.StatusForbidden, "session_not_allowed")
		rec, out = m.send(keySecret, "DELETE", "/sessions/self", nil)
		assertMgmtError(t, "DELETE /sessions/self with an API key", rec, out, http.StatusBadRequest, "not_a_session")
		rec, out = m.send(keySecret, "POST", "/sessions", `{"lifetime":1}`)
		assertMgmtError(t, "POST /sessions with an unknown field", rec, out, http.StatusBadRequest, "invalid_body")
	})
	rec, out = m.send(secret, "GET", "/sessions/self", nil)
	if rec.Code != http.StatusOK || out["key"].(map[string]any)["id"] != keyID || out["session"] != nil {
		t.Errorf("GET /sessions/self: %d %v, want the session and its key, without the secret", rec.Code, out)
	}

	if rec, out := m.send(secret, "DELETE", "/sessions/self", nil); rec.Code != http.StatusNoContent {
		t.Fatalf("DELETE /sessions/self: %d %v", rec.Code, out)
	}
	rec, out = m.send(secret, "GET", "/roles", nil)
	assertMgmtError(t, "GET /roles after sign-out", rec, out, http.StatusUnauthorized, "invalid_token")
	if rec, _ := m.send(keySecret, "GET", "/roles", nil); rec.Code != http.StatusOK {
		t.Errorf("the key after its session's sign-out: %d, want it unaffected", rec.Code)
	}
	if got := len(m.logs("session.created")) + len(m.logs("session.deleted")); got != 2 {
		t.Errorf("%d session audit entries, want session.created and session.deleted", got)
	}
}

// TestDeletingAKeyEndsItsSessionsOverTheAPI.
func TestDeletingAKeyEndsItsSessionsOverTheAPI(t *testing.T) {
	m := newMgmt(t)
	out := m.do("POST", "/api-keys", map[string]any{"name": "temp", "scopes": []string{api.ScopeReadRoles}}, http.StatusCreated)
	secret := m.signIn(out["key"].(string))
	if rec, _ := m.send(secret, "GET", "/roles", nil); rec.Code != http.StatusOK {
		t.Fatalf("GET /roles with the session: %d", rec.Code)
	}
	m.do("DELETE", "/api-keys/"+out["id"].(string), nil, http.StatusNoContent)
	rec, body := m.send(secret, "GET", "/roles", nil)
	assertMgmtError(t, "GET /roles after the key's deletion", rec, body, http.StatusUnauthorized, "invalid_token")
}

// TestBootstrapSessionsNeedTheSameAdminToken: the admin token's sessions
// hold every scope on a node configured with that token, and none on a
// node with another token or none.
func TestBootstrapSessionsNeedTheSameAdminToken(t *testing.T) {
	m := newMgmt(t)
	secret := m.signIn(mgmtAdminToken)
	rec, out := m.send(secret, "GET", "/sessions/self", nil)
	if rec.Code != http.StatusOK || out["key"].(map[string]any)["id"] != api.BootstrapKeyID ||
		len(out["key"].(map[string]any)["scopes"].([]any)) != len(api.AllScopes) {
		t.Fatalf("GET /sessions/self of the admin's session: %d %v", rec.Code, out)
	}
	for name, token := range map[string]string{"another admin token": "another-admin-token-0123456789abcdef", "no admin token": ""} {
		t.Run(name, func(t *testing.T) {
			other := &mgmt{t: t, db: m.db, api: newAPI(t, m.db, api.Options{AdminToken: token})}
			rec, out := other.send(secret, "GET", "/roles", nil)
			assertMgmtError(t, "the admin's session on "+name, rec, out, http.StatusUnauthorized, "invalid_token")
		})
	}
}

// TestIdleSessionsExpire: an hour without use answers 401 session_expired.
func TestIdleSessionsExpire(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	db := storetest.Open(t, store.Options{Now: clock})
	m := &mgmt{t: t, db: db, api: newAPI(t, db, api.Options{AdminToken: mgmtAdminToken})}
	secret := m.signIn(mgmtAdminToken)
	mu.Lock()
	now = now.Add(61 * time.Minute)
	mu.Unlock()
	rec, out := m.send(secret, "GET", "/roles", nil)
	assertMgmtError(t, "GET /roles after 61 idle minutes", rec, out, http.StatusUnauthorized, "session_expired")
}

// refuseAll is a rate limiter that refuses everything.
type refuseAll struct{}

func (refuseAll) Allow(string) (bool, time.Duration) { return false, 2 * time.Second }

// TestSignInIsRateLimited: POST /sessions, a write any key may make, is
// counted against the key like its other requests.
func TestSignInIsRateLimited(t *testing.T) {
	db := storetest.Open(t)
	m := &mgmt{t: t, db: db, api: newAPI(t, db, api.Options{AdminToken: mgmtAdminToken, RateLimit: refuseAll{}})}
	m.unchanged(func() {
		rec, out := m.send(mgmtAdminToken, "POST", "/sessions", nil)
		assertMgmtError(t, "POST /sessions over the rate", rec, out, http.StatusTooManyRequests, "too_many_requests")
		if rec.Header().Get("Retry-After") != "2" {
			t.Errorf("Retry-After %q, want 2", rec.Header().Get("Retry-After"))
		}
	})
}
