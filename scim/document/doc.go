// Package document owns SCIM resource documents as plain data: schema lookup,
// filter parsing (cached) and evaluation, PATCH application, attribute
// projection, sorting, and normalising the quirky bodies that real identity
// providers (Okta, Microsoft Entra ID) send.
//
// # The document model
//
// A document is a map[string]any holding the client-writable attributes of one
// resource, keyed by the canonical attribute names of its schema ("userName",
// "name" → map with "givenName", "emails" → []any of map[string]any, "active" →
// bool, "externalId" → string). Extension attributes live under the extension
// URN key ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" → map
// with "department", "manager" → map with "value", "$ref"). Numbers are
// json.Number. A document never holds "id", "meta", "schemas", "password"
// (write-only, never stored), a User's "groups" (derived from memberships) or a
// Group's "members" (membership is stored elsewhere; PATCH translates member
// operations into MemberEditor calls).
//
// Names in input (bodies, PATCH paths, filters, attributes= lists) are matched
// case-insensitively, as RFC 7643 §2.1 requires; documents produced here always
// use canonical names.
//
// Every function is pure: no I/O, no storage, no HTTP. Errors are
// errors.ScimError values (github.com/elimity-com/scim/errors, never pointers)
// with Status, ScimType and a Detail a person can act on; SCIM handlers can
// return them unchanged.
//
// # Parsing
//
// github.com/scim2/filter-parser/v2 is the grammar of record. It is slow (tens
// to hundreds of microseconds and thousands of allocations per call), so
// ParseFilter and ParsePath parse each "shape" once: the string literals of the
// input are replaced by "" placeholders, the shape is parsed and cached, and
// each call returns a fresh copy of the cached tree with the literals put back.
// FuzzParseCachedMatchesParser checks that the result equals filter-parser's own
// result for the original input.
//
// # Dependencies
//
// This package imports only the standard library, the elimity schema and error
// packages, and filter-parser. It must not import store, roles or net/http: it
// is the pure core that those layers build on.
package document
