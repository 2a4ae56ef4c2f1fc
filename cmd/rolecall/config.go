package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/rolecall/rolecall/roles/streams"
	"github.com/rolecall/rolecall/scim"
)

// config is everything `rolecall serve` can be told. Every flag has an env twin
// ROLECALL_<NAME>; a flag given on the command line wins over the env.
type config struct {
	Addr string
	Data string
	// Store, when set, is a postgres:// URL: the store lives in PostgreSQL
	// (several nodes may share it) instead of the bbolt file in Data.
	Store           string
	PublicURL       string
	MaxBody         int64
	LogLevel        zerolog.Level
	LogFormat       string
	ShutdownTimeout time.Duration
	// ReadTimeout bounds reading one request, headers and body: a client
	// that stalls mid-body is answered 408 or dropped when it passes.
	ReadTimeout time.Duration
	// WriteTimeout bounds serving one request, from its headers to the last
	// byte of the answer; sized for the largest page to a slow reader.
	WriteTimeout time.Duration
	// WriteStall bounds one write of an answer: a client that stops taking
	// bytes (holding a heavy-request slot and a page in memory) is cut off
	// after it rather than after the whole WriteTimeout.
	WriteStall  time.Duration
	IdleTimeout time.Duration
	// MaxConnections caps open connections; beyond it a new connection is
	// answered 503 and closed, so a flood is refused instead of exhausting
	// file descriptors.
	MaxConnections int
	// HeavyRequests is how many heavy requests (lists, searches, Bulk, large
	// writes) run at once across both surfaces; the rest wait up to
	// HeavyWait, then get 503.
	HeavyRequests int
	HeavyWait     time.Duration
	// Rate limits per credential (SCIM token, API key): sustained requests
	// per second and burst. A rate of 0 turns the limit off.
	SCIMRate, APIRate   float64
	SCIMBurst, APIBurst int
	// AdminToken comes only from ROLECALL_ADMIN_TOKEN: a flag would show the
	// secret in `ps` output.
	AdminToken string
	// TLSCert and TLSKey, both set, make the server speak HTTPS itself
	// (PEM files); both empty, plain HTTP (behind a TLS-terminating proxy).
	TLSCert, TLSKey string
	// GOGCSet: the operator chose GOGC, so serve leaves the collector alone.
	GOGCSet bool
	// AllowHTTPWebhooks lets event streams deliver to http:// endpoints and
	// to addresses that are not globally routable (local receivers, tests);
	// otherwise only https:// ones on public addresses.
	AllowHTTPWebhooks bool
	// StreamDisableAfter is how long an event stream's deliveries may keep
	// failing before the stream is disabled.
	StreamDisableAfter time.Duration
	// StreamLease is how long a node's delivery lease on a stream lasts
	// unrenewed: how soon another node takes over after the holder dies.
	StreamLease time.Duration
}

// Bounds of --event-stream-lease: renewed every third of it, a lease much
// shorter than 2s is lost to a slow store round trip; longer than 10m leaves
// a dead node's streams undelivered for too long.
const (
	minStreamLease = 2 * time.Second
	maxStreamLease = 10 * time.Minute
)

const defaultMaxBody = 8 << 20

// maxHeaderBytes bounds a request's header block, the request line
// included: a 64 KiB filter fits in a GET query even fully escaped.
const maxHeaderBytes = 256 << 10

// defaultWriteStall is WriteStall's default: a reading client takes a 64
// KiB chunk in far less.
const defaultWriteStall = 10 * time.Second

// defaultMaxConnections sizes the connection cap for the machine: a
// connection costs a goroutine and buffers (~20 KiB), so the cap is about
// memory and file descriptors, not CPU, but a bigger machine serves more.
func defaultMaxConnections() int { return max(1024, 512*runtime.NumCPU()) }

// withDefaults fills the limits a config built in code (tests) left at zero.
// Rate limits stay off at zero: that is their documented meaning.
func (c config) withDefaults() config {
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 60 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 2 * time.Minute
	}
	if c.WriteStall <= 0 {
		c.WriteStall = defaultWriteStall
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 2 * time.Minute
	}
	if c.HeavyRequests <= 0 {
		c.HeavyRequests = scim.DefaultHeavyRequests
	}
	if c.HeavyWait <= 0 {
		c.HeavyWait = scim.DefaultHeavyWait
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = defaultMaxConnections()
	}
	if c.StreamDisableAfter <= 0 {
		c.StreamDisableAfter = streams.DefaultDisableAfter
	}
	if c.StreamLease <= 0 {
		c.StreamLease = streams.DefaultLeaseTTL
	}
	return c
}

// parseServeConfig reads flags and env and validates everything, reporting
// every problem at once.
func parseServeConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("rolecall serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (env ROLECALL_ADDR)")
	data := fs.String("data", "./rolecall-data", "data directory, created if missing; the bbolt file lives inside (env ROLECALL_DATA)")
	storeURL := fs.String("store", "", "postgres://user:pass@host/db: keep the store in PostgreSQL, shared by any number of nodes, instead of --data (env ROLECALL_STORE)")
	publicURL := fs.String("public-url", "", "externally visible base URL, e.g. https://rolecall.example.com (env ROLECALL_PUBLIC_URL); default: derived from each request")
	maxBody := fs.String("max-body", "8MiB", "largest accepted request body, bytes or KiB/MiB (env ROLECALL_MAX_BODY)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error (env ROLECALL_LOG_LEVEL)")
	logFormat := fs.String("log-format", "json", "json or console (env ROLECALL_LOG_FORMAT)")
	shutdown := fs.Duration("shutdown-timeout", 30*time.Second, "how long in-flight requests get on SIGTERM (env ROLECALL_SHUTDOWN_TIMEOUT)")
	tlsCert := fs.String("tls-cert", "", "PEM certificate chain; with --tls-key the server speaks HTTPS (env ROLECALL_TLS_CERT)")
	tlsKey := fs.String("tls-key", "", "PEM private key of --tls-cert (env ROLECALL_TLS_KEY)")
	readTimeout := fs.Duration("read-timeout", 60*time.Second, "longest time to read one request, headers and body; a stalled body is answered 408 (env ROLECALL_READ_TIMEOUT)")
	writeTimeout := fs.Duration("write-timeout", 2*time.Minute, "longest time to serve one request, to the last byte of its answer (env ROLECALL_WRITE_TIMEOUT)")
	writeStall := fs.Duration("write-stall-timeout", defaultWriteStall, "longest wait for a client to take the next bytes of an answer (env ROLECALL_WRITE_STALL_TIMEOUT)")
	idleTimeout := fs.Duration("idle-timeout", 2*time.Minute, "how long an idle keep-alive connection stays open (env ROLECALL_IDLE_TIMEOUT)")
	heavyRequests := fs.Int("heavy-requests", scim.DefaultHeavyRequests, "lists, searches, Bulk and large writes served at once; each holds a page in memory (env ROLECALL_HEAVY_REQUESTS)")
	heavyWait := fs.Duration("heavy-wait", scim.DefaultHeavyWait, "how long a list, search, Bulk or large write waits for a slot before 503 (env ROLECALL_HEAVY_WAIT)")
	maxConns := fs.Int("max-connections", defaultMaxConnections(), "open connections at most; beyond it new ones get 503 (env ROLECALL_MAX_CONNECTIONS)")
	scimRate := fs.Float64("scim-rate", 100, "requests per second per SCIM token, sustained; 0 turns the limit off (env ROLECALL_SCIM_RATE)")
	scimBurst := fs.Int("scim-burst", 1000, "requests per SCIM token allowed in a burst (env ROLECALL_SCIM_BURST)")
	apiRate := fs.Float64("api-rate", 1000, "requests per second per API key, sustained; 0 turns the limit off (env ROLECALL_API_RATE)")
	apiBurst := fs.Int("api-burst", 5000, "requests per API key allowed in a burst (env ROLECALL_API_BURST)")
	allowHTTPWebhooks := fs.Bool("allow-http-webhooks", false, "let event streams deliver to http:// endpoints and to loopback, private and link-local addresses, for local receivers and tests; otherwise https:// only, to globally routable addresses only (env ROLECALL_ALLOW_HTTP_WEBHOOKS=true)")
	streamDisableAfter := fs.Duration("event-stream-disable-after", streams.DefaultDisableAfter, "how long an event stream's deliveries may keep failing before the stream is disabled (env ROLECALL_EVENT_STREAM_DISABLE_AFTER)")
	streamLease := fs.Duration("event-stream-lease", streams.DefaultLeaseTTL, fmt.Sprintf("how long a node's delivery lease on an event stream lasts unrenewed, so how soon another node takes over after it dies; %s to %s (env ROLECALL_EVENT_STREAM_LEASE)", minStreamLease, maxStreamLease))
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	// env fills in what the command line did not say.
	fromEnv := func(name string, p *string) {
		if v := getenv("ROLECALL_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); v != "" && !set[name] {
			*p = v
		}
	}
	shutdownStr := shutdown.String()
	durations := map[string]*string{}
	for name, d := range map[string]*time.Duration{"read-timeout": readTimeout, "write-timeout": writeTimeout, "write-stall-timeout": writeStall, "idle-timeout": idleTimeout, "heavy-wait": heavyWait, "event-stream-disable-after": streamDisableAfter, "event-stream-lease": streamLease} {
		v := d.String()
		durations[name] = &v
		fromEnv(name, &v)
	}
	numbers := map[string]*string{}
	for name, v := range map[string]string{
		"max-connections": strconv.Itoa(*maxConns), "heavy-requests": strconv.Itoa(*heavyRequests),
		"scim-rate": strconv.FormatFloat(*scimRate, 'g', -1, 64), "scim-burst": strconv.Itoa(*scimBurst),
		"api-rate": strconv.FormatFloat(*apiRate, 'g', -1, 64), "api-burst": strconv.Itoa(*apiBurst),
	} {
		numbers[name] = &v
		fromEnv(name, &v)
	}
	fromEnv("addr", addr)
	fromEnv("data", data)
	fromEnv("public-url", publicURL)
	fromEnv("store", storeURL)
	fromEnv("max-body", maxBody)
	fromEnv("log-level", logLevel)
	fromEnv("log-format", logFormat)
	fromEnv("shutdown-timeout", &shutdownStr)
	fromEnv("tls-cert", tlsCert)
	fromEnv("tls-key", tlsKey)
	allowHTTPStr := strconv.FormatBool(*allowHTTPWebhooks)
	fromEnv("allow-http-webhooks", &allowHTTPStr)

	cfg := config{Addr: *addr, Data: *data, PublicURL: strings.TrimRight(*publicURL, "/"), LogFormat: *logFormat, AdminToken: getenv("ROLECALL_ADMIN_TOKEN"), GOGCSet: getenv("GOGC") != ""}
	var problems []error
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		problems = append(problems, fmt.Errorf("addr %q: %v", cfg.Addr, err))
	}
	cfg.Store = *storeURL
	if cfg.Store != "" && !strings.HasPrefix(cfg.Store, "postgres://") && !strings.HasPrefix(cfg.Store, "postgresql://") {
		problems = append(problems, fmt.Errorf("store %q: want a postgres:// URL (without --store, the store is the bbolt file in --data)", redactDSN(cfg.Store)))
	}
	if cfg.Data == "" {
		problems = append(problems, errors.New("data: must not be empty"))
	}
	if cfg.PublicURL != "" {
		if u, err := url.Parse(cfg.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			problems = append(problems, fmt.Errorf("public-url %q: want scheme://host[:port] with no path", cfg.PublicURL))
		}
	}
	if n, err := parseBytes(*maxBody); err != nil || n < 1024 {
		problems = append(problems, fmt.Errorf("max-body %q: want a size of at least 1KiB, like 8MiB or 1048576", *maxBody))
	} else {
		cfg.MaxBody = n
	}
	if lvl, err := zerolog.ParseLevel(*logLevel); err != nil || lvl == zerolog.NoLevel {
		problems = append(problems, fmt.Errorf("log-level %q: want debug, info, warn or error", *logLevel))
	} else {
		cfg.LogLevel = lvl
	}
	if cfg.LogFormat != "json" && cfg.LogFormat != "console" {
		problems = append(problems, fmt.Errorf("log-format %q: want json or console", cfg.LogFormat))
	}
	if d, err := time.ParseDuration(shutdownStr); err != nil || d <= 0 {
		problems = append(problems, fmt.Errorf("shutdown-timeout %q: want a positive duration like 30s", shutdownStr))
	} else {
		cfg.ShutdownTimeout = d
	}
	for _, d := range []struct {
		name string
		into *time.Duration
	}{{"read-timeout", &cfg.ReadTimeout}, {"write-timeout", &cfg.WriteTimeout}, {"write-stall-timeout", &cfg.WriteStall}, {"idle-timeout", &cfg.IdleTimeout}, {"heavy-wait", &cfg.HeavyWait}, {"event-stream-disable-after", &cfg.StreamDisableAfter}} {
		v, err := time.ParseDuration(*durations[d.name])
		if err != nil || v <= 0 {
			problems = append(problems, fmt.Errorf("%s %q: want a positive duration like 60s", d.name, *durations[d.name]))
		}
		*d.into = v
	}
	if v, err := time.ParseDuration(*durations["event-stream-lease"]); err != nil || v < minStreamLease || v > maxStreamLease {
		problems = append(problems, fmt.Errorf("event-stream-lease %q: want a duration from %s to %s", *durations["event-stream-lease"], minStreamLease, maxStreamLease))
	} else {
		cfg.StreamLease = v
	}
	if n, err := strconv.Atoi(*numbers["max-connections"]); err != nil || n < 16 {
		problems = append(problems, fmt.Errorf("max-connections %q: want a whole number of at least 16", *numbers["max-connections"]))
	} else {
		cfg.MaxConnections = n
	}
	if n, err := strconv.Atoi(*numbers["heavy-requests"]); err != nil || n < 1 {
		problems = append(problems, fmt.Errorf("heavy-requests %q: want a whole number of at least 1", *numbers["heavy-requests"]))
	} else {
		cfg.HeavyRequests = n
	}
	for _, l := range []struct {
		rate, burst string
		r           *float64
		b           *int
	}{{"scim-rate", "scim-burst", &cfg.SCIMRate, &cfg.SCIMBurst}, {"api-rate", "api-burst", &cfg.APIRate, &cfg.APIBurst}} {
		if r, err := strconv.ParseFloat(*numbers[l.rate], 64); err != nil || r < 0 || math.IsInf(r, 0) || math.IsNaN(r) {
			problems = append(problems, fmt.Errorf("%s %q: want requests per second, 0 or more (0 turns the limit off)", l.rate, *numbers[l.rate]))
		} else {
			*l.r = r
		}
		if b, err := strconv.Atoi(*numbers[l.burst]); err != nil || b < 1 {
			problems = append(problems, fmt.Errorf("%s %q: want a whole number of at least 1", l.burst, *numbers[l.burst]))
		} else {
			*l.b = b
		}
	}
	if b, err := strconv.ParseBool(allowHTTPStr); err != nil {
		problems = append(problems, fmt.Errorf("allow-http-webhooks %q: want true or false", allowHTTPStr))
	} else {
		cfg.AllowHTTPWebhooks = b
	}
	cfg.TLSCert, cfg.TLSKey = *tlsCert, *tlsKey
	switch {
	case (cfg.TLSCert == "") != (cfg.TLSKey == ""):
		problems = append(problems, errors.New("tls-cert and tls-key: give both (HTTPS) or neither (plain HTTP)"))
	case cfg.TLSCert != "":
		if _, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey); err != nil {
			problems = append(problems, fmt.Errorf("tls-cert %q, tls-key %q: %v", cfg.TLSCert, cfg.TLSKey, err))
		}
	}
	if t := cfg.AdminToken; t != "" && len(t) < 32 {
		problems = append(problems, errors.New("ROLECALL_ADMIN_TOKEN: must be at least 32 characters (use a random secret)"))
	}
	if len(problems) > 0 {
		lines := make([]string, len(problems))
		for i, p := range problems {
			lines[i] = "  " + p.Error()
		}
		return cfg, fmt.Errorf("invalid configuration:\n%s", strings.Join(lines, "\n"))
	}
	return cfg, nil
}

// parseBytes reads "8MiB", "512KiB", "1048576".
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if rest, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = strings.TrimSpace(rest), m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return n * mult, nil
}
