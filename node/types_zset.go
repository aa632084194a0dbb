package node

// Sorted set value type ("zset").
//
// A ZSet has two encodings, as in Redis 7.0:
//   - "listpack": a flat slice of (member, score) sorted by score then
//     member, used while the set has at most ZsetMaxListpackEntries members
//     and no member longer than ZsetMaxListpackValue bytes;
//   - "skiplist": a skiplist with spans (Redis's zskiplist: O(log n) insert,
//     delete, rank and rank lookup) plus a member → node hash table (zdict)
//     for O(1) score lookups and ZSCAN's reverse-binary cursor.
//
// A set converts from listpack to skiplist when an insertion crosses a
// threshold; it never converts back in place (like Redis), but store
// commands (ZUNIONSTORE, ZRANGESTORE...) build small results as listpacks.
//
// Members are kept as Go strings (copied on insertion); accessors that hand
// out []byte views of them (Each) must not have those bytes modified.
// A ZSet is not safe for concurrent use: it is only touched with its slot's
// lock held.

import (
	"hash/maphash"
	"math"
	"math/bits"
	"math/rand/v2"
	"sort"
	"unsafe"
)

// ZsetMaxListpackEntries and ZsetMaxListpackValue are Redis's
// zset-max-listpack-entries / zset-max-listpack-value defaults.
var (
	ZsetMaxListpackEntries = 128
	ZsetMaxListpackValue   = 64
)

// zlpEntry is one element of the listpack encoding.
type zlpEntry struct {
	member string
	score  float64
}

// ZSet is a sorted set.
type ZSet struct {
	lp   []zlpEntry // listpack encoding, when zsl == nil
	zsl  *zskiplist // skiplist encoding
	dict zdict      // member → node, skiplist encoding only
}

// NewZSet returns an empty sorted set in the listpack encoding.
func NewZSet() *ZSet { return &ZSet{} }

// newZSetSized returns an empty sorted set whose encoding suits n members
// of at most maxLen bytes.
func newZSetSized(n, maxLen int) *ZSet {
	z := &ZSet{}
	if n > ZsetMaxListpackEntries || maxLen > ZsetMaxListpackValue {
		z.zsl = newZskiplist()
	} else if n > 0 {
		z.lp = make([]zlpEntry, 0, n)
	}
	return z
}

// Type implements Object.
func (z *ZSet) Type() string { return "zset" }

// Encoding implements Object: "listpack" or "skiplist".
func (z *ZSet) Encoding() string {
	if z.zsl != nil {
		return "skiplist"
	}
	return "listpack"
}

// Len returns the number of members.
func (z *ZSet) Len() int {
	if z.zsl != nil {
		return z.zsl.length
	}
	return len(z.lp)
}

// Add sets member's score, inserting it if absent (the member is copied).
// It reports whether the member is new. NaN scores are ignored (false).
// This is the loader used by RESTORE and snapshots.
func (z *ZSet) Add(member []byte, score float64) bool {
	out, _ := z.add(member, score, 0)
	return out&zaddOutAdded != 0
}

// Dup returns a deep copy in the same encoding (COPY). Members are
// immutable strings and are shared.
func (z *ZSet) Dup() Object {
	if z.zsl == nil {
		return &ZSet{lp: append([]zlpEntry(nil), z.lp...)}
	}
	d := &ZSet{zsl: newZskiplist()}
	d.dict.init(z.Len())
	for x := z.zsl.header.level[0].forward; x != nil; x = x.level[0].forward {
		d.dict.add(d.zsl.appendTail(x.score, x.member))
	}
	return d
}

// MemUsage estimates the bytes held by the set (MEMORY USAGE, eviction).
// It is O(1): member sizes are sampled from the lowest ranks.
func (z *ZSet) MemUsage() int {
	const sample = 16
	n := z.Len()
	seen, bytes := 0, 0
	z.walk(0, sample, false, func(m string, _ float64) bool {
		seen++
		bytes += len(m)
		return true
	})
	avg := 0
	if seen > 0 {
		avg = bytes / seen
	}
	if z.zsl == nil {
		return 64 + cap(z.lp)*int(unsafe.Sizeof(zlpEntry{})) + n*avg
	}
	// A node averages 4/3 levels.
	perNode := int(unsafe.Sizeof(zslNode{})) + 4*int(unsafe.Sizeof(zslLevel{}))/3
	return 64 + len(z.dict.buckets)*8 + n*(perNode+avg)
}

// Score returns member's score.
func (z *ZSet) Score(member []byte) (float64, bool) {
	if z.zsl != nil {
		if n := z.dict.find(bstr(member)); n != nil {
			return n.score, true
		}
		return 0, false
	}
	if i := z.lpFind(bstr(member)); i >= 0 {
		return z.lp[i].score, true
	}
	return 0, false
}

// Each calls fn for every member in rank order (ascending score, then
// member) until fn returns false. member aliases the set's storage: it must
// not be modified or kept past the call. fn must not modify the set.
func (z *ZSet) Each(fn func(member []byte, score float64) bool) {
	z.walk(0, z.Len(), false, func(m string, s float64) bool { return fn(sbytes(m), s) })
}

// Remove deletes member; reports whether it was present.
func (z *ZSet) Remove(member []byte) bool {
	if z.zsl != nil {
		n := z.dict.remove(bstr(member))
		if n == nil {
			return false
		}
		z.zsl.delete(n.score, n.member)
		return true
	}
	i := z.lpFind(bstr(member))
	if i < 0 {
		return false
	}
	z.lpDeleteRange(i, i+1)
	return true
}

// Rank returns member's 0-based rank (counted from the highest score when
// reverse) and score.
func (z *ZSet) Rank(member []byte, reverse bool) (int, float64, bool) {
	var rank int
	var score float64
	if z.zsl != nil {
		n := z.dict.find(bstr(member))
		if n == nil {
			return 0, 0, false
		}
		rank = z.zsl.rank(n.score, n.member) - 1
		score = n.score
	} else {
		i := z.lpFind(bstr(member))
		if i < 0 {
			return 0, 0, false
		}
		rank, score = i, z.lp[i].score
	}
	if reverse {
		rank = z.Len() - 1 - rank
	}
	return rank, score, true
}

// At returns the element of 0-based rank r (ascending order); r must be in
// range.
func (z *ZSet) At(r int) (string, float64) {
	if z.zsl != nil {
		n := z.zsl.byRank(r + 1)
		return n.member, n.score
	}
	e := &z.lp[r]
	return e.member, e.score
}

// walk visits n elements starting at 0-based rank start, ascending, or,
// when rev, start counts from the highest score and the walk descends. It
// stops early when fn returns false. start and n must be in range.
func (z *ZSet) walk(start, n int, rev bool, fn func(member string, score float64) bool) {
	l := z.Len()
	if n <= 0 || start >= l {
		return
	}
	if start+n > l {
		n = l - start
	}
	if z.zsl == nil {
		if rev {
			for i := l - 1 - start; n > 0; i, n = i-1, n-1 {
				if !fn(z.lp[i].member, z.lp[i].score) {
					return
				}
			}
			return
		}
		for i := start; n > 0; i, n = i+1, n-1 {
			if !fn(z.lp[i].member, z.lp[i].score) {
				return
			}
		}
		return
	}
	if rev {
		x := z.zsl.byRank(l - start)
		for ; n > 0 && x != nil; n-- {
			if !fn(x.member, x.score) {
				return
			}
			x = x.backward
		}
		return
	}
	x := z.zsl.byRank(start + 1)
	for ; n > 0 && x != nil; n-- {
		if !fn(x.member, x.score) {
			return
		}
		x = x.level[0].forward
	}
}

// zadd flags, as Redis's ZADD_IN_* / ZADD_OUT_*.
const (
	zaddInIncr = 1 << iota
	zaddInNX
	zaddInXX
	zaddInGT
	zaddInLT
)

const (
	zaddOutNop = 1 << iota
	zaddOutNaN
	zaddOutAdded
	zaddOutUpdated
)

// add is Redis's zsetAdd: it inserts or updates member following the
// NX/XX/GT/LT/INCR flags and returns ZADD_OUT_* flags and the member's new
// score. With zaddOutNaN nothing changed.
func (z *ZSet) add(member []byte, score float64, in int) (out int, newScore float64) {
	incr := in&zaddInIncr != 0
	nx := in&zaddInNX != 0
	xx := in&zaddInXX != 0
	gt := in&zaddInGT != 0
	lt := in&zaddInLT != 0
	if math.IsNaN(score) {
		return zaddOutNaN, 0
	}
	var cur float64
	var found bool
	var node *zslNode
	idx := -1
	if z.zsl != nil {
		if node = z.dict.find(bstr(member)); node != nil {
			cur, found = node.score, true
		}
	} else if idx = z.lpFind(bstr(member)); idx >= 0 {
		cur, found = z.lp[idx].score, true
	}
	if found {
		if nx {
			return zaddOutNop, cur
		}
		if incr {
			score += cur
			if math.IsNaN(score) {
				return zaddOutNaN, 0
			}
		}
		if (lt && score >= cur) || (gt && score <= cur) {
			return zaddOutNop, cur
		}
		if score != cur {
			if node != nil {
				z.zsl.updateScore(node, score)
			} else {
				m := z.lp[idx].member
				z.lpDeleteRange(idx, idx+1)
				z.lpInsert(m, score)
			}
			out = zaddOutUpdated
		}
		return out, score
	}
	if xx {
		return zaddOutNop, 0
	}
	if z.zsl == nil && (len(z.lp)+1 > ZsetMaxListpackEntries || len(member) > ZsetMaxListpackValue) {
		z.convertToSkiplist()
	}
	m := string(member)
	if z.zsl != nil {
		n := z.zsl.insert(score, m)
		z.dict.add(n)
	} else {
		z.lpInsert(m, score)
	}
	return zaddOutAdded, score
}

// convertToSkiplist switches a listpack set to the skiplist encoding.
func (z *ZSet) convertToSkiplist() {
	if z.zsl != nil {
		return
	}
	zsl := newZskiplist()
	z.dict.init(len(z.lp))
	for _, e := range z.lp {
		n := zsl.appendTail(e.score, e.member)
		z.dict.add(n)
	}
	z.zsl, z.lp = zsl, nil
}

// zsetFromSorted builds a set from elements sorted by (score, member) with
// distinct members, in the encoding Redis would pick for a store result
// (zsetConvertToListpackIfNeeded).
func zsetFromSorted(es []zlpEntry) *ZSet {
	maxLen := 0
	for i := range es {
		if len(es[i].member) > maxLen {
			maxLen = len(es[i].member)
		}
	}
	z := newZSetSized(len(es), maxLen)
	if z.zsl == nil {
		z.lp = append(z.lp, es...)
		for i := range z.lp {
			if z.lp[i].score == 0 {
				z.lp[i].score = 0 // -0 → 0, as the listpack's text scores do
			}
		}
		return z
	}
	z.dict.init(len(es))
	for _, e := range es {
		z.dict.add(z.zsl.appendTail(e.score, e.member))
	}
	return z
}

// zless orders elements by score, then member bytes (Redis's order).
func zless(s1 float64, m1 string, s2 float64, m2 string) bool {
	return s1 < s2 || (s1 == s2 && m1 < m2)
}

// sortZEntries sorts elements into rank order.
func sortZEntries(es []zlpEntry) {
	sort.Slice(es, func(i, j int) bool { return zless(es[i].score, es[i].member, es[j].score, es[j].member) })
}

// lpFind returns the index of member in the listpack, or -1.
func (z *ZSet) lpFind(member string) int {
	for i := range z.lp {
		if z.lp[i].member == member {
			return i
		}
	}
	return -1
}

// lpInsert inserts a member known to be absent at its sorted position.
// Like Redis's listpack, which stores scores as d2string text, it turns -0
// into 0.
func (z *ZSet) lpInsert(member string, score float64) {
	if score == 0 {
		score = 0
	}
	i := sort.Search(len(z.lp), func(i int) bool {
		e := &z.lp[i]
		return !zless(e.score, e.member, score, member)
	})
	z.lp = append(z.lp, zlpEntry{})
	copy(z.lp[i+1:], z.lp[i:])
	z.lp[i] = zlpEntry{member: member, score: score}
}

// lpDeleteRange removes listpack elements [lo, hi).
func (z *ZSet) lpDeleteRange(lo, hi int) {
	n := copy(z.lp[lo:], z.lp[hi:])
	tail := z.lp[lo+n:]
	for i := range tail {
		tail[i] = zlpEntry{} // drop member references
	}
	z.lp = z.lp[:lo+n]
}

// DeleteRankRange removes the elements of 0-based ranks [lo, hi) and
// returns how many were removed.
func (z *ZSet) DeleteRankRange(lo, hi int) int {
	if lo < 0 {
		lo = 0
	}
	if hi > z.Len() {
		hi = z.Len()
	}
	if lo >= hi {
		return 0
	}
	if z.zsl == nil {
		z.lpDeleteRange(lo, hi)
		return hi - lo
	}
	return z.zsl.deleteRankRange(lo+1, hi, &z.dict)
}

// zScoreRange is a score interval (Redis's zrangespec).
type zScoreRange struct {
	min, max     float64
	minex, maxex bool
}

func (r *zScoreRange) gteMin(v float64) bool {
	if r.minex {
		return v > r.min
	}
	return v >= r.min
}

func (r *zScoreRange) lteMax(v float64) bool {
	if r.maxex {
		return v < r.max
	}
	return v <= r.max
}

func (r *zScoreRange) empty() bool {
	return r.min > r.max || (r.min == r.max && (r.minex || r.maxex))
}

// zLexBound is one end of a lex range: kind -1 is "-", +1 is "+", 0 a
// string (s) that is exclusive when ex.
type zLexBound struct {
	s    string
	kind int
}

// zLexRange is a lex interval (Redis's zlexrangespec).
type zLexRange struct {
	min, max     zLexBound
	minex, maxex bool
}

// cmpLex compares a member with a bound, like Redis's sdscmplex.
func cmpLex(v string, b *zLexBound) int {
	switch b.kind {
	case -1:
		return 1
	case 1:
		return -1
	}
	switch {
	case v < b.s:
		return -1
	case v > b.s:
		return 1
	}
	return 0
}

func (r *zLexRange) gteMin(v string) bool {
	c := cmpLex(v, &r.min)
	if r.minex {
		return c > 0
	}
	return c >= 0
}

func (r *zLexRange) lteMax(v string) bool {
	c := cmpLex(v, &r.max)
	if r.maxex {
		return c < 0
	}
	return c <= 0
}

func (r *zLexRange) empty() bool {
	var c int
	switch {
	case r.min.kind == r.max.kind && r.min.kind != 0:
		c = 0
	case r.min.kind == -1 || r.max.kind == 1:
		c = -1
	case r.min.kind == 1 || r.max.kind == -1:
		c = 1
	case r.min.s < r.max.s:
		c = -1
	case r.min.s > r.max.s:
		c = 1
	}
	return c > 0 || (c == 0 && (r.minex || r.maxex))
}

// scoreRangeRanks returns the 0-based rank interval [lo, hi) of the
// elements whose score lies in r.
func (z *ZSet) scoreRangeRanks(r *zScoreRange) (lo, hi int) {
	if r.empty() || z.Len() == 0 {
		return 0, 0
	}
	if z.zsl != nil {
		lo = z.zsl.countWhile(func(x *zslNode) bool { return !r.gteMin(x.score) })
		hi = z.zsl.countWhile(func(x *zslNode) bool { return r.lteMax(x.score) })
	} else {
		lo = sort.Search(len(z.lp), func(i int) bool { return r.gteMin(z.lp[i].score) })
		hi = sort.Search(len(z.lp), func(i int) bool { return !r.lteMax(z.lp[i].score) })
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// lexRangeRanks returns the 0-based rank interval [lo, hi) of the elements
// whose member lies in r. Lex ranges are meant for sets whose scores are
// all equal; for other sets the answer follows Redis's own algorithm: on a
// listpack exactly (first element >= min scanning from the head, then
// elements while <= max; with rev, last element <= max scanning from the
// tail, then back while >= min), on a skiplist by descending its levels
// (Redis's answer there depends on its random levels as well).
func (z *ZSet) lexRangeRanks(r *zLexRange, rev bool) (lo, hi int) {
	n := z.Len()
	if r.empty() || n == 0 {
		return 0, 0
	}
	if z.zsl != nil {
		lo = z.zsl.countWhile(func(x *zslNode) bool { return !r.gteMin(x.member) })
		hi = z.zsl.countWhile(func(x *zslNode) bool { return r.lteMax(x.member) })
		if hi < lo {
			hi = lo
		}
		return lo, hi
	}
	lp := z.lp
	if !r.gteMin(lp[n-1].member) || !r.lteMax(lp[0].member) {
		return 0, 0
	}
	if rev {
		last := n - 1
		for last >= 0 && !r.lteMax(lp[last].member) {
			last--
		}
		if last < 0 || !r.gteMin(lp[last].member) {
			return 0, 0
		}
		lo = last
		for lo > 0 && r.gteMin(lp[lo-1].member) {
			lo--
		}
		return lo, last + 1
	}
	for lo < n && !r.gteMin(lp[lo].member) {
		lo++
	}
	hi = lo
	for hi < n && r.lteMax(lp[hi].member) {
		hi++
	}
	return lo, hi
}

// randomElement returns a uniformly random element (the set must not be
// empty).
func (z *ZSet) randomElement() (string, float64) {
	return z.At(rand.IntN(z.Len()))
}

// ---------------------------------------------------------------------------
// Skiplist with spans (a Go rendering of Redis's zskiplist).

const (
	zslMaxLevel = 32
	zslP        = 0.25
)

type zslLevel struct {
	forward *zslNode
	span    int
}

type zslNode struct {
	member   string
	score    float64
	backward *zslNode
	hnext    *zslNode // zdict chain
	hash     uint64   // zdict hash of member
	level    []zslLevel
}

type zskiplist struct {
	header *zslNode
	tail   *zslNode
	length int
	level  int
}

func newZskiplist() *zskiplist {
	return &zskiplist{header: &zslNode{level: make([]zslLevel, zslMaxLevel)}, level: 1}
}

// Nodes with few levels carry them inline so a node costs one allocation.
type zslNode1 struct {
	n zslNode
	l [1]zslLevel
}
type zslNode2 struct {
	n zslNode
	l [2]zslLevel
}
type zslNode3 struct {
	n zslNode
	l [3]zslLevel
}
type zslNode4 struct {
	n zslNode
	l [4]zslLevel
}

func newZslNode(level int, score float64, member string) *zslNode {
	var n *zslNode
	switch level {
	case 1:
		x := &zslNode1{}
		n = &x.n
		n.level = x.l[:]
	case 2:
		x := &zslNode2{}
		n = &x.n
		n.level = x.l[:]
	case 3:
		x := &zslNode3{}
		n = &x.n
		n.level = x.l[:]
	case 4:
		x := &zslNode4{}
		n = &x.n
		n.level = x.l[:]
	default:
		n = &zslNode{level: make([]zslLevel, level)}
	}
	n.score, n.member = score, member
	return n
}

// zslRandomLevel returns a level in [1, zslMaxLevel] with P(level > k) =
// 0.25^k, like Redis's zslRandomLevel.
func zslRandomLevel() int {
	// Two random bits per level: a level continues with probability 1/4.
	// 64 random bits hold the 31 two-bit draws the deepest level needs.
	r := rand.Uint64()
	level := 1
	for level < zslMaxLevel && r&3 == 0 {
		level++
		r >>= 2
	}
	return level
}

// insert adds a node for (score, member), which must not be present.
func (zsl *zskiplist) insert(score float64, member string) *zslNode {
	var update [zslMaxLevel]*zslNode
	var rank [zslMaxLevel]int
	x := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		if i != zsl.level-1 {
			rank[i] = rank[i+1]
		}
		for f := x.level[i].forward; f != nil && zless(f.score, f.member, score, member); f = x.level[i].forward {
			rank[i] += x.level[i].span
			x = f
		}
		update[i] = x
	}
	level := zslRandomLevel()
	if level > zsl.level {
		for i := zsl.level; i < level; i++ {
			rank[i] = 0
			update[i] = zsl.header
			update[i].level[i].span = zsl.length
		}
		zsl.level = level
	}
	x = newZslNode(level, score, member)
	for i := 0; i < level; i++ {
		x.level[i].forward = update[i].level[i].forward
		update[i].level[i].forward = x
		x.level[i].span = update[i].level[i].span - (rank[0] - rank[i])
		update[i].level[i].span = rank[0] - rank[i] + 1
	}
	for i := level; i < zsl.level; i++ {
		update[i].level[i].span++
	}
	if update[0] != zsl.header {
		x.backward = update[0]
	}
	if x.level[0].forward != nil {
		x.level[0].forward.backward = x
	} else {
		zsl.tail = x
	}
	zsl.length++
	return x
}

// appendTail adds a node greater than every present node (bulk loading of
// sorted input) in O(log n) without comparisons.
func (zsl *zskiplist) appendTail(score float64, member string) *zslNode {
	var update [zslMaxLevel]*zslNode
	var rank [zslMaxLevel]int
	x := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		if i != zsl.level-1 {
			rank[i] = rank[i+1]
		}
		for x.level[i].forward != nil {
			rank[i] += x.level[i].span
			x = x.level[i].forward
		}
		update[i] = x
	}
	level := zslRandomLevel()
	if level > zsl.level {
		for i := zsl.level; i < level; i++ {
			rank[i] = 0
			update[i] = zsl.header
			update[i].level[i].span = zsl.length
		}
		zsl.level = level
	}
	x = newZslNode(level, score, member)
	for i := 0; i < level; i++ {
		update[i].level[i].forward = x
		x.level[i].span = 0
		update[i].level[i].span = rank[0] - rank[i] + 1
	}
	for i := level; i < zsl.level; i++ {
		update[i].level[i].span++
	}
	if update[0] != zsl.header {
		x.backward = update[0]
	}
	zsl.tail = x
	zsl.length++
	return x
}

// deleteNode unlinks x given its predecessors on every level.
func (zsl *zskiplist) deleteNode(x *zslNode, update *[zslMaxLevel]*zslNode) {
	for i := 0; i < zsl.level; i++ {
		if update[i].level[i].forward == x {
			update[i].level[i].span += x.level[i].span - 1
			update[i].level[i].forward = x.level[i].forward
		} else {
			update[i].level[i].span--
		}
	}
	if x.level[0].forward != nil {
		x.level[0].forward.backward = x.backward
	} else {
		zsl.tail = x.backward
	}
	for zsl.level > 1 && zsl.header.level[zsl.level-1].forward == nil {
		zsl.level--
	}
	zsl.length--
}

// delete removes the node of (score, member); reports whether it existed.
func (zsl *zskiplist) delete(score float64, member string) bool {
	var update [zslMaxLevel]*zslNode
	x := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && zless(f.score, f.member, score, member); f = x.level[i].forward {
			x = f
		}
		update[i] = x
	}
	x = x.level[0].forward
	if x != nil && x.score == score && x.member == member {
		zsl.deleteNode(x, &update)
		return true
	}
	return false
}

// updateScore moves node x to newScore (Redis's zslUpdateScore): in place
// when the order is unchanged, otherwise by unlinking and re-linking the
// same node, so the dict's pointer to it stays valid.
func (zsl *zskiplist) updateScore(x *zslNode, newScore float64) {
	var update [zslMaxLevel]*zslNode
	n := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		for f := n.level[i].forward; f != nil && zless(f.score, f.member, x.score, x.member); f = n.level[i].forward {
			n = f
		}
		update[i] = n
	}
	// n.level[0].forward == x
	if (x.backward == nil || x.backward.score < newScore) &&
		(x.level[0].forward == nil || x.level[0].forward.score > newScore) {
		x.score = newScore
		return
	}
	zsl.deleteNode(x, &update)
	// Re-insert reusing x so the dict's pointer stays valid.
	zsl.reinsert(x, newScore)
}

// reinsert links an unlinked node x back with a new score, keeping its
// level count.
func (zsl *zskiplist) reinsert(x *zslNode, score float64) {
	var update [zslMaxLevel]*zslNode
	var rank [zslMaxLevel]int
	member := x.member
	n := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		if i != zsl.level-1 {
			rank[i] = rank[i+1]
		}
		for f := n.level[i].forward; f != nil && zless(f.score, f.member, score, member); f = n.level[i].forward {
			rank[i] += n.level[i].span
			n = f
		}
		update[i] = n
	}
	level := len(x.level)
	if level > zsl.level {
		for i := zsl.level; i < level; i++ {
			rank[i] = 0
			update[i] = zsl.header
			update[i].level[i].span = zsl.length
		}
		zsl.level = level
	}
	x.score = score
	x.backward = nil
	for i := 0; i < level; i++ {
		x.level[i].forward = update[i].level[i].forward
		update[i].level[i].forward = x
		x.level[i].span = update[i].level[i].span - (rank[0] - rank[i])
		update[i].level[i].span = rank[0] - rank[i] + 1
	}
	for i := level; i < zsl.level; i++ {
		update[i].level[i].span++
	}
	if update[0] != zsl.header {
		x.backward = update[0]
	}
	if x.level[0].forward != nil {
		x.level[0].forward.backward = x
	} else {
		zsl.tail = x
	}
	zsl.length++
}

// rank returns the 1-based rank of (score, member), or 0 when absent.
func (zsl *zskiplist) rank(score float64, member string) int {
	r := 0
	x := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && (f.score < score || (f.score == score && f.member <= member)); f = x.level[i].forward {
			r += x.level[i].span
			x = f
		}
		if x != zsl.header && x.member == member {
			return r
		}
	}
	return 0
}

// byRank returns the node of 1-based rank r, or nil.
func (zsl *zskiplist) byRank(r int) *zslNode {
	traversed := 0
	x := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span <= r {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		if traversed == r {
			if x == zsl.header {
				return nil
			}
			return x
		}
	}
	return nil
}

// countWhile returns the number of leading nodes for which pred holds;
// pred must be monotone (true then false along the list).
func (zsl *zskiplist) countWhile(pred func(*zslNode) bool) int {
	r := 0
	x := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && pred(f); f = x.level[i].forward {
			r += x.level[i].span
			x = f
		}
	}
	return r
}

// deleteRankRange removes nodes of 1-based ranks [start, end] and their
// dict entries; returns the number removed.
func (zsl *zskiplist) deleteRankRange(start, end int, d *zdict) int {
	var update [zslMaxLevel]*zslNode
	traversed, removed := 0, 0
	x := zsl.header
	for i := zsl.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span < start {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		update[i] = x
	}
	traversed++
	x = x.level[0].forward
	for x != nil && traversed <= end {
		next := x.level[0].forward
		zsl.deleteNode(x, &update)
		d.remove(x.member)
		x.backward = nil
		removed++
		traversed++
		x = next
	}
	return removed
}

// ---------------------------------------------------------------------------
// zdict: a chained hash table of skiplist nodes keyed by member. It exists
// (instead of a Go map) so ZSCAN can use Redis's reverse-binary cursor,
// which guarantees that elements present for a whole scan are returned
// even if the table grows or shrinks between calls.

var zHashSeed = maphash.MakeSeed()

type zdict struct {
	buckets []*zslNode
	count   int
}

func zhash(s string) uint64 { return maphash.String(zHashSeed, s) }

func (d *zdict) init(n int) {
	size := 4
	for size < n {
		size <<= 1
	}
	d.buckets = make([]*zslNode, size)
	d.count = 0
}

func (d *zdict) find(member string) *zslNode {
	if d.count == 0 {
		return nil
	}
	h := zhash(member)
	for n := d.buckets[h&uint64(len(d.buckets)-1)]; n != nil; n = n.hnext {
		if n.hash == h && n.member == member {
			return n
		}
	}
	return nil
}

// add links node n (whose member must be absent).
func (d *zdict) add(n *zslNode) {
	if d.buckets == nil {
		d.init(4)
	}
	if d.count >= len(d.buckets) {
		d.resize(len(d.buckets) * 2)
	}
	n.hash = zhash(n.member)
	i := n.hash & uint64(len(d.buckets)-1)
	n.hnext = d.buckets[i]
	d.buckets[i] = n
	d.count++
}

// remove unlinks and returns member's node, or nil.
func (d *zdict) remove(member string) *zslNode {
	if d.count == 0 {
		return nil
	}
	h := zhash(member)
	p := &d.buckets[h&uint64(len(d.buckets)-1)]
	for n := *p; n != nil; p, n = &n.hnext, n.hnext {
		if n.hash == h && n.member == member {
			*p = n.hnext
			n.hnext = nil
			d.count--
			if len(d.buckets) > 64 && d.count*8 < len(d.buckets) {
				d.resize(len(d.buckets) / 4)
			}
			return n
		}
	}
	return nil
}

func (d *zdict) resize(size int) {
	nb := make([]*zslNode, size)
	mask := uint64(size - 1)
	for _, n := range d.buckets {
		for n != nil {
			next := n.hnext
			i := n.hash & mask
			n.hnext = nb[i]
			nb[i] = n
			n = next
		}
	}
	d.buckets = nb
}

// scan visits the bucket designated by cursor and returns the next cursor
// (0 when the scan is complete), as Redis's dictScan on one table.
func (d *zdict) scan(cursor uint64, fn func(n *zslNode)) uint64 {
	if d.count == 0 {
		return 0
	}
	m := uint64(len(d.buckets) - 1)
	for n := d.buckets[cursor&m]; n != nil; n = n.hnext {
		fn(n)
	}
	cursor |= ^m
	cursor = bits.Reverse64(cursor)
	cursor++
	return bits.Reverse64(cursor)
}

// ---------------------------------------------------------------------------

// bstr views b as a string without copying, for lookups only (the string
// must not outlive b or be stored).
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// sbytes views s as bytes without copying; the bytes must not be modified.
func sbytes(s string) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
