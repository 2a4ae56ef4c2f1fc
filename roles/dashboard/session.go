package dashboard

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Names the dashboard gives the browser.
const (
	cookieName = "rolecall_session"
	csrfField  = "csrf"
)

// Why a request lands on the sign-in page (the ?m= parameter).
const (
	reasonNone      = ""
	reasonExpired   = "expired"
	reasonRevoked   = "revoked"
	reasonSignedOut = "signed-out"
)

// keyInfo is the signed-in API key as GET /api-keys/self describes it.
type keyInfo struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

// session is one signed-in browser. The API key's secret lives only here, in
// server memory: the browser holds nothing but the random session id.
type session struct {
	idHash  [32]byte // SHA-256 of the cookie value; the store's key
	secret  string   // the API key, sent to the API as a bearer token
	key     keyInfo
	scopes  map[string]bool
	csrf    string
	created time.Time

	mu       sync.Mutex
	lastSeen time.Time
	flash    flash
}

// flash is a message for the next page the session sees: the outcome of a
// form, with what was typed when the API refused it.
type flash struct {
	OK    string
	Error error
	Form  url.Values
}

func (f flash) empty() bool { return f.OK == "" && f.Error == nil }

func (s *session) setFlash(f flash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flash = f
}

func (s *session) takeFlash() (flash, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flash
	s.flash = flash{}
	return f, !f.empty()
}

// validCSRF compares a submitted token with the session's in constant time.
func (s *session) validCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
}

// sessionStore keeps sessions in memory: a restart signs everyone out, which
// is the safe direction. Expired sessions are dropped when met and swept
// whenever a session is created.
type sessionStore struct {
	now      func() time.Time
	lifetime time.Duration // absolute
	idle     time.Duration

	mu   sync.Mutex
	byID map[[32]byte]*session
}

func newSessionStore(now func() time.Time, lifetime, idle time.Duration) *sessionStore {
	return &sessionStore{now: now, lifetime: lifetime, idle: idle, byID: map[[32]byte]*session{}}
}

// randomToken is 256 random bits, base64url-encoded.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a session for a key and returns it with the cookie value
// that names it.
func (st *sessionStore) create(secret string, key keyInfo) (*session, string) {
	id := randomToken()
	now := st.now()
	s := &session{
		idHash: sha256.Sum256([]byte(id)), secret: secret, key: key, scopes: map[string]bool{},
		csrf: randomToken(), created: now, lastSeen: now,
	}
	for _, sc := range key.Scopes {
		s.scopes[sc] = true
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for h, old := range st.byID {
		if st.expired(old, now) {
			delete(st.byID, h)
		}
	}
	st.byID[s.idHash] = s
	return s, id
}

func (st *sessionStore) expired(s *session, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !now.Before(s.created.Add(st.lifetime)) || !now.Before(s.lastSeen.Add(st.idle))
}

// fromRequest returns the live session the request's cookie names, marking
// it used, or nil. An expired session is ended.
func (st *sessionStore) fromRequest(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil || c.Value == "" {
		return nil
	}
	h := sha256.Sum256([]byte(c.Value))
	now := st.now()
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.byID[h]
	if s == nil {
		return nil
	}
	if st.expired(s, now) {
		delete(st.byID, h)
		return nil
	}
	s.mu.Lock()
	s.lastSeen = now
	s.mu.Unlock()
	return s
}

// whyMissing tells a request without a live session whether it had one
// (that expired or ended) or never signed in.
func (st *sessionStore) whyMissing(r *http.Request) string {
	if c, err := r.Cookie(cookieName); err == nil && c.Value != "" {
		return reasonExpired
	}
	return reasonNone
}

func (st *sessionStore) end(s *session) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.byID, s.idHash)
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
	reasonRevoked:   "Your session ended because the API key was revoked or is no longer valid. Sign in with a valid key.",
	reasonSignedOut: "You have signed out.",
}

type signInData struct {
	Message string
	Next    string
}

func (d *Dashboard) signInPage(w http.ResponseWriter, r *http.Request) {
	if s := d.sessions.fromRequest(r); s != nil {
		redirect(w, r, d.safeNext(r.URL.Query().Get("next")))
		return
	}
	d.render(w, r, nil, http.StatusOK, "login", pageData{Title: "Sign in", Data: signInData{
		Message: signInMessages[r.URL.Query().Get("m")], Next: r.URL.Query().Get("next"),
	}})
}

// signIn checks the key with GET /api-keys/self and starts a session.
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
	var key keyInfo
	if err := d.callAs(r, secret, http.MethodGet, "/api-keys/self", nil, &key); err != nil {
		status := http.StatusInternalServerError
		var ae *APIError
		if errors.As(err, &ae) {
			status = ae.StatusCode
		}
		d.render(w, r, nil, status, "login", pageData{Title: "Sign in", Error: err, Data: signInData{Next: next}})
		return
	}
	s, id := d.sessions.create(secret, key)
	d.setCookie(w, r, id, s.created.Add(d.opts.SessionLifetime))
	redirect(w, r, d.safeNext(next))
}

func (d *Dashboard) signOut(w http.ResponseWriter, r *http.Request, s *session) error {
	d.sessions.end(s)
	d.clearCookie(w, r)
	redirect(w, r, d.path("/login?m="+reasonSignedOut))
	return nil
}

// notice is a sentence for the person at the dashboard, shown as it is: it
// is written as prose (capital, full stop), unlike an error to wrap.
type notice string

func (n notice) Error() string { return string(n) }
