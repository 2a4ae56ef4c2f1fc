// Package roles owns role semantics and the Management API (/api/v2/...):
// connections and their SCIM configuration and tokens, API keys, the audit
// log, and (built on those) roles bound to synced groups at tenant and
// organization scope with effective-role resolution.
//
// Every Management API response is JSON; every error has the one shape
// {"statusCode","error","message","errorCode"} written by writeError, and
// store errors are mapped to it in exactly one function (errorFor). Every
// endpoint checks its Auth0-named scope before doing anything.
//
// It depends on store and never imports scim: the two HTTP surfaces share
// data only through the store.
package roles
