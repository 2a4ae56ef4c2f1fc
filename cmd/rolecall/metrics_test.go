package main

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape fetches /metrics without credentials and parses the text format
// strictly: every sample belongs to a family announced by HELP and TYPE lines
// before it, and its value is a number.
func scrape(t *testing.T, s *testServer) (samples map[string]float64, body string) {
	t.Helper()
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, raw)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q, want the Prometheus text format", ct)
	}
	body = string(raw)
	sampleLine := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$`)
	typed := map[string]string{}
	samples = map[string]float64{}
	for line := range strings.Lines(body) {
		line = strings.TrimSuffix(line, "\n")
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, kind, _ := strings.Cut(rest, " ")
			if _, dup := typed[name]; dup {
				t.Errorf("family %s announced twice", name)
			}
			typed[name] = kind
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("malformed line %q", line)
			continue
		}
		family := m[1]
		if typed[family] == "" {
			family = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(family, "_bucket"), "_sum"), "_count")
		}
		if typed[family] == "" {
			t.Errorf("sample %s has no TYPE line before it", m[1])
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Errorf("line %q: value: %v", line, err)
		}
		samples[m[1]+m[2]] = v
	}
	return samples, body
}

func TestMetricsCountRequestsAndStoreWrites(t *testing.T) {
	s := startServer(t)
	id, base := s.connection(t, "metrics")
	token := s.scimToken(t, id)
	before, _ := scrape(t, s)

	user := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "metrics.user"}
	if resp, _ := call(t, "POST", base+"/Users", token, user); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /Users: %d", resp.StatusCode)
	}
	if resp, _ := call(t, "GET", base+"/Users/usr_nonexistent00000", token, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET unknown user: %d", resp.StatusCode)
	}
	if resp, _ := call(t, "GET", s.URL+"/api/v2/roles", "wrong-key", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("API with a wrong key: %d", resp.StatusCode)
	}

	// A request is counted just after its answer is sent, so a scrape may
	// run a moment before the previous request is counted: scrape until the
	// API's 401 (the last request) shows.
	var after map[string]float64
	var body string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		after, body = scrape(t, s)
		settled := after[`rolecall_http_requests_total{surface="api",code="4xx"}`] > before[`rolecall_http_requests_total{surface="api",code="4xx"}`] &&
			after[`rolecall_http_requests_total{surface="other",code="2xx"}`] > before[`rolecall_http_requests_total{surface="other",code="2xx"}`] &&
			after["rolecall_http_requests_in_flight"] == 1
		if settled || time.Now().After(deadline) {
			break
		}
	}
	delta := func(key string) float64 { return after[key] - before[key] }
	for key, want := range map[string]float64{
		`rolecall_http_requests_total{surface="scim",code="2xx"}`: 1,
		`rolecall_http_requests_total{surface="scim",code="4xx"}`: 1,
		`rolecall_http_requests_total{surface="api",code="4xx"}`:  1,
	} {
		if got := delta(key); got != want {
			t.Errorf("%s grew by %v, want %v", key, got, want)
		}
	}
	// Earlier scrapes are counted once answered; the current one is not yet.
	if got := delta(`rolecall_http_requests_total{surface="other",code="2xx"}`); got < 1 {
		t.Errorf("earlier scrapes counted %v times, want at least 1", got)
	}
	if got := delta("rolecall_store_writes_total"); got != 1 {
		t.Errorf("store writes grew by %v for one POST, want 1", got)
	}
	if after["rolecall_store_commits_total"] < 1 || after["rolecall_store_revision"] <= before["rolecall_store_revision"] {
		t.Errorf("store commits %v, revision %v → %v", after["rolecall_store_commits_total"], before["rolecall_store_revision"], after["rolecall_store_revision"])
	}
	if after["rolecall_store_file_bytes"] <= 0 || after["process_resident_memory_bytes"] <= 0 || after["go_goroutines"] <= 0 {
		t.Errorf("file bytes %v, RSS %v, goroutines %v: want positive", after["rolecall_store_file_bytes"], after["process_resident_memory_bytes"], after["go_goroutines"])
	}
	if after["rolecall_http_requests_in_flight"] != 1 {
		t.Errorf("in flight during the scrape: %v, want 1 (the scrape itself)", after["rolecall_http_requests_in_flight"])
	}

	// The histogram is cumulative and its count is every answered request.
	scim := `surface="scim"`
	prev := -1.0
	for _, le := range []string{"0.0001", "0.001", "0.01", "0.1", "1", "5", "+Inf"} {
		v := after[`rolecall_http_request_duration_seconds_bucket{`+scim+`,le="`+le+`"}`]
		if v < prev {
			t.Errorf("bucket le=%s is %v, below the previous %v", le, v, prev)
		}
		prev = v
	}
	count := after[`rolecall_http_request_duration_seconds_count{`+scim+`}`]
	var total float64
	for class := 1; class <= 5; class++ {
		total += after[`rolecall_http_requests_total{`+scim+`,code="`+strconv.Itoa(class)+`xx"}`]
	}
	if count != prev || count != total {
		t.Errorf("scim count %v, +Inf bucket %v, requests %v: want all equal", count, prev, total)
	}
	if sum := after[`rolecall_http_request_duration_seconds_sum{`+scim+`}`]; sum <= 0 || sum > float64(count)*float64(10*time.Second/time.Second) {
		t.Errorf("scim duration sum %v for %v requests", sum, count)
	}

	// Aggregates only: no credential and no identifier of the data.
	for _, secret := range []string{token, testAdminToken, id, "metrics.user"} {
		if strings.Contains(body, secret) {
			t.Errorf("/metrics reveals %q", secret)
		}
	}
}

// A new attribute rule is evaluated against every user in the background:
// the evaluations counter grows by at least one per user, and the pending
// gauge is back to 0 once the rule is installed.
func TestMetricsCountRuleEvaluations(t *testing.T) {
	s := startServer(t)
	con, base := s.connection(t, "okta")
	idp := scimClient{t, base, s.scimToken(t, con)}
	for _, name := range []string{"alice", "bob", "carol"} {
		idp.activeUser(name+"@example.test", "Sales")
	}
	role := s.api(t, "POST", "/roles", map[string]any{"name": "crm-user"}, 201)["id"].(string)
	before, _ := scrape(t, s)
	s.api(t, "POST", "/role-rules", map[string]any{"name": "sales", "filter": `title pr`, "roles": []string{role}}, 201)

	var after map[string]float64
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		after, _ = scrape(t, s)
		if after["rolecall_role_rules_pending"] == 0 || time.Now().After(deadline) {
			break
		}
	}
	if got := after["rolecall_role_rules_pending"]; got != 0 {
		t.Errorf("rolecall_role_rules_pending = %v once the rule is installed, want 0", got)
	}
	if got := after["rolecall_role_rule_evaluations_total"] - before["rolecall_role_rule_evaluations_total"]; got < 3 {
		t.Errorf("rolecall_role_rule_evaluations_total grew by %v for a rule over 3 users, want at least 3", got)
	}
}
