package main

// The HTTP benchmarks on PostgreSQL. Every benchmark of bench_test.go that
// seeds through seed (or openBenchStore) runs on a fresh database of the
// ROLECALL_TEST_POSTGRES server when ROLECALL_BENCH_STORE=postgres, with
// serve started on it (--store), so the same figures can be set side by
// side:
//
//	export ROLECALL_TEST_POSTGRES=$(.ci/postgres start)
//	go test ./cmd/rolecall -run '^$' -bench 'UserNameLookup|PatchAddMember|PatchMemberOps|ListPage' -benchtime 2000x
//	ROLECALL_BENCH_STORE=postgres go test ./cmd/rolecall -run '^$' -bench 'UserNameLookup|PatchAddMember|PatchMemberOps|ListPage' -benchtime 2000x
//
// BenchmarkIngest runs bbolt and PostgreSQL in one invocation, for the
// ratio the issue names.

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
	"github.com/rolecall/rolecall/store/postgres"
	"github.com/rolecall/rolecall/store/postgres/pgtest"
)

// reportCPU starts counting the CPU time this process (server and client)
// and, on PostgreSQL, the database server spend; the function it returns
// reports both per operation. On a machine the two share, wall time mixes
// them; these say which side a change saved.
func reportCPU(b *testing.B, s seeded) func() {
	server := func() float64 { return -1 }
	if s.dsn != "" {
		server = pgtest.ServerCPU(b, s.dsn)
	}
	own0, server0 := pgtest.OwnCPU(), server()
	return func() {
		b.ReportMetric((pgtest.OwnCPU()-own0)*1e3/float64(b.N), "rolecall-cpu-ms/op")
		if cpu := server(); cpu >= 0 && server0 >= 0 {
			b.ReportMetric((cpu-server0)*1e3/float64(b.N), "pg-cpu-ms/op")
		}
	}
}

// benchStoreEnv selects the benchmarks' store: "postgres", or bbolt.
const benchStoreEnv = "ROLECALL_BENCH_STORE"

// openBenchStore opens a fresh store for s: a PostgreSQL database (setting
// s.dsn) when s.dsn is already set or benchStoreEnv says postgres (unless
// s.boltOnly), else the bbolt file in s.dir.
func openBenchStore(b *testing.B, s *seeded, opts store.Options) *store.DB {
	b.Helper()
	if s.dsn == "" && !s.boltOnly && os.Getenv(benchStoreEnv) == "postgres" {
		s.dsn = pgtest.DSN(b)
	}
	var (
		db  *store.DB
		err error
	)
	if s.dsn != "" {
		db, err = postgres.Open(context.Background(), s.dsn, opts)
	} else {
		db, err = bboltdb.Open(s.dir, opts)
	}
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkIngest: durable POST /Users from 16 concurrent clients on bbolt
// and on PostgreSQL (synchronous_commit on), in one run on one machine.
// Target: PostgreSQL at least half of bbolt's rate. Skips PostgreSQL
// without ROLECALL_TEST_POSTGRES.
func BenchmarkIngest(b *testing.B) {
	userBody := func(i int64) string {
		return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bench%d@example.com","name":{"givenName":"Bench","familyName":"User%d"},"emails":[{"primary":true,"value":"bench%d@example.com","type":"work"}],"active":true}`, i, i, i)
	}
	var bboltRate float64
	for _, engine := range []string{"bbolt", "postgres"} {
		b.Run("store="+engine, func(b *testing.B) {
			s := seeded{dir: b.TempDir(), boltOnly: engine == "bbolt"}
			if engine == "postgres" {
				s.dsn = pgtest.DSN(b)
			}
			s = seedInto(b, s, 0)
			srv := startServer(b, func(c *config) { c.Data, c.Store = s.dir, s.dsn })
			defer reportCPU(b, s)()
			rate := postConcurrently(b, srv.URL+"/scim/v2/connections/"+s.connectionID+"/Users", s.token, userBody)
			if engine == "bbolt" {
				bboltRate = rate
			} else if bboltRate > 0 {
				b.ReportMetric(rate/bboltRate, "ratio-vs-bbolt")
			}
		})
	}
}
