package clusterbus

import (
	"fmt"
	"slices"
	"testing"

	"github.com/slotkv/slotkv/redirect"
)

func init() { verifySlotView = checkSlotView }

// checkSlotView recomputes from the slot arrays what setOwner & co. keep
// incrementally, and the published table, and fails loudly on any
// difference. Every locked section of every test in this package runs it.
func checkSlotView(s *state, t *redirect.Table) {
	counts := map[*node]int{}
	ranges := map[*node][]slotRange{}
	var marked slotBits
	cur, start := s.owner[0], 0
	for j := 1; j <= NumSlots; j++ { // one map update per run of equal owners
		if j < NumSlots && s.owner[j] == cur {
			continue
		}
		if cur != nil {
			counts[cur] += j - start
			ranges[cur] = append(ranges[cur], slotRange{uint16(start), uint16(j - 1)})
		}
		if j < NumSlots {
			cur, start = s.owner[j], j
		}
	}
	for j := 0; j < NumSlots; j++ {
		if s.migrating[j] != nil || s.importing[j] != nil {
			marked.set(j)
		}
	}
	seen := map[*node]bool{}
	for _, n := range s.nodes {
		seen[n] = true
		if n.nslots != counts[n] || !slices.Equal(n.ranges, ranges[n]) {
			panic(fmt.Sprintf("slot view of %s: nslots %d ranges %v, want %d %v", n.id, n.nslots, n.ranges, counts[n], ranges[n]))
		}
	}
	for n := range counts {
		if !seen[n] {
			panic(fmt.Sprintf("slot owned by %s, which is not in the node table", n.id))
		}
	}
	if marked != s.marked {
		panic("migration markers out of date")
	}
	if t == nil || s.tableDirty {
		return
	}
	idx := map[string]uint16{}
	for i, n := range t.Nodes {
		idx[n.ID] = uint16(i)
	}
	var last *node
	lastIdx := redirect.None
	look := func(n *node) uint16 {
		if n == nil {
			return redirect.None
		}
		if n != last {
			i, ok := idx[n.id]
			if !ok {
				i = redirect.None
			}
			last, lastIdx = n, i
		}
		return lastIdx
	}
	for j := 0; j < NumSlots; j++ {
		if t.Owner.Get(j) != look(s.owner[j]) || t.Migrating.Get(j) != look(s.migrating[j]) || t.Importing.Get(j) != look(s.importing[j]) {
			panic(fmt.Sprintf("routing table out of date at slot %d", j))
		}
	}
}

func TestRangesAddRemove(t *testing.T) {
	var rs []slotRange
	in := make([]bool, 64)
	// A fixed pseudo-random walk over 64 slots, checked against a bitmap.
	x := uint32(12345)
	for step := 0; step < 5000; step++ {
		x = x*1664525 + 1013904223
		j := int(x>>16) % 64
		if in[j] {
			rs = rangesRemove(rs, uint16(j))
		} else {
			rs = rangesAdd(rs, uint16(j))
		}
		in[j] = !in[j]
		var want []slotRange
		for k := 0; k < 64; k++ {
			if !in[k] {
				continue
			}
			if n := len(want); n > 0 && int(want[n-1].end)+1 == k {
				want[n-1].end++
			} else {
				want = append(want, slotRange{uint16(k), uint16(k)})
			}
		}
		if !slices.Equal(rs, want) {
			t.Fatalf("step %d (slot %d): ranges %v, want %v", step, j, rs, want)
		}
	}
	if rangesRemove(nil, 5) != nil {
		t.Fatal("removing from nothing")
	}
}
