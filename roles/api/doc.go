// Package api is the Management API (/api/v2/...): connections and their
// SCIM configuration and tokens, API keys, the audit log, tenant settings,
// resource servers, roles bound to synced groups and users at tenant and
// organization scope, and the effective-role endpoints and login query
// answered from a roles.Index.
//
// Every endpoint is one row of the routes table (routes.go): method,
// pattern, scope, resource noun, handler. Every endpoint checks its
// Auth0-named scope before doing anything. Every response is JSON; every
// error has the one shape {"statusCode","error","message","errorCode"}
// written by writeError, and store errors are mapped to it in exactly one
// function (errorFor).
//
// It depends on store and roles and never imports scim: the two HTTP
// surfaces share data only through the store.
package api
