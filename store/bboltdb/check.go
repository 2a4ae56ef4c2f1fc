package bboltdb

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/rolecall/rolecall/store"
)

// maxProblems bounds how many of bbolt's own complaints a report keeps: a
// badly damaged file would otherwise produce one line per page.
const maxProblems = 50

// CheckReport is what Check found in a data file. Fields after Path are
// filled as far as the check got.
type CheckReport struct {
	Path     string
	Size     int64
	PageSize int
	Pages    uint64 // bbolt's high-water mark, free pages included
	TxID     uint64 // bbolt's last committed transaction
	store.Inspection
	// Problems (in Inspection) also holds bbolt's consistency errors
	// ("bbolt: …"), at most 50, before the broken invariants.
}

// Check verifies the data file in dir offline, without changing it: the
// checks Open makes before trusting a file, bbolt's own consistency check
// (every page reachable exactly once, keys in order) and every invariant
// store.Verify checks. It takes a shared lock, so it fails with
// store.ErrLocked while a server has the file open.
//
// It returns nil when the file is sound. A damaged file gives a
// *store.FileError wrapping store.ErrDamaged, with every problem found in the
// report; a missing file an error wrapping fs.ErrNotExist; a foreign file
// store.ErrNotDataFile; a file of a newer Rolecall store.ErrNewerSchema.
func Check(dir string) (CheckReport, error) {
	path := filepath.Join(dir, FileName)
	rep := CheckReport{Path: path}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return rep, fmt.Errorf("no data file at %s: %w", path, fs.ErrNotExist)
	}
	bdb, opened, err := openBolt(path, true, false)
	if err != nil {
		return rep, err
	}
	defer bdb.Close()
	sum := opened.summary
	rep.Size, rep.PageSize, rep.Pages, rep.TxID = sum.Size, sum.PageSize, sum.Pages, sum.TxID
	err = guard(path, func() error {
		return bdb.View(func(btx *bolt.Tx) error {
			var boltProblems []string
			n := 0
			for err := range btx.Check() {
				if n++; n <= maxProblems {
					boltProblems = append(boltProblems, "bbolt: "+err.Error())
				}
			}
			if n > 0 {
				// Invariants of a broken tree say nothing useful.
				rep.Problems = boltProblems
				return nil
			}
			in, err := store.Inspect(&tx{btx: btx}, path)
			rep.Inspection = in
			return err
		})
	})
	if err != nil {
		return rep, err
	}
	if len(rep.Problems) > 0 {
		return rep, store.FileErrorf(path, store.ErrDamaged, "%d problems, the first: %s", len(rep.Problems), rep.Problems[0])
	}
	return rep, nil
}
