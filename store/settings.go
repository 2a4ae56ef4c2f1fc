package store

// TenantSettings are the deployment-wide switches. A store that never saved
// them has the zero value: every switch off.
type TenantSettings struct {
	// NestedGroupRoles: roles bound to a group also reach the members of
	// its member groups, transitively (DESIGN §1). Off by default, because
	// turning it on can widen access across a whole directory at once.
	NestedGroupRoles bool `json:"nested_group_roles"`
	// TenantRolesInOrganizations: an answer inside an organization also
	// carries the user's tenant roles (direct roles and tenant-scope group
	// roles). Off by default, as in Auth0: a login through an organization
	// carries only the roles assigned within it, so a tenant-wide role
	// (an internal admin group, say) does not leak into every customer
	// organization.
	TenantRolesInOrganizations bool `json:"tenant_roles_in_organizations"`
}

// TenantSettings returns the tenant settings.
func (r *ReadTx) TenantSettings() (TenantSettings, error) {
	var s TenantSettings
	_, err := r.getJSON(bucketMeta, metaTenantSettings, &s)
	return s, err
}

// UpdateTenantSettings changes the tenant settings through fn and audits the
// change (tenant.settings.updated). A call that changes nothing writes
// nothing.
func (tx *Tx) UpdateTenantSettings(fn func(*TenantSettings) error) (TenantSettings, error) {
	old, err := tx.TenantSettings()
	if err != nil {
		return old, err
	}
	s := old
	if err := fn(&s); err != nil {
		return old, err
	}
	if s == old {
		return s, nil
	}
	tx.putJSON(bucketMeta, metaTenantSettings, s)
	tx.audit(EventTenantSettingsUpdated, Target{"tenant", "settings"}, old, s)
	tx.emit(Change{Kind: TenantSettingsChanged, Settings: s})
	return s, tx.err
}
