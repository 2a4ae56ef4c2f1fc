// Package conformance is a black-box HTTP conformance suite for SCIM 2.0 servers, as a library.
//
// It replays recorded scenarios — what Okta, Microsoft Entra ID and RFC 7644 clients really send,
// each citing the document that shows it — against any SCIM base URL and checks the answers.
// Scenarios under roles/ also drive an Auth0-shaped Management API beside the SCIM endpoint
// (Rolecall's /api/v2): they bind roles to what SCIM provisioned and check the effective roles a
// login server would be given. A server's tests run it in a few lines, with the subpackage
// conformancetest (kept apart so that a binary using Check does not link package testing):
//
//	func TestSCIMConformance(t *testing.T) {
//		conformancetest.Run(t, func(t *testing.T) conformance.Target {
//			return conformance.Target{BaseURL: srv.URL + "/scim/v2/connections/" + con, Token: tok}
//		})
//	}
//
// and a command line checks a live server with [Check] (Rolecall's is `rolecall conformance`).
// [Scenarios] exposes the parsed data, for listing and for fuzz seeds.
//
// The package imports the standard library only and nothing from this repository, so that it can
// test any SCIM server, Rolecall's included. Keep it that way. Its own tests replay every
// scenario against a small in-memory reference server (refserver*_test.go), so the data stays
// passable, and switch on deliberate defects in that server to prove the scenarios catch them.
//
// # Shared connections
//
// Scenarios never assume an empty connection: every userName, displayName and externalId they
// create carries the per-run variable {{run}}, and they assert on filtered lookups of those names,
// never on global totals. Role scenarios do the same with role and organization names, and filter
// the audit log by the ids they created. [Target.Cleanup] deletes what a run created, for live
// servers: users and groups over SCIM, and roles, organizations, API keys, attribute rules and
// role mappings over the Management API. Rules are tenant-wide, so rule filters and IdP values
// carry {{run}} too (userName sw "{{run}}."), and queries after a rule write pass its revision
// as min_revision, since rules are evaluated in the background.
//
// # Scenario files
//
// Scenarios live in testdata/{okta,entra,rfc,roles}/<name>.json, one per file, named for the
// behaviour they record. A file holds one object:
//
//	{
//	  "name": "entra/capitalized-patch-ops",        // "<dir>/<file name>", unique
//	  "description": "what the server must do, and why it matters",
//	  "source": {"title": "…", "url": "https://…", "section": "RFC 7644 §3.5.2", "quote": "…"},
//	  "needs": ["foreign"],                          // optional, see below
//	  "steps": [ … ]                                 // run in order; the first failing step ends the run
//	}
//
// The source needs an https URL or an RFC section ("RFC 7644 §3.5.2"), and a quote: the passage
// or request body that shows a real client sends this. A step:
//
//	{
//	  "name": "create the user",                     // unique within the scenario
//	  "needs": ["etag"],                             // optional: skip just this step without it
//	  "auth": "token",                               // token (default) | none | read_only | foreign | invalid
//	  "base": "self",                                // self (default) | foreign | api
//	  "request": {
//	    "method": "PATCH",
//	    "path": "/Users/{{u}}?aadOptscim062020",     // relative to the base, query written unencoded
//	    "headers": {"If-Match": "{{etag}}"},
//	    "body": {"Operations": [ … ]},               // JSON; or "rawBody": "{not json" sent as is
//	    "padTo": {"bytes": 9437184, "attribute": "displayName"}  // grow a body to an exact size
//	  },
//	  "expect": {
//	    "status": [200, 204],                        // a number or a list of acceptable numbers
//	    "headers": [{"header": "ETag", "exists": true}],
//	    "body": [{"path": "emails[?type==work].value", "equals": "{{run}}@example.com"}],
//	    "scimError": {"scimType": "invalidPath"}     // or {} or {"scimType": ["a", "b"]}
//	  },
//	  "capture": {"u": "id", "etag": "header ETag"},
//	  "eventually": {"within_ms": 5000}              // optional, GET only: re-send until it passes
//	}
//
// Auth "token" sends the bearer token of the step's base (Target.Token, Target.ForeignToken on
// the foreign base, Target.APIKey on the api base); "foreign" sends Target.ForeignToken whatever
// the base; "invalid" sends a well-formed token no server issued; "none" sends no Authorization
// header, so a step can set a malformed one in "headers", or a key an earlier step minted
// ("Authorization": "Bearer {{key}}"). Requests with a body carry Content-Type:
// application/scim+json, or application/json on the api base.
//
// Needs are "read_only_token" and "foreign" (the Target fields are set; implied by auth
// "read_only", auth "foreign" and base "foreign"), "management_api" (Target.ManagementURL and
// Target.APIKey are set; implied by base "api"), "connection_id" (Target.ConnectionID is set;
// implied by using {{connectionID}}), "tenant_settings" (Target.MayChangeTenantSettings: the
// scenario flips a tenant-wide setting; the runner saves the flags first and puts them back
// after the run, whatever its outcome), and "etag" and "sort" (the target's
// ServiceProviderConfig advertises etag.supported or sort.supported; fetched once per Target). A
// scenario or step whose needs are not met is skipped (t.Skip, Result.Skipped,
// Result.SkippedSteps), never failed. Role scenarios declare "management_api" for the whole
// scenario, so a target without the API skips them instead of running their SCIM steps alone.
//
// A step with "eventually" waits for an outcome a server derives after the write that caused it
// has answered (Rolecall's user.effective_roles.changed audit entries): the runner re-sends its
// GET, pausing 20 ms at first and doubling to 500 ms, until every expectation holds, and fails
// with the last answer once within_ms (at most 60000) has passed, or sooner when the context
// given to Run or Check ends first. Its captures are taken from the
// answer that passed.
//
// # The Management API
//
// A step with "base": "api" is sent to Target.ManagementURL (e.g. http://host/api/v2), the
// Auth0-shaped Management API described in Rolecall's DESIGN.md §3: roles and their permissions,
// bindings of roles to groups and users at tenant scope and inside organizations, organizations
// and their enabled connections (assign_membership_on_login), IdP role mappings per connection
// and attribute rules (SCIM filters over the user), API keys, the audit log, and the
// effective-role answers (GET /users/{id}/effective-roles, POST /effective-roles/query). Its
// errors are not SCIM errors, so the scimError shorthand is refused on that base; scenarios
// assert the API's own shape {"statusCode","error","message","errorCode"} with body matchers.
// A JSON body's variables are substituted inside strings; where the API wants a number from a
// variable (min_revision from a captured Rolecall-Revision header), the step sends a rawBody.
//
// # Variables
//
// {{name}} is replaced in the path, header values, the strings (and keys) of a JSON body, a raw
// body, matcher paths and matcher arguments. {{name|upper}} and {{name|lower}} change its case.
// Built in, fresh for each run of a scenario: run (a unique lowercase token), guid and guid2
// (random UUIDs), baseURL (Target.BaseURL), connectionID (Target.ConnectionID). Others come from
// "capture": a body path, or "header <Name>". A capture that finds nothing fails its step. The
// loader rejects a variable that no earlier step captures, or that comes from a step with needs
// this step lacks.
//
// # Body paths
//
// A path walks the decoded JSON body: members by name (Resources, name.givenName; exact, then
// case-insensitively, as SCIM attribute names are), array indexes ([0]), quoted names for keys
// with dots (['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].department), and
// filters [?field==value] selecting the elements of an array whose field, as text, equals value
// (members[?value=={{u1}}], emails[?type==work]). A filter that ends the path yields the list of
// matches; a segment after it reads the first match. The empty path is the whole body. Missing
// and JSON null are the same, as RFC 7643 §2.5 has it.
//
// # Matchers
//
// Each matcher is {"path": …} (body) or {"header": …} plus exactly one kind:
//
//	exists, absent, empty   true; empty is missing, null, "", [] or {}; a filter with no match is absent
//	equals, notEquals       JSON equality; numbers compare as numbers
//	equalsFold              string equality ignoring case
//	contains, notContains   substring of a string; element of an array (an object argument
//	                        matches any element that has all its members); for an object, a
//	                        substring of its JSON text ("the body nowhere holds the password")
//	matches                 RE2 regular expression on a string
//	length                  elements of an array (a filter's matches), members of an object, runes
//	gt, gte, lt, lte        number comparisons
//	type                    string, number, boolean, array or object
//
// Headers take exists, absent, empty, equals, notEquals, equalsFold, contains, notContains and
// matches, on the header's values joined by ", ". The scimError shorthand asserts the RFC 7644
// §3.12 error shape: schemas contains urn:ietf:params:scim:api:messages:2.0:Error, status is the
// HTTP status code as a string, detail is a non-empty string, and scimType is the given one.
//
// A failure names the step, the request, what was expected and what came back, and ends with the
// response status and body (cut to 2000 bytes). The first failing step ends the scenario, since
// later steps depend on its captures; every expectation of that step is reported.
//
// A padded request is sent with Expect: 100-continue (the runner clones an *http.Transport to
// wait for the interim response), so a server may refuse an oversized body by its
// Content-Length and close the connection without the client losing the answer.
//
// Where clients accept several answers the scenarios do too: a PATCH may answer 200 with the
// resource or 204, an empty list may omit Resources, and error detail wording is free.
//
// The role scenarios cite Auth0's documentation of the behaviour (Enterprise Groups, Organization
// Groups and auto-membership, organization member roles, inbound SCIM deactivation) and, in
// source.section, the section of Rolecall's DESIGN.md that makes it exact. What one request at a
// time cannot express (no answer that starts after a revoking write returned may still grant the
// role) is left to the server's own tests.
package conformance
