package dashboard

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/rolecall/rolecall/roles/api"
)

// The APIs (resource servers) pages, and the permission picker built on
// them: a permission is one scope of one API, so forms pick both from what
// exists instead of taking typed text.

// pickerAPIPages bounds how many pages of APIs the permission picker reads.
const pickerAPIPages = 10

// permissionPicker is what the permission forms offer: every API with the
// scopes not granted yet. Known is false when the key cannot read the APIs
// (read:resource_servers); the form then says so instead of offering
// nothing.
type permissionPicker struct {
	Known bool
	APIs  []pickerAPI
	More  bool // more APIs exist than the picker read
}

type pickerAPI struct {
	Identifier string
	Name       string
	Scopes     []apiScope // the scopes not granted yet
	Granted    int        // how many of its scopes are granted already
}

// Any reports whether there is a scope left to pick.
func (p permissionPicker) Any() bool {
	for _, a := range p.APIs {
		if len(a.Scopes) > 0 {
			return true
		}
	}
	return false
}

// allAPIs reads the APIs, up to pickerAPIPages pages; more reports that it
// stopped there.
func (d *Dashboard) allAPIs(r *http.Request, s *session) (apis []resourceServer, more bool, err error) {
	from := ""
	for range pickerAPIPages {
		var list resourceServerList
		if err := d.call(r, s, "GET", "/resource-servers"+query("take", "100", "from", from), nil, &list); err != nil {
			return nil, false, err
		}
		apis = append(apis, list.ResourceServers...)
		if list.Next == "" {
			return apis, false, nil
		}
		from = list.Next
	}
	return apis, true, nil
}

// picker builds the permission picker, leaving out what granted holds.
func (d *Dashboard) picker(r *http.Request, s *session, granted []permission) (permissionPicker, error) {
	if !s.scopes[api.ScopeReadResourceServers] {
		return permissionPicker{}, nil
	}
	apis, more, err := d.allAPIs(r, s)
	if err != nil {
		return permissionPicker{}, err
	}
	has := map[[2]string]bool{}
	for _, g := range granted {
		has[[2]string{g.ResourceServerIdentifier, g.PermissionName}] = true
	}
	p := permissionPicker{Known: true, More: more}
	for _, a := range apis {
		pa := pickerAPI{Identifier: a.Identifier, Name: a.Name}
		for _, sc := range a.Scopes {
			if has[[2]string{a.Identifier, sc.Value}] {
				pa.Granted++
				continue
			}
			pa.Scopes = append(pa.Scopes, sc)
		}
		p.APIs = append(p.APIs, pa)
	}
	return p, nil
}

type apisPage struct {
	APIs  []resourceServer
	Pager pager
}

// apis is the APIs page: each API with its identifier and scopes, and a
// form to create one.
func (d *Dashboard) apis(w http.ResponseWriter, r *http.Request, s *session) error {
	from := r.URL.Query().Get("from")
	var list resourceServerList
	if err := d.call(r, s, "GET", "/resource-servers"+query("take", strconv.Itoa(pageSize), "from", from), nil, &list); err != nil {
		return err
	}
	p := apisPage{APIs: list.ResourceServers, Pager: pagerOf(d.path("/apis"), "from", from, list.Next, "")}
	d.render(w, r, s, http.StatusOK, "apis", pageData{Title: "APIs", Section: "apis", Data: p})
	return nil
}

// parseScopes reads the create form's scopes: one a line, the value then
// an optional description after the first space.
func parseScopes(text string) []apiScope {
	out := []apiScope{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		value, desc, _ := strings.Cut(line, " ")
		out = append(out, apiScope{Value: value, Description: strings.TrimSpace(desc)})
	}
	return out
}

func (d *Dashboard) createAPI(w http.ResponseWriter, r *http.Request, s *session) error {
	body := map[string]any{
		"identifier": strings.TrimSpace(r.PostFormValue("identifier")),
		"scopes":     parseScopes(r.PostFormValue("scopes")),
	}
	if name := strings.TrimSpace(r.PostFormValue("name")); name != "" {
		body["name"] = name
	}
	var created resourceServer
	if err := d.call(r, s, "POST", "/resource-servers", body, &created); err != nil {
		return d.done(w, r, s, d.path("/apis"), err, "")
	}
	return d.done(w, r, s, d.path("/apis/"+seg(created.ID)), nil, "API "+created.Name+" created.")
}

// apiPage is one API's page: its name, its scopes (add, change a description,
// remove) and delete.
func (d *Dashboard) apiPage(w http.ResponseWriter, r *http.Request, s *session) error {
	var rs resourceServer
	if err := d.call(r, s, "GET", "/resource-servers/"+seg(r.PathValue("id")), nil, &rs); err != nil {
		return err
	}
	d.render(w, r, s, http.StatusOK, "api", pageData{Title: rs.Name, Section: "apis", Data: rs})
	return nil
}

func (d *Dashboard) updateAPI(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	err := d.call(r, s, "PATCH", "/resource-servers/"+seg(id), map[string]any{"name": strings.TrimSpace(r.PostFormValue("name"))}, nil)
	return d.done(w, r, s, d.path("/apis/"+seg(id)), err, "API saved.")
}

// updateScopes replaces the API's scopes with change applied to the ones
// read just before. The API has no per-scope endpoint (nor does Auth0's):
// two admins editing scopes of one API at once can overwrite each other's
// change, never a permission outside the API.
func (d *Dashboard) updateScopes(r *http.Request, s *session, id string, change func([]apiScope) []apiScope) error {
	var rs resourceServer
	if err := d.call(r, s, "GET", "/resource-servers/"+seg(id), nil, &rs); err != nil {
		return err
	}
	return d.call(r, s, "PATCH", "/resource-servers/"+seg(id), map[string]any{"scopes": change(rs.Scopes)}, nil)
}

// addScope adds a scope, or changes the description of the one with that
// value.
func (d *Dashboard) addScope(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	sc := apiScope{Value: strings.TrimSpace(r.PostFormValue("value")), Description: strings.TrimSpace(r.PostFormValue("description"))}
	replaced := false
	err := d.updateScopes(r, s, id, func(scopes []apiScope) []apiScope {
		for i := range scopes {
			if scopes[i].Value == sc.Value {
				scopes[i].Description, replaced = sc.Description, true
				return scopes
			}
		}
		return append(scopes, sc)
	})
	msg := "Scope " + sc.Value + " added."
	if replaced {
		msg = "Scope " + sc.Value + " saved."
	}
	return d.done(w, r, s, d.path("/apis/"+seg(id)), err, msg)
}

// removeScope removes one scope, after a confirmation that says the
// permissions granting it go with it.
func (d *Dashboard) removeScope(w http.ResponseWriter, r *http.Request, s *session) error {
	id, value := r.PathValue("id"), r.PostFormValue("value")
	back := d.path("/apis/" + seg(id))
	if d.needConfirm(w, r, s, removeScopeQuestion(value), back) {
		return nil
	}
	err := d.updateScopes(r, s, id, func(scopes []apiScope) []apiScope {
		out := scopes[:0]
		for _, sc := range scopes {
			if sc.Value != value {
				out = append(out, sc)
			}
		}
		return out
	})
	return d.done(w, r, s, back, err, "Scope "+value+" removed, with the permissions that used it.")
}

func (d *Dashboard) deleteAPI(w http.ResponseWriter, r *http.Request, s *session) error {
	id, name := r.PathValue("id"), r.PostFormValue("name")
	back := d.path("/apis/" + seg(id))
	if d.needConfirm(w, r, s, deleteAPIQuestion(name), back) {
		return nil
	}
	if err := d.call(r, s, "DELETE", "/resource-servers/"+seg(id), nil, nil); err != nil {
		return d.done(w, r, s, back, err, "")
	}
	return d.done(w, r, s, d.path("/apis"), nil, "API "+name+" deleted, with every permission on it.")
}

// removeScopeQuestion and deleteAPIQuestion are the confirmations; the
// templates ask the same (the "scopeQuestion" and "apiQuestion" funcs).
func removeScopeQuestion(value string) string {
	return "Remove scope " + value + "? Every permission that uses it is removed too, from roles and from users, and logins lose it at once."
}

func deleteAPIQuestion(name string) string {
	return "Delete API " + name + "? Every permission on it is removed too, from roles and from users, and logins lose them at once. This cannot be undone."
}

// userPermissions are a user's direct permissions: GET, POST and DELETE
// /users/{id}/permissions, with the same picker as a role's.
func (d *Dashboard) addUserPermission(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	err := d.call(r, s, "POST", "/users/"+seg(id)+"/permissions", d.permissionBody(r), nil)
	return d.done(w, r, s, d.path("/users/"+seg(id))+"#permissions", err, "Permission granted.")
}

func (d *Dashboard) removeUserPermission(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	back := d.path("/users/"+seg(id)) + "#permissions"
	if d.needConfirm(w, r, s, "Remove permission "+r.PostFormValue("permission_name")+" ("+r.PostFormValue("resource_server_identifier")+") from this user?", back) {
		return nil
	}
	err := d.call(r, s, "DELETE", "/users/"+seg(id)+"/permissions", d.permissionBody(r), nil)
	return d.done(w, r, s, back, err, "Permission removed.")
}
