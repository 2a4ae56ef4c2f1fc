package api

import (
	"net/http"
	"strconv"

	"github.com/rs/zerolog"

	"github.com/rolecall/rolecall/store/httpconv"
)

// backup serves GET /backup: a consistent snapshot of the whole store in
// the export format (store.Export), streamed from one read transaction while
// writes go on, for `rolecall restore` or `rolecall migrate`. It needs
// read:backup, a scope for backup jobs only: the snapshot holds token and
// key hashes and the audit log. A failure midway cuts the stream, which then
// lacks its trailer, so a cut backup is never mistaken for a whole one.
func (a *API) backup(w http.ResponseWriter, r *http.Request, _ caller) error {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="rolecall-backup.ndjson"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set(httpconv.RevisionHeader, strconv.FormatUint(a.db.Revision(), 10))
	st, err := a.db.Export(r.Context(), w)
	if err != nil {
		zerolog.Ctx(r.Context()).Warn().Err(err).Msg("backup stream cut short")
		return nil // the status line is gone; the missing trailer tells the reader
	}
	zerolog.Ctx(r.Context()).UpdateContext(func(l zerolog.Context) zerolog.Context {
		return l.Uint64("backup_revision", st.Revision).Int64("backup_records", st.Records)
	})
	return nil
}
