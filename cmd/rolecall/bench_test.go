package main

// Benchmarks for the foundation's speed targets, over HTTP against a real
// server. Data is seeded straight into the store before the server starts, so
// setup takes seconds, not minutes. Run them with
//
//	go test ./cmd/rolecall -run XXX -bench . -benchtime 2000x
//
// Figures and ratios are quoted in the foundation issue's closing note.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/postgres/pgtest"
	"github.com/rolecall/rolecall/store/storetest"
)

var benchOrigin = store.Origin{Actor: store.Actor{Type: store.ActorSystem, ID: "bench"}, Channel: store.ChannelSystem}

// seeded describes a store prepared for a benchmark: the bbolt file in dir,
// or the PostgreSQL database dsn (ROLECALL_BENCH_STORE=postgres, see
// bench_postgres_test.go).
type seeded struct {
	dir, dsn, connectionID, token string
	boltOnly                      bool // bbolt whatever benchStoreEnv says
	userIDs                       []string
	groupIDs                      map[string]string // displayName → id
}

// seed creates, in a fresh store (see openBenchStore), a connection with a
// SCIM token, users u0000000…, and groups named by their member counts (each
// group's members are the first n users).
func seed(b *testing.B, users int, groups ...int) seeded {
	b.Helper()
	return seedInto(b, seeded{dir: b.TempDir()}, users, groups...)
}

// seedInto is seed into the store s names (see openBenchStore).
func seedInto(b *testing.B, s seeded, users int, groups ...int) seeded {
	b.Helper()
	s.groupIDs = map[string]string{}
	db := openBenchStore(b, &s, store.Options{})
	defer db.Close()
	ctx := context.Background()
	must := func(fn func(*store.Tx) error) {
		if _, err := db.Update(ctx, benchOrigin, fn); err != nil {
			b.Fatal(err)
		}
	}
	must(func(tx *store.Tx) error {
		c, err := tx.CreateConnection(store.Connection{Name: "bench", Strategy: "okta"})
		if err != nil {
			return err
		}
		s.connectionID = c.ID
		if _, err := tx.CreateSCIMConfig(store.SCIMConfig{ConnectionID: c.ID, UserIDAttribute: "userName"}); err != nil {
			return err
		}
		_, s.token, err = tx.CreateSCIMToken(c.ID, store.SCIMTokenScopes, 0)
		return err
	})
	for start := 0; start < users; start += 10_000 {
		must(func(tx *store.Tx) error {
			for i := start; i < min(start+10_000, users); i++ {
				name := fmt.Sprintf("u%07d@example.com", i)
				doc, _ := json.Marshal(map[string]any{
					"userName": name, "active": true, "displayName": fmt.Sprintf("User %d", i),
					"name":   map[string]any{"givenName": "User", "familyName": strconv.Itoa(i)},
					"emails": []any{map[string]any{"value": name, "type": "work", "primary": true}},
				})
				u, err := tx.CreateUser(store.User{ConnectionID: s.connectionID, UserName: name, Active: true, Doc: doc})
				if err != nil {
					return err
				}
				s.userIDs = append(s.userIDs, u.ID)
			}
			return nil
		})
	}
	for _, n := range groups {
		name := fmt.Sprintf("size-%d", n)
		var gid string
		must(func(tx *store.Tx) error {
			doc, _ := json.Marshal(map[string]any{"displayName": name})
			g, err := tx.CreateGroup(store.Group{ConnectionID: s.connectionID, DisplayName: name, Doc: doc}, nil)
			gid = g.ID
			return err
		})
		for start := 0; start < n; start += 50_000 {
			must(func(tx *store.Tx) error {
				members := make([]store.Member, 0, 50_000)
				for _, id := range s.userIDs[start:min(start+50_000, n)] {
					members = append(members, store.Member{ID: id})
				}
				_, err := tx.AddMembers(s.connectionID, gid, members)
				return err
			})
		}
		s.groupIDs[name] = gid
	}
	if s.dsn != "" {
		pgtest.Settle(b, s.dsn)
	}
	return s
}

// benchServer starts rolecall serve on a seeded data directory.
func benchServer(b *testing.B, s seeded) (base string, client *http.Client) {
	b.Helper()
	srv := startServer(b, func(c *config) { c.Data, c.Store = s.dir, s.dsn; c.LogLevel = zerolog.WarnLevel })
	client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.Cleanup(client.CloseIdleConnections) // before the server's shutdown (cleanups run last first)
	return srv.URL + "/scim/v2/connections/" + s.connectionID, client
}

func do(b *testing.B, client *http.Client, method, url, token, body string, want int) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		b.Fatalf("%s %s: %d, want %d", method, url, resp.StatusCode, want)
	}
}

// BenchmarkUserNameLookup: Okta and Entra ID look a user up by userName before
// every create. Target: 100k users cost at most 1.5× 1k users.
func BenchmarkUserNameLookup(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			s := seed(b, n)
			base, client := benchServer(b, s)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				name := fmt.Sprintf("u%07d@example.com", (i*7919)%n)
				do(b, client, "GET", base+"/Users?filter=userName%20eq%20%22"+name+"%22&startIndex=1&count=100", s.token, "", 200)
			}
		})
	}
}

// BenchmarkPatchAddMember adds one member to a group of 1k and to a group of
// 100k members (same database), durably. Target: at most 1.5×.
func BenchmarkPatchAddMember(b *testing.B) {
	s := seed(b, 120_000, 1_000, 100_000)
	base, client := benchServer(b, s)
	for _, n := range []int{1_000, 100_000} {
		gid := s.groupIDs[fmt.Sprintf("size-%d", n)]
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			defer reportCPU(b, s)()
			for i := 0; b.Loop(); i++ {
				id := s.userIDs[100_000+i%20_000]
				op := "add"
				path := "members"
				value := `,"value":[{"value":"` + id + `"}]`
				if i%2 == 1 { // take it out again so the group keeps its size
					id = s.userIDs[100_000+(i-1)%20_000]
					op, path, value = "remove", `members[value eq \"`+id+`\"]`, ""
				}
				do(b, client, "PATCH", base+"/Groups/"+gid, s.token,
					`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"`+op+`","path":"`+path+`"`+value+`}]}`, 204)
			}
		})
	}
}

// BenchmarkPatchMemberOps: one PATCH of 1 operation against one PATCH of 1,000
// alternating add and remove members[value eq …] operations with distinct ids.
// Target: at most 10×.
func BenchmarkPatchMemberOps(b *testing.B) {
	s := seed(b, 2_000, 500)
	base, client := benchServer(b, s)
	gid := s.groupIDs["size-500"]
	setA, setB := s.userIDs[:500], s.userIDs[500:1000]
	body := func(add, remove []string, n int) string {
		var ops []string
		for i := 0; len(ops) < n; i++ {
			if i%2 == 0 {
				ops = append(ops, `{"op":"add","path":"members","value":[{"value":"`+add[i/2]+`"}]}`)
			} else {
				ops = append(ops, `{"op":"remove","path":"members[value eq \"`+remove[i/2]+`\"]"}`)
			}
		}
		return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(ops, ",") + `]}`
	}
	for _, n := range []int{1, 1_000} {
		// Bodies alternate between moving members from A to B and back, so
		// every operation changes a membership.
		forward, back := body(setB, setA, n), body(setA, setB, n)
		if n == 1 {
			forward = body(setB[:1], nil, 1)
			back = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"` + setB[0] + `\"]"}]}`
		}
		b.Run(fmt.Sprintf("ops=%d", n), func(b *testing.B) {
			defer reportCPU(b, s)()
			for i := 0; b.Loop(); i++ {
				payload := forward
				if i%2 == 1 {
					payload = back
				}
				do(b, client, "PATCH", base+"/Groups/"+gid, s.token, payload, 204)
			}
		})
	}
}

// BenchmarkListPage reads one page of 100 at the start and at startIndex
// 99,901 of 100k users, the first 50k of them in one group (so the first
// page's users each have a group to list). Target: at most 1.5×.
func BenchmarkListPage(b *testing.B) {
	s := seed(b, 100_000, 50_000)
	base, client := benchServer(b, s)
	for _, start := range []int{1, 99_901} {
		b.Run(fmt.Sprintf("startIndex=%d", start), func(b *testing.B) {
			for b.Loop() {
				do(b, client, "GET", base+"/Users?startIndex="+strconv.Itoa(start)+"&count=100", s.token, "", 200)
			}
		})
	}
}

// trivialRate is the requests/s of the trivial handler, measured first in the
// same run, so BenchmarkPostUsers can report the ratio the target names.
var trivialRate atomic.Value

// BenchmarkPostUsers: POST /Users from 16 concurrent clients, every write
// fsync'd before its 201, against a trivial POST handler returning a fixed
// body behind the same middleware and net/http server. Both log their access
// lines at info level to a discarding writer. Target: ratio ≥ 0.3.
func BenchmarkPostUsers(b *testing.B) {
	userBody := func(i int64) string {
		return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bench%d@example.com","name":{"givenName":"Bench","familyName":"User%d"},"emails":[{"primary":true,"value":"bench%d@example.com","type":"work"}],"active":true}`, i, i, i)
	}
	b.Run("trivial", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		fixed := []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"usr_0000000000000000","userName":"fixed"}`)
		srv := &http.Server{
			Handler: withMiddleware(zerolog.New(io.Discard), defaultMaxBody, defaultWriteStall, 2*time.Minute, &requestMetrics{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/scim+json")
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write(fixed)
			})),
			ReadHeaderTimeout: 10 * time.Second,
		}
		go srv.Serve(ln)
		defer srv.Close()
		rate := postConcurrently(b, "http://"+ln.Addr().String()+"/scim/v2/connections/con_x/Users", "x", userBody)
		trivialRate.Store(rate)
	})
	b.Run("users", func(b *testing.B) {
		s := seed(b, 0)
		logs := &syncBuffer{}
		srv := startServerLogging(b, logs, func(c *config) { c.Data, c.Store = s.dir, s.dsn })
		rate := postConcurrently(b, srv.URL+"/scim/v2/connections/"+s.connectionID+"/Users", s.token, userBody)
		if os.Getenv("ROLECALL_BENCH_STATS") != "" {
			_ = srv.Shutdown()
			b.Log(logs.String())
		}
		if t, ok := trivialRate.Load().(float64); ok {
			b.ReportMetric(rate/t, "ratio-vs-trivial")
		}
	})
}

// postConcurrently POSTs b.N bodies from 16 clients and reports requests/s.
func postConcurrently(b *testing.B, url, token string, body func(i int64) string) float64 {
	const clients = 16
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	// Connections the transport dialled but never used are still new to
	// the server, and a graceful shutdown waits for new connections.
	defer client.CloseIdleConnections()
	var n atomic.Int64
	b.SetParallelism((clients + 1) / 2) // × GOMAXPROCS (2 on the CI machines)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			do(b, client, "POST", url, token, body(n.Add(1)), 201)
		}
	})
	rate := float64(b.N) / time.Since(start).Seconds()
	b.ReportMetric(rate, "req/s")
	return rate
}

// BenchmarkResidentMemory starts the real binary on 100k users and one
// 50k-member group, reads the group, a deep page and a lookup, and reports the
// process's resident memory. Target: under 250 MiB.
func BenchmarkResidentMemory(b *testing.B) {
	s := seed(b, 100_000, 50_000)
	bin := filepath.Join(b.TempDir(), "rolecall")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	args := []string{"serve", "--addr", addr, "--data", s.dir, "--log-level", "warn"}
	if s.dsn != "" {
		args = append(args, "--store", s.dsn)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "ROLECALL_ADMIN_TOKEN="+testAdminToken)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	base := "http://" + addr + "/scim/v2/connections/" + s.connectionID
	client := &http.Client{}
	for i := 0; i < 100; i++ {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for b.Loop() {
		do(b, client, "GET", base+"/Groups/"+s.groupIDs["size-50000"], s.token, "", 200)
		do(b, client, "GET", base+"/Users?startIndex=99901&count=100", s.token, "", 200)
		do(b, client, "GET", base+"/Users?filter=userName%20eq%20%22u0050000@example.com%22", s.token, "", 200)
		do(b, client, "GET", base+"/Users?filter=displayName%20co%20%2299999%22", s.token, "", 200) // a full scan
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		for _, field := range []string{"VmRSS:", "VmHWM:", "RssAnon:", "RssFile:"} {
			if rest, ok := strings.CutPrefix(line, field); ok {
				kb, _ := strconv.Atoi(strings.Fields(rest)[0])
				b.ReportMetric(float64(kb)/1024, strings.ToLower(strings.TrimSuffix(field, ":"))+"-MiB")
			}
		}
	}
}

// queryRate is the trivial handler's rate in the same run, for the ratio.
var queryTrivialRate atomic.Value

// BenchmarkLoginQuery: POST /effective-roles/query from 32 concurrent
// clients on the roles issue's data set (100k users, 10k groups, 1M
// memberships, 500 roles, 20k bindings; the subject is in 50 groups),
// against a trivial handler returning a fixed 200-byte JSON body behind the
// same middleware and server. Target: ratio ≥ 0.7. Reports p50 and p99.
// ROLECALL_BENCH_SMALL=1 uses a tenth of the data set.
func BenchmarkLoginQuery(b *testing.B) {
	const clients = 32
	fixed := []byte(`{"results":[{"user":{"id":"usr_0000000000000000","connection_id":"con_0000000000000000","active":true},"roles":[],"permissions":[],"claims":{"roles":[],"permissions":[]}}],"revision":1}` + "\n")
	fixed = append(fixed, strings.Repeat(" ", max(0, 200-len(fixed)))...)
	b.Run("trivial", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: withMiddleware(zerolog.New(io.Discard), defaultMaxBody, defaultWriteStall, 2*time.Minute, &requestMetrics{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(fixed[:200])
		})), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		rate := measureLatencies(b, clients, "http://"+ln.Addr().String()+"/api/v2/effective-roles/query", "x", func(int64) string { return `{"subjects":[{"user_id":"usr_0000000000000000"}]}` })
		queryTrivialRate.Store(rate)
	})
	// The roles issue's data set, served once for both query benchmarks.
	size := storetest.FullLoginDataset
	if os.Getenv("ROLECALL_BENCH_SMALL") != "" {
		size = storetest.LoginDataset{Users: 10_000, Groups: 1_000, Memberships: 100_000, Roles: 100, Bindings: 2_000, SubjectGroups: 50}
	}
	where := seeded{dir: b.TempDir()}
	db := openBenchStore(b, &where, store.Options{NoSync: true})
	s := storetest.Seed(b, db, size)
	db.Close()
	srv := startServerLogging(b, io.Discard, func(c *config) { c.Data, c.Store = where.dir, where.dsn })
	query := func(b *testing.B, subject string) {
		url := srv.URL + "/api/v2/effective-roles/query"
		answerSize := answerBytes(b, url, subject)
		rate := measureLatencies(b, clients, url, testAdminToken, func(int64) string { return subject })
		b.ReportMetric(float64(answerSize), "answer-bytes")
		if t, ok := queryTrivialRate.Load().(float64); ok {
			b.ReportMetric(rate/t, "ratio-vs-trivial")
		}
	}
	// The target: the subject in 50 groups, whose answer lists about 90
	// roles with their sources and 170 permissions (27 KB).
	b.Run("query", func(b *testing.B) {
		query(b, `{"subjects":[{"user_id":"`+s.Subject.ID+`"}]}`)
	})
	// For scale: a user without roles, whose answer is about as big as the
	// trivial body, so the ratio is the cost of the stack alone (token
	// check, decoding, index lookup) rather than of the answer's size.
	resp, user := call(b, "POST", srv.URL+"/scim/v2/connections/"+s.Connection.ID+"/Users", s.Token,
		map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "no-roles@example.com"})
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("create user: %d %v", resp.StatusCode, user)
	}
	b.Run("query-no-roles", func(b *testing.B) {
		query(b, `{"subjects":[{"user_id":"`+user["id"].(string)+`"}]}`)
	})
}

// answerBytes is the size of one answer, to set the ratio against the
// trivial handler's 200 bytes.
func answerBytes(b *testing.B, url, body string) int {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return len(raw)
}

// measureLatencies sends b.N POSTs from the given number of clients and
// reports requests/s, p50 and p99.
func measureLatencies(b *testing.B, clients int, url, token string, body func(i int64) string) float64 {
	// A login server reading answers of tens of KiB reads them whole: a
	// 64 KiB buffer instead of net/http's 4 KiB saves it a read per 4 KiB.
	// Both sides of the ratio use the same client.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, ReadBufferSize: 64 << 10}}
	// Connections the transport dialled but never used are still new to
	// the server, and a graceful shutdown waits for new connections.
	defer client.CloseIdleConnections()
	var n atomic.Int64
	lat := make([]time.Duration, b.N)
	b.SetParallelism((clients + 1) / 2)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			t0 := time.Now()
			do(b, client, "POST", url, token, body(i), 200)
			lat[i-1] = time.Since(t0)
		}
	})
	rate := float64(b.N) / time.Since(start).Seconds()
	slices.Sort(lat)
	b.ReportMetric(rate, "req/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	return rate
}
