package dashboard

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/rolecall/rolecall/roles/api"
)

type logsPage struct {
	Type     string
	TargetID string
	Logs     []logRow
	// Names are the names of the ids the page shows (targets, the ids in
	// before/after, actors' API keys); an id missing has no name to show.
	Names   map[string]string
	Deleted map[string]bool // ids whose object no longer exists (name from the log)
	NextURL string
	PrevURL string
	// FirstURL is the newest entries, when this page is not them.
	FirstURL string
}

// logRow is an audit entry with the other objects it names: ids in its
// before/after (a binding's role, a member, …).
type logRow struct {
	logEntry
	Refs []logRef
}

type logRef struct {
	Field, ID string
}

// logs is the audit log, newest first, filtered by event type and target
// id, paged on the API's cursor both ways: Next continues after the page's
// last entry (older), Previous reads the entries just newer than its first,
// oldest first, and turns them around. Every id shown gets its name, each
// looked up once per page.
func (d *Dashboard) logs(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	p := logsPage{Type: strings.TrimSpace(q.Get("type")), TargetID: strings.TrimSpace(q.Get("target_id"))}
	from, before := q.Get("from"), q.Get("before")
	filter := []string{"type", p.Type, "target_id", p.TargetID}
	take := strconv.Itoa(pageSize)
	var list logList
	newer := false // whether entries newer than the page exist
	older := false // whether entries older than the page exist
	if before != "" {
		if err := d.call(r, s, "GET", "/logs"+query(append(filter, "order", "asc", "take", take, "from", before)...), nil, &list); err != nil {
			return err
		}
		slices.Reverse(list.Logs)
		newer, older = list.Next != "", true
	} else {
		if err := d.call(r, s, "GET", "/logs"+query(append(filter, "order", "desc", "take", take, "from", from)...), nil, &list); err != nil {
			return err
		}
		newer, older = from != "", list.Next != ""
	}
	self := d.path("/logs")
	if len(list.Logs) > 0 {
		if older {
			p.NextURL = self + query(append(filter, "from", list.Logs[len(list.Logs)-1].ID)...)
		}
		if newer {
			p.PrevURL = self + query(append(filter, "before", list.Logs[0].ID)...)
		}
	}
	if from != "" || before != "" {
		p.FirstURL = self + query(filter...)
	}
	for _, e := range list.Logs {
		p.Logs = append(p.Logs, logRow{logEntry: e, Refs: entryRefs(e)})
	}
	var err error
	if p.Names, p.Deleted, err = d.logNames(r, s, p.Logs); err != nil {
		return err
	}
	d.render(w, r, s, http.StatusOK, "logs", pageData{Title: "Audit log", Section: "logs", Data: p})
	return nil
}

// idKinds are the objects an audit entry can name by id, by id prefix: the
// API path that reads one, the scope it needs, and the field holding its
// name.
var idKinds = map[string]struct{ path, scope, field string }{
	"usr": {"/users/", api.ScopeReadUsers, "user_name"},
	"grp": {"/groups/", api.ScopeReadGroups, "name"},
	"rol": {"/roles/", api.ScopeReadRoles, "name"},
	"org": {"/organizations/", api.ScopeReadOrganizations, "name"},
	"con": {"/connections/", api.ScopeReadConnections, "name"},
	"rsv": {"/resource-servers/", api.ScopeReadResourceServers, "name"},
	"est": {"/event-streams/", api.ScopeReadEventStreams, "name"},
}

func idKind(id string) string {
	prefix, _, ok := strings.Cut(id, "_")
	if _, known := idKinds[prefix]; !ok || !known {
		return ""
	}
	return prefix
}

// entryRefs lists the ids of known objects among the top-level fields of an
// entry's before and after, other than its target.
func entryRefs(e logEntry) []logRef {
	var refs []logRef
	seen := map[string]bool{e.Target.ID: true}
	for _, raw := range []json.RawMessage{e.Before, e.After} {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			continue
		}
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range obj {
				if !yield(k) {
					return
				}
			}
		}) {
			var id string
			if json.Unmarshal(obj[k], &id) != nil || idKind(id) == "" || seen[id] {
				continue
			}
			seen[id] = true
			refs = append(refs, logRef{Field: k, ID: id})
		}
	}
	return refs
}

// logNames names the ids a page of the log shows: each distinct id is read
// once through the API (so a page costs at most one read per distinct
// object, never one per row), the actors' API keys from one listing. An
// object since deleted is named from the log itself when an entry about it
// carries its name. Ids the key may not read stay unnamed.
func (d *Dashboard) logNames(r *http.Request, s *session, rows []logRow) (map[string]string, map[string]bool, error) {
	names, deleted := map[string]string{}, map[string]bool{}
	var ids []string
	for _, e := range rows {
		ids = append(ids, e.Target.ID)
		for _, ref := range e.Refs {
			ids = append(ids, ref.ID)
		}
	}
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		kind := idKind(id)
		if kind == "" || !s.scopes[idKinds[kind].scope] {
			continue
		}
		var obj map[string]any
		err := d.call(r, s, "GET", idKinds[kind].path+seg(id), nil, &obj)
		var ae *APIError
		switch {
		case err == nil:
			if n, _ := obj[idKinds[kind].field].(string); n != "" {
				names[id] = n
			}
		case errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound:
			deleted[id] = true
		default:
			return nil, nil, err
		}
	}
	// Deleted targets: the name their entries recorded.
	for _, e := range rows {
		if !deleted[e.Target.ID] || names[e.Target.ID] != "" {
			continue
		}
		field := idKinds[idKind(e.Target.ID)].field
		for _, raw := range []json.RawMessage{e.Before, e.After} {
			var obj map[string]any
			if json.Unmarshal(raw, &obj) == nil {
				if n, _ := obj[field].(string); n != "" {
					names[e.Target.ID] = n
					break
				}
			}
		}
	}
	if s.scopes[api.ScopeReadAPIKeys] {
		var keys apiKeyList
		if err := d.call(r, s, "GET", "/api-keys", nil, &keys); err != nil {
			return nil, nil, err
		}
		for _, k := range keys.APIKeys {
			names[k.ID] = k.Name
		}
	}
	if s.key.ID != "" && s.key.Name != "" {
		names[s.key.ID] = s.key.Name
	}
	return names, deleted, nil
}
