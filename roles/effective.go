package roles

// effectiveRoutes registers the effective-role endpoints and the login query.
func (a *API) effectiveRoutes(p string) {}
