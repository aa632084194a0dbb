package clusterbus

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// InmemNetwork is an in-process network for memberlist, in the style of
// hashicorp/raft's inmem transport: several Bus instances in one process talk
// through it, and tests can cut links between IP addresses (Partition,
// Disconnect, Isolate) and restore them (Heal). Cut links drop datagrams
// silently and refuse new streams; open streams across a cut are closed.
//
// Concurrency: every method is safe for concurrent use.
type InmemNetwork struct {
	mu         sync.Mutex
	transports map[string]*InmemTransport // "ip:port"
	blocked    map[[2]string]bool         // ordered ip pairs
}

// NewInmemNetwork returns an empty network.
func NewInmemNetwork() *InmemNetwork {
	return &InmemNetwork{transports: make(map[string]*InmemTransport), blocked: make(map[[2]string]bool)}
}

// NewTransport creates the endpoint bindIP:port. It matches
// Config.NewTransport.
func (nw *InmemNetwork) NewTransport(bindIP string, port int) (memberlist.NodeAwareTransport, error) {
	ip := net.ParseIP(bindIP)
	if ip == nil || ip.IsUnspecified() {
		return nil, fmt.Errorf("inmem transport needs a specific bind ip, got %q", bindIP)
	}
	addr := joinHostPort(ip.String(), port)
	nw.mu.Lock()
	defer nw.mu.Unlock()
	if _, ok := nw.transports[addr]; ok {
		return nil, fmt.Errorf("inmem address %s already in use", addr)
	}
	t := &InmemTransport{
		nw: nw, ip: ip, port: port, addr: addr,
		packetCh: make(chan *memberlist.Packet, 4096),
		streamCh: make(chan net.Conn, 64),
		done:     make(chan struct{}),
	}
	nw.transports[addr] = t
	return t, nil
}

func (nw *InmemNetwork) cut(a, b string) bool {
	return nw.blocked[[2]string{a, b}]
}

// Disconnect cuts the link between two IPs in both directions.
func (nw *InmemNetwork) Disconnect(a, b string) {
	nw.mu.Lock()
	nw.blocked[[2]string{a, b}] = true
	nw.blocked[[2]string{b, a}] = true
	var victims []*InmemTransport
	for _, t := range nw.transports {
		victims = append(victims, t)
	}
	nw.mu.Unlock()
	for _, t := range victims {
		t.closeConnsTo(nw)
	}
}

// Partition cuts every link between group a and group b (IPs).
func (nw *InmemNetwork) Partition(a, b []string) {
	for _, x := range a {
		for _, y := range b {
			nw.Disconnect(x, y)
		}
	}
}

// Isolate cuts ip from every other endpoint currently on the network.
func (nw *InmemNetwork) Isolate(ip string) {
	nw.mu.Lock()
	var others []string
	for _, t := range nw.transports {
		if t.ip.String() != ip {
			others = append(others, t.ip.String())
		}
	}
	nw.mu.Unlock()
	for _, o := range others {
		nw.Disconnect(ip, o)
	}
}

// Heal restores every link.
func (nw *InmemNetwork) Heal() {
	nw.mu.Lock()
	nw.blocked = make(map[[2]string]bool)
	nw.mu.Unlock()
}

// InmemTransport is one endpoint of an InmemNetwork; it implements
// memberlist.NodeAwareTransport.
type InmemTransport struct {
	nw       *InmemNetwork
	ip       net.IP
	port     int
	addr     string
	packetCh chan *memberlist.Packet
	streamCh chan net.Conn
	done     chan struct{}

	mu    sync.Mutex
	conns []*inmemConn
	shut  bool
}

type inmemConn struct {
	net.Conn
	local, remote *net.TCPAddr
	closed        atomic.Bool
}

func (c *inmemConn) Close() error {
	c.closed.Store(true)
	return c.Conn.Close()
}

func (c *inmemConn) LocalAddr() net.Addr  { return c.local }
func (c *inmemConn) RemoteAddr() net.Addr { return c.remote }

func (t *InmemTransport) closeConnsTo(nw *InmemNetwork) {
	t.mu.Lock()
	defer t.mu.Unlock()
	keep := t.conns[:0]
	for _, c := range t.conns {
		nw.mu.Lock()
		cut := nw.cut(c.local.IP.String(), c.remote.IP.String())
		nw.mu.Unlock()
		if cut {
			c.Close()
		} else {
			keep = append(keep, c)
		}
	}
	t.conns = keep
}

// FinalAdvertiseAddr implements memberlist.Transport.
func (t *InmemTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	if ip != "" {
		p := net.ParseIP(ip)
		if p == nil {
			return nil, 0, fmt.Errorf("bad advertise ip %q", ip)
		}
		return p, port, nil
	}
	return t.ip, t.port, nil
}

// WriteTo implements memberlist.Transport.
func (t *InmemTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

// WriteToAddress implements memberlist.NodeAwareTransport.
func (t *InmemTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	now := time.Now()
	dst, ok := t.peer(a.Addr)
	if !ok {
		return now, nil // like UDP: silently lost
	}
	p := &memberlist.Packet{Buf: append([]byte(nil), b...), From: &net.UDPAddr{IP: t.ip, Port: t.port}, Timestamp: now}
	select {
	case dst.packetCh <- p:
	case <-dst.done:
	default: // receive buffer full: lost
	}
	return now, nil
}

func (t *InmemTransport) peer(addr string) (*InmemTransport, bool) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, false
	}
	ip := net.ParseIP(host)
	port, err := strconv.Atoi(portStr)
	if ip == nil || err != nil {
		return nil, false
	}
	key := joinHostPort(ip.String(), port)
	t.nw.mu.Lock()
	defer t.nw.mu.Unlock()
	dst := t.nw.transports[key]
	if dst == nil || t.nw.cut(t.ip.String(), ip.String()) {
		return nil, false
	}
	return dst, true
}

// PacketCh implements memberlist.Transport.
func (t *InmemTransport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

// DialTimeout implements memberlist.Transport.
func (t *InmemTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

var errInmemRefused = errors.New("inmem: connection refused or unreachable")

// DialAddressTimeout implements memberlist.NodeAwareTransport.
func (t *InmemTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	dst, ok := t.peer(a.Addr)
	if !ok {
		return nil, errInmemRefused
	}
	c1, c2 := net.Pipe()
	lAddr := &net.TCPAddr{IP: t.ip, Port: 40000 + int(time.Now().UnixNano()%20000)}
	rAddr := &net.TCPAddr{IP: dst.ip, Port: dst.port}
	mine := &inmemConn{Conn: c1, local: lAddr, remote: rAddr}
	theirs := &inmemConn{Conn: c2, local: rAddr, remote: lAddr}
	tm := time.NewTimer(timeout)
	defer tm.Stop()
	select {
	case dst.streamCh <- theirs:
	case <-dst.done:
		return nil, errInmemRefused
	case <-tm.C:
		return nil, errors.New("inmem: dial timeout")
	}
	t.track(mine)
	dst.track(theirs)
	return mine, nil
}

func (t *InmemTransport) track(c *inmemConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.conns) > 256 {
		// forget closed streams; open ones (the bus's persistent links
		// among them) must stay tracked so that a cut closes them
		t.conns = slices.DeleteFunc(t.conns, func(c *inmemConn) bool { return c.closed.Load() })
	}
	t.conns = append(t.conns, c)
}

// StreamCh implements memberlist.Transport.
func (t *InmemTransport) StreamCh() <-chan net.Conn { return t.streamCh }

// Shutdown implements memberlist.Transport; the address becomes free.
func (t *InmemTransport) Shutdown() error {
	t.mu.Lock()
	if t.shut {
		t.mu.Unlock()
		return nil
	}
	t.shut = true
	close(t.done)
	conns := t.conns
	t.conns = nil
	t.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	t.nw.mu.Lock()
	if t.nw.transports[t.addr] == t {
		delete(t.nw.transports, t.addr)
	}
	t.nw.mu.Unlock()
	return nil
}
