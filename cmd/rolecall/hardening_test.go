package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawConn opens a TCP connection to the test server.
func rawConn(t *testing.T, s *testServer) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readStatus reads one HTTP answer's status from c, or returns 0 when the
// server closed the connection without one. It gives up after limit, which
// only bounds a broken test: the server decides well within it.
func readStatus(t *testing.T, c net.Conn, limit time.Duration) (int, string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(limit))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("no answer and no close within %s", limit)
		}
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func healthy(t *testing.T, s *testServer) {
	t.Helper()
	resp, _ := call(t, "GET", s.URL+"/healthz", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: status %d", resp.StatusCode)
	}
}

func TestAStalledBodyIsAnswered408AndOthersAreServed(t *testing.T) {
	s := startServer(t, func(c *config) { c.ReadTimeout = 300 * time.Millisecond })
	id, base := s.connection(t, "slow")
	token := s.scimToken(t, id)
	path := strings.TrimPrefix(base, s.URL)

	cases := []struct {
		name, request string
		want          []int // 0: closed without an answer
	}{
		{"scim", "POST " + path + "/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
			"\r\nContent-Type: application/scim+json\r\nContent-Length: 400\r\n\r\n{\"userName\":", []int{http.StatusRequestTimeout}},
		{"api", "POST /api/v2/roles HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + testAdminToken +
			"\r\nContent-Length: 400\r\n\r\n{\"name\":", []int{http.StatusRequestTimeout}},
		{"unauthenticated dashboard login", "POST /dashboard/login HTTP/1.1\r\nHost: x\r\n" +
			"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 400\r\n\r\nkey=", []int{0, http.StatusBadRequest, http.StatusRequestTimeout, http.StatusForbidden}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := rawConn(t, s)
			if _, err := io.WriteString(c, tc.request); err != nil {
				t.Fatal(err)
			}
			status, body := readStatus(t, c, 10*time.Second)
			ok := false
			for _, w := range tc.want {
				ok = ok || status == w
			}
			if !ok {
				t.Fatalf("status %d (%s), want one of %v", status, body, tc.want)
			}
			healthy(t, s)
		})
	}
	// The server is still whole: a write on the same connection's endpoint succeeds.
	if resp, out := call(t, "POST", base+"/Users", token, map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "after-the-stall"}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST after the stalls: %d %v", resp.StatusCode, out)
	}
}

func TestDeclaredButUnsentBodiesAllocateNothing(t *testing.T) {
	s := startServer(t)
	id, base := s.connection(t, "declared")
	token := s.scimToken(t, id)
	path := strings.TrimPrefix(base, s.URL)

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const conns = 100
	request := "POST " + path + "/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
		"\r\nContent-Type: application/scim+json\r\nContent-Length: " + fmt.Sprint(defaultMaxBody) + "\r\n\r\n{"
	var open []net.Conn
	for range conns {
		c := rawConn(t, s)
		if _, err := io.WriteString(c, request); err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
	}
	// Wait until every request has reached its handler (they are in flight
	// and stalled on their bodies), then look at the heap.
	deadline := time.Now().Add(10 * time.Second)
	for metricValue(t, s, "rolecall_http_requests_in_flight") < conns {
		if time.Now().After(deadline) {
			t.Fatal("the requests did not all arrive")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var during runtime.MemStats
	runtime.ReadMemStats(&during)
	grown := int64(during.HeapAlloc) - int64(before.HeapAlloc)
	// Before bodies were read as they arrive, each request allocated its
	// declared 8 MiB: 800 MiB here.
	if grown > 64<<20 {
		t.Fatalf("the heap grew by %d MiB for %d requests that sent one byte each", grown>>20, conns)
	}
	for _, c := range open {
		c.Close()
	}
	healthy(t, s)
}

func TestConnectionsOverTheCapAreRefusedNotQueued(t *testing.T) {
	const limit = 16
	s := startServer(t, func(c *config) { c.MaxConnections = limit })
	var held []net.Conn
	for range limit {
		held = append(held, rawConn(t, s))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The cap counts a connection once accepted, which happens
		// asynchronously; an extra one is refused once all are in.
		c := rawConn(t, s)
		_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		status, body := readStatus(t, c, 5*time.Second)
		if status == http.StatusServiceUnavailable {
			if !strings.Contains(body, "Too many open connections") {
				t.Fatalf("refusal body %q", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a connection over the cap of %d was answered %d, want 503", limit, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, c := range held {
		c.Close()
	}
	// The slots come back: /healthz answers again.
	for {
		c := rawConn(t, s)
		_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if status, _ := readStatus(t, c, 5*time.Second); status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/healthz did not answer after the held connections closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	http.DefaultClient.CloseIdleConnections()
	if n := metricValue(t, s, "rolecall_connections_refused_total"); n < 1 {
		t.Fatalf("rolecall_connections_refused_total = %v, want ≥ 1", n)
	}
}

func TestRateLimitsArePerCredentialAndAnswer429(t *testing.T) {
	s := startServer(t, func(c *config) {
		c.SCIMRate, c.SCIMBurst = 0.01, 3 // one more request every 100 s
		c.APIRate, c.APIBurst = 0.01, 40
	})
	id, base := s.connection(t, "limited")
	first, second := s.scimToken(t, id), s.scimToken(t, id)
	for i := range 3 {
		if resp, out := call(t, "GET", base+"/Users", first, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d within the burst: %d %v", i, resp.StatusCode, out)
		}
	}
	resp, out := call(t, "GET", base+"/Users", first, nil)
	if resp.StatusCode != http.StatusTooManyRequests || out["status"] != "429" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over the burst: %d Retry-After=%q %v, want 429 with Retry-After and a SCIM error", resp.StatusCode, resp.Header.Get("Retry-After"), out)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "100" {
		t.Errorf("Retry-After = %q, want 100 (one request per 100 s)", ra)
	}
	// Another token of the same connection has its own bucket.
	if resp, out := call(t, "GET", base+"/Users", second, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("second token: %d %v", resp.StatusCode, out)
	}

	var last *http.Response
	var body map[string]any
	for range 45 {
		last, body = call(t, "GET", s.URL+"/api/v2/roles", testAdminToken, nil)
		if last.StatusCode == http.StatusTooManyRequests {
			break
		}
	}
	if last.StatusCode != http.StatusTooManyRequests || body["errorCode"] != "too_many_requests" || body["statusCode"] != float64(429) || last.Header.Get("Retry-After") == "" {
		t.Fatalf("API over the burst: %d %v", last.StatusCode, body)
	}
	if n := metricValue(t, s, `rolecall_rate_limited_total{surface="scim"}`); n != 1 {
		t.Errorf(`rolecall_rate_limited_total{surface="scim"} = %v, want 1`, n)
	}
	if n := metricValue(t, s, `rolecall_rate_limited_total{surface="api"}`); n < 1 {
		t.Errorf(`rolecall_rate_limited_total{surface="api"} = %v, want ≥ 1`, n)
	}
}

func TestTheRateLimiterForgetsIdleCredentials(t *testing.T) {
	l := newRateLimiter(10, 2)
	now := time.Unix(1_000_000, 0)
	l.now = func() time.Time { return now }
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() { defer wg.Done(); l.Allow(fmt.Sprint("tok_", i)) }()
	}
	wg.Wait()
	now = now.Add(2 * sweepEvery)
	l.Allow("tok_fresh")
	n := 0
	l.buckets.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Fatalf("%d buckets kept after everyone went idle, want 1 (the fresh one)", n)
	}
}

// metricValue is one sample of /metrics, by name and labels as exposed.
func metricValue(t *testing.T, s *testServer, sample string) float64 {
	t.Helper()
	samples, _ := scrape(t, s)
	return samples[sample]
}

func TestClientRequestIDsAreKeptOnlyWhenShortAndPlain(t *testing.T) {
	s := startServer(t)
	for _, tc := range []struct {
		sent string
		kept bool
	}{
		{"trace-42.a_b", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
		{"two words", false},
		{"line\tbreak", false},
		{"ünïcode", false},
		{`{"level":"error"}`, false},
	} {
		req, _ := http.NewRequest("GET", s.URL+"/healthz", nil)
		req.Header.Set("X-Request-Id", tc.sent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("X-Request-Id")
		if kept := got == tc.sent; kept != tc.kept || got == "" {
			t.Errorf("sent %q, answered %q: kept=%v, want %v", tc.sent, got, kept, tc.kept)
		}
	}
}

func TestListeningBeyondLoopbackWithoutAPublicURLIsWarnedAbout(t *testing.T) {
	warning := "listening beyond loopback without --public-url"
	local := startServer(t)
	if strings.Contains(local.logs.String(), warning) {
		t.Errorf("warned on loopback:\n%s", local.logs)
	}
	wide := startServer(t, func(c *config) { c.Addr = "0.0.0.0:0" })
	if !strings.Contains(wide.logs.String(), warning) {
		t.Errorf("no warning when listening on every interface:\n%s", wide.logs)
	}
	pinned := startServer(t, func(c *config) { c.Addr = "0.0.0.0:0"; c.PublicURL = "https://rolecall.example.com" })
	if strings.Contains(pinned.logs.String(), warning) {
		t.Errorf("warned although --public-url is set:\n%s", pinned.logs)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rolecall test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTheServerSpeaksHTTPSWithACertificate(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	s := startServer(t, func(c *config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(strings.Replace(s.URL, "http://", "https://", 1) + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Fatalf("GET /healthz over TLS: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	// Plain HTTP on the TLS port gets no answer it could mistake for one.
	if resp, err := http.Get(s.URL + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP was served on the TLS listener")
		}
	}

	var stderr strings.Builder
	code := run(context.Background(), []string{"serve", "--tls-cert", certFile}, func(string) string { return "" }, io.Discard, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "tls-cert and tls-key") {
		t.Errorf("--tls-cert alone: exit %d, %q", code, stderr.String())
	}
	code = run(context.Background(), []string{"serve", "--tls-cert", keyFile, "--tls-key", certFile}, func(string) string { return "" }, io.Discard, &stderr)
	if code != 2 {
		t.Errorf("swapped certificate and key: exit %d, want 2", code)
	}
}

func TestTheRootRedirectsToTheDashboard(t *testing.T) {
	s := startServer(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/dashboard/" {
		t.Fatalf("GET /: %d Location %q, want 302 to /dashboard/", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := call(t, "GET", s.URL+"/nowhere", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nowhere: %d, want 404", resp.StatusCode)
	}
}

// TestAClientThatStopsReadingIsCutOffAndFreesItsSlot: four clients that ask
// for a 7 MB page and never read it hold every heavy-request slot. The write
// stall deadline ends them, so the next list is served instead of waiting
// out the whole WriteTimeout.
func TestAClientThatStopsReadingIsCutOffAndFreesItsSlot(t *testing.T) {
	s := startServer(t, func(c *config) {
		c.WriteStall = 500 * time.Millisecond
		// Long enough that only the stall deadline can free the slots in
		// time, however slowly (-race) the pages render.
		c.WriteTimeout, c.HeavyWait = 10*time.Minute, 2*time.Minute
	})
	id, base := s.connection(t, "stalled-readers")
	token := s.scimToken(t, id)
	big := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "big", "title": strings.Repeat("t", 7<<20)}
	if resp, out := call(t, "POST", base+"/Users", token, big); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST the big user: %d %v", resp.StatusCode, out)
	}
	path := strings.TrimPrefix(base, s.URL)
	for range 4 { // the default HeavyRequests
		c := rawConn(t, s)
		if _, err := io.WriteString(c, "GET "+path+"/Users?count=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+token+"\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		// and never read
	}
	time.Sleep(200 * time.Millisecond) // let them take their slots
	resp, out := call(t, "GET", base+"/Users?count=1&attributes=userName", token, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a list while four clients stall: %d %v, want 200 once their writes time out", resp.StatusCode, out)
	}
}
