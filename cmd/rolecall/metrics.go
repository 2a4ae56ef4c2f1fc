package main

import (
	"bufio"
	"net/http"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rolecall/rolecall/roles"
	"github.com/rolecall/rolecall/roles/streams"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
)

// The surfaces a request can reach, as the "surface" label of the request
// metrics. A fixed set keeps the label's cardinality fixed whatever paths
// clients send.
const (
	surfaceSCIM = iota
	surfaceAPI
	surfaceDashboard
	surfaceOther
	surfaceCount
)

var surfaceNames = [surfaceCount]string{"scim", "api", "dashboard", "other"}

func surfaceOf(path string) int {
	switch {
	case strings.HasPrefix(path, "/scim/"):
		return surfaceSCIM
	case strings.HasPrefix(path, "/api/"):
		return surfaceAPI
	case strings.HasPrefix(path, "/dashboard"):
		return surfaceDashboard
	}
	return surfaceOther
}

// latencyBounds are the upper bounds of the request duration histogram, in
// seconds: login queries answer in tens of microseconds, durable writes in
// about a millisecond, big PATCHes and pages in tens of milliseconds.
var latencyBounds = [...]float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// requestMetrics counts requests per surface and status class, with a
// latency histogram per surface. Lock-free: the middleware records every
// request on the hot path.
type requestMetrics struct {
	inFlight atomic.Int64
	byStatus [surfaceCount][6]atomic.Uint64 // index: status/100 (1xx … 5xx); 0 unused
	buckets  [surfaceCount][len(latencyBounds) + 1]atomic.Uint64
	sumNanos [surfaceCount]atomic.Uint64
}

func (m *requestMetrics) record(surface, status int, d time.Duration) {
	class := status / 100
	if class < 1 || class > 5 {
		class = 5
	}
	m.byStatus[surface][class].Add(1)
	secs := d.Seconds()
	i := 0
	for i < len(latencyBounds) && secs > latencyBounds[i] {
		i++
	}
	m.buckets[surface][i].Add(1)
	m.sumNanos[surface].Add(uint64(d.Nanoseconds()))
}

// metricsHandler serves /metrics in the Prometheus text exposition format
// (version 0.0.4): request counters and latencies, the store's write path,
// and a few process figures. Nothing in it names a connection, a user or a
// credential, so it needs no token, like /healthz.
func metricsHandler(m *requestMetrics, g *guards, db *store.DB, dataDir string, index *roles.Index, deliveries *streams.Manager, deriver *atomic.Pointer[roles.Deriver]) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		bw := bufio.NewWriter(w)
		e := exposition{w: bw}
		m.write(&e)
		g.write(&e)
		writeStoreMetrics(&e, db.Stats(), dataDir)
		writeRuleMetrics(&e, index)
		if deliveries != nil {
			writeStreamMetrics(&e, deliveries.Stats())
		}
		if d := deriver.Load(); d != nil {
			writeDeriverMetrics(&e, d.Stats(), db.Revision())
		}
		writeProcessMetrics(&e)
		e.header("rolecall_build_info", "gauge", "The running version; always 1.")
		e.sample("rolecall_build_info", `version="`+escapeLabel(version)+`"`, 1)
		_ = bw.Flush()
	})
}

// writeStreamMetrics writes each event stream's delivery counters on this
// node (the node holding a stream's lease delivers it; the others report
// zeros and lag only). Streams are few (store.MaxEventStreams), so the
// stream label's cardinality is bounded.
func writeStreamMetrics(e *exposition, stats []streams.Stats) {
	metrics := []struct {
		name, kind, help string
		value            func(streams.Stats) float64
	}{
		{"rolecall_event_stream_delivered_total", "counter", "Events the stream's receiver accepted, from this node.", func(s streams.Stats) float64 { return float64(s.Delivered) }},
		{"rolecall_event_stream_failed_total", "counter", "Failed delivery attempts (each retry counts), from this node.", func(s streams.Stats) float64 { return float64(s.Failed) }},
		{"rolecall_event_stream_lag_events", "gauge", "Audit entries past the stream's cursor, subscribed or not.", func(s streams.Stats) float64 { return float64(s.LagEvents) }},
		{"rolecall_event_stream_lag_seconds", "gauge", "Age of the event this node is delivering to the stream; 0 when caught up.", func(s streams.Stats) float64 { return s.LagSeconds }},
	}
	for _, m := range metrics {
		e.header(m.name, m.kind, m.help)
		for _, s := range stats {
			e.sample(m.name, `stream="`+escapeLabel(s.StreamID)+`"`, m.value(s))
		}
	}
}

// writeRuleMetrics writes the attribute rules' cost and backlog: how many
// times a rule's filter was evaluated against a user (on user writes and
// in new rules' background evaluations), and how many rules wait for their
// evaluation to be installed; one pending for long delays the queries that
// ask for its revision.
func writeRuleMetrics(e *exposition, ix *roles.Index) {
	e.header("rolecall_role_rule_evaluations_total", "counter", "Attribute rule filters evaluated against a user on this node.")
	e.sample("rolecall_role_rule_evaluations_total", "", float64(ix.RuleEvaluations()))
	e.header("rolecall_role_rules_pending", "gauge", "Attribute rules whose evaluation over the users is not yet installed on this node.")
	e.sample("rolecall_role_rules_pending", "", float64(ix.PendingRules()))
}

// writeDeriverMetrics writes how far user.effective_roles.changed
// derivation has come: a lag that grows means events arrive late.
func writeDeriverMetrics(e *exposition, st roles.DeriverStats, revision uint64) {
	e.header("rolecall_effective_roles_events_total", "counter", "user.effective_roles.changed entries this node wrote.")
	e.sample("rolecall_effective_roles_events_total", "", float64(st.Events))
	e.header("rolecall_effective_roles_compared_total", "counter", "Users whose effective roles this node compared with the recorded ones.")
	e.sample("rolecall_effective_roles_compared_total", "", float64(st.Compared))
	e.header("rolecall_effective_roles_lag_revisions", "gauge", "Revisions committed but not yet derived by this node.")
	e.sample("rolecall_effective_roles_lag_revisions", "", float64(revision-min(revision, st.Through)))
}

func (m *requestMetrics) write(e *exposition) {
	e.header("rolecall_http_requests_in_flight", "gauge", "Requests being served now.")
	e.sample("rolecall_http_requests_in_flight", "", float64(m.inFlight.Load()))

	e.header("rolecall_http_requests_total", "counter", "Requests answered, by surface and status class.")
	for s := range surfaceCount {
		for class := 1; class <= 5; class++ {
			if n := m.byStatus[s][class].Load(); n > 0 {
				e.sample("rolecall_http_requests_total", `surface="`+surfaceNames[s]+`",code="`+strconv.Itoa(class)+`xx"`, float64(n))
			}
		}
	}

	const name = "rolecall_http_request_duration_seconds"
	e.header(name, "histogram", "Time from the request's arrival to the end of its answer, by surface.")
	for s := range surfaceCount {
		label := `surface="` + surfaceNames[s] + `"`
		var cumulative uint64
		for i, bound := range latencyBounds {
			cumulative += m.buckets[s][i].Load()
			e.sample(name+"_bucket", label+`,le="`+strconv.FormatFloat(bound, 'g', -1, 64)+`"`, float64(cumulative))
		}
		cumulative += m.buckets[s][len(latencyBounds)].Load()
		e.sample(name+"_bucket", label+`,le="+Inf"`, float64(cumulative))
		e.sample(name+"_sum", label, float64(m.sumNanos[s].Load())/1e9)
		e.sample(name+"_count", label, float64(cumulative))
	}
}

func (g *guards) write(e *exposition) {
	e.header("rolecall_rate_limited_total", "counter", "Requests refused with 429 by the per-credential rate limit, by surface.")
	e.sample("rolecall_rate_limited_total", `surface="scim"`, float64(g.scimRate.Refused()))
	e.sample("rolecall_rate_limited_total", `surface="api"`, float64(g.apiRate.Refused()))
	if l := g.conns.Load(); l != nil {
		e.header("rolecall_connections_open", "gauge", "Client connections open now.")
		e.sample("rolecall_connections_open", "", float64(l.Open()))
		e.header("rolecall_connections_refused_total", "counter", "Connections refused over --max-connections.")
		e.sample("rolecall_connections_refused_total", "", float64(l.Refused()))
	}
}

func writeStoreMetrics(e *exposition, st store.Stats, dataDir string) {
	counters := []struct {
		name, help string
		value      float64
	}{
		{"rolecall_store_commits_total", "Group commits (bbolt transactions, each one fsync'd).", float64(st.Commits)},
		{"rolecall_store_writes_total", "Writes committed; writes/commits is the average group commit size.", float64(st.Writes)},
		{"rolecall_store_failed_writes_total", "Writes refused by their own checks and undone.", float64(st.FailedWrites)},
		{"rolecall_store_commit_seconds_total", "Time spent in bbolt commits: page writes and fsyncs.", st.CommitTime.Seconds()},
		{"rolecall_store_apply_seconds_total", "Time spent running write functions.", st.ApplyTime.Seconds()},
		{"rolecall_store_gather_seconds_total", "Time spent waiting for a group commit to fill.", st.GatherTime.Seconds()},
		{"rolecall_store_pages_written_total", "Pages written by commits.", float64(st.PagesWritten)},
	}
	for _, c := range counters {
		e.header(c.name, "counter", c.help)
		e.sample(c.name, "", c.value)
	}
	e.header("rolecall_store_revision", "gauge", "The store-wide revision: one more per committed write.")
	e.sample("rolecall_store_revision", "", float64(st.Revision))
	if fi, err := os.Stat(filepath.Join(dataDir, bboltdb.FileName)); err == nil {
		e.header("rolecall_store_file_bytes", "gauge", "Size of the bbolt file.")
		e.sample("rolecall_store_file_bytes", "", float64(fi.Size()))
	}
}

// processSamples are the runtime/metrics read for /metrics, under the names
// Prometheus' Go collector uses, so existing dashboards work.
var processSamples = []struct {
	runtimeName, name, kind, help string
}{
	{"/sched/goroutines:goroutines", "go_goroutines", "gauge", "Goroutines that currently exist."},
	{"/memory/classes/heap/objects:bytes", "go_memstats_heap_alloc_bytes", "gauge", "Bytes of live and not yet swept heap objects."},
	{"/memory/classes/total:bytes", "go_memstats_sys_bytes", "gauge", "Bytes of memory mapped by the Go runtime."},
	{"/gc/cycles/total:gc-cycles", "go_gc_cycles_total", "counter", "Completed GC cycles."},
}

func writeProcessMetrics(e *exposition) {
	samples := make([]metrics.Sample, len(processSamples))
	for i, p := range processSamples {
		samples[i].Name = p.runtimeName
	}
	metrics.Read(samples)
	for i, p := range processSamples {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			continue // not offered by this runtime
		}
		e.header(p.name, p.kind, p.help)
		e.sample(p.name, "", float64(samples[i].Value.Uint64()))
	}
	// Resident memory includes bbolt's mmap pages in use, which the Go
	// runtime does not see.
	if rss, ok := residentBytes(); ok {
		e.header("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.")
		e.sample("process_resident_memory_bytes", "", float64(rss))
	}
}

// residentBytes reads the resident set size from /proc (Linux only).
func residentBytes() (int64, bool) {
	raw, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	fields := strings.Fields(string(raw))
	if len(fields) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * int64(os.Getpagesize()), true
}

// exposition writes the text format: a HELP and TYPE line per family, then
// its samples.
type exposition struct {
	w *bufio.Writer
}

func (e *exposition) header(name, kind, help string) {
	e.w.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + kind + "\n")
}

func (e *exposition) sample(name, labels string, v float64) {
	e.w.WriteString(name)
	if labels != "" {
		e.w.WriteString("{" + labels + "}")
	}
	e.w.WriteByte(' ')
	e.w.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	e.w.WriteByte('\n')
}

// escapeLabel escapes a label value per the text format.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
