package scim_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// values lists the "value" of each entry of a user's multi-valued attribute.
func values(tb testing.TB, user map[string]any, attr string) []string {
	tb.Helper()
	var out []string
	list, _ := user[attr].([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		out = append(out, str(m["value"]))
	}
	return out
}

// Entra ID provisions app role assignments as the User's roles attribute
// (complex values with value, display, type, primary) and Okta can send
// roles and entitlements too: they are kept as RFC 7643 §4.1.2
// multi-valued attributes through every write, returned and filterable.
func TestUserRolesAndEntitlements(t *testing.T) {
	tg := newTarget(t)
	id := tg.mustCreateUser(t, "ada@example.com", map[string]any{
		"roles":        []any{map[string]any{"value": "Reader", "display": "Reader", "type": "WindowsAzureActiveDirectoryRole", "primary": false}},
		"entitlements": []any{map[string]any{"value": "crm"}},
	})
	u := tg.mustDo(t, http.StatusOK, "GET", "/Users/"+id, nil).object(t)
	if got := values(t, u, "roles"); !slices.Equal(got, []string{"Reader"}) {
		t.Fatalf("roles after POST = %v, want [Reader]", got)
	}
	if got := values(t, u, "entitlements"); !slices.Equal(got, []string{"crm"}) {
		t.Fatalf("entitlements after POST = %v, want [crm]", got)
	}
	role := u["roles"].([]any)[0].(map[string]any)
	if role["type"] != "WindowsAzureActiveDirectoryRole" || role["display"] != "Reader" || role["primary"] != false {
		t.Errorf("role sub-attributes = %v, want type, display and primary kept", role)
	}

	// Entra's shape: a capitalised Add of a list of complex values.
	tg.mustDo(t, http.StatusNoContent, "PATCH", "/Users/"+id, patchOp(map[string]any{"op": "Add", "path": "roles", "value": []any{
		map[string]any{"value": "Billing.Admin", "display": "Billing admin", "type": "WindowsAzureActiveDirectoryRole", "primary": false},
	}}))
	u = tg.mustDo(t, http.StatusOK, "GET", "/Users/"+id, nil).object(t)
	if got := values(t, u, "roles"); !slices.Equal(got, []string{"Reader", "Billing.Admin"}) {
		t.Fatalf("roles after Add = %v, want [Reader Billing.Admin]", got)
	}

	for _, tc := range []struct{ name, filter string }{
		{"value of roles", `roles.value eq "Billing.Admin"`},
		{"value filter", `roles[value eq "Billing.Admin"]`},
		{"entitlements", `entitlements.value eq "crm"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := tg.mustList(t, "GET", "/Users?filter="+url.QueryEscape(tc.filter), nil)
			if got := l.ids(); !slices.Equal(got, []string{id}) {
				t.Errorf("filter %s = %v, want [%s]", tc.filter, got, id)
			}
		})
	}
	// RFC 7643 §8.7.1 makes roles.value caseExact false: so is the filter.
	if got := tg.mustList(t, "GET", "/Users?filter="+url.QueryEscape(`roles.value eq "billing.admin"`), nil).ids(); !slices.Equal(got, []string{id}) {
		t.Errorf("roles.value eq in another case = %v, want [%s] (caseExact false)", got, id)
	}

	// A value filter replaces one role's sub-attribute, then removes it.
	tg.mustDo(t, http.StatusNoContent, "PATCH", "/Users/"+id, patchOp(op("Replace", `roles[value eq "Billing.Admin"].display`, "Billing")))
	u = tg.mustDo(t, http.StatusOK, "GET", "/Users/"+id, nil).object(t)
	if d := u["roles"].([]any)[1].(map[string]any)["display"]; d != "Billing" {
		t.Errorf("display after filtered replace = %v, want Billing", d)
	}
	tg.mustDo(t, http.StatusNoContent, "PATCH", "/Users/"+id, patchOp(op("Remove", `roles[value eq "Billing.Admin"]`, nil)))
	u = tg.mustDo(t, http.StatusOK, "GET", "/Users/"+id, nil).object(t)
	if got := values(t, u, "roles"); !slices.Equal(got, []string{"Reader"}) {
		t.Fatalf("roles after filtered Remove = %v, want [Reader]", got)
	}

	// PUT replaces the lists whole.
	tg.mustDo(t, http.StatusOK, "PUT", "/Users/"+id, map[string]any{
		"schemas": []string{userSchema}, "userName": "ada@example.com",
		"roles": []any{map[string]any{"value": "Writer"}},
	})
	u = tg.mustDo(t, http.StatusOK, "GET", "/Users/"+id, nil).object(t)
	if got := values(t, u, "roles"); !slices.Equal(got, []string{"Writer"}) {
		t.Errorf("roles after PUT = %v, want [Writer]", got)
	}
	if got := values(t, u, "entitlements"); got != nil {
		t.Errorf("entitlements after a PUT without them = %v, want none", got)
	}
}

// /Schemas advertises roles and entitlements on the User schema.
func TestSchemasAdvertiseRolesAndEntitlements(t *testing.T) {
	tg := newTarget(t)
	s := tg.mustDo(t, http.StatusOK, "GET", "/Schemas/"+userSchema, nil).object(t)
	attrs, _ := s["attributes"].([]any)
	for _, name := range []string{"roles", "entitlements"} {
		found := false
		for _, a := range attrs {
			m, _ := a.(map[string]any)
			if m["name"] == name {
				found = m["multiValued"] == true && m["type"] == "complex"
			}
		}
		if !found {
			t.Errorf("/Schemas User has no multi-valued complex %s", name)
		}
	}
}
