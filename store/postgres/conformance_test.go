package postgres_test

import (
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// TestConformance runs the store's conformance suite on PostgreSQL; it skips
// unless ROLECALL_TEST_POSTGRES names a server.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.DB { return storetest.OpenPostgres(t) })
}
