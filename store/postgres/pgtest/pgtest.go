// Package pgtest gives tests a fresh PostgreSQL database of their own on the
// server named by the environment variable ROLECALL_TEST_POSTGRES (a DSN;
// `.ci/postgres start` starts a throwaway cluster and prints one). Without
// it, tests that need PostgreSQL skip. It must only be imported by tests.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env names the environment variable holding the test server's DSN.
const Env = "ROLECALL_TEST_POSTGRES"

// Enabled reports whether a test server is configured.
func Enabled() bool { return os.Getenv(Env) != "" }

// DSN creates a database named rc_test_<random> on the test server, drops it
// when the test ends, and returns its DSN. It skips the test when no server
// is configured (Env unset) and fails it when the server cannot be reached.
func DSN(tb testing.TB) string {
	tb.Helper()
	admin := os.Getenv(Env)
	if admin == "" {
		tb.Skipf("%s is not set: no PostgreSQL to test against (.ci/postgres start starts one)", Env)
	}
	var b [8]byte
	rand.Read(b[:])
	name := "rc_test_" + hex.EncodeToString(b[:])
	exec(tb, admin, "CREATE DATABASE "+name)
	tb.Cleanup(func() { exec(tb, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	return WithDatabase(tb, admin, name)
}

// WithDatabase is dsn naming database name instead of its own.
func WithDatabase(tb testing.TB, dsn, name string) string {
	tb.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			tb.Fatalf("%s: %v", Env, err)
		}
		u.Path = "/" + name
		return u.String()
	}
	return dsn + " dbname=" + name // key=value form: the last one wins
}

func exec(tb testing.TB, dsn, sql string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect to %s: %v", Env, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// Settle makes the server at dsn write out what a benchmark's seeding left
// in its buffers (CHECKPOINT), so that it does not happen during the timed
// part: a checkpoint spread over the next minutes slows every durable
// commit in them. It needs a superuser, as the test cluster's is.
func Settle(tb testing.TB, dsn string) {
	tb.Helper()
	exec(tb, dsn, "CHECKPOINT")
}
