package clusterbus

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/fnv"
	"net"
)

// Bus message format (all integers big-endian). Every message starts with
// the 4-byte header magic "SK", version, type. Decoding is strict: any
// truncation, trailing byte, out-of-range value or unknown type is an error,
// and the message is dropped and counted by the caller.
//
//	PING/PONG  sender[20] flags u8 currentEpoch u64 configEpoch u64
//	           recVersion u64 replOffset u64 nonce u64 nfail u16 failing[20]*nfail
//	RECORD     sender[20] record (see below)
//	RECORDS    sender[20] n u16, then n × (len u32, record)
//	GETREC     sender[20]
//	FAIL       sender[20] failing[20]
//	AUTHREQ, AUTHACK, MFSTART, MFOFFSET (types 7-10): see failover.go
//
//	record     id[20] ip(u8 len + bytes) port u16 cport u16
//	           hostname(u8 len + bytes) shard[20] flags u8 master[20]
//	           configEpoch u64 currentEpoch u64 version u64
//	           nranges u16, nranges × (start u16, end u16) sorted, disjoint
const (
	wireMagic0  = 'S'
	wireMagic1  = 'K'
	wireVersion = 1

	msgPing    = 1
	msgPong    = 2
	msgRecord  = 3
	msgRecords = 4
	msgGetRec  = 5
	msgFail    = 6

	idLen = 20 // binary length of a 40-hex node id

	// maxFailing bounds the failure list of a heartbeat.
	maxFailing = 1000
	// maxRecords bounds a RECORDS bundle.
	maxRecords = 4096
	// maxMessage bounds any decoded message (8 MiB).
	maxMessage = 8 << 20
)

// Record flags.
const (
	recMaster     = 1 << 0
	recReplica    = 1 << 1
	recNoFailover = 1 << 2
)

var (
	errShort    = errors.New("truncated message")
	errTrailing = errors.New("trailing bytes")
	errBadMagic = errors.New("bad magic or version")
	errBadType  = errors.New("unknown message type")
	errBadValue = errors.New("invalid field value")
	errTooBig   = errors.New("message too large")
)

// slotRange is an inclusive slot range.
type slotRange struct{ start, end uint16 }

// record is what a node says about itself: address, role, epochs and the
// slots it claims (its own view of the slots it serves).
type record struct {
	id           string // 40 hex
	ip           string
	port         int
	cport        int
	hostname     string
	shardID      string // 40 hex
	flags        uint8
	masterID     string // 40 hex or ""
	configEpoch  uint64
	currentEpoch uint64
	version      uint64
	slots        []slotRange
}

// heartbeat is a PING or PONG.
type heartbeat struct {
	pong         bool
	sender       string
	flags        uint8
	currentEpoch uint64
	configEpoch  uint64
	recVersion   uint64
	replOffset   int64
	nonce        uint64
	failing      []string
}

// message is one decoded bus message; exactly one payload field is set
// according to typ.
type message struct {
	typ     uint8
	hb      *heartbeat
	recs    []*record
	sender  string // RECORD(S), GETREC, FAIL
	failing string // FAIL
	fo      *foMsg // AUTHREQ, AUTHACK, MFSTART, MFOFFSET (failover.go)
}

// ---- encoding ----

func appendHeader(b []byte, typ uint8) []byte {
	return append(b, wireMagic0, wireMagic1, wireVersion, typ)
}

func appendID(b []byte, id string) []byte {
	var raw [idLen]byte
	if id != "" {
		hex.Decode(raw[:], []byte(id)) //nolint:errcheck // ids are validated hex
	}
	return append(b, raw[:]...)
}

func appendStr8(b []byte, s string) []byte {
	if len(s) > 255 {
		s = s[:255]
	}
	b = append(b, byte(len(s)))
	return append(b, s...)
}

func encodeHeartbeat(h *heartbeat) []byte {
	typ := uint8(msgPing)
	if h.pong {
		typ = msgPong
	}
	n := len(h.failing)
	if n > maxFailing {
		n = maxFailing
	}
	b := make([]byte, 0, 4+idLen+1+8*5+2+idLen*n)
	b = appendHeader(b, typ)
	b = appendID(b, h.sender)
	b = append(b, h.flags)
	b = binary.BigEndian.AppendUint64(b, h.currentEpoch)
	b = binary.BigEndian.AppendUint64(b, h.configEpoch)
	b = binary.BigEndian.AppendUint64(b, h.recVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(h.replOffset))
	b = binary.BigEndian.AppendUint64(b, h.nonce)
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	for _, id := range h.failing[:n] {
		b = appendID(b, id)
	}
	return b
}

func appendRecord(b []byte, r *record) []byte {
	b = appendID(b, r.id)
	b = appendStr8(b, r.ip)
	b = binary.BigEndian.AppendUint16(b, uint16(r.port))
	b = binary.BigEndian.AppendUint16(b, uint16(r.cport))
	b = appendStr8(b, r.hostname)
	b = appendID(b, r.shardID)
	b = append(b, r.flags)
	b = appendID(b, r.masterID)
	b = binary.BigEndian.AppendUint64(b, r.configEpoch)
	b = binary.BigEndian.AppendUint64(b, r.currentEpoch)
	b = binary.BigEndian.AppendUint64(b, r.version)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.slots)))
	for _, s := range r.slots {
		b = binary.BigEndian.AppendUint16(b, s.start)
		b = binary.BigEndian.AppendUint16(b, s.end)
	}
	return b
}

func encodeRecord(sender string, r *record) []byte {
	b := make([]byte, 0, 148+4*len(r.slots))
	return appendRecord(appendID(appendHeader(b, msgRecord), sender), r)
}

func encodeRecords(sender string, rs []*record) []byte {
	if len(rs) > maxRecords {
		rs = rs[:maxRecords]
	}
	b := appendHeader(make([]byte, 0, 256*len(rs)), msgRecords)
	b = appendID(b, sender)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rs)))
	for _, r := range rs {
		lenAt := len(b)
		b = append(b, 0, 0, 0, 0)
		b = appendRecord(b, r)
		binary.BigEndian.PutUint32(b[lenAt:], uint32(len(b)-lenAt-4))
	}
	return b
}

func encodeGetRec(sender string) []byte {
	return appendID(appendHeader(make([]byte, 0, 4+idLen), msgGetRec), sender)
}

func encodeFail(sender, failing string) []byte {
	b := appendHeader(make([]byte, 0, 4+2*idLen), msgFail)
	return appendID(appendID(b, sender), failing)
}

// ---- decoding ----

type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b) {
		r.err = errShort
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() uint8 {
	v := r.take(1)
	if v == nil {
		return 0
	}
	return v[0]
}

func (r *reader) u16() uint16 {
	v := r.take(2)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint16(v)
}

func (r *reader) u32() uint32 {
	v := r.take(4)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint32(v)
}

func (r *reader) u64() uint64 {
	v := r.take(8)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// id reads a 20-byte id; zero bytes decode to "" when allowZero.
func (r *reader) id(allowZero bool) string {
	v := r.take(idLen)
	if v == nil {
		return ""
	}
	zero := true
	for _, c := range v {
		if c != 0 {
			zero = false
			break
		}
	}
	if zero {
		if !allowZero && r.err == nil {
			r.err = errBadValue
		}
		return ""
	}
	return hex.EncodeToString(v)
}

func (r *reader) str8() string {
	n := int(r.u8())
	v := r.take(n)
	return string(v)
}

func decodeMessage(b []byte) (*message, error) {
	if len(b) > maxMessage {
		return nil, errTooBig
	}
	if len(b) < 4 {
		return nil, errShort
	}
	if b[0] != wireMagic0 || b[1] != wireMagic1 || b[2] != wireVersion {
		return nil, errBadMagic
	}
	m := &message{typ: b[3]}
	r := &reader{b: b[4:]}
	switch m.typ {
	case msgPing, msgPong:
		h := &heartbeat{pong: m.typ == msgPong}
		h.sender = r.id(false)
		h.flags = r.u8()
		h.currentEpoch = r.u64()
		h.configEpoch = r.u64()
		h.recVersion = r.u64()
		h.replOffset = int64(r.u64())
		h.nonce = r.u64()
		n := int(r.u16())
		if n > maxFailing {
			return nil, errBadValue
		}
		if r.err == nil && n*idLen > len(r.b) {
			return nil, errShort
		}
		for i := 0; i < n && r.err == nil; i++ {
			h.failing = append(h.failing, r.id(false))
		}
		if h.flags&^(recMaster|recReplica|recNoFailover) != 0 {
			r.err = errBadValue
		}
		m.hb = h
	case msgRecord:
		m.sender = r.id(false)
		rec := decodeRecord(r)
		m.recs = []*record{rec}
	case msgRecords:
		m.sender = r.id(false)
		n := int(r.u16())
		if n > maxRecords {
			return nil, errBadValue
		}
		for i := 0; i < n && r.err == nil; i++ {
			l := int(r.u32())
			body := r.take(l)
			if r.err != nil {
				break
			}
			sub := &reader{b: body}
			rec := decodeRecord(sub)
			if sub.err == nil && len(sub.b) != 0 {
				sub.err = errTrailing
			}
			if sub.err != nil {
				return nil, sub.err
			}
			m.recs = append(m.recs, rec)
		}
	case msgGetRec:
		m.sender = r.id(false)
	case msgFail:
		m.sender = r.id(false)
		m.failing = r.id(false)
	case msgAuthReq, msgAuthAck, msgMFStart, msgMFOffset:
		m.fo = decodeFailoverMsg(m.typ, r)
	default:
		return nil, errBadType
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, errTrailing
	}
	return m, nil
}

func decodeRecord(r *reader) *record {
	rec := &record{}
	rec.id = r.id(false)
	rec.ip = r.str8()
	rec.port = int(r.u16())
	rec.cport = int(r.u16())
	rec.hostname = r.str8()
	rec.shardID = r.id(true)
	rec.flags = r.u8()
	rec.masterID = r.id(true)
	rec.configEpoch = r.u64()
	rec.currentEpoch = r.u64()
	rec.version = r.u64()
	n := int(r.u16())
	if r.err != nil {
		return rec
	}
	if n > NumSlots/2 || n*4 > len(r.b) {
		r.err = errShort
		return rec
	}
	rec.slots = make([]slotRange, n)
	prev := -1
	for i := 0; i < n; i++ {
		s, e := r.u16(), r.u16()
		if int(s) <= prev || s > e || e >= NumSlots {
			r.err = errBadValue
			return rec
		}
		rec.slots[i] = slotRange{s, e}
		prev = int(e)
	}
	if rec.ip != "" && net.ParseIP(rec.ip) == nil {
		r.err = errBadValue
	}
	if !validHostname(rec.hostname) {
		r.err = errBadValue
	}
	if rec.flags&^(recMaster|recReplica|recNoFailover) != 0 ||
		(rec.flags&recMaster != 0) == (rec.flags&recReplica != 0) {
		r.err = errBadValue
	}
	if rec.flags&recReplica != 0 && (rec.masterID == "" || len(rec.slots) != 0) {
		r.err = errBadValue
	}
	if rec.masterID == rec.id {
		r.err = errBadValue
	}
	return rec
}

// ---- node meta (memberlist NodeMeta, at most memberlist.MetaMaxSize) ----

// meta is what memberlist carries for us in its alive messages: enough to
// know who a member is and whether our copy of its record is current.
//
//	"SM" ver id[20] flags u8 master[20] port u16 cport u16
//	configEpoch u64 currentEpoch u64 recVersion u64 slotsHash u32
type meta struct {
	id           string
	flags        uint8
	masterID     string
	port         int
	cport        int
	configEpoch  uint64
	currentEpoch uint64
	recVersion   uint64
	slotsHash    uint32
}

const metaLen = 3 + idLen + 1 + idLen + 2 + 2 + 8 + 8 + 8 + 4

func encodeMeta(m *meta) []byte {
	b := make([]byte, 0, metaLen)
	b = append(b, 'S', 'M', wireVersion)
	b = appendID(b, m.id)
	b = append(b, m.flags)
	b = appendID(b, m.masterID)
	b = binary.BigEndian.AppendUint16(b, uint16(m.port))
	b = binary.BigEndian.AppendUint16(b, uint16(m.cport))
	b = binary.BigEndian.AppendUint64(b, m.configEpoch)
	b = binary.BigEndian.AppendUint64(b, m.currentEpoch)
	b = binary.BigEndian.AppendUint64(b, m.recVersion)
	b = binary.BigEndian.AppendUint32(b, m.slotsHash)
	return b
}

func decodeMeta(b []byte) (*meta, error) {
	if len(b) != metaLen {
		return nil, errShort
	}
	if b[0] != 'S' || b[1] != 'M' || b[2] != wireVersion {
		return nil, errBadMagic
	}
	r := &reader{b: b[3:]}
	m := &meta{}
	m.id = r.id(false)
	m.flags = r.u8()
	m.masterID = r.id(true)
	m.port = int(r.u16())
	m.cport = int(r.u16())
	m.configEpoch = r.u64()
	m.currentEpoch = r.u64()
	m.recVersion = r.u64()
	m.slotsHash = r.u32()
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

func hashRanges(rs []slotRange) uint32 {
	h := fnv.New32a()
	var buf [4]byte
	for _, s := range rs {
		binary.BigEndian.PutUint16(buf[:], s.start)
		binary.BigEndian.PutUint16(buf[2:], s.end)
		h.Write(buf[:])
	}
	return h.Sum32()
}
