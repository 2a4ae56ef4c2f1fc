package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/rolecall/rolecall/roles/api"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// TestAPIKeySelfTellsTheCallerItsOwnScopes: any valid key, whatever its
// scopes, learns its id, name and scopes; the bootstrap token is "bootstrap"
// with every scope; no key or a revoked key is 401.
func TestAPIKeySelfTellsTheCallerItsOwnScopes(t *testing.T) {
	m := newMgmt(t)
	var key store.APIKey
	var secret string
	storetest.MustUpdate(t, m.db, func(tx *store.Tx) (err error) {
		key, secret, err = tx.CreateAPIKey("read-only roles", []string{api.ScopeReadRoles}, 0)
		return err
	})

	rec, out := m.send(secret, "GET", "/api-keys/self", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api-keys/self: %d %s", rec.Code, rec.Body)
	}
	if out["id"] != key.ID || out["name"] != "read-only roles" || !slices.Equal(listStrings(out["scopes"]), []string{api.ScopeReadRoles}) {
		t.Errorf("self = %v, want id %s, its name and [read:roles]", out, key.ID)
	}
	if _, leaked := out["key"]; leaked {
		t.Errorf("self answer carries a secret: %v", out)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}

	out = m.do("GET", "/api-keys/self", nil, http.StatusOK)
	if out["id"] != api.BootstrapKeyID || !slices.Equal(listStrings(out["scopes"]), api.AllScopes) {
		t.Errorf("bootstrap self = %v, want id bootstrap with every scope", out)
	}

	rec, out = m.send("", "GET", "/api-keys/self", nil)
	assertMgmtError(t, "no key", rec, out, http.StatusUnauthorized, "missing_authorization")

	m.do("DELETE", "/api-keys/"+key.ID, nil, http.StatusNoContent)
	rec, out = m.send(secret, "GET", "/api-keys/self", nil)
	assertMgmtError(t, "revoked key", rec, out, http.StatusUnauthorized, "invalid_token")
}

func listStrings(v any) []string {
	items, _ := v.([]any)
	out := []string{}
	for _, it := range items {
		s, _ := it.(string)
		out = append(out, s)
	}
	return out
}
