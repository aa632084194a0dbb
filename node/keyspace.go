package node

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/slotkv/slotkv/slots"
)

// Object is a non-string value (hash, list, set, zset...). Implementations
// are not safe for concurrent use: they are only touched with their slot's
// lock held.
type Object interface {
	// Type is the TYPE reply: "hash", "list", "set", "zset", ...
	Type() string
	// Encoding is the OBJECT ENCODING reply in Redis's names
	// ("listpack", "quicklist", "hashtable", "intset", "skiplist").
	Encoding() string
}

// Entry is one key's value and metadata. Strings live in Str (Obj == nil);
// every other type is an Object in Obj.
// An Entry is only read or changed with its slot's lock held.
type Entry struct {
	Str []byte
	Obj Object
	Exp int64  // absolute unix time in ms; 0 = no expiry
	LRU uint32 // last access, unix seconds (Lookup/Set update it), for OBJECT IDLETIME / eviction
	Enc uint8  // string encoding hints for OBJECT ENCODING/REFCOUNT (see cmd_string.go)
}

// Slot is one hash slot's dictionary. Its mutex serialises every command on
// keys of this slot; commands on different slots run in parallel.
type Slot struct {
	mu          sync.Mutex
	keys        map[string]*Entry
	volatil     int                  // keys with an expiry
	watch       map[string][]*Client // WATCHed keys, nil when none
	cut         *Cut                 // pending point-in-time cut, nil when none
	idx         uint16               // this slot's number
	masterApply bool                 // the replication stream is being applied under this lock
	hooks       map[string][]*Waiter // clients blocked on a key, nil when none
	_           [8]byte              // keep neighbouring slots off one cache line
}

// Keyspace is the whole dataset: 16384 independently locked slots.
type Keyspace struct {
	slots [slots.N]Slot
}

// NewKeyspace returns an empty keyspace.
func NewKeyspace() *Keyspace {
	k := &Keyspace{}
	for i := range k.slots {
		k.slots[i].idx = uint16(i)
	}
	return k
}

// Slot returns slot i. Callers lock it with Lock/Unlock.
func (k *Keyspace) Slot(i int) *Slot { return &k.slots[i] }

// Lock locks the slot. If a keyspace cut (see Cut) has not emitted this
// slot yet, it is emitted first, so the cut sees the slot as it was.
func (s *Slot) Lock() {
	s.mu.Lock()
	if s.cut != nil {
		s.emitCut()
	}
}

// Unlock unlocks the slot.
func (s *Slot) Unlock() { s.mu.Unlock() }

// clockMs caches the wall clock in unix milliseconds. Reading the system
// clock costs ~250 ns on this kind of VM (a third of a GET), so a ticker
// refreshes it every millisecond and commands read it with one atomic load,
// as Redis caches mstime per command.
var (
	clockMs   atomic.Int64
	clockOnce sync.Once
)

func startClock() {
	clockOnce.Do(func() {
		clockMs.Store(time.Now().UnixMilli())
		go func() {
			t := time.NewTicker(time.Millisecond)
			for range t.C {
				clockMs.Store(time.Now().UnixMilli())
			}
		}()
	})
}

// nowMs is the command clock (unix ms), at most ~1 ms stale.
func nowMs() int64 {
	if ms := clockMs.Load(); ms != 0 {
		return ms
	}
	return time.Now().UnixMilli()
}

// lruNow is the access clock stored in Entry.LRU: unix seconds.
func lruNow() uint32 { return uint32(nowMs() / 1000) }

// TypeName returns the TYPE reply for e.
func (e *Entry) TypeName() string {
	if e.Obj == nil {
		return "string"
	}
	return e.Obj.Type()
}

// Lookup returns the live entry of key, deleting it if expired. now is the
// command's clock in ms. Slot lock held. Replicas pass del=false so expired
// keys are hidden without being deleted (the master drives expiry).
func (s *Slot) Lookup(key []byte, now int64) *Entry {
	e := s.keys[string(key)]
	if e == nil {
		return nil
	}
	if e.Exp != 0 && e.Exp <= now {
		if !replicaMode.Load() {
			s.expire(string(key), e)
			return nil
		}
		// A replica hides logically expired keys from its clients but
		// never expires keys on its own: the master's stream still sees
		// them until the master's DEL arrives, as in Redis.
		if !s.masterApply {
			return nil
		}
	}
	touchAccess(e, now)
	return e
}

// expire removes an expired key and reports it to the expiry hook.
func (s *Slot) expire(key string, e *Entry) {
	delete(s.keys, key)
	if e.Exp != 0 {
		s.volatil--
	}
	s.touch(key)
	if OnExpire != nil {
		OnExpire(key)
	}
}

// OnExpire, when set, is called (slot lock held) for every key removed by
// expiry, so replication and the AOF can propagate a DEL.
var OnExpire func(key string)

// Set stores e under key (replacing any old entry) and returns e. The key is
// copied. Slot lock held.
func (s *Slot) Set(key []byte, e *Entry) *Entry {
	if e.LRU == 0 {
		if lfuMode.Load() {
			e.LRU = lfuNew(nowMs())
		} else {
			e.LRU = lruNow()
		}
	}
	if s.keys == nil {
		s.keys = make(map[string]*Entry)
	}
	if old := s.keys[string(key)]; old != nil {
		if old.Exp != 0 {
			s.volatil--
		}
		*old = *e // keep the map's pointer, avoid re-inserting the key
		if e.Exp != 0 {
			s.volatil++
		}
		s.touch(string(key))
		return old
	}
	if e.Exp != 0 {
		s.volatil++
	}
	s.keys[string(key)] = e
	s.touch(string(key))
	return e
}

// Delete removes key; reports whether it existed (expired keys count as
// absent). Slot lock held.
func (s *Slot) Delete(key []byte, now int64) bool {
	e := s.keys[string(key)]
	if e == nil {
		return false
	}
	delete(s.keys, string(key))
	if e.Exp != 0 {
		s.volatil--
	}
	s.touch(string(key))
	return e.Exp == 0 || e.Exp > now
}

// SetExpire changes e's expiry (0 removes it), keeping counters right.
// Slot lock held.
func (s *Slot) SetExpire(e *Entry, exp int64) {
	if e.Exp != 0 {
		s.volatil--
	}
	e.Exp = exp
	if exp != 0 {
		s.volatil++
	}
}

// Len returns the number of keys, including expired ones not yet removed.
// Slot lock held.
func (s *Slot) Len() int { return len(s.keys) }

// Volatile returns the number of keys with an expiry. Slot lock held.
func (s *Slot) Volatile() int { return s.volatil }

// Each calls fn for every key until it returns false. Slot lock held; fn
// must not add or delete keys.
func (s *Slot) Each(fn func(key string, e *Entry) bool) {
	for k, e := range s.keys {
		if !fn(k, e) {
			return
		}
	}
}

// Flush drops every key of the slot. Slot lock held.
func (s *Slot) Flush() int {
	n := len(s.keys)
	for k := range s.watch {
		if _, ok := s.keys[k]; ok { // Redis 7 touches only watched keys that existed
			s.touch(k)
		}
	}
	s.keys = nil
	s.volatil = 0
	return n
}

// Modified must be called (slot lock held) after a command changed key in
// place, so WATCH and blocked clients learn of it.
func (s *Slot) Modified(key []byte) { s.touch(string(key)) }

// touch marks WATCHers of key dirty and wakes clients blocked on it.
func (s *Slot) touch(key string) {
	if s.watch != nil {
		if ws, ok := s.watch[key]; ok {
			for _, c := range ws {
				c.dirtyCAS.Store(true)
			}
		}
	}
	if s.hooks != nil {
		for _, w := range s.hooks[key] {
			select {
			case w.C <- struct{}{}:
			default:
			}
		}
	}
}

// Watch registers c as a watcher of key. Slot lock held.
func (s *Slot) Watch(key []byte, c *Client) {
	if s.watch == nil {
		s.watch = make(map[string][]*Client)
	}
	s.watch[string(key)] = append(s.watch[string(key)], c)
}

// Unwatch removes c from key's watchers. Slot lock held.
func (s *Slot) Unwatch(key string, c *Client) {
	ws := s.watch[key]
	for i, w := range ws {
		if w == c {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(s.watch, key)
		if len(s.watch) == 0 {
			s.watch = nil
		}
	} else {
		s.watch[key] = ws
	}
}

// Waiter is a client blocked on keys (BLPOP and friends). Whenever one of
// its keys is modified, a token is sent on C (buffered, capacity 1).
type Waiter struct{ C chan struct{} }

// AddWaiter appends w to key's waiters, in arrival order. Slot lock held.
func (s *Slot) AddWaiter(key []byte, w *Waiter) {
	if s.hooks == nil {
		s.hooks = make(map[string][]*Waiter)
	}
	s.hooks[string(key)] = append(s.hooks[string(key)], w)
}

// Waiters returns key's waiters in arrival order. Slot lock held.
func (s *Slot) Waiters(key []byte) []*Waiter { return s.hooks[string(key)] }

// RemoveWaiter removes w from key's waiters. Slot lock held.
func (s *Slot) RemoveWaiter(key string, w *Waiter) {
	ws := s.hooks[key]
	for i, x := range ws {
		if x == w {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(s.hooks, key)
		if len(s.hooks) == 0 {
			s.hooks = nil
		}
	} else {
		s.hooks[key] = ws
	}
}

// expireCycle removes expired keys by sampling, Redis-style: for each slot
// with volatile keys, test up to 20 keys, repeat while more than a quarter
// were expired, within a time budget. It visits slots round-robin so every
// slot is sampled.
func (k *Keyspace) expireCycle(start int, budget time.Duration) (next int, removed int) {
	deadline := time.Now().Add(budget)
	i := start
	for n := 0; n < slots.N; n++ {
		s := &k.slots[i]
		i = (i + 1) & (slots.N - 1)
		s.Lock()
		for s.volatil > 0 && !replicaMode.Load() {
			now := nowMs()
			sampled, expired := 0, 0
			for key, e := range s.keys {
				if e.Exp == 0 {
					continue
				}
				sampled++
				if e.Exp <= now {
					s.expire(key, e)
					expired++
				}
				if sampled >= 20 {
					break
				}
			}
			removed += expired
			if expired*4 <= sampled || sampled == 0 {
				break
			}
		}
		s.Unlock()
		if n&63 == 63 && time.Now().After(deadline) {
			break
		}
	}
	return i, removed
}
