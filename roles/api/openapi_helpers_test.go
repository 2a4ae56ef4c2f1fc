package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/rolecall/rolecall/roles/api"
)

// openAPISpec is the OpenAPI document as the tests check it: loaded,
// validated and routed once (it is immutable), from the file the binary
// embeds.
type openAPISpec struct {
	doc    *openapi3.T
	router routers.Router
}

var loadOpenAPI = sync.OnceValues(func() (*openAPISpec, error) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		return nil, err
	}
	return parseOpenAPI(raw)
})

// parseOpenAPI loads and validates a document and routes it by path under
// the prefix (its servers entry is relative, which the router cannot match).
func parseOpenAPI(raw []byte) (*openAPISpec, error) {
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &openAPISpec{doc: doc, router: router}, nil
}

func mustOpenAPI(tb testing.TB) *openAPISpec {
	tb.Helper()
	spec, err := loadOpenAPI()
	if err != nil {
		tb.Fatalf("roles/api/openapi.json: %v", err)
	}
	return spec
}

// checkResponse validates one Management API answer (status, content type
// and body) against the document, failing the test on a mismatch. A request
// for a path the document does not have must get the JSON 404 (or 405) in
// the error shape.
func checkResponse(tb testing.TB, method, path string, status int, header http.Header, body []byte) {
	tb.Helper()
	if err := mustOpenAPI(tb).validate(method, path, status, header, body); err != nil {
		tb.Errorf("%s %s: the %d answer does not match the OpenAPI document: %v\nbody: %.500s", method, path, status, err, body)
	}
}

func (s *openAPISpec) validate(method, path string, status int, header http.Header, body []byte) error {
	u, err := url.Parse(path)
	if err != nil {
		return err
	}
	u.Path = strings.TrimPrefix(u.Path, api.Prefix)
	req := &http.Request{Method: method, URL: u, Header: http.Header{}}
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		// Not a documented operation: the catch-all's error shape.
		return s.validateError(status, header, body)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// validateError checks an answer to an undocumented path or method.
func (s *openAPISpec) validateError(status int, header http.Header, body []byte) error {
	route := &routers.Route{Spec: s.doc, Method: "GET", Path: "/__error", Operation: &openapi3.Operation{
		Responses: openapi3.NewResponses(openapi3.WithName("default", s.doc.Components.Responses["Error"].Value)),
	}}
	if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
		return &openapi3.SchemaError{Reason: "an undocumented path or method answered " + http.StatusText(status)}
	}
	req, _ := http.NewRequest("GET", "/__error", nil)
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route},
		Status:                 status, Header: header, Body: io.NopCloser(bytes.NewReader(body)),
	})
}
