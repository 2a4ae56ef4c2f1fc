package client

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"time"
)

// Event is one change feed entry, a CloudEvents 1.0 envelope around an
// audit entry.
type Event struct {
	SpecVersion string          `json:"specversion"`
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	Source      string          `json:"source"`
	Time        time.Time       `json:"time"`
	Data        json.RawMessage `json:"data"`
}

// EventPage is one answer of the change feed, with the cursor to continue
// from: pass NextRevision and NextAfter back as the FeedCursor.
type EventPage struct {
	Events       []Event `json:"events"`
	NextRevision uint64  `json:"next_revision"`
	NextAfter    string  `json:"next_after"`
}

// FeedCursor is where a change feed reader stands.
type FeedCursor struct {
	Revision uint64 // events of revisions above this
	After    string // and after this event id, when set
}

// Events reads the change feed (GET /events) from cur: at most take events
// (0: the server's default), waiting up to wait for one when none is newer.
func (c *Client) Events(ctx context.Context, cur FeedCursor, take int, wait time.Duration) (*EventPage, error) {
	q := url.Values{"from": {strconv.FormatUint(cur.Revision, 10)}}
	if cur.After != "" {
		q.Set("after", cur.After)
	}
	if take > 0 {
		q.Set("take", strconv.Itoa(take))
	}
	if wait > 0 {
		q.Set("wait", strconv.Itoa(int(wait/time.Second)))
	}
	var page EventPage
	if _, err := c.call(ctx, "GET", "/events", q, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// Follow keeps the resolver's cache exact from the change feed until ctx
// ends: every page of events fences the cache at the feed's revision, so no
// answer older than a change the feed has shown is served again. It starts
// at the server's current revision (older changes are in no cached answer
// it cares about, since answers carry their revision) and returns ctx's
// error, or the feed's error after retries fail for a minute.
func (r *Resolver) Follow(ctx context.Context) error {
	// Start at the server's revision (every answer says it): older changes
	// are in no answer the cache can hold once it is fenced there.
	var probe EventPage
	start, err := r.c.call(ctx, "GET", "/events", url.Values{"take": {"1"}}, nil, &probe)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	cur := FeedCursor{Revision: start}
	r.Fence(start)
	failingSince := time.Time{}
	for ctx.Err() == nil {
		page, err := r.c.Events(ctx, cur, 1000, 25*time.Second)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if failingSince.IsZero() {
				failingSince = time.Now()
			} else if time.Since(failingSince) > time.Minute {
				return err
			}
			// Without the feed the cache cannot be kept exact: drop it.
			r.InvalidateAll()
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		failingSince = time.Time{}
		if len(page.Events) > 0 || page.NextRevision > cur.Revision {
			r.Fence(page.NextRevision)
		}
		cur = FeedCursor{Revision: page.NextRevision, After: page.NextAfter}
	}
	return ctx.Err()
}
