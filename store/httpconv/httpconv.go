// Package httpconv holds the HTTP conventions Rolecall's two surfaces share:
// the SCIM surface (scim) and the Management API (roles/api), with the
// composition root (cmd/rolecall) and the dashboard that set or read the
// same headers. It owns the bearer credential syntax, the request-id and
// revision header names, how the public base URL is found, an in-memory
// response recorder, and the JSON string encoding of the answers that are
// written by hand (json.go).
//
// It lives under store only because the top level of the repository is fixed
// and scim and roles must never import each other: both surfaces already
// depend on store, so a package beside it adds no new edge. It knows nothing
// of the store, though, and must import nothing but the standard library, so
// that every layer may use it.
package httpconv

import (
	"bytes"
	"net/http"
	"strings"
)

// RequestIDHeader carries the request id. The server's middleware normalises
// it on the request (handlers read it from there, and write it into audit
// entries) and echoes it on the response.
const RequestIDHeader = "X-Request-Id"

// RevisionHeader carries the store revision a write committed at (or, on a
// read, the revision the answer reflects at least).
const RevisionHeader = "Rolecall-Revision"

// Bearer returns the credential of an "Authorization: Bearer <secret>"
// header. The scheme is matched case-insensitively and spaces around the
// secret are dropped; ok is false when the header is missing, has another
// scheme or carries an empty secret.
func Bearer(r *http.Request) (secret string, ok bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	s := strings.TrimSpace(h[7:])
	return s, s != ""
}

// BaseURL is the externally visible scheme://host[:port] of the server, with
// no trailing slash: publicURL when the operator configured one, else derived
// from the request (https when it came over TLS, and its Host).
func BaseURL(publicURL string, r *http.Request) string {
	if publicURL != "" {
		return strings.TrimRight(publicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// Recorder is an in-memory http.ResponseWriter, for a handler called
// in-process (a SCIM Bulk operation, a dashboard call to the Management API).
// The first status written wins; a write without one records 200. Its zero
// value is ready to use.
type Recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// Header returns the response headers, created on first use.
func (r *Recorder) Header() http.Header {
	if r.header == nil {
		r.header = http.Header{}
	}
	return r.header
}

// WriteHeader records code unless a status was already recorded.
func (r *Recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

// Write appends b to the body, recording 200 if no status was written.
func (r *Recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// Status is the recorded status: 200 when the handler wrote nothing at all,
// as net/http would have sent.
func (r *Recorder) Status() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// Body is the recorded body; it is valid until the next Write.
func (r *Recorder) Body() []byte { return r.body.Bytes() }
