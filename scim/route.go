package scim

import (
	"net/http"
	"net/url"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/rolecall/rolecall/store"
)

// endpoint is what a path relative to the connection names.
type endpoint int

const (
	endpointUnknown               endpoint = iota
	endpointRoot                           // "/": a query across resource types
	endpointRootSearch                     // "/.search"
	endpointResources                      // a resource type's: "/Users", "/Groups"
	endpointResource                       // "/Users/{id}"
	endpointSearch                         // "/Users/.search"
	endpointBulk                           // "/Bulk"
	endpointMe                             // "/Me", "/Me/…"
	endpointServiceProviderConfig          // "/ServiceProviderConfig"
	endpointSchemas                        // "/Schemas", "/Schemas/{urn}"
	endpointResourceTypes                  // "/ResourceTypes", "/ResourceTypes/{name}"
)

// route is a parsed path relative to the connection.
type route struct {
	endpoint endpoint
	res      *resource // the resource type of resource endpoints
	id       string    // a resource id, schema URN or resource type name
}

// parseRoute parses the escaped path relative to the connection ("" or
// "/Users/usr_…"). Each segment is unescaped once, so an encoded slash stays
// inside its segment; endpoint names match case-insensitively (clients are not
// consistent about "/users"); a trailing slash is ignored; an empty segment
// or a deeper path names nothing.
func (h *Handler) parseRoute(escaped string) route {
	escaped = strings.TrimSuffix(strings.TrimPrefix(escaped, "/"), "/")
	if escaped == "" {
		return route{endpoint: endpointRoot}
	}
	parts := strings.Split(escaped, "/")
	for i, p := range parts {
		s, err := url.PathUnescape(p)
		if err != nil || s == "" {
			return route{}
		}
		parts[i] = s
	}
	name, id, hasID := parts[0], "", len(parts) == 2
	if hasID {
		id = parts[1]
	}
	if len(parts) > 2 && !strings.EqualFold(name, "Me") {
		return route{}
	}
	if name == ".search" && !hasID {
		return route{endpoint: endpointRootSearch}
	}
	if res := h.resourceAt(name); res != nil {
		switch {
		case !hasID:
			return route{endpoint: endpointResources, res: res}
		case id == ".search":
			return route{endpoint: endpointSearch, res: res}
		}
		return route{endpoint: endpointResource, res: res, id: id}
	}
	fold := func(s string) bool { return strings.EqualFold(name, s) }
	switch {
	case fold("Bulk") && !hasID:
		return route{endpoint: endpointBulk}
	case fold("Me"):
		return route{endpoint: endpointMe}
	case fold("ServiceProviderConfig") && !hasID:
		return route{endpoint: endpointServiceProviderConfig}
	case fold("Schemas"):
		return route{endpoint: endpointSchemas, id: id}
	case fold("ResourceTypes"):
		return route{endpoint: endpointResourceTypes, id: id}
	}
	return route{}
}

// methods lists the methods a route answers; HEAD goes with GET.
func (rt route) methods() []string {
	switch rt.endpoint {
	case endpointRoot, endpointServiceProviderConfig, endpointSchemas, endpointResourceTypes:
		return []string{http.MethodGet, http.MethodHead}
	case endpointRootSearch, endpointSearch, endpointBulk:
		return []string{http.MethodPost}
	case endpointResources:
		return []string{http.MethodGet, http.MethodHead, http.MethodPost}
	case endpointResource:
		return []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete}
	}
	return nil
}

// scopes lists the token scopes a request needs: none for discovery (any
// valid token of the connection may read it) and for Bulk (each of its
// operations is checked on its own), the read scope of every resource type
// for a query at the root.
func (h *Handler) scopes(rt route, method string) []string {
	if rt.endpoint == endpointRoot || rt.endpoint == endpointRootSearch {
		scopes := make([]string, len(h.resources))
		for i, res := range h.resources {
			scopes[i] = "get:" + res.noun
		}
		return scopes
	}
	if rt.res == nil {
		return nil
	}
	noun := rt.res.noun
	switch {
	case rt.endpoint == endpointSearch:
		return []string{"get:" + noun}
	case method == http.MethodPost:
		return []string{"post:" + noun}
	case method == http.MethodPut:
		return []string{"put:" + noun}
	case method == http.MethodPatch:
		return []string{"patch:" + noun}
	case method == http.MethodDelete:
		return []string{"delete:" + noun}
	}
	return []string{"get:" + noun}
}

// authorize decides whether a request may be served: 404 for a path that
// names nothing, 501 for /Me, 405 for a method the endpoint does not answer,
// 403 for a token without the scope the operation needs.
func (h *Handler) authorize(method string, rt route, token store.SCIMToken) error {
	switch rt.endpoint {
	case endpointUnknown:
		return scimErr(http.StatusNotFound, "", "No SCIM endpoint at this path; the endpoints are %s, /Bulk, /.search, /ServiceProviderConfig, /ResourceTypes and /Schemas.", strings.Join(h.endpoints(), ", "))
	case endpointMe:
		return scimErr(http.StatusNotImplemented, "", "/Me is not supported: a SCIM token authenticates an identity provider, not a user.")
	}
	allowed := rt.methods()
	ok := false
	for _, m := range allowed {
		ok = ok || m == method
	}
	if !ok {
		return methodNotAllowed{scimErr(http.StatusMethodNotAllowed, "", "This endpoint answers %s, not %s.", strings.Join(allowed, ", "), method), allowed}
	}
	for _, scope := range h.scopes(rt, method) {
		if !token.HasScope(scope) {
			return scimErr(http.StatusForbidden, "", "This token lacks the %q scope this request needs.", scope)
		}
	}
	return nil
}

// methodNotAllowed is a 405 that also says which methods are allowed.
type methodNotAllowed struct {
	scimerrors.ScimError
	allowed []string
}

// dispatch serves an authorized request; body is the request body already
// read (POST, PUT, PATCH).
func (h *Handler) dispatch(w http.ResponseWriter, r *http.Request, rt route, body []byte) {
	if rt.heavy(r.Method, body) {
		h.serveHeavy(w, r, func(r *http.Request) { h.serve(w, r, rt, body) })
		return
	}
	h.serve(w, r, rt, body)
}

// serve serves an authorized request once it may run.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, rt route, body []byte) {
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch rt.endpoint {
	case endpointServiceProviderConfig:
		h.serviceProviderConfig(w, r, stateOf(r))
	case endpointSchemas, endpointResourceTypes:
		h.discover(w, r, rt.endpoint, rt.id)
	case endpointRoot:
		h.rootQuery(w, r)
	case endpointRootSearch:
		h.rootSearch(w, r, body)
	case endpointBulk:
		h.bulk(w, r, body)
	case endpointSearch:
		rt.res.search(w, r, body)
	case endpointResources:
		if get {
			rt.res.listFromQuery(w, r)
		} else {
			rt.res.post(w, r, body)
		}
	case endpointResource:
		switch {
		case get && r.Header.Get("If-None-Match") != "" && rt.res.notModified(r, rt.id):
			w.WriteHeader(http.StatusNotModified)
		case get:
			rt.res.get(w, r, rt.id)
		case r.Method == http.MethodPut:
			rt.res.put(w, r, rt.id, body)
		case r.Method == http.MethodPatch:
			rt.res.patch(w, r, rt.id, body)
		default:
			rt.res.delete(w, r, rt.id)
		}
	default:
		// authorize lets no other route through.
		writeError(w, r, scimErr(http.StatusNotFound, "", "No SCIM endpoint at this path."))
	}
}
