package document_test

import (
	"testing"

	"github.com/rolecall/rolecall/scim/document"
)

func TestLenientFilter(t *testing.T) {
	tests := []struct {
		name, filter string
		want         string // "" when LenientFilter must decline
	}{
		{"Microsoft: a bare word", `userName sw O`, `userName sw "O"`},
		{
			"Microsoft: bare words in a group",
			`name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)`,
			`name.FamilyName eq "Employee" and (emails.Value co "example.com" or emails.Value co "example.org")`,
		},
		{
			"Microsoft: a bare dateTime",
			`meta.Created gt 2015-10-10T14:38:21.8617979-07:00`,
			`meta.Created gt "2015-10-10T14:38:21.8617979-07:00"`,
		},
		{"keywords and numbers stay bare", `active eq True and userName eq bob and x eq 12 and y eq null`, `active eq True and userName eq "bob" and x eq 12 and y eq null`},
		{"quoted values stay as they are", `userName eq "a b" and title eq boss`, `userName eq "a b" and title eq "boss"`},
		{"inside a value filter", `emails[type eq work and value co x] and not (title pr)`, `emails[type eq "work" and value co "x"] and not (title pr)`},
		{"a quote and a backslash in a bare word", `userName eq O"Ma\lley`, `userName eq "O\"Ma\\lley"`},
		{"Entra: a sub-attribute after a value filter", `emails[type eq "work"].value eq "a@x.org"`, `emails[type eq "work" and value eq "a@x.org"]`},
		{"a lifted sub-attribute in a larger filter", `(emails[type eq "work"].value eq "a]b" or userName eq "c") and active eq true`, `(emails[type eq "work" and value eq "a]b"] or userName eq "c") and active eq true`},
		{"a lifted presence test", `emails[type eq "work"].value pr`, `emails[type eq "work" and value pr]`},
		{"a lifted bare word", `emails[type eq work].value eq x`, `emails[type eq "work" and value eq "x"]`},
		{"a compound value filter cannot be extended", `emails[type eq "work" or primary eq true].value eq "a"`, ""},
		{"a filter that already parses is not changed", `userName eq "bjensen"`, ""},
		{"garbage stays garbage", `userName is bob`, ""},
		{"a missing value", `userName eq`, ""},
		{"an unfinished group", `(userName eq bob`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := document.LenientFilter(tt.filter)
			if tt.want == "" {
				if ok || got != tt.filter {
					t.Errorf("LenientFilter(%q) = %q, %v; want it unchanged and false", tt.filter, got, ok)
				}
				return
			}
			if !ok || got != tt.want {
				t.Fatalf("LenientFilter(%q) = %q, %v; want %q, true", tt.filter, got, ok, tt.want)
			}
			mustParseFilter(t, got)
		})
	}
}

func TestLiftedSubAttributeMatchesTheSameElement(t *testing.T) {
	doc := decodeObject(t, bjensen)
	for filter, want := range map[string]bool{
		`emails[type eq "work"].value eq "bjensen@example.com"`: true,
		`emails[type eq "home"].value eq "bjensen@example.com"`: false, // another element has that value
	} {
		fixed, ok := document.LenientFilter(filter)
		if !ok {
			t.Fatalf("LenientFilter(%q) declined", filter)
		}
		if got := document.User.Match(mustParseFilter(t, fixed), doc); got != want {
			t.Errorf("%s (as %s) matches bjensen: %v, want %v", filter, fixed, got, want)
		}
	}
}

func TestLenientFilterMatchesLikeTheQuotedFilter(t *testing.T) {
	doc := decodeObject(t, bjensen)
	fixed, ok := document.LenientFilter(`name.FamilyName eq jensen and (emails.Value co example.com or emails.Value co example.org)`)
	if !ok {
		t.Fatal("LenientFilter declined")
	}
	if !document.User.Match(mustParseFilter(t, fixed), doc) {
		t.Errorf("%s does not match bjensen", fixed)
	}
}
