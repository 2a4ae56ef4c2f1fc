package scim_test

import (
	"net/http"
	"testing"
)

// TestControlCharactersInIdentifiersAreRefused: a NUL or an escape sequence
// in a name lets one user pass for another in logs and lists. Every write
// path refuses it with invalidValue and changes nothing.
func TestControlCharactersInIdentifiersAreRefused(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "clean@acme.test", map[string]any{"externalId": "ext-clean"})
	g := tg.mustCreateGroup(t, "Clean", nil)
	cases := []struct {
		name, method, path string
		body               map[string]any
	}{
		{"POST userName with NUL", "POST", "/Users", map[string]any{"schemas": []string{userSchema}, "userName": "ad\x00min"}},
		{"POST userName with ESC", "POST", "/Users", map[string]any{"schemas": []string{userSchema}, "userName": "\x1b[31madmin"}},
		{"POST externalId with newline", "POST", "/Users", map[string]any{"schemas": []string{userSchema}, "userName": "x@acme.test", "externalId": "a\nb"}},
		{"POST group displayName with DEL", "POST", "/Groups", map[string]any{"schemas": []string{groupSchema}, "displayName": "Admins\x7f"}},
		{"PUT userName", "PUT", "/Users/" + u, map[string]any{"schemas": []string{userSchema}, "userName": "clean@acme.test\x00"}},
		{"PATCH replace userName", "PATCH", "/Users/" + u, patchOp(op("replace", "userName", "a\x01b"))},
		{"PATCH replace without path", "PATCH", "/Users/" + u, patchOp(op("replace", "", map[string]any{"externalId": "e\x00"}))},
		{"PATCH group displayName", "PATCH", "/Groups/" + g, patchOp(op("replace", "displayName", "Cl\x00ean"))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := tg.do(t, tc.method, tc.path, tc.body)
			wantSCIMError(t, res, http.StatusBadRequest, "invalidValue")
		})
	}
	user := tg.mustDo(t, http.StatusOK, "GET", "/Users/"+u, nil).object(t)
	if user["userName"] != "clean@acme.test" || user["externalId"] != "ext-clean" {
		t.Errorf("the user changed: %v", user)
	}
	if group := tg.mustDo(t, http.StatusOK, "GET", "/Groups/"+g, nil).object(t); group["displayName"] != "Clean" {
		t.Errorf("the group changed: %v", group)
	}
	// Other attributes keep their characters: a formatted address has lines.
	tg.mustCreateUser(t, "lines@acme.test", map[string]any{"addresses": []any{map[string]any{"formatted": "1 Main St\nSpringfield"}}})
	// And names outside ASCII are names, not control characters.
	tg.mustCreateUser(t, "zoë@acme.test", map[string]any{"displayName": "Zoë Ölçek"})
}
