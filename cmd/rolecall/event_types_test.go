package main

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rolecall/rolecall/store"
)

// logEntry is what this test needs of an audit entry: its id and type.
type logEntry struct{ id, typ string }

// auditLog pages GET /logs from the start and returns every entry, oldest
// first.
func (s *testServer) auditLog(t *testing.T) []logEntry {
	t.Helper()
	var out []logEntry
	from := ""
	for {
		page := s.api(t, "GET", "/logs?take=100"+from, nil, http.StatusOK)
		for _, e := range page["logs"].([]any) {
			m := e.(map[string]any)
			out = append(out, logEntry{m["id"].(string), m["type"].(string)})
		}
		next, _ := page["next"].(string)
		if next == "" {
			return out
		}
		from = "&from=" + url.QueryEscape(next)
	}
}

// emitEveryEventType drives the public surfaces (SCIM and the Management
// API, nothing else) through at least one operation writing each audit
// event type. Each step names the types it is there for; the caller checks
// the log, so a step that stops emitting its type fails by the type's name.
func emitEveryEventType(t *testing.T, s *testServer) {
	// connection.created, scim_configuration.created, scim_token.created,
	// then connection.updated, scim_configuration.updated.
	con, base := s.connection(t, "all-types")
	idp := scimClient{t, base, s.scimToken(t, con)}
	s.api(t, "PATCH", "/connections/"+con, map[string]any{"display_name": "All types"}, 200)
	s.api(t, "PATCH", "/connections/"+con+"/scim-configuration", map[string]any{"user_id_attribute": "all_types_id"}, 200)

	// scim_token.deleted, scim_configuration.deleted, connection.deleted,
	// each on its own connection.
	other, _ := s.connection(t, "all-types-other")
	tok := s.api(t, "POST", "/connections/"+other+"/scim-configuration/tokens", map[string]any{}, 201)["token_id"].(string)
	s.api(t, "DELETE", "/connections/"+other+"/scim-configuration/tokens/"+tok, nil, 204)
	s.api(t, "DELETE", "/connections/"+other+"/scim-configuration", nil, 204)
	s.api(t, "DELETE", "/connections/"+other, nil, 204)

	// user.created, user.updated; group.created, group.member.added,
	// group.updated, group.member.deleted; user.deleted, group.deleted.
	alice := idp.activeUser("alice@types.test", "Engineering")
	bob := idp.user("bob@types.test")
	carol := idp.user("carol@types.test")
	idp.do("PATCH", "/Users/"+alice, patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "Alice"}), 204)
	eng := idp.group("Engineering", alice)
	idp.do("PATCH", "/Groups/"+eng, patchOp(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": bob}}}), 204)
	idp.do("PATCH", "/Groups/"+eng, patchOp(map[string]any{"op": "replace", "path": "displayName", "value": "Eng"}), 204)
	idp.do("PATCH", "/Groups/"+eng, patchOp(map[string]any{"op": "remove", "path": `members[value eq "` + bob + `"]`}), 204)
	idp.do("DELETE", "/Users/"+carol, nil, 204)
	idp.do("DELETE", "/Groups/"+idp.group("Doomed"), nil, 204)

	// role.created, role.updated, role.deleted.
	admin := s.api(t, "POST", "/roles", map[string]any{"name": "admin"}, 201)["id"].(string)
	s.api(t, "PATCH", "/roles/"+admin, map[string]any{"description": "all powers"}, 200)
	s.api(t, "DELETE", "/roles/"+s.api(t, "POST", "/roles", map[string]any{"name": "doomed"}, 201)["id"].(string), nil, 204)

	// resource_server.created, resource_server.updated; a role permission
	// (role.updated) and user.permission.assigned, user.permission.deleted;
	// then resource_server.deleted, which drops the role's permission in
	// the same write (role.permission.deleted, a cascade).
	const reports = "https://reports.types.test"
	rs := s.api(t, "POST", "/resource-servers", apiDef(reports, "Reports", "read:reports"), 201)["id"].(string)
	s.api(t, "PATCH", "/resource-servers/"+rs, map[string]any{"name": "Reports v2"}, 200)
	s.api(t, "POST", "/roles/"+admin+"/permissions", permBody([2]string{reports, "read:reports"}), 201)
	s.api(t, "POST", "/users/"+alice+"/permissions", permBody([2]string{reports, "read:reports"}), 201)
	s.api(t, "DELETE", "/users/"+alice+"/permissions", permBody([2]string{reports, "read:reports"}), 204)
	s.api(t, "DELETE", "/resource-servers/"+rs, nil, 204)

	// group.role.assigned, group.role.deleted; user.role.assigned,
	// user.role.deleted. The deriver coalesces, so a grant undone at once
	// may leave no trace: alice keeps admin, a lasting change of her
	// tenant roles that user.effective_roles.changed must record.
	roles := map[string]any{"roles": []string{admin}}
	viewer := s.api(t, "POST", "/roles", map[string]any{"name": "viewer"}, 201)["id"].(string)
	s.api(t, "POST", "/groups/"+eng+"/roles", roles, 204)
	s.api(t, "DELETE", "/groups/"+eng+"/roles", roles, 204)
	s.api(t, "POST", "/users/"+alice+"/roles", map[string]any{"roles": []string{admin, viewer}}, 204)
	s.api(t, "DELETE", "/users/"+alice+"/roles", map[string]any{"roles": []string{viewer}}, 204)

	// organization.created, organization.connection.added and .updated,
	// organization.member.added, organization.member.role.assigned and
	// .deleted, organization.group.role.assigned and .deleted,
	// organization.member.deleted, organization.connection.removed,
	// organization.updated, organization.deleted.
	org := "/organizations/" + s.api(t, "POST", "/organizations", map[string]any{"name": "types"}, 201)["id"].(string)
	s.api(t, "POST", org+"/enabled_connections", map[string]any{"connection_id": con, "assign_membership_on_login": false}, 201)
	s.api(t, "PATCH", org+"/enabled_connections/"+con, map[string]any{"assign_membership_on_login": true}, 200)
	s.api(t, "POST", org+"/members", map[string]any{"members": []string{alice}}, 204)
	s.api(t, "POST", org+"/members/"+alice+"/roles", roles, 204)
	s.api(t, "DELETE", org+"/members/"+alice+"/roles", roles, 204)
	s.api(t, "POST", org+"/groups/"+eng+"/roles", roles, 204)
	s.api(t, "DELETE", org+"/groups/"+eng+"/roles", roles, 204)
	s.api(t, "DELETE", org+"/members", map[string]any{"members": []string{alice}}, 204)
	s.api(t, "DELETE", org+"/enabled_connections/"+con, nil, 204)
	s.api(t, "PATCH", org, map[string]any{"display_name": "Types"}, 200)
	s.api(t, "DELETE", org, nil, 204)

	// tenant.settings.updated.
	s.api(t, "PATCH", "/tenants/settings", map[string]any{"flags": map[string]any{"nested_group_roles": true}}, 200)

	// api_key.created, api_key.deleted.
	key := s.api(t, "POST", "/api-keys", map[string]any{"name": "types", "scopes": []string{"read:roles"}}, 201)["id"].(string)
	s.api(t, "DELETE", "/api-keys/"+key, nil, 204)

	// session.created, then session.deleted by the session itself.
	session := s.api(t, "POST", "/sessions", nil, 201)["session"].(string)
	if resp, out := call(t, "DELETE", s.URL+"/api/v2/sessions/self", session, nil); resp.StatusCode != 204 {
		t.Fatalf("DELETE /sessions/self: %d %v", resp.StatusCode, out)
	}

	// connection.role_mapping.created, connection.role_mapping.deleted.
	mapping := s.api(t, "POST", "/connections/"+con+"/role-mappings",
		map[string]any{"idp_value": "Types.Admin", "role_id": admin, "organization_id": nil}, 201)["id"].(string)
	s.api(t, "DELETE", "/connections/"+con+"/role-mappings/"+mapping, nil, 204)

	// role_rule.created, role_rule.updated, role_rule.deleted.
	rule := s.api(t, "POST", "/role-rules", map[string]any{"name": "eng", "filter": `department eq "Engineering"`,
		"roles": []string{admin}, "organization_id": nil, "connection_id": nil}, 201)["id"].(string)
	s.api(t, "PATCH", "/role-rules/"+rule, map[string]any{"name": "engineering"}, 200)
	s.api(t, "DELETE", "/role-rules/"+rule, nil, 204)

	// event_stream.created, event_stream.updated, event_stream.deleted, on
	// a second stream with its own receiver (it never sees a subscribed
	// event: no API key is made while it exists).
	second := newHookReceiver(t, 0)
	stream := strings.Fields(createStream(t, s.URL, second.srv.URL+"/hook", store.EventAPIKeyCreated))
	second.secret.Store(stream[1])
	s.api(t, "PATCH", "/event-streams/"+stream[0], map[string]any{"name": "renamed"}, 200)
	s.api(t, "DELETE", "/event-streams/"+stream[0], nil, 204)
}

// Issue 12, "Tests": every event type Rolecall emits appears in a test.
// Over real HTTP, a stream subscribed to every type in store.EventTypes
// watches the public surfaces drive at least one write of each: the audit
// log then holds exactly the types of store.EventTypes (a listed type never
// emitted, or an emitted type not listed, fails with its name), and the
// webhook accepted, signed, every entry written after the stream was made,
// in the log's order, each id once or repeated as itself.
func TestEveryEventTypeIsLoggedAndDelivered(t *testing.T) {
	s := startServer(t, func(c *config) { c.AllowHTTPWebhooks = true })
	rc := newHookReceiver(t, 0)
	idSecret := strings.Fields(createStream(t, s.URL, rc.srv.URL+"/hook", store.EventTypes...))
	// The stream starts past its own creation entry: nothing is delivered
	// before the next write, so the receiver knows the secret in time.
	rc.secret.Store(idSecret[1])

	emitEveryEventType(t, s)
	// Derived entries follow the writes that cause them: wait for one (a
	// missing one is reported below, by name), then for the log to settle.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if len(s.api(t, "GET", "/logs?take=1&type="+store.EventUserEffectiveRolesChanged, nil, 200)["logs"].([]any)) > 0 {
			break
		}
	}
	s.settleDerived(t)
	log := s.auditLog(t)

	emitted := map[string]bool{}
	for _, e := range log {
		emitted[e.typ] = true
	}
	for _, typ := range store.EventTypes {
		if !emitted[typ] {
			t.Errorf("%s is in store.EventTypes but no operation wrote it to the audit log", typ)
		}
	}
	for typ := range emitted {
		if !slices.Contains(store.EventTypes, typ) {
			t.Errorf("%s is in the audit log but not in store.EventTypes", typ)
		}
	}

	// What the stream owes: every subscribed entry after its creation,
	// the first write to this fresh server.
	if len(log) == 0 || log[0].typ != store.EventEventStreamCreated {
		t.Fatalf("the log does not begin with the stream's creation: %v", log[:min(len(log), 3)])
	}
	var want []string
	for _, e := range log[1:] {
		if slices.Contains(store.EventTypes, e.typ) {
			want = append(want, e.id+" "+e.typ)
		}
	}
	delivered := func() ([]string, []string) {
		seen := map[string]string{}
		var order, bad []string
		for _, ev := range rc.accepted() {
			got := ev.ID + " " + ev.Type
			if ev.Data.ID != ev.ID || ev.Data.Type != ev.Type {
				bad = append(bad, fmt.Sprintf("event %s carries entry %s %s", got, ev.Data.ID, ev.Data.Type))
			}
			if prev, ok := seen[ev.ID]; ok {
				if prev != got {
					bad = append(bad, fmt.Sprintf("id %s delivered as %q and %q", ev.ID, prev, got))
				}
				continue
			}
			seen[ev.ID] = got
			order = append(order, got)
		}
		return order, bad
	}
	deadline := time.Now().Add(10 * time.Second)
	for got, _ := delivered(); len(got) < len(want) && time.Now().Before(deadline); got, _ = delivered() {
		time.Sleep(20 * time.Millisecond)
	}
	got, bad := delivered()
	for _, b := range bad {
		t.Error(b)
	}
	if !slices.Equal(got, want) {
		t.Errorf("the stream delivered %d events, want %d in log order:\n got %v\nwant %v", len(got), len(want), got, want)
	}
	deliveredTypes := map[string]bool{}
	for _, g := range got {
		deliveredTypes[strings.Fields(g)[1]] = true
	}
	for _, typ := range store.EventTypes {
		// event_stream.created too: the second stream's.
		if !deliveredTypes[typ] {
			t.Errorf("the receiver never got a %s event", typ)
		}
	}
	t.Logf("%d audit entries of %d types; %d delivered", len(log), len(emitted), len(got))
	rc.mu.Lock()
	rejected := rc.rejected
	rc.mu.Unlock()
	if rejected != 0 {
		t.Errorf("the receiver rejected %d deliveries, want every one signed with the stream's secret", rejected)
	}
}
