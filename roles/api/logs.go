package api

import (
	"net/http"
	"strconv"

	"github.com/rolecall/rolecall/store"
)

// listLogs pages the audit log: GET /logs answers {"logs":[…],"next"} oldest
// first ("newest last", DESIGN §7), paged in either style (api_list.go).
// Extensions for the dashboard: order=desc (newest first), type= and
// target_id= filters. With include_totals in the page style it answers
// Auth0's {"logs","start","limit","length","total"}.
func (a *API) listLogs(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseList(r, bothPagings, "order", "type", "target_id")
	if err != nil {
		return err
	}
	desc := false
	switch q.get("order") {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return badQuery("Query parameter 'order' must be asc or desc")
	}
	filter := store.AuditFilter{Type: q.get("type"), TargetID: q.get("target_id")}
	l := listing{key: "logs", length: true, each: func(tx *store.ReadTx, after string, room func() int, yield yieldFunc) error {
		// Entries carry whole documents (before and after): read a few at a
		// time, as many as the room left on the page says may fit, doubling
		// at most.
		batch := 1
		for {
			entries, more, err := tx.AuditLog(after, min(batch, room()), desc, filter)
			if err != nil {
				return err
			}
			for _, e := range entries {
				ok, err := yield(e.ID, func() (any, error) { return e, nil })
				if err != nil || !ok {
					return err
				}
				after = e.ID
			}
			if more == "" {
				return nil
			}
			batch *= 2
		}
	}}
	if filter == (store.AuditFilter{}) {
		// Entry ids count up from 1 and entries are never removed: the
		// newest one's id is the number of entries.
		l.count = func(tx *store.ReadTx) (int, error) {
			last, _, err := tx.AuditLog("", 1, true, filter)
			if err != nil || len(last) == 0 {
				return 0, err
			}
			return strconv.Atoi(last[0].ID)
		}
	}
	return a.serveList(w, q, l)
}

// getLog answers GET /logs/{id}: one audit entry, or 404 inexistent_log.
func (a *API) getLog(w http.ResponseWriter, r *http.Request, _ caller) error {
	id := r.PathValue("id")
	n, err := strconv.ParseUint(id, 10, 64)
	notFound := newError(http.StatusNotFound, "inexistent_log", "The log entry %q does not exist", id)
	if err != nil || n == 0 || strconv.FormatUint(n, 10) != id {
		return notFound
	}
	var entry *store.AuditEntry
	err = a.view(w, func(tx *store.ReadTx) error {
		entries, _, err := tx.AuditLog(strconv.FormatUint(n-1, 10), 1, false, store.AuditFilter{})
		if err == nil && len(entries) == 1 && entries[0].ID == id {
			entry = &entries[0]
		}
		return err
	})
	if err != nil {
		return err
	}
	if entry == nil {
		return notFound
	}
	writeJSON(w, http.StatusOK, entry)
	return nil
}
