package store

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// The export format moves a whole store between engines (backup, restore,
// bbolt ⇄ PostgreSQL migration): every key of every bucket, token hashes,
// audit log and revision included, so the other side is the same store.
// It is JSON lines, streamed:
//
//	{"format":"rolecall-export","version":1,"schema_version":3,"revision":42,"created_at":"…"}
//	{"b":"users","k":"<base64>","v":"<base64>"}
//	…
//	{"end":true,"records":1234}
//
// The last line proves the stream is whole. Keys are written bucket by
// bucket in key order from one read transaction, so an export is a
// consistent snapshot taken without stopping writes. The changes bucket (a
// shared engine's replay log) is left out: it describes how the store got
// here, not what it is.

// ExportFormat and ExportVersion identify the format; Import refuses others.
const (
	ExportFormat  = "rolecall-export"
	ExportVersion = 1
)

type exportHeader struct {
	Format        string    `json:"format"`
	Version       int       `json:"version"`
	SchemaVersion uint64    `json:"schema_version"`
	Revision      uint64    `json:"revision"`
	CreatedAt     time.Time `json:"created_at"`
}

type exportRecord struct {
	Bucket string `json:"b,omitempty"`
	Key    []byte `json:"k,omitempty"`
	Value  []byte `json:"v,omitempty"`
	// The trailer.
	End     bool  `json:"end,omitempty"`
	Records int64 `json:"records,omitempty"`
}

// ExportStats says what an export or import moved.
type ExportStats struct {
	SchemaVersion uint64
	Revision      uint64
	Records       int64
}

// Export writes the whole store to w in the export format, from one read
// transaction: a consistent snapshot, taken while writes go on.
func (db *DB) Export(ctx context.Context, w io.Writer) (ExportStats, error) {
	var st ExportStats
	bw := bufio.NewWriterSize(w, 256<<10)
	enc := json.NewEncoder(bw)
	err := db.View(func(r *ReadTx) error {
		st.SchemaVersion = readU64(r.get(bucketMeta, metaSchemaVersion))
		st.Revision = readU64(r.get(bucketMeta, metaRevision))
		if err := enc.Encode(exportHeader{Format: ExportFormat, Version: ExportVersion, SchemaVersion: st.SchemaVersion, Revision: st.Revision, CreatedAt: db.now().UTC()}); err != nil {
			return err
		}
		for _, name := range allBuckets {
			if string(name) == string(bucketChanges) {
				continue
			}
			c := r.bucket(name).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if st.Records%4096 == 0 && ctx.Err() != nil {
					return ctx.Err()
				}
				if err := enc.Encode(exportRecord{Bucket: string(name), Key: k, Value: v}); err != nil {
					return err
				}
				st.Records++
			}
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("store: export: %w", err)
	}
	if err := enc.Encode(exportRecord{End: true, Records: st.Records}); err != nil {
		return st, fmt.Errorf("store: export: %w", err)
	}
	return st, bw.Flush()
}

// ErrNotEmpty: Import was given an engine that already holds data.
var ErrNotEmpty = errors.New("the target store is not empty")

// importBatch is how many records one import transaction writes.
const importBatch = 20_000

// Import reads an export from r into e, which must be empty (a new data
// directory, a new database): it never merges into or overwrites a store.
// The meta bucket (schema version, revision, settings) is created and
// written last, in the last transaction, so an import cut short leaves data
// that New refuses (no meta bucket: not a Rolecall store) rather than a
// store that looks whole. Open the
// result with New (or the engine's Open), which migrates an older schema.
func Import(ctx context.Context, e Engine, r io.Reader) (ExportStats, error) {
	var st ExportStats
	dec := json.NewDecoder(bufio.NewReaderSize(r, 256<<10))
	var h exportHeader
	if err := dec.Decode(&h); err != nil {
		return st, fmt.Errorf("store: import: read the header: %w", err)
	}
	if h.Format != ExportFormat || h.Version != ExportVersion {
		return st, fmt.Errorf("store: import: not a %s version %d stream (format %q, version %d)", ExportFormat, ExportVersion, h.Format, h.Version)
	}
	if h.SchemaVersion > schemaVersion {
		return st, fmt.Errorf("store: import: %w (export %d, binary %d)", ErrNewerSchema, h.SchemaVersion, schemaVersion)
	}
	st.SchemaVersion, st.Revision = h.SchemaVersion, h.Revision

	etx, err := e.Begin(ctx, true)
	if err != nil {
		return st, err
	}
	defer func() {
		if etx != nil {
			etx.Rollback()
		}
	}()
	if !etx.Empty() {
		return st, fmt.Errorf("store: import: %w", ErrNotEmpty)
	}
	for _, name := range allBuckets {
		if string(name) == string(bucketMeta) {
			continue // created last, see above
		}
		if _, err := etx.CreateBucketIfNotExists(name); err != nil {
			return st, err
		}
	}
	var meta [][2][]byte // held back until the end
	inBatch := 0
	for {
		var rec exportRecord
		if err := dec.Decode(&rec); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return st, fmt.Errorf("store: import: the stream ends before its trailer after %d records: %w", st.Records, err)
		}
		if rec.End {
			if rec.Records != st.Records {
				return st, fmt.Errorf("store: import: the trailer counts %d records, the stream held %d", rec.Records, st.Records)
			}
			break
		}
		st.Records++
		if rec.Bucket == string(bucketMeta) {
			meta = append(meta, [2][]byte{rec.Key, rec.Value})
			continue
		}
		b := etx.Bucket([]byte(rec.Bucket))
		if b == nil {
			return st, fmt.Errorf("store: import: record %d names an unknown bucket %q", st.Records, rec.Bucket)
		}
		if err := b.Put(rec.Key, rec.Value); err != nil {
			return st, err
		}
		if inBatch++; inBatch == importBatch {
			if err := commitEngineTx(etx); err != nil {
				return st, err
			}
			if etx, err = e.Begin(ctx, true); err != nil {
				return st, err
			}
			inBatch = 0
		}
	}
	b, err := etx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return st, err
	}
	for _, kv := range meta {
		if err := b.Put(kv[0], kv[1]); err != nil {
			return st, err
		}
	}
	err = commitEngineTx(etx)
	etx = nil
	return st, err
}

func commitEngineTx(etx EngineTx) error {
	if err := etx.Err(); err != nil {
		etx.Rollback()
		return err
	}
	return etx.Commit()
}
