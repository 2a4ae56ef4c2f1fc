package document_test

import (
	"slices"
	"strings"
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/rolecall/rolecall/scim/document"
)

var sortUsers = `[
	{"id": "u1", "userName": "carol", "emails": [{"value": "z@x"}, {"value": "a@x", "primary": true}], "meta": {"created": "2020-01-01T00:00:00Z"}, "active": true},
	{"id": "u2", "userName": "Bob", "emails": [{"value": "m@x"}], "meta": {"created": "2019-12-31T20:00:00-05:00"}, "name": {"familyName": "b"}},
	{"id": "u3", "userName": "alice", "meta": {"created": "2020-01-01T00:00:00.5Z"}, "active": false, "name": {"familyName": "B"}},
	{"id": "u0", "userName": "ALICE", "meta": {"created": "2019-06-01T00:00:00Z"}, "name": {"familyName": "a"}}
]`

func sortedIDs(t *testing.T, sortBy string, descending bool) string {
	t.Helper()
	var docs []map[string]any
	for _, d := range decode(t, sortUsers).([]any) {
		docs = append(docs, d.(map[string]any))
	}
	compare, err := document.User.Comparator(sortBy, descending)
	if err != nil {
		t.Fatalf("Comparator(%q): %v", sortBy, err)
	}
	slices.SortFunc(docs, compare)
	var ids []string
	for _, d := range docs {
		ids = append(ids, d["id"].(string))
	}
	return strings.Join(ids, " ")
}

func TestComparator(t *testing.T) {
	tests := []struct {
		sortBy     string
		descending bool
		want       string
	}{
		{"userName", false, "u0 u3 u2 u1"}, // case-insensitive; ALICE and alice tie, broken by id
		{"UserName", true, "u1 u2 u0 u3"},  // ties stay in id order
		{"emails", false, "u1 u2 u0 u3"},   // primary value a@x first; no emails last
		{"emails.value", true, "u0 u3 u2 u1"},
		{"name.familyName", false, "u0 u2 u3 u1"}, // missing last ascending
		{"name.familyName", true, "u1 u2 u3 u0"},  // missing first descending
		{"meta.created", false, "u0 u1 u3 u2"},    // instants, not strings: 20:00-05:00 is 01:00Z
		{"active", false, "u3 u1 u0 u2"},
		{"id", false, "u0 u1 u2 u3"},
	}
	for _, tt := range tests {
		name := tt.sortBy
		if tt.descending {
			name += " descending"
		}
		t.Run(name, func(t *testing.T) {
			if got := sortedIDs(t, tt.sortBy, tt.descending); got != tt.want {
				t.Errorf("order = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestComparatorRejects(t *testing.T) {
	for _, sortBy := range []string{"bogus", "name", `emails[type eq "work"]`, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", ""} {
		t.Run(sortBy, func(t *testing.T) {
			_, err := document.User.Comparator(sortBy, false)
			wantScimError(t, err, scimerrors.ScimTypeInvalidValue, "sortBy")
		})
	}
}

// TestSortKeysSurviveJSON: a key encoded into a cursor and decoded again
// compares with the keys of the documents exactly as the key it came from.
func TestSortKeysSurviveJSON(t *testing.T) {
	var docs []map[string]any
	for _, d := range decode(t, sortUsers).([]any) {
		docs = append(docs, d.(map[string]any))
	}
	for _, sortBy := range []string{"userName", "emails", "name.familyName", "meta.created", "active", "id"} {
		for _, descending := range []bool{false, true} {
			s, err := document.User.Sorter(sortBy, descending)
			if err != nil {
				t.Fatalf("Sorter(%q): %v", sortBy, err)
			}
			for _, pivot := range docs {
				key := s.Key(pivot)
				var back document.SortKey
				if err := decodeInto(toJSON(key), &back); err != nil {
					t.Fatalf("decode %s: %v", toJSON(key), err)
				}
				for _, d := range docs {
					if got, want := s.Compare(s.Key(d), back), s.Compare(s.Key(d), key); got != want {
						t.Errorf("sortBy %s descending=%v: %s vs decoded key of %s = %d, want %d", sortBy, descending, d["id"], pivot["id"], got, want)
					}
				}
			}
		}
	}
	// A key of any shape compares without panicking.
	s, _ := document.User.Sorter("meta.created", false)
	for _, v := range []any{map[string]any{"x": 1}, []any{1}, true, "garbage", nil} {
		s.Compare(document.SortKey{Value: v, Present: true, ID: "u"}, s.Key(docs[0]))
	}
}
