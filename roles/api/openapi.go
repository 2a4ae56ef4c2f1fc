package api

import (
	_ "embed"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// openAPIDocument is the OpenAPI 3.1 document of the Management API. It is
// written by hand, beside the code it describes; tests hold it to the routes
// table (every route documented, nothing documented that is not routed, the
// same scopes), to store.EventTypes, and to every response the HTTP tests
// see, so it cannot drift silently.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPI serves GET /openapi.json: the document, to any valid key. It asks
// for a key like every other call under /api/v2 (there are no public
// endpoints to reason about), but for no scope: what the API looks like is
// no secret from a caller already allowed to use it, and a client generator
// holding a narrow key must be able to read it.
func (a *API) openAPI(w http.ResponseWriter, _ *http.Request, _ caller) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPIDocument)
	return nil
}

// documentedQueries reads, from the document, the query parameters each
// operation takes, by "METHOD pattern" (pattern as in the routes table).
// The API refuses the others, so a mistyped parameter (`?connection=` for
// `?connection_id=`) is a 400 rather than a silently unfiltered answer.
func documentedQueries(doc []byte) (map[string]map[string]bool, error) {
	type parameter struct {
		Ref  string `json:"$ref"`
		Name string `json:"name"`
		In   string `json:"in"`
	}
	var d struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]parameter `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	queryName := func(p parameter) string {
		if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
			p = d.Components.Parameters[name]
		}
		if p.In != "query" {
			return ""
		}
		return p.Name
	}
	out := map[string]map[string]bool{}
	for pattern, item := range d.Paths {
		var shared []parameter
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &shared); err != nil {
				return nil, err
			}
		}
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			var op struct {
				Parameters []parameter `json:"parameters"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, err
			}
			names := map[string]bool{}
			for _, p := range append(slices.Clone(shared), op.Parameters...) {
				if n := queryName(p); n != "" {
					names[n] = true
				}
			}
			out[strings.ToUpper(method)+" "+pattern] = names
		}
	}
	return out, nil
}

// documentedPattern maps a routes-table pattern to the path the document
// gives it, where the two differ: GET /organizations/name/{name} is routed
// through {id}/{sub} (see organizationSubresource).
var documentedPattern = map[string]string{"/organizations/{id}/{sub}": "/organizations/name/{name}"}

// operationQueries is documentedQueries of the embedded document, read once.
var operationQueries = sync.OnceValue(func() map[string]map[string]bool {
	q, err := documentedQueries(openAPIDocument)
	if err != nil {
		panic("api: openapi.json: " + err.Error()) // embedded at build time; the tests parse it
	}
	return q
})

// pagingParams are checked by the list endpoints themselves (parseList),
// which say more than "unknown" (which paging style the list takes).
var pagingParams = map[string]bool{paramFrom: true, paramTake: true, paramPage: true, paramPerPage: true, paramTotals: true}

// checkQuery refuses a query parameter the operation does not document.
func checkQuery(r *http.Request, documented map[string]bool) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(r.URL.Query())) {
		if !documented[name] && !pagingParams[name] {
			return badQuery("Unknown query parameter '%s'", name)
		}
	}
	return nil
}
