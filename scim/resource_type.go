package scim

import (
	"net/http"
	"slices"
	"strings"

	"github.com/elimity-com/scim/schema"

	"github.com/rolecall/rolecall/scim/document"
	"github.com/rolecall/rolecall/store"
)

// resourceType describes one SCIM resource type: what it is called, its
// schema, how its records are kept and how its lists are planned. Adding a
// resource type means adding one (see userType and groupType) and listing it
// in NewHandler: the route table, the scopes, the root query and discovery
// all read the list. Everything the descriptor does not say is the same for
// every type.
type resourceType struct {
	name        string // meta.resourceType and the /ResourceTypes id: "User"
	endpoint    string // its path below the connection: "/Users"
	noun        string // its name in token scopes: "get:users"
	description string // its /ResourceTypes description
	// schemaDefs are its schemas for /Schemas: the core schema, then the
	// extensions. schemas are their URNs, which documents list.
	schemaDefs []schema.Schema
	schemas    []string
	doc        *document.ResourceType

	// derived is the attribute read from other records rather than stored
	// with the document: a User's groups, a Group's members.
	derived string
	// versionFollowsDerived says meta.version depends on the derived
	// attribute, so a filter or sort on meta needs it attached first.
	versionFollowsDerived bool
	// emptyWhenNew says a resource just created has an empty derived
	// attribute: it is rendered without reading the store.
	emptyWhenNew bool
	// members says documents carry a members list, written with the record
	// (POST, PUT) and edited member by member (PATCH).
	members bool
	// defaults are set on a POSTed document that lacks them.
	defaults map[string]any

	// plans are the indexed lookups a filter can use, cheapest first; a
	// filter none of them serves scans the connection in creation order.
	plans []listPlan
	// records reads and writes the type's records.
	records records
}

// listPlan answers a filter that is an eq on one of attrs (alone or and-ed
// with anything) from an index, instead of a scan. find returns the records
// with that value, in any order; none is not an error.
type listPlan struct {
	attrs []string
	find  func(tx *store.ReadTx, connectionID, attr, value string) ([]record, error)
}

// records is how one resource type's records are read, written and
// completed with their derived attribute. Errors are the store's.
type records interface {
	load(tx *store.ReadTx, connectionID, id string) (record, error)
	// count is how many records the connection has.
	count(tx *store.ReadTx, connectionID string) int
	// pageAt reads records [offset, offset+limit) in creation order, and
	// counts them all.
	pageAt(tx *store.ReadTx, connectionID string, offset, limit int) ([]record, int, error)
	// after reads up to limit records created after sequence number seq,
	// and whether more follow.
	after(tx *store.ReadTx, connectionID string, seq uint64, limit int) ([]record, bool, error)
	// before reads the last (up to) limit records created before sequence
	// number seq, and whether more precede them.
	before(tx *store.ReadTx, connectionID string, seq uint64, limit int) ([]record, bool, error)
	// each calls fn with every record in creation order until it returns
	// false.
	each(tx *store.ReadTx, connectionID string, fn func(record) (bool, error)) error

	// create stores a new record from a POSTed document, raw its encoding.
	create(tx *store.Tx, connectionID string, in submitted, raw []byte) (record, error)
	// replace stores a PUT document over record id, checking the request's
	// If-Match against its current version.
	replace(tx *store.Tx, r *http.Request, connectionID, id string, in submitted) (record, error)
	remove(tx *store.Tx, connectionID, id string) error
	// commitPatch stores a PATCH plan, or reports it stale (writing
	// nothing) when the record is no longer at the plan's revision.
	commitPatch(tx *store.Tx, r *http.Request, p *patchPlan) (rec record, version string, stale bool, err error)

	// version is a record's current entity tag (meta.version).
	version(tx *store.ReadTx, rec record) (string, error)
	// attachDerived adds the derived attribute to full as maps that filters
	// and sub-attribute projections can look into, sets meta.version where
	// the attribute decides it, and returns the version.
	attachDerived(tx *store.ReadTx, st *request, rec record, full map[string]any) (string, error)
	// attachForOutput adds the derived attribute for a response, as cheaply
	// as projection p allows, and returns the version.
	attachForOutput(tx *store.ReadTx, st *request, rec record, full map[string]any, p projection) (string, error)
}

// resource serves one resource type (reads, writes and lists) for a
// Handler, each rendered the same way whichever endpoint asks.
type resource struct {
	h *Handler
	*resourceType
}

// newResource completes a descriptor and binds it to h.
func newResource(h *Handler, t *resourceType) *resource {
	for _, s := range t.schemaDefs {
		t.schemas = append(t.schemas, s.ID)
	}
	return &resource{h: h, resourceType: t}
}

// schemaList is a fresh copy of the type's schema URNs, for a document.
func (t *resourceType) schemaList() []string { return slices.Clone(t.schemas) }

// resourceAt returns the resource type whose endpoint name is name (case
// folded), or nil.
func (h *Handler) resourceAt(name string) *resource {
	for _, res := range h.resources {
		if strings.EqualFold(name, res.endpoint[1:]) {
			return res
		}
	}
	return nil
}

// endpoints lists the resource types' endpoints, for messages.
func (h *Handler) endpoints() []string {
	out := make([]string, len(h.resources))
	for i, res := range h.resources {
		out[i] = res.endpoint
	}
	return out
}
