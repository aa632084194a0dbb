package node

// Blocking list commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP): the
// wait loop and first-come-first-served ordering.
//
// A blocked client registers one Waiter (keyspace.go) on each of its keys
// and sleeps with its slot locks released. Every write to a key — from any
// client, from EXEC, from a script — goes through Slot.Set/Modified/Delete,
// which signals the key's waiters; a woken client re-takes its locks and
// tries to serve itself. Serving happens only after the writing command (or
// the whole EXEC/script) has finished, since the writer holds the slot lock
// until then, so a blocked client sees the final state like in Redis.
//
// Fairness: a client may take from a key only when no list waiter that
// registered earlier on the same key is still waiting (listTurn). Woken
// clients that are not first go back to sleep; each pop signals the key
// again, so the queue drains in arrival order. A client that leaves without
// consuming (error, timeout, disconnect) re-signals the rest of the queue.
// New BLPOPs also queue behind existing waiters instead of overtaking them.
//
// Divergence from Redis: Redis hands pushed elements to blocked clients
// before running any other command; here a non-blocking pop (LPOP, RPOP...)
// that runs between the push and the woken client taking its lock can take
// the element first, and the woken client keeps waiting.

import (
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/slotkv/slotkv/redirect"
	"github.com/slotkv/slotkv/slots"
)

// listWaiters holds the Waiters created by list blocking commands, so the
// FIFO check can tell them from other waiters (zset blocking, WaitKeys).
var listWaiters sync.Map // *Waiter -> struct{}

// blockedListClients counts clients blocked in list commands (blocked
// clients also carry the ClientBlocked flag for CLIENT LIST and INFO).
var blockedListClients atomic.Int64

// BlockedListClients returns the number of clients currently blocked in a
// list command.
func BlockedListClients() int64 { return blockedListClients.Load() }

// blockedClient is the CLIENT UNBLOCK handle of a blocked client.
type blockedClient struct {
	w   *Waiter
	how atomic.Int32 // 0: still blocked, 1: unblock as timeout, 2: unblock with error
}

var blockedClients sync.Map // *Client -> *blockedClient

// blockRegister records that c is blocked on w, for UnblockClient. Call
// the returned function when c stops blocking.
func blockRegister(c *Client, w *Waiter) (*blockedClient, func()) {
	b := &blockedClient{w: w}
	blockedClients.Store(c, b)
	return b, func() { blockedClients.Delete(c) }
}

// unblocked writes the reply of a client released by CLIENT UNBLOCK and
// reports whether it was released. Call after each wake-up.
func (b *blockedClient) unblocked(c *Client) bool {
	switch b.how.Load() {
	case 1:
		c.W.NullArray()
		return true
	case 2:
		c.W.Error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
		return true
	}
	return false
}

// UnblockClient is CLIENT UNBLOCK: it releases target if it is blocked in
// a list (or other registered) blocking command, as if its timeout expired
// or, withError, with -UNBLOCKED. It reports whether target was blocked.
func UnblockClient(target *Client, withError bool) bool {
	v, ok := blockedClients.Load(target)
	if !ok {
		return false
	}
	b := v.(*blockedClient)
	how := int32(1)
	if withError {
		how = 2
	}
	if !b.how.CompareAndSwap(0, how) {
		return false
	}
	select {
	case b.w.C <- struct{}{}:
	default:
	}
	return true
}

// BlockingDenied, when set by the transaction or scripting code, reports
// that the current command runs where it must not block (EXEC, a script):
// blocking commands then answer as if their timeout expired at once.
// MULTI/EXEC is already detected through Client.InMulti.
var BlockingDenied = func(c *Client) bool { return false }

// canBlock reports whether the current command may block the client.
func canBlock(c *Client) bool {
	return !c.InMulti && c.conn != nil && !BlockingDenied(c)
}

// listTurn reports whether the client registered as w (nil when it has not
// registered) may take elements from key: no list waiter registered on key
// before it is still waiting. Slot lock held.
func listTurn(s *Slot, key []byte, w *Waiter) bool {
	for _, x := range s.Waiters(key) {
		if x == w {
			return true
		}
		if _, isList := listWaiters.Load(x); isList {
			return false
		}
	}
	return true
}

// listTryFunc tries to serve a blocking list command. mayTake tells whether
// the client's turn has come on a key. blocked is false on the first
// attempt (wrong types are then reported) and true after waking (keys of
// other types are skipped, the client keeps waiting, as in Redis). It
// returns true when it wrote a reply.
type listTryFunc func(mayTake func(key []byte) bool, blocked bool) bool

// blockOnLists serves a blocking list command: at once if possible,
// otherwise (unless blocking is denied, where onNil replies) it waits for
// its turn on one of keys until timeout (0 = forever); on timeout it writes
// a null array. A client that disconnects while blocked gets no reply and
// leaves the queue without consuming anything.
func blockOnLists(c *Client, keys [][]byte, timeout time.Duration, try listTryFunc, onNil func()) {
	if try(func(k []byte) bool { return listTurn(c.SlotFor(k), k, nil) }, false) {
		return
	}
	if !canBlock(c) {
		onNil()
		return
	}
	w := &Waiter{C: make(chan struct{}, 1)}
	listWaiters.Store(w, struct{}{})
	for _, k := range keys {
		c.SlotFor(k).AddWaiter(k, w)
	}
	blockedListClients.Add(1)
	c.Flags.Or(uint32(ClientBlocked))
	bc, unregister := blockRegister(c, w)
	defer func() { // slot locks held again here
		unregister()
		c.Flags.And(^uint32(ClientBlocked))
		for _, k := range keys {
			c.SlotFor(k).RemoveWaiter(string(k), w)
		}
		listWaiters.Delete(w)
		blockedListClients.Add(-1)
		listResignal(c, keys)
	}()
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	mayTake := func(k []byte) bool { return listTurn(c.SlotFor(k), k, w) }
	for {
		timedOut := c.blockWait(w, deadline)
		if c.closing.Load() || c.srv.stopping.Load() || peerClosed(c) {
			return
		}
		if bc.unblocked(c) {
			return
		}
		if msg := blockedRedirect(c, keys[0]); msg != "" {
			c.W.Error(msg)
			return
		}
		if try(mayTake, true) {
			return
		}
		if timedOut {
			c.W.NullArray()
			return
		}
	}
}

// listResignal wakes the waiters of keys that still hold list elements, so
// a client leaving the queue without consuming passes its turn on.
func listResignal(c *Client, keys [][]byte) {
	for _, k := range keys {
		s := c.SlotFor(k)
		ws := s.Waiters(k)
		if len(ws) == 0 {
			continue
		}
		e := s.Lookup(k, c.Now)
		if e == nil {
			continue
		}
		if l, ok := e.Obj.(*List); !ok || l.Len() == 0 {
			continue
		}
		for _, x := range ws {
			select {
			case x.C <- struct{}{}:
			default:
			}
		}
	}
}

// blockedRedirect is Redis's clusterRedirectBlockedClientIfNeeded: in
// cluster mode a client blocked on key (all keys share its slot) is
// unblocked with an error once the cluster is down or the slot is served
// by another node and not being imported here. "" means keep waiting.
func blockedRedirect(c *Client, key []byte) string {
	t := c.srv.Route.Load()
	if t == nil {
		return ""
	}
	if t.Down {
		return "CLUSTERDOWN The cluster is down"
	}
	slot := slots.Of(key)
	owner := t.Owner.Get(slot)
	if owner == t.Self || t.Importing.Get(slot) != redirect.None {
		return ""
	}
	if owner == redirect.None {
		return "CLUSTERDOWN Hash slot not served"
	}
	return "MOVED " + strconv.Itoa(slot) + " " + t.Nodes[owner].Endpoint
}

// blockWait releases the command's slot locks, flushes pending replies and
// sleeps until w is signalled, the deadline passes (zero: never) or the
// client goes away; then it re-takes the locks. It reports a timeout. A
// new cluster routing table also ends the wait (callers re-check
// blockedRedirect and go back to sleep if nothing changed for them).
func (c *Client) blockWait(w *Waiter, deadline time.Time) (timedOut bool) {
	route := c.srv.Route.Load()
	held := append([]int(nil), c.locked...)
	c.unlockSlots()
	c.flush()
	var tc <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		tc = t.C
	}
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
wait:
	for {
		select {
		case <-w.C:
			break wait
		case <-tc:
			timedOut = true
			break wait
		case <-poll.C:
			if c.closing.Load() || c.srv.stopping.Load() || peerClosed(c) || c.srv.Route.Load() != route {
				break wait
			}
		}
	}
	c.lockSlots(held)
	c.Now = nowMs()
	return timedOut
}

// peerClosed reports whether the client's peer has closed the connection,
// without consuming any pending input (MSG_PEEK): a blocked client is not
// reading its socket, so this is how a disconnect is noticed.
func peerClosed(c *Client) bool {
	if c.raw != nil { // serveRaw holds the socket's read lock (client.go)
		if closed, ok := c.raw.peerClosed(); ok {
			return closed
		}
	}
	sc, ok := c.conn.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	closed := false
	var buf [1]byte
	rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == nil && n == 0:
			closed = true
		case err != nil && err != syscall.EAGAIN && err != syscall.EWOULDBLOCK && err != syscall.EINTR:
			closed = true
		}
		return true
	})
	return closed
}
