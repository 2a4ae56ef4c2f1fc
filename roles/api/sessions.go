package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/rolecall/rolecall/store"
)

// Dashboard sessions (store/sessions.go): an API key signs in with POST
// /sessions and gets a session secret, which then works as a bearer
// credential with the key's scopes until it expires (8 h, or 1 h idle) or
// is ended (DELETE /sessions/self, or the key's deletion). The session
// secret is what the dashboard keeps in its cookie, so the key's own secret
// is never stored anywhere and any node can serve the session.
//
// A session may do what its key's scopes allow, creating API keys
// included (a key holding create:api_keys can mint keys anyway, and never
// beyond its own scopes). It may not create sessions: a stolen session
// secret must not outlive its session by minting fresh ones.

// sessionCred is a request's session credential and the key it acts for.
type sessionCred struct {
	store.Session
	key store.APIKey
}

// sessionView is a session without its secret, except in the create answer.
type sessionView struct {
	ID          string         `json:"id"`
	CreatedAt   time.Time      `json:"created_at"`
	ExpiresAt   time.Time      `json:"expires_at"`
	LastUsedAt  time.Time      `json:"last_used_at"`
	IdleTimeout int64          `json:"idle_timeout"` // seconds without use that end it
	Key         apiKeySelfView `json:"key"`
	Secret      string         `json:"session,omitempty"` // only in the create answer
}

func (a *API) viewSession(s store.Session, key apiKeySelfView) sessionView {
	return sessionView{ID: s.ID, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt, LastUsedAt: s.LastUsedAt,
		IdleTimeout: int64(store.SessionIdleTimeout / time.Second), Key: key}
}

// bootstrapFingerprint binds sessions of ROLECALL_ADMIN_TOKEN (which the
// store does not hold) to that token: a node configured with another token
// (or none) does not honour them, so replacing the token ends them.
func (a *API) bootstrapFingerprint() []byte {
	sum := sha256.Sum256(append([]byte("rolecall bootstrap session\x00"), a.adminHash...))
	return sum[:]
}

// authenticateSession is authenticate for a session secret.
func (a *API) authenticateSession(secret string) (caller, error) {
	s, key, err := a.db.AuthenticateSession(secret)
	if errors.Is(err, store.ErrSessionExpired) {
		return caller{}, newError(http.StatusUnauthorized, "session_expired", "The session expired; sign in again.")
	}
	if err != nil {
		return caller{}, err
	}
	c := caller{actor: store.Actor{Type: store.ActorAPIKey, ID: s.KeyID}, session: &sessionCred{Session: s, key: key}}
	if s.KeyFingerprint == nil {
		c.scopes = key.Scopes
		return c, nil
	}
	if s.KeyID != BootstrapKeyID || a.adminHash == nil || subtle.ConstantTimeCompare(s.KeyFingerprint, a.bootstrapFingerprint()) != 1 {
		return caller{}, newError(http.StatusUnauthorized, "invalid_token", "The session's admin token is no longer the one configured; sign in again.")
	}
	c.scopes = AllScopes
	return c, nil
}

// keySelf is the calling key as GET /api-keys/self shows it.
func (a *API) keySelf(w http.ResponseWriter, c caller) (apiKeySelfView, error) {
	view := apiKeySelfView{ID: c.actor.ID, Scopes: slices.Clone(c.scopes)}
	switch {
	case c.actor.ID == BootstrapKeyID:
		view.Name = bootstrapKeyName
	case c.session != nil:
		view.Name = c.session.key.Name
	default:
		err := a.view(w, func(tx *store.ReadTx) error {
			keys, err := tx.APIKeys()
			for _, k := range keys {
				if k.ID == c.actor.ID {
					view.Name = k.Name
				}
			}
			return err
		})
		if err != nil {
			return view, err
		}
	}
	if view.Scopes == nil {
		view.Scopes = []string{}
	}
	return view, nil
}

// createSession answers POST /sessions: the calling API key signs in. The
// answer holds the session secret, the only copy.
func (a *API) createSession(w http.ResponseWriter, r *http.Request, c caller) error {
	if c.session != nil {
		return newError(http.StatusForbidden, "session_not_allowed", "A session cannot start another session; sign in with an API key.")
	}
	// Any key may sign in, but each sign-in is a write: it is rate-limited
	// like the key's other requests.
	if a.rateLimit != nil {
		if ok, wait := a.rateLimit.Allow(c.actor.ID); !ok {
			secs := max(1, int64((wait+time.Second-1)/time.Second))
			w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
			return newError(http.StatusTooManyRequests, "too_many_requests", "Too many requests for this API key; retry after %d s.", secs)
		}
	}
	var body struct{}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	key, err := a.keySelf(w, c)
	if err != nil {
		return err
	}
	var fingerprint []byte
	if c.actor.ID == BootstrapKeyID {
		fingerprint = a.bootstrapFingerprint()
	}
	var view sessionView
	err = a.update(w, r, c, func(tx *store.Tx) error {
		s, secret, err := tx.CreateSession(c.actor.ID, fingerprint)
		view = a.viewSession(s, key)
		view.Secret = secret
		return err
	})
	if err != nil {
		return err
	}
	writeSecret(w, http.StatusCreated, view)
	return nil
}

// notASession answers a /sessions/self request made with an API key.
func notASession() error {
	return newError(http.StatusBadRequest, "not_a_session", "/sessions/self is about the session the request authenticates with; this request used an API key.")
}

// sessionSelf answers GET /sessions/self: the calling session and its key,
// what the dashboard asks on every page.
func (a *API) sessionSelf(w http.ResponseWriter, _ *http.Request, c caller) error {
	if c.session == nil {
		return notASession()
	}
	key, err := a.keySelf(w, c)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, a.viewSession(c.session.Session, key))
	return nil
}

// deleteSessionSelf answers DELETE /sessions/self: sign-out. The session
// stops working at once, on every node.
func (a *API) deleteSessionSelf(w http.ResponseWriter, r *http.Request, c caller) error {
	if c.session == nil {
		return notASession()
	}
	return a.updateNoContent(w, r, c, func(tx *store.Tx) error { return tx.DeleteSession(c.session.ID) })
}
