package roles

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/rolecall/rolecall/store"
)

// Deriver writes user.effective_roles.changed audit entries: whenever any
// cause (a binding, a membership, a deactivation, auto-membership, a role or
// group deleted, a tenant setting, an IdP role mapping) changes what the
// index answers for a user in a scope (the tenant, or an organization), one
// entry per affected user and scope, with the roles and permissions added
// and removed.
//
// It is level-triggered: the index marks the users whose answer a committed
// change may have changed (index_dirty.go); the deriver compares their
// answers with the states it recorded in the store and records each new
// state with its entry in one write (store.Tx.RecordEffectiveRoles). So
// changes that cancel out emit nothing, several changes to one user between
// two passes emit one entry, and a crash loses nothing: on start, when the
// store's derived-through mark is behind, every user is compared once. The
// first start with no recorded state takes a silent baseline instead of
// announcing every existing role.
//
// Users are compared in batches of Batch, each recorded in a write of its
// own: unbinding a role from a group of 100,000 users is a hundred short
// writes that interleave with other writes, not one long one. Derived writes
// bump the store revision (they are audit entries) but change nothing the
// index resolves, so they mark no one dirty.
//
// Several nodes over one store may all derive: a state computed at an index
// revision no newer than the recorded one's is never written, so a lagging
// node cannot undo a newer state, and the second node to derive a change
// finds the state equal.
type Deriver struct {
	db  *store.DB
	ix  *Index
	opt DeriverOptions

	// stop ends the deriver's waiting; cancelWork, DrainTimeout later,
	// its writing.
	stop       context.CancelFunc
	cancelWork context.CancelFunc
	done       chan struct{}

	mu    sync.Mutex
	stats DeriverStats
}

// DeriverOptions configure a Deriver; the zero value is valid.
type DeriverOptions struct {
	// Batch is how many users one write compares at most (default 250:
	// measured, it keeps concurrent small writes fastest without slowing
	// a large derivation).
	Batch int
	// MarkEvery is how often, at most, an idle deriver records how far it
	// has derived (default one second); a crash loses at most that much of
	// the mark, which costs a full comparison on the next start.
	MarkEvery time.Duration
	// DrainTimeout bounds how long Stop lets the deriver finish what is
	// dirty (default five seconds); the rest is compared on the next start.
	DrainTimeout time.Duration
	// OnError is told about failed passes (they are retried); nil: ignored.
	OnError func(error)
}

// DeriverStats count the deriver's work since it started.
type DeriverStats struct {
	Compared uint64 // user comparisons
	Events   uint64 // user.effective_roles.changed entries written
	Writes   uint64 // store writes
	// Through is the index revision through which every change has been
	// derived (0 until the first pass ends).
	Through uint64
}

const defaultDeriveBatch = 250

// errBaselineTaken: another node recorded a baseline first.
var errBaselineTaken = errors.New("roles: effective roles baseline already taken")

// StartDeriver starts deriving effective-role changes from ix, which must
// be loaded and registered as an observer of db. Stop it before closing db.
func StartDeriver(db *store.DB, ix *Index, opt DeriverOptions) *Deriver {
	if opt.Batch <= 0 {
		opt.Batch = defaultDeriveBatch
	}
	if opt.MarkEvery <= 0 {
		opt.MarkEvery = time.Second
	}
	if opt.DrainTimeout <= 0 {
		opt.DrainTimeout = 5 * time.Second
	}
	stopping, stop := context.WithCancel(context.Background())
	work, cancelWork := context.WithCancel(context.Background())
	d := &Deriver{db: db, ix: ix, opt: opt, stop: stop, cancelWork: cancelWork, done: make(chan struct{})}
	go d.run(stopping, work)
	return d
}

// Stop ends the deriver: it compares what is dirty already (for at most
// DrainTimeout), records how far it got, and returns. What it leaves undone
// is compared on the next start.
func (d *Deriver) Stop() {
	d.stop()
	t := time.AfterFunc(d.opt.DrainTimeout, d.cancelWork)
	<-d.done
	t.Stop()
	d.cancelWork()
}

// Stats returns the deriver's counters.
func (d *Deriver) Stats() DeriverStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

func (d *Deriver) report(err error) {
	if d.opt.OnError != nil && err != nil && !errors.Is(err, context.Canceled) {
		d.opt.OnError(err)
	}
}

// run derives until stopping ends; work bounds the writing.
func (d *Deriver) run(stopping, ctx context.Context) {
	defer close(d.done)
	var through uint64
	var derived bool
	for {
		err := d.db.View(func(r *store.ReadTx) error {
			through, derived = r.EffectiveRolesThrough()
			return nil
		})
		if err == nil {
			break
		}
		d.report(err)
		if !sleep(ctx, time.Second) {
			return
		}
	}
	// Changes are collected from revision from on. The first start takes
	// its baseline at exactly that revision, so that no change after it
	// goes unannounced.
	// A baseline is silent: it is taken with the rules' answers final.
	from, wake, baseline, settled := d.ix.trackDirty(!derived)
	for !settled {
		d.ix.waitRulesSettled(ctx)
		if ctx.Err() != nil {
			return
		}
		from, wake, baseline, settled = d.ix.trackDirty(!derived)
	}
	switch {
	case !derived:
		if err := d.baseline(ctx, from, baseline); err != nil {
			if errors.Is(err, errBaselineTaken) {
				d.ix.redirty(true, nil)
			} else {
				d.report(err)
				return // started again, it takes the baseline again
			}
		}
	case through < from:
		d.ix.redirty(true, nil) // changes before from may not have been derived
	}
	marked := through
	var lastMark time.Time
	for {
		set, rev := d.ix.takeDirty()
		if !set.empty() {
			if err := d.derive(ctx, set); errors.Is(err, errRulesPending) {
				d.ix.waitRulesSettled(ctx)
			} else if err != nil {
				d.report(err)
				if !sleep(ctx, time.Second) {
					return
				}
			}
			continue
		}
		if !d.ix.rulesSettled() {
			// An attribute rule being evaluated will change answers at
			// this revision: not derived through it yet.
			d.ix.waitRulesSettled(ctx)
			if ctx.Err() != nil {
				return
			}
			continue
		}
		d.mu.Lock()
		d.stats.Through = rev
		d.mu.Unlock()
		stop := stopping.Err() != nil
		if rev > marked && (stop || time.Since(lastMark) >= d.opt.MarkEvery) {
			if err := d.db.MarkEffectiveRolesThrough(rev); err != nil {
				d.report(err)
			} else {
				marked, lastMark = rev, time.Now()
			}
		}
		if stop {
			return
		}
		var markTimer <-chan time.Time
		if rev > marked {
			markTimer = time.After(d.opt.MarkEvery - time.Since(lastMark))
		}
		select {
		case <-wake:
		case <-markTimer:
		case <-stopping.Done():
		}
	}
}

func sleep(ctx context.Context, dt time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(dt):
		return true
	}
}

// baseline records the states taken when tracking began (all non-empty),
// silently, unless another node has already recorded a baseline.
func (d *Deriver) baseline(ctx context.Context, from uint64, states []store.EffectiveRoles) error {
	for batch := range slices.Chunk(states, d.opt.Batch) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := d.db.View(func(r *store.ReadTx) error {
			ids := make([]string, len(batch))
			for i := range batch {
				ids[i] = batch[i].UserID
			}
			users, cons := r.UserNames(ids)
			for i := range batch {
				batch[i].UserName, batch[i].ConnectionID = users[i], cons[i]
			}
			return nil
		}); err != nil {
			return err
		}
		_, err := d.db.Update(ctx, store.Origin{Channel: store.ChannelSystem}, func(tx *store.Tx) error {
			if _, taken := tx.EffectiveRolesThrough(); taken {
				return errBaselineTaken
			}
			_, err := tx.RecordEffectiveRolesMany(batch, false)
			return err
		})
		if err != nil {
			return err
		}
	}
	return d.db.MarkEffectiveRolesThrough(from)
}

// derive compares every user set covers, in batches. Users it could not
// compare go back into the index's dirty set.
// errRulesPending: a comparison met an attribute rule still being
// evaluated; the users wait in the dirty set until it is installed.
var errRulesPending = errors.New("roles: an attribute rule is being evaluated")

func (d *Deriver) derive(ctx context.Context, set *dirtySet) error {
	ids := d.ix.dirtyUsers(set)
	if set.all {
		// Users deleted while no one was deriving have states only.
		var stored []string
		if err := d.db.View(func(r *store.ReadTx) error {
			r.EachEffectiveRolesUser(func(id string) { stored = append(stored, id) })
			return nil
		}); err != nil {
			d.ix.redirty(true, nil)
			return err
		}
		ids = append(ids, stored...)
		slices.Sort(ids)
		ids = slices.Compact(ids)
	}
	for i := 0; i < len(ids); i += d.opt.Batch {
		batch := ids[i:min(i+d.opt.Batch, len(ids))]
		if err := d.compare(ctx, batch); err != nil {
			d.ix.redirty(false, ids[i:])
			return err
		}
	}
	return nil
}

// compare records the changed states of a batch of users, with their
// events, in one write.
func (d *Deriver) compare(ctx context.Context, ids []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	recorded := make(map[string][]store.EffectiveRoles, len(ids))
	// Read here, not in the write: the committer holds up other writers.
	// Each read covers the whole batch (one round trip on PostgreSQL).
	if err := d.db.View(func(r *store.ReadTx) error {
		all, err := r.EffectiveRolesOfMany(ids)
		for i, id := range ids {
			if err == nil && len(all[i]) > 0 {
				recorded[id] = all[i]
			}
		}
		return err
	}); err != nil {
		return err
	}
	scopes := make(map[string][]string, len(recorded))
	for id, states := range recorded {
		for _, s := range states {
			scopes[id] = append(scopes[id], s.OrganizationID)
		}
	}
	states, _, settled := d.ix.effectiveStates(ids, scopes)
	if !settled {
		return errRulesPending
	}
	// Only what differs goes to the write, which compares again against
	// what it finds then.
	changed := states[:0]
	for _, s := range states {
		if differs(s, recorded[s.UserID]) {
			changed = append(changed, s)
		}
	}
	// Names only for the users announced: most of a batch (members moved
	// between groups without roles, say) changes nothing, and a user's
	// record is its whole document.
	if len(changed) > 0 {
		named := make([]string, 0, len(changed))
		for _, s := range changed {
			named = append(named, s.UserID)
		}
		if err := d.db.View(func(r *store.ReadTx) error {
			users, cons := r.UserNames(named)
			for i := range changed {
				if cons[i] != "" {
					changed[i].UserName, changed[i].ConnectionID = users[i], cons[i]
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	d.mu.Lock()
	d.stats.Compared += uint64(len(ids))
	d.mu.Unlock()
	if len(changed) == 0 {
		return nil
	}
	events := 0
	_, err := d.db.Update(ctx, store.Origin{Channel: store.ChannelSystem}, func(tx *store.Tx) (err error) {
		events, err = tx.RecordEffectiveRolesMany(changed, true)
		return err
	})
	if err == nil {
		d.mu.Lock()
		d.stats.Events += uint64(events)
		d.stats.Writes++
		d.mu.Unlock()
	}
	return err
}

// differs reports whether s grants other than the recorded state of its
// scope (none recorded: nothing).
func differs(s store.EffectiveRoles, recorded []store.EffectiveRoles) bool {
	for _, r := range recorded {
		if r.OrganizationID == s.OrganizationID {
			return r.Revision < s.Revision && !(slices.EqualFunc(r.Roles, s.Roles, func(a, b store.RoleRef) bool { return a.ID == b.ID }) &&
				slices.Equal(r.Permissions, s.Permissions))
		}
	}
	return !s.Empty()
}

// effectiveStates answers, at one index revision (returned), the states of
// users: the tenant scope, every organization each is a member of, and the
// organizations of extra (user id → organization ids that have recorded
// states, "" for the tenant). A user the index does not hold (deleted) gets
// an empty state for each of its extra scopes. settled is false while an
// attribute rule is being evaluated: its answers are not final for their
// revision yet.
func (ix *Index) effectiveStates(ids []string, extra map[string][]string) (states []store.EffectiveRoles, rev uint64, settled bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.effectiveStatesLocked(ids, extra), ix.revision, ix.pendingRules == 0
}

// effectiveStatesLocked is effectiveStates under a lock the caller holds.
func (ix *Index) effectiveStatesLocked(ids []string, extra map[string][]string) []store.EffectiveRoles {
	orgsOf := ix.memberOrgs(ids)
	out := make([]store.EffectiveRoles, 0, len(ids))
	for _, id := range ids {
		u := ix.users[id]
		if u == nil {
			for _, org := range extra[id] {
				out = append(out, store.EffectiveRoles{UserID: id, OrganizationID: org, Revision: ix.revision})
			}
			continue
		}
		scopes := append([]string{""}, orgsOf[id]...)
		scopes = append(scopes, extra[id]...)
		slices.Sort(scopes)
		for _, org := range slices.Compact(scopes) {
			out = append(out, ix.effectiveState(u, org))
		}
	}
	return out
}

// effectiveState is u's state in one scope, under the read lock.
func (ix *Index) effectiveState(u *indexUser, orgID string) store.EffectiveRoles {
	s := store.EffectiveRoles{UserID: u.id, OrganizationID: orgID, Revision: ix.revision}
	res, err := ix.withDirect(ix.resolve(u, orgID, nil, false))
	if err != nil {
		return s // an organization deleted since: no roles there
	}
	if len(res.Roles) > 0 {
		s.Roles = make([]store.RoleRef, len(res.Roles))
		for i, r := range res.Roles {
			s.Roles[i] = store.RoleRef{ID: r.ID, Name: r.Name}
		}
	}
	for _, p := range res.Permissions("") {
		s.Permissions = append(s.Permissions, p.Permission)
	}
	return s
}

// memberOrgs lists, per user, the organizations it is a member of
// (explicitly or by auto-membership), under the read lock. It costs, per
// organization, the smaller of its explicit members and ids.
func (ix *Index) memberOrgs(ids []string) map[string][]string {
	out := map[string][]string{}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	auto := map[string][]string{} // connection → organizations with auto-membership
	for _, o := range ix.orgs {
		for con, on := range o.connections {
			if on {
				auto[con] = append(auto[con], o.id)
			}
		}
		if len(o.members) < len(ids) {
			for uid := range o.members {
				if want[uid] {
					out[uid] = append(out[uid], o.id)
				}
			}
		} else {
			for _, uid := range ids {
				if o.members[uid] {
					out[uid] = append(out[uid], o.id)
				}
			}
		}
	}
	if len(auto) > 0 {
		for _, id := range ids {
			if u := ix.users[id]; u != nil {
				out[id] = append(out[id], auto[u.connectionID]...)
			}
		}
	}
	return out
}
