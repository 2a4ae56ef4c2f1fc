package client_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolecall/rolecall/roles/client"
)

// The tests run against a real `rolecall serve`: TestMain builds the binary
// once, and each test starts its own process on 127.0.0.1:0 with a fresh
// data directory.

const adminToken = "client-test-admin-token-0123456789abcdef"

var rolecallBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rolecall-client-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rolecallBin = filepath.Join(dir, "rolecall")
	build := exec.Command("go", "build", "-o", rolecallBin, "github.com/rolecall/rolecall/cmd/rolecall")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building rolecall:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// serve starts `rolecall serve` and returns its base URL.
func serve(t *testing.T, flags ...string) string {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, flags...)
	cmd := exec.Command(rolecallBin, args...)
	cmd.Env = append(os.Environ(), "ROLECALL_ADMIN_TOKEN="+adminToken)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() { // keep draining so the child never blocks on its log
			var line struct {
				Message string `json:"message"`
				Addr    string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "rolecall listening" {
				addr <- line.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		return "http://" + a
	case <-time.After(15 * time.Second):
		t.Fatal("rolecall serve did not start listening")
	}
	return ""
}

// newClient starts a server and returns a client for it.
func newClient(t *testing.T) (*client.Client, string) {
	t.Helper()
	base := serve(t)
	return client.New(base, adminToken, client.WithUserAgent("client-test")), base
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func must2[T any](t *testing.T) func(T, uint64, error) T {
	return func(v T, _ uint64, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// directory is a connection with a SCIM token: the identity provider side
// of a test, pushing users and groups as an IdP would.
type directory struct {
	t        *testing.T
	conn     *client.Connection
	endpoint string
	token    string
}

var seq atomic.Int64

func newDirectory(t *testing.T, c *client.Client) *directory {
	t.Helper()
	ctx := context.Background()
	conn := must2[*client.Connection](t)(c.CreateConnection(ctx, client.ConnectionCreate{Name: fmt.Sprintf("idp-%d", seq.Add(1)), Strategy: "okta"}))
	cfg := must2[*client.SCIMConfiguration](t)(c.CreateSCIMConfiguration(ctx, conn.ID, client.SCIMConfigurationBody{}))
	tok := must2[*client.SCIMToken](t)(c.CreateSCIMToken(ctx, conn.ID, client.SCIMTokenCreate{}))
	return &directory{t: t, conn: conn, endpoint: cfg.SCIMEndpoint, token: tok.Token}
}

func (d *directory) post(path string, body map[string]any) string {
	d.t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", d.endpoint+path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		d.t.Fatalf("SCIM POST %s: %d %v", path, resp.StatusCode, err)
	}
	return out.ID
}

func (d *directory) user(name string) string {
	return d.post("/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": name, "active": true})
}

func (d *directory) group(name string, memberIDs ...string) string {
	members := []map[string]string{}
	for _, id := range memberIDs {
		members = append(members, map[string]string{"value": id})
	}
	return d.post("/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": name, "members": members})
}
