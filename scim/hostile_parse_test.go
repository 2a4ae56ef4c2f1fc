package scim_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/scim/document"
)

// hostileFilters are filters that took the server down or held a CPU for
// seconds before parsing had limits, and filters just beyond each limit.
// Each is refused with 400 invalidFilter and a detail naming the limit.
var hostileFilters = []struct {
	name, filter, detail string
}{
	{"85,000 nested parentheses", strings.Repeat("(", 85_000) + `displayName eq "x"` + strings.Repeat(")", 85_000), "the limit is 65536 bytes"},
	{"200,000 terms", strings.Repeat(`displayName eq "x" and `, 200_000) + `displayName pr`, "the limit is 65536 bytes"},
	{"one level too deep", strings.Repeat("(", document.MaxFilterDepth+1) + `displayName eq "x"` + strings.Repeat(")", document.MaxFilterDepth+1), "the limit is 32 levels of nesting"},
	{"one term too many", strings.Repeat(`id pr or `, document.MaxFilterTerms) + `id pr`, "the limit is 256 terms"},
	{"too much syntax", strings.Repeat("a", document.MaxFilterSyntax) + ` eq "x"`, "the limit is 4096 bytes of filter syntax"},
}

// TestHostileFiltersAreRefusedNamingTheLimit sends each hostile filter to
// every list: GET with ?filter= (when the URL stays under the server's
// header limit) and POST .search on /Users, /Groups and the root. Each
// answers 400 invalidFilter naming the limit, and the server keeps
// answering. Before the limits, the deep filter killed the test process.
func TestHostileFiltersAreRefusedNamingTheLimit(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "hostile@acme.test", nil)
	tg.mustCreateGroup(t, "Hostile", nil, u)
	for _, f := range hostileFilters {
		for _, base := range []string{"/Users", "/Groups", ""} {
			t.Run(f.name+" on "+base+"/", func(t *testing.T) {
				var answers []response
				if len(f.filter) < 500_000 { // GET URLs are bounded by the header limit (1 MB)
					answers = append(answers, tg.do(t, "GET", base+"?filter="+urlQuery(f.filter), nil))
				}
				answers = append(answers, tg.do(t, "POST", base+"/.search", map[string]any{"schemas": []string{searchSchema}, "filter": f.filter}))
				for _, res := range answers {
					wantSCIMError(t, res, http.StatusBadRequest, "invalidFilter")
					if detail := str(res.object(t)["detail"]); !strings.Contains(detail, f.detail) {
						t.Errorf("%s %s: detail %q does not name the limit (%q)", res.method, base, detail, f.detail)
					}
					if len(res.body) > 4096 {
						t.Errorf("%s %s: the error is %d bytes; the filter must not come back whole", res.method, base, len(res.body))
					}
				}
				l := tg.mustList(t, "GET", base+"?filter="+urlQuery(`displayName eq "Hostile"`), nil)
				if base == "/Users" && len(l.Resources) != 0 || base != "/Users" && len(l.Resources) != 1 {
					t.Errorf("after the hostile filter, a plain list found %v", l.ids())
				}
			})
		}
	}
}

// TestHostilePatchPathsAreRefusedNamingTheLimit: a PATCH path beyond the
// limits is 400 invalidPath naming the limit, and changes nothing.
func TestHostilePatchPathsAreRefusedNamingTheLimit(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "hostile@acme.test", nil)
	g := tg.mustCreateGroup(t, "Hostile", nil, u)
	paths := []struct {
		name, path, detail string
	}{
		{"85,000 nested brackets", strings.Repeat("members[", 85_000) + `value eq "x"` + strings.Repeat("]", 85_000), "the limit is 65536 bytes"},
		{"one level too deep", "members[" + strings.Repeat("not (", document.MaxFilterDepth) + `value eq "x"` + strings.Repeat(")", document.MaxFilterDepth) + "]", "the limit is 32 levels of nesting"},
		{"one term too many", "members[" + strings.Repeat(`value pr or `, document.MaxFilterTerms) + `value pr]`, "the limit is 256 terms"},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			before := tg.db.Revision()
			res := tg.do(t, "PATCH", "/Groups/"+g, patchOp(op("remove", p.path, nil)))
			wantSCIMError(t, res, http.StatusBadRequest, "invalidPath")
			if detail := str(res.object(t)["detail"]); !strings.Contains(detail, p.detail) {
				t.Errorf("detail %q does not name the limit (%q)", detail, p.detail)
			}
			if after := tg.db.Revision(); after != before {
				t.Errorf("revision went from %d to %d on a refused PATCH", before, after)
			}
			if got := memberIDs(t, tg.db, g); len(got) != 1 || got[0] != u {
				t.Errorf("members after a refused PATCH = %v, want [%s]", got, u)
			}
		})
	}
}
