package node

import (
	"bytes"
	"fmt"
	"sort"
)

// sampleEntries returns one entry of every type the codec knows, with
// awkward contents (empty strings, binary, large).
func sampleEntries() []*Entry {
	out := []*Entry{
		{Str: []byte("")},
		{Str: []byte("hello")},
		{Str: []byte("12345")},
		{Str: bytes.Repeat([]byte("\x00\xffab"), 5000)},
	}
	out = append(out, sampleObjects()...)
	return out
}

// canonical renders a value encoding in an order-independent form, so two
// entries holding the same set/hash/zset compare equal whatever their
// iteration order.
func canonical(e *Entry) string {
	b, err := AppendValue(nil, e)
	if err != nil {
		return "ERR " + err.Error()
	}
	d := &decoder{b: b}
	tag := d.byte1()
	switch tag {
	case tagString:
		return fmt.Sprintf("string:%q", d.str())
	case tagList:
		n := d.count(1)
		var parts []string
		for i := 0; i < n; i++ {
			parts = append(parts, fmt.Sprintf("%q", d.str()))
		}
		return fmt.Sprintf("list:%v", parts)
	case tagSet:
		n := d.count(1)
		var parts []string
		for i := 0; i < n; i++ {
			parts = append(parts, fmt.Sprintf("%q", d.str()))
		}
		sort.Strings(parts)
		return fmt.Sprintf("set:%v", parts)
	case tagZSet:
		n := d.count(1)
		var parts []string
		for i := 0; i < n; i++ {
			m := d.str()
			parts = append(parts, fmt.Sprintf("%q=%v", m, d.f64()))
		}
		sort.Strings(parts)
		return fmt.Sprintf("zset:%v", parts)
	case tagHash:
		n := d.count(1)
		var parts []string
		for i := 0; i < n; i++ {
			f := d.str()
			parts = append(parts, fmt.Sprintf("%q=%q", f, d.str()))
		}
		sort.Strings(parts)
		return fmt.Sprintf("hash:%v", parts)
	}
	return fmt.Sprintf("tag %#x", tag)
}

func entriesEqual(a, b *Entry) bool {
	return canonical(a) == canonical(b) && (a.Obj == nil) == (b.Obj == nil) &&
		(a.Obj == nil || a.Obj.Type() == b.Obj.Type())
}
