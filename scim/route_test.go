package scim_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/store"
)

// TestEveryPathFormIsScoped sends each operation through every spelling of
// its path that reaches it (canonical, lower and upper case, trailing slash,
// percent-encoded endpoint name) with a token that has every scope but the
// one the operation needs: each answers 403 and changes nothing. Spellings
// that reach nothing (a /v2 prefix, a nested path) answer 404.
func TestEveryPathFormIsScoped(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "scoped@acme.test", nil)
	g := tg.mustCreateGroup(t, "Scoped", nil, u)
	spellings := func(endpoint, rest string) []string {
		return []string{
			endpoint + rest,
			strings.ToLower(endpoint) + rest,
			strings.ToUpper(endpoint) + rest,
			endpoint + rest + "/",
			"/%" + strings.ToUpper(itoa16(int(endpoint[1]))) + endpoint[2:] + rest,
		}
	}
	cases := []struct {
		scope, method, endpoint, rest string
		body                          any
	}{
		{"get:users", "GET", "/Users", "", nil},
		{"get:users", "GET", "/Users", "/" + u, nil},
		{"get:users", "HEAD", "/Users", "/" + u, nil},
		{"get:users", "POST", "/Users", "/.search", map[string]any{"schemas": []string{searchSchema}}},
		{"post:users", "POST", "/Users", "", map[string]any{"schemas": []string{userSchema}, "userName": "new@acme.test"}},
		{"put:users", "PUT", "/Users", "/" + u, map[string]any{"schemas": []string{userSchema}, "userName": "scoped@acme.test", "title": "x"}},
		{"patch:users", "PATCH", "/Users", "/" + u, patchOp(op("replace", "title", "x"))},
		{"delete:users", "DELETE", "/Users", "/" + u, nil},
		{"get:groups", "GET", "/Groups", "/" + g, nil},
		{"delete:groups", "DELETE", "/Groups", "/" + g, nil},
		{"patch:groups", "PATCH", "/Groups", "/" + g, patchOp(op("remove", "members", nil))},
	}
	for _, c := range cases {
		without := slices.DeleteFunc(slices.Clone(store.SCIMTokenScopes), func(s string) bool { return s == c.scope })
		lacking := mustToken(t, tg.db, tg.con.ID, 0, without...)
		for _, path := range spellings(c.endpoint, c.rest) {
			t.Run(c.method+" "+path, func(t *testing.T) {
				before := tg.db.Revision()
				res := tg.do(t, c.method, path, c.body, withToken(lacking))
				if c.method == "HEAD" {
					if res.status != http.StatusForbidden {
						t.Errorf("%v\nwant 403", res)
					}
				} else {
					wantSCIMError(t, res, http.StatusForbidden, "")
				}
				if after := tg.db.Revision(); after != before {
					t.Errorf("store revision went from %d to %d on a 403", before, after)
				}
			})
		}
	}
	for _, path := range []string{"/v2/Users", "/v2/Users/" + u, "/v2/Groups/" + g, "/Users/" + u + "/groups", "/Users/" + u + "/x/y", "/Users//" + u, "/v2", "/v2/"} {
		for _, method := range []string{"GET", "DELETE", "PATCH", "PUT", "POST"} {
			before := tg.db.Revision()
			res := tg.do(t, method, path, patchOp(op("remove", "members", nil)))
			wantSCIMError(t, res, http.StatusNotFound, "")
			if after := tg.db.Revision(); after != before {
				t.Errorf("%s %s: store revision went from %d to %d", method, path, before, after)
			}
		}
	}
	tg.mustDo(t, http.StatusOK, "GET", "/Users/"+u, nil)
	tg.mustDo(t, http.StatusOK, "GET", "/Groups/"+g, nil)
}

func itoa16(n int) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[n>>4], digits[n&15]})
}

// TestEveryRouteAnswersASCIMBody walks every route with every method: each
// answer is a SCIM body (a resource, a list, a SCIM error), 405s say which
// methods are allowed, and nothing answers 5xx except /Me's documented 501.
func TestEveryRouteAnswersASCIMBody(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "routes@acme.test", nil)
	g := tg.mustCreateGroup(t, "Routes", nil, u)
	paths := []string{
		"", "/", "/.search", "/Users", "/Users/" + u, "/Users/.search", "/Groups", "/Groups/" + g, "/Groups/.search",
		"/Bulk", "/Me", "/Me/x", "/ServiceProviderConfig", "/Schemas", "/Schemas/" + userSchema, "/ResourceTypes",
		"/ResourceTypes/User", "/Nope", "/Users/usr_0000000000000000", "/serviceproviderconfig", "/schemas", "/resourcetypes/Group",
	}
	for _, path := range paths {
		for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "FROB"} {
			t.Run(method+" "+path, func(t *testing.T) {
				var body any
				if method == "POST" || method == "PUT" || method == "PATCH" {
					body = "{}"
				}
				res := tg.do(t, method, path, body)
				switch {
				case res.status == http.StatusNotImplemented:
					if !strings.HasPrefix(strings.TrimSuffix(path, "/x"), "/Me") {
						t.Errorf("%v\na 501 outside /Me", res)
					}
					wantSCIMError(t, res, http.StatusNotImplemented, "")
				case res.status >= 500:
					t.Errorf("%v\na server error", res)
				case res.status >= 400:
					wantSCIMError(t, res, res.status, "")
				case res.status == http.StatusNoContent:
				default:
					if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
						t.Errorf("%v\nContent-Type %q", res, ct)
					}
					res.object(t)
				}
				if res.status == http.StatusMethodNotAllowed && res.header.Get("Allow") == "" {
					t.Errorf("%v\na 405 without an Allow header", res)
				}
			})
		}
	}
}

// TestDiscoveryEndpointsMatchCaseInsensitively: clients write /schemas too.
func TestDiscoveryEndpointsMatchCaseInsensitively(t *testing.T) {
	tg := newTarget(t)
	for _, pair := range [][2]string{
		{"/ServiceProviderConfig", "/serviceproviderconfig"},
		{"/Schemas", "/schemas"},
		{"/ResourceTypes", "/RESOURCETYPES"},
		{"/ResourceTypes/Group", "/resourcetypes/Group"},
		{"/Schemas/" + groupSchema, "/SCHEMAS/" + groupSchema},
	} {
		canonical := tg.mustDo(t, http.StatusOK, "GET", pair[0], nil)
		folded := tg.mustDo(t, http.StatusOK, "GET", pair[1], nil)
		if !sameJSON(decodeJSON(t, canonical.body), decodeJSON(t, folded.body)) {
			t.Errorf("GET %s and GET %s differ:\n%s\n%s", pair[0], pair[1], canonical.body, folded.body)
		}
	}
}

// TestMeIsNotImplemented: RFC 7644 §3.11 lets a server answer 501 for /Me.
func TestMeIsNotImplemented(t *testing.T) {
	tg := newTarget(t)
	for _, method := range []string{"GET", "PUT", "PATCH", "DELETE", "POST"} {
		wantSCIMError(t, tg.do(t, method, "/Me", nil), http.StatusNotImplemented, "")
	}
}

// TestHeadAnswersLikeGetWithoutABody covers a resource, a list and discovery.
func TestHeadAnswersLikeGetWithoutABody(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "head@acme.test", nil)
	for _, path := range []string{"/Users/" + u, "/Users", "/ServiceProviderConfig", "/Schemas"} {
		get := tg.mustDo(t, http.StatusOK, "GET", path, nil)
		head := tg.mustDo(t, http.StatusOK, "HEAD", path, nil)
		if len(head.body) != 0 {
			t.Errorf("HEAD %s answered a body of %d bytes", path, len(head.body))
		}
		if get.header.Get("ETag") != head.header.Get("ETag") {
			t.Errorf("HEAD %s: ETag %q, GET says %q", path, head.header.Get("ETag"), get.header.Get("ETag"))
		}
	}
	wantHead := tg.do(t, "HEAD", "/Users/usr_0000000000000000", nil)
	if wantHead.status != http.StatusNotFound {
		t.Errorf("%v\nwant 404", wantHead)
	}
}

// TestEncodedSlashesStayInTheirSegment: %2F in an id is part of the id, not a
// path separator, and is unescaped once only.
func TestEncodedSlashesStayInTheirSegment(t *testing.T) {
	tg := newTarget(t)
	u := tg.mustCreateUser(t, "slash@acme.test", nil)
	for _, path := range []string{"/Users/%2F..%2F" + u, "/Users/" + u + "%2Fx", "/Users%2F" + u, "/Users/%25" + u[1:]} {
		wantSCIMError(t, tg.do(t, "GET", path, nil), http.StatusNotFound, "")
		wantSCIMError(t, tg.do(t, "DELETE", path, nil), http.StatusNotFound, "")
	}
	tg.mustDo(t, http.StatusOK, "GET", "/Users/"+u, nil)
}
