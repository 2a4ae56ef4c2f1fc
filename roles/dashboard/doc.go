// Package dashboard owns Rolecall's web admin, served at /dashboard/: the
// pages for connections and their SCIM tokens, Enterprise Groups and their
// roles, users and their effective roles (with why, including the path of
// member groups when nested group roles are on) and direct permissions,
// roles (tabs for their permissions, Enterprise Groups, direct users and
// organization bindings; a delete confirmation listing every binding it
// removes), APIs (resource servers) whose scopes are the permissions the
// forms pick from, organizations with their members (explicit or auto) and
// groups' roles, Management API keys, event streams to webhooks (a test
// event, their recent deliveries, a signing secret shown once on create and
// on rotation), the tenant's settings and the audit
// log (ids named, paged both ways), plus the signed-in session that drives
// them. A page that does not exist, or whose object the API does not have,
// is a 404 page with a way back.
//
// Every page reads and every form writes through the Management API, called
// in-process: the dashboard builds an *http.Request carrying the session's
// secret as its bearer credential (acting with the signed-in key's scopes)
// and serves it with the API's own handler. Scopes,
// validation, error messages and audit entries (whose actor is the signed-in
// key) therefore come from the API and nowhere else; the dashboard only
// decides what to show, hiding actions the key's scopes do not allow (the API
// still refuses them if a form is forced).
//
// Sessions live in the store, behind the Management API: signing in trades
// the API key for a session (POST /sessions), whose secret is all the
// HttpOnly, SameSite=Strict cookie holds and all the API calls carry; the
// key's secret is kept nowhere. So any node serves any session, a restart
// signs nobody out, and signing out (DELETE /sessions/self) ends the session
// on every node. Nothing about a session is kept in memory: the CSRF token is
// an HMAC of the session secret, which any node can check, and a form's
// outcome travels to the next page in a short-lived flash cookie, signed
// with a key derived from the session secret. Every POST carries the CSRF
// token and must come from the dashboard's own origin; GET never changes
// state.
//
// Secrets (a new SCIM token, a new API key) are shown once, on the answer
// to the form that creates them: rendered with Cache-Control: no-store,
// never redirected to, never kept in the session or a flash.
//
// Pages are html/template, with one hand-written CSS file and a little
// hand-written JavaScript (copy buttons, confirmation dialogs, the role
// filter), all embedded; every page works without the script.
//
// It must not import store or scim: the Management API is its only way to
// the data. It imports roles/api only for the names the API defines (scopes,
// strategies, event types), and store/httpconv, which holds HTTP conventions
// and no data.
package dashboard
