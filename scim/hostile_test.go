package scim_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/scim"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// limitBody is the body limit the real server's middleware applies, in
// miniature: bodies above max bytes fail to read with *http.MaxBytesError.
func limitBody(max int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, max)
		h.ServeHTTP(w, r)
	})
}

// notImplemented reports whether a 501 is the documented answer for a path
// (relative to the connection): /Me, and what is below it.
func notImplemented(path string) bool {
	path, _, _ = strings.Cut(path, "?")
	first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return strings.EqualFold(first, "Me")
}

// responseProblem says what is wrong with a response to a request nobody
// should be able to crash the server with: a 5xx (other than a documented
// 501), or a 4xx without a SCIM error body. "" when nothing is.
func responseProblem(method, path string, r response) string {
	switch {
	case r.status == http.StatusNotImplemented && notImplemented(path):
	case r.status >= 500:
		return "a server error for bad input"
	}
	if r.status >= 400 && method != http.MethodHead {
		if p := scimErrorProblem(r); p != "" {
			return "a " + r.header.Get("Content-Type") + " error that is not a SCIM error: " + p
		}
	}
	return ""
}

// jsonString encodes s as a JSON string.
func jsonString(s string) string {
	raw, _ := json.Marshal(s)
	return string(raw)
}

// TestHostileRequestsNeverGetAServerError sends malformed, oversized, odd and
// deep requests to every endpoint: none answers a 5xx, every 4xx is a SCIM
// error, and nothing a rejected request carried is stored.
func TestHostileRequestsNeverGetAServerError(t *testing.T) {
	db := storetest.Open(t, store.Options{NoSync: true})
	tg := newTargetOn(t, db, limitBody(1<<20, scim.NewHandler(db, scim.Options{})))
	u := tg.mustCreateUser(t, "hostile@acme.test", nil)
	g := tg.mustCreateGroup(t, "Hostile", nil, u)

	deepArray := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	deepObject := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	deepFilter := strings.Repeat("(", 5000) + `userName eq "x"` + strings.Repeat(")", 5000)
	deepNot := strings.Repeat("not (", 2000) + `displayName eq "x"` + strings.Repeat(")", 2000)
	longValue := strings.Repeat("x", 300_000)
	invalidUTF8 := "\xff\xfe\xfd"
	user := func(extra string) string {
		return `{"schemas":["` + userSchema + `"],"userName":"h-` + itoa(len(extra)) + `"` + extra + `}`
	}
	patch := func(ops string) string { return `{"schemas":["` + patchSchema + `"],"Operations":[` + ops + `]}` }

	cases := []struct {
		name, method, path string
		body               string
		header             [2]string
	}{
		// Bodies that are not what they should be.
		{"POST user: not JSON", "POST", "/Users", "{", [2]string{}},
		{"POST user: null", "POST", "/Users", "null", [2]string{}},
		{"POST user: list", "POST", "/Users", "[]", [2]string{}},
		{"POST user: string", "POST", "/Users", `"user"`, [2]string{}},
		{"POST user: empty", "POST", "/Users", "", [2]string{}},
		{"POST user: trailing garbage", "POST", "/Users", user("") + "xyz", [2]string{}},
		{"POST user: two objects", "POST", "/Users", user("") + user(""), [2]string{}},
		{"POST user: schemas null", "POST", "/Users", `{"schemas":null,"userName":"x"}`, [2]string{}},
		{"POST user: userName a number", "POST", "/Users", `{"schemas":["` + userSchema + `"],"userName":123}`, [2]string{}},
		{"POST user: userName an object", "POST", "/Users", `{"schemas":["` + userSchema + `"],"userName":{"a":1}}`, [2]string{}},
		{"POST user: userName too long to index", "POST", "/Users", `{"schemas":["` + userSchema + `"],"userName":"` + strings.Repeat("n", 5000) + `"}`, [2]string{}},
		{"POST user: externalId too long to index", "POST", "/Users", user(`,"externalId":"` + strings.Repeat("e", 5000) + `"`), [2]string{}},
		{"POST user: huge number", "POST", "/Users", user(`,"active":1e999999`), [2]string{}},
		{"POST user: huge integer", "POST", "/Users", user(`,"title":123456789012345678901234567890`), [2]string{}},
		{"POST user: negative zero and exponents", "POST", "/Users", user(`,"displayName":-0e-0`), [2]string{}},
		{"POST user: deep array", "POST", "/Users", deepArray, [2]string{}},
		{"POST user: deep object", "POST", "/Users", deepObject, [2]string{}},
		{"POST user: deep value", "POST", "/Users", user(`,"name":` + deepObject), [2]string{}},
		{"POST user: invalid UTF-8 in a value", "POST", "/Users", user(`,"displayName":"` + invalidUTF8 + `"`), [2]string{}},
		{"POST user: invalid UTF-8 userName", "POST", "/Users", `{"schemas":["` + userSchema + `"],"userName":"` + invalidUTF8 + `"}`, [2]string{}},
		{"POST user: NUL in userName", "POST", "/Users", `{"schemas":["` + userSchema + `"],"userName":"a\u0000b"}`, [2]string{}},
		{"POST user: emails as bad JSON text", "POST", "/Users", user(`,"emails":"[{"`), [2]string{}},
		{"POST user: emails as a number", "POST", "/Users", user(`,"emails":5`), [2]string{}},
		{"POST user: manager as a list of numbers", "POST", "/Users", user(`,"` + enterpriseURN + `":{"manager":[1,2]}`), [2]string{}},
		{"POST user: extension as a string", "POST", "/Users", user(`,"` + enterpriseURN + `":"x"`), [2]string{}},
		{"POST user: long value", "POST", "/Users", user(`,"title":"` + longValue + `"`), [2]string{}},
		{"POST user: over the body limit", "POST", "/Users", user(`,"title":"` + strings.Repeat("x", 2<<20) + `"`), [2]string{}},
		{"POST user: wrong content type", "POST", "/Users", user(""), [2]string{"Content-Type", "text/plain"}},
		{"POST user: id and meta", "POST", "/Users", user(`,"id":"usr_0000000000000000","meta":{"version":"W/\"1\""}`), [2]string{}},
		{"POST group: members a string", "POST", "/Groups", `{"schemas":["` + groupSchema + `"],"displayName":"H1","members":"x"}`, [2]string{}},
		{"POST group: members of numbers", "POST", "/Groups", `{"schemas":["` + groupSchema + `"],"displayName":"H2","members":[1,2,3]}`, [2]string{}},
		{"POST group: member without value", "POST", "/Groups", `{"schemas":["` + groupSchema + `"],"displayName":"H3","members":[{"display":"x"}]}`, [2]string{}},
		{"POST group: member value null", "POST", "/Groups", `{"schemas":["` + groupSchema + `"],"displayName":"H4","members":[{"value":null}]}`, [2]string{}},
		{"POST group: displayName empty", "POST", "/Groups", `{"schemas":["` + groupSchema + `"],"displayName":""}`, [2]string{}},
		{"POST group: deep members", "POST", "/Groups", `{"schemas":["` + groupSchema + `"],"displayName":"H5","members":` + deepArray + `}`, [2]string{}},
		{"POST user with a group schema", "POST", "/Users", `{"schemas":["` + groupSchema + `"],"displayName":"x"}`, [2]string{}},
		{"PUT user: not JSON", "PUT", "/Users/" + u, "{", [2]string{}},
		{"PUT user: no userName", "PUT", "/Users/" + u, `{"schemas":["` + userSchema + `"]}`, [2]string{}},
		{"PUT user: deep", "PUT", "/Users/" + u, deepObject, [2]string{}},
		{"PUT user: unknown id", "PUT", "/Users/usr_0000000000000000", user(""), [2]string{}},
		{"PUT user: garbage If-Match", "PUT", "/Users/" + u, user(""), [2]string{"If-Match", `"` + invalidUTF8}},
		{"PUT group: members of garbage", "PUT", "/Groups/" + g, `{"schemas":["` + groupSchema + `"],"displayName":"Hostile","members":[{"value":{"x":1}}]}`, [2]string{}},
		{"PUT without id", "PUT", "/Users", user(""), [2]string{}},
		// PATCH operations with weird values.
		{"PATCH: op a number", "PATCH", "/Users/" + u, patch(`{"op":1,"path":"title","value":"x"}`), [2]string{}},
		{"PATCH: op missing", "PATCH", "/Users/" + u, patch(`{"path":"title","value":"x"}`), [2]string{}},
		{"PATCH: path a list", "PATCH", "/Users/" + u, patch(`{"op":"add","path":["title"],"value":"x"}`), [2]string{}},
		{"PATCH: add null", "PATCH", "/Users/" + u, patch(`{"op":"add","path":"title","value":null}`), [2]string{}},
		{"PATCH: add without value", "PATCH", "/Groups/" + g, patch(`{"op":"add","path":"members"}`), [2]string{}},
		{"PATCH: replace id", "PATCH", "/Users/" + u, patch(`{"op":"replace","path":"id","value":"usr_0000000000000000"}`), [2]string{}},
		{"PATCH: replace meta.version", "PATCH", "/Users/" + u, patch(`{"op":"replace","path":"meta.version","value":"W/\"1\""}`), [2]string{}},
		{"PATCH: add groups", "PATCH", "/Users/" + u, patch(`{"op":"add","path":"groups","value":[{"value":"` + g + `"}]}`), [2]string{}},
		{"PATCH: unknown schema URN", "PATCH", "/Users/" + u, patch(`{"op":"add","path":"urn:x:y:z:title","value":"x"}`), [2]string{}},
		{"PATCH: unterminated filter", "PATCH", "/Groups/" + g, patch(`{"op":"remove","path":"members[value eq \"x\""}`), [2]string{}},
		{"PATCH: deep filter", "PATCH", "/Groups/" + g, patch(`{"op":"remove","path":` + jsonString("members["+strings.ReplaceAll(deepFilter, "userName", "value")+"]") + `}`), [2]string{}},
		{"PATCH: long or filter", "PATCH", "/Groups/" + g, patch(`{"op":"remove","path":` + jsonString("members["+strings.Repeat(`value eq "x" or `, 3000)+`value eq "y"]`) + `}`), [2]string{}},
		{"PATCH: huge number", "PATCH", "/Users/" + u, patch(`{"op":"replace","path":"title","value":1e999999}`), [2]string{}},
		{"PATCH: deep value", "PATCH", "/Users/" + u, patch(`{"op":"replace","path":"name","value":` + deepObject + `}`), [2]string{}},
		{"PATCH: members value deep", "PATCH", "/Groups/" + g, patch(`{"op":"add","path":"members","value":` + deepArray + `}`), [2]string{}},
		{"PATCH: members value a number", "PATCH", "/Groups/" + g, patch(`{"op":"add","path":"members","value":7}`), [2]string{}},
		{"PATCH: members value JSON text", "PATCH", "/Groups/" + g, patch(`{"op":"add","path":"members","value":"[{\"value\":"}`), [2]string{}},
		{"PATCH: sub-attribute of members by filter", "PATCH", "/Groups/" + g, patch(`{"op":"replace","path":"members[value eq \"` + u + `\"].display","value":"x"}`), [2]string{}},
		{"PATCH: members.value", "PATCH", "/Groups/" + g, patch(`{"op":"remove","path":"members.value"}`), [2]string{}},
		{"PATCH: filter on a string attribute", "PATCH", "/Users/" + u, patch(`{"op":"remove","path":"title[value eq \"x\"]"}`), [2]string{}},
		{"PATCH: pathless non-object", "PATCH", "/Users/" + u, patch(`{"op":"replace","value":[1,2]}`), [2]string{}},
		{"PATCH: pathless with invalid UTF-8 key", "PATCH", "/Users/" + u, patch(`{"op":"replace","value":{"` + invalidUTF8 + `":"x"}}`), [2]string{}},
		{"PATCH: path with invalid UTF-8", "PATCH", "/Users/" + u, patch(`{"op":"replace","path":"` + invalidUTF8 + `","value":"x"}`), [2]string{}},
		{"PATCH: value of invalid UTF-8", "PATCH", "/Users/" + u, patch(`{"op":"replace","path":"title","value":"` + invalidUTF8 + `"}`), [2]string{}},
		{"PATCH: Operations null", "PATCH", "/Users/" + u, `{"schemas":["` + patchSchema + `"],"Operations":null}`, [2]string{}},
		{"PATCH: an operation null", "PATCH", "/Users/" + u, patch(`null`), [2]string{}},
		{"PATCH: unknown id", "PATCH", "/Groups/grp_0000000000000000", patch(`{"op":"remove","path":"members"}`), [2]string{}},
		{"PATCH: not an id", "PATCH", "/Groups/..", patch(`{"op":"remove","path":"members"}`), [2]string{}},
		{"PATCH without id", "PATCH", "/Users", patch(`{"op":"replace","path":"title","value":"x"}`), [2]string{}},
		{"PATCH: garbage If-Match", "PATCH", "/Users/" + u, patch(`{"op":"replace","path":"title","value":"x"}`), [2]string{"If-Match", "W/"}},
		// Queries.
		{"filter: deep parentheses", "GET", "/Users?filter=" + urlQuery(deepFilter), "", [2]string{}},
		{"filter: deep not", "GET", "/Groups?filter=" + urlQuery(deepNot), "", [2]string{}},
		{"filter: long value", "GET", "/Users?filter=" + urlQuery(`userName eq "`+strings.Repeat("y", 100_000)+`"`), "", [2]string{}},
		{"filter: huge number", "GET", "/Users?filter=" + urlQuery(`userName eq 1e999999`), "", [2]string{}},
		{"filter: id eq a number", "GET", "/Users?filter=" + urlQuery(`id eq 12`), "", [2]string{}},
		{"filter: members eq a number", "GET", "/Groups?filter=" + urlQuery(`members eq 12`), "", [2]string{}},
		{"filter: invalid UTF-8", "GET", "/Users?filter=" + urlQuery(`userName eq "`+invalidUTF8+`"`), "", [2]string{}},
		{"filter: dates compared to garbage", "GET", "/Users?filter=" + urlQuery(`meta.created gt "garbage"`), "", [2]string{}},
		{"filter: boolean compared with gt", "GET", "/Users?filter=" + urlQuery(`active gt true`), "", [2]string{}},
		{"filter: nested value filter", "GET", "/Users?filter=" + urlQuery(`emails[type eq "work" and value[x eq "y"]]`), "", [2]string{}},
		{"filter: unknown URN", "GET", "/Users?filter=" + urlQuery(`urn:a:b:c eq "x"`), "", [2]string{}},
		{"sortBy: members", "GET", "/Groups?sortBy=members", "", [2]string{}},
		{"sortBy: groups", "GET", "/Users?sortBy=groups", "", [2]string{}},
		{"sortBy: a value filter", "GET", "/Users?sortBy=" + urlQuery(`emails[type eq "work"]`), "", [2]string{}},
		{"sortBy: name", "GET", "/Users?sortBy=name", "", [2]string{}},
		{"sortBy: garbage", "GET", "/Users?sortBy=" + urlQuery(invalidUTF8+"(("), "", [2]string{}},
		{"attributes: garbage", "GET", "/Users?attributes=" + urlQuery(`((,,]]`+invalidUTF8), "", [2]string{}},
		{"excludedAttributes: everything", "GET", "/Groups/" + g + "?excludedAttributes=id,schemas,meta,members,displayName", "", [2]string{}},
		{"count: extreme", "GET", "/Users?count=-9223372036854775808&startIndex=9223372036854775807", "", [2]string{}},
		{"count: twice", "GET", "/Users?count=1&count=x", "", [2]string{}},
		{"filtered window at the end of int", "GET", "/Users?filter=" + urlQuery(`userName pr`) + "&startIndex=9223372036854775807&count=5", "", [2]string{}},
		{"sorted window at the end of int", "GET", "/Users?sortBy=userName&startIndex=9223372036854775807&count=5", "", [2]string{}},
		{"deep not on users", "GET", "/Users?filter=" + urlQuery(strings.ReplaceAll(deepNot, "displayName", "userName")), "", [2]string{}},
		{"search: huge count", "POST", "/Users/.search", `{"schemas":["` + searchSchema + `"],"count":1e999999}`, [2]string{}},
		{"search: huge startIndex", "POST", "/Users/.search", `{"schemas":["` + searchSchema + `"],"startIndex":99999999999999999999}`, [2]string{}},
		{"search: max startIndex", "POST", "/Groups/.search", `{"schemas":["` + searchSchema + `"],"startIndex":9223372036854775807,"count":5}`, [2]string{}},
		{"search: attributes a string", "POST", "/Users/.search", `{"schemas":["` + searchSchema + `"],"attributes":"userName"}`, [2]string{}},
		{"search: deep", "POST", "/Users/.search", deepObject, [2]string{}},
		// Endpoints, methods and paths.
		{"unknown endpoint", "GET", "/Foo", "", [2]string{}},
		{"unknown nested path", "GET", "/Users/" + u + "/groups", "", [2]string{}},
		{"Me", "GET", "/Me", "", [2]string{}},
		{"Bulk", "POST", "/Bulk", `{}`, [2]string{}},
		{"Bulk: operations of garbage", "POST", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":7},{"method":"POST","path":"/Users","bulkId":"x","data":"x"},{"method":"PATCH","path":"/Users/` + u + `","data":[]},{"method":"DELETE","path":"%zz"},{"method":"POST","path":"/Groups","bulkId":"y","data":{"schemas":["` + groupSchema + `"],"displayName":"Hb","members":` + deepArray + `}}]}`, [2]string{}},
		{"Bulk: deep", "POST", "/Bulk", deepObject, [2]string{}},
		{"root", "GET", "/", "", [2]string{}},
		{"root: deep filter", "GET", "/?filter=" + urlQuery(deepFilter), "", [2]string{}},
		{"root search", "POST", "/.search", `{}`, [2]string{}},
		{"cursor: garbage", "GET", "/Users?cursor=" + urlQuery(invalidUTF8), "", [2]string{}},
		{"cursor: a forged sort key", "GET", "/Users?sortBy=meta.created&cursor=eyJxIjoiIiwiayI6eyJ2Ijp7IngiOjF9LCJwIjp0cnVlLCJpIjoieCJ9fQ", "", [2]string{}},
		{"no connection path", "GET", "", "", [2]string{}},
		{"HEAD user", "HEAD", "/Users/" + u, "", [2]string{}},
		{"OPTIONS users", "OPTIONS", "/Users", "", [2]string{}},
		{"TRACE user", "TRACE", "/Users/" + u, "", [2]string{}},
		{"made-up method", "FROB", "/Groups/" + g, "", [2]string{}},
		{"PROPFIND", "PROPFIND", "/Users", "", [2]string{}},
		{"POST to an id", "POST", "/Users/" + u, user(""), [2]string{}},
		{"DELETE collection", "DELETE", "/Users", "", [2]string{}},
		{"DELETE unknown", "DELETE", "/Groups/grp_0000000000000000", "", [2]string{}},
		{"DELETE garbage If-Match", "DELETE", "/Groups/" + g, "", [2]string{"If-Match", `W/"""`}},
		{"encoded slash in id", "GET", "/Users/usr%2F..%2F..%2Fx", "", [2]string{}},
		{"encoded slash PATCH", "PATCH", "/Groups/" + g + "%2Fx", patch(`{"op":"remove","path":"members"}`), [2]string{}},
		{"encoded slash DELETE", "DELETE", "/Users/%2F", "", [2]string{}},
		{"double-encoded id", "GET", "/Users/%2575sr", "", [2]string{}},
		{"encoded endpoint", "GET", "/%55sers", "", [2]string{}},
		{"dot segments", "GET", "/Users/../Groups", "", [2]string{}},
		{"encoded NUL", "GET", "/Users/%00", "", [2]string{}},
		{"ServiceProviderConfig with junk", "GET", "/ServiceProviderConfig/x", "", [2]string{}},
		{"Schemas unknown", "GET", "/Schemas/urn:x", "", [2]string{}},
		{"ResourceTypes unknown", "GET", "/ResourceTypes/Nope", "", [2]string{}},
		{"Schemas POST", "POST", "/Schemas", `{}`, [2]string{}},
		{"If-None-Match garbage", "GET", "/Users/" + u, "", [2]string{"If-None-Match", `W/"` + invalidUTF8}},
		{"If-None-Match on unknown", "GET", "/Users/usr_0000000000000000", "", [2]string{"If-None-Match", "*"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body any
			if c.body != "" {
				body = c.body
			}
			var opts []reqOption
			if c.header[0] != "" {
				opts = append(opts, withHeader(c.header[0], c.header[1]))
			}
			before := db.Revision()
			res := tg.do(t, c.method, c.path, body, opts...)
			if p := responseProblem(c.method, c.path, res); p != "" {
				t.Errorf("%v\n%s", res, p)
			}
			// Some of these are valid writes (a long title, a body sent as
			// text/plain); a rejected one must leave no trace.
			if after := db.Revision(); res.status >= 400 && after != before {
				t.Errorf("%v\nstore revision went from %d to %d on a rejected request", res, before, after)
			}
		})
	}
	if got := memberIDs(t, db, g); len(got) != 1 || got[0] != u {
		t.Errorf("members of the target group after the hostile requests: %v, want [%s]", got, u)
	}
}

// TestOversizedBodiesAre413 uses the middleware's limit: POST, PUT, PATCH
// and .search bodies above it are refused with a SCIM 413 and change nothing.
func TestOversizedBodiesAre413(t *testing.T) {
	db := storetest.Open(t, store.Options{NoSync: true})
	tg := newTargetOn(t, db, limitBody(64<<10, scim.NewHandler(db, scim.Options{})))
	u := tg.mustCreateUser(t, "small@acme.test", nil)
	g := tg.mustCreateGroup(t, "Small", nil)
	pad := strings.Repeat("x", 80<<10)
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/Users", map[string]any{"schemas": []string{userSchema}, "userName": "big@acme.test", "title": pad}},
		{"PUT", "/Users/" + u, map[string]any{"schemas": []string{userSchema}, "userName": "small@acme.test", "title": pad}},
		{"PATCH", "/Users/" + u, patchOp(op("replace", "title", pad))},
		{"PATCH", "/Groups/" + g, patchOp(op("replace", "displayName", pad))},
		{"POST", "/Groups/.search", map[string]any{"schemas": []string{searchSchema}, "filter": `displayName eq "` + pad + `"`}},
	} {
		before := db.Revision()
		wantSCIMError(t, tg.do(t, c.method, c.path, c.body), http.StatusRequestEntityTooLarge, "")
		if after := db.Revision(); after != before {
			t.Errorf("%s %s: store revision went from %d to %d on a 413", c.method, c.path, before, after)
		}
	}
	// A body just under the limit is fine.
	tg.mustDo(t, http.StatusNoContent, "PATCH", "/Users/"+u, patchOp(op("replace", "title", pad[:60<<10])))
}

// TestResourceEndpointsMatchCaseInsensitively: route() accepts "/users" as
// "/Users" (clients are not consistent), so every method must.
func TestResourceEndpointsMatchCaseInsensitively(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "lower@acme.test", nil)
	g := tg.mustCreateGroup(t, "Lower", nil)
	for _, c := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", "/users", nil, http.StatusOK},
		{"PATCH", "/users/" + u, patchOp(op("replace", "title", "x")), http.StatusNoContent},
		{"PUT", "/users/" + u, map[string]any{"schemas": []string{userSchema}, "userName": "lower@acme.test"}, http.StatusOK},
		{"GET", "/users/" + u, nil, http.StatusOK},
		{"GET", "/GROUPS/" + g, nil, http.StatusOK},
		{"DELETE", "/groups/" + g, nil, http.StatusNoContent},
		{"DELETE", "/users/" + u, nil, http.StatusNoContent},
	} {
		if res := tg.do(t, c.method, c.path, c.body); res.status != c.want {
			t.Errorf("%v\nwant %d, as for the canonical path", res, c.want)
		}
	}
}
