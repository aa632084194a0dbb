package node

// Append-only file, Redis 7 multi-part layout:
//
//	<dir>/<appenddirname>/<appendfilename>.manifest
//	<dir>/<appenddirname>/<appendfilename>.<seq>.base.rdb   snapshot format (snapshot.go)
//	<dir>/<appenddirname>/<appendfilename>.<seq>.incr.aof   RESP commands
//
// The manifest lists the base and the incremental files in replay order
// ("file <name> seq <n> type b|i"), like Redis 7's. Loading replays the base
// then every incr file; the live file is the last incr.
//
// Write path (group commit). The propagation hook encodes each write as RESP
// and appends it to an in-memory buffer under a short mutex (with the
// command's slot lock held, so per-slot order is the commit order) and
// records the stream offset in the client (Client.AckOff). Before a client's
// replies are flushed to its socket (Server.FlushHook) it waits until the
// stream is written past that offset — with appendfsync always, written and
// fdatasync'ed. Like Redis, every policy writes to the kernel before a reply
// is sent (a killed process never loses an acknowledged write); everysec
// fdatasyncs once a second in the background, no leaves it to the OS.
//
// Batches. The bytes not yet taken by a writer form the next batch; its
// waiters block on the batch's channel, closed once the batch is written
// (and synced), so a completed batch wakes exactly its own clients. A client
// that finds no batch in flight leads the write itself; one that finds a
// batch in flight leaves the next batch to the background writer, which
// starts it as soon as the one in flight is done (one write+fdatasync in
// flight at a time, the next batch collecting behind it). Under always the
// writer first yields the processor while the stream keeps growing, so that
// clients already runnable append their writes to the same batch — the
// equivalent of Redis's write+fsync once per event-loop iteration.
//
// Rewrite (BGREWRITEAOF, auto-aof-rewrite-*). A new incr file is opened and a
// keyspace cut (Keyspace.StartCut) is taken; at the cut, with every slot
// locked, the stream starts going to both the old and the new incr file. The
// cut is written as the new base. When the base is durable, the leader
// flushes and syncs both files, replaces the manifest atomically (temp file,
// fsync, rename, directory fsync), continues on the new incr file alone and
// deletes the old files. A crash at any point leaves a manifest naming a
// complete, consistent set of files; no write is lost or applied twice.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/slotkv/slotkv/slots"
)

const (
	fsyncNo int32 = iota
	fsyncEverysec
	fsyncAlways
)

func fsyncPolicy(s string) int32 {
	switch s {
	case "always":
		return fsyncAlways
	case "no":
		return fsyncNo
	}
	return fsyncEverysec
}

// aofFile is one manifest line.
type aofFile struct {
	Name string
	Seq  int
	Type byte // 'b' base, 'h' history, 'i' incr
}

// aofManifest lists the files of one AOF, in replay order.
type aofManifest struct {
	Base  *aofFile
	Incrs []aofFile
}

func (m *aofManifest) maxSeq() int {
	n := 0
	if m.Base != nil {
		n = m.Base.Seq
	}
	for _, f := range m.Incrs {
		if f.Seq > n {
			n = f.Seq
		}
	}
	return n
}

func (m *aofManifest) encode() []byte {
	var b bytes.Buffer
	line := func(f aofFile) {
		fmt.Fprintf(&b, "file %s seq %d type %c\n", quoteManifestName(f.Name), f.Seq, f.Type)
	}
	if m.Base != nil {
		line(*m.Base)
	}
	for _, f := range m.Incrs {
		line(f)
	}
	return b.Bytes()
}

func quoteManifestName(s string) string {
	if strings.ContainsAny(s, " \t\r\n\"'\\") || s == "" {
		return strconv.Quote(s)
	}
	return s
}

// parseManifest reads a Redis 7 style manifest.
func parseManifest(data []byte, name string) (*aofManifest, error) {
	m := &aofManifest{}
	for i, ln := range strings.Split(string(data), "\n") {
		ln = strings.TrimSpace(ln)
		if ln == "" || ln[0] == '#' {
			continue
		}
		args, err := splitArgsString(ln)
		if err != nil || len(args)%2 != 0 {
			return nil, fmt.Errorf("invalid AOF manifest %s line %d: %q", name, i+1, ln)
		}
		var f aofFile
		f.Seq = -1
		for j := 0; j < len(args); j += 2 {
			switch args[j] {
			case "file":
				f.Name = args[j+1]
			case "seq":
				n, err := strconv.Atoi(args[j+1])
				if err != nil || n < 0 {
					return nil, fmt.Errorf("invalid AOF manifest %s line %d: bad seq", name, i+1)
				}
				f.Seq = n
			case "type":
				if len(args[j+1]) != 1 {
					return nil, fmt.Errorf("invalid AOF manifest %s line %d: bad type", name, i+1)
				}
				f.Type = args[j+1][0]
			}
		}
		if f.Name == "" || f.Seq < 0 || strings.ContainsAny(f.Name, "/\\") {
			return nil, fmt.Errorf("invalid AOF manifest %s line %d: %q", name, i+1, ln)
		}
		switch f.Type {
		case 'b':
			if m.Base != nil {
				return nil, fmt.Errorf("invalid AOF manifest %s: more than one base file", name)
			}
			ff := f
			m.Base = &ff
		case 'i':
			m.Incrs = append(m.Incrs, f)
		case 'h':
			// history files are leftovers awaiting deletion: not replayed
		default:
			return nil, fmt.Errorf("invalid AOF manifest %s line %d: unknown type %q", name, i+1, f.Type)
		}
	}
	sort.SliceStable(m.Incrs, func(a, b int) bool { return m.Incrs[a].Seq < m.Incrs[b].Seq })
	if m.Base == nil && len(m.Incrs) == 0 {
		return nil, fmt.Errorf("invalid AOF manifest %s: no files", name)
	}
	return m, nil
}

// writeFileAtomic writes data to path via a temp file, fsync and rename,
// then fsyncs the directory.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "temp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return fsyncDir(dir)
}

func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}

// aofLog is an open append-only file.
type aofLog struct {
	p      *Persistence
	dir    string // absolute appenddirname
	prefix string // appendfilename
	policy atomic.Int32

	// The stream: guarded by mu, appended to with slot locks held.
	mu       sync.Mutex
	buf      []byte       // pending bytes for the live incr file
	nbuf     []byte       // pending bytes for the next incr file (rewrite, after its cut)
	dual     bool         // a rewrite passed its cut: writes also go to nbuf
	appended int64        // stream offset: bytes ever appended
	pending  atomic.Int64 // appended, readable without mu
	// batch bookkeeping (mu): see the file comment
	nextDone   chan struct{} // closed when the bytes now in buf are written; nil until a client waits
	flightEnd  int64         // stream offset at the end of the batch being written
	flightDone chan struct{} // the batch being written (nil: none, or nobody waits for it)
	inFlight   bool          // a writer has taken a batch and not finished it
	claimed    bool          // a writer (client or background) is committed to take buf
	nwait      int           // clients waiting for the next batch
	lastBatch  int           // clients in the batch written last
	expect     int           // clients expected in the next batch (see gatherAndWrite)
	want       int           // a leader waits until nwait reaches want (0: nobody waits)
	full       chan struct{} // signalled when nwait reaches want
	syncNs     atomic.Int64  // moving average of fdatasync durations (ns)
	released   bool          // closed: waiters return at once

	// Leader role (group commit) and waiters: wmu guards leading, syncing
	// and closed; cond signals changes of synced.
	wmu     sync.Mutex
	cond    *sync.Cond
	leading bool
	syncing int // background fdatasyncs in flight on cur
	closed  bool
	synced  atomic.Int64 // stream offset written (and fdatasync'ed under always)

	// Touched only by the leader.
	cur, next *os.File
	spare     []byte
	man       *aofManifest
	waitTimer *time.Timer

	curSize    atomic.Int64 // bytes in the live incr file
	baseSize   atomic.Int64 // bytes in the base at the last rewrite
	unsynced   atomic.Bool  // written since the last fdatasync
	lastFsync  atomic.Int64 // unix ms
	writeErr   atomic.Value // string: last write error ("" = ok)
	rewriting  atomic.Bool
	kick       chan struct{}
	stop       chan struct{}
	background sync.WaitGroup
}

func (a *aofLog) manifestPath() string    { return filepath.Join(a.dir, a.prefix+".manifest") }
func (a *aofLog) path(name string) string { return filepath.Join(a.dir, name) }

func newAOFLog(p *Persistence, cfg *Config, startOff int64) *aofLog {
	dir := cfg.Path(cfg.AppendDirname)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	a := &aofLog{p: p, dir: dir, prefix: cfg.AppendFilename, kick: make(chan struct{}, 1), stop: make(chan struct{}), full: make(chan struct{}, 1)}
	a.cond = sync.NewCond(&a.wmu)
	a.policy.Store(fsyncPolicy(cfg.AppendFsync))
	a.appended = startOff
	a.pending.Store(startOff)
	a.synced.Store(startOff)
	a.writeErr.Store("")
	a.lastFsync.Store(time.Now().UnixMilli())
	return a
}

// append adds one write to the stream. Slot lock(s) of the write held.
func (a *aofLog) append(c *Client, argv [][]byte) {
	a.mu.Lock()
	start := len(a.buf)
	a.buf = appendRESPCommand(a.buf, argv)
	if a.dual {
		a.nbuf = append(a.nbuf, a.buf[start:]...)
	}
	a.appended += int64(len(a.buf) - start)
	off := a.appended
	a.pending.Store(off)
	a.mu.Unlock()
	if c != nil {
		c.AckOff.Store(off)
	} else {
		select {
		case a.kick <- struct{}{}:
		default:
		}
	}
}

// appendRaw adds already encoded commands (a whole transaction) to the
// stream in one piece. Slot lock(s) held.
func (a *aofLog) appendRaw(c *Client, b []byte) {
	a.mu.Lock()
	a.buf = append(a.buf, b...)
	if a.dual {
		a.nbuf = append(a.nbuf, b...)
	}
	a.appended += int64(len(b))
	off := a.appended
	a.pending.Store(off)
	a.mu.Unlock()
	if c != nil {
		c.AckOff.Store(off)
	}
}

// waitFor returns once the stream is written (and synced, under always) up
// to off: at once if it is, else after the batch holding off completes,
// leading that batch itself when nothing is being written.
func (a *aofLog) waitFor(off int64) {
	for a.synced.Load() < off {
		a.mu.Lock()
		if a.released || a.synced.Load() >= off {
			a.mu.Unlock()
			return
		}
		if a.inFlight && off <= a.flightEnd {
			if a.flightDone == nil {
				a.flightDone = make(chan struct{})
			}
			ch := a.flightDone
			a.mu.Unlock()
			<-ch
			continue
		}
		// off is in buf: the next batch.
		if a.nextDone == nil {
			a.nextDone = make(chan struct{})
		}
		ch := a.nextDone
		a.nwait++
		if a.nwait == a.want {
			select {
			case a.full <- struct{}{}:
			default:
			}
		}
		switch {
		case a.claimed:
			a.mu.Unlock()
		case !a.inFlight:
			// Nothing being written: lead this batch here.
			a.claimed = true
			a.mu.Unlock()
			a.lead(a.gatherAndWrite)
			continue
		default:
			// A batch is in flight: the background writer takes this one
			// as soon as it is done.
			a.claimed = true
			a.mu.Unlock()
			select {
			case a.kick <- struct{}{}:
			default:
			}
		}
		<-ch
	}
}

// gatherAndWrite writes the next batch. Under always, before taking it, it
// lets the batch fill: first it yields the processor while the stream keeps
// growing (bounded), so that client goroutines already runnable append to
// this batch; then, if fewer clients wait than expected (those the last
// batch released, on their way back with their next write, plus those that
// were already waiting then), it waits for them, at most the average
// fdatasync time (capped at 1 ms). One batch then
// carries all the clients of a closed loop instead of two groups
// alternating: half the fdatasyncs, each of which costs ~100 us of CPU on a
// virtualised disk. The wait is cut short as soon as they are there. Leader
// only.
func (a *aofLog) gatherAndWrite() {
	for i := 0; i < 8; i++ {
		n := a.pending.Load()
		runtime.Gosched()
		if a.pending.Load() == n {
			break
		}
	}
	if a.policy.Load() == fsyncAlways {
		a.mu.Lock()
		want := a.expect
		if a.nwait > 0 && a.nwait < want {
			a.want = want
			a.mu.Unlock()
			d := time.Duration(a.syncNs.Load())
			if d > time.Millisecond {
				d = time.Millisecond
			}
			if a.waitTimer == nil {
				a.waitTimer = time.NewTimer(d)
			} else {
				a.waitTimer.Reset(d)
			}
			select {
			case <-a.full:
			case <-a.waitTimer.C:
			}
			a.waitTimer.Stop()
			a.mu.Lock()
			a.want = 0
			select { // drop a late signal
			case <-a.full:
			default:
			}
		}
		a.mu.Unlock()
	}
	a.writeOut()
}

// lead runs fn with the leader role (exclusive use of the files).
func (a *aofLog) lead(fn func()) {
	a.wmu.Lock()
	for a.leading {
		a.cond.Wait()
	}
	a.leading = true
	a.wmu.Unlock()
	defer func() {
		a.wmu.Lock()
		a.leading = false
		a.cond.Broadcast()
		a.wmu.Unlock()
	}()
	fn()
}

// writeOut writes everything appended so far. Leader only.
func (a *aofLog) writeOut() {
	// CONFIG SET appendfsync applies from the next batch on.
	a.policy.Store(fsyncPolicy(a.p.srv.Config().AppendFsync))
	a.mu.Lock()
	b, nb := a.buf, a.nbuf
	end := a.appended
	a.buf = a.spare[:0]
	a.spare = nil
	if a.nbuf != nil {
		a.nbuf = nil
	}
	done := a.nextDone
	a.nextDone, a.claimed = nil, false
	a.lastBatch, a.nwait = a.nwait, 0
	a.inFlight, a.flightEnd, a.flightDone = true, end, done
	a.mu.Unlock()
	if len(b) > 0 && a.cur != nil {
		if err := rawWriteAll(a.cur, b); err != nil {
			a.writeFailed(err)
		}
		a.curSize.Add(int64(len(b)))
		if a.policy.Load() == fsyncAlways {
			t0 := time.Now()
			if err := rawFdatasync(a.cur); err != nil {
				a.writeFailed(err)
			}
			ns := a.syncNs.Load()
			a.syncNs.Store(ns + (int64(time.Since(t0))-ns)/8)
			if aofSyncedHook != nil {
				aofSyncedHook(end)
			}
			a.lastFsync.Store(time.Now().UnixMilli())
		} else {
			a.unsynced.Store(true)
		}
	}
	if len(nb) > 0 && a.next != nil {
		if err := rawWriteAll(a.next, nb); err != nil {
			a.writeFailed(err)
		}
	}
	a.synced.Store(end)
	a.mu.Lock()
	done = a.flightDone // a waiter may have created it meanwhile
	a.inFlight, a.flightDone = false, nil
	// The clients released now come back with their next write: the next
	// batch expects them plus those already waiting for it.
	a.expect = a.lastBatch + a.nwait
	a.mu.Unlock()
	if done != nil {
		close(done)
	}
	if cap(b) <= 4<<20 {
		a.spare = b[:0]
	}
}

// rawWriteAll and rawFdatasync are the batch write path: raw system calls
// that keep the processor (P) instead of entering the runtime's syscall
// state. With os.File.Write/Sync every fdatasync (0.2-1 ms) outlived
// sysmon's 20 us check, so the P was retaken and handed to another thread
// (futex wake-ups, thread switches) and sysmon kept polling every 20 us:
// measured under redis-benchmark -P 1 with appendfsync always as ~0.5
// nanosleep and 0.2 futex calls per request. Holding the P for the
// duration of one fdatasync is what Redis does with its whole event loop;
// here the other Ps keep serving clients. Only the leader calls them, with
// the files stable (the leader role).
func rawWriteAll(f *os.File, b []byte) error {
	fd := f.Fd()
	for len(b) > 0 {
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		switch {
		case errno == syscall.EINTR:
			continue
		case errno != 0:
			return &os.PathError{Op: "write", Path: f.Name(), Err: errno}
		case n == 0:
			return &os.PathError{Op: "write", Path: f.Name(), Err: io.ErrShortWrite}
		}
		b = b[n:]
	}
	return nil
}

func rawFdatasync(f *os.File) error {
	fd := f.Fd()
	for {
		_, _, errno := syscall.RawSyscall(syscall.SYS_FDATASYNC, fd, 0, 0)
		switch errno {
		case 0:
			return nil
		case syscall.EINTR:
			continue
		}
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: errno}
	}
}

// writeFailed handles an AOF write error. Under appendfsync always a write
// must not be acknowledged unless it is on disk, so, like Redis, the
// process exits; otherwise the error is logged and reported in INFO.
func (a *aofLog) writeFailed(err error) {
	a.writeErr.Store(err.Error())
	if a.policy.Load() == fsyncAlways {
		a.p.srv.Log.Error("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...", "err", err)
		fatalExit(1)
	}
	a.p.srv.Log.Warn("error writing to the AOF file", "err", err)
}

// aofSyncedHook, set by tests, sees the stream offset each batch
// fdatasync (appendfsync always) made durable.
var aofSyncedHook func(end int64)

// fatalExit ends the process (replaced in tests).
var fatalExit = os.Exit

// background writes data appended without a client (expiry deletions),
// fdatasyncs once a second under everysec and triggers auto rewrites.
func (a *aofLog) backgroundLoop() {
	defer a.background.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-a.kick:
		case <-t.C:
		}
		for i := 0; i < 1000 && a.pending.Load() > a.synced.Load(); i++ {
			a.lead(a.gatherAndWrite)
		}
		if a.policy.Load() == fsyncEverysec && a.unsynced.Load() && time.Now().UnixMilli()-a.lastFsync.Load() >= 1000 {
			a.fsyncBackground()
		}
	}
}

// fsyncBackground fdatasyncs the live file without holding the leader role,
// so writers are not held up by the sync.
func (a *aofLog) fsyncBackground() {
	a.wmu.Lock()
	for a.leading {
		a.cond.Wait()
	}
	f := a.cur
	if f == nil || a.closed {
		a.wmu.Unlock()
		return
	}
	a.syncing++
	a.unsynced.Store(false)
	a.wmu.Unlock()
	if err := fdatasync(f); err != nil {
		a.p.srv.Log.Warn("AOF fsync failed", "err", err)
		a.unsynced.Store(true)
	}
	a.lastFsync.Store(time.Now().UnixMilli())
	a.wmu.Lock()
	a.syncing--
	a.cond.Broadcast()
	a.wmu.Unlock()
}

// waitSyncsLocked waits for background syncs to finish (wmu held).
func (a *aofLog) waitSyncsLocked() {
	for a.syncing > 0 {
		a.cond.Wait()
	}
}

// close writes and syncs what is pending and closes the files.
func (a *aofLog) close() {
	close(a.stop)
	a.background.Wait()
	a.lead(func() {
		a.writeOut()
		if a.cur != nil {
			fdatasync(a.cur)
		}
		a.wmu.Lock()
		a.waitSyncsLocked()
		a.closed = true
		a.cond.Broadcast()
		a.wmu.Unlock()
		a.mu.Lock()
		a.released = true
		if a.nextDone != nil {
			close(a.nextDone)
			a.nextDone = nil
		}
		a.mu.Unlock()
		if a.cur != nil {
			a.cur.Close()
			a.cur = nil
		}
		if a.next != nil {
			a.next.Close()
			a.next = nil
		}
	})
}

// openLive opens the last incr file of the manifest for appending.
func (a *aofLog) openLive(m *aofManifest) error {
	a.man = m
	if len(m.Incrs) == 0 {
		// A base alone: start an incr file after it.
		f := aofFile{Name: fmt.Sprintf("%s.%d.incr.aof", a.prefix, m.maxSeq()+1), Seq: m.maxSeq() + 1, Type: 'i'}
		nm := &aofManifest{Base: m.Base, Incrs: []aofFile{f}}
		fh, err := os.OpenFile(a.path(f.Name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		if err := writeFileAtomic(a.manifestPath(), nm.encode()); err != nil {
			fh.Close()
			return err
		}
		a.cur, a.man = fh, nm
		return nil
	}
	last := m.Incrs[len(m.Incrs)-1]
	fh, err := os.OpenFile(a.path(last.Name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return err
	}
	a.cur = fh
	a.curSize.Store(st.Size())
	if m.Base != nil {
		if bst, err := os.Stat(a.path(m.Base.Name)); err == nil {
			a.baseSize.Store(bst.Size())
		}
	}
	return nil
}

func (a *aofLog) start() {
	a.background.Add(1)
	go a.backgroundLoop()
}

// totalSize is the AOF's current size (base + incr files) for INFO and the
// auto-rewrite rule.
func (a *aofLog) totalSize() int64 { return a.baseSize.Load() + a.curSize.Load() }

// rewrite writes a new base from a keyspace cut and switches to a new incr
// file (see the file comment). It runs on its own goroutine; the caller has
// set a.rewriting.
func (a *aofLog) rewrite() (SnapshotStats, error) {
	defer a.rewriting.Store(false)
	var seq int
	a.lead(func() {
		if a.man == nil {
			// AOF (re)enabled at runtime: files of an earlier AOF in the
			// directory are replaced (and removed) by this rewrite.
			if data, err := os.ReadFile(a.manifestPath()); err == nil {
				if m, err := parseManifest(data, a.manifestPath()); err == nil {
					a.man = m
				}
			}
		}
		seq = 1
		if a.man != nil {
			seq = a.man.maxSeq() + 1
		}
	})
	preamble := a.p.srv.Config().AOFUseRDBPreamble
	baseName := fmt.Sprintf("%s.%d.base.rdb", a.prefix, seq)
	if !preamble {
		baseName = fmt.Sprintf("%s.%d.base.aof", a.prefix, seq)
	}
	incrName := fmt.Sprintf("%s.%d.incr.aof", a.prefix, seq)
	nf, err := os.OpenFile(a.path(incrName), os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return SnapshotStats{}, err
	}
	a.lead(func() { a.next = nf })
	abort := func(err error) (SnapshotStats, error) {
		a.lead(func() {
			a.mu.Lock()
			a.dual, a.nbuf = false, nil
			a.mu.Unlock()
			a.next = nil
		})
		nf.Close()
		os.Remove(a.path(incrName))
		return SnapshotStats{}, err
	}
	atCut := func() {
		a.mu.Lock()
		a.dual, a.nbuf = true, nil
		a.mu.Unlock()
	}
	var st SnapshotStats
	if preamble {
		st, err = a.p.srv.SaveSnapshotFile(a.path(baseName), snapshotAux("aof-base"), atCut)
	} else {
		st, err = writeFileCut(a.path(baseName), func(w io.Writer) (SnapshotStats, error) { return a.p.srv.WriteCommands(w, atCut) })
	}
	if err != nil {
		return abort(err)
	}
	var old *aofManifest
	var serr error
	a.lead(func() {
		a.writeOut()
		if err := fdatasync(nf); err != nil {
			serr = err
			return
		}
		nm := &aofManifest{Base: &aofFile{Name: baseName, Seq: seq, Type: 'b'}, Incrs: []aofFile{{Name: incrName, Seq: seq, Type: 'i'}}}
		if err := writeFileAtomic(a.manifestPath(), nm.encode()); err != nil {
			serr = err
			return
		}
		// buf and nbuf hold the same bytes since the cut: keep buf.
		a.mu.Lock()
		a.dual, a.nbuf = false, nil
		a.mu.Unlock()
		a.wmu.Lock()
		a.waitSyncsLocked()
		a.wmu.Unlock()
		if a.cur != nil {
			a.cur.Close()
		}
		size, _ := nf.Seek(0, io.SeekCurrent)
		a.cur, a.next = nf, nil
		a.curSize.Store(size)
		a.baseSize.Store(st.Bytes)
		old, a.man = a.man, nm
	})
	if serr != nil {
		os.Remove(a.path(baseName))
		return abort(serr)
	}
	if old != nil {
		if old.Base != nil && old.Base.Name != baseName {
			os.Remove(a.path(old.Base.Name))
		}
		for _, f := range old.Incrs {
			if f.Name != incrName {
				os.Remove(a.path(f.Name))
			}
		}
	}
	return st, nil
}

// ---------------------------------------------------------------------------
// Loading

// AOFError is a load or check failure at a file offset.
type AOFError struct {
	File      string
	Offset    int64
	Msg       string
	Truncated bool // the file ends in the middle of a command
}

func (e *AOFError) Error() string {
	return fmt.Sprintf("append only file %s: offset %d: %s", e.File, e.Offset, e.Msg)
}

// aofReader parses RESP commands from an AOF, tracking offsets.
type aofReader struct {
	r    *bufio.Reader
	name string
	off  int64
	buf  []byte
	argv [][]byte
}

func newAOFReader(r io.Reader, name string, off int64) *aofReader {
	return &aofReader{r: bufio.NewReaderSize(r, 1<<20), name: name, off: off}
}

func (ar *aofReader) line() ([]byte, error) {
	ln, err := ar.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return nil, errors.New("line too long")
	}
	ar.off += int64(len(ln))
	if err != nil {
		return nil, io.ErrUnexpectedEOF
	}
	if len(ln) < 2 || ln[len(ln)-2] != '\r' {
		return nil, errors.New("line not terminated by CRLF")
	}
	return ln[:len(ln)-2], nil
}

// next returns the next command and its start offset; io.EOF at a clean end.
// argv aliases an internal buffer valid until the next call.
func (ar *aofReader) next() ([][]byte, int64, error) {
	for {
		start := ar.off
		if _, err := ar.r.Peek(1); err == io.EOF {
			return nil, start, io.EOF
		}
		ln, err := ar.line()
		if err != nil {
			return nil, start, ar.wrap(start, err)
		}
		if len(ln) > 0 && ln[0] == '#' {
			continue // annotation (aof-timestamp-enabled)
		}
		if len(ln) < 2 || ln[0] != '*' {
			return nil, start, &AOFError{File: ar.name, Offset: start, Msg: "expected '*' (bad file format)"}
		}
		n, ok := ParseInt(ln[1:])
		if !ok || n < 1 || n > 1<<20 {
			return nil, start, &AOFError{File: ar.name, Offset: start, Msg: "invalid multibulk length"}
		}
		ar.buf = ar.buf[:0]
		lens := make([]int, 0, n)
		for i := int64(0); i < n; i++ {
			at := ar.off
			ln, err := ar.line()
			if err != nil {
				return nil, start, ar.wrap(at, err)
			}
			if len(ln) < 2 || ln[0] != '$' {
				return nil, start, &AOFError{File: ar.name, Offset: at, Msg: "expected '$' (bad file format)"}
			}
			l, ok := ParseInt(ln[1:])
			if !ok || l < 0 || l > 1<<32 {
				return nil, start, &AOFError{File: ar.name, Offset: at, Msg: "invalid bulk length"}
			}
			pos := len(ar.buf)
			need := pos + int(l) + 2
			if cap(ar.buf) < need {
				nb := make([]byte, pos, need+need/4)
				copy(nb, ar.buf)
				ar.buf = nb
			}
			ar.buf = ar.buf[:need]
			m, err := io.ReadFull(ar.r, ar.buf[pos:need])
			ar.off += int64(m)
			if err != nil {
				return nil, start, ar.wrap(at, io.ErrUnexpectedEOF)
			}
			if ar.buf[need-2] != '\r' || ar.buf[need-1] != '\n' {
				return nil, start, &AOFError{File: ar.name, Offset: at, Msg: "bulk string not terminated by CRLF"}
			}
			ar.buf = ar.buf[:need-2]
			lens = append(lens, int(l))
		}
		ar.argv = ar.argv[:0]
		p := 0
		for _, l := range lens {
			ar.argv = append(ar.argv, ar.buf[p:p+l:p+l])
			p += l
		}
		return ar.argv, start, nil
	}
}

func (ar *aofReader) wrap(at int64, err error) error {
	if err == io.ErrUnexpectedEOF {
		return &AOFError{File: ar.name, Offset: at, Msg: "unexpected end of file", Truncated: true}
	}
	return &AOFError{File: ar.name, Offset: at, Msg: err.Error()}
}

// nopConn is the connection of the AOF loader's fake client.
type nopConn struct{}

func (nopConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (nopConn) Write(b []byte) (int, error)      { return len(b), nil }
func (nopConn) Close() error                     { return nil }
func (nopConn) LocalAddr() net.Addr              { return fakeAddr{} }
func (nopConn) RemoteAddr() net.Addr             { return fakeAddr{} }
func (nopConn) SetDeadline(time.Time) error      { return nil }
func (nopConn) SetReadDeadline(time.Time) error  { return nil }
func (nopConn) SetWriteDeadline(time.Time) error { return nil }

type fakeAddr struct{}

func (fakeAddr) Network() string { return "aof" }
func (fakeAddr) String() string  { return "aof-loader" }

// newLoaderClient returns the fake client that replays AOF commands.
func newLoaderClient(s *Server) *Client {
	c := &Client{srv: s, conn: nopConn{}, ID: -1, Name: "aof-loader", Addr: "aof-loader", slot: -1, Authed: true, User: "default", Created: time.Now()}
	c.W.Proto = 2
	c.locked = c.lockBuf[:0]
	c.closing.Store(true) // blocking commands return at once
	return c
}

// replayCommand runs one AOF command on the loader client.
func (s *Server) replayCommand(c *Client, argv [][]byte) error {
	cmd := lookupCommand(argv[0], &c.scratch)
	if cmd == nil {
		return fmt.Errorf("unknown command '%s'", trunc(string(argv[0]), 128))
	}
	if !cmd.arityOK(len(argv)) {
		return fmt.Errorf("wrong number of arguments for '%s'", cmd.Name)
	}
	if cmd.Sub != nil {
		sub := lookupSub(cmd, argv[1])
		if sub == nil || !sub.arityOK(len(argv)) {
			return fmt.Errorf("unknown or malformed subcommand '%s %s'", cmd.Name, trunc(string(argv[1]), 64))
		}
		cmd = sub
	}
	c.slot = -1
	ss := c.lockBuf[:0]
	if cmd.HasKeys() {
		for _, p := range cmd.KeyPositions(argv, c.keyBuf[:0]) {
			ss = append(ss, slots.Of(argv[p]))
		}
		sort.Ints(ss)
		ss = dedup(ss)
		if len(ss) == 1 {
			c.slot = ss[0]
		}
	}
	c.lockSlots(ss)
	s.call(c, cmd, argv)
	c.unlockSlots()
	c.W.B = c.W.B[:0]
	return nil
}

// replayAOF replays the commands of r. It returns the offset just after the
// last complete command and the error that stopped it (nil at a clean end).
// Commands between MULTI and EXEC run only when EXEC is read.
func (s *Server) replayAOF(r io.Reader, name string, c *Client) (good int64, cmds int64, err error) {
	ar := newAOFReader(r, name, 0)
	var multi [][][]byte
	inMulti := false
	var multiStart int64
	for {
		argv, start, err := ar.next()
		if err == io.EOF {
			if inMulti {
				return multiStart, cmds, &AOFError{File: name, Offset: multiStart, Msg: "unexpected end of file inside MULTI", Truncated: true}
			}
			return start, cmds, nil
		}
		if err != nil {
			if inMulti {
				if ae, ok := err.(*AOFError); ok && ae.Truncated {
					ae.Offset = multiStart
					return multiStart, cmds, ae
				}
			}
			return start, cmds, err
		}
		switch {
		case dumpArgIs(argv[0], "multi"):
			inMulti, multi, multiStart = true, multi[:0], start
			continue
		case dumpArgIs(argv[0], "exec"):
			for _, q := range multi {
				if err := s.replayCommand(c, q); err != nil {
					return start, cmds, &AOFError{File: name, Offset: start, Msg: err.Error()}
				}
				cmds++
			}
			inMulti, multi = false, multi[:0]
			continue
		case dumpArgIs(argv[0], "select"):
			continue // one database
		}
		if inMulti {
			q := make([][]byte, len(argv))
			for i, a := range argv {
				q[i] = append([]byte(nil), a...)
			}
			multi = append(multi, q)
			continue
		}
		if err := s.replayCommand(c, argv); err != nil {
			return start, cmds, &AOFError{File: name, Offset: start, Msg: err.Error()}
		}
		cmds++
	}
}

// AOFLoadStats describes a loaded AOF.
type AOFLoadStats struct {
	Files     int
	Commands  int64
	BaseKeys  int64
	Truncated int64 // bytes cut from a truncated tail (0 = none)
}

// errNoAOF means the AOF directory holds no manifest.
var errNoAOF = errors.New("no append only file")

// loadAOF loads the AOF described by dir's manifest into s.
func (s *Server) loadAOF(dir, prefix string, allowTruncated bool) (*aofManifest, AOFLoadStats, error) {
	var st AOFLoadStats
	mpath := filepath.Join(dir, prefix+".manifest")
	data, err := os.ReadFile(mpath)
	if os.IsNotExist(err) {
		return nil, st, errNoAOF
	}
	if err != nil {
		return nil, st, err
	}
	m, err := parseManifest(data, mpath)
	if err != nil {
		return nil, st, err
	}
	c := newLoaderClient(s)
	if m.Base != nil {
		path := filepath.Join(dir, m.Base.Name)
		f, err := os.Open(path)
		if err != nil {
			return nil, st, fmt.Errorf("open AOF base: %w", err)
		}
		br := bufio.NewReaderSize(f, 64<<10)
		head, _ := br.Peek(len(SnapshotMagic))
		if string(head) == SnapshotMagic {
			ls, err := s.LoadSnapshot(br, path, nil)
			st.BaseKeys = ls.Keys
			if err != nil {
				f.Close()
				return nil, st, err
			}
		} else {
			_, n, err := s.replayAOF(br, path, c)
			st.Commands += n
			if err != nil {
				f.Close()
				return nil, st, err
			}
		}
		f.Close()
		st.Files++
	}
	for i, inc := range m.Incrs {
		path := filepath.Join(dir, inc.Name)
		f, err := os.Open(path)
		if os.IsNotExist(err) && i == len(m.Incrs)-1 {
			continue // created lazily
		}
		if err != nil {
			return nil, st, fmt.Errorf("open AOF file: %w", err)
		}
		good, n, err := s.replayAOF(f, path, c)
		f.Close()
		st.Commands += n
		st.Files++
		if err != nil {
			var ae *AOFError
			last := i == len(m.Incrs)-1
			if errors.As(err, &ae) && ae.Truncated && last && allowTruncated {
				fi, serr := os.Stat(path)
				if serr == nil {
					st.Truncated = fi.Size() - good
				}
				s.Log.Warn("!!! Warning: short read while loading the AOF file; AOF loaded anyway because aof-load-truncated is enabled, truncating the incomplete tail", "file", path, "offset", good, "bytes_removed", st.Truncated)
				if terr := os.Truncate(path, good); terr != nil {
					return nil, st, fmt.Errorf("truncate %s: %w", path, terr)
				}
				continue
			}
			if errors.As(err, &ae) && ae.Truncated && !last {
				ae.Msg += " (not the last AOF file: refusing to load a partial history)"
			}
			return nil, st, err
		}
	}
	return m, st, nil
}
