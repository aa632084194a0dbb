package node

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
)

// zNaive is the reference model: a sorted slice of distinct members.
type zNaive struct{ es []zlpEntry }

func (n *zNaive) find(m string) int {
	for i, e := range n.es {
		if e.member == m {
			return i
		}
	}
	return -1
}

func (n *zNaive) set(m string, s float64) {
	if i := n.find(m); i >= 0 {
		n.es = append(n.es[:i], n.es[i+1:]...)
	}
	n.es = append(n.es, zlpEntry{m, s})
	sortZEntries(n.es)
}

func (n *zNaive) del(m string) bool {
	if i := n.find(m); i >= 0 {
		n.es = append(n.es[:i], n.es[i+1:]...)
		return true
	}
	return false
}

// zCheckInvariants verifies the skiplist's links, spans, backward pointers
// and the dict against the reference.
func zCheckInvariants(t *testing.T, z *ZSet, ref *zNaive) {
	t.Helper()
	if z.Len() != len(ref.es) {
		t.Fatalf("len %d, want %d", z.Len(), len(ref.es))
	}
	i := 0
	z.Each(func(m []byte, s float64) bool {
		if e := ref.es[i]; string(m) != e.member || s != e.score {
			t.Fatalf("rank %d: (%q,%v), want (%q,%v)", i, m, s, e.member, e.score)
		}
		i++
		return true
	})
	if i != len(ref.es) {
		t.Fatalf("Each visited %d of %d", i, len(ref.es))
	}
	if z.zsl == nil {
		return
	}
	zsl := z.zsl
	// Level 0 order and backward links.
	var prev *zslNode
	n := 0
	for x := zsl.header.level[0].forward; x != nil; x = x.level[0].forward {
		if x.backward != prev {
			t.Fatalf("node %d %q: bad backward pointer", n, x.member)
		}
		if x.level[0].span != 1 && x.level[0].forward != nil {
			t.Fatalf("node %d: level-0 span %d", n, x.level[0].span)
		}
		prev = x
		n++
	}
	if zsl.tail != prev {
		t.Fatalf("tail is not the last node")
	}
	// Spans on every level must add up to ranks.
	rankOf := map[*zslNode]int{}
	r := 0
	for x := zsl.header.level[0].forward; x != nil; x = x.level[0].forward {
		r++
		rankOf[x] = r
	}
	for lvl := 0; lvl < zsl.level; lvl++ {
		x, at := zsl.header, 0
		for x.level[lvl].forward != nil {
			f := x.level[lvl].forward
			if at+x.level[lvl].span != rankOf[f] {
				t.Fatalf("level %d: span from rank %d reaches %d, want %d", lvl, at, at+x.level[lvl].span, rankOf[f])
			}
			at = rankOf[f]
			x = f
		}
	}
	for lvl := zsl.level; lvl < zslMaxLevel; lvl++ {
		if zsl.header.level[lvl].forward != nil {
			t.Fatalf("header level %d above zsl.level is linked", lvl)
		}
	}
	if z.dict.count != n {
		t.Fatalf("dict count %d, want %d", z.dict.count, n)
	}
	for _, e := range ref.es {
		nd := z.dict.find(e.member)
		if nd == nil || nd.score != e.score || rankOf[nd] == 0 {
			t.Fatalf("dict entry for %q missing or stale", e.member)
		}
	}
}

// TestZSetRandomAgainstNaive drives both encodings with random operations
// and compares every read with a naive sorted slice.
func TestZSetRandomAgainstNaive(t *testing.T) {
	for _, enc := range []string{"listpack", "skiplist", "converting"} {
		t.Run(enc, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(enc))))
			z := NewZSet()
			if enc == "skiplist" {
				z.convertToSkiplist()
			}
			ref := &zNaive{}
			universe := 60
			if enc == "converting" {
				universe = 400
			}
			member := func() string { return "m" + strconv.Itoa(rng.IntN(universe)) }
			score := func() float64 {
				switch rng.IntN(10) {
				case 0:
					return math.Inf(1)
				case 1:
					return math.Inf(-1)
				case 2, 3:
					return 5 // many ties: order by member
				}
				return float64(rng.IntN(40)) / 4
			}
			for step := 0; step < 6000; step++ {
				switch op := rng.IntN(12); op {
				case 0, 1, 2, 3: // add/update with random flags
					m, s := member(), score()
					flags := []int{0, zaddInNX, zaddInXX, zaddInGT, zaddInLT, zaddInIncr, zaddInXX | zaddInGT}[rng.IntN(7)]
					cur, exists := 0.0, false
					if i := ref.find(m); i >= 0 {
						cur, exists = ref.es[i].score, true
					}
					out, ns := z.add([]byte(m), s, flags)
					want := s
					if exists && flags&zaddInIncr != 0 {
						want = cur + s
					}
					switch {
					case math.IsNaN(want):
						if out&zaddOutNaN == 0 {
							t.Fatalf("step %d: NaN not reported", step)
						}
					case exists && flags&zaddInNX != 0, !exists && flags&zaddInXX != 0,
						exists && flags&zaddInGT != 0 && want <= cur, exists && flags&zaddInLT != 0 && want >= cur:
						if out&zaddOutNop == 0 {
							t.Fatalf("step %d: op should be a no-op, out=%b", step, out)
						}
					default:
						if ns != want {
							t.Fatalf("step %d: new score %v, want %v", step, ns, want)
						}
						if !exists && out&zaddOutAdded == 0 || exists && (want != cur) != (out&zaddOutUpdated != 0) {
							t.Fatalf("step %d: out flags %b (exists=%v)", step, out, exists)
						}
						ref.set(m, want)
					}
				case 4, 5: // remove
					m := member()
					if z.Remove([]byte(m)) != ref.del(m) {
						t.Fatalf("step %d: Remove(%q) disagrees", step, m)
					}
				case 6: // rank and score
					m := member()
					rev := rng.IntN(2) == 0
					r, s, ok := z.Rank([]byte(m), rev)
					i := ref.find(m)
					if ok != (i >= 0) {
						t.Fatalf("step %d: Rank found=%v, want %v", step, ok, i >= 0)
					}
					if ok {
						want := i
						if rev {
							want = len(ref.es) - 1 - i
						}
						if r != want || s != ref.es[i].score {
							t.Fatalf("step %d: Rank(%q,%v)=%d,%v want %d,%v", step, m, rev, r, s, want, ref.es[i].score)
						}
					}
				case 7: // score range
					a, b := score(), score()
					rg := zScoreRange{min: a, max: b, minex: rng.IntN(2) == 0, maxex: rng.IntN(2) == 0}
					lo, hi := z.scoreRangeRanks(&rg)
					wlo, whi := -1, 0
					for i, e := range ref.es {
						if rg.gteMin(e.score) && rg.lteMax(e.score) {
							if wlo < 0 {
								wlo = i
							}
							whi = i + 1
						}
					}
					if wlo < 0 {
						if hi-lo != 0 {
							t.Fatalf("step %d: range %+v gives [%d,%d), want empty", step, rg, lo, hi)
						}
					} else if lo != wlo || hi != whi {
						t.Fatalf("step %d: range %+v gives [%d,%d), want [%d,%d)", step, rg, lo, hi, wlo, whi)
					}
				case 8: // delete a rank range
					if rng.IntN(4) != 0 || len(ref.es) == 0 {
						continue
					}
					lo := rng.IntN(len(ref.es))
					hi := lo + rng.IntN(4)
					if hi > len(ref.es) {
						hi = len(ref.es)
					}
					if got := z.DeleteRankRange(lo, hi); got != hi-lo {
						t.Fatalf("step %d: DeleteRankRange removed %d, want %d", step, got, hi-lo)
					}
					ref.es = append(ref.es[:lo], ref.es[hi:]...)
				case 9: // walk
					if len(ref.es) == 0 {
						continue
					}
					start := rng.IntN(len(ref.es))
					n := rng.IntN(len(ref.es)+2) + 1
					rev := rng.IntN(2) == 0
					var got []zlpEntry
					z.walk(start, n, rev, func(m string, s float64) bool { got = append(got, zlpEntry{m, s}); return true })
					var want []zlpEntry
					for k := start; k < start+n && k < len(ref.es); k++ {
						idx := k
						if rev {
							idx = len(ref.es) - 1 - k
						}
						want = append(want, ref.es[idx])
					}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("step %d: walk(%d,%d,%v) = %v, want %v", step, start, n, rev, got, want)
					}
				case 10: // At
					if len(ref.es) == 0 {
						continue
					}
					r := rng.IntN(len(ref.es))
					if m, s := z.At(r); m != ref.es[r].member || s != ref.es[r].score {
						t.Fatalf("step %d: At(%d)", step, r)
					}
				case 11: // lex range over the equal-score prefix is checked by the command tests
				}
				if step%100 == 0 {
					zCheckInvariants(t, z, ref)
				}
			}
			zCheckInvariants(t, z, ref)
			if enc == "listpack" && z.Encoding() != "listpack" {
				t.Fatalf("small set converted to %s", z.Encoding())
			}
			if enc == "converting" && z.Encoding() != "skiplist" {
				t.Fatalf("large set still %s", z.Encoding())
			}
			d := z.Dup().(*ZSet)
			zCheckInvariants(t, d, ref)
			if d.Encoding() != z.Encoding() {
				t.Fatalf("Dup changed encoding")
			}
		})
	}
}

// TestZSetLexRanges checks lex bounds on equal scores in both encodings.
func TestZSetLexRanges(t *testing.T) {
	words := []string{"", "a", "aa", "ab", "b", "ba", "c", "z", "zz"}
	for _, sk := range []bool{false, true} {
		z := NewZSet()
		if sk {
			z.convertToSkiplist()
		}
		for _, w := range words {
			z.Add([]byte(w), 0)
		}
		items := []string{"-", "+", "[", "(", "[a", "(a", "[aa", "(ab", "[b", "(c", "[zz", "(zz", "[zzz"}
		for _, mi := range items {
			for _, ma := range items {
				r, ok := zParseLexRange([]byte(mi), []byte(ma))
				if !ok {
					t.Fatalf("parse %q %q", mi, ma)
				}
				lo, hi := z.lexRangeRanks(&r, sk)
				var want []string
				if !r.empty() {
					for _, w := range words {
						if r.gteMin(w) && r.lteMax(w) {
							want = append(want, w)
						}
					}
				}
				var got []string
				z.walk(lo, hi-lo, false, func(m string, _ float64) bool { got = append(got, m); return true })
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("skiplist=%v %q %q: %q, want %q", sk, mi, ma, got, want)
				}
			}
		}
	}
	for _, bad := range []string{"", "a", "+a", "-a"} {
		if _, ok := zParseLexRange([]byte(bad), []byte("+")); ok {
			t.Errorf("%q accepted as lex bound", bad)
		}
	}
}

// TestZSetConversion checks Redis's listpack thresholds.
func TestZSetConversion(t *testing.T) {
	z := NewZSet()
	for i := 0; i < ZsetMaxListpackEntries; i++ {
		z.Add([]byte(strconv.Itoa(i)), float64(i))
	}
	if z.Encoding() != "listpack" {
		t.Fatalf("%d entries: %s", z.Len(), z.Encoding())
	}
	z.Add([]byte("x"), 1)
	if z.Encoding() != "skiplist" {
		t.Fatalf("%d entries: %s", z.Len(), z.Encoding())
	}
	z = NewZSet()
	z.Add(make([]byte, ZsetMaxListpackValue), 1)
	if z.Encoding() != "listpack" {
		t.Fatal("64-byte member converted")
	}
	z.Add(make([]byte, ZsetMaxListpackValue+1), 1)
	if z.Encoding() != "skiplist" {
		t.Fatal("65-byte member did not convert")
	}
	// XX on a missing long member does not convert (Redis checks inside !xx).
	z = NewZSet()
	z.Add([]byte("a"), 1)
	z.add(make([]byte, 100), 1, zaddInXX)
	if z.Encoding() != "listpack" {
		t.Fatal("XX no-op converted")
	}
	if e := zsetFromSorted([]zlpEntry{{"a", 1}, {"b", 2}}).Encoding(); e != "listpack" {
		t.Fatalf("small store result %s", e)
	}
	big := make([]zlpEntry, 129)
	for i := range big {
		big[i] = zlpEntry{fmt.Sprintf("%04d", i), 1}
	}
	if e := zsetFromSorted(big).Encoding(); e != "skiplist" {
		t.Fatalf("129-element store result %s", e)
	}
}

// TestZdictScanGuarantee: every member present for a whole scan is
// returned, even when the table grows and shrinks between calls.
func TestZdictScanGuarantee(t *testing.T) {
	z := NewZSet()
	z.convertToSkiplist()
	stable := map[string]bool{}
	for i := 0; i < 1000; i++ {
		k := "k" + strconv.Itoa(i)
		stable[k] = true
		z.Add([]byte(k), float64(i))
	}
	seen := map[string]bool{}
	var extra []string
	next := 0
	cursor := uint64(0)
	for calls := 0; ; calls++ {
		if calls > 100000 {
			t.Fatal("scan does not terminate")
		}
		cursor = z.dict.scan(cursor, func(n *zslNode) { seen[n.member] = true })
		if cursor == 0 {
			break
		}
		// Churn between scan calls: grow the table 8x, then shrink it back.
		switch calls % 400 {
		case 100:
			for j := 0; j < 7000; j++ {
				k := "x" + strconv.Itoa(next)
				next++
				extra = append(extra, k)
				z.Add([]byte(k), 0)
			}
		case 300:
			for _, k := range extra {
				z.Remove([]byte(k))
			}
			extra = extra[:0]
		}
	}
	for k := range stable {
		if !seen[k] {
			t.Fatalf("stable member %s missed by the scan", k)
		}
	}
}

func TestZParsers(t *testing.T) {
	score := map[string]bool{ // getDoubleFromObject
		"1": true, "-1.5": true, "+5": true, ".5": true, "5.": true, "inf": true, "-inf": true, "+inf": true,
		"Infinity": true, "0x10": true, "0x1p3": true, "1e-310": true, "1e10": true,
		"": false, " 1": false, "1 ": false, "nan": false, "-nan": false, "1e400": false, "1e-400": false,
		"abc": false, "1_0": false, "1e": false, ".": false, "-": false, "0x": false, "(1": false,
	}
	for in, ok := range score {
		if _, got := zParseScore([]byte(in)); got != ok {
			t.Errorf("zParseScore(%q) ok=%v, want %v", in, got, ok)
		}
	}
	if f, _ := zParseScore([]byte("0x10")); f != 16 {
		t.Errorf("0x10 = %v", f)
	}
	rng := map[string]float64{"": 0, " 1": 1, "1e400": math.Inf(1), "-1e400": math.Inf(-1), "1e-400": 0, "\t-2": -2}
	for in, want := range rng {
		if f, ok := zStrtod([]byte(in)); !ok || f != want {
			t.Errorf("zStrtod(%q) = %v,%v want %v", in, f, ok, want)
		}
	}
	for _, in := range []string{"nan", "1 ", "x", "("} {
		if _, ok := zStrtod([]byte(in)); ok {
			t.Errorf("zStrtod(%q) accepted", in)
		}
	}
	r, ok := zParseScoreRange([]byte("(1"), []byte("("))
	if !ok || !r.minex || !r.maxex || r.min != 1 || r.max != 0 {
		t.Errorf("score range: %+v %v", r, ok)
	}
	cur := map[string]uint64{"0": 0, "": 0, "+5": 5, "18446744073709551615": math.MaxUint64, "-1": math.MaxUint64}
	for in, want := range cur {
		if v, ok := zParseCursor([]byte(in)); !ok || v != want {
			t.Errorf("zParseCursor(%q) = %v,%v", in, v, ok)
		}
	}
	for _, in := range []string{" 1", "1 ", "x", "+", "18446744073709551616"} {
		if _, ok := zParseCursor([]byte(in)); ok {
			t.Errorf("zParseCursor(%q) accepted", in)
		}
	}
}

func TestZslRandomLevel(t *testing.T) {
	counts := make([]int, zslMaxLevel+1)
	const n = 200000
	for i := 0; i < n; i++ {
		counts[zslRandomLevel()]++
	}
	// P(level=1) = 3/4, P(level=2) = 3/16.
	if f := float64(counts[1]) / n; f < 0.74 || f > 0.76 {
		t.Errorf("P(level 1) = %v", f)
	}
	if f := float64(counts[2]) / n; f < 0.18 || f > 0.195 {
		t.Errorf("P(level 2) = %v", f)
	}
}

// zBig builds a skiplist set of n members with distinct scores.
func zBig(n int) *ZSet {
	es := make([]zlpEntry, n)
	for i := range es {
		es[i] = zlpEntry{member: "member:" + strconv.Itoa(i), score: float64(i)}
	}
	sort.Slice(es, func(i, j int) bool { return es[i].score < es[j].score })
	return zsetFromSorted(es)
}

// zCPUTimer reports process CPU time per op ("cpu-ns/op"), which stays
// meaningful when the machine is shared and wall time per op is not.
func zCPUTimer(b *testing.B) func() {
	cpu := func() int64 {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return ru.Utime.Nano() + ru.Stime.Nano()
	}
	start := cpu()
	return func() {
		b.ReportMetric(float64(cpu()-start)/float64(b.N), "cpu-ns/op")
	}
}

var (
	zBigOnce sync.Once
	zBigSet  *ZSet
)

// zBigShared builds the 1M-member benchmark set once per test binary;
// benchmarks that add members remove them again or tolerate extras.
func zBigShared() *ZSet {
	zBigOnce.Do(func() { zBigSet = zBig(1 << 20) })
	return zBigSet
}

// BenchmarkZSetAdd1M measures ZADD of new members into a set of 1M.
func BenchmarkZSetAdd1M(b *testing.B) {
	z := zBigShared()
	keys := make([][]byte, 4096)
	for i := range keys {
		keys[i] = []byte("new:" + strconv.Itoa(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	done := zCPUTimer(b)
	for i := 0; i < b.N; i++ {
		k := keys[i&4095]
		if i&4095 == 0 && i > 0 {
			b.StopTimer()
			for _, k := range keys {
				z.Remove(k)
			}
			b.StartTimer()
		}
		z.add(k, float64(i%1000000)+0.5, 0)
	}
	b.StopTimer()
	done()
	for _, k := range keys {
		z.Remove(k)
	}
}

// BenchmarkZSetRange1M measures a 10-element rank range deep in a 1M set.
func BenchmarkZSetRange1M(b *testing.B) {
	z := zBigShared()
	b.ReportAllocs()
	b.ResetTimer()
	done := zCPUTimer(b)
	sum := 0.0
	for i := 0; i < b.N; i++ {
		z.walk((i*7919)%(1<<20-10), 10, i&1 == 0, func(_ string, s float64) bool { sum += s; return true })
	}
	done()
	_ = sum
}
