// Package conformancetest runs the conformance scenarios as Go subtests. It is
// the only part of the suite that imports package testing, so that a binary
// running the scenarios with conformance.Check (rolecall conformance) does
// not link it.
package conformancetest

import (
	"strings"
	"testing"

	"github.com/rolecall/rolecall/conformance"
)

// Run runs every embedded scenario as a subtest of t named after it, each
// against a fresh Target from newTarget: a server may hand out a new empty
// connection per scenario. Scenarios never assume an empty connection, so
// newTarget may also return the same Target every time.
func Run(t *testing.T, newTarget func(t *testing.T) conformance.Target) {
	t.Helper()
	for _, s := range conformance.Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			report(t, s.Run(t.Context(), newTarget(t)))
		})
	}
}

func report(t *testing.T, r conformance.Result) {
	t.Helper()
	for _, s := range r.SkippedSteps {
		t.Logf("skipped step %s", s)
	}
	switch {
	case r.Skipped:
		t.Skipf("skipped: %s", r.SkipReason)
	case !r.Passed:
		t.Errorf("step %q failed (source: %s):\n  %s", r.Step, r.Source, strings.Join(r.Failures, "\n  "))
	}
}
