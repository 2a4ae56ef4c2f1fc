package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/rolecall/rolecall/scim/document"
	"github.com/rolecall/rolecall/store"
)

const patchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// decodePatch reads a PatchOp body. Keys match case-insensitively
// ("Operations", "operations"), values keep their JSON numbers.
func decodePatch(body []byte) ([]document.Operation, error) {
	// Values are decoded one by one (with UseNumber) from raw messages: one
	// decoder over the whole body would copy it into a growing buffer first.
	var req struct {
		Schemas    []string `json:"schemas"`
		Operations []struct {
			Op    string          `json:"op"`
			Path  string          `json:"path"`
			Value json.RawMessage `json:"value"`
		} `json:"Operations"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The PATCH body is not a valid PatchOp message: %v.", err)
	}
	found := false
	for _, s := range req.Schemas {
		found = found || strings.EqualFold(s, patchOpSchema)
	}
	if !found {
		return nil, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The PATCH body must list %q in \"schemas\".", patchOpSchema)
	}
	if len(req.Operations) == 0 {
		return nil, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The PATCH body must have at least one operation in \"Operations\".")
	}
	ops := make([]document.Operation, len(req.Operations))
	for i, op := range req.Operations {
		ops[i] = document.Operation{Op: op.Op, Path: op.Path}
		if len(op.Value) == 0 || string(op.Value) == "null" {
			continue
		}
		if err := decodeValue(op.Value, &ops[i].Value); err != nil {
			return nil, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "Operations[%d] has an invalid value: %v.", i, err)
		}
	}
	return ops, nil
}

// decodeValue decodes a JSON value keeping numbers as json.Number. Values
// without numbers (member lists, strings) take the cheaper path without a
// Decoder.
func decodeValue(raw []byte, v *any) error {
	if !hasNumber(raw) {
		return json.Unmarshal(raw, v)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// hasNumber reports whether a JSON text has a number outside its strings.
func hasNumber(raw []byte) bool {
	inString := false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && (c == '-' || '0' <= c && c <= '9'):
			return true
		}
	}
	return false
}

// patch serves PATCH /{Users,Groups}/{id}. All operations apply in order in one
// write, or none does. The answer is 204, or 200 with the resource when the
// client asks for attributes (RFC 7644 §3.5.2 allows either; Entra's suite
// expects 204).
func (res *resource) patch(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	ops, err := decodePatch(body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	st := stateOf(r)
	var rec record
	var version string
	err = res.h.update(r, func(tx *store.Tx) error {
		if res.kind == kindUser {
			var groups []store.Group
			u, err := tx.UpdateUser(st.connectionID, id, func(u *store.User) error {
				var err error
				if groups, err = tx.GroupsOf(u.ID); err != nil {
					return err
				}
				if err := checkIfMatch(r, userVersion(u.Revision, groups)); err != nil {
					return err
				}
				doc, err := decodeDoc(u.Doc)
				if err != nil {
					return err
				}
				if err := res.doc.Apply(doc, ops, nil); err != nil {
					return err
				}
				active, _ := doc["active"].(bool)
				u.UserName, u.ExternalID, u.Active, u.Doc = str(doc, "userName"), str(doc, "externalId"), active, mustJSON(doc)
				return nil
			})
			rec, version = userRecord(u), userVersion(u.Revision, groups)
			return err
		}
		editor := &memberEditor{tx: tx, connectionID: st.connectionID, groupID: id, state: make(map[string]bool, len(ops)), display: map[string]string{}}
		g, err := tx.UpdateGroup(st.connectionID, id, func(g *store.Group) error {
			if err := checkIfMatch(r, etag(g.Revision)); err != nil {
				return err
			}
			doc, err := decodeDoc(g.Doc)
			if err != nil {
				return err
			}
			if err := res.doc.Apply(doc, ops, editor); err != nil {
				return err
			}
			g.DisplayName, g.ExternalID, g.Doc = str(doc, "displayName"), str(doc, "externalId"), mustJSON(doc)
			return nil
		})
		if err != nil {
			return err
		}
		if err := editor.commit(); err != nil {
			return err
		}
		if g, err = tx.Group(st.connectionID, id); err != nil {
			return err
		}
		rec, version = groupRecord(g), etag(g.Revision)
		return nil
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !projectionOf(r.URL.Query()).given() {
		w.Header().Set("ETag", version)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	res.renderAfterWrite(w, r, rec, http.StatusOK)
}

// memberEditor collects the member operations of one group PATCH and applies
// their net effect at the end: each membership is written (and audited) at
// most once however many operations touch it, and the group record is
// rewritten once. Every id ever added is validated, so an unknown member
// fails the PATCH even when a later operation removes it again.
type memberEditor struct {
	tx                    *store.Tx
	connectionID, groupID string
	cleared               bool            // a remove-all/replace happened: start from empty
	state                 map[string]bool // id → member after the operations so far
	order                 []string        // ids in first-touched order, for stable audit order
	added                 []store.Member  // every id ever added, for validation
	display               map[string]string
}

var _ document.MemberEditor = (*memberEditor)(nil)

func (e *memberEditor) set(id string, member bool) {
	if _, seen := e.state[id]; !seen {
		e.order = append(e.order, id)
	}
	e.state[id] = member
}

func (e *memberEditor) Add(members []document.Member) error {
	for _, m := range members {
		e.set(m.Value, true)
		e.added = append(e.added, store.Member{ID: m.Value})
		if m.Display != "" {
			e.display[m.Value] = m.Display
		}
	}
	return nil
}

func (e *memberEditor) Remove(ids []string) error {
	for _, id := range ids {
		e.set(id, false)
	}
	return nil
}

func (e *memberEditor) RemoveAll() error {
	e.cleared = true
	for id := range e.state {
		e.state[id] = false
	}
	return nil
}

func (e *memberEditor) Replace(members []document.Member) error {
	if err := e.RemoveAll(); err != nil {
		return err
	}
	return e.Add(members)
}

// RemoveWhere removes the current members matching a members[…] value filter
// that is not a plain list of ids.
func (e *memberEditor) RemoveWhere(expr filter.Expression) error {
	name := "members"
	path := &filter.ValuePath{AttributePath: filter.AttributePath{AttributeName: name}, ValueFilter: expr}
	for _, m := range e.current() {
		doc := map[string]any{name: []any{map[string]any{"value": m.ID, "type": m.Type, "display": m.Display}}}
		if document.Group.Match(path, doc) {
			e.set(m.ID, false)
		}
	}
	return nil
}

// current is the membership as the operations so far have left it, each
// member with the type and display it will have once committed: a stored
// member keeps its own (AddMembers does not relabel one the group has, even
// after a remove-all that added it back), a new one gets the type its id
// names and the display it was added with.
func (e *memberEditor) current() []store.Member {
	var out []store.Member
	stored, _ := e.tx.Members(e.groupID, "", 0)
	for _, m := range stored {
		if member, touched := e.state[m.ID]; touched && member || !touched && !e.cleared {
			out = append(out, m)
		}
	}
	for _, id := range e.order {
		if e.state[id] && !e.tx.IsMember(e.groupID, id) {
			out = append(out, store.Member{ID: id, Type: memberType(id), Display: e.display[id]})
		}
	}
	return out
}

// memberType is the type a member id names; "" for an id that is neither a
// user's nor a group's (commit rejects those).
func memberType(id string) string {
	switch {
	case strings.HasPrefix(id, store.PrefixUser+"_"):
		return store.MemberUser
	case strings.HasPrefix(id, store.PrefixGroup+"_"):
		return store.MemberGroup
	}
	return ""
}

func (e *memberEditor) commit() error {
	// Net additions are validated by AddMembers; ids added and then removed
	// again never reach it, so they are checked here.
	var transient []store.Member
	for _, m := range e.added {
		if !e.state[m.ID] {
			transient = append(transient, m)
		}
	}
	if len(transient) > 0 {
		if err := e.tx.ValidateMembers(e.connectionID, e.groupID, transient); err != nil {
			return err
		}
	}
	// AddMembers skips members the group has and RemoveMembers ignores ids it
	// does not have, so the wanted states go to them as they are.
	var adds []store.Member
	var removes []string
	if e.cleared {
		stored, _ := e.tx.Members(e.groupID, "", 0)
		for _, m := range stored {
			if !e.state[m.ID] {
				removes = append(removes, m.ID)
			}
		}
	}
	for _, id := range e.order {
		switch {
		case e.state[id]:
			adds = append(adds, store.Member{ID: id, Display: e.display[id]})
		case !e.cleared:
			removes = append(removes, id)
		}
	}
	if len(removes) > 0 {
		if _, err := e.tx.RemoveMembers(e.connectionID, e.groupID, removes); err != nil {
			return err
		}
	}
	if len(adds) > 0 {
		if _, err := e.tx.AddMembers(e.connectionID, e.groupID, adds); err != nil {
			return err
		}
	}
	return nil
}
