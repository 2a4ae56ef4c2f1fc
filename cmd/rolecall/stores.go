package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
	"github.com/rolecall/rolecall/store/postgres"
)

// openStoreRef opens the store a command names.
func openStoreRef(ctx context.Context, ref storeRef) (*store.DB, error) {
	if ref.dsn != "" {
		return postgres.Open(ctx, ref.dsn, store.Options{})
	}
	return bboltdb.Open(ref.dir, store.Options{})
}

// openEngineRef opens the engine under the store a command names, without a
// store over it: for importing into it.
func openEngineRef(ctx context.Context, ref storeRef) (store.Engine, error) {
	if ref.dsn != "" {
		return postgres.NewEngine(ctx, ref.dsn, store.Options{})
	}
	return bboltdb.OpenEngine(ref.dir)
}

// redactDSN drops the password from a database URL, for messages and logs.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

// exportCounter reads an export stream as it passes: it counts its lines,
// hashes every record line (the header carries the export's time, so it is
// left out) and keeps the header and the last line, so that stats can say
// whether the stream was whole.
type exportCounter struct {
	lines        int64
	partial      []byte
	header, last []byte
	sum          [32]byte
	h            interface {
		Write([]byte) (int, error)
		Sum([]byte) []byte
	}
}

func (c *exportCounter) Write(p []byte) (int, error) {
	if c.h == nil {
		c.h = sha256.New()
	}
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.partial = append(c.partial, p...)
			break
		}
		line := append(c.partial, p[:i]...)
		c.partial = nil
		p = p[i+1:]
		if c.lines == 0 {
			c.header = bytes.Clone(line)
		} else {
			c.h.Write(line)
			c.h.Write([]byte{'\n'})
		}
		c.last = bytes.Clone(line)
		c.lines++
	}
	return n, nil
}

// stats returns the header's figures and the record count, or an error when
// the stream did not end with its trailer.
func (c *exportCounter) stats() (store.ExportStats, error) {
	var h struct {
		SchemaVersion uint64 `json:"schema_version"`
		Revision      uint64 `json:"revision"`
	}
	var t struct {
		End     bool  `json:"end"`
		Records int64 `json:"records"`
	}
	if json.Unmarshal(c.header, &h) != nil || json.Unmarshal(c.last, &t) != nil || !t.End || t.Records != c.lines-2 {
		return store.ExportStats{}, fmt.Errorf("the export stream was cut short after %d lines", c.lines)
	}
	if c.h != nil {
		copy(c.sum[:], c.h.Sum(nil))
	}
	return store.ExportStats{SchemaVersion: h.SchemaVersion, Revision: h.Revision, Records: t.Records}, nil
}

// exportSummary opens a store, checks its invariants and summarises its
// export: the record count and a hash of every record.
func exportSummary(ctx context.Context, ref storeRef) (exportCounter, error) {
	db, err := openStoreRef(ctx, ref)
	if err != nil {
		return exportCounter{}, err
	}
	defer db.Close()
	if err := db.Verify(); err != nil {
		return exportCounter{}, fmt.Errorf("%s does not verify: %w", ref, err)
	}
	var c exportCounter
	if _, err := db.Export(ctx, &c); err != nil {
		return c, err
	}
	_, err = c.stats()
	return c, err
}
