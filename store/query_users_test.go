package store_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

func mustUserDoc(t testing.TB, db *store.DB, conID, userName, externalID, doc string) store.User {
	t.Helper()
	var u store.User
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		u, err = tx.CreateUser(store.User{ConnectionID: conID, UserName: userName, ExternalID: externalID, Active: true, Doc: []byte(doc)})
		return err
	})
	return u
}

func userID(u store.User) string { return u.ID }

func queryUsers(t *testing.T, db *store.DB, q store.UserQuery, take int) []string {
	t.Helper()
	var ids []string
	if err := db.View(func(r *store.ReadTx) error {
		ids = pageAll(t, take, userID, func(after string, take int) ([]store.User, string, error) {
			return r.QueryUsers(q, after, take)
		})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestQueryUsersSearchesUserNamesExternalIDsAndEmails(t *testing.T) {
	db := storetest.Open(t)
	acme := storetest.MustConnection(t, db, "acme")
	globex := storetest.MustConnection(t, db, "globex")
	alice := mustUserDoc(t, db, acme.ID, "alice", "00u-ALICE", `{"emails":[{"value":"Alice.Liddell@Wonderland.example","type":"work"}]}`)
	bob := mustUserDoc(t, db, acme.ID, "bob", "", `{"emails":[{"value":"bob@acme.example"},{"value":"rob@Wonderland.example"}]}`)
	jorg := mustUserDoc(t, db, acme.ID, "JÖRG", "", `{}`)
	alice2 := mustUserDoc(t, db, globex.ID, "Alice", "00u-alice", `{"active":true}`)
	// Spellings a byte-level pre-check could miss: runes that fold to ASCII
	// letters, and JSON escapes in the document.
	longS := mustUserDoc(t, db, globex.ID, "\u017fam", "", `{}`)
	kelvin := mustUserDoc(t, db, globex.ID, "\u212aelvin", "", `{}`)
	escaped := mustUserDoc(t, db, globex.ID, "esc", "", `{"emails":[{"value":"\u0063arol@escaped.example"}]}`)
	var filler []string
	for i := range 5 {
		filler = append(filler, storetest.MustUser(t, db, acme.ID, fmt.Sprintf("filler-%d", i)).ID)
	}

	tests := []struct {
		name string
		q    store.UserQuery
		want []string
	}{
		{"a userName across connections, any case", store.UserQuery{UserName: "ALICE"}, sorted(alice.ID, alice2.ID)},
		{"a userName within a connection", store.UserQuery{ConnectionID: globex.ID, UserName: "alice"}, []string{alice2.ID}},
		{"an externalId is exact", store.UserQuery{ExternalID: "00u-alice"}, []string{alice2.ID}},
		{"search matches a userName substring", store.UserQuery{Search: "LIC"}, sorted(alice.ID, alice2.ID)},
		{"search matches an email", store.UserQuery{Search: "wonderland"}, sorted(alice.ID, bob.ID)},
		{"search matches an externalId", store.UserQuery{Search: "u-ali"}, sorted(alice.ID, alice2.ID)},
		{"search folds beyond ASCII", store.UserQuery{Search: "jörg"}, []string{jorg.ID}},
		{"search finds a long s", store.UserQuery{Search: "SAM"}, []string{longS.ID}},
		{"search finds a Kelvin sign", store.UserQuery{Search: "kelvin"}, []string{kelvin.ID}},
		{"search sees through JSON escapes", store.UserQuery{Search: "carol@"}, []string{escaped.ID}},
		{"search within a connection", store.UserQuery{ConnectionID: acme.ID, Search: "alice"}, []string{alice.ID}},
		{"search with nothing matching", store.UserQuery{Search: "nobody"}, nil},
		{"a connection in creation order", store.UserQuery{ConnectionID: acme.ID}, append([]string{alice.ID, bob.ID, jorg.ID}, filler...)},
		{"a connection and a search, in id order", store.UserQuery{ConnectionID: acme.ID, Search: "filler-"}, sorted(slices.Clone(filler)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, take := range []int{1, 2, 50} {
				if got := queryUsers(t, db, tt.q, take); !slices.Equal(got, tt.want) {
					t.Errorf("take %d: got %v, want %v", take, got, tt.want)
				}
			}
		})
	}
}

// BenchmarkQueryUsers: a page of one connection's users and a userName lookup
// must not depend on the 100k users; a search reads every user until it has
// a page, so a sparse one is the worst case.
func BenchmarkQueryUsers(b *testing.B) {
	db := storetest.Open(b)
	c := storetest.MustConnection(b, db, "acme")
	storetest.SeedUsers(b, db, c.ID, 100_000)
	for _, bc := range []struct {
		name string
		q    store.UserQuery
	}{
		{"connection", store.UserQuery{ConnectionID: c.ID}},
		{"userName", store.UserQuery{UserName: "U0099999@example.com"}},
		{"search-dense", store.UserQuery{ConnectionID: c.ID, Search: "example"}},
		{"search-sparse", store.UserQuery{ConnectionID: c.ID, Search: "0099999"}},
		{"search-sparse-all", store.UserQuery{Search: "0099999"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				_ = db.View(func(r *store.ReadTx) error {
					_, _, err := r.QueryUsers(bc.q, "", 50)
					return err
				})
			}
		})
	}
}
