// Package client is a Go client for Rolecall's Management API (/api/v2) and
// its login query, for the applications that integrate Rolecall: typed
// calls, paging iterators, min_revision fences, errors as values, and a
// small caching Resolver for login servers.
//
// Every call takes a context and returns an error value: a *Error (the
// Management API's {"statusCode","error","message","errorCode"}) for an
// answer the server gave, or the transport's error. IsNotFound, IsConflict
// and the other helpers classify either without a type assertion.
//
// Every write returns the store revision it committed at (the
// Rolecall-Revision header). Store reads (Role, Users, …) always reflect
// every committed write; the effective-role answers come from the role
// index, which follows commits a moment later, so EffectiveRoles and Query
// accept a MinRevision: the server waits (up to about a second) for the
// index to reach it, or answers 409 revision_not_reached (IsRevisionNotReached).
// The Client remembers the highest revision its own writes committed at
// (LastRevision), and the Resolver fences on it, so a login server reads its
// own writes.
//
// The package imports only the standard library: it is the one package of
// this repository an integrator needs, and it must not import the server.
package client
