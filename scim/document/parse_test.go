package document_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/rolecall/rolecall/scim/document"
)

// Real filters and paths from RFC 7644, Okta, Entra ID and Microsoft's SCIM
// reference tests; they seed the fuzz targets too.
var filterSeeds = []string{
	`userName eq "bjensen"`,
	`externalId eq "00u1dhhb1fkIGP7RL1d8"`,
	`displayName eq "Sales"`,
	`id eq "grp_1" and members eq "usr_1"`,
	`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
	`meta.lastModified gt "2011-05-13T04:42:34Z"`,
	`not (userName eq "x")`,
	`title pr and userType eq "Employee"`,
	`name.familyName co "O'Malley"`,
	`userName sw "J"`,
	`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`,
	`title pr`,
	`meta.lastModified ge "2011-05-13T04:42:34Z"`,
	`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
	`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
	`userType eq "Employee" and (emails.type eq "work")`,
	`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Tour Operations"`,
	`active eq true`,
	`meta.version eq "W/\"990-6468886345120203448\""`,
	`displayName eq "Caf\u00E9 \\ \/ \"quoted\""`,
	`userName eq "" and externalId eq "x"`,
	`a eq 1 and b eq -2.5e3 or c eq null and d eq false`,
	`userName EQ "bjensen" AND not(title pr)`,
}

var pathSeeds = []string{
	`members[value eq "2819c223-7f76-453a-919d-413861904646"]`,
	`emails[type eq "work"].value`,
	`name.givenName`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`,
	`addresses[type eq "work"].streetAddress`,
	`members[value eq "2819c223-7f76-453a-919d-413861904646"].displayName`,
	`emails[type eq "work" and value ew "@example.com"]`,
	`members[value eq "a" or value eq "b"]`,
	`members`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`,
	`emails[not (type eq "home")]`,
}

// unescapeAll JSON-decodes the string compare values that filter-parser
// returns with their escapes, independently of the package's own decoder.
func unescapeAll(e filter.Expression) {
	switch e := e.(type) {
	case *filter.AttributeExpression:
		if s, ok := e.CompareValue.(string); ok {
			var u string
			if json.Unmarshal([]byte(`"`+s+`"`), &u) == nil {
				e.CompareValue = u
			}
		}
	case *filter.LogicalExpression:
		unescapeAll(e.Left)
		unescapeAll(e.Right)
	case *filter.NotExpression:
		unescapeAll(e.Expression)
	case *filter.ValuePath:
		unescapeAll(e.ValueFilter)
	}
}

// checkCachedMatchesParser is the differential property: for any input, the
// cached parsers succeed exactly when filter-parser does, with the same tree
// once string values are unescaped. It parses twice so that the second call
// is served from the cache.
func checkCachedMatchesParser(t *testing.T, s string) {
	t.Helper()
	if beyondLimits(t, s) {
		return // filter-parser itself might not survive s
	}
	want, wantErr := filter.ParseFilter([]byte(s))
	if wantErr == nil {
		unescapeAll(want)
	}
	for range 2 {
		got, err := document.ParseFilter(s)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("ParseFilter(%q): error %v, filter-parser error %v", s, err, wantErr)
		}
		if err != nil {
			wantScimError(t, err, scimerrors.ScimTypeInvalidFilter)
		} else if !reflect.DeepEqual(got, want) {
			t.Fatalf("ParseFilter(%q) = %s, filter-parser = %s", s, toJSON(got), toJSON(want))
		}
	}

	wantPath, wantErr := filter.ParsePath([]byte(s))
	if wantErr == nil {
		unescapeAll(wantPath.ValueExpression)
	}
	for range 2 {
		got, err := document.ParsePath(s)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("ParsePath(%q): error %v, filter-parser error %v", s, err, wantErr)
		}
		if err != nil {
			wantScimError(t, err, scimerrors.ScimTypeInvalidPath)
		} else if !reflect.DeepEqual(got, wantPath) {
			t.Fatalf("ParsePath(%q) = %s, filter-parser = %s", s, toJSON(got), toJSON(wantPath))
		}
	}
}

func TestCachedParsersMatchFilterParser(t *testing.T) {
	inputs := append(append([]string{}, filterSeeds...), pathSeeds...)
	inputs = append(inputs,
		"", " ", `"`, `userName eq`, `userName eq "unterminated`, `userName eq "bad \q escape"`,
		`userName eq "lower \u00e9 hex"`, "userName eq \"tab\there\"", `userName eq bjensen`,
		`emails[type eq "work"`, `emails[type eq "work"]]`, `"quoted" eq "x"`, `a eq "x""y"`,
		"a eq \"\xff\xfe\"", "a eq \"\uFFFD\"", `a eq "\\"`, `a eq "\\\""`, `a eq "x" or`, `a[b eq "]"].c`,
	)
	for _, s := range inputs {
		t.Run(s, func(t *testing.T) { checkCachedMatchesParser(t, s) })
	}
}

// beyondLimits reports whether s is beyond the parse limits, checking that
// both parsers then refuse it with a detail naming the limit, within the
// budget.
func beyondLimits(t *testing.T, s string) bool {
	t.Helper()
	var ferr, perr error
	withinBudget(t, s, func() {
		_, ferr = document.ParseFilter(s)
		_, perr = document.ParsePath(s)
	})
	const named = "; the limit is "
	fLimit := ferr != nil && strings.Contains(ferr.(scimerrors.ScimError).Detail, named)
	pLimit := perr != nil && strings.Contains(perr.(scimerrors.ScimError).Detail, named)
	if fLimit != pLimit {
		t.Fatalf("%.200q: ParseFilter %v, ParsePath %v: one names a limit, the other does not", s, ferr, perr)
	}
	return fLimit
}

func FuzzParseCachedMatchesParser(f *testing.F) {
	for _, s := range filterSeeds {
		f.Add(s)
	}
	for _, s := range pathSeeds {
		f.Add(s)
	}
	for _, s := range hostileSeeds() {
		f.Add(s)
	}
	f.Fuzz(checkCachedMatchesParser)
}

func TestParseFilterDecodesEscapes(t *testing.T) {
	tests := []struct {
		name, filter, want string
	}{
		{"escaped quotes", `meta.version eq "W/\"990\""`, `W/"990"`},
		{"unicode escape", `displayName eq "Caf\u00E9"`, "Café"},
		{"escaped backslash before the closing quote", `displayName eq "a\\"`, `a\`},
		{"plain", `displayName eq "Sales"`, "Sales"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustParseFilter(t, tt.filter)
			if got := e.(*filter.AttributeExpression).CompareValue; got != tt.want {
				t.Errorf("compare value = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseFilterPutsLiteralsBackInTextOrder(t *testing.T) {
	e := mustParseFilter(t, `a eq "1" and (b eq "2" or not (c eq "3")) and emails[type eq "4" and value eq "5"] or d eq "6"`)
	var got []string
	var walk func(filter.Expression)
	walk = func(e filter.Expression) {
		switch e := e.(type) {
		case *filter.AttributeExpression:
			got = append(got, e.CompareValue.(string))
		case *filter.LogicalExpression:
			walk(e.Left)
			walk(e.Right)
		case *filter.NotExpression:
			walk(e.Expression)
		case *filter.ValuePath:
			walk(e.ValueFilter)
		}
	}
	walk(e)
	if fmt.Sprint(got) != "[1 2 3 4 5 6]" {
		t.Errorf("literals in tree order = %v, want [1 2 3 4 5 6]", got)
	}
}

func TestParseResultsAreIndependentOfTheCache(t *testing.T) {
	p1, err := document.ParsePath(`emails[type eq "work"].value`)
	if err != nil {
		t.Fatal(err)
	}
	*p1.SubAttribute = "display"
	p1.AttributePath.AttributeName = "ims"
	p1.ValueExpression.(*filter.AttributeExpression).AttributePath.AttributeName = "primary"

	p2, err := document.ParsePath(`emails[type eq "home"].value`)
	if err != nil {
		t.Fatal(err)
	}
	if got := p2.String(); got != `emails[type eq "home"].value` {
		t.Errorf("second parse of the same shape = %s; the first caller's changes leaked into the cache", got)
	}
}

func TestParseErrorsAreScimErrors(t *testing.T) {
	tests := []struct {
		name, input string
		path        bool
		want        scimerrors.ScimType
	}{
		{"empty filter", "", false, scimerrors.ScimTypeInvalidFilter},
		{"missing value", "userName eq", false, scimerrors.ScimTypeInvalidFilter},
		{"unquoted value", "userName eq bjensen", false, scimerrors.ScimTypeInvalidFilter},
		{"unterminated string", `userName eq "bjensen`, false, scimerrors.ScimTypeInvalidFilter},
		{"bad escape", `userName eq "a\qb"`, false, scimerrors.ScimTypeInvalidFilter},
		{"unknown operator", `userName is "bjensen"`, false, scimerrors.ScimTypeInvalidFilter},
		{"unclosed bracket", `emails[type eq "work"`, true, scimerrors.ScimTypeInvalidPath},
		{"empty path", "", true, scimerrors.ScimTypeInvalidPath},
		{"path with spaces", "name givenName", true, scimerrors.ScimTypeInvalidPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.path {
				_, err = document.ParsePath(tt.input)
			} else {
				_, err = document.ParseFilter(tt.input)
			}
			wantScimError(t, err, tt.want, fmt.Sprintf("%q", tt.input))
		})
	}
}

func TestParsePathIsSafeForConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				id := fmt.Sprintf("usr_%d_%d", g, i)
				p, err := document.ParsePath(`members[value eq "` + id + `"]`)
				if err != nil {
					errs <- err
					return
				}
				if got := p.ValueExpression.(*filter.AttributeExpression).CompareValue; got != id {
					errs <- fmt.Errorf("got %v, want %s", got, id)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestParseStaysCorrectWhenTheCacheOverflows(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 5,000 distinct shapes")
	}
	for i := range 5000 {
		s := fmt.Sprintf(`emails[type eq "work"] or a%d pr`, i)
		got, err := document.ParseFilter(s)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf(`a%d pr`, i); fmt.Sprint(got.(*filter.LogicalExpression).Right) != want {
			t.Fatalf("ParseFilter(%q) right side = %v, want %s", s, got.(*filter.LogicalExpression).Right, want)
		}
	}
	checkCachedMatchesParser(t, `members[value eq "after overflow"]`)
}

func BenchmarkParsePathCached(b *testing.B) {
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = fmt.Sprintf(`members[value eq "usr_%032d"]`, i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := document.ParsePath(ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkParsePathDirect(b *testing.B) {
	ids := make([][]byte, 1000)
	for i := range ids {
		ids[i] = fmt.Appendf(nil, `members[value eq "usr_%032d"]`, i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := filter.ParsePath(ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkParseFilterCached(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := document.ParseFilter(`userName eq "bjensen@example.com"`); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseFilterDirect(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := filter.ParseFilter([]byte(`userName eq "bjensen@example.com"`)); err != nil {
			b.Fatal(err)
		}
	}
}
