package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// BenchmarkSlowClientFlood is the soak version of issue 7's slow-client row:
// 3,000 connections (more than the default --max-connections) that send a
// request's headers and then trickle its body one byte a second, for 20
// seconds, against a real server process with its default limits. It
// reports the server's peak RSS, how many connections it refused, and how
// /healthz answered during the flood: the process must stay up and answer
// (200, or 503 from the connection cap while it is full), and answer 200
// once the flood stops.
//
//	go test ./cmd/rolecall -run '^$' -bench SlowClientFlood -benchtime 1x
func BenchmarkSlowClientFlood(b *testing.B) {
	m := &memoryTarget{p: startProcess(b, b.TempDir())}
	addr := strings.TrimPrefix(m.p.URL, "http://")
	for b.Loop() {
		var conns []net.Conn
		for range 3000 {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatalf("dial: %v", err)
			}
			conns = append(conns, c)
			_, _ = io.WriteString(c, "POST /dashboard/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n")
		}
		stop := make(chan struct{})
		go func() { // trickle
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					for _, c := range conns {
						_ = c.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
						_, _ = c.Write([]byte("a"))
					}
				}
			}
		}()
		client := &http.Client{Timeout: 2 * time.Second}
		codes := map[int]int{}
		var peak int64
		for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
			peak = max(peak, m.rss(b))
			resp, err := client.Get(m.p.URL + "/healthz")
			if err != nil {
				b.Fatalf("/healthz did not answer during the flood: %v", err)
			}
			resp.Body.Close()
			codes[resp.StatusCode]++
		}
		close(stop)
		for _, c := range conns {
			c.Close()
		}
		var after int
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if resp, err := client.Get(m.p.URL + "/healthz"); err == nil {
				resp.Body.Close()
				if after = resp.StatusCode; after == http.StatusOK {
					break
				}
			}
		}
		if after != http.StatusOK {
			b.Fatalf("/healthz answered %d after the flood, want 200", after)
		}
		refused := metricFromProcess(b, m.p.URL, "rolecall_connections_refused_total")
		b.Logf("/healthz during the flood: %v; peak RSS %d MiB; connections refused %v", codes, peak>>20, refused)
		b.ReportMetric(float64(peak>>20), "peak-RSS-MiB")
		b.ReportMetric(refused, "refused-conns")
		b.ReportMetric(float64(codes[http.StatusOK]), "healthz-200")
		b.ReportMetric(float64(codes[http.StatusServiceUnavailable]), "healthz-503")
	}
}

// metricFromProcess reads one unlabelled sample from a server's /metrics.
func metricFromProcess(tb testing.TB, base, name string) float64 {
	tb.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for line := range strings.Lines(string(raw)) {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			var v float64
			_, _ = fmt.Sscan(strings.TrimSpace(rest), &v)
			return v
		}
	}
	return 0
}
