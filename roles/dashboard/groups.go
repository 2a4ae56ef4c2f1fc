package dashboard

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/rolecall/rolecall/roles/api"
)

type groupsPage struct {
	Search       string
	ConnectionID string
	Connections  []connection // for the connection filter; empty without read:connections
	Names        map[string]string
	Groups       []group
	NextURL      string
	FirstURL     string
}

// connectionNames maps connection ids to names for display, from the first
// page of connections; nil when the key cannot read connections (pages then
// show ids).
func (d *Dashboard) connectionNames(r *http.Request, s *session) ([]connection, map[string]string, error) {
	if !s.scopes[api.ScopeReadConnections] {
		return nil, map[string]string{}, nil
	}
	var list connectionList
	if err := d.call(r, s, "GET", "/connections?take=100", nil, &list); err != nil {
		return nil, nil, err
	}
	names := map[string]string{}
	for _, c := range list.Connections {
		names[c.ID] = c.Name
	}
	return list.Connections, names, nil
}

// groups is User Management > Enterprise Groups: every connection's groups,
// searched by name, paged on the server.
func (d *Dashboard) groups(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	p := groupsPage{Search: strings.TrimSpace(q.Get("search")), ConnectionID: q.Get("connection_id")}
	from := q.Get("from")
	var err error
	if p.Connections, p.Names, err = d.connectionNames(r, s); err != nil {
		return err
	}
	var list groupList
	if err := d.call(r, s, "GET", "/groups"+query("search", p.Search, "connection_id", p.ConnectionID, "take", strconv.Itoa(pageSize), "from", from), nil, &list); err != nil {
		return err
	}
	p.Groups = list.Groups
	if list.Next != "" {
		p.NextURL = d.path("/groups") + query("search", p.Search, "connection_id", p.ConnectionID, "from", list.Next)
	}
	if from != "" {
		p.FirstURL = d.path("/groups") + query("search", p.Search, "connection_id", p.ConnectionID)
	}
	d.render(w, r, s, http.StatusOK, "groups", pageData{Title: "Enterprise Groups", Section: "groups", Data: p})
	return nil
}

type groupPage struct {
	Group          group
	ConnectionName string
	Tab            string // members or roles
	Members        []member
	NextURL        string
	FirstURL       string
	Roles          []role
	Target         bindingTarget
}

// loadGroup reads a group and its connection's name.
func (d *Dashboard) loadGroup(r *http.Request, s *session, id string) (group, string, error) {
	var g group
	if err := d.call(r, s, "GET", "/groups/"+seg(id), nil, &g); err != nil {
		return g, "", err
	}
	name := g.ConnectionID
	if s.scopes[api.ScopeReadConnections] {
		var c connection
		if err := d.call(r, s, "GET", "/connections/"+seg(g.ConnectionID), nil, &c); err != nil {
			return g, "", err
		}
		name = c.Name
	}
	return g, name, nil
}

// group is an Enterprise Group's page: its connection, external id and
// members, a page at a time.
func (d *Dashboard) group(w http.ResponseWriter, r *http.Request, s *session) error {
	id, from := r.PathValue("id"), r.URL.Query().Get("from")
	p := groupPage{Tab: "members"}
	var err error
	if p.Group, p.ConnectionName, err = d.loadGroup(r, s, id); err != nil {
		return err
	}
	var list memberList
	if err := d.call(r, s, "GET", "/groups/"+seg(id)+"/members"+query("take", strconv.Itoa(pageSize), "from", from), nil, &list); err != nil {
		return err
	}
	p.Members = list.Members
	if list.Next != "" {
		p.NextURL = d.path("/groups/"+seg(id)) + query("from", list.Next)
	}
	if from != "" {
		p.FirstURL = d.path("/groups/" + seg(id))
	}
	d.render(w, r, s, http.StatusOK, "group", pageData{Title: p.Group.Name, Section: "groups", Data: p})
	return nil
}

// groupRoles is the group's Roles tab: its tenant-scope roles, each with a
// trash icon, and Assign Roles.
func (d *Dashboard) groupRoles(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	p := groupPage{Tab: "roles", Target: d.targetOf(r)}
	var err error
	if p.Group, p.ConnectionName, err = d.loadGroup(r, s, id); err != nil {
		return err
	}
	var list roleList
	if err := d.call(r, s, "GET", "/groups/"+seg(id)+"/roles", nil, &list); err != nil {
		return err
	}
	p.Roles = list.Roles
	d.render(w, r, s, http.StatusOK, "group", pageData{Title: p.Group.Name + " · Roles", Section: "groups", Data: p})
	return nil
}

// bindingTarget is what roles are assigned to from a page: an Enterprise
// Group (tenant scope), an Organization Group, an organization's member, or
// a user (directly).
type bindingTarget struct {
	Kind        string // "group", "organization group", "organization member", "user"
	API         string // the API's roles collection of the target
	Page        string // the dashboard page listing the target's roles
	Self        string // the dashboard path the assign/remove routes hang off
	AssignScope string
	RemoveScope string
	Section     string
}

func (d *Dashboard) targetOf(r *http.Request) bindingTarget {
	switch {
	case strings.HasPrefix(r.URL.Path, d.path("/organizations/")) && r.PathValue("user_id") != "":
		org, u := seg(r.PathValue("id")), seg(r.PathValue("user_id"))
		self := d.path("/organizations/" + org + "/members/" + u)
		return bindingTarget{Kind: "organization member", API: "/organizations/" + org + "/members/" + u + "/roles", Page: self, Self: self,
			AssignScope: api.ScopeCreateOrganizationMemberRoles, RemoveScope: api.ScopeDeleteOrganizationMemberRoles, Section: "organizations"}
	case strings.HasPrefix(r.URL.Path, d.path("/organizations/")):
		org, g := seg(r.PathValue("id")), seg(r.PathValue("group_id"))
		self := d.path("/organizations/" + org + "/groups/" + g)
		return bindingTarget{Kind: "organization group", API: "/organizations/" + org + "/groups/" + g + "/roles", Page: self, Self: self,
			AssignScope: api.ScopeCreateOrganizationGroupRoles, RemoveScope: api.ScopeDeleteOrganizationGroupRoles, Section: "organizations"}
	case strings.HasPrefix(r.URL.Path, d.path("/users/")):
		u := seg(r.PathValue("id"))
		return bindingTarget{Kind: "user", API: "/users/" + u + "/roles", Page: d.path("/users/" + u), Self: d.path("/users/" + u),
			AssignScope: api.ScopeUpdateUsers, RemoveScope: api.ScopeUpdateUsers, Section: "users"}
	default:
		g := seg(r.PathValue("id"))
		return bindingTarget{Kind: "group", API: "/groups/" + g + "/roles", Page: d.path("/groups/" + g + "/roles"), Self: d.path("/groups/" + g),
			AssignScope: api.ScopeUpdateGroups, RemoveScope: api.ScopeUpdateGroups, Section: "groups"}
	}
}

// targetName is how the assign page names its target.
func (d *Dashboard) targetName(r *http.Request, s *session, t bindingTarget) (string, error) {
	switch t.Kind {
	case "user":
		var u user
		err := d.call(r, s, "GET", "/users/"+seg(r.PathValue("id")), nil, &u)
		return "user " + u.UserName, err
	case "organization member":
		var o organization
		if err := d.call(r, s, "GET", "/organizations/"+seg(r.PathValue("id")), nil, &o); err != nil {
			return "", err
		}
		name := r.PathValue("user_id")
		if s.scopes[api.ScopeReadUsers] {
			var u user
			if err := d.call(r, s, "GET", "/users/"+seg(name), nil, &u); err != nil {
				return "", err
			}
			name = u.UserName
		}
		return "member " + name + " of organization " + o.Name, nil
	case "organization group":
		var o organization
		if err := d.call(r, s, "GET", "/organizations/"+seg(r.PathValue("id")), nil, &o); err != nil {
			return "", err
		}
		var g group
		err := d.call(r, s, "GET", "/groups/"+seg(r.PathValue("group_id")), nil, &g)
		return "group " + g.Name + " in organization " + o.Name, err
	default:
		var g group
		err := d.call(r, s, "GET", "/groups/"+seg(r.PathValue("id")), nil, &g)
		return "group " + g.Name, err
	}
}

type assignPage struct {
	Target   bindingTarget
	Name     string
	Search   string
	Roles    []role
	Assigned map[string]bool
	NextURL  string
	FirstURL string
}

// assignRolesPage is "Assign Roles": a search over roles (on the server,
// refined as you type by the script), select several, Assign.
func (d *Dashboard) assignRolesPage(w http.ResponseWriter, r *http.Request, s *session) error {
	t := d.targetOf(r)
	q := r.URL.Query()
	p := assignPage{Target: t, Search: strings.TrimSpace(q.Get("search")), Assigned: map[string]bool{}}
	var err error
	if p.Name, err = d.targetName(r, s, t); err != nil {
		return err
	}
	var current roleList
	if err := d.call(r, s, "GET", t.API, nil, &current); err != nil {
		return err
	}
	for _, ro := range current.Roles {
		p.Assigned[ro.ID] = true
	}
	from := q.Get("from")
	var list roleList
	if err := d.call(r, s, "GET", "/roles"+query("name_filter", p.Search, "take", "100", "from", from), nil, &list); err != nil {
		return err
	}
	p.Roles = list.Roles
	self := t.Self + "/roles/assign"
	if list.Next != "" {
		p.NextURL = self + query("search", p.Search, "from", list.Next)
	}
	if from != "" {
		p.FirstURL = self + query("search", p.Search)
	}
	d.render(w, r, s, http.StatusOK, "assign", pageData{Title: "Assign Roles", Section: t.Section, Data: p})
	return nil
}

// assignRoles binds the selected roles: one API call, all or nothing.
func (d *Dashboard) assignRoles(w http.ResponseWriter, r *http.Request, s *session) error {
	t := d.targetOf(r)
	ids := append([]string{}, r.PostForm["roles"]...)
	err := d.call(r, s, "POST", t.API, map[string]any{"roles": ids}, nil)
	if err != nil {
		return d.done(w, r, s, t.Self+"/roles/assign", err, "")
	}
	msg := "1 role assigned."
	if len(ids) != 1 {
		msg = strconv.Itoa(len(ids)) + " roles assigned."
	}
	return d.done(w, r, s, t.Page, nil, msg)
}

// removeRole removes one binding (the trash icon), after confirmation.
func (d *Dashboard) removeRole(w http.ResponseWriter, r *http.Request, s *session) error {
	t := d.targetOf(r)
	id, name := r.PostFormValue("role"), r.PostFormValue("role_name")
	if name == "" {
		name = id
	}
	if d.needConfirm(w, r, s, "Remove role "+name+" from this "+t.Kind+"?", t.Page) {
		return nil
	}
	err := d.call(r, s, "DELETE", t.API, map[string]any{"roles": []string{id}}, nil)
	return d.done(w, r, s, t.Page, err, "Role "+name+" removed.")
}
