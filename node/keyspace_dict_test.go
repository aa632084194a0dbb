package node

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestKeyDictRandom checks the slot dictionary against a Go map under a
// random mix of inserts, overwrites, deletes and lookups, with keys of every
// length class (including >= 255 bytes, stored out of line) and values
// short enough to be inlined or not.
func TestKeyDictRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s Slot
	ref := map[string]string{}
	keyOf := func(i int) []byte {
		n := i % 300
		if i%7 == 0 {
			n = i % 16
		}
		k := []byte(strings.Repeat("k", n) + ":" + strconv.Itoa(i))
		return k
	}
	valOf := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i%26)}, rng.IntN(260)) }
	check := func() {
		t.Helper()
		if s.Len() != len(ref) {
			t.Fatalf("Len %d, want %d", s.Len(), len(ref))
		}
		seen := 0
		for k, e := range s.keys.All() {
			if want, ok := ref[k]; !ok || string(e.Str) != want {
				t.Fatalf("iteration: key %q value %q, want %q (present %v)", k, e.Str, want, ok)
			}
			seen++
		}
		if seen != len(ref) {
			t.Fatalf("iteration saw %d keys, want %d", seen, len(ref))
		}
	}
	for round := 0; round < 20000; round++ {
		i := rng.IntN(3000)
		k := keyOf(i)
		switch op := rng.IntN(10); {
		case op < 5:
			v := valOf(i)
			if e := s.Lookup(k, 1); e != nil {
				e.Str = append([]byte(nil), v...)
			} else if rng.IntN(2) == 0 {
				s.setString(k, v, 0, 0)
			} else {
				s.Set(k, &Entry{Str: append([]byte(nil), v...)})
			}
			ref[string(k)] = string(v)
		case op < 8:
			_, had := ref[string(k)]
			if got := s.Delete(k, 1); got != had {
				t.Fatalf("Delete(%q) = %v, want %v", k, got, had)
			}
			delete(ref, string(k))
		default:
			e := s.Lookup(k, 1)
			want, ok := ref[string(k)]
			if (e != nil) != ok || (ok && string(e.Str) != want) {
				t.Fatalf("Lookup(%q) = %v, want %q %v", k, e, want, ok)
			}
			if e != nil && e.key() != string(k) {
				t.Fatalf("key() = %q, want %q", e.key(), k)
			}
		}
		if round%1000 == 0 {
			check()
		}
	}
	check()
	// Delete everything while iterating (as the expiry cycle does).
	for k := range s.keys.All() {
		if !s.Delete([]byte(k), 1) {
			t.Fatalf("Delete(%q) during iteration failed", k)
		}
		delete(ref, k)
	}
	for len(ref) > 0 { // entries skipped because the table shrank
		for k := range ref {
			s.Delete([]byte(k), 1)
			delete(ref, k)
		}
	}
	check()
	if len(s.keys.ents) != 0 {
		t.Fatalf("empty dict keeps %d buckets", len(s.keys.ents))
	}
}

// TestKeyDictTombstones keeps a slot at a constant size under insert/delete
// churn: tombstones must not fill the table (probe sequences end).
func TestKeyDictTombstones(t *testing.T) {
	var s Slot
	for i := 0; i < 100000; i++ {
		s.setString([]byte("key:"+strconv.Itoa(i)), []byte("v"), 0, 0)
		if i >= 50 {
			if !s.Delete([]byte("key:"+strconv.Itoa(i-50)), 1) {
				t.Fatalf("key %d missing", i-50)
			}
		}
	}
	if s.Len() != 50 || s.keys.used > len(s.keys.ents)*7/8 || len(s.keys.ents) > 256 {
		t.Fatalf("len %d used %d buckets %d", s.Len(), s.keys.used, len(s.keys.ents))
	}
	if s.Lookup([]byte("nokey"), 1) != nil {
		t.Fatal("found a missing key")
	}
}

// TestSetInlinesAndKeepsOld checks Set's contract: a new key gets a copy
// (short strings inlined), an existing key's entry is overwritten in place.
func TestSetInlinesAndKeepsOld(t *testing.T) {
	var s Slot
	buf := []byte("value")
	e := s.Set([]byte("k"), &Entry{Str: buf, Exp: 0})
	if string(e.Str) != "value" || &e.Str[0] == &buf[0] || cap(e.Str) != 5 {
		t.Fatalf("new key: Str %q (cap %d) shares the caller's buffer or is not inlined", e.Str, cap(e.Str))
	}
	e2 := s.Set([]byte("k"), &Entry{Str: []byte("other"), Exp: 99})
	if e2 != e || string(e.Str) != "other" || e.Exp != 99 || s.Volatile() != 1 {
		t.Fatalf("overwrite: %p %p %q %d vol %d", e2, e, e.Str, e.Exp, s.Volatile())
	}
	big := bytes.Repeat([]byte("x"), 1000)
	e3 := s.Set([]byte("big"), &Entry{Str: big})
	if &e3.Str[0] != &big[0] {
		t.Fatal("a long value was copied")
	}
	long := strings.Repeat("L", 300)
	e4 := s.Set([]byte(long), &Entry{Obj: newTestObj()})
	if e4.key() != long || s.Lookup([]byte(long), 1) != e4 || e4.Str != nil {
		t.Fatalf("long key: %q", e4.key())
	}
}

type testObj struct{}

func (testObj) Type() string     { return "test" }
func (testObj) Encoding() string { return "test" }

func newTestObj() Object { return testObj{} }

// BenchmarkKeyDict compares the slot dictionary with a Go map of the same
// population (61 keys, a 1M-key keyspace's average per slot).
func BenchmarkKeyDict(b *testing.B) {
	const n = 61
	keys := make([][]byte, n)
	var s Slot
	m := map[string]*Entry{}
	for i := range keys {
		keys[i] = []byte("key:" + strconv.Itoa(100000000000+i))
		m[string(keys[i])] = s.setString(keys[i], []byte("v"), 0, 0)
	}
	miss := []byte("key:999999999999")
	b.Run("dict/hit", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if s.keys.get(keys[i%n]) == nil {
				b.Fatal()
			}
		}
	})
	b.Run("dict/miss", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if s.keys.get(miss) != nil {
				b.Fatal()
			}
		}
	})
	b.Run("map/hit", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if m[string(keys[i%n])] == nil {
				b.Fatal()
			}
		}
	})
	b.Run("map/miss", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if m[string(miss)] != nil {
				b.Fatal()
			}
		}
	})
}
