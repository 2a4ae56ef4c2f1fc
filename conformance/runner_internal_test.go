package conformance

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

func TestSubstitute(t *testing.T) {
	r := &scenarioRun{vars: map[string]string{"run": "rcab12", "id": "usr_1"}}
	tests := []struct{ in, want string }{
		{"/Users/{{id}}", "/Users/usr_1"},
		{`userName eq "{{run}}.x"`, `userName eq "rcab12.x"`},
		{"{{ run | upper }}-{{run|lower}}", "RCAB12-rcab12"},
		{"{{missing}} stays", "{{missing}} stays"},
		{"no variables", "no variables"},
	}
	for _, tt := range tests {
		if got := r.substitute(tt.in); got != tt.want {
			t.Errorf("substitute(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	var body any
	json.Unmarshal([]byte(`{"userName":"{{run}}","members":[{"value":"{{id}}"}],"{{run}}-key":5}`), &body)
	got, _ := json.Marshal(r.substituteJSON(body))
	if want := `{"members":[{"value":"usr_1"}],"rcab12-key":5,"userName":"rcab12"}`; string(got) != want {
		t.Errorf("substituteJSON = %s, want %s", got, want)
	}
}

func TestBuildURL(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/Users", "http://h/scim/Users"},
		{`/Users?filter=userName eq "a b"&count=2`, "http://h/scim/Users?filter=userName%20eq%20%22a%20b%22&count=2"},
		{"/Users?aadOptscim062020&filter=id pr", "http://h/scim/Users?aadOptscim062020&filter=id%20pr"},
		{`/Users?filter=emails[type eq "work"].value co "%26"`, "http://h/scim/Users?filter=emails%5Btype%20eq%20%22work%22%5D.value%20co%20%22%26%22"},
		{"/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "http://h/scim/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"},
		{"/Users/a b@c", "http://h/scim/Users/a%20b@c"},
	}
	for _, tt := range tests {
		got, err := buildURL("http://h/scim/", tt.path)
		if err != nil || got != tt.want {
			t.Errorf("buildURL(%q) = %q, %v; want %q", tt.path, got, err, tt.want)
		}
	}
}

func TestBodyPath(t *testing.T) {
	var doc any
	json.Unmarshal([]byte(`{
		"Resources": [{"id": "a", "userName": "x"}, {"id": "b", "userName": "y"}],
		"members": [{"value": "u1", "type": "User"}, {"value": "u2"}, {"value": "u1", "display": "again"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m"}},
		"name.givenName": "literal",
		"nothing": null,
		"active": false
	}`), &doc)
	tests := []struct {
		path  string
		want  string // compact JSON; "" means not found
		found bool
	}{
		{"Resources[1].userName", `"y"`, true},
		{"resources[0].ID", `"a"`, true}, // names fold case
		{"Resources[2]", "", false},
		{"members[?value==u1]", `[{"type":"User","value":"u1"},{"display":"again","value":"u1"}]`, true},
		{"members[?value=='u1'].display", "", false}, // reads the first match, which has no display
		{"members[?value==\"u2\"].value", `"u2"`, true},
		{"members[?value==u9]", `[]`, false},
		{"['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].manager.value", `"m"`, true},
		{`["name.givenName"]`, `"literal"`, true},
		{"nothing", "", false}, // null is absent
		{"active", "false", true},
		{"", "", true},
	}
	for _, tt := range tests {
		p, err := parsePath(tt.path)
		if err != nil {
			t.Errorf("parsePath(%q): %v", tt.path, err)
			continue
		}
		v, found := p.lookup(doc)
		got := ""
		if v != nil {
			got = compactJSON(v, 0)
		}
		if tt.path == "" {
			got = tt.want
		}
		if found != tt.found || got != tt.want {
			t.Errorf("lookup(%q) = %s, %v; want %s, %v", tt.path, got, found, tt.want, tt.found)
		}
	}
	for _, bad := range []string{"a..b", ".a", "a.", "a[", "a[x]", "a[?b]", "a[?b==c", "a]", "a['b']c[?d[?e==f]==g]", "['unclosed]"} {
		if _, err := parsePath(bad); err == nil {
			t.Errorf("parsePath(%q) succeeded, want an error", bad)
		}
	}
}

func TestMatchers(t *testing.T) {
	tests := []struct {
		kind, want string // want as JSON
		got        string // JSON; "" means absent
		pass       bool
		message    string // part of the failure message
	}{
		{"exists", "true", `"x"`, true, ""},
		{"exists", "true", "", false, "want it present, got nothing (absent)"},
		{"absent", "true", "", true, ""},
		{"absent", "true", `[]`, false, "want it absent"},
		{"empty", "true", `[]`, true, ""},
		{"empty", "true", `""`, true, ""},
		{"empty", "true", `["a"]`, false, "want it empty or absent"},
		{"equals", "0", "0", true, ""},
		{"equals", "0", `"0"`, false, `want equals 0, got "0"`},
		{"equals", `{"a":[1,"b"]}`, `{"a":[1,"b"]}`, true, ""},
		{"equals", "false", "", false, "got nothing (absent)"},
		{"notEquals", `"a"`, `"b"`, true, ""},
		{"equalsFold", `"ABC"`, `"abc"`, true, ""},
		{"equalsFold", `"ABC"`, `"abd"`, false, `want equalsFold "ABC", got "abd"`},
		{"contains", `"ell"`, `"hello"`, true, ""},
		{"contains", `{"type":"work"}`, `[{"type":"work","value":"x"}]`, true, ""},
		{"contains", `{"type":"home"}`, `[{"type":"work","value":"x"}]`, false, "want contains"},
		{"contains", `"secret"`, `{"a":{"b":"my secret"}}`, true, ""},
		{"notContains", `"secret"`, `{"a":"public"}`, true, ""},
		{"notContains", `"x"`, `["x"]`, false, "want notContains"},
		{"matches", `"^W/\""`, `"W/\"3\""`, true, ""},
		{"length", "2", `[1,2]`, true, ""},
		{"length", "2", `[1]`, false, "got length 1"},
		{"length", "3", `"abc"`, true, ""},
		{"gt", "1", "2", true, ""},
		{"lte", "1", "2", false, "want lte 1, got 2"},
		{"type", `"boolean"`, "true", true, ""},
		{"type", `"number"`, `"5"`, false, `want type "number", got "5"`},
	}
	for _, tt := range tests {
		m := Matcher{Path: "p", Kind: tt.kind, Want: json.RawMessage(tt.want)}
		var want, got any
		json.Unmarshal([]byte(tt.want), &want)
		found := tt.got != ""
		if found {
			json.Unmarshal([]byte(tt.got), &got)
		}
		msg := m.check(got, found, want)
		if (msg == "") != tt.pass || (!tt.pass && !strings.Contains(msg, tt.message)) {
			t.Errorf("%s %s on %s: message %q, want pass=%v with %q", tt.kind, tt.want, tt.got, msg, tt.pass, tt.message)
		}
	}
}

func TestMatcherJSON(t *testing.T) {
	for _, bad := range []string{`{"path":"a"}`, `{"path":"a","exists":true,"absent":true}`, `{"path":"a","frob":1}`} {
		var m Matcher
		if err := json.Unmarshal([]byte(bad), &m); err == nil {
			t.Errorf("Unmarshal(%s) succeeded, want an error", bad)
		}
	}
	var m Matcher
	in := `{"header":"ETag","exists":true}`
	if err := json.Unmarshal([]byte(in), &m); err != nil || m.Header != "ETag" || m.Kind != "exists" {
		t.Fatalf("Unmarshal(%s) = %+v, %v", in, m, err)
	}
	if out, _ := json.Marshal(m); string(out) != in {
		t.Errorf("Marshal = %s, want %s", out, in)
	}
}

// The loader reports every problem of a scenario at once.
func TestLoadReportsEveryProblem(t *testing.T) {
	fsys := fstest.MapFS{"data/rfc/bad.json": {Data: []byte(`{
		"name": "rfc/wrong-name",
		"description": "",
		"source": {"title": "t", "url": "http://insecure", "quote": ""},
		"needs": ["time-travel"],
		"steps": [
			{"name": "a", "base": "foreign", "request": {"method": "POST", "path": "/Users"}, "expect": {"status": 201}, "capture": {"fu": "id", "run": "id"}},
			{"name": "b", "auth": "sudo", "request": {"method": "FETCH", "path": "Users/{{fu}}/{{nope}}/{{run|title}}"}, "expect": {"status": 200,
				"body": [{"path": "a[", "exists": true}, {"path": "x", "length": "two"}],
				"headers": [{"header": "ETag", "gt": 1}]}},
			{"name": "b", "request": {"method": "GET", "path": "/x", "rawBody": "x", "body": {}}, "expect": {}}
		]}`)}}
	_, err := loadScenarios(fsys, "data")
	if err == nil {
		t.Fatal("loadScenarios accepted a broken scenario")
	}
	for _, want := range []string{
		`name "rfc/wrong-name", want "rfc/bad"`,
		"no description",
		"source needs a title and a quote",
		"source needs an https URL",
		`unknown need "time-travel"`,
		`capture "run" shadows a built-in variable`,
		`unknown auth "sudo"`,
		`method "FETCH"`,
		`path "Users/{{fu}}/{{nope}}/{{run|title}}" must start with /`,
		`{{fu}} comes from a step that needs "foreign", which this step does not`,
		"variable {{nope}} is not built in nor captured by an earlier step",
		`unknown variable filter "title"`,
		`path "a[": unclosed '['`,
		`"length" takes a number`,
		`matcher kind "gt" does not apply to headers`,
		`step 3 "b": duplicate step name`,
		"body and rawBody are exclusive",
		"expect.status is required",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("error:\n%v", err)
	}
}

// runScenario end to end against a small fake: captures flow into later requests, headers and
// bodies are checked, and a wrong expectation fails with the request, the mismatch and the body.
func TestRunScenario(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		seen = append(seen, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Authorization")+" "+r.Header.Get("If-Match")+" "+string(body))
		w.Header().Set("Content-Type", "application/scim+json")
		switch {
		case r.Method == http.MethodPost:
			w.Header().Set("ETag", `W/"1"`)
			w.WriteHeader(201)
			w.Write([]byte(`{"id":"t-1","name":"` + strings.Split(string(body), `"`)[3] + `"}`))
		case r.URL.Path == "/base/Things/t-1":
			w.Write([]byte(`{"id":"t-1","tags":[{"type":"work","value":"w"}],"count":3}`))
		default:
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(srv.Close)
	s := Scenario{
		Name: "rfc/fake",
		Steps: []Step{
			{Name: "create", Request: Request{Method: "POST", Path: "/Things", Body: json.RawMessage(`{"name":"{{run}}-thing"}`)},
				Expect:  Expect{Status: StatusSet{201}, Body: []Matcher{{Path: "name", Kind: "equals", Want: json.RawMessage(`"{{run}}-thing"`)}}},
				Capture: map[string]string{"t": "id", "etag": "header ETag"}},
			{Name: "read", Auth: AuthInvalid, Request: Request{Method: "GET", Path: "/Things/{{t}}", Headers: map[string]string{"If-Match": "{{etag}}"}},
				Expect: Expect{Status: StatusSet{200, 204}, Body: []Matcher{
					{Path: "tags[?type==work].value", Kind: "equals", Want: json.RawMessage(`"w"`)},
					{Path: "count", Kind: "gte", Want: json.RawMessage(`3`)},
					{Path: "count", Kind: "equals", Want: json.RawMessage(`4`)}, // deliberately wrong
				}}},
			{Name: "never reached", Request: Request{Method: "GET", Path: "/"}, Expect: Expect{Status: StatusSet{200}}},
		},
	}
	target := Target{BaseURL: srv.URL + "/base", Token: "secret", Client: srv.Client()}
	r := runScenario(t.Context(), target, s, newCapabilities(target))
	if r.Passed || r.Step != "read" {
		t.Fatalf("result %+v, want a failure at step read", r)
	}
	want := []string{
		`GET /Things/t-1: body count: want equals 4, got 3`,
		`response: 200 {"id":"t-1","tags":[{"type":"work","value":"w"}],"count":3}`,
	}
	if len(r.Failures) != len(want) {
		t.Fatalf("failures %q, want %q", r.Failures, want)
	}
	for i := range want {
		if r.Failures[i] != want[i] {
			t.Errorf("failure %d = %q, want %q", i, r.Failures[i], want[i])
		}
	}
	if len(seen) != 2 {
		t.Fatalf("requests %q, want 2", seen)
	}
	if !strings.HasPrefix(seen[0], "POST /base/Things Bearer secret  {\"name\":\"rc") {
		t.Errorf("first request %q", seen[0])
	}
	if !strings.HasPrefix(seen[1], "GET /base/Things/t-1 Bearer rc-invalid-") || !strings.HasSuffix(seen[1], ` W/"1" `) {
		t.Errorf("second request %q: want the captured id, an invalid token and the captured ETag", seen[1])
	}
}

func TestPaddedBodyHasExactSize(t *testing.T) {
	r := &scenarioRun{vars: map[string]string{"run": "rc1"}}
	body, err := r.requestBody(Request{Body: json.RawMessage(`{"userName":"{{run}}","n":1.50}`), PadTo: &Padding{Bytes: 1000, Attribute: "displayName"}})
	if err != nil || len(body) != 1000 {
		t.Fatalf("padded body: %d bytes, %v; want 1000", len(body), err)
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil || v["userName"] != "rc1" || !strings.HasPrefix(v["displayName"].(string), "xxx") {
		t.Errorf("padded body %.80s…: %v", body, err)
	}
	if !strings.Contains(string(body), `"n":1.50`) {
		t.Errorf("numbers must be sent as written: %.80s", body)
	}
}

// A step on the api base goes to Target.ManagementURL with the API key and JSON media types; its
// needs (the Management API, and the connection id for {{connectionID}}) are implied; auth
// "none" lets a step send a key it minted itself.
func TestAPIBase(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		seen = append(seen, strings.Join([]string{r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"),
			r.Header.Get("Content-Type"), r.Header.Get("Accept"), string(body)}, " | "))
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			w.WriteHeader(201)
			w.Write([]byte(`{"id":"rol_1","key":"minted"}`))
			return
		}
		w.WriteHeader(403)
		w.Write([]byte(`{"statusCode":403,"error":"Forbidden","message":"Insufficient scope","errorCode":"insufficient_scope"}`))
	}))
	t.Cleanup(srv.Close)
	s := Scenario{Name: "roles/fake", Steps: []Step{
		{Name: "create", Base: BaseAPI, Request: Request{Method: "POST", Path: "/roles", Body: json.RawMessage(`{"name":"{{run}}","connection":"{{connectionID}}"}`)},
			Expect: Expect{Status: StatusSet{201}}, Capture: map[string]string{"r": "id", "key": "key"}},
		{Name: "refused", Base: BaseAPI, Auth: AuthNone, Request: Request{Method: "GET", Path: "/roles/{{r}}", Headers: map[string]string{"Authorization": "Bearer {{key}}"}},
			Expect: Expect{Status: StatusSet{403}, Body: []Matcher{{Path: "errorCode", Kind: "equals", Want: json.RawMessage(`"insufficient_scope"`)}}}},
	}}
	if got := s.Steps[0].allNeeds(nil); !slices.Equal(got, []string{NeedsConnectionID, NeedsManagementAPI}) {
		t.Errorf("allNeeds = %v, want connection_id and management_api", got)
	}
	target := Target{BaseURL: srv.URL + "/scim", Token: "scim-token", Client: srv.Client(),
		ManagementURL: srv.URL + "/api/v2", APIKey: "api-key", ConnectionID: "con_1", Cleanup: true}
	r := runScenario(t.Context(), target, s, newCapabilities(target))
	if !r.Passed {
		t.Fatalf("result %+v", r)
	}
	want := []string{
		`POST | /api/v2/roles | Bearer api-key | application/json | application/json | {"connection":"con_1","name":"rc`,
		`GET | /api/v2/roles/rol_1 | Bearer minted |  | application/json | `,
		`DELETE | /api/v2/roles/rol_1 | Bearer api-key | `, // Cleanup, with the API key
	}
	if len(seen) != len(want) {
		t.Fatalf("requests %q, want %d", seen, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(seen[i], want[i]) {
			t.Errorf("request %d = %q, want prefix %q", i, seen[i], want[i])
		}
	}

	// Without the Management API (or the connection id) the scenario is skipped, not failed.
	for _, tt := range []struct {
		mutate func(*Target)
		reason string
	}{
		{func(t *Target) { t.APIKey = "" }, "no Management API"},
		{func(t *Target) { t.ConnectionID = "" }, "no connection id"},
	} {
		bare := target
		tt.mutate(&bare)
		s.Needs = nil
		r := runScenario(t.Context(), bare, s, newCapabilities(bare))
		if !r.Passed || len(r.SkippedSteps) == 0 || !strings.Contains(r.SkippedSteps[0], tt.reason) {
			t.Errorf("%s: result %+v, want the steps skipped", tt.reason, r)
		}
		s.Needs = []string{NeedsManagementAPI, NeedsConnectionID}
		if r := runScenario(t.Context(), bare, s, newCapabilities(bare)); !r.Skipped || !strings.Contains(r.SkipReason, tt.reason) {
			t.Errorf("%s: result %+v, want the scenario skipped", tt.reason, r)
		}
	}
}

// Cleanup deletes the attribute rules and IdP role mappings a scenario created, newest first;
// a POST to another nested collection is not taken for a creation.
func TestCleanupDeletesRulesAndMappings(t *testing.T) {
	var deleted []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			deleted = append(deleted, r.URL.Path)
			w.WriteHeader(204)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		w.Write([]byte(`{"id":"x_1"}`))
	}))
	t.Cleanup(srv.Close)
	post := func(path string) Step {
		return Step{Name: path, Base: BaseAPI, Request: Request{Method: "POST", Path: path, Body: json.RawMessage(`{}`)}, Expect: Expect{Status: StatusSet{201}}}
	}
	s := Scenario{Name: "roles/fake", Steps: []Step{
		post("/role-rules"), post("/connections/{{connectionID}}/role-mappings"), post("/connections/{{connectionID}}/scim-tokens"), post("/role-rules/preview"),
	}}
	target := Target{BaseURL: srv.URL + "/scim", Token: "t", Client: srv.Client(), ManagementURL: srv.URL + "/api/v2", APIKey: "k", ConnectionID: "con_1", Cleanup: true}
	if r := runScenario(t.Context(), target, s, newCapabilities(target)); !r.Passed {
		t.Fatalf("result %+v", r)
	}
	want := []string{"/api/v2/connections/con_1/role-mappings/x_1", "/api/v2/role-rules/x_1"}
	if !slices.Equal(deleted, want) {
		t.Errorf("cleanup deleted %q, want %q", deleted, want)
	}
}

// The loader knows the api base and its needs: the SCIM error shorthand does not apply to it, and
// a variable captured from a step that used {{connectionID}} carries that need.
func TestLoadAPIBase(t *testing.T) {
	fsys := fstest.MapFS{"data/roles/bad.json": {Data: []byte(`{
		"name": "roles/bad",
		"description": "d",
		"source": {"title": "t", "url": "https://example.com", "quote": "q"},
		"steps": [
			{"name": "a", "base": "api", "request": {"method": "POST", "path": "/organizations/{{connectionID}}"}, "expect": {"status": 201}, "capture": {"o": "id"}},
			{"name": "b", "base": "api", "request": {"method": "GET", "path": "/organizations/{{o}}"}, "expect": {"status": 404, "scimError": {}}}
		]}`)}}
	_, err := loadScenarios(fsys, "data")
	if err == nil {
		t.Fatal("loadScenarios accepted a broken scenario")
	}
	for _, want := range []string{
		`step 2 "b": scimError asserts the SCIM error shape; on the api base`,
		`step 2 "b": {{o}} comes from a step that needs "connection_id", which this step does not`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// A step with eventually re-sends its GET until the expectations hold; without it the first
// answer decides; when the time is up it fails with the last answer. The loader takes it only on
// a GET, within the bound.
func TestEventually(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Content-Type", "application/json")
		if calls < 3 { // the outcome arrives on the third request
			w.Write([]byte(`{"logs":[]}`))
			return
		}
		w.Write([]byte(`{"logs":[{"type":"user.effective_roles.changed"}]}`))
	}))
	t.Cleanup(srv.Close)
	target := Target{BaseURL: srv.URL + "/scim", Token: "t", Client: srv.Client(), ManagementURL: srv.URL + "/api/v2", APIKey: "k"}
	scenario := func(e *Eventually) Scenario {
		return Scenario{Name: "roles/fake", Steps: []Step{{
			Name: "the event arrives", Base: BaseAPI, Eventually: e,
			Request: Request{Method: "GET", Path: "/logs"},
			Expect:  Expect{Status: StatusSet{200}, Body: []Matcher{{Path: "logs", Kind: "length", Want: json.RawMessage(`1`)}}},
		}}}
	}
	tests := []struct {
		name       string
		eventually *Eventually
		wantPass   bool
		wantCalls  int
		wantInFail string
	}{
		{"waits for the outcome", &Eventually{WithinMS: 5000}, true, 3, ""},
		{"without eventually the first answer decides", nil, false, 1, "want length 1"},
		{"fails with the last answer when the time is up", &Eventually{WithinMS: 1}, false, 1, "still failing after 1ms (1 attempts)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls = 0
			r := runScenario(t.Context(), target, scenario(tt.eventually), newCapabilities(target))
			if r.Passed != tt.wantPass || calls != tt.wantCalls {
				t.Fatalf("passed %v after %d requests, want %v after %d; failures %q", r.Passed, calls, tt.wantPass, tt.wantCalls, r.Failures)
			}
			if tt.wantInFail != "" {
				all := strings.Join(r.Failures, "\n")
				if !strings.Contains(all, tt.wantInFail) || !strings.HasPrefix(r.Failures[len(r.Failures)-1], "response: 200") {
					t.Errorf("failures %q, want %q and the last answer at the end", r.Failures, tt.wantInFail)
				}
			}
		})
	}

	t.Run("ends with the run's context", func(t *testing.T) {
		calls = -1 << 30 // never matches
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		r := runScenario(ctx, target, scenario(&Eventually{WithinMS: 60_000}), newCapabilities(target))
		if r.Passed || time.Since(start) > 10*time.Second {
			t.Fatalf("passed %v after %s, want a failure once the context ends", r.Passed, time.Since(start))
		}
		if last := r.Failures[len(r.Failures)-1]; !strings.HasPrefix(last, "response: 200") {
			t.Errorf("last failure %q, want the last answer", last)
		}
	})

	fsys := fstest.MapFS{"data/roles/bad.json": {Data: []byte(`{
		"name": "roles/bad",
		"description": "d",
		"source": {"title": "t", "url": "https://example.com", "quote": "q"},
		"steps": [
			{"name": "a", "base": "api", "request": {"method": "POST", "path": "/roles"}, "expect": {"status": 201}, "eventually": {"within_ms": 100}},
			{"name": "b", "base": "api", "request": {"method": "GET", "path": "/logs"}, "expect": {"status": 200}, "eventually": {"within_ms": 0}}
		]}`)}}
	_, err := loadScenarios(fsys, "data")
	if err == nil {
		t.Fatal("loadScenarios accepted a broken eventually")
	}
	for _, want := range []string{
		`step 1 "a": eventually re-sends the request, so it takes only GET, not POST`,
		`step 2 "b": eventually.within_ms 0, want 1 to 60000`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// A scenario that changes tenant settings leaves them as it found them,
// even when it fails half way.
func TestTenantSettingsAreRestoredAfterAFailure(t *testing.T) {
	var mu sync.Mutex
	flags := `{"nested_group_roles":false}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.URL.Path != "/api/v2/tenants/settings":
			w.WriteHeader(404)
			return
		case r.Method == http.MethodPatch:
			var body struct {
				Flags json.RawMessage `json:"flags"`
			}
			raw, _ := io.ReadAll(r.Body)
			if json.Unmarshal(raw, &body) != nil || len(body.Flags) == 0 {
				w.WriteHeader(400)
				return
			}
			flags = string(body.Flags)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"flags":` + flags + `}`))
	}))
	t.Cleanup(srv.Close)
	s := Scenario{Name: "roles/settings", Needs: []string{NeedsTenantSettings, NeedsManagementAPI}, Steps: []Step{
		{Name: "turn nesting on", Base: BaseAPI, Request: Request{Method: "PATCH", Path: "/tenants/settings", Body: json.RawMessage(`{"flags":{"nested_group_roles":true}}`)}, Expect: Expect{Status: StatusSet{200}}},
		{Name: "fails", Base: BaseAPI, Request: Request{Method: "GET", Path: "/roles"}, Expect: Expect{Status: StatusSet{200}}},
	}}
	target := Target{BaseURL: srv.URL + "/scim", Token: "t", Client: srv.Client(), ManagementURL: srv.URL + "/api/v2", APIKey: "k", MayChangeTenantSettings: true}
	if r := runScenario(t.Context(), target, s, newCapabilities(target)); r.Passed || r.Step != "fails" {
		t.Fatalf("result %+v, want a failure at step fails", r)
	}
	mu.Lock()
	defer mu.Unlock()
	if flags != `{"nested_group_roles":false}` {
		t.Errorf("flags after the run: %s, want them restored", flags)
	}
}
