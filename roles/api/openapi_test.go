package api_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/roles/api"
)

// TestOpenAPIMatchesTheRoutesTable: every route is documented with its
// scope as the security requirement, and the document names no path or
// method the routes table lacks.
func TestOpenAPIMatchesTheRoutesTable(t *testing.T) {
	spec := mustOpenAPI(t)
	routed := map[string]string{} // "METHOD path" → scope
	for _, rt := range api.Routes(newMgmt(t).api) {
		path := rt.Pattern
		if p, ok := api.DocumentedPattern[path]; ok {
			path = p
		}
		routed[rt.Method+" "+path] = rt.Scope
	}
	documented := map[string]bool{}
	for path, item := range spec.doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			documented[key] = true
			scope, ok := routed[key]
			if !ok {
				t.Errorf("the document names %s, which the routes table does not have", key)
				continue
			}
			var got []string
			if op.Security != nil {
				for _, req := range *op.Security {
					got = append(got, req["bearer"]...)
				}
			}
			want := []string{scope}
			if scope == "" {
				want = nil
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: security scopes %v, want %v", key, got, want)
			}
		}
	}
	for key := range routed {
		if !documented[key] {
			t.Errorf("route %s is missing from the OpenAPI document", key)
		}
	}
}

// TestOpenAPIListsEveryEventType: the log entry's type enum is exactly the
// audit event types, so a new event type must be documented.
func TestOpenAPIListsEveryEventType(t *testing.T) {
	schema := mustOpenAPI(t).doc.Components.Schemas["EventType"]
	if schema == nil || schema.Value == nil {
		t.Fatal("the document has no EventType schema")
	}
	var got []string
	for _, v := range schema.Value.Enum {
		s, _ := v.(string)
		got = append(got, s)
	}
	slices.Sort(got)
	if !slices.Equal(got, api.EventTypes) {
		t.Errorf("EventType enum %v,\nwant the audit event types %v", got, api.EventTypes)
	}
}

// TestOpenAPIServed: GET /api/v2/openapi.json answers the embedded document
// to any valid key, however narrow, and 401 without one.
func TestOpenAPIServed(t *testing.T) {
	m := newMgmt(t)
	narrow := m.do("POST", "/api-keys", map[string]any{"name": "narrow", "scopes": []string{api.ScopeReadLogs}}, 201)["key"].(string)
	rec, out := m.send(narrow, "GET", "/openapi.json", nil)
	want, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), want) || out["openapi"] != "3.1.0" {
		t.Errorf("GET /openapi.json with a key holding only read:logs: %d, %d bytes (openapi %v), want 200 and the %d-byte document", rec.Code, rec.Body.Len(), out["openapi"], len(want))
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	rec, out = m.send("", "GET", "/openapi.json", nil)
	assertMgmtError(t, "GET /openapi.json without a key", rec, out, http.StatusUnauthorized, "missing_authorization")
}

// TestOpenAPIValidationCatchesMismatches: the check every HTTP test's
// answers go through rejects an answer the document does not allow.
func TestOpenAPIValidationCatchesMismatches(t *testing.T) {
	spec := mustOpenAPI(t)
	jsonHeader := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	tests := []struct {
		name, method, path string
		status             int
		body               string
		ok                 bool
	}{
		{"a role", "GET", "/api/v2/roles/r1", 200, `{"id":"r1","name":"a","description":""}`, true},
		{"a role without its id", "GET", "/api/v2/roles/r1", 200, `{"name":"a","description":""}`, false},
		{"a list page", "GET", "/api/v2/roles?take=1", 200, `{"roles":[{"id":"r1","name":"a","description":""}],"next":"r1"}`, true},
		{"a list with an unknown paging field", "GET", "/api/v2/roles", 200, `{"roles":[],"cursor":"x"}`, false},
		{"an undocumented status", "GET", "/api/v2/roles/r1", 201, `{"id":"r1","name":"a","description":""}`, false},
		{"an error", "GET", "/api/v2/roles/r1", 404, `{"statusCode":404,"error":"Not Found","message":"no","errorCode":"inexistent_role"}`, true},
		{"an error without errorCode", "GET", "/api/v2/roles/r1", 404, `{"statusCode":404,"error":"Not Found","message":"no"}`, false},
		{"an unknown event type", "GET", "/api/v2/logs/1", 200,
			`{"id":"1","date":"2026-01-01T00:00:00Z","type":"role.exploded","actor":{"type":"api_key","id":"k"},"channel":"api","target":{"type":"role","id":"r"},"revision":1}`, false},
		{"a login answer", "POST", "/api/v2/effective-roles/query", 200,
			`{"results":[{"user":{"id":"u","connection_id":"c","active":true},"roles":[]},{"subject":{"user_id":"x"},"error":{"errorCode":"user_not_found","message":"no"}}],"revision":3}`, true},
		{"a login answer without revision", "POST", "/api/v2/effective-roles/query", 200, `{"results":[]}`, false},
		{"an unknown path's JSON 404", "GET", "/api/v2/nope", 404, `{"statusCode":404,"error":"Not Found","message":"no endpoint","errorCode":"not_found"}`, true},
		{"an unknown path answering 200", "GET", "/api/v2/nope", 200, `{}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := spec.validate(tc.method, tc.path, tc.status, jsonHeader, []byte(tc.body))
			if (err == nil) != tc.ok {
				t.Errorf("validate: %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// TestOpenAPIConnectionAnswers walks the connection and SCIM configuration
// endpoints, which the other tests of this package reach only through the
// store, so that their answers are validated against the document too.
func TestOpenAPIConnectionAnswers(t *testing.T) {
	m := newMgmt(t)
	id := m.do("POST", "/connections", map[string]any{"name": "acme-scim", "strategy": "samlp", "metadata": map[string]string{"k": "v"}}, 201)["id"].(string)
	m.do("GET", "/connections", nil, 200)
	m.do("GET", "/connections?take=1", nil, 200)
	m.do("GET", "/connections/"+id, nil, 200)
	m.do("PATCH", "/connections/"+id, map[string]any{"display_name": "Acme"}, 200)
	cfg := "/connections/" + id + "/scim-configuration"
	m.do("POST", cfg, map[string]any{}, 201)
	m.do("GET", cfg, nil, 200)
	m.do("PATCH", cfg, map[string]any{"user_id_attribute": "externalId"}, 200)
	tok := m.do("POST", cfg+"/tokens", map[string]any{"token_lifetime": 3600}, 201)["token_id"].(string)
	getRaw(t, m, cfg+"/tokens") // a bare array, as Auth0's
	m.do("DELETE", cfg+"/tokens/"+tok, nil, 204)
	m.do("DELETE", cfg, nil, 204)
	m.fails("GET", cfg, nil, 404, "inexistent_scim_configuration")

	getRaw(t, m, "/backup") // NDJSON

	m.do("DELETE", "/connections/"+id, nil, 204)
	m.fails("GET", "/connections/"+id, nil, 404, "inexistent_connection")
}

// getRaw GETs an answer that is not a JSON object as the admin, validates
// it against the document and expects 200.
func getRaw(t *testing.T, m *mgmt, path string) {
	t.Helper()
	req := httptest.NewRequest("GET", api.Prefix+path, nil)
	req.Header.Set("Authorization", "Bearer "+mgmtAdminToken)
	rec := httptest.NewRecorder()
	m.api.ServeHTTP(rec, req)
	checkResponse(t, "GET", api.Prefix+path, rec.Code, rec.Header(), rec.Body.Bytes())
	if rec.Code != http.StatusOK {
		t.Errorf("GET %s: %d, want 200: %.300s", path, rec.Code, rec.Body)
	}
}
