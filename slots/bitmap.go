package slots

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Bitmap is a set of slots, one bit per slot (2 KiB). The zero value is empty.
type Bitmap [N / 64]uint64

// Set adds slot s.
func (b *Bitmap) Set(s int) { b[s>>6] |= 1 << (uint(s) & 63) }

// Clear removes slot s.
func (b *Bitmap) Clear(s int) { b[s>>6] &^= 1 << (uint(s) & 63) }

// Has reports whether slot s is in the set.
func (b *Bitmap) Has(s int) bool { return b[s>>6]&(1<<(uint(s)&63)) != 0 }

// Count returns the number of slots in the set.
func (b *Bitmap) Count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// Range is an inclusive slot range.
type Range struct{ Start, End int }

func (r Range) String() string {
	if r.Start == r.End {
		return strconv.Itoa(r.Start)
	}
	return strconv.Itoa(r.Start) + "-" + strconv.Itoa(r.End)
}

// Ranges returns the set as ascending, maximal inclusive ranges.
func (b *Bitmap) Ranges() []Range {
	var out []Range
	start := -1
	for s := 0; s <= N; s++ {
		in := s < N && b.Has(s)
		if in && start < 0 {
			start = s
		} else if !in && start >= 0 {
			out = append(out, Range{start, s - 1})
			start = -1
		}
	}
	return out
}

// String formats the set as "0-5460 5462 ..." (empty string when empty).
func (b *Bitmap) String() string { return FormatRanges(b.Ranges()) }

// FormatRanges joins ranges with single spaces.
func FormatRanges(rs []Range) string {
	var sb strings.Builder
	for i, r := range rs {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(r.String())
	}
	return sb.String()
}

// ParseSlot parses one slot number and checks its range.
func ParseSlot(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n >= N || (len(s) > 1 && s[0] == '0') || s[0] == '+' {
		return 0, fmt.Errorf("invalid slot %q", s)
	}
	return n, nil
}

// ParseRanges parses space-separated slots and ranges ("0-5460 5461") into a
// Bitmap. Tokens in brackets (migration markers of nodes.conf) are rejected;
// callers strip them first.
func ParseRanges(s string) (Bitmap, error) {
	var b Bitmap
	for _, tok := range strings.Fields(s) {
		lo, hi, ok := strings.Cut(tok, "-")
		a, err := ParseSlot(lo)
		if err != nil {
			return b, err
		}
		z := a
		if ok {
			if z, err = ParseSlot(hi); err != nil {
				return b, err
			}
			if z < a {
				return b, fmt.Errorf("invalid slot range %q", tok)
			}
		}
		for i := a; i <= z; i++ {
			b.Set(i)
		}
	}
	return b, nil
}
