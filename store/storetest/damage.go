package storetest

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
)

// Layout is where things are in a closed bbolt data file, for tests that
// damage one on purpose.
type Layout struct {
	PageSize int64
	// Used is the bytes the file's pages occupy (its high-water mark); the
	// file itself is usually longer, grown ahead by bbolt.
	Used int64
	// NewestMeta is the meta page (0 or 1) of the last commit.
	NewestMeta int64
	// UsersLeaf is a leaf page of the users bucket from the middle of its
	// tree: damaging it damages records a server reads.
	UsersLeaf int64
}

// FileLayout reads the bbolt file at path (bbolt's format version 2, written
// in the machine's byte order) and finds a leaf page of the users bucket; the
// bucket must be big enough not to be stored inline.
func FileLayout(tb testing.TB, path string) Layout {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	le := binary.NativeEndian
	meta := func(off int) (pageSize, root, pgid, txid uint64) {
		m := raw[off+16:]
		return uint64(le.Uint32(m[8:])), le.Uint64(m[16:]), le.Uint64(m[40:]), le.Uint64(m[48:])
	}
	ps, root, pgid, txid := meta(0)
	l := Layout{PageSize: int64(ps)}
	if _, root1, pgid1, txid1 := meta(int(ps)); txid1 > txid {
		root, pgid, l.NewestMeta = root1, pgid1, 1
	}
	l.Used = int64(pgid) * l.PageSize
	page := func(id uint64) []byte { return raw[id*ps:] }
	elem := func(p []byte, i int) []byte { return p[16+16*i:] }
	key := func(p []byte, i int) ([]byte, []byte) {
		e := elem(p, i)
		pos, ksize := int(le.Uint32(e[4:])), int(le.Uint32(e[8:]))
		return e[pos : pos+ksize], e[pos+ksize : pos+ksize+int(le.Uint32(e[12:]))]
	}
	// Find the users bucket in the root bucket: descend branch pages by key.
	p := page(root)
	for le.Uint16(p[8:]) == 0x01 {
		child := le.Uint64(elem(p, 0)[8:])
		for i := range int(le.Uint16(p[10:])) {
			e := elem(p, i)
			if k := e[le.Uint32(e) : le.Uint32(e)+le.Uint32(e[4:])]; bytes.Compare(k, []byte("users")) <= 0 {
				child = le.Uint64(e[8:])
			}
		}
		p = page(child)
	}
	var usersRoot uint64
	for i := range int(le.Uint16(p[10:])) {
		if k, v := key(p, i); string(k) == "users" {
			usersRoot = le.Uint64(v)
		}
	}
	if usersRoot == 0 {
		tb.Fatalf("%s: the users bucket is missing or inline; create more users", path)
	}
	// Then down its tree through the middle child of every branch.
	id := usersRoot
	for p = page(id); le.Uint16(p[8:]) == 0x01; p = page(id) {
		id = le.Uint64(elem(p, int(le.Uint16(p[10:]))/2)[8:])
	}
	l.UsersLeaf = int64(id)
	return l
}
