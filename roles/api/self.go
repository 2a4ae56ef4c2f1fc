package api

import (
	"net/http"
	"slices"

	"github.com/rolecall/rolecall/store"
)

// apiKeySelfView is the calling key without its secret or timestamps.
type apiKeySelfView struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

// bootstrapKeyName names the ROLECALL_ADMIN_TOKEN key, which has no record.
const bootstrapKeyName = "ROLECALL_ADMIN_TOKEN"

// apiKeySelf answers GET /api-keys/self: who the calling key is and what it
// may do, so a client (the dashboard) can offer only the actions the key's
// scopes allow. Any valid key may ask about itself; it needs no scope.
func (a *API) apiKeySelf(w http.ResponseWriter, _ *http.Request, c caller) error {
	view := apiKeySelfView{ID: c.actor.ID, Scopes: slices.Clone(c.scopes)}
	if c.actor.ID == BootstrapKeyID {
		view.Name = bootstrapKeyName
	} else {
		err := a.view(w, func(tx *store.ReadTx) error {
			keys, err := tx.APIKeys()
			for _, k := range keys {
				if k.ID == c.actor.ID {
					view.Name = k.Name
				}
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	if view.Scopes == nil {
		view.Scopes = []string{}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, view)
	return nil
}
