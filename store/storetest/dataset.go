package storetest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/rolecall/rolecall/store"
)

// LoginDataset sizes a role-resolution data set (the roles issue's: 100k
// users, 10k groups, 1M memberships, 500 roles, 20k bindings, one subject in
// 50 groups).
type LoginDataset struct {
	Users, Groups, Memberships, Roles, Bindings int
	SubjectGroups                               int // groups the Subject user is in
}

// FullLoginDataset is the size the roles issue benchmarks at.
var FullLoginDataset = LoginDataset{Users: 100_000, Groups: 10_000, Memberships: 1_000_000, Roles: 500, Bindings: 20_000, SubjectGroups: 50}

// Seeded is what Seed created.
type Seeded struct {
	Connection store.Connection
	Token      string     // a SCIM token with every scope
	Subject    store.User // a user in SubjectGroups groups
	UserIDs    []string
	GroupIDs   []string
	RoleIDs    []string
	Org        store.Organization // the connection enabled with auto-membership
}

// Seed fills db with a deterministic data set of the given size, in large
// transactions (open the store with NoSync to make this fast).
func Seed(tb testing.TB, db *store.DB, size LoginDataset) Seeded {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var s Seeded
	s.Connection = MustConnection(tb, db, "dataset")
	MustUpdate(tb, db, func(tx *store.Tx) (err error) {
		_, s.Token, err = tx.CreateSCIMToken(s.Connection.ID, store.SCIMTokenScopes, 0)
		return err
	})
	const perTx = 20_000
	for start := 0; start < size.Users; start += perTx {
		MustUpdate(tb, db, func(tx *store.Tx) error {
			for i := start; i < min(start+perTx, size.Users); i++ {
				name := fmt.Sprintf("user%07d@example.com", i)
				doc, _ := json.Marshal(map[string]any{"userName": name, "active": true})
				u, err := tx.CreateUser(store.User{ConnectionID: s.Connection.ID, UserName: name, ExternalID: fmt.Sprintf("ext%07d", i), Active: true, Doc: doc})
				if err != nil {
					return err
				}
				s.UserIDs = append(s.UserIDs, u.ID)
			}
			return nil
		})
	}
	s.Subject.ID = s.UserIDs[0]
	scopes := make([]string, size.Roles)
	for i := range scopes {
		scopes[i] = fmt.Sprintf("perm:%03d", i)
	}
	MustResourceServer(tb, db, "https://api.example.com", scopes...)
	MustUpdate(tb, db, func(tx *store.Tx) error {
		for i := range size.Roles {
			r, err := tx.CreateRole(store.Role{Name: fmt.Sprintf("role-%03d", i), Description: "seeded role",
				Permissions: []store.Permission{{ResourceServerIdentifier: "https://api.example.com", PermissionName: fmt.Sprintf("perm:%03d", i)}}})
			if err != nil {
				return err
			}
			s.RoleIDs = append(s.RoleIDs, r.ID)
		}
		return nil
	})
	// Members: the subject joins the first SubjectGroups groups; the other
	// memberships are spread evenly at random.
	perGroup := (size.Memberships - size.SubjectGroups) / max(size.Groups, 1)
	for start := 0; start < size.Groups; start += 500 {
		MustUpdate(tb, db, func(tx *store.Tx) error {
			for i := start; i < min(start+500, size.Groups); i++ {
				picked := make([]store.Member, 0, perGroup+1)
				if i < size.SubjectGroups {
					picked = append(picked, store.Member{ID: s.Subject.ID})
				}
				for range perGroup {
					picked = append(picked, store.Member{ID: s.UserIDs[1+rng.IntN(len(s.UserIDs)-1)]})
				}
				g, err := tx.CreateGroup(store.Group{ConnectionID: s.Connection.ID, DisplayName: fmt.Sprintf("group-%05d", i)}, picked)
				if err != nil {
					return err
				}
				s.GroupIDs = append(s.GroupIDs, g.ID)
			}
			return nil
		})
	}
	// Bindings: each group gets Bindings/Groups distinct roles.
	perGroupRoles := size.Bindings / max(size.Groups, 1)
	for start := 0; start < size.Groups; start += 2000 {
		MustUpdate(tb, db, func(tx *store.Tx) error {
			for _, gid := range s.GroupIDs[start:min(start+2000, size.Groups)] {
				var ids []string
				for len(ids) < perGroupRoles {
					if id := s.RoleIDs[rng.IntN(len(s.RoleIDs))]; !slices.Contains(ids, id) {
						ids = append(ids, id)
					}
				}
				if _, err := tx.BindGroupRoles(gid, ids); err != nil {
					return err
				}
			}
			return nil
		})
	}
	MustUpdate(tb, db, func(tx *store.Tx) (err error) {
		if s.Org, err = tx.CreateOrganization(store.Organization{Name: "dataset-org"}); err != nil {
			return err
		}
		if _, err = tx.EnableConnection(s.Org.ID, s.Connection.ID, true); err != nil {
			return err
		}
		for _, gid := range s.GroupIDs[:size.SubjectGroups] {
			if _, err := tx.BindOrganizationGroupRoles(s.Org.ID, gid, s.RoleIDs[:2]); err != nil {
				return err
			}
		}
		s.Subject, err = tx.UserByID(s.Subject.ID)
		return err
	})
	return s
}
