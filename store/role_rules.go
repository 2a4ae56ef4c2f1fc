package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// An attribute rule says: a user whose SCIM document matches Filter (a SCIM
// filter over User attributes, RFC 7644 §3.4.2.2) has the rule's roles, at
// tenant scope or inside one organization, optionally only for the users of
// one connection. The store keeps the filter as sent and reads nothing in
// it: the Management API parses it before a write, the role index
// evaluates it.
//
// Records and indexes:
//
//	role_rules              rulID → RoleRule (JSON)
//	role_role_rules         rolID|rulID → ∅
//	organization_role_rules orgID|rulID → ∅
//	connection_role_rules   conID|rulID → ∅
//
// Deleting a role takes it out of the rules that grant it, as Auth0 takes a
// deleted role off its users; a rule left without roles is deleted. Deleting
// the organization or the connection deletes the rules scoped to it. Each is
// audited as a cascade.

// PrefixRoleRule starts the id of an attribute rule.
const PrefixRoleRule = "rul"

// Attribute rule bounds.
const (
	MaxRoleRuleNameLen   = 256     // bytes of a rule's name
	MaxRoleRuleFilterLen = 8 << 10 // bytes of a rule's filter as sent
	MaxRoleRuleRoles     = 50      // roles one rule grants
	MaxRoleRules         = 1000    // rules in the tenant
)

// RoleRule grants RoleIDs to the users matching Filter, at tenant scope
// (OrganizationID "") or in an organization, for the users of every
// connection (ConnectionID "") or of one.
type RoleRule struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Filter         string    `json:"filter"`
	RoleIDs        []string  `json:"role_ids"`
	OrganizationID string    `json:"organization_id,omitempty"`
	ConnectionID   string    `json:"connection_id,omitempty"`
	Created        time.Time `json:"created_at"`
	Updated        time.Time `json:"updated_at"`
}

func roleRuleTarget(id string) Target { return Target{"role_rule", id} }

// RoleRule returns a rule, or ErrNotFound.
func (r *ReadTx) RoleRule(id string) (RoleRule, error) {
	var rule RoleRule
	if !ValidID(PrefixRoleRule, id) {
		return rule, notFound("role_rule", id)
	}
	ok, err := r.getJSON(bucketRoleRules, []byte(id), &rule)
	if err == nil && !ok {
		return RoleRule{}, notFound("role_rule", id)
	}
	return rule, err
}

// RoleRuleIDs lists every rule's id in ascending (creation) order.
func (r *ReadTx) RoleRuleIDs() []string {
	var ids []string
	r.scanPrefix(bucketRoleRules, nil, func(k, _ []byte) bool {
		ids = append(ids, string(k))
		return true
	})
	return ids
}

// EachRoleRule calls fn with every rule in id order.
func (r *ReadTx) EachRoleRule(fn func(RoleRule)) error {
	var ferr error
	r.scanPrefix(bucketRoleRules, nil, func(_, v []byte) bool {
		var rule RoleRule
		if ferr = json.Unmarshal(v, &rule); ferr != nil {
			ferr = fmt.Errorf("store: decode role rule: %w", ferr)
			return false
		}
		fn(rule)
		return true
	})
	return ferr
}

// check validates a rule's own fields and the records it names; roles come
// back without duplicates.
func (tx *Tx) checkRoleRule(rule *RoleRule) error {
	switch {
	case strings.TrimSpace(rule.Name) == "":
		return errorf(ErrInvalid, "name is required")
	case len(rule.Name) > MaxRoleRuleNameLen:
		return errorf(ErrInvalid, "name is longer than %d bytes", MaxRoleRuleNameLen)
	case !utf8.ValidString(rule.Name) || !utf8.ValidString(rule.Filter):
		return errorf(ErrInvalid, "name and filter must be UTF-8")
	case strings.TrimSpace(rule.Filter) == "":
		return errorf(ErrInvalid, "filter is required")
	case len(rule.Filter) > MaxRoleRuleFilterLen:
		return errorf(ErrInvalid, "filter is longer than %d bytes", MaxRoleRuleFilterLen)
	case len(rule.RoleIDs) == 0:
		return errorf(ErrInvalid, "roles must name at least one role")
	case len(rule.RoleIDs) > MaxRoleRuleRoles:
		return errorf(ErrInvalid, "roles names %d roles; a rule grants at most %d", len(rule.RoleIDs), MaxRoleRuleRoles)
	}
	roles, err := tx.checkRoles(rule.RoleIDs)
	if err != nil {
		return err
	}
	rule.RoleIDs = roles
	if rule.OrganizationID != "" {
		if _, err := tx.Organization(rule.OrganizationID); err != nil {
			return err
		}
	}
	if rule.ConnectionID != "" {
		if err := tx.connectionExists(rule.ConnectionID); err != nil {
			return err
		}
	}
	return nil
}

// CreateRoleRule stores a new rule and returns it with id and times set.
// ErrInvalid for a missing or over-long name or filter, no roles or too
// many, or the tenant already holding MaxRoleRules rules; ErrNotFound when
// a role, the organization or the connection does not exist.
func (tx *Tx) CreateRoleRule(rule RoleRule) (RoleRule, error) {
	if err := tx.checkRoleRule(&rule); err != nil {
		return rule, err
	}
	if n := countKeys(&tx.ReadTx, bucketRoleRules); n >= MaxRoleRules {
		return rule, errorf(ErrInvalid, "the tenant has %d attribute rules, the limit", MaxRoleRules)
	}
	rule.ID = tx.newID(PrefixRoleRule, bucketRoleRules)
	rule.Created, rule.Updated = tx.now, tx.now
	tx.putRoleRule(rule, true)
	tx.indexRoleRule(rule, true)
	tx.audit(EventRoleRuleCreated, roleRuleTarget(rule.ID), nil, rule)
	tx.emit(Change{Kind: RoleRuleChanged, Rule: &rule})
	return rule, tx.err
}

// UpdateRoleRule loads a rule, lets fn change its name, filter, roles,
// organization and connection, checks the result as CreateRoleRule does and
// saves it. When fn changes nothing the write is a no-op.
func (tx *Tx) UpdateRoleRule(id string, fn func(*RoleRule) error) (RoleRule, error) {
	old, err := tx.RoleRule(id)
	if err != nil {
		return old, err
	}
	rule := old
	rule.RoleIDs = slices.Clone(old.RoleIDs)
	if err := fn(&rule); err != nil {
		return old, err
	}
	rule.ID, rule.Created = old.ID, old.Created
	if err := tx.checkRoleRule(&rule); err != nil {
		return old, err
	}
	if rule.Name == old.Name && rule.Filter == old.Filter && slices.Equal(rule.RoleIDs, old.RoleIDs) &&
		rule.OrganizationID == old.OrganizationID && rule.ConnectionID == old.ConnectionID {
		return old, nil
	}
	rule.Updated = tx.now
	tx.saveRoleRule(old, rule, false)
	return rule, tx.err
}

// saveRoleRule replaces old by rule with their indexes, audited.
func (tx *Tx) saveRoleRule(old, rule RoleRule, cascade bool) {
	tx.indexRoleRule(old, false)
	tx.putRoleRule(rule, false)
	tx.indexRoleRule(rule, true)
	tx.auditMaybeCascade(cascade, EventRoleRuleUpdated, roleRuleTarget(rule.ID), old, rule)
	tx.emit(Change{Kind: RoleRuleChanged, Rule: &rule})
}

// DeleteRoleRule deletes a rule, or answers ErrNotFound.
func (tx *Tx) DeleteRoleRule(id string) error {
	rule, err := tx.RoleRule(id)
	if err != nil {
		return err
	}
	tx.dropRoleRule(rule, false)
	return tx.err
}

func (tx *Tx) putRoleRule(rule RoleRule, fresh bool) {
	raw, err := json.Marshal(rule)
	if err != nil {
		tx.err = fmt.Errorf("store: encode role rule: %w", err)
		return
	}
	if fresh {
		tx.putNew(bucketRoleRules, []byte(rule.ID), raw)
	} else {
		tx.put(bucketRoleRules, []byte(rule.ID), raw)
	}
}

// indexRoleRule adds (or removes) a rule's index entries.
func (tx *Tx) indexRoleRule(rule RoleRule, add bool) {
	set := func(bucket []byte, owner string) {
		if owner == "" {
			return
		}
		if add {
			tx.put(bucket, catS(owner, rule.ID), present)
		} else {
			tx.del(bucket, catS(owner, rule.ID))
		}
	}
	for _, role := range rule.RoleIDs {
		set(bucketRoleRoleRules, role)
	}
	set(bucketOrgRoleRules, rule.OrganizationID)
	set(bucketConnectionRoleRules, rule.ConnectionID)
}

func (tx *Tx) dropRoleRule(rule RoleRule, cascade bool) {
	tx.indexRoleRule(rule, false)
	tx.del(bucketRoleRules, []byte(rule.ID))
	tx.auditMaybeCascade(cascade, EventRoleRuleDeleted, roleRuleTarget(rule.ID), rule, nil)
	tx.emit(Change{Kind: RoleRuleDeleted, Rule: &rule})
}

// dropRoleRulesBy deletes, as a cascade, the rules an index bucket lists
// under owner (an organization or connection id).
func (tx *Tx) dropRoleRulesBy(bucket []byte, owner string) {
	for _, id := range tx.bindingIDs(bucket, owner) {
		rule, err := tx.RoleRule(id)
		if err != nil {
			tx.err = err
			return
		}
		tx.dropRoleRule(rule, true)
	}
}

// dropRoleFromRules takes a role being deleted out of the rules granting
// it; a rule left with none is deleted. Both are audited as cascades.
func (tx *Tx) dropRoleFromRules(roleID string) {
	for _, id := range tx.bindingIDs(bucketRoleRoleRules, roleID) {
		old, err := tx.RoleRule(id)
		if err != nil {
			tx.err = err
			return
		}
		rule := old
		rule.RoleIDs = slices.DeleteFunc(slices.Clone(old.RoleIDs), func(r string) bool { return r == roleID })
		if len(rule.RoleIDs) == 0 {
			tx.dropRoleRule(old, true)
			continue
		}
		rule.Updated = tx.now
		tx.saveRoleRule(old, rule, true)
	}
}

// verifyRoleRules checks that every rule names live roles, organization
// and connection and is in each of its indexes, and that every index entry
// points at a rule that names its owner.
func verifyRoleRules(r *ReadTx, report func(string, ...any)) {
	r.scanPrefix(bucketRoleRules, nil, func(k, v []byte) bool {
		var rule RoleRule
		if err := json.Unmarshal(v, &rule); err != nil {
			report("role rule %s: %v", k, err)
			return true
		}
		if rule.ID != string(k) {
			report("role rule %s: record says id %q", k, rule.ID)
		}
		if len(rule.RoleIDs) == 0 {
			report("role rule %s: grants no role", k)
		}
		for _, role := range rule.RoleIDs {
			if !r.has(bucketRoles, []byte(role)) {
				report("role rule %s: role %s missing", k, role)
			}
			if !r.has(bucketRoleRoleRules, catS(role, rule.ID)) {
				report("role rule %s: not indexed under role %s", k, role)
			}
		}
		if o := rule.OrganizationID; o != "" && (!r.has(bucketOrgs, []byte(o)) || !r.has(bucketOrgRoleRules, catS(o, rule.ID))) {
			report("role rule %s: organization %s missing or not indexed", k, o)
		}
		if c := rule.ConnectionID; c != "" && (!r.has(bucketConnections, []byte(c)) || !r.has(bucketConnectionRoleRules, catS(c, rule.ID))) {
			report("role rule %s: connection %s missing or not indexed", k, c)
		}
		return true
	})
	for _, idx := range []struct {
		bucket []byte
		names  func(RoleRule, string) bool
	}{
		{bucketRoleRoleRules, func(rule RoleRule, owner string) bool { return slices.Contains(rule.RoleIDs, owner) }},
		{bucketOrgRoleRules, func(rule RoleRule, owner string) bool { return rule.OrganizationID == owner }},
		{bucketConnectionRoleRules, func(rule RoleRule, owner string) bool { return rule.ConnectionID == owner }},
	} {
		r.scanPrefix(idx.bucket, nil, func(k, _ []byte) bool {
			var rule RoleRule
			ok, err := r.getJSON(bucketRoleRules, k[min(IDLen, len(k)):], &rule)
			if len(k) != 2*IDLen || err != nil || !ok || !idx.names(rule, string(k[:IDLen])) {
				report("%s entry %q points at a missing role rule or one that does not name it", idx.bucket, k)
			}
			return true
		})
	}
}
