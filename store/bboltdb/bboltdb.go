// Package bboltdb is the store's embedded engine: one bbolt file in a data
// directory, the default (`rolecall serve --data DIR`). It is the only
// package that imports bbolt.
//
// Open checks an existing file before bbolt maps it (filecheck.go: header
// pages, length, every page reachable) and refuses a damaged, foreign or
// busy file with one line naming it; only a missing file is created. Check
// verifies a file offline.
package bboltdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/rolecall/rolecall/store"
)

// FileName is the name of the bbolt file inside the data directory.
const FileName = "rolecall.db"

// Open opens the store in directory dir, creating the directory and a new
// data file only when the file is missing. An existing file is checked before
// use and never re-initialised; it fails with a *store.FileError wrapping
// store.ErrLocked (another process holds it, after waiting a second),
// store.ErrDamaged (empty, truncated, a damaged header or page) or
// store.ErrNotDataFile (another format, or another program's bbolt file). A
// file written by a newer Rolecall fails with store.ErrNewerSchema. Open never
// panics on a damaged file. opts.NoSync turns fsync off (benchmarks only).
func Open(dir string, opts store.Options) (*store.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	bdb, opened, err := openBolt(path, false, opts.NoSync)
	if err != nil {
		return nil, err
	}
	var db *store.DB
	if err := guard(path, func() (err error) {
		db, err = store.New(&Engine{db: bdb}, path, opts)
		return err
	}); err != nil {
		bdb.Close()
		if opened.created {
			os.Remove(path)
		}
		return nil, err
	}
	return db, nil
}

// OpenEngine opens (creating if missing) the bbolt file in dir as an engine
// only, without opening a store over it: for store.Import into a new data
// directory. The file gets the same checks as with Open. Close it when done.
func OpenEngine(dir string) (*Engine, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	bdb, _, err := openBolt(filepath.Join(dir, FileName), false, false)
	if err != nil {
		return nil, err
	}
	return &Engine{db: bdb}, nil
}

// Engine is a bbolt database as a store.Engine.
type Engine struct{ db *bolt.DB }

var (
	_ store.Engine      = (*Engine)(nil)
	_ store.PageCounter = (*Engine)(nil)
)

// Begin starts a bbolt transaction; bbolt has one writer at a time.
func (e *Engine) Begin(_ context.Context, writable bool) (store.EngineTx, error) {
	btx, err := e.db.Begin(writable)
	if err != nil {
		return nil, err
	}
	return &tx{btx: btx, writable: writable}, nil
}

// Close closes the file.
func (e *Engine) Close() error { return e.db.Close() }

// PagesWritten is how many pages commits have written.
func (e *Engine) PagesWritten() int64 {
	st := e.db.Stats()
	return st.TxStats.GetWrite()
}

type tx struct {
	btx      *bolt.Tx
	writable bool
}

func (t *tx) Bucket(name []byte) store.Bucket {
	b := t.btx.Bucket(name)
	if b == nil {
		return nil // not a typed nil in the interface
	}
	if t.writable && store.AppendMostly(name) {
		// Keys arrive in increasing order, so full pages are never split
		// again: bbolt's default split at 50% would leave half of every
		// page empty.
		b.FillPercent = 1.0
	}
	return bucket{b}
}

func (t *tx) CreateBucketIfNotExists(name []byte) (store.Bucket, error) {
	b, err := t.btx.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, err
	}
	return bucket{b}, nil
}

func (t *tx) Empty() bool {
	k, _ := t.btx.Cursor().First()
	return k == nil
}

func (t *tx) Err() error      { return nil } // bbolt reads cannot fail
func (t *tx) Commit() error   { return t.btx.Commit() }
func (t *tx) Rollback() error { return t.btx.Rollback() }

// bucket is a bbolt bucket whose Cursor returns the store's interface.
type bucket struct{ *bolt.Bucket }

func (b bucket) Cursor() store.Cursor { return b.Bucket.Cursor() }
