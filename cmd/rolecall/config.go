package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// config is everything `rolecall serve` can be told. Every flag has an env twin
// ROLECALL_<NAME>; a flag given on the command line wins over the env.
type config struct {
	Addr            string
	Data            string
	PublicURL       string
	MaxBody         int64
	LogLevel        zerolog.Level
	LogFormat       string
	ShutdownTimeout time.Duration
	// AdminToken comes only from ROLECALL_ADMIN_TOKEN: a flag would show the
	// secret in `ps` output.
	AdminToken string
	// GOGCSet: the operator chose GOGC, so serve leaves the collector alone.
	GOGCSet bool
}

const defaultMaxBody = 8 << 20

// parseServeConfig reads flags and env and validates everything, reporting
// every problem at once.
func parseServeConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("rolecall serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (env ROLECALL_ADDR)")
	data := fs.String("data", "./rolecall-data", "data directory, created if missing; the bbolt file lives inside (env ROLECALL_DATA)")
	publicURL := fs.String("public-url", "", "externally visible base URL, e.g. https://rolecall.example.com (env ROLECALL_PUBLIC_URL); default: derived from each request")
	maxBody := fs.String("max-body", "8MiB", "largest accepted request body, bytes or KiB/MiB (env ROLECALL_MAX_BODY)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error (env ROLECALL_LOG_LEVEL)")
	logFormat := fs.String("log-format", "json", "json or console (env ROLECALL_LOG_FORMAT)")
	shutdown := fs.Duration("shutdown-timeout", 30*time.Second, "how long in-flight requests get on SIGTERM (env ROLECALL_SHUTDOWN_TIMEOUT)")
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
	fromEnv("addr", addr)
	fromEnv("data", data)
	fromEnv("public-url", publicURL)
	fromEnv("max-body", maxBody)
	fromEnv("log-level", logLevel)
	fromEnv("log-format", logFormat)
	fromEnv("shutdown-timeout", &shutdownStr)

	cfg := config{Addr: *addr, Data: *data, PublicURL: strings.TrimRight(*publicURL, "/"), LogFormat: *logFormat, AdminToken: getenv("ROLECALL_ADMIN_TOKEN"), GOGCSet: getenv("GOGC") != ""}
	var problems []error
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		problems = append(problems, fmt.Errorf("addr %q: %v", cfg.Addr, err))
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
	if t := cfg.AdminToken; t != "" && len(t) < 32 {
		problems = append(problems, errors.New("ROLECALL_ADMIN_TOKEN: must be at least 32 characters (use a random secret)"))
	}
	if len(problems) > 0 {
		return cfg, fmt.Errorf("invalid configuration:\n  %w", errors.Join(problems...))
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
