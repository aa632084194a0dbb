package node

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"
)

func TestSetModel(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	vals := func() string {
		switch r.IntN(8) {
		case 0:
			return fmt.Sprint(r.Int64() - math.MaxInt64/2) // wide ints
		case 1:
			return fmt.Sprint(r.IntN(1 << 20))
		case 2:
			if r.IntN(10) == 0 {
				return "m" + fmt.Sprint(r.IntN(50)) // a string converts
			}
		case 3:
			return "0" + fmt.Sprint(r.IntN(9)) // not canonical: not an integer
		}
		return fmt.Sprint(r.IntN(300) - 150)
	}
	for round := 0; round < 30; round++ {
		s := NewSet()
		m := map[string]bool{}
		for step := 0; step < 300; step++ {
			v := vals()
			switch r.IntN(3) {
			case 0, 1:
				if s.Add([]byte(v)) == m[v] {
					t.Fatalf("Add(%q) vs model %v", v, m[v])
				}
				m[v] = true
			case 2:
				if s.Remove([]byte(v)) != m[v] {
					t.Fatalf("Remove(%q) vs model %v", v, m[v])
				}
				delete(m, v)
			}
			if s.Len() != len(m) {
				t.Fatalf("Len %d want %d", s.Len(), len(m))
			}
			if s.Has([]byte(v)) != m[v] {
				t.Fatalf("Has(%q)", v)
			}
		}
		var got []string
		s.Each(func(b []byte) bool { got = append(got, string(b)); return true })
		if len(got) != len(m) {
			t.Fatalf("Each %d want %d", len(got), len(m))
		}
		if s.Encoding() == "intset" {
			if !sort.SliceIsSorted(got, func(i, j int) bool {
				a, _ := strconv.ParseInt(got[i], 10, 64)
				b, _ := strconv.ParseInt(got[j], 10, 64)
				return a < b
			}) {
				t.Fatalf("intset not ascending: %v", got)
			}
		}
		for _, g := range got {
			if !m[g] {
				t.Fatalf("Each returned %q not in model", g)
			}
		}
	}
}

func TestIntsetUpgradeAndLimit(t *testing.T) {
	s := NewSet()
	for _, v := range []string{"1", "-1", "40000", "-40000", "5000000000", "-5000000000", "9223372036854775807", "-9223372036854775808"} {
		if !s.Add([]byte(v)) {
			t.Fatalf("Add %s", v)
		}
	}
	if s.Encoding() != "intset" || s.b[0] != 8 {
		t.Fatalf("encoding %s width %d", s.Encoding(), s.b[0])
	}
	var got []string
	s.Each(func(b []byte) bool { got = append(got, string(b)); return true })
	want := "[-9223372036854775808 -5000000000 -40000 -1 1 40000 5000000000 9223372036854775807]"
	if fmt.Sprint(got) != want {
		t.Fatalf("got %v", got)
	}
	s2 := NewSet()
	for i := 0; i < SetMaxIntsetEntries; i++ {
		s2.Add([]byte(fmt.Sprint(i)))
	}
	if s2.Encoding() != "intset" || s2.b[0] != 2 || len(s2.b) != 1+2*SetMaxIntsetEntries {
		t.Fatalf("512 small ints: %s, %d bytes", s2.Encoding(), len(s2.b))
	}
	s2.Add([]byte("512"))
	if s2.Encoding() != "hashtable" || s2.Len() != 513 {
		t.Fatalf("513 ints: %s", s2.Encoding())
	}
}

func TestSetPackedSmallStrings(t *testing.T) {
	s := NewSet()
	s.Add([]byte("1"))
	s.Add([]byte("2"))
	s.Add([]byte("red"))
	if !s.packed() || s.Encoding() != "hashtable" || s.Len() != 3 {
		t.Fatalf("intset + string: packed=%v enc=%s len=%d", s.packed(), s.Encoding(), s.Len())
	}
	for _, m := range []string{"1", "2", "red"} {
		if !s.Has([]byte(m)) {
			t.Fatalf("lost %q", m)
		}
	}
	if s.Add([]byte("red")) || !s.Remove([]byte("1")) || s.Remove([]byte("1")) || s.Len() != 2 {
		t.Fatal("add/remove on packed set")
	}
	for i := 0; s.Len() < SetMaxListpackEntries; i++ {
		s.Add([]byte(fmt.Sprint("m", i)))
	}
	if !s.packed() {
		t.Fatal("converted before the limit")
	}
	s.Add([]byte("one-too-many"))
	if s.packed() || s.d == nil || s.Len() != SetMaxListpackEntries+1 {
		t.Fatalf("not converted past %d members", SetMaxListpackEntries)
	}
	long := NewSet()
	long.Add([]byte("x"))
	long.Add([]byte(fmt.Sprintf("%065d", 1)))
	if long.d == nil {
		t.Fatal("a 65-byte member must convert to a hashtable")
	}
	big := NewSet()
	for i := 0; i < 200; i++ {
		big.Add([]byte(fmt.Sprint(i)))
	}
	big.Add([]byte("str"))
	if big.d == nil || big.Len() != 201 {
		t.Fatal("an intset over the packed limit converts to a hashtable")
	}
}
