package dashboard

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Names the dashboard gives the browser.
const (
	cookieName = "rolecall_session"
	flashName  = "rolecall_flash"
	csrfField  = "csrf"
)

// Why a request lands on the sign-in page (the ?m= parameter).
const (
	reasonNone      = ""
	reasonExpired   = "expired"
	reasonRevoked   = "revoked"
	reasonSignedOut = "signed-out"
)

// keyInfo is the signed-in API key as the API describes it.
type keyInfo struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

// sessionInfo is a session as POST /sessions and GET /sessions/self
// describe it.
type sessionInfo struct {
	ID        string    `json:"id"`
	ExpiresAt time.Time `json:"expires_at"`
	Key       keyInfo   `json:"key"`
	Secret    string    `json:"session"` // only from POST /sessions
}

// session is one signed-in browser as a request sees it. Sessions live in
// the store, behind the Management API (POST /sessions), so any node
// serves any of them and a restart signs nobody out: the cookie holds the
// session secret (never the API key's), every API call carries it as the
// bearer credential, and GET /sessions/self says on every request whether
// it is still live and what its key may do. Nothing about a session is
// kept in this process: the CSRF token is derived from the secret, and a
// flash message travels in a cookie of its own.
type session struct {
	secret string // the session secret: the bearer credential of every API call
	key    keyInfo
	scopes map[string]bool
	csrf   string
}

// flash is a message for the next page the session sees: the outcome of a
// form, with what was typed when the API refused it.
type flash struct {
	OK    string
	Error error
	Form  url.Values
}

func (f flash) empty() bool { return f.OK == "" && f.Error == nil }

// derive is a key for one purpose, derived from the session secret: any
// node that sees the cookie computes the same one, and nobody without the
// secret can.
func derive(secret, purpose string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("rolecall dashboard " + purpose))
	return m.Sum(nil)
}

func newSession(secret string, key keyInfo) *session {
	s := &session{secret: secret, key: key, scopes: map[string]bool{},
		csrf: base64.RawURLEncoding.EncodeToString(derive(secret, "csrf"))}
	for _, sc := range key.Scopes {
		s.scopes[sc] = true
	}
	return s
}

// validCSRF compares a submitted token with the session's in constant time.
func (s *session) validCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
}

// fromRequest returns the live session the request's cookie names, or nil
// and why there is none (reasonNone: no cookie). err is a failure to find
// out (the API could not answer), not a missing session.
func (d *Dashboard) fromRequest(r *http.Request) (s *session, reason string, err error) {
	c, cerr := r.Cookie(cookieName)
	if cerr != nil || c.Value == "" {
		return nil, reasonNone, nil
	}
	var info sessionInfo
	if err := d.callAs(r, c.Value, http.MethodGet, "/sessions/self", nil, &info); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.StatusCode < 500 {
			return nil, endReason(ae), nil
		}
		return nil, "", err
	}
	return newSession(c.Value, info.Key), reasonNone, nil
}

// endReason is why the API refused a session: it expired, or it was ended
// (signed out, its key revoked) or is unknown.
func endReason(ae *APIError) string {
	if ae.ErrorCode == "session_expired" {
		return reasonExpired
	}
	return reasonRevoked
}

// maxFlashCookie bounds the flash cookie (browsers keep 4 KiB per cookie).
const maxFlashCookie = 3000

// flashCookie is what a flash travels as. Its MAC, keyed by the session,
// keeps another site or session from planting a message; its content (what
// the user typed and the API's answer) is not secret, and templates escape
// it as any other text.
type flashCookie struct {
	OK    string     `json:"ok,omitempty"`
	Error *APIError  `json:"error,omitempty"`
	Form  url.Values `json:"form,omitempty"`
}

// setFlash leaves f for the next page of the session, in a cookie that
// lives a minute. What was typed is dropped if it would not fit.
func (d *Dashboard) setFlash(w http.ResponseWriter, r *http.Request, s *session, f flash) {
	fc := flashCookie{OK: f.OK, Form: f.Form}
	var ae *APIError
	if errors.As(f.Error, &ae) {
		fc.Error = ae
	} else if f.Error != nil {
		fc.Error = &APIError{Message: f.Error.Error()}
	}
	value := sealFlash(s, fc)
	if len(value) > maxFlashCookie {
		fc.Form = nil
		if fc.Error != nil && len(fc.Error.Message) > 512 {
			short := *fc.Error
			short.Message = strings.ToValidUTF8(short.Message[:512], "") + "…"
			fc.Error = &short
		}
		if len(fc.OK) > 512 {
			fc.OK = strings.ToValidUTF8(fc.OK[:512], "") + "…"
		}
		value = sealFlash(s, fc)
	}
	http.SetCookie(w, &http.Cookie{
		Name: flashName, Value: value, Path: d.opts.BasePath, MaxAge: 60,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: d.secure(r),
	})
}

func sealFlash(s *session, fc flashCookie) string {
	raw, _ := json.Marshal(fc) // plain strings: cannot fail
	m := hmac.New(sha256.New, derive(s.secret, "flash"))
	m.Write(raw)
	return base64.RawURLEncoding.EncodeToString(raw) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// takeFlash returns the flash the request's cookie holds for s, if it is
// genuine, and deletes the cookie.
func (d *Dashboard) takeFlash(w http.ResponseWriter, r *http.Request, s *session) (flash, bool) {
	c, err := r.Cookie(flashName)
	if err != nil {
		return flash{}, false
	}
	http.SetCookie(w, &http.Cookie{
		Name: flashName, Value: "", Path: d.opts.BasePath, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: d.secure(r),
	})
	body, sig, ok := strings.Cut(c.Value, ".")
	raw, err1 := base64.RawURLEncoding.DecodeString(body)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err1 != nil || err2 != nil {
		return flash{}, false
	}
	m := hmac.New(sha256.New, derive(s.secret, "flash"))
	m.Write(raw)
	var fc flashCookie
	if !hmac.Equal(mac, m.Sum(nil)) || json.Unmarshal(raw, &fc) != nil {
		return flash{}, false
	}
	f := flash{OK: fc.OK, Form: fc.Form}
	if fc.Error != nil {
		f.Error = fc.Error
	}
	return f, !f.empty()
}

// secure reports whether the session cookie must be Secure.
func (d *Dashboard) secure(r *http.Request) bool {
	return d.opts.SecureCookies || r.TLS != nil || strings.HasPrefix(d.opts.PublicURL, "https://")
}

func (d *Dashboard) setCookie(w http.ResponseWriter, r *http.Request, value string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: value, Path: d.opts.BasePath,
		Expires: expires, MaxAge: int(expires.Sub(d.opts.Now()).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: d.secure(r),
	})
}

func (d *Dashboard) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: "", Path: d.opts.BasePath, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: d.secure(r),
	})
}

// checkOrigin refuses a POST that a browser says came from another site, or
// that says nothing about where it came from. Sec-Fetch-Site, when sent, must
// be same-origin; Origin (or, without it, Referer) must name this server:
// PublicURL's origin when set, else the Host the request was sent to.
func (d *Dashboard) checkOrigin(r *http.Request) error {
	refused := notice("This form was not sent from the Rolecall dashboard's own pages, so it was refused and nothing changed.")
	site := r.Header.Get("Sec-Fetch-Site")
	if site != "" && site != "same-origin" && site != "none" {
		return refused
	}
	from := r.Header.Get("Origin")
	if from == "" {
		from = r.Header.Get("Referer")
	}
	if from == "" {
		if site == "" {
			return refused
		}
		return nil
	}
	u, err := url.Parse(from)
	if err != nil || u.Host == "" {
		return refused
	}
	if d.opts.PublicURL != "" {
		want, err := url.Parse(d.opts.PublicURL)
		if err != nil || !strings.EqualFold(u.Scheme, want.Scheme) || !strings.EqualFold(u.Host, want.Host) {
			return refused
		}
		return nil
	}
	if !strings.EqualFold(u.Host, r.Host) {
		return refused
	}
	return nil
}

// toSignIn sends the browser to the sign-in page, remembering where it was
// going when that was a page (a GET) of the dashboard.
func (d *Dashboard) toSignIn(w http.ResponseWriter, r *http.Request, reason string) {
	q := url.Values{}
	if reason != "" {
		q.Set("m", reason)
	}
	if r.Method == http.MethodGet && r.URL.Path != d.path("/") {
		q.Set("next", r.URL.RequestURI())
	}
	to := d.path("/login")
	if len(q) > 0 {
		to += "?" + q.Encode()
	}
	redirect(w, r, to)
}

// safeNext is the page to go to after signing in: a path inside the dashboard
// (never another site), or the dashboard's home.
func (d *Dashboard) safeNext(next string) string {
	if strings.HasPrefix(next, d.opts.BasePath) && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return d.opts.BasePath
}

var signInMessages = map[string]string{
	reasonExpired:   "Your session expired. Sign in again to continue.",
	reasonRevoked:   "Your session ended because the API key was revoked or is no longer valid, or because it was signed out elsewhere. Sign in with a valid key.",
	reasonSignedOut: "You have signed out.",
}

type signInData struct {
	Message string
	Next    string
}

func (d *Dashboard) signInPage(w http.ResponseWriter, r *http.Request) {
	if s, _, _ := d.fromRequest(r); s != nil {
		redirect(w, r, d.safeNext(r.URL.Query().Get("next")))
		return
	}
	d.render(w, r, nil, http.StatusOK, "login", pageData{Title: "Sign in", Data: signInData{
		Message: signInMessages[r.URL.Query().Get("m")], Next: r.URL.Query().Get("next"),
	}})
}

// signIn starts a session for the key with POST /sessions, which also
// checks the key, and keeps only the session secret, in the cookie.
func (d *Dashboard) signIn(w http.ResponseWriter, r *http.Request) {
	next := r.PostFormValue("next")
	if err := d.checkOrigin(r); err != nil {
		d.render(w, r, nil, http.StatusForbidden, "login", pageData{Title: "Sign in", Error: err, Data: signInData{Next: next}})
		return
	}
	secret := strings.TrimSpace(r.PostFormValue("api_key"))
	if secret == "" {
		d.render(w, r, nil, http.StatusBadRequest, "login", pageData{Title: "Sign in",
			Error: notice("Enter an API key."), Data: signInData{Next: next}})
		return
	}
	var info sessionInfo
	if err := d.callAs(r, secret, http.MethodPost, "/sessions", nil, &info); err != nil {
		status := http.StatusInternalServerError
		var ae *APIError
		if errors.As(err, &ae) {
			status = ae.StatusCode
		}
		d.render(w, r, nil, status, "login", pageData{Title: "Sign in", Error: err, Data: signInData{Next: next}})
		return
	}
	d.setCookie(w, r, info.Secret, info.ExpiresAt)
	redirect(w, r, d.safeNext(next))
}

// signOut ends the session in the store (DELETE /sessions/self), so no
// node accepts its cookie any more, and deletes the cookie.
func (d *Dashboard) signOut(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := d.call(r, s, http.MethodDelete, "/sessions/self", nil, nil); err != nil && !isSessionEnd(err) {
		return err
	}
	d.clearCookie(w, r)
	redirect(w, r, d.path("/login?m="+reasonSignedOut))
	return nil
}

// notice is a sentence for the person at the dashboard, shown as it is: it
// is written as prose (capital, full stop), unlike an error to wrap.
type notice string

func (n notice) Error() string { return string(n) }
