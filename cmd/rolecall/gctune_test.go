package main

import "testing"

func TestGCPercentKeepsAtLeastTheHeadroom(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, maxGCPercent}, {1 << 20, maxGCPercent}, // tiny heaps: capped
		{16 << 20, 200},   // 32 MiB of room for 16 MiB live
		{gcHeadroom, 100}, // from here on Go's default
		{200 << 20, 100},
	} {
		if got := gcPercentFor(tc.live); got != tc.want {
			t.Errorf("live %d MiB: GOGC %d, want %d", tc.live>>20, got, tc.want)
		}
		// The promise itself: the room is max(live, headroom), give or take
		// the cap for tiny heaps.
		room := tc.live * uint64(gcPercentFor(tc.live)) / 100
		if tc.live >= gcHeadroom*100/maxGCPercent && room < max(tc.live, gcHeadroom)-tc.live/100 {
			t.Errorf("live %d: room %d", tc.live, room)
		}
	}
}
