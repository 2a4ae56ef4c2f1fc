package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Target is one SCIM endpoint under test, and optionally the Management API beside it.
type Target struct {
	BaseURL string       // SCIM root without a trailing slash or a query, e.g. http://127.0.0.1:8080/scim/v2/connections/con_x
	Token   string       // bearer token holding every SCIM scope
	Client  *http.Client // optional; nil uses http.DefaultClient

	// Optional; scenarios and steps that need one are skipped when it is empty.
	ReadOnlyToken  string // same connection, only the get:users and get:groups scopes
	ForeignBaseURL string // another connection on the same server …
	ForeignToken   string // … and a valid token of it

	// The Management API (Auth0-shaped, see the package documentation), for the scenarios that
	// bind roles to what SCIM provisioned and ask for effective roles. Optional like the above.
	ManagementURL string // API root without a trailing slash, e.g. http://127.0.0.1:8080/api/v2
	APIKey        string // bearer API key holding every Management API scope
	ConnectionID  string // the id of BaseURL's connection in the Management API, {{connectionID}}
	// MayChangeTenantSettings lets scenarios flip tenant-wide settings (PATCH /tenants/settings)
	// and turn them back. Set it only for a server that serves nothing but the test run: while a
	// scenario has a setting on, every user's answers change.
	MayChangeTenantSettings bool

	// Cleanup deletes, best effort, what a scenario created once it ends: the users and groups
	// it POSTed over SCIM and the roles, organizations, API keys, APIs, attribute rules and IdP
	// role mappings it POSTed to the Management API (rules are tenant-wide: one left behind
	// would grant roles to users of later runs). Set it for a live server whose connection is shared; leave it off for a fresh
	// connection per run.
	Cleanup bool
}

// Result is the outcome of one scenario. Exactly one of Passed, Skipped and a non-empty Failures
// holds.
type Result struct {
	Scenario     string   // Scenario.Name
	Step         string   // the step that failed; "" otherwise
	Passed       bool     // every step that ran met its expectations
	Skipped      bool     // the scenario did not run …
	SkipReason   string   // … because the target lacks one of its needs
	SkippedSteps []string // "step: reason" for single steps left out for the same cause
	Failures     []string // what was expected and what came back, the response excerpt last
	Source       string   // the cited document, for the failure report
}

// String renders the result for a terminal: "PASS name", "SKIP name: reason", or "FAIL name"
// followed by the step, the source and one indented line per failure.
func (r Result) String() string {
	switch {
	case r.Skipped:
		return fmt.Sprintf("SKIP %s: %s", r.Scenario, r.SkipReason)
	case r.Passed:
		return "PASS " + r.Scenario
	}
	return fmt.Sprintf("FAIL %s\n  step %q (source: %s)\n    %s", r.Scenario, r.Step, r.Source, strings.Join(r.Failures, "\n    "))
}

// Run runs one scenario against target, with a fresh view of what the
// target can do, and returns its result. conformancetest.Run calls it once
// per scenario, as a subtest.
func (s Scenario) Run(ctx context.Context, target Target) Result {
	return runScenario(ctx, target, s, newCapabilities(target))
}

// Check runs the embedded scenarios against one shared Target and returns their results in name
// order, for a command line against a live server. With selectors, only scenarios whose name
// equals one, lies under one ("entra" selects "entra/…"), or matches one as a path.Match pattern
// ("rfc/patch-*") run. Like Run, it sends one request at a time.
func Check(ctx context.Context, target Target, only ...string) []Result {
	scenarios, err := embeddedScenarios()
	if err != nil {
		return []Result{{Scenario: "embedded scenarios", Failures: []string{err.Error()}}}
	}
	caps := newCapabilities(target)
	var results []Result
	for _, s := range scenarios {
		if selected(s.Name, only) {
			results = append(results, runScenario(ctx, target, s, caps))
		}
	}
	return results
}

func selected(name string, selectors []string) bool {
	if len(selectors) == 0 {
		return true
	}
	for _, sel := range selectors {
		sel = strings.TrimSuffix(sel, "/")
		if ok, _ := path.Match(sel, name); ok || name == sel || strings.HasPrefix(name, sel+"/") {
			return true
		}
	}
	return false
}

// capabilities holds what the target's ServiceProviderConfig advertises, fetched at most once.
type capabilities struct {
	target  Target
	fetched bool
	err     error
	etag    bool
	sort    bool
}

func newCapabilities(t Target) *capabilities { return &capabilities{target: t} }

func (c *capabilities) discover(ctx context.Context) error {
	if c.fetched {
		return c.err
	}
	c.fetched = true
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.target.BaseURL+"/ServiceProviderConfig", nil)
	if err != nil {
		c.err = err
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.target.Token)
	req.Header.Set("Accept", "application/scim+json")
	resp, err := client(c.target).Do(req)
	if err != nil {
		c.err = err
		return err
	}
	defer resp.Body.Close()
	var spc struct {
		ETag struct{ Supported bool } `json:"etag"`
		Sort struct{ Supported bool } `json:"sort"`
	}
	if resp.StatusCode != http.StatusOK {
		c.err = fmt.Errorf("GET /ServiceProviderConfig: status %d", resp.StatusCode)
	} else if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&spc); err != nil {
		c.err = fmt.Errorf("GET /ServiceProviderConfig: %w", err)
	}
	c.etag, c.sort = spc.ETag.Supported, spc.Sort.Supported
	return c.err
}

// missing returns why the target cannot satisfy needs, or "".
func (c *capabilities) missing(ctx context.Context, needs []string) string {
	for _, n := range needs {
		switch n {
		case NeedsReadOnlyToken:
			if c.target.ReadOnlyToken == "" {
				return "the target has no read-only token"
			}
		case NeedsForeign:
			if c.target.ForeignBaseURL == "" || c.target.ForeignToken == "" {
				return "the target has no foreign connection"
			}
		case NeedsManagementAPI:
			if c.target.ManagementURL == "" || c.target.APIKey == "" {
				return "the target has no Management API URL and API key"
			}
		case NeedsConnectionID:
			if c.target.ConnectionID == "" {
				return "the target has no connection id"
			}
		case NeedsTenantSettings:
			if !c.target.MayChangeTenantSettings {
				return "the target may not change tenant settings"
			}
		case NeedsETag, NeedsSort:
			if err := c.discover(ctx); err != nil {
				return "ServiceProviderConfig unavailable: " + err.Error()
			}
			if n == NeedsETag && !c.etag {
				return "ServiceProviderConfig does not advertise etag.supported"
			}
			if n == NeedsSort && !c.sort {
				return "ServiceProviderConfig does not advertise sort.supported"
			}
		}
	}
	return ""
}

func client(t Target) *http.Client {
	if t.Client != nil {
		return t.Client
	}
	return http.DefaultClient
}

// expectContinueClient returns a copy of c whose transport waits for "100 Continue" before
// sending a body, so a server that refuses an oversized body by its Content-Length and closes the
// connection is heard rather than seen as a broken pipe. A transport that is not an
// *http.Transport is used as it is.
func expectContinueClient(c *http.Client) *http.Client {
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	tr, ok := rt.(*http.Transport)
	if !ok {
		return c
	}
	tr = tr.Clone()
	if tr.ExpectContinueTimeout == 0 {
		tr.ExpectContinueTimeout = 5 * time.Second
	}
	copied := *c
	copied.Transport = tr
	return &copied
}

// scenarioRun is the state of one scenario run: its variables and what it created.
type scenarioRun struct {
	target  Target
	vars    map[string]string
	created []createdResource
}

type createdResource struct{ base, url string }

func runScenario(ctx context.Context, target Target, s Scenario, caps *capabilities) Result {
	res := Result{Scenario: s.Name, Source: s.Source.String()}
	if why := caps.missing(ctx, s.Needs); why != "" {
		res.Skipped, res.SkipReason = true, why
		return res
	}
	run := &scenarioRun{target: target, vars: map[string]string{
		VarRun:          "rc" + randomHex(5),
		VarGUID:         randomGUID(),
		VarGUID2:        randomGUID(),
		VarBaseURL:      target.BaseURL,
		VarConnectionID: target.ConnectionID,
	}}
	if target.Cleanup {
		defer run.cleanup(context.WithoutCancel(ctx))
	}
	if s.changesTenantSettings() {
		// Whatever the outcome, the tenant is left as the scenario found it:
		// a setting left flipped would change every later answer.
		if restore := run.saveTenantSettings(ctx); restore != nil {
			defer restore(context.WithoutCancel(ctx))
		}
	}
	for _, st := range s.Steps {
		if why := caps.missing(ctx, st.allNeeds(nil)); why != "" {
			res.SkippedSteps = append(res.SkippedSteps, st.Name+": "+why)
			continue
		}
		if failures := run.step(ctx, st); len(failures) > 0 {
			res.Step, res.Failures = st.Name, failures
			return res
		}
	}
	res.Passed = true
	return res
}

// step sends one request and checks its response; it returns every failed expectation. A step
// with Eventually is re-sent until it passes or its time is up, and then fails with the last
// answer.
func (r *scenarioRun) step(ctx context.Context, st Step) []string {
	if st.Eventually == nil {
		return r.attempt(ctx, st)
	}
	within := time.Duration(st.Eventually.WithinMS) * time.Millisecond
	deadline := time.Now().Add(within)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d // never outlive the run: the last attempt still gets an answer
	}
	pause := 20 * time.Millisecond
	for attempts := 1; ; attempts++ {
		failures := r.attempt(ctx, st)
		if len(failures) == 0 {
			return nil
		}
		if time.Now().Add(pause).After(deadline) || ctx.Err() != nil {
			// The note goes before the response excerpt, which stays last.
			note := fmt.Sprintf("still failing after %s (%d attempts); the last answer follows", within, attempts)
			return slices.Insert(failures, len(failures)-1, note)
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}

// attempt sends the step's request once and checks its response.
func (r *scenarioRun) attempt(ctx context.Context, st Step) []string {
	method, reqPath := st.Request.Method, r.substitute(st.Request.Path)
	fail := func(format string, args ...any) []string {
		return []string{fmt.Sprintf("%s %s: ", method, reqPath) + fmt.Sprintf(format, args...)}
	}
	base, token := r.target.BaseURL, r.target.Token
	switch st.Base {
	case BaseForeign:
		base, token = r.target.ForeignBaseURL, r.target.ForeignToken
	case BaseAPI:
		base, token = r.target.ManagementURL, r.target.APIKey
	}
	switch st.Auth {
	case AuthNone:
		token = ""
	case AuthReadOnly:
		token = r.target.ReadOnlyToken
	case AuthForeign:
		token = r.target.ForeignToken
	case AuthInvalid:
		token = "rc-invalid-" + randomHex(16)
	}
	u, err := buildURL(base, reqPath)
	if err != nil {
		return fail("%v", err)
	}
	body, err := r.requestBody(st.Request)
	if err != nil {
		return fail("building the body: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, reader)
	if err != nil {
		return fail("%v", err)
	}
	mediaType := "application/scim+json"
	if st.Base == BaseAPI {
		mediaType = "application/json"
	}
	req.Header.Set("Accept", mediaType)
	if body != nil {
		req.Header.Set("Content-Type", mediaType)
	}
	if st.Request.PadTo != nil {
		// Lets a server refuse the body by its Content-Length before it is sent; otherwise a
		// server that closes the connection early can make the client lose the 413.
		req.Header.Set("Expect", "100-continue")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, k := range sortedKeys(st.Request.Headers) {
		req.Header.Set(k, r.substitute(st.Request.Headers[k]))
	}
	c := client(r.target)
	if st.Request.PadTo != nil {
		c = expectContinueClient(c)
		defer c.CloseIdleConnections()
	}
	resp, err := c.Do(req)
	if err != nil {
		return fail("no response: %v", err)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	resp.Body.Close()
	if err != nil {
		return fail("reading the response: %v", err)
	}
	if resp.StatusCode == http.StatusCreated && method == http.MethodPost {
		r.recordCreated(st.Base, base, reqPath, raw)
	}
	return r.checkResponse(method, reqPath, st, resp, raw)
}

func (r *scenarioRun) checkResponse(method, reqPath string, st Step, resp *http.Response, raw []byte) []string {
	var failures []string
	if !slices.Contains(st.Expect.Status, resp.StatusCode) {
		failures = append(failures, fmt.Sprintf("status: want %s, got %d", st.Expect.Status, resp.StatusCode))
	}
	var doc any
	bodyErr := ""
	if len(bytes.TrimSpace(raw)) == 0 {
		bodyErr = "the response has no body"
	} else if err := json.Unmarshal(raw, &doc); err != nil {
		bodyErr = "the response body is not JSON: " + err.Error()
	}
	needBody := len(st.Expect.Body) > 0 || st.Expect.SCIMError != nil || hasBodyCapture(st.Capture)
	if needBody && bodyErr != "" {
		failures = append(failures, bodyErr)
	}
	if bodyErr == "" {
		for _, m := range st.Expect.Body {
			failures = appendIf(failures, r.checkBody(m, doc))
		}
		if st.Expect.SCIMError != nil {
			failures = append(failures, checkSCIMError(*st.Expect.SCIMError, doc, resp.StatusCode)...)
		}
	}
	for _, m := range st.Expect.Headers {
		failures = appendIf(failures, m.checkHeader(resp.Header.Values(m.Header), r.want(m)))
	}
	if len(failures) == 0 {
		failures = r.capture(st.Capture, doc, resp.Header)
	}
	if len(failures) == 0 {
		return nil
	}
	for i, f := range failures {
		failures[i] = fmt.Sprintf("%s %s: %s", method, reqPath, f)
	}
	return append(failures, fmt.Sprintf("response: %d %s", resp.StatusCode, truncate(string(bytes.TrimSpace(raw)), 2000)))
}

func appendIf(list []string, s string) []string {
	if s == "" {
		return list
	}
	return append(list, s)
}

func hasBodyCapture(c map[string]string) bool {
	for _, src := range c {
		if !strings.HasPrefix(src, captureHeader) {
			return true
		}
	}
	return false
}

func (r *scenarioRun) checkBody(m Matcher, doc any) string {
	p, err := parsePath(r.substitute(m.Path))
	if err != nil {
		return err.Error()
	}
	got, found := p.lookup(doc)
	return m.check(got, found, r.want(m))
}

// want decodes a matcher's argument and substitutes variables in its strings.
func (r *scenarioRun) want(m Matcher) any {
	var v any
	if err := json.Unmarshal(m.Want, &v); err != nil {
		return nil
	}
	return r.substituteJSON(v)
}

const scimErrorURN = "urn:ietf:params:scim:api:messages:2.0:Error"

func checkSCIMError(want SCIMErrorShape, doc any, status int) []string {
	var failures []string
	obj, _ := doc.(map[string]any)
	schemas, _ := memberFold(obj, "schemas")
	if has, _ := containsValue(schemas, schemas != nil, scimErrorURN); !has {
		failures = append(failures, fmt.Sprintf("scimError: want schemas to contain %q, got %s", scimErrorURN, compactJSON(schemas, 200)))
	}
	if got, _ := memberFold(obj, "status"); got != strconv.Itoa(status) {
		failures = append(failures, fmt.Sprintf("scimError: want status %q (the HTTP status as a string), got %s", strconv.Itoa(status), compactJSON(got, 100)))
	}
	if detail, _ := memberFold(obj, "detail"); !isNonEmptyString(detail) {
		failures = append(failures, "scimError: want a non-empty detail, got "+compactJSON(detail, 100))
	}
	if len(want.Types) > 0 {
		got, _ := memberFold(obj, "scimType")
		s, _ := got.(string)
		if !slices.Contains(want.Types, s) {
			failures = append(failures, fmt.Sprintf("scimError: want scimType %s, got %s", strings.Join(want.Types, " or "), compactJSON(got, 100)))
		}
	}
	return failures
}

func isNonEmptyString(v any) bool {
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) != ""
}

// capture stores the step's captures; a capture that finds nothing fails the step, since later
// steps depend on it.
func (r *scenarioRun) capture(captures map[string]string, doc any, h http.Header) []string {
	var failures []string
	for _, name := range sortedKeys(captures) {
		src := captures[name]
		if header, ok := strings.CutPrefix(src, captureHeader); ok {
			v := h.Get(strings.TrimSpace(header))
			if v == "" {
				failures = append(failures, fmt.Sprintf("capture %s: no %s header", name, header))
				continue
			}
			r.vars[name] = v
			continue
		}
		p, err := parsePath(r.substitute(src))
		if err != nil {
			failures = append(failures, fmt.Sprintf("capture %s: %v", name, err))
			continue
		}
		v, found := p.lookup(doc)
		if !found {
			failures = append(failures, fmt.Sprintf("capture %s: nothing at body %s", name, src))
			continue
		}
		r.vars[name] = scalarText(v)
	}
	return failures
}

// substitute replaces {{name}} and {{name|upper}} / {{name|lower}} in s. An unknown variable is
// left as written, so the request or the expectation visibly carries it.
func (r *scenarioRun) substitute(s string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return varPattern.ReplaceAllStringFunc(s, func(ref string) string {
		m := varPattern.FindStringSubmatch(ref)
		v, ok := r.vars[m[1]]
		if !ok {
			return ref
		}
		switch m[2] {
		case "upper":
			return strings.ToUpper(v)
		case "lower":
			return strings.ToLower(v)
		}
		return v
	})
}

// substituteJSON substitutes variables inside every string (and object key) of a decoded value.
func (r *scenarioRun) substituteJSON(v any) any {
	switch v := v.(type) {
	case string:
		return r.substitute(v)
	case []any:
		out := make([]any, len(v))
		for i, el := range v {
			out[i] = r.substituteJSON(el)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, el := range v {
			out[r.substitute(k)] = r.substituteJSON(el)
		}
		return out
	}
	return v
}

// requestBody encodes the step's body with variables substituted, padded when asked; nil when
// the step sends no body.
func (r *scenarioRun) requestBody(req Request) ([]byte, error) {
	if req.RawBody != nil {
		return []byte(r.substitute(*req.RawBody)), nil
	}
	if len(req.Body) == 0 {
		return nil, nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(req.Body))
	dec.UseNumber() // keep numbers exactly as written
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	v = r.substituteJSON(v)
	if req.PadTo == nil {
		return json.Marshal(v)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("padTo needs an object body")
	}
	obj[req.PadTo.Attribute] = ""
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	if len(b) > req.PadTo.Bytes {
		return nil, fmt.Errorf("body is already %d bytes, more than padTo %d", len(b), req.PadTo.Bytes)
	}
	obj[req.PadTo.Attribute] = strings.Repeat("x", req.PadTo.Bytes-len(b))
	return json.Marshal(obj)
}

// buildURL joins base and a scenario path, percent-encoding the path segments and the query
// parameters as written (spaces, quotes, brackets). A literal '%', '&' or '+' in a parameter is
// written percent-encoded in the scenario.
func buildURL(base, reqPath string) (string, error) {
	p, q, hasQuery := strings.Cut(reqPath, "?")
	segments := strings.Split(p, "/")
	for i, s := range segments {
		segments[i] = url.PathEscape(lenientUnescape(s))
	}
	u := strings.TrimRight(base, "/") + strings.Join(segments, "/")
	if hasQuery && q != "" {
		params := strings.Split(q, "&")
		for i, param := range params {
			k, v, hasValue := strings.Cut(param, "=")
			params[i] = queryEscape(lenientUnescape(k))
			if hasValue {
				params[i] += "=" + queryEscape(lenientUnescape(v))
			}
		}
		u += "?" + strings.Join(params, "&")
	}
	if _, err := url.Parse(u); err != nil {
		return "", err
	}
	return u, nil
}

func lenientUnescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// queryEscape encodes spaces as %20, which every server decodes, rather than '+'.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// cleanedUp lists, per base, the collections whose POSTs create what Target.Cleanup deletes.
var cleanedUp = map[string][]string{
	BaseSelf:    {"/Users", "/Groups"},
	BaseForeign: {"/Users", "/Groups"},
	BaseAPI:     {"/roles", "/organizations", "/api-keys", "/resource-servers", "/role-rules"},
}

// isRoleMappings reports whether an API path is a connection's role mappings collection,
// /connections/{id}/role-mappings, whose POSTs Target.Cleanup deletes too.
func isRoleMappings(collection string) bool {
	id, ok := strings.CutPrefix(collection, "/connections/")
	id, ok2 := strings.CutSuffix(id, "/role-mappings")
	return ok && ok2 && id != "" && !strings.Contains(id, "/")
}

// recordCreated remembers a resource created by a POST to a collection, for Target.Cleanup.
func (r *scenarioRun) recordCreated(base, baseURL, reqPath string, raw []byte) {
	if !r.target.Cleanup {
		return
	}
	if base == "" {
		base = BaseSelf
	}
	collection, _, _ := strings.Cut(reqPath, "?")
	if !slices.Contains(cleanedUp[base], collection) && !(base == BaseAPI && isRoleMappings(collection)) {
		return
	}
	var created struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &created) != nil || created.ID == "" {
		return
	}
	r.created = append(r.created, createdResource{base: base, url: strings.TrimRight(baseURL, "/") + collection + "/" + url.PathEscape(created.ID)})
}

// cleanup deletes what the scenario created, newest first; errors are ignored (a scenario may
// have deleted it already).
func (r *scenarioRun) cleanup(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, c := range slices.Backward(r.created) {
		token := r.target.Token
		switch c.base {
		case BaseForeign:
			token = r.target.ForeignToken
		case BaseAPI:
			token = r.target.APIKey
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.url, nil)
		if err != nil {
			continue
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err := client(r.target).Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
}

// changesTenantSettings reports whether s, or a step of it, needs to
// change tenant settings.
func (s Scenario) changesTenantSettings() bool {
	if slices.Contains(s.Needs, NeedsTenantSettings) {
		return true
	}
	for _, st := range s.Steps {
		if slices.Contains(st.Needs, NeedsTenantSettings) {
			return true
		}
	}
	return false
}

// saveTenantSettings reads the tenant's flags and returns what puts them
// back, or nil when they cannot be read (the scenario's steps then fail on
// their own).
func (r *scenarioRun) saveTenantSettings(ctx context.Context) func(context.Context) {
	url := r.target.ManagementURL + "/tenants/settings"
	do := func(ctx context.Context, method string, body []byte) ([]byte, error) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+r.target.APIKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client(r.target).Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s %s: %s", method, url, resp.Status)
		}
		return raw, err
	}
	raw, err := do(ctx, http.MethodGet, nil)
	if err != nil {
		return nil
	}
	var saved struct {
		Flags json.RawMessage `json:"flags"`
	}
	if json.Unmarshal(raw, &saved) != nil || len(saved.Flags) == 0 {
		return nil
	}
	body, _ := json.Marshal(saved)
	return func(ctx context.Context) { _, _ = do(ctx, http.MethodPatch, body) }
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func randomGUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
