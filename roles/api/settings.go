package api

import (
	"net/http"

	"github.com/rolecall/rolecall/store"
)

// Tenant settings, at Auth0's path: GET/PATCH /tenants/settings. Rolecall's
// switches live under "flags", as Auth0's feature switches do.

type tenantSettingsView struct {
	Flags tenantFlags `json:"flags"`
}

type tenantFlags struct {
	// NestedGroupRoles: roles bound to a group reach the members of its
	// member groups, transitively. Off by default.
	NestedGroupRoles bool `json:"nested_group_roles"`
	// TenantRolesInOrganizations: answers inside an organization also
	// carry the user's tenant roles (direct and tenant-scope group roles).
	// Off by default: an organization login carries the organization's
	// roles only, as in Auth0.
	TenantRolesInOrganizations bool `json:"tenant_roles_in_organizations"`
}

type tenantSettingsBody struct {
	Flags *struct {
		NestedGroupRoles           *bool `json:"nested_group_roles"`
		TenantRolesInOrganizations *bool `json:"tenant_roles_in_organizations"`
	} `json:"flags"`
}

func viewTenantSettings(s store.TenantSettings) tenantSettingsView {
	return tenantSettingsView{Flags: tenantFlags{NestedGroupRoles: s.NestedGroupRoles, TenantRolesInOrganizations: s.TenantRolesInOrganizations}}
}

func (a *API) getTenantSettings(w http.ResponseWriter, _ *http.Request, _ caller) error {
	var s store.TenantSettings
	if err := a.view(w, func(tx *store.ReadTx) (err error) { s, err = tx.TenantSettings(); return err }); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewTenantSettings(s))
	return nil
}

// updateTenantSettings changes the flags the body names and keeps the rest.
// Either flag changes effective roles at once: the answer's
// Rolecall-Revision is the revision to wait for.
func (a *API) updateTenantSettings(w http.ResponseWriter, r *http.Request, c caller) error {
	var body tenantSettingsBody
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	var s store.TenantSettings
	err := a.update(w, r, c, func(tx *store.Tx) (err error) {
		s, err = tx.UpdateTenantSettings(func(s *store.TenantSettings) error {
			if body.Flags == nil {
				return nil
			}
			if body.Flags.NestedGroupRoles != nil {
				s.NestedGroupRoles = *body.Flags.NestedGroupRoles
			}
			if body.Flags.TenantRolesInOrganizations != nil {
				s.TenantRolesInOrganizations = *body.Flags.TenantRolesInOrganizations
			}
			return nil
		})
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewTenantSettings(s))
	return nil
}
