package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
)

// The test binary doubles as the rolecall binary, so crash tests can kill a
// real server process without building one.
const runMainEnv = "ROLECALL_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// serverProcess is `rolecall serve` in a child process.
type serverProcess struct {
	cmd *exec.Cmd
	URL string
}

func startProcess(t testing.TB, dir string, flags ...string) *serverProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dir}, flags...)...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "ROLECALL_ADMIN_TOKEN="+testAdminToken)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// The address is in the "rolecall listening" log line; the reader keeps
	// draining the log afterwards so the child never blocks writing it.
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
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
		return &serverProcess{cmd: cmd, URL: "http://" + a}
	case <-time.After(15 * time.Second):
		t.Fatal("the server process did not start listening")
	}
	return nil
}

// kill ends the process with SIGKILL: no shutdown, no final commit, no
// close of the store.
func (p *serverProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}

// A write answered 2xx must survive the process dying right after: kill -9
// a server in the middle of a burst of concurrent creates, then check that
// the file is consistent and every acknowledged user is there. Three rounds
// on the same file, so recovery from a killed process is itself recovered
// from. (SIGKILL keeps the OS page cache, so this tests the commit protocol
// and the 2xx-after-commit rule, not the disk's fsync: that is bbolt's and
// the kernel's.)
func TestAcknowledgedWritesSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	var connectionID, token string
	var acked []string
	for round := range 3 {
		p := startProcess(t, dir, "--scim-rate", "0") // a write flood: the rate limit is not what this tests
		if round == 0 {
			s := &testServer{URL: p.URL}
			connectionID, _ = s.connection(t, "crash")
			token = s.scimToken(t, connectionID)
		}
		base := p.URL + "/scim/v2/connections/" + connectionID

		// Everything acknowledged before this round's crash is still there.
		for _, id := range acked {
			if resp, out := call(t, "GET", base+"/Users/"+id, token, nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("round %d: acknowledged user %s: %d %v", round, id, resp.StatusCode, out)
			}
		}

		var mu sync.Mutex
		var n atomic.Int64
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		client := &http.Client{Timeout: 10 * time.Second}
		for range 16 {
			wg.Go(func() {
				for ctx.Err() == nil {
					body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"r%d-u%d"}`, round, n.Add(1))
					req, _ := http.NewRequest("POST", base+"/Users", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+token)
					req.Header.Set("Content-Type", "application/scim+json")
					resp, err := client.Do(req)
					if err != nil {
						return // the server died under this request: not acknowledged
					}
					raw, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					var user struct{ ID string }
					if resp.StatusCode == http.StatusCreated && json.Unmarshal(raw, &user) == nil {
						mu.Lock()
						acked = append(acked, user.ID)
						mu.Unlock()
					}
				}
			})
		}
		time.Sleep(300 * time.Millisecond)
		p.kill(t)
		stop()
		wg.Wait()

		// The file as the dead process left it: every invariant holds.
		db, err := bboltdb.Open(dir, store.Options{})
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		if err := db.Verify(); err != nil {
			t.Errorf("round %d: store invariants after kill: %v", round, err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d users acknowledged so far", round, len(acked))
	}
	if len(acked) < 30 {
		t.Fatalf("only %d writes acknowledged: the test did not exercise anything", len(acked))
	}
	p := startProcess(t, dir, "--scim-rate", "0")
	base := p.URL + "/scim/v2/connections/" + connectionID
	for _, id := range acked {
		if resp, out := call(t, "GET", base+"/Users/"+id, token, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("acknowledged user %s lost: %d %v", id, resp.StatusCode, out)
		}
	}
}
