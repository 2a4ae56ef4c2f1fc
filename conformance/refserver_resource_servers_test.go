package conformance_test

// The reference server's APIs (resource servers): enough for the role scenarios that check a
// permission must be a scope of an existing API and goes away with it.

import (
	"maps"
	"net/http"
	"slices"
)

type refResourceServer struct {
	id, identifier, name string
	scopes               []map[string]any // {"value","description"}
}

func (rs *refResourceServer) defines(scope string) bool {
	return slices.ContainsFunc(rs.scopes, func(s map[string]any) bool { return s["value"] == scope })
}

func (rs *refResourceServer) json() map[string]any {
	return map[string]any{"id": rs.id, "identifier": rs.identifier, "name": rs.name, "scopes": rs.scopes}
}

func (a *refAPI) resourceServerRoutes(p string) {
	a.handle("POST "+p+"/resource-servers", "create:resource_servers", a.createResourceServer)
	a.handle("GET "+p+"/resource-servers/{id}", "read:resource_servers", a.resourceServer)
	a.handle("DELETE "+p+"/resource-servers/{id}", "delete:resource_servers", a.resourceServer)
}

func (a *refAPI) createResourceServer(c *apiCall) (int, any, error) {
	var b struct {
		Identifier, Name string
		Scopes           []map[string]any
	}
	if err := c.decode(&b); err != nil {
		return 0, nil, err
	}
	if b.Identifier == "" {
		return 0, nil, apiFail(400, "invalid_body", "'identifier' is required")
	}
	if a.apiByIdentifier(b.Identifier) != nil {
		return 0, nil, apiFail(409, "resource_server_conflict", "resource server %q exists", b.Identifier)
	}
	if b.Name == "" {
		b.Name = b.Identifier
	}
	if b.Scopes == nil {
		b.Scopes = []map[string]any{}
	}
	rs := &refResourceServer{id: a.newID("rsv"), identifier: b.Identifier, name: b.Name, scopes: b.Scopes}
	a.apis[rs.id] = rs
	a.audit("api", "resource_server.created", "resource_server", rs.id, nil, rs.json())
	return 201, rs.json(), nil
}

func (a *refAPI) apiByIdentifier(identifier string) *refResourceServer {
	for _, rs := range a.apis {
		if rs.identifier == identifier {
			return rs
		}
	}
	return nil
}

// resourceServer reads or deletes an API; deleting it takes its permissions from every role.
func (a *refAPI) resourceServer(c *apiCall) (int, any, error) {
	rs := a.apis[c.r.PathValue("id")]
	if rs == nil {
		return 0, nil, notFound("resource_server", c.r.PathValue("id"))
	}
	if c.r.Method == http.MethodGet {
		return 200, rs.json(), nil
	}
	for _, id := range slices.Sorted(maps.Keys(a.roles)) {
		r := a.roles[id]
		r.perms = slices.DeleteFunc(r.perms, func(p permission) bool {
			if p.ResourceServer != rs.identifier {
				return false
			}
			a.audit("cascade", "role.permission.deleted", "role", id, map[string]any{"resource_server_identifier": p.ResourceServer, "permission_name": p.Name}, nil)
			return true
		})
	}
	delete(a.apis, rs.id)
	a.audit("api", "resource_server.deleted", "resource_server", rs.id, rs.json(), nil)
	return 204, nil, nil
}

// checkPermission is the 400 for a permission that is not a scope of an existing API.
func (a *refAPI) checkPermission(p permission) error {
	rs := a.apiByIdentifier(p.ResourceServer)
	if rs == nil {
		return apiFail(400, "invalid_body", "resource server %q does not exist", p.ResourceServer)
	}
	if !rs.defines(p.Name) {
		return apiFail(400, "invalid_body", "resource server %q does not define the scope %q", p.ResourceServer, p.Name)
	}
	return nil
}
