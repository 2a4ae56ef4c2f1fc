package scim

import (
	"net/http"
)

// documentationURI is where the ServiceProviderConfig points people.
const documentationURI = "https://github.com/rolecall/rolecall#readme"

// serviceProviderConfig tells the truth about what this server supports
// (RFC 7643 §5): PATCH, filtering, sorting and ETags yes; bulk and password
// changes no. The library's own answer hard-codes every optional feature off.
func (h *Handler) serviceProviderConfig(w http.ResponseWriter, r *http.Request, st *request) {
	if r.Method != http.MethodGet {
		writeError(w, r, scimErr(http.StatusMethodNotAllowed, "", "ServiceProviderConfig is read-only; use GET."))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": documentationURI,
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": h.maxResults},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": true},
		"etag":             map[string]any{"supported": true},
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

// bulk answers /Bulk. Bulk is not supported (and ServiceProviderConfig says
// so): 501 is RFC 7644's answer for an unsupported operation.
func (h *Handler) bulk(w http.ResponseWriter, r *http.Request, _ []byte) {
	writeError(w, r, scimErr(http.StatusNotImplemented, "", "Bulk operations are not supported by this server (see ServiceProviderConfig)."))
}
