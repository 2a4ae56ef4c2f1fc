package dashboard

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/rolecall/rolecall/roles/api"
)

type organizationsPage struct {
	Organizations []organization
	NextURL       string
	FirstURL      string
}

func (d *Dashboard) organizations(w http.ResponseWriter, r *http.Request, s *session) error {
	from := r.URL.Query().Get("from")
	var list organizationList
	if err := d.call(r, s, "GET", "/organizations"+query("take", strconv.Itoa(pageSize), "from", from), nil, &list); err != nil {
		return err
	}
	p := organizationsPage{Organizations: list.Organizations}
	if list.Next != "" {
		p.NextURL = d.path("/organizations") + query("from", list.Next)
	}
	if from != "" {
		p.FirstURL = d.path("/organizations")
	}
	d.render(w, r, s, http.StatusOK, "organizations", pageData{Title: "Organizations", Section: "organizations", Data: p})
	return nil
}

func (d *Dashboard) createOrganization(w http.ResponseWriter, r *http.Request, s *session) error {
	body := map[string]any{"name": strings.TrimSpace(r.PostFormValue("name"))}
	if dn := strings.TrimSpace(r.PostFormValue("display_name")); dn != "" {
		body["display_name"] = dn
	}
	var o organization
	if err := d.call(r, s, "POST", "/organizations", body, &o); err != nil {
		return d.done(w, r, s, d.path("/organizations"), err, "")
	}
	return d.done(w, r, s, d.path("/organizations/"+seg(o.ID)), nil, "Organization "+o.Name+" created.")
}

// organizationPage is any tab of an organization's page.
type organizationPage struct {
	Org  organization
	Tab  string // settings, connections or groups
	Data any
}

func (d *Dashboard) loadOrganization(r *http.Request, s *session) (organization, error) {
	var o organization
	err := d.call(r, s, "GET", "/organizations/"+seg(r.PathValue("id")), nil, &o)
	return o, err
}

func (d *Dashboard) renderOrganization(w http.ResponseWriter, r *http.Request, s *session, o organization, tab string, data any) {
	title := o.Name
	if o.DisplayName != "" {
		title = o.DisplayName
	}
	d.render(w, r, s, http.StatusOK, "organization", pageData{Title: title, Section: "organizations", Data: organizationPage{Org: o, Tab: tab, Data: data}})
}

// organization is the Settings tab: edit and delete.
func (d *Dashboard) organization(w http.ResponseWriter, r *http.Request, s *session) error {
	o, err := d.loadOrganization(r, s)
	if err != nil {
		return err
	}
	d.renderOrganization(w, r, s, o, "settings", nil)
	return nil
}

func (d *Dashboard) updateOrganization(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	body := map[string]any{
		"name":         strings.TrimSpace(r.PostFormValue("name")),
		"display_name": strings.TrimSpace(r.PostFormValue("display_name")),
	}
	err := d.call(r, s, "PATCH", "/organizations/"+seg(id), body, nil)
	return d.done(w, r, s, d.path("/organizations/"+seg(id)), err, "Organization saved.")
}

func (d *Dashboard) deleteOrganization(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	back := d.path("/organizations/" + seg(id))
	if d.needConfirm(w, r, s, "Delete organization "+r.PostFormValue("name")+"? Its enabled connections, members and every role binding inside it are deleted with it. This cannot be undone.", back) {
		return nil
	}
	if err := d.call(r, s, "DELETE", "/organizations/"+seg(id), nil, nil); err != nil {
		return d.done(w, r, s, back, err, "")
	}
	return d.done(w, r, s, d.path("/organizations"), nil, "Organization "+r.PostFormValue("name")+" deleted.")
}

type orgConnectionsTab struct {
	Enabled   []enabledConnection
	Available []connection // connections not enabled yet, for the enable form
}

// organizationConnections is the Connections tab: enabled connections with
// the auto-membership toggle.
func (d *Dashboard) organizationConnections(w http.ResponseWriter, r *http.Request, s *session) error {
	o, err := d.loadOrganization(r, s)
	if err != nil {
		return err
	}
	var tab orgConnectionsTab
	var list enabledConnectionList
	if err := d.call(r, s, "GET", "/organizations/"+seg(o.ID)+"/enabled_connections", nil, &list); err != nil {
		return err
	}
	tab.Enabled = list.EnabledConnections
	if s.scopes[api.ScopeCreateOrganizationConnections] {
		all, _, err := d.connectionNames(r, s)
		if err != nil {
			return err
		}
		enabled := map[string]bool{}
		for _, ec := range tab.Enabled {
			enabled[ec.ConnectionID] = true
		}
		for _, c := range all {
			if !enabled[c.ID] {
				tab.Available = append(tab.Available, c)
			}
		}
	}
	d.renderOrganization(w, r, s, o, "connections", tab)
	return nil
}

func (d *Dashboard) enableOrganizationConnection(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	err := d.call(r, s, "POST", "/organizations/"+seg(id)+"/enabled_connections", map[string]any{
		"connection_id":              r.PostFormValue("connection_id"),
		"assign_membership_on_login": r.PostFormValue("assign_membership_on_login") == "on",
	}, nil)
	return d.done(w, r, s, d.path("/organizations/"+seg(id)+"/connections"), err, "Connection enabled.")
}

// updateOrganizationConnection turns auto-membership on or off. back, when
// given, is a page of this organization to return to (the group page's
// "Turn on" button).
func (d *Dashboard) updateOrganizationConnection(w http.ResponseWriter, r *http.Request, s *session) error {
	id, cid := r.PathValue("id"), r.PathValue("connection_id")
	on := r.PostFormValue("assign_membership_on_login") == "on"
	back := d.path("/organizations/" + seg(id) + "/connections")
	if b := r.PostFormValue("back"); strings.HasPrefix(b, d.path("/organizations/"+seg(id)+"/")) {
		back = b
	}
	err := d.call(r, s, "PATCH", "/organizations/"+seg(id)+"/enabled_connections/"+seg(cid), map[string]any{"assign_membership_on_login": on}, nil)
	msg := "Auto-membership turned off: organization group roles of this connection no longer take effect."
	if on {
		msg = "Auto-membership turned on: organization group roles of this connection now take effect."
	}
	return d.done(w, r, s, back, err, msg)
}

func (d *Dashboard) disableOrganizationConnection(w http.ResponseWriter, r *http.Request, s *session) error {
	id, cid := r.PathValue("id"), r.PathValue("connection_id")
	back := d.path("/organizations/" + seg(id) + "/connections")
	if d.needConfirm(w, r, s, "Remove connection "+r.PostFormValue("name")+" from this organization? Its users stop being members by auto-membership; role bindings of its groups are kept but have no effect.", back) {
		return nil
	}
	err := d.call(r, s, "DELETE", "/organizations/"+seg(id)+"/enabled_connections/"+seg(cid), nil, nil)
	return d.done(w, r, s, back, err, "Connection removed from the organization.")
}

type orgGroupsTab struct {
	Search   string
	Groups   []group
	Names    map[string]string
	NextURL  string
	FirstURL string
}

// organizationGroups is the Groups tab: the groups of the organization's
// enabled connections.
func (d *Dashboard) organizationGroups(w http.ResponseWriter, r *http.Request, s *session) error {
	o, err := d.loadOrganization(r, s)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	tab := orgGroupsTab{Search: strings.TrimSpace(q.Get("search"))}
	from := q.Get("from")
	if _, tab.Names, err = d.connectionNames(r, s); err != nil {
		return err
	}
	var list groupList
	if err := d.call(r, s, "GET", "/organizations/"+seg(o.ID)+"/groups"+query("search", tab.Search, "take", strconv.Itoa(pageSize), "from", from), nil, &list); err != nil {
		return err
	}
	tab.Groups = list.Groups
	self := d.path("/organizations/" + seg(o.ID) + "/groups")
	if list.Next != "" {
		tab.NextURL = self + query("search", tab.Search, "from", list.Next)
	}
	if from != "" {
		tab.FirstURL = self + query("search", tab.Search)
	}
	d.renderOrganization(w, r, s, o, "groups", tab)
	return nil
}

type orgGroupPage struct {
	Org            organization
	Group          group
	ConnectionName string
	// Reason is why the group's bindings have no effect in the organization
	// (auto_membership_disabled, connection_not_enabled), "" when they do.
	Reason string
	// Known is false when the key can read neither the enabled connection
	// nor a binding that would tell.
	Known bool
	// NotEnabled is the API's answer when the group's connection is not
	// enabled on the organization: its roles there cannot be read or added.
	NotEnabled error
	Roles      []role
	Target     bindingTarget
}

// organizationGroup is one Organization Group: its roles in the
// organization, each with its state, Assign Roles and the trash icon; when
// the bindings cannot take effect the page says so and why.
func (d *Dashboard) organizationGroup(w http.ResponseWriter, r *http.Request, s *session) error {
	o, err := d.loadOrganization(r, s)
	if err != nil {
		return err
	}
	p := orgGroupPage{Org: o, Target: d.targetOf(r)}
	if p.Group, p.ConnectionName, err = d.loadGroup(r, s, r.PathValue("group_id")); err != nil {
		return err
	}
	// The group's standing. Its roles answer 404 inexistent_organization_group
	// when its connection is not enabled on the organization (the answer a
	// POST gets too); otherwise the enabled connection, when the key may
	// read it, or else what the bindings say, tells whether they take effect.
	var list roleList
	err = d.call(r, s, "GET", p.Target.API, nil, &list)
	var ae *APIError
	switch {
	case err == nil:
	case errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound && ae.ErrorCode == "inexistent_organization_group":
		p.Reason, p.Known, p.NotEnabled = "connection_not_enabled", true, err
	default:
		return err
	}
	p.Roles = list.Roles
	if p.Reason == "" {
		p.Known = s.scopes[api.ScopeReadOrganizationConnections] || len(p.Roles) > 0
		if s.scopes[api.ScopeReadOrganizationConnections] {
			var ec enabledConnection
			if err := d.call(r, s, "GET", "/organizations/"+seg(o.ID)+"/enabled_connections/"+seg(p.Group.ConnectionID), nil, &ec); err != nil {
				return err
			}
			if !ec.AssignMembershipOnLogin {
				p.Reason = "auto_membership_disabled"
			}
		} else {
			for _, ro := range p.Roles {
				if ro.Inert() {
					p.Reason = ro.Reason
				}
			}
		}
	}
	d.render(w, r, s, http.StatusOK, "organization_group", pageData{Title: p.Group.Name + " · " + o.Name, Section: "organizations", Data: p})
	return nil
}
