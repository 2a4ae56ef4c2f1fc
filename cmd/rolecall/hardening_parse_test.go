package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/roles"
)

// The filters that killed or stalled the server (issue 7) are refused with
// 400 invalidFilter naming the limit, on every list, and the server stays
// up: /healthz answers and the next list is served.
func TestHostileFiltersLeaveTheServerUp(t *testing.T) {
	s := startServer(t)
	conID, base := s.connection(t, "acme")
	idp := scimClient{t, base, s.scimToken(t, conID)}
	alice := idp.user("alice@acme.test")
	idp.group("Hostile", alice)

	deep := strings.Repeat("(", 85_000) + `displayName eq "Hostile"` + strings.Repeat(")", 85_000)
	wide := strings.Repeat(`displayName eq "Hostile" and `, 200_000) + `displayName pr`
	search := func(filter string) map[string]any {
		return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "filter": filter}
	}
	requests := []struct {
		name, method, path string
		body               any
	}{
		{"deep, GET /Groups", "GET", "/Groups?filter=" + url.QueryEscape(deep), nil},
		{"deep, GET /Users", "GET", "/Users?filter=" + url.QueryEscape(deep), nil},
		{"deep, GET root", "GET", "/?filter=" + url.QueryEscape(deep), nil},
		{"deep, POST /Groups/.search", "POST", "/Groups/.search", search(deep)},
		{"deep, POST /.search", "POST", "/.search", search(deep)},
		{"wide, POST /Users/.search", "POST", "/Users/.search", search(wide)},
		{"wide, POST /Groups/.search", "POST", "/Groups/.search", search(wide)},
		{"wide, POST /.search", "POST", "/.search", search(wide)},
	}
	for _, r := range requests {
		t.Run(r.name, func(t *testing.T) {
			resp, out := call(t, r.method, base+r.path, idp.token, r.body)
			switch {
			case resp.StatusCode == http.StatusRequestHeaderFieldsTooLarge || resp.StatusCode == http.StatusRequestURITooLong:
				// A server may refuse a 300 KB URL before reading it.
			case resp.StatusCode != http.StatusBadRequest || out["scimType"] != "invalidFilter":
				t.Errorf("%d %v, want 400 invalidFilter", resp.StatusCode, out)
			case !strings.Contains(fmt.Sprint(out["detail"]), "the limit is 65536 bytes"):
				t.Errorf("detail %q does not name the limit", out["detail"])
			}
			if resp, _ := call(t, "GET", s.URL+"/healthz", "", nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("/healthz answered %d after the hostile filter", resp.StatusCode)
			}
			list := idp.do("GET", "/Groups?filter="+url.QueryEscape(`displayName eq "Hostile"`), nil, http.StatusOK)
			if list["totalResults"] != 1.0 {
				t.Errorf("a plain list after the hostile filter: %v", list)
			}
		})
	}
}

// A 1,000-group nesting chain with nested group roles on: the login answer
// stays under 1 MB (it was 32 MB) and is still right. The chain is made by
// one Bulk request whose references all run backwards (quadratic before).
func TestLongNestingChainAnswersStayLinear(t *testing.T) {
	s := startServer(t)
	conID, base := s.connection(t, "acme")
	idp := scimClient{t, base, s.scimToken(t, conID)}
	alice := idp.user("alice@acme.test")

	// Operation k creates group n-1-k, whose member is the group the next
	// operation creates; the last one creates group 0, with alice.
	const n = 1000
	ops := make([]any, n)
	for k := range ops {
		i := n - 1 - k
		member := alice
		if i > 0 {
			member = fmt.Sprintf("bulkId:g%d", i-1)
		}
		ops[k] = map[string]any{"method": "POST", "path": "/Groups", "bulkId": fmt.Sprintf("g%d", i), "data": map[string]any{
			"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"displayName": fmt.Sprintf("chain-%03d", i),
			"members":     []any{map[string]any{"value": member}},
		}}
	}
	out := idp.do("POST", "/Bulk", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"}, "Operations": ops}, http.StatusOK)
	results := out["Operations"].([]any)
	if len(results) != n {
		t.Fatalf("bulk answered %d results, want %d", len(results), n)
	}
	chain := make([]string, n)
	for _, r := range results {
		r := r.(map[string]any)
		if r["status"] != "201" {
			t.Fatalf("bulk operation %v failed", r)
		}
		i, _ := strconv.Atoi(strings.TrimPrefix(r["bulkId"].(string), "g"))
		loc := r["location"].(string)
		chain[i] = loc[strings.LastIndexByte(loc, '/')+1:]
	}

	role := s.api(t, "POST", "/roles", map[string]any{"name": "chained"}, http.StatusCreated)["id"].(string)
	s.api(t, "POST", "/roles/"+role+"/groups", map[string]any{"groups": chain}, http.StatusNoContent)
	resp, _ := call(t, "PATCH", s.URL+"/api/v2/tenants/settings", testAdminToken, map[string]any{"flags": map[string]any{"nested_group_roles": true}})
	rev, _ := strconv.Atoi(resp.Header.Get("Rolecall-Revision"))

	body, _ := json.Marshal(map[string]any{"subjects": []any{map[string]any{"user_id": alice}}, "min_revision": rev})
	req, _ := http.NewRequest("POST", s.URL+"/api/v2/effective-roles/query", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login query: %d %s", res.StatusCode, raw)
	}
	t.Logf("login answer for a %d-group chain: %d bytes", n, len(raw))
	if len(raw) >= 1<<20 {
		t.Fatalf("login answer is %d bytes, want under 1 MB", len(raw))
	}

	var answer struct {
		Results []struct {
			Roles []struct {
				ID      string `json:"id"`
				Sources []struct {
					GroupID string `json:"group_id"`
					Via     []struct {
						GroupID string `json:"group_id"`
					} `json:"via"`
					ViaLength int `json:"via_length"`
				} `json:"sources"`
			} `json:"roles"`
		} `json:"results"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		t.Fatal(err)
	}
	roleAnswers := answer.Results[0].Roles
	if len(roleAnswers) != 1 || roleAnswers[0].ID != role || len(roleAnswers[0].Sources) != n {
		t.Fatalf("want the role once with %d sources, got %d roles", n, len(roleAnswers))
	}
	depth := map[string]int{}
	for i, id := range chain {
		depth[id] = i
	}
	for _, src := range roleAnswers[0].Sources {
		d, ok := depth[src.GroupID]
		if !ok {
			t.Fatalf("source names group %s, not one of the chain", src.GroupID)
		}
		var want []string
		if d <= roles.MaxVia {
			want = chain[:d]
		} else {
			want = append([]string{chain[0]}, chain[d-roles.MaxVia+1:d]...)
		}
		var got []string
		for _, v := range src.Via {
			got = append(got, v.GroupID)
		}
		wantLength := 0
		if d > roles.MaxVia {
			wantLength = d
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || src.ViaLength != wantLength {
			t.Fatalf("source at depth %d: via %v via_length %d, want %v via_length %d", d, got, src.ViaLength, want, wantLength)
		}
	}
}
