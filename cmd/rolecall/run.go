package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/roles/api"
	"github.com/rolecall/rolecall/roles/streams"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
	"github.com/rolecall/rolecall/store/postgres"
)

const usage = `rolecall: SCIM 2.0 provisioning with role mapping

Usage:
  rolecall serve [flags]        start the server (rolecall serve -h lists the flags)
  rolecall conformance [flags]  run the SCIM and role conformance scenarios against a
                                running server (rolecall conformance -h lists the flags)
  rolecall check [--data DIR]   verify a data file offline (stop the server first);
                                exits non-zero when it is damaged
  rolecall backup --to FILE     a consistent snapshot of the store (also of a running
                                server's), in Rolecall's export format
  rolecall restore --from FILE  a backup into a new, empty store
  rolecall migrate --from A --to B
                                copy a store to another, empty one (bbolt:DIR, postgres://…)
  rolecall healthcheck [--url U] exit 0 when the server's /healthz answers 200 (for
                                container health checks; default: the local --addr)
  rolecall version              print the version

Every serve flag has an environment twin: --addr is ROLECALL_ADDR, and so on.
ROLECALL_ADMIN_TOKEN, when set, is accepted as an API key with every scope.
`

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// run is main without the process: it returns the exit code, so tests call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		cfg, err := parseServeConfig(args[1:], getenv, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		if err := serve(ctx, cfg, stdout, stderr, nil); err != nil {
			fmt.Fprintln(stderr, "rolecall:", err)
			return 1
		}
		return 0
	case "conformance":
		return runConformance(ctx, args[1:], getenv, stdout, stderr)
	case "check":
		return runCheck(ctx, args[1:], getenv, stdout, stderr)
	case "backup":
		return runBackup(ctx, args[1:], getenv, stdout, stderr)
	case "restore":
		return runRestore(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], getenv, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, args[1:], getenv, stderr)
	case "version":
		fmt.Fprintln(stdout, "rolecall", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "rolecall: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func newLogger(cfg config, stderr io.Writer) zerolog.Logger {
	var out io.Writer = stderr
	if cfg.LogFormat == "console" {
		out = zerolog.ConsoleWriter{Out: stderr, TimeFormat: time.RFC3339}
	}
	return zerolog.New(out).Level(cfg.LogLevel).With().Timestamp().Logger()
}

// serve runs the server until ctx ends, then shuts down gracefully: it stops
// accepting connections, lets in-flight requests finish (up to the shutdown
// timeout), commits queued writes and closes the store. When listening is not
// nil it receives the bound address once the server accepts connections.
func serve(ctx context.Context, cfg config, stdout, stderr io.Writer, listening chan<- string) error {
	cfg = cfg.withDefaults()
	log := newLogger(cfg, stderr)
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var db *store.DB
	var err error
	if cfg.Store != "" {
		db, err = postgres.Open(ctx, cfg.Store, store.Options{})
		if err != nil {
			return fmt.Errorf("open the store %s: %w", redactDSN(cfg.Store), err)
		}
	} else if db, err = bboltdb.Open(cfg.Data, store.Options{}); err != nil {
		return openRemedy(err, cfg.Data)
	}
	closeDB := func() error {
		if err := db.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			return err
		}
		return nil
	}
	defer closeDB()
	if cfg.Store == "" {
		if stopBackups, err := serveBackupSocket(ctx, cfg.Data, db); err != nil {
			log.Warn().Err(err).Msg("online backups are off: rolecall backup needs the server stopped")
		} else {
			defer stopBackups()
		}
	}

	if cfg.AdminToken == "" {
		secret, err := api.EnsureBootstrapKey(ctx, db)
		if err != nil {
			return fmt.Errorf("create bootstrap API key: %w", err)
		}
		if secret != "" {
			// Shown once, on stdout (not in the log stream, which may be shipped elsewhere).
			fmt.Fprintf(stdout, "Created the bootstrap admin API key (shown only now; store it safely):\n\n  %s\n\n", secret)
		}
	}

	var ready atomic.Bool
	requests := new(requestMetrics)
	g := newGuards(cfg)
	// The role index answers effective roles: subscribed to every commit,
	// then loaded, so it reflects the store before the server listens.
	index := roles.NewIndex()
	db.AddObserver(index)
	if err := index.Load(db); err != nil {
		return fmt.Errorf("load the role index: %w", err)
	}
	var following atomic.Bool // see follow
	following.Store(true)
	isReady := func() bool { return ready.Load() && following.Load() }
	// Event streams: delivered from the audit log after commit, woken by
	// the role index, each stream on its own goroutine; stopped (and their
	// leases released) before the store closes.
	source := "rolecall"
	if cfg.PublicURL != "" {
		source = cfg.PublicURL + api.Prefix
	}
	deliveries := streams.New(db, index, streams.Options{Source: source, AllowHTTP: cfg.AllowHTTPWebhooks,
		DisableAfter: cfg.StreamDisableAfter, LeaseTTL: cfg.StreamLease, Log: log.With().Str("source", "event_streams").Logger()})
	streamsCtx, stopStreams := context.WithCancel(ctx)
	streamsDone := make(chan struct{})
	go func() { defer close(streamsDone); deliveries.Run(streamsCtx) }()
	defer func() { stopStreams(); <-streamsDone }()
	var deriving atomic.Pointer[roles.Deriver] // for /metrics, once started
	handler := routes(db, index, cfg, isReady, requests, g, deliveries, &deriving)
	if !cfg.GOGCSet {
		// Started once the role index is loaded: loading is the one time the
		// live heap grows fast, and Go's default suits it.
		tuneCtx, stopTuning := context.WithCancel(ctx)
		defer stopTuning()
		go tuneGC(tuneCtx)
	}
	tcp, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	useTLS := cfg.TLSCert != ""
	ln := newLimitListener(tcp, cfg.MaxConnections, !useTLS)
	g.conns.Store(ln)
	srv := &http.Server{
		Handler:           withMiddleware(log, cfg.MaxBody, cfg.WriteStall, cfg.WriteTimeout, requests, handler),
		ReadHeaderTimeout: min(10*time.Second, cfg.ReadTimeout),
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// The server's own complaints (TLS handshakes, bad requests) go to
		// the log stream as warnings, not to the process's stderr unframed.
		ErrorLog: stdlog.New(warnWriter{log.With().Str("source", "net/http").Logger()}, "", 0),
	}
	if cfg.PublicURL == "" && !loopback(tcp.Addr()) {
		log.Warn().Str("addr", tcp.Addr().String()).Msg("listening beyond loopback without --public-url: SCIM Location headers and meta.location follow each request's Host header; set --public-url to the address IdPs use")
	}
	// On a store shared with other nodes, follow their writes: the role
	// index and the credential cache stay exact, and the node is ready
	// only once it has caught up (and while it keeps up).
	if err := db.CatchUp(); err != nil {
		return fmt.Errorf("catch up with the store: %w", err)
	}
	go follow(ctx, db, log, &following, stop)
	// user.effective_roles.changed: derived from the loaded index, stopped
	// once requests have drained and before the store closes.
	deriver := roles.StartDeriver(db, index, roles.DeriverOptions{OnError: func(err error) {
		log.Warn().Err(err).Msg("deriving effective-role changes failed; retrying")
	}})
	defer deriver.Stop() // on an early return; Stop is idempotent
	deriving.Store(deriver)
	serveErr := make(chan error, 1)
	go func() {
		if useTLS {
			serveErr <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			serveErr <- srv.Serve(ln)
		}
	}()
	ready.Store(true)
	log.Info().Str("addr", ln.Addr().String()).Bool("tls", useTLS).Str("data", cfg.Data).Str("version", version).Msg("rolecall listening")
	if listening != nil {
		listening <- ln.Addr().String()
	}

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause // the node must restart (it fell too far behind): shut down, then say why
	} else {
		err = nil
	}
	log.Info().Msg("shutting down: draining in-flight requests")
	ready.Store(false)
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancelShutdown()
	shutdownErr := srv.Shutdown(shutdownCtx)
	stopStreams()
	<-streamsDone
	deriver.Stop()
	st := db.Stats()
	log.Info().Uint64("commits", st.Commits).Uint64("writes", st.Writes).Uint64("failed_writes", st.FailedWrites).
		Dur("commit_time", st.CommitTime).Dur("apply_time", st.ApplyTime).Dur("gather_time", st.GatherTime).Int64("pages_written", st.PagesWritten).Uint64("revision", st.Revision).Msg("store write statistics")
	if err := closeDB(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	if err != nil {
		return err
	}
	log.Info().Msg("stopped cleanly")
	return nil
}

// follow keeps this node up to date with the writes of the other nodes
// sharing its store (a no-op on bbolt). While catching up fails (the
// database is unreachable) the node reports not ready; a node that fell
// behind further than the store keeps changes for cannot replay them and
// stops, to be restarted with a fresh load.
func follow(ctx context.Context, db *store.DB, log zerolog.Logger, following *atomic.Bool, stop context.CancelCauseFunc) {
	for ctx.Err() == nil {
		err := db.Follow(ctx)
		switch {
		case err == nil:
			return
		case errors.Is(err, store.ErrChangesPruned):
			log.Error().Err(err).Msg("this node fell too far behind the others to catch up; stopping so that it restarts with a fresh load")
			stop(err)
			return
		}
		if following.Swap(false) {
			log.Warn().Err(err).Msg("following the other nodes' writes failed; not ready until it works again")
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		if db.CatchUp() == nil && !following.Swap(true) {
			log.Info().Msg("following the other nodes' writes again")
		}
	}
}

// loopback reports whether addr is a loopback address, reachable only from
// this machine.
func loopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// warnWriter turns the lines of a standard library logger into warnings.
type warnWriter struct{ log zerolog.Logger }

func (w warnWriter) Write(p []byte) (int, error) {
	w.log.Warn().Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}
