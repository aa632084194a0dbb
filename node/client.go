package node

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/slotkv/slotkv/node/resp"
	"github.com/slotkv/slotkv/slots"
)

// Client is one connection's state. Everything except the fields marked
// otherwise is touched only by the connection's own goroutine.
type Client struct {
	srv  *Server
	conn net.Conn
	raw  *rawIO // raw-syscall socket I/O, nil when conn is not a socket
	rd   *resp.Reader
	W    resp.Writer // reply buffer, flushed to conn by the connection loop

	ID        int64
	Name      string
	LibName   string
	LibVer    string
	Addr      string
	LocalAddr string
	Created   time.Time
	LastCmd   string

	Argv [][]byte // current command's arguments; valid only during Proc
	Cmd  *Command
	Now  int64 // command clock, unix ms

	// locking: slots held for the current command, ascending
	locked   []int
	lockBuf  [16]int // room for MSET of 10 keys in distinct slots without allocating
	keyBuf   [16]int
	slot     int // slot of the command's keys, -1 when none or several
	allSlots bool

	Authed   bool
	User     string
	Asking   bool // set by ASKING, consumed by the next command
	ReadOnly bool // READONLY

	// MULTI state
	InMulti  bool
	MultiErr bool
	MultiQ   [][][]byte
	Watched  []WatchedKey
	dirtyCAS atomic.Bool // a WATCHed key was modified (set under its slot lock)

	// Dirty counts keyspace changes made by the current command; the
	// dispatcher propagates the command when it is non-zero.
	Dirty int
	// Propagate, when set by Proc, replaces the command's own arguments in
	// the replication/AOF stream (e.g. SET EX → SET PXAT).
	Propagate [][]byte

	// pub/sub
	Subs            map[string]struct{}
	PSubs           map[string]struct{}
	SSubs           map[string]struct{}
	asyncMu         sync.Mutex // guards W when other goroutines push messages
	async           atomic.Bool
	closing         atomic.Bool
	CloseAfterReply bool

	// AckOff is the persistence offset the client's pending replies wait
	// for (appendfsync always); set by the propagation hook.
	AckOff atomic.Int64

	// replication
	isMaster   bool         // this client applies our master's stream
	replRaw    []byte       // raw stream bytes of the command being applied (isMaster)
	replFed    bool         // replRaw was forwarded to our backlog
	scratchRaw []byte       // encoding buffer for replRaw
	ackFn      func()       // sends REPLCONF ACK to the master (isMaster)
	woff       int64        // replication offset after this client's last write (WAIT)
	replPort   int          // REPLCONF listening-port
	replica    *replicaConn // set once this client became a replica (PSYNC)
	replTx     bool         // collecting a MULTI/EXEC block for the replication stream
	replTxBuf  []byte       // the block being collected

	scratch [32]byte
	cmds    atomic.Int64            // commands processed by this client (INFO stats)
	lastAt  atomic.Int64            // unix ms of last command (CLIENT LIST idle)
	lastCmd atomic.Pointer[Command] // last command run (CLIENT LIST cmd=)
	// what lastAt/lastCmd hold, read without atomics by the client's own
	// goroutine so that repeated commands skip the stores
	lastAtSeen  int64
	lastCmdSeen *Command
	lookCache   *Command // the last top-level command looked up (Process)
	Flags       atomic.Uint32
	DB          int
}

// WatchedKey is a key a client WATCHes.
type WatchedKey struct {
	Key  string
	Slot int
}

// Server returns the server the client belongs to.
func (c *Client) Server() *Server { return c.srv }

// SlotFor returns the (already locked) slot dictionary holding key.
func (c *Client) SlotFor(key []byte) *Slot {
	if c.slot >= 0 {
		return &c.srv.KS.slots[c.slot]
	}
	return &c.srv.KS.slots[slots.Of(key)]
}

// Lookup finds a live key of the current command.
func (c *Client) Lookup(key []byte) (*Slot, *Entry) {
	s := c.SlotFor(key)
	return s, s.Lookup(key, c.Now)
}

// WithSlot runs fn with slot i locked, unless the client already holds it
// (inside EXEC or a script holding every slot). Commands flagged
// FlagAllSlots use it to walk the keyspace one slot at a time.
func (c *Client) WithSlot(i int, fn func(s *Slot)) {
	s := &c.srv.KS.slots[i]
	if c.allSlots || c.holds(i) {
		fn(s)
		return
	}
	s.Lock()
	defer s.Unlock()
	fn(s)
}

func (c *Client) holds(i int) bool {
	for _, h := range c.locked {
		if h == i {
			return true
		}
	}
	return false
}

// lockSlots locks the given ascending, de-duplicated slots.
func (c *Client) lockSlots(ss []int) {
	for _, i := range ss {
		c.srv.KS.slots[i].Lock()
	}
	c.locked = ss
}

func (c *Client) unlockSlots() {
	for i := len(c.locked) - 1; i >= 0; i-- {
		c.srv.KS.slots[c.locked[i]].Unlock()
	}
	c.locked = c.locked[:0]
}

// WaitKeys blocks the current command until one of keys is modified, the
// timeout passes (0 = forever) or the client disconnects. It flushes pending
// replies, releases the command's slot locks while waiting and takes them
// back before returning. It reports whether a key was touched.
func (c *Client) WaitKeys(keys [][]byte, timeout time.Duration) bool {
	w := &Waiter{C: make(chan struct{}, 1)}
	for _, k := range keys {
		c.SlotFor(k).AddWaiter(k, w)
	}
	held := append([]int(nil), c.locked...)
	c.unlockSlots()
	c.flush()
	var tc <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		tc = t.C
	}
	woken := false
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
wait:
	for {
		select {
		case <-w.C:
			woken = true
			break wait
		case <-tc:
			break wait
		case <-poll.C:
			if c.closing.Load() || c.srv.stopping.Load() {
				break wait
			}
		}
	}
	c.lockSlots(held)
	c.Now = nowMs()
	for _, k := range keys {
		c.SlotFor(k).RemoveWaiter(string(k), w)
	}
	return woken
}

// Closed reports whether the client is being disconnected.
func (c *Client) Closed() bool { return c.closing.Load() }

// flush writes buffered replies to the socket.
func (c *Client) flush() error {
	if h := c.srv.FlushHook; h != nil {
		h(c)
	}
	async := c.async.Load()
	if async {
		if queued, err := pubsubFlush(c); queued { // subscribers: pubsub.go's writer goroutine
			return err
		}
		c.asyncMu.Lock()
		defer c.asyncMu.Unlock()
	}
	if len(c.W.B) == 0 {
		return nil
	}
	var err error
	if c.raw != nil {
		err = c.raw.write(c.W.B, !async)
	} else {
		_, err = c.conn.Write(c.W.B)
	}
	if cap(c.W.B) > 1<<20 {
		c.W.B = make([]byte, 0, 16<<10)
	} else {
		c.W.B = c.W.B[:0]
	}
	return err
}

// Close disconnects the client (safe from any goroutine, including the
// client's own, and never waits for the client's loop).
func (c *Client) Close() {
	if c.closing.CompareAndSwap(false, true) {
		if c.raw != nil && c.raw.active.Load() {
			// serveRaw is inside RawConn.Read, which holds a reference to the
			// socket: net.Conn.Close would wait until the loop returns (a
			// deadlock when called from the loop itself or by a goroutine
			// holding a lock the loop needs). shutdown(2) tells the peer and
			// wakes the loop at once (EOF / EPIPE); the descriptor is closed
			// when the loop lets go of it.
			c.raw.rc.Control(func(fd uintptr) { syscall.Shutdown(int(fd), syscall.SHUT_RDWR) })
			go c.conn.Close()
			return
		}
		c.conn.Close()
	}
}

// rawIO reads and writes a client socket with raw system calls through
// syscall.RawConn: the non-blocking read/write is issued without entering
// the runtime's blocking-syscall state, and the goroutine still parks in the
// netpoller on EAGAIN (deadlines and Close work as with net.Conn). With
// conn.Read/Write, a loopback write that takes more than ~20 µs on a busy
// (virtualised) host gets its P retaken by sysmon and handed to another
// thread, and sysmon itself keeps polling every 20 µs: measured as ~25% of
// the server's CPU under redis-benchmark -P 1.
//
// Reads happen inside Server.serveRaw's RawConn.Read callback (fd is the
// socket then, ^0 otherwise); see serveRaw for why.
type rawIO struct {
	rc      syscall.RawConn
	active  atomic.Bool // serveRaw is inside rc.Read
	fd      uintptr     // inside serveRaw's callback: the socket; else ^0
	woke    bool        // the callback was (re)entered: the next Read must read
	short   bool        // the last read returned less than asked: socket drained
	wbuf    []byte      // write: what is left to write
	werr    error
	writeFn func(fd uintptr) bool
}

// errWouldBlock is returned by rawIO.Read when the socket has no data: the
// caller returns from the RawConn.Read callback to wait for readability.
var errWouldBlock = errors.New("would block")

func newRawIO(conn net.Conn) *rawIO {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &rawIO{rc: rc, fd: ^uintptr(0)}
	r.writeFn = func(fd uintptr) bool {
		for len(r.wbuf) > 0 {
			n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&r.wbuf[0])), uintptr(len(r.wbuf)))
			switch errno {
			case 0:
				if n == 0 {
					r.werr = io.ErrShortWrite
					return true
				}
				r.wbuf = r.wbuf[n:]
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false
			default:
				r.werr = errno
				return true
			}
		}
		return true
	}
	return r
}

// Read implements io.Reader for the resp.Reader; only valid inside
// serveRaw's callback. It returns errWouldBlock instead of reading when the
// previous read drained the socket and no readiness event came since.
func (r *rawIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if r.fd == ^uintptr(0) {
		return 0, net.ErrClosed
	}
	if r.short && !r.woke {
		return 0, errWouldBlock
	}
	r.woke = false
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, r.fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		switch errno {
		case 0:
			if n == 0 {
				return 0, io.EOF
			}
			r.short = int(n) < len(p)
			return int(n), nil
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			r.short = true
			return 0, errWouldBlock
		default:
			return 0, errno
		}
	}
}

// peerClosed is blocking.go's peerClosed for a client whose socket is
// being read by serveRaw (its RawConn read lock is held): a MSG_PEEK on fd.
func (r *rawIO) peerClosed() (closed, ok bool) {
	if r.fd == ^uintptr(0) {
		return false, false
	}
	var buf [1]byte
	n, _, err := syscall.Recvfrom(int(r.fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	switch {
	case err == nil && n == 0:
		return true, true
	case err != nil && err != syscall.EAGAIN && err != syscall.EWOULDBLOCK && err != syscall.EINTR:
		return true, true
	}
	return false, true
}

// write writes all of b. With sole set (no other goroutine writes to the
// socket: the client is not async), inside serveRaw's callback, it first
// writes with raw write(2) calls on the fd the callback holds, without
// RawConn.Write's write lock and poll preparation; RawConn.Write (which
// waits for writability) only takes what the socket buffer did not.
func (r *rawIO) write(b []byte, sole bool) error {
	if len(b) == 0 {
		return nil
	}
	r.wbuf, r.werr = b, nil
	if sole && r.fd != ^uintptr(0) && r.writeFn(r.fd) {
		r.wbuf = nil
		return r.werr
	}
	err := r.rc.Write(r.writeFn)
	r.wbuf = nil
	if err != nil {
		return err
	}
	return r.werr
}
