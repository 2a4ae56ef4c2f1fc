package store

import (
	"encoding/json"
	"slices"
	"sync"
	"time"
)

// Secret kinds: the first part of every bearer secret the store issues.
const (
	scimTokenKind = "rcs"
	apiKeyKind    = "rck"
)

// SCIMTokenScopes are the scopes a SCIM token can hold, named as Auth0 names
// them (DESIGN §3). A new token holds all ten unless its creator narrows them.
var SCIMTokenScopes = []string{
	"get:users", "post:users", "put:users", "patch:users", "delete:users",
	"get:groups", "post:groups", "put:groups", "patch:groups", "delete:groups",
}

// SCIMToken is a bearer token for one connection's SCIM endpoint. The secret
// itself is never stored; see CreateSCIMToken.
type SCIMToken struct {
	ID           string     `json:"token_id"`
	ConnectionID string     `json:"connection_id"`
	Scopes       []string   `json:"scopes"`
	CreatedAt    time.Time  `json:"created_at"`
	ValidUntil   *time.Time `json:"valid_until,omitempty"`
	LastUsedAt   *time.Time `json:"last_used_at,omitempty"`
}

// Expired reports whether the token has passed its lifetime at time now.
func (t SCIMToken) Expired(now time.Time) bool {
	return t.ValidUntil != nil && !now.Before(*t.ValidUntil)
}

// HasScope reports whether the token grants scope.
func (t SCIMToken) HasScope(scope string) bool { return slices.Contains(t.Scopes, scope) }

type scimTokenRecord struct {
	SCIMToken
	Hash []byte `json:"hash"`
}

// APIKey is a bearer key for the Management API.
type APIKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ValidUntil *time.Time `json:"valid_until,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// Expired reports whether the key has passed its lifetime at time now.
func (k APIKey) Expired(now time.Time) bool {
	return k.ValidUntil != nil && !now.Before(*k.ValidUntil)
}

// HasScope reports whether the key grants scope.
func (k APIKey) HasScope(scope string) bool { return slices.Contains(k.Scopes, scope) }

type apiKeyRecord struct {
	APIKey
	Hash []byte `json:"hash"`
}

// CreateSCIMToken issues a token for a connection that has a SCIM
// configuration. lifetime 0 means the token does not expire. The returned
// secret is the only copy: only its hash is stored.
func (tx *Tx) CreateSCIMToken(connectionID string, scopes []string, lifetime time.Duration) (SCIMToken, string, error) {
	if _, err := tx.SCIMConfig(connectionID); err != nil {
		return SCIMToken{}, "", err
	}
	t := SCIMToken{
		ID:           tx.newID(PrefixSCIMToken, bucketSCIMTokens),
		ConnectionID: connectionID,
		Scopes:       slices.Clone(scopes),
		CreatedAt:    tx.now,
	}
	if lifetime > 0 {
		until := tx.now.Add(lifetime)
		t.ValidUntil = &until
	}
	secret := newSecret(scimTokenKind, t.ID)
	tx.putJSON(bucketSCIMTokens, []byte(t.ID), scimTokenRecord{SCIMToken: t, Hash: hashSecret(secret)})
	tx.put(bucketSCIMTokensByCon, catS(connectionID, t.ID), present)
	tx.audit(EventSCIMTokenCreated, Target{"scim_token", t.ID}, nil, t)
	return t, secret, tx.err
}

// SCIMTokens lists a connection's tokens in id order, without secrets.
func (r *ReadTx) SCIMTokens(connectionID string) ([]SCIMToken, error) {
	if _, err := r.Connection(connectionID); err != nil {
		return nil, err
	}
	var out []SCIMToken
	var ferr error
	r.scanPrefix(bucketSCIMTokensByCon, []byte(connectionID), func(k, _ []byte) bool {
		var rec scimTokenRecord
		if _, err := r.getJSON(bucketSCIMTokens, k[IDLen:], &rec); err != nil {
			ferr = err
			return false
		}
		out = append(out, r.db.tokenUse.merge(rec.SCIMToken))
		return true
	})
	return out, ferr
}

// DeleteSCIMToken revokes a token; it stops working at once.
func (tx *Tx) DeleteSCIMToken(connectionID, tokenID string) error {
	var rec scimTokenRecord
	if ValidID(PrefixSCIMToken, tokenID) {
		if _, err := tx.getJSON(bucketSCIMTokens, []byte(tokenID), &rec); err != nil {
			return err
		}
	}
	if rec.ID == "" || rec.ConnectionID != connectionID {
		return notFound("SCIM token", tokenID)
	}
	tx.dropSCIMToken(rec.SCIMToken, false)
	return tx.err
}

func (tx *Tx) dropSCIMToken(t SCIMToken, cascade bool) {
	tx.credentialsChanged = true
	tx.del(bucketSCIMTokens, []byte(t.ID))
	tx.del(bucketSCIMTokensByCon, catS(t.ConnectionID, t.ID))
	if cascade {
		tx.auditCascade(EventSCIMTokenDeleted, Target{"scim_token", t.ID}, t, nil)
	} else {
		tx.audit(EventSCIMTokenDeleted, Target{"scim_token", t.ID}, t, nil)
	}
}

// AuthenticateSCIMToken returns the token a bearer secret belongs to, or
// ErrUnauthorized when it is malformed, unknown, revoked or expired. The
// comparison is constant-time. A successful call records the token's use.
func (db *DB) AuthenticateSCIMToken(secret string) (SCIMToken, error) {
	var rec scimTokenRecord
	id, ok := parseSecret(scimTokenKind, PrefixSCIMToken, secret)
	if ok {
		cached, hit := db.creds.get(id)
		if hit {
			rec = cached.(scimTokenRecord)
		} else {
			gen := db.creds.generation()
			if err := db.View(func(r *ReadTx) error {
				_, err := r.getJSON(bucketSCIMTokens, []byte(id), &rec)
				return err
			}); err != nil {
				return SCIMToken{}, err
			}
			if rec.ID != "" {
				db.creds.put(id, rec, gen)
			}
		}
	}
	// Hash and compare even when the id is unknown so that timing does not
	// reveal which token ids exist.
	hash := rec.Hash
	if hash == nil {
		hash = make([]byte, 32)
	}
	match := secretMatches(secret, hash)
	now := db.now()
	if !ok || rec.ID == "" || !match || rec.Expired(now) {
		return SCIMToken{}, errorf(ErrUnauthorized, "invalid, revoked or expired SCIM token")
	}
	db.tokenUse.record(rec.ID, now)
	return db.tokenUse.merge(rec.SCIMToken), nil
}

// CreateAPIKey issues a Management API key. lifetime 0 means the key does not
// expire. The returned secret is the only copy: only its hash is stored.
func (tx *Tx) CreateAPIKey(name string, scopes []string, lifetime time.Duration) (APIKey, string, error) {
	if name == "" || len(name) > 128 {
		return APIKey{}, "", errorf(ErrInvalid, "API key name must be 1 to 128 characters")
	}
	k := APIKey{ID: tx.newID(PrefixAPIKey, bucketAPIKeys), Name: name, Scopes: slices.Clone(scopes), CreatedAt: tx.now}
	if lifetime > 0 {
		until := tx.now.Add(lifetime)
		k.ValidUntil = &until
	}
	secret := newSecret(apiKeyKind, k.ID)
	tx.putJSON(bucketAPIKeys, []byte(k.ID), apiKeyRecord{APIKey: k, Hash: hashSecret(secret)})
	tx.audit(EventAPIKeyCreated, Target{"api_key", k.ID}, nil, k)
	return k, secret, tx.err
}

// APIKeys lists every API key in id order, without secrets.
func (r *ReadTx) APIKeys() ([]APIKey, error) {
	var out []APIKey
	var next string
	err := r.pageRecords(bucketAPIKeys, "", 1<<30, func(v []byte) error {
		var rec apiKeyRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		out = append(out, r.db.tokenUse.mergeKey(rec.APIKey))
		return nil
	}, &next)
	return out, err
}

// DeleteAPIKey revokes an API key; it stops working at once.
func (tx *Tx) DeleteAPIKey(id string) error {
	var rec apiKeyRecord
	if ValidID(PrefixAPIKey, id) {
		if _, err := tx.getJSON(bucketAPIKeys, []byte(id), &rec); err != nil {
			return err
		}
	}
	if rec.ID == "" {
		return notFound("API key", id)
	}
	tx.credentialsChanged = true
	tx.del(bucketAPIKeys, []byte(id))
	tx.audit(EventAPIKeyDeleted, Target{"api_key", id}, rec.APIKey, nil)
	tx.dropKeySessions(id)
	return tx.err
}

// AuthenticateAPIKey returns the key a bearer secret belongs to, or
// ErrUnauthorized when it is malformed, unknown, revoked or expired. The
// comparison is constant-time.
func (db *DB) AuthenticateAPIKey(secret string) (APIKey, error) {
	var rec apiKeyRecord
	id, ok := parseSecret(apiKeyKind, PrefixAPIKey, secret)
	if ok {
		cached, hit := db.creds.get(id)
		if hit {
			rec = cached.(apiKeyRecord)
		} else {
			gen := db.creds.generation()
			if err := db.View(func(r *ReadTx) error {
				_, err := r.getJSON(bucketAPIKeys, []byte(id), &rec)
				return err
			}); err != nil {
				return APIKey{}, err
			}
			if rec.ID != "" {
				db.creds.put(id, rec, gen)
			}
		}
	}
	hash := rec.Hash
	if hash == nil {
		hash = make([]byte, 32)
	}
	now := db.now()
	if !secretMatches(secret, hash) || !ok || rec.ID == "" || rec.Expired(now) {
		return APIKey{}, errorf(ErrUnauthorized, "invalid, revoked or expired API key")
	}
	db.tokenUse.record(rec.ID, now)
	return db.tokenUse.mergeKey(rec.APIKey), nil
}

// tokenUse keeps last-use times in memory. Writing them on every request would
// cost an fsync per SCIM call; they are persisted every minute and on Close.
type tokenUse struct {
	mu      sync.Mutex
	pending map[string]time.Time
	seen    map[string]time.Time // everything recorded since open, for listing
}

func (u *tokenUse) record(id string, at time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.pending == nil {
		u.pending = make(map[string]time.Time)
		u.seen = make(map[string]time.Time)
	}
	if last, ok := u.seen[id]; ok && at.Sub(last) < time.Second {
		return // sub-second precision is noise, and this keeps the map quiet under load
	}
	u.pending[id] = at
	u.seen[id] = at
}

func (u *tokenUse) last(id string) (time.Time, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	t, ok := u.seen[id]
	return t, ok
}

func (u *tokenUse) merge(t SCIMToken) SCIMToken {
	if at, ok := u.last(t.ID); ok && (t.LastUsedAt == nil || at.After(*t.LastUsedAt)) {
		at = at.UTC()
		t.LastUsedAt = &at
	}
	return t
}

func (u *tokenUse) mergeKey(k APIKey) APIKey {
	if at, ok := u.last(k.ID); ok && (k.LastUsedAt == nil || at.After(*k.LastUsedAt)) {
		at = at.UTC()
		k.LastUsedAt = &at
	}
	return k
}

func (u *tokenUse) take() map[string]time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	p := u.pending
	u.pending = nil
	return p
}

// FlushTokenUse persists recorded last-use times. It is a housekeeping write:
// no revision, no audit entry (using a token is not a change to the tenant).
func (db *DB) flushTokenUse() error {
	pending := db.tokenUse.take()
	if len(pending) == 0 {
		return nil
	}
	return db.engineUpdate(func(btx EngineTx) error {
		if err := sweepSessions(btx, db.now()); err != nil {
			return err
		}
		for id, at := range pending {
			at := at.UTC()
			if ValidID(PrefixSession, id) {
				if err := flushSessionUse(btx, id, at); err != nil {
					return err
				}
				continue
			}
			var bucket []byte
			var rec any
			var tok scimTokenRecord
			var key apiKeyRecord
			switch {
			case ValidID(PrefixSCIMToken, id):
				bucket, rec = bucketSCIMTokens, &tok
			case ValidID(PrefixAPIKey, id):
				bucket, rec = bucketAPIKeys, &key
			default:
				continue
			}
			raw := btx.Bucket(bucket).Get([]byte(id))
			if raw == nil {
				continue // revoked meanwhile
			}
			if err := json.Unmarshal(raw, rec); err != nil {
				return err
			}
			tok.LastUsedAt, key.LastUsedAt = &at, &at
			out, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			if err := btx.Bucket(bucket).Put([]byte(id), out); err != nil {
				return err
			}
		}
		return nil
	})
}

// credentialCache keeps decoded token, API key and session records by id,
// so that authenticating a request costs a map lookup instead of a read
// transaction.
// It never outlives a revocation: the committer resets it after committing a
// write that deleted a credential and before releasing that write's caller,
// and the generation stops a reader that loaded a record from an older
// snapshot from putting it back afterwards.
type credentialCache struct {
	mu      sync.RWMutex
	gen     uint64
	records map[string]any
}

const maxCachedCredentials = 10_000

func (c *credentialCache) get(id string) (any, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.records[id]
	return v, ok
}

func (c *credentialCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

func (c *credentialCache) put(id string, rec any, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return // a revocation committed since the record was read
	}
	if c.records == nil || len(c.records) >= maxCachedCredentials {
		c.records = make(map[string]any)
	}
	c.records[id] = rec
}

func (c *credentialCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.records = nil
}
