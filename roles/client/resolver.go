package client

import (
	"context"
	"sync"
	"time"
)

// Resolver defaults.
const (
	DefaultResolverTTL        = 30 * time.Second
	DefaultResolverMaxEntries = 10000
)

// ResolverOptions configure a Resolver.
type ResolverOptions struct {
	// TTL is how long an answer is served from the cache at most (default
	// DefaultResolverTTL): the bound on how stale an answer can be after a
	// change made elsewhere (by an IdP over SCIM, or another client).
	TTL time.Duration
	// MaxEntries bounds the cache (default DefaultResolverMaxEntries); a
	// full cache drops its oldest answer.
	MaxEntries int
	// Include and ResourceServer shape every query, as in QueryRequest.
	Include        []string
	ResourceServer string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Result is a subject's cached login answer and the index revision it reflects.
type Result struct {
	QueryResult
	Revision uint64
}

// Resolver is a small cache of login answers for a login server: Resolve
// asks the server once per subject and answers from memory after that.
//
// It is exact for changes it is told about and bounded-stale for the rest:
//   - writes made through its Client (LastRevision) and revisions passed to
//     Fence invalidate every answer older than them: the next Resolve asks
//     again with min_revision, so a login server reads its own writes;
//   - Invalidate drops one user's answers, InvalidateAll every answer (a
//     webhook or change-feed consumer calls them);
//   - anything else is seen within TTL.
//
// A Resolver is safe for concurrent use.
type Resolver struct {
	c    *Client
	opts ResolverOptions

	mu      sync.Mutex
	fence   uint64
	entries map[Subject]*entry
}

type entry struct {
	res     Result
	fetched time.Time
}

// NewResolver returns a Resolver asking c.
func NewResolver(c *Client, opts ResolverOptions) *Resolver {
	if opts.TTL <= 0 {
		opts.TTL = DefaultResolverTTL
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultResolverMaxEntries
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Resolver{c: c, opts: opts, entries: map[Subject]*entry{}}
}

// Fence makes every answer older than rev stale: the next Resolve of each
// subject asks with min_revision rev.
func (r *Resolver) Fence(rev uint64) {
	r.mu.Lock()
	r.fence = max(r.fence, rev)
	r.mu.Unlock()
}

// Invalidate drops every cached answer about userID (in any organization).
func (r *Resolver) Invalidate(userID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for s, e := range r.entries {
		if s.UserID == userID || (e.res.User != nil && e.res.User.ID == userID) {
			delete(r.entries, s)
		}
	}
}

// InvalidateAll empties the cache.
func (r *Resolver) InvalidateAll() {
	r.mu.Lock()
	clear(r.entries)
	r.mu.Unlock()
}

// Len is how many answers the cache holds.
func (r *Resolver) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.entries)
}

// Resolve returns subject's answer: from the cache when it is fresh, else
// from the server (and cached). A subject that does not resolve
// (user_not_found, …) is a *SubjectError and is not cached; a failed call
// is the call's error (a *Error or the transport's).
func (r *Resolver) Resolve(ctx context.Context, subject Subject) (Result, error) {
	now := r.opts.Now()
	r.mu.Lock()
	min := max(r.fence, r.c.LastRevision())
	if e, ok := r.entries[subject]; ok && e.res.Revision >= min && now.Sub(e.fetched) < r.opts.TTL {
		res := e.res
		r.mu.Unlock()
		return res, nil
	}
	r.mu.Unlock()

	ans, err := r.c.Query(ctx, QueryRequest{Subjects: []Subject{subject}, MinRevision: min,
		Include: r.opts.Include, ResourceServer: r.opts.ResourceServer})
	if err != nil {
		return Result{}, err
	}
	if len(ans.Results) != 1 {
		return Result{}, &SubjectError{ErrorCode: "invalid_answer", Message: "the server answered no result for the subject"}
	}
	res := Result{QueryResult: ans.Results[0], Revision: ans.Revision}
	if res.Error != nil {
		return Result{}, res.Error
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.entries[subject]; ok && old.res.Revision > res.Revision {
		return old.res, nil // a concurrent Resolve stored a newer answer
	}
	if _, ok := r.entries[subject]; !ok && len(r.entries) >= r.opts.MaxEntries {
		r.evictOldest()
	}
	r.entries[subject] = &entry{res: res, fetched: now}
	return res, nil
}

// evictOldest drops the answer fetched longest ago. It walks the cache, so
// a full cache costs O(MaxEntries) per new subject: fine for the cache
// sizes a login server holds per process.
func (r *Resolver) evictOldest() {
	var oldest Subject
	var at time.Time
	first := true
	for s, e := range r.entries {
		if first || e.fetched.Before(at) {
			oldest, at, first = s, e.fetched, false
		}
	}
	delete(r.entries, oldest)
}
