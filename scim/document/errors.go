package document

import (
	"fmt"
	"strconv"

	scimerrors "github.com/elimity-com/scim/errors"
)

// These mirror net/http's constants; this package must not import net/http.
const (
	statusBadRequest          = 400
	statusInternalServerError = 500
)

func scimError(scimType scimerrors.ScimType, format string, args ...any) error {
	return scimerrors.ScimError{
		ScimType: scimType,
		Detail:   fmt.Sprintf(format, args...),
		Status:   statusBadRequest,
	}
}

func errInvalidFilter(format string, args ...any) error {
	return scimError(scimerrors.ScimTypeInvalidFilter, format, args...)
}

func errInvalidPath(format string, args ...any) error {
	return scimError(scimerrors.ScimTypeInvalidPath, format, args...)
}

func errInvalidValue(format string, args ...any) error {
	return scimError(scimerrors.ScimTypeInvalidValue, format, args...)
}

func errMutability(format string, args ...any) error {
	return scimError(scimerrors.ScimTypeMutability, format, args...)
}

func errNoTarget(format string, args ...any) error {
	return scimError(scimerrors.ScimTypeNoTarget, format, args...)
}

// quote quotes client input for an error detail, clipped so that a hostile
// 8 MiB filter does not come back in the response.
func quote(s string) string {
	const limit = 200
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	cut := limit
	for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}

// describe names the JSON type of a decoded value for error details.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "the string " + quote(v)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	default:
		return fmt.Sprintf("the number %v", v)
	}
}
