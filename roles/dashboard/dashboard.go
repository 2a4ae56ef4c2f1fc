package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Defaults of Options.
const (
	DefaultBasePath = "/dashboard/"
)

// Options configure the dashboard. The zero value is usable.
type Options struct {
	// BasePath is where the dashboard is mounted, with slashes on both ends
	// (default "/dashboard/"). The session cookie is scoped to it.
	BasePath string
	// APIPrefix is the path the Management API handler serves (default "/api/v2").
	APIPrefix string
	// PublicURL is the externally visible scheme://host[:port]. When set, a
	// POST must come from exactly that origin, and an https URL makes the
	// session cookie Secure. Empty means "the Host the request was sent to".
	PublicURL string
	// SecureCookies marks the session cookie Secure on every response; it is
	// Secure anyway on a request that came over TLS or with an https PublicURL.
	SecureCookies bool
	// Now is the clock for cookie lifetimes (default time.Now); tests
	// inject the store's. Sessions themselves (8 h, 1 h idle) are the
	// store's, behind the Management API.
	Now func() time.Time
}

// Dashboard is the web admin handler. Mount it at Options.BasePath. It is
// safe for concurrent use.
type Dashboard struct {
	api       http.Handler
	opts      Options
	base      string // BasePath without its trailing slash, e.g. "/dashboard"
	pages     map[string]*template.Template
	staticTag string // content hash of the static files, busts caches on change
	mux       *http.ServeMux
}

// New returns the dashboard over api, the Management API's handler (a
// *api.API), which it calls in-process for everything it shows and does.
// It panics if the embedded templates do not parse: that is a build defect,
// caught by any test.
func New(api http.Handler, opts Options) *Dashboard {
	if opts.BasePath == "" {
		opts.BasePath = DefaultBasePath
	}
	if !strings.HasPrefix(opts.BasePath, "/") {
		opts.BasePath = "/" + opts.BasePath
	}
	if !strings.HasSuffix(opts.BasePath, "/") {
		opts.BasePath += "/"
	}
	if opts.APIPrefix == "" {
		opts.APIPrefix = "/api/v2"
	}
	opts.APIPrefix = strings.TrimRight(opts.APIPrefix, "/")
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	if opts.Now == nil {
		opts.Now = time.Now
	}
	d := &Dashboard{
		api:  api,
		opts: opts,
		base: strings.TrimSuffix(opts.BasePath, "/"),
		mux:  http.NewServeMux(),
	}
	d.pages = mustParsePages()
	d.staticTag = staticHash()
	d.routes()
	return d
}

// ServeHTTP serves the dashboard's pages, forms and static files.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Pages hold tenant data and, once, a token secret: never cached, never
	// framed, no script or style but our own.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	d.mux.ServeHTTP(w, r)
}

// path is an absolute dashboard path: path("/roles") = "/dashboard/roles".
func (d *Dashboard) path(p string) string { return d.base + p }

// handlerFunc is a page or form handler of a signed-in session. It returns an
// error instead of writing one; see fail.
type handlerFunc func(w http.ResponseWriter, r *http.Request, s *session) error

// handle registers a handler that needs a session. Every POST is checked for
// its origin and CSRF token before the handler runs.
func (d *Dashboard) handle(method, pattern string, h handlerFunc) {
	d.mux.HandleFunc(method+" "+d.path(pattern), func(w http.ResponseWriter, r *http.Request) {
		s, reason, err := d.fromRequest(r)
		if err != nil {
			d.fail(w, r, nil, err)
			return
		}
		if s == nil {
			if reason != reasonNone {
				d.clearCookie(w, r)
			}
			d.toSignIn(w, r, reason)
			return
		}
		if r.Method == http.MethodPost {
			if err := d.checkOrigin(r); err != nil {
				d.forbidden(w, r, s, err)
				return
			}
			if !s.validCSRF(r.PostFormValue(csrfField)) {
				d.forbidden(w, r, s, notice("The form's security token is missing or stale (it changes when you sign in again), so it was refused and nothing changed. Reload the page and try again."))
				return
			}
		}
		if err := h(w, r, s); err != nil {
			d.fail(w, r, s, err)
		}
	})
}

// fail answers a handler's error: an API answer of 401 (the session ended,
// or its key was revoked or is no longer valid) sends the user to sign in;
// any other error is shown on an error page with the API's message and
// code. s is nil when the session itself could not be checked.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var ae *APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized {
		d.clearCookie(w, r)
		d.toSignIn(w, r, endReason(ae))
		return
	}
	status := http.StatusInternalServerError
	if ae != nil {
		status = ae.StatusCode
		if status == http.StatusNotFound && s != nil {
			d.notFound(w, r, s, ae)
			return
		}
	} else {
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("dashboard error")
		err = &APIError{StatusCode: status, Title: http.StatusText(status), Message: "Something went wrong on the server; the log has the details.", ErrorCode: "internal_error"}
	}
	d.render(w, r, s, status, "error", pageData{Title: http.StatusText(status), Error: err})
}

// notFoundPage is the 404 page's way back: the list of the section the
// missing page was in, when there is one, and the dashboard's home.
type notFoundPage struct {
	Err         error
	SectionName string
	SectionURL  string
	// BackURL is the dashboard page the browser came from, when it says so.
	BackURL string
}

// notFound answers a page that does not exist: an unknown dashboard path,
// or a detail page whose object the API does not have (its message and
// errorCode shown as they came).
func (d *Dashboard) notFound(w http.ResponseWriter, r *http.Request, s *session, ae *APIError) {
	p := notFoundPage{Err: ae}
	first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, d.base+"/"), "/")
	for _, sec := range sections {
		if strings.TrimPrefix(sec.Path, "/") == first && s.scopes[sec.Scope] {
			p.SectionName, p.SectionURL = sec.Name, d.path(sec.Path)
		}
	}
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && strings.HasPrefix(ref.Path, d.base+"/") && ref.Path != r.URL.Path {
		p.BackURL = ref.RequestURI()
	}
	section := ""
	if p.SectionURL != "" {
		section = first
	}
	d.render(w, r, s, http.StatusNotFound, "notfound", pageData{Title: "Not found", Section: section, Data: p})
}

// forbidden answers a POST refused before it reached the API.
func (d *Dashboard) forbidden(w http.ResponseWriter, r *http.Request, s *session, err error) {
	d.render(w, r, s, http.StatusForbidden, "error", pageData{Title: "Request refused", Error: &APIError{
		StatusCode: http.StatusForbidden, Title: http.StatusText(http.StatusForbidden), Message: err.Error(), ErrorCode: "csrf_check_failed",
	}})
}

// redirect answers a form with 303 See Other, so reloading the page that
// follows repeats nothing.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// done ends a form handler: an error from the API is flashed (and shown on
// the next page) unless it ended the session; success flashes ok. Either way
// the browser goes to back.
func (d *Dashboard) done(w http.ResponseWriter, r *http.Request, s *session, back string, err error, ok string) error {
	var ae *APIError
	switch {
	case errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized:
		return err
	case ae != nil:
		d.setFlash(w, r, s, flash{Error: ae, Form: formValues(r)})
	case err != nil:
		return err
	default:
		d.setFlash(w, r, s, flash{OK: ok})
	}
	redirect(w, r, back)
	return nil
}

// formValues keeps what the user typed, minus the CSRF token and anything
// secret-looking, so a refused form comes back filled in.
func formValues(r *http.Request) url.Values {
	v := url.Values{}
	for k, vals := range r.PostForm {
		if k == csrfField || k == "confirm" || k == "api_key" {
			continue
		}
		v[k] = vals
	}
	return v
}

// pageData is what every template gets.
type pageData struct {
	Title   string
	Section string // the navigation entry to highlight
	Base    string // the dashboard's base path without the trailing slash
	Static  string // cache-busting tag for static URLs
	CSRF    string
	Key     *keyInfo // nil on the sign-in page
	Flash   flash
	Error   error // the page's own error, shown in place of its content
	Data    any
	scopes  map[string]bool
}

// Can reports whether the signed-in key holds scope; pages use it to hide
// what the key cannot do.
func (p pageData) Can(scope string) bool { return p.scopes[scope] }

// Value is what the user last typed into a form field that was refused, or
// def.
func (p pageData) Value(field, def string) string {
	if p.Flash.Form != nil {
		if v, ok := p.Flash.Form[field]; ok && len(v) > 0 {
			return v[0]
		}
	}
	return def
}

// TargetURL is the dashboard page of an audit entry's target, or "".
func (p pageData) TargetURL(typ, id string) string {
	section := map[string]string{
		"connection": "/connections/", "group": "/groups/", "user": "/users/",
		"role": "/roles/", "organization": "/organizations/", "resource_server": "/apis/",
		"event_stream": "/event-streams/",
	}[typ]
	switch typ {
	case "tenant":
		return p.Base + "/settings"
	case "api_key":
		return p.Base + "/api-keys"
	}
	if section == "" || id == "" {
		return ""
	}
	return p.Base + section + url.PathEscape(id)
}

// IDURL is the dashboard page of an object named only by its id (its
// prefix tells its kind), or "".
func (p pageData) IDURL(id string) string {
	kind := map[string]string{"usr": "user", "grp": "group", "rol": "role", "org": "organization", "con": "connection", "rsv": "resource_server", "est": "event_stream"}[idKind(id)]
	return p.TargetURL(kind, id)
}

// Checked reports whether a refused form had value among the values of
// field (a checkbox or radio to show as it was), or def when there was no
// refused form.
func (p pageData) Checked(field, value string, def bool) bool {
	if p.Flash.Form == nil {
		return def
	}
	for _, v := range p.Flash.Form[field] {
		if v == value {
			return true
		}
	}
	return false
}

// render writes a page. s may be nil (sign-in page).
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, s *session, status int, name string, p pageData) {
	t, ok := d.pages[name]
	if !ok {
		panic("dashboard: no template " + name)
	}
	p.Base, p.Static = d.base, d.staticTag
	if s != nil {
		p.CSRF = s.csrf
		p.Key = &s.key
		p.scopes = s.scopes
		if f, ok := d.takeFlash(w, r, s); ok && p.Flash.empty() {
			p.Flash = f
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		zerolog.Ctx(r.Context()).Error().Err(err).Str("template", name).Msg("dashboard: render")
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (d *Dashboard) routes() {
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix(d.path("/static/"), http.FileServerFS(static))
	d.mux.Handle("GET "+d.path("/static/"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	}))
	d.mux.HandleFunc("GET "+d.path("/login"), d.signInPage)
	d.mux.HandleFunc("POST "+d.path("/login"), d.signIn)
	d.handle("POST", "/logout", d.signOut)
	d.handle("GET", "/{$}", d.home)

	d.handle("GET", "/connections", d.connections)
	d.handle("POST", "/connections", d.createConnection)
	d.handle("GET", "/connections/{id}", d.connection)
	d.handle("POST", "/connections/{id}/delete", d.deleteConnection)
	d.handle("POST", "/connections/{id}/scim", d.enableSCIM)
	d.handle("POST", "/connections/{id}/tokens", d.createToken)
	d.handle("POST", "/connections/{id}/tokens/{token_id}/revoke", d.revokeToken)
	d.handle("POST", "/connections/{id}/role-mappings", d.createRoleMapping)
	d.handle("POST", "/connections/{id}/role-mappings/{mapping_id}/delete", d.deleteRoleMapping)

	d.handle("GET", "/groups", d.groups)
	d.handle("GET", "/groups/{id}", d.group)
	d.handle("GET", "/groups/{id}/roles", d.groupRoles)
	d.handle("GET", "/groups/{id}/roles/assign", d.assignRolesPage)
	d.handle("POST", "/groups/{id}/roles", d.assignRoles)
	d.handle("POST", "/groups/{id}/roles/remove", d.removeRole)

	d.handle("GET", "/users", d.users)
	d.handle("GET", "/users/{id}", d.user)
	d.handle("GET", "/users/{id}/roles/assign", d.assignRolesPage)
	d.handle("POST", "/users/{id}/roles", d.assignRoles)
	d.handle("POST", "/users/{id}/roles/remove", d.removeRole)
	d.handle("POST", "/users/{id}/permissions", d.addUserPermission)
	d.handle("POST", "/users/{id}/permissions/remove", d.removeUserPermission)

	d.handle("GET", "/roles", d.roles)
	d.handle("POST", "/roles", d.createRole)
	d.handle("GET", "/roles/{id}", d.role)
	d.handle("POST", "/roles/{id}", d.updateRole)
	d.handle("GET", "/roles/{id}/delete", d.deleteRolePage)
	d.handle("POST", "/roles/{id}/delete", d.deleteRole)
	d.handle("GET", "/roles/{id}/permissions", d.rolePermissions)
	d.handle("POST", "/roles/{id}/permissions", d.addPermission)
	d.handle("POST", "/roles/{id}/permissions/remove", d.removePermission)
	d.handle("GET", "/roles/{id}/groups", d.roleGroups)
	d.handle("GET", "/roles/{id}/users", d.roleUsers)
	d.handle("GET", "/roles/{id}/users/add", d.roleUsersAddPage)
	d.handle("POST", "/roles/{id}/users", d.assignRoleUsers)
	d.handle("POST", "/roles/{id}/users/remove", d.removeRoleUser)
	d.handle("GET", "/roles/{id}/organizations", d.roleOrganizations)

	d.handle("GET", "/role-rules", d.roleRules)
	d.handle("GET", "/role-rules/new", d.roleRuleEditor)
	d.handle("POST", "/role-rules", d.saveRoleRule)
	d.handle("GET", "/role-rules/{id}", d.roleRuleEditor)
	d.handle("POST", "/role-rules/{id}", d.saveRoleRule)
	d.handle("POST", "/role-rules/{id}/delete", d.deleteRoleRule)

	d.handle("GET", "/apis", d.apis)
	d.handle("POST", "/apis", d.createAPI)
	d.handle("GET", "/apis/{id}", d.apiPage)
	d.handle("POST", "/apis/{id}", d.updateAPI)
	d.handle("POST", "/apis/{id}/scopes", d.addScope)
	d.handle("POST", "/apis/{id}/scopes/remove", d.removeScope)
	d.handle("POST", "/apis/{id}/delete", d.deleteAPI)

	d.handle("GET", "/organizations", d.organizations)
	d.handle("POST", "/organizations", d.createOrganization)
	d.handle("GET", "/organizations/{id}", d.organization)
	d.handle("POST", "/organizations/{id}", d.updateOrganization)
	d.handle("POST", "/organizations/{id}/delete", d.deleteOrganization)
	d.handle("GET", "/organizations/{id}/connections", d.organizationConnections)
	d.handle("POST", "/organizations/{id}/connections", d.enableOrganizationConnection)
	d.handle("POST", "/organizations/{id}/connections/{connection_id}", d.updateOrganizationConnection)
	d.handle("POST", "/organizations/{id}/connections/{connection_id}/remove", d.disableOrganizationConnection)
	d.handle("GET", "/organizations/{id}/members", d.organizationMembers)
	d.handle("POST", "/organizations/{id}/members", d.addMembers)
	d.handle("GET", "/organizations/{id}/members/add", d.addMembersPage)
	d.handle("POST", "/organizations/{id}/members/remove", d.removeMember)
	d.handle("GET", "/organizations/{id}/members/{user_id}", d.organizationMember)
	d.handle("GET", "/organizations/{id}/members/{user_id}/roles/assign", d.assignRolesPage)
	d.handle("POST", "/organizations/{id}/members/{user_id}/roles", d.assignRoles)
	d.handle("POST", "/organizations/{id}/members/{user_id}/roles/remove", d.removeRole)
	d.handle("GET", "/organizations/{id}/groups", d.organizationGroups)
	d.handle("GET", "/organizations/{id}/groups/{group_id}", d.organizationGroup)
	d.handle("GET", "/organizations/{id}/groups/{group_id}/roles/assign", d.assignRolesPage)
	d.handle("POST", "/organizations/{id}/groups/{group_id}/roles", d.assignRoles)
	d.handle("POST", "/organizations/{id}/groups/{group_id}/roles/remove", d.removeRole)

	d.handle("GET", "/api-keys", d.apiKeys)
	d.handle("POST", "/api-keys", d.createAPIKey)
	d.handle("POST", "/api-keys/{id}/revoke", d.revokeAPIKey)

	d.handle("GET", "/logs", d.logs)

	d.eventStreamRoutes()

	d.handle("GET", "/settings", d.settings)
	d.handle("POST", "/settings", d.updateSettings)

	// Anything else under the base path is the 404 page.
	d.handle("GET", "/", func(w http.ResponseWriter, r *http.Request, s *session) error {
		return &APIError{StatusCode: http.StatusNotFound, Title: "Not Found", Message: "There is no dashboard page at " + r.URL.Path + ".", ErrorCode: "not_found"}
	})
}

// home sends the user to the first section the key can read.
func (d *Dashboard) home(w http.ResponseWriter, r *http.Request, s *session) error {
	for _, sec := range sections {
		if s.scopes[sec.Scope] {
			redirect(w, r, d.path(sec.Path))
			return nil
		}
	}
	d.render(w, r, s, http.StatusOK, "home", pageData{Title: "Rolecall"})
	return nil
}

func mustParsePages() map[string]*template.Template {
	layout := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		pages[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, n))
	}
	return pages
}

func staticHash() string {
	h := sha256.New()
	_ = fs.WalkDir(staticFS, "static", func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			b, _ := staticFS.ReadFile(p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}
