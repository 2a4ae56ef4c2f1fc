package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
)

func toJSON(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

func TestConfigValidationReportsEveryProblem(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "--addr", "nonsense", "--max-body", "lots", "--log-level", "loud", "--max-connections", "3", "--scim-rate", "-1"},
		func(k string) string {
			return map[string]string{"ROLECALL_LOG_FORMAT": "xml", "ROLECALL_ADMIN_TOKEN": "short", "ROLECALL_READ_TIMEOUT": "soon", "ROLECALL_API_BURST": "0"}[k]
		}, io.Discard, &stderr)
	if code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	for _, want := range []string{"addr", "max-body", "log-level", "log-format", "ROLECALL_ADMIN_TOKEN", "read-timeout", "max-connections", "scim-rate", "api-burst"} {
		found := false
		for _, l := range lines[1:] {
			// Each problem on its own indented line.
			found = found || strings.HasPrefix(l, "  ") && strings.Contains(l, want)
		}
		if !found {
			t.Errorf("error output has no indented line about %s:\n%s", want, stderr.String())
		}
	}
}

func TestFlagsWinOverEnvTwins(t *testing.T) {
	cfg, err := parseServeConfig([]string{"--addr", "127.0.0.1:9999"}, func(k string) string {
		return map[string]string{"ROLECALL_ADDR": "127.0.0.1:1111", "ROLECALL_DATA": "/tmp/from-env", "ROLECALL_MAX_BODY": "1MiB",
			"ROLECALL_READ_TIMEOUT": "5s", "ROLECALL_MAX_CONNECTIONS": "64", "ROLECALL_SCIM_RATE": "0", "ROLECALL_API_BURST": "7"}[k]
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9999" || cfg.Data != "/tmp/from-env" || cfg.MaxBody != 1<<20 {
		t.Errorf("config %+v: flag must win over env, env must fill the rest", cfg)
	}
	if cfg.ReadTimeout != 5*time.Second || cfg.MaxConnections != 64 || cfg.SCIMRate != 0 || cfg.APIBurst != 7 || cfg.APIRate != 1000 || cfg.WriteTimeout != 2*time.Minute {
		t.Errorf("config %+v: the env twins of the limits were not read, or the defaults are off", cfg)
	}
}

func TestFirstStartPrintsABootstrapKeyOnce(t *testing.T) {
	dir := t.TempDir()
	start := func() string {
		var stdout syncBuffer
		ctx, cancel := context.WithCancel(context.Background())
		listening := make(chan string, 1)
		done := make(chan error, 1)
		cfg := config{Addr: "127.0.0.1:0", Data: dir, MaxBody: defaultMaxBody, LogFormat: "json", ShutdownTimeout: time.Second}
		go func() { done <- serve(ctx, cfg, &stdout, io.Discard, listening) }()
		addr := <-listening
		out := stdout.String()
		if key := extractKey(out); key != "" {
			resp, _ := call(t, "GET", "http://"+addr+"/api/v2/connections", key, nil)
			if resp.StatusCode != 200 {
				t.Errorf("bootstrap key does not work: %d", resp.StatusCode)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return out
	}
	if first := start(); extractKey(first) == "" {
		t.Fatalf("first start printed no key:\n%s", first)
	}
	if second := start(); extractKey(second) != "" {
		t.Errorf("second start printed a key again:\n%s", second)
	}
}

func extractKey(out string) string {
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, "rck_") {
			return f
		}
	}
	return ""
}

func TestHealthAndReadiness(t *testing.T) {
	s := startServer(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(s.URL + path)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("GET %s: %v %v", path, resp, err)
		}
	}
}

// TestAccessLogOneLinePerRequestWithoutSecrets checks the log stream: one
// access line per request, with the request id the client sees, and no token.
func TestAccessLogOneLinePerRequestWithoutSecrets(t *testing.T) {
	s := startServer(t)
	conID, base := s.connection(t, "acme")
	secret := s.scimToken(t, conID)
	req, _ := http.NewRequest("GET", base+"/Users", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("X-Request-Id", "trace-me-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "trace-me-42" {
		t.Errorf("response request id %q, want the client's", got)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s.logs.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		if line["message"] == "request" && line["request_id"] == "trace-me-42" {
			lines = append(lines, line)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("access lines for the request: %d, want 1", len(lines))
	}
	if l := lines[0]; l["status"] != float64(200) || l["connection_id"] != conID || l["scim_token_id"] == nil || l["path"] == nil {
		t.Errorf("access line %v lacks status, connection_id, scim_token_id or path", l)
	}
	if all := s.logs.String(); strings.Contains(all, secret) || strings.Contains(all, testAdminToken) {
		t.Error("a secret reached the log")
	}
}

// TestGracefulShutdownFinishesInFlightWrites holds a SCIM POST open (its body
// is still arriving) while the server is told to stop: the request must still
// be served and its write must be on disk after the store closed.
func TestGracefulShutdownFinishesInFlightWrites(t *testing.T) {
	s := startServer(t)
	conID, base := s.connection(t, "acme")
	secret := s.scimToken(t, conID)

	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", base+"/Users", pr)
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/scim+json")
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		resp.Body.Close()
		done <- result{status: resp.StatusCode}
	}()
	_, _ = pw.Write([]byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],`))
	time.Sleep(100 * time.Millisecond) // the request is now in flight
	s.stop()
	time.Sleep(100 * time.Millisecond) // shutdown has begun: new connections are refused
	if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(s.URL, "http://"), 200*time.Millisecond); err == nil {
		conn.Close()
		t.Error("server still accepts connections while draining")
	}
	_, _ = pw.Write([]byte(`"userName":"in-flight"}`))
	pw.Close()
	res := <-done
	if res.err != nil || res.status != 201 {
		t.Fatalf("in-flight request: status %d, err %v; want 201", res.status, res.err)
	}
	if err := s.Shutdown(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	// The store was closed cleanly and holds the write.
	db, err := bboltdb.Open(s.Data, store.Options{})
	if err != nil {
		t.Fatalf("reopen after shutdown: %v", err)
	}
	defer db.Close()
	if err := db.View(func(r *store.ReadTx) error { _, err := r.UserByName(conID, "in-flight"); return err }); err != nil {
		t.Errorf("in-flight write lost: %v", err)
	}
	if err := db.Verify(); err != nil {
		t.Error(err)
	}
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

// TestTheBinaryDoesNotLinkPackageTesting: the server binary must not carry
// the test framework (its flags, its init work) because a library it uses
// happens to offer test helpers.
func TestTheBinaryDoesNotLinkPackageTesting(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on the PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "testing" {
			t.Fatal("cmd/rolecall depends on package testing")
		}
	}
}

func TestHealthcheckExitsZeroOnlyForAHealthyServer(t *testing.T) {
	s := startServer(t)
	addr := strings.TrimPrefix(s.URL, "http://")
	_, port, _ := net.SplitHostPort(addr)
	env := func(k string) string { return map[string]string{"ROLECALL_ADDR": "0.0.0.0:" + port}[k] }
	if code := run(context.Background(), []string{"healthcheck"}, env, io.Discard, io.Discard); code != 0 {
		t.Errorf("healthcheck against a running server (wildcard ROLECALL_ADDR): exit %d, want 0", code)
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"healthcheck", "--url", s.URL + "/nowhere"}, env, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), "404") {
		t.Errorf("healthcheck of a 404: exit %d, %q; want 1 naming the status", code, stderr.String())
	}
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if code := run(context.Background(), []string{"healthcheck", "--timeout", "1s"}, env, io.Discard, io.Discard); code != 1 {
		t.Errorf("healthcheck with the server stopped: exit %d, want 1", code)
	}
}

// TestTheBinaryBuildsStatic: the container image copies a static binary
// into a distroless base; the Dockerfile's build must work without cgo.
func TestTheBinaryBuildsStatic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on the PATH")
	}
	out := filepath.Join(t.TempDir(), "rolecall")
	cmd := exec.Command(goTool, "build", "-trimpath", "-ldflags", "-s -w -X main.version=test", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, msg)
	}
	got, err := exec.Command(out, "version").Output()
	if err != nil || strings.TrimSpace(string(got)) != "rolecall test" {
		t.Fatalf("the static binary's version: %q, %v", got, err)
	}
}
