package dashboard

import (
	"net/http"
	"strconv"
	"strings"
)

type logsPage struct {
	Type     string
	TargetID string
	Logs     []logEntry
	NextURL  string
	FirstURL string
}

// logs is the audit log, newest first, filtered by event type and target id.
func (d *Dashboard) logs(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	p := logsPage{Type: strings.TrimSpace(q.Get("type")), TargetID: strings.TrimSpace(q.Get("target_id"))}
	from := q.Get("from")
	var list logList
	if err := d.call(r, s, "GET", "/logs"+query("order", "desc", "type", p.Type, "target_id", p.TargetID, "take", strconv.Itoa(pageSize), "from", from), nil, &list); err != nil {
		return err
	}
	p.Logs = list.Logs
	if list.Next != "" {
		p.NextURL = d.path("/logs") + query("type", p.Type, "target_id", p.TargetID, "from", list.Next)
	}
	if from != "" {
		p.FirstURL = d.path("/logs") + query("type", p.Type, "target_id", p.TargetID)
	}
	d.render(w, r, s, http.StatusOK, "logs", pageData{Title: "Audit log", Section: "logs", Data: p})
	return nil
}
