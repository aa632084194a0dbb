package node

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"unsafe"
)

// Hash is the value of a hash key. Like Redis 7 it has two encodings:
//
//   - "listpack": while it has at most HashMaxListpackEntries fields and no
//     field or value longer than HashMaxListpackValue bytes, all pairs live
//     in one flat byte slice, in insertion order:
//     4-byte little-endian count, then uvarint(len(f)) f uvarint(len(v)) v
//     for each pair. A 3-field hash of short strings costs ~30 bytes plus
//     the Hash header.
//   - "hashtable": a chained hash table (strDict) with one allocation per
//     field holding field and value together, reverse-binary SCAN cursors
//     and O(1) random fields like Redis's dict.
//
// It converts listpack -> hashtable when a limit is crossed and never back,
// as Redis does.
//
// API for other packages' code (DUMP/RESTORE, snapshots):
//
//	h := NewHash()
//	h.Set(field, value)     // copies both; returns true if field was new
//	h.Len()
//	h.Each(func(field, value []byte) bool { ...; return true })
//	h.Get(field)            // value, ok
//
// Slices handed out by Get and Each are read-only views, valid until the
// hash is next modified. A Hash is only touched with its slot's lock held.
type Hash struct {
	lp []byte   // listpack encoding; nil when d != nil
	d  *strDict // hashtable encoding
}

// redis-server 7.0 defaults: hash-max-listpack-entries 512,
// hash-max-listpack-value 64.
var (
	HashMaxListpackEntries = 512
	HashMaxListpackValue   = 64
)

// NewHash returns an empty listpack-encoded hash.
func NewHash() *Hash { return &Hash{} }

// Type implements Object.
func (h *Hash) Type() string { return "hash" }

// Encoding implements Object.
func (h *Hash) Encoding() string {
	if h.d != nil {
		return "hashtable"
	}
	return "listpack"
}

// Len returns the number of fields.
func (h *Hash) Len() int {
	if h.d != nil {
		return h.d.n
	}
	if len(h.lp) < 4 {
		return 0
	}
	return int(binary.LittleEndian.Uint32(h.lp))
}

func (h *Hash) setLpLen(n int) { binary.LittleEndian.PutUint32(h.lp, uint32(n)) }

// lpItem decodes the string at p of a listpack: value and next offset.
func lpItem(b []byte, p int) ([]byte, int) {
	l, k := binary.Uvarint(b[p:])
	s := p + k
	e := s + int(l)
	return b[s:e:e], e
}

// lpFind returns the offsets of field's pair (start of field, start of
// value, end of pair), or fs = -1.
func (h *Hash) lpFind(field []byte) (fs, vs, end int) {
	for p := 4; p < len(h.lp); {
		f, q := lpItem(h.lp, p)
		_, e := lpItem(h.lp, q)
		if bytes.Equal(f, field) {
			return p, q, e
		}
		p = e
	}
	return -1, 0, 0
}

// Get returns field's value (a read-only view) and whether it exists.
func (h *Hash) Get(field []byte) ([]byte, bool) {
	if h.d != nil {
		n := h.d.find(field)
		if n == nil {
			return nil, false
		}
		return strView(n.val()), true
	}
	fs, vs, _ := h.lpFind(field)
	if fs < 0 {
		return nil, false
	}
	v, _ := lpItem(h.lp, vs)
	return v, true
}

// Exists reports whether field exists.
func (h *Hash) Exists(field []byte) bool {
	_, ok := h.Get(field)
	return ok
}

// Set sets field to val (both copied) and reports whether field is new.
// It converts to a hashtable when a listpack limit would be crossed.
func (h *Hash) Set(field, val []byte) bool {
	if h.d == nil && (len(field) > HashMaxListpackValue || len(val) > HashMaxListpackValue) {
		h.convert()
	}
	if h.d != nil {
		return h.d.set(field, val)
	}
	if h.lp == nil {
		h.lp = make([]byte, 4, 4+lpPairSize(field, val))
	}
	fs, vs, end := h.lpFind(field)
	if fs >= 0 {
		old, _ := lpItem(h.lp, vs)
		if len(old) == len(val) {
			copy(old, val) // same size: overwrite in place
			return false
		}
		item := binary.AppendUvarint(nil, uint64(len(val)))
		item = append(item, val...)
		h.lp = splice(h.lp, vs, end, item)
		return false
	}
	need := len(h.lp) + lpPairSize(field, val)
	if need > cap(h.lp) {
		nb := make([]byte, len(h.lp), need+need/8)
		copy(nb, h.lp)
		h.lp = nb
	}
	h.lp = binary.AppendUvarint(h.lp, uint64(len(field)))
	h.lp = append(h.lp, field...)
	h.lp = binary.AppendUvarint(h.lp, uint64(len(val)))
	h.lp = append(h.lp, val...)
	n := h.Len() + 1
	h.setLpLen(n)
	if n > HashMaxListpackEntries {
		h.convert()
	}
	return true
}

func lpPairSize(f, v []byte) int {
	return uvarintLen(len(f)) + len(f) + uvarintLen(len(v)) + len(v)
}

// splice replaces b[from:to] with repl.
func splice(b []byte, from, to int, repl []byte) []byte {
	delta := len(repl) - (to - from)
	if delta > 0 {
		if len(b)+delta > cap(b) {
			nb := make([]byte, len(b)+delta, len(b)+delta+(len(b)+delta)/8)
			copy(nb, b[:from])
			copy(nb[from+len(repl):], b[to:])
			copy(nb[from:], repl)
			return nb
		}
		b = b[:len(b)+delta]
		copy(b[to+delta:], b[to:len(b)-delta])
	} else if delta < 0 {
		copy(b[from+len(repl):], b[to:])
		b = b[:len(b)+delta]
	}
	copy(b[from:], repl)
	return b
}

// Delete removes field and reports whether it existed.
func (h *Hash) Delete(field []byte) bool {
	if h.d != nil {
		return h.d.del(field)
	}
	fs, _, end := h.lpFind(field)
	if fs < 0 {
		return false
	}
	h.lp = splice(h.lp, fs, end, nil)
	h.setLpLen(h.Len() - 1)
	return true
}

// Each calls fn for every pair until it returns false. Listpack hashes are
// walked in insertion order. fn must not modify the hash.
func (h *Hash) Each(fn func(field, val []byte) bool) {
	if h.d != nil {
		h.d.each(func(n *dictNode) bool { return fn(strView(n.key()), strView(n.val())) })
		return
	}
	for p := 4; p < len(h.lp); {
		f, q := lpItem(h.lp, p)
		v, e := lpItem(h.lp, q)
		if !fn(f, v) {
			return
		}
		p = e
	}
}

// convert switches to the hashtable encoding.
func (h *Hash) convert() {
	d := newStrDict(h.Len())
	h.Each(func(f, v []byte) bool {
		d.set(f, v)
		return true
	})
	h.d, h.lp = d, nil
}

// nth returns the i-th pair of a listpack hash.
func (h *Hash) lpNth(i int) (f, v []byte) {
	for p := 4; p < len(h.lp); i-- {
		var q, e int
		f, q = lpItem(h.lp, p)
		v, e = lpItem(h.lp, q)
		if i == 0 {
			return f, v
		}
		p = e
	}
	return nil, nil
}

// Random returns a random pair (views), uniformly for listpack hashes and
// like Redis's dictGetRandomKey for hashtables. The hash must not be empty.
func (h *Hash) Random() (f, v []byte) {
	if h.d != nil {
		n := h.d.random()
		return strView(n.key()), strView(n.val())
	}
	return h.lpNth(rand.IntN(h.Len()))
}

// Scan returns the pairs of one SCAN step (hashtable) or all pairs with
// cursor 0 (listpack), calling fn for each.
func (h *Hash) Scan(cursor uint64, count int, fn func(f, v []byte)) uint64 {
	if h.d == nil {
		h.Each(func(f, v []byte) bool { fn(f, v); return true })
		return 0
	}
	return h.d.scanCount(cursor, count, func(n *dictNode) { fn(strView(n.key()), strView(n.val())) })
}

// MemUsage estimates the bytes held by the hash (for MEMORY USAGE).
func (h *Hash) MemUsage() int {
	if h.d != nil {
		return 32 + h.d.memUsage()
	}
	return 32 + cap(h.lp)
}

// strView views a string as a read-only byte slice without copying.
func strView(s string) []byte {
	if s == "" {
		return []byte{}
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// ---- strDict: the hashtable encoding shared by hashes and sets ----

// strDict is a chained hash table of string keys with an optional value
// stored in the same allocation, modelled on Redis's dict: power-of-two
// bucket array, load factor <= 1, shrink below 1/8 fill, SCAN with
// reverse-binary cursors (a full scan returns every element present for
// its whole duration even if the table is resized between calls), and
// random elements by probing random buckets. Rehashing is done at once
// (not incrementally).
type strDict struct {
	tab      []*dictNode
	n        int
	maxChain int // upper bound of the longest chain (for fair random picks)
}

type dictNode struct {
	kv   string // key followed by value
	klen uint32
	next *dictNode
}

func (n *dictNode) key() string { return n.kv[:n.klen] }
func (n *dictNode) val() string { return n.kv[n.klen:] }

var dictSeed = maphash.MakeSeed()

func newStrDict(hint int) *strDict {
	size := 4
	for size < hint {
		size <<= 1
	}
	return &strDict{tab: make([]*dictNode, size)}
}

func makeKV(k, v []byte) string {
	if len(k)+len(v) == 0 {
		return ""
	}
	b := make([]byte, len(k)+len(v))
	copy(b, k)
	copy(b[len(k):], v)
	return unsafe.String(&b[0], len(b))
}

func (d *strDict) bucket(k []byte) int {
	return int(maphash.Bytes(dictSeed, k) & uint64(len(d.tab)-1))
}

func (d *strDict) find(k []byte) *dictNode {
	for n := d.tab[d.bucket(k)]; n != nil; n = n.next {
		if int(n.klen) == len(k) && n.key() == string(k) {
			return n
		}
	}
	return nil
}

// set inserts or updates k; reports whether k is new.
func (d *strDict) set(k, v []byte) bool {
	b := d.bucket(k)
	l := 1
	for n := d.tab[b]; n != nil; n = n.next {
		if int(n.klen) == len(k) && n.key() == string(k) {
			if n.val() != string(v) {
				n.kv = makeKV(k, v)
			}
			return false
		}
		l++
	}
	d.tab[b] = &dictNode{kv: makeKV(k, v), klen: uint32(len(k)), next: d.tab[b]}
	d.maxChain = max(d.maxChain, l)
	d.n++
	if d.n > len(d.tab) {
		d.resize(len(d.tab) * 2)
	}
	return true
}

// add inserts k (no value) if absent; reports whether it was added.
func (d *strDict) add(k []byte) bool {
	b := d.bucket(k)
	l := 1
	for n := d.tab[b]; n != nil; n = n.next {
		if int(n.klen) == len(k) && n.key() == string(k) {
			return false
		}
		l++
	}
	d.tab[b] = &dictNode{kv: makeKV(k, nil), klen: uint32(len(k)), next: d.tab[b]}
	d.maxChain = max(d.maxChain, l)
	d.n++
	if d.n > len(d.tab) {
		d.resize(len(d.tab) * 2)
	}
	return true
}

func (d *strDict) del(k []byte) bool {
	b := d.bucket(k)
	for pp := &d.tab[b]; *pp != nil; pp = &(*pp).next {
		n := *pp
		if int(n.klen) == len(k) && n.key() == string(k) {
			*pp = n.next
			d.n--
			if len(d.tab) > 4 && d.n*8 < len(d.tab) {
				size := 4
				for size < d.n {
					size <<= 1
				}
				d.resize(size)
			}
			return true
		}
	}
	return false
}

func (d *strDict) resize(size int) {
	old := d.tab
	d.tab = make([]*dictNode, size)
	for _, n := range old {
		for n != nil {
			next := n.next
			b := int(maphash.String(dictSeed, n.key()) & uint64(size-1))
			n.next = d.tab[b]
			d.tab[b] = n
			n = next
		}
	}
	d.maxChain = 0
	for _, n := range d.tab {
		l := 0
		for ; n != nil; n = n.next {
			l++
		}
		d.maxChain = max(d.maxChain, l)
	}
}

func (d *strDict) each(fn func(n *dictNode) bool) {
	for _, n := range d.tab {
		for ; n != nil; n = n.next {
			if !fn(n) {
				return
			}
		}
	}
}

// random returns a uniformly random node; the dict must not be empty. It
// picks a random bucket and a random chain position below the longest
// chain length, retrying on a miss (rejection sampling), so every element
// has the same chance regardless of its chain's length.
func (d *strDict) random() *dictNode {
	size := len(d.tab)
	for {
		x := rand.Uint64()
		b := int(x % uint64(size))
		j := int((x / uint64(size)) % uint64(d.maxChain))
		n := d.tab[b]
		for ; n != nil && j > 0; j-- {
			n = n.next
		}
		if n != nil {
			return n
		}
	}
}

// scan visits the bucket at cursor and returns the next cursor (0 = done),
// Redis's dictScan for a single table.
func (d *strDict) scan(v uint64, fn func(n *dictNode)) uint64 {
	m := uint64(len(d.tab) - 1)
	for n := d.tab[v&m]; n != nil; n = n.next {
		fn(n)
	}
	v |= ^m
	v = bits.Reverse64(v)
	v++
	return bits.Reverse64(v)
}

// scanCount runs scan steps until about count elements were emitted, the
// way Redis's scanGenericCommand does (at most count*10 buckets).
func (d *strDict) scanCount(cursor uint64, count int, fn func(n *dictNode)) uint64 {
	emitted := 0
	maxIter := count * 10
	for {
		cursor = d.scan(cursor, func(n *dictNode) { emitted++; fn(n) })
		maxIter--
		if cursor == 0 || maxIter <= 0 || emitted >= count {
			return cursor
		}
	}
}

func (d *strDict) memUsage() int {
	n := 32 + len(d.tab)*8
	for _, e := range d.tab {
		for ; e != nil; e = e.next {
			n += 32 + roundAlloc(len(e.kv))
		}
	}
	return n
}

// roundAlloc approximates Go's allocation size for n bytes.
func roundAlloc(n int) int {
	switch {
	case n == 0:
		return 0
	case n <= 8:
		return 8
	case n <= 16:
		return 16
	case n <= 128:
		return (n + 15) &^ 15
	}
	return (n + 63) &^ 63
}

// Dup returns a deep copy with the same encoding (COPY).
func (h *Hash) Dup() Object {
	if h.d != nil {
		return &Hash{d: h.d.dup()}
	}
	return &Hash{lp: append([]byte(nil), h.lp...)}
}

// dup copies the table and its nodes; the immutable kv strings are shared.
func (d *strDict) dup() *strDict {
	nd := &strDict{tab: make([]*dictNode, len(d.tab)), n: d.n, maxChain: d.maxChain}
	for i, n := range d.tab {
		var tail **dictNode = &nd.tab[i]
		for ; n != nil; n = n.next {
			c := &dictNode{kv: n.kv, klen: n.klen}
			*tail = c
			tail = &c.next
		}
	}
	return nd
}
