// Package scim is the SCIM 2.0 surface (RFC 7643/7644) over the store, at
// /scim/v2/connections/{connection_id}/.
//
// It is built on github.com/elimity-com/scim, which routes and validates
// resource requests and writes list envelopes, with our ResourceHandlers for
// Users and Groups behind it. In front of the library, Handler does what the
// library cannot or must not do:
//
//   - bearer-token authentication scoped to the connection in the URL (a token
//     reaches only its own connection) and per-operation scopes;
//   - reading the body under the size limit (413) and normalising the quirky
//     bodies Okta and Entra ID send before the library validates them;
//   - PATCH, which the library would validate by re-parsing every path with
//     filter-parser (~0.1–0.8 ms each, fatal for 1,000-operation PATCHes):
//     we apply it ourselves with document's cached parser;
//   - list GETs, for the same reason: the library re-parses the filter and
//     rebuilds schemas on every request, three quarters of the cost of the
//     userName lookup Okta and Entra send before every create;
//   - POST, the hottest write: our normalisation already validates the body
//     against the same elimity schema definitions, and the response is
//     rendered from the document in hand; the library's second decode,
//     validation and render cost a fifth of the request;
//   - POST /.search, ServiceProviderConfig (the library's hard-codes every
//     optional feature off), If-None-Match → 304, Bulk.
//
// Every error leaving this package is a SCIM error body: store errors are
// mapped in exactly one function (scimError), and nothing else ever reaches
// the library, which would turn it into a 500 carrying the raw error text.
//
// It depends on store and scim/document and never imports roles.
package scim
