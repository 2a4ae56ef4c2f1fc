package dashboard

import (
	"net/http"
	"slices"
	"strings"

	"github.com/rolecall/rolecall/roles/api"
)

// presetChoice is a preset as the create form offers it: Available when the
// signed-in key holds every scope of it (a key cannot mint a stronger one).
type presetChoice struct {
	keyPreset
	Available bool
}

// scopeChoice is one scope checkbox of the create form.
type scopeChoice struct {
	Name      string
	Available bool // the signed-in key holds it
}

type apiKeysPage struct {
	Keys    []apiKey
	Self    string // the signed-in key's id
	Presets []presetChoice
	Scopes  []scopeChoice
}

// apiKeys lists the Management API keys, with the create form.
func (d *Dashboard) apiKeys(w http.ResponseWriter, r *http.Request, s *session) error {
	var list apiKeyList
	if err := d.call(r, s, "GET", "/api-keys", nil, &list); err != nil {
		return err
	}
	p := apiKeysPage{Keys: list.APIKeys, Self: s.key.ID}
	for _, pr := range keyPresets {
		ok := true
		for _, sc := range pr.Scopes {
			ok = ok && s.scopes[sc]
		}
		p.Presets = append(p.Presets, presetChoice{pr, ok})
	}
	for _, sc := range api.AllScopes {
		p.Scopes = append(p.Scopes, scopeChoice{sc, s.scopes[sc]})
	}
	d.render(w, r, s, http.StatusOK, "api_keys", pageData{Title: "API keys", Section: "api-keys", Data: p})
	return nil
}

type apiKeyPage struct {
	Key     apiKey
	Summary string
}

// createAPIKey creates a key from a preset or chosen scopes and shows its
// secret on this one answer (never stored, never redirected to, never
// cached).
func (d *Dashboard) createAPIKey(w http.ResponseWriter, r *http.Request, s *session) error {
	back := d.path("/api-keys")
	var scopes []string
	preset := r.PostFormValue("preset")
	for _, pr := range keyPresets {
		if pr.Value == preset {
			scopes = pr.Scopes
		}
	}
	switch {
	case preset == "custom":
		scopes = slices.Clone(r.PostForm["scopes"])
	case scopes == nil:
		return d.done(w, r, s, back, &APIError{StatusCode: http.StatusBadRequest, Title: "Bad Request",
			Message: "Choose what the key may do: a preset, or Choose scopes and tick them.", ErrorCode: "invalid_body"}, "")
	}
	var k apiKey
	body := map[string]any{"name": strings.TrimSpace(r.PostFormValue("name")), "scopes": scopes}
	if err := d.call(r, s, "POST", "/api-keys", body, &k); err != nil {
		return d.done(w, r, s, back, err, "")
	}
	d.render(w, r, s, http.StatusCreated, "api_key", pageData{Title: "New API key", Section: "api-keys", Data: apiKeyPage{Key: k, Summary: scopeSummary(k.Scopes)}})
	return nil
}

// revokeAPIKey deletes a key, after confirmation. Revoking the key the
// session signed in with ends the session at its next page.
func (d *Dashboard) revokeAPIKey(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	back := d.path("/api-keys")
	name := r.PostFormValue("name")
	if name == "" {
		name = id
	}
	question := "Revoke API key " + name + "? Anything that uses it is refused from now on."
	if id == s.key.ID {
		question += " You are signed in with this key: revoking it signs you out."
	}
	if d.needConfirm(w, r, s, question, back) {
		return nil
	}
	err := d.call(r, s, "DELETE", "/api-keys/"+seg(id), nil, nil)
	return d.done(w, r, s, back, err, "API key "+name+" revoked.")
}
