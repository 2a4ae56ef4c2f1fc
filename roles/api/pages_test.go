package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rolecall/rolecall/roles/api"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// getPage GETs a Management API list over real HTTP and decodes it.
func getPage(t *testing.T, srv *httptest.Server, path string) (int, http.Header, map[string]any, int) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+"/api/v2"+path, nil)
	req.Header.Set("Authorization", "Bearer "+mgmtAdminToken)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	checkResponse(t, "GET", "/api/v2"+path, resp.StatusCode, resp.Header, body)
	var raw json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("%s: %d, not JSON: %v", path, resp.StatusCode, err)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, resp.Header, out, len(raw)
}

// TestListPagesStopAtTheByteBudget pages users, groups, group members and
// logs whose items are large under a small page budget: every page holds at
// most the budget or one larger item, some pages are cut short with a next
// cursor, and following next lists every item exactly once, in order.
func TestListPagesStopAtTheByteBudget(t *testing.T) {
	const budget = 4 << 10
	db := storetest.Open(t)
	handler := newAPI(t, db, api.Options{AdminToken: mgmtAdminToken, ListPageBytes: budget})
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	con := storetest.MustConnection(t, db, "acme")
	var users, groups []string
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		for i := range 12 {
			size := 10
			switch i % 4 {
			case 1:
				size = budget / 3
			case 2:
				size = 2 * budget // larger than a page: alone
			}
			doc, _ := json.Marshal(map[string]any{"displayName": strings.Repeat("n", size)})
			u, err := tx.CreateUser(store.User{ConnectionID: con.ID, UserName: "u" + string(rune('a'+i)), Active: true, Doc: doc})
			if err != nil {
				return err
			}
			users = append(users, u.ID)
			g, err := tx.CreateGroup(store.Group{ConnectionID: con.ID, DisplayName: "g" + string(rune('a'+i)) + strings.Repeat("x", min(size, 2000))}, nil)
			if err != nil {
				return err
			}
			groups = append(groups, g.ID)
		}
		return nil
	})
	var members []store.Member
	for _, id := range users {
		members = append(members, store.Member{ID: id})
	}
	var everyone store.Group
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		everyone, err = tx.CreateGroup(store.Group{ConnectionID: con.ID, DisplayName: "everyone"}, members)
		return err
	})
	sortedUsers := slices.Sorted(slices.Values(users))

	for _, tc := range []struct {
		name, path, list, key string
		want                  []string
	}{
		{"users", "/users?connection_id=" + con.ID, "users", "user_id", users},
		{"users by search", "/users?search=u", "users", "user_id", sortedUsers},
		{"groups", "/groups?connection_id=" + con.ID, "groups", "id", append(slices.Clone(groups), everyone.ID)},
		{"members", "/groups/" + everyone.ID + "/members", "members", "user_id", sortedUsers},
		{"logs", "/logs?type=" + url.QueryEscape("user.created"), "logs", "id", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			short := false
			from := ""
			for pages := 0; pages < 100; pages++ {
				path := tc.path
				if !strings.Contains(path, "?") {
					path += "?"
				}
				path += "&take=100"
				if from != "" {
					path += "&from=" + url.QueryEscape(from)
				}
				status, _, out, size := getPage(t, srv, path)
				if status != http.StatusOK {
					t.Fatalf("%s: %d %v", path, status, out)
				}
				items := listField(out, tc.list, tc.key)
				if len(items) > 1 && size > budget+100 {
					t.Errorf("%s: %d items in %d bytes, over the budget of %d", path, len(items), size, budget)
				}
				got = append(got, items...)
				next, _ := out["next"].(string)
				if next == "" {
					break
				}
				short = true
				from = next
			}
			if !short {
				t.Error("no page was cut short by the budget")
			}
			if tc.want == nil {
				if len(got) != len(users) || len(slices.Compact(slices.Sorted(slices.Values(got)))) != len(got) {
					t.Errorf("got %d distinct entries of %d, want %d", len(slices.Compact(slices.Sorted(slices.Values(got)))), len(got), len(users))
				}
				return
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("pages give\n%v\nwant\n%v", got, tc.want)
			}
		})
	}
}

// TestListsShareTheHeavyLimiter: while the Limiter's only slot is taken, the
// list endpoints answer 503 server_busy with Retry-After.
func TestListsShareTheHeavyLimiter(t *testing.T) {
	db := storetest.Open(t)
	l := &oneSlot{slot: make(chan struct{}, 1)}
	handler := newAPI(t, db, api.Options{AdminToken: mgmtAdminToken, Heavy: l})
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	l.slot <- struct{}{}
	for _, path := range []string{"/users", "/groups", "/logs"} {
		status, header, out, _ := getPage(t, srv, path)
		if status != http.StatusServiceUnavailable || out["errorCode"] != "server_busy" || header.Get("Retry-After") != "2" {
			t.Errorf("%s: %d Retry-After %q %v, want 503 server_busy, Retry-After 2", path, status, header.Get("Retry-After"), out)
		}
	}
	<-l.slot
	if status, _, out, _ := getPage(t, srv, "/users"); status != http.StatusOK {
		t.Errorf("with the slot free: %d %v", status, out)
	}
}

// oneSlot is a Limiter of one slot that never waits.
type oneSlot struct{ slot chan struct{} }

func (l *oneSlot) Acquire(context.Context) (func(), bool) {
	select {
	case l.slot <- struct{}{}:
		return func() { <-l.slot }, true
	default:
		return nil, false
	}
}

func (l *oneSlot) RetryAfter() time.Duration { return 2 * time.Second }
