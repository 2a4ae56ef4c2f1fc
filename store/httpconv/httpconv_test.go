package httpconv_test

import (
	"crypto/tls"
	"go/build"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/store/httpconv"
)

func TestBearer(t *testing.T) {
	for _, tc := range []struct {
		name, header, want string
		ok                 bool
	}{
		{"plain", "Bearer s3cret", "s3cret", true},
		{"scheme in any case", "bEaReR s3cret", "s3cret", true},
		{"spaces around the secret", "Bearer   s3cret  ", "s3cret", true},
		{"missing", "", "", false},
		{"other scheme", "Basic dXNlcjpwYXNz", "", false},
		{"scheme alone", "Bearer", "", false},
		{"empty secret", "Bearer    ", "", false},
		{"no space after the scheme", "Bearers3cret", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			got, ok := httpconv.Bearer(r)
			if got != tc.want || ok != tc.ok {
				t.Errorf("Bearer(%q) = %q, %v; want %q, %v", tc.header, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestBaseURL(t *testing.T) {
	plain := httptest.NewRequest("GET", "http://idp.example:8080/x", nil)
	secure := httptest.NewRequest("GET", "https://idp.example/x", nil)
	secure.TLS = &tls.ConnectionState{}
	for _, tc := range []struct {
		name, public string
		r            *http.Request
		want         string
	}{
		{"configured wins", "https://rolecall.example.com", plain, "https://rolecall.example.com"},
		{"configured, trailing slash dropped", "https://rolecall.example.com/", secure, "https://rolecall.example.com"},
		{"derived, plain", "", plain, "http://idp.example:8080"},
		{"derived, TLS", "", secure, "https://idp.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := httpconv.BaseURL(tc.public, tc.r); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRecorder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		status  int
		body    string
	}{
		{"nothing written is 200", func(w http.ResponseWriter, r *http.Request) {}, 200, ""},
		{"write without a status is 200", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") }, 200, "hi"},
		{"first status wins", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("ETag", `W/"1"`)
			w.WriteHeader(404)
			w.WriteHeader(500)
			io.WriteString(w, "gone")
		}, 404, "gone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec httpconv.Recorder
			tc.handler(&rec, httptest.NewRequest("GET", "/", nil))
			if rec.Status() != tc.status || string(rec.Body()) != tc.body {
				t.Errorf("got %d %q, want %d %q", rec.Status(), rec.Body(), tc.status, tc.body)
			}
		})
	}
	var rec httpconv.Recorder
	rec.Header().Set("ETag", `W/"1"`)
	if got := rec.Header().Get("ETag"); got != `W/"1"` {
		t.Errorf("header set before writing: got %q", got)
	}
}

// Every layer may use httpconv only while it imports nothing but the
// standard library (its doc comment says why).
func TestImportsOnlyTheStandardLibrary(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range pkg.Imports {
		if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
			t.Errorf("httpconv imports %s; it must import the standard library only", path)
		}
	}
}
