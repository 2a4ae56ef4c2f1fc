package store_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// TestARolesBindingsListPagedFromTheRoleSide: a role's direct users and its
// organization-scope bindings page by cursor, every binding once, in order,
// and the counts match what the pages list.
func TestARolesBindingsListPagedFromTheRoleSide(t *testing.T) {
	db := storetest.Open(t)
	c := storetest.MustConnection(t, db, "acme")
	var users []string
	for i := range 7 {
		users = append(users, storetest.MustUser(t, db, c.ID, fmt.Sprintf("user%d", i)).ID)
	}
	g1 := storetest.MustGroup(t, db, c.ID, "Eng", users...).ID
	g2 := storetest.MustGroup(t, db, c.ID, "Ops").ID
	o1, o2 := mustOrg(t, db, "globex").ID, mustOrg(t, db, "initech").ID
	role, other := mustRole(t, db, "admin"), mustRole(t, db, "viewer")
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		for _, o := range []string{o1, o2} {
			if _, err := tx.EnableConnection(o, c.ID, true); err != nil {
				return err
			}
		}
		for _, id := range []string{role.ID, other.ID} {
			if _, err := tx.BindUserRoles(users[1], []string{id}); err != nil {
				return err
			}
		}
		for _, u := range users[3:] {
			if _, err := tx.BindUserRoles(u, []string{role.ID}); err != nil {
				return err
			}
		}
		if _, err := tx.BindGroupRoles(g1, []string{role.ID}); err != nil {
			return err
		}
		if _, err := tx.BindOrganizationGroupRoles(o2, g2, []string{role.ID}); err != nil {
			return err
		}
		if _, err := tx.BindOrganizationGroupRoles(o1, g1, []string{role.ID, other.ID}); err != nil {
			return err
		}
		for _, u := range users[:3] {
			if _, err := tx.BindOrganizationMemberRoles(o1, u, []string{role.ID}); err != nil {
				return err
			}
		}
		_, err := tx.BindOrganizationMemberRoles(o2, users[0], []string{other.ID})
		return err
	})
	want := []store.OrganizationRoleBinding{{OrganizationID: o1, GroupID: g1}, {OrganizationID: o2, GroupID: g2}}
	for _, u := range users[:3] {
		want = append(want, store.OrganizationRoleBinding{OrganizationID: o1, UserID: u})
	}
	// By organization, then the group's or user's id: grp_ before usr_.
	slices.SortFunc(want, func(a, b store.OrganizationRoleBinding) int {
		return strings.Compare(a.OrganizationID+a.GroupID+a.UserID, b.OrganizationID+b.GroupID+b.UserID)
	})
	wantUsers := append([]string{users[1]}, users[3:]...)
	slices.Sort(wantUsers)

	_ = db.View(func(r *store.ReadTx) error {
		for _, take := range []int{0, 1, 2, 3, 50} {
			var got []string
			for after, pages := "", 0; ; pages++ {
				ids, next, err := r.RoleUsers(role.ID, after, take)
				if err != nil || pages > 10 || (take > 0 && len(ids) > take) {
					t.Fatalf("RoleUsers take %d: %v, %d pages, page of %d", take, err, pages, len(ids))
				}
				got = append(got, ids...)
				if next == "" {
					break
				}
				after = next
			}
			if !slices.Equal(got, wantUsers) {
				t.Errorf("RoleUsers take %d: %v, want %v", take, got, wantUsers)
			}

			for _, kinds := range []store.BindingKinds{store.AllOrganizationBindings, store.OrganizationGroupBindings, store.OrganizationMemberBindings} {
				var got []store.OrganizationRoleBinding
				for after, pages := "", 0; ; pages++ {
					list, next, err := r.RoleOrganizationBindings(role.ID, kinds, after, take)
					if err != nil || pages > 10 || (take > 0 && len(list) > take) || (next != "" && len(list) < take) {
						t.Fatalf("RoleOrganizationBindings take %d: %v, %d pages, page of %d, next %q", take, err, pages, len(list), next)
					}
					got = append(got, list...)
					if next == "" {
						break
					}
					after = next
				}
				want := slices.DeleteFunc(slices.Clone(want), func(b store.OrganizationRoleBinding) bool {
					return (b.GroupID != "" && kinds&store.OrganizationGroupBindings == 0) || (b.UserID != "" && kinds&store.OrganizationMemberBindings == 0)
				})
				if !slices.Equal(got, want) {
					t.Errorf("RoleOrganizationBindings kinds %d take %d:\n got %v\nwant %v", kinds, take, got, want)
				}
			}
		}
		counts, err := r.RoleBindingCounts(role.ID)
		if want := (store.RoleBindingCounts{Groups: 1, Users: 5, OrganizationGroups: 2, OrganizationMembers: 3}); err != nil || counts != want {
			t.Errorf("RoleBindingCounts = %+v, %v; want %+v", counts, err, want)
		}
		const missing = "rol_0000000000000000"
		_, _, err1 := r.RoleUsers(missing, "", 0)
		_, _, err2 := r.RoleOrganizationBindings(missing, store.AllOrganizationBindings, "", 0)
		_, err3 := r.RoleBindingCounts(missing)
		for i, err := range []error{err1, err2, err3} {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("call %d on an unknown role: %v, want ErrNotFound", i+1, err)
			}
		}
		return nil
	})
}
