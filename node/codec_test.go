package node

import (
	"bytes"
	"encoding/binary"
	"math/rand"
	"testing"
)

func TestRedisCRC64(t *testing.T) {
	// Check value from Redis's crc64.c.
	if got := RedisCRC64(0, []byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64(123456789) = %#x", got)
	}
	// A payload produced by redis-server 7.0 (DUMP of "bar"): the checksum
	// footer must match ours.
	p := []byte("\x00\x03bar\n\x00\xe6\xbeI`\xeef\xfd\x17")
	if got := RedisCRC64(0, p[:len(p)-8]); got != binary.LittleEndian.Uint64(p[len(p)-8:]) {
		t.Fatalf("redis dump crc mismatch: %#x", got)
	}
	// Incremental use.
	a := RedisCRC64(0, []byte("1234"))
	if got := RedisCRC64(a, []byte("56789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("incremental crc = %#x", got)
	}
}

func TestDumpStringRoundTrip(t *testing.T) {
	for _, v := range [][]byte{nil, []byte(""), []byte("bar"), bytes.Repeat([]byte{0, 1, 0xff}, 1000)} {
		p, err := AppendDumpPayload(nil, &Entry{Str: v, Exp: 12345})
		if err != nil {
			t.Fatal(err)
		}
		e, err := DecodeDumpPayload(p)
		if err != nil {
			t.Fatalf("decode %q: %v", v, err)
		}
		if e.Obj != nil || !bytes.Equal(e.Str, v) || e.Exp != 0 {
			t.Fatalf("round trip %q -> %+v", v, e)
		}
		// The decoded value must not alias the payload.
		if len(v) > 0 {
			for i := range p {
				p[i] = 0
			}
			if !bytes.Equal(e.Str, v) {
				t.Fatal("decoded value aliases the payload")
			}
		}
	}
}

func TestDumpPayloadErrors(t *testing.T) {
	good, _ := AppendDumpPayload(nil, &Entry{Str: []byte("hello")})
	redis := []byte("\x00\x03bar\n\x00\xe6\xbeI`\xeef\xfd\x17")
	cases := []struct {
		name string
		p    []byte
		want error
	}{
		{"empty", nil, ErrDumpPayload},
		{"short", good[:9], ErrDumpPayload},
		{"truncated", good[1:], ErrDumpPayload},
		{"redis payload", redis, ErrDumpPayload},
		{"bad crc", flip(good, len(good)-1), ErrDumpPayload},
		{"bad body", flip(good, 3), ErrDumpPayload},
		{"future version", reframe(good[:len(good)-10], DumpVersion+1), ErrDumpPayload},
		{"bad tag", reframe([]byte{0x00, 3, 'b', 'a', 'r'}, DumpVersion), ErrBadFormat},
		{"trailing bytes", reframe(append(append([]byte(nil), good[:len(good)-10]...), 'x'), DumpVersion), ErrBadFormat},
		{"short string", reframe([]byte{tagString, 9, 'a'}, DumpVersion), ErrBadFormat},
		{"huge length", reframe([]byte{tagString, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, DumpVersion), ErrBadFormat},
		{"bad varint", reframe([]byte{tagString, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, DumpVersion), ErrBadFormat},
	}
	for _, c := range cases {
		if _, err := DecodeDumpPayload(c.p); err != c.want {
			t.Errorf("%s: got %v want %v", c.name, err, c.want)
		}
	}
}

func flip(p []byte, i int) []byte {
	q := append([]byte(nil), p...)
	q[i] ^= 0x40
	return q
}

// reframe builds a payload with a valid checksum around an arbitrary body.
func reframe(body []byte, ver uint16) []byte {
	p := append([]byte(nil), body...)
	p = binary.LittleEndian.AppendUint16(p, ver)
	return binary.LittleEndian.AppendUint64(p, RedisCRC64(0, p))
}

// Random corruption must never panic and never yield a value silently
// different from the original (the checksum catches it).
func TestDumpPayloadRandomCorruption(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, e := range sampleEntries() {
		good, err := AppendDumpPayload(nil, e)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 100; i++ {
			p := append([]byte(nil), good...)
			switch rng.Intn(3) {
			case 0:
				p[rng.Intn(len(p))] ^= byte(1 + rng.Intn(255))
			case 1:
				p = p[:rng.Intn(len(p))]
			case 2:
				j := rng.Intn(len(p))
				p = append(p[:j], append([]byte{byte(rng.Intn(256))}, p[j:]...)...)
			}
			if _, err := DecodeDumpPayload(p); err == nil {
				t.Fatalf("corrupted payload accepted: %x", p)
			}
			// Without the checksum the value decoder must still be safe.
			DecodeValue(p)
		}
	}
}

func FuzzDecodeValue(f *testing.F) {
	for _, e := range sampleEntries() {
		b, _ := AppendValue(nil, e)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeValue(b)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode and decode to the same thing.
		b2, err := AppendValue(nil, e)
		if err != nil {
			t.Fatal(err)
		}
		e2, err := DecodeValue(b2)
		if err != nil {
			t.Fatal(err)
		}
		if !entriesEqual(e, e2) {
			t.Fatal("re-encode mismatch")
		}
	})
}
