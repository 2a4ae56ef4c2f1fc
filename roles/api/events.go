package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/rolecall/rolecall/roles/streams"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/httpconv"
)

// The change feed, GET /events, is the audit log as CloudEvents 1.0 for
// consumers that pull (a login server keeping a cache exact without a public
// webhook endpoint). It pages by revision: entries of revisions above
// `from`, oldest first. A revision may hold many entries (a PATCH adding a
// thousand members writes a thousand at one revision), so a page may end
// inside one; the answer's next_revision and next_after together are the
// exact cursor (the query's from and after): next_revision is the highest
// revision all of whose entries were sent, next_after the id of the last
// entry sent. A client that kept only next_revision loses nothing, but may
// see the rest of a split revision again.
//
// When nothing is newer, the request long-polls: it waits up to `wait`
// seconds on the role index's revision, which follows every node's commits
// (on PostgreSQL, through store.DB.Follow), and answers as soon as a newer
// revision is committed. It holds a heavy-request slot only while it reads,
// never while it waits.

// Change feed limits.
const (
	DefaultEventTake = 100
	MaxEventTake     = 1000
	MaxEventWait     = 30 * time.Second
)

// eventSource is the CloudEvents source of every event: the Management
// API's public URL when one is configured, else "rolecall". It never comes
// from the request, so every node of a deployment names events alike and
// source + id identifies an event.
func (a *API) eventSource() string {
	if a.publicURL != "" {
		return a.publicURL + Prefix
	}
	return "rolecall"
}

// feedQuery is a parsed GET /events query.
type feedQuery struct {
	from store.FeedPosition
	take int
	wait time.Duration
}

func parseFeedQuery(r *http.Request) (feedQuery, error) {
	q := feedQuery{take: DefaultEventTake}
	values := r.URL.Query()
	for name, vs := range values {
		switch name {
		case "from", "after", "take", "wait":
		default:
			return q, badQuery("Unknown query parameter '%s'", name)
		}
		if len(vs) > 1 {
			return q, badQuery("Query parameter '%s' is given more than once", name)
		}
	}
	uintParam := func(name string, limit uint64, what string) (uint64, bool, error) {
		s := values.Get(name)
		if s == "" {
			return 0, false, nil
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || n > limit {
			return 0, false, badQuery("Query parameter '%s' must be %s", name, what)
		}
		return n, true, nil
	}
	var err error
	if q.from.Revision, _, err = uintParam("from", 1<<63, "a revision (an integer, 0 or more)"); err != nil {
		return q, err
	}
	if q.from.After, _, err = uintParam("after", 1<<63, "an event id (an integer, 0 or more)"); err != nil {
		return q, err
	}
	take, set, err := uintParam("take", MaxEventTake, "an integer from 1 to "+strconv.Itoa(MaxEventTake))
	if err != nil {
		return q, err
	}
	if set {
		if take == 0 {
			return q, badQuery("Query parameter 'take' must be an integer from 1 to %d", MaxEventTake)
		}
		q.take = int(take)
	}
	wait, _, err := uintParam("wait", uint64(MaxEventWait/time.Second), "a number of seconds from 0 to "+strconv.Itoa(int(MaxEventWait/time.Second)))
	if err != nil {
		return q, err
	}
	q.wait = time.Duration(wait) * time.Second
	return q, nil
}

// listEvents answers GET /events: {"events":[…],"next_revision","next_after"}.
func (a *API) listEvents(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseFeedQuery(r)
	if err != nil {
		return err
	}
	// A cursor past the newest revision is from another store, or from
	// before a restore: served as is, it would skip every event until the
	// revision caught up with it. Another node may be a moment ahead of
	// this one's index, so it gets as long as min_revision does.
	if q.from.Revision > a.index.Revision() {
		if err := a.index.WaitFor(r.Context(), q.from.Revision, minRevisionWait); err != nil {
			return newError(http.StatusConflict, "revision_not_reached",
				"from=%d is past the newest revision, %d: the cursor is from another store or from before a restore. Start again from a revision this store has reached.", q.from.Revision, a.index.Revision())
		}
	}
	// The server's bound, not the client's: the answer may come sooner.
	wait := min(q.wait, a.eventWait)
	deadline := time.Now().Add(wait)
	for {
		pg, next, rev, err := a.readEvents(r.Context(), w, q.from, q.take)
		if err != nil {
			return err
		}
		left := time.Until(deadline)
		if len(pg.items) > 0 || left <= 0 || r.Context().Err() != nil {
			w.Header().Set(httpconv.RevisionHeader, strconv.FormatUint(rev, 10))
			fields := []jsonField{{"next_revision", next.Revision}}
			if next.After > 0 {
				fields = append(fields, jsonField{"next_after", strconv.FormatUint(next.After, 10)})
			}
			pg.writeFields(w, "events", fields)
			return nil
		}
		// Nothing past the snapshot: wait for a newer revision, then read
		// again. A timeout or a client gone answers the empty page.
		_ = a.index.WaitFor(r.Context(), next.Revision+1, left)
		q.from = next
	}
}

// readEvents reads one page of the feed under a heavy-request slot, and
// encodes it within the page byte budget. rev is the snapshot's revision.
func (a *API) readEvents(ctx context.Context, w http.ResponseWriter, from store.FeedPosition, take int) (pg *pageItems, next store.FeedPosition, rev uint64, err error) {
	if a.limiter != nil {
		release, ok := a.limiter.Acquire(ctx)
		if !ok {
			after := a.limiter.RetryAfter()
			w.Header().Set("Retry-After", strconv.Itoa(int(after/time.Second)))
			return nil, next, 0, newError(http.StatusServiceUnavailable, "server_busy",
				"Too many list requests are running; retry after %s", after)
		}
		defer release()
	}
	pg = a.newPage()
	source := a.eventSource()
	err = a.db.View(func(tx *store.ReadTx) error {
		rev = tx.Revision()
		entries, whole, err := tx.AuditFeed(from, take)
		if err != nil {
			return err
		}
		next = whole
		for i, e := range entries {
			// The same rendering as event stream deliveries.
			ok, err := pg.add(streams.NewCloudEvent(source, e))
			if err != nil {
				return err
			}
			if !ok {
				// Over the byte budget: the page ends before entry i.
				next = from.Past(entries[:i], &entries[i])
				break
			}
		}
		return nil
	})
	return pg, next, rev, err
}
