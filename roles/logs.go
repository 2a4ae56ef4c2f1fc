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
	pg := a.newPage()
	var next string
	err = a.view(w, func(tx *store.ReadTx) error {
		// Entries carry whole documents (before and after): read a few at a
		// time, as many as the room left says may fit, doubling at most.
		batch, after := 1, from
		for len(pg.items) < take {
			entries, more, err := tx.AuditLog(after, min(batch, take-len(pg.items)), desc, filter)
			if err != nil {
				return err
			}
			for _, e := range entries {
				if added, err := pg.add(e); err != nil || !added {
					next = after
					return err
				}
				after = e.ID
			}
			if more == "" {
				return nil
			}
			batch = min(2*batch, max(1, (pg.budget-pg.size)/pg.largest()))
		}
		next = after
		return nil
	})
	if err != nil {
		return err
	}
	pg.write(w, "logs", next)
	return nil
}
