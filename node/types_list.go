package node

import (
	"bytes"
	"encoding/binary"
)

// List is the value of a list key: a quicklist-like deque of packed nodes.
//
// Each node is one byte buffer holding up to listNodeMaxBytes of entries
// (Redis's list-max-listpack-size -2, i.e. 8 KiB), so a list costs a few
// bytes per element instead of a slice header and an allocation each. An
// entry is laid out as
//
//	uvarint(len(v)) | v | backlen
//
// where backlen is len(uvarint)+len(v) written so that it can be read from
// its last byte backwards (7 bits per byte, high bit = "more bytes to the
// left"), which lets the list be walked and popped from both ends. A node
// keeps free room in front of its data (off) so LPUSH is amortised O(1).
// An element bigger than a node gets a node of its own.
//
// OBJECT ENCODING reports "quicklist", as Redis 7.0 does for every list.
//
// API for other packages' code (DUMP/RESTORE, snapshots):
//
//	l := NewList()
//	l.PushTail(v)            // copies v
//	l.Len()
//	l.Each(func(v []byte) bool { ...; return true }) // head to tail
//
// Slices handed out by Each, Index, PopHead/PopTail and friends point into
// the list's buffers: they are read-only and only valid until the list is
// next modified. A List is only touched with its slot's lock held.
type List struct {
	nodes []lnode
	n     int
}

type lnode struct {
	b   []byte // entries are b[off:]
	off int32
	cnt int32
}

// listNodeMaxBytes is the packed size limit of one node: Redis's
// list-max-listpack-size -2 (8 KiB) by default; -1..-5 select 4..64 KiB
// (read at startup, see applyTypeLimits).
var listNodeMaxBytes = 8192

// NewList returns an empty list.
func NewList() *List { return &List{} }

// Type implements Object.
func (l *List) Type() string { return "list" }

// Encoding implements Object: Redis 7.0 reports "quicklist" for all lists.
func (l *List) Encoding() string { return "quicklist" }

// Len returns the number of elements.
func (l *List) Len() int { return l.n }

// ---- entry encoding ----

func uvarintLen(x int) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// lpEntrySize is the encoded size of a value of length vl.
func lpEntrySize(vl int) int {
	f := uvarintLen(vl) + vl
	return f + uvarintLen(f)
}

// putEntry writes v's entry at dst[0:] (dst must be large enough) and
// returns the number of bytes written.
func putEntry(dst []byte, v []byte) int {
	k := binary.PutUvarint(dst, uint64(len(v)))
	k += copy(dst[k:], v)
	return k + putBacklen(dst[k:], k)
}

func appendEntry(dst []byte, v []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(v)))
	f := uvarintLen(len(v)) + len(v)
	dst = append(dst, v...)
	var tmp [10]byte
	k := putBacklen(tmp[:], f)
	return append(dst, tmp[:k]...)
}

// putBacklen writes l so that it can be read backwards from its last byte.
func putBacklen(dst []byte, l int) int {
	var g [10]byte
	k := 0
	for {
		g[k] = byte(l & 0x7f)
		k++
		l >>= 7
		if l == 0 {
			break
		}
	}
	for m := 0; m < k; m++ { // dst[m] = g[k-1-m]; all but dst[0] flagged
		b := g[k-1-m]
		if m > 0 {
			b |= 0x80
		}
		dst[m] = b
	}
	return k
}

// entryAt decodes the entry starting at p: its value and the next offset.
func entryAt(d []byte, p int) (v []byte, next int) {
	l, k := binary.Uvarint(d[p:])
	s := p + k
	e := s + int(l)
	return d[s:e:e], e + uvarintLen(k+int(l))
}

// prevEntry returns the start of the entry that ends at p.
func prevEntry(d []byte, p int) int {
	i := p - 1
	v := int(d[i] & 0x7f)
	shift := 7
	for d[i]&0x80 != 0 {
		i--
		v |= int(d[i]&0x7f) << shift
		shift += 7
	}
	return i - v
}

func (nd *lnode) data() []byte { return nd.b[nd.off:] }
func (nd *lnode) size() int    { return len(nd.b) - int(nd.off) }

func (nd *lnode) fits(sz int) bool {
	return nd.cnt == 0 || nd.size()+sz <= listNodeMaxBytes
}

// prepend writes an entry of v in front of the node's data.
func (nd *lnode) prepend(v []byte) {
	sz := lpEntrySize(len(v))
	if int(nd.off) < sz {
		size := nd.size()
		gap := sz + size // room for about as many more entries
		if gap+size > listNodeMaxBytes {
			gap = max(sz, listNodeMaxBytes-size)
		}
		nb := make([]byte, gap+size)
		copy(nb[gap:], nd.data())
		nd.b, nd.off = nb, int32(gap)
	}
	nd.off -= int32(sz)
	putEntry(nd.b[nd.off:], v)
	nd.cnt++
}

// values decodes every value of the node (views into its buffer).
func (nd *lnode) values(dst [][]byte) [][]byte {
	d := nd.data()
	for p := 0; p < len(d); {
		var v []byte
		v, p = entryAt(d, p)
		dst = append(dst, v)
	}
	return dst
}

// packNodes packs vals into as few nodes as the size limit allows.
func packNodes(vals [][]byte) []lnode {
	var out []lnode
	i := 0
	for i < len(vals) {
		size := 0
		j := i
		for j < len(vals) {
			sz := lpEntrySize(len(vals[j]))
			if j > i && size+sz > listNodeMaxBytes {
				break
			}
			size += sz
			j++
		}
		b := make([]byte, size)
		p := 0
		for _, v := range vals[i:j] {
			p += putEntry(b[p:], v)
		}
		out = append(out, lnode{b: b, cnt: int32(j - i)})
		i = j
	}
	return out
}

// replaceNode replaces node ni by nodes packed from vals (none when vals is
// empty). vals may point into the old node.
func (l *List) replaceNode(ni int, vals [][]byte) {
	nn := packNodes(vals)
	switch len(nn) {
	case 0:
		l.nodes = append(l.nodes[:ni], l.nodes[ni+1:]...)
	case 1:
		l.nodes[ni] = nn[0]
	default:
		rest := append([]lnode(nil), l.nodes[ni+1:]...)
		l.nodes = append(append(l.nodes[:ni], nn...), rest...)
	}
}

// ---- pushes and pops ----

// PushHead inserts a copy of v at the head.
func (l *List) PushHead(v []byte) {
	sz := lpEntrySize(len(v))
	if len(l.nodes) == 0 || !l.nodes[0].fits(sz) {
		l.nodes = append(l.nodes, lnode{})
		copy(l.nodes[1:], l.nodes)
		l.nodes[0] = lnode{}
	}
	l.nodes[0].prepend(v)
	l.n++
}

// PushTail appends a copy of v at the tail.
func (l *List) PushTail(v []byte) {
	sz := lpEntrySize(len(v))
	if len(l.nodes) == 0 || !l.nodes[len(l.nodes)-1].fits(sz) {
		l.nodes = append(l.nodes, lnode{})
	}
	nd := &l.nodes[len(l.nodes)-1]
	if nd.b == nil {
		nd.b = make([]byte, 0, sz)
	}
	nd.b = appendEntry(nd.b, v)
	nd.cnt++
	l.n++
}

// PopHead removes and returns the head element (nil when empty). The
// result is valid until the list is next modified.
func (l *List) PopHead() []byte {
	if l.n == 0 {
		return nil
	}
	nd := &l.nodes[0]
	v, next := entryAt(nd.data(), 0)
	nd.off += int32(next)
	nd.cnt--
	l.n--
	if nd.cnt == 0 {
		l.shiftNodes(1)
	}
	return v
}

// PopTail removes and returns the tail element (nil when empty). The result
// is valid until the list is next modified.
func (l *List) PopTail() []byte {
	if l.n == 0 {
		return nil
	}
	nd := &l.nodes[len(l.nodes)-1]
	d := nd.data()
	p := prevEntry(d, len(d))
	v, _ := entryAt(d, p)
	nd.b = nd.b[:int(nd.off)+p]
	nd.cnt--
	l.n--
	if nd.cnt == 0 {
		l.nodes[len(l.nodes)-1] = lnode{}
		l.nodes = l.nodes[:len(l.nodes)-1]
	}
	return v
}

// shiftNodes drops the first k nodes.
func (l *List) shiftNodes(k int) {
	m := copy(l.nodes, l.nodes[k:])
	for j := m; j < len(l.nodes); j++ {
		l.nodes[j] = lnode{} // let the buffers go
	}
	l.nodes = l.nodes[:m]
	if m == 0 {
		l.nodes = nil
	}
}

// Pop pops from the head or the tail.
func (l *List) Pop(head bool) []byte {
	if head {
		return l.PopHead()
	}
	return l.PopTail()
}

// Push pushes at the head or the tail.
func (l *List) Push(v []byte, head bool) {
	if head {
		l.PushHead(v)
	} else {
		l.PushTail(v)
	}
}

// ---- reading ----

// locate returns the node holding element i (0 <= i < n) and i's position
// within that node.
func (l *List) locate(i int) (ni, j int) {
	if i < l.n/2 {
		for ni = 0; i >= int(l.nodes[ni].cnt); ni++ {
			i -= int(l.nodes[ni].cnt)
		}
		return ni, i
	}
	back := l.n - 1 - i // position counted from the tail
	for ni = len(l.nodes) - 1; back >= int(l.nodes[ni].cnt); ni-- {
		back -= int(l.nodes[ni].cnt)
	}
	return ni, int(l.nodes[ni].cnt) - 1 - back
}

// offsetIn returns the byte offset of the j-th entry of node nd.
func offsetIn(nd *lnode, j int) int {
	d := nd.data()
	if j <= int(nd.cnt)/2 {
		p := 0
		for ; j > 0; j-- {
			_, p = entryAt(d, p)
		}
		return p
	}
	p := len(d)
	for k := int(nd.cnt) - j; k > 0; k-- {
		p = prevEntry(d, p)
	}
	return p
}

// Index returns element i (negative counts from the tail) and whether it
// exists.
func (l *List) Index(i int) ([]byte, bool) {
	if i < 0 {
		i += l.n
	}
	if i < 0 || i >= l.n {
		return nil, false
	}
	ni, j := l.locate(i)
	nd := &l.nodes[ni]
	v, _ := entryAt(nd.data(), offsetIn(nd, j))
	return v, true
}

// Each calls fn for every element from head to tail until fn returns false.
func (l *List) Each(fn func(v []byte) bool) {
	l.EachFrom(0, fn)
}

// EachFrom calls fn for the elements from index start (0-based, must be in
// range) towards the tail until fn returns false.
func (l *List) EachFrom(start int, fn func(v []byte) bool) {
	if start < 0 || start >= l.n {
		return
	}
	ni, j := l.locate(start)
	p := offsetIn(&l.nodes[ni], j)
	for ; ni < len(l.nodes); ni++ {
		d := l.nodes[ni].data()
		for p < len(d) {
			var v []byte
			v, p = entryAt(d, p)
			if !fn(v) {
				return
			}
		}
		p = 0
	}
}

// EachRevFrom calls fn for the elements from index start towards the head
// until fn returns false.
func (l *List) EachRevFrom(start int, fn func(v []byte) bool) {
	if start < 0 || start >= l.n {
		return
	}
	ni, j := l.locate(start)
	nd := &l.nodes[ni]
	_, p := entryAt(nd.data(), offsetIn(nd, j)) // end of element start
	for ; ni >= 0; ni-- {
		d := l.nodes[ni].data()
		if p < 0 {
			p = len(d)
		}
		for p > 0 {
			s := prevEntry(d, p)
			v, _ := entryAt(d, s)
			if !fn(v) {
				return
			}
			p = s
		}
		p = -1
	}
}

// ---- in-place changes ----

// Set replaces element i (negative counts from the tail); false when out of
// range.
func (l *List) Set(i int, v []byte) bool {
	if i < 0 {
		i += l.n
	}
	if i < 0 || i >= l.n {
		return false
	}
	ni, j := l.locate(i)
	nd := &l.nodes[ni]
	vals := nd.values(make([][]byte, 0, nd.cnt))
	vals[j] = v
	l.replaceNode(ni, vals)
	return true
}

// Insert inserts v before (or after) the first element equal to pivot and
// returns the new length, or -1 when pivot is not found.
func (l *List) Insert(pivot, v []byte, after bool) int {
	for ni := range l.nodes {
		nd := &l.nodes[ni]
		d := nd.data()
		j := 0
		for p := 0; p < len(d); j++ {
			var e []byte
			e, p = entryAt(d, p)
			if !bytes.Equal(e, pivot) {
				continue
			}
			if after {
				j++
			}
			sz := lpEntrySize(len(v))
			switch {
			case j == 0 && ni == 0:
				l.PushHead(v)
				return l.n
			case j == int(nd.cnt) && ni == len(l.nodes)-1:
				l.PushTail(v)
				return l.n
			case j == int(nd.cnt) && nd.fits(sz):
				nd.b = appendEntry(nd.b, v)
				nd.cnt++
			default:
				vals := nd.values(make([][]byte, 0, nd.cnt+1))
				vals = append(vals, nil)
				copy(vals[j+1:], vals[j:])
				vals[j] = v
				l.replaceNode(ni, vals)
			}
			l.n++
			return l.n
		}
	}
	return -1
}

// Remove removes up to count elements equal to v (count > 0: from the head,
// count < 0: from the tail, 0: all) and returns how many were removed.
func (l *List) Remove(v []byte, count int) int {
	removed := 0
	limit := count
	if limit < 0 {
		limit = -limit
	}
	var vals [][]byte
	step := func(ni int) {
		nd := &l.nodes[ni]
		vals = nd.values(vals[:0])
		kept := vals[:0]
		var hit []bool
		if count < 0 { // decide hits from the node's tail
			hit = make([]bool, len(vals))
			for k := len(vals) - 1; k >= 0; k-- {
				if (limit == 0 || removed < limit) && bytes.Equal(vals[k], v) {
					hit[k] = true
					removed++
				}
			}
		}
		changed := false
		for k, e := range vals {
			var h bool
			if count < 0 {
				h = hit[k]
			} else if (limit == 0 || removed < limit) && bytes.Equal(e, v) {
				h = true
				removed++
			}
			if h {
				changed = true
				continue
			}
			kept = append(kept, e)
		}
		if changed {
			l.n -= len(vals) - len(kept)
			l.replaceNode(ni, kept)
		}
	}
	if count >= 0 {
		for ni := 0; ni < len(l.nodes) && (limit == 0 || removed < limit); {
			before := len(l.nodes)
			step(ni)
			ni += 1 + len(l.nodes) - before
		}
	} else {
		for ni := len(l.nodes) - 1; ni >= 0 && removed < limit; ni-- {
			step(ni)
		}
	}
	return removed
}

// Trim keeps elements start..stop (inclusive, already normalised to
// 0 <= start <= stop < n); anything else empties the list.
func (l *List) Trim(start, stop int) {
	if start < 0 || stop >= l.n || start > stop {
		l.nodes, l.n = nil, 0
		return
	}
	l.dropTail(l.n - 1 - stop)
	l.dropHead(start)
}

func (l *List) dropHead(k int) {
	if k <= 0 {
		return
	}
	i := 0
	for i < len(l.nodes) && k >= int(l.nodes[i].cnt) {
		k -= int(l.nodes[i].cnt)
		l.n -= int(l.nodes[i].cnt)
		i++
	}
	l.shiftNodes(i)
	if k > 0 {
		nd := &l.nodes[0]
		nd.off += int32(offsetIn(nd, k))
		nd.cnt -= int32(k)
		l.n -= k
	}
}

func (l *List) dropTail(k int) {
	if k <= 0 {
		return
	}
	i := len(l.nodes)
	for i > 0 && k >= int(l.nodes[i-1].cnt) {
		k -= int(l.nodes[i-1].cnt)
		l.n -= int(l.nodes[i-1].cnt)
		i--
	}
	for j := i; j < len(l.nodes); j++ {
		l.nodes[j] = lnode{}
	}
	l.nodes = l.nodes[:i]
	if k > 0 {
		nd := &l.nodes[i-1]
		nd.b = nd.b[:int(nd.off)+offsetIn(nd, int(nd.cnt)-k)]
		nd.cnt -= int32(k)
		l.n -= k
	}
}

// MemUsage estimates the bytes held by the list (for MEMORY USAGE).
func (l *List) MemUsage() int {
	n := 32 + cap(l.nodes)*32
	for i := range l.nodes {
		n += cap(l.nodes[i].b)
	}
	return n
}

// Dup returns a deep copy (COPY).
func (l *List) Dup() Object {
	nl := &List{n: l.n, nodes: make([]lnode, len(l.nodes))}
	for i := range l.nodes {
		nl.nodes[i] = lnode{b: append([]byte(nil), l.nodes[i].data()...), cnt: l.nodes[i].cnt}
	}
	return nl
}
