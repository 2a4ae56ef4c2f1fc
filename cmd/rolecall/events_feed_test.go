package main

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rolecall/rolecall/store/postgres/pgtest"
)

// feedPage asks base's change feed once and returns the events, the cursor
// to ask from next, and the answer's revision header.
func feedPage(t testing.TB, base, query string) (events []map[string]any, next string) {
	t.Helper()
	resp, out := call(t, "GET", base+"/api/v2/events?"+query, testAdminToken, nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /events?%s: %d %v", query, resp.StatusCode, out)
		return nil, ""
	}
	for _, e := range out["events"].([]any) {
		events = append(events, e.(map[string]any))
	}
	next = fmt.Sprintf("from=%v", out["next_revision"])
	if after, ok := out["next_after"].(string); ok {
		next += "&after=" + after
	}
	return events, next
}

// TestChangeFeedConsumerSeesEveryChangeOnceInOrder: a consumer looping on
// the feed with wait, while SCIM and API writes go on (among them SCIM
// PATCHes adding several members, many entries at one revision, and pages
// of seven events so that they split), sees exactly the audit log: every
// entry once, in order.
func TestChangeFeedConsumerSeesEveryChangeOnceInOrder(t *testing.T) {
	s := startServer(t)
	conID, scimBase := s.connection(t, "feed")
	token := s.scimToken(t, conID)
	const marker = "feed-end"

	consumed := make(chan []map[string]any, 1)
	go func() {
		var seen []map[string]any
		query := "from=0"
		defer func() { consumed <- seen }()
		for range 1000 {
			events, next := feedPage(t, s.URL, query+"&take=7&wait=5")
			if next == "" {
				return
			}
			seen = append(seen, events...)
			for _, e := range events {
				if after, _ := e["data"].(map[string]any)["after"].(map[string]any); e["type"] == "role.created" && after["name"] == marker {
					return
				}
			}
			query = next
		}
	}()

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // SCIM: users, and groups gaining three members in one PATCH
		defer wg.Done()
		var ids []string
		for i := range 12 {
			resp, out := call(t, "POST", scimBase+"/Users", token, map[string]any{
				"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": fmt.Sprintf("u%d@feed.test", i)})
			if resp.StatusCode != http.StatusCreated {
				t.Errorf("POST /Users: %d %v", resp.StatusCode, out)
				return
			}
			ids = append(ids, out["id"].(string))
			if len(ids)%3 == 0 {
				resp, out = call(t, "POST", scimBase+"/Groups", token, map[string]any{
					"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": fmt.Sprintf("g%d", i)})
				if resp.StatusCode != http.StatusCreated {
					t.Errorf("POST /Groups: %d %v", resp.StatusCode, out)
					return
				}
				var members []map[string]any
				for _, id := range ids[len(ids)-3:] {
					members = append(members, map[string]any{"value": id})
				}
				resp, out = call(t, "PATCH", scimBase+"/Groups/"+out["id"].(string), token, map[string]any{
					"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
					"Operations": []map[string]any{{"op": "add", "path": "members", "value": members}}})
				if resp.StatusCode >= 300 {
					t.Errorf("PATCH /Groups: %d %v", resp.StatusCode, out)
				}
			}
		}
	}()
	go func() { // the Management API: roles
		defer wg.Done()
		for i := range 12 {
			s.api(t, "POST", "/roles", map[string]any{"name": fmt.Sprintf("role%d", i)}, http.StatusCreated)
		}
	}()
	wg.Wait()
	s.api(t, "POST", "/roles", map[string]any{"name": marker}, http.StatusCreated)

	var seen []map[string]any
	select {
	case seen = <-consumed:
	case <-time.After(30 * time.Second):
		t.Fatal("the consumer did not see the marker within 30s")
	}
	var logs []map[string]any
	for from := ""; ; {
		out := s.api(t, "GET", "/logs?take=100"+from, nil, http.StatusOK)
		for _, l := range out["logs"].([]any) {
			logs = append(logs, l.(map[string]any))
		}
		next, ok := out["next"].(string)
		if !ok {
			break
		}
		from = "&from=" + next
	}
	if len(seen) != len(logs) {
		t.Fatalf("the consumer saw %d events, the audit log holds %d", len(seen), len(logs))
	}
	bigRevision := false
	for i, l := range logs {
		if seen[i]["id"] != l["id"] || seen[i]["type"] != l["type"] {
			t.Fatalf("event %d: %v %v, want entry %v %v", i, seen[i]["id"], seen[i]["type"], l["id"], l["type"])
		}
		if i > 0 && l["revision"] == logs[i-1]["revision"] && l["type"] == "group.member.added" {
			bigRevision = true
		}
	}
	if !bigRevision {
		t.Error("no revision wrote several member entries: the test lost its point")
	}
}

// TestChangeFeedLongPollAnswersOnCommit: a long poll that found nothing
// answers with the change a write commits, before its wait runs out.
func TestChangeFeedLongPollAnswersOnCommit(t *testing.T) {
	s := startServer(t)
	longPollAnswersOnCommit(t, s.URL, s.URL)
}

// TestChangeFeedLongPollWakesOnAnotherNode: on PostgreSQL, a long poll on
// node B answers for a commit made through node A.
func TestChangeFeedLongPollWakesOnAnotherNode(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := startServer(t, func(c *config) { c.Store = dsn })
	b := startServer(t, func(c *config) { c.Store = dsn })
	longPollAnswersOnCommit(t, b.URL, a.URL)
}

// longPollAnswersOnCommit long-polls pollBase's feed from its current
// revision, commits a role through writeBase, and checks that the poll
// answers with that role's creation: after the commit, and well before the
// 10 s it asked to wait.
func longPollAnswersOnCommit(t *testing.T, pollBase, writeBase string) {
	t.Helper()
	resp, _ := call(t, "GET", pollBase+"/api/v2/events?take=1", testAdminToken, nil)
	from := resp.Header.Get("Rolecall-Revision")
	if _, err := strconv.ParseUint(from, 10, 64); err != nil {
		t.Fatalf("revision header %q", from)
	}
	type answer struct {
		events []map[string]any
		took   time.Duration
	}
	done := make(chan answer, 1)
	start := time.Now()
	go func() {
		events, _ := feedPage(t, pollBase, "wait=10&from="+from)
		done <- answer{events, time.Since(start)}
	}()
	time.Sleep(100 * time.Millisecond) // let the poll find nothing and wait
	select {
	case a := <-done:
		t.Fatalf("the poll answered before any commit: %v", a.events)
	default:
	}
	resp, out := call(t, "POST", writeBase+"/api/v2/roles", testAdminToken, map[string]any{"name": "woken"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /roles: %d %v", resp.StatusCode, out)
	}
	committed := time.Since(start)
	var a answer
	select {
	case a = <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("the poll did not answer")
	}
	if len(a.events) != 1 || a.events[0]["type"] != "role.created" || a.events[0]["data"].(map[string]any)["target"].(map[string]any)["id"] != out["id"] {
		t.Fatalf("the poll answered %v, want the role's creation", a.events)
	}
	if a.took >= 10*time.Second {
		t.Errorf("the poll answered after %v (commit at %v): want before its wait ran out", a.took, committed)
	}
	t.Logf("commit acknowledged at %v, poll answered at %v", committed, a.took)
}
