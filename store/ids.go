package store

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ID prefixes. Every id is prefix + "_" + 16 characters of lower-case
// Crockford base32, so ids have a fixed length and can be concatenated into
// composite keys without separators. The first 10 characters are the creation
// time in milliseconds and the last 6 are random (30 bits): ids sort by
// creation, so a batch of new records lands on the last leaf page of its
// bucket instead of dirtying a page per record, and creators check for the
// (rare) collision within one millisecond.
const (
	PrefixConnection   = "con"
	PrefixUser         = "usr"
	PrefixGroup        = "grp"
	PrefixSCIMToken    = "tok"
	PrefixAPIKey       = "key"
	PrefixRole         = "rol"
	PrefixOrganization = "org"
	// PrefixResourceServer: Auth0's resource server ids are opaque too.
	PrefixResourceServer = "rsv"
	// PrefixSession: dashboard sessions (sessions.go).
	PrefixSession = "ses"
)

const (
	idRandomLen = 16
	// IDLen is the length of every id the store generates.
	IDLen       = 3 + 1 + idRandomLen
	idAlphabet  = "0123456789abcdefghjkmnpqrstvwxyz"
	secretBytes = 32
)

// NewID returns a fresh id with the given prefix: creation time, then random.
func NewID(prefix string) string {
	return newIDAt(prefix, time.Now())
}

const idTimeLen = 10 // 50 bits of milliseconds: good until the year 37648

func newIDAt(prefix string, now time.Time) string {
	var raw [idRandomLen - idTimeLen]byte
	if _, err := rand.Read(raw[:]); err != nil {
		panic("store: crypto/rand failed: " + err.Error()) // the platform is broken; nothing sane to do
	}
	b := make([]byte, 0, len(prefix)+1+idRandomLen)
	b = append(b, prefix...)
	b = append(b, '_')
	ms := uint64(now.UnixMilli())
	for i := idTimeLen - 1; i >= 0; i-- {
		b = append(b, idAlphabet[(ms>>(5*uint(i)))&31])
	}
	for _, r := range raw {
		b = append(b, idAlphabet[r&31])
	}
	return string(b)
}

// ValidID reports whether s has the shape of an id with the given prefix.
// Callers use it to answer "not found" for garbage without touching the disk,
// and the store relies on it to keep composite keys unambiguous.
func ValidID(prefix, s string) bool {
	if len(s) != len(prefix)+1+idRandomLen || !strings.HasPrefix(s, prefix) || s[len(prefix)] != '_' {
		return false
	}
	for i := len(prefix) + 1; i < len(s); i++ {
		if strings.IndexByte(idAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// newSecret returns a bearer secret of the form "<kind>_<id suffix>_<random>".
// Embedding the id lets authentication find the record by key and then compare
// hashes in constant time, instead of looking secrets up by value.
func newSecret(kind, id string) string {
	var raw [secretBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		panic("store: crypto/rand failed: " + err.Error())
	}
	return kind + "_" + id[strings.IndexByte(id, '_')+1:] + "_" + base64.RawURLEncoding.EncodeToString(raw[:])
}

// parseSecret extracts the record id from a secret made by newSecret.
func parseSecret(kind, idPrefix, secret string) (id string, ok bool) {
	rest, found := strings.CutPrefix(secret, kind+"_")
	if !found || len(rest) < idRandomLen+2 || rest[idRandomLen] != '_' {
		return "", false
	}
	id = idPrefix + "_" + rest[:idRandomLen]
	return id, ValidID(idPrefix, id)
}

// hashSecret hashes a high-entropy secret. A fast hash is right here: the
// secrets are 256-bit random values, so there is nothing to brute-force.
func hashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// secretMatches compares a presented secret with a stored hash in constant time.
func secretMatches(secret string, hash []byte) bool {
	return subtle.ConstantTimeCompare(hashSecret(secret), hash) == 1
}

// Fold maps s to its canonical case-folded form: Fold(a) == Fold(b) exactly
// when strings.EqualFold(a, b). Each rune becomes the smallest rune of its
// simple-folding orbit (so ASCII letters become upper-case, and the Kelvin
// sign and 'k' both become 'K'); invalid UTF-8 bytes become U+FFFD. The store's
// case-insensitive unique indexes (userName, displayName, names) are keyed by
// this form on disk, so it must never change; layers above use it for their
// own case-insensitive lookups so that they agree with the store.
func Fold(s string) string {
	if isFolded(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case 'a' <= r && r <= 'z':
			b.WriteByte(byte(r) - 'a' + 'A')
			continue
		case r < utf8.RuneSelf, r == utf8.RuneError:
			b.WriteRune(r)
			continue
		}
		// The smallest rune of the simple-folding orbit is a canonical
		// representative, which is exactly the equivalence EqualFold uses.
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

// isFolded reports whether s is ASCII without lower-case letters, so that
// Fold(s) == s without a copy.
func isFolded(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'a' <= c && c <= 'z' {
			return false
		}
	}
	return true
}
