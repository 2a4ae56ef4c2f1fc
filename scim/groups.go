package scim

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/elimity-com/scim/schema"

	"github.com/rolecall/rolecall/scim/document"
	"github.com/rolecall/rolecall/store"
)

// groupType is the Group resource type (RFC 7643 §4.2). Its members are
// stored as memberships, not in its document; its version is its record's
// revision, which membership changes move.
func groupType() *resourceType {
	return &resourceType{
		name: "Group", endpoint: "/Groups", noun: "groups", description: "Group",
		schemaDefs: []schema.Schema{schema.CoreGroupSchema()},
		doc:        document.Group,
		derived:    "members",
		members:    true,
		plans: []listPlan{
			{attrs: []string{"id", "displayName", "externalId"}, find: findGroups},
			{attrs: []string{"members"}, find: groupsWithMember},
		},
		records: groupRecords{},
	}
}

func groupRecord(g store.Group) record {
	return record{id: g.ID, externalID: g.ExternalID, doc: g.Doc, created: g.Created, modified: g.Modified, revision: g.Revision, seq: g.Sequence()}
}

func recordsOfGroups(groups []store.Group) []record {
	recs := make([]record, len(groups))
	for i, g := range groups {
		recs[i] = groupRecord(g)
	}
	return recs
}

// findGroups answers an indexed eq on a group's id, displayName or
// externalId.
func findGroups(tx *store.ReadTx, con, attr, value string) ([]record, error) {
	var recs []record
	var err error
	switch attr {
	case "id":
		var g store.Group
		if g, err = tx.Group(con, value); err == nil {
			recs = append(recs, groupRecord(g))
		}
	case "displayName":
		var g store.Group
		if g, err = tx.GroupByName(con, value); err == nil {
			recs = append(recs, groupRecord(g))
		}
	default:
		var groups []store.Group
		groups, err = tx.GroupsByExternalID(con, value)
		recs = recordsOfGroups(groups)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return recs, err
}

// groupsWithMember answers members eq an id from the member's groups.
func groupsWithMember(tx *store.ReadTx, con, _, member string) ([]record, error) {
	// Only an id can be a member; anything else (a prefix of ids, "") would
	// prefix-scan other members' groups.
	if !store.ValidID(store.PrefixUser, member) && !store.ValidID(store.PrefixGroup, member) {
		return nil, nil
	}
	groups, err := tx.GroupsOf(member)
	if err != nil {
		return nil, err
	}
	var recs []record
	for _, g := range groups {
		if g.ConnectionID == con {
			recs = append(recs, groupRecord(g))
		}
	}
	return recs, nil
}

// groupRecords keeps groups and their memberships in the store.
type groupRecords struct{}

func (groupRecords) load(tx *store.ReadTx, con, id string) (record, error) {
	g, err := tx.Group(con, id)
	return groupRecord(g), err
}

func (groupRecords) count(tx *store.ReadTx, con string) int { return tx.GroupCount(con) }

func (groupRecords) pageAt(tx *store.ReadTx, con string, offset, limit int) ([]record, int, error) {
	groups, n, err := tx.GroupPage(con, offset, limit)
	return recordsOfGroups(groups), n, err
}

func (groupRecords) after(tx *store.ReadTx, con string, seq uint64, limit int) ([]record, bool, error) {
	groups, more, err := tx.GroupsAfter(con, seq, limit)
	return recordsOfGroups(groups), more, err
}

func (groupRecords) before(tx *store.ReadTx, con string, seq uint64, limit int) ([]record, bool, error) {
	groups, more, err := tx.GroupsBefore(con, seq, limit)
	return recordsOfGroups(groups), more, err
}

func (groupRecords) each(tx *store.ReadTx, con string, fn func(record) (bool, error)) error {
	return tx.EachGroup(con, func(g store.Group) (bool, error) { return fn(groupRecord(g)) })
}

func (groupRecords) creationReads(con string, in submitted) []store.Lookup {
	return []store.Lookup{store.GroupNameLookup(con, str(in.doc, "displayName"))}
}

func (groupRecords) create(tx *store.Tx, con string, in submitted, raw []byte) (record, error) {
	g, err := tx.CreateGroup(store.Group{
		ConnectionID: con, DisplayName: str(in.doc, "displayName"), ExternalID: str(in.doc, "externalId"),
		Doc: raw,
	}, in.members)
	return groupRecord(g), err
}

// replace keeps the members when the document has no "members" (a PUT with
// "members": [] empties the group).
func (groupRecords) replace(tx *store.Tx, r *http.Request, con, id string, in submitted) (record, error) {
	doc := in.doc
	g, err := tx.UpdateGroup(con, id, func(g *store.Group) error {
		if err := checkIfMatch(r, etag(g.Revision)); err != nil {
			return err
		}
		g.DisplayName, g.ExternalID, g.Doc = str(doc, "displayName"), str(doc, "externalId"), mustJSON(doc)
		return nil
	})
	if err != nil {
		return record{}, err
	}
	if in.membersPresent {
		if err := tx.ReplaceMembers(con, id, in.members); err != nil {
			return record{}, err
		}
		if g, err = tx.Group(con, id); err != nil {
			return record{}, err
		}
	}
	return groupRecord(g), nil
}

func (groupRecords) remove(tx *store.Tx, con, id string) error { return tx.DeleteGroup(con, id) }

// commitPatch writes the group record once and the net member changes.
func (groupRecords) commitPatch(tx *store.Tx, _ *http.Request, p *patchPlan) (rec record, version string, stale bool, err error) {
	g, err := tx.Group(p.connectionID, p.id)
	if err != nil {
		return rec, "", false, err
	}
	if g.Revision != p.revision {
		return rec, "", true, nil
	}
	if _, err := tx.UpdateGroup(p.connectionID, p.id, func(g *store.Group) error {
		g.DisplayName, g.ExternalID, g.Doc = p.displayName, p.externalID, p.doc
		return nil
	}); err != nil {
		return rec, "", false, err
	}
	if err := p.members.commit(tx); err != nil {
		return rec, "", false, err
	}
	if g, err = tx.Group(p.connectionID, p.id); err != nil {
		return rec, "", false, err
	}
	return groupRecord(g), etag(g.Revision), false, nil
}

func (groupRecords) version(_ *store.ReadTx, rec record) (string, error) {
	return etag(rec.revision), nil
}

func (groupRecords) attachDerived(tx *store.ReadTx, st *request, rec record, full map[string]any) (string, error) {
	members, _ := tx.Members(rec.id, "", 0)
	list := make([]any, 0, len(members))
	for _, m := range members {
		item := map[string]any{"value": m.ID, "type": m.Type, "$ref": memberRef(st, m)}
		if m.Display != "" {
			item["display"] = m.Display
		}
		list = append(list, item)
	}
	full["members"] = list
	return etag(rec.revision), nil
}

func memberRef(st *request, m store.Member) string {
	return st.baseURL + "/" + m.Type + "s/" + m.ID
}

// attachForOutput adds the members as encoded JSON (what encoding/json
// writes for the maps, keys sorted): a 50,000-member group then costs a few
// megabytes instead of a hundred in maps. Projections that reach inside
// members (attributes=members.value) get the map form; those that leave
// members out skip reading them.
func (gr groupRecords) attachForOutput(tx *store.ReadTx, st *request, rec record, full map[string]any, p projection) (string, error) {
	switch {
	case !document.Group.Wants(p.attributes, p.excluded, "members"):
		return etag(rec.revision), nil
	case p.reachesInto("members"):
		return gr.attachDerived(tx, st, rec, full)
	}
	members, _ := tx.Members(rec.id, "", 0)
	out := make([]memberOut, len(members))
	for i, m := range members {
		out[i] = memberOut{Ref: memberRef(st, m), Display: m.Display, Type: m.Type, Value: m.ID}
	}
	raw, err := json.Marshal(out)
	if err != nil {
		return "", err
	}
	full["members"] = json.RawMessage(raw)
	return etag(rec.revision), nil
}

// memberOut is one member as a group answers it; the fields are in the
// order of the map form's sorted keys.
type memberOut struct {
	Ref     string `json:"$ref"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type"`
	Value   string `json:"value"`
}
