package node

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"sort"
	"strconv"
)

// Set is the value of a set key. Three representations, two of them the
// ones Redis 7.0 has:
//
//   - "intset": while every member is an integer in canonical form (as
//     Redis's string2ll accepts it) and there are at most SetMaxIntsetEntries
//     members, they are kept sorted in one byte slice using the narrowest
//     width that fits all of them (2, 4 or 8 bytes, little endian). SMEMBERS
//     then lists them ascending, as Redis does.
//   - packed: a small set with a non-integer member (at most
//     SetMaxListpackEntries members of at most SetMaxListpackValue bytes, the
//     Redis 7.2 listpack limits) keeps its members in one byte slice,
//     uvarint(len) + bytes each, in insertion order. Redis 7.0 has no such
//     encoding, so OBJECT ENCODING reports "hashtable" for it, as 7.0 would:
//     the difference is only memory (about 100 bytes less for a 3-member
//     set) and the order of unordered replies.
//   - "hashtable": a strDict (see types_hash.go) of members.
//
// Like Redis, it never converts back (intset -> packed/hashtable,
// packed -> hashtable). Layout: b[0] is 2, 4 or 8 for an intset (the
// width), 0 for a packed set (then b[1:3] is the member count); b is nil
// for an empty set or when d != nil.
//
// API for other packages' code (DUMP/RESTORE, snapshots):
//
//	s := NewSet()
//	s.Add(member)          // copies; true if added
//	s.Len()
//	s.Each(func(member []byte) bool { ...; return true })
//	s.Has(member)
//
// The slice passed to Each's fn is only valid during that call (intset
// members are formatted into a scratch buffer). A Set is only touched with
// its slot's lock held.
type Set struct {
	b []byte   // intset or packed encoding (see above)
	d *strDict // hashtable encoding
}

// Encoding limits: set-max-intset-entries (Redis default 512) and the
// limits of the packed small-set representation (Redis 7.2's
// set-max-listpack-entries 128 / set-max-listpack-value 64).
var (
	SetMaxIntsetEntries   = 512
	SetMaxListpackEntries = 128
	SetMaxListpackValue   = 64
)

const setPacked = 0 // b[0] of a packed set

// NewSet returns an empty set (intset until a non-integer is added).
func NewSet() *Set { return &Set{} }

// Type implements Object.
func (s *Set) Type() string { return "set" }

// Encoding implements Object (Redis 7.0 names: packed sets are reported
// as "hashtable").
func (s *Set) Encoding() string {
	if s.d != nil || s.packed() {
		return "hashtable"
	}
	return "intset"
}

func (s *Set) packed() bool { return len(s.b) > 0 && s.b[0] == setPacked }

func (s *Set) intset() bool { return len(s.b) > 0 && s.b[0] != setPacked }

// Len returns the number of members.
func (s *Set) Len() int {
	switch {
	case s.d != nil:
		return s.d.n
	case len(s.b) == 0:
		return 0
	case s.b[0] == setPacked:
		return int(binary.LittleEndian.Uint16(s.b[1:]))
	}
	return (len(s.b) - 1) / int(s.b[0])
}

// ---- intset ----

func isWidthFor(v int64) byte {
	switch {
	case v >= -1<<15 && v < 1<<15:
		return 2
	case v >= -1<<31 && v < 1<<31:
		return 4
	}
	return 8
}

func (s *Set) isGet(i int) int64 {
	w := int(s.b[0])
	p := 1 + i*w
	switch w {
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(s.b[p:])))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(s.b[p:])))
	}
	return int64(binary.LittleEndian.Uint64(s.b[p:]))
}

func isPut(b []byte, w int, i int, v int64) {
	p := 1 + i*w
	switch w {
	case 2:
		binary.LittleEndian.PutUint16(b[p:], uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(b[p:], uint32(v))
	default:
		binary.LittleEndian.PutUint64(b[p:], uint64(v))
	}
}

// isSearch returns the position of v and whether it is present.
func (s *Set) isSearch(v int64) (int, bool) {
	n := s.Len()
	i := sort.Search(n, func(i int) bool { return s.isGet(i) >= v })
	return i, i < n && s.isGet(i) == v
}

func (s *Set) isAdd(v int64) bool {
	w := isWidthFor(v)
	if len(s.b) == 0 {
		s.b = make([]byte, 1+int(w))
		s.b[0] = w
		isPut(s.b, int(w), 0, v)
		return true
	}
	if w > s.b[0] { // upgrade: v is below or above every member
		n := s.Len()
		nb := make([]byte, 1+(n+1)*int(w))
		nb[0] = w
		off := 0
		if v < 0 {
			isPut(nb, int(w), 0, v)
			off = 1
		} else {
			isPut(nb, int(w), n, v)
		}
		for i := 0; i < n; i++ {
			isPut(nb, int(w), i+off, s.isGet(i))
		}
		s.b = nb
		return true
	}
	i, found := s.isSearch(v)
	if found {
		return false
	}
	w = s.b[0]
	n := len(s.b)
	if n+int(w) > cap(s.b) {
		nb := make([]byte, n, n+int(w)+(n+int(w))/4)
		copy(nb, s.b)
		s.b = nb
	}
	s.b = s.b[:n+int(w)]
	p := 1 + i*int(w)
	copy(s.b[p+int(w):], s.b[p:n])
	isPut(s.b, int(w), i, v)
	return true
}

func (s *Set) isRemove(v int64) bool {
	i, found := s.isSearch(v)
	if !found {
		return false
	}
	w := int(s.b[0])
	p := 1 + i*w
	copy(s.b[p:], s.b[p+w:])
	s.b = s.b[:len(s.b)-w]
	if len(s.b) == 1 {
		s.b = nil
	}
	return true
}

// isInt reports whether member is a canonical integer (intset-eligible).
func isInt(m []byte) (int64, bool) { return ParseInt(m) }

// ---- packed small set ----

// pkFind returns the offsets [start, end) of m's item, or start = -1.
func (s *Set) pkFind(m []byte) (int, int) {
	for p := 3; p < len(s.b); {
		v, e := lpItem(s.b, p)
		if bytes.Equal(v, m) {
			return p, e
		}
		p = e
	}
	return -1, 0
}

func (s *Set) pkSetLen(n int) { binary.LittleEndian.PutUint16(s.b[1:], uint16(n)) }

// pkAppend appends m (not present) to a packed set.
func (s *Set) pkAppend(m []byte) {
	if len(s.b) == 0 {
		s.b = make([]byte, 3, 3+uvarintLen(len(m))+len(m))
		s.b[0] = setPacked
	}
	need := len(s.b) + uvarintLen(len(m)) + len(m)
	if need > cap(s.b) {
		nb := make([]byte, len(s.b), need+need/4)
		copy(nb, s.b)
		s.b = nb
	}
	n := s.Len()
	s.b = binary.AppendUvarint(s.b, uint64(len(m)))
	s.b = append(s.b, m...)
	s.pkSetLen(n + 1)
}

func (s *Set) pkNth(i int) []byte {
	for p := 3; p < len(s.b); i-- {
		v, e := lpItem(s.b, p)
		if i == 0 {
			return v
		}
		p = e
	}
	return nil
}

// fitsPacked reports whether a set of n members including m may be packed.
func fitsPacked(n int, m []byte) bool {
	return n <= SetMaxListpackEntries && len(m) <= SetMaxListpackValue && n <= 0xffff
}

// ---- public API ----

// Has reports whether member is in the set.
func (s *Set) Has(m []byte) bool {
	switch {
	case s.d != nil:
		return s.d.find(m) != nil
	case s.packed():
		p, _ := s.pkFind(m)
		return p >= 0
	case len(s.b) == 0:
		return false
	}
	v, ok := isInt(m)
	if !ok {
		return false
	}
	_, found := s.isSearch(v)
	return found
}

// Add adds member (copied) and reports whether it was new.
func (s *Set) Add(m []byte) bool {
	if s.d != nil {
		return s.d.add(m)
	}
	if s.packed() {
		if p, _ := s.pkFind(m); p >= 0 {
			return false
		}
		if !fitsPacked(s.Len()+1, m) {
			s.convert(1)
			return s.d.add(m)
		}
		s.pkAppend(m)
		return true
	}
	if v, ok := isInt(m); ok {
		if !s.isAdd(v) {
			return false
		}
		if s.Len() > SetMaxIntsetEntries {
			s.convert(0)
		}
		return true
	}
	// a non-integer joins an intset (or an empty set)
	if fitsPacked(s.Len()+1, m) {
		s.toPacked()
		s.pkAppend(m)
		return true
	}
	s.convert(1)
	return s.d.add(m)
}

// Remove removes member and reports whether it was present.
func (s *Set) Remove(m []byte) bool {
	switch {
	case s.d != nil:
		return s.d.del(m)
	case s.packed():
		p, e := s.pkFind(m)
		if p < 0 {
			return false
		}
		n := s.Len() - 1
		s.b = splice(s.b, p, e, nil)
		s.pkSetLen(n)
		return true
	case len(s.b) == 0:
		return false
	}
	v, ok := isInt(m)
	if !ok {
		return false
	}
	return s.isRemove(v)
}

// toPacked turns an intset (or empty set) into a packed set.
func (s *Set) toPacked() {
	old := &Set{b: s.b}
	s.b = nil
	var buf [24]byte
	for i, n := 0, old.Len(); i < n; i++ {
		s.pkAppend(strconv.AppendInt(buf[:0], old.isGet(i), 10))
	}
}

// convert switches to the hashtable encoding.
func (s *Set) convert(extra int) {
	d := newStrDict(s.Len() + extra)
	s.Each(func(m []byte) bool {
		d.add(m)
		return true
	})
	s.d, s.b = d, nil
}

// Each calls fn for every member until it returns false (intsets in
// ascending order, packed sets in insertion order). m is only valid during
// the call; fn must not modify the set.
func (s *Set) Each(fn func(m []byte) bool) {
	switch {
	case s.d != nil:
		s.d.each(func(n *dictNode) bool { return fn(strView(n.key())) })
		return
	case s.packed():
		for p := 3; p < len(s.b); {
			v, e := lpItem(s.b, p)
			if !fn(v) {
				return
			}
			p = e
		}
		return
	}
	var buf [20]byte
	for i, n := 0, s.Len(); i < n; i++ {
		if !fn(strconv.AppendInt(buf[:0], s.isGet(i), 10)) {
			return
		}
	}
}

// Random returns a uniformly random member, appended to dst. The set must
// not be empty.
func (s *Set) Random(dst []byte) []byte {
	switch {
	case s.d != nil:
		return append(dst, s.d.random().key()...)
	case s.packed():
		return append(dst, s.pkNth(rand.IntN(s.Len()))...)
	}
	return strconv.AppendInt(dst, s.isGet(rand.IntN(s.Len())), 10)
}

// Scan returns one SCAN step (hashtable) or every member with cursor 0
// (intset, packed), calling fn for each member (valid during the call).
func (s *Set) Scan(cursor uint64, count int, fn func(m []byte)) uint64 {
	if s.d == nil {
		s.Each(func(m []byte) bool { fn(m); return true })
		return 0
	}
	return s.d.scanCount(cursor, count, func(n *dictNode) { fn(strView(n.key())) })
}

// MemUsage estimates the bytes held by the set (for MEMORY USAGE).
func (s *Set) MemUsage() int {
	if s.d != nil {
		return 32 + s.d.memUsage()
	}
	return 32 + cap(s.b)
}

// Dup returns a deep copy with the same representation (COPY).
func (s *Set) Dup() Object {
	if s.d != nil {
		return &Set{d: s.d.dup()}
	}
	return &Set{b: append([]byte(nil), s.b...)}
}
