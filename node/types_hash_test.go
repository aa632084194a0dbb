package node

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestHashModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 10; round++ {
		h := NewHash()
		m := map[string]string{}
		var order []string // insertion order while listpack
		for step := 0; step < 600; step++ {
			f := fmt.Sprint("f", r.IntN(200))
			switch r.IntN(4) {
			case 0, 1:
				v := fmt.Sprint(r.IntN(1000))
				if r.IntN(50) == 0 {
					v = strings.Repeat("v", 65) // crosses hash-max-listpack-value
				}
				_, had := m[f]
				if h.Set([]byte(f), []byte(v)) == had {
					t.Fatalf("Set(%q) new=%v, model had=%v", f, !had, had)
				}
				if !had {
					order = append(order, f)
				}
				m[f] = v
			case 2:
				_, had := m[f]
				if h.Delete([]byte(f)) != had {
					t.Fatalf("Delete(%q) != %v", f, had)
				}
				delete(m, f)
				for i, x := range order {
					if x == f {
						order = append(order[:i], order[i+1:]...)
						break
					}
				}
			case 3:
				v, ok := h.Get([]byte(f))
				if mv, had := m[f]; ok != had || string(v) != mv {
					t.Fatalf("Get(%q) = %q,%v want %q,%v", f, v, ok, mv, had)
				}
			}
			if h.Len() != len(m) {
				t.Fatalf("Len %d want %d", h.Len(), len(m))
			}
		}
		seen := 0
		i := 0
		listpack := h.Encoding() == "listpack"
		h.Each(func(f, v []byte) bool {
			if m[string(f)] != string(v) {
				t.Fatalf("Each %q=%q, model %q", f, v, m[string(f)])
			}
			if listpack && order[i] != string(f) {
				t.Fatalf("listpack order: %q at %d, want %q", f, i, order[i])
			}
			i++
			seen++
			return true
		})
		if seen != len(m) {
			t.Fatalf("Each saw %d of %d", seen, len(m))
		}
		d := h.Dup().(*Hash)
		if d.Encoding() != h.Encoding() || d.Len() != h.Len() {
			t.Fatalf("Dup changed encoding or size")
		}
	}
}

func TestHashEncodingThresholds(t *testing.T) {
	h := NewHash()
	for i := 0; i < HashMaxListpackEntries; i++ {
		h.Set([]byte(fmt.Sprint("f", i)), []byte("v"))
	}
	if h.Encoding() != "listpack" {
		t.Fatalf("%d fields: %s", HashMaxListpackEntries, h.Encoding())
	}
	h.Set([]byte("one-more"), []byte("v"))
	if h.Encoding() != "hashtable" {
		t.Fatalf("%d fields: %s", HashMaxListpackEntries+1, h.Encoding())
	}
	h2 := NewHash()
	h2.Set([]byte("f"), []byte(strings.Repeat("x", 64)))
	if h2.Encoding() != "listpack" {
		t.Fatalf("64-byte value: %s", h2.Encoding())
	}
	h2.Set([]byte("f"), []byte(strings.Repeat("x", 65)))
	if h2.Encoding() != "hashtable" {
		t.Fatalf("65-byte value: %s", h2.Encoding())
	}
	for i := 0; i < 600; i++ {
		h.Delete([]byte(fmt.Sprint("f", i)))
	}
	if h.Encoding() != "hashtable" || h.Len() != 1 {
		t.Fatalf("never converts back: %s %d", h.Encoding(), h.Len())
	}
}

// TestDictScanGuarantee: every element present during a whole scan is
// returned, even when the table grows and shrinks between calls.
func TestDictScanGuarantee(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for round := 0; round < 20; round++ {
		d := newStrDict(4)
		for i := 0; i < 1000; i++ {
			d.add([]byte(fmt.Sprint("stable", i)))
		}
		seen := map[string]bool{}
		cursor := uint64(0)
		churn := 0
		for iter := 0; ; iter++ {
			cursor = d.scanCount(cursor, 1+r.IntN(20), func(n *dictNode) { seen[n.key()] = true })
			// churn: grow a lot, then shrink again
			if iter%3 == 0 {
				for j := 0; j < 200; j++ {
					d.add([]byte(fmt.Sprint("tmp", churn)))
					churn++
				}
			} else {
				for j := churn - 200; j < churn; j++ {
					d.del([]byte(fmt.Sprint("tmp", j)))
				}
			}
			if cursor == 0 {
				break
			}
			if iter > 100000 {
				t.Fatal("scan does not terminate")
			}
		}
		for i := 0; i < 1000; i++ {
			if !seen[fmt.Sprint("stable", i)] {
				t.Fatalf("round %d: stable%d missed", round, i)
			}
		}
	}
}

func TestDictRandomCoversAll(t *testing.T) {
	d := newStrDict(4)
	for i := 0; i < 50; i++ {
		d.add([]byte(fmt.Sprint(i)))
	}
	seen := map[string]int{}
	for i := 0; i < 20000; i++ {
		seen[d.random().key()]++
	}
	if len(seen) != 50 {
		t.Fatalf("random hit %d of 50 keys", len(seen))
	}
	for k, n := range seen {
		if n < 150 { // expected 400
			t.Fatalf("key %s picked only %d times", k, n)
		}
	}
}
