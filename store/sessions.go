package store

import (
	"encoding/json"
	"time"
)

// Dashboard sessions are bearer credentials like SCIM tokens and API keys,
// kept in the store so that every process sharing it knows them: a browser
// signed in through one node is served by any other, and a restart signs
// nobody out. A session is bound to an API key and acts with that key's
// scopes; it holds no copy of the key's secret. Only the session secret's
// hash is stored.
//
// Lifetimes. A session ends SessionLifetime after its creation, or after
// SessionIdleTimeout without use, whichever comes first. Its last use is
// kept like a token's: in memory on the process that served it, persisted
// by the once-a-minute flush (FlushTokenUse), so the store is written at most
// once a minute per session however busy the browser is, instead of once a
// request. A process decides idleness from the later of the record's
// persisted last use and its own; when that says idle it re-reads the record
// before refusing, since another process may have used (and flushed) the
// session meanwhile. So the idle timeout holds to within a flush interval,
// on every process, and a session in steady use never expires early (its
// uses reach the store every minute). Uses not yet flushed when a process is
// killed are lost: its browsers' idle clocks restart up to a minute early.
//
// Ending. Deleting a session (sign-out) or its API key (a cascade) ends it
// at once on every process: the write resets the credential caches, on
// other processes through the change feed (follow.go), as for tokens.
// Sessions that expired are removed without an audit entry, since nobody
// ended them: when a request presents one, and by the flush's sweep.

// sessionKind is the first part of a session secret: "rcd_<id>_<random>".
const sessionKind = "rcd"

// Session lifetimes (see above).
const (
	SessionLifetime    = 8 * time.Hour
	SessionIdleTimeout = time.Hour
)

// maxSessionKeyID bounds the id of a key the store does not hold.
const maxSessionKeyID = 64

// ErrSessionExpired is returned by AuthenticateSession for a session that
// passed its lifetime or idle timeout; it wraps ErrUnauthorized, so callers
// that do not care why still see an unauthorized credential.
var ErrSessionExpired = &Error{Kind: ErrUnauthorized, Detail: "the session expired; sign in again"}

// Session is a signed-in dashboard browser. The secret is never stored.
type Session struct {
	ID         string    `json:"id"`
	KeyID      string    `json:"key_id"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	// KeyFingerprint is set for a session of a key the store does not hold
	// (the bootstrap admin token): a value the creator derived from that
	// key, which it compares when the session is used, so that replacing the
	// key ends its sessions. It is never shown (not in audit entries).
	KeyFingerprint []byte `json:"-"`
}

// Expired reports whether the session is past its lifetime or idle timeout
// at time now, by its LastUsedAt.
func (s Session) Expired(now time.Time) bool {
	return !now.Before(s.ExpiresAt) || !now.Before(s.LastUsedAt.Add(SessionIdleTimeout))
}

type sessionRecord struct {
	Session
	// Fingerprint is Session.KeyFingerprint, which the JSON of Session
	// leaves out so that audit entries do not show it.
	Fingerprint []byte `json:"key_fingerprint,omitempty"`
	Hash        []byte `json:"hash"`
}

func (rec sessionRecord) session() Session {
	s := rec.Session
	s.KeyFingerprint = rec.Fingerprint
	return s
}

// sessionByKey is the index key of a session under its API key: keyID|sesID.
// Session ids have a fixed length, so the key id may have any.
func sessionByKey(keyID, sessionID string) []byte { return catS(keyID, sessionID) }

// CreateSession starts a session for an API key and returns it with its
// secret, the only copy. With fingerprint nil, keyID must name a stored key
// that has not expired (ErrNotFound, ErrUnauthorized); its deletion ends the
// session. With a fingerprint, keyID names a key the store does not hold (1
// to 64 characters, not an API key id; ErrInvalid otherwise), which the
// caller vouches for and checks again, by the fingerprint, on every use.
func (tx *Tx) CreateSession(keyID string, fingerprint []byte) (Session, string, error) {
	if fingerprint == nil {
		var key apiKeyRecord
		if ValidID(PrefixAPIKey, keyID) {
			if _, err := tx.getJSON(bucketAPIKeys, []byte(keyID), &key); err != nil {
				return Session{}, "", err
			}
		}
		if key.ID == "" {
			return Session{}, "", notFound("API key", keyID)
		}
		if key.Expired(tx.now) {
			return Session{}, "", errorf(ErrUnauthorized, "API key %q expired", keyID)
		}
	} else if keyID == "" || len(keyID) > maxSessionKeyID || ValidID(PrefixAPIKey, keyID) {
		return Session{}, "", errorf(ErrInvalid, "a session of a key the store does not hold needs that key's name (1 to %d characters)", maxSessionKeyID)
	}
	s := Session{
		ID: tx.newID(PrefixSession, bucketSessions), KeyID: keyID,
		CreatedAt: tx.now, ExpiresAt: tx.now.Add(SessionLifetime), LastUsedAt: tx.now,
	}
	secret := newSecret(sessionKind, s.ID)
	tx.putJSON(bucketSessions, []byte(s.ID), sessionRecord{Session: s, Fingerprint: fingerprint, Hash: hashSecret(secret)})
	tx.putNew(bucketSessionsByKey, sessionByKey(keyID, s.ID), present)
	tx.audit(EventSessionCreated, Target{"session", s.ID}, nil, s)
	s.KeyFingerprint = fingerprint
	return s, secret, tx.err
}

// DeleteSession ends a session (sign-out); it stops working at once, on
// every process.
func (tx *Tx) DeleteSession(id string) error {
	var rec sessionRecord
	if ValidID(PrefixSession, id) {
		if _, err := tx.getJSON(bucketSessions, []byte(id), &rec); err != nil {
			return err
		}
	}
	if rec.ID == "" {
		return notFound("session", id)
	}
	tx.dropSession(rec.Session, false)
	return tx.err
}

func (tx *Tx) dropSession(s Session, cascade bool) {
	tx.credentialsChanged = true
	tx.del(bucketSessions, []byte(s.ID))
	tx.del(bucketSessionsByKey, sessionByKey(s.KeyID, s.ID))
	if cascade {
		tx.auditCascade(EventSessionDeleted, Target{"session", s.ID}, s, nil)
	} else {
		tx.audit(EventSessionDeleted, Target{"session", s.ID}, s, nil)
	}
}

// dropKeySessions ends every session of a key being deleted.
func (tx *Tx) dropKeySessions(keyID string) {
	var ids []string
	tx.scanPrefix(bucketSessionsByKey, []byte(keyID), func(k, _ []byte) bool {
		if len(k) == len(keyID)+IDLen { // not a longer key id that starts alike
			ids = append(ids, string(k[len(keyID):]))
		}
		return true
	})
	for _, id := range ids {
		var rec sessionRecord
		if _, err := tx.getJSON(bucketSessions, []byte(id), &rec); err != nil {
			tx.err = err
			return
		}
		if rec.ID == "" {
			tx.del(bucketSessionsByKey, sessionByKey(keyID, id)) // swept meanwhile
			continue
		}
		tx.dropSession(rec.Session, true)
	}
}

// Sessions lists the sessions of an API key (or of a key the store does not
// hold, by its id) in creation order, without secrets, including expired
// ones not yet removed.
func (r *ReadTx) Sessions(keyID string) ([]Session, error) {
	var out []Session
	var ferr error
	r.scanPrefix(bucketSessionsByKey, []byte(keyID), func(k, _ []byte) bool {
		if len(k) != len(keyID)+IDLen {
			return true
		}
		var rec sessionRecord
		if _, err := r.getJSON(bucketSessions, k[len(keyID):], &rec); err != nil {
			ferr = err
			return false
		}
		if rec.ID != "" {
			out = append(out, r.db.mergeSessionUse(rec.session()))
		}
		return true
	})
	return out, ferr
}

// AuthenticateSession returns the session a bearer secret belongs to and,
// for a session of a stored key, that key (for a key the store does not
// hold, an APIKey with only its ID). It fails with ErrSessionExpired for a
// session past its lifetime or idle timeout (which it then removes), and
// with ErrUnauthorized when the secret is malformed, unknown, ended, or its
// key expired or was deleted. The comparison is constant-time. A successful
// call records the use of the session and of its key. Unless the session
// looks idle, it costs map lookups: records come from the credential cache.
func (db *DB) AuthenticateSession(secret string) (Session, APIKey, error) {
	id, ok := parseSecret(sessionKind, PrefixSession, secret)
	var rec sessionRecord
	var cached bool
	if ok {
		var err error
		if rec, cached, err = db.loadSession(id, false); err != nil {
			return Session{}, APIKey{}, err
		}
	}
	hash := rec.Hash
	if hash == nil {
		hash = make([]byte, 32) // compare anyway: timing must not tell which ids exist
	}
	match := secretMatches(secret, hash)
	if !ok || rec.ID == "" || !match {
		return Session{}, APIKey{}, errorf(ErrUnauthorized, "invalid or ended session")
	}
	now := db.now()
	s := db.mergeSessionUse(rec.session())
	if s.Expired(now) && cached && now.Before(s.ExpiresAt) {
		// Idle by what this process knows; another may have used it since.
		fresh, _, err := db.loadSession(id, true)
		if err != nil {
			return Session{}, APIKey{}, err
		}
		if fresh.ID == "" {
			return Session{}, APIKey{}, errorf(ErrUnauthorized, "invalid or ended session")
		}
		s = db.mergeSessionUse(fresh.session())
	}
	if s.Expired(now) {
		// Best effort: the flush's sweep removes it otherwise.
		_ = db.removeExpiredSession(id)
		return Session{}, APIKey{}, ErrSessionExpired
	}
	key := APIKey{ID: s.KeyID}
	if s.KeyFingerprint == nil {
		var err error
		if key, err = db.sessionKey(s.KeyID, now); err != nil {
			return Session{}, APIKey{}, err
		}
		db.tokenUse.record(key.ID, now)
		key = db.tokenUse.mergeKey(key)
	}
	db.tokenUse.record(s.ID, now)
	return db.mergeSessionUse(s), key, nil
}

// loadSession reads a session record through the credential cache (or,
// with fresh, from the store, refreshing the cache). cached reports a
// record that came from the cache.
func (db *DB) loadSession(id string, fresh bool) (rec sessionRecord, cached bool, err error) {
	if !fresh {
		if v, hit := db.creds.get(id); hit {
			return v.(sessionRecord), true, nil
		}
	}
	gen := db.creds.generation()
	if err := db.View(func(r *ReadTx) error {
		_, err := r.getJSON(bucketSessions, []byte(id), &rec)
		return err
	}); err != nil {
		return sessionRecord{}, false, err
	}
	if rec.ID != "" {
		db.creds.put(id, rec, gen)
	}
	return rec, false, nil
}

// sessionKey is the live API key a session acts for, through the
// credential cache.
func (db *DB) sessionKey(keyID string, now time.Time) (APIKey, error) {
	var rec apiKeyRecord
	if v, hit := db.creds.get(keyID); hit {
		rec = v.(apiKeyRecord)
	} else {
		gen := db.creds.generation()
		if err := db.View(func(r *ReadTx) error {
			_, err := r.getJSON(bucketAPIKeys, []byte(keyID), &rec)
			return err
		}); err != nil {
			return APIKey{}, err
		}
		if rec.ID != "" {
			db.creds.put(keyID, rec, gen)
		}
	}
	if rec.ID == "" || rec.Expired(now) {
		return APIKey{}, errorf(ErrUnauthorized, "the session's API key was revoked or expired")
	}
	return rec.APIKey, nil
}

// mergeSessionUse sets a session's LastUsedAt to this process's latest use
// of it when that is later than the stored one.
func (db *DB) mergeSessionUse(s Session) Session {
	if at, ok := db.tokenUse.last(s.ID); ok && at.After(s.LastUsedAt) {
		s.LastUsedAt = at.UTC()
	}
	return s
}

// removeExpiredSession deletes a session that has expired, as housekeeping:
// no revision, no audit entry (nobody ended it; it ran out). Other
// processes may still hold it in their caches, where it is expired too.
func (db *DB) removeExpiredSession(id string) error {
	now := db.now()
	err := db.engineUpdate(func(btx EngineTx) error {
		return removeSessionIf(btx, []byte(id), func(rec sessionRecord) bool {
			return db.mergeSessionUse(rec.Session).Expired(now)
		})
	})
	db.creds.reset()
	return err
}

// sessionSweepGrace is how long past its idle timeout (by its stored last
// use) the sweep leaves a session, so that a use another process has not
// flushed yet is never swept away.
const sessionSweepGrace = 5 * tokenUseFlushEvery

// sweepSessions removes, as housekeeping, the sessions that passed their
// lifetime, or their idle timeout by more than sessionSweepGrace.
func sweepSessions(btx EngineTx, now time.Time) error {
	var expired [][]byte
	c := btx.Bucket(bucketSessions).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var rec sessionRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		if !now.Before(rec.ExpiresAt) || !now.Before(rec.LastUsedAt.Add(SessionIdleTimeout+sessionSweepGrace)) {
			expired = append(expired, append([]byte(nil), k...))
		}
	}
	for _, k := range expired {
		if err := removeSessionIf(btx, k, func(sessionRecord) bool { return true }); err != nil {
			return err
		}
	}
	return nil
}

// removeSessionIf deletes a session record and its index key when cond
// holds for it.
func removeSessionIf(btx EngineTx, id []byte, cond func(sessionRecord) bool) error {
	raw := btx.Bucket(bucketSessions).Get(id)
	if raw == nil {
		return nil
	}
	var rec sessionRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return err
	}
	if !cond(rec) {
		return nil
	}
	if err := btx.Bucket(bucketSessions).Delete(id); err != nil {
		return err
	}
	return btx.Bucket(bucketSessionsByKey).Delete(sessionByKey(rec.KeyID, rec.ID))
}

// flushSessionUse persists a session's last use (FlushTokenUse).
func flushSessionUse(btx EngineTx, id string, at time.Time) error {
	b := btx.Bucket(bucketSessions)
	raw := b.Get([]byte(id))
	if raw == nil {
		return nil // ended meanwhile
	}
	var rec sessionRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return err
	}
	if !at.After(rec.LastUsedAt) {
		return nil
	}
	rec.LastUsedAt = at
	out, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return b.Put([]byte(id), out)
}

// IsSessionSecret reports whether a bearer secret has the form of a session
// secret (not whether it is valid), so a surface can tell which kind of
// credential it was given.
func IsSessionSecret(secret string) bool {
	_, ok := parseSecret(sessionKind, PrefixSession, secret)
	return ok
}
