package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/httpconv"
)

// BootstrapKeyID is the API key id under which ROLECALL_ADMIN_TOKEN acts.
const BootstrapKeyID = "bootstrap"

// Options configure the Management API.
type Options struct {
	// AdminToken, when set, is accepted as an API key with every scope
	// (the bootstrap token of DESIGN §4). Only its hash is kept.
	AdminToken string
	// PublicURL is the externally visible base URL (scheme://host[:port]),
	// used to show SCIM endpoint URLs. Empty means "derive from the request".
	PublicURL string
	// ListPageBytes caps the encoded items of one list page (default
	// DefaultListPageBytes); a page stops early at it, with `next` saying
	// where the rest starts. A single larger item is still sent, alone.
	ListPageBytes int
	// Heavy, when set, bounds how many list requests run at once (shared
	// with the SCIM surface by the composition root); nil: no bound.
	Heavy Limiter
	// RateLimit, when set, is asked once per authenticated request with the
	// API key's id; a refusal is answered 429 with Retry-After.
	RateLimit RateLimiter
	// EventWait bounds how long GET /events long-polls (default and at
	// most MaxEventWait); the composition root keeps it below the server's
	// WriteTimeout.
	EventWait time.Duration
	// Streams, when set, sends event streams' test events and knows their
	// recent deliveries (event_streams.go); nil: those endpoints say so.
	Streams StreamDeliverer
	// AllowHTTPWebhooks lets event streams have http:// endpoints.
	AllowHTTPWebhooks bool
}

// RateLimiter decides whether a credential may make one more request now,
// and if not, how long until it may.
type RateLimiter interface {
	Allow(key string) (ok bool, retryAfter time.Duration)
}

// API is the Management API handler, mounted at /api/v2/.
type API struct {
	db        *store.DB
	index     *roles.Index
	adminHash []byte
	publicURL string
	rateLimit RateLimiter
	mux       *http.ServeMux
	pageBytes int
	limiter   Limiter
	eventWait time.Duration
	streams   StreamDeliverer

	allowHTTPWebhooks bool
}

// New returns the Management API over db. Effective-role answers come from
// index, which the caller keeps current: subscribed to db's commits
// (db.AddObserver) and loaded (index.Load) before the API serves.
func New(db *store.DB, index *roles.Index, opts Options) *API {
	a := &API{db: db, index: index, publicURL: strings.TrimRight(opts.PublicURL, "/"), rateLimit: opts.RateLimit, mux: http.NewServeMux(),
		pageBytes: opts.ListPageBytes, limiter: opts.Heavy, eventWait: opts.EventWait,
		streams: opts.Streams, allowHTTPWebhooks: opts.AllowHTTPWebhooks}
	if a.eventWait <= 0 || a.eventWait > MaxEventWait {
		a.eventWait = MaxEventWait
	}
	if a.pageBytes <= 0 {
		a.pageBytes = DefaultListPageBytes
	}
	if opts.AdminToken != "" {
		sum := sha256.Sum256([]byte(opts.AdminToken))
		a.adminHash = sum[:]
	}
	a.routes()
	return a
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// caller is the authenticated API key of a request.
type caller struct {
	actor  store.Actor
	scopes []string
	// session is set when the credential was a dashboard session acting for
	// the key (sessions.go).
	session *sessionCred
}

func (c caller) has(scope string) bool {
	for _, s := range c.scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// handlerFunc is an endpoint: it gets the authenticated caller explicitly and
// returns an error instead of writing one.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c caller) error

// handle registers rt: the caller is authenticated, then (unless any key
// may call it) rate-limited and checked for rt's scope before rt runs; every
// error is written in the one shape, with rt's resource.
func (a *API) handle(rt route) {
	resource := rt.resource
	// The tests hold the document to the routes table, so every route has
	// its entry.
	pattern := rt.pattern
	if p, ok := documentedPattern[pattern]; ok {
		pattern = p
	}
	queries := operationQueries()[rt.method+" "+pattern]
	a.mux.HandleFunc(rt.method+" "+Prefix+rt.pattern, func(w http.ResponseWriter, r *http.Request) {
		c, err := a.authenticate(r)
		if err != nil {
			writeError(w, r, err, resource)
			return
		}
		zerolog.Ctx(r.Context()).UpdateContext(func(l zerolog.Context) zerolog.Context {
			return l.Str("api_key_id", c.actor.ID)
		})
		if rt.scope != anyKey {
			if err := a.admit(w, c, rt.scope); err != nil {
				writeError(w, r, err, resource)
				return
			}
		}
		if err := checkQuery(r, queries); err != nil {
			writeError(w, r, err, resource)
			return
		}
		if err := rt.fn(w, r, c); err != nil {
			writeError(w, r, err, resource)
		}
	})
}

// admit applies the rate limit to c's key, then checks c holds scope.
func (a *API) admit(w http.ResponseWriter, c caller, scope string) error {
	if a.rateLimit != nil {
		if ok, wait := a.rateLimit.Allow(c.actor.ID); !ok {
			secs := max(1, int64((wait+time.Second-1)/time.Second))
			w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
			return newError(http.StatusTooManyRequests, "too_many_requests",
				"Too many requests for this API key; retry after %d s.", secs)
		}
	}
	if !c.has(scope) {
		return newError(http.StatusForbidden, "insufficient_scope", "Insufficient scope, expected: %s", scope)
	}
	return nil
}

func (a *API) authenticate(r *http.Request) (caller, error) {
	secret, ok := httpconv.Bearer(r)
	if !ok {
		return caller{}, newError(http.StatusUnauthorized, "missing_authorization", "Missing bearer token in the Authorization header")
	}
	if a.adminHash != nil {
		sum := sha256.Sum256([]byte(secret))
		if subtle.ConstantTimeCompare(sum[:], a.adminHash) == 1 {
			return caller{actor: store.Actor{Type: store.ActorAPIKey, ID: BootstrapKeyID}, scopes: AllScopes}, nil
		}
	}
	if store.IsSessionSecret(secret) {
		return a.authenticateSession(secret)
	}
	key, err := a.db.AuthenticateAPIKey(secret)
	if err != nil {
		return caller{}, err
	}
	return caller{actor: store.Actor{Type: store.ActorAPIKey, ID: key.ID}, scopes: key.Scopes}, nil
}

// update runs one write as the caller and sets the revision header.
func (a *API) update(w http.ResponseWriter, r *http.Request, c caller, fn func(*store.Tx) error) error {
	rev, err := a.db.Update(r.Context(), store.Origin{
		Actor: c.actor, Channel: store.ChannelAPI, RequestID: r.Header.Get(httpconv.RequestIDHeader),
	}, fn)
	if err != nil {
		return err
	}
	w.Header().Set(httpconv.RevisionHeader, strconv.FormatUint(rev, 10))
	return nil
}

// updateNoContent runs one write as the caller and answers 204: deletes,
// and writes whose answer is the revision header alone.
func (a *API) updateNoContent(w http.ResponseWriter, r *http.Request, c caller, fn func(*store.Tx) error) error {
	if err := a.update(w, r, c, fn); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// view runs a read and sets the revision header to the revision read at least.
func (a *API) view(w http.ResponseWriter, fn func(*store.ReadTx) error) error {
	w.Header().Set(httpconv.RevisionHeader, strconv.FormatUint(a.db.Revision(), 10))
	return a.db.View(fn)
}

// decodeBody decodes a JSON request body strictly: unknown fields, trailing
// data and wrong types are 400 invalid_body; an oversize body is 413.
func decodeBody(r *http.Request, v any) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return newError(http.StatusRequestEntityTooLarge, "payload_too_large", "request body exceeds %d bytes", tooBig.Limit)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return newError(http.StatusRequestTimeout, "request_timeout", "The request body did not arrive in time.")
		}
		return badBody("could not read the request body")
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badBody("Payload validation error: %s", describeJSONError(err))
	}
	if dec.More() {
		return badBody("Payload validation error: unexpected data after the JSON object")
	}
	return nil
}

func describeJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return "'" + typeErr.Field + "' has the wrong type (expected " + typeErr.Type.String() + ")"
	case errors.As(err, &syntaxErr):
		return "invalid JSON at offset " + strconv.FormatInt(syntaxErr.Offset, 10)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "Additional properties not allowed: " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	default:
		return "invalid JSON"
	}
}

// page reads checkpoint pagination parameters: from (an opaque cursor) and
// take (1..100, default 50).
func page(r *http.Request) (from string, take int, err error) {
	q := r.URL.Query()
	from, take = q.Get("from"), 50
	if s := q.Get("take"); s != "" {
		n, perr := strconv.Atoi(s)
		if perr != nil || n < 1 || n > 100 {
			return "", 0, badQuery("take must be an integer from 1 to 100")
		}
		take = n
	}
	return from, take, nil
}

// systemOrigin is the origin of writes the server makes on its own.
var systemOrigin = store.Origin{Actor: store.Actor{Type: store.ActorSystem, ID: "system"}, Channel: store.ChannelSystem}

// EnsureBootstrapKey creates an all-scopes API key when the store has none and
// returns its secret (the only copy), or "" when keys already exist.
func EnsureBootstrapKey(ctx context.Context, db *store.DB) (string, error) {
	var secret string
	_, err := db.Update(ctx, systemOrigin, func(tx *store.Tx) error {
		keys, err := tx.APIKeys()
		if err != nil || len(keys) > 0 {
			return err
		}
		_, secret, err = tx.CreateAPIKey("bootstrap admin", AllScopes, 0)
		return err
	})
	return secret, err
}
