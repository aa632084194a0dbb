package node

// Value codec: one versioned binary encoding of a key's value, shared by
// DUMP/RESTORE payloads, snapshot files (and the AOF base) and replication
// full sync.
//
// Encoding (codec version 1). All integers are unsigned LEB128 varints
// ("uv") unless noted; a "str" is uv(len) followed by len bytes.
//
//	value  := tag body
//	string := 0x81 str
//	list   := 0x82 uv(n) n×str                 (head to tail)
//	set    := 0x83 uv(n) n×str
//	zset   := 0x84 uv(n) n×(str f64)           (f64: IEEE-754 bits, 8 bytes LE; ascending order)
//	hash   := 0x85 uv(n) n×(str str)           (field, value)
//
// The tags deliberately do not overlap Redis's RDB object types (0..21), so
// a Redis RDB value is never mistaken for ours.
//
// DUMP payload framing follows Redis: value ‖ version (2 bytes LE) ‖
// CRC-64/Jones over everything before it (8 bytes LE). The version's high
// byte is 0x53 ('S', slotkv) and its low byte the codec version, so the
// number (0x5301) is above every Redis RDB version: Redis rejects a slotkv
// payload with "DUMP payload version or checksum are wrong", and slotkv
// rejects Redis payloads the same way. Payloads only round-trip between
// slotkv nodes; Redis↔slotkv DUMP interoperability is out of scope.

import (
	"encoding/binary"
	"errors"
	"hash/crc64"
	"math"
)

// CodecVersion is the value encoding version written by this build.
const CodecVersion = 1

// DumpVersion is the 2-byte version in DUMP payload footers.
const DumpVersion uint16 = 0x5300 | CodecVersion

const (
	tagString byte = 0x81
	tagList   byte = 0x82
	tagSet    byte = 0x83
	tagZSet   byte = 0x84
	tagHash   byte = 0x85
)

// Errors returned by payload and value decoding (RESTORE's texts).
var (
	ErrDumpPayload = errors.New("ERR DUMP payload version or checksum are wrong")
	ErrBadFormat   = errors.New("ERR Bad data format")
)

// crc64Jones is Redis's CRC-64 (Jones polynomial, reflected, init 0, no
// final xor). Go's crc64 inverts the register on entry and exit, so
// RedisCRC64 undoes that.
var crc64Jones = crc64.MakeTable(0x95ac9329ac4bc9b5)

// RedisCRC64 continues Redis's crc64(crc, p).
func RedisCRC64(crc uint64, p []byte) uint64 {
	return crc64JonesUpdate(crc, p)
}

// ---------------------------------------------------------------------------
// Primitive encoders

func codecUv(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }

func codecStr(dst []byte, s []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func codecStrS(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func codecF64(dst []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
}

// decoder reads primitives from b, remembering the first error. Hostile
// input never makes it allocate more than the input's size.
type decoder struct {
	b     []byte
	off   int
	err   error
	alias bool // string values may alias b (capacity-limited)
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = ErrBadFormat
	}
}

func (d *decoder) left() int { return len(d.b) - d.off }

func (d *decoder) byte1() byte {
	if d.err != nil || d.off >= len(d.b) {
		d.fail()
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

func (d *decoder) uv() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail()
		return 0
	}
	d.off += n
	return v
}

// count reads an element count and checks it against the bytes left
// (each element takes at least minBytes).
func (d *decoder) count(minBytes int) int {
	n := d.uv()
	if d.err != nil {
		return 0
	}
	if n > uint64(d.left()/minBytes) {
		d.fail()
		return 0
	}
	return int(n)
}

// str returns the next string, aliasing the input (copy what you keep).
func (d *decoder) str() []byte {
	n := d.uv()
	if d.err != nil {
		return nil
	}
	if n > uint64(d.left()) {
		d.fail()
		return nil
	}
	s := d.b[d.off : d.off+int(n) : d.off+int(n)]
	d.off += int(n)
	return s
}

// strCopy returns a copy of the next string.
func (d *decoder) strCopy() []byte {
	s := d.str()
	if d.err != nil {
		return nil
	}
	return append(make([]byte, 0, len(s)), s...)
}

func (d *decoder) u64() uint64 {
	if d.err != nil || d.left() < 8 {
		d.fail()
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v
}

func (d *decoder) u16() uint16 {
	if d.err != nil || d.left() < 2 {
		d.fail()
		return 0
	}
	v := binary.LittleEndian.Uint16(d.b[d.off:])
	d.off += 2
	return v
}

func (d *decoder) f64() float64 {
	f := math.Float64frombits(d.u64())
	if math.IsNaN(f) {
		d.fail()
	}
	return f
}

// ---------------------------------------------------------------------------
// Object codecs: one per non-string type, keyed by Object.Type().

// objectCodec encodes and decodes one Object type's body (after the tag).
type objectCodec struct {
	tag    byte
	typ    string
	encode func(dst []byte, o Object) []byte
	decode func(d *decoder) (Object, error)
}

var (
	codecByType = map[string]*objectCodec{}
	codecByTag  [256]*objectCodec
)

func registerObjectCodec(oc *objectCodec) {
	codecByType[oc.typ] = oc
	codecByTag[oc.tag] = oc
}

// AppendValue appends e's value encoding (without key or TTL) to dst.
// Slot lock held (or e otherwise private).
func AppendValue(dst []byte, e *Entry) ([]byte, error) {
	if e.Obj == nil {
		dst = append(dst, tagString)
		return codecStr(dst, e.Str), nil
	}
	oc := codecByType[e.Obj.Type()]
	if oc == nil {
		return dst, errors.New("ERR cannot serialize a value of type " + e.Obj.Type())
	}
	dst = append(dst, oc.tag)
	return oc.encode(dst, e.Obj), nil
}

// decodeValue reads one value at d's position. Strings and elements are
// copied: the result never aliases the input.
func decodeValue(d *decoder) (*Entry, error) {
	tag := d.byte1()
	if d.err != nil {
		return nil, d.err
	}
	if tag == tagString {
		var s []byte
		if d.alias {
			s = d.str()
		} else {
			s = d.strCopy()
		}
		if d.err != nil {
			return nil, d.err
		}
		return &Entry{Str: s}, nil
	}
	oc := codecByTag[tag]
	if oc == nil {
		return nil, ErrBadFormat
	}
	o, err := oc.decode(d)
	if err == nil {
		err = d.err
	}
	if err != nil {
		return nil, ErrBadFormat
	}
	return &Entry{Obj: o}, nil
}

// DecodeValue decodes a complete value encoding (nothing may follow it).
func DecodeValue(b []byte) (*Entry, error) {
	d := &decoder{b: b}
	e, err := decodeValue(d)
	if err != nil {
		return nil, err
	}
	if d.left() != 0 {
		return nil, ErrBadFormat
	}
	return e, nil
}

// ---------------------------------------------------------------------------
// DUMP payloads

// AppendDumpPayload appends the DUMP payload of e to dst.
func AppendDumpPayload(dst []byte, e *Entry) ([]byte, error) {
	start := len(dst)
	dst, err := AppendValue(dst, e)
	if err != nil {
		return dst[:start], err
	}
	dst = binary.LittleEndian.AppendUint16(dst, DumpVersion)
	crc := RedisCRC64(0, dst[start:])
	return binary.LittleEndian.AppendUint64(dst, crc), nil
}

// VerifyDumpPayload checks the footer (version and checksum) of p.
func VerifyDumpPayload(p []byte) error {
	if len(p) < 10 {
		return ErrDumpPayload
	}
	footer := p[len(p)-10:]
	ver := binary.LittleEndian.Uint16(footer)
	if ver>>8 != DumpVersion>>8 || ver&0xff == 0 || ver&0xff > CodecVersion {
		return ErrDumpPayload
	}
	if RedisCRC64(0, p[:len(p)-8]) != binary.LittleEndian.Uint64(footer[2:]) {
		return ErrDumpPayload
	}
	return nil
}

// DecodeDumpPayload verifies p and decodes its value. The entry has no
// expiry; it never aliases p.
func DecodeDumpPayload(p []byte) (*Entry, error) {
	if err := VerifyDumpPayload(p); err != nil {
		return nil, err
	}
	return DecodeValue(p[:len(p)-10])
}

// ---------------------------------------------------------------------------
// Collection types. Decoders rebuild values through the types' public
// constructors, so the encoding (listpack/intset/hashtable/skiplist) follows
// the configured thresholds exactly as if the value had been built by
// commands. Empty collections and duplicate members/fields are rejected as
// bad data (a key never holds an empty collection).

func init() {
	registerObjectCodec(&objectCodec{tag: tagList, typ: "list",
		encode: func(dst []byte, o Object) []byte {
			l := o.(*List)
			dst = codecUv(dst, uint64(l.Len()))
			l.Each(func(v []byte) bool { dst = codecStr(dst, v); return true })
			return dst
		},
		decode: func(d *decoder) (Object, error) {
			n := d.count(1)
			if n == 0 {
				return nil, ErrBadFormat
			}
			l := NewList()
			for i := 0; i < n && d.err == nil; i++ {
				l.PushTail(d.str())
			}
			return l, d.err
		}})
	registerObjectCodec(&objectCodec{tag: tagSet, typ: "set",
		encode: func(dst []byte, o Object) []byte {
			s := o.(*Set)
			dst = codecUv(dst, uint64(s.Len()))
			s.Each(func(m []byte) bool { dst = codecStr(dst, m); return true })
			return dst
		},
		decode: func(d *decoder) (Object, error) {
			n := d.count(1)
			if n == 0 {
				return nil, ErrBadFormat
			}
			s := NewSet()
			for i := 0; i < n && d.err == nil; i++ {
				if !s.Add(d.str()) && d.err == nil {
					return nil, ErrBadFormat // duplicate member
				}
			}
			return s, d.err
		}})
	registerObjectCodec(&objectCodec{tag: tagZSet, typ: "zset",
		encode: func(dst []byte, o Object) []byte {
			z := o.(*ZSet)
			dst = codecUv(dst, uint64(z.Len()))
			z.Each(func(m []byte, score float64) bool {
				dst = codecStr(dst, m)
				dst = codecF64(dst, score)
				return true
			})
			return dst
		},
		decode: func(d *decoder) (Object, error) {
			n := d.count(9)
			if n == 0 {
				return nil, ErrBadFormat
			}
			es := make([]zlpEntry, 0, n)
			sorted := true
			for i := 0; i < n && d.err == nil; i++ {
				m := string(d.str())
				sc := d.f64()
				if i > 0 && sorted && !zless(es[i-1].score, es[i-1].member, sc, m) {
					sorted = false
				}
				es = append(es, zlpEntry{member: m, score: sc})
			}
			if d.err != nil {
				return nil, d.err
			}
			if sorted {
				// Ascending (score, member) order: bulk build, after making
				// sure no member appears twice (with different scores).
				if n > 1 {
					seen := make(map[string]struct{}, n)
					for _, e := range es {
						if _, dup := seen[e.member]; dup {
							return nil, ErrBadFormat
						}
						seen[e.member] = struct{}{}
					}
				}
				return zsetFromSorted(es), nil
			}
			z := NewZSet()
			for _, e := range es {
				if !z.Add(sbytes(e.member), e.score) {
					return nil, ErrBadFormat // duplicate member
				}
			}
			return z, nil
		}})
	registerObjectCodec(&objectCodec{tag: tagHash, typ: "hash",
		encode: func(dst []byte, o Object) []byte {
			h := o.(*Hash)
			dst = codecUv(dst, uint64(h.Len()))
			h.Each(func(f, v []byte) bool {
				dst = codecStr(dst, f)
				dst = codecStr(dst, v)
				return true
			})
			return dst
		},
		decode: func(d *decoder) (Object, error) {
			n := d.count(2)
			if n == 0 {
				return nil, ErrBadFormat
			}
			h := NewHash()
			for i := 0; i < n && d.err == nil; i++ {
				f := d.str()
				v := d.str()
				if d.err == nil && !h.Set(f, v) {
					return nil, ErrBadFormat // duplicate field
				}
			}
			return h, d.err
		}})
}
