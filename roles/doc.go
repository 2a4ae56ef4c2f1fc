// Package roles owns role semantics: the in-memory role index, kept current
// by the store's commits, and effective-role resolution with provenance
// (which group, nested through which groups, at which scope, granted each
// role), folded into permissions and a token-shaped claims block.
//
// The index writes its answers as JSON itself (AppendQueryAnswer,
// AppendEffectiveAnswer) from encoded forms it keeps, so the login query
// costs one read lock and no intermediate values. Serving them over HTTP is
// the Management API's job (roles/api).
//
// It depends on store only: no net/http, and never scim or roles/api.
package roles
