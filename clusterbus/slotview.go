package clusterbus

import (
	"slices"
	"sort"

	"github.com/slotkv/slotkv/redirect"
)

// The slot view (state.owner, migrating, importing) is written only through
// setOwner, setMigrating and setImporting, which keep what is derived from
// it up to date as they go, so that a CLUSTER SETSLOT or a peer's record
// that moves one slot costs a few small updates instead of several passes
// over the 16384 slots:
//   - node.nslots and node.ranges: how many and which slots a node owns
//     (CLUSTER NODES, nodes.conf, our own record, cluster state);
//   - state.marked: the slots with a migration marker (myself's line);
//   - state.dirtySlots: the slots changed since the routing table was last
//     built, so buildTable patches a copy of the previous table.
// All of it is guarded by Bus.mu, like the rest of state.

// maxDirtySlots bounds the changed-slot list; beyond it buildTable does a
// full rebuild (bulk changes: ADDSLOTSRANGE, FLUSHSLOTS, FORGET...).
const maxDirtySlots = 1024

// setOwner makes n (nil: nobody) the owner of slot j.
func (s *state) setOwner(j int, n *node) {
	o := s.owner[j]
	if o == n {
		return
	}
	s.owner[j] = n
	if o != nil {
		o.nslots--
		o.ranges = rangesRemove(o.ranges, uint16(j))
	}
	if n != nil {
		n.nslots++
		n.ranges = rangesAdd(n.ranges, uint16(j))
	}
	s.slotChanged(j)
}

// setMigrating sets slot j's MIGRATING target (nil clears it).
func (s *state) setMigrating(j int, n *node) {
	if s.migrating[j] == n {
		return
	}
	s.migrating[j] = n
	s.markChanged(j)
}

// setImporting sets slot j's IMPORTING source (nil clears it).
func (s *state) setImporting(j int, n *node) {
	if s.importing[j] == n {
		return
	}
	s.importing[j] = n
	s.markChanged(j)
}

func (s *state) markChanged(j int) {
	if s.migrating[j] != nil || s.importing[j] != nil {
		s.marked.set(j)
	} else {
		s.marked.clear(j)
	}
	s.slotChanged(j)
}

func (s *state) slotChanged(j int) {
	s.tableDirty = true
	if s.dirtyAll {
		return
	}
	if len(s.dirtySlots) >= maxDirtySlots {
		s.dirtyAll = true
		s.dirtySlots = s.dirtySlots[:0]
		return
	}
	s.dirtySlots = append(s.dirtySlots, uint16(j))
}

// clearSlotsOf removes n from every slot: owner, migrating and importing
// (a node forgotten or reset).
func (s *state) clearSlotsOf(n *node) {
	for j := 0; j < NumSlots; j++ {
		if s.owner[j] == n {
			s.setOwner(j, nil)
		}
		if s.migrating[j] == n {
			s.setMigrating(j, nil)
		}
		if s.importing[j] == n {
			s.setImporting(j, nil)
		}
	}
}

// rangesAdd adds slot j, which rs (sorted, disjoint, not adjacent) does not
// hold, merging it with its neighbours.
func rangesAdd(rs []slotRange, j uint16) []slotRange {
	i := sort.Search(len(rs), func(k int) bool { return rs[k].end >= j })
	joinPrev := i > 0 && rs[i-1].end+1 == j
	joinNext := i < len(rs) && rs[i].start == j+1
	switch {
	case joinPrev && joinNext:
		rs[i-1].end = rs[i].end
		return slices.Delete(rs, i, i+1)
	case joinPrev:
		rs[i-1].end = j
	case joinNext:
		rs[i].start = j
	default:
		return slices.Insert(rs, i, slotRange{j, j})
	}
	return rs
}

// rangesRemove removes slot j from rs (a no-op when rs does not hold it).
func rangesRemove(rs []slotRange, j uint16) []slotRange {
	i := sort.Search(len(rs), func(k int) bool { return rs[k].end >= j })
	if i == len(rs) || rs[i].start > j {
		return rs
	}
	r := rs[i]
	switch {
	case r.start == j && r.end == j:
		return slices.Delete(rs, i, i+1)
	case r.start == j:
		rs[i].start++
	case r.end == j:
		rs[i].end--
	default:
		rs[i].end = j - 1
		return slices.Insert(rs, i+1, slotRange{j + 1, r.end})
	}
	return rs
}

// verifySlotView, when set (by this package's tests), checks the derived
// slot view and the published table against the slot arrays at the end of
// every locked section.
var verifySlotView func(s *state, t *redirect.Table)
