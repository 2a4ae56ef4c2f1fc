package httpconv_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/store/httpconv"
)

// The role index and the store hand-encode strings; each must decode to
// exactly what encoding/json's encoding of it decodes to, whatever a SCIM
// client or an admin named a user, group, role or permission.
func TestAppendJSONStringDecodesLikeEncodingJSON(t *testing.T) {
	for _, tc := range []struct{ name, s string }{
		{"empty", ""},
		{"plain", "plain"},
		{"quote and backslash", `quote " and \ backslash`},
		{"whitespace controls", "tab\tnewline\ncr\r"},
		{"other controls", "\x00\x01\x08\x0c\x1f\x7f"},
		{"unicode", "ünïcödé ✓ 😀"},
		{"invalid UTF-8", "bad utf8 \xff\xfe end \xe2\x82"},
		{"HTML", "</script>&"},
		{"line separators", "\u2028\u2029"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := httpconv.AppendJSONString([]byte("prefix"), tc.s)
			if !strings.HasPrefix(string(raw), "prefix") {
				t.Fatalf("appended over the prefix: %s", raw)
			}
			var got, want string
			if err := json.Unmarshal(raw[len("prefix"):], &got); err != nil {
				t.Fatalf("%q encodes to invalid JSON %s: %v", tc.s, raw, err)
			}
			std, _ := json.Marshal(tc.s)
			_ = json.Unmarshal(std, &want)
			if got != want {
				t.Errorf("%q decodes to %q; encoding/json's to %q", tc.s, got, want)
			}
		})
	}
}
