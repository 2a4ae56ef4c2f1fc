package roles_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// An effective-permissions answer is written under the index's read lock
// while commits wait for its write lock. Taking the read lock a second time
// inside the answer deadlocked both as soon as a commit queued between the
// two (a test server hung for ten minutes): answers and commits must go on
// side by side.
func TestPermissionAnswersAndCommitsDoNotDeadlock(t *testing.T) {
	w := newWorld(t)
	con := storetest.MustConnection(t, w.db, "acme")
	alice := storetest.MustUser(t, w.db, con.ID, "alice")
	admin := w.role("admin", "admin:all", "read:all")
	w.do(func(tx *store.Tx) error { _, err := tx.BindUserRoles(alice.ID, []string{admin.ID}); return err })
	viewer := w.role("viewer", "read:all")

	var stop atomic.Bool
	writes := make(chan int)
	go func() {
		n := 0
		for ; !stop.Load(); n++ {
			_, err := w.db.Update(t.Context(), store.Origin{}, func(tx *store.Tx) error {
				if n%2 == 0 {
					_, err := tx.BindUserRoles(alice.ID, []string{viewer.ID})
					return err
				}
				_, err := tx.UnbindUserRoles(alice.ID, []string{viewer.ID})
				return err
			})
			if err != nil {
				break
			}
		}
		writes <- n
	}()
	answered := make(chan int)
	go func() {
		n := 0
		for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); n++ {
			if _, _, err := w.ix.AppendEffectiveAnswer(nil, roles.Subject{UserID: alice.ID}, "", roles.AllParts); err != nil {
				break
			}
		}
		answered <- n
	}()
	select {
	case n := <-answered:
		stop.Store(true)
		select {
		case m := <-writes:
			t.Logf("%d answers beside %d writes", n, m)
		case <-time.After(10 * time.Second):
			t.Fatal("the writer never finished: the index lock is held for good")
		}
	case <-time.After(10 * time.Second):
		stop.Store(true)
		t.Fatal("answers stopped: the index lock deadlocked between an answer and a commit")
	}
}
