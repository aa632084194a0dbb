package node

import (
	"sync"
	"sync/atomic"

	"github.com/slotkv/slotkv/slots"
)

// Cut is a point-in-time view of the whole keyspace, serialized one slot at
// a time without stopping the server (no fork). Replication full syncs and
// BGSAVE use it.
//
// StartCut takes every slot lock once (a few hundred microseconds for 16384
// uncontended mutexes), runs atCut while nothing can change — the caller
// records the replication offset there — and marks every slot pending.
// From then on a pending slot is emitted exactly once, with its lock held,
// either by the background walker or by the first goroutine that locks it
// (Slot.Lock), whichever comes first; so every slot is emitted as it was at
// the cut, before any later change. This is slot-level copy-on-write.
//
// Concurrency: emit runs with the slot's lock held, on whichever goroutine
// locked it; it must not lock other slots and should be quick (encode into
// memory). Emit calls for different slots may run concurrently.
type Cut struct {
	emit    func(slot int, s *Slot)
	left    atomic.Int32
	done    chan struct{}
	aborted atomic.Bool
}

// cutMu serialises StartCut calls (one cut at a time per process is enough
// for a full sync and a BGSAVE to share; a second waits for the first).
var cutMu sync.Mutex

// StartCut begins a cut. Wait on Done() for every slot to be emitted.
func (k *Keyspace) StartCut(atCut func(), emit func(slot int, s *Slot)) *Cut {
	cutMu.Lock()
	c := &Cut{emit: emit, done: make(chan struct{})}
	c.left.Store(slots.N)
	for i := range k.slots {
		k.slots[i].mu.Lock()
	}
	if atCut != nil {
		atCut()
	}
	for i := range k.slots {
		k.slots[i].cut = c
	}
	for i := len(k.slots) - 1; i >= 0; i-- {
		k.slots[i].mu.Unlock()
	}
	go func() {
		defer cutMu.Unlock()
		for i := range k.slots {
			s := &k.slots[i]
			s.Lock() // emits if still pending
			s.Unlock()
		}
		<-c.done
	}()
	return c
}

// Done is closed once every slot has been emitted.
func (c *Cut) Done() <-chan struct{} { return c.done }

// emitSlot runs the pending emit of s (lock held).
func (s *Slot) emitCut() {
	c := s.cut
	s.cut = nil
	c.emit(int(s.idx), s)
	if c.left.Add(-1) == 0 {
		close(c.done)
	}
}
