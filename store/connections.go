package store

import (
	"bytes"
	"encoding/json"
	"time"
)

// Connection is one enterprise customer's IdP link. Users and groups belong to
// exactly one connection.
type Connection struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	DisplayName string            `json:"display_name,omitempty"`
	Strategy    string            `json:"strategy"`
	Options     json.RawMessage   `json:"options,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

// Connection strategies: the kind of identity provider a connection labels,
// as Auth0 names them. IdP quirks are accepted on every connection whatever
// its strategy; the Management API accepts only these (the store keeps any).
const (
	StrategyOkta         = "okta"
	StrategyEntraID      = "waad"
	StrategySAML         = "samlp"
	StrategyOIDC         = "oidc"
	StrategyGoogle       = "google-apps"
	StrategyADFS         = "adfs"
	StrategyPingFederate = "pingfederate"
	StrategySCIM         = "scim"
)

// Strategies are the connection strategies, in the order error messages list
// them. Callers must not modify it.
var Strategies = []string{
	StrategyOkta, StrategyEntraID, StrategySAML, StrategyOIDC,
	StrategyGoogle, StrategyADFS, StrategyPingFederate, StrategySCIM,
}

// SCIMMapping maps one Rolecall user attribute to a SCIM attribute.
type SCIMMapping struct {
	Auth0 string `json:"auth0"`
	SCIM  string `json:"scim"`
}

// SCIMConfig is a connection's SCIM configuration. A connection accepts SCIM
// requests only while it has one; deleting it revokes every SCIM token.
type SCIMConfig struct {
	ConnectionID    string        `json:"connection_id"`
	UserIDAttribute string        `json:"user_id_attribute"`
	Mapping         []SCIMMapping `json:"mapping"`
	CreatedAt       time.Time     `json:"created_at"`
	UpdatedAt       time.Time     `json:"updated_on"`
}

// Connection returns the connection with the given id, or ErrNotFound.
func (r *ReadTx) Connection(id string) (Connection, error) {
	var c Connection
	if !ValidID(PrefixConnection, id) {
		return c, notFound("connection", id)
	}
	ok, err := r.getJSON(bucketConnections, []byte(id), &c)
	if err != nil {
		return c, err
	}
	if !ok {
		return c, notFound("connection", id)
	}
	return c, nil
}

// connectionExists is Connection without decoding it.
func (r *ReadTx) connectionExists(id string) error {
	if !ValidID(PrefixConnection, id) || !r.has(bucketConnections, []byte(id)) {
		return notFound("connection", id)
	}
	return nil
}

// Connections lists connections in id order, starting after the id `after`,
// at most take of them; next is the id to pass as `after` for the next page,
// or "" when there are no more.
func (r *ReadTx) Connections(after string, take int) (list []Connection, next string, err error) {
	err = r.pageRecords(bucketConnections, after, take, func(v []byte) error {
		var c Connection
		if err := json.Unmarshal(v, &c); err != nil {
			return err
		}
		list = append(list, c)
		return nil
	}, &next)
	return list, next, err
}

// pageRecords walks a bucket keyed by id from just after `after`, decoding up
// to take values, and sets *next (the last id returned) when more remain.
func (r *ReadTx) pageRecords(bucket []byte, after string, take int, decode func(v []byte) error, next *string) error {
	c := r.bucket(bucket).Cursor()
	k, v := c.First()
	if after != "" {
		k, v = c.Seek([]byte(after))
		if k != nil && bytes.Equal(k, []byte(after)) {
			k, v = c.Next()
		}
	}
	var last []byte
	for n := 0; k != nil; k, v = c.Next() {
		if n == take {
			*next = string(last)
			return nil
		}
		if err := decode(v); err != nil {
			return err
		}
		last = k
		n++
	}
	return nil
}

// CreateConnection stores a new connection and returns it with its id and
// timestamps set. The name must be unique (case-insensitively): ErrConflict.
func (tx *Tx) CreateConnection(c Connection) (Connection, error) {
	if c.Name == "" || len(c.Name) > 128 {
		return c, errorf(ErrInvalid, "connection name must be 1 to 128 characters")
	}
	nameKey := []byte(Fold(c.Name))
	if tx.has(bucketConnectionNames, nameKey) {
		return c, errorf(ErrConflict, "a connection named %q already exists", c.Name)
	}
	c.ID = tx.newID(PrefixConnection, bucketConnections)
	c.CreatedAt, c.UpdatedAt = tx.now, tx.now
	tx.put(bucketConnectionNames, nameKey, []byte(c.ID))
	tx.putJSON(bucketConnections, []byte(c.ID), c)
	tx.audit(EventConnectionCreated, Target{"connection", c.ID}, nil, c)
	return c, tx.err
}

// UpdateConnection applies fn to the stored connection and saves the result.
// fn may change Name, DisplayName, Options and Metadata; the id, strategy and
// creation time are kept.
func (tx *Tx) UpdateConnection(id string, fn func(*Connection) error) (Connection, error) {
	old, err := tx.Connection(id)
	if err != nil {
		return old, err
	}
	c := old
	if err := fn(&c); err != nil {
		return old, err
	}
	c.ID, c.Strategy, c.CreatedAt = old.ID, old.Strategy, old.CreatedAt
	if c.Name == "" || len(c.Name) > 128 {
		return old, errorf(ErrInvalid, "connection name must be 1 to 128 characters")
	}
	if Fold(c.Name) != Fold(old.Name) {
		nameKey := []byte(Fold(c.Name))
		if tx.has(bucketConnectionNames, nameKey) {
			return old, errorf(ErrConflict, "a connection named %q already exists", c.Name)
		}
		tx.del(bucketConnectionNames, []byte(Fold(old.Name)))
		tx.put(bucketConnectionNames, nameKey, []byte(c.ID))
	}
	c.UpdatedAt = tx.now
	tx.putJSON(bucketConnections, []byte(c.ID), c)
	tx.audit(EventConnectionUpdated, Target{"connection", c.ID}, old, c)
	return c, tx.err
}

// DeleteConnection deletes a connection with everything that belongs to it:
// its SCIM configuration and tokens, its users, its groups and their
// memberships. The users and groups are counted on the audit entry rather than
// audited one by one.
func (tx *Tx) DeleteConnection(id string) error {
	c, err := tx.Connection(id)
	if err != nil {
		return err
	}
	if _, err := tx.SCIMConfig(id); err == nil {
		if err := tx.DeleteSCIMConfig(id); err != nil {
			return err
		}
	}
	tx.dropConnectionFromOrganizations(id)
	tx.dropRoleMappingsBy(bucketConnectionRoleMappings, id)
	tx.dropRoleRulesBy(bucketConnectionRoleRules, id)
	users, groups := 0, 0
	for _, o := range []struct {
		ord   ordinal
		count *int
		drop  func(string) error
	}{
		{groupOrdinal, &groups, func(gid string) error { return tx.dropGroup(id, gid, false) }},
		{userOrdinal, &users, func(uid string) error { return tx.dropUser(id, uid, false) }},
	} {
		var ids []string
		o.ord.each(&tx.ReadTx, id, func(rid string) bool { ids = append(ids, rid); return true })
		for _, rid := range ids {
			if err := o.drop(rid); err != nil {
				return err
			}
		}
		*o.count = len(ids)
	}
	tx.del(bucketMeta, metaSeqKey("u", id))
	tx.del(bucketMeta, metaSeqKey("g", id))
	tx.del(bucketConnectionNames, []byte(Fold(c.Name)))
	tx.del(bucketConnections, []byte(id))
	tx.audit(EventConnectionDeleted, Target{"connection", id}, map[string]any{
		"name": c.Name, "strategy": c.Strategy, "users": users, "groups": groups,
	}, nil)
	tx.emit(Change{Kind: ConnectionDeleted, ConnectionID: id})
	return tx.err
}

// SCIMConfig returns a connection's SCIM configuration, or ErrNotFound.
func (r *ReadTx) SCIMConfig(connectionID string) (SCIMConfig, error) {
	var cfg SCIMConfig
	if !ValidID(PrefixConnection, connectionID) {
		return cfg, notFound("connection", connectionID)
	}
	ok, err := r.getJSON(bucketSCIMConfigs, []byte(connectionID), &cfg)
	if err != nil {
		return cfg, err
	}
	if !ok {
		return cfg, errorf(ErrNotFound, "connection %q has no SCIM configuration", connectionID)
	}
	return cfg, nil
}

// CreateSCIMConfig enables SCIM on a connection. ErrConflict when it already
// has a configuration.
func (tx *Tx) CreateSCIMConfig(cfg SCIMConfig) (SCIMConfig, error) {
	if _, err := tx.Connection(cfg.ConnectionID); err != nil {
		return cfg, err
	}
	if tx.has(bucketSCIMConfigs, []byte(cfg.ConnectionID)) {
		return cfg, errorf(ErrConflict, "connection %q already has a SCIM configuration", cfg.ConnectionID)
	}
	cfg.CreatedAt, cfg.UpdatedAt = tx.now, tx.now
	tx.putJSON(bucketSCIMConfigs, []byte(cfg.ConnectionID), cfg)
	tx.audit(EventSCIMConfigurationCreated, Target{"connection", cfg.ConnectionID}, nil, cfg)
	return cfg, tx.err
}

// UpdateSCIMConfig applies fn to a connection's SCIM configuration.
func (tx *Tx) UpdateSCIMConfig(connectionID string, fn func(*SCIMConfig) error) (SCIMConfig, error) {
	old, err := tx.SCIMConfig(connectionID)
	if err != nil {
		return old, err
	}
	cfg := old
	cfg.Mapping = append([]SCIMMapping(nil), old.Mapping...)
	if err := fn(&cfg); err != nil {
		return old, err
	}
	cfg.ConnectionID, cfg.CreatedAt, cfg.UpdatedAt = old.ConnectionID, old.CreatedAt, tx.now
	tx.putJSON(bucketSCIMConfigs, []byte(connectionID), cfg)
	tx.audit(EventSCIMConfigurationUpdated, Target{"connection", connectionID}, old, cfg)
	return cfg, tx.err
}

// DeleteSCIMConfig disables SCIM on a connection and revokes all its tokens.
// Users and groups already provisioned are kept.
func (tx *Tx) DeleteSCIMConfig(connectionID string) error {
	old, err := tx.SCIMConfig(connectionID)
	if err != nil {
		return err
	}
	tokens, err := tx.SCIMTokens(connectionID)
	if err != nil {
		return err
	}
	for _, t := range tokens {
		tx.dropSCIMToken(t, true)
	}
	tx.del(bucketSCIMConfigs, []byte(connectionID))
	tx.audit(EventSCIMConfigurationDeleted, Target{"connection", connectionID}, old, nil)
	return tx.err
}
