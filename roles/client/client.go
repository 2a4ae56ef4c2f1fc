package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
)

// RevisionHeader carries the store revision a write committed at.
const RevisionHeader = "Rolecall-Revision"

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// Client calls one Rolecall server's Management API with one API key. It is
// safe for concurrent use.
type Client struct {
	base      string // scheme://host[:port], no trailing slash
	apiKey    string
	http      *http.Client
	userAgent string
	lastRev   atomic.Uint64
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests with hc (timeouts,
// transport, proxies); the default is http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a Client for the server at baseURL (e.g.
// "https://rolecall.example.com", with or without "/api/v2") acting with
// apiKey, a Management API key or ROLECALL_ADMIN_TOKEN.
func New(baseURL, apiKey string, opts ...Option) *Client {
	base := strings.TrimRight(baseURL, "/")
	base = strings.TrimSuffix(base, "/api/v2")
	c := &Client{base: base, apiKey: apiKey, http: http.DefaultClient, userAgent: "rolecall-go-client"}
	for _, o := range opts {
		o(c)
	}
	return c
}

// LastRevision is the highest revision any write made through c committed
// at (0 before the first). Pass it as MinRevision to read your own writes
// from the role index.
func (c *Client) LastRevision() uint64 { return c.lastRev.Load() }

// noteRevision records rev as seen by a write.
func (c *Client) noteRevision(rev uint64) {
	for {
		old := c.lastRev.Load()
		if rev <= old || c.lastRev.CompareAndSwap(old, rev) {
			return
		}
	}
}

// Error is an error answer of the Management API. Use errors.As to get it,
// or the Is… helpers to classify an error.
type Error struct {
	StatusCode int    `json:"statusCode"`
	Title      string `json:"error"` // the HTTP reason phrase
	Message    string `json:"message"`
	ErrorCode  string `json:"errorCode"` // e.g. inexistent_role, role_conflict, invalid_body
}

func (e *Error) Error() string {
	return fmt.Sprintf("rolecall: %d %s: %s", e.StatusCode, e.ErrorCode, e.Message)
}

// StatusCode returns err's HTTP status when it is (or wraps) an *Error, else 0.
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// ErrorCode returns err's errorCode when it is (or wraps) an *Error, else "".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.ErrorCode
	}
	return ""
}

// IsNotFound reports whether err is a 404 (an unknown id: inexistent_<resource>).
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// IsConflict reports whether err is a 409 (a name or binding that already
// exists, or revision_not_reached).
func IsConflict(err error) bool { return StatusCode(err) == http.StatusConflict }

// IsBadRequest reports whether err is a 400 (invalid_body, invalid_query_string).
func IsBadRequest(err error) bool { return StatusCode(err) == http.StatusBadRequest }

// IsUnauthorized reports whether err is a 401 (missing or unknown key) or a
// 403 (insufficient_scope).
func IsUnauthorized(err error) bool {
	s := StatusCode(err)
	return s == http.StatusUnauthorized || s == http.StatusForbidden
}

// IsRateLimited reports whether err is a 429 or a 503 server_busy: retry later.
func IsRateLimited(err error) bool {
	s := StatusCode(err)
	return s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable
}

// IsRevisionNotReached reports whether a MinRevision was not reached in time
// (409 revision_not_reached): the index is behind; retry.
func IsRevisionNotReached(err error) bool { return ErrorCode(err) == "revision_not_reached" }

// call is one request: method, path under /api/v2, query, JSON body (nil:
// none). When out is non-nil the answer is decoded into it. It returns the
// answer's revision header (0 when absent).
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body, out any) (uint64, error) {
	u := c.base + "/api/v2" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, fmt.Errorf("rolecall: encoding the request: %w", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	rev, _ := strconv.ParseUint(resp.Header.Get(RevisionHeader), 10, 64)
	if resp.StatusCode >= 300 {
		return rev, decodeError(resp)
	}
	if method != http.MethodGet && method != http.MethodHead && !isQuery(path) && rev > 0 {
		c.noteRevision(rev)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return rev, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return rev, fmt.Errorf("rolecall: decoding the answer to %s %s: %w", method, path, err)
	}
	return rev, nil
}

// isQuery: POST /effective-roles/query is a read; its revision is the
// index's, not a write's.
func isQuery(path string) bool { return path == "/effective-roles/query" }

// decodeError turns an error answer into an *Error; an answer not in the
// Management API's shape (a proxy's page) still becomes one, with its status.
func decodeError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &Error{}
	if json.Unmarshal(raw, e) != nil || e.ErrorCode == "" {
		e = &Error{Message: strings.TrimSpace(string(raw)), ErrorCode: "http_" + strconv.Itoa(resp.StatusCode)}
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
	}
	e.StatusCode = resp.StatusCode
	if e.Title == "" {
		e.Title = http.StatusText(resp.StatusCode)
	}
	return e
}

// esc escapes one path segment.
func esc(s string) string { return url.PathEscape(s) }
