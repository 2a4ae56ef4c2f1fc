package roles

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"slices"
	"sync/atomic"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/rolecall/rolecall/scim/document"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/httpconv"
)

// Attribute rules (store.RoleRule) grant roles to the users whose SCIM
// document matches a filter. The index keeps, per rule, the set of users it
// matches and, per user, the rules matching it, so resolution reads a list
// as it reads a user's groups.
//
// Keeping the sets costs a write no more than it must:
//
//   - a user update re-evaluates only the rules that read an attribute the
//     update changed (store.Change.ChangedAttrs against the attributes each
//     rule's filter reads, document.ResourceType.Reads), decoding the
//     document only when one does; a new user is evaluated by every rule;
//   - a new or edited rule is evaluated over the users in the background,
//     not in the commit path: the rule is pending at the revision of its
//     change, a goroutine matches it against a store snapshot, and the
//     result is installed under the write lock, except for the users the
//     index re-evaluated meanwhile from their own changes (those are at
//     least as new as the snapshot). The result is installed in chunks of
//     installChunk users, releasing the lock between them, so login
//     queries and the commit path wait for a chunk, not for 100k users.
//     WaitFor(rev) waits for every pending rule of a revision ≤ rev, so an
//     answer asked with min_revision reflects the rule; other answers show
//     each user's previous state or the rule's meanwhile.

// RuleInfo is an attribute rule as sources show it; immutable like RoleInfo.
type RuleInfo struct {
	ID, Name   string
	jsonSource []byte // {"type":"rule","rule_id":…,"rule_name":…
}

func newRuleInfo(id, name string) *RuleInfo {
	info := &RuleInfo{ID: id, Name: name}
	info.jsonSource = httpconv.AppendJSONString([]byte(`{"type":"rule","rule_id":`), id)
	info.jsonSource = httpconv.AppendJSONString(append(info.jsonSource, `,"rule_name":`...), name)
	return info
}

type indexRule struct {
	info         *RuleInfo
	filter       string
	expr         filter.Expression // nil when the filter does not parse: it matches nobody
	reads        []string          // what expr reads (document.ResourceType.Reads)
	roles        []*indexRole
	org          *indexOrg // nil: tenant scope
	connectionID string    // "": users of every connection
	matches      map[*indexUser]struct{}
	mark         uint64 // Index.ruleMark when last picked as a candidate
	// guard, when the filter has one (an equality it cannot match
	// without), files the rule under Index.guarded instead of
	// Index.rulesByRead: a user change evaluates only the rules whose
	// guard value the user's value equals (index_rules.go).
	guard    *document.Guard
	guardKey string

	// While pending, the rule's match set waits for a background
	// evaluation (index_rules.go); gen tells an evaluation whether the rule
	// changed since it started, touched which users were re-evaluated since.
	pending bool
	// deleted: the rule is gone and grants nothing, while its users are
	// still being taken off it (deleteRule).
	deleted bool
	rev     uint64
	gen     uint64
	touched map[*indexUser]struct{}
}

// RuleEvaluations is how many times the index has evaluated a rule's filter
// against one user, in the commit path and in the background: a figure for
// tests and metrics.
func (ix *Index) RuleEvaluations() uint64 { return ix.ruleEvals.Load() }

// PendingRules is how many attribute rules, new or with a changed filter or
// connection, wait for their background evaluation to be installed; a
// figure for metrics. Queries asked with a min_revision at or past such a
// rule's revision wait for it.
func (ix *Index) PendingRules() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.pendingRules
}

// parseRule parses a stored rule's filter. The Management API refused an
// invalid one before it was written; one that fails here anyway matches
// nobody rather than failing the batch.
func parseRule(f string) (filter.Expression, []string) {
	expr, err := document.ParseFilter(f)
	if err != nil || document.User.ValidateFilter(expr) != nil {
		return nil, nil
	}
	return expr, document.User.Reads(expr)
}

// putRule adds or changes a rule at revision rev. A change of filter or
// connection makes it pending; one of name, roles or organization keeps its
// match set.
func (ix *Index) putRule(rule *store.RoleRule, rev uint64) {
	r := ix.rules[rule.ID]
	if r == nil {
		r = &indexRule{matches: map[*indexUser]struct{}{}}
		ix.rules[rule.ID] = r
	}
	r.info = newRuleInfo(rule.ID, rule.Name)
	r.roles = r.roles[:0]
	for _, id := range rule.RoleIDs {
		if role := ix.roles[id]; role != nil {
			r.roles = append(r.roles, role)
		}
	}
	r.org = nil
	if rule.OrganizationID != "" {
		r.org = ix.org(rule.OrganizationID)
	}
	if r.expr != nil && r.filter == rule.Filter && r.connectionID == rule.ConnectionID {
		return
	}
	ix.unreadRule(r)
	r.filter, r.connectionID = rule.Filter, ix.intern(rule.ConnectionID)
	r.expr, r.reads = parseRule(rule.Filter)
	ix.readRule(r)
	if !r.pending {
		ix.pendingRules++
	}
	r.pending, r.rev, r.touched = true, rev, map[*indexUser]struct{}{}
	r.gen++
	ix.startEvaluation()
}

// readRule files a rule under what it reads: its guard's bucket when it
// has a guard, else each attribute it reads.
func (ix *Index) readRule(r *indexRule) {
	r.guard = nil
	if r.expr != nil {
		if g, ok := document.User.GuardOf(r.expr); ok {
			r.guard, r.guardKey = &g, guardKey(g.CaseExact, g.Value)
		}
	}
	if r.guard == nil {
		for _, a := range r.reads {
			ix.rulesByRead[a] = append(ix.rulesByRead[a], r)
		}
		return
	}
	byKey := ix.guarded[r.guard.Attr]
	if byKey == nil {
		byKey = map[string][]*indexRule{}
		ix.guarded[r.guard.Attr] = byKey
	}
	byKey[r.guardKey] = append(byKey[r.guardKey], r)
	for _, a := range r.reads {
		if ix.guardsByRead[a] == nil {
			ix.guardsByRead[a] = map[string]int{}
		}
		ix.guardsByRead[a][r.guard.Attr]++
	}
}

func (ix *Index) unreadRule(r *indexRule) {
	if r.guard == nil {
		for _, a := range r.reads {
			if list := remove(ix.rulesByRead[a], r); len(list) > 0 {
				ix.rulesByRead[a] = list
			} else {
				delete(ix.rulesByRead, a)
			}
		}
		return
	}
	byKey := ix.guarded[r.guard.Attr]
	if list := remove(byKey[r.guardKey], r); len(list) > 0 {
		byKey[r.guardKey] = list
	} else {
		delete(byKey, r.guardKey)
	}
	if len(byKey) == 0 {
		delete(ix.guarded, r.guard.Attr)
	}
	for _, a := range r.reads {
		if ix.guardsByRead[a][r.guard.Attr]--; ix.guardsByRead[a][r.guard.Attr] == 0 {
			delete(ix.guardsByRead[a], r.guard.Attr)
			if len(ix.guardsByRead[a]) == 0 {
				delete(ix.guardsByRead, a)
			}
		}
	}
}

// guardKey is the bucket of a guard value: values Match holds equal share
// one (store.Fold is exactly strings.EqualFold).
func guardKey(caseExact bool, v string) string {
	if caseExact {
		return v
	}
	return store.Fold(v)
}

func (ix *Index) deleteRule(id string) {
	r := ix.rules[id]
	if r == nil {
		return
	}
	delete(ix.rules, id)
	ix.unreadRule(r)
	if r.pending {
		ix.pendingRules--
	}
	r.deleted = true
	if !unmatch(r, installChunk) {
		return
	}
	// A rule matching many users is taken off them in the background, a
	// chunk per hold of the write lock as installRule installs one: the
	// commit path would otherwise wait for 100k users. It grants nothing
	// meanwhile (grantRules skips it), so the answers at the deletion's
	// revision are right at once.
	go func() {
		for more := true; more; {
			runtime.Gosched()
			ix.mu.Lock()
			more = unmatch(r, installChunk)
			ix.mu.Unlock()
		}
	}()
}

// unmatch takes a deleted rule off up to n of the users it matches and
// reports whether some remain.
func unmatch(r *indexRule, n int) bool {
	for u := range r.matches {
		if n == 0 {
			return true
		}
		n--
		delete(r.matches, u)
		u.rules = remove(u.rules, r)
	}
	return false
}

// dropRole takes a deleted role out of the rules (the store sends the
// rules' own changes too; this keeps the index whole whatever the order).
func (ix *Index) dropRoleFromRules(role *indexRole) {
	for _, r := range ix.rules {
		r.roles = remove(r.roles, role)
	}
}

// setMatch records whether rule r matches user u. Whether it did is read
// from u.rules, a few entries, not from r.matches, which may hold most
// users.
// It reports whether that changed.
func setMatch(r *indexRule, u *indexUser, match bool) bool {
	had := slices.Contains(u.rules, r)
	switch {
	case match && !had:
		r.matches[u] = struct{}{}
		u.rules = append(u.rules, r)
	case !match && had:
		delete(r.matches, u)
		u.rules = remove(u.rules, r)
	default:
		return false
	}
	return true
}

// evaluateUser re-evaluates, for a user change c already applied to u, the
// rules it may affect: all of them for a new user, those reading a changed
// attribute for an update. Of the guarded rules only those whose guard
// value is the user's are evaluated; the others cannot match.
func (ix *Index) evaluateUser(u *indexUser, c *store.Change) {
	if len(ix.rules) == 0 || len(c.Doc) == 0 {
		return
	}
	var cands []*indexRule
	var guards []string // guard attributes whose rules read a changed attribute
	all := c.Kind == store.UserCreated || slices.Contains(c.ChangedAttrs, "*")
	ix.ruleMark++
	if all {
		for _, r := range ix.rules {
			if r.guard == nil {
				cands = append(cands, r)
			}
		}
		for g := range ix.guarded {
			guards = append(guards, g)
		}
	} else {
		for _, a := range c.ChangedAttrs {
			for _, r := range ix.rulesByRead[a] {
				if r.mark != ix.ruleMark { // a rule reading two changed attributes is evaluated once
					r.mark = ix.ruleMark
					cands = append(cands, r)
				}
			}
			for g := range ix.guardsByRead[a] {
				if !slices.Contains(guards, g) {
					guards = append(guards, g)
				}
			}
		}
	}
	if len(cands) == 0 && len(guards) == 0 {
		return
	}
	doc := decodeUserDoc(u.id, c.Doc)
	if doc == nil {
		return
	}
	eval := func(r *indexRule) {
		if r.connectionID != "" && r.connectionID != u.connectionID {
			return
		}
		ix.ruleEvals.Add(1)
		setMatch(r, u, r.expr != nil && document.User.Match(r.expr, doc))
		if r.pending {
			r.touched[u] = struct{}{}
		}
	}
	for _, r := range cands {
		eval(r)
	}
	for _, g := range guards {
		byKey := ix.guarded[g]
		var bucket []*indexRule
		var guard *document.Guard
		for _, list := range byKey { // any rule's guard reads the attribute
			guard = list[0].guard
			break
		}
		key, has := "", false
		if guard != nil {
			var v string
			if v, has = guard.Get(doc); has {
				key = v
				bucket = byKey[guardKey(guard.CaseExact, v)]
			}
		}
		for _, r := range bucket {
			eval(r)
		}
		// The user's other rules guarded by g cannot match any more.
		for i := 0; i < len(u.rules); i++ {
			r := u.rules[i]
			if r.guard != nil && r.guard.Attr == g && (!has || r.guardKey != guardKey(r.guard.CaseExact, key)) {
				setMatch(r, u, false)
				i--
			}
		}
		// Pending rules learn this user's answer from this change, matching
		// or not, so an older snapshot's does not replace it.
		if ix.pendingRules > 0 {
			for _, list := range byKey {
				for _, r := range list {
					if r.pending && (r.connectionID == "" || r.connectionID == u.connectionID) {
						r.touched[u] = struct{}{}
					}
				}
			}
		}
	}
}

// decodeUserDoc decodes a stored SCIM user document the way the SCIM layer
// does for its filters (numbers kept as json.Number), with the user's id.
func decodeUserDoc(id string, raw json.RawMessage) map[string]any {
	doc := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&doc) != nil {
		return nil
	}
	doc["id"] = id
	return doc
}

// startEvaluation starts the background evaluation of pending rules unless
// it runs already; it runs under the write lock.
func (ix *Index) startEvaluation() {
	if ix.evaluating || ix.db == nil || ix.pendingRules == 0 {
		return
	}
	ix.evaluating = true
	go ix.evaluatePending()
}

type ruleJob struct {
	r            *indexRule
	gen          uint64
	expr         filter.Expression
	connectionID string
	ids          []string // the users the evaluation matched
}

// installChunk is how many users an installation changes per hold of the
// write lock. Readers wait on that lock, and installing a rule matching
// 100k users at once held it for over half a second (BenchmarkAttributeRules);
// a chunk holds it for a few milliseconds.
const installChunk = 2000

// evaluatePending evaluates the pending rules over a store snapshot, one
// pass over the users for all of them, installs the results and starts over
// while rules are pending. A store error (closed) leaves them pending: a
// WaitFor for them times out rather than answering without them.
func (ix *Index) evaluatePending() {
	for {
		ix.mu.Lock()
		var jobs []*ruleJob
		everyConnection := false
		conns := map[string]bool{}
		for _, r := range ix.rules {
			if r.pending {
				jobs = append(jobs, &ruleJob{r: r, gen: r.gen, expr: r.expr, connectionID: r.connectionID})
				everyConnection = everyConnection || r.connectionID == ""
				conns[r.connectionID] = true
			}
		}
		if len(jobs) == 0 {
			ix.evaluating = false
			ix.mu.Unlock()
			return
		}
		if everyConnection {
			for id := range ix.connectionIDs {
				conns[id] = true
			}
		}
		delete(conns, "")
		db := ix.db
		ix.mu.Unlock()

		var err error
		for con := range conns {
			if err = evaluateConnection(db, con, jobs, &ix.ruleEvals); err != nil {
				break
			}
		}

		ix.mu.Lock()
		if err != nil {
			ix.evaluating = false
			ix.mu.Unlock()
			return
		}
		for _, j := range jobs {
			ix.installRule(j)
		}
		close(ix.advanced)
		ix.advanced = make(chan struct{})
		if ix.dirty != nil {
			ix.wakeDeriver()
		}
		ix.mu.Unlock()
	}
}

// evalPage is how many users one read transaction of an evaluation reads.
// A transaction kept open over 100k users for seconds would hold a snapshot
// that long: bbolt cannot reuse pages freed meanwhile, and a write that
// must grow the file waits for the transaction to end.
const evalPage = 1000

// evaluateConnection matches the connection's users against the jobs that
// apply to them, a page of users per read transaction. Pages need not share
// one snapshot: every page is read after the rules became pending, and a
// user changed after its page was read is re-evaluated from its own change
// and kept (indexRule.touched).
func evaluateConnection(db *store.DB, con string, jobs []*ruleJob, evals *atomic.Uint64) error {
	for seq, more := uint64(0), true; more; {
		var users []store.User
		err := db.View(func(tx *store.ReadTx) (err error) {
			users, more, err = tx.UsersAfter(con, seq, evalPage)
			return err
		})
		if err != nil {
			return err
		}
		if len(users) == 0 {
			return nil
		}
		for _, u := range users {
			seq = u.Sequence()
			var doc map[string]any
			for _, j := range jobs {
				if j.expr == nil || j.connectionID != "" && j.connectionID != con {
					continue
				}
				if doc == nil {
					if doc = decodeUserDoc(u.ID, u.Doc); doc == nil {
						break
					}
				}
				evals.Add(1)
				if document.User.Match(j.expr, doc) {
					j.ids = append(j.ids, u.ID)
				}
			}
		}
	}
	return nil
}

// rulesSettled reports whether no attribute rule is being evaluated.
func (ix *Index) rulesSettled() bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.pendingRules == 0
}

// waitRulesSettled returns once no rule is pending, or ctx ends: until then
// answers may still change at the current revision.
func (ix *Index) waitRulesSettled(ctx context.Context) {
	for {
		ix.mu.RLock()
		pending, advanced := ix.pendingRules, ix.advanced
		ix.mu.RUnlock()
		if pending == 0 {
			return
		}
		select {
		case <-advanced:
		case <-ctx.Done():
			return
		}
	}
}

// installRule replaces a pending rule's match set by an evaluation's,
// keeping what the index decided for the users it re-evaluated meanwhile.
// It runs under the write lock and releases it every installChunk users:
// the rule stays pending until its last chunk, so WaitFor and the deriver
// go on waiting for it, and a user re-evaluated between chunks from its own
// change is in r.touched and keeps that answer. A rule deleted or edited
// (a new gen) meanwhile is left as it is: deleteRule dropped it, and an
// edited rule is pending again for its own evaluation.
func (ix *Index) installRule(j *ruleJob) {
	r := j.r
	current := func() bool { return ix.rules[r.info.ID] == r && r.gen == j.gen }
	if !current() {
		return
	}
	var drop []*indexUser // users the rule matched and the evaluation did not
	if len(r.matches) > 0 {
		set := make(map[string]struct{}, len(j.ids))
		for _, id := range j.ids {
			set[id] = struct{}{}
		}
		for u := range r.matches {
			if _, ok := set[u.id]; !ok {
				drop = append(drop, u)
			}
		}
	} else {
		r.matches = make(map[*indexUser]struct{}, len(j.ids))
	}
	n := 0
	// next counts a user and, at the end of a chunk, lets the waiting
	// readers and writers in; it reports whether the job still applies.
	next := func() bool {
		if n++; n%installChunk != 0 {
			return true
		}
		ix.mu.Unlock()
		runtime.Gosched()
		ix.mu.Lock()
		return current()
	}
	for _, u := range drop {
		if _, keep := r.touched[u]; !keep && ix.users[u.id] == u {
			ix.matchInstalled(r, u, false)
		}
		if !next() {
			return
		}
	}
	for _, id := range j.ids {
		if u := ix.users[id]; u != nil {
			if _, keep := r.touched[u]; !keep {
				ix.matchInstalled(r, u, true)
			}
		}
		if !next() {
			return
		}
	}
	r.pending, r.touched = false, nil
	ix.pendingRules--
}

// matchInstalled sets a match found by a background evaluation; a user it
// changes is one whose effective roles the deriver must compare again
// (the users' own changes mark them already).
func (ix *Index) matchInstalled(r *indexRule, u *indexUser, match bool) {
	if setMatch(r, u, match) && ix.dirty != nil {
		ix.dirty.users[u.id] = struct{}{}
	}
}

// rulesPendingUpTo reports whether a rule changed at a revision ≤ rev is
// still being evaluated.
func (ix *Index) rulesPendingUpTo(rev uint64) bool {
	if ix.pendingRules == 0 {
		return false
	}
	for _, r := range ix.rules {
		if r.pending && r.rev <= rev {
			return true
		}
	}
	return false
}

// grantRules adds the roles of the rules matching u: tenant rules where
// tenant roles apply, o's rules as o's group roles are, only with
// auto-membership. Inactive users are never resolved this far.
func (ix *Index) grantRules(sc *resolveScratch, u *indexUser, o *indexOrg, tenant, effectiveInOrg bool) {
	for _, r := range u.rules {
		if r.deleted {
			continue
		}
		if r.org == nil && tenant || r.org != nil && r.org == o && effectiveInOrg {
			for _, role := range r.roles {
				sc.add(newRuleGrant(role, r.org != nil, int32(len(sc.rules))))
			}
			sc.rules = append(sc.rules, r.info)
		}
	}
}
