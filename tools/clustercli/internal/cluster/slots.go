// Package cluster is clustercli's model of a Redis Cluster as seen through
// public commands: nodes and their own view of slots (CLUSTER NODES "myself"
// line), migration markers, replicas, and the low-level per-node operations
// (SETSLOT, ADDSLOTS, COUNTKEYSINSLOT, ...) that redis-cli's cluster manager
// performs. It speaks only public Redis commands through go-redis v9, so it
// works against Redis 7, Valkey and slotkv alike.
package cluster

import (
	"math/bits"
	"strconv"
	"strings"
)

// NumSlots is the number of hash slots in a Redis Cluster.
const NumSlots = 16384

// SlotSet is a bitmap of the 16384 hash slots.
type SlotSet [NumSlots / 64]uint64

// Has reports whether slot s is in the set.
func (s *SlotSet) Has(slot int) bool { return s[slot>>6]&(1<<(uint(slot)&63)) != 0 }

// Add puts slot in the set.
func (s *SlotSet) Add(slot int) { s[slot>>6] |= 1 << (uint(slot) & 63) }

// Del removes slot from the set.
func (s *SlotSet) Del(slot int) { s[slot>>6] &^= 1 << (uint(slot) & 63) }

// AddRange adds slots from..to inclusive.
func (s *SlotSet) AddRange(from, to int) {
	for i := from; i <= to; i++ {
		s.Add(i)
	}
}

// Count returns the number of slots in the set.
func (s *SlotSet) Count() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// Reset empties the set.
func (s *SlotSet) Reset() { *s = SlotSet{} }

// List returns the slots in ascending order.
func (s *SlotSet) List() []int {
	out := make([]int, 0, s.Count())
	for i, w := range s {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			out = append(out, i*64+b)
			w &^= 1 << uint(b)
		}
	}
	return out
}

// Range is an inclusive slot range.
type Range struct{ From, To int }

func (r Range) String() string {
	if r.From == r.To {
		return strconv.Itoa(r.From)
	}
	return strconv.Itoa(r.From) + "-" + strconv.Itoa(r.To)
}

// Ranges returns the set as ascending inclusive ranges.
func (s *SlotSet) Ranges() []Range {
	return RangesOf(s.List())
}

// RangesOf folds a sorted slot list into inclusive ranges.
func RangesOf(sorted []int) []Range {
	var out []Range
	for _, sl := range sorted {
		if n := len(out); n > 0 && out[n-1].To+1 == sl {
			out[n-1].To = sl
			continue
		}
		out = append(out, Range{sl, sl})
	}
	return out
}

// String formats the set like redis-cli's clusterManagerNodeSlotsString:
// "[0-5460],[5462]". An empty set is "".
func (s *SlotSet) String() string {
	var b strings.Builder
	for i, r := range s.Ranges() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('[')
		b.WriteString(r.String())
		b.WriteByte(']')
	}
	return b.String()
}

// FormatRanges formats slots compactly as "0-5460,5462" (no brackets).
func FormatRanges(sorted []int) string {
	rs := RangesOf(sorted)
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// ParseRanges parses "0-10,20,30-40" (also accepting spaces) into a sorted,
// de-duplicated slot list.
func ParseRanges(s string) ([]int, error) {
	var set SlotSet
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		a, b, isRange := strings.Cut(f, "-")
		from, err := parseSlot(a)
		if err != nil {
			return nil, err
		}
		to := from
		if isRange {
			if to, err = parseSlot(b); err != nil {
				return nil, err
			}
		}
		if to < from {
			return nil, &SlotError{Text: f}
		}
		set.AddRange(from, to)
	}
	return set.List(), nil
}

// SlotError reports a malformed slot or slot range.
type SlotError struct{ Text string }

func (e *SlotError) Error() string { return "invalid slot or slot range " + strconv.Quote(e.Text) }

func parseSlot(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n >= NumSlots {
		return 0, &SlotError{Text: s}
	}
	return n, nil
}
