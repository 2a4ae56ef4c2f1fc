package scim

import (
	"bytes"
	"testing"
)

// A page's next read holds about a megabyte of records, whatever their
// size: many small users at once, huge ones one by one.
func TestNextPageReadIsBoundedInBytes(t *testing.T) {
	recs := func(n, size int) []record {
		out := make([]record, n)
		for i := range out {
			out[i].doc = bytes.Repeat([]byte("x"), size)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		last []record
		want int
	}{
		{"small users", recs(8, 600), maxPageRead},
		{"empty documents", recs(1, 0), maxPageRead},
		{"20 KB users", recs(4, 20<<10), 51},
		{"a 7 MB user", recs(1, 7<<20), 1},
		{"half a megabyte each", recs(3, 512<<10), 2},
	} {
		if got := nextPageRead(tc.last); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
