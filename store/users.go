package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/rolecall/rolecall/store/httpconv"
	"strconv"
	"time"
)

// User is a SCIM user of one connection. Doc holds the SCIM document (the
// client-writable attributes in canonical form); the store reads nothing in it
// and indexes the fields beside it.
type User struct {
	ID           string
	ConnectionID string
	UserName     string
	ExternalID   string
	Active       bool
	Doc          json.RawMessage
	Created      time.Time
	Modified     time.Time
	// Revision is the store revision of the user's last change: an ETag.
	Revision uint64
	seq      uint64
}

// userRecord is the on-disk form of a User.
type userRecord struct {
	ID           string          `json:"id"`
	ConnectionID string          `json:"con"`
	UserName     string          `json:"un"`
	ExternalID   string          `json:"ext,omitempty"`
	Active       bool            `json:"act"`
	Doc          json.RawMessage `json:"doc"`
	Created      time.Time       `json:"c"`
	Modified     time.Time       `json:"m"`
	Revision     uint64          `json:"rev"`
	Seq          uint64          `json:"seq"`
}

func (u User) record() userRecord {
	return userRecord{u.ID, u.ConnectionID, u.UserName, u.ExternalID, u.Active, u.Doc, u.Created, u.Modified, u.Revision, u.seq}
}

func (r userRecord) user() User {
	return User{r.ID, r.ConnectionID, r.UserName, r.ExternalID, r.Active, r.Doc, r.Created, r.Modified, r.Revision, r.Seq}
}

// audit is what audit entries record of a user: the object encoding/json
// would write for {"connection_id","userName","externalId","active","doc"},
// fields in its order, strings as httpconv.AppendJSONString writes them.
func (u User) audit() json.RawMessage {
	b := make([]byte, 0, 96+len(u.UserName)+len(u.ExternalID)+len(u.Doc))
	b = append(b, `{"active":`...)
	b = strconv.AppendBool(b, u.Active)
	b = append(b, `,"connection_id":`...)
	b = httpconv.AppendJSONString(b, u.ConnectionID)
	b = append(b, `,"doc":`...)
	if len(u.Doc) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, u.Doc...)
	}
	b = append(b, `,"externalId":`...)
	b = httpconv.AppendJSONString(b, u.ExternalID)
	b = append(b, `,"userName":`...)
	b = httpconv.AppendJSONString(b, u.UserName)
	return append(b, '}')
}

func checkIndexed(what, v string) error {
	if len(v) > maxIndexedLen {
		return errorf(ErrInvalid, "%s is longer than %d bytes", what, maxIndexedLen)
	}
	return nil
}

func decodeUser(raw []byte) (User, error) {
	var rec userRecord
	if err := json.Unmarshal(raw[IDLen:], &rec); err != nil {
		return User{}, fmt.Errorf("store: decode user: %w", err)
	}
	return rec.user(), nil
}

// UserByID returns a user of any connection, or ErrNotFound.
func (r *ReadTx) UserByID(id string) (User, error) {
	if !ValidID(PrefixUser, id) {
		return User{}, notFound("user", id)
	}
	raw := r.get(bucketUsers, []byte(id))
	if len(raw) < IDLen {
		return User{}, notFound("user", id)
	}
	return decodeUser(raw)
}

// User returns a user of the given connection. A user of another connection is
// reported as ErrNotFound, exactly like a missing one.
func (r *ReadTx) User(connectionID, id string) (User, error) {
	if !r.inConnection(bucketUsers, connectionID, id) {
		return User{}, notFound("user", id)
	}
	return r.UserByID(id)
}

// UserByName finds a user by userName, compared case-insensitively.
func (r *ReadTx) UserByName(connectionID, userName string) (User, error) {
	id := r.get(bucketUserNames, catS(connectionID, Fold(userName)))
	if id == nil {
		return User{}, errorf(ErrNotFound, "no user with userName %q", userName)
	}
	return r.UserByID(string(id))
}

// UsersByExternalID returns the users with exactly this externalId.
func (r *ReadTx) UsersByExternalID(connectionID, externalID string) ([]User, error) {
	return r.usersByID(r.idsByExtID(bucketUserExtIDs, connectionID, externalID))
}

// idsByExtID reads a non-unique conID|value|id index.
func (r *ReadTx) idsByExtID(bucket []byte, connectionID, value string) []string {
	var ids []string
	prefix := catS(connectionID, value)
	r.scanPrefix(bucket, prefix, func(k, _ []byte) bool {
		// The value is variable-length, so a longer value can share the prefix;
		// only an exact id-sized remainder is a match.
		if len(k) == len(prefix)+IDLen {
			ids = append(ids, string(k[len(prefix):]))
		}
		return true
	})
	return ids
}

func collect[T any](r *ReadTx, ids []string, load func(string) (T, error)) ([]T, error) {
	out := make([]T, 0, len(ids))
	for _, id := range ids {
		v, err := load(id)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// UserPage returns the connection's users at positions [offset, offset+limit)
// in creation order, and how many users the connection has.
func (r *ReadTx) UserPage(connectionID string, offset, limit int) ([]User, int, error) {
	ids, total := userOrdinal.page(r, connectionID, offset, limit)
	users, err := r.usersByID(ids)
	return users, total, err
}

// Sequence is the user's position in its connection's creation order: larger
// for users created later, never reused. Listings in creation order sort by
// it, and cursors can remember it.
func (u User) Sequence() uint64 { return u.seq }

// UsersAfter returns up to limit users of the connection created after the
// one with sequence number seq (0: from the first), in creation order, and
// whether more follow them. Limit 0 only answers whether any does. The cost
// depends on limit, not on seq.
func (r *ReadTx) UsersAfter(connectionID string, seq uint64, limit int) ([]User, bool, error) {
	ids, more := userOrdinal.after(r, connectionID, seq, limit)
	users, err := r.usersByID(ids)
	return users, more, err
}

// UsersBefore returns the last (up to) limit users of the connection created
// before the one with sequence number seq, in creation order, and whether
// more precede them. Limit 0 only answers whether any does.
func (r *ReadTx) UsersBefore(connectionID string, seq uint64, limit int) ([]User, bool, error) {
	ids, more := userOrdinal.before(r, connectionID, seq, limit)
	users, err := r.usersByID(ids)
	return users, more, err
}

// UserCount is the number of users of the connection.
func (r *ReadTx) UserCount(connectionID string) int { return userOrdinal.count(r, connectionID) }

// EachUser calls fn with every user of the connection in creation order until
// fn returns false or an error.
func (r *ReadTx) EachUser(connectionID string, fn func(User) (bool, error)) error {
	var ferr error
	userOrdinal.each(r, connectionID, func(id string) bool {
		u, err := r.UserByID(id)
		if err == nil {
			var more bool
			more, err = fn(u)
			if err == nil {
				return more
			}
		}
		ferr = err
		return false
	})
	return ferr
}

// CreateUser stores a new user of an existing connection and returns it with
// id, timestamps and revision set. ErrConflict when the userName is taken
// (case-insensitively) in the connection.
func (tx *Tx) CreateUser(u User) (User, error) {
	if err := tx.connectionExists(u.ConnectionID); err != nil {
		return u, err
	}
	if u.UserName == "" {
		return u, errorf(ErrInvalid, "userName is required")
	}
	if err := checkIndexed("userName", u.UserName); err != nil {
		return u, err
	}
	if err := checkIndexed("externalId", u.ExternalID); err != nil {
		return u, err
	}
	nameKey := catS(u.ConnectionID, Fold(u.UserName))
	if tx.has(bucketUserNames, nameKey) {
		return u, errorf(ErrConflict, "userName %q is already taken in this connection", u.UserName)
	}
	u.ID = tx.newID(PrefixUser, bucketUsers)
	u.Created, u.Modified, u.Revision = tx.now, tx.now, tx.rev
	u.seq = userOrdinal.add(tx, u.ConnectionID, u.ID)
	tx.put(bucketUserNames, nameKey, []byte(u.ID))
	if u.ExternalID != "" {
		tx.put(bucketUserExtIDs, catS(u.ConnectionID, u.ExternalID, u.ID), present)
	}
	tx.putRecord(bucketUsers, u.ID, u.ConnectionID, u.record())
	tx.audit(EventUserCreated, Target{"user", u.ID}, nil, u.audit())
	tx.emit(Change{Kind: UserCreated, ConnectionID: u.ConnectionID, UserID: u.ID, Active: u.Active, UserName: u.UserName, ExternalID: u.ExternalID, IdPValues: IdPValues(u.Doc), Doc: u.Doc})
	return u, tx.err
}

// UpdateUser loads a user of the connection, lets fn change UserName,
// ExternalID, Active and Doc, and saves the result with its indexes. When fn
// changes nothing the write is a no-op (no revision, no audit entry). fn may
// return an error (e.g. ErrPrecondition after comparing Revision) to abort.
func (tx *Tx) UpdateUser(connectionID, id string, fn func(*User) error) (User, error) {
	old, err := tx.User(connectionID, id)
	if err != nil {
		return old, err
	}
	u := old
	u.Doc = bytes.Clone(old.Doc)
	if err := fn(&u); err != nil {
		return old, err
	}
	u.ID, u.ConnectionID, u.Created, u.seq = old.ID, old.ConnectionID, old.Created, old.seq
	if u.UserName == old.UserName && u.ExternalID == old.ExternalID && u.Active == old.Active && bytes.Equal(u.Doc, old.Doc) {
		return old, nil
	}
	if u.UserName == "" {
		return old, errorf(ErrInvalid, "userName is required")
	}
	if err := checkIndexed("userName", u.UserName); err != nil {
		return old, err
	}
	if err := checkIndexed("externalId", u.ExternalID); err != nil {
		return old, err
	}
	if oldKey, newKey := Fold(old.UserName), Fold(u.UserName); oldKey != newKey {
		key := catS(connectionID, newKey)
		if tx.has(bucketUserNames, key) {
			return old, errorf(ErrConflict, "userName %q is already taken in this connection", u.UserName)
		}
		tx.del(bucketUserNames, catS(connectionID, oldKey))
		tx.put(bucketUserNames, key, []byte(u.ID))
	}
	if u.ExternalID != old.ExternalID {
		if old.ExternalID != "" {
			tx.del(bucketUserExtIDs, catS(connectionID, old.ExternalID, u.ID))
		}
		if u.ExternalID != "" {
			tx.put(bucketUserExtIDs, catS(connectionID, u.ExternalID, u.ID), present)
		}
	}
	u.Modified, u.Revision = tx.now, tx.rev
	tx.putRecord(bucketUsers, u.ID, u.ConnectionID, u.record())
	tx.audit(EventUserUpdated, Target{"user", u.ID}, old.audit(), u.audit())
	tx.emit(Change{Kind: UserUpdated, ConnectionID: connectionID, UserID: u.ID, Active: u.Active, UserName: u.UserName, ExternalID: u.ExternalID, IdPValues: IdPValues(u.Doc),
		Doc: u.Doc, ChangedAttrs: ChangedAttributes(old.Doc, u.Doc)})
	return u, tx.err
}

// DeleteUser deletes a user of the connection and every membership it has.
// Each removed membership is audited as a cascade.
func (tx *Tx) DeleteUser(connectionID, id string) error {
	return tx.dropUser(connectionID, id, true)
}

func (tx *Tx) dropUser(connectionID, id string, auditIt bool) error {
	u, err := tx.User(connectionID, id)
	if err != nil {
		return err
	}
	tx.dropMemberships(u.ID, auditIt)
	tx.dropUserBindings(u.ID)
	tx.del(bucketUserNames, catS(connectionID, Fold(u.UserName)))
	if u.ExternalID != "" {
		tx.del(bucketUserExtIDs, catS(connectionID, u.ExternalID, u.ID))
	}
	userOrdinal.remove(tx, connectionID, u.seq)
	tx.del(bucketUsers, []byte(u.ID))
	if auditIt {
		tx.audit(EventUserDeleted, Target{"user", u.ID}, u.audit(), nil)
	}
	tx.emit(Change{Kind: UserDeleted, ConnectionID: connectionID, UserID: u.ID})
	return tx.err
}
