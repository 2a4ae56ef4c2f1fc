package scim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/scim"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/httpconv"
	"github.com/rolecall/rolecall/store/storetest"
)

// bulkResult is one operation of a decoded BulkResponse.
type bulkResult struct {
	Method   string         `json:"method"`
	BulkID   string         `json:"bulkId"`
	Location string         `json:"location"`
	Version  string         `json:"version"`
	Status   string         `json:"status"`
	Response map[string]any `json:"response"`
}

// bulkOp builds one bulk operation; empty fields are left out.
func bulkOp(method, path, bulkID string, data any) map[string]any {
	o := map[string]any{"method": method, "path": path}
	if bulkID != "" {
		o["bulkId"] = bulkID
	}
	if data != nil {
		o["data"] = data
	}
	return o
}

func bulkRequest(failOnErrors int, ops ...map[string]any) map[string]any {
	req := map[string]any{"schemas": []string{bulkRequestSchema}, "Operations": ops}
	if failOnErrors > 0 {
		req["failOnErrors"] = failOnErrors
	}
	return req
}

// mustBulk POSTs a bulk request, expects 200 and a BulkResponse, and returns
// its operations.
func (tg *target) mustBulk(t *testing.T, req any, opts ...reqOption) ([]bulkResult, response) {
	t.Helper()
	res := tg.mustDo(t, http.StatusOK, "POST", "/Bulk", req, opts...)
	var out struct {
		Schemas    []string     `json:"schemas"`
		Operations []bulkResult `json:"Operations"`
	}
	if err := json.Unmarshal(res.body, &out); err != nil {
		t.Fatalf("%v\nnot a BulkResponse: %v", res, err)
	}
	if !slices.Contains(out.Schemas, bulkResponseSchema) {
		t.Fatalf("%v\nschemas %v, want %s", res, out.Schemas, bulkResponseSchema)
	}
	for _, op := range out.Operations {
		if op.Status >= "400" && (op.Response == nil || str(op.Response["status"]) != op.Status || str(op.Response["detail"]) == "") {
			t.Errorf("%v\na failed operation without a SCIM error response: %+v", res, op)
		}
	}
	return out.Operations, res
}

func lastSegment(s string) string { return s[strings.LastIndexByte(s, '/')+1:] }

// TestBulkCreatesWithBulkIDReferences follows RFC 7644 §3.7.2: a group
// created first refers to a user created later in the same request; a
// second user's manager and a PATCH refer to bulkIds too.
func TestBulkCreatesWithBulkIDReferences(t *testing.T) {
	tg := newTarget(t)
	ops, res := tg.mustBulk(t, bulkRequest(0,
		bulkOp("POST", "/Groups", "tour", map[string]any{"schemas": []string{groupSchema}, "displayName": "Tour Guides",
			"members": []any{map[string]any{"value": "bulkId:alice", "type": "User"}}}),
		bulkOp("POST", "/Users", "alice", map[string]any{"schemas": []string{userSchema}, "userName": "alice@acme.test"}),
		bulkOp("POST", "Users", "bob", map[string]any{"schemas": []string{userSchema, enterpriseURN}, "userName": "bob@acme.test",
			enterpriseURN: map[string]any{"manager": map[string]any{"value": "bulkId:alice"}}}),
		bulkOp("PATCH", "/Groups/bulkId:tour", "", patchOp(op("add", "members", members("bulkId:bob")))),
	))
	if len(ops) != 4 {
		t.Fatalf("%v\nwant 4 operation results", res)
	}
	// Results come in processing order: the group waited for alice, the
	// PATCH for the group.
	if got := []string{ops[0].BulkID, ops[1].BulkID, ops[2].BulkID, ops[3].Method}; !slices.Equal(got, []string{"alice", "bob", "tour", "PATCH"}) {
		t.Errorf("processing order %v, want alice, bob, tour (which needs alice), then the PATCH (which needs tour)", got)
	}
	byID := map[string]bulkResult{}
	for _, o := range ops {
		byID[o.BulkID] = o
		if o.Status >= "300" {
			t.Errorf("%v\noperation %+v failed", res, o)
		}
		if o.Location == "" || o.Version == "" {
			t.Errorf("operation %+v has no location or version", o)
		}
	}
	alice, bob, tour := lastSegment(byID["alice"].Location), lastSegment(byID["bob"].Location), lastSegment(byID["tour"].Location)
	if byID["alice"].Status != "201" || byID["alice"].Method != "POST" || !strings.HasPrefix(byID["alice"].Location, tg.base+"/Users/") {
		t.Errorf("alice's result %+v, want 201 with a location under /Users", byID["alice"])
	}
	if got := memberIDs(t, tg.db, tour); !slices.Equal(got, sorted(alice, bob)) {
		t.Errorf("members of the group %v, want alice and bob %v", got, sorted(alice, bob))
	}
	manager := tg.mustDo(t, http.StatusOK, "GET", "/Users/"+bob, nil).object(t)[enterpriseURN].(map[string]any)["manager"].(map[string]any)
	if manager["value"] != alice {
		t.Errorf("bob's manager %v, want alice %s", manager, alice)
	}
	// The version answered is the resource's ETag.
	if got := tg.mustDo(t, http.StatusOK, "GET", "/Groups/"+tour, nil).header.Get("ETag"); got != ops[3].Version {
		t.Errorf("the PATCH answered version %s, the group's ETag is %s", ops[3].Version, got)
	}
	if rev := res.revision(t); rev != tg.db.Revision() {
		t.Errorf("%s %d, store at %d", httpconv.RevisionHeader, rev, tg.db.Revision())
	}
}

// TestBulkOperationsAnswerAsTheirSingleRequests: PUT, PATCH and DELETE with
// and without version, and failures with their SCIM errors, side by side
// with the single requests' answers.
func TestBulkOperationsAnswerAsTheirSingleRequests(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "bulk@acme.test", nil)
	g := tg.mustCreateGroup(t, "Bulk", nil)
	gone := tg.mustCreateUser(t, "gone@acme.test", nil)
	tag := tg.mustDo(t, http.StatusOK, "GET", "/Users/"+u, nil).header.Get("ETag")
	stale := bulkOp("PATCH", "/Users/"+u, "", patchOp(op("replace", "title", "stale")))
	stale["version"] = `W/"1"`
	current := bulkOp("PUT", "/Users/"+u, "", map[string]any{"schemas": []string{userSchema}, "userName": "bulk@acme.test", "title": "Put"})
	current["version"] = tag
	ops, _ := tg.mustBulk(t, bulkRequest(0,
		stale,
		current,
		bulkOp("PATCH", "/Groups/"+g, "", patchOp(op("add", "members", members(u)))),
		bulkOp("DELETE", "/Users/"+gone, "", nil),
		bulkOp("DELETE", "/Users/"+gone, "", nil),
		bulkOp("POST", "/Users", "dup", map[string]any{"schemas": []string{userSchema}, "userName": "BULK@acme.test"}),
		bulkOp("POST", "/Users", "bad", map[string]any{"schemas": []string{userSchema}, "userName": "x", "x509Certificates": []any{map[string]any{"value": "not base64!"}}}),
		bulkOp("PATCH", "/Groups/"+g, "", patchOp(op("add", "members", members("usr_0000000000000000")))),
		bulkOp("GET", "/Users/"+u, "", nil),
		bulkOp("POST", "/Users/"+u, "p", map[string]any{"schemas": []string{userSchema}, "userName": "y"}),
		bulkOp("POST", "/Bulk", "b", map[string]any{}),
		bulkOp("PUT", "/Users?x=1", "", map[string]any{}),
		bulkOp("POST", "/Users", "", map[string]any{"schemas": []string{userSchema}, "userName": "nobulkid@acme.test"}),
		bulkOp("DELETE", "/Groups/"+g+"/members", "", nil),
	))
	want := []struct {
		status, scimType string
		location         string
	}{
		{"412", "", tg.base + "/Users/" + u},
		{"200", "", tg.base + "/Users/" + u},
		{"204", "", tg.base + "/Groups/" + g},
		{"204", "", tg.base + "/Users/" + gone},
		{"404", "", tg.base + "/Users/" + gone},
		{"409", "uniqueness", ""},
		{"400", "invalidValue", ""},
		{"400", "invalidValue", tg.base + "/Groups/" + g},
		{"400", "invalidValue", ""},
		{"405", "", ""},
		{"400", "invalidValue", ""},
		{"400", "invalidValue", ""},
		{"400", "invalidValue", ""},
		{"400", "invalidValue", ""},
	}
	if len(ops) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(ops), len(want), ops)
	}
	for i, w := range want {
		o := ops[i]
		if o.Status != w.status || str(o.Response["scimType"]) != w.scimType {
			t.Errorf("operation %d: status %s scimType %q (%v), want %s %q", i, o.Status, str(o.Response["scimType"]), o.Response["detail"], w.status, w.scimType)
		}
		if w.location != "" && o.Location != w.location {
			t.Errorf("operation %d: location %q, want %q", i, o.Location, w.location)
		}
	}
	if !strings.Contains(str(ops[6].Response["detail"]), "x509Certificates.value") {
		t.Errorf("the invalid binary value's detail %q does not name the attribute", ops[6].Response["detail"])
	}
	got := tg.mustDo(t, http.StatusOK, "GET", "/Users/"+u, nil)
	if title := got.object(t)["title"]; title != "Put" {
		t.Errorf("title %v after the bulk, want Put (the stale PATCH must not apply)", title)
	}
	if got.header.Get("ETag") == ops[1].Version {
		t.Errorf("joining the group did not change the user's ETag %s", ops[1].Version)
	}
	if got := memberIDs(t, tg.db, g); !slices.Equal(got, []string{u}) {
		t.Errorf("members %v, want [%s]", got, u)
	}
}

// TestBulkFailOnErrorsStops: after failOnErrors failures the remaining
// operations are neither applied nor reported.
func TestBulkFailOnErrorsStops(t *testing.T) {
	tg := newTarget(t)
	tg.mustCreateUser(t, "taken@acme.test", nil)
	user := func(name string) map[string]any {
		return map[string]any{"schemas": []string{userSchema}, "userName": name}
	}
	ops, _ := tg.mustBulk(t, bulkRequest(2,
		bulkOp("POST", "/Users", "a", user("a@acme.test")),
		bulkOp("POST", "/Users", "b", user("taken@acme.test")),
		bulkOp("POST", "/Users", "c", user("c@acme.test")),
		bulkOp("POST", "/Users", "d", user("taken@acme.test")),
		bulkOp("POST", "/Users", "e", user("e@acme.test")),
	))
	var statuses []string
	for _, o := range ops {
		statuses = append(statuses, o.Status)
	}
	if !slices.Equal(statuses, []string{"201", "409", "201", "409"}) {
		t.Errorf("statuses %v, want 201 409 201 409 and nothing after the second failure", statuses)
	}
	l := tg.mustList(t, "GET", "/Users?filter="+urlQuery(`userName eq "e@acme.test"`), nil)
	if l.TotalResults != 0 {
		t.Errorf("the operation after failOnErrors was reached was applied")
	}
}

// TestBulkUnresolvableReferences: a bulkId no POST defines is 400; one whose
// POST failed, and circular ones, are 409 (RFC 7644 §3.7.1); the rest of
// the request still applies.
func TestBulkUnresolvableReferences(t *testing.T) {
	tg := newTarget(t)
	tg.mustCreateUser(t, "taken@acme.test", nil)
	group := func(name string, memberRefs ...string) map[string]any {
		return map[string]any{"schemas": []string{groupSchema}, "displayName": name, "members": members(memberRefs...)}
	}
	ops, _ := tg.mustBulk(t, bulkRequest(0,
		bulkOp("POST", "/Groups", "g1", group("G1", "bulkId:nowhere")),
		bulkOp("POST", "/Users", "dup", map[string]any{"schemas": []string{userSchema}, "userName": "taken@acme.test"}),
		bulkOp("POST", "/Groups", "g2", group("G2", "bulkId:dup")),
		bulkOp("POST", "/Groups", "a", group("A", "bulkId:b")),
		bulkOp("POST", "/Groups", "b", group("B", "bulkId:a")),
		bulkOp("POST", "/Groups", "self", group("Self", "bulkId:self")),
		bulkOp("POST", "/Groups", "c", group("C", "bulkId:a")),
		bulkOp("POST", "/Groups", "fine", group("Fine")),
	))
	got := map[string]string{}
	for _, o := range ops {
		got[o.BulkID] = o.Status
	}
	want := map[string]string{"g1": "400", "dup": "409", "g2": "409", "a": "409", "b": "409", "self": "409", "c": "409", "fine": "201"}
	for id, status := range want {
		if got[id] != status {
			t.Errorf("bulkId %s: status %q, want %s", id, got[id], status)
		}
	}
	if l := tg.mustList(t, "GET", "/Groups", nil); !slices.Equal(groupNames(t, tg, l), []string{"Fine"}) {
		t.Errorf("groups after the bulk %v, want only Fine", groupNames(t, tg, l))
	}
}

func groupNames(t *testing.T, tg *target, l list) []string {
	var names []string
	for _, r := range l.Resources {
		names = append(names, str(r["displayName"]))
	}
	return names
}

// TestBulkOperationsNeedTheirScopes: each operation is checked against the
// token's scopes as its single request would be, and audited with the
// token as actor.
func TestBulkOperationsNeedTheirScopes(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "victim@acme.test", nil)
	g := tg.mustCreateGroup(t, "Victims", nil, u)
	tokenID, secret := mustTokenID(t, tg.db, tg.con.ID, "post:users", "get:groups")
	before := tg.db.Revision()
	ops, res := tg.mustBulk(t, bulkRequest(0,
		bulkOp("DELETE", "/Users/"+u, "", nil),
		bulkOp("PATCH", "/Groups/"+g, "", patchOp(op("remove", "members", nil))),
		bulkOp("POST", "/Groups", "g", map[string]any{"schemas": []string{groupSchema}, "displayName": "New"}),
		bulkOp("POST", "/Users", "u", map[string]any{"schemas": []string{userSchema}, "userName": "allowed@acme.test"}),
	), withToken(secret), withHeader("X-Request-Id", "bulk-req-1"))
	var statuses []string
	for _, o := range ops {
		statuses = append(statuses, o.Status)
	}
	if !slices.Equal(statuses, []string{"403", "403", "403", "201"}) {
		t.Fatalf("%v\nstatuses %v, want 403 403 403 201", res, statuses)
	}
	for i, scope := range []string{"delete:users", "patch:groups", "post:groups"} {
		if !strings.Contains(str(ops[i].Response["detail"]), scope) {
			t.Errorf("operation %d's 403 does not name %s: %v", i, scope, ops[i].Response["detail"])
		}
	}
	if got := memberIDs(t, tg.db, g); !slices.Equal(got, []string{u}) {
		t.Errorf("members %v after forbidden operations, want [%s]", got, u)
	}
	if after := tg.db.Revision(); after != before+1 {
		t.Errorf("store revision went from %d to %d, want one write (the allowed POST)", before, after)
	}
	entries := auditEntries(t, tg.db, store.AuditFilter{})
	last := entries[len(entries)-1]
	if last.Type != "user.created" || last.Actor.Type != store.ActorSCIMToken || last.Actor.ID != tokenID || last.RequestID != "bulk-req-1" || last.Channel != store.ChannelSCIM {
		t.Errorf("the bulk POST's audit entry is %+v, want user.created by the token %s in request bulk-req-1", last, tokenID)
	}
}

// TestBulkRequestsRejectedWholeChangeNothing: limits (413, RFC 7644
// §3.7.4), bodies that are not BulkRequests, repeated bulkIds.
func TestBulkRequestsRejectedWholeChangeNothing(t *testing.T) {
	tg := newTargetWith(t, store.Options{}, scim.Options{BulkMaxOperations: 3, BulkMaxPayload: 2000})
	user := func(name string) map[string]any {
		return bulkOp("POST", "/Users", name, map[string]any{"schemas": []string{userSchema}, "userName": name + "@acme.test"})
	}
	cases := []struct {
		name     string
		body     any
		status   int
		scimType string
		detail   string
	}{
		{"too many operations", bulkRequest(0, user("a"), user("b"), user("c"), user("d")), http.StatusRequestEntityTooLarge, "", "maxOperations (3)"},
		{"too large", bulkRequest(0, bulkOp("POST", "/Users", "a", map[string]any{"schemas": []string{userSchema}, "userName": "a", "title": strings.Repeat("x", 2000)})), http.StatusRequestEntityTooLarge, "", "maxPayloadSize (2000 bytes)"},
		{"no schemas", map[string]any{"Operations": []any{user("a")}}, http.StatusBadRequest, "invalidSyntax", ""},
		{"no operations", bulkRequest(0), http.StatusBadRequest, "invalidSyntax", ""},
		{"operations null", map[string]any{"schemas": []string{bulkRequestSchema}, "Operations": nil}, http.StatusBadRequest, "invalidSyntax", ""},
		{"an operation that is a number", map[string]any{"schemas": []string{bulkRequestSchema}, "Operations": []any{user("a"), 5}}, http.StatusBadRequest, "invalidSyntax", ""},
		{"not JSON", "{", http.StatusBadRequest, "invalidSyntax", ""},
		{"repeated bulkId", bulkRequest(0, user("a"), user("a")), http.StatusBadRequest, "invalidValue", ""},
		{"failOnErrors zero", map[string]any{"schemas": []string{bulkRequestSchema}, "failOnErrors": 0, "Operations": []any{user("a")}}, http.StatusBadRequest, "invalidValue", ""},
		{"failOnErrors a string", map[string]any{"schemas": []string{bulkRequestSchema}, "failOnErrors": "1", "Operations": []any{user("a")}}, http.StatusBadRequest, "invalidSyntax", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := tg.db.Revision()
			res := tg.do(t, "POST", "/Bulk", c.body)
			wantSCIMError(t, res, c.status, c.scimType)
			if !strings.Contains(str(res.object(t)["detail"]), c.detail) {
				t.Errorf("%v\nthe detail does not say %q", res, c.detail)
			}
			if after := tg.db.Revision(); after != before {
				t.Errorf("store revision went from %d to %d", before, after)
			}
		})
	}
	for _, method := range []string{"GET", "PUT", "PATCH", "DELETE"} {
		wantSCIMError(t, tg.do(t, method, "/Bulk", nil), http.StatusMethodNotAllowed, "")
	}
	// Within the limits, it works.
	ops, _ := tg.mustBulk(t, bulkRequest(0, user("a"), user("b"), user("c")))
	if len(ops) != 3 {
		t.Errorf("%d results, want 3", len(ops))
	}
}

// TestBulkWithNothingAppliedStillAnswersARevision: a bulk request whose
// operations all fail is a 200 that read the store at some revision.
func TestBulkWithNothingAppliedStillAnswersARevision(t *testing.T) {
	tg := newTarget(t)
	_, res := tg.mustBulk(t, bulkRequest(0, bulkOp("DELETE", "/Users/usr_0000000000000000", "", nil)))
	if res.revision(t) != tg.db.Revision() {
		t.Errorf("%s %d, store at %d", httpconv.RevisionHeader, res.revision(t), tg.db.Revision())
	}
}

// TestBulkLargeGroupMembership adds many members with bulkId references in
// one request.
func TestBulkLargeGroupMembership(t *testing.T) {
	tg := newTarget(t)
	var ops []map[string]any
	var refs []string
	for i := range 200 {
		id := "u" + itoa(i)
		ops = append(ops, bulkOp("POST", "/Users", id, map[string]any{"schemas": []string{userSchema}, "userName": id + "@acme.test"}))
		refs = append(refs, "bulkId:"+id)
	}
	ops = append(ops, bulkOp("POST", "/Groups", "big", map[string]any{"schemas": []string{groupSchema}, "displayName": "Big", "members": members(refs...)}))
	results, _ := tg.mustBulk(t, bulkRequest(1, ops...))
	if len(results) != 201 || results[200].Status != "201" {
		t.Fatalf("%d results, the last %+v", len(results), results[len(results)-1])
	}
	if got := storetest.MemberIDs(t, tg.db, lastSegment(results[200].Location)); len(got) != 200 {
		t.Errorf("the group has %d members, want 200", len(got))
	}
}

// backwardChain is a bulk request of n user POSTs in which each user's
// manager is the user created by the next operation: every reference runs
// backwards, so the operations run last to first.
func backwardChain(prefix string, n int) map[string]any {
	ops := make([]map[string]any, n)
	for i := range ops {
		user := map[string]any{"schemas": []string{userSchema, enterpriseURN}, "userName": fmt.Sprintf("%s-%d@acme.test", prefix, i)}
		if i+1 < n {
			user[enterpriseURN] = map[string]any{"manager": map[string]any{"value": fmt.Sprintf("bulkId:u%d", i+1)}}
		}
		ops[i] = bulkOp("POST", "/Users", fmt.Sprintf("u%d", i), user)
	}
	return bulkRequest(0, ops...)
}

// TestBulkBackwardReferencesRunInOrder: a 1,000-operation bulk whose
// references all run backwards succeeds, last operation first, each user
// managed by the next one.
func TestBulkBackwardReferencesRunInOrder(t *testing.T) {
	tg := newTarget(t)
	const n = 1000
	ops, _ := tg.mustBulk(t, backwardChain("chain", n))
	if len(ops) != n {
		t.Fatalf("%d results, want %d", len(ops), n)
	}
	ids := map[string]string{}
	for k, o := range ops {
		if want := fmt.Sprintf("u%d", n-1-k); o.BulkID != want || o.Status != "201" {
			t.Fatalf("result %d: bulkId %s status %s, want %s 201 (last to first)", k, o.BulkID, o.Status, want)
		}
		ids[o.BulkID] = lastSegment(o.Location)
	}
	for _, i := range []int{0, n / 2, n - 2} {
		u := tg.mustDo(t, http.StatusOK, "GET", "/Users/"+ids[fmt.Sprintf("u%d", i)], nil).object(t)
		manager, _ := u[enterpriseURN].(map[string]any)["manager"].(map[string]any)
		if want := ids[fmt.Sprintf("u%d", i+1)]; manager["value"] != want {
			t.Errorf("u%d's manager %v, want u%d (%s)", i, manager, i+1, want)
		}
	}
}

// BenchmarkBulkBackwardReferences measures a bulk whose references all run
// backwards, at two sizes: the time per operation should not grow with the
// size of the request (it did: each pass over the waiting operations
// decoded every one's data again).
func BenchmarkBulkBackwardReferences(b *testing.B) {
	for _, n := range []int{250, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			tg := newTarget(b)
			i := 0
			for b.Loop() {
				b.StopTimer()
				req := backwardChain(fmt.Sprint("b", i), n)
				i++
				b.StartTimer()
				res := tg.do(b, "POST", "/Bulk", req)
				if res.status != http.StatusOK {
					b.Fatalf("%v", res)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/op-in-bulk")
		})
	}
}
