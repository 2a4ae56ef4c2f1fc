package dashboard

import (
	"net/http"
)

type settingsPage struct {
	NestedGroupRoles bool
	Confirm          string // the question the switch's form asks first
}

// settings is the tenant's Settings page: the nested group roles switch.
func (d *Dashboard) settings(w http.ResponseWriter, r *http.Request, s *session) error {
	var ts tenantSettings
	if err := d.call(r, s, "GET", "/tenants/settings", nil, &ts); err != nil {
		return err
	}
	p := settingsPage{NestedGroupRoles: ts.Flags.NestedGroupRoles, Confirm: confirmNestedOn}
	if p.NestedGroupRoles {
		p.Confirm = confirmNestedOff
	}
	d.render(w, r, s, http.StatusOK, "settings", pageData{Title: "Settings", Section: "settings", Data: p})
	return nil
}

// Confirmation questions of the nested group roles switch; the page's
// script asks the same in its dialog.
const (
	confirmNestedOn  = "Turn on nested group roles? Every role bound to a group reaches the members of its member groups at once, at any depth: this can give roles to many more users."
	confirmNestedOff = "Turn off nested group roles? Users who get a role only through a member group lose it at once."
)

// updateSettings turns nested group roles on or off, after confirmation:
// either way effective roles change at once, for every user in a nested
// group.
func (d *Dashboard) updateSettings(w http.ResponseWriter, r *http.Request, s *session) error {
	back := d.path("/settings")
	var on bool
	switch r.PostFormValue("nested_group_roles") {
	case "on":
		on = true
	case "off":
	default:
		return d.done(w, r, s, back, &APIError{StatusCode: http.StatusBadRequest, Title: "Bad Request",
			Message: "Choose whether to turn nested group roles on or off.", ErrorCode: "invalid_body"}, "")
	}
	question := confirmNestedOff
	if on {
		question = confirmNestedOn
	}
	if d.needConfirm(w, r, s, question, back) {
		return nil
	}
	err := d.call(r, s, "PATCH", "/tenants/settings", map[string]any{"flags": map[string]any{"nested_group_roles": on}}, nil)
	msg := "Nested group roles are off: a role bound to a group reaches only the group's own users."
	if on {
		msg = "Nested group roles are on: a role bound to a group now reaches the members of its member groups."
	}
	return d.done(w, r, s, back, err, msg)
}
