package scim_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rolecall/rolecall/conformance"
	"github.com/rolecall/rolecall/scim"
	"github.com/rolecall/rolecall/scim/document"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/httpconv"
	"github.com/rolecall/rolecall/store/storetest"
)

// scenarioVar matches a conformance variable: {{name}} or {{name|filter}}.
var scenarioVar = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*[a-z]+\s*)?\}\}`)

// fuzzFixtures are the ids the seeds' variables stand for.
type fuzzFixtures struct {
	base, u1, u2, g string
}

// substitute replaces conformance variables with fixture ids: group-ish
// names with the group, the second user's names with u2, the rest with u1.
func (fx fuzzFixtures) substitute(s string) string {
	return scenarioVar.ReplaceAllStringFunc(s, func(m string) string {
		name := scenarioVar.FindStringSubmatch(m)[1]
		switch name {
		case conformance.VarRun:
			return "fuzz"
		case conformance.VarGUID:
			return "6c2b3a8e-1f0d-4b5e-9a77-0d6f4d0c1a11"
		case conformance.VarGUID2:
			return "0b8f3f5d-7e1a-4c39-8d2e-5a9b6c7d8e9f"
		case conformance.VarBaseURL:
			return fx.base
		case "etag", "etag2", "version":
			return `W/"1"`
		case "location":
			return fx.base + "/Users/" + fx.u1
		case "g", "g2", "fg":
			return fx.g
		case "u2", "bob", "m2", "u4":
			return fx.u2
		}
		return fx.u1
	})
}

// buildPath encodes a path written as conformance scenarios write it
// (unencoded, with its query) the way conformance's runner does: each path
// segment and query parameter percent-encoded after a lenient unescape, so
// "%2F" stays an encoded slash.
func buildPath(reqPath string) string {
	lenient := func(s string) string {
		if u, err := url.PathUnescape(s); err == nil {
			return u
		}
		return s
	}
	p, q, hasQuery := strings.Cut(reqPath, "?")
	segments := strings.Split(p, "/")
	for i, s := range segments {
		segments[i] = url.PathEscape(lenient(s))
	}
	out := strings.Join(segments, "/")
	if hasQuery && q != "" {
		params := strings.Split(q, "&")
		for i, param := range params {
			k, v, hasValue := strings.Cut(param, "=")
			params[i] = url.QueryEscape(lenient(k))
			if hasValue {
				params[i] += "=" + url.QueryEscape(lenient(v))
			}
		}
		out += "?" + strings.Join(params, "&")
	}
	return out
}

// fuzzSeeds are hand-written requests beside the conformance scenarios.
var fuzzSeeds = []struct {
	method, path, body string
}{
	{"GET", "/Users?filter=userName eq \"u1@fuzz.test\"", ""},
	{"GET", "/Groups?filter=members eq \"{{u1}}\"&excludedAttributes=members", ""},
	{"GET", "/Groups?filter=id eq \"{{g}}\" and members eq \"{{u2}}\"", ""},
	{"GET", "/Users?sortBy=userName&sortOrder=descending&startIndex=0&count=1", ""},
	{"GET", "/Groups/{{g}}?attributes=members.value", ""},
	{"GET", "/Users/%2F..%2F{{u1}}", ""},
	{"GET", "/v2/Users", ""},
	{"DELETE", "/Groups/{{g}}", ""},
	{"POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"fz","active":"False","emails":"[{\"value\":\"a@b\"}]"}`},
	{"POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"fz","members":[{"value":"{{u1}}","displayName":"x"}]}`},
	{"PUT", "/Groups/{{g}}", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","members":[]}`},
	{"PATCH", "/Groups/{{g}}", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"{{u1}}\"]"},{"op":"add","path":"members","value":[{"value":"{{u2}}"}]},{"op":"Remove","path":"members","value":[{"value":"{{u2}}"}]},{"op":"replace","path":"members","value":[{"value":"{{u1}}"}]}]}`},
	{"PATCH", "/Groups/{{g}}", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"usr_0000000000000000"}]},{"op":"remove","path":"members"}]}`},
	{"PATCH", "/Groups/{{g}}?attributes=displayName", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"members","value":[{"value":"{{u1}}"},{"value":"{{u2}}"}]},{"op":"remove","path":"members[type eq \"User\"]"}]}`},
	{"PATCH", "/Users/{{u1}}", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","value":{"name.givenName":"A","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager":"{{u2}}","active":"True"}}]}`},
	{"PATCH", "/Users/{{u1}}", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"userName","value":"u2@fuzz.test"}]}`},
	{"POST", "/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"emails[type eq \"work\"]","startIndex":-1,"count":1e3}`},
	{"POST", "/Bulk", `{}`},
	{"POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"failOnErrors":2,"Operations":[{"method":"POST","path":"/Groups","bulkId":"g","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"bulk","members":[{"value":"bulkId:u"}]}},{"method":"POST","path":"/Users","bulkId":"u","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bulk@fuzz.test"}},{"method":"PATCH","path":"/Groups/{{g}}","version":"W/\"1\"","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"bulkId:u"}]}]}},{"method":"DELETE","path":"/Users/bulkId:nowhere"},{"method":"PUT","path":"/Users/{{u2}}","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u2@fuzz.test"}}]}`},
	{"POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Groups","bulkId":"a","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"a","members":[{"value":"bulkId:b"}]}},{"method":"POST","path":"/Groups","bulkId":"b","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"b","members":[{"value":"bulkId:a"}]}}]}`},
	{"GET", "/?filter=userName sw \"u\" or displayName pr&sortBy=displayName&count=2", ""},
	{"POST", "/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"meta.resourceType eq \"Group\"","cursor":"","count":1}`},
	{"GET", "/Users?cursor&count=1", ""},
	{"GET", "/Users?cursor=eyJxIjoieCJ9&count=1", ""},
	{"GET", "/Groups?cursor&sortBy=displayName&filter=members eq \"{{u1}}\"", ""},
	{"POST", "/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"cursor":"","startIndex":1}`},
	{"HEAD", "/users/{{u1}}", ""},
	{"DELETE", "/v2/Users/{{u1}}", ""},
	{"GET", "/Me", ""},
	{"PATCH", "/Users/{{u1}}", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"x509Certificates","value":[{"value":"not base64!"}]}]}`},
	{"FROB", "/Users", ""},
}

// The budget of one fuzzed request, whose body is at most 1 MiB here: the
// worst filter the limits let through costs about 20 MiB and 25 ms to
// parse, and a request may parse it and a lenient repair of it. The bounds
// leave room for a slow, shared machine and the race detector, so that only
// a real regression crosses them.
const (
	budgetTime  = time.Second
	budgetAlloc = 64 << 20
)

// serveWithinBudget serves req and fails the test when that took longer
// than budgetTime or allocated more than budgetAlloc (the growth of
// runtime.MemStats.TotalAlloc, which counts little but this request while
// a fuzz target runs).
func serveWithinBudget(t *testing.T, h http.Handler, w http.ResponseWriter, req *http.Request) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	h.ServeHTTP(w, req)
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; took > budgetTime || alloc > budgetAlloc {
		t.Fatalf("%s %.200s took %v and allocated %d MiB; the budget is %v and %d MiB", req.Method, req.URL, took, alloc>>20, budgetTime, budgetAlloc>>20)
	}
}

// FuzzSCIMRequest sends arbitrary requests, with a valid all-scopes token, to
// a connection holding users u1 and u2 and a group g with u1. Properties: no
// panic; each request answers within 1 s and allocates under 64 MiB; no 5xx
// (but the documented 501s); a 4xx or 5xx is a SCIM error and
// changes nothing (the store revision stays); a successful write (Bulk
// included) answers Rolecall-Revision.
func FuzzSCIMRequest(f *testing.F) {
	db := storetest.Open(f, store.Options{NoSync: true})
	h := limitBody(1<<20, scim.NewHandler(db, scim.Options{PublicURL: "https://rolecall.test"}))
	con := storetest.MustConnection(f, db, "fuzz")
	token := mustToken(f, db, con.ID, 0, store.SCIMTokenScopes...)
	u1 := storetest.MustUser(f, db, con.ID, "u1@fuzz.test")
	u2 := storetest.MustUser(f, db, con.ID, "u2@fuzz.test")
	g := storetest.MustGroup(f, db, con.ID, "g", u1.ID)
	root := "https://rolecall.test" + scim.PathPrefix + con.ID
	fx := fuzzFixtures{base: root, u1: u1.ID, u2: u2.ID, g: g.ID}

	for _, s := range conformance.Scenarios() {
		for _, st := range s.Steps {
			if st.Base == conformance.BaseAPI {
				continue // a Management API request, not SCIM
			}
			body := []byte(st.Request.Body)
			if st.Request.RawBody != nil {
				body = []byte(*st.Request.RawBody)
			}
			f.Add(st.Request.Method, fx.substitute(st.Request.Path), []byte(fx.substitute(string(body))))
		}
	}
	for _, s := range fuzzSeeds {
		f.Add(s.method, fx.substitute(s.path), []byte(fx.substitute(s.body)))
	}
	for _, hf := range hostileFilters {
		search := []byte(`{"schemas":["` + searchSchema + `"],"filter":` + jsonString(hf.filter) + `}`)
		if len(search) < 1<<20 {
			f.Add("POST", "/Groups/.search", search)
		}
		f.Add("GET", "/?filter="+hf.filter[:min(len(hf.filter), 100_000)], []byte(nil))
		patch := []byte(`{"schemas":["` + patchSchema + `"],"Operations":[{"op":"remove","path":` + jsonString("members["+hf.filter[:min(len(hf.filter), 100_000)]+"]") + `}]}`)
		f.Add("PATCH", "/Groups/"+g.ID, patch)
	}
	// The costliest filter within the limits: as much syntax as allowed,
	// parsed as sent, lifted and repaired (LenientFilter).
	f.Add("GET", "/Users?filter="+strings.Repeat("a", document.MaxFilterSyntax-40)+"[b eq c].d eq e", []byte(nil))

	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(method, root+buildPath(path), bytes.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		req.Header.Set("X-Request-Id", "fuzz")
		before := db.Revision()
		rec := httptest.NewRecorder()
		serveWithinBudget(t, h, rec, req)
		res := response{method: method, url: req.URL.String(), status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
		after := db.Revision()

		if p := responseProblem(method, req.URL.Path[len(scim.PathPrefix+con.ID):], res); p != "" {
			t.Fatalf("%v\n%s", res, p)
		}
		if res.status >= 400 && after != before {
			t.Fatalf("%v\nstore revision went from %d to %d on a rejected request", res, before, after)
		}
		isWrite := method == http.MethodPut || method == http.MethodPatch || method == http.MethodDelete ||
			method == http.MethodPost && !strings.HasSuffix(strings.TrimSuffix(req.URL.Path, "/"), "/.search")
		if isWrite && res.status >= 200 && res.status < 300 && res.header.Get(httpconv.RevisionHeader) == "" {
			t.Fatalf("%v\na successful write answered no %s", res, httpconv.RevisionHeader)
		}
		if after != before && res.status < 300 && res.revision(t) != after {
			t.Fatalf("%v\n%s %d, but the write moved the store to %d", res, httpconv.RevisionHeader, res.revision(t), after)
		}
	})
}
