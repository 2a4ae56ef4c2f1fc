package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// effectiveChanges reads the change feed from query until want
// user.effective_roles.changed events have arrived (or ten seconds pass),
// and returns them as "user_name scope +[roles] -[roles]" with the cursor
// to read on from.
func effectiveChanges(t *testing.T, s *testServer, query string, want int) ([]string, string) {
	t.Helper()
	var got []string
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < want && time.Now().Before(deadline) {
		events, next := feedPage(t, s.URL, query+"&take=1000&wait=1")
		for _, e := range events {
			if e["type"] != "user.effective_roles.changed" {
				continue
			}
			entry := e["data"].(map[string]any)
			data := entry["after"].(map[string]any)
			if target := entry["target"].(map[string]any); target["id"] != data["user_id"] || target["type"] != "user" {
				t.Errorf("event target %v, want the user %v", target, data["user_id"])
			}
			names := func(key string) string {
				var out []string
				for _, r := range data[key].([]any) {
					out = append(out, r.(map[string]any)["name"].(string))
				}
				return "[" + strings.Join(out, " ") + "]"
			}
			scope := "tenant"
			if data["organization_id"] != nil {
				scope = "org"
			}
			got = append(got, fmt.Sprintf("%s %s +%s -%s", data["user_name"], scope, names("roles_added"), names("roles_removed")))
		}
		query = next
	}
	slices.Sort(got)
	return got, query
}

// Over real HTTP: a binding made with the Management API, a deactivation
// and a membership change sent over SCIM each reach the change feed as
// user.effective_roles.changed events, one per affected user, and the audit
// log lists them under their type.
func TestEffectiveRolesChangedReachesTheChangeFeed(t *testing.T) {
	s := startServer(t)
	conID, base := s.connection(t, "effective")
	scim := scimClient{t: t, base: base, token: s.scimToken(t, conID)}
	alice, bob := scim.user("alice@effective.test"), scim.user("bob@effective.test")
	eng := scim.group("Eng", alice, bob)
	admin := s.api(t, "POST", "/roles", map[string]any{"name": "admin"}, 201)["id"].(string)
	_, cursor := feedPage(t, s.URL, "from=0&take=1000")

	s.api(t, "POST", "/groups/"+eng+"/roles", map[string]any{"roles": []string{admin}}, 204)
	got, cursor := effectiveChanges(t, s, cursor, 2)
	if want := []string{"alice@effective.test tenant +[admin] -[]", "bob@effective.test tenant +[admin] -[]"}; !slices.Equal(got, want) {
		t.Fatalf("after binding: %v, want %v", got, want)
	}

	scim.do("PATCH", "/Users/"+bob, patchOp(map[string]any{"op": "replace", "path": "active", "value": false}), 204)
	scim.do("PATCH", "/Groups/"+eng, patchOp(map[string]any{"op": "remove", "path": `members[value eq "` + alice + `"]`}), 204)
	got, _ = effectiveChanges(t, s, cursor, 2)
	if want := []string{"alice@effective.test tenant +[] -[admin]", "bob@effective.test tenant +[] -[admin]"}; !slices.Equal(got, want) {
		t.Errorf("after deactivating bob and removing alice: %v, want %v", got, want)
	}
	if logs := s.api(t, "GET", "/logs?type=user.effective_roles.changed&target_id="+alice, nil, 200)["logs"].([]any); len(logs) != 2 {
		t.Errorf("GET /logs?type=user.effective_roles.changed for alice: %d entries, want 2", len(logs))
	}
	// The deriver counts its events, and catches up with its own writes.
	metrics := func() string {
		resp, err := http.Get(s.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return string(raw)
	}
	eventually(t, "the deriver's metrics", 5*time.Second, func() bool {
		m := metrics()
		return strings.Contains(m, "rolecall_effective_roles_events_total 4\n") && strings.Contains(m, "rolecall_effective_roles_lag_revisions 0\n")
	})
}

// settleDerived waits until the effective-role deriver has derived the
// writes made so far: the audit log's newest entry stays the same for 100
// ms. Tests that snapshot the audit log call it first, since derived entries
// arrive just after the writes that cause them.
func (s *testServer) settleDerived(t testing.TB) {
	t.Helper()
	newest := func() string {
		logs := s.api(t, "GET", "/logs?take=1&order=desc", nil, 200)["logs"].([]any)
		if len(logs) == 0 {
			return ""
		}
		return logs[0].(map[string]any)["id"].(string)
	}
	last := newest()
	for range 100 {
		time.Sleep(100 * time.Millisecond)
		now := newest()
		if now == last {
			return
		}
		last = now
	}
	t.Fatal("the audit log never settled")
}
