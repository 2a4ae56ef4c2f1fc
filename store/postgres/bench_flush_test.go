package postgres_test

import (
	"fmt"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/postgres/pgtest"
)

// BenchmarkMembershipFlush is the engine's part of a 1,000-operation
// membership PATCH: one write transaction reads 1,000 keys absent and
// inserts them, and (deletes=true) deletes the 1,000 the previous one
// inserted (two rows per membership). Besides wall time (which the other processes on a shared
// machine distort), it reports the PostgreSQL server's CPU time per write,
// read from /proc when the server runs on this machine, and this process's
// (the client's) CPU time:
//
//	ROLECALL_TEST_POSTGRES=$(.ci/postgres start) go test ./store/postgres -run '^$' -bench MembershipFlush
func BenchmarkMembershipFlush(b *testing.B) {
	dsn := pgtest.DSN(b)
	e := newEngine(b, dsn)
	name := []byte("flush")
	setup, err := e.Begin(ctx, true)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := setup.CreateBucketIfNotExists(name); err != nil {
		b.Fatal(err)
	}
	if err := setup.Commit(); err != nil {
		b.Fatal(err)
	}
	const n = 1000
	value := []byte(`{"id":"0192a3b4-c5d6-7e8f-9012-3456789abcde","type":"User","added":1733500000}`)
	keys := func(round int) [][]byte {
		ks := make([][]byte, n)
		for i := range ks {
			ks[i] = fmt.Appendf(nil, "g/0192a3b4-c5d6-7e8f/%08d/m/0192a3b4-%06d", round, i)
		}
		return ks
	}
	serverCPU := pgtest.ServerCPU(b, dsn)
	round := 0
	for _, deletes := range []bool{false, true} {
		b.Run(fmt.Sprintf("deletes=%v", deletes), func(b *testing.B) {
			prev := [][]byte(nil)
			cpu0, own0 := serverCPU(), pgtest.OwnCPU()
			for b.Loop() {
				round++
				etx, err := e.Begin(ctx, true)
				if err != nil {
					b.Fatal(err)
				}
				bk := etx.Bucket(name)
				ks := keys(round)
				bk.(store.MultiGetter).GetMany(append(ks, prev...))
				for _, k := range ks {
					bk.Put(k, value)
				}
				for _, k := range prev {
					bk.Delete(k)
				}
				if err := etx.Commit(); err != nil {
					b.Fatal(err)
				}
				if deletes {
					prev = ks
				}
			}
			if cpu := serverCPU(); cpu >= 0 && cpu0 >= 0 {
				b.ReportMetric(float64(cpu-cpu0)*1e3/float64(b.N), "server-cpu-ms/op")
			}
			b.ReportMetric((pgtest.OwnCPU()-own0)*1e3/float64(b.N), "client-cpu-ms/op")
		})
	}
}
