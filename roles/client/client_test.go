package client_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/rolecall/rolecall/roles/client"
)

// One server walks every typed call an integrator uses: it provisions over
// SCIM like an IdP, then manages roles, organizations and resource servers
// through the client and reads the effective answer back.
func TestCallsAgainstARealServer(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	dir := newDirectory(t, c)

	// Connections, SCIM configuration and tokens.
	if got := must[*client.Connection](t)(c.Connection(ctx, dir.conn.ID)); got.Name != dir.conn.Name {
		t.Errorf("Connection name: got %q, want %q", got.Name, dir.conn.Name)
	}
	conns := must[[]client.Connection](t)(client.Collect(c.Connections(ctx, client.ListOptions{})))
	if len(conns) != 1 || conns[0].ID != dir.conn.ID {
		t.Errorf("Connections: got %+v, want the one connection", conns)
	}
	if cfg := must[*client.SCIMConfiguration](t)(c.SCIMConfiguration(ctx, dir.conn.ID)); cfg.SCIMEndpoint != dir.endpoint {
		t.Errorf("SCIM endpoint: got %q, want %q", cfg.SCIMEndpoint, dir.endpoint)
	}
	spare, rev, err := c.CreateSCIMToken(ctx, dir.conn.ID, client.SCIMTokenCreate{Scopes: []string{"get:users"}})
	if err != nil || spare.Token == "" || rev == 0 {
		t.Fatalf("CreateSCIMToken: %+v rev %d %v; want a secret and a revision", spare, rev, err)
	}
	tokens := must[[]client.SCIMToken](t)(c.SCIMTokens(ctx, dir.conn.ID))
	if len(tokens) != 2 || tokens[0].Token != "" || tokens[1].Token != "" {
		t.Errorf("SCIMTokens: got %+v, want two tokens without secrets", tokens)
	}
	if _, err := c.RevokeSCIMToken(ctx, dir.conn.ID, spare.TokenID); err != nil {
		t.Fatal(err)
	}
	if tokens := must[[]client.SCIMToken](t)(c.SCIMTokens(ctx, dir.conn.ID)); len(tokens) != 1 {
		t.Errorf("after RevokeSCIMToken: %d tokens, want 1", len(tokens))
	}

	// Users and groups, pushed by the IdP.
	alice, bob := dir.user("alice"), dir.user("bob")
	eng := dir.group("engineering", alice)
	if u := must[*client.User](t)(c.User(ctx, alice)); u.UserName != "alice" || !u.Active {
		t.Errorf("User: got %+v, want active alice", u)
	}
	users := must[[]client.User](t)(client.Collect(c.Users(ctx, client.ListOptions{Filters: map[string]string{"connection_id": dir.conn.ID}})))
	if len(users) != 2 {
		t.Errorf("Users: got %d, want 2", len(users))
	}
	if g := must[*client.Group](t)(c.Group(ctx, eng)); g.Name != "engineering" || g.MembersCount != 1 {
		t.Errorf("Group: got %+v, want engineering with 1 member", g)
	}
	groups := must[[]client.Group](t)(client.Collect(c.Groups(ctx, client.ListOptions{})))
	members := must[[]client.GroupMember](t)(client.Collect(c.GroupMembers(ctx, eng, client.ListOptions{})))
	if len(groups) != 1 || len(members) != 1 || members[0].UserID != alice {
		t.Errorf("Groups %+v, GroupMembers %+v; want engineering holding alice", groups, members)
	}

	// Resource servers and roles.
	api := must2[*client.ResourceServer](t)(c.CreateResourceServer(ctx, client.ResourceServerCreate{
		Identifier: "https://api.example.com", Name: "API", Scopes: []client.ScopeValue{{Value: "read:docs"}, {Value: "write:docs"}},
	}))
	if got := must[*client.ResourceServer](t)(c.ResourceServer(ctx, api.ID)); got.Identifier != "https://api.example.com" || len(got.Scopes) != 2 {
		t.Errorf("ResourceServer: got %+v", got)
	}
	if rss := must[[]client.ResourceServer](t)(client.Collect(c.ResourceServers(ctx, client.ListOptions{}))); len(rss) != 1 {
		t.Errorf("ResourceServers: got %d, want 1", len(rss))
	}
	editor, rev, err := c.CreateRole(ctx, client.RoleCreate{Name: "editor", Description: "edits"})
	if err != nil || rev == 0 || c.LastRevision() != rev {
		t.Fatalf("CreateRole: %v, rev %d, LastRevision %d; want the write's revision remembered", err, rev, c.LastRevision())
	}
	if got := must[*client.Role](t)(c.Role(ctx, editor.ID)); *got != *editor {
		t.Errorf("Role: got %+v, want %+v", got, editor)
	}
	desc := "edits documents"
	if got := must2[*client.Role](t)(c.UpdateRole(ctx, editor.ID, client.RoleUpdate{Description: &desc})); got.Description != desc || got.Name != "editor" {
		t.Errorf("UpdateRole: got %+v", got)
	}
	perm := client.PermissionRef{ResourceServerIdentifier: "https://api.example.com", PermissionName: "write:docs"}
	if _, err := c.AddRolePermissions(ctx, editor.ID, perm); err != nil {
		t.Fatal(err)
	}
	if perms := must[[]client.Permission](t)(c.RolePermissions(ctx, editor.ID)); len(perms) != 1 || perms[0].PermissionRef != perm {
		t.Errorf("RolePermissions: got %+v, want %+v", perms, perm)
	}
	if _, err := c.BindGroups(ctx, editor.ID, eng); err != nil {
		t.Fatal(err)
	}
	viewer := must2[*client.Role](t)(c.CreateRole(ctx, client.RoleCreate{Name: "viewer"}))
	if _, err := c.BindUsers(ctx, viewer.ID, bob); err != nil {
		t.Fatal(err)
	}
	if rg := must[[]client.Group](t)(client.Collect(c.RoleGroups(ctx, editor.ID, client.ListOptions{}))); len(rg) != 1 || rg[0].ID != eng {
		t.Errorf("RoleGroups: got %+v", rg)
	}
	if ru := must[[]client.OrganizationMember](t)(client.Collect(c.RoleUsers(ctx, viewer.ID, client.ListOptions{}))); len(ru) != 1 || ru[0].UserID != bob {
		t.Errorf("RoleUsers: got %+v", ru)
	}
	if gr := must[[]client.Role](t)(c.GroupRoles(ctx, eng)); len(gr) != 1 || gr[0].ID != editor.ID {
		t.Errorf("GroupRoles: got %+v", gr)
	}
	if ur := must[[]client.Role](t)(client.Collect(c.UserRoles(ctx, bob, client.ListOptions{}))); len(ur) != 1 || ur[0].ID != viewer.ID {
		t.Errorf("UserRoles: got %+v", ur)
	}

	// The login query and GET effective-roles, fenced on the last write.
	ans := must[*client.QueryAnswer](t)(c.Query(ctx, client.QueryRequest{
		Subjects:    []client.Subject{{UserID: alice}, {ConnectionID: dir.conn.ID, UserName: "bob"}, {UserID: "usr_missing"}},
		MinRevision: c.LastRevision(),
	}))
	if ans.Revision < c.LastRevision() || len(ans.Results) != 3 {
		t.Fatalf("Query: revision %d (want ≥ %d), %d results (want 3)", ans.Revision, c.LastRevision(), len(ans.Results))
	}
	a := ans.Results[0]
	if a.User == nil || a.User.ID != alice || !a.HasRole("editor") || len(a.Roles[0].Sources) != 1 || a.Roles[0].Sources[0].GroupID != eng {
		t.Errorf("alice: got %+v, want editor from group %s", a, eng)
	}
	if len(a.Permissions) != 1 || a.Permissions[0] != perm || a.Claims == nil || !slices.Equal(a.Claims.Permissions, []string{"write:docs"}) {
		t.Errorf("alice's permissions: got %+v, claims %+v", a.Permissions, a.Claims)
	}
	if b := ans.Results[1]; !b.HasRole("viewer") || b.Roles[0].Sources[0].Type != "direct" {
		t.Errorf("bob: got %+v, want viewer, direct", b)
	}
	if e := ans.Results[2]; e.Error == nil || e.Error.ErrorCode != "user_not_found" || e.Subject.UserID != "usr_missing" {
		t.Errorf("missing subject: got %+v, want a user_not_found error naming it", e)
	}
	eff := must[*client.EffectiveAnswer](t)(c.EffectiveRoles(ctx, alice, client.EffectiveOptions{MinRevision: c.LastRevision(), Include: []string{"roles", "claims"}}))
	if eff.UserID != alice || len(eff.Roles) != 1 || eff.Roles[0].Name != "editor" || eff.Claims == nil {
		t.Errorf("EffectiveRoles: got %+v", eff)
	}

	// Organizations.
	acme := must2[*client.Organization](t)(c.CreateOrganization(ctx, client.OrganizationCreate{Name: "acme", DisplayName: "Acme"}))
	if got := must[*client.Organization](t)(c.Organization(ctx, acme.ID)); got.Name != "acme" {
		t.Errorf("Organization: got %+v", got)
	}
	if orgs := must[[]client.Organization](t)(client.Collect(c.Organizations(ctx, client.ListOptions{}))); len(orgs) != 1 {
		t.Errorf("Organizations: got %d, want 1", len(orgs))
	}
	if _, _, err := c.EnableConnection(ctx, acme.ID, dir.conn.ID, false); err != nil {
		t.Fatal(err)
	}
	if ecs := must[[]client.EnabledConnection](t)(client.Collect(c.EnabledConnections(ctx, acme.ID, client.ListOptions{}))); len(ecs) != 1 || ecs[0].ConnectionID != dir.conn.ID {
		t.Errorf("EnabledConnections: got %+v", ecs)
	}
	if _, err := c.AddMembers(ctx, acme.ID, bob); err != nil {
		t.Fatal(err)
	}
	if ms := must[[]client.OrganizationMember](t)(client.Collect(c.Members(ctx, acme.ID, client.ListOptions{}))); len(ms) != 1 || ms[0].UserID != bob {
		t.Errorf("Members: got %+v", ms)
	}
	if _, err := c.AssignMemberRoles(ctx, acme.ID, bob, editor.ID); err != nil {
		t.Fatal(err)
	}
	if mr := must[[]client.Role](t)(client.Collect(c.MemberRoles(ctx, acme.ID, bob, client.ListOptions{}))); len(mr) != 1 || mr[0].ID != editor.ID {
		t.Errorf("MemberRoles: got %+v", mr)
	}
	if og := must[[]client.OrganizationGroup](t)(client.Collect(c.OrganizationGroups(ctx, acme.ID, client.ListOptions{}))); len(og) != 1 || og[0].ID != eng {
		t.Errorf("OrganizationGroups: got %+v", og)
	}
	if _, err := c.AssignGroupRoles(ctx, acme.ID, eng, viewer.ID); err != nil {
		t.Fatal(err)
	}
	if gr := must[[]client.RoleStatus](t)(c.GroupRolesIn(ctx, acme.ID, eng)); len(gr) != 1 || gr[0].ID != viewer.ID {
		t.Errorf("GroupRolesIn: got %+v", gr)
	}
	in := must[*client.QueryAnswer](t)(c.Query(ctx, client.QueryRequest{
		Subjects: []client.Subject{{UserID: bob, OrganizationID: acme.ID}}, MinRevision: c.LastRevision(), Include: []string{client.IncludeRoles},
	}))
	if r := in.Results[0]; r.Organization == nil || !r.Organization.Member || !r.HasRole("editor") || r.Permissions != nil {
		t.Errorf("bob in acme: got %+v, want a member holding editor, no permissions part", r)
	}

	// Unbinding and deleting.
	if _, err := c.RemoveMemberRoles(ctx, acme.ID, bob, editor.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RemoveGroupRoles(ctx, acme.ID, eng, viewer.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UnbindUsers(ctx, viewer.ID, bob); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RemoveRolePermissions(ctx, editor.ID, perm); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RemoveMembers(ctx, acme.ID, bob); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DisableConnection(ctx, acme.ID, dir.conn.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteOrganization(ctx, acme.ID); err != nil {
		t.Fatal(err)
	}
	rev, err = c.DeleteRole(ctx, viewer.ID)
	if err != nil || rev == 0 {
		t.Fatalf("DeleteRole: rev %d, %v", rev, err)
	}
	if _, err := c.Role(ctx, viewer.ID); !client.IsNotFound(err) {
		t.Errorf("Role after DeleteRole: got %v, want not found", err)
	}
}

// A listing longer than a page is walked page by page, every item once,
// and breaking out of the loop stops fetching.
func TestIteratorWalksEveryPage(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	const n = 7
	want := map[string]bool{}
	for i := range n {
		r := must2[*client.Role](t)(c.CreateRole(ctx, client.RoleCreate{Name: fmt.Sprintf("role-%d", i)}))
		want[r.ID] = true
	}
	got := map[string]int{}
	for role, err := range c.Roles(ctx, client.ListOptions{Take: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		got[role.ID]++
	}
	if len(got) != n {
		t.Errorf("got %d distinct roles over pages of 2, want %d", len(got), n)
	}
	for id, k := range got {
		if !want[id] || k != 1 {
			t.Errorf("role %s: seen %d times (created: %v), want once", id, k, want[id])
		}
	}
	seen := 0
	for _, err := range c.Roles(ctx, client.ListOptions{Take: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		if seen++; seen == 3 {
			break
		}
	}
	if seen != 3 {
		t.Errorf("break after 3: saw %d", seen)
	}
}

// Error answers come back as *client.Error values with the server's status
// and errorCode, classified by the helpers.
func TestErrorsAreValues(t *testing.T) {
	c, base := newClient(t)
	ctx := context.Background()
	must2[*client.Role](t)(c.CreateRole(ctx, client.RoleCreate{Name: "taken"}))
	_, _, dup := c.CreateRole(ctx, client.RoleCreate{Name: "taken"})
	_, missing := c.Role(ctx, "rol_doesnotexist")
	_, _, bad := c.CreateRole(ctx, client.RoleCreate{})
	_, badPage := client.Collect(c.Roles(ctx, client.ListOptions{Take: 1000}))
	_, far := c.Query(ctx, client.QueryRequest{Subjects: []client.Subject{{UserID: "x"}}, MinRevision: 1 << 40})
	_, unauth := client.New(base, "not-a-key").Role(ctx, "x")
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		is     func(error) bool
	}{
		{"duplicate name", dup, 409, "role_conflict", client.IsConflict},
		{"unknown id", missing, 404, "inexistent_role", client.IsNotFound},
		{"missing name", bad, 400, "invalid_body", client.IsBadRequest},
		{"take beyond 100", badPage, 400, "invalid_query_string", client.IsBadRequest},
		{"min_revision not reached", far, 409, "revision_not_reached", client.IsRevisionNotReached},
		{"unknown key", unauth, 401, "invalid_token", client.IsUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e *client.Error
			if !errors.As(tt.err, &e) {
				t.Fatalf("got %v (%T), want a *client.Error", tt.err, tt.err)
			}
			if e.StatusCode != tt.status || e.ErrorCode != tt.code || e.Message == "" {
				t.Errorf("got %d %q %q, want %d %q with a message", e.StatusCode, e.ErrorCode, e.Message, tt.status, tt.code)
			}
			if !tt.is(tt.err) {
				t.Errorf("the helper does not recognise %v", tt.err)
			}
			if client.IsNotFound(tt.err) != (tt.status == 404) {
				t.Errorf("IsNotFound(%v) = %v", tt.err, client.IsNotFound(tt.err))
			}
		})
	}
}
