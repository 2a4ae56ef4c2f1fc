package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/httpconv"
)

// connectionView is a connection as the Management API shows it (Auth0's
// shape, plus the SCIM endpoint URL once SCIM is configured).
type connectionView struct {
	ID                 string            `json:"id"`
	Name               string            `json:"name"`
	DisplayName        string            `json:"display_name,omitempty"`
	Strategy           string            `json:"strategy"`
	Options            json.RawMessage   `json:"options"`
	Metadata           map[string]string `json:"metadata,omitempty"`
	Realms             []string          `json:"realms"`
	EnabledClients     []string          `json:"enabled_clients"`
	IsDomainConnection bool              `json:"is_domain_connection"`
	CreatedAt          time.Time         `json:"created_at"`
	UpdatedAt          time.Time         `json:"updated_at"`
	SCIMEndpoint       string            `json:"scim_endpoint,omitempty"`
}

func (a *API) viewConnection(r *http.Request, tx *store.ReadTx, c store.Connection) connectionView {
	v := connectionView{
		ID: c.ID, Name: c.Name, DisplayName: c.DisplayName, Strategy: c.Strategy, Options: c.Options,
		Metadata: c.Metadata, Realms: []string{c.Name}, EnabledClients: []string{},
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	if v.Options == nil {
		v.Options = json.RawMessage(`{}`)
	}
	if _, err := tx.SCIMConfig(c.ID); err == nil {
		v.SCIMEndpoint = SCIMEndpoint(httpconv.BaseURL(a.publicURL, r), c.ID)
	}
	return v
}

// SCIMEndpoint is the SCIM base URL of a connection, the URL admins paste into
// Okta ("SCIM connector base URL") or Entra ID ("Tenant URL").
func SCIMEndpoint(baseURL, connectionID string) string {
	return baseURL + "/scim/v2/connections/" + connectionID
}

// Auth0 connection names: letters, digits and single inner hyphens.
var connectionName = regexp.MustCompile(`^[A-Za-z0-9](?:-?[A-Za-z0-9])*$`)

func (a *API) createConnection(w http.ResponseWriter, r *http.Request, c caller) error {
	var body struct {
		Name        string            `json:"name"`
		DisplayName string            `json:"display_name"`
		Strategy    string            `json:"strategy"`
		Options     json.RawMessage   `json:"options"`
		Metadata    map[string]string `json:"metadata"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if !connectionName.MatchString(body.Name) || len(body.Name) > 128 {
		return badBody("Payload validation error: 'name' must be 1-128 letters, digits and single hyphens, starting and ending with a letter or digit")
	}
	if !slices.Contains(Strategies, body.Strategy) {
		return badBody("Payload validation error: 'strategy' must be one of %v", Strategies)
	}
	if len(body.Options) > 0 && body.Options[0] != '{' {
		return badBody("Payload validation error: 'options' must be an object")
	}
	var view connectionView
	err := a.update(w, r, c, func(tx *store.Tx) error {
		conn, err := tx.CreateConnection(store.Connection{
			Name: body.Name, DisplayName: body.DisplayName, Strategy: body.Strategy,
			Options: body.Options, Metadata: body.Metadata,
		})
		if err != nil {
			return err
		}
		view = a.viewConnection(r, &tx.ReadTx, conn)
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, view)
	return nil
}

func (a *API) listConnections(w http.ResponseWriter, r *http.Request, _ caller) error {
	return listCheckpoint(a, w, r, "connections", (*store.ReadTx).Connections,
		func(tx *store.ReadTx, c store.Connection) connectionView { return a.viewConnection(r, tx, c) })
}

func (a *API) getConnection(w http.ResponseWriter, r *http.Request, _ caller) error {
	var view connectionView
	err := a.view(w, func(tx *store.ReadTx) error {
		c, err := tx.Connection(r.PathValue("id"))
		view = a.viewConnection(r, tx, c)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

func (a *API) updateConnection(w http.ResponseWriter, r *http.Request, c caller) error {
	var body struct {
		DisplayName *string            `json:"display_name"`
		Options     json.RawMessage    `json:"options"`
		Metadata    *map[string]string `json:"metadata"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if len(body.Options) > 0 && body.Options[0] != '{' {
		return badBody("Payload validation error: 'options' must be an object")
	}
	var view connectionView
	err := a.update(w, r, c, func(tx *store.Tx) error {
		conn, err := tx.UpdateConnection(r.PathValue("id"), func(conn *store.Connection) error {
			if body.DisplayName != nil {
				conn.DisplayName = *body.DisplayName
			}
			if body.Options != nil {
				conn.Options = body.Options
			}
			if body.Metadata != nil {
				conn.Metadata = *body.Metadata
			}
			return nil
		})
		view = a.viewConnection(r, &tx.ReadTx, conn)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

func (a *API) deleteConnection(w http.ResponseWriter, r *http.Request, c caller) error {
	return a.updateNoContent(w, r, c, func(tx *store.Tx) error { return tx.DeleteConnection(r.PathValue("id")) })
}

// scimConfigView is Auth0's scim-configuration object.
type scimConfigView struct {
	ConnectionID    string              `json:"connection_id"`
	ConnectionName  string              `json:"connection_name"`
	Strategy        string              `json:"strategy"`
	TenantName      string              `json:"tenant_name"`
	UserIDAttribute string              `json:"user_id_attribute"`
	Mapping         []store.SCIMMapping `json:"mapping"`
	CreatedAt       time.Time           `json:"created_at"`
	UpdatedOn       time.Time           `json:"updated_on"`
	SCIMEndpoint    string              `json:"scim_endpoint"`
}

// tenantName labels this deployment in Auth0-shaped responses: one
// deployment is one tenant (DESIGN §1).
const tenantName = "rolecall"

func (a *API) viewSCIMConfig(r *http.Request, conn store.Connection, cfg store.SCIMConfig) scimConfigView {
	mapping := cfg.Mapping
	if mapping == nil {
		mapping = []store.SCIMMapping{}
	}
	return scimConfigView{
		ConnectionID: conn.ID, ConnectionName: conn.Name, Strategy: conn.Strategy, TenantName: tenantName,
		UserIDAttribute: cfg.UserIDAttribute, Mapping: mapping, CreatedAt: cfg.CreatedAt, UpdatedOn: cfg.UpdatedAt,
		SCIMEndpoint: SCIMEndpoint(httpconv.BaseURL(a.publicURL, r), conn.ID),
	}
}

type scimConfigBody struct {
	UserIDAttribute *string              `json:"user_id_attribute"`
	Mapping         *[]store.SCIMMapping `json:"mapping"`
}

func (b scimConfigBody) validate() error {
	if b.UserIDAttribute != nil && (*b.UserIDAttribute == "" || len(*b.UserIDAttribute) > 256) {
		return badBody("Payload validation error: 'user_id_attribute' must be 1 to 256 characters")
	}
	if b.Mapping != nil {
		for i, m := range *b.Mapping {
			if m.Auth0 == "" || m.SCIM == "" {
				return badBody("Payload validation error: mapping[%d] needs both 'auth0' and 'scim'", i)
			}
		}
	}
	return nil
}

func (a *API) createSCIMConfig(w http.ResponseWriter, r *http.Request, c caller) error {
	var body scimConfigBody
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if err := body.validate(); err != nil {
		return err
	}
	cfg := store.SCIMConfig{ConnectionID: r.PathValue("id"), UserIDAttribute: "userName"}
	if body.UserIDAttribute != nil {
		cfg.UserIDAttribute = *body.UserIDAttribute
	}
	if body.Mapping != nil {
		cfg.Mapping = *body.Mapping
	}
	var view scimConfigView
	err := a.update(w, r, c, func(tx *store.Tx) error {
		conn, err := tx.Connection(cfg.ConnectionID)
		if err != nil {
			return err
		}
		created, err := tx.CreateSCIMConfig(cfg)
		view = a.viewSCIMConfig(r, conn, created)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, view)
	return nil
}

func (a *API) getSCIMConfig(w http.ResponseWriter, r *http.Request, _ caller) error {
	var view scimConfigView
	err := a.view(w, func(tx *store.ReadTx) error {
		conn, err := tx.Connection(r.PathValue("id"))
		if err != nil {
			return err
		}
		cfg, err := tx.SCIMConfig(conn.ID)
		view = a.viewSCIMConfig(r, conn, cfg)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

func (a *API) updateSCIMConfig(w http.ResponseWriter, r *http.Request, c caller) error {
	var body scimConfigBody
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if err := body.validate(); err != nil {
		return err
	}
	var view scimConfigView
	err := a.update(w, r, c, func(tx *store.Tx) error {
		conn, err := tx.Connection(r.PathValue("id"))
		if err != nil {
			return err
		}
		cfg, err := tx.UpdateSCIMConfig(conn.ID, func(cfg *store.SCIMConfig) error {
			if body.UserIDAttribute != nil {
				cfg.UserIDAttribute = *body.UserIDAttribute
			}
			if body.Mapping != nil {
				cfg.Mapping = *body.Mapping
			}
			return nil
		})
		view = a.viewSCIMConfig(r, conn, cfg)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

func (a *API) deleteSCIMConfig(w http.ResponseWriter, r *http.Request, c caller) error {
	return a.updateNoContent(w, r, c, func(tx *store.Tx) error { return tx.DeleteSCIMConfig(r.PathValue("id")) })
}

// scimTokenView is a SCIM token as listed (never with its secret).
type scimTokenView struct {
	TokenID    string     `json:"token_id"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ValidUntil *time.Time `json:"valid_until"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Token      string     `json:"token,omitempty"` // only in the create response
}

func viewToken(t store.SCIMToken) scimTokenView {
	return scimTokenView{TokenID: t.ID, Scopes: t.Scopes, CreatedAt: t.CreatedAt, ValidUntil: t.ValidUntil, LastUsedAt: t.LastUsedAt}
}

// Bounds of token_lifetime, for SCIM tokens and API keys: at least 15
// minutes, as Auth0 asks, and at most one year, as long-lived as a
// credential sensibly gets (rotate it before then).
const (
	minTokenLifetime = 900 * time.Second
	maxTokenLifetime = 365 * 24 * time.Hour
)

// tokenLifetime checks a token_lifetime in seconds. The bounds are compared
// in seconds, before any conversion that could overflow.
func tokenLifetime(secs int64) (time.Duration, error) {
	if secs < int64(minTokenLifetime/time.Second) || secs > int64(maxTokenLifetime/time.Second) {
		return 0, badBody("Payload validation error: 'token_lifetime' must be between %d and %d seconds", int64(minTokenLifetime/time.Second), int64(maxTokenLifetime/time.Second))
	}
	return time.Duration(secs) * time.Second, nil
}

func (a *API) createSCIMToken(w http.ResponseWriter, r *http.Request, c caller) error {
	var body struct {
		Scopes        *[]string `json:"scopes"`
		TokenLifetime *int64    `json:"token_lifetime"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	scopes := SCIMTokenScopes
	if body.Scopes != nil {
		scopes = *body.Scopes
		if len(scopes) == 0 {
			return badBody("Payload validation error: 'scopes' must not be empty")
		}
		for _, s := range scopes {
			if !knownScope(SCIMTokenScopes, s) {
				return badBody("Payload validation error: unknown SCIM scope %q (allowed: %v)", s, SCIMTokenScopes)
			}
		}
	}
	var lifetime time.Duration
	if body.TokenLifetime != nil {
		var err error
		if lifetime, err = tokenLifetime(*body.TokenLifetime); err != nil {
			return err
		}
	}
	var view scimTokenView
	err := a.update(w, r, c, func(tx *store.Tx) error {
		t, secret, err := tx.CreateSCIMToken(r.PathValue("id"), scopes, lifetime)
		view = viewToken(t)
		view.Token = secret
		return err
	})
	if err != nil {
		return err
	}
	writeSecret(w, http.StatusCreated, view)
	return nil
}

func (a *API) listSCIMTokens(w http.ResponseWriter, r *http.Request, _ caller) error {
	views := []scimTokenView{}
	err := a.view(w, func(tx *store.ReadTx) error {
		tokens, err := tx.SCIMTokens(r.PathValue("id"))
		for _, t := range tokens {
			views = append(views, viewToken(t))
		}
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, views)
	return nil
}

func (a *API) deleteSCIMToken(w http.ResponseWriter, r *http.Request, c caller) error {
	err := a.update(w, r, c, func(tx *store.Tx) error {
		return tx.DeleteSCIMToken(r.PathValue("id"), r.PathValue("token_id"))
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
