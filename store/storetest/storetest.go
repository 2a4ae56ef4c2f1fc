// Package storetest holds test helpers for code that uses the store: a DB
// whose invariants are verified when the test ends, fixtures that fail the
// test instead of returning errors, and Run, the conformance suite every
// engine passes. It must only be imported by tests.
//
// Open uses bbolt in a temporary directory, or, when ROLECALL_TEST_POSTGRES
// names a PostgreSQL server, a fresh database on it: so
// `ROLECALL_TEST_POSTGRES=... go test ./...` runs every test that opens its
// store here against PostgreSQL.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
	"github.com/rolecall/rolecall/store/postgres"
	"github.com/rolecall/rolecall/store/postgres/pgtest"
)

// Origin is the write origin fixtures use.
var Origin = store.Origin{
	Actor:     store.Actor{Type: store.ActorSystem, ID: "storetest"},
	Channel:   store.ChannelSystem,
	RequestID: "test",
}

// Open opens a fresh, empty store: bbolt in tb.TempDir(), or a new database
// on the PostgreSQL server named by ROLECALL_TEST_POSTGRES when it is set.
// When the test ends it checks every store invariant (store.DB.Verify) and
// closes the store.
func Open(tb testing.TB, opts ...store.Options) *store.DB {
	tb.Helper()
	if pgtest.Enabled() {
		return OpenPostgres(tb, opts...)
	}
	return OpenBolt(tb, opts...)
}

// OpenBolt is Open on bbolt, whatever the environment says.
func OpenBolt(tb testing.TB, opts ...store.Options) *store.DB {
	tb.Helper()
	var o store.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	db, err := bboltdb.Open(tb.TempDir(), o)
	if err != nil {
		tb.Fatalf("store.Open: %v", err)
	}
	verifyAndClose(tb, db)
	return db
}

// OpenPostgres is Open on a fresh PostgreSQL database; it skips the test
// when ROLECALL_TEST_POSTGRES is not set.
func OpenPostgres(tb testing.TB, opts ...store.Options) *store.DB {
	tb.Helper()
	var o store.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	db, err := postgres.Open(context.Background(), pgtest.DSN(tb), o)
	if err != nil {
		tb.Fatalf("postgres.Open: %v", err)
	}
	verifyAndClose(tb, db)
	return db
}

func verifyAndClose(tb testing.TB, db *store.DB) {
	tb.Cleanup(func() {
		if err := db.Verify(); err != nil {
			tb.Errorf("store invariants broken after test:\n%v", err)
		}
		if err := db.Close(); err != nil {
			tb.Errorf("store.Close: %v", err)
		}
	})
}

// MustUpdate runs one write and fails the test on error.
func MustUpdate(tb testing.TB, db *store.DB, fn func(*store.Tx) error) uint64 {
	tb.Helper()
	rev, err := db.Update(context.Background(), Origin, fn)
	if err != nil {
		tb.Fatalf("store.Update: %v", err)
	}
	return rev
}

// MustConnection creates a connection with a SCIM configuration.
func MustConnection(tb testing.TB, db *store.DB, name string) store.Connection {
	tb.Helper()
	var c store.Connection
	MustUpdate(tb, db, func(tx *store.Tx) error {
		var err error
		if c, err = tx.CreateConnection(store.Connection{Name: name, Strategy: "okta"}); err != nil {
			return err
		}
		_, err = tx.CreateSCIMConfig(store.SCIMConfig{ConnectionID: c.ID, UserIDAttribute: "userName"})
		return err
	})
	return c
}

// MustUser creates an active user with a minimal document.
func MustUser(tb testing.TB, db *store.DB, connectionID, userName string) store.User {
	tb.Helper()
	doc, _ := json.Marshal(map[string]any{"userName": userName, "active": true})
	var u store.User
	MustUpdate(tb, db, func(tx *store.Tx) error {
		var err error
		u, err = tx.CreateUser(store.User{ConnectionID: connectionID, UserName: userName, Active: true, Doc: doc})
		return err
	})
	return u
}

// MustGroup creates a group with the given user or group ids as members.
func MustGroup(tb testing.TB, db *store.DB, connectionID, displayName string, memberIDs ...string) store.Group {
	tb.Helper()
	members := make([]store.Member, len(memberIDs))
	for i, id := range memberIDs {
		members[i] = store.Member{ID: id}
	}
	var g store.Group
	MustUpdate(tb, db, func(tx *store.Tx) error {
		var err error
		g, err = tx.CreateGroup(store.Group{ConnectionID: connectionID, DisplayName: displayName}, members)
		return err
	})
	return g
}

// MemberIDs lists a group's member ids.
func MemberIDs(tb testing.TB, db *store.DB, groupID string) []string {
	tb.Helper()
	var ids []string
	if err := db.View(func(r *store.ReadTx) error {
		members, _ := r.Members(groupID, "", 0)
		for _, m := range members {
			ids = append(ids, m.ID)
		}
		return nil
	}); err != nil {
		tb.Fatalf("View: %v", err)
	}
	return ids
}

// MustResourceServer creates a resource server (an API) defining the given
// scopes, named after its identifier.
func MustResourceServer(tb testing.TB, db *store.DB, identifier string, scopes ...string) store.ResourceServer {
	tb.Helper()
	rs := store.ResourceServer{Identifier: identifier, Name: identifier}
	for _, s := range scopes {
		rs.Scopes = append(rs.Scopes, store.ResourceServerScope{Value: s, Description: "the " + s + " scope"})
	}
	MustUpdate(tb, db, func(tx *store.Tx) (err error) {
		rs, err = tx.CreateResourceServer(rs)
		return err
	})
	return rs
}

// EnsureScopes, inside a write, makes the resource server identifier exist
// (named after it) and define scopes, so fixtures can give roles any
// permission.
func EnsureScopes(tx *store.Tx, identifier string, scopes ...string) error {
	rs, err := tx.ResourceServerByIdentifier(identifier)
	if err != nil {
		if rs, err = tx.CreateResourceServer(store.ResourceServer{Identifier: identifier, Name: identifier}); err != nil {
			return err
		}
	}
	_, err = tx.UpdateResourceServer(rs.ID, func(rs *store.ResourceServer) error {
		for _, s := range scopes {
			if _, ok := rs.Scope(s); !ok {
				rs.Scopes = append(rs.Scopes, store.ResourceServerScope{Value: s})
			}
		}
		return nil
	})
	return err
}

// SeedUsers creates n users named u0000000@example.com … in writes of 20k
// and returns their ids, for benchmarks at directory scale.
func SeedUsers(tb testing.TB, db *store.DB, conID string, n int) []string {
	tb.Helper()
	ids := make([]string, 0, n)
	const perWrite = 20_000
	for start := 0; start < n; start += perWrite {
		MustUpdate(tb, db, func(tx *store.Tx) error {
			for i := start; i < min(start+perWrite, n); i++ {
				u, err := tx.CreateUser(store.User{ConnectionID: conID, UserName: fmt.Sprintf("u%07d@example.com", i), Active: true, Doc: []byte(`{"active":true}`)})
				if err != nil {
					return err
				}
				ids = append(ids, u.ID)
			}
			return nil
		})
	}
	return ids
}
