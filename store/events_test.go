package store_test

import (
	"slices"
	"testing"

	"github.com/rolecall/rolecall/store"
)

// EventTypes is what an audit log filter offers: sorted, each type once.
func TestEventTypesSortedAndUnique(t *testing.T) {
	if !slices.IsSorted(store.EventTypes) {
		t.Errorf("EventTypes not sorted: %v", store.EventTypes)
	}
	if got := len(slices.Compact(slices.Clone(store.EventTypes))); got != len(store.EventTypes) {
		t.Errorf("EventTypes has %d distinct types in %d entries", got, len(store.EventTypes))
	}
}
