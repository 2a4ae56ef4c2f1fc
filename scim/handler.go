package scim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	scimlib "github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
	"github.com/rs/zerolog"

	"github.com/rolecall/rolecall/scim/document"
	"github.com/rolecall/rolecall/store"
)

// PathPrefix is where the SCIM surface is mounted; the connection id follows.
const PathPrefix = "/scim/v2/connections/"

// RevisionHeader carries the store revision a write committed at.
const RevisionHeader = "Rolecall-Revision"

// Options configure the SCIM surface.
type Options struct {
	// PublicURL is the externally visible scheme://host[:port] used in
	// meta.location and Location headers; empty means derived per request.
	PublicURL string
	// MaxResults caps count on list requests (default 1000).
	MaxResults int
}

// Handler serves SCIM for every connection. It is safe for concurrent use.
type Handler struct {
	db            *store.DB
	publicURL     string
	maxResults    int
	resourceTypes []scimlib.ResourceType
	users         *resource
	groups        *resource
}

// NewHandler returns the SCIM surface over db.
func NewHandler(db *store.DB, opts Options) *Handler {
	h := &Handler{db: db, publicURL: strings.TrimRight(opts.PublicURL, "/"), maxResults: opts.MaxResults}
	if h.maxResults <= 0 {
		h.maxResults = 1000
	}
	h.users = &resource{h: h, kind: kindUser, doc: document.User}
	h.groups = &resource{h: h, kind: kindGroup, doc: document.Group}
	h.resourceTypes = []scimlib.ResourceType{
		{
			ID: optional.NewString("User"), Name: "User", Endpoint: "/Users",
			Description: optional.NewString("User Account"),
			Schema:      schema.CoreUserSchema(),
			SchemaExtensions: []scimlib.SchemaExtension{
				{Schema: schema.ExtensionEnterpriseUser()},
			},
			Handler: h.users,
		},
		{
			ID: optional.NewString("Group"), Name: "Group", Endpoint: "/Groups",
			Description: optional.NewString("Group"),
			Schema:      schema.CoreGroupSchema(),
			Handler:     h.groups,
		},
	}
	return h
}

// request is the per-request state. elimity's ResourceHandler methods receive
// only the *http.Request, so the authenticated connection travels to them in
// the request context under an unexported key; nothing else is kept there.
type request struct {
	connectionID string
	token        store.SCIMToken
	baseURL      string // …/scim/v2/connections/{id}
	// body is the normalised POST/PUT document, members its member list.
	body           map[string]any
	members        []store.Member
	membersPresent bool
	// revision is set by writes and sent as RevisionHeader.
	revision uint64
}

type requestKey struct{}

func stateOf(r *http.Request) *request {
	st, _ := r.Context().Value(requestKey{}).(*request)
	if st == nil {
		// Only reachable if the library is called around ServeHTTP, which
		// never happens; fail closed with an empty connection.
		return &request{}
	}
	return st
}

func (st *request) origin(r *http.Request) store.Origin {
	return store.Origin{
		Actor:     store.Actor{Type: store.ActorSCIMToken, ID: st.token.ID},
		Channel:   store.ChannelSCIM,
		RequestID: r.Header.Get("X-Request-Id"),
	}
}

// update runs a write for the request and records its revision.
func (h *Handler) update(r *http.Request, fn func(*store.Tx) error) error {
	st := stateOf(r)
	rev, err := h.db.Update(r.Context(), st.origin(r), fn)
	if err == nil {
		st.revision = rev
	}
	return err
}

// ServeHTTP authenticates, scopes and dispatches one SCIM request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	connectionID, sub, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, PathPrefix), "/")
	sub = "/" + strings.TrimSuffix(sub, "/")
	secret, ok := bearer(r)
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

	endpoint, id := route(sub)
	if scope := requiredScope(r.Method, endpoint, id); scope != "" && !token.HasScope(scope) {
		writeError(w, r, scimErr(http.StatusForbidden, "", "This token lacks the %q scope this request needs.", scope))
		return
	}

	var body []byte
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		if body, err = readBody(r); err != nil {
			var tooBig *http.MaxBytesError
			if !errors.As(err, &tooBig) {
				err = scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The request body could not be read.")
			}
			writeError(w, r, err)
			return
		}
	}

	st := &request{connectionID: connectionID, token: token, baseURL: h.baseURL(r) + PathPrefix + connectionID}
	r = r.WithContext(context.WithValue(r.Context(), requestKey{}, st))
	rw := &revisionWriter{ResponseWriter: w, st: st}

	res := h.resourceFor(endpoint)
	switch {
	case sub == "/ServiceProviderConfig":
		h.serviceProviderConfig(rw, r, st)
	case sub == "/" || sub == "/.search":
		writeError(rw, r, scimErr(http.StatusNotImplemented, "", "Queries against the server root are not supported; query /Users or /Groups."))
	case sub == "/Bulk":
		h.bulk(rw, r, body)
	case res != nil && id == ".search":
		if r.Method != http.MethodPost {
			writeError(rw, r, scimErr(http.StatusMethodNotAllowed, "", "Use POST for %s/.search.", endpoint))
			return
		}
		res.search(rw, r, body)
	case res != nil && id != "" && r.Method == http.MethodPatch:
		res.patch(rw, r, id, body)
	case res != nil && id != "" && r.Method == http.MethodGet && r.Header.Get("If-None-Match") != "" && res.notModified(r, id):
		rw.WriteHeader(http.StatusNotModified)
	case res != nil && r.Method == http.MethodPost && id == "":
		res.post(rw, r, body)
	case res != nil && r.Method == http.MethodPut && id != "":
		if err := res.prepareWrite(r, st, body); err != nil {
			writeError(rw, r, err)
			return
		}
		h.library(rw, r, endpoint, id, nil)
	case res != nil && id == "" && r.Method == http.MethodGet:
		res.listFromQuery(rw, r)
	default:
		h.library(rw, r, sub, "", nil)
	}
}

// readBody reads the whole body, sized by Content-Length when it is given (a
// 1,000-operation PATCH is ~100 KiB; growing a buffer to it by doubling costs
// more than the parse).
func readBody(r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n > 0 && n <= 64<<20 {
		buf := make([]byte, n)
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(r.Body)
}

// library hands the request to elimity with the path relative to the
// connection, an optionally rewritten query, and the body already read.
func (h *Handler) library(w http.ResponseWriter, r *http.Request, endpoint, id string, query url.Values) {
	r2 := r.Clone(r.Context())
	r2.URL.Path = endpoint
	if id != "" {
		r2.URL.Path += "/" + id
	}
	r2.URL.RawPath = ""
	if query != nil {
		r2.URL.RawQuery = query.Encode()
	}
	if st := stateOf(r); st.body != nil {
		r2.Body = io.NopCloser(bytes.NewReader(mustJSON(st.body)))
	} else {
		r2.Body = http.NoBody
	}
	srv, err := scimlib.NewServer(&scimlib.ServerArgs{
		ServiceProviderConfig: &scimlib.ServiceProviderConfig{MaxResults: h.maxResults, SupportFiltering: true, SupportPatch: true},
		ResourceTypes:         h.resourceTypes,
	}, scimlib.WithBaseURL(stateOf(r).baseURL))
	if err != nil {
		writeError(w, r, err)
		return
	}
	srv.ServeHTTP(w, r2)
}

// route splits a path relative to the connection into its endpoint
// ("/Users", "/Groups", …) and resource id. Resource endpoints are matched
// case-insensitively: clients are not consistent about "/users".
func route(sub string) (endpoint, id string) {
	first, rest, _ := strings.Cut(strings.TrimPrefix(sub, "/"), "/")
	switch {
	case strings.EqualFold(first, "Users"):
		first = "Users"
	case strings.EqualFold(first, "Groups"):
		first = "Groups"
	}
	if unescaped, err := url.PathUnescape(rest); err == nil {
		rest = unescaped
	}
	return "/" + first, rest
}

func (h *Handler) resourceFor(endpoint string) *resource {
	switch endpoint {
	case "/Users":
		return h.users
	case "/Groups":
		return h.groups
	}
	return nil
}

// requiredScope is the Auth0 scope an operation needs; "" for discovery, which
// any valid token of the connection may read.
func requiredScope(method, endpoint, id string) string {
	var noun string
	switch endpoint {
	case "/Users":
		noun = "users"
	case "/Groups":
		noun = "groups"
	default:
		return ""
	}
	if id == ".search" {
		return "get:" + noun
	}
	switch method {
	case http.MethodGet, http.MethodHead:
		return "get:" + noun
	case http.MethodPost:
		return "post:" + noun
	case http.MethodPut:
		return "put:" + noun
	case http.MethodPatch:
		return "patch:" + noun
	case http.MethodDelete:
		return "delete:" + noun
	}
	return "get:" + noun
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	s := strings.TrimSpace(h[7:])
	return s, s != ""
}

func (h *Handler) baseURL(r *http.Request) string {
	if h.publicURL != "" {
		return h.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// revisionWriter adds RevisionHeader to a response once a write has set it.
type revisionWriter struct {
	http.ResponseWriter
	st          *request
	wroteHeader bool
}

func (w *revisionWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		if w.st.revision > 0 {
			w.Header().Set(RevisionHeader, strconv.FormatUint(w.st.revision, 10))
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
