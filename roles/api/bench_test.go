package api_test

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/rolecall/rolecall/roles/api"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// BenchmarkDashboardPages measures the pages a dashboard asks for, through
// the handler: the last page of a group of 100k members, and pages of 10k
// groups by connection, by name and by search. None may depend on the sizes.
func BenchmarkDashboardPages(b *testing.B) {
	db := storetest.Open(b)
	handler := newAPI(b, db, api.Options{AdminToken: mgmtAdminToken})
	c := storetest.MustConnection(b, db, "acme")
	var members []store.Member
	for start := 0; start < 100_000; start += 20_000 {
		storetest.MustUpdate(b, db, func(tx *store.Tx) error {
			for i := start; i < start+20_000; i++ {
				u, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: fmt.Sprintf("u%06d", i), Active: true, Doc: []byte(`{}`)})
				if err != nil {
					return err
				}
				members = append(members, store.Member{ID: u.ID})
			}
			return nil
		})
	}
	var big store.Group
	storetest.MustUpdate(b, db, func(tx *store.Tx) (err error) {
		big, err = tx.CreateGroup(store.Group{ConnectionID: c.ID, DisplayName: "everyone"}, members)
		return err
	})
	storetest.MustUpdate(b, db, func(tx *store.Tx) error {
		for i := range 10_000 {
			if _, err := tx.CreateGroup(store.Group{ConnectionID: c.ID, DisplayName: fmt.Sprintf("team %05d", i)}, nil); err != nil {
				return err
			}
		}
		return nil
	})
	lastMembers := members[len(members)-51].ID // the page after it is the last 50
	for _, bc := range []struct{ name, path string }{
		{"members-last-page", "/groups/" + big.ID + "/members?from=" + lastMembers},
		{"groups-by-connection", "/groups?connection_id=" + c.ID},
		{"groups-by-name", "/groups?name=" + url.QueryEscape("TEAM 09999")},
		{"groups-search-sparse", "/groups?search=09999"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest("GET", "/api/v2"+bc.path, nil)
				req.Header.Set("Authorization", "Bearer "+mgmtAdminToken)
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%s: %d %s", bc.path, rec.Code, rec.Body)
				}
			}
		})
	}
}
