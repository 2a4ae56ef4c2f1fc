package api_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/roles/api"
)

// Every operation refuses a query parameter its OpenAPI entry does not
// name, before it looks at anything else: a mistyped filter must not
// answer an unfiltered list, nor a mistyped option be ignored.
func TestEveryOperationRefusesUndocumentedQueryParameters(t *testing.T) {
	m := newMgmt(t)
	param := regexp.MustCompile(`\{[^}]+\}`)
	for _, rt := range api.Routes(m.api) {
		pattern := rt.Pattern
		if p, ok := api.DocumentedPattern[pattern]; ok {
			pattern = p
		}
		path := param.ReplaceAllString(pattern, "x_0000000000000000")
		t.Run(rt.Method+" "+rt.Pattern, func(t *testing.T) {
			rec, out := m.send(mgmtAdminToken, rt.Method, path+"?connection=con_1", nil)
			assertMgmtError(t, rt.Method+" "+path, rec, out, 400, "invalid_query_string")
			if msg, _ := out["message"].(string); !strings.Contains(msg, "'connection'") {
				t.Errorf("message %q does not name the parameter", msg)
			}
		})
	}
	// What the document names is taken (here: the users list's filter).
	m.fails("GET", "/users?connection_id=con_0000000000000000", nil, 404, "inexistent_connection")
}
