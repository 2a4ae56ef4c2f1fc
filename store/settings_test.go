package store_test

import (
	"errors"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
	"github.com/rolecall/rolecall/store/storetest"
)

// changeLog records what observers are told.
type changeLog struct{ changes []store.Change }

func (l *changeLog) Committed(_ uint64, changes []store.Change) {
	l.changes = append(l.changes, changes...)
}

func TestTenantSettingsDefaultOffChangeAuditedAndSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	feed := &changeLog{}
	db, err := bboltdb.Open(dir, store.Options{NoSync: true, Observers: []store.Observer{feed}})
	if err != nil {
		t.Fatal(err)
	}
	read := func(db *store.DB) (s store.TenantSettings) {
		t.Helper()
		if err := db.View(func(r *store.ReadTx) (err error) { s, err = r.TenantSettings(); return err }); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if read(db).NestedGroupRoles {
		t.Fatal("nested group roles on in a new store")
	}

	// A refused change writes nothing.
	refused := errors.New("no")
	if _, err := db.Update(t.Context(), store.Origin{Channel: store.ChannelAPI}, func(tx *store.Tx) error {
		_, err := tx.UpdateTenantSettings(func(s *store.TenantSettings) error { s.NestedGroupRoles = true; return refused })
		return err
	}); !errors.Is(err, refused) {
		t.Fatalf("refused update: %v", err)
	}
	if read(db).NestedGroupRoles || auditCount(t, db, "tenant.settings.updated", "") != 0 {
		t.Fatal("a refused update changed the settings or wrote an audit entry")
	}

	turnOn := func(tx *store.Tx) error {
		_, err := tx.UpdateTenantSettings(func(s *store.TenantSettings) error { s.NestedGroupRoles = true; return nil })
		return err
	}
	storetest.MustUpdate(t, db, turnOn)
	storetest.MustUpdate(t, db, turnOn) // no change: no entry, no change event
	if !read(db).NestedGroupRoles {
		t.Fatal("setting not saved")
	}
	if n := auditCount(t, db, "tenant.settings.updated", ""); n != 1 {
		t.Errorf("audit entries = %d, want 1", n)
	}
	var events int
	for _, c := range feed.changes {
		if c.Kind == store.TenantSettingsChanged {
			events++
			if !c.Settings.NestedGroupRoles {
				t.Errorf("change carries %+v", c.Settings)
			}
		}
	}
	if events != 1 {
		t.Errorf("TenantSettingsChanged events = %d, want 1", events)
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = bboltdb.Open(dir, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !read(db).NestedGroupRoles {
		t.Error("setting lost on reopen")
	}
}
