package api

import (
	_ "embed"
	"net/http"
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
