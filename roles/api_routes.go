package roles

// roleRoutes registers the roles, groups, users and organizations endpoints.
func (a *API) roleRoutes(p string) {}
