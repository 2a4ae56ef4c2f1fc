package bboltdb_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
	"github.com/rolecall/rolecall/store/storetest"
)

// writeDataFile creates a closed data file in a new directory with enough
// users that the users bucket spans several pages, and returns the directory.
func writeDataFile(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	db, err := bboltdb.Open(dir, store.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	c := storetest.MustConnection(tb, db, "damage")
	storetest.MustUpdate(tb, db, func(tx *store.Tx) error {
		for i := range 300 {
			name := fmt.Sprintf("user%03d@example.com", i)
			if _, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: name, Active: true, Doc: []byte(`{"userName":"` + name + `"}`)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// damage is one way a data file goes bad; it rewrites the file at path.
type damage struct {
	name string
	kind error
	// detail is a fragment the one-line error must contain.
	detail string
	apply  func(t *testing.T, path string)
}

func rewrite(t *testing.T, path string, change func(raw []byte, l storetest.Layout) []byte) {
	t.Helper()
	l := storetest.FileLayout(t, path)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, change(raw, l), 0o600); err != nil {
		t.Fatal(err)
	}
}

func flip(b []byte) {
	for i := range b {
		b[i] ^= 0xFF
	}
}

// damages are every kind of damaged or foreign file Open must refuse.
var damages = []damage{
	{"zero-length", store.ErrDamaged, "empty", func(t *testing.T, path string) {
		rewrite(t, path, func([]byte, storetest.Layout) []byte { return nil })
	}},
	{"truncated to half its pages", store.ErrDamaged, "truncated", func(t *testing.T, path string) {
		rewrite(t, path, func(raw []byte, l storetest.Layout) []byte { return raw[:l.Used/2] })
	}},
	{"truncated inside the header pages", store.ErrDamaged, "truncated", func(t *testing.T, path string) {
		rewrite(t, path, func(raw []byte, l storetest.Layout) []byte { return raw[:l.PageSize+100] })
	}},
	{"data page header flipped", store.ErrDamaged, "page", func(t *testing.T, path string) {
		rewrite(t, path, func(raw []byte, l storetest.Layout) []byte {
			flip(raw[l.UsersLeaf*l.PageSize : l.UsersLeaf*l.PageSize+16])
			return raw
		})
	}},
	{"data page overwritten with random bytes", store.ErrDamaged, "page", func(t *testing.T, path string) {
		rewrite(t, path, func(raw []byte, l storetest.Layout) []byte {
			rng := rand.New(rand.NewPCG(7, 7))
			for i := l.UsersLeaf * l.PageSize; i < (l.UsersLeaf+1)*l.PageSize; i++ {
				raw[i] = byte(rng.Uint32())
			}
			return raw
		})
	}},
	{"data page element points outside", store.ErrDamaged, "outside", func(t *testing.T, path string) {
		rewrite(t, path, func(raw []byte, l storetest.Layout) []byte {
			elem := raw[l.UsersLeaf*l.PageSize+16:]
			flip(elem[4:8]) // the first element's key position
			return raw
		})
	}},
	{"newest meta page flipped", store.ErrDamaged, "header page", func(t *testing.T, path string) {
		rewrite(t, path, func(raw []byte, l storetest.Layout) []byte {
			flip(raw[l.NewestMeta*l.PageSize+16+32 : l.NewestMeta*l.PageSize+16+48]) // freelist and high-water mark
			return raw
		})
	}},
	{"older meta page flipped", store.ErrDamaged, "header page", func(t *testing.T, path string) {
		rewrite(t, path, func(raw []byte, l storetest.Layout) []byte {
			older := 1 - l.NewestMeta
			flip(raw[older*l.PageSize+16+8 : older*l.PageSize+16+12]) // page size
			return raw
		})
	}},
	{"random bytes", store.ErrNotDataFile, "no bbolt header", func(t *testing.T, path string) {
		rewrite(t, path, func(raw []byte, _ storetest.Layout) []byte {
			rng := rand.New(rand.NewPCG(1, 1))
			for i := range raw[:1<<20] {
				raw[i] = byte(rng.Uint32())
			}
			return raw[:1<<20]
		})
	}},
	{"SQLite database", store.ErrNotDataFile, "SQLite", func(t *testing.T, path string) {
		rewrite(t, path, func([]byte, storetest.Layout) []byte {
			return append([]byte("SQLite format 3\x00\x10\x00\x01\x01"), make([]byte, 8192)...)
		})
	}},
	{"text file", store.ErrNotDataFile, "text file", func(t *testing.T, path string) {
		rewrite(t, path, func([]byte, storetest.Layout) []byte {
			return []byte(strings.Repeat("users:\n  - alice\n  - bob\n", 400))
		})
	}},
	{"another program's bbolt file", store.ErrNotDataFile, "without Rolecall's meta bucket", func(t *testing.T, path string) {
		os.Remove(path)
		withBolt(t, path, func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket([]byte("sessions"))
			if err != nil {
				return err
			}
			return b.Put([]byte("k"), []byte("v"))
		})
	}},
	{"meta bucket without a schema version", store.ErrDamaged, "no schema version", func(t *testing.T, path string) {
		withBolt(t, path, func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("meta")).Delete([]byte("schema_version"))
		})
	}},
}

func withBolt(t *testing.T, path string, fn func(*bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// A damaged or foreign file is refused with one line naming the file, never
// opened over, never changed, and never a panic (a truncated file used to be
// a SIGBUS, a damaged page a panic in bbolt's freelist goroutine, and an empty
// file a new empty store).
func TestOpenRefusesDamagedFiles(t *testing.T) {
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			dir := writeDataFile(t)
			path := filepath.Join(dir, bboltdb.FileName)
			d.apply(t, path)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}

			db, err := bboltdb.Open(dir, store.Options{})
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded on a damaged file")
			}
			var fe *store.FileError
			if !errors.As(err, &fe) || !errors.Is(err, d.kind) {
				t.Fatalf("Open: got %v (%T), want a *store.FileError wrapping %v", err, err, d.kind)
			}
			msg := err.Error()
			t.Log(msg)
			if fe.Path != path || !strings.Contains(msg, path) || !strings.Contains(msg, d.detail) || strings.Contains(msg, "\n") {
				t.Errorf("Open: got %q, want one line naming %s and saying %q", msg, path, d.detail)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
				t.Errorf("Open changed the file: %d bytes before, %d after", len(before), len(after))
			}

			if _, err := bboltdb.Check(dir); !errors.Is(err, d.kind) {
				t.Errorf("Check: got %v, want %v", err, d.kind)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
				t.Errorf("Check changed the file")
			}
		})
	}
}

// Damage inside a record, where the page structure is sound, is what only
// the invariant check sees: Check reports it, naming the record.
func TestCheckFindsBrokenRecords(t *testing.T) {
	dir := writeDataFile(t)
	path := filepath.Join(dir, bboltdb.FileName)
	var victim []byte
	withBolt(t, path, func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte("users")).Cursor()
		k, v := c.First()
		victim = bytes.Clone(k)
		return tx.Bucket([]byte("users")).Put(victim, v[:len(v)/2])
	})
	rep, err := bboltdb.Check(dir)
	if !errors.Is(err, store.ErrDamaged) {
		t.Fatalf("Check: got %v, want ErrDamaged", err)
	}
	if len(rep.Problems) == 0 || !strings.Contains(strings.Join(rep.Problems, "\n"), string(victim)) {
		t.Errorf("Check problems %q, want one naming user %s", rep.Problems, victim)
	}

	// A record cut shorter than its id prefix, which the decoder would
	// slice past, is reported too, not a panic.
	withBolt(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("users")).Put(victim, []byte("short"))
	})
	rep, err = bboltdb.Check(dir)
	if !errors.Is(err, store.ErrDamaged) {
		t.Fatalf("Check: got %v, want ErrDamaged", err)
	}
	if len(rep.Problems) == 0 || !strings.Contains(strings.Join(rep.Problems, "\n"), string(victim)) {
		t.Errorf("Check problems %q, want one naming the cut record %s", rep.Problems, victim)
	}
}

func TestCheckSoundFile(t *testing.T) {
	dir := writeDataFile(t)
	path := filepath.Join(dir, bboltdb.FileName)
	before, _ := os.ReadFile(path)
	rep, err := bboltdb.Check(dir)
	if err != nil {
		t.Fatalf("Check: %v (problems %q)", err, rep.Problems)
	}
	counts := map[string]int{}
	for _, c := range rep.Counts {
		counts[c.Kind] = c.Count
	}
	if counts["users"] != 300 || counts["connections"] != 1 || rep.Pages == 0 || rep.PageSize == 0 || rep.SchemaVersion == 0 {
		t.Errorf("Check report %+v, want 300 users, 1 connection and the file's layout", rep)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Errorf("Check changed a sound file")
	}
}

// A second Open of a directory in use fails fast and says so; so does Check.
func TestOpenLockedFile(t *testing.T) {
	dir := t.TempDir()
	db, err := bboltdb.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	start := time.Now()
	_, err = bboltdb.Open(dir, store.Options{})
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), filepath.Join(dir, bboltdb.FileName)) ||
		!strings.Contains(err.Error(), "another Rolecall process") {
		t.Fatalf("second Open: got %v, want ErrLocked naming the file and the other process", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("second Open took %v to give up", took)
	}
	if _, err := bboltdb.Check(dir); !errors.Is(err, store.ErrLocked) {
		t.Errorf("Check of a file in use: got %v, want ErrLocked", err)
	}
}

func TestOpenMissingFileIsNewCheckMissingIsNot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fresh")
	if _, err := bboltdb.Check(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Check of a missing file: got %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Check created %s", dir)
	}
	db, err := bboltdb.Open(dir, store.Options{})
	if err != nil {
		t.Fatalf("Open of a missing file: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := bboltdb.Check(dir); err != nil {
		t.Errorf("Check of a new file: %v", err)
	}
}

// Opening checks every reachable page before bbolt maps the file (bbolt then
// walks them again to rebuild its freelist): this is what a start costs.
func BenchmarkOpenSeededFile(b *testing.B) {
	dir := b.TempDir()
	db, err := bboltdb.Open(dir, store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	storetest.Seed(b, db, storetest.LoginDataset{Users: 50_000, Groups: 5_000, Memberships: 500_000, Roles: 100, Bindings: 5_000, SubjectGroups: 50})
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	l := storetest.FileLayout(b, filepath.Join(dir, bboltdb.FileName))
	b.ResetTimer()
	for b.Loop() {
		db, err := bboltdb.Open(dir, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(l.Used)/(1<<20), "MiB-used")
}
