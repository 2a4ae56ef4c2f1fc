package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/rolecall/rolecall/store/httpconv"
)

// withMiddleware wraps h with, outermost first: request id, access log (one
// line per request) and request metrics (when m is not nil), panic recovery,
// the write-stall deadline (when stall is set; writeTimeout is the server's)
// and the request body limit. The request id travels in
// httpconv.RequestIDHeader: it is normalised on the request (so handlers read
// it from there, not from a context value) and echoed on the response.
func withMiddleware(log zerolog.Logger, maxBody int64, stall, writeTimeout time.Duration, m *requestMetrics, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if m != nil {
			m.inFlight.Add(1)
		}
		id := r.Header.Get(httpconv.RequestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		r.Header.Set(httpconv.RequestIDHeader, id)
		w.Header().Set(httpconv.RequestIDHeader, id)

		reqLog := log.With().Str("request_id", id).Logger()
		r = r.WithContext(reqLog.WithContext(r.Context()))
		rec := &statusRecorder{ResponseWriter: w}
		if stall > 0 {
			rec.stall = stall
			rec.hardDeadline = start.Add(writeTimeout)
			rec.rc = http.NewResponseController(w)
		}
		defer func() {
			if p := recover(); p != nil {
				zerolog.Ctx(r.Context()).Error().Interface("panic", p).Bytes("stack", debug.Stack()).Msg("handler panicked")
				if !rec.wroteHeader {
					writeSurfaceError(rec, r, http.StatusInternalServerError, "internal_error",
						"Internal error; see the server log for request "+r.Header.Get(httpconv.RequestIDHeader)+".")
				}
			}
			// The access line: no query string values beyond the path's own, no
			// headers, so no secret can reach the log.
			ev := zerolog.Ctx(r.Context()).Info()
			if rec.status >= 500 {
				ev = zerolog.Ctx(r.Context()).Error()
			}
			elapsed := time.Since(start)
			ev.Str("method", r.Method).Str("path", r.URL.Path).Int("status", rec.statusCode()).
				Int64("bytes", rec.bytes).Dur("duration", elapsed).Str("remote", r.RemoteAddr).
				Msg("request")
			if m != nil {
				m.inFlight.Add(-1)
				m.record(surfaceOf(r.URL.Path), rec.statusCode(), elapsed)
			}
		}()
		// A body declared too large is refused before any of it is read: a
		// client that sent Expect: 100-continue then never sends it at all.
		if r.ContentLength > maxBody {
			writeSurfaceError(rec, r, http.StatusRequestEntityTooLarge, "payload_too_large",
				"The request body exceeds the limit of "+strconv.FormatInt(maxBody, 10)+" bytes.")
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(rec, r.Body, maxBody)
		}
		h.ServeHTTP(rec, r)
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// writeSurfaceError answers in the error shape of the surface that was asked,
// for the two cases handled before a surface runs (oversize bodies, panics).
func writeSurfaceError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	var body any
	if strings.HasPrefix(r.URL.Path, "/scim/") {
		w.Header().Set("Content-Type", "application/scim+json")
		body = map[string]any{
			"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
			"status":  strconv.Itoa(status), "detail": message,
		}
	} else {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		body = map[string]any{"statusCode": status, "error": http.StatusText(status), "errorCode": code, "message": message}
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// statusRecorder remembers the status and size of a response for the access
// log, and moves the connection's write deadline before each write.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool

	stall        time.Duration // 0: leave the deadline to the server
	hardDeadline time.Time     // the server's WriteTimeout for this request
	rc           *http.ResponseController
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if !s.wroteHeader {
		s.WriteHeader(http.StatusOK)
	}
	if s.stall > 0 {
		deadline := time.Now().Add(s.stall)
		if deadline.After(s.hardDeadline) {
			deadline = s.hardDeadline
		}
		_ = s.rc.SetWriteDeadline(deadline)
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) statusCode() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
