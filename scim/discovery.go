package scim

import (
	"net/http"
	"strings"

	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
)

// Discovery (RFC 7644 §4): /Schemas and /ResourceTypes are served here, not
// by the library, which pages and filters them as if they were resources and
// then answers "Resources": null. §4 says these endpoints ignore filtering,
// sorting and paging, and that a server SHOULD answer a filter with 403 so a
// client cannot believe a condition held; that is what happens here.
// "Resources" is always a list, and itemsPerPage is the number returned.

// discovery holds what the discovery endpoints answer, built once: the
// schemas in a fixed order and the resource types.
type discovery struct {
	schemas       []schema.Schema
	resourceTypes []resourceTypeInfo
}

type resourceTypeInfo struct {
	name, endpoint, description, schema string
	extensions                          []string
}

const (
	listResponseURN         = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	schemaURNSchema         = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	resourceTypeSchemaURN   = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	serviceProviderSchemaID = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
)

// newDiscovery lists the resource types' schemas and entries, in their
// order, then the schemas of the discovery endpoints themselves.
func newDiscovery(resources []*resource) discovery {
	var d discovery
	for _, res := range resources {
		d.schemas = append(d.schemas, res.schemaDefs...)
		d.resourceTypes = append(d.resourceTypes, resourceTypeInfo{
			name: res.name, endpoint: res.endpoint, description: res.description,
			schema: res.schemas[0], extensions: res.schemas[1:],
		})
	}
	d.schemas = append(d.schemas, serviceProviderConfigSchema(), schema.ResourceTypeSchema(), schema.Definition())
	return d
}

// serviceProviderConfigSchema is the library's ServiceProviderConfig schema
// with the "pagination" attribute of RFC 9865 §4, which /ServiceProviderConfig
// returns.
func serviceProviderConfigSchema() schema.Schema {
	s := schema.ServiceProviderConfigSchema()
	boolean := func(name, desc string) schema.SimpleParams {
		return schema.SimpleBooleanParams(schema.BooleanParams{Name: name, Description: optional.NewString(desc), Required: true, Mutability: schema.AttributeMutabilityReadOnly()})
	}
	integer := func(name, desc string) schema.SimpleParams {
		return schema.SimpleNumberParams(schema.NumberParams{Name: name, Description: optional.NewString(desc), Type: schema.AttributeTypeInteger(), Mutability: schema.AttributeMutabilityReadOnly()})
	}
	s.Attributes = append(s.Attributes, schema.ComplexCoreAttribute(schema.ComplexParams{
		Name:        "pagination",
		Description: optional.NewString("Pagination options (RFC 9865)."),
		Mutability:  schema.AttributeMutabilityReadOnly(),
		SubAttributes: []schema.SimpleParams{
			boolean("cursor", "Whether cursor-based pagination is supported."),
			boolean("index", "Whether index-based pagination is supported."),
			schema.SimpleStringParams(schema.StringParams{
				Name: "defaultPaginationMethod", Description: optional.NewString("The method used when a request names none."),
				CanonicalValues: []string{"cursor", "index"}, Mutability: schema.AttributeMutabilityReadOnly(),
			}),
			integer("defaultPageSize", "The page size used when a request gives no count."),
			integer("maxPageSize", "The largest count honoured."),
			integer("cursorTimeout", "Seconds a cursor stays valid."),
		},
	}))
	return s
}

// discover serves GET /Schemas[/{urn}] and /ResourceTypes[/{name}].
func (h *Handler) discover(w http.ResponseWriter, r *http.Request, ep endpoint, id string) {
	base := stateOf(r).baseURL
	var all []map[string]any
	if ep == endpointSchemas {
		for _, s := range h.discovery.schemas {
			all = append(all, schemaResource(s, base))
		}
	} else {
		for _, rt := range h.discovery.resourceTypes {
			all = append(all, rt.resource(base))
		}
	}
	if id != "" {
		for _, res := range all {
			// Schema URNs and resource type names compare as the RFC's
			// other names do here: without regard to case.
			if strings.EqualFold(res["id"].(string), id) {
				writeJSON(w, http.StatusOK, res)
				return
			}
		}
		writeError(w, r, scimErr(http.StatusNotFound, "", "No %s %q here.", map[endpoint]string{endpointSchemas: "schema", endpointResourceTypes: "resource type"}[ep], id))
		return
	}
	if r.URL.Query().Has("filter") {
		writeError(w, r, scimErr(http.StatusForbidden, "", "Discovery endpoints do not filter (RFC 7644 §4): every entry is returned, so a filter's condition could not be trusted."))
		return
	}
	resources := make([]any, len(all))
	for i, res := range all {
		resources[i] = res
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":      []string{listResponseURN},
		"totalResults": len(resources),
		"itemsPerPage": len(resources),
		"startIndex":   1,
		"Resources":    resources,
	})
}

func schemaResource(s schema.Schema, base string) map[string]any {
	m := s.ToMap()
	m["schemas"] = []string{schemaURNSchema}
	m["meta"] = map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + s.ID}
	return m
}

func (rt resourceTypeInfo) resource(base string) map[string]any {
	extensions := make([]map[string]any, len(rt.extensions))
	for i, e := range rt.extensions {
		extensions[i] = map[string]any{"schema": e, "required": false}
	}
	return map[string]any{
		"schemas":          []string{resourceTypeSchemaURN},
		"id":               rt.name,
		"name":             rt.name,
		"description":      rt.description,
		"endpoint":         rt.endpoint,
		"schema":           rt.schema,
		"schemaExtensions": extensions,
		"meta":             map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/" + rt.name},
	}
}
