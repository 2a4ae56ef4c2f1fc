package store_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

func TestChangedAttributes(t *testing.T) {
	const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	for _, tc := range []struct {
		name          string
		before, after string
		want          []string
	}{
		{"nothing", `{"userName":"a","title":"x"}`, `{"userName":"a","title":"x"}`, nil},
		{"one changed", `{"userName":"a","title":"x"}`, `{"userName":"a","title":"y"}`, []string{"title"}},
		{"added and removed", `{"userName":"a","title":"x"}`, `{"userName":"a","nickName":"n"}`, []string{"nickname", "title"}},
		{"extension attribute", `{"` + ent + `":{"department":"Eng","manager":{"value":"m"}}}`, `{"` + ent + `":{"department":"Sales","manager":{"value":"m"}}}`,
			[]string{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:department"}},
		{"not an object", `{"userName":"a"}`, `[]`, []string{"*"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := store.ChangedAttributes(json.RawMessage(tc.before), json.RawMessage(tc.after))
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("ChangedAttributes = %q, want %q", got, tc.want)
			}
		})
	}
}

// A user update's change carries the document and the changed attributes,
// and they survive the JSON round trip PostgreSQL followers read changes
// back through (follow.go).
func TestUserChangeCarriesDocAndChangedAttrs(t *testing.T) {
	db := storetest.Open(t)
	c := storetest.MustConnection(t, db, "okta")
	u := storetest.MustUser(t, db, c.ID, "alice")
	var got []store.Change
	db.AddObserver(observer(func(_ uint64, changes []store.Change) { got = append(got, changes...) }))
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		_, err := tx.UpdateUser(c.ID, u.ID, func(u *store.User) error {
			u.Doc = json.RawMessage(`{"active":true,"title":"VP","userName":"alice"}`)
			return nil
		})
		return err
	})
	if len(got) != 1 {
		t.Fatalf("%d changes, want 1", len(got))
	}
	raw, err := json.Marshal(got[0])
	if err != nil {
		t.Fatal(err)
	}
	var back store.Change
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.ChangedAttrs, []string{"title"}) || string(back.Doc) != `{"active":true,"title":"VP","userName":"alice"}` {
		t.Errorf("round-tripped change: ChangedAttrs %q, Doc %s; want [title] and the new document", back.ChangedAttrs, back.Doc)
	}
}

type observer func(uint64, []store.Change)

func (f observer) Committed(rev uint64, changes []store.Change) { f(rev, changes) }
