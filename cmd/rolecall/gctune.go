package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// gcHeadroom is the least heap growth allowed between collections. Go's
// default (GOGC=100) grows the heap by as much as is live: with the live
// heap small (a few thousand users), a big PATCH triggers a collection
// every few requests and the collector takes a quarter of the CPU; with
// it large (100k users in the role index), the default is what keeps
// resident memory in check. So: GOGC=100, but never less than this much
// room.
const gcHeadroom = 32 << 20

// tuneGC adjusts the GC percentage once a second so that the heap may grow
// by max(live heap, gcHeadroom) before the next collection, until ctx
// ends. It is not started when the operator set GOGC.
func tuneGC(ctx context.Context) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	last := -1
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			if pct := gcPercentFor(sample[0].Value.Uint64()); pct != last {
				debug.SetGCPercent(pct)
				last = pct
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// maxGCPercent bounds the tuning: the percentage is recomputed only once a
// second, and in between a live heap that grows fast is allowed this much
// room relative to its size.
const maxGCPercent = 300

// gcPercentFor is the GC percentage that gives a live heap of live bytes
// max(live, gcHeadroom) of room, between 100 and maxGCPercent.
func gcPercentFor(live uint64) int {
	if live == 0 {
		return maxGCPercent
	}
	return int(min(max(100, gcHeadroom*100/live), maxGCPercent))
}
