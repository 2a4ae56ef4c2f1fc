package roles

import (
	"net/http"

	"github.com/rolecall/rolecall/store"
)

// listLogs pages the audit log: GET /logs?from=&take= answers
// {"logs":[…],"next"} oldest first ("newest last", DESIGN §7). Extensions for
// the dashboard: order=desc (newest first), type= and target_id= filters.
func (a *API) listLogs(w http.ResponseWriter, r *http.Request, _ caller) error {
	from, take, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	desc := false
	switch q.Get("order") {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return badQuery("order must be asc or desc")
	}
	filter := store.AuditFilter{Type: q.Get("type"), TargetID: q.Get("target_id")}
	out := struct {
		Logs []store.AuditEntry `json:"logs"`
		Next string             `json:"next,omitempty"`
	}{Logs: []store.AuditEntry{}}
	err = a.view(w, func(tx *store.ReadTx) error {
		entries, next, err := tx.AuditLog(from, take, desc, filter)
		out.Logs = append(out.Logs, entries...)
		out.Next = next
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
