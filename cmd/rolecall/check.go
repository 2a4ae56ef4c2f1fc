package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
)

// Exit codes of `rolecall check`.
const (
	checkSound     = 0
	checkDamaged   = 1 // damaged, or not a Rolecall data file
	checkUsage     = 2
	checkCannotRun = 3 // nothing to check: missing, unreadable, or in use
)

// runCheck is `rolecall check`: it verifies a data file offline (the file's
// structure, bbolt's consistency check and the store's invariants) without
// changing it, prints a short report on stdout, and exits non-zero when the
// file is damaged or cannot be checked.
func runCheck(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("rolecall check", flag.ContinueOnError)
	flags.SetOutput(stderr)
	data := flags.String("data", "./rolecall-data", "data directory to check, as given to serve (env ROLECALL_DATA)")
	flags.Usage = func() {
		fmt.Fprint(stderr, "Usage: rolecall check [--data DIR]\n\n"+
			"Verifies a data file offline without changing it. Stop the server first:\n"+
			"the check takes the file's lock. Exit status: 0 sound, 1 damaged or not a\n"+
			"Rolecall data file, 2 usage, 3 nothing to check (missing, unreadable, in use).\n\n")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return checkSound
		}
		return checkUsage
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "rolecall check: unexpected arguments: %v\n", flags.Args())
		return checkUsage
	}
	set := false
	flags.Visit(func(f *flag.Flag) { set = set || f.Name == "data" })
	if v := getenv("ROLECALL_DATA"); v != "" && !set {
		*data = v
	}

	rep, err := bboltdb.Check(*data)
	var fe *store.FileError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(stderr, "rolecall check: %v; give the directory the server runs with (--data or ROLECALL_DATA)\n", err)
		return checkCannotRun
	case errors.Is(err, store.ErrLocked):
		fmt.Fprintf(stderr, "rolecall check: %v; stop it first, or check a backup copy\n", err)
		return checkCannotRun
	case err != nil && !errors.As(err, &fe):
		fmt.Fprintf(stderr, "rolecall check: %v\n", err)
		return checkCannotRun
	}

	fmt.Fprintf(stdout, "data file   %s\n", rep.Path)
	if rep.PageSize > 0 {
		fmt.Fprintf(stdout, "file        %d bytes, %d pages of %d bytes in use, last transaction %d\n", rep.Size, rep.Pages, rep.PageSize, rep.TxID)
	}
	if rep.SchemaVersion > 0 {
		fmt.Fprintf(stdout, "schema      version %d, revision %d\n", rep.SchemaVersion, rep.Revision)
	}
	if len(rep.Counts) > 0 {
		var counts []string
		for _, c := range rep.Counts {
			counts = append(counts, fmt.Sprintf("%d %s", c.Count, c.Kind))
		}
		fmt.Fprintf(stdout, "records     %s\n", strings.Join(counts, ", "))
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintf(stdout, "problems    %d found:\n", len(rep.Problems))
		for _, p := range rep.Problems {
			fmt.Fprintf(stdout, "  %s\n", p)
		}
	}
	if err != nil {
		fmt.Fprintf(stdout, "result      %s; %s\n", oneLine(err), damageRemedy(*data))
		return checkDamaged
	}
	fmt.Fprintln(stdout, "result      sound: bbolt's page check and every store invariant hold")
	return checkSound
}

// openRemedy adds what to do to an error opening the data file, so serve and
// check say it in one line: the what and which file come from the store.
func openRemedy(err error, data string) error {
	switch {
	case errors.Is(err, store.ErrLocked):
		return fmt.Errorf("%w; stop it or choose another --data", err)
	case errors.Is(err, store.ErrDamaged), errors.Is(err, store.ErrNotDataFile):
		return fmt.Errorf("%w; %s (`rolecall check --data %s` reports what is wrong)", err, damageRemedy(data), data)
	}
	return err
}

func damageRemedy(data string) string {
	return "restore it from a backup, or move it out of " + data + " to start with an empty store"
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
