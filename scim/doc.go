// Package scim is the SCIM 2.0 surface (RFC 7643/7644, RFC 9865) over the
// store, at /scim/v2/connections/{connection_id}/.
//
// Handler decides every route itself (see ServeHTTP and parseRoute): it
// authenticates the bearer token against the connection in the URL (a token
// reaches only its own connection), parses the path relative to the
// connection (endpoint names case-insensitively, each segment unescaped
// once), checks the method and then the token's scopes for that route, reads
// the body under the size limit (413), and serves the request. A path that
// names no endpoint is a 404; there is no other way in. The endpoints:
//
//   - /Users and /Groups, with /{id} and /.search: reads, lists, POST, PUT,
//     PATCH and DELETE, all rendered here (render.go), so every endpoint
//     renders a resource the same way and the projection rules (RFC 7643
//     §3.1's "returned") hold everywhere. Each resource type is one
//     descriptor (resource_type.go; users.go, groups.go): its names, scope
//     noun, schemas, store operations, derived attribute and list plans.
//     The route table (route.go), the scopes, the root query and discovery
//     read the list of descriptors; the handlers are the same for every
//     type. PATCH is applied with document's
//     cached parser: the library would re-parse every path with
//     filter-parser (~0.1–0.8 ms each, fatal for 1,000-operation PATCHes).
//   - / and /.search: queries across Users and Groups (RFC 7644 §3.4.2.1),
//     which need both read scopes.
//   - /Bulk (bulk.go): each operation goes through the same route, scope
//     check, handler and audit as its single request.
//   - /ServiceProviderConfig, which tells the truth about what is supported.
//   - /Schemas and /ResourceTypes (discovery.go), from github.com/elimity-com/scim's
//     schema definitions but served here: no filtering, sorting or paging
//     (RFC 7644 §4; a filter is 403), Resources always a list.
//   - /Me answers 501.
//
// Lists (list_query.go, list.go, list_page.go) page by startIndex/count or
// by cursor (cursor.go): the cheapest plan is chosen (creation-order
// indexes, one of the resource type's indexed lookups, a scan) and every
// plan lists in creation order unless sorted, so a query pages the same
// whichever way its filter is written.
//
// A User's representation lists its groups, so its ETag covers them (see
// userVersion); a Group's is its record's revision, which membership changes
// move.
//
// Every error leaving this package is a SCIM error body: store errors are
// mapped in exactly one function (scimError), and internal errors are logged,
// never shown.
//
// It depends on store and scim/document and never imports roles.
package scim
