package scim

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/elimity-com/scim/schema"

	"github.com/rolecall/rolecall/scim/document"
	"github.com/rolecall/rolecall/store"
)

// userType is the User resource type (RFC 7643 §4.1) with the enterprise
// extension. A user's groups are derived from the groups' members, and its
// version follows them (see userVersion).
func userType() *resourceType {
	return &resourceType{
		name: "User", endpoint: "/Users", noun: "users", description: "User Account",
		schemaDefs:            []schema.Schema{schema.CoreUserSchema(), schema.ExtensionEnterpriseUser()},
		doc:                   document.User,
		derived:               "groups",
		versionFollowsDerived: true,
		emptyWhenNew:          true,
		// IdPs provision active users; say so explicitly.
		defaults: map[string]any{"active": true},
		plans:    []listPlan{{attrs: []string{"id", "userName", "externalId"}, find: findUsers}},
		records:  userRecords{},
	}
}

// userVersion is a user's entity tag (meta.version). A user's representation
// lists its groups with their display names, so the tag must change when
// they do, not only when the user's record does: it is the largest revision
// among the user's record and its groups' records, and how many groups there
// are (a user in no group has the plain tag of its record).
//
// The pair identifies the representation. Every change that adds to it (the
// user changes, joins a group, a group is renamed: the group's revision moves
// with its name and its membership) commits at a revision above all those
// the pair saw, so the maximum grows; it can come back down only when
// everything newer is gone again (the user left those groups, or they were
// deleted), and then what is left is a subset of what was there, with the
// same revisions, which the count tells apart. A change that only takes away
// (leaving a group, a group deleted) lowers the count.
func userVersion(revision uint64, groups []store.Group) string {
	if len(groups) == 0 {
		return etag(revision)
	}
	top := revision
	for _, g := range groups {
		top = max(top, g.Revision)
	}
	return `W/"` + strconv.FormatUint(top, 10) + "." + strconv.Itoa(len(groups)) + `"`
}

func userRecord(u store.User) record {
	return record{id: u.ID, externalID: u.ExternalID, doc: u.Doc, created: u.Created, modified: u.Modified, revision: u.Revision, seq: u.Sequence()}
}

func recordsOfUsers(users []store.User) []record {
	recs := make([]record, len(users))
	for i, u := range users {
		recs[i] = userRecord(u)
	}
	return recs
}

// findUsers answers an indexed eq on a user's id, userName or externalId.
func findUsers(tx *store.ReadTx, con, attr, value string) ([]record, error) {
	var recs []record
	var err error
	switch attr {
	case "id":
		var u store.User
		if u, err = tx.User(con, value); err == nil {
			recs = append(recs, userRecord(u))
		}
	case "userName":
		var u store.User
		if u, err = tx.UserByName(con, value); err == nil {
			recs = append(recs, userRecord(u))
		}
	default:
		var users []store.User
		users, err = tx.UsersByExternalID(con, value)
		recs = recordsOfUsers(users)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return recs, err
}

// userRecords keeps users in the store.
type userRecords struct{}

// pageGroups is the most groups a list page reads for its users at once
// (store.ReadTx.GroupsOfMany): a page of users in thousands of groups each
// is read a few users at a time.
const pageGroups = 4096

// readGroups reads the groups of the users among recs that have none yet,
// from the first, in one go on any engine (one walk of the memberships),
// and stores them in the records. It may stop before the end (see
// pageGroups); the records after the first without groups are read later.
func (userRecords) readGroups(tx *store.ReadTx, recs []record) error {
	ids := make([]string, 0, len(recs))
	at := make([]int, 0, len(recs))
	for i := range recs {
		if recs[i].groups == nil {
			ids, at = append(ids, recs[i].id), append(at, i)
		}
	}
	if len(ids) < 2 {
		return nil // one user: GroupsOf when it is rendered
	}
	groups, err := tx.GroupsOfMany(ids, pageGroups)
	if err != nil {
		return err
	}
	for j := range groups {
		recs[at[j]].groups = &groups[j]
	}
	return nil
}

func (userRecords) load(tx *store.ReadTx, con, id string) (record, error) {
	u, err := tx.User(con, id)
	return userRecord(u), err
}

func (userRecords) count(tx *store.ReadTx, con string) int { return tx.UserCount(con) }

func (userRecords) pageAt(tx *store.ReadTx, con string, offset, limit int) ([]record, int, error) {
	users, n, err := tx.UserPage(con, offset, limit)
	return recordsOfUsers(users), n, err
}

func (userRecords) after(tx *store.ReadTx, con string, seq uint64, limit int) ([]record, bool, error) {
	users, more, err := tx.UsersAfter(con, seq, limit)
	return recordsOfUsers(users), more, err
}

func (userRecords) before(tx *store.ReadTx, con string, seq uint64, limit int) ([]record, bool, error) {
	users, more, err := tx.UsersBefore(con, seq, limit)
	return recordsOfUsers(users), more, err
}

func (userRecords) each(tx *store.ReadTx, con string, fn func(record) (bool, error)) error {
	return tx.EachUser(con, func(u store.User) (bool, error) { return fn(userRecord(u)) })
}

func (userRecords) creationReads(con string, in submitted) []store.Lookup {
	return []store.Lookup{store.UserNameLookup(con, str(in.doc, "userName"))}
}

func (userRecords) create(tx *store.Tx, con string, in submitted, raw []byte) (record, error) {
	u, err := tx.CreateUser(store.User{
		ConnectionID: con, UserName: str(in.doc, "userName"), ExternalID: str(in.doc, "externalId"),
		Active: in.doc["active"] == true, Doc: raw,
	})
	return userRecord(u), err
}

// replace keeps the user's active state when the document has no "active":
// IdP round-trips must not deactivate a user.
func (ur userRecords) replace(tx *store.Tx, r *http.Request, con, id string, in submitted) (record, error) {
	doc := in.doc
	u, err := tx.UpdateUser(con, id, func(u *store.User) error {
		if r.Header.Get("If-Match") != "" {
			version, err := ur.version(&tx.ReadTx, userRecord(*u))
			if err != nil {
				return err
			}
			if err := checkIfMatch(r, version); err != nil {
				return err
			}
		}
		if _, ok := doc["active"]; !ok {
			doc["active"] = u.Active
		}
		u.UserName, u.ExternalID, u.Active, u.Doc = str(doc, "userName"), str(doc, "externalId"), doc["active"] == true, mustJSON(doc)
		return nil
	})
	return userRecord(u), err
}

func (userRecords) remove(tx *store.Tx, con, id string) error { return tx.DeleteUser(con, id) }

func (userRecords) commitPatch(tx *store.Tx, r *http.Request, p *patchPlan) (rec record, version string, stale bool, err error) {
	var groups []store.Group
	u, err := tx.UpdateUser(p.connectionID, p.id, func(u *store.User) error {
		if u.Revision != p.revision {
			return errStalePlan
		}
		var err error
		if groups, err = tx.GroupsOf(u.ID); err != nil {
			return err
		}
		// The groups may have moved on since the plan's If-Match check.
		if err := checkIfMatch(r, userVersion(u.Revision, groups)); err != nil {
			return err
		}
		u.UserName, u.ExternalID, u.Active, u.Doc = p.userName, p.externalID, p.active, p.doc
		return nil
	})
	if errors.Is(err, errStalePlan) {
		return rec, "", true, nil
	}
	return userRecord(u), userVersion(u.Revision, groups), false, err
}

// version reads the user's groups, which decide it.
func (userRecords) version(tx *store.ReadTx, rec record) (string, error) {
	groups, err := tx.GroupsOf(rec.id)
	if err != nil {
		return "", err
	}
	return userVersion(rec.revision, groups), nil
}

func (userRecords) attachDerived(tx *store.ReadTx, st *request, rec record, full map[string]any) (string, error) {
	var groups []store.Group
	if rec.groups != nil {
		groups = *rec.groups // read with its page
	} else {
		var err error
		if groups, err = tx.GroupsOf(rec.id); err != nil {
			return "", err
		}
	}
	list := make([]any, 0, len(groups))
	for _, g := range groups {
		list = append(list, map[string]any{
			"value": g.ID, "display": g.DisplayName, "type": "direct",
			"$ref": st.baseURL + "/Groups/" + g.ID,
		})
	}
	full["groups"] = list
	version := userVersion(rec.revision, groups)
	if meta, ok := full["meta"].(map[string]any); ok {
		meta["version"] = version
	}
	return version, nil
}

// attachForOutput always reads the groups: the version depends on them.
func (ur userRecords) attachForOutput(tx *store.ReadTx, st *request, rec record, full map[string]any, _ projection) (string, error) {
	return ur.attachDerived(tx, st, rec, full)
}
