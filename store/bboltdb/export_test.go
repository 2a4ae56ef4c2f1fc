package bboltdb_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
	"github.com/rolecall/rolecall/store/storetest"
)

// exportOf exports db, dropping the header's creation time so that two
// exports of the same store compare equal.
func exportOf(t *testing.T, db *store.DB) (string, store.ExportStats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := db.Export(context.Background(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(buf.String(), "\n")
	return rest, st
}

func TestAnExportImportsIntoAnIdenticalStore(t *testing.T) {
	src := storetest.Open(t)
	storetest.Seed(t, src, storetest.LoginDataset{Users: 200, Groups: 20, Memberships: 800, Roles: 10, Bindings: 40, SubjectGroups: 5})
	before, st := exportOf(t, src)
	if st.Records < 20 || st.Revision == 0 {
		t.Fatalf("export of a seeded store: %+v", st)
	}

	dir := t.TempDir()
	e, err := bboltdb.OpenEngine(dir)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := src.Export(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	imported, err := store.Import(context.Background(), e, bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if imported != st {
		t.Errorf("imported %+v, exported %+v", imported, st)
	}
	// A second import into the same engine is refused: never a merge.
	if _, err := store.Import(context.Background(), e, bytes.NewReader(buf.Bytes())); !errors.Is(err, store.ErrNotEmpty) {
		t.Errorf("import into a store with data: %v, want ErrNotEmpty", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	dst, err := bboltdb.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if err := dst.Verify(); err != nil {
		t.Errorf("imported store: %v", err)
	}
	if dst.Revision() != src.Revision() {
		t.Errorf("revision %d, want %d", dst.Revision(), src.Revision())
	}
	after, _ := exportOf(t, dst)
	if after != before {
		t.Error("the imported store exports differently from its source")
	}
}

// An import cut short never leaves a store that looks whole: its batches
// may be committed, but the meta bucket comes last, so what is left is
// refused as not a Rolecall store (or, when nothing was committed, is empty).
func TestACutExportIsRefusedAndLeavesNoStore(t *testing.T) {
	for _, size := range []storetest.LoginDataset{
		{Users: 200, Groups: 20, Memberships: 800, Roles: 10, Bindings: 40, SubjectGroups: 5},      // one batch
		{Users: 4000, Groups: 200, Memberships: 20000, Roles: 10, Bindings: 400, SubjectGroups: 5}, // several
	} {
		src := storetest.Open(t, store.Options{NoSync: true})
		storetest.Seed(t, src, size)
		var buf bytes.Buffer
		if _, err := src.Export(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		cut := buf.Bytes()[:buf.Len()*2/3]
		dir := t.TempDir()
		e, err := bboltdb.OpenEngine(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Import(context.Background(), e, bytes.NewReader(cut)); err == nil || !strings.Contains(err.Error(), "ends before its trailer") {
			t.Fatalf("import of a cut stream: %v", err)
		}
		e.Close()
		db, err := bboltdb.Open(dir, store.Options{})
		switch {
		case errors.Is(err, store.ErrNotDataFile):
		case err == nil && db.Revision() == 0:
			db.Close()
		case err == nil:
			t.Fatalf("%d users: what a cut import left opens as a store at revision %d", size.Users, db.Revision())
		default:
			t.Fatalf("%d users: opening what a cut import left: %v, want ErrNotDataFile or an empty store", size.Users, err)
		}
	}
}
