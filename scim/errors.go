package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/rs/zerolog"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/httpconv"
)

func scimErr(status int, scimType scimerrors.ScimType, format string, args ...any) scimerrors.ScimError {
	return scimerrors.ScimError{Status: status, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// scimError is the one mapping from any error a SCIM handler meets to the
// SCIM error the client sees. ScimErrors pass through; store errors map by
// kind; anything else is an internal error whose cause is logged, never shown.
func scimError(r *http.Request, err error) scimerrors.ScimError {
	var se scimerrors.ScimError
	if errors.As(err, &se) {
		return se
	}
	var pse *scimerrors.ScimError
	if errors.As(err, &pse) && pse != nil {
		return *pse
	}
	var storeErr *store.Error
	if errors.As(err, &storeErr) {
		switch {
		case errors.Is(err, store.ErrNotFound):
			return scimErr(http.StatusNotFound, "", "%s", storeErr.Detail)
		case errors.Is(err, store.ErrConflict):
			return scimErr(http.StatusConflict, scimerrors.ScimTypeUniqueness, "%s", storeErr.Detail)
		case errors.Is(err, store.ErrInvalid):
			return scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, "%s", storeErr.Detail)
		case errors.Is(err, store.ErrPrecondition):
			return scimErr(http.StatusPreconditionFailed, "", "%s", storeErr.Detail)
		case errors.Is(err, store.ErrUnauthorized):
			return scimErr(http.StatusUnauthorized, "", "%s", storeErr.Detail)
		}
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return scimErr(http.StatusRequestEntityTooLarge, "", "The request body exceeds the limit of %d bytes.", tooBig.Limit)
	}
	if errors.Is(err, store.ErrClosed) {
		// 503 is not a SCIM-listed status for every method; the library would
		// turn it into a 500 anyway, so say plainly what happened.
		return scimErr(http.StatusInternalServerError, "", "The server is shutting down; retry the request.")
	}
	zerolog.Ctx(r.Context()).Error().Err(err).Msg("SCIM internal error")
	return scimErr(http.StatusInternalServerError, "", "Internal error; see the server log for request %s.", r.Header.Get(httpconv.RequestIDHeader))
}

// writeError writes err as a SCIM error body.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var mna methodNotAllowed
	if errors.As(err, &mna) {
		w.Header().Set("Allow", strings.Join(mna.allowed, ", "))
		err = mna.ScimError
	}
	se := scimError(r, err)
	if se.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="rolecall"`)
	}
	writeJSON(w, se.Status, se)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		raw = []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"500","detail":"response encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	_, _ = w.Write(raw)
}
