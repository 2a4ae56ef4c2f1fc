package store

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error the store returns for a request-level problem
// wraps exactly one of them, so each HTTP surface can map them in one place
// with errors.Is; the wrapping *Error carries a detail fit for a client.
var (
	// ErrNotFound: the addressed record does not exist (or belongs to another
	// connection, which callers must not be able to tell apart).
	ErrNotFound = errors.New("not found")
	// ErrConflict: a uniqueness rule would be broken (userName, displayName,
	// connection name, ...).
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the request names something that cannot be used, such as a
	// member that is not a user of the same connection, or a value too long to
	// index.
	ErrInvalid = errors.New("invalid")
	// ErrPrecondition: an optimistic-concurrency check (If-Match) failed.
	ErrPrecondition = errors.New("precondition failed")
	// ErrUnauthorized: a presented secret is unknown, revoked or expired.
	ErrUnauthorized = errors.New("unauthorized")
)

// Errors of the store itself rather than of a request.
var (
	// ErrClosed: the DB is closed or closing; no more writes are accepted.
	ErrClosed = errors.New("store is closed")
	// ErrNewerSchema: the file was written by a newer Rolecall.
	ErrNewerSchema = errors.New("data file has a newer schema version than this binary supports")
)

// Errors of opening or checking a data file, always wrapped in a *FileError
// that names the file. Open never repairs, truncates or re-initialises an
// existing file: only a missing file is created.
var (
	// ErrLocked: another process (a second Rolecall, or any program holding
	// the bbolt lock) has the file open.
	ErrLocked = errors.New("data file is in use by another process")
	// ErrDamaged: the file is a Rolecall data file that cannot be trusted:
	// empty, truncated, a damaged header or page, or broken invariants.
	ErrDamaged = errors.New("data file is damaged")
	// ErrNotDataFile: the file is something else (another format, random
	// bytes, another program's bbolt database).
	ErrNotDataFile = errors.New("not a Rolecall data file")
)

// FileError says why the data file at Path cannot be used. Kind is ErrLocked,
// ErrDamaged or ErrNotDataFile; Detail is one line naming what was found.
type FileError struct {
	Path   string
	Kind   error
	Detail string
}

func (e *FileError) Error() string {
	switch e.Kind {
	case ErrLocked:
		return fmt.Sprintf("data file %s is in use: %s", e.Path, e.Detail)
	case ErrNotDataFile:
		return fmt.Sprintf("%s is not a Rolecall data file: %s", e.Path, e.Detail)
	default:
		return fmt.Sprintf("data file %s is damaged: %s", e.Path, e.Detail)
	}
}

func (e *FileError) Unwrap() error { return e.Kind }

func fileErrorf(path string, kind error, format string, args ...any) error {
	return &FileError{Path: path, Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// Error is a request-level store error: one of the sentinels above plus a
// human-readable detail naming the offending value.
type Error struct {
	Kind   error
	Detail string
	// Resource names, for ErrNotFound, what is missing ("role", "user",
	// "organization_member", ...), so a surface can say which of the ids
	// in a request was unknown without looking each one up first.
	Resource string
}

func (e *Error) Error() string { return e.Detail }
func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

func notFound(what, id string) error {
	return missing(strings.ReplaceAll(strings.ToLower(what), " ", "_"), "%s %q not found", what, id)
}

// missing is an ErrNotFound about a resource, with its detail.
func missing(resource, format string, args ...any) error {
	return &Error{Kind: ErrNotFound, Detail: fmt.Sprintf(format, args...), Resource: resource}
}
