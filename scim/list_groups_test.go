package scim_test

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"
)

// A list page reads its users' groups together (one walk of the
// memberships for the page); each listed user must still show exactly its
// own groups and version, as a GET of the user does, whichever way the
// page is read.
func TestListedUsersShowTheirOwnGroups(t *testing.T) {
	tg := newTarget(t)
	var users []string
	for i := range 20 {
		users = append(users, tg.mustCreateUser(t, fmt.Sprintf("u%02d@example.com", i), nil))
	}
	var thirds []string
	for i := 0; i < len(users); i += 3 {
		thirds = append(thirds, users[i])
	}
	tg.mustCreateGroup(t, "Thirds", nil, thirds...)
	tg.mustCreateGroup(t, "FirstTen", nil, users[:10]...)
	tg.mustCreateGroup(t, "Five", nil, users[5])
	for _, path := range []string{
		"/Users?count=15",
		"/Users?count=15&startIndex=4",
		"/Users?count=15&cursor",
		`/Users?count=15&filter=userName+sw+%22u%22`,
		"/Users?count=15&sortBy=userName&sortOrder=descending",
		"/Users?count=15&attributes=groups",
	} {
		t.Run(path, func(t *testing.T) {
			l := tg.mustList(t, "GET", path, nil)
			if len(l.Resources) != 15 {
				t.Fatalf("%d resources, want 15", len(l.Resources))
			}
			for _, r := range l.Resources {
				id := str(r["id"])
				one := tg.mustDo(t, http.StatusOK, "GET", "/Users/"+id, nil).object(t)
				if got, want := r["groups"], one["groups"]; !reflect.DeepEqual(got, want) {
					t.Errorf("user %s listed with groups %v, want %v", id, got, want)
				}
				if meta, ok := r["meta"].(map[string]any); ok {
					if got, want := meta["version"], one["meta"].(map[string]any)["version"]; got != want {
						t.Errorf("user %s listed at version %v, want %v", id, got, want)
					}
				}
			}
		})
	}
}
