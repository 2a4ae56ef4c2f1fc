package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// DefaultListPageBytes is the default Options.ListPageBytes.
const DefaultListPageBytes = 4 << 20

// Limiter bounds how many heavy requests (lists) run at once; the SCIM
// surface's *scim.Limiter is one, and the composition root shares it so
// that both surfaces together hold a bounded amount of memory.
type Limiter interface {
	// Acquire takes a slot, waiting a bounded time; it returns the function
	// that gives it back, or false when none freed up in time.
	Acquire(ctx context.Context) (release func(), ok bool)
	// RetryAfter is what a refused request is told to wait.
	RetryAfter() time.Duration
}

// heavy wraps a list endpoint: it runs once the Limiter gives it a slot, or
// is answered 503 server_busy with Retry-After.
func (a *API) heavy(fn handlerFunc) handlerFunc {
	if a.limiter == nil {
		return fn
	}
	return func(w http.ResponseWriter, r *http.Request, c caller) error {
		release, ok := a.limiter.Acquire(r.Context())
		if !ok {
			after := a.limiter.RetryAfter()
			w.Header().Set("Retry-After", strconv.Itoa(int(after/time.Second)))
			return newError(http.StatusServiceUnavailable, "server_busy",
				"Too many list requests are running; retry after %s", after)
		}
		defer release()
		return fn(w, r, c)
	}
}

// A list page is bounded in bytes as well as in items: items are read from
// the store one at a time (or a few, for the audit log) and encoded as they
// join, and the page stops before the first that would take it past the
// budget (a single larger item still goes out alone), with `next` where the
// rest starts. The page is written after the read transaction ends.

// pageItems is the encoded items of one page and their size.
type pageItems struct {
	budget int
	size   int
	items  [][]byte
}

// add encodes v and adds it, unless the page already holds an item and v
// would take it past the budget: then it reports false.
func (p *pageItems) add(v any) (bool, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return false, err
	}
	if len(p.items) > 0 && p.size+1+len(raw) > p.budget {
		return false, nil
	}
	p.items = append(p.items, raw)
	p.size += 1 + len(raw)
	return true, nil
}

// largest is the size of the largest item so far (at least 1).
func (p *pageItems) largest() int {
	n := 1
	for _, it := range p.items {
		n = max(n, len(it))
	}
	return n
}

// write answers {"<key>":[items…],"next":next} (next left out when empty).
func (p *pageItems) write(w http.ResponseWriter, key, next string) {
	var fields []jsonField
	if next != "" {
		fields = append(fields, jsonField{"next", next})
	}
	p.writeFields(w, key, fields)
}

func (a *API) newPage() *pageItems { return &pageItems{budget: a.pageBytes} }
