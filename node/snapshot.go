package node

// Snapshot files: the dataset at one point in time, written by SAVE, BGSAVE,
// save points, SHUTDOWN and as the base of the append-only file.
//
// File format (version 1; integers are LEB128 uvarints "uv" unless noted):
//
//	header  := "SLOTKVDB" u16le(version) uv(naux) naux×(str key, str value) u32le(crc32c of header)
//	section := 0x01 u16le(slot) uv(nkeys) uv(len(body)) body u32le(crc32c of section up to here)
//	body    := nkeys × entry
//	entry   := flags(1 byte: bit0 = has expiry) str(key) [uv(expire unix ms)] value
//	eof     := 0xFF uv(nsections) uv(nkeys) u32le(crc32c of the whole file before this field)
//
// value is codec.go's encoding. Every section carries its own checksum
// (corruption is reported at the section's offset), and the final checksum
// covers the whole file (a dropped or duplicated section is detected).
//
// Consistency: a snapshot is a true point-in-time image. It is taken with
// Keyspace.StartCut: every slot lock is held for an instant to mark the cut,
// then each slot is encoded either by the background walk or, if a client
// touches it first, by that client before its command runs (slot-level
// copy-on-write). Nothing forks; clients are never paused beyond the
// encoding of one slot they are about to change. Encoded sections wait in
// memory for the writer, so a snapshot can transiently use up to the encoded
// size of the dataset in extra memory (Redis's fork has the same worst case).

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slotkv/slotkv/slots"
)

// SnapshotMagic starts every snapshot file (and an AOF base in snapshot format).
const SnapshotMagic = "SLOTKVDB"

// SnapshotVersion is the snapshot file format version written by this build.
const SnapshotVersion = 1

const (
	snapOpSection byte = 0x01
	snapOpEOF     byte = 0xFF
)

var crc32cTable = crc32.MakeTable(crc32.Castagnoli)

// ---------------------------------------------------------------------------
// Writing

// snapWriter writes the snapshot format to w, keeping the running checksum.
type snapWriter struct {
	w        io.Writer
	crc      uint32
	n        int64
	sections int
	keys     int64
	err      error
	scratch  []byte
}

func (sw *snapWriter) write(p []byte) {
	if sw.err != nil {
		return
	}
	sw.crc = crc32.Update(sw.crc, crc32cTable, p)
	n, err := sw.w.Write(p)
	sw.n += int64(n)
	sw.err = err
}

// newSnapWriter writes the header with aux fields (ordered pairs).
func newSnapWriter(w io.Writer, aux [][2]string) *snapWriter {
	sw := &snapWriter{w: w}
	h := []byte(SnapshotMagic)
	h = binary.LittleEndian.AppendUint16(h, SnapshotVersion)
	h = codecUv(h, uint64(len(aux)))
	for _, kv := range aux {
		h = codecStrS(h, kv[0])
		h = codecStrS(h, kv[1])
	}
	h = binary.LittleEndian.AppendUint32(h, crc32.Checksum(h, crc32cTable))
	sw.write(h)
	return sw
}

// section writes one slot's encoded body.
func (sw *snapWriter) section(slot int, nkeys int, body []byte) {
	h := append(sw.scratch[:0], snapOpSection)
	h = binary.LittleEndian.AppendUint16(h, uint16(slot))
	h = codecUv(h, uint64(nkeys))
	h = codecUv(h, uint64(len(body)))
	crc := crc32.Update(crc32.Checksum(h, crc32cTable), crc32cTable, body)
	sw.write(h)
	sw.write(body)
	sw.scratch = binary.LittleEndian.AppendUint32(h[:0], crc)
	sw.write(sw.scratch)
	sw.sections++
	sw.keys += int64(nkeys)
}

// finish writes the EOF record.
func (sw *snapWriter) finish() error {
	h := append(sw.scratch[:0], snapOpEOF)
	h = codecUv(h, uint64(sw.sections))
	h = codecUv(h, uint64(sw.keys))
	sw.write(h)
	sw.scratch = binary.LittleEndian.AppendUint32(h[:0], sw.crc)
	sw.write(sw.scratch)
	return sw.err
}

// snapAppendEntry appends one key's snapshot entry.
func snapAppendEntry(dst []byte, key string, e *Entry) ([]byte, error) {
	start := len(dst)
	if e.Exp != 0 {
		dst = append(dst, 1)
	} else {
		dst = append(dst, 0)
	}
	dst = codecStrS(dst, key)
	if e.Exp != 0 {
		dst = codecUv(dst, uint64(e.Exp))
	}
	dst, err := AppendValue(dst, e)
	if err != nil {
		return dst[:start], err
	}
	return dst, nil
}

// snapEncodeSlot encodes the live keys of s (lock held) as a section body.
// Keys whose value cannot be encoded are reported through bad and skipped.
func snapEncodeSlot(s *Slot, now int64, bad func(key string, err error)) (body []byte, nkeys int) {
	return snapEncodeSlotInto(nil, s, now, bad)
}

// snapEncodeSlotInto is snapEncodeSlot appending to body.
func snapEncodeSlotInto(body []byte, s *Slot, now int64, bad func(key string, err error)) ([]byte, int) {
	nkeys := 0
	if s.Len() == 0 {
		return body, 0
	}
	s.Each(func(key string, e *Entry) bool {
		if e.Exp != 0 && e.Exp <= now {
			return true
		}
		var err error
		body, err = snapAppendEntry(body, key, e)
		if err != nil {
			if bad != nil {
				bad(key, err)
			}
			return true
		}
		nkeys++
		return true
	})
	return body, nkeys
}

// SnapshotStats describes a written or loaded snapshot.
type SnapshotStats struct {
	Keys     int64
	Expired  int64 // loading: keys skipped because already expired
	Dropped  int64 // loading: keys skipped by the slot filter
	Sections int
	Bytes    int64
	Took     time.Duration
}

// WriteSnapshot streams a point-in-time snapshot of s's keyspace to w.
// atCut, if set, runs at the cut with every slot locked (no write in
// flight): the caller records offsets or switches streams there.
func (s *Server) WriteSnapshot(w io.Writer, aux [][2]string, atCut func()) (SnapshotStats, error) {
	start := time.Now()
	sw := newSnapWriter(w, aux)
	s.writeCut(atCut, snapEncodeSlotInto, sw.section)
	err := sw.finish()
	return SnapshotStats{Keys: sw.keys, Sections: sw.sections, Bytes: sw.n, Took: time.Since(start)}, err
}

// writeCut takes a keyspace cut and hands every non-empty slot, encoded by
// encode (with the slot's lock held, on whichever goroutine emits it), to
// write on the calling goroutine, in emission order.
func (s *Server) writeCut(atCut func(), encode func(dst []byte, sl *Slot, now int64, bad func(key string, err error)) ([]byte, int), write func(slot, nkeys int, body []byte)) {
	var (
		mu      sync.Mutex
		queue   []snapSection
		wake    = make(chan struct{}, 1)
		badKeys atomic.Int64
	)
	cut := s.KS.StartCut(atCut, func(slot int, sl *Slot) {
		if sl.Len() == 0 {
			return
		}
		bp := snapBufPool.Get().(*[]byte)
		body, n := encode((*bp)[:0], sl, nowMs(), func(key string, err error) {
			if badKeys.Add(1) <= 10 {
				s.Log.Warn("snapshot: key not saved", "key", key, "err", err)
			}
		})
		if n == 0 {
			*bp = body
			snapBufPool.Put(bp)
			return
		}
		mu.Lock()
		queue = append(queue, snapSection{slot: slot, nkeys: n, body: body})
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	done := cut.Done()
	var batch []snapSection
	for finished := false; !finished; {
		select {
		case <-wake:
		case <-done:
			finished = true
		}
		mu.Lock()
		batch, queue = queue, batch[:0]
		mu.Unlock()
		for i := range batch {
			write(batch[i].slot, batch[i].nkeys, batch[i].body)
			recycleSnapBuf(batch[i].body)
			batch[i].body = nil
		}
	}
	// The walk is over: whatever is still queued was emitted before Done.
	mu.Lock()
	batch, queue = queue, nil
	mu.Unlock()
	for i := range batch {
		write(batch[i].slot, batch[i].nkeys, batch[i].body)
	}
}

// snapBufPool recycles section encoding buffers between slots.
var snapBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func recycleSnapBuf(b []byte) {
	if cap(b) <= 1<<20 {
		b = b[:0]
		snapBufPool.Put(&b)
	}
}

type snapSection struct {
	slot  int
	nkeys int
	body  []byte
}

// SaveSnapshotFile writes a snapshot of s to path atomically: a temp file in
// the same directory, fsync, rename, fsync of the directory.
func (s *Server) SaveSnapshotFile(path string, aux [][2]string, atCut func()) (SnapshotStats, error) {
	return writeFileCut(path, func(w io.Writer) (SnapshotStats, error) { return s.WriteSnapshot(w, aux, atCut) })
}

// writeFileCut writes path atomically (temp file in the same directory,
// fsync, rename, directory fsync) with the content produced by gen.
func writeFileCut(path string, gen func(w io.Writer) (SnapshotStats, error)) (SnapshotStats, error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, fmt.Sprintf("temp-%d-*.snap", os.Getpid()))
	if err != nil {
		return SnapshotStats{}, fmt.Errorf("failed opening a temp file in %s: %w", dir, err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	st, err := gen(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = tmp.Close()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return st, fmt.Errorf("write error saving %s: %w", path, err)
	}
	ok = true
	fsyncDir(dir)
	return st, nil
}

// WriteCommands streams a point-in-time cut of the keyspace as RESP
// commands that rebuild it (the AOF base with aof-use-rdb-preamble no):
// SET (with PXAT), RPUSH/SADD/ZADD/HSET in batches of 64 elements, then
// PEXPIREAT for collections with a TTL.
func (s *Server) WriteCommands(w io.Writer, atCut func()) (SnapshotStats, error) {
	start := time.Now()
	var st SnapshotStats
	var err error
	s.writeCut(atCut, respEncodeSlot, func(slot, nkeys int, body []byte) {
		if err != nil {
			return
		}
		var n int
		n, err = w.Write(body)
		st.Bytes += int64(n)
		st.Keys += int64(nkeys)
		st.Sections++
	})
	st.Took = time.Since(start)
	return st, err
}

// respEncodeSlot appends the commands rebuilding the live keys of sl.
func respEncodeSlot(dst []byte, sl *Slot, now int64, bad func(key string, err error)) ([]byte, int) {
	n := 0
	var val []byte
	var argv [][]byte
	sl.Each(func(key string, e *Entry) bool {
		if e.Exp != 0 && e.Exp <= now {
			return true
		}
		var err error
		val, err = AppendValue(val[:0], e)
		if err != nil {
			bad(key, err)
			return true
		}
		k := []byte(key)
		d := &decoder{b: val}
		tag := d.byte1()
		if tag == tagString {
			argv = append(argv[:0], []byte("SET"), k, d.str())
			if e.Exp != 0 {
				argv = append(argv, []byte("PXAT"), strconv.AppendInt(nil, e.Exp, 10))
			}
			dst = appendRESPCommand(dst, argv)
			n++
			return true
		}
		var cmd string
		switch tag {
		case tagList:
			cmd = "RPUSH"
		case tagSet:
			cmd = "SADD"
		case tagZSet:
			cmd = "ZADD"
		case tagHash:
			cmd = "HSET"
		}
		cnt := d.count(1)
		for i := 0; i < cnt; i += 64 {
			argv = append(argv[:0], []byte(cmd), k)
			for j := i; j < cnt && j < i+64; j++ {
				switch tag {
				case tagZSet:
					m := d.str()
					argv = append(argv, formatScore(d.f64()), m)
				case tagHash:
					argv = append(argv, d.str(), d.str())
				default:
					argv = append(argv, d.str())
				}
			}
			dst = appendRESPCommand(dst, argv)
		}
		if e.Exp != 0 {
			dst = appendRESPCommand(dst, [][]byte{[]byte("PEXPIREAT"), k, strconv.AppendInt(nil, e.Exp, 10)})
		}
		n++
		return true
	})
	return dst, n
}

// formatScore renders a zset score so that ZADD reads back the same float.
func formatScore(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	}
	return strconv.AppendFloat(nil, f, 'g', 17, 64)
}

// fsyncDir fsyncs a directory so a rename in it is durable.
func fsyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// snapshotAux returns the standard header fields.
func snapshotAux(kind string) [][2]string {
	return [][2]string{
		{"slotkv-ver", SlotkvVersion},
		{"redis-ver", Version},
		{"kind", kind},
		{"ctime", fmt.Sprint(time.Now().UnixMilli())},
	}
}

// ---------------------------------------------------------------------------
// Reading

// SnapshotError is a load or check failure at a file offset.
type SnapshotError struct {
	File   string
	Offset int64
	Msg    string
}

func (e *SnapshotError) Error() string {
	return fmt.Sprintf("snapshot %s: offset %d: %s", e.File, e.Offset, e.Msg)
}

// errSnapTruncated marks an unexpected end of file (wrapped in SnapshotError).
var errSnapTruncated = errors.New("unexpected end of file")

// snapReader reads the snapshot format.
type snapReader struct {
	r    *bufio.Reader
	name string
	off  int64
	crc  uint32
	buf  []byte
}

func (sr *snapReader) fail(off int64, format string, args ...any) error {
	return &SnapshotError{File: sr.name, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// read fills p, updating the running checksum.
func (sr *snapReader) read(p []byte) error {
	n, err := io.ReadFull(sr.r, p)
	sr.crc = crc32.Update(sr.crc, crc32cTable, p[:n])
	sr.off += int64(n)
	if err != nil {
		return errSnapTruncated
	}
	return nil
}

func (sr *snapReader) byte1() (byte, error) {
	var b [1]byte
	err := sr.read(b[:])
	return b[0], err
}

// uv reads a uvarint, returning its bytes too (for section checksums).
func (sr *snapReader) uv(raw *[]byte) (uint64, error) {
	var x uint64
	var s uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		b, err := sr.byte1()
		if err != nil {
			return 0, err
		}
		if raw != nil {
			*raw = append(*raw, b)
		}
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, errors.New("varint overflow")
			}
			return x | uint64(b)<<s, nil
		}
		x |= uint64(b&0x7f) << s
		s += 7
	}
	return 0, errors.New("varint overflow")
}

// snapHeader is a parsed header.
type snapHeader struct {
	Version int
	Aux     map[string]string
}

// readSnapshot parses a snapshot from r, calling fn for every section after
// its checksum was verified (fn may keep nothing that aliases body). It
// returns a *SnapshotError (Msg "unexpected end of file" when truncated).
func readSnapshot(r io.Reader, name string, fn func(slot int, nkeys int, body []byte, off int64) error) (snapHeader, SnapshotStats, error) {
	sr := &snapReader{r: bufio.NewReaderSize(r, 1<<20), name: name}
	var st SnapshotStats
	var hdr snapHeader
	magic := make([]byte, len(SnapshotMagic)+2)
	if err := sr.read(magic); err != nil || string(magic[:len(SnapshotMagic)]) != SnapshotMagic {
		if err != nil {
			return hdr, st, sr.fail(sr.off, "%v", err)
		}
		return hdr, st, sr.fail(0, "not a slotkv snapshot (bad magic)")
	}
	hdr.Version = int(binary.LittleEndian.Uint16(magic[len(SnapshotMagic):]))
	if hdr.Version < 1 || hdr.Version > SnapshotVersion {
		return hdr, st, sr.fail(int64(len(SnapshotMagic)), "unsupported snapshot version %d (this build reads up to %d)", hdr.Version, SnapshotVersion)
	}
	naux, err := sr.uv(nil)
	if err != nil {
		return hdr, st, sr.fail(sr.off, "%v", err)
	}
	hdr.Aux = map[string]string{}
	for i := uint64(0); i < naux; i++ {
		var kv [2]string
		for j := range kv {
			n, err := sr.uv(nil)
			if err != nil {
				return hdr, st, sr.fail(sr.off, "%v", err)
			}
			if n > 1<<20 {
				return hdr, st, sr.fail(sr.off, "header field of %d bytes", n)
			}
			b := make([]byte, n)
			if err := sr.read(b); err != nil {
				return hdr, st, sr.fail(sr.off, "%v", err)
			}
			kv[j] = string(b)
		}
		hdr.Aux[kv[0]] = kv[1]
	}
	hcrc := sr.crc
	var c4 [4]byte
	if err := sr.read(c4[:]); err != nil {
		return hdr, st, sr.fail(sr.off, "%v", err)
	}
	if binary.LittleEndian.Uint32(c4[:]) != hcrc {
		return hdr, st, sr.fail(0, "header checksum mismatch")
	}
	for {
		recOff := sr.off
		op, err := sr.byte1()
		if err != nil {
			return hdr, st, sr.fail(recOff, "%v (no end-of-file record)", err)
		}
		switch op {
		case snapOpSection:
			raw := append(sr.buf[:0], op)
			var s2 [2]byte
			if err := sr.read(s2[:]); err != nil {
				return hdr, st, sr.fail(sr.off, "%v", err)
			}
			raw = append(raw, s2[:]...)
			slot := int(binary.LittleEndian.Uint16(s2[:]))
			if slot >= slots.N {
				return hdr, st, sr.fail(recOff, "section for slot %d out of range", slot)
			}
			nkeys, err := sr.uv(&raw)
			if err != nil {
				return hdr, st, sr.fail(sr.off, "%v", err)
			}
			blen, err := sr.uv(&raw)
			if err != nil {
				return hdr, st, sr.fail(sr.off, "%v", err)
			}
			if blen > 1<<40 || nkeys > blen {
				return hdr, st, sr.fail(recOff, "bad section header (keys %d, bytes %d)", nkeys, blen)
			}
			sr.buf = raw
			body := make([]byte, blen)
			if err := sr.read(body); err != nil {
				return hdr, st, sr.fail(sr.off, "%v", err)
			}
			if err := sr.read(c4[:]); err != nil {
				return hdr, st, sr.fail(sr.off, "%v", err)
			}
			want := crc32.Update(crc32.Checksum(raw, crc32cTable), crc32cTable, body)
			if binary.LittleEndian.Uint32(c4[:]) != want {
				return hdr, st, sr.fail(recOff, "checksum mismatch in section of slot %d", slot)
			}
			st.Sections++
			st.Keys += int64(nkeys)
			if fn != nil {
				if err := fn(slot, int(nkeys), body, recOff); err != nil {
					var se *SnapshotError
					if errors.As(err, &se) {
						return hdr, st, err
					}
					return hdr, st, sr.fail(recOff, "slot %d: %v", slot, err)
				}
			}
		case snapOpEOF:
			nsec, err := sr.uv(nil)
			if err != nil {
				return hdr, st, sr.fail(sr.off, "%v", err)
			}
			nk, err := sr.uv(nil)
			if err != nil {
				return hdr, st, sr.fail(sr.off, "%v", err)
			}
			fcrc := sr.crc
			if err := sr.read(c4[:]); err != nil {
				return hdr, st, sr.fail(sr.off, "%v", err)
			}
			if binary.LittleEndian.Uint32(c4[:]) != fcrc {
				return hdr, st, sr.fail(recOff, "file checksum mismatch")
			}
			if nsec != uint64(st.Sections) || nk != uint64(st.Keys) {
				return hdr, st, sr.fail(recOff, "end record says %d sections / %d keys, file has %d / %d", nsec, nk, st.Sections, st.Keys)
			}
			st.Bytes = sr.off
			return hdr, st, nil
		default:
			return hdr, st, sr.fail(recOff, "unknown record type 0x%02x", op)
		}
	}
}

// snapDecodeSection calls fn for every entry of a section body. key aliases
// body; the entry does not.
func snapDecodeSection(body []byte, nkeys int, fn func(key []byte, e *Entry)) error {
	return snapDecodeSectionAlias(body, nkeys, false, fn)
}

// snapDecodeSectionAlias is snapDecodeSection; with alias, string values
// point into body instead of being copied.
func snapDecodeSectionAlias(body []byte, nkeys int, alias bool, fn func(key []byte, e *Entry)) error {
	d := &decoder{b: body, alias: alias}
	for i := 0; i < nkeys; i++ {
		flags := d.byte1()
		key := d.str()
		var exp int64
		if flags&1 != 0 {
			exp = int64(d.uv())
		}
		if d.err != nil || flags&^1 != 0 {
			return fmt.Errorf("bad entry %d", i)
		}
		e, err := decodeValue(d)
		if err != nil {
			return fmt.Errorf("bad value for key %q", trunc(string(key), 64))
		}
		e.Exp = exp
		fn(key, e)
	}
	if d.left() != 0 {
		return fmt.Errorf("%d trailing bytes in section", d.left())
	}
	return nil
}

// LoadSnapshot reads a snapshot from r into s's keyspace. Keys already
// expired are skipped; keep, if set, filters slots (false: keys dropped).
// The file is read and checksummed on one goroutine while sections are
// decoded and inserted in parallel (each section is one slot).
func (s *Server) LoadSnapshot(r io.Reader, name string, keep func(slot int) bool) (SnapshotStats, error) {
	start := time.Now()
	var expired, dropped, loaded atomic.Int64
	now := nowMs()
	type job struct {
		slot, nkeys int
		body        []byte
		off         int64
	}
	jobs := make(chan job, 32)
	var (
		errMu     sync.Mutex
		workerErr error
		failed    atomic.Bool
		wg        sync.WaitGroup
	)
	for w := 0; w < max(1, runtime.GOMAXPROCS(0)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if failed.Load() {
					continue
				}
				l, x, err := s.loadSection(j.slot, j.nkeys, j.body, now)
				loaded.Add(l)
				expired.Add(x)
				if err != nil {
					errMu.Lock()
					se := &SnapshotError{File: name, Offset: j.off, Msg: fmt.Sprintf("slot %d: %v", j.slot, err)}
					if workerErr == nil || se.Offset < workerErr.(*SnapshotError).Offset {
						workerErr = se
					}
					errMu.Unlock()
					failed.Store(true)
				}
			}
		}()
	}
	_, st, err := readSnapshot(r, name, func(slot int, nkeys int, body []byte, off int64) error {
		if failed.Load() {
			return errSnapWorker
		}
		if keep != nil && !keep(slot) {
			dropped.Add(int64(nkeys))
			return nil
		}
		jobs <- job{slot, nkeys, body, off}
		return nil
	})
	close(jobs)
	wg.Wait()
	if workerErr != nil {
		var se *SnapshotError
		if err == nil || errors.Is(err, errSnapWorker) || (errors.As(err, &se) && se.Offset > workerErr.(*SnapshotError).Offset) {
			err = workerErr
		}
	}
	st.Keys, st.Expired, st.Dropped, st.Took = loaded.Load(), expired.Load(), dropped.Load(), time.Since(start)
	return st, err
}

var errSnapWorker = errors.New("section decoding failed")

// loadSection decodes one section into its slot. String values alias body
// (capacity-limited, so appending to one reallocates): one allocation per
// section instead of one per key.
func (s *Server) loadSection(slot, nkeys int, body []byte, now int64) (loaded, expired int64, err error) {
	sl := s.KS.Slot(slot)
	sl.Lock()
	defer sl.Unlock()
	lru := uint32(now / 1000)
	if lfuMode.Load() { // a loaded key is a new object: LFU_INIT_VAL, as Redis without FREQ info
		lru = lfuNew(now)
	}
	var misplaced []byte
	err = snapDecodeSectionAlias(body, nkeys, true, func(key []byte, e *Entry) {
		if slots.Of(key) != slot {
			misplaced = key
			return
		}
		if e.Exp != 0 && e.Exp <= now {
			expired++
			return
		}
		e.LRU = lru
		sl.Set(key, e)
		loaded++
	})
	if err == nil && misplaced != nil {
		err = fmt.Errorf("key %q does not belong to slot %d", trunc(string(misplaced), 64), slot)
	}
	return loaded, expired, err
}

// CheckSnapshot validates a snapshot file completely (structure, checksums,
// every value decodes) without loading it.
func CheckSnapshot(r io.Reader, name string) (snapHeader, SnapshotStats, error) {
	return readSnapshot(r, name, func(slot int, nkeys int, body []byte, off int64) error {
		return snapDecodeSection(body, nkeys, func(key []byte, e *Entry) {})
	})
}
