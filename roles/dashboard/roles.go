package dashboard

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rolecall/rolecall/roles/api"
)

type rolesPage struct {
	Search   string
	Roles    []role
	NextURL  string
	FirstURL string
}

func (d *Dashboard) roles(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	p := rolesPage{Search: strings.TrimSpace(q.Get("search"))}
	from := q.Get("from")
	var list roleList
	if err := d.call(r, s, "GET", "/roles"+query("name_filter", p.Search, "take", strconv.Itoa(pageSize), "from", from), nil, &list); err != nil {
		return err
	}
	p.Roles = list.Roles
	if list.Next != "" {
		p.NextURL = d.path("/roles") + query("search", p.Search, "from", list.Next)
	}
	if from != "" {
		p.FirstURL = d.path("/roles") + query("search", p.Search)
	}
	d.render(w, r, s, http.StatusOK, "roles", pageData{Title: "Roles", Section: "roles", Data: p})
	return nil
}

func (d *Dashboard) createRole(w http.ResponseWriter, r *http.Request, s *session) error {
	var created role
	err := d.call(r, s, "POST", "/roles", map[string]any{
		"name": strings.TrimSpace(r.PostFormValue("name")), "description": r.PostFormValue("description"),
	}, &created)
	if err != nil {
		return d.done(w, r, s, d.path("/roles"), err, "")
	}
	return d.done(w, r, s, d.path("/roles/"+seg(created.ID)), nil, "Role "+created.Name+" created.")
}

// pager is one list's Next and First links (the "pager" template).
type pager struct {
	NextURL  string
	FirstURL string
}

// pagerOf links a list's pages at self, param carrying the API's cursor.
func pagerOf(self, param, from, next, fragment string) pager {
	var p pager
	sep := "?"
	if strings.Contains(self, "?") {
		sep = "&"
	}
	if next != "" {
		p.NextURL = self + sep + param + "=" + url.QueryEscape(next) + fragment
	}
	if from != "" {
		p.FirstURL = self + fragment
	}
	return p
}

// roleTabs are the tabs of a role's page, as Auth0's role page has them,
// with Rolecall's bindings beside its Users: each is its own URL, so every
// tab works without the script and can be linked to.
var roleTabs = []struct{ Key, Name, Path, Scope string }{
	{"settings", "Settings", "", api.ScopeReadRoles},
	{"permissions", "Permissions", "/permissions", api.ScopeReadRoles},
	{"groups", "Enterprise Groups", "/groups", api.ScopeReadRoles},
	{"users", "Users", "/users", api.ScopeReadRoles},
	{"organizations", "Organizations", "/organizations", api.ScopeReadRoles},
}

type rolePage struct {
	Role role
	Tab  string
	Tabs any
	// Permissions tab.
	Permissions []permission
	Picker      permissionPicker
	// Enterprise Groups and Users tabs, and Organizations' groups.
	Names  map[string]string // connection names
	Groups []group
	Users  []member
	Total  int
	Pager  pager
	// Organizations tab: bindings to organization groups and to members.
	OrgGroups       []orgBinding
	OrgGroupsTotal  int
	OrgGroupsPager  pager
	OrgMembers      []orgBinding
	OrgMembersTotal int
	OrgMembersPager pager
}

// loadRole starts a role page's data on tab.
func (d *Dashboard) loadRole(r *http.Request, s *session, tab string) (rolePage, error) {
	p := rolePage{Tab: tab, Tabs: roleTabs}
	err := d.call(r, s, "GET", "/roles/"+seg(r.PathValue("id")), nil, &p.Role)
	return p, err
}

func (d *Dashboard) renderRole(w http.ResponseWriter, r *http.Request, s *session, p rolePage) {
	d.render(w, r, s, http.StatusOK, "role", pageData{Title: p.Role.Name, Section: "roles", Data: p})
}

// role is a role's Settings tab: name, description, and delete.
func (d *Dashboard) role(w http.ResponseWriter, r *http.Request, s *session) error {
	p, err := d.loadRole(r, s, "settings")
	if err != nil {
		return err
	}
	d.renderRole(w, r, s, p)
	return nil
}

// rolePermissions is the Permissions tab: the role's permissions with their
// API's name and the scope's description, and the picker to add one.
func (d *Dashboard) rolePermissions(w http.ResponseWriter, r *http.Request, s *session) error {
	p, err := d.loadRole(r, s, "permissions")
	if err != nil {
		return err
	}
	var perms permissionList
	if err := d.call(r, s, "GET", "/roles/"+seg(p.Role.ID)+"/permissions", nil, &perms); err != nil {
		return err
	}
	p.Permissions = perms.Permissions
	if s.scopes[api.ScopeUpdateRoles] {
		if p.Picker, err = d.picker(r, s, p.Permissions); err != nil {
			return err
		}
	}
	d.renderRole(w, r, s, p)
	return nil
}

// roleGroups is the Enterprise Groups tab: the groups that carry the role
// at tenant scope, paged.
func (d *Dashboard) roleGroups(w http.ResponseWriter, r *http.Request, s *session) error {
	p, err := d.loadRole(r, s, "groups")
	if err != nil {
		return err
	}
	if _, p.Names, err = d.connectionNames(r, s); err != nil {
		return err
	}
	from := r.URL.Query().Get("from")
	var list groupList
	if err := d.call(r, s, "GET", "/roles/"+seg(p.Role.ID)+"/groups"+query("take", strconv.Itoa(pageSize), "from", from, "include_totals", "true"), nil, &list); err != nil {
		return err
	}
	p.Groups, p.Total = list.Groups, list.Total
	p.Pager = pagerOf(d.path("/roles/"+seg(p.Role.ID)+"/groups"), "from", from, list.Next, "")
	d.renderRole(w, r, s, p)
	return nil
}

// roleUsers is the Users tab: the users with the role directly, paged, each
// with a trash icon; Add Users searches users to assign it to.
func (d *Dashboard) roleUsers(w http.ResponseWriter, r *http.Request, s *session) error {
	p, err := d.loadRole(r, s, "users")
	if err != nil {
		return err
	}
	if _, p.Names, err = d.connectionNames(r, s); err != nil {
		return err
	}
	from := r.URL.Query().Get("from")
	var list roleUserList
	if err := d.call(r, s, "GET", "/roles/"+seg(p.Role.ID)+"/users"+query("take", strconv.Itoa(pageSize), "from", from, "include_totals", "true"), nil, &list); err != nil {
		return err
	}
	p.Users, p.Total = list.Users, list.Total
	p.Pager = pagerOf(d.path("/roles/"+seg(p.Role.ID)+"/users"), "from", from, list.Next, "")
	d.renderRole(w, r, s, p)
	return nil
}

// roleOrganizations is the Organizations tab: the role's bindings inside
// organizations, to Organization Groups and to members, each list paged on
// its own cursor.
func (d *Dashboard) roleOrganizations(w http.ResponseWriter, r *http.Request, s *session) error {
	p, err := d.loadRole(r, s, "organizations")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	gfrom, mfrom := q.Get("groups_from"), q.Get("members_from")
	api := "/roles/" + seg(p.Role.ID) + "/organization-bindings"
	var og, om orgBindingList
	if err := d.call(r, s, "GET", api+query("type", "group", "take", strconv.Itoa(pageSize), "from", gfrom, "include_totals", "true"), nil, &og); err != nil {
		return err
	}
	if err := d.call(r, s, "GET", api+query("type", "member", "take", strconv.Itoa(pageSize), "from", mfrom, "include_totals", "true"), nil, &om); err != nil {
		return err
	}
	p.OrgGroups, p.OrgGroupsTotal = og.Bindings, og.Total
	p.OrgMembers, p.OrgMembersTotal = om.Bindings, om.Total
	self := d.path("/roles/" + seg(p.Role.ID) + "/organizations")
	p.OrgGroupsPager = pagerOf(self+query("members_from", mfrom), "groups_from", gfrom, og.Next, "#org-groups")
	p.OrgMembersPager = pagerOf(self+query("groups_from", gfrom), "members_from", mfrom, om.Next, "#org-members")
	d.renderRole(w, r, s, p)
	return nil
}

type roleUsersAddPage struct {
	Role   role
	Search string
	Users  []user
	Names  map[string]string
	Has    map[string]bool // users on this page who have the role directly
	Pager  pager
}

// roleUsersAddPage is "Add Users": search users by userName, email or
// external id, or paste a user id; tick several; Assign.
func (d *Dashboard) roleUsersAddPage(w http.ResponseWriter, r *http.Request, s *session) error {
	var p roleUsersAddPage
	if err := d.call(r, s, "GET", "/roles/"+seg(r.PathValue("id")), nil, &p.Role); err != nil {
		return err
	}
	q := r.URL.Query()
	p.Search = strings.TrimSpace(q.Get("search"))
	render := func() error {
		d.render(w, r, s, http.StatusOK, "role_users_add", pageData{Title: "Add Users · " + p.Role.Name, Section: "roles", Data: p})
		return nil
	}
	if p.Search == "" {
		return render()
	}
	var err error
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
		p.Pager = pagerOf(d.path("/roles/"+seg(p.Role.ID)+"/users/add")+query("search", p.Search), "from", from, list.Next, "")
	}
	// Which of them have the role already: one read of each user's direct
	// roles, bounded by the page.
	p.Has = map[string]bool{}
	for _, u := range p.Users {
		var direct roleList
		if err := d.call(r, s, "GET", "/users/"+seg(u.UserID)+"/roles?take=100", nil, &direct); err != nil {
			return err
		}
		for _, ro := range direct.Roles {
			if ro.ID == p.Role.ID {
				p.Has[u.UserID] = true
			}
		}
	}
	return render()
}

// assignRoleUsers assigns the role directly to the ticked users (or the one
// pasted id): one API call, all or nothing.
func (d *Dashboard) assignRoleUsers(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	ids := append([]string{}, r.PostForm["users"]...)
	if uid := strings.TrimSpace(r.PostFormValue("user_id")); uid != "" {
		ids = append(ids, uid)
	}
	err := d.call(r, s, "POST", "/roles/"+seg(id)+"/users", map[string]any{"users": ids}, nil)
	if err != nil {
		return d.done(w, r, s, d.path("/roles/"+seg(id)+"/users/add")+query("search", r.PostFormValue("search")), err, "")
	}
	msg := "Role assigned to 1 user."
	if len(ids) != 1 {
		msg = "Role assigned to " + strconv.Itoa(len(ids)) + " users."
	}
	return d.done(w, r, s, d.path("/roles/"+seg(id)+"/users"), nil, msg)
}

// removeRoleUser removes the role's direct assignment from one user (the
// trash icon), after confirmation; roles through groups are untouched.
func (d *Dashboard) removeRoleUser(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	uid, name := r.PostFormValue("user_id"), r.PostFormValue("user_name")
	if name == "" {
		name = uid
	}
	back := d.path("/roles/" + seg(id) + "/users")
	if d.needConfirm(w, r, s, removeRoleUserQuestion(name, r.PostFormValue("role_name")), back) {
		return nil
	}
	err := d.call(r, s, "DELETE", "/roles/"+seg(id)+"/users", map[string]any{"users": []string{uid}}, nil)
	return d.done(w, r, s, back, err, "Role removed from "+name+".")
}

// removeRoleUserQuestion is the confirmation of a direct assignment's
// removal; the template asks the same (the "roleUserQuestion" func).
func removeRoleUserQuestion(user, role string) string {
	if role == "" {
		role = "this role"
	}
	return "Remove role " + role + " from user " + user + "? Only the direct assignment goes: roles through the user's groups stay."
}

func (d *Dashboard) updateRole(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	name, desc := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("description")
	err := d.call(r, s, "PATCH", "/roles/"+seg(id), map[string]any{"name": name, "description": desc}, nil)
	return d.done(w, r, s, d.path("/roles/"+seg(id)), err, "Role saved.")
}

// deleteListLimit bounds how many bindings of each kind the delete
// confirmation lists by name; it counts the rest.
const deleteListLimit = 100

type deleteRolePage struct {
	Role            role
	Names           map[string]string // connection names
	Groups          []group
	GroupsTotal     int
	Users           []member
	UsersTotal      int
	OrgGroups       []orgBinding
	OrgGroupsTotal  int
	OrgMembers      []orgBinding
	OrgMembersTotal int
}

// Total is how many bindings the delete removes.
func (p deleteRolePage) Total() int {
	return p.GroupsTotal + p.UsersTotal + p.OrgGroupsTotal + p.OrgMembersTotal
}

// deleteRolePage confirms a role's deletion, listing the bindings it removes,
// of all four kinds: Enterprise Groups, users directly, and inside
// organizations, groups and members. Each list shows its first
// deleteListLimit and counts the rest.
func (d *Dashboard) deleteRolePage(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	var p deleteRolePage
	if err := d.call(r, s, "GET", "/roles/"+seg(id), nil, &p.Role); err != nil {
		return err
	}
	var err error
	if _, p.Names, err = d.connectionNames(r, s); err != nil {
		return err
	}
	first := query("take", strconv.Itoa(deleteListLimit), "include_totals", "true")
	var groups groupList
	if err := d.call(r, s, "GET", "/roles/"+seg(id)+"/groups"+first, nil, &groups); err != nil {
		return err
	}
	p.Groups, p.GroupsTotal = groups.Groups, groups.Total
	var users roleUserList
	if err := d.call(r, s, "GET", "/roles/"+seg(id)+"/users"+first, nil, &users); err != nil {
		return err
	}
	p.Users, p.UsersTotal = users.Users, users.Total
	var og, om orgBindingList
	if err := d.call(r, s, "GET", "/roles/"+seg(id)+"/organization-bindings"+first+"&type=group", nil, &og); err != nil {
		return err
	}
	p.OrgGroups, p.OrgGroupsTotal = og.Bindings, og.Total
	if err := d.call(r, s, "GET", "/roles/"+seg(id)+"/organization-bindings"+first+"&type=member", nil, &om); err != nil {
		return err
	}
	p.OrgMembers, p.OrgMembersTotal = om.Bindings, om.Total
	d.render(w, r, s, http.StatusOK, "role_delete", pageData{Title: "Delete " + p.Role.Name, Section: "roles", Data: p})
	return nil
}

func (d *Dashboard) deleteRole(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	if r.PostFormValue("confirm") != "yes" {
		redirect(w, r, d.path("/roles/"+seg(id)+"/delete"))
		return nil
	}
	if err := d.call(r, s, "DELETE", "/roles/"+seg(id), nil, nil); err != nil {
		return d.done(w, r, s, d.path("/roles/"+seg(id)+"/delete"), err, "")
	}
	return d.done(w, r, s, d.path("/roles"), nil, "Role "+r.PostFormValue("name")+" deleted, with its bindings.")
}

// permissionBody is the one permission a form names: the picker's
// "permission" (its API and scope together, see pickValue), or the
// resource_server_identifier and permission_name of a remove form.
func (d *Dashboard) permissionBody(r *http.Request) map[string]any {
	p := permission{
		ResourceServerIdentifier: strings.TrimSpace(r.PostFormValue("resource_server_identifier")),
		PermissionName:           strings.TrimSpace(r.PostFormValue("permission_name")),
	}
	if v := r.PostFormValue("permission"); v != "" {
		if q, err := url.ParseQuery(v); err == nil {
			p.ResourceServerIdentifier, p.PermissionName = q.Get("api"), q.Get("scope")
		}
	}
	return map[string]any{"permissions": []permission{p}}
}

// pickValue is a picker option's value: the API and the scope in one, so
// that the choice is whole even when the API select (a filter the script
// drives) is left as it was.
func pickValue(api, scope string) string {
	return url.Values{"api": {api}, "scope": {scope}}.Encode()
}

func (d *Dashboard) addPermission(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	err := d.call(r, s, "POST", "/roles/"+seg(id)+"/permissions", d.permissionBody(r), nil)
	return d.done(w, r, s, d.path("/roles/"+seg(id)+"/permissions"), err, "Permission added.")
}

func (d *Dashboard) removePermission(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	back := d.path("/roles/" + seg(id) + "/permissions")
	if d.needConfirm(w, r, s, "Remove permission "+r.PostFormValue("permission_name")+" ("+r.PostFormValue("resource_server_identifier")+") from this role?", back) {
		return nil
	}
	err := d.call(r, s, "DELETE", "/roles/"+seg(id)+"/permissions", d.permissionBody(r), nil)
	return d.done(w, r, s, back, err, "Permission removed.")
}
