package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rolecall/rolecall/conformance"
	"github.com/rolecall/rolecall/conformance/conformancetest"
)

const testAdminToken = "test-admin-token-0123456789abcdef0123456789"

// testServer is `rolecall serve` running in-process on 127.0.0.1:0.
type testServer struct {
	URL     string
	Data    string
	logs    *syncBuffer
	stop    context.CancelFunc // begins a graceful shutdown, like SIGTERM
	stopped chan error
	once    sync.Once
	err     error
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServer runs serve with a fresh data directory (or cfg.Data when set)
// and stops it when the test ends. Its log stream is kept for inspection.
func startServer(t testing.TB, mutate ...func(*config)) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	s := startServerLogging(t, logs, mutate...)
	s.logs = logs
	return s
}

// startServerLogging is startServer with the log stream going to stderr.
func startServerLogging(t testing.TB, stderr io.Writer, mutate ...func(*config)) *testServer {
	t.Helper()
	cfg := config{
		Addr: "127.0.0.1:0", Data: t.TempDir(), MaxBody: defaultMaxBody, LogLevel: zerolog.InfoLevel,
		LogFormat: "json", ShutdownTimeout: 5 * time.Second, AdminToken: testAdminToken,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &testServer{Data: cfg.Data, stop: cancel, stopped: make(chan error, 1)}
	listening := make(chan string, 1)
	go func() { s.stopped <- serve(ctx, cfg, io.Discard, stderr, listening) }()
	select {
	case addr := <-listening:
		s.URL = "http://" + addr
	case err := <-s.stopped:
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Shutdown(); err != nil {
			t.Errorf("serve returned %v", err)
		}
	})
	return s
}

// Shutdown stops the server gracefully and returns what serve returned.
func (s *testServer) Shutdown() error {
	s.once.Do(func() {
		// A connection the client dialled but never used counts as active
		// for net/http's Shutdown for five seconds: close those first.
		http.DefaultClient.CloseIdleConnections()
		s.stop()
		s.err = <-s.stopped
	})
	return s.err
}

// call makes a request and decodes a JSON answer (nil when there is none).
func call(t testing.TB, method, url, token string, body any) (*http.Response, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(bytes.TrimSpace(raw)) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %s", method, url, raw)
		}
	}
	return resp, out
}

// api calls the Management API as the bootstrap admin and expects want.
func (s *testServer) api(t testing.TB, method, path string, body any, want int) map[string]any {
	t.Helper()
	resp, out := call(t, method, s.URL+"/api/v2"+path, testAdminToken, body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %v", method, path, resp.StatusCode, want, out)
	}
	return out
}

// connection creates a connection with SCIM enabled and returns its id and
// SCIM base URL.
func (s *testServer) connection(t testing.TB, name string) (id, base string) {
	t.Helper()
	c := s.api(t, "POST", "/connections", map[string]any{"name": name, "strategy": "okta"}, http.StatusCreated)
	id = c["id"].(string)
	cfg := s.api(t, "POST", "/connections/"+id+"/scim-configuration", map[string]any{}, http.StatusCreated)
	return id, cfg["scim_endpoint"].(string)
}

// scimToken issues a SCIM token for a connection, with the given scopes (all
// when none are given).
func (s *testServer) scimToken(t testing.TB, connectionID string, scopes ...string) string {
	t.Helper()
	body := map[string]any{}
	if len(scopes) > 0 {
		body["scopes"] = scopes
	}
	tok := s.api(t, "POST", "/connections/"+connectionID+"/scim-configuration/tokens", body, http.StatusCreated)
	return tok["token"].(string)
}

var connectionSeq struct {
	sync.Mutex
	n int
}

func uniqueName(prefix string) string {
	connectionSeq.Lock()
	defer connectionSeq.Unlock()
	connectionSeq.n++
	return fmt.Sprintf("%s-%d", prefix, connectionSeq.n)
}

// target is a fresh, empty connection with every kind of credential the
// conformance scenarios can use, and the Management API beside it.
func (s *testServer) target(t *testing.T) conformance.Target {
	t.Helper()
	id, base := s.connection(t, uniqueName("conformance"))
	foreignID, foreignBase := s.connection(t, uniqueName("foreign"))
	return conformance.Target{
		BaseURL:        base,
		Token:          s.scimToken(t, id),
		ReadOnlyToken:  s.scimToken(t, id, "get:users", "get:groups"),
		ForeignBaseURL: foreignBase,
		ForeignToken:   s.scimToken(t, foreignID),
		ManagementURL:  s.URL + "/api/v2",
		APIKey:         testAdminToken,
		ConnectionID:   id,
		// The in-process server serves only the test: scenarios may flip
		// tenant settings (they run one at a time and turn them back).
		MayChangeTenantSettings: true,
	}
}

// TestConformance replays every recorded Okta, Entra ID, RFC and role
// scenario against the real server over HTTP.
func TestConformance(t *testing.T) {
	s := startServer(t)
	conformancetest.Run(t, s.target)
}
