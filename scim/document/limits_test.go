package document_test

import (
	"fmt"
	"strings"
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/rolecall/rolecall/scim/document"
)

// nested wraps term in n parentheses.
func nested(n int, term string) string {
	return strings.Repeat("(", n) + term + strings.Repeat(")", n)
}

// joined joins n copies of term with op.
func joined(n int, term, op string) string {
	terms := make([]string, n)
	for i := range terms {
		terms[i] = term
	}
	return strings.Join(terms, " "+op+" ")
}

// nestedPath nests a value filter n deep: a bracket and n-1 nots.
func nestedPath(n int) string {
	return "emails[" + strings.Repeat("not (", n-1) + `type eq "work"` + strings.Repeat(")", n-1) + "]"
}

func TestFilterLimits(t *testing.T) {
	long := strings.Repeat("x", document.MaxFilterLength)
	tests := []struct {
		name, filter string
		detail       string // "" when the filter must parse
	}{
		{"nesting at the limit", nested(document.MaxFilterDepth, `userName eq "x"`), ""},
		{"nesting beyond the limit", nested(document.MaxFilterDepth+1, `userName eq "x"`), "the limit is 32 levels of nesting"},
		{"85,000 nested parentheses", nested(85_000, `userName eq "x"`), "the limit is 65536 bytes"},
		{"deep nesting within the length limit", nested(20_000, "a pr"), "the limit is 4096 bytes of filter syntax"},
		{"nesting with not", strings.Repeat("not (", 33) + "a pr" + strings.Repeat(")", 33), "33 deep"},
		{"terms at the limit", joined(document.MaxFilterTerms, `id eq "x"`, "or"), ""},
		{"terms beyond the limit", joined(document.MaxFilterTerms+1, `a pr`, "and"), "the limit is 256 terms"},
		{"upper-case operators count", joined(document.MaxFilterTerms+1, `a pr`, "AND"), "257 terms"},
		{"200,000 terms", joined(200_000, `userName eq "x"`, "and"), "the limit is 65536 bytes"},
		{"length at the limit", `userName eq "` + long[:document.MaxFilterLength-14] + `"`, ""},
		{"length beyond the limit", `userName eq "` + long[:document.MaxFilterLength-13] + `"`, "the limit is 65536 bytes"},
		{"syntax beyond the limit", strings.Repeat("a", document.MaxFilterSyntax) + " pr", "the limit is 4096 bytes of filter syntax"},
		{"brackets and parentheses in values count for nothing", `displayName eq "` + strings.Repeat("([", 100) + ` and or \" ( and"`, ""},
		{"and inside a name is not an operator", joined(100, `brand eq "x" and organd pr`, "or"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := document.ParseFilter(tt.filter)
			if tt.detail == "" {
				if err != nil {
					t.Fatalf("ParseFilter: %v, want no error", err)
				}
				return
			}
			wantScimError(t, err, scimerrors.ScimTypeInvalidFilter, tt.detail)
			if fixed, ok := document.LenientFilter(tt.filter); ok {
				t.Errorf("LenientFilter repaired a filter beyond the limits into %.100q", fixed)
			}
		})
	}
}

func TestPathLimits(t *testing.T) {
	tests := []struct {
		name, path string
		detail     string // "" when the path must parse
	}{
		{"nesting at the limit reaches the grammar", nestedPath(document.MaxFilterDepth), "does not follow the SCIM path grammar"},
		{"a path within the limits", nestedPath(2), ""},
		{"nesting beyond the limit", nestedPath(document.MaxFilterDepth + 1), "the limit is 32 levels of nesting"},
		{"85,000 nested brackets", strings.Repeat("members[", 85_000) + strings.Repeat("]", 85_000), "the limit is 65536 bytes"},
		{"terms beyond the limit", "members[" + joined(document.MaxFilterTerms+1, `value eq "x"`, "or") + "]", "the limit is 256 terms"},
		{"syntax beyond the limit", "members[" + strings.Repeat("v", document.MaxFilterSyntax) + ` eq "x"]`, "the limit is 4096 bytes of filter syntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := document.ParsePath(tt.path)
			if tt.detail == "" {
				if err != nil {
					t.Fatalf("ParsePath: %v, want no error", err)
				}
				return
			}
			wantScimError(t, err, scimerrors.ScimTypeInvalidPath, tt.detail)
		})
	}
}

// TestLenientFilterStopsLiftingAtTheTermLimit: every lift of a
// sub-attribute adds a term and copies the filter, so a filter of thousands
// of them is not lifted one by one.
func TestLenientFilterStopsLiftingAtTheTermLimit(t *testing.T) {
	for _, n := range []int{10, document.MaxFilterTerms + 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := joined(n, `emails[type eq "work"].value pr`, "or")
			fixed, ok := document.LenientFilter(s)
			if want := n*2 <= document.MaxFilterTerms; ok != want {
				t.Fatalf("LenientFilter of %d lifts: ok %v, want %v (%.100q)", n, ok, want, fixed)
			}
		})
	}
}

// TestMatchAtTheLimits evaluates the deepest and the widest trees the
// parser accepts: evaluation recurses through them without trouble and
// gives the right answer.
func TestMatchAtTheLimits(t *testing.T) {
	user := decodeObject(t, bjensen)
	tests := []struct {
		name, filter string
		want         bool
	}{
		{"deepest", nested(document.MaxFilterDepth, `title eq "Tour Guide"`), true},
		{"deepest not", strings.Repeat("not (", document.MaxFilterDepth-1) + `title eq "Tour Guide"` + strings.Repeat(")", document.MaxFilterDepth-1), false},
		{"widest and", joined(document.MaxFilterTerms, `title pr`, "and"), true},
		{"widest or", joined(document.MaxFilterTerms-1, `title eq ""`, "or") + ` or title eq "Tour Guide"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expr := mustParseFilter(t, tt.filter)
			if err := document.User.ValidateFilter(expr); err != nil {
				t.Fatalf("ValidateFilter: %v", err)
			}
			if got := document.User.Match(expr, user); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}
