package main

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// rateLimiter keeps a token bucket per credential (a SCIM token id or an API
// key id, never a secret). The surfaces call Allow after authenticating, so
// only credentials that exist get a bucket, and an idle bucket, once full
// again, is dropped: memory follows the credentials in use.
type rateLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	buckets   sync.Map // key → *rate.Limiter
	sweepMu   sync.Mutex
	lastSweep time.Time

	refused atomic.Uint64
}

// newRateLimiter returns a limiter of perSecond sustained requests with
// burst; nil (no limit) when perSecond is 0.
func newRateLimiter(perSecond float64, burst int) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &rateLimiter{limit: rate.Limit(perSecond), burst: burst, now: time.Now}
}

// sweepEvery is how often idle buckets are dropped.
const sweepEvery = time.Minute

// Allow takes one request from key's bucket. When the bucket is empty it
// reports false and how long until a request would be allowed.
func (l *rateLimiter) Allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	v, ok := l.buckets.Load(key)
	if !ok {
		v, _ = l.buckets.LoadOrStore(key, rate.NewLimiter(l.limit, l.burst))
	}
	lim := v.(*rate.Limiter)
	allowed := lim.AllowN(now, 1)
	l.maybeSweep(now)
	if allowed {
		return true, 0
	}
	l.refused.Add(1)
	missing := 1 - lim.TokensAt(now)
	return false, time.Duration(math.Ceil(missing / float64(l.limit) * float64(time.Second)))
}

func (l *rateLimiter) maybeSweep(now time.Time) {
	if !l.sweepMu.TryLock() {
		return
	}
	defer l.sweepMu.Unlock()
	if now.Sub(l.lastSweep) < sweepEvery {
		return
	}
	l.lastSweep = now
	l.buckets.Range(func(k, v any) bool {
		// A full bucket carries no state a fresh one would not.
		if v.(*rate.Limiter).TokensAt(now) >= float64(l.burst) {
			l.buckets.Delete(k)
		}
		return true
	})
}

// Refused is the number of requests refused so far.
func (l *rateLimiter) Refused() uint64 {
	if l == nil {
		return 0
	}
	return l.refused.Load()
}
