package main

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/roles/api"
	"github.com/rolecall/rolecall/roles/dashboard"
	"github.com/rolecall/rolecall/roles/streams"
	"github.com/rolecall/rolecall/scim"
	"github.com/rolecall/rolecall/store"
)

// guards are the server's defences against floods, kept together so that
// /metrics can count what they refused.
type guards struct {
	scimRate, apiRate *rateLimiter
	conns             atomic.Pointer[limitListener] // set once listening
}

func newGuards(cfg config) *guards {
	return &guards{scimRate: newRateLimiter(cfg.SCIMRate, cfg.SCIMBurst), apiRate: newRateLimiter(cfg.APIRate, cfg.APIBurst)}
}

// limiter returns l as the surfaces' interface, nil when there is no limit
// (a nil *rateLimiter in an interface would not compare equal to nil).
func limiter(l *rateLimiter) interface {
	Allow(string) (bool, time.Duration)
} {
	if l == nil {
		return nil
	}
	return l
}

// routes is the whole URL surface of the server.
func routes(db *store.DB, index *roles.Index, cfg config, ready func() bool, requests *requestMetrics, g *guards, deliveries *streams.Manager, deriver *atomic.Pointer[roles.Deriver]) http.Handler {
	// One limit on heavy requests (lists, searches, Bulk, large writes) for
	// both surfaces: together they hold a bounded amount of memory.
	heavy := scim.NewLimiter(cfg.HeavyRequests, cfg.HeavyWait)
	mgmt := api.New(db, index, api.Options{AdminToken: cfg.AdminToken, PublicURL: cfg.PublicURL, RateLimit: limiter(g.apiRate), Heavy: heavy,
		// A change-feed long poll answers well within the server's WriteTimeout.
		EventWait: cfg.WriteTimeout / 2,
		Streams:   deliveries, AllowHTTPWebhooks: cfg.AllowHTTPWebhooks})
	mux := http.NewServeMux()
	// A bulk request is a request body first: its advertised limit must not
	// promise more than the server's body limit lets through.
	bulkMax := min(cfg.MaxBody, 1<<20)
	mux.Handle(scim.PathPrefix, scim.NewHandler(db, scim.Options{PublicURL: cfg.PublicURL, BulkMaxPayload: int(bulkMax), RateLimit: limiter(g.scimRate), Heavy: heavy}))
	mux.Handle("/api/v2/", mgmt)
	mux.Handle(dashboard.DefaultBasePath, dashboard.New(mgmt, dashboard.Options{PublicURL: cfg.PublicURL}))
	mux.Handle("GET /dashboard", http.RedirectHandler(dashboard.DefaultBasePath, http.StatusMovedPermanently))
	// A person who types the host name lands on the dashboard.
	mux.Handle("GET /{$}", http.RedirectHandler(dashboard.DefaultBasePath, http.StatusFound))

	mux.Handle("GET /metrics", metricsHandler(requests, g, db, cfg.Data, index, deliveries, deriver))

	// healthz: the process is up. readyz: it accepts work (false while draining).
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("shutting down\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	return mux
}
