package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/rolecall/rolecall/store/httpconv"
)

// APIError is a Management API error answer, shown to the user as it came:
// {"statusCode","error","message","errorCode"}.
type APIError struct {
	StatusCode int    `json:"statusCode"`
	Title      string `json:"error"`
	Message    string `json:"message"`
	ErrorCode  string `json:"errorCode"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s (%s)", e.Message, e.ErrorCode)
}

// call makes one Management API request as the session's key.
func (d *Dashboard) call(r *http.Request, s *session, method, path string, body, out any) error {
	return d.callAs(r, s.secret, method, path, body, out)
}

// callAs serves one Management API request in-process with secret as the
// bearer key. The request keeps the browser request's context (logger),
// request id (audit entries), Host and TLS state (the SCIM endpoint URLs the
// API derives from them). A JSON answer is decoded into out when it is not
// nil; an error answer is returned as *APIError.
func (d *Dashboard) callAs(r *http.Request, secret, method, path string, body, out any) error {
	var rd io.Reader = http.NoBody
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(r.Context(), method, d.opts.APIPrefix+path, rd)
	if err != nil {
		return err
	}
	req.Host, req.TLS, req.RemoteAddr = r.Host, r.TLS, r.RemoteAddr
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	if id := r.Header.Get(httpconv.RequestIDHeader); id != "" {
		req.Header.Set(httpconv.RequestIDHeader, id)
	}
	rec := &httpconv.Recorder{}
	d.api.ServeHTTP(rec, req)
	if status := rec.Status(); status >= 400 {
		ae := &APIError{}
		if err := json.Unmarshal(rec.Body(), ae); err != nil || ae.Message == "" {
			ae = &APIError{Message: "The Management API answered " + strconv.Itoa(status) + " without an error body.", ErrorCode: "unexpected_answer"}
		}
		ae.StatusCode = status
		if ae.Title == "" {
			ae.Title = http.StatusText(status)
		}
		return ae
	}
	if out != nil && len(rec.Body()) > 0 {
		if err := json.Unmarshal(rec.Body(), out); err != nil {
			return fmt.Errorf("dashboard: decode the answer of %s %s: %w", method, path, err)
		}
	}
	return nil
}

// seg escapes one path segment of an API or dashboard path.
func seg(s string) string { return url.PathEscape(s) }

// query encodes key/value pairs into "?k=v&…", leaving out empty values.
func query(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}
