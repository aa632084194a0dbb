package node

import (
	"bytes"
	"strconv"
	"testing"
)

// sampleObjects returns entries of every non-string type, in both of each
// type's encodings, with awkward contents.
func sampleObjects() []*Entry {
	var out []*Entry
	l := NewList()
	for _, v := range []string{"a", "", "\x00\xff", "3"} {
		l.PushTail([]byte(v))
	}
	out = append(out, &Entry{Obj: l})
	big := NewList()
	for i := 0; i < 3000; i++ {
		big.PushTail(bytes.Repeat([]byte{byte(i)}, i%70))
	}
	out = append(out, &Entry{Obj: big})

	is := NewSet()
	for _, v := range []string{"1", "-5", "9223372036854775807", "-9223372036854775808"} {
		is.Add([]byte(v))
	}
	hs := NewSet()
	for i := 0; i < 600; i++ {
		hs.Add([]byte("m" + strconv.Itoa(i)))
	}
	hs.Add([]byte(""))
	out = append(out, &Entry{Obj: is}, &Entry{Obj: hs})

	zs := NewZSet()
	zs.Add([]byte("a"), 1.5)
	zs.Add([]byte("b"), -1e300)
	zs.Add([]byte(""), 0)
	zs.Add([]byte("inf"), posInf())
	zb := NewZSet()
	for i := 0; i < 300; i++ {
		zb.Add([]byte("member:"+strconv.Itoa(i)), float64(i%17)/3)
	}
	out = append(out, &Entry{Obj: zs}, &Entry{Obj: zb})

	h := NewHash()
	h.Set([]byte("f1"), []byte("v1"))
	h.Set([]byte(""), []byte(""))
	h.Set([]byte("bin\x00"), []byte("\xff"))
	hb := NewHash()
	for i := 0; i < 200; i++ {
		hb.Set([]byte("field"+strconv.Itoa(i)), bytes.Repeat([]byte("v"), i))
	}
	out = append(out, &Entry{Obj: h}, &Entry{Obj: hb})
	return out
}

func posInf() float64 { f, _ := strconv.ParseFloat("+inf", 64); return f }

func TestDumpRoundTripAllTypes(t *testing.T) {
	for _, e := range sampleEntries() {
		p, err := AppendDumpPayload(nil, e)
		if err != nil {
			t.Fatalf("%s: %v", e.TypeName(), err)
		}
		got, err := DecodeDumpPayload(p)
		if err != nil {
			t.Fatalf("%s: decode: %v", e.TypeName(), err)
		}
		if !entriesEqual(e, got) {
			t.Fatalf("%s: round trip mismatch:\n%.300s\n%.300s", e.TypeName(), canonical(e), canonical(got))
		}
		if e.Obj != nil && e.Obj.Encoding() != got.Obj.Encoding() {
			t.Errorf("%s: encoding %s became %s", e.TypeName(), e.Obj.Encoding(), got.Obj.Encoding())
		}
	}
}

// A listpack hash keeps its field order through DUMP/RESTORE (HGETALL
// replies stay the same, as in Redis).
func TestDumpKeepsHashOrder(t *testing.T) {
	h := NewHash()
	for _, f := range []string{"z", "a", "m"} {
		h.Set([]byte(f), []byte("1"))
	}
	p, _ := AppendDumpPayload(nil, &Entry{Obj: h})
	e, err := DecodeDumpPayload(p)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	e.Obj.(*Hash).Each(func(f, v []byte) bool { order = append(order, string(f)); return true })
	if len(order) != 3 || order[0] != "z" || order[1] != "a" || order[2] != "m" {
		t.Fatalf("order %v", order)
	}
}

func TestDecodeRejectsBadCollections(t *testing.T) {
	cases := map[string][]byte{
		"empty list":     {tagList, 0},
		"empty set":      {tagSet, 0},
		"empty zset":     {tagZSet, 0},
		"empty hash":     {tagHash, 0},
		"dup set":        {tagSet, 2, 1, 'a', 1, 'a'},
		"dup hash field": {tagHash, 2, 1, 'f', 1, 'v', 1, 'f', 1, 'w'},
		"zset nan":       append([]byte{tagZSet, 1, 1, 'a'}, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f),
		"zset dup":       append(append([]byte{tagZSet, 2, 1, 'a'}, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f), append([]byte{1, 'a'}, 0, 0, 0, 0, 0, 0, 0, 0x40)...),
		"count too big":  {tagList, 100, 1, 'a'},
		"short member":   {tagSet, 1, 5, 'a'},
	}
	for name, b := range cases {
		if _, err := DecodeValue(b); err != ErrBadFormat {
			t.Errorf("%s: got %v", name, err)
		}
	}
	// Unsorted but valid zset input is accepted.
	b := append(append([]byte{tagZSet, 2, 1, 'b'}, 0, 0, 0, 0, 0, 0, 0, 0x40), append([]byte{1, 'a'}, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f)...)
	e, err := DecodeValue(b)
	if err != nil || e.Obj.(*ZSet).Len() != 2 {
		t.Fatalf("unsorted zset: %v", err)
	}
}
