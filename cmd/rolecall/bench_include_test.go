package main

// Benchmarks for the login query's include (issue 8 §6), over HTTP against a
// real server on the roles issue's data set, 32 clients, in one run. Run
// them with
//
//	go test ./cmd/rolecall -run XXX -bench LoginQueryInclude -benchtime 2000x
//
// (ROLECALL_BENCH_SMALL=1 uses a tenth of the data set, as
// BenchmarkLoginQuery does.)

import (
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
	"github.com/rolecall/rolecall/store/storetest"
)

// fixedServer serves body for every request behind the same middleware and
// net/http server as rolecall, reading the request first: the cost of the
// stack and of writing that many bytes, and nothing else.
func fixedServer(b *testing.B, body []byte) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: withMiddleware(zerolog.New(io.Discard), defaultMaxBody, defaultWriteStall, 2*time.Minute, &requestMetrics{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(body)
	})), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/api/v2/effective-roles/query"
}

// BenchmarkLoginQueryInclude: the subject in 50 groups (about 90 roles with
// sources and 170 permissions), 32 concurrent clients. Targets:
//   - full: the whole answer (no include) against fixed-full, a fixed
//     handler writing the same number of bytes: ratio-vs-fixed ≥ 0.7;
//   - claims: include ["claims"] against trivial, a fixed 200-byte handler
//     (BenchmarkLoginQuery's): ratio-vs-trivial ≥ 0.7.
//
// roles and roles-sources-permissions are reported for scale, against
// trivial.
func BenchmarkLoginQueryInclude(b *testing.B) {
	const clients = 32
	size := storetest.FullLoginDataset
	if os.Getenv("ROLECALL_BENCH_SMALL") != "" {
		size = storetest.LoginDataset{Users: 10_000, Groups: 1_000, Memberships: 100_000, Roles: 100, Bindings: 2_000, SubjectGroups: 50}
	}
	dir := b.TempDir()
	db, err := bboltdb.Open(dir, store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	s := storetest.Seed(b, db, size)
	db.Close()
	srv := startServerLogging(b, io.Discard, func(c *config) { c.Data = dir })
	url := srv.URL + "/api/v2/effective-roles/query"
	subject := `{"subjects":[{"user_id":"` + s.Subject.ID + `"}]`
	bodyOf := func(include string) string {
		if include == "" {
			return subject + "}"
		}
		return subject + `,"include":` + include + "}"
	}
	fullSize := answerBytes(b, url, bodyOf(""))

	trivial := []byte(`{"results":[{"user":{"id":"usr_0000000000000000","connection_id":"con_0000000000000000","active":true},"roles":[],"permissions":[],"claims":{"roles":[],"permissions":[]}}],"revision":1}` + "\n")
	trivial = append(trivial, strings.Repeat(" ", max(0, 200-len(trivial)))...)
	// The fixed answer the size of the full one: JSON padded with spaces.
	fixedFull := append(trivial[:len(trivial):len(trivial)], strings.Repeat(" ", max(0, fullSize-len(trivial)))...)
	rates := map[string]float64{}
	fixed := func(name string, body []byte) {
		b.Run(name, func(b *testing.B) {
			rates[name] = measureLatencies(b, clients, fixedServer(b, body), "x", func(int64) string { return bodyOf("") })
			b.ReportMetric(float64(len(body)), "answer-bytes")
		})
	}
	fixed("trivial", trivial)
	fixed("fixed-full", fixedFull)

	query := func(name, include, against, metric string) {
		body := bodyOf(include)
		b.Run(name, func(b *testing.B) {
			n := answerBytes(b, url, body)
			rate := measureLatencies(b, clients, url, testAdminToken, func(int64) string { return body })
			b.ReportMetric(float64(n), "answer-bytes")
			if base, ok := rates[against]; ok {
				b.ReportMetric(rate/base, metric)
			}
		})
	}
	query("full", "", "fixed-full", "ratio-vs-fixed")
	query("claims", `["claims"]`, "trivial", "ratio-vs-trivial")
	query("roles", `["roles"]`, "trivial", "ratio-vs-trivial")
	query("roles-sources-permissions", `["roles","sources","permissions"]`, "trivial", "ratio-vs-trivial")
}
