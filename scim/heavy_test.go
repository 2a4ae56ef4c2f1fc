package scim_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rolecall/rolecall/scim"
	"github.com/rolecall/rolecall/store"
)

func TestLimiterQueuesThenGivesUp(t *testing.T) {
	l := scim.NewLimiter(1, 50*time.Millisecond)
	release, ok := l.Acquire(context.Background())
	if !ok {
		t.Fatal("the first Acquire failed")
	}
	if _, ok := l.Acquire(context.Background()); ok {
		t.Fatal("a second Acquire succeeded while the only slot is taken")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, ok := scim.NewLimiter(1, time.Hour).Acquire(ctx); !ok {
		t.Fatal("a free slot was refused to a cancelled context; a free slot needs no wait")
	}
	waiter := make(chan bool)
	go func() {
		r, ok := scim.NewLimiter(0, 0).Acquire(context.Background())
		if ok {
			r()
		}
		waiter <- ok
	}()
	if !<-waiter {
		t.Error("the default Limiter refused a request with free slots")
	}
	go func() {
		r, ok := l.Acquire(context.Background())
		if ok {
			r()
		}
		waiter <- ok
	}()
	release()
	if !<-waiter {
		t.Error("a queued request did not get the released slot")
	}
	if got := l.RetryAfter(); got != time.Second {
		t.Errorf("RetryAfter = %s, want at least 1s", got)
	}
}

func TestLimiterHonoursTheContext(t *testing.T) {
	l := scim.NewLimiter(1, time.Hour)
	release, _ := l.Acquire(context.Background())
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, ok := l.Acquire(ctx); ok {
		t.Fatal("Acquire succeeded on a taken slot")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Acquire waited %s past its context", d)
	}
}

// TestHeavyRequestsQueueThen503: while the Limiter's slots are taken, lists,
// searches, Bulk and large writes wait, then answer 503 with Retry-After and
// a SCIM error naming the limit; reads of one resource and small writes are
// not held up. Once a slot frees up, lists are served again.
func TestHeavyRequestsQueueThen503(t *testing.T) {
	l := scim.NewLimiter(1, 100*time.Millisecond)
	tg := newTargetWith(t, store.Options{}, scim.Options{Heavy: l})
	id := tg.mustCreateUser(t, "alice@acme.test", nil)
	release, _ := l.Acquire(context.Background())

	big := map[string]any{"schemas": []string{userSchema}, "userName": "big@acme.test", "title": strings.Repeat("x", 300<<10)}
	for _, tc := range []struct {
		name, method, path string
		body               any
	}{
		{"list", "GET", "/Users", nil},
		{"root query", "GET", "/", nil},
		{"search", "POST", "/Groups/.search", map[string]any{"schemas": []string{searchSchema}}},
		{"root search", "POST", "/.search", map[string]any{"schemas": []string{searchSchema}}},
		{"bulk", "POST", "/Bulk", map[string]any{"schemas": []string{bulkRequestSchema}, "Operations": []any{}}},
		{"large write", "POST", "/Users", big},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tg.do(t, tc.method, tc.path, tc.body)
			wantSCIMError(t, res, http.StatusServiceUnavailable, "")
			if got := res.header.Get("Retry-After"); got != "1" {
				t.Errorf("Retry-After = %q, want 1", got)
			}
		})
	}
	tg.mustDo(t, http.StatusOK, "GET", "/Users/"+id, nil)
	tg.mustCreateUser(t, "bob@acme.test", nil)

	release()
	if l := tg.mustList(t, "GET", "/Users", nil); l.TotalResults != 2 {
		t.Errorf("after the slot is released: totalResults %d, want 2", l.TotalResults)
	}
}

// TestBulkWithLargeOperationsDoesNotWaitForItself: a Bulk request holds a
// slot, and its large operations run in it rather than queueing for
// another, even when it holds the only one.
func TestBulkWithLargeOperationsDoesNotWaitForItself(t *testing.T) {
	tg := newTargetWith(t, store.Options{}, scim.Options{Heavy: scim.NewLimiter(1, 100*time.Millisecond), BulkMaxPayload: 2 << 20})
	big := map[string]any{"schemas": []string{userSchema}, "userName": "big@acme.test", "title": strings.Repeat("x", 300<<10)}
	res := tg.mustDo(t, http.StatusOK, "POST", "/Bulk", map[string]any{
		"schemas":    []string{bulkRequestSchema},
		"Operations": []any{map[string]any{"method": "POST", "path": "/Users", "bulkId": "b1", "data": big}},
	})
	ops, _ := res.object(t)["Operations"].([]any)
	if len(ops) != 1 || ops[0].(map[string]any)["status"] != "201" {
		t.Errorf("bulk operations = %v, want one 201", ops)
	}
}
