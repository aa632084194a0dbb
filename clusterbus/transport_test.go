package clusterbus

import (
	"io"
	"log"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// TestNetTransportSourceAddress: bus connections leave from the bind
// address, so nodes on different 127.0.0.x addresses are separable by
// iptables rules on source/destination pairs.
func TestNetTransportSourceAddress(t *testing.T) {
	var counts byteCounters
	lg := log.New(io.Discard, "", 0)
	a, err := newNetTransport("127.0.0.93", 0, lg, &counts)
	if err != nil {
		t.Skipf("cannot bind 127.0.0.93: %v", err)
	}
	defer a.Shutdown()
	b, err := newNetTransport("127.0.0.94", 0, lg, &counts)
	if err != nil {
		t.Skipf("cannot bind 127.0.0.94: %v", err)
	}
	defer b.Shutdown()
	port := b.GetAutoBindPort()
	c, err := a.DialAddressTimeout(memberlist.Address{Addr: joinHostPort("127.0.0.94", port)}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ip := c.LocalAddr().(*net.TCPAddr).IP.String(); ip != "127.0.0.93" {
		t.Fatalf("connection leaves from %s, want 127.0.0.93", ip)
	}
	select {
	case in := <-b.StreamCh():
		if ip := in.RemoteAddr().(*net.TCPAddr).IP.String(); ip != "127.0.0.93" {
			t.Fatalf("peer sees %s", ip)
		}
		in.Close()
	case <-time.After(2 * time.Second):
		t.Fatal("no inbound stream")
	}
	c.Write([]byte("x"))
	if counts.tcpOut.Load() == 0 {
		t.Fatal("bytes not counted")
	}
}

func TestHostnameEndpoint(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dir = t.TempDir()
	cfg.BindIP = "127.0.0.9"
	cfg.Port = 7000
	cfg.AnnounceHostname = "node-a.example"
	cfg.PreferredEndpoint = EndpointHostname
	cfg.Logger = testLogger()
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.AddSlots([]string{"5"})
	tb := b.Table()
	if ep := tb.Nodes[tb.Owner.Get(5)].Endpoint; ep != "node-a.example:7000" {
		t.Fatalf("endpoint %q", ep)
	}
	e := b.Slots()[0].([]any)[2].([]any)
	if e[0] != "node-a.example" || e[3].(Map)[0].Key != "ip" || e[3].(Map)[0].Value != "127.0.0.9" {
		t.Fatalf("CLUSTER SLOTS entry %v", e)
	}
	if l := b.Nodes(); !containsStr(l, "127.0.0.9:7000@17000,node-a.example myself,master") {
		t.Fatalf("CLUSTER NODES %q", l)
	}
}

func containsStr(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
