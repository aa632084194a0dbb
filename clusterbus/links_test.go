package clusterbus

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// dialCounter counts the streams a transport dials.
type dialCounter struct {
	memberlist.NodeAwareTransport
	dials atomic.Int64
}

func (d *dialCounter) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	d.dials.Add(1)
	return d.NodeAwareTransport.DialAddressTimeout(a, timeout)
}

type inbox struct {
	mu   sync.Mutex
	msgs []string
}

func (b *inbox) add(m []byte) {
	b.mu.Lock()
	b.msgs = append(b.msgs, string(m))
	b.mu.Unlock()
}

func (b *inbox) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.msgs)
}

func newLinkPair(t *testing.T, nw *InmemNetwork, port int) (a *linkTransport, ad *dialCounter, b *linkTransport, bi *inbox, baddr string) {
	t.Helper()
	ta, err := nw.NewTransport("127.0.0.1", port)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := nw.NewTransport("127.0.0.2", port)
	if err != nil {
		t.Fatal(err)
	}
	ad = &dialCounter{NodeAwareTransport: ta}
	bi = &inbox{}
	a = newLinkTransport(ad, func([]byte) {}, time.Second, testLogger())
	b = newLinkTransport(tb, bi.add, time.Second, testLogger())
	t.Cleanup(func() { a.Shutdown(); b.Shutdown() }) //nolint:errcheck
	return a, ad, b, bi, fmt.Sprintf("127.0.0.2:%d", port)
}

// TestLinksOneConnection: many messages to a peer share one stream, arrive
// in order and whole, and other streams still reach memberlist.
func TestLinksOneConnection(t *testing.T) {
	nw := NewInmemNetwork()
	a, ad, b, bi, baddr := newLinkPair(t, nw, 7100)
	const n = 5000
	for i := 0; i < n; i++ {
		a.Send(baddr, []byte(fmt.Sprintf("msg-%d", i)))
		if i%500 == 499 { // stay below the queue length
			waitFor(t, 10*time.Second, "delivery", func() bool { return bi.count() == i+1 })
		}
	}
	waitFor(t, 10*time.Second, "delivery", func() bool { return bi.count() == n })
	bi.mu.Lock()
	for i, m := range bi.msgs {
		if m != fmt.Sprintf("msg-%d", i) {
			t.Fatalf("message %d = %q", i, m)
		}
	}
	bi.mu.Unlock()
	if d := ad.dials.Load(); d != 1 {
		t.Fatalf("%d dials for %d messages, want 1", d, n)
	}
	// A memberlist stream (any other first byte) is passed on intact.
	c, err := a.DialAddressTimeout(memberlist.Address{Addr: baddr}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	go c.Write([]byte("\x08hello")) //nolint:errcheck
	select {
	case s := <-b.StreamCh():
		buf := make([]byte, 6)
		s.SetReadDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck
		if _, err := io.ReadFull(s, buf); err != nil || string(buf) != "\x08hello" {
			t.Fatalf("memberlist stream read %q, %v", buf, err)
		}
		s.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the memberlist stream never arrived")
	}
	c.Close()
}

// TestLinksReconnect: a cut closes the link, messages during the cut are
// dropped and counted, and the link is dialed again after the heal.
func TestLinksReconnect(t *testing.T) {
	nw := NewInmemNetwork()
	a, ad, _, bi, baddr := newLinkPair(t, nw, 7101)
	a.Send(baddr, []byte("before"))
	waitFor(t, 5*time.Second, "first message", func() bool { return bi.count() == 1 })
	nw.Disconnect("127.0.0.1", "127.0.0.2")
	waitFor(t, 5*time.Second, "dropped message", func() bool {
		a.Send(baddr, []byte("during"))
		return a.drops.Load() > 0
	})
	nw.Heal()
	waitFor(t, 5*time.Second, "message after the heal", func() bool {
		a.Send(baddr, []byte("after"))
		bi.mu.Lock()
		defer bi.mu.Unlock()
		return len(bi.msgs) > 1 && bi.msgs[len(bi.msgs)-1] == "after"
	})
	if ad.dials.Load() < 2 {
		t.Fatalf("%d dials: the link was not redialed", ad.dials.Load())
	}
}

// TestLinksHostileInput: an oversized length prefix closes the link
// without allocating it, and a truncated message is dropped; neither is
// delivered, and the transport keeps serving.
func TestLinksHostileInput(t *testing.T) {
	nw := NewInmemNetwork()
	a, _, _, bi, baddr := newLinkPair(t, nw, 7102)
	raw := func(b []byte) {
		c, err := a.NodeAwareTransport.DialAddressTimeout(memberlist.Address{Addr: baddr}, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetWriteDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck
		c.Write(b)                                          //nolint:errcheck
		c.Close()
	}
	huge := []byte{linkMagic, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(huge[1:], 0xFFFFFFF0)
	raw(huge)
	raw([]byte{linkMagic, 0, 0, 0, 9, 'x', 'y'}) // 9 bytes announced, 2 sent
	raw([]byte{linkMagic, 0, 0})                 // truncated header
	a.Send(baddr, []byte("fine"))
	waitFor(t, 5*time.Second, "the good message", func() bool { return bi.count() == 1 })
	bi.mu.Lock()
	defer bi.mu.Unlock()
	if bi.msgs[0] != "fine" {
		t.Fatalf("delivered %q", bi.msgs)
	}
}
