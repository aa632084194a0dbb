package clusterbus

import (
	"log"
	"net"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/memberlist"
)

// netTransport is memberlist's NetTransport with two changes: outgoing TCP
// connections originate from the bind address (so nodes bound to different
// 127.0.0.x addresses can be told apart by iptables), and bytes are
// counted. UDP already leaves from the bound socket.
//
// Concurrency: safe for concurrent use, like NetTransport.
type netTransport struct {
	*memberlist.NetTransport
	local  *net.TCPAddr // nil when bound to the unspecified address
	counts *byteCounters
}

// byteCounters counts bus bytes; all fields are atomics.
type byteCounters struct {
	udpOut, tcpOut, tcpIn atomic.Uint64
}

func newNetTransport(bindIP string, port int, logger *log.Logger, counts *byteCounters) (*netTransport, error) {
	nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
		BindAddrs: []string{bindIP},
		BindPort:  port,
		Logger:    logger,
	})
	if err != nil {
		return nil, err
	}
	t := &netTransport{NetTransport: nt, counts: counts}
	if ip := net.ParseIP(bindIP); ip != nil && !ip.IsUnspecified() {
		t.local = &net.TCPAddr{IP: ip}
	}
	return t, nil
}

func (t *netTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	t.counts.udpOut.Add(uint64(len(b)))
	return t.NetTransport.WriteTo(b, addr)
}

func (t *netTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	t.counts.udpOut.Add(uint64(len(b)))
	return t.NetTransport.WriteToAddress(b, a)
}

func (t *netTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

func (t *netTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	if t.local != nil {
		d.LocalAddr = t.local
		if runtime.GOOS == "linux" {
			d.Control = bindNoPort
		}
	}
	c, err := d.Dial("tcp", a.Addr)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, counts: t.counts}, nil
}

type countingConn struct {
	net.Conn
	counts *byteCounters
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.counts.tcpOut.Add(uint64(n))
	return n, err
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.counts.tcpIn.Add(uint64(n))
	return n, err
}

// countingTransport wraps any NodeAwareTransport (tests' in-memory one) to
// count bytes the same way.
type countingTransport struct {
	memberlist.NodeAwareTransport
	counts *byteCounters
}

func (t *countingTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	t.counts.udpOut.Add(uint64(len(b)))
	return t.NodeAwareTransport.WriteTo(b, addr)
}

func (t *countingTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	t.counts.udpOut.Add(uint64(len(b)))
	return t.NodeAwareTransport.WriteToAddress(b, a)
}

func (t *countingTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

func (t *countingTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	c, err := t.NodeAwareTransport.DialAddressTimeout(a, timeout)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, counts: t.counts}, nil
}

// bindNoPort sets IP_BIND_ADDRESS_NO_PORT on a socket about to be bound to
// the node's IP with port 0, so that the kernel picks the local port at
// connect time, per destination, instead of in bind(), where it must find
// a port unused by any socket of that IP. Every reliable bus message is a
// TCP connection of its own (memberlist), and a reshard sends thousands of
// them per second, whose TIME_WAIT sockets made each bind() scan the whole
// ephemeral range: 70% of a master's CPU, reshards 5-10x slower.
func bindNoPort(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	})
	if err != nil {
		return err
	}
	_ = serr // an old kernel without the option: bind() as before
	return nil
}

// ipBindAddressNoPort is Linux's IP_BIND_ADDRESS_NO_PORT (since 4.2).
const ipBindAddressNoPort = 24
