package document_test

import (
	"encoding/json"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/rolecall/rolecall/scim/document"
)

// Seeds for FuzzApply: PATCH operation lists from RFC 7644 §3.5.2, Okta and
// Entra ID.
var patchSeeds = []string{
	`[{"op":"add","path":"members","value":[{"display":"Babs Jensen","$ref":"https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646","value":"2819c223-7f76-453a-919d-413861904646"}]}]`,
	`[{"op":"add","value":{"emails":[{"value":"babs@jensen.org","type":"home"}],"nickname":"Babs"}}]`,
	`[{"op":"remove","path":"members[value eq \"2819c223-7f76-453a-919d-413861904646\"]"}]`,
	`[{"op":"remove","path":"members"}]`,
	`[{"op":"remove","path":"emails[type eq \"work\" and value ew \"example.com\"]"}]`,
	`[{"op":"remove","path":"members[value eq \"2819c223\"]"},{"op":"remove","path":"members[value eq \"902c246b\"]"}]`,
	`[{"op":"remove","path":"members"},{"op":"add","path":"members","value":[{"display":"James Smith","$ref":"https://example.com/v2/Users/08e1d05d","value":"08e1d05d"}]}]`,
	`[{"op":"replace","path":"members","value":[{"display":"Babs Jensen","value":"2819c223"},{"display":"James Smith","value":"08e1d05d"}]}]`,
	`[{"op":"replace","path":"addresses[type eq \"work\"]","value":{"type":"work","streetAddress":"911 Universal City Plaza","locality":"Hollywood","region":"CA","postalCode":"91608","country":"US","formatted":"911 Universal City Plaza\nHollywood, CA 91608 US","primary":true}}]`,
	`[{"op":"replace","path":"addresses[type eq \"work\"].streetAddress","value":"1010 Broadway Ave"}]`,
	`[{"op":"replace","value":{"emails":[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@jensen.org","type":"home"}],"nickname":"Babs"}}]`,
	`[{"op":"replace","value":{"active":false}}]`,
	`[{"op":"replace","value":{"id":"g1","displayName":"New"}}]`,
	`[{"op":"Replace","path":"active","value":"False"}]`,
	`[{"op":"Add","path":"emails[type eq \"work\"].value","value":"x@y"}]`,
	`[{"op":"Replace","value":{"name.givenName":"A","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"D"}}]`,
	`[{"op":"Remove","path":"members","value":[{"value":"u1"}]}]`,
	`[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m1"}]`,
	`[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"m1"}}]`,
	`[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":[{"$ref":"../Users/m1","value":"m1"}]}]`,
	`[{"op":"Add","path":"addresses[type eq \"work\"].streetAddress","value":"1 Main"},{"op":"Add","path":"addresses[type eq \"work\"].locality","value":"Seattle"}]`,
	`[{"op":"Replace","path":"name","value":"{\"givenName\":\"X\",\"familyName\":null}"}]`,
	`[{"op":"Add","path":"members","value":"string id 1"}]`,
	`[{"op":"replace","path":"emails[primary eq true].primary","value":"False"},{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}]`,
}

// Seeds for FuzzNormalize: POST and PUT bodies from RFC 7643, Okta and Entra.
var bodySeeds = []string{
	bjensen,
	fullGroup,
	`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1","active":true,"emails":[{"primary":true,"type":"work","value":"Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],"meta":{"resourceType":"User"},"name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"},"roles":[],"adreses":[{"type":"work","locality":null}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","department":"D","manager":"mgr-id"}}`,
	`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"isaac.brock@example.com","name":{"givenName":"Isaac","familyName":"Brock"},"emails":[{"primary":true,"value":"isaac.brock@example.com","type":"work"}],"displayName":"Isaac Brock","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],"password":"1mz050nq","active":true}`,
	`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Test SCIMv2","members":[{"value":"23a35c27-23d3-4c03-b4c5-6443c09e7173","display":"test.user@okta.local"}]}`,
	`{"userName":"u","active":"True","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager":[{"$ref":"../Users/m1","value":"m1"}],"emails":"[{\"value\":\"a@x\"}]","name":"{\"givenName\":\"A\"}"}`,
}

// The budget of one fuzzed call, for inputs up to the server's body limit
// (8 MiB). The worst accepted filter costs about 20 MiB and 25 ms to parse
// (see MaxFilterSyntax); the bounds leave room for a slow, shared machine
// and the race detector, so that only a real regression crosses them.
const (
	budgetTime  = time.Second
	budgetAlloc = 64 << 20
	bodyLimit   = 8 << 20
)

// withinBudget runs call and fails the test when it took longer than
// budgetTime or allocated more than budgetAlloc. Allocation is counted as
// the growth of runtime.MemStats.TotalAlloc, which is exact for this
// goroutine and counts little else while a fuzz target runs.
func withinBudget(t *testing.T, input string, call func()) {
	t.Helper()
	if len(input) > bodyLimit {
		input = input[:bodyLimit]
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	call()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; took > budgetTime || alloc > budgetAlloc {
		t.Fatalf("%d bytes of input (%.120q) took %v and allocated %d MiB; the budget is %v and %d MiB",
			len(input), input, took, alloc>>20, budgetTime, budgetAlloc>>20)
	}
}

// jsonString encodes s as a JSON string.
func jsonString(s string) string {
	raw, _ := json.Marshal(s)
	return string(raw)
}

// hostileSeeds are inputs reported to crash or stall the server before
// parsing had limits: deep nesting (85,000 parentheses overflowed the
// stack), a 200,000-term filter (15.7 s), and long runs of syntax, each
// byte of which costs filter-parser kilobytes.
func hostileSeeds() []string {
	return []string{
		strings.Repeat("(", 85_000) + `userName eq "x"` + strings.Repeat(")", 85_000),
		strings.Repeat("(", 20_000) + `a pr` + strings.Repeat(")", 20_000),
		strings.Repeat("members[", 30_000) + strings.Repeat("]", 30_000),
		strings.Repeat("not (", 6_000) + `a pr` + strings.Repeat(")", 6_000),
		strings.Repeat(`userName eq "x" and `, 200_000) + `title pr`,
		strings.Repeat(`a pr or `, 500) + `a pr`,
		strings.Repeat("a", 4000) + ` eq "x"`,
		strings.Repeat("a.", 2000) + `b eq "x"`,
		strings.Repeat("u:", 2000) + `b eq "x"`,
		strings.Repeat(`emails[type eq "work"].value eq x or `, 100) + `a pr`,
		`displayName eq "` + strings.Repeat("(", 60_000) + `"`,
	}
}

func FuzzMatch(f *testing.F) {
	for _, s := range filterSeeds {
		f.Add(s)
	}
	for _, s := range hostileSeeds() {
		f.Add(s)
	}
	user := decodeObject(f, bjensen)
	group := decodeObject(f, fullGroup)
	f.Fuzz(func(t *testing.T, s string) {
		withinBudget(t, s, func() { fuzzMatch(t, s, user, group) })
	})
}

// fuzzMatch is one run of FuzzMatch.
func fuzzMatch(t *testing.T, s string, user, group map[string]any) {
	expr, err := document.ParseFilter(s)
	if err != nil {
		if fixed, ok := document.LenientFilter(s); ok {
			if expr, err = document.ParseFilter(fixed); err != nil {
				t.Fatalf("LenientFilter(%q) = %q, which does not parse: %v", s, fixed, err)
			}
		} else {
			return
		}
	}
	for _, c := range []struct {
		rt  *document.ResourceType
		doc map[string]any
	}{{document.User, user}, {document.Group, group}} {
		_ = c.rt.ValidateFilter(expr)
		matched := c.rt.Match(expr, c.doc)
		if c.rt.Match(&filter.NotExpression{Expression: expr}, c.doc) == matched {
			t.Fatalf("%s: Match(not (%s)) = Match(%s) = %v", c.rt.Name(), s, s, matched)
		}
		// The index planner must not exclude a match.
		if attr, value, ok := document.IndexedEquals(expr, "id", "userName", "externalId", "displayName"); ok && matched {
			have, _ := c.doc[attr].(string)
			foldsCase := attr == "userName" || attr == "displayName"
			if have != value && !(foldsCase && strings.EqualFold(have, value)) {
				t.Fatalf("%s: %s matches, but IndexedEquals says %s = %q and the document has %q", c.rt.Name(), s, attr, value, have)
			}
		}
	}
}

func decodePatch(s string) ([]document.Operation, bool) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var ops []document.Operation
	if err := d.Decode(&ops); err == nil {
		return ops, true
	}
	d = json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var op document.Operation
	if err := d.Decode(&op); err == nil {
		return []document.Operation{op}, true
	}
	return nil, false
}

func FuzzApply(f *testing.F) {
	for _, s := range patchSeeds {
		f.Add(s)
	}
	for _, path := range hostileSeeds() {
		op := `{"op":"remove","path":` + jsonString(path) + `}`
		n := min(20, (1<<20)/len(op)) // as many as fit in 1 MiB
		f.Add(`[` + strings.Repeat(op+`,`, n) + op + `]`)
	}
	fixtures := []struct {
		rt  *document.ResourceType
		doc map[string]any
	}{
		{document.User, decodeObject(f, patchUser)},
		{document.User, decodeObject(f, minimalUser)},
		{document.Group, decodeObject(f, `{"displayName":"Sales","externalId":"e"}`)},
	}
	pristine := make([]string, len(fixtures))
	for i, fx := range fixtures {
		pristine[i] = toJSON(fx.doc)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ops, ok := decodePatch(s)
		if !ok {
			return
		}
		for i, fx := range fixtures {
			doc := document.Clone(fx.doc)
			var err error
			withinBudget(t, s, func() { err = fx.rt.Apply(doc, ops, &recordingEditor{}) })
			if got := toJSON(fx.doc); got != pristine[i] {
				t.Fatalf("Apply on a Clone changed the original: %s", got)
			}
			if err != nil {
				continue
			}
			// A successful PATCH leaves a canonical document: normalising
			// it again changes nothing.
			again, err := fx.rt.Normalize(document.Clone(doc))
			if err != nil {
				t.Fatalf("%s document after Apply(%s) does not normalize: %v\n%s", fx.rt.Name(), s, err, toJSON(doc))
			}
			if !reflect.DeepEqual(again, doc) {
				t.Fatalf("%s document after Apply(%s) is not canonical:\n got %s\nnorm %s", fx.rt.Name(), s, toJSON(doc), toJSON(again))
			}
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		var body map[string]any
		if d.Decode(&body) != nil {
			return
		}
		for _, rt := range []*document.ResourceType{document.User, document.Group} {
			_, _, _ = rt.Members(body)
			doc, err := rt.Normalize(body)
			if err != nil {
				continue
			}
			again, err := rt.Normalize(document.Clone(doc))
			if err != nil || !reflect.DeepEqual(again, doc) {
				t.Fatalf("%s: Normalize is not idempotent on %s:\nonce  %s\ntwice %s (%v)", rt.Name(), s, toJSON(doc), toJSON(again), err)
			}
			_ = rt.Project(doc, []string{"name.givenName", "emails"}, nil)
			_ = rt.Project(doc, nil, []string{"emails.value"})
		}
	})
}
