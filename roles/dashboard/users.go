package dashboard

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/rolecall/rolecall/roles/api"
)

type usersPage struct {
	Search   string
	Names    map[string]string
	Users    []user
	NextURL  string
	FirstURL string
}

// users is User Management > Users: a search by userName, email or external
// id (a substring, case-insensitive), paged on the server.
func (d *Dashboard) users(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	p := usersPage{Search: strings.TrimSpace(q.Get("search"))}
	from := q.Get("from")
	var err error
	if _, p.Names, err = d.connectionNames(r, s); err != nil {
		return err
	}
	var list userList
	if err := d.call(r, s, "GET", "/users"+query("search", p.Search, "take", strconv.Itoa(pageSize), "from", from), nil, &list); err != nil {
		return err
	}
	p.Users = list.Users
	if list.Next != "" {
		p.NextURL = d.path("/users") + query("search", p.Search, "from", list.Next)
	}
	if from != "" {
		p.FirstURL = d.path("/users") + query("search", p.Search)
	}
	d.render(w, r, s, http.StatusOK, "users", pageData{Title: "Users", Section: "users", Data: p})
	return nil
}

type userPage struct {
	User           user
	ConnectionName string
	Groups         []group
	DirectRoles    []role
	Effective      *effectiveRoles
	EffectiveErr   error
	Organizations  []organization // for the organization chooser
	OrgID          string         // the chosen organization, "" for tenant roles
	OrgName        string
	Target         bindingTarget
	// OrgRule is the organization rule in force, for the page to say why
	// tenant roles are or are not in an organization's answer: "included",
	// "left-out", or "" when the key cannot read the tenant settings.
	OrgRule string
	// Direct permissions (granted to the user, not through a role), and the
	// picker to grant one when the key may.
	Permissions []permission
	Picker      permissionPicker
	// Memberships are the organizations the user is a member of, and how
	// (explicit or auto), when the key may read organizations.
	Memberships     []userOrganization
	MembershipsMore bool
}

// user is a user's page: active state, groups, direct roles, and effective
// roles with their sources, at tenant scope or inside a chosen organization.
func (d *Dashboard) user(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	p := userPage{OrgID: r.URL.Query().Get("organization_id"), Target: d.targetOf(r)}
	if err := d.call(r, s, "GET", "/users/"+seg(id), nil, &p.User); err != nil {
		return err
	}
	p.ConnectionName = p.User.ConnectionID
	if s.scopes[api.ScopeReadConnections] {
		var c connection
		if err := d.call(r, s, "GET", "/connections/"+seg(p.User.ConnectionID), nil, &c); err != nil {
			return err
		}
		p.ConnectionName = c.Name
	}
	var groups groupList
	if err := d.call(r, s, "GET", "/users/"+seg(id)+"/groups", nil, &groups); err != nil {
		return err
	}
	p.Groups = groups.Groups
	var direct roleList
	if err := d.call(r, s, "GET", "/users/"+seg(id)+"/roles", nil, &direct); err != nil {
		return err
	}
	p.DirectRoles = direct.Roles
	var perms permissionList
	if err := d.call(r, s, "GET", "/users/"+seg(id)+"/permissions", nil, &perms); err != nil {
		return err
	}
	p.Permissions = perms.Permissions
	if s.scopes[api.ScopeUpdateUsers] {
		var err error
		if p.Picker, err = d.picker(r, s, p.Permissions); err != nil {
			return err
		}
	}
	var mine userOrganizationList
	if err := d.call(r, s, "GET", "/users/"+seg(id)+"/organizations?take=100", nil, &mine); err != nil {
		return err
	}
	p.Memberships, p.MembershipsMore = mine.Organizations, mine.Next != ""
	if s.scopes[api.ScopeReadOrganizations] {
		var orgs organizationList
		if err := d.call(r, s, "GET", "/organizations?take=100", nil, &orgs); err != nil {
			return err
		}
		p.Organizations = orgs.Organizations
		for _, o := range orgs.Organizations {
			if o.ID == p.OrgID {
				p.OrgName = o.Name
			}
		}
	}
	if p.OrgID != "" && s.scopes[api.ScopeReadTenantSettings] {
		var ts tenantSettings
		if err := d.call(r, s, "GET", "/tenants/settings", nil, &ts); err != nil {
			return err
		}
		p.OrgRule = "left-out"
		if ts.Flags.TenantRolesInOrganizations {
			p.OrgRule = "included"
		}
	}
	if s.scopes[api.ScopeReadUserEffectiveRoles] {
		path := "/users/" + seg(id) + "/effective-roles"
		if p.OrgID != "" {
			path = "/organizations/" + seg(p.OrgID) + "/members/" + seg(id) + "/effective-roles"
		}
		var eff effectiveRoles
		if err := d.call(r, s, "GET", path, nil, &eff); err != nil {
			if isSessionEnd(err) {
				return err
			}
			p.EffectiveErr = err
		} else {
			p.Effective = &eff
		}
	}
	title := p.User.UserName
	d.render(w, r, s, http.StatusOK, "user", pageData{Title: title, Section: "users", Data: p})
	return nil
}
