package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
	"github.com/rolecall/rolecall/store/storetest"
)

// The memory tests run `rolecall serve` as a child process and read its
// resident set from /proc: the figure an operator (and the OOM killer)
// sees, not the Go heap.

// bigUserDoc is a stored SCIM user document of about size bytes. Its bulk
// is many small email entries when manyEmails is set (decoded, each becomes
// a map: the shape that multiplies a list answer's memory most, and costs
// the most CPU), else one long title (cheap to decode, so a test is quick).
func bigUserDoc(name string, size int, manyEmails bool) []byte {
	var b bytes.Buffer
	if !manyEmails {
		fmt.Fprintf(&b, `{"userName":%q,"title":"%s"}`, name, strings.Repeat("t", size))
		return b.Bytes()
	}
	fmt.Fprintf(&b, `{"userName":%q,"emails":[`, name)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"value":"%s-%07d@example.test","type":"work"}`, name, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// memoryTarget is a server process with a connection holding n users of
// about size bytes each.
type memoryTarget struct {
	p            *serverProcess
	connectionID string
	token        string
}

// startMemoryTarget writes the users straight into a new data directory
// (creating 7 MB users through SCIM takes a second each) and starts the
// server on it.
func startMemoryTarget(t testing.TB, users, size int, manyEmails bool) *memoryTarget {
	t.Helper()
	dir := t.TempDir()
	db, err := bboltdb.Open(dir, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	m := &memoryTarget{}
	con := storetest.MustConnection(t, db, "memory")
	m.connectionID = con.ID
	storetest.MustUpdate(t, db, func(tx *store.Tx) (err error) {
		_, m.token, err = tx.CreateSCIMToken(con.ID, store.SCIMTokenScopes, 0)
		return err
	})
	for i := range users {
		name := "big" + strconv.Itoa(i)
		storetest.MustUpdate(t, db, func(tx *store.Tx) error {
			_, err := tx.CreateUser(store.User{ConnectionID: con.ID, UserName: name, Active: true, Doc: bigUserDoc(name, size, manyEmails)})
			return err
		})
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	m.p = startProcess(t, dir)
	return m
}

// rss is the process's resident set in bytes (VmRSS).
func (m *memoryTarget) rss(tb testing.TB) int64 {
	tb.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.p.cmd.Process.Pid))
	if err != nil {
		tb.Fatalf("read the server's RSS: %v", err)
	}
	for line := range strings.Lines(string(raw)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				tb.Fatalf("VmRSS line %q: %v", line, err)
			}
			return kb << 10
		}
	}
	tb.Fatal("no VmRSS in /proc/<pid>/status")
	return 0
}

// stalledLists opens n connections that each send a list request and then
// read nothing, or readRate bytes a second when readRate > 0; they close
// with the returned function.
func (m *memoryTarget) stalledLists(tb testing.TB, n, readRate int) (closeAll func()) {
	tb.Helper()
	addr := strings.TrimPrefix(m.p.URL, "http://")
	path := "/scim/v2/connections/" + m.connectionID + "/Users"
	var conns []net.Conn
	done := make(chan struct{})
	for i := range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			tb.Fatal(err)
		}
		// A small receive buffer, as a remote client behind a slow link
		// would have: the server's writes block sooner.
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4 << 10)
		}
		conns = append(conns, c)
		q := "?count=100"
		if i%2 == 1 {
			q = "?cursor&count=100"
		}
		if _, err := fmt.Fprintf(c, "GET %s%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", path, q, addr, m.token); err != nil {
			tb.Fatal(err)
		}
		if readRate > 0 {
			go func() {
				buf := make([]byte, readRate)
				r := bufio.NewReaderSize(c, 16)
				for {
					select {
					case <-done:
						return
					case <-time.After(time.Second):
					}
					if _, err := io.ReadFull(r, buf); err != nil {
						return
					}
				}
			}()
		}
	}
	return func() {
		close(done)
		for _, c := range conns {
			_ = c.Close()
		}
	}
}

// watch samples the server's RSS for d while checking that /healthz answers
// within a second; it stops early, failing, once RSS passes limit (so a
// regression does not eat the machine). It returns the peak RSS.
func (m *memoryTarget) watch(tb testing.TB, d time.Duration, limit int64) (peak int64) {
	tb.Helper()
	client := &http.Client{Timeout: time.Second}
	healthz := 0
	for end, next := time.Now().Add(d), time.Now(); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		peak = max(peak, m.rss(tb))
		if peak > limit {
			tb.Errorf("server RSS reached %d MiB, over the bound of %d MiB", peak>>20, limit>>20)
			return peak
		}
		if time.Now().After(next) {
			next = time.Now().Add(250 * time.Millisecond)
			resp, err := client.Get(m.p.URL + "/healthz")
			if err != nil {
				tb.Errorf("/healthz did not answer: %v", err)
				return peak
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				tb.Errorf("/healthz: %d", resp.StatusCode)
			}
			healthz++
		}
	}
	if healthz == 0 {
		tb.Error("/healthz was never asked")
	}
	return peak
}

// TestStalledListClientsKeepMemoryBounded: 48 users of 1 MiB and 8 clients
// that ask for the user list and never read it. Each list page stops at the
// page budget (4 MiB: three such users), and the heavy-request limit bounds
// how many pages are rendered at once: resident memory grows by less than
// 192 MiB (about 80 measured) and /healthz keeps answering. Before, each
// answer held all 48 users decoded and then encoded whole, and the RSS
// passed the bound within the test's 3 seconds.
func TestStalledListClientsKeepMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	m := startMemoryTarget(t, 48, 1<<20, false)
	before := m.rss(t)
	closeAll := m.stalledLists(t, 8, 0)
	defer closeAll()
	peak := m.watch(t, 3*time.Second, before+192<<20)
	t.Logf("RSS with 48 users of 1 MiB: %d MiB idle, %d MiB peak with 8 never-reading list clients", before>>20, peak>>20)
}
