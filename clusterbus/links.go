package clusterbus

import (
	"bufio"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// linkTransport gives the bus one persistent TCP connection per peer for
// its reliable messages (records, UPDATE, FAIL, failover requests and
// votes), as Redis's cluster bus keeps a link per node, where memberlist's
// SendReliable dials a connection per message. A redis-cli reshard makes
// every master send about ten of them per slot; per-message connections
// cost a connect, an accept, a goroutine and a close each, and left ~20,000
// sockets in TIME_WAIT per 2,000 slots moved.
//
// It wraps the memberlist transport and shares its port: a stream that
// starts with linkMagic is a link, read here as length-prefixed messages
// handed to deliver; any other stream goes on to memberlist untouched.
// Outbound, each peer address has a queue and a goroutine that dials
// through the wrapped transport (so the node's bind IP, the in-memory test
// network and its partitions all apply), writes the queued messages in
// batches, and redials after an error; a reader on the connection notices
// when the peer goes away. A full queue drops the message, as a failed dial
// did: records are versioned and asked for again on a version mismatch,
// and failover messages are retried by their senders.
//
// Concurrency: Send may be called from any goroutine and never blocks.
// deliver is called from one goroutine per inbound link. Shutdown closes
// every link and waits for its goroutines.
type linkTransport struct {
	memberlist.NodeAwareTransport
	deliver func([]byte)
	timeout time.Duration // dial and write timeout
	log     *slog.Logger

	streamCh chan net.Conn // streams for memberlist
	stop     chan struct{}
	wg       sync.WaitGroup

	mu     sync.Mutex
	closed bool
	out    map[string]*outLink
	in     map[net.Conn]struct{}

	drops atomic.Uint64 // messages dropped: queue full or peer unreachable
}

const (
	linkMagic    = 0xE7        // first byte of a link; memberlist streams start with 0-13 or 244
	linkMaxMsg   = 8 << 20     // an inbound message larger than this closes the link
	linkQueueLen = 1024        // queued messages per peer
	linkIdle     = time.Minute // an outbound link unused this long is closed
	linkBatch    = 64 << 10    // bytes written per flush at most
)

func newLinkTransport(inner memberlist.NodeAwareTransport, deliver func([]byte), timeout time.Duration, log *slog.Logger) *linkTransport {
	t := &linkTransport{
		NodeAwareTransport: inner,
		deliver:            deliver,
		timeout:            timeout,
		log:                log,
		streamCh:           make(chan net.Conn),
		stop:               make(chan struct{}),
		out:                make(map[string]*outLink),
		in:                 make(map[net.Conn]struct{}),
	}
	t.wg.Add(1)
	go t.acceptLoop()
	return t
}

// StreamCh is what memberlist reads its streams from.
func (t *linkTransport) StreamCh() <-chan net.Conn { return t.streamCh }

// Shutdown closes every link, then the wrapped transport.
func (t *linkTransport) Shutdown() error {
	t.mu.Lock()
	if !t.closed {
		t.closed = true
		close(t.stop)
		for c := range t.in {
			c.Close()
		}
	}
	t.mu.Unlock()
	err := t.NodeAwareTransport.Shutdown()
	t.wg.Wait()
	return err
}

func (t *linkTransport) acceptLoop() {
	defer t.wg.Done()
	inner := t.NodeAwareTransport.StreamCh()
	for {
		select {
		case <-t.stop:
			return
		case c, ok := <-inner:
			if !ok {
				return
			}
			t.wg.Add(1)
			go t.accept(c)
		}
	}
}

// accept reads a new stream's first byte: a link is served here, anything
// else is passed to memberlist with that byte put back.
func (t *linkTransport) accept(c net.Conn) {
	defer t.wg.Done()
	var first [1]byte
	c.SetReadDeadline(time.Now().Add(t.timeout)) //nolint:errcheck
	if _, err := io.ReadFull(c, first[:]); err != nil {
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{}) //nolint:errcheck
	if first[0] != linkMagic {
		select {
		case t.streamCh <- &peekedConn{Conn: c, first: first[0]}:
		case <-t.stop:
			c.Close()
		}
		return
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		c.Close()
		return
	}
	t.in[c] = struct{}{}
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.in, c)
		t.mu.Unlock()
		c.Close()
	}()
	r := bufio.NewReaderSize(c, 64<<10)
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > linkMaxMsg {
			t.log.Warn("cluster bus: message over the size limit, closing the link", "from", c.RemoteAddr().String(), "bytes", n)
			return
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(r, msg); err != nil {
			return
		}
		t.deliver(msg)
	}
}

// Send queues msg for the node whose bus address is addr ("ip:port").
func (t *linkTransport) Send(addr string, msg []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	l := t.out[addr]
	if l == nil {
		l = &outLink{t: t, addr: addr, q: make(chan []byte, linkQueueLen)}
		t.out[addr] = l
		t.wg.Add(1)
		go l.run()
	}
	select {
	case l.q <- msg:
	default:
		t.drops.Add(1)
	}
}

type outLink struct {
	t    *linkTransport
	addr string
	q    chan []byte // guarded for retirement by t.mu (see run)

	c    net.Conn
	w    *bufio.Writer
	dead chan struct{} // closed by the reader when the peer goes away
	hdr  [4]byte
}

func (l *outLink) run() {
	t := l.t
	defer t.wg.Done()
	defer l.closeConn()
	idle := time.NewTimer(linkIdle)
	defer idle.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-l.dead:
			l.closeConn()
		case <-idle.C:
			// Retire when nothing is queued; Send queues under t.mu,
			// so no message can land in a queue nobody reads.
			t.mu.Lock()
			if len(l.q) == 0 {
				delete(t.out, l.addr)
				t.mu.Unlock()
				return
			}
			t.mu.Unlock()
			idle.Reset(linkIdle)
		case m := <-l.q:
			idle.Reset(linkIdle)
			batch := l.collect(m)
			if !l.write(batch) {
				l.closeConn() // stale link (peer restarted): one more try
				if !l.write(batch) {
					l.closeConn()
					t.drops.Add(uint64(len(batch)))
				}
			}
		}
	}
}

// collect takes m and whatever else is queued, up to linkBatch bytes.
func (l *outLink) collect(m []byte) [][]byte {
	batch, size := [][]byte{m}, len(m)
	for size < linkBatch {
		select {
		case m := <-l.q:
			batch = append(batch, m)
			size += len(m)
		default:
			return batch
		}
	}
	return batch
}

// write sends batch on the link, dialing it first if needed.
func (l *outLink) write(batch [][]byte) bool {
	t := l.t
	if l.c == nil {
		c, err := t.NodeAwareTransport.DialAddressTimeout(memberlist.Address{Addr: l.addr}, t.timeout)
		if err != nil {
			t.log.Debug("cluster bus: link dial failed", "to", l.addr, "err", err)
			return false
		}
		l.c, l.w, l.dead = c, bufio.NewWriterSize(c, linkBatch+4096), make(chan struct{})
		l.w.WriteByte(linkMagic) //nolint:errcheck // reported by Flush
		t.wg.Add(1)
		go func(c net.Conn, dead chan struct{}) { // the peer never writes: EOF or error means it is gone
			defer t.wg.Done()
			var b [64]byte
			for {
				if _, err := c.Read(b[:]); err != nil {
					close(dead)
					return
				}
			}
		}(c, l.dead)
	}
	for _, m := range batch {
		binary.BigEndian.PutUint32(l.hdr[:], uint32(len(m)))
		l.w.Write(l.hdr[:]) //nolint:errcheck // reported by Flush
		l.w.Write(m)        //nolint:errcheck
	}
	l.c.SetWriteDeadline(time.Now().Add(t.timeout)) //nolint:errcheck
	if err := l.w.Flush(); err != nil {
		t.log.Debug("cluster bus: link write failed", "to", l.addr, "err", err)
		return false
	}
	return true
}

func (l *outLink) closeConn() {
	if l.c != nil {
		l.c.Close()
		l.c, l.w, l.dead = nil, nil, nil
	}
}

// peekedConn is a stream whose first byte was read to tell links apart.
type peekedConn struct {
	net.Conn
	first byte
	done  bool
}

func (c *peekedConn) Read(b []byte) (int, error) {
	if !c.done && len(b) > 0 {
		c.done = true
		b[0] = c.first
		return 1, nil
	}
	return c.Conn.Read(b)
}
