package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/rolecall/rolecall/conformance"
)

// conformanceConfig is everything `rolecall conformance` can be told.
type conformanceConfig struct {
	URL           string         // server base, scheme://host[:port]
	APIKey        string         // Management API key with every scope
	SCIMURL       string         // an existing connection's SCIM endpoint, instead of fresh ones
	Token         string         // a token of that connection with every SCIM scope
	ReadOnlyToken string         // optional: a get:users/get:groups token of that connection
	ConnectionID  string         // that connection's id; derived from SCIMURL when it is Rolecall's
	Run           *regexp.Regexp // selects scenarios by name; nil runs them all
	Keep          bool           // keep the fresh connections for inspection
	// ChangeTenantSettings lets scenarios flip tenant-wide settings; only for
	// a server that serves nothing but the test run.
	ChangeTenantSettings bool
}

// scimEndpointPath is the path of a Rolecall SCIM endpoint, from which the
// connection id of --scim-url is derived.
var scimEndpointPath = regexp.MustCompile(`/scim/v2/connections/(con_[A-Za-z0-9]+)/?$`)

// parseConformanceConfig reads flags and env and reports every problem at once.
func parseConformanceConfig(args []string, getenv func(string) string, stderr io.Writer) (conformanceConfig, error) {
	fs := flag.NewFlagSet("rolecall conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: rolecall conformance --url http://127.0.0.1:8080 [flags]

Replays the recorded SCIM and role scenarios (package conformance) against a
running server and prints one line per scenario. By default it creates a fresh
connection with a full and a read-only SCIM token, and a second ("foreign")
connection, through the Management API, and deletes them afterwards. With
--scim-url and --token it tests that existing connection instead, deleting what
each scenario created. Roles, organizations and API keys the role scenarios
create are always deleted. Scenarios that flip tenant-wide settings run only
with --change-tenant-settings. Exit status: 0 when nothing failed, 1 when a
scenario failed (or the setup did), 2 on a usage error.

Flags:
`)
		fs.PrintDefaults()
	}
	var c conformanceConfig
	fs.StringVar(&c.URL, "url", "", "the server's base URL, scheme://host[:port] (required)")
	fs.StringVar(&c.APIKey, "api-key", "", "a Management API key with every scope (default: env ROLECALL_ADMIN_TOKEN, which keeps it out of ps output)")
	fs.StringVar(&c.SCIMURL, "scim-url", "", "test this existing connection's SCIM endpoint instead of creating one")
	fs.StringVar(&c.Token, "token", "", "a SCIM token of --scim-url with every scope (default: env ROLECALL_SCIM_TOKEN)")
	fs.StringVar(&c.ReadOnlyToken, "read-only-token", "", "optional: a get:users/get:groups SCIM token of --scim-url")
	fs.StringVar(&c.ConnectionID, "connection-id", "", "the id of --scim-url's connection (default: read from the URL)")
	run := fs.String("run", "", "run only the scenarios whose name matches this regular expression, e.g. '^roles/'")
	fs.BoolVar(&c.Keep, "keep", false, "keep the fresh connections instead of deleting them")
	fs.BoolVar(&c.ChangeTenantSettings, "change-tenant-settings", false,
		"let scenarios flip tenant-wide settings (nested group roles) and turn them back; while one is on every user's answers change, so use it only on a server dedicated to the test")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.APIKey == "" {
		c.APIKey = getenv("ROLECALL_ADMIN_TOKEN")
	}
	if c.Token == "" {
		c.Token = getenv("ROLECALL_SCIM_TOKEN")
	}
	c.URL = strings.TrimRight(c.URL, "/")
	c.SCIMURL = strings.TrimRight(c.SCIMURL, "/")

	var problems []error
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Errorf("unexpected arguments: %v", fs.Args()))
	}
	if u, err := url.Parse(c.URL); c.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		problems = append(problems, fmt.Errorf("url %q: want the server's base URL, like http://127.0.0.1:8080", c.URL))
	}
	if c.SCIMURL == "" {
		if c.APIKey == "" {
			problems = append(problems, errors.New("api-key: required to create fresh connections (or set ROLECALL_ADMIN_TOKEN, or test an existing connection with --scim-url and --token)"))
		}
		if c.Token != "" || c.ReadOnlyToken != "" || c.ConnectionID != "" {
			problems = append(problems, errors.New("token, read-only-token and connection-id: only with --scim-url"))
		}
	} else {
		if u, err := url.Parse(c.SCIMURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, fmt.Errorf("scim-url %q: want a SCIM base URL, like %s/scim/v2/connections/con_…", c.SCIMURL, c.URL))
		}
		if c.Token == "" {
			problems = append(problems, errors.New("token: required with --scim-url (or set ROLECALL_SCIM_TOKEN)"))
		}
		if m := scimEndpointPath.FindStringSubmatch(c.SCIMURL); c.ConnectionID == "" && m != nil {
			c.ConnectionID = m[1]
		}
	}
	if *run != "" {
		re, err := regexp.Compile(*run)
		if err != nil {
			problems = append(problems, fmt.Errorf("run %q: %v", *run, err))
		}
		c.Run = re
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("invalid arguments:\n  %w", errors.Join(problems...))
	}
	return c, nil
}

// runConformance is `rolecall conformance`: it returns the exit code.
func runConformance(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseConformanceConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	var names []string
	for _, s := range conformance.Scenarios() {
		if cfg.Run == nil || cfg.Run.MatchString(s.Name) {
			names = append(names, s.Name)
		}
	}
	if len(names) == 0 {
		fmt.Fprintf(stderr, "rolecall conformance: no scenario matches --run %q\n", cfg.Run)
		return 2
	}

	api := &mgmtClient{base: cfg.URL + "/api/v2", key: cfg.APIKey, http: &http.Client{Timeout: 60 * time.Second}}
	target, teardown, err := conformanceTarget(ctx, cfg, api, stdout)
	defer func() {
		if err := teardown(context.WithoutCancel(ctx)); err != nil {
			fmt.Fprintln(stderr, "rolecall conformance: cleanup:", err)
		}
	}()
	if err != nil {
		fmt.Fprintln(stderr, "rolecall conformance: setup:", err)
		return 1
	}

	results := conformance.Check(ctx, target, names...)
	var passed, failed, skipped int
	for _, r := range results {
		fmt.Fprintln(stdout, r.String())
		switch {
		case r.Skipped:
			skipped++
		case r.Passed:
			passed++
		default:
			failed++
		}
	}
	fmt.Fprintf(stdout, "\n%d passed, %d failed, %d skipped (%d scenarios)\n", passed, failed, skipped, len(results))
	if failed > 0 || ctx.Err() != nil {
		return 1
	}
	return 0
}

// conformanceTarget builds the Target: fresh connections made through the
// Management API, or the existing one of --scim-url. teardown deletes what it
// created and is never nil.
func conformanceTarget(ctx context.Context, cfg conformanceConfig, api *mgmtClient, stdout io.Writer) (conformance.Target, func(context.Context) error, error) {
	var created []string // connection ids, deleted by teardown
	teardown := func(ctx context.Context) error {
		if cfg.Keep {
			if len(created) > 0 {
				fmt.Fprintf(stdout, "kept the connections %s\n", strings.Join(created, ", "))
			}
			return nil
		}
		var errs []error
		for _, id := range created {
			if err := api.do(ctx, http.MethodDelete, "/connections/"+id, nil, http.StatusNoContent, nil); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	target := conformance.Target{
		BaseURL: cfg.SCIMURL, Token: cfg.Token, ReadOnlyToken: cfg.ReadOnlyToken, ConnectionID: cfg.ConnectionID,
		Client: api.http, MayChangeTenantSettings: cfg.ChangeTenantSettings,
		// Roles, organizations and API keys are tenant-wide: always delete what a
		// scenario created. (On fresh connections the users and groups would go
		// with the connection anyway.)
		Cleanup: true,
	}
	if cfg.APIKey != "" {
		target.ManagementURL, target.APIKey = api.base, api.key
	}
	newConnection := func(role string) (id, endpoint string, err error) {
		var con struct {
			ID string `json:"id"`
		}
		name := "conformance-" + role + "-" + randomSuffix()
		if err := api.do(ctx, http.MethodPost, "/connections", map[string]any{"name": name, "strategy": "scim"}, http.StatusCreated, &con); err != nil {
			return "", "", err
		}
		created = append(created, con.ID)
		var scim struct {
			Endpoint string `json:"scim_endpoint"`
		}
		err = api.do(ctx, http.MethodPost, "/connections/"+con.ID+"/scim-configuration", map[string]any{}, http.StatusCreated, &scim)
		return con.ID, scim.Endpoint, err
	}
	newToken := func(connectionID string, scopes ...string) (string, error) {
		body := map[string]any{}
		if len(scopes) > 0 {
			body["scopes"] = scopes
		}
		var tok struct {
			Token string `json:"token"`
		}
		err := api.do(ctx, http.MethodPost, "/connections/"+connectionID+"/scim-configuration/tokens", body, http.StatusCreated, &tok)
		return tok.Token, err
	}

	var err error
	if cfg.SCIMURL == "" {
		if target.ConnectionID, target.BaseURL, err = newConnection("self"); err != nil {
			return target, teardown, err
		}
		if target.Token, err = newToken(target.ConnectionID); err != nil {
			return target, teardown, err
		}
		if target.ReadOnlyToken, err = newToken(target.ConnectionID, "get:users", "get:groups"); err != nil {
			return target, teardown, err
		}
	}
	if cfg.APIKey != "" {
		// A second connection for the isolation scenarios, next to either.
		var foreignID string
		if foreignID, target.ForeignBaseURL, err = newConnection("foreign"); err != nil {
			return target, teardown, err
		}
		if target.ForeignToken, err = newToken(foreignID); err != nil {
			return target, teardown, err
		}
	}
	return target, teardown, nil
}

func randomSuffix() string {
	b := make([]byte, 5)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// mgmtClient calls the Management API with one key.
type mgmtClient struct {
	base, key string
	http      *http.Client
}

// do sends body as JSON, expects the status want, and decodes the answer into
// out when out is not nil. Any other answer is an error quoting the API's.
func (c *mgmtClient) do(ctx context.Context, method, path string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, bytes.TrimSpace(raw))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: the answer is not JSON: %w", method, path, err)
		}
	}
	return nil
}
