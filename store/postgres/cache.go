package postgres

import (
	"math/rand/v2"
	"sync"
)

// A group commit re-reads what the previous one of the same node had just
// read or written: the revision, the audit log's tail, the connection, the
// greatest user id, sequence counters. Each is a round trip on the
// committer. So a committed write transaction leaves its buffer (every key
// it read or wrote, all now on the server) and its bucket bounds to the
// engine, and the next write transaction takes them over, but only if the
// writer token it reads with BEGIN, under the writer lock, is the one that
// commit set: then no other process has written since, and every cached
// value is still the server's. Otherwise the cache is dropped.
const (
	sqlReadToken  = "SELECT token FROM writer_token"
	sqlWriteToken = "UPDATE writer_token SET token = $1"
	// cacheMaxKeys bounds the cache: a buffer that grew past it (a large
	// write, or many group commits' worth of keys) is dropped, not kept.
	cacheMaxKeys = 4096
)

// writeCache is what the engine's last committed write transaction knew.
type writeCache struct {
	mu     sync.Mutex
	token  int64 // the token that commit set; 0: no cache
	buf    map[bkey]*entry
	bounds map[int16]*bound
}

// take hands the cache to a write transaction that read token, or nothing
// when another process committed since. Either way the cache is emptied:
// at most one transaction owns it.
func (c *writeCache) take(token int64) (map[bkey]*entry, map[int16]*bound) {
	c.mu.Lock()
	defer c.mu.Unlock()
	buf, bounds, ok := c.buf, c.bounds, c.token != 0 && c.token == token
	c.token, c.buf, c.bounds = 0, nil, nil
	if !ok {
		return nil, nil
	}
	return buf, bounds
}

// keep stores a committed transaction's buffer and bounds as the cache for
// token, if the buffer is small enough.
func (c *writeCache) keep(token int64, buf map[bkey]*entry, bounds map[int16]*bound) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if token == 0 || len(buf) > cacheMaxKeys {
		c.token, c.buf, c.bounds = 0, nil, nil
		return
	}
	c.token, c.buf, c.bounds = token, buf, bounds
}

// newToken is a fresh writer token (never 0).
func newToken() int64 {
	for {
		if t := rand.Int64(); t != 0 {
			return t
		}
	}
}

// adopt merges a taken cache into the transaction's buffer and bounds: what
// the transaction already holds (writes made before its first round trip,
// bounds already read) wins.
func (t *tx) adopt(buf map[bkey]*entry, bounds map[int16]*bound) {
	if len(t.buf) == 0 && buf != nil {
		t.buf = buf
	} else {
		for k, en := range buf {
			if _, ok := t.buf[k]; !ok {
				t.buf[k] = en
			}
		}
	}
	for id, b := range bounds {
		if mine, ok := t.bounds[id]; !ok {
			if t.bounds == nil {
				t.bounds = map[int16]*bound{}
			}
			t.bounds[id] = b
		} else if !mine.known {
			*mine = *b
		}
	}
}
