package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rolecall/rolecall/store"
)

// A running server owns its bbolt file (an exclusive lock), so a backup of
// a running store is taken by the server itself: it listens on a unix
// socket in its data directory, reachable only by the OS user that owns the
// directory (0700) and the socket (0600) — the same user who could copy the
// file — and streams an export from one read transaction while writes go
// on. `rolecall backup --data DIR` uses the socket when a server is there
// and opens the file itself when none is.

// backupSocket is the socket's name in the data directory.
const backupSocket = "rolecall.sock"

// serveBackupSocket serves GET /backup on DIR/rolecall.sock until ctx ends.
func serveBackupSocket(ctx context.Context, dir string, db *store.DB) (stop func(), err error) {
	path := filepath.Join(dir, backupSocket)
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return nil, fmt.Errorf("another server answers on %s", path)
	}
	_ = os.Remove(path) // a stale socket of a server that died
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("backup socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		_, _ = db.Export(r.Context(), w) // a failure cuts the stream; the reader sees no trailer
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() {
		_ = srv.Close()
		_ = os.Remove(path)
	}, nil
}

// storeFlag reads where a command's store is: --data DIR (bbolt) or a
// postgres:// URL, as `serve` takes them.
type storeRef struct {
	dir string // bbolt data directory
	dsn string // postgres://…
}

func (s storeRef) String() string {
	if s.dsn != "" {
		return redactDSN(s.dsn)
	}
	return "bbolt:" + s.dir
}

// parseStoreRef reads "bbolt:DIR", "postgres://…" / "postgresql://…", or a
// bare directory.
func parseStoreRef(v string) storeRef {
	switch {
	case strings.HasPrefix(v, "postgres://"), strings.HasPrefix(v, "postgresql://"):
		return storeRef{dsn: v}
	case strings.HasPrefix(v, "bbolt:"):
		return storeRef{dir: strings.TrimPrefix(v, "bbolt:")}
	}
	return storeRef{dir: v}
}

// runBackup is `rolecall backup`.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rolecall backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr(getenv, "ROLECALL_DATA", "./rolecall-data"), "data directory of the store (env ROLECALL_DATA)")
	storeURL := fs.String("store", getenv("ROLECALL_STORE"), "a postgres:// store instead of --data (env ROLECALL_STORE)")
	to := fs.String("to", "", "file to write the backup to (required)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: rolecall backup --to FILE [--data DIR | --store postgres://…]\n\n"+
			"Writes a consistent snapshot of the store in Rolecall's export format, without\n"+
			"stopping a running server (it asks the server over DIR/rolecall.sock). Restore\n"+
			"it with rolecall restore.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage(err)
	}
	if *to == "" {
		fmt.Fprintln(stderr, "rolecall backup: --to is required")
		return 2
	}
	src := storeRef{dir: *data}
	if *storeURL != "" {
		src = parseStoreRef(*storeURL)
	}
	st, err := writeFileAtomically(*to, func(w io.Writer) (store.ExportStats, error) {
		return exportFrom(ctx, src, w)
	})
	if err != nil {
		fmt.Fprintln(stderr, "rolecall backup:", err)
		return 1
	}
	fmt.Fprintf(stdout, "backed up %s at revision %d (schema %d): %d records to %s\n", src, st.Revision, st.SchemaVersion, st.Records, *to)
	return 0
}

// exportFrom streams an export of the store at src: through a running
// server's backup socket when there is one, else by opening the store.
func exportFrom(ctx context.Context, src storeRef, w io.Writer) (store.ExportStats, error) {
	if src.dsn == "" {
		sock := filepath.Join(src.dir, backupSocket)
		if _, err := os.Stat(sock); err == nil {
			if st, err, reached := exportOverSocket(ctx, sock, w); reached {
				return st, err
			}
		}
	}
	db, err := openStoreRef(ctx, src)
	if err != nil {
		return store.ExportStats{}, err
	}
	defer db.Close()
	return db.Export(ctx, w)
}

// exportOverSocket asks a running server for an export. reached is false when
// no server answered (a stale socket): the caller opens the file instead.
func exportOverSocket(ctx context.Context, sock string, w io.Writer) (st store.ExportStats, err error, reached bool) {
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://rolecall/backup", nil)
	resp, err := client.Do(req)
	if err != nil {
		return st, err, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("the server answered %s", resp.Status), true
	}
	// Check the stream while copying it: its trailer says it is whole.
	counter := &exportCounter{}
	if _, err := io.Copy(io.MultiWriter(w, counter), resp.Body); err != nil {
		return st, err, true
	}
	st, err = counter.stats()
	return st, err, true
}

// writeFileAtomically writes a file through a temporary one that is synced
// and renamed into place, so a backup is whole or absent.
func writeFileAtomically(path string, write func(io.Writer) (store.ExportStats, error)) (store.ExportStats, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return store.ExportStats{}, err
	}
	defer os.Remove(tmp.Name())
	st, err := write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return st, err
	}
	return st, os.Rename(tmp.Name(), path)
}

// runRestore is `rolecall restore`.
func runRestore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rolecall restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr(getenv, "ROLECALL_DATA", "./rolecall-data"), "data directory to restore into; must not hold a store yet (env ROLECALL_DATA)")
	storeURL := fs.String("store", getenv("ROLECALL_STORE"), "a postgres:// store to restore into instead of --data; must be empty (env ROLECALL_STORE)")
	from := fs.String("from", "", "backup file written by rolecall backup (required)")
	if err := fs.Parse(args); err != nil {
		return exitUsage(err)
	}
	if *from == "" {
		fmt.Fprintln(stderr, "rolecall restore: --from is required")
		return 2
	}
	dst := storeRef{dir: *data}
	if *storeURL != "" {
		dst = parseStoreRef(*storeURL)
	}
	f, err := os.Open(*from)
	if err != nil {
		fmt.Fprintln(stderr, "rolecall restore:", err)
		return 1
	}
	defer f.Close()
	st, err := importInto(ctx, dst, f)
	if err != nil {
		fmt.Fprintln(stderr, "rolecall restore:", err)
		return 1
	}
	fmt.Fprintf(stdout, "restored %d records at revision %d into %s; the store verifies\n", st.Records, st.Revision, dst)
	return 0
}

// importInto imports an export into the empty store at dst, then opens it
// (migrating an older schema) and verifies every invariant.
func importInto(ctx context.Context, dst storeRef, r io.Reader) (store.ExportStats, error) {
	e, err := openEngineRef(ctx, dst)
	if err != nil {
		return store.ExportStats{}, err
	}
	st, err := store.Import(ctx, e, r)
	if cerr := e.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return st, err
	}
	db, err := openStoreRef(ctx, dst)
	if err != nil {
		return st, err
	}
	defer db.Close()
	if err := db.Verify(); err != nil {
		return st, fmt.Errorf("the restored store does not verify: %w", err)
	}
	return st, nil
}

// runMigrate is `rolecall migrate`: export from one store, import into
// another (empty) one, then check that both hold the same.
func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rolecall migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "source store: bbolt:DIR or postgres://… (required; stop its servers first)")
	to := fs.String("to", "", "target store, empty: bbolt:DIR or postgres://… (required)")
	if err := fs.Parse(args); err != nil {
		return exitUsage(err)
	}
	if *from == "" || *to == "" {
		fmt.Fprintln(stderr, "rolecall migrate: --from and --to are required")
		return 2
	}
	src, dst := parseStoreRef(*from), parseStoreRef(*to)
	pr, pw := io.Pipe()
	exported := make(chan store.ExportStats, 1)
	go func() {
		st, err := exportFrom(ctx, src, pw)
		exported <- st
		pw.CloseWithError(err)
	}()
	st, err := importInto(ctx, dst, pr)
	pr.CloseWithError(err)
	srcStats := <-exported
	if err != nil {
		fmt.Fprintln(stderr, "rolecall migrate:", err)
		return 1
	}
	if srcStats != st {
		fmt.Fprintf(stderr, "rolecall migrate: the source exported %+v, the target took %+v\n", srcStats, st)
		return 1
	}
	// Both sides again, independently: the same records in the same order.
	srcSum, err := exportSummary(ctx, src)
	if err == nil {
		var dstSum exportCounter
		if dstSum, err = exportSummary(ctx, dst); err == nil && srcSum.lines != dstSum.lines {
			err = fmt.Errorf("source and target differ after the copy (%d and %d records)", srcSum.lines-2, dstSum.lines-2)
		} else if err == nil && srcSum.sum != dstSum.sum {
			err = errors.New("source and target hold different records after the copy")
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "rolecall migrate:", err)
		return 1
	}
	fmt.Fprintf(stdout, "migrated %d records at revision %d from %s to %s; both verify and hold the same records\n", st.Records, st.Revision, src, dst)
	return 0
}

func exitUsage(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
