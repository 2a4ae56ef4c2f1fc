package bboltdb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"slices"
	"unicode/utf8"

	"github.com/rolecall/rolecall/store"
)

// The bbolt file layout (format version 2, go.etcd.io/bbolt v1.5), read here
// without bbolt. bbolt maps the file and follows page ids without bounds
// checks: a page id past the end of a truncated file is a SIGBUS, and a
// garbage page header is a panic, on open, in a goroutine nobody can
// recover (bbolt rebuilds its freelist by walking every page). checkFile
// reads with pread and checks, before bbolt sees the file, everything bbolt
// will follow when it opens it. bbolt writes these structures in the
// machine's byte order.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	pageHeaderSize   = 16 // id u64, flags u16, count u16, overflow u32
	elementSize      = 16 // branch: pos, ksize u32, pgid u64; leaf: flags, pos, ksize, vsize u32
	bucketHeaderSize = 16 // root pgid u64, sequence u64; an inline bucket's page follows
	metaEnd          = pageHeaderSize + 64
	noFreelist       = ^uint64(0)
	pageBranch       = 0x01
	pageLeaf         = 0x02
	pageFreelist     = 0x10
	leafBucket       = 0x01
	maxTreeDepth     = 64 // a B+tree of 2^64 keys is shallower; deeper is a loop
)

var native = binary.NativeEndian

// boltMeta is one of the two meta (header) pages.
type boltMeta struct {
	magic, version, pageSize uint32
	root, freelist, pgid     uint64 // root is the root bucket's page
	txid                     uint64
}

// parseMeta reads the meta page at the start of page; problem is empty when
// its magic, version and checksum are right.
func parseMeta(page []byte) (m boltMeta, problem string) {
	if len(page) < metaEnd {
		return m, "cut short"
	}
	b := page[pageHeaderSize:metaEnd]
	m = boltMeta{
		magic: native.Uint32(b[0:]), version: native.Uint32(b[4:]), pageSize: native.Uint32(b[8:]),
		root: native.Uint64(b[16:]), freelist: native.Uint64(b[32:]), pgid: native.Uint64(b[40:]), txid: native.Uint64(b[48:]),
	}
	h := fnv.New64a()
	h.Write(b[:56])
	switch {
	case m.magic != boltMagic:
		return m, "no bbolt magic number"
	case m.version != boltVersion:
		return m, fmt.Sprintf("bbolt format version %d, want %d", m.version, boltVersion)
	case native.Uint64(b[56:]) != h.Sum64():
		return m, "checksum mismatch"
	case m.pageSize < 512 || m.pageSize > 1<<20 || m.pageSize&(m.pageSize-1) != 0:
		return m, fmt.Sprintf("impossible page size %d", m.pageSize)
	}
	return m, ""
}

// fileSummary is what checkFile learnt about a sound file.
type fileSummary struct {
	Size     int64
	PageSize int
	Pages    uint64 // the high-water mark: pages in use, free or not
	TxID     uint64
}

// checkFile checks an existing bbolt file before bbolt maps it: both meta
// pages valid, the file as long as the newest meta page says, and every page
// reachable from the root (and the freelist page, if any) inside the file and
// well formed, each referenced once. It returns a *store.FileError (store.ErrDamaged or
// store.ErrNotDataFile). It does not check keys, values or Rolecall's invariants.
func checkFile(f io.ReaderAt, size int64, path string) (fileSummary, error) {
	damaged := func(format string, args ...any) error {
		return store.FileErrorf(path, store.ErrDamaged, format, args...)
	}
	sum := fileSummary{Size: size}
	if size == 0 {
		return sum, damaged("it is empty (0 bytes); Rolecall creates a file only where none exists, never over an existing one")
	}
	head := make([]byte, min(size, 4096))
	if _, err := f.ReadAt(head, 0); err != nil {
		return sum, damaged("cannot read its header: %v", err)
	}
	m0, problem0 := parseMeta(head)
	pageSize := int64(m0.pageSize)
	m1, problem1 := boltMeta{}, "unread"
	if problem0 != "" {
		// Page 0 is unusable: find page 1 by trying every page size, as
		// bbolt does, so a damaged page 0 is told apart from a foreign file.
		pageSize = 0
		for ps := int64(512); ps <= 1<<16 && ps+metaEnd <= size; ps *= 2 {
			buf := make([]byte, metaEnd)
			if _, err := f.ReadAt(buf, ps); err == nil {
				if m, p := parseMeta(buf); p == "" && int64(m.pageSize) == ps {
					m1, problem1, pageSize = m, "", ps
					break
				}
			}
		}
		if pageSize == 0 {
			if m0.magic == boltMagic && m0.version != boltVersion && problem0 != "cut short" {
				return sum, store.FileErrorf(path, store.ErrNotDataFile, "it is a bbolt database of format version %d; this Rolecall reads version %d", m0.version, boltVersion)
			}
			if m0.magic == boltMagic {
				return sum, damaged("both header pages are damaged (page 0: %s)", problem0)
			}
			return sum, store.FileErrorf(path, store.ErrNotDataFile, "%s", describeForeign(head))
		}
	}
	sum.PageSize = int(pageSize)
	if size < 2*pageSize {
		return sum, damaged("it is truncated: %d bytes, less than its two %d-byte header pages", size, pageSize)
	}
	if problem1 == "unread" {
		buf := make([]byte, metaEnd)
		if _, err := f.ReadAt(buf, pageSize); err != nil {
			return sum, damaged("cannot read header page 1: %v", err)
		}
		m1, problem1 = parseMeta(buf)
	}
	// bbolt would fall back to the other meta page, which may silently drop
	// the last acknowledged commit; refuse instead and let the operator decide.
	// A crash cannot cause this: the meta fields sit in the page's first
	// sector, which disks write atomically, and a commit whose header write
	// did not happen leaves the old, valid header. So a damaged header page
	// is damage from outside (the disk, another program), not a torn commit.
	switch {
	case problem0 != "":
		return sum, damaged("header page 0 is damaged (%s)", problem0)
	case problem1 != "":
		return sum, damaged("header page 1 is damaged (%s)", problem1)
	case m0.pageSize != m1.pageSize:
		return sum, damaged("its header pages disagree on the page size (%d and %d)", m0.pageSize, m1.pageSize)
	}
	m := m0
	if m1.txid > m0.txid {
		m = m1
	}
	sum.Pages, sum.TxID = m.pgid, m.txid
	switch {
	case m.pgid < 3 || m.pgid > uint64(size/pageSize):
		if m.pgid >= 3 && m.pgid < 1<<48 {
			return sum, damaged("it is truncated: %d bytes, but its header says it holds %d pages of %d bytes (%d bytes)", size, m.pgid, pageSize, m.pgid*uint64(pageSize))
		}
		return sum, damaged("its header claims an impossible %d pages", m.pgid)
	case m.root < 2 || m.root >= m.pgid:
		return sum, damaged("its header points the root at page %d, outside its %d pages", m.root, m.pgid)
	case m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.pgid):
		return sum, damaged("its header points the freelist at page %d, outside its %d pages", m.freelist, m.pgid)
	}
	w := &pageWalker{r: f, pageSize: pageSize, pages: m.pgid, seen: make([]bool, m.pgid)}
	if m.freelist != noFreelist {
		if err := w.freelist(m.freelist); err != nil {
			return sum, damaged("%v", err)
		}
	}
	if err := w.tree(m.root, 0); err != nil {
		return sum, damaged("%v", err)
	}
	return sum, nil
}

// describeForeign names what a file without a bbolt header looks like.
func describeForeign(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("SQLite format 3\x00")):
		return "it is a SQLite database"
	case utf8.Valid(head) && !bytes.ContainsRune(head, 0):
		return "it is a text file, not a bbolt database"
	default:
		return "it has no bbolt header (foreign or random bytes)"
	}
}

// pageWalker follows the page tree of a bbolt file with bounds checks.
type pageWalker struct {
	r        io.ReaderAt
	pageSize int64
	pages    uint64 // high-water mark
	seen     []bool
	bufs     [][]byte // one read buffer per tree depth, reused across siblings
}

// page reads page id and its overflow pages into the buffer of depth,
// checking that they lie inside the high-water mark, carry their own id, and
// were not referenced before. The bytes are valid until the next read at the
// same depth.
func (w *pageWalker) page(id uint64, depth int) ([]byte, error) {
	if id < 2 || id >= w.pages {
		return nil, fmt.Errorf("a reference to page %d, outside its %d pages", id, w.pages)
	}
	for len(w.bufs) <= depth {
		w.bufs = append(w.bufs, make([]byte, w.pageSize))
	}
	buf := w.bufs[depth][:w.pageSize]
	if _, err := w.r.ReadAt(buf, int64(id)*w.pageSize); err != nil {
		return nil, fmt.Errorf("page %d cannot be read: %v", id, err)
	}
	if got := native.Uint64(buf); got != id {
		return nil, fmt.Errorf("page %d has a damaged header (it says page %d)", id, got)
	}
	overflow := uint64(native.Uint32(buf[12:]))
	if id+overflow >= w.pages {
		return nil, fmt.Errorf("page %d has a damaged header (%d overflow pages run past its %d pages)", id, overflow, w.pages)
	}
	for i := id; i <= id+overflow; i++ {
		if w.seen[i] {
			return nil, fmt.Errorf("page %d is referenced twice", i)
		}
		w.seen[i] = true
	}
	if overflow > 0 {
		buf = slices.Grow(buf, int(overflow)*int(w.pageSize))[:int64(overflow+1)*w.pageSize]
		if _, err := w.r.ReadAt(buf[w.pageSize:], int64(id+1)*w.pageSize); err != nil {
			return nil, fmt.Errorf("page %d cannot be read: %v", id, err)
		}
		w.bufs[depth] = buf
	}
	return buf, nil
}

func (w *pageWalker) freelist(id uint64) error {
	p, err := w.page(id, 0)
	if err != nil {
		return err
	}
	if flags := native.Uint16(p[8:]); flags != pageFreelist {
		return fmt.Errorf("freelist page %d has type %#x", id, flags)
	}
	start, count := uint64(pageHeaderSize), uint64(native.Uint16(p[10:]))
	if count == 0xFFFF {
		count, start = native.Uint64(p[pageHeaderSize:]), pageHeaderSize+8
	}
	if count > (uint64(len(p))-start)/8 {
		return fmt.Errorf("freelist page %d claims %d entries, more than it holds", id, count)
	}
	return nil
}

// tree checks the B+tree rooted at page id: branch and leaf pages whose
// elements, keys and values lie inside the page, and the buckets nested in it.
func (w *pageWalker) tree(id uint64, depth int) error {
	if depth > maxTreeDepth {
		return fmt.Errorf("page %d is nested %d deep: the tree loops", id, depth)
	}
	p, err := w.page(id, depth)
	if err != nil {
		return err
	}
	switch flags := native.Uint16(p[8:]); flags {
	case pageBranch:
		count := int(native.Uint16(p[10:]))
		if count == 0 || pageHeaderSize+count*elementSize > len(p) {
			return fmt.Errorf("branch page %d has a damaged header (%d elements)", id, count)
		}
		for i := range count {
			e := pageHeaderSize + i*elementSize
			pos, ksize := int(native.Uint32(p[e:])), int(native.Uint32(p[e+4:]))
			if e+pos+ksize > len(p) {
				return fmt.Errorf("branch page %d: element %d points outside the page", id, i)
			}
			if err := w.tree(native.Uint64(p[e+8:]), depth+1); err != nil {
				return err
			}
		}
		return nil
	case pageLeaf:
		return w.leaf(p, fmt.Sprintf("leaf page %d", id), depth)
	default:
		return fmt.Errorf("page %d has a damaged header (type %#x is neither branch nor leaf)", id, flags)
	}
}

// leaf checks the elements of a leaf page (a whole page, or an inline
// bucket's page inside a value) and the buckets they hold.
func (w *pageWalker) leaf(p []byte, name string, depth int) error {
	if len(p) < pageHeaderSize {
		return fmt.Errorf("%s is cut short", name)
	}
	count := int(native.Uint16(p[10:]))
	if pageHeaderSize+count*elementSize > len(p) {
		return fmt.Errorf("%s has a damaged header (%d elements)", name, count)
	}
	for i := range count {
		e := pageHeaderSize + i*elementSize
		flags, pos := native.Uint32(p[e:]), int(native.Uint32(p[e+4:]))
		ksize, vsize := int(native.Uint32(p[e+8:])), int(native.Uint32(p[e+12:]))
		end := e + pos + ksize + vsize
		if end > len(p) || end < e {
			return fmt.Errorf("%s: element %d points outside the page", name, i)
		}
		if flags&leafBucket == 0 {
			continue
		}
		v := p[e+pos+ksize : end]
		if len(v) < bucketHeaderSize {
			return fmt.Errorf("%s: bucket %q has a damaged header", name, p[e+pos:e+pos+ksize])
		}
		if root := native.Uint64(v); root != 0 {
			if err := w.tree(root, depth+1); err != nil {
				return err
			}
			continue
		}
		inline := v[bucketHeaderSize:]
		if len(inline) < pageHeaderSize || native.Uint16(inline[8:]) != pageLeaf {
			return fmt.Errorf("%s: inline bucket %q is damaged", name, p[e+pos:e+pos+ksize])
		}
		if depth > maxTreeDepth {
			return fmt.Errorf("%s: buckets nested %d deep", name, depth)
		}
		if err := w.leaf(inline, fmt.Sprintf("inline bucket %q", p[e+pos:e+pos+ksize]), depth+1); err != nil {
			return err
		}
	}
	return nil
}

// fileSize is the size of an open file.
func fileSize(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
