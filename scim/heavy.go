package scim

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// Heavy requests are those whose cost grows with the data they touch rather
// than with the request: lists and searches (GET /Users, /Groups, the root
// query, every .search), Bulk, and writes with a large body (a big PATCH).
// Each may hold a page of rendered resources (see ListPageBytes) or a big
// document in memory while it runs and while its answer is written, so a
// burst of them multiplies memory. They share a Limiter: a fixed number run
// at once, the rest queue for a bounded time and are then refused with 503
// and Retry-After, which Okta and Entra both honour.

// Defaults for NewLimiter, sized for a 2-core machine.
const (
	// DefaultHeavyRequests is how many heavy requests run at once: twice
	// the cores of the machine Rolecall is sized for. Rendering is CPU
	// work, so more at once would not finish sooner, only hold more.
	DefaultHeavyRequests = 4
	// DefaultHeavyWait is how long a heavy request queues for a slot.
	DefaultHeavyWait = 5 * time.Second
)

// heavyBodyBytes is the body size from which a write is heavy: a PATCH,
// PUT or POST body above it is decoded into documents several times its
// size.
const heavyBodyBytes = 256 << 10

// Limiter bounds how many heavy requests run at once. It is safe for
// concurrent use; one Limiter may be shared by several surfaces (the SCIM
// surface and the Management API) so that together they hold a bounded
// amount of memory.
type Limiter struct {
	slots chan struct{}
	wait  time.Duration
}

// NewLimiter returns a Limiter that runs n heavy requests at once (n <= 0:
// DefaultHeavyRequests) and lets others wait up to wait for a slot (wait <=
// 0: DefaultHeavyWait).
func NewLimiter(n int, wait time.Duration) *Limiter {
	if n <= 0 {
		n = DefaultHeavyRequests
	}
	if wait <= 0 {
		wait = DefaultHeavyWait
	}
	return &Limiter{slots: make(chan struct{}, n), wait: wait}
}

// Acquire takes a slot, waiting at most the Limiter's wait time and no
// longer than ctx allows. On success it returns the function that gives the
// slot back (call it exactly once) and true; otherwise nil and false, and
// the caller should answer 503 with RetryAfter.
func (l *Limiter) Acquire(ctx context.Context) (release func(), ok bool) {
	select {
	case l.slots <- struct{}{}:
		return l.release, true
	default:
	}
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return l.release, true
	case <-t.C:
		return nil, false
	case <-ctx.Done():
		return nil, false
	}
}

func (l *Limiter) release() { <-l.slots }

// RetryAfter is the Retry-After a refused request is told: the wait, in
// whole seconds, at least one.
func (l *Limiter) RetryAfter() time.Duration {
	return max(l.wait.Round(time.Second), time.Second)
}

// heavy reports whether a request to rt is heavy (see Limiter).
func (rt route) heavy(method string, body []byte) bool {
	switch rt.endpoint {
	case endpointRoot, endpointRootSearch, endpointSearch, endpointBulk:
		return true
	case endpointResources:
		return method == http.MethodGet || method == http.MethodHead || len(body) > heavyBodyBytes
	case endpointResource:
		return len(body) > heavyBodyBytes
	}
	return false
}

// heldKey marks a request context that already holds a slot: a Bulk
// request's operations run inside it and must not wait for another, or
// Bulk requests holding every slot would each wait for one of the others.
type heldKey struct{}

// serveHeavy serves a heavy request once the Limiter gives it a slot, and
// answers 503 with Retry-After when none frees up in time.
func (h *Handler) serveHeavy(w http.ResponseWriter, r *http.Request, serve func(*http.Request)) {
	if r.Context().Value(heldKey{}) != nil {
		serve(r)
		return
	}
	release, ok := h.heavy.Acquire(r.Context())
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(h.heavy.RetryAfter()/time.Second)))
		writeError(w, r, scimErr(http.StatusServiceUnavailable, "",
			"The server is busy: %d list, search, Bulk or large write requests are running and none finished within %s. Retry after %s.",
			cap(h.heavy.slots), h.heavy.wait, h.heavy.RetryAfter()))
		return
	}
	defer release()
	serve(r.WithContext(context.WithValue(r.Context(), heldKey{}, true)))
}
