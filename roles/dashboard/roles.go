package dashboard

import (
	"net/http"
	"strconv"
	"strings"
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

type rolePage struct {
	Role        role
	Permissions []permission
	Groups      []group
	Names       map[string]string
	NextURL     string
	FirstURL    string
}

// role is a role's page: edit, permissions, and the Enterprise Groups that
// carry it (paged).
func (d *Dashboard) role(w http.ResponseWriter, r *http.Request, s *session) error {
	id, from := r.PathValue("id"), r.URL.Query().Get("from")
	var p rolePage
	if err := d.call(r, s, "GET", "/roles/"+seg(id), nil, &p.Role); err != nil {
		return err
	}
	var perms permissionList
	if err := d.call(r, s, "GET", "/roles/"+seg(id)+"/permissions", nil, &perms); err != nil {
		return err
	}
	p.Permissions = perms.Permissions
	var err error
	if _, p.Names, err = d.connectionNames(r, s); err != nil {
		return err
	}
	var groups groupList
	if err := d.call(r, s, "GET", "/roles/"+seg(id)+"/groups"+query("take", strconv.Itoa(pageSize), "from", from), nil, &groups); err != nil {
		return err
	}
	p.Groups = groups.Groups
	if groups.Next != "" {
		p.NextURL = d.path("/roles/"+seg(id)) + query("from", groups.Next) + "#groups"
	}
	if from != "" {
		p.FirstURL = d.path("/roles/"+seg(id)) + "#groups"
	}
	d.render(w, r, s, http.StatusOK, "role", pageData{Title: p.Role.Name, Section: "roles", Data: p})
	return nil
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

func (d *Dashboard) permissionBody(r *http.Request) map[string]any {
	return map[string]any{"permissions": []permission{{
		ResourceServerIdentifier: strings.TrimSpace(r.PostFormValue("resource_server_identifier")),
		PermissionName:           strings.TrimSpace(r.PostFormValue("permission_name")),
	}}}
}

func (d *Dashboard) addPermission(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	err := d.call(r, s, "POST", "/roles/"+seg(id)+"/permissions", d.permissionBody(r), nil)
	return d.done(w, r, s, d.path("/roles/"+seg(id))+"#permissions", err, "Permission added.")
}

func (d *Dashboard) removePermission(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	back := d.path("/roles/"+seg(id)) + "#permissions"
	if d.needConfirm(w, r, s, "Remove permission "+r.PostFormValue("permission_name")+" ("+r.PostFormValue("resource_server_identifier")+") from this role?", back) {
		return nil
	}
	err := d.call(r, s, "DELETE", "/roles/"+seg(id)+"/permissions", d.permissionBody(r), nil)
	return d.done(w, r, s, back, err, "Permission removed.")
}
