package dashboard

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/rolecall/rolecall/roles/api"
)

type orgMembersTab struct {
	Members  []member
	HasAuto  bool              // some members on the page are auto members
	Names    map[string]string // connection names
	NextURL  string
	FirstURL string
}

// organizationMembers is the Members tab: the organization's members, a page
// at a time, each marked explicit or auto (through auto-membership), with its
// roles page and, for explicit members, a trash icon.
func (d *Dashboard) organizationMembers(w http.ResponseWriter, r *http.Request, s *session) error {
	o, err := d.loadOrganization(r, s)
	if err != nil {
		return err
	}
	from := r.URL.Query().Get("from")
	var tab orgMembersTab
	if _, tab.Names, err = d.connectionNames(r, s); err != nil {
		return err
	}
	var list memberList
	if err := d.call(r, s, "GET", "/organizations/"+seg(o.ID)+"/members"+query("take", strconv.Itoa(pageSize), "from", from), nil, &list); err != nil {
		return err
	}
	tab.Members = list.Members
	for _, m := range tab.Members {
		tab.HasAuto = tab.HasAuto || m.Membership == "auto"
	}
	self := d.path("/organizations/" + seg(o.ID) + "/members")
	if list.Next != "" {
		tab.NextURL = self + query("from", list.Next)
	}
	if from != "" {
		tab.FirstURL = self
	}
	d.renderOrganization(w, r, s, o, "members", tab)
	return nil
}

type addMembersPage struct {
	Org      organization
	Search   string
	Users    []user
	Names    map[string]string
	NextURL  string
	FirstURL string
}

// looksLikeUserID reports a search that is a user id (usr_…), which the
// add page looks up directly instead of searching.
func looksLikeUserID(s string) bool {
	return strings.HasPrefix(s, "usr_") && !strings.ContainsAny(s, " /?#")
}

// addMembersPage is "Add Members": search users by userName, email or
// external id, or paste a user id; tick several; Add.
func (d *Dashboard) addMembersPage(w http.ResponseWriter, r *http.Request, s *session) error {
	o, err := d.loadOrganization(r, s)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	p := addMembersPage{Org: o, Search: strings.TrimSpace(q.Get("search"))}
	if p.Search == "" {
		d.render(w, r, s, http.StatusOK, "organization_members_add", pageData{Title: "Add Members · " + o.Name, Section: "organizations", Data: p})
		return nil
	}
	if _, p.Names, err = d.connectionNames(r, s); err != nil {
		return err
	}
	if looksLikeUserID(p.Search) {
		var u user
		err := d.call(r, s, "GET", "/users/"+seg(p.Search), nil, &u)
		var ae *APIError
		switch {
		case err == nil:
			p.Users = []user{u}
		case errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound:
		default:
			return err
		}
	} else {
		from := q.Get("from")
		var list userList
		if err := d.call(r, s, "GET", "/users"+query("search", p.Search, "take", strconv.Itoa(pageSize), "from", from), nil, &list); err != nil {
			return err
		}
		p.Users = list.Users
		self := d.path("/organizations/" + seg(o.ID) + "/members/add")
		if list.Next != "" {
			p.NextURL = self + query("search", p.Search, "from", list.Next)
		}
		if from != "" {
			p.FirstURL = self + query("search", p.Search)
		}
	}
	d.render(w, r, s, http.StatusOK, "organization_members_add", pageData{Title: "Add Members · " + o.Name, Section: "organizations", Data: p})
	return nil
}

// addMembers adds the ticked users (or the one pasted id) as explicit
// members: one API call, all or nothing.
func (d *Dashboard) addMembers(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	ids := append([]string{}, r.PostForm["members"]...)
	if uid := strings.TrimSpace(r.PostFormValue("user_id")); uid != "" {
		ids = append(ids, uid)
	}
	err := d.call(r, s, "POST", "/organizations/"+seg(id)+"/members", map[string]any{"members": ids}, nil)
	if err != nil {
		return d.done(w, r, s, d.path("/organizations/"+seg(id)+"/members/add")+query("search", r.PostFormValue("search")), err, "")
	}
	msg := "1 member added."
	if len(ids) != 1 {
		msg = strconv.Itoa(len(ids)) + " members added."
	}
	return d.done(w, r, s, d.path("/organizations/"+seg(id)+"/members"), nil, msg)
}

// removeMember removes one explicit member (the trash icon), with its roles
// in the organization, after confirmation.
func (d *Dashboard) removeMember(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	uid, name := r.PostFormValue("user_id"), r.PostFormValue("user_name")
	if name == "" {
		name = uid
	}
	back := d.path("/organizations/" + seg(id) + "/members")
	if d.needConfirm(w, r, s, removeMemberQuestion(name), back) {
		return nil
	}
	err := d.call(r, s, "DELETE", "/organizations/"+seg(id)+"/members", map[string]any{"members": []string{uid}}, nil)
	return d.done(w, r, s, back, err, "Member "+name+" removed.")
}

// removeMemberQuestion is the confirmation of a member's removal; the
// templates ask the same (see the "memberQuestion" func).
func removeMemberQuestion(name string) string {
	return "Remove member " + name + " from this organization? Their roles in it are removed too. A user of a connection with auto-membership stays a member through it."
}

type orgMemberPage struct {
	Org       organization
	UserID    string
	Name      string // the user's userName, or its id when the key cannot read users
	User      *user  // nil when the key cannot read users
	ConnName  string
	Roles     []role
	RolesErr  error
	Effective *effectiveRoles
	EffErr    error
	Target    bindingTarget
}

// organizationMember is one member's page in an organization: their roles
// there (Assign Roles, the trash icon) and, when the key may read them, the
// effective roles there with why.
func (d *Dashboard) organizationMember(w http.ResponseWriter, r *http.Request, s *session) error {
	o, err := d.loadOrganization(r, s)
	if err != nil {
		return err
	}
	uid := r.PathValue("user_id")
	p := orgMemberPage{Org: o, UserID: uid, Target: d.targetOf(r)}
	if s.scopes[api.ScopeReadUsers] {
		var u user
		if err := d.call(r, s, "GET", "/users/"+seg(uid), nil, &u); err != nil {
			return err
		}
		p.User = &u
		p.ConnName = u.ConnectionID
		if _, names, err := d.connectionNames(r, s); err != nil {
			return err
		} else if n := names[u.ConnectionID]; n != "" {
			p.ConnName = n
		}
	}
	if s.scopes[api.ScopeReadOrganizationMemberRoles] {
		var list roleList
		if err := d.call(r, s, "GET", p.Target.API, nil, &list); err != nil {
			if isSessionEnd(err) {
				return err
			}
			p.RolesErr = err
		}
		p.Roles = list.Roles
	}
	if s.scopes[api.ScopeReadUserEffectiveRoles] {
		var eff effectiveRoles
		if err := d.call(r, s, "GET", "/organizations/"+seg(o.ID)+"/members/"+seg(uid)+"/effective-roles", nil, &eff); err != nil {
			if isSessionEnd(err) {
				return err
			}
			p.EffErr = err
		} else {
			p.Effective = &eff
		}
	}
	p.Name = uid
	if p.User != nil {
		p.Name = p.User.UserName
	}
	d.render(w, r, s, http.StatusOK, "organization_member", pageData{Title: p.Name + " · " + o.Name, Section: "organizations", Data: p})
	return nil
}
