package clusterbus

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleRecord() *record {
	return &record{
		id: strings.Repeat("ab", 20), ip: "127.0.0.11", port: 7000, cport: 17000,
		hostname: "node-1.example", shardID: strings.Repeat("cd", 20), flags: recMaster,
		configEpoch: 7, currentEpoch: 9, version: 12345,
		slots: []slotRange{{0, 100}, {200, 200}, {16000, 16383}},
	}
}

func TestWireRoundTrip(t *testing.T) {
	r := sampleRecord()
	m, err := decodeMessage(encodeRecord(r.id, r))
	if err != nil || m.typ != msgRecord || m.sender != r.id || !reflect.DeepEqual(m.recs[0], r) {
		t.Fatalf("record: %v %+v", err, m)
	}
	r2 := sampleRecord()
	r2.id = strings.Repeat("ef", 20)
	r2.flags = recReplica
	r2.masterID = r.id
	r2.slots = nil
	m, err = decodeMessage(encodeRecords(r.id, []*record{r, r2}))
	if err != nil || len(m.recs) != 2 || m.recs[1].masterID != r.id || len(m.recs[1].slots) != 0 {
		t.Fatalf("records: %v %+v", err, m)
	}
	h := &heartbeat{pong: true, sender: r.id, flags: recMaster, currentEpoch: 3, configEpoch: 2,
		recVersion: 99, replOffset: 1234, nonce: 77, failing: []string{r2.id}}
	m, err = decodeMessage(encodeHeartbeat(h))
	if err != nil || !reflect.DeepEqual(m.hb, h) {
		t.Fatalf("heartbeat: %v %+v", err, m.hb)
	}
	m, err = decodeMessage(encodeFail(r.id, r2.id))
	if err != nil || m.sender != r.id || m.failing != r2.id {
		t.Fatalf("fail: %v %+v", err, m)
	}
	mt := &meta{id: r.id, flags: recReplica, masterID: r2.id, port: 7000, cport: 17000, configEpoch: 1, currentEpoch: 2, recVersion: 3, slotsHash: 4}
	enc := encodeMeta(mt)
	if len(enc) > 512 {
		t.Fatalf("meta is %d bytes, memberlist's cap is 512", len(enc))
	}
	if got, err := decodeMeta(enc); err != nil || !reflect.DeepEqual(got, mt) {
		t.Fatalf("meta: %v %+v", err, got)
	}
}

func TestWireRejectsGarbage(t *testing.T) {
	r := sampleRecord()
	good := encodeRecord(r.id, r)
	for i := 0; i < len(good); i++ {
		if _, err := decodeMessage(good[:i]); err == nil {
			t.Fatalf("truncated at %d accepted", i)
		}
	}
	if _, err := decodeMessage(append(append([]byte{}, good...), 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	bad := sampleRecord()
	bad.slots = []slotRange{{10, 5}}
	if _, err := decodeMessage(encodeRecord(r.id, bad)); err == nil {
		t.Fatal("inverted range accepted")
	}
	bad.slots = []slotRange{{0, 10}, {5, 20}}
	if _, err := decodeMessage(encodeRecord(r.id, bad)); err == nil {
		t.Fatal("overlapping ranges accepted")
	}
	bad = sampleRecord()
	bad.hostname = "a b"
	if _, err := decodeMessage(encodeRecord(r.id, bad)); err == nil {
		t.Fatal("hostname with space accepted")
	}
	if _, err := decodeMessage(bytes.Repeat([]byte{0xff}, 64)); err == nil {
		t.Fatal("garbage accepted")
	}
}

// TestHostileInput feeds garbage to a running bus: it must count and drop
// every message and keep working.
func TestHostileInput(t *testing.T) {
	tc := newTestCluster(t, 2, 300*time.Millisecond)
	tc.meetAll()
	waitFor(t, 10*time.Second, "2 nodes", func() bool { return tc.allKnow(2) })
	b := tc.buses[0]
	seeds := fuzzSeeds()
	for _, s := range seeds {
		for i := 0; i <= len(s); i++ {
			b.handleMessage(s[:i])
		}
		flipped := append([]byte(nil), s...)
		for i := range flipped {
			flipped[i] ^= 0x5a
			b.handleMessage(flipped)
			flipped[i] ^= 0x5a
		}
	}
	b.handleMessage(make([]byte, maxMessage+1))
	if b.Stats().MessagesDropped == 0 {
		t.Fatal("nothing counted as dropped")
	}
	// Some bit flips decode as valid messages (the bus has no integrity
	// check without cluster-bus-secret), but the bus must keep working.
	peer := tc.buses[1].MyID()
	if !b.KnowsNode(peer) {
		t.Fatal("bus lost its peer after hostile input")
	}
	if err := b.AddSlots([]string{"5000"}); err != nil {
		t.Fatal(err)
	}
}

func fuzzSeeds() [][]byte {
	r := sampleRecord()
	r2 := sampleRecord()
	r2.id = strings.Repeat("12", 20)
	return [][]byte{
		encodeRecord(r.id, r),
		encodeRecords(r.id, []*record{r, r2}),
		encodeHeartbeat(&heartbeat{sender: r.id, flags: recMaster, nonce: 1, failing: []string{r2.id}}),
		encodeHeartbeat(&heartbeat{pong: true, sender: r.id, flags: recReplica, nonce: 1}),
		encodeGetRec(r.id),
		encodeFail(r.id, r2.id),
	}
}

// FuzzDecodeMessage: the bus decoder never panics and whatever it accepts
// re-encodes to the same bytes.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		var again []byte
		switch m.typ {
		case msgPing, msgPong:
			again = encodeHeartbeat(m.hb)
		case msgRecord:
			again = encodeRecord(m.sender, m.recs[0])
		case msgRecords:
			again = encodeRecords(m.sender, m.recs)
		case msgGetRec:
			again = encodeGetRec(m.sender)
		case msgFail:
			again = encodeFail(m.sender, m.failing)
		default:
			if m.fo != nil {
				again = encodeFailoverMsg(m.typ, m.fo) // failover.go
			}
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n%x\n%x", b, again)
		}
	})
}

// TestWriteFuzzCorpus keeps testdata/fuzz/FuzzDecodeMessage in sync with
// the seeds (run with CLUSTERBUS_WRITE_CORPUS=1).
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("CLUSTERBUS_WRITE_CORPUS") == "" {
		t.Skip("set CLUSTERBUS_WRITE_CORPUS=1 to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeMessage")
	os.MkdirAll(dir, 0o755)
	for i, s := range fuzzSeeds() {
		body := "go test fuzz v1\n[]byte(" + quoteBytes(s) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, "seed"+string(rune('0'+i))), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func quoteBytes(b []byte) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, c := range b {
		sb.WriteString("\\x")
		sb.WriteByte("0123456789abcdef"[c>>4])
		sb.WriteByte("0123456789abcdef"[c&15])
	}
	sb.WriteByte('"')
	return sb.String()
}
