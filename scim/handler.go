package scim

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/rs/zerolog"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/httpconv"
)

// PathPrefix is where the SCIM surface is mounted; the connection id follows.
const PathPrefix = "/scim/v2/connections/"

// Options configure the SCIM surface.
type Options struct {
	// PublicURL is the externally visible scheme://host[:port] used in
	// meta.location and Location headers; empty means derived per request.
	PublicURL string
	// MaxResults caps count on list requests (default 1000); it is also the
	// default page size.
	MaxResults int
	// BulkMaxOperations caps the operations of one bulk request (default
	// 1000).
	BulkMaxOperations int
	// BulkMaxPayload caps the size in bytes of a bulk request body (default
	// 1 MiB). The server's own body limit applies first: keep this at or
	// below it, so that ServiceProviderConfig tells the truth.
	BulkMaxPayload int
	// ListPageBytes caps the rendered resources of one list page, in bytes
	// (default DefaultListPageBytes). A page stops early at it, with
	// itemsPerPage and nextCursor saying where; a single resource larger
	// than it is still sent, alone.
	ListPageBytes int
	// Heavy limits how many heavy requests (lists, searches, Bulk, large
	// writes) run at once; nil means NewLimiter(0, 0). Pass the same
	// Limiter to other surfaces to share the bound.
	Heavy *Limiter
	// RateLimit, when set, is asked once per authenticated request with the
	// SCIM token's id; a refusal is answered 429 with Retry-After.
	RateLimit RateLimiter
}

// RateLimiter decides whether a credential may make one more request now,
// and if not, how long until it may.
type RateLimiter interface {
	Allow(key string) (ok bool, retryAfter time.Duration)
}

// Handler serves SCIM for every connection. It is safe for concurrent use.
type Handler struct {
	db             *store.DB
	publicURL      string
	maxResults     int
	bulkMaxOps     int
	bulkMaxPayload int
	pageBytes      int
	heavy          *Limiter
	rateLimit      RateLimiter
	discovery      discovery // what /Schemas and /ResourceTypes answer
	// resources are the resource types served, in the order a query at
	// the root lists them.
	resources []*resource
}

// NewHandler returns the SCIM surface over db.
func NewHandler(db *store.DB, opts Options) *Handler {
	h := &Handler{
		db: db, publicURL: strings.TrimRight(opts.PublicURL, "/"),
		maxResults: opts.MaxResults, bulkMaxOps: opts.BulkMaxOperations, bulkMaxPayload: opts.BulkMaxPayload,
		rateLimit: opts.RateLimit,
	}
	if h.maxResults <= 0 {
		h.maxResults = 1000
	}
	if h.bulkMaxOps <= 0 {
		h.bulkMaxOps = 1000
	}
	if h.bulkMaxPayload <= 0 {
		h.bulkMaxPayload = 1 << 20
	}
	if h.pageBytes = opts.ListPageBytes; h.pageBytes <= 0 {
		h.pageBytes = DefaultListPageBytes
	}
	if h.heavy = opts.Heavy; h.heavy == nil {
		h.heavy = NewLimiter(0, 0)
	}
	h.resources = []*resource{newResource(h, userType()), newResource(h, groupType())}
	h.discovery = newDiscovery(h.resources)
	return h
}

// request is the per-request state, kept in the request context under an
// unexported key; nothing else is kept there.
type request struct {
	connectionID string
	token        store.SCIMToken
	baseURL      string // …/scim/v2/connections/{id}
	// revision is set by writes and sent as httpconv.RevisionHeader.
	revision uint64
}

type requestKey struct{}

func stateOf(r *http.Request) *request {
	st, _ := r.Context().Value(requestKey{}).(*request)
	if st == nil {
		// Only reachable if a handler is called around ServeHTTP, which
		// never happens; fail closed with an empty connection.
		return &request{}
	}
	return st
}

func withState(r *http.Request, st *request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), requestKey{}, st))
}

func (st *request) origin(r *http.Request) store.Origin {
	return store.Origin{
		Actor:     store.Actor{Type: store.ActorSCIMToken, ID: st.token.ID},
		Channel:   store.ChannelSCIM,
		RequestID: r.Header.Get(httpconv.RequestIDHeader),
	}
}

// update runs a write for the request and records its revision. reads are
// keys fn will look up (store.Origin.Reads).
func (h *Handler) update(r *http.Request, fn func(*store.Tx) error, reads ...store.Lookup) error {
	st := stateOf(r)
	origin := st.origin(r)
	origin.Reads = reads
	rev, err := h.db.Update(r.Context(), origin, fn)
	if err == nil {
		st.revision = max(st.revision, rev)
	}
	return err
}

// ServeHTTP authenticates, routes, scopes and serves one SCIM request. Every
// route is decided here: the path relative to the connection is matched
// (endpoint names case-insensitively, each segment unescaped once), the
// method checked, then the token's scopes for that route, and only then is
// the body read and the request served. Unknown paths are 404s.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	connectionID, sub, _ := strings.Cut(strings.TrimPrefix(r.URL.EscapedPath(), PathPrefix), "/")
	secret, ok := httpconv.Bearer(r)
	if !ok {
		writeError(w, r, scimErr(http.StatusUnauthorized, "", "Authentication required: send a SCIM bearer token in the Authorization header."))
		return
	}
	token, err := h.db.AuthenticateSCIMToken(secret)
	if err == nil && token.ConnectionID != connectionID {
		// Same answer as an unknown token: a token must not even learn
		// whether another connection exists.
		err = scimErr(http.StatusUnauthorized, "", "invalid, revoked or expired SCIM token")
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	zerolog.Ctx(r.Context()).UpdateContext(func(l zerolog.Context) zerolog.Context {
		return l.Str("connection_id", connectionID).Str("scim_token_id", token.ID)
	})
	if h.rateLimit != nil {
		if ok, wait := h.rateLimit.Allow(token.ID); !ok {
			secs := max(1, int64((wait+time.Second-1)/time.Second))
			w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
			writeError(w, r, scimErr(http.StatusTooManyRequests, "", "Too many requests for this SCIM token; retry after %d s.", secs))
			return
		}
	}

	st := &request{connectionID: connectionID, token: token, baseURL: httpconv.BaseURL(h.publicURL, r) + PathPrefix + connectionID}
	r = withState(r, st)
	rw := &revisionWriter{ResponseWriter: w, st: st}

	rt := h.parseRoute(sub)
	if err := h.authorize(r.Method, rt, token); err != nil {
		writeError(rw, r, err)
		return
	}
	var body []byte
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		if body, err = readBody(r.Body, r.ContentLength); err != nil {
			var tooBig *http.MaxBytesError
			switch {
			case errors.As(err, &tooBig):
			case errors.Is(err, os.ErrDeadlineExceeded):
				w.Header().Set("Connection", "close")
				err = scimErr(http.StatusRequestTimeout, "", "The request body did not arrive in time.")
			default:
				err = scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The request body could not be read.")
			}
			writeError(rw, r, err)
			return
		}
	}
	h.dispatch(rw, r, rt, body)
}

// Body chunks grow from firstChunk to maxChunk as bytes arrive.
const (
	firstChunk = 4 << 10
	maxChunk   = 1 << 20
)

// readBody reads the whole body into chunks allocated as the bytes arrive,
// then joins them with one copy. Nothing is allocated from a declared length
// beyond one chunk: a client that declares megabytes and sends nothing costs
// a few KiB. declared (Content-Length, or -1) only sizes the first chunk, so a
// small body costs one allocation.
func readBody(body io.Reader, declared int64) ([]byte, error) {
	size := firstChunk
	if declared > 0 && declared < maxChunk {
		size = int(declared)
	}
	var chunks [][]byte
	total := 0
	for {
		chunk := make([]byte, size)
		n, err := io.ReadFull(body, chunk)
		chunks = append(chunks, chunk[:n])
		total += n
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if int64(total) == declared {
			// Probably the end: look before allocating another chunk.
			var probe [1]byte
			m, err := body.Read(probe[:])
			if m == 0 && err == io.EOF {
				break
			}
			if err != nil && err != io.EOF {
				return nil, err
			}
			chunks = append(chunks, probe[:m])
			total += m
		}
		size = min(2*size, maxChunk)
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	out := make([]byte, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out, nil
}

// revisionWriter adds httpconv.RevisionHeader to a response once a write has set it.
type revisionWriter struct {
	http.ResponseWriter
	st          *request
	wroteHeader bool
}

func (w *revisionWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		if w.st.revision > 0 {
			w.Header().Set(httpconv.RevisionHeader, strconv.FormatUint(w.st.revision, 10))
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *revisionWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *revisionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
