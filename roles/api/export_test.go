package api

// Route is one row of the routes table, for the tests that hold the OpenAPI
// document to it.
type Route struct{ Method, Pattern, Scope string }

// Routes lists a's routes table.
func Routes(a *API) []Route {
	var out []Route
	for _, rt := range a.routeTable() {
		out = append(out, Route{rt.method, rt.pattern, rt.scope})
	}
	return out
}

// DocumentedPattern maps routes-table patterns to their documented paths.
var DocumentedPattern = documentedPattern
