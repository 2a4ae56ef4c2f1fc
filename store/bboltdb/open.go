package bboltdb

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/rolecall/rolecall/store"
)

// lockTimeout is how long opening waits for another process to let go of the
// file: enough to ride out a restart that overlaps the old process's exit,
// short enough that a second server is refused at once.
const lockTimeout = time.Second

var errFileLocked = errors.New("file locked")

// fileOpener is bbolt's OpenFile hook. bbolt opens the file, locks it, and
// then maps and walks it; the hook opens and locks it first, so it can tell a
// missing file (new) from an empty one (damaged), and check an existing file
// with checkFile while no other process can change it, before bbolt maps it.
type fileOpener struct {
	path      string
	exclusive bool
	file      *os.File
	created   bool
	summary   fileSummary
}

func (o *fileOpener) open(name string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(name, flag&^os.O_CREATE, perm)
	if errors.Is(err, fs.ErrNotExist) && flag&os.O_CREATE != 0 {
		// Only a missing file is new; O_EXCL makes sure it is ours.
		f, err = os.OpenFile(name, flag|os.O_EXCL, perm)
		o.created = err == nil
		if errors.Is(err, fs.ErrExist) {
			f, err = os.OpenFile(name, flag&^os.O_CREATE, perm)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := lockFile(f, o.exclusive, lockTimeout); err != nil {
		f.Close()
		if errors.Is(err, errFileLocked) {
			return nil, store.FileErrorf(o.path, store.ErrLocked, "another Rolecall process (or another program) holds it")
		}
		return nil, err
	}
	size, err := fileSize(f)
	if err == nil && !(o.created && size == 0) {
		o.summary, err = checkFile(f, size, o.path)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	o.file = f
	return f, nil
}

// openBolt opens the bbolt file at path, checking it first (see fileOpener).
// Its errors name the file: a *store.FileError for a locked, damaged or foreign
// file, a wrapped os error otherwise. A file it created is removed again if
// opening fails, so a failed first start leaves no empty file behind.
func openBolt(path string, readOnly, noSync bool) (*bolt.DB, *fileOpener, error) {
	o := &fileOpener{path: path, exclusive: !readOnly}
	var bdb *bolt.DB
	err := guard(path, func() (err error) {
		bdb, err = bolt.Open(path, 0o600, &bolt.Options{
			Timeout:         lockTimeout, // where lockFile cannot lock, bbolt does
			NoFreelistSync:  true,        // halves commit I/O; the freelist is rebuilt on open
			FreelistType:    bolt.FreelistMapType,
			InitialMmapSize: 1 << 30, // virtual only; avoids remaps that stall readers
			NoSync:          noSync,
			ReadOnly:        readOnly,
			OpenFile:        o.open,
		})
		return err
	})
	if err == nil {
		return bdb, o, nil
	}
	if o.file != nil {
		// bbolt closes the file when it fails, but not when it panics half
		// open: release the lock then. (Its mapping stays until the process
		// exits, which it is about to.) Closing twice is harmless.
		o.file.Close()
	}
	if o.created {
		os.Remove(path)
	}
	var fe *store.FileError
	switch {
	case errors.As(err, &fe):
		return nil, nil, fe
	case errors.Is(err, berrors.ErrTimeout):
		return nil, nil, store.FileErrorf(path, store.ErrLocked, "another Rolecall process (or another program) holds it")
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return nil, nil, store.FileErrorf(path, store.ErrDamaged, "%v", err)
	}
	return nil, nil, fmt.Errorf("store: open %s: %w", path, err)
}

// guard runs fn, turning a panic, or a memory fault reading the mapped file,
// into a *store.FileError: whatever checkFile cannot see (a damaged value a
// decoder trips on) must stop Rolecall with one line, not a trace.
// SetPanicOnFault covers only this goroutine; checkFile is what keeps
// bbolt's own goroutines from faulting.
func guard(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			msg := strings.Join(strings.Fields(fmt.Sprint(r)), " ")
			err = &store.FileError{Path: path, Kind: store.ErrDamaged, Detail: "reading it failed (" + msg + ")"}
		}
	}()
	return fn()
}
