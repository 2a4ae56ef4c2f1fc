package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/rolecall/rolecall/scim/document"
	"github.com/rolecall/rolecall/store"
)

const patchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// MaxPatchOperations is the most operations a PATCH of a User or Group may
// carry; more are refused with 400 tooMany naming the limit, and nothing is
// applied. It is the document package's limit, checked here before any
// value is decoded.
const MaxPatchOperations = document.MaxOperations

// MaxMemberFilterChecks bounds how many times one Group PATCH may test a
// member against a members[…] value filter. Filters that name members by
// value, display or type with eq (alone, joined by and, or alternatives
// joined by or, as IdPs send them) look their candidates up in an index of
// the group built once per request, so each operation costs the members it
// matches; other filters (members[display sw "x"], not(…)) test every
// current member, once per operation. When the tests of a request add up to
// more than this, it fails with 400 tooMany and nothing is applied. A
// million tests take about half a second, off the commit path.
const MaxMemberFilterChecks = 1_000_000

// patchAttempts is how many times a PATCH is planned on a snapshot, off the
// commit path, before it is planned on the commit path itself. A plan is
// stale when its resource changed between the snapshot and the commit; only
// concurrent writes to the same user or group cause that.
const patchAttempts = 4

// decodePatch reads a PatchOp body (see patchReader). Keys match
// case-insensitively ("Operations", "operations"), values keep their JSON
// numbers.
func decodePatch(body []byte) ([]document.Operation, error) {
	req, err := readPatch(body)
	if err != nil {
		return nil, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The PATCH body is not a valid PatchOp message: %v.", err)
	}
	found := false
	for _, s := range req.schemas {
		found = found || strings.EqualFold(s, patchOpSchema)
	}
	if !found {
		return nil, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The PATCH body must list %q in \"schemas\".", patchOpSchema)
	}
	if req.count == 0 {
		return nil, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The PATCH body must have at least one operation in \"Operations\".")
	}
	if req.count > MaxPatchOperations {
		return nil, scimErr(http.StatusBadRequest, scimerrors.ScimTypeTooMany, "The PATCH has %d operations; at most %d are accepted in one request. Split it into several PATCHes.", req.count, MaxPatchOperations)
	}
	return req.operations, nil
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
//
// The operations are applied to a snapshot of the resource first, outside
// the store's commit path, which every write of every connection shares: the
// write then only checks that the resource is still at the snapshot's
// revision and stores the result, at a cost that follows the members it
// changes, not the operations or the group's size. When the resource changed
// meanwhile the plan is made again; the last attempt plans on the commit
// path, where nothing can change under it.
func (res *resource) patch(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	ops, err := decodePatch(body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	st := stateOf(r)
	var rec record
	var version string
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			// Apply may have shared values of ops with the document it
			// changed: start again from the body.
			ops, _ = decodePatch(body)
		}
		stale := false
		if attempt < patchAttempts {
			var p *patchPlan
			err = res.h.db.View(func(rt *store.ReadTx) error {
				var err error
				p, err = res.plan(r, rt, st.connectionID, id, ops)
				return err
			})
			if err == nil {
				err = res.h.update(r, func(tx *store.Tx) error {
					var err error
					rec, version, stale, err = res.records.commitPatch(tx, r, p)
					return err
				})
			}
		} else {
			err = res.h.update(r, func(tx *store.Tx) error {
				p, err := res.plan(r, &tx.ReadTx, st.connectionID, id, ops)
				if err != nil {
					return err
				}
				rec, version, _, err = res.records.commitPatch(tx, r, p)
				return err
			})
		}
		if err != nil || !stale {
			break
		}
	}
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

// patchPlan is the outcome of a PATCH's operations on one revision of a user
// or group: the fields to store, and a Group's net member changes.
type patchPlan struct {
	id, connectionID                  string
	revision                          uint64 // of the resource the plan was made on
	userName, externalID, displayName string
	active                            bool
	doc                               []byte
	members                           *memberEditor // nil for a type without members
}

// plan applies ops to the user or group as rt sees it. Errors are the
// request's: not found, If-Match, the operations' own.
func (res *resource) plan(r *http.Request, rt *store.ReadTx, connectionID, id string, ops []document.Operation) (*patchPlan, error) {
	rec, err := res.records.load(rt, connectionID, id)
	if err != nil {
		return nil, err
	}
	version, err := res.records.version(rt, rec)
	if err != nil {
		return nil, err
	}
	if err := checkIfMatch(r, version); err != nil {
		return nil, err
	}
	p := &patchPlan{id: id, connectionID: connectionID, revision: rec.revision}
	var editor document.MemberEditor
	if res.members {
		p.members = &memberEditor{view: rt, connectionID: connectionID, groupID: id, state: make(map[string]bool, len(ops)), display: map[string]string{}}
		editor = p.members
	}
	doc, err := decodeDoc(rec.doc)
	if err != nil {
		return nil, err
	}
	if err := res.doc.Apply(doc, ops, editor); err != nil {
		return nil, err
	}
	if p.members != nil {
		p.members.plan()
	}
	p.active, _ = doc["active"].(bool)
	p.userName, p.externalID, p.displayName, p.doc = str(doc, "userName"), str(doc, "externalId"), str(doc, "displayName"), mustJSON(doc)
	return p, nil
}

// errStalePlan stops a write whose plan was made on an older revision of its
// resource; nothing was written.
var errStalePlan = errors.New("scim: the resource changed since the PATCH was planned")
