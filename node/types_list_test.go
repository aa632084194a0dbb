package node

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func listContents(l *List) []string {
	var out []string
	l.Each(func(v []byte) bool { out = append(out, string(v)); return true })
	return out
}

func checkList(t *testing.T, step string, l *List, want []string) {
	t.Helper()
	got := listContents(l)
	if l.Len() != len(want) || len(got) != len(want) {
		t.Fatalf("%s: len %d/%d, want %d", step, l.Len(), len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: element %d = %q, want %q", step, i, got[i], want[i])
		}
	}
	total := 0
	for _, nd := range l.nodes {
		if nd.cnt <= 0 {
			t.Fatalf("%s: empty node kept", step)
		}
		if nd.cnt > 1 && nd.size() > listNodeMaxBytes {
			t.Fatalf("%s: node of %d entries has %d bytes", step, nd.cnt, nd.size())
		}
		total += int(nd.cnt)
	}
	if total != l.n {
		t.Fatalf("%s: node counts sum to %d, n=%d", step, total, l.n)
	}
	// Reverse walk and Index agree with the forward walk.
	var rev []string
	l.EachRevFrom(l.Len()-1, func(v []byte) bool { rev = append(rev, string(v)); return true })
	for i := range rev {
		if rev[i] != want[len(want)-1-i] {
			t.Fatalf("%s: reverse element %d = %q", step, i, rev[i])
		}
	}
	for i := range want {
		if v, ok := l.Index(i); !ok || string(v) != want[i] {
			t.Fatalf("%s: Index(%d) = %q,%v want %q", step, i, v, ok, want[i])
		}
	}
}

// TestListModel drives List with random operations against a slice model,
// with element sizes that cross node boundaries and varint widths.
func TestListModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	val := func() string {
		switch r.IntN(10) {
		case 0:
			return strings.Repeat("x", 100+r.IntN(300))
		case 1:
			return strings.Repeat("L", 8000+r.IntN(2000)) // about a node
		case 2:
			return ""
		}
		return fmt.Sprint(r.IntN(20))
	}
	for round := 0; round < 20; round++ {
		l := NewList()
		var m []string
		for step := 0; step < 400; step++ {
			op := r.IntN(12)
			name := fmt.Sprintf("round %d step %d op %d", round, step, op)
			switch op {
			case 0, 1:
				v := val()
				l.PushHead([]byte(v))
				m = append([]string{v}, m...)
			case 2, 3:
				v := val()
				l.PushTail([]byte(v))
				m = append(m, v)
			case 4:
				v := l.PopHead()
				if len(m) == 0 {
					if v != nil {
						t.Fatalf("%s: pop from empty list", name)
					}
					continue
				}
				if string(v) != m[0] {
					t.Fatalf("%s: PopHead %q want %q", name, v, m[0])
				}
				m = m[1:]
			case 5:
				v := l.PopTail()
				if len(m) == 0 {
					continue
				}
				if string(v) != m[len(m)-1] {
					t.Fatalf("%s: PopTail %q want %q", name, v, m[len(m)-1])
				}
				m = m[:len(m)-1]
			case 6:
				if len(m) == 0 {
					continue
				}
				i := r.IntN(len(m))
				v := val()
				l.Set(i, []byte(v))
				m[i] = v
			case 7:
				pivot := fmt.Sprint(r.IntN(20))
				v := val()
				after := r.IntN(2) == 0
				n := l.Insert([]byte(pivot), []byte(v), after)
				idx := -1
				for i, x := range m {
					if x == pivot {
						idx = i
						break
					}
				}
				if idx < 0 {
					if n != -1 {
						t.Fatalf("%s: insert without pivot returned %d", name, n)
					}
					continue
				}
				if after {
					idx++
				}
				m = append(m[:idx], append([]string{v}, m[idx:]...)...)
				if n != len(m) {
					t.Fatalf("%s: insert returned %d want %d", name, n, len(m))
				}
			case 8:
				v := fmt.Sprint(r.IntN(20))
				count := r.IntN(5) - 2
				got := l.Remove([]byte(v), count)
				want := 0
				var nm []string
				if count >= 0 {
					for _, x := range m {
						if x == v && (count == 0 || want < count) {
							want++
							continue
						}
						nm = append(nm, x)
					}
				} else {
					keep := make([]bool, len(m))
					for i := len(m) - 1; i >= 0; i-- {
						if m[i] == v && want < -count {
							want++
							continue
						}
						keep[i] = true
					}
					for i, x := range m {
						if keep[i] {
							nm = append(nm, x)
						}
					}
				}
				if got != want {
					t.Fatalf("%s: Remove(%q,%d)=%d want %d", name, v, count, got, want)
				}
				m = nm
			case 9:
				if len(m) == 0 || r.IntN(4) != 0 {
					continue
				}
				start := r.IntN(len(m))
				stop := start + r.IntN(len(m)-start)
				l.Trim(start, stop)
				m = append([]string(nil), m[start:stop+1]...)
			case 10:
				if len(m) == 0 {
					continue
				}
				i := r.IntN(len(m))
				var got []string
				l.EachFrom(i, func(v []byte) bool { got = append(got, string(v)); return len(got) < 3 })
				for j, g := range got {
					if g != m[i+j] {
						t.Fatalf("%s: EachFrom(%d)[%d]=%q want %q", name, i, j, g, m[i+j])
					}
				}
			case 11:
				d := l.Dup().(*List)
				checkList(t, name+" dup", d, m)
			}
			checkList(t, name, l, m)
		}
	}
}

func TestListEntryEncoding(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 128, 16381, 16382, 16383, 16384, 20000, 1 << 21} {
		v := bytes.Repeat([]byte{'a'}, n)
		b := appendEntry(nil, v)
		if len(b) != lpEntrySize(n) {
			t.Fatalf("len %d: size %d want %d", n, len(b), lpEntrySize(n))
		}
		got, next := entryAt(b, 0)
		if !bytes.Equal(got, v) || next != len(b) {
			t.Fatalf("len %d: decode mismatch", n)
		}
		if p := prevEntry(b, len(b)); p != 0 {
			t.Fatalf("len %d: prevEntry=%d", n, p)
		}
	}
}

func TestListTrimAndLargeQueue(t *testing.T) {
	l := NewList()
	for i := 0; i < 100000; i++ {
		l.PushTail([]byte(fmt.Sprint(i)))
	}
	if len(l.nodes) < 10 {
		t.Fatalf("expected many nodes, got %d", len(l.nodes))
	}
	for i := 0; i < 50000; i++ {
		if v := l.PopHead(); string(v) != fmt.Sprint(i) {
			t.Fatalf("pop %d = %q", i, v)
		}
	}
	if v, _ := l.Index(-1); string(v) != "99999" {
		t.Fatalf("tail %q", v)
	}
	l.Trim(10, 20)
	want := []string{}
	for i := 50010; i <= 50020; i++ {
		want = append(want, fmt.Sprint(i))
	}
	checkList(t, "trim", l, want)
}

func BenchmarkListPushPop(b *testing.B) {
	l := NewList()
	v := []byte("some-element-xx")
	for i := 0; i < b.N; i++ {
		l.PushHead(v)
		if l.Len() > 1000 {
			l.PopTail()
		}
	}
}
