package scim

import (
	"net/http"
)

// documentationURI is where the ServiceProviderConfig points people.
const documentationURI = "https://github.com/rolecall/rolecall#readme"

// serviceProviderConfig tells the truth about what this server supports
// (RFC 7643 §5, RFC 9865 §4): PATCH, bulk, filtering, sorting, ETags and
// both index and cursor pagination yes; password changes no. The library's
// own answer hard-codes every optional feature off.
func (h *Handler) serviceProviderConfig(w http.ResponseWriter, _ *http.Request, st *request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": documentationURI,
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": true, "maxOperations": h.bulkMaxOps, "maxPayloadSize": h.bulkMaxPayload},
		"filter":           map[string]any{"supported": true, "maxResults": h.maxResults},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": true},
		"etag":             map[string]any{"supported": true},
		"pagination": map[string]any{
			"cursor":                  true,
			"index":                   true,
			"defaultPaginationMethod": "index",
			"defaultPageSize":         h.maxResults,
			"maxPageSize":             h.maxResults,
			"cursorTimeout":           cursorTimeout,
		},
		"authenticationSchemes": []map[string]any{{
			"type":             "oauthbearertoken",
			"name":             "OAuth Bearer Token",
			"description":      "A SCIM token of this connection, created through the Management API, sent as Authorization: Bearer <token>.",
			"documentationUri": documentationURI,
			"primary":          true,
		}},
		"meta": map[string]any{
			"resourceType": "ServiceProviderConfig",
			"location":     st.baseURL + "/ServiceProviderConfig",
		},
	})
}
