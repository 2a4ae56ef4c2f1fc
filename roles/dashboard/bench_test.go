package dashboard_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rolecall/rolecall/roles/dashboard"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// BenchmarkPagesAtScale renders the Enterprise Groups pages over 10k groups
// and a group of 100k members (the sizes): a page costs one API page,
// whatever the totals.
func BenchmarkPagesAtScale(b *testing.B) {
	db := storetest.Open(b, store.Options{NoSync: true})
	con := storetest.MustConnection(b, db, "big").ID
	var users []store.Member
	for start := 0; start < 100_000; start += 20_000 {
		storetest.MustUpdate(b, db, func(tx *store.Tx) error {
			for i := start; i < start+20_000; i++ {
				u, err := tx.CreateUser(store.User{ConnectionID: con, UserName: fmt.Sprintf("user%06d", i), Active: true, Doc: []byte(`{}`)})
				if err != nil {
					return err
				}
				users = append(users, store.Member{ID: u.ID})
			}
			return nil
		})
	}
	var big string
	storetest.MustUpdate(b, db, func(tx *store.Tx) error {
		g, err := tx.CreateGroup(store.Group{ConnectionID: con, DisplayName: "Everyone"}, users)
		big = g.ID
		return err
	})
	for start := 0; start < 10_000; start += 2_000 {
		storetest.MustUpdate(b, db, func(tx *store.Tx) error {
			for i := start; i < start+2_000; i++ {
				if _, err := tx.CreateGroup(store.Group{ConnectionID: con, DisplayName: fmt.Sprintf("team-%05d", i)}, nil); err != nil {
					return err
				}
			}
			return nil
		})
	}
	mgmt := newAPI(b, db)
	mux := http.NewServeMux()
	mux.Handle("/dashboard/", dashboard.New(mgmt, dashboard.Options{}))
	mux.Handle("/api/v2/", mgmt)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	e := &env{t: b, db: db, api: mgmt, clock: &clock{now: time.Now()}, srv: srv}
	br := e.browser()
	br.signIn(adminToken)

	for _, bc := range []struct{ name, path string }{
		{"groups-first-page", "/dashboard/groups"},
		{"groups-search-rare", "/dashboard/groups?search=team-0999"},
		{"group-100k-members", "/dashboard/groups/" + big},
		{"group-100k-members-middle-page", "/dashboard/groups/" + big + "?from=" + users[50_000].ID},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if p := br.get(bc.path); p.status != http.StatusOK {
					b.Fatalf("%s: %d", bc.path, p.status)
				}
			}
		})
	}
}
