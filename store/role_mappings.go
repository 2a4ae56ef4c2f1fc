package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// An IdP role mapping says: a user of connection C whose SCIM roles or
// entitlements carry the value V has role R, at tenant scope or inside one
// organization. Entra ID sends app role assignments as the User's roles
// attribute, Okta can send roles and entitlements; a mapping turns them into
// Rolecall roles without a group in between.
//
// Values match whole and case-insensitively (Fold): RFC 7643 §8.7.1 makes
// roles.value and entitlements.value caseExact false, so "Billing.Admin" and
// "billing.admin" are one value to SCIM, to filters and to mappings alike.
//
// Records and indexes:
//
//	role_mappings             rmpID → RoleMapping (JSON)
//	role_mapping_keys         conID|rolID|orgID or noOrg|Fold(value) → rmpID (unique)
//	connection_role_mappings  conID|rmpID → ∅
//	role_role_mappings        rolID|rmpID → ∅
//	organization_role_mappings orgID|rmpID → ∅
//
// Deleting the connection, the role or the organization deletes the
// mappings that name it, each audited as a cascade.

// PrefixRoleMapping starts the id of an IdP role mapping.
const PrefixRoleMapping = "rmp"

// MaxIdPValueLen bounds a mapping's idp_value (it is part of a key).
const MaxIdPValueLen = 1024

// RoleMapping maps a value of a connection's users' roles or entitlements
// to a role, at tenant scope (OrganizationID "") or in an organization.
type RoleMapping struct {
	ID             string    `json:"id"`
	ConnectionID   string    `json:"connection_id"`
	IdPValue       string    `json:"idp_value"`
	RoleID         string    `json:"role_id"`
	OrganizationID string    `json:"organization_id,omitempty"`
	Created        time.Time `json:"created_at"`
}

// noOrg stands for tenant scope in role_mapping_keys, where the organization
// part must have an id's length; it is no valid id.
var noOrg = strings.Repeat("-", IDLen)

func (m RoleMapping) uniqueKey() []byte {
	org := m.OrganizationID
	if org == "" {
		org = noOrg
	}
	return catS(m.ConnectionID, m.RoleID, org, Fold(m.IdPValue))
}

func roleMappingTarget(m RoleMapping) Target { return Target{"connection", m.ConnectionID} }

// RoleMapping returns a mapping of the connection, or ErrNotFound (also for
// a mapping of another connection).
func (r *ReadTx) RoleMapping(connectionID, id string) (RoleMapping, error) {
	var m RoleMapping
	if !ValidID(PrefixRoleMapping, id) {
		return m, notFound("role_mapping", id)
	}
	ok, err := r.getJSON(bucketRoleMappings, []byte(id), &m)
	if err == nil && (!ok || m.ConnectionID != connectionID) {
		return RoleMapping{}, notFound("role_mapping", id)
	}
	return m, err
}

// RoleMappings lists a connection's mappings in id (creation) order, or
// ErrNotFound when the connection does not exist.
func (r *ReadTx) RoleMappings(connectionID string) ([]RoleMapping, error) {
	if err := r.connectionExists(connectionID); err != nil {
		return nil, err
	}
	return collect(r, r.bindingIDs(bucketConnectionRoleMappings, connectionID), func(id string) (RoleMapping, error) {
		return r.RoleMapping(connectionID, id)
	})
}

// EachRoleMapping calls fn with every mapping of every connection.
func (r *ReadTx) EachRoleMapping(fn func(RoleMapping)) error {
	var ferr error
	r.scanPrefix(bucketRoleMappings, nil, func(_, v []byte) bool {
		var m RoleMapping
		if ferr = json.Unmarshal(v, &m); ferr != nil {
			ferr = fmt.Errorf("store: decode role mapping: %w", ferr)
			return false
		}
		fn(m)
		return true
	})
	return ferr
}

// CreateRoleMapping stores a new mapping and returns it with id and time
// set. ErrNotFound when the connection, the role or the organization does
// not exist; ErrInvalid for an empty or over-long value; ErrConflict when
// the connection already maps the same value (case-insensitively) to the
// same role at the same scope.
func (tx *Tx) CreateRoleMapping(m RoleMapping) (RoleMapping, error) {
	if err := tx.connectionExists(m.ConnectionID); err != nil {
		return m, err
	}
	if m.IdPValue == "" {
		return m, errorf(ErrInvalid, "idp_value is required")
	}
	if len(m.IdPValue) > MaxIdPValueLen {
		return m, errorf(ErrInvalid, "idp_value is longer than %d bytes", MaxIdPValueLen)
	}
	if _, err := tx.checkRoles([]string{m.RoleID}); err != nil {
		return m, err
	}
	if m.OrganizationID != "" {
		if _, err := tx.Organization(m.OrganizationID); err != nil {
			return m, err
		}
	}
	key := m.uniqueKey()
	if tx.has(bucketRoleMappingKeys, key) {
		return m, errorf(ErrConflict, "connection %s already maps %q to role %s at this scope", m.ConnectionID, m.IdPValue, m.RoleID)
	}
	m.ID = tx.newID(PrefixRoleMapping, bucketRoleMappings)
	m.Created = tx.now
	raw, err := json.Marshal(m)
	if err != nil {
		return m, fmt.Errorf("store: encode role mapping: %w", err)
	}
	tx.putNew(bucketRoleMappings, []byte(m.ID), raw)
	tx.putNew(bucketRoleMappingKeys, key, []byte(m.ID))
	tx.putNew(bucketConnectionRoleMappings, catS(m.ConnectionID, m.ID), present)
	tx.putNew(bucketRoleRoleMappings, catS(m.RoleID, m.ID), present)
	if m.OrganizationID != "" {
		tx.putNew(bucketOrgRoleMappings, catS(m.OrganizationID, m.ID), present)
	}
	tx.audit(EventConnectionRoleMappingCreated, roleMappingTarget(m), nil, m)
	tx.emit(m.change(RoleMappingAdded))
	return m, tx.err
}

// DeleteRoleMapping deletes a mapping of the connection, or answers
// ErrNotFound.
func (tx *Tx) DeleteRoleMapping(connectionID, id string) error {
	m, err := tx.RoleMapping(connectionID, id)
	if err != nil {
		return err
	}
	tx.dropRoleMapping(m, false)
	return tx.err
}

func (tx *Tx) dropRoleMapping(m RoleMapping, cascade bool) {
	tx.del(bucketRoleMappings, []byte(m.ID))
	tx.del(bucketRoleMappingKeys, m.uniqueKey())
	tx.del(bucketConnectionRoleMappings, catS(m.ConnectionID, m.ID))
	tx.del(bucketRoleRoleMappings, catS(m.RoleID, m.ID))
	if m.OrganizationID != "" {
		tx.del(bucketOrgRoleMappings, catS(m.OrganizationID, m.ID))
	}
	tx.auditMaybeCascade(cascade, EventConnectionRoleMappingDeleted, roleMappingTarget(m), m, nil)
	tx.emit(m.change(RoleMappingRemoved))
}

// dropRoleMappingsBy deletes, as a cascade, the mappings an index bucket
// lists under owner (a connection, role or organization id).
func (tx *Tx) dropRoleMappingsBy(bucket []byte, owner string) {
	for _, id := range tx.bindingIDs(bucket, owner) {
		var m RoleMapping
		ok, err := tx.getJSON(bucketRoleMappings, []byte(id), &m)
		if err != nil {
			tx.err = err
			return
		}
		if ok {
			tx.dropRoleMapping(m, true)
		}
	}
}

func (m RoleMapping) change(kind ChangeKind) Change {
	return Change{Kind: kind, MappingID: m.ID, ConnectionID: m.ConnectionID, RoleID: m.RoleID, OrganizationID: m.OrganizationID, Name: m.IdPValue}
}

// IdPValues are the values of a SCIM user document's roles and entitlements
// (RFC 7643 §4.1.2), each once, in document order: what role mappings match.
// A document without either costs a byte scan, not a decode.
func IdPValues(doc json.RawMessage) []string {
	if !bytes.Contains(doc, []byte(`"roles"`)) && !bytes.Contains(doc, []byte(`"entitlements"`)) {
		return nil
	}
	var d struct {
		Roles        []struct{ Value any } `json:"roles"`
		Entitlements []struct{ Value any } `json:"entitlements"`
	}
	if json.Unmarshal(doc, &d) != nil {
		return nil // the SCIM layer wrote the document; a foreign shape maps nothing
	}
	var out []string
	for _, list := range [][]struct{ Value any }{d.Roles, d.Entitlements} {
		for _, e := range list {
			if s, ok := e.Value.(string); ok && s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// verifyRoleMappings checks that every mapping names a live connection,
// role and organization and is in each of its indexes, and that every index
// entry points at a mapping.
func verifyRoleMappings(r *ReadTx, report func(string, ...any)) {
	n := 0
	r.scanPrefix(bucketRoleMappings, nil, func(k, v []byte) bool {
		n++
		var m RoleMapping
		if err := json.Unmarshal(v, &m); err != nil {
			report("role mapping %s: %v", k, err)
			return true
		}
		if m.ID != string(k) {
			report("role mapping %s: record says id %q", k, m.ID)
		}
		if !r.has(bucketConnections, []byte(m.ConnectionID)) {
			report("role mapping %s: connection %s missing", k, m.ConnectionID)
		}
		if !r.has(bucketRoles, []byte(m.RoleID)) {
			report("role mapping %s: role %s missing", k, m.RoleID)
		}
		if m.OrganizationID != "" && !r.has(bucketOrgs, []byte(m.OrganizationID)) {
			report("role mapping %s: organization %s missing", k, m.OrganizationID)
		}
		if got := r.get(bucketRoleMappingKeys, m.uniqueKey()); string(got) != m.ID {
			report("role mapping %s: unique key points at %q", k, got)
		}
		for _, idx := range []struct {
			bucket []byte
			owner  string
		}{{bucketConnectionRoleMappings, m.ConnectionID}, {bucketRoleRoleMappings, m.RoleID}, {bucketOrgRoleMappings, m.OrganizationID}} {
			if idx.owner != "" && !r.has(idx.bucket, catS(idx.owner, m.ID)) {
				report("role mapping %s: not indexed under %s", k, idx.owner)
			}
		}
		return true
	})
	if keys := countKeys(r, bucketRoleMappingKeys); keys != n {
		report("role mappings: %d unique keys for %d mappings", keys, n)
	}
	for _, b := range [][]byte{bucketConnectionRoleMappings, bucketRoleRoleMappings, bucketOrgRoleMappings} {
		r.scanPrefix(b, nil, func(k, _ []byte) bool {
			if len(k) != 2*IDLen || !r.has(bucketRoleMappings, k[IDLen:]) {
				report("%s entry %q points at a missing role mapping", b, k)
			}
			return true
		})
	}
}

func countKeys(r *ReadTx, bucket []byte) int {
	n := 0
	r.scanPrefix(bucket, nil, func(_, _ []byte) bool { n++; return true })
	return n
}
