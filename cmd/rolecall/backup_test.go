package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
)

func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr); code != 0 {
		t.Fatalf("rolecall %v: exit %d\n%s%s", args, code, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func userCount(t *testing.T, dir string) int {
	t.Helper()
	db, err := bboltdb.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Verify(); err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	n := 0
	_ = db.View(func(r *store.ReadTx) error {
		return r.EachUserSummary(func(store.UserSummary) { n++ })
	})
	return n
}

// TestABackupOfARunningServerIsConsistentAndRestores: rolecall backup --data
// asks the running server (it holds the file) over its socket, while SCIM
// writes go on; the backup restores into a store that verifies and holds
// every user acknowledged before the backup began.
func TestABackupOfARunningServerIsConsistentAndRestores(t *testing.T) {
	s := startServer(t)
	id, base := s.connection(t, "backup")
	token := s.scimToken(t, id)
	post := func(name string) int {
		resp, _ := call(t, "POST", base+"/Users", token, map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": name})
		return resp.StatusCode
	}
	for i := range 50 {
		if code := post(fmt.Sprint("before-", i)); code != http.StatusCreated {
			t.Fatalf("POST: %d", code)
		}
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // writes go on during the backup
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			post(fmt.Sprint("during-", i))
		}
	}()
	file := filepath.Join(t.TempDir(), "backup.ndjson")
	out := runOK(t, "backup", "--data", s.Data, "--to", file)
	stop.Store(true)
	wg.Wait()
	if !strings.Contains(out, "backed up") {
		t.Errorf("backup said %q", out)
	}

	restored := filepath.Join(t.TempDir(), "restored")
	runOK(t, "restore", "--from", file, "--data", restored)
	if n := userCount(t, restored); n < 50 {
		t.Errorf("the restored store holds %d users, want at least the 50 acknowledged before the backup", n)
	}
	// Restoring over a store is refused, whatever it holds.
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"restore", "--from", file, "--data", restored}, func(string) string { return "" }, io.Discard, &stderr); code == 0 || !strings.Contains(stderr.String(), "not empty") {
		t.Errorf("restore over a store: exit %d, %q", code, stderr.String())
	}
}

func TestBackupRestoreAndMigrateOfAStoppedStore(t *testing.T) {
	s := startServer(t)
	id, base := s.connection(t, "offline")
	token := s.scimToken(t, id)
	for i := range 20 {
		call(t, "POST", base+"/Users", token, map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": fmt.Sprint("u", i)})
	}
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "offline.ndjson")
	runOK(t, "backup", "--data", s.Data, "--to", file)
	copyDir := filepath.Join(t.TempDir(), "copy")
	out := runOK(t, "migrate", "--from", "bbolt:"+s.Data, "--to", "bbolt:"+copyDir)
	if !strings.Contains(out, "hold the same records") {
		t.Errorf("migrate said %q", out)
	}
	if a, b := userCount(t, s.Data), userCount(t, copyDir); a != 20 || b != 20 {
		t.Errorf("users: source %d, copy %d, want 20 each", a, b)
	}

	// A cut backup is refused and leaves no store behind that looks whole.
	raw, _ := os.ReadFile(file)
	cut := filepath.Join(t.TempDir(), "cut.ndjson")
	_ = os.WriteFile(cut, raw[:len(raw)/2], 0o600)
	var stderr bytes.Buffer
	target := filepath.Join(t.TempDir(), "target")
	if code := run(context.Background(), []string{"restore", "--from", cut, "--data", target}, func(string) string { return "" }, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), "trailer") {
		t.Errorf("restore of a cut backup: exit %d, %q", code, stderr.String())
	}
}

// TestTheBackupEndpointStreamsARestorableSnapshot: GET /api/v2/backup with
// read:backup answers the export format, which restores into a store that
// verifies; a key without the scope is refused.
func TestTheBackupEndpointStreamsARestorableSnapshot(t *testing.T) {
	s := startServer(t)
	id, base := s.connection(t, "backup-endpoint")
	token := s.scimToken(t, id)
	for i := range 10 {
		call(t, "POST", base+"/Users", token, map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": fmt.Sprint("e", i)})
	}
	req, _ := http.NewRequest("GET", s.URL+"/api/v2/backup", nil)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(raw, []byte(`"format":"rolecall-export"`)) || !bytes.Contains(raw, []byte(`"end":true`)) {
		t.Fatalf("GET /backup: %d, %d bytes", resp.StatusCode, len(raw))
	}
	file := filepath.Join(t.TempDir(), "endpoint.ndjson")
	_ = os.WriteFile(file, raw, 0o600)
	restored := filepath.Join(t.TempDir(), "restored")
	runOK(t, "restore", "--from", file, "--data", restored)
	if n := userCount(t, restored); n != 10 {
		t.Errorf("restored %d users, want 10", n)
	}

	key := s.api(t, "POST", "/api-keys", map[string]any{"name": "reader", "scopes": []string{"read:logs"}}, http.StatusCreated)["key"].(string)
	if resp, out := call(t, "GET", s.URL+"/api/v2/backup", key, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET /backup without read:backup: %d %v", resp.StatusCode, out)
	}
}
