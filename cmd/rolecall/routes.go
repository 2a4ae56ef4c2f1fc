package main

import (
	"net/http"
	"sync/atomic"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/roles/dashboard"
	"github.com/rolecall/rolecall/scim"
	"github.com/rolecall/rolecall/store"
)

// routes is the whole URL surface of the server.
func routes(db *store.DB, cfg config, ready *atomic.Bool, requests *requestMetrics) (http.Handler, error) {
	// One limit on heavy requests (lists, searches, Bulk, large writes) for
	// both surfaces: together they hold a bounded amount of memory.
	heavy := scim.NewLimiter(scim.DefaultHeavyRequests, scim.DefaultHeavyWait)
	api, err := roles.NewAPI(db, roles.Options{AdminToken: cfg.AdminToken, PublicURL: cfg.PublicURL, Heavy: heavy})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	// A bulk request is a request body first: its advertised limit must not
	// promise more than the server's body limit lets through.
	bulkMax := min(cfg.MaxBody, 1<<20)
	mux.Handle(scim.PathPrefix, scim.NewHandler(db, scim.Options{PublicURL: cfg.PublicURL, BulkMaxPayload: int(bulkMax), Heavy: heavy}))
	mux.Handle("/api/v2/", api)
	mux.Handle(dashboard.DefaultBasePath, dashboard.New(api, dashboard.Options{PublicURL: cfg.PublicURL}))
	mux.Handle("GET /dashboard", http.RedirectHandler(dashboard.DefaultBasePath, http.StatusMovedPermanently))

	mux.Handle("GET /metrics", metricsHandler(requests, db, cfg.Data))

	// healthz: the process is up. readyz: it accepts work (false while draining).
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("shutting down\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	return mux, nil
}
