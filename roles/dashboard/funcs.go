package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rolecall/rolecall/roles/api"
)

// sections are the navigation entries, each shown when the key can read it.
var sections = []struct {
	Key, Name, Group, Path, Scope string
}{
	{"connections", "Connections", "", "/connections", api.ScopeReadConnections},
	{"groups", "Enterprise Groups", "User Management", "/groups", api.ScopeReadGroups},
	{"users", "Users", "User Management", "/users", api.ScopeReadUsers},
	{"roles", "Roles", "", "/roles", api.ScopeReadRoles},
	{"role-rules", "Role rules", "", "/role-rules", api.ScopeReadRoleRules},
	{"apis", "APIs", "", "/apis", api.ScopeReadResourceServers},
	{"organizations", "Organizations", "", "/organizations", api.ScopeReadOrganizations},
	{"api-keys", "API keys", "", "/api-keys", api.ScopeReadAPIKeys},
	{"event-streams", "Event streams", "", "/event-streams", api.ScopeReadEventStreams},
	{"logs", "Audit log", "", "/logs", api.ScopeReadLogs},
	{"settings", "Settings", "", "/settings", api.ScopeReadTenantSettings},
}

// strategies are the connection strategies the API accepts, as Auth0 names
// the identity providers behind them.
var strategies = []struct{ Value, Label string }{
	{api.StrategyOkta, "Okta Workforce"},
	{api.StrategyEntraID, "Microsoft Entra ID"},
	{api.StrategyGoogle, "Google Workspace"},
	{api.StrategySAML, "SAML"},
	{api.StrategyOIDC, "OpenID Connect"},
	{api.StrategyADFS, "ADFS"},
	{api.StrategyPingFederate, "PingFederate"},
	{api.StrategySCIM, "Other SCIM client"},
}

// reasons explain why an organization group binding has no effect.
var reasons = map[string]string{
	"auto_membership_disabled": "No effect: auto-membership is off for this group's connection",
	"connection_not_enabled":   "No effect: this group's connection is not enabled on the organization",
}

var funcs = template.FuncMap{
	"sections":   func() any { return sections },
	"strategies": func() any { return strategies },
	"scimScopes": func() []string { return api.SCIMTokenScopes },
	"eventTypes": func() []string { return api.EventTypes },
	"when":       when,
	"whenPtr": func(t *time.Time, none string) string {
		if t == nil {
			return none
		}
		return when(*t)
	},
	"iso":         func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"whenSeconds": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	},
	"strategyLabel": func(v string) string {
		for _, s := range strategies {
			if s.Value == v {
				return s.Label
			}
		}
		return v
	},
	"reason": func(code string) string {
		if r, ok := reasons[code]; ok {
			return r
		}
		return "No effect (" + code + ")"
	},
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			k, _ := kv[i].(string)
			m[k] = kv[i+1]
		}
		return m
	},
	// more is how many of total a list leaves out after showing shown.
	"more": func(total, shown int) int {
		if total > shown {
			return total - shown
		}
		return 0
	},
	"scopeSummary":     scopeSummary,
	"memberQuestion":   removeMemberQuestion,
	"roleUserQuestion": removeRoleUserQuestion,
	"scopeQuestion":    removeScopeQuestion,
	"apiQuestion":      deleteAPIQuestion,
	"pickValue":        pickValue,
	"changes":          changes,
	"errinfo":          errInfo,
	"join":             strings.Join,
	"hasPrefix":        strings.HasPrefix,
	"pathEscape":       url.PathEscape,
	"sortedKeys": func(m map[string]string) []string {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	},
}

// keyPreset is a ready-made set of scopes for a new API key.
type keyPreset struct {
	Value, Label, Help string
	Scopes             []string // nil for "choose scopes"
}

// readScopes are every read:… scope, the Read-only preset.
var readScopes = func() []string {
	var out []string
	for _, s := range api.AllScopes {
		if strings.HasPrefix(s, "read:") {
			out = append(out, s)
		}
	}
	return out
}()

// keyPresets are the scope presets the API keys page offers, the login
// server's first: it is what most keys are for.
var keyPresets = []keyPreset{
	{"login", "Login server", "Only read:user_effective_roles: enough for POST /api/v2/effective-roles/query at login, and nothing else.", []string{api.ScopeReadUserEffectiveRoles}},
	{"read-only", "Read-only", "Every read:… scope: sees everything, including the audit log, and changes nothing.", readScopes},
	{"full", "Full access", "Every scope, including creating and revoking API keys. Keep it for administrators.", api.AllScopes},
	{"custom", "Choose scopes", "Pick the scopes below.", nil},
}

// scopeSummary names a scope list the way the presets do when it is one of
// them, else "" (pages then list the scopes).
func scopeSummary(scopes []string) string {
	same := func(want []string) bool {
		if len(scopes) != len(want) {
			return false
		}
		set := map[string]bool{}
		for _, s := range scopes {
			set[s] = true
		}
		for _, s := range want {
			if !set[s] {
				return false
			}
		}
		return true
	}
	switch {
	case same(api.AllScopes):
		return "Full access (every scope)"
	case same(readScopes):
		return "Read-only (every read:… scope)"
	}
	return ""
}

// when formats a time for people: UTC, to the minute.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// change is one field of an audit entry's before/after.
type change struct {
	Field, Before, After string
	Changed              bool
}

// changes lists an audit entry's before/after field by field: every field
// of either side, each value as compact JSON, marking those that differ. A
// side that is not an object is shown whole as the field "value".
func changes(before, after json.RawMessage) []change {
	fields := func(raw json.RawMessage) map[string]string {
		out := map[string]string{}
		if len(raw) == 0 || string(raw) == "null" {
			return out
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			out["value"] = string(raw)
			return out
		}
		for k, v := range obj {
			var buf bytes.Buffer
			if json.Compact(&buf, v) == nil {
				v = buf.Bytes()
			}
			out[k] = string(v)
		}
		return out
	}
	b, a := fields(before), fields(after)
	keys := map[string]bool{}
	for k := range b {
		keys[k] = true
	}
	for k := range a {
		keys[k] = true
	}
	out := make([]change, 0, len(keys))
	for k := range keys {
		out = append(out, change{Field: k, Before: b[k], After: a[k], Changed: b[k] != a[k]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// shownError is an error as pages show it.
type shownError struct {
	Status  int
	Title   string
	Message string
	Code    string
}

func errInfo(err error) shownError {
	var ae *APIError
	if errors.As(err, &ae) {
		return shownError{Status: ae.StatusCode, Title: ae.Title, Message: ae.Message, Code: ae.ErrorCode}
	}
	return shownError{Status: http.StatusBadRequest, Message: err.Error()}
}
