package main

import (
	"testing"
	"time"
)

// BenchmarkStalledListClientsMemory is issue 7's memory target: 16 users of
// about 7 MB (many small email entries, the costliest shape to decode) and
// 32 clients that list them, half never reading, half reading 16 bytes a
// second, for 20 seconds. It reports the server process's peak resident
// memory (peak-RSS-MiB) and fails past 1 GiB or when /healthz stops
// answering. One iteration is the whole scenario:
//
//	go test ./cmd/rolecall -run '^$' -bench StalledListClientsMemory -benchtime 1x
func BenchmarkStalledListClientsMemory(b *testing.B) {
	m := startMemoryTarget(b, 16, 7<<20, true)
	idle := m.rss(b)
	var peak int64
	for b.Loop() {
		closeNever := m.stalledLists(b, 16, 0)
		closeSlow := m.stalledLists(b, 16, 16)
		peak = max(peak, m.watch(b, 20*time.Second, 1<<30))
		b.Logf("idle RSS %d MiB, peak %d MiB", idle>>20, peak>>20)
		closeNever()
		closeSlow()
	}
	b.ReportMetric(float64(idle>>20), "idle-RSS-MiB")
	b.ReportMetric(float64(peak>>20), "peak-RSS-MiB")
}
