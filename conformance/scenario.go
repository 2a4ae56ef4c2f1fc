package conformance

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Scenario is one recorded behaviour: the requests an identity provider (or RFC 7644) sends, in
// order, and what a conforming server answers. Scenarios are data; see the package documentation
// for the file format.
type Scenario struct {
	Name        string   `json:"name"` // "<dir>/<file name without .json>", e.g. "entra/capitalized-patch-ops"
	Description string   `json:"description"`
	Source      Source   `json:"source"`
	Needs       []string `json:"needs,omitempty"` // see Needs*; the scenario is skipped when one is missing
	Steps       []Step   `json:"steps"`
}

// Source cites the document that shows the behaviour is real.
type Source struct {
	Title   string `json:"title"`
	URL     string `json:"url,omitempty"`
	Section string `json:"section,omitempty"`
	Quote   string `json:"quote"` // the short passage or request that the scenario records
}

func (s Source) String() string {
	var b strings.Builder
	b.WriteString(s.Title)
	if s.Section != "" {
		b.WriteString(" " + s.Section)
	}
	if s.URL != "" {
		b.WriteString(" <" + s.URL + ">")
	}
	return b.String()
}

// Step is one request and what its response must look like.
type Step struct {
	Name    string            `json:"name"`
	Needs   []string          `json:"needs,omitempty"` // the step alone is skipped when one is missing
	Auth    string            `json:"auth,omitempty"`  // Auth*; default AuthToken
	Base    string            `json:"base,omitempty"`  // Base*; default BaseSelf; BaseAPI for the Management API
	Request Request           `json:"request"`
	Expect  Expect            `json:"expect"`
	Capture map[string]string `json:"capture,omitempty"` // variable → body path, or "header <Name>"
	// Eventually re-sends the step (a GET) until its expectations hold or the time is up, for
	// outcomes a server derives after the write that caused them has answered.
	Eventually *Eventually `json:"eventually,omitempty"`
}

// Eventually bounds how long a step waits for an asynchronous outcome. The runner re-sends the
// request, pausing briefly between attempts, until the expectations hold; when WithinMS has
// passed it fails with the last answer.
type Eventually struct {
	WithinMS int `json:"within_ms"`
}

// maxEventually bounds Eventually.WithinMS, so a scenario cannot stall a run for long.
const maxEventually = 60_000

// Request is the HTTP request of a step. Variables {{name}} are substituted in Path, Headers, the
// strings of Body, and RawBody.
type Request struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"` // relative to the base URL, with its query, written unencoded
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
	RawBody *string           `json:"rawBody,omitempty"` // sent byte for byte, e.g. malformed JSON
	PadTo   *Padding          `json:"padTo,omitempty"`   // grow Body to an exact size
}

// Padding grows one string attribute of a JSON body until the encoded body is Bytes long, so a
// size limit can be tested with a body that would otherwise be accepted.
type Padding struct {
	Bytes     int    `json:"bytes"`
	Attribute string `json:"attribute"`
}

// Expect is what the response to a step must satisfy. Every listed expectation is checked.
type Expect struct {
	Status    StatusSet       `json:"status"`
	Headers   []Matcher       `json:"headers,omitempty"`
	Body      []Matcher       `json:"body,omitempty"`
	SCIMError *SCIMErrorShape `json:"scimError,omitempty"`
}

// SCIMErrorShape asserts the RFC 7644 §3.12 error shape: schemas holds the Error URN, status is the
// response's status code as a string, detail is a non-empty string, and scimType is one of
// Types when any are given.
type SCIMErrorShape struct {
	Types []string
}

// UnmarshalJSON reads {} or {"scimType": "invalidFilter"} or {"scimType": ["a", "b"]}.
func (e *SCIMErrorShape) UnmarshalJSON(data []byte) error {
	var raw struct {
		ScimType json.RawMessage `json:"scimType"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("scimError: %w", err)
	}
	e.Types = nil
	if len(raw.ScimType) == 0 {
		return nil
	}
	var one string
	if err := json.Unmarshal(raw.ScimType, &one); err == nil {
		e.Types = []string{one}
		return nil
	}
	if err := json.Unmarshal(raw.ScimType, &e.Types); err != nil {
		return fmt.Errorf("scimError.scimType: want a string or a list of strings")
	}
	return nil
}

// MarshalJSON writes the scenario form back.
func (e SCIMErrorShape) MarshalJSON() ([]byte, error) {
	switch len(e.Types) {
	case 0:
		return []byte("{}"), nil
	case 1:
		return json.Marshal(map[string]string{"scimType": e.Types[0]})
	}
	return json.Marshal(map[string][]string{"scimType": e.Types})
}

// StatusSet is the acceptable status codes of a step, written as 201 or [200, 204].
type StatusSet []int

// UnmarshalJSON reads a number or a list of numbers.
func (s *StatusSet) UnmarshalJSON(data []byte) error {
	var one int
	if err := json.Unmarshal(data, &one); err == nil {
		*s = StatusSet{one}
		return nil
	}
	var many []int
	if err := json.Unmarshal(data, &many); err != nil {
		return fmt.Errorf("status: want a number or a list of numbers, got %s", data)
	}
	*s = many
	return nil
}

func (s StatusSet) String() string {
	parts := make([]string, len(s))
	for i, c := range s {
		parts[i] = fmt.Sprint(c)
	}
	return strings.Join(parts, " or ")
}

// Auth modes of a step: which bearer token it sends.
const (
	AuthToken    = "token"     // the token of the step's base (default)
	AuthNone     = "none"      // no Authorization header (a step may still set one in headers)
	AuthReadOnly = "read_only" // Target.ReadOnlyToken
	AuthForeign  = "foreign"   // Target.ForeignToken, even on the self base
	AuthInvalid  = "invalid"   // a well-formed bearer token that no server issued
)

// Bases of a step: which root its path is relative to.
const (
	BaseSelf    = "self"    // Target.BaseURL (default)
	BaseForeign = "foreign" // Target.ForeignBaseURL
	BaseAPI     = "api"     // Target.ManagementURL, the Management API; auth "token" sends Target.APIKey
)

// Needs: what a scenario or step requires; it is skipped when the target lacks it. Steps using
// the read_only auth, the foreign auth, the foreign or api base, or the variable {{connectionID}}
// need the matching target field without saying so.
const (
	NeedsReadOnlyToken  = "read_only_token" // Target.ReadOnlyToken is set
	NeedsForeign        = "foreign"         // Target.ForeignBaseURL and Target.ForeignToken are set
	NeedsETag           = "etag"            // ServiceProviderConfig advertises etag.supported
	NeedsSort           = "sort"            // ServiceProviderConfig advertises sort.supported
	NeedsManagementAPI  = "management_api"  // Target.ManagementURL and Target.APIKey are set
	NeedsConnectionID   = "connection_id"   // Target.ConnectionID is set
	NeedsTenantSettings = "tenant_settings" // Target.MayChangeTenantSettings is set
)

var knownNeeds = []string{NeedsReadOnlyToken, NeedsForeign, NeedsETag, NeedsSort, NeedsManagementAPI, NeedsConnectionID, NeedsTenantSettings}

// Built-in variables, fresh for every run of a scenario.
const (
	VarRun     = "run"     // a unique lowercase token; put it in every userName, displayName and externalId
	VarGUID    = "guid"    // a random UUID
	VarGUID2   = "guid2"   // another random UUID
	VarBaseURL = "baseURL" // Target.BaseURL
	// VarConnectionID is Target.ConnectionID, the id of the connection under test as the
	// Management API knows it; a step that uses it needs NeedsConnectionID.
	VarConnectionID = "connectionID"
)

var builtinVars = []string{VarRun, VarGUID, VarGUID2, VarBaseURL, VarConnectionID}

//go:embed testdata
var testdata embed.FS

var (
	loadOnce  sync.Once
	loaded    []Scenario
	loadError error
)

// Scenarios returns the embedded scenarios, sorted by name. It panics if the embedded data is
// invalid, which the package's own tests rule out.
func Scenarios() []Scenario {
	s, err := embeddedScenarios()
	if err != nil {
		panic(err)
	}
	return s
}

func embeddedScenarios() ([]Scenario, error) {
	loadOnce.Do(func() { loaded, loadError = loadScenarios(testdata, "testdata") })
	return slices.Clone(loaded), loadError
}

// loadScenarios reads root/<dir>/<name>.json and validates every scenario, reporting every problem
// at once.
func loadScenarios(fsys fs.FS, root string) ([]Scenario, error) {
	var (
		out  []Scenario
		errs []error
	)
	files, err := fs.Glob(fsys, root+"/*/*.json")
	if err != nil {
		return nil, err
	}
	seen := map[string]string{}
	for _, file := range files {
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var s Scenario
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", file, err))
			continue
		}
		want := strings.TrimSuffix(strings.TrimPrefix(file, root+"/"), ".json")
		if s.Name != want {
			errs = append(errs, fmt.Errorf("%s: name %q, want %q (the file's path)", file, s.Name, want))
		}
		if prev, dup := seen[s.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: name %q already used by %s", file, s.Name, prev))
		}
		seen[s.Name] = file
		if err := s.validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", file, err))
		}
		out = append(out, s)
	}
	if len(files) == 0 {
		errs = append(errs, fmt.Errorf("no scenarios under %s", root))
	}
	slices.SortFunc(out, func(a, b Scenario) int { return strings.Compare(a.Name, b.Name) })
	return out, errors.Join(errs...)
}

var (
	varPattern    = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*([a-z]+)\s*)?\}\}`)
	rfcSection    = regexp.MustCompile(`^RFC \d+ §\d+(\.\d+)*`)
	knownMethods  = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	knownAuths    = []string{"", AuthToken, AuthNone, AuthReadOnly, AuthForeign, AuthInvalid}
	knownBases    = []string{"", BaseSelf, BaseForeign, BaseAPI}
	knownFilters  = []string{"", "upper", "lower"}
	captureHeader = "header "
)

// validate reports every problem in a scenario: missing fields, unknown modes, bad paths and
// matchers, and variables used before a step that runs whenever this one runs has captured them.
func (s Scenario) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if s.Description == "" {
		bad("no description")
	}
	if s.Source.Title == "" || s.Source.Quote == "" {
		bad("source needs a title and a quote")
	}
	if !strings.HasPrefix(s.Source.URL, "https://") && !rfcSection.MatchString(s.Source.Section) {
		bad("source needs an https URL or a section like \"RFC 7644 §3.4.2\"")
	}
	for _, n := range s.Needs {
		if !slices.Contains(knownNeeds, n) {
			bad("unknown need %q", n)
		}
	}
	if len(s.Steps) == 0 {
		bad("no steps")
	}
	// defined maps a variable to the needs of the step that captured it: a later step may use it
	// only if it cannot run without that step running too.
	defined := map[string][]string{}
	for _, v := range builtinVars {
		defined[v] = nil
	}
	names := map[string]bool{}
	for i, st := range s.Steps {
		where := fmt.Sprintf("step %d %q", i+1, st.Name)
		if st.Name == "" {
			bad("step %d has no name", i+1)
		}
		if names[st.Name] {
			bad("%s: duplicate step name", where)
		}
		names[st.Name] = true
		st.validateFields(where, bad)
		st.validateVariables(where, s.Needs, defined, bad)
	}
	return errors.Join(errs...)
}

// validateFields reports the problems of one step on its own: unknown modes,
// a bad request, bad expectations.
func (st Step) validateFields(where string, bad func(format string, args ...any)) {
	for _, n := range st.Needs {
		if !slices.Contains(knownNeeds, n) {
			bad("%s: unknown need %q", where, n)
		}
	}
	if !slices.Contains(knownAuths, st.Auth) {
		bad("%s: unknown auth %q", where, st.Auth)
	}
	if !slices.Contains(knownBases, st.Base) {
		bad("%s: unknown base %q", where, st.Base)
	}
	r := st.Request
	if !slices.Contains(knownMethods, r.Method) {
		bad("%s: method %q", where, r.Method)
	}
	if !strings.HasPrefix(r.Path, "/") {
		bad("%s: path %q must start with /", where, r.Path)
	}
	if r.RawBody != nil && len(r.Body) > 0 {
		bad("%s: body and rawBody are exclusive", where)
	}
	if len(r.Body) > 0 && !json.Valid(r.Body) {
		bad("%s: body is not JSON", where)
	}
	if r.PadTo != nil && (len(r.Body) == 0 || r.PadTo.Attribute == "" || r.PadTo.Bytes <= 0) {
		bad("%s: padTo needs a JSON body, an attribute and a size", where)
	}
	if e := st.Eventually; e != nil {
		if r.Method != http.MethodGet {
			bad("%s: eventually re-sends the request, so it takes only GET, not %s", where, r.Method)
		}
		if e.WithinMS <= 0 || e.WithinMS > maxEventually {
			bad("%s: eventually.within_ms %d, want 1 to %d", where, e.WithinMS, maxEventually)
		}
	}
	if st.Expect.SCIMError != nil && st.Base == BaseAPI {
		bad("%s: scimError asserts the SCIM error shape; on the api base assert the Management API's error with body matchers (statusCode, errorCode, message)", where)
	}
	if len(st.Expect.Status) == 0 {
		bad("%s: expect.status is required", where)
	}
	for _, c := range st.Expect.Status {
		if c < 100 || c > 599 {
			bad("%s: status %d", where, c)
		}
	}
	for _, m := range st.Expect.Body {
		if err := validateMatcher(m, false); err != nil {
			bad("%s: %v", where, err)
		}
	}
	for _, m := range st.Expect.Headers {
		if err := validateMatcher(m, true); err != nil {
			bad("%s: %v", where, err)
		}
	}
}

// validateVariables reports the variables st uses that no step before it
// captured, or that come from a step which may not run when st does, and
// records st's own captures in defined, with the needs st runs under.
func (st Step) validateVariables(where string, scenarioNeeds []string, defined map[string][]string, bad func(format string, args ...any)) {
	stepNeeds := st.allNeeds(scenarioNeeds)
	for _, ref := range st.variableRefs() {
		name, filter := ref[0], ref[1]
		if !slices.Contains(knownFilters, filter) {
			bad("%s: unknown variable filter %q", where, filter)
		}
		capNeeds, ok := defined[name]
		if !ok {
			bad("%s: variable {{%s}} is not built in nor captured by an earlier step", where, name)
			continue
		}
		for _, n := range capNeeds {
			if !slices.Contains(stepNeeds, n) {
				bad("%s: {{%s}} comes from a step that needs %q, which this step does not", where, name, n)
			}
		}
	}
	for _, name := range sortedKeys(st.Capture) {
		src := st.Capture[name]
		if slices.Contains(builtinVars, name) {
			bad("%s: capture %q shadows a built-in variable", where, name)
		}
		if !strings.HasPrefix(src, captureHeader) {
			if _, err := parsePath(stripVars(src)); err != nil {
				bad("%s: capture %q: %v", where, name, err)
			}
		}
		defined[name] = stepNeeds
	}
}

func validateMatcher(m Matcher, header bool) error {
	appliesToHeaders, known := MatcherKinds[m.Kind]
	switch {
	case !known:
		return fmt.Errorf("unknown matcher kind %q", m.Kind)
	case header && (m.Header == "" || m.Path != ""):
		return fmt.Errorf("header matcher %s needs \"header\" and no \"path\"", mustJSON(m))
	case !header && m.Header != "":
		return fmt.Errorf("body matcher %s has \"header\"", mustJSON(m))
	case header && !appliesToHeaders:
		return fmt.Errorf("matcher kind %q does not apply to headers", m.Kind)
	}
	if !header {
		if _, err := parsePath(stripVars(m.Path)); err != nil {
			return err
		}
	}
	var want any
	if err := json.Unmarshal(m.Want, &want); err != nil {
		return fmt.Errorf("%s: %w", m.subject(), err)
	}
	switch m.Kind {
	case "exists", "absent", "empty":
		if want != true {
			return fmt.Errorf("%s: %q takes true", m.subject(), m.Kind)
		}
	case "length", "gt", "gte", "lt", "lte":
		if _, ok := want.(float64); !ok {
			return fmt.Errorf("%s: %q takes a number", m.subject(), m.Kind)
		}
	case "equalsFold", "matches":
		if _, ok := want.(string); !ok {
			return fmt.Errorf("%s: %q takes a string", m.subject(), m.Kind)
		}
		if m.Kind == "matches" {
			if _, err := regexp.Compile(want.(string)); err != nil {
				return fmt.Errorf("%s: %w", m.subject(), err)
			}
		}
	case "type":
		if s, _ := want.(string); !knownType(s) {
			return fmt.Errorf("%s: type takes one of %v", m.subject(), typeNames)
		}
	}
	return nil
}

// allNeeds is everything the step needs to run: its scenario's needs, its own, and those implied
// by its auth and base.
func (st Step) allNeeds(scenarioNeeds []string) []string {
	needs := slices.Concat(scenarioNeeds, st.Needs)
	if st.Auth == AuthReadOnly {
		needs = append(needs, NeedsReadOnlyToken)
	}
	if st.Auth == AuthForeign || st.Base == BaseForeign {
		needs = append(needs, NeedsForeign)
	}
	if st.Base == BaseAPI {
		needs = append(needs, NeedsManagementAPI)
	}
	for _, ref := range st.variableRefs() {
		if ref[0] == VarConnectionID {
			needs = append(needs, NeedsConnectionID)
			break
		}
	}
	slices.Sort(needs)
	return slices.Compact(needs)
}

// variableRefs lists the [name, filter] pairs of every {{variable}} the step uses.
func (st Step) variableRefs() [][2]string {
	texts := []string{st.Request.Path, string(st.Request.Body)}
	if st.Request.RawBody != nil {
		texts = append(texts, *st.Request.RawBody)
	}
	for _, k := range sortedKeys(st.Request.Headers) {
		texts = append(texts, k, st.Request.Headers[k])
	}
	for _, m := range slices.Concat(st.Expect.Body, st.Expect.Headers) {
		texts = append(texts, m.Path, string(m.Want))
	}
	for _, k := range sortedKeys(st.Capture) {
		texts = append(texts, st.Capture[k])
	}
	var refs [][2]string
	for _, t := range texts {
		for _, m := range varPattern.FindAllStringSubmatch(t, -1) {
			refs = append(refs, [2]string{m[1], m[2]})
		}
	}
	return refs
}

// stripVars replaces variables by a neutral token so a path with variables can be parsed.
func stripVars(s string) string { return varPattern.ReplaceAllString(s, "v") }

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
