package node

import (
	"encoding/binary"
	"math/rand/v2"
	"sort"
	"strconv"
)

// Set is the value of a set key. Like Redis 7.0 it has two encodings:
//
//   - "intset": while every member is an integer in canonical form (as
//     Redis's string2ll accepts it) and there are at most SetMaxIntsetEntries
//     members, they are kept sorted in one byte slice using the narrowest
//     width that fits all of them (2, 4 or 8 bytes, little endian; the first
//     byte of the slice is the width). SMEMBERS then lists them ascending.
//   - "hashtable": a strDict (see types_hash.go) of members.
//
// It converts intset -> hashtable when a non-integer is added or the size
// limit is crossed, and never back (Redis 7.0 has no listpack sets).
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
	is []byte   // intset encoding: is[0] = width, then sorted values; nil when empty or d != nil
	d  *strDict // hashtable encoding
}

// SetMaxIntsetEntries is set-max-intset-entries (Redis default 512).
var SetMaxIntsetEntries = 512

// NewSet returns an empty intset-encoded set.
func NewSet() *Set { return &Set{} }

// Type implements Object.
func (s *Set) Type() string { return "set" }

// Encoding implements Object.
func (s *Set) Encoding() string {
	if s.d != nil {
		return "hashtable"
	}
	return "intset"
}

// Len returns the number of members.
func (s *Set) Len() int {
	if s.d != nil {
		return s.d.n
	}
	if len(s.is) == 0 {
		return 0
	}
	return (len(s.is) - 1) / int(s.is[0])
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
	w := int(s.is[0])
	p := 1 + i*w
	switch w {
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(s.is[p:])))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(s.is[p:])))
	}
	return int64(binary.LittleEndian.Uint64(s.is[p:]))
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
	if len(s.is) == 0 {
		s.is = make([]byte, 1+int(w))
		s.is[0] = w
		isPut(s.is, int(w), 0, v)
		return true
	}
	if w > s.is[0] { // upgrade: v is below or above every member
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
		s.is = nb
		return true
	}
	i, found := s.isSearch(v)
	if found {
		return false
	}
	w = s.is[0]
	n := len(s.is)
	if n+int(w) > cap(s.is) {
		nb := make([]byte, n, n+int(w)+(n+int(w))/4)
		copy(nb, s.is)
		s.is = nb
	}
	s.is = s.is[:n+int(w)]
	p := 1 + i*int(w)
	copy(s.is[p+int(w):], s.is[p:n])
	isPut(s.is, int(w), i, v)
	return true
}

func (s *Set) isRemove(v int64) bool {
	i, found := s.isSearch(v)
	if !found {
		return false
	}
	w := int(s.is[0])
	p := 1 + i*w
	copy(s.is[p:], s.is[p+w:])
	s.is = s.is[:len(s.is)-w]
	if len(s.is) == 1 {
		s.is = nil
	}
	return true
}

// isInt reports whether member is a canonical integer (intset-eligible).
func isInt(m []byte) (int64, bool) { return ParseInt(m) }

// ---- public API ----

// Has reports whether member is in the set.
func (s *Set) Has(m []byte) bool {
	if s.d != nil {
		return s.d.find(m) != nil
	}
	v, ok := isInt(m)
	if !ok || len(s.is) == 0 {
		return false
	}
	_, found := s.isSearch(v)
	return found
}

// Add adds member (copied) and reports whether it was new.
func (s *Set) Add(m []byte) bool {
	if s.d == nil {
		if v, ok := isInt(m); ok {
			if !s.isAdd(v) {
				return false
			}
			if s.Len() > SetMaxIntsetEntries {
				s.convert(0)
			}
			return true
		}
		s.convert(1)
	}
	return s.d.add(m)
}

// Remove removes member and reports whether it was present.
func (s *Set) Remove(m []byte) bool {
	if s.d != nil {
		return s.d.del(m)
	}
	v, ok := isInt(m)
	if !ok || len(s.is) == 0 {
		return false
	}
	return s.isRemove(v)
}

// convert switches to the hashtable encoding.
func (s *Set) convert(extra int) {
	d := newStrDict(s.Len() + extra)
	s.Each(func(m []byte) bool {
		d.add(m)
		return true
	})
	s.d, s.is = d, nil
}

// Each calls fn for every member until it returns false (intsets in
// ascending order). m is only valid during the call; fn must not modify
// the set.
func (s *Set) Each(fn func(m []byte) bool) {
	if s.d != nil {
		s.d.each(func(n *dictNode) bool { return fn(strView(n.key())) })
		return
	}
	var buf [20]byte
	for i, n := 0, s.Len(); i < n; i++ {
		if !fn(strconv.AppendInt(buf[:0], s.isGet(i), 10)) {
			return
		}
	}
}

// Random returns a random member, appended to dst. The set must not be
// empty.
func (s *Set) Random(dst []byte) []byte {
	if s.d != nil {
		return append(dst, s.d.random().key()...)
	}
	return strconv.AppendInt(dst, s.isGet(rand.IntN(s.Len())), 10)
}

// Scan returns one SCAN step (hashtable) or every member with cursor 0
// (intset), calling fn for each member (valid during the call).
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
	return 32 + cap(s.is)
}

// Dup returns a deep copy with the same encoding (COPY).
func (s *Set) Dup() Object {
	if s.d != nil {
		return &Set{d: s.d.dup()}
	}
	return &Set{is: append([]byte(nil), s.is...)}
}
