package node

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Replication, master side.
//
// Every write that changed the keyspace is encoded once as a RESP command
// and appended, under the writer's slot lock, to the replication backlog (a
// ring buffer that serves partial resyncs) and to every attached replica's
// output. The offset of a byte in that stream is the replication offset, as
// in Redis; replicas acknowledge offsets (REPLCONF ACK) and WAIT counts
// those acknowledgements.
//
// A full sync streams a point-in-time cut of the keyspace (Keyspace.StartCut)
// taken at the offset sent in +FULLRESYNC, so the stream that follows applies
// on top of exactly that state. Nothing forks and the master keeps serving.
//
// Concurrency: replState.mu guards the backlog, the offsets and the replica
// set; it is held only to append bytes or copy them out. Each replica has
// its own sender goroutine.
type replState struct {
	mu        sync.Mutex
	replid    string
	replid2   string
	offset    int64 // master_repl_offset: bytes ever appended to the stream
	secondOff int64 // second_repl_offset: replid2 is valid up to here (-1: none)
	backlog   []byte
	histStart int64 // offset of the first byte held in the backlog (+1 like Redis)
	histLen   int64
	replicas  map[*replicaConn]struct{}
	enc       []byte        // scratch for encoding one command
	ackCh     chan struct{} // closed on every REPLCONF ACK (WAIT waits on it)

	// replica side
	link *replicaLink

	// active is set once a replica attached or this node became a replica:
	// from then on every write is fed to the stream (as Redis creates its
	// backlog with the first replica).
	active atomic.Bool
}

// replicaConn is one attached replica, as seen by its master.
type replicaConn struct {
	c        *Client
	ip       string
	port     int
	state    atomic.Value // "wait_bgsave", "send_bulk", "online"
	ackOff   atomic.Int64
	ackTime  atomic.Int64 // unix ms of the last ACK
	mu       sync.Mutex
	pending  []byte // stream bytes not yet written
	wake     chan struct{}
	limit    int
	overflow atomic.Bool
}

func newReplID() string {
	var b [20]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Server) initRepl() {
	s.repl.replid = newReplID()
	s.repl.replid2 = "0000000000000000000000000000000000000000"
	s.repl.secondOff = -1
	s.repl.replicas = map[*replicaConn]struct{}{}
}

// IsReplica reports whether this node currently follows a master.
func (s *Server) IsReplica() bool { return replicaMode.Load() }

// replicaMode is process-wide: one server per process. Lookup consults it so
// replicas hide expired keys without deleting them (the master drives expiry).
var replicaMode atomic.Bool

// ReplOffset returns the current replication offset (for elections: a
// replica's processed offset, a master's stream offset).
func (s *Server) ReplOffset() int64 {
	s.repl.mu.Lock()
	defer s.repl.mu.Unlock()
	return s.repl.offset
}

// feedRepl appends argv to the replication stream. Called with the writing
// command's slot locks held, so per-key order in the stream is the order in
// which the writes happened.
func (s *Server) feedRepl(c *Client, argv [][]byte) {
	r := &s.repl
	r.mu.Lock()
	b := r.enc[:0]
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(argv)), 10)
	b = append(b, '\r', '\n')
	for _, a := range argv {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	r.enc = b
	s.appendStreamLocked(b)
	if c != nil {
		c.woff = r.offset
	}
	r.mu.Unlock()
}

// appendStreamLocked adds raw stream bytes (already RESP-encoded) to the
// backlog and every replica's output. r.mu held.
func (s *Server) appendStreamLocked(b []byte) {
	r := &s.repl
	if len(b) == 0 {
		return
	}
	size := int(s.Config().ReplBacklogSize)
	if size < 16<<10 {
		size = 16 << 10
	}
	if len(r.backlog) != size {
		r.backlog = make([]byte, size)
		r.histLen = 0
		r.histStart = r.offset + 1
	}
	// ring write
	for p := b; len(p) > 0; {
		pos := int(r.offset % int64(size))
		n := copy(r.backlog[pos:], p)
		p = p[n:]
		r.offset += int64(n)
		r.histLen += int64(n)
	}
	if r.histLen > int64(size) {
		r.histLen = int64(size)
	}
	r.histStart = r.offset - r.histLen + 1
	for rc := range r.replicas {
		rc.push(b)
	}
}

// push queues stream bytes for a replica (never blocks the writer).
func (rc *replicaConn) push(b []byte) {
	rc.mu.Lock()
	if len(rc.pending)+len(b) > rc.limit {
		rc.overflow.Store(true)
		rc.pending = nil
	} else if !rc.overflow.Load() {
		rc.pending = append(rc.pending, b...)
	}
	rc.mu.Unlock()
	select {
	case rc.wake <- struct{}{}:
	default:
	}
}

// backlogFrom returns a copy of the stream from offset off (Redis's psync
// offset: the first byte the replica wants) or false when not available.
func (r *replState) backlogFromLocked(off int64) ([]byte, bool) {
	if off < r.histStart || off > r.offset+1 || r.backlog == nil && off != r.offset+1 {
		return nil, false
	}
	n := r.offset + 1 - off
	out := make([]byte, 0, n)
	size := int64(len(r.backlog))
	for i := off - 1; i < r.offset; {
		pos := i % size
		end := size
		if rem := r.offset - i; pos+rem < end {
			end = pos + rem
		}
		out = append(out, r.backlog[pos:end]...)
		i += end - pos
	}
	return out, true
}

// sender writes queued stream bytes to the replica until it goes away.
func (s *Server) replicaSender(rc *replicaConn) {
	ping := time.NewTicker(time.Second)
	defer ping.Stop()
	var spare []byte
	for {
		select {
		case <-rc.wake:
		case <-ping.C:
			// Like Redis's periodic PING to replicas: keeps the link and the
			// replica's lag figures alive when there are no writes.
			s.repl.mu.Lock()
			s.appendStreamLocked([]byte("*1\r\n$4\r\nPING\r\n"))
			s.repl.mu.Unlock()
			continue
		case <-s.done:
			return
		}
		if rc.c.Closed() {
			return
		}
		if rc.overflow.Load() {
			s.Log.Warn("replica output buffer limit reached; disconnecting replica", "replica", rc.c.Addr)
			rc.c.Close()
			return
		}
		// Double buffering: writers append into the buffer the sender wrote
		// last time (a fresh slice per batch made push's append grow it
		// from nothing: growslice was 30% of a master's CPU under
		// pipelined SETs with one replica).
		rc.mu.Lock()
		out := rc.pending
		rc.pending, spare = spare, nil
		rc.mu.Unlock()
		if len(out) == 0 {
			spare = out
			continue
		}
		rc.c.asyncMu.Lock()
		rc.c.conn.SetWriteDeadline(time.Now().Add(60 * time.Second))
		_, err := rc.c.conn.Write(out)
		rc.c.asyncMu.Unlock()
		if err != nil {
			rc.c.Close()
			return
		}
		if cap(out) <= 4<<20 { // a burst's big buffer is not kept
			spare = out[:0]
		}
	}
}

// psync serves PSYNC/SYNC: a partial resync from the backlog when possible,
// otherwise a full sync from a keyspace cut. It takes over writing to the
// client's connection; the connection loop keeps reading its REPLCONF ACKs.
func (s *Server) psync(c *Client, replid string, off int64) {
	r := &s.repl
	if replicaMode.Load() {
		// A replica serves its own replicas only once it has its
		// master's data (as Redis).
		if up, _ := s.MasterLinkUp(); !up {
			c.W.Error("NOMASTERLINK Can't SYNC while not connected with my master")
			return
		}
	}
	rc := &replicaConn{c: c, wake: make(chan struct{}, 1), limit: 256 << 20}
	rc.ip, _, _ = net.SplitHostPort(c.Addr)
	rc.port = c.replPort
	rc.ackTime.Store(nowMs())
	r.active.Store(true)
	c.async.Store(true)
	c.replica = rc
	c.SetFlag(ClientReplica, true) // CLIENT LIST flags=S, CLIENT KILL TYPE replica
	// Replies so far (REPLCONF +OK...) go out before the stream.
	c.flush()

	r.mu.Lock()
	if replid == r.replid || (replid == r.replid2 && off <= r.secondOff) {
		if data, ok := r.backlogFromLocked(off); ok {
			line := "+CONTINUE " + r.replid + "\r\n"
			rc.pending = append([]byte(line), data...)
			rc.state.Store("online")
			r.replicas[rc] = struct{}{}
			r.mu.Unlock()
			s.Log.Info("partial resynchronization accepted", "replica", c.Addr, "offset", off, "bytes", len(data))
			s.statPartialOK.Add(1)
			select {
			case rc.wake <- struct{}{}:
			default:
			}
			go s.replicaSender(rc)
			return
		}
	}
	r.mu.Unlock()
	if replid != "?" {
		s.statPartialErr.Add(1)
	}
	s.statFullSync.Add(1)
	s.fullSync(rc)
}

// fullSync streams a cut of the keyspace in the snapshot file format
// (snapshot.go: per-slot sections with checksums, an end record with the
// totals), then the write stream from the cut's offset. The replica loads it
// with LoadSnapshot (sections decoded in parallel).
//
// Slots are encoded by writeCut (an unbounded queue: emitting a slot, with
// its lock held, never waits for the network, so a slow or stalled replica
// cannot block the master's clients) and written here through one buffer.
func (s *Server) fullSync(rc *replicaConn) {
	c := rc.c
	r := &s.repl
	rc.state.Store("wait_bgsave")
	start := time.Now()
	c.asyncMu.Lock()
	fw := &fullSyncWriter{w: bufio.NewWriterSize(&deadlineWriter{c: c.conn}, 256<<10)}
	var startOff int64
	fw.started = func() {
		s.Log.Info("starting full resynchronization", "replica", c.Addr, "offset", startOff)
	}
	st, err := s.WriteSnapshot(fw, snapshotAux("fullsync"), func() {
		// All slot locks are held: no write is in flight, so this offset is
		// exactly the state the cut captures. From here on the replica's
		// output queue receives every write.
		r.mu.Lock()
		startOff = r.offset
		fw.line = "+FULLRESYNC " + r.replid + " " + strconv.FormatInt(startOff, 10) + "\r\n"
		rc.overflow.Store(false)
		r.replicas[rc] = struct{}{}
		r.mu.Unlock()
		rc.state.Store("send_bulk")
	})
	if err == nil {
		err = fw.w.Flush()
	}
	c.asyncMu.Unlock()
	if err != nil {
		s.Log.Warn("full sync failed", "replica", c.Addr, "err", err)
		c.Close()
		r.mu.Lock()
		delete(r.replicas, rc)
		r.mu.Unlock()
		return
	}
	rc.state.Store("online")
	s.Log.Info("full resynchronization sent", "replica", c.Addr, "offset", startOff, "keys", st.Keys, "bytes", st.Bytes, "took", time.Since(start).Round(time.Millisecond))
	select {
	case rc.wake <- struct{}{}:
	default:
	}
	go s.replicaSender(rc)
}

// fullSyncWriter holds back what is written before the cut (the snapshot
// header) until the cut set line (+FULLRESYNC with the cut's offset), which
// must reach the replica first.
type fullSyncWriter struct {
	w       *bufio.Writer
	line    string
	head    []byte
	sent    bool
	started func() // runs once, just before line is written
}

func (f *fullSyncWriter) Write(p []byte) (int, error) {
	if !f.sent {
		if f.line == "" {
			f.head = append(f.head, p...)
			return len(p), nil
		}
		f.sent = true
		if f.started != nil {
			f.started()
		}
		if _, err := f.w.WriteString(f.line); err != nil {
			return 0, err
		}
		if _, err := f.w.Write(f.head); err != nil {
			return 0, err
		}
	}
	return f.w.Write(p)
}

// deadlineWriter gives every write to the replica 60 s.
type deadlineWriter struct{ c net.Conn }

func (d *deadlineWriter) Write(p []byte) (int, error) {
	d.c.SetWriteDeadline(time.Now().Add(60 * time.Second))
	return d.c.Write(p)
}

// dropReplica forgets a disconnected replica.
func (s *Server) dropReplica(c *Client) {
	if c.replica == nil {
		return
	}
	s.repl.mu.Lock()
	delete(s.repl.replicas, c.replica)
	s.repl.mu.Unlock()
	s.Log.Info("replica disconnected", "replica", c.Addr)
}

// replicaInfo is a snapshot of one replica for ROLE / INFO / WAIT.
type replicaInfo struct {
	ip     string
	port   int
	state  string
	offset int64
	lagSec int64
}

func (s *Server) replicaList() []replicaInfo {
	s.repl.mu.Lock()
	defer s.repl.mu.Unlock()
	now := nowMs()
	out := make([]replicaInfo, 0, len(s.repl.replicas))
	for rc := range s.repl.replicas {
		st, _ := rc.state.Load().(string)
		out = append(out, replicaInfo{ip: rc.ip, port: rc.port, state: st, offset: rc.ackOff.Load(), lagSec: (now - rc.ackTime.Load()) / 1000})
	}
	return out
}

// countAcked returns how many online replicas acknowledged off.
func (s *Server) countAcked(off int64) int {
	n := 0
	for _, r := range s.replicaList() {
		if r.state == "online" && r.offset >= off {
			n++
		}
	}
	return n
}

// requestAcks asks every replica for an immediate REPLCONF ACK.
func (s *Server) requestAcks() {
	s.repl.mu.Lock()
	if len(s.repl.replicas) > 0 {
		s.appendStreamLocked([]byte("*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"))
	}
	s.repl.mu.Unlock()
}

// goodReplicas counts replicas whose last ACK is within max lag seconds.
func (s *Server) goodReplicas(maxLag int) int {
	n := 0
	for _, r := range s.replicaList() {
		if r.state == "online" && r.lagSec <= int64(maxLag) {
			n++
		}
	}
	return n
}

// promote turns this node into a master that keeps its data: replid2 takes
// the old replication id so former siblings can partially resync.
func (s *Server) promote() {
	r := &s.repl
	r.mu.Lock()
	r.replid2 = r.replid
	r.secondOff = r.offset + 1
	r.replid = newReplID()
	r.mu.Unlock()
	replicaMode.Store(false)
}

var errNotReplica = errors.New("not a replica")

func fmtAddr(ip string, port int) string { return net.JoinHostPort(ip, strconv.Itoa(port)) }
