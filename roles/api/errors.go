package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/rolecall/rolecall/store"
)

// apiError is the Management API's one error shape, as Auth0 writes it.
type apiError struct {
	StatusCode int    `json:"statusCode"`
	Title      string `json:"error"` // the HTTP reason phrase
	Message    string `json:"message"`
	ErrorCode  string `json:"errorCode"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.StatusCode, e.ErrorCode, e.Message)
}

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{StatusCode: status, Title: http.StatusText(status), Message: fmt.Sprintf(format, args...), ErrorCode: code}
}

func badBody(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "invalid_body", format, args...)
}

func badQuery(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "invalid_query_string", format, args...)
}

// errorFor maps any error a handler returns to the error the client sees. It
// is the only place store errors become HTTP errors. resource names the kind
// of thing the request addressed ("connection", "role", ...) for error codes
// such as inexistent_connection.
func errorFor(err error, resource string) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var se *store.Error
	if errors.As(err, &se) {
		switch {
		case errors.Is(err, store.ErrNotFound):
			if se.Resource != "" {
				resource = se.Resource // the store knows which id was unknown
			}
			return newError(http.StatusNotFound, "inexistent_"+resource, "%s", se.Detail)
		case errors.Is(err, store.ErrConflict):
			return newError(http.StatusConflict, resource+"_conflict", "%s", se.Detail)
		case errors.Is(err, store.ErrInvalid):
			return badBody("%s", se.Detail)
		case errors.Is(err, store.ErrPrecondition):
			return newError(http.StatusPreconditionFailed, "precondition_failed", "%s", se.Detail)
		case errors.Is(err, store.ErrUnauthorized):
			return newError(http.StatusUnauthorized, "invalid_token", "%s", se.Detail)
		}
	}
	if errors.Is(err, store.ErrClosed) {
		return newError(http.StatusServiceUnavailable, "shutting_down", "the server is shutting down; retry")
	}
	return newError(http.StatusInternalServerError, "internal_error", "internal error")
}

// writeError writes err in the one error shape; only internal errors are
// logged with their cause, since everything else is the client's to fix.
func writeError(w http.ResponseWriter, r *http.Request, err error, resource string) {
	ae := errorFor(err, resource)
	if ae.StatusCode >= 500 {
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("management API internal error")
	}
	writeJSON(w, ae.StatusCode, ae)
}

// writeSecret answers v, which holds a secret shown this once: no cache on
// the way may keep it.
func writeSecret(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}
