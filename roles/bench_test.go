package roles_test

import (
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// datasetSize is the roles issue's data set, or a small one with
// ROLECALL_BENCH_SMALL set (for a quick run).
func datasetSize() storetest.LoginDataset {
	if os.Getenv("ROLECALL_BENCH_SMALL") != "" {
		return storetest.LoginDataset{Users: 10_000, Groups: 1_000, Memberships: 100_000, Roles: 100, Bindings: 2_000, SubjectGroups: 50}
	}
	return storetest.FullLoginDataset
}

// BenchmarkResolve resolves one user's effective roles in process: the
// user is in 50 groups of 10k, with 20k bindings of 500 roles.
func BenchmarkResolve(b *testing.B) {
	ix := roles.NewIndex()
	db := storetest.Open(b, store.Options{NoSync: true, Observers: []store.Observer{ix}})
	s := storetest.Seed(b, db, datasetSize())
	if err := ix.Load(db); err != nil {
		b.Fatal(err)
	}
	b.Logf("%v", ix)
	for _, tc := range []struct {
		name    string
		subject roles.Subject
	}{
		{"tenant", roles.Subject{UserID: s.Subject.ID}},
		{"organization", roles.Subject{UserID: s.Subject.ID, OrganizationID: s.Org.ID}},
		{"by-user-name", roles.Subject{ConnectionID: s.Connection.ID, UserName: s.Subject.UserName}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			res, err := ix.Resolve(tc.subject)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(res.Roles)), "roles")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ix.Resolve(tc.subject); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBindGroupRole binds and unbinds a role on a group of 10 and of
// 100k members, durably: the cost must not depend on the group's size. With
// ROLECALL_BENCH_NOSYNC set it measures the work without the disk's noise.
func BenchmarkBindGroupRole(b *testing.B) {
	ix := roles.NewIndex()
	db := storetest.Open(b, store.Options{NoSync: os.Getenv("ROLECALL_BENCH_NOSYNC") != "", Observers: []store.Observer{ix}})
	c := storetest.MustConnection(b, db, "acme")
	var ids []string
	for start := 0; start < 100_000; start += 20_000 {
		storetest.MustUpdate(b, db, func(tx *store.Tx) error {
			for i := start; i < start+20_000; i++ {
				u, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: fmt.Sprintf("u%06d", i), Active: true})
				if err != nil {
					return err
				}
				ids = append(ids, u.ID)
			}
			return nil
		})
	}
	if err := ix.Load(db); err != nil {
		b.Fatal(err)
	}
	var role store.Role
	storetest.MustUpdate(b, db, func(tx *store.Tx) (err error) { role, err = tx.CreateRole(store.Role{Name: "admin"}); return err })
	groups := map[int]store.Group{}
	for _, n := range []int{10, 100_000} { // both exist before either is measured
		groups[n] = storetest.MustGroup(b, db, c.ID, fmt.Sprintf("size-%d", n), ids[:n]...)
	}
	for _, n := range []int{10, 100_000} {
		g := groups[n]
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				storetest.MustUpdate(b, db, func(tx *store.Tx) error {
					if i%2 == 0 {
						_, err := tx.BindGroupRoles(g.ID, []string{role.ID})
						return err
					}
					_, err := tx.UnbindGroupRoles(g.ID, []string{role.ID})
					return err
				})
			}
		})
	}
}

// BenchmarkIndexMemory reports the heap the effective-role index holds for
// the data set (100k users, 10k groups, 1M memberships): the server keeps
// it for as long as it runs.
func BenchmarkIndexMemory(b *testing.B) {
	db := storetest.Open(b, store.Options{NoSync: true})
	storetest.Seed(b, db, datasetSize())
	heap := func() float64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return float64(m.HeapAlloc)
	}
	var ix *roles.Index
	for b.Loop() {
		ix = roles.NewIndex()
		if err := ix.Load(db); err != nil {
			b.Fatal(err)
		}
		with := heap()
		runtime.KeepAlive(ix)
		ix = nil
		b.ReportMetric((with-heap())/(1<<20), "heap-MiB")
	}
}
