package api

import (
	"net/http"
	"time"

	"github.com/rolecall/rolecall/store"
)

type apiKeyView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ValidUntil *time.Time `json:"valid_until"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Key        string     `json:"key,omitempty"` // only in the create response
}

func viewAPIKey(k store.APIKey) apiKeyView {
	return apiKeyView{ID: k.ID, Name: k.Name, Scopes: k.Scopes, CreatedAt: k.CreatedAt, ValidUntil: k.ValidUntil, LastUsedAt: k.LastUsedAt}
}

func (a *API) createAPIKey(w http.ResponseWriter, r *http.Request, c caller) error {
	var body struct {
		Name          string   `json:"name"`
		Scopes        []string `json:"scopes"`
		TokenLifetime *int64   `json:"token_lifetime"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	var lifetime time.Duration
	if body.TokenLifetime != nil {
		var err error
		if lifetime, err = tokenLifetime(*body.TokenLifetime); err != nil {
			return err
		}
	}
	if body.Name == "" || len(body.Name) > 128 {
		return badBody("Payload validation error: 'name' must be 1 to 128 characters")
	}
	if len(body.Scopes) == 0 {
		return badBody("Payload validation error: 'scopes' must list at least one scope")
	}
	for _, s := range body.Scopes {
		if !knownScope(AllScopes, s) {
			return badBody("Payload validation error: unknown scope %q", s)
		}
		// A key cannot mint a key more powerful than itself.
		if !c.has(s) {
			return newError(http.StatusForbidden, "insufficient_scope", "cannot grant scope %q that the calling key does not hold", s)
		}
	}
	var view apiKeyView
	err := a.update(w, r, c, func(tx *store.Tx) error {
		k, secret, err := tx.CreateAPIKey(body.Name, body.Scopes, lifetime)
		view = viewAPIKey(k)
		view.Key = secret
		return err
	})
	if err != nil {
		return err
	}
	writeSecret(w, http.StatusCreated, view)
	return nil
}

func (a *API) listAPIKeys(w http.ResponseWriter, _ *http.Request, _ caller) error {
	return listAll(a, w, "api_keys", (*store.ReadTx).APIKeys, viewAPIKey)
}

func (a *API) deleteAPIKey(w http.ResponseWriter, r *http.Request, c caller) error {
	return a.updateNoContent(w, r, c, func(tx *store.Tx) error { return tx.DeleteAPIKey(r.PathValue("id")) })
}
