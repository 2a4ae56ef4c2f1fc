package dashboard

import (
	"net/http"
)

type settingsPage struct {
	NestedGroupRoles bool
	Confirm          string // the question the nested switch's form asks first
	// TenantRolesInOrganizations: organization answers carry tenant roles
	// too; off, the default, they carry the organization's roles only.
	TenantRolesInOrganizations bool
	ConfirmTenantRoles         string
}

// settings is the tenant's Settings page: the nested group roles switch and
// the organization rule's switch (tenant roles in organizations).
func (d *Dashboard) settings(w http.ResponseWriter, r *http.Request, s *session) error {
	var ts tenantSettings
	if err := d.call(r, s, "GET", "/tenants/settings", nil, &ts); err != nil {
		return err
	}
	p := settingsPage{
		NestedGroupRoles: ts.Flags.NestedGroupRoles, Confirm: confirmNestedOn,
		TenantRolesInOrganizations: ts.Flags.TenantRolesInOrganizations, ConfirmTenantRoles: confirmTenantRolesOn,
	}
	if p.NestedGroupRoles {
		p.Confirm = confirmNestedOff
	}
	if p.TenantRolesInOrganizations {
		p.ConfirmTenantRoles = confirmTenantRolesOff
	}
	d.render(w, r, s, http.StatusOK, "settings", pageData{Title: "Settings", Section: "settings", Data: p})
	return nil
}

// Confirmation questions of the switches; the page's script asks the same
// in its dialog.
const (
	confirmNestedOn       = "Turn on nested group roles? Every role bound to a group reaches the members of its member groups at once, at any depth: this can give roles to many more users."
	confirmNestedOff      = "Turn off nested group roles? Users who get a role only through a member group lose it at once."
	confirmTenantRolesOn  = "Include tenant roles in organization logins? Every member of every organization gets its direct roles and Enterprise Group roles in each organization's answer at once: a tenant-wide role (an internal admin group, say) reaches every customer organization."
	confirmTenantRolesOff = "Leave tenant roles out of organization logins? Members lose, inside organizations, every role they have only at tenant level, at once."
)

// settingSwitch is one switch of the page: its form field, the flag it
// sets, what to ask first and what to say after.
type settingSwitch struct {
	field, flag    string
	confirm        [2]string // off, on
	done           [2]string // off, on
	invalidMessage string
}

var settingSwitches = []settingSwitch{
	{
		field: "nested_group_roles", flag: "nested_group_roles",
		confirm: [2]string{confirmNestedOff, confirmNestedOn},
		done: [2]string{
			"Nested group roles are off: a role bound to a group reaches only the group's own users.",
			"Nested group roles are on: a role bound to a group now reaches the members of its member groups.",
		},
		invalidMessage: "Choose whether to turn nested group roles on or off.",
	},
	{
		field: "tenant_roles_in_organizations", flag: "tenant_roles_in_organizations",
		confirm: [2]string{confirmTenantRolesOff, confirmTenantRolesOn},
		done: [2]string{
			"Tenant roles are left out of organization logins: inside an organization, members get that organization's roles only.",
			"Tenant roles are included in organization logins: inside an organization, members get their tenant roles as well.",
		},
		invalidMessage: "Choose whether to include tenant roles in organization logins or not.",
	},
}

// updateSettings turns one switch on or off, after confirmation: either
// way effective roles change at once, for every user concerned.
func (d *Dashboard) updateSettings(w http.ResponseWriter, r *http.Request, s *session) error {
	back := d.path("/settings")
	_ = r.ParseForm()        // a body that does not parse has no field: the 400 below
	sw := settingSwitches[0] // a form naming no switch is the nested switch's, as it always was
	for _, candidate := range settingSwitches {
		if r.PostForm.Has(candidate.field) {
			sw = candidate
			break
		}
	}
	var on bool
	switch r.PostFormValue(sw.field) {
	case "on":
		on = true
	case "off":
	default:
		return d.done(w, r, s, back, &APIError{StatusCode: http.StatusBadRequest, Title: "Bad Request",
			Message: sw.invalidMessage, ErrorCode: "invalid_body"}, "")
	}
	i := 0
	if on {
		i = 1
	}
	if d.needConfirm(w, r, s, sw.confirm[i], back) {
		return nil
	}
	err := d.call(r, s, "PATCH", "/tenants/settings", map[string]any{"flags": map[string]any{sw.flag: on}}, nil)
	return d.done(w, r, s, back, err, sw.done[i])
}
