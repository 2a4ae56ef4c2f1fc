package store_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/rolecall/rolecall/store"
)

// Fold picks one member of each case-fold orbit, so two names fold alike
// exactly when strings.EqualFold says they are equal.
func TestFoldAgreesWithEqualFold(t *testing.T) {
	pool := []rune("aAkKsSzZ09@.-_\u212A\u017F\u0130\u0131iIσςΣßẞǅǄǆµΜμ\uFFFD")
	seed := uint64(rand.Uint32())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	word := func() string {
		r := make([]rune, 1+rng.IntN(4))
		for i := range r {
			r[i] = pool[rng.IntN(len(pool))]
		}
		return string(r)
	}
	for range 20000 {
		a, b := word(), word()
		if same := store.Fold(a) == store.Fold(b); same != strings.EqualFold(a, b) {
			t.Fatalf("%q and %q: fold alike %v, EqualFold %v", a, b, same, strings.EqualFold(a, b))
		}
		if got, want := store.Fold(a), smallestOfOrbit(a); got != want {
			t.Fatalf("Fold(%q) = %q, want %q", a, got, want)
		}
	}
}

// The store's case-insensitive indexes are keyed by Fold on disk: its
// canonical form must not change, or existing files would need a migration.
func TestFoldCanonicalFormIsStable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"alice@example.com", "ALICE@EXAMPLE.COM"},
		{"ALICE@EXAMPLE.COM", "ALICE@EXAMPLE.COM"},
		{"Kelvin \u212A k", "KELVIN K K"},
		{"long \u017F s", "LONG S S"},
		{"σς Σ", "ΣΣ Σ"},
		{"µ μ Μ", "µ µ µ"},
		{"bad \xff", "BAD \uFFFD"},
		{"", ""},
	} {
		if got := store.Fold(tc.in); got != tc.want {
			t.Errorf("Fold(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// smallestOfOrbit is Fold's definition, spelt out without its shortcuts.
func smallestOfOrbit(s string) string {
	var b strings.Builder
	for _, r := range s {
		least := r
		if r != utf8.RuneError {
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				least = min(least, f)
			}
		}
		b.WriteRune(least)
	}
	return b.String()
}
