package roles_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// rulesWorld is the attribute-rules issue's data set: 100k users (50
// departments, 100 titles) and 500 rules, half reading department, half
// title; ROLECALL_BENCH_SMALL makes it 10k users.
type rulesWorld struct {
	db    *store.DB
	ix    *roles.Index
	con   string
	users []string
	role  string
}

func benchUserDoc(i int, department string) json.RawMessage {
	raw, _ := json.Marshal(map[string]any{
		"userName": fmt.Sprintf("u%07d@example.com", i), "active": true,
		"title": fmt.Sprintf("T%02d engineer", i%100), "nickName": fmt.Sprint("n", i),
		enterprise: map[string]any{"department": department},
	})
	return raw
}

func newRulesWorld(b *testing.B) *rulesWorld {
	users := 100_000
	if os.Getenv("ROLECALL_BENCH_SMALL") != "" {
		users = 10_000
	}
	ix := roles.NewIndex()
	db := storetest.Open(b, store.Options{NoSync: os.Getenv("ROLECALL_BENCH_NOSYNC") != "", Observers: []store.Observer{ix}})
	if err := ix.Load(db); err != nil {
		b.Fatal(err)
	}
	w := &rulesWorld{db: db, ix: ix, con: storetest.MustConnection(b, db, "okta").ID}
	var roleIDs []string
	storetest.MustUpdate(b, db, func(tx *store.Tx) error {
		for i := range 50 {
			r, err := tx.CreateRole(store.Role{Name: fmt.Sprint("role", i)})
			if err != nil {
				return err
			}
			roleIDs = append(roleIDs, r.ID)
		}
		return nil
	})
	w.role = roleIDs[0]
	rev := storetest.MustUpdate(b, db, func(tx *store.Tx) error {
		for i := range 500 {
			f := fmt.Sprintf(`department eq "D%02d"`, i%50)
			if i%2 == 1 {
				f = fmt.Sprintf(`title sw "T%02d" and active eq true`, i%100)
			}
			if _, err := tx.CreateRoleRule(store.RoleRule{Name: fmt.Sprint("rule", i), Filter: f, RoleIDs: []string{roleIDs[i%50]}}); err != nil {
				return err
			}
		}
		return nil
	})
	w.waitFor(b, rev)
	const perWrite = 10_000
	for start := 0; start < users; start += perWrite {
		storetest.MustUpdate(b, db, func(tx *store.Tx) error {
			for i := start; i < min(start+perWrite, users); i++ {
				u, err := tx.CreateUser(store.User{ConnectionID: w.con, UserName: fmt.Sprintf("u%07d@example.com", i), Active: true, Doc: benchUserDoc(i, fmt.Sprintf("D%02d", i%50))})
				if err != nil {
					return err
				}
				w.users = append(w.users, u.ID)
			}
			return nil
		})
	}
	return w
}

func (w *rulesWorld) waitFor(b *testing.B, rev uint64) {
	if err := w.ix.WaitFor(context.Background(), rev, 10*time.Minute); err != nil {
		b.Fatal(err)
	}
}

// setDoc rewrites user i's document through fn.
func (w *rulesWorld) setDoc(b *testing.B, i int, fn func(doc map[string]any)) {
	storetest.MustUpdate(b, w.db, func(tx *store.Tx) error {
		_, err := tx.UpdateUser(w.con, w.users[i], func(u *store.User) error {
			var doc map[string]any
			if err := json.Unmarshal(u.Doc, &doc); err != nil {
				return err
			}
			fn(doc)
			u.Doc, _ = json.Marshal(doc)
			return nil
		})
		return err
	})
}

// BenchmarkAttributeRules: with 500 rules over 100k users, a user PATCH
// touching department (250 rules read it) against one touching nothing a
// rule reads (target: ≤ 2×); a new rule over every user: ms to installed,
// and the p99 and max of user writes and of resolutions made meanwhile,
// against the same load for a second with no rule evaluated (base-), and
// while the rule is deleted (delete-); and a resolution.
func BenchmarkAttributeRules(b *testing.B) {
	w := newRulesWorld(b)
	b.Logf("%v, %d rule evaluations so far", w.ix, w.ix.RuleEvaluations())
	n := 0
	b.Run("patch-department", func(b *testing.B) {
		before := w.ix.RuleEvaluations()
		ops := 0
		for b.Loop() {
			n++
			ops++
			w.setDoc(b, n%len(w.users), func(doc map[string]any) {
				doc[enterprise] = map[string]any{"department": fmt.Sprintf("D%02d", (n+1+n/len(w.users))%50)}
			})
		}
		b.ReportMetric(float64(w.ix.RuleEvaluations()-before)/float64(ops), "evals/op")
	})
	b.Run("patch-nickname", func(b *testing.B) {
		before := w.ix.RuleEvaluations()
		ops := 0
		for b.Loop() {
			n++
			ops++
			w.setDoc(b, n%len(w.users), func(doc map[string]any) { doc["nickName"] = fmt.Sprint("nick", n) })
		}
		b.ReportMetric(float64(w.ix.RuleEvaluations()-before)/float64(ops), "evals/op")
	})
	b.Run("new-rule", func(b *testing.B) {
		for b.Loop() {
			// Baseline: the same writer and reader for as long, with no
			// rule being evaluated, back to back with the install.
			base := w.load(b, func() { time.Sleep(time.Second) })
			var id string
			var installed time.Duration
			during := w.load(b, func() {
				start := time.Now()
				rev := storetest.MustUpdate(b, w.db, func(tx *store.Tx) error {
					r, err := tx.CreateRoleRule(store.RoleRule{Name: "new", Filter: `title co "engineer" and department ne "D07"`, RoleIDs: []string{w.role}})
					id = r.ID
					return err
				})
				w.waitFor(b, rev)
				installed = time.Since(start)
			})
			b.ReportMetric(float64(installed.Milliseconds()), "ms-to-installed")
			base.report(b, "base-")
			during.report(b, "")
			var deleted time.Duration
			del := w.load(b, func() {
				time.Sleep(100 * time.Millisecond)
				start := time.Now()
				storetest.MustUpdate(b, w.db, func(tx *store.Tx) error { return tx.DeleteRoleRule(id) })
				deleted = time.Since(start)
				time.Sleep(100 * time.Millisecond)
			})
			b.ReportMetric(float64(deleted.Microseconds()), "delete-write-µs")
			del.report(b, "delete-")
		}
	})
	b.Run("resolve", func(b *testing.B) {
		s := roles.Subject{UserID: w.users[7]}
		res, err := w.ix.Resolve(s)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(res.Roles)), "roles")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := w.ix.Resolve(s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// loadLatencies are the latencies seen by a steady writer (user PATCHes)
// and a steady reader (resolutions, as login queries are) while fn ran.
type loadLatencies struct{ writes, resolves []time.Duration }

// load runs fn while a writer rewrites users one at a time and a reader
// resolves a user every 100µs, and returns what each waited.
func (w *rulesWorld) load(b *testing.B, fn func()) loadLatencies {
	var l loadLatencies
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			start := time.Now()
			w.setDoc(b, i%len(w.users), func(doc map[string]any) { doc["nickName"] = fmt.Sprint("w", i) })
			l.writes = append(l.writes, time.Since(start))
		}
	}()
	go func() {
		defer wg.Done()
		s := roles.Subject{UserID: w.users[11]}
		for {
			select {
			case <-stop:
				return
			default:
			}
			start := time.Now()
			if _, err := w.ix.Resolve(s); err != nil {
				b.Error(err)
				return
			}
			l.resolves = append(l.resolves, time.Since(start))
			time.Sleep(100 * time.Microsecond)
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	return l
}

func (l loadLatencies) report(b *testing.B, prefix string) {
	for _, s := range []struct {
		name string
		lat  []time.Duration
	}{{"write", l.writes}, {"resolve", l.resolves}} {
		if len(s.lat) == 0 {
			continue
		}
		slices.Sort(s.lat)
		b.ReportMetric(float64(s.lat[len(s.lat)*99/100].Microseconds()), prefix+s.name+"-p99-µs")
		b.ReportMetric(float64(s.lat[len(s.lat)-1].Microseconds()), prefix+s.name+"-max-µs")
		b.ReportMetric(float64(len(s.lat)), prefix+s.name+"s")
	}
}
