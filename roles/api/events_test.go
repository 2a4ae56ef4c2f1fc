package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/rolecall/rolecall/roles/api"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// feedFixture is a log with a big revision: a group created with 30
// members in one write (31 entries at one revision) among small writes.
func feedFixture(m *mgmt) {
	m.t.Helper()
	con := m.connection("acme")
	var ids []string
	for i := range 30 {
		ids = append(ids, m.user(con, fmt.Sprintf("user%02d", i)))
	}
	m.group(con, "everyone", ids...)
	m.role("reader")
	m.user(con, "late")
}

// allLogs is every audit entry, oldest first, as GET /logs shows it.
func allLogs(m *mgmt) []any {
	m.t.Helper()
	var all []any
	next := ""
	for {
		out := m.do("GET", "/logs?take=100"+next, nil, 200)
		all = append(all, out["logs"].([]any)...)
		n, ok := out["next"].(string)
		if !ok {
			return all
		}
		next = "&from=" + n
	}
}

// walkFeed follows the feed's cursor from the start, take events a page,
// and returns every event.
func walkFeed(m *mgmt, take int) []map[string]any {
	m.t.Helper()
	var got []map[string]any
	query := ""
	for pages := 0; ; pages++ {
		if pages > 500 {
			m.t.Fatal("the feed does not end")
		}
		out := m.do("GET", "/events?take="+strconv.Itoa(take)+query, nil, 200)
		events := out["events"].([]any)
		if len(events) > take {
			m.t.Fatalf("page of %d events, take %d", len(events), take)
		}
		if len(events) == 0 {
			return got
		}
		for _, e := range events {
			got = append(got, e.(map[string]any))
		}
		query = fmt.Sprintf("&from=%v&after=%v", out["next_revision"], out["next_after"])
	}
}

// TestEventsAreTheAuditLogAsCloudEvents: each event is a CloudEvents 1.0
// envelope around the entry GET /logs shows, in the log's order.
func TestEventsAreTheAuditLogAsCloudEvents(t *testing.T) {
	for _, tc := range []struct {
		name, publicURL, source string
	}{
		{"no public URL", "", "rolecall"},
		{"public URL", "https://iam.example.com/", "https://iam.example.com/api/v2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := storetest.Open(t)
			m := &mgmt{t: t, db: db, api: newAPI(t, db, api.Options{AdminToken: mgmtAdminToken, PublicURL: tc.publicURL})}
			feedFixture(m)
			logs := allLogs(m)
			out := m.do("GET", "/events?take=1000", nil, 200)
			events := out["events"].([]any)
			if len(events) != len(logs) {
				t.Fatalf("got %d events, want %d (the audit log)", len(events), len(logs))
			}
			for i, raw := range events {
				e := raw.(map[string]any)
				entry := logs[i].(map[string]any)
				want := map[string]any{"specversion": "1.0", "id": entry["id"], "type": entry["type"], "source": tc.source,
					"time": entry["date"], "datacontenttype": "application/json", "data": entry}
				if !reflect.DeepEqual(e, want) {
					t.Fatalf("event %d:\n got %v\nwant %v", i, e, want)
				}
			}
			if got, want := out["next_revision"], float64(db.Revision()); got != want {
				t.Errorf("next_revision = %v, want %v (the store's revision)", got, want)
			}
			if got, want := out["next_after"], logs[len(logs)-1].(map[string]any)["id"]; got != want {
				t.Errorf("next_after = %v, want %v (the last event's id)", got, want)
			}
		})
	}
}

// TestEventsPageExactlyThroughABigRevision: whatever the page size or byte
// budget, following next_revision and next_after yields every entry once,
// in order, even where a page ends inside the 31-entry revision.
func TestEventsPageExactlyThroughABigRevision(t *testing.T) {
	for _, tc := range []struct {
		name      string
		pageBytes int
		take      int
	}{
		{"one a page", 0, 1},
		{"seven a page", 0, 7},
		{"thirty a page", 0, 30},
		{"byte budget", 700, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := storetest.Open(t)
			m := &mgmt{t: t, db: db, api: newAPI(t, db, api.Options{AdminToken: mgmtAdminToken, ListPageBytes: tc.pageBytes})}
			feedFixture(m)
			logs := allLogs(m)
			got := walkFeed(m, tc.take)
			if len(got) != len(logs) {
				t.Fatalf("got %d events, want %d", len(got), len(logs))
			}
			for i := range logs {
				if got[i]["id"] != logs[i].(map[string]any)["id"] {
					t.Fatalf("event %d: id %v, want %v", i, got[i]["id"], logs[i].(map[string]any)["id"])
				}
			}
		})
	}
}

// TestEventsFromARevision: from=R sends exactly the entries of later
// revisions, whatever R.
func TestEventsFromARevision(t *testing.T) {
	m := newMgmt(t)
	feedFixture(m)
	logs := allLogs(m)
	for rev := uint64(0); rev <= m.db.Revision(); rev++ {
		var want []any
		for _, l := range logs {
			if uint64(l.(map[string]any)["revision"].(float64)) > rev {
				want = append(want, l.(map[string]any)["id"])
			}
		}
		out := m.do("GET", "/events?take=1000&from="+strconv.FormatUint(rev, 10), nil, 200)
		var got []any
		for _, e := range out["events"].([]any) {
			got = append(got, e.(map[string]any)["id"])
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("from=%d: got %v, want %v", rev, got, want)
		}
	}
}

func TestEventsRejectBadQueries(t *testing.T) {
	m := newMgmt(t)
	for _, q := range []string{
		"take=0", "take=1001", "take=x", "wait=31", "wait=-1", "wait=1.5", "from=-1", "from=x", "after=x",
		"order=desc", "take=1&take=2",
	} {
		m.fails("GET", "/events?"+q, nil, http.StatusBadRequest, "invalid_query_string")
	}
	for _, q := range []string{"take=1000", "wait=0", "from=0&after=0"} {
		m.do("GET", "/events?"+q, nil, 200)
	}
	// A cursor the store has not reached (another store's, or one from
	// before a restore) would skip every event until the store caught up.
	m.fails("GET", "/events?from=99999", nil, http.StatusConflict, "revision_not_reached")
	rev := strconv.FormatUint(m.db.Revision(), 10)
	m.do("GET", "/events?from="+rev, nil, 200)
}

func TestEventsNeedReadLogs(t *testing.T) {
	m := newMgmt(t)
	rec, out := m.send(m.keyWithout(api.ScopeReadLogs), "GET", "/events", nil)
	assertMgmtError(t, "GET /events without read:logs", rec, out, http.StatusForbidden, "insufficient_scope")
}

// TestEventsLongPollWakesOnCommit: a request that finds nothing newer waits,
// without holding a heavy-request slot, and answers with the change once it
// is committed, before its wait runs out.
func TestEventsLongPollWakesOnCommit(t *testing.T) {
	db := storetest.Open(t)
	l := &oneSlot{slot: make(chan struct{}, 1)}
	srv := httptest.NewServer(newAPI(t, db, api.Options{AdminToken: mgmtAdminToken, Heavy: l}))
	t.Cleanup(srv.Close)
	con := storetest.MustConnection(t, db, "acme")
	from := db.Revision()

	type answer struct {
		out map[string]any
		at  time.Time
	}
	done := make(chan answer, 1)
	start := time.Now()
	go func() {
		_, _, out, _ := getPage(t, srv, "/events?wait=10&from="+strconv.FormatUint(from, 10))
		done <- answer{out, time.Now()}
	}()
	// While it waits, the only heavy slot stays free for lists.
	for range 5 {
		time.Sleep(20 * time.Millisecond)
		if status, _, out, _ := getPage(t, srv, "/users"); status != http.StatusOK {
			t.Fatalf("a list during the long poll: %d %v", status, out)
		}
	}
	select {
	case a := <-done:
		t.Fatalf("answered before any commit: %v", a.out)
	default:
	}
	storetest.MustUser(t, db, con.ID, "alice")
	committed := time.Now()
	a := <-done
	if a.at.Before(committed) || a.at.Sub(start) >= 10*time.Second {
		t.Errorf("answered %v after the start, commit at %v: want after the commit and before the wait ran out",
			a.at.Sub(start), committed.Sub(start))
	}
	events, _ := a.out["events"].([]any)
	if len(events) != 1 || events[0].(map[string]any)["type"] != store.EventUserCreated {
		t.Errorf("events = %v, want the user's creation", a.out["events"])
	}
}

// TestEventsWaitEndsEmpty: with nothing committed, the answer comes when the
// wait runs out (bounded by the server's EventWait), empty, with the cursor
// at the store's revision.
func TestEventsWaitEndsEmpty(t *testing.T) {
	db := storetest.Open(t)
	m := &mgmt{t: t, db: db, api: newAPI(t, db, api.Options{AdminToken: mgmtAdminToken, EventWait: 50 * time.Millisecond})}
	feedFixture(m)
	rev := strconv.FormatUint(db.Revision(), 10)
	start := time.Now()
	out := m.do("GET", "/events?wait=30&from="+rev, nil, 200)
	if took := time.Since(start); took < 50*time.Millisecond || took >= 30*time.Second {
		t.Errorf("answered after %v, want after the server's 50ms bound and before the asked 30s", took)
	}
	if len(out["events"].([]any)) != 0 || fmt.Sprint(out["next_revision"]) != rev {
		t.Errorf("got %v, want no events and next_revision %s", out, rev)
	}
}
