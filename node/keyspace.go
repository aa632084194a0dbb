package node

import (
	"hash/maphash"
	"iter"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

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
//
// Entries in the keyspace are allocated by Slot.Set together with their
// key (and a small string value) in one block, see newNode: never assign a
// whole Entry into a stored entry other than through Set (fields are fine).
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
	keys        keyDict
	volatil     int                  // keys with an expiry
	hasVol      atomic.Bool          // volatil > 0, readable without the lock (expiry cycle)
	watch       map[string][]*Client // WATCHed keys, nil when none
	cut         *Cut                 // pending point-in-time cut, nil when none
	idx         uint16               // this slot's number
	masterApply bool                 // the replication stream is being applied under this lock
	hooks       map[string][]*Waiter // clients blocked on a key, nil when none
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
// as Redis caches mstime per command. The ticker parks when nothing read
// the clock for 20 ms (clockMs is then 0 and readers fall back to
// time.Now, waking it): an idle node no longer wakes 1000 times a second.
var (
	clockMs   atomic.Int64
	clockUsed atomic.Bool // read since the ticker last looked
	clockWake = make(chan struct{}, 1)
	clockOnce sync.Once
)

const clockIdleTicks = 20 // 1 ms ticks without a reader before parking

func startClock() {
	clockOnce.Do(func() {
		clockMs.Store(time.Now().UnixMilli())
		go func() {
			t := time.NewTicker(time.Millisecond)
			for n := 1; ; n++ {
				<-t.C
				clockMs.Store(time.Now().UnixMilli())
				if n%clockIdleTicks != 0 || clockUsed.Swap(false) {
					continue
				}
				t.Stop()
				clockMs.Store(0)
				<-clockWake
				clockMs.Store(time.Now().UnixMilli())
				t.Reset(time.Millisecond)
			}
		}()
	})
}

// nowMs is the command clock (unix ms), at most ~1 ms stale.
func nowMs() int64 {
	if ms := clockMs.Load(); ms != 0 {
		if !clockUsed.Load() {
			clockUsed.Store(true)
		}
		return ms
	}
	select {
	case clockWake <- struct{}{}:
	default:
	}
	return time.Now().UnixMilli()
}

// lruNow is the access clock stored in Entry.LRU: unix seconds.
func lruNow() uint32 { return uint32(nowMs() / 1000) }

// freshLRU is the access field of a newly created object (Redis's
// createObject): the LFU initial counter under an LFU policy, else the
// clock. Set an Entry's LRU to it when a command replaces a key with a new
// object (dbDelete + dbAdd, as COPY REPLACE does) rather than overwriting
// its value (dbOverwrite keeps the old LFU field, see Set).
func freshLRU() uint32 {
	if lfuMode.Load() {
		return lfuNew(nowMs())
	}
	return lruNow()
}

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
	e := s.keys.get(key)
	if e == nil {
		return nil
	}
	if e.Exp != 0 && e.Exp <= now {
		if !replicaMode.Load() {
			s.expire(e.key(), e)
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
	s.keys.remove(e)
	if e.Exp != 0 {
		s.volDec()
	}
	s.touch(key)
	if OnExpire != nil {
		OnExpire(key)
	}
}

// OnExpire, when set, is called (slot lock held) for every key removed by
// expiry, so replication and the AOF can propagate a DEL.
var OnExpire func(key string)

// Set stores e under key (replacing any old entry) and returns the stored
// entry: a new key gets a copy of *e allocated together with the key (and
// with Str when it is short, see newNode), an existing key's entry is
// overwritten with *e. Use the returned entry (and its Str) afterwards.
// Slot lock held.
//
// An entry with LRU 0 gets a fresh access clock, except that overwriting an
// existing key under an LFU policy keeps the old entry's LFU field, like
// Redis 7.0's dbOverwrite (src/db.c: "if (server.maxmemory_policy &
// MAXMEMORY_FLAG_LFU) val->lru = old->lru;"). A non-zero LRU (RENAME's
// moved value, RESTORE IDLETIME) is stored as given.
func (s *Slot) Set(key []byte, e *Entry) *Entry {
	h := ksHash(key)
	if old := s.keys.find(key, h); old != nil {
		if e.LRU == 0 {
			if lfuMode.Load() {
				e.LRU = old.LRU
			} else {
				e.LRU = lruNow()
			}
		}
		if old.Exp != 0 {
			s.volDec()
		}
		*old = *e // keep the stored entry, avoid re-inserting the key
		if e.Exp != 0 {
			s.volInc()
		}
		s.touch(old.key())
		return old
	}
	if e.LRU == 0 {
		e.LRU = freshLRU()
	}
	var val []byte
	if e.Obj == nil {
		val = e.Str
	}
	n := newNode(key, val)
	str := n.Str
	*n = *e
	if str != nil {
		n.Str = str
	}
	if e.Exp != 0 {
		s.volInc()
	}
	s.keys.insert(n, h)
	s.touch(n.key())
	return n
}

// setString stores a copy of val as the string value of key, which must
// not exist (the caller's Lookup returned nil), with expiry exp and string
// encoding enc; the value is copied once, into the entry's own block when
// short. Slot lock held.
func (s *Slot) setString(key, val []byte, exp int64, enc uint8) *Entry {
	n := newNode(key, val)
	if n.Str == nil {
		n.Str = append([]byte(nil), val...)
	}
	n.Exp, n.Enc = exp, enc
	if lfuMode.Load() {
		n.LRU = lfuNew(nowMs())
	} else {
		n.LRU = lruNow()
	}
	if exp != 0 {
		s.volInc()
	}
	s.keys.insert(n, ksHash(key))
	s.touch(n.key())
	return n
}

// Delete removes key; reports whether it existed (expired keys count as
// absent). Slot lock held.
func (s *Slot) Delete(key []byte, now int64) bool {
	e := s.keys.get(key)
	if e == nil {
		return false
	}
	s.keys.remove(e)
	if e.Exp != 0 {
		s.volDec()
	}
	s.touch(e.key())
	return e.Exp == 0 || e.Exp > now
}

// SetExpire changes e's expiry (0 removes it), keeping counters right.
// Slot lock held.
func (s *Slot) SetExpire(e *Entry, exp int64) {
	if e.Exp != 0 {
		s.volDec()
	}
	e.Exp = exp
	if exp != 0 {
		s.volInc()
	}
}

// Len returns the number of keys, including expired ones not yet removed.
// Slot lock held.
func (s *Slot) Len() int { return s.keys.Len() }

func (s *Slot) volInc() {
	if s.volatil++; s.volatil == 1 && !s.hasVol.Swap(true) {
		volSlots.Add(1)
	}
}

func (s *Slot) volDec() {
	if s.volatil--; s.volatil == 0 && s.hasVol.Swap(false) {
		volSlots.Add(-1)
	}
}

// volSlots counts the slots (of every keyspace in the process) whose hasVol
// is set, so that the expiry cycle skips its walk of all 16384 slots when no
// key has a TTL (the walk cost ~0.02 us per request under redis-benchmark).
var volSlots atomic.Int64

// Volatile returns the number of keys with an expiry. Slot lock held.
func (s *Slot) Volatile() int { return s.volatil }

// Each calls fn for every key until it returns false. Slot lock held; fn
// must not add or delete keys.
func (s *Slot) Each(fn func(key string, e *Entry) bool) {
	for k, e := range s.keys.All() {
		if !fn(k, e) {
			return
		}
	}
}

// Flush drops every key of the slot. Slot lock held.
func (s *Slot) Flush() int {
	n := s.keys.Len()
	for k := range s.watch {
		if s.keys.getString(k) != nil { // Redis 7 touches only watched keys that existed
			s.touch(k)
		}
	}
	s.keys = keyDict{}
	s.volatil = 0
	if s.hasVol.Swap(false) {
		volSlots.Add(-1)
	}
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
	if volSlots.Load() == 0 {
		return start, 0
	}
	deadline := time.Now().Add(budget)
	i := start
	for n := 0; n < slots.N; n++ {
		s := &k.slots[i]
		i = (i + 1) & (slots.N - 1)
		if !s.hasVol.Load() {
			continue // no key with a TTL: skip without locking (16384 locks every 100 ms otherwise)
		}
		s.Lock()
		for s.volatil > 0 && !replicaMode.Load() {
			now := nowMs()
			sampled, expired := 0, 0
			for key, e := range s.keys.All() {
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

// The keyspace dictionary. Each slot has its own keyDict: an open-addressing
// hash table (linear probing) of pointers to entries, plus one tag byte per
// bucket (7-8 bits of the key's hash: a probe only touches an entry when its
// tag matches). The key lives in the entry's own allocation (newNode), so a
// bucket costs 9 bytes where a Go map[string]*Entry costs 25 (16-byte key
// header + pointer + control byte) and sizes by powers of two: with the
// ~61 keys per slot of a 1M-key dataset, Go's map sits at 128 buckets
// (~57 bytes/key) where keyDict stays 44-88% full (~13 bytes/key).

// ksSeed seeds the keyspace hash (random per process, like Go maps').
var ksSeed = maphash.MakeSeed()

func ksHash(key []byte) uint64 { return maphash.Bytes(ksSeed, key) }

const (
	ksEmpty   uint8 = 0 // never used: ends a probe sequence
	ksDeleted uint8 = 1 // tombstone: probes go on, inserts may reuse it
)

// ksTag is a bucket's tag for hash h (2..255).
func ksTag(h uint64) uint8 {
	t := uint8(h)
	if t < 2 {
		t += 2
	}
	return t
}

// A keyDict grows when live entries + tombstones would exceed 7/8 of the
// buckets; a grown (or rebuilt) table has twice its live entries (half
// full); it shrinks when fewer than 1/8 of the buckets are live. Growing by
// 2x rather than less leaves less garbage behind while loading (RSS) for
// about the same live size (1M keys: 1.6x from 4/5 full gave 125.5 B/key
// live and 147 B/key before a collection, 2x from 7/8: 125.4 and 135).
type keyDict struct {
	ents []*Entry
	tags []uint8 // same length as ents
	n    int     // live entries
	used int     // live entries + tombstones
}

// Len returns the number of entries.
func (d *keyDict) Len() int { return d.n }

// home is the first bucket probed for hash h.
func (d *keyDict) home(h uint64) int {
	hi, _ := bits.Mul64(h, uint64(len(d.ents)))
	return int(hi)
}

// get returns key's entry or nil.
func (d *keyDict) get(key []byte) *Entry {
	if d.n == 0 {
		return nil
	}
	return d.find(key, ksHash(key))
}

// getString returns key's entry or nil.
func (d *keyDict) getString(key string) *Entry {
	if d.n == 0 {
		return nil
	}
	b := unsafe.Slice(unsafe.StringData(key), len(key))
	return d.find(b, ksHash(b))
}

// find returns the entry of key (hash h) or nil.
func (d *keyDict) find(key []byte, h uint64) *Entry {
	m := len(d.ents)
	if m == 0 {
		return nil
	}
	t := ksTag(h)
	for i := d.home(h); ; {
		switch d.tags[i] {
		case ksEmpty:
			return nil
		case t:
			if e := d.ents[i]; e.key() == string(key) {
				return e
			}
		}
		if i++; i == m {
			i = 0
		}
	}
}

// insert adds e, whose key (hash h) is not in d.
func (d *keyDict) insert(e *Entry, h uint64) {
	if (d.used+1)*8 > len(d.ents)*7 {
		d.resize(d.n + 1)
	}
	m := len(d.ents)
	for i := d.home(h); ; {
		switch d.tags[i] {
		case ksEmpty:
			d.used++
			fallthrough
		case ksDeleted:
			d.tags[i] = ksTag(h)
			d.ents[i] = e
			d.n++
			return
		}
		if i++; i == m {
			i = 0
		}
	}
}

// remove deletes the stored entry e.
func (d *keyDict) remove(e *Entry) {
	m := len(d.ents)
	k := e.key()
	h := maphash.String(ksSeed, k)
	i := d.home(h)
	for d.ents[i] != e {
		if d.tags[i] == ksEmpty {
			return // not stored
		}
		if i++; i == m {
			i = 0
		}
	}
	d.ents[i] = nil
	d.n--
	// A bucket followed by an empty one ends no probe sequence: it (and
	// the tombstones before it) can become empty again.
	if next := i + 1; d.tags[next%m] == ksEmpty {
		for d.tags[i] != ksEmpty && d.ents[i] == nil {
			d.tags[i] = ksEmpty
			d.used--
			if i--; i < 0 {
				i = m - 1
			}
		}
	} else {
		d.tags[i] = ksDeleted
	}
	if d.n == 0 {
		*d = keyDict{}
	} else if d.n*8 < m && m > 16 {
		d.resize(d.n)
	}
}

// resize rebuilds the table for n live entries (dropping tombstones).
func (d *keyDict) resize(n int) {
	want := 2*n + 1
	if want < 4 {
		want = 4
	}
	ents := slices.Grow([]*Entry(nil), want) // rounded up to the allocation's size class
	ents = ents[:cap(ents)]
	tags := make([]uint8, len(ents))
	old, oldTags := d.ents, d.tags
	d.ents, d.tags, d.used = ents, tags, d.n
	m := len(ents)
	for j, e := range old {
		if oldTags[j] < 2 {
			continue
		}
		h := maphash.String(ksSeed, e.key())
		i := d.home(h)
		for tags[i] != ksEmpty {
			if i++; i == m {
				i = 0
			}
		}
		tags[i] = oldTags[j] // same hash, same tag
		ents[i] = e
	}
}

// All iterates over the entries from a random bucket (like Go maps, so
// samplers such as the expiry cycle and eviction see different keys each
// time). Entries may be deleted during the iteration (if the table shrinks
// some entries may be skipped or seen twice); inserts must not happen.
func (d *keyDict) All() iter.Seq2[string, *Entry] {
	return func(yield func(string, *Entry) bool) {
		m := len(d.ents)
		if d.n == 0 || m == 0 {
			return
		}
		start := rand.IntN(m)
		for k := 0; k < len(d.ents); k++ {
			i := (start + k) % len(d.ents)
			if e := d.ents[i]; e != nil && d.tags[i] >= 2 {
				if !yield(e.key(), e) {
					return
				}
			}
		}
	}
}

// Stored entries are allocated as a node: the Entry followed by a byte
// block holding the key (b[0] = length, then the bytes) and, when short, the
// string value. Keys of 255 bytes or more live in a string after a marker
// byte 255 (nodeBig).
type node[B any] struct {
	Entry
	b B
}

type nodeBig struct {
	Entry
	mark uint8
	key  string
}

const (
	entrySize  = unsafe.Sizeof(Entry{})
	bigKeyMark = 255
	// maxInline is the largest block inlined (node size 256 bytes).
	maxInline = 200
)

var bigKeyOff = unsafe.Offsetof(nodeBig{}.key)

func init() {
	if unsafe.Offsetof(node[[8]byte]{}.b) != entrySize || unsafe.Offsetof(nodeBig{}.mark) != entrySize {
		panic("keyspace: unexpected node layout")
	}
}

// key returns the key of a stored entry (allocated by newNode).
func (e *Entry) key() string {
	p := unsafe.Add(unsafe.Pointer(e), entrySize)
	if l := *(*uint8)(p); l != bigKeyMark {
		return unsafe.String((*byte)(unsafe.Add(p, 1)), int(l))
	}
	return *(*string)(unsafe.Add(unsafe.Pointer(e), bigKeyOff))
}

func allocNode[B any]() (*Entry, []byte) {
	n := new(node[B])
	return &n.Entry, unsafe.Slice((*byte)(unsafe.Pointer(&n.b)), unsafe.Sizeof(n.b))
}

// newNode allocates a stored entry for key. When val is short it is copied
// into the node too and the entry's Str is set to it (capacity = length);
// otherwise Str is left nil. The node sizes match Go's size classes.
func newNode(key, val []byte) *Entry {
	if len(key) >= bigKeyMark {
		n := &nodeBig{mark: bigKeyMark, key: string(key)}
		return &n.Entry
	}
	need := 1 + len(key) + len(val)
	inline := val != nil && need <= maxInline
	if !inline {
		need = 1 + len(key)
	}
	var e *Entry
	var b []byte
	switch {
	case need <= 8:
		e, b = allocNode[[8]byte]()
	case need <= 24:
		e, b = allocNode[[24]byte]()
	case need <= 40:
		e, b = allocNode[[40]byte]()
	case need <= 56:
		e, b = allocNode[[56]byte]()
	case need <= 72:
		e, b = allocNode[[72]byte]()
	case need <= 88:
		e, b = allocNode[[88]byte]()
	case need <= 104:
		e, b = allocNode[[104]byte]()
	case need <= 120:
		e, b = allocNode[[120]byte]()
	case need <= 136:
		e, b = allocNode[[136]byte]()
	case need <= 152:
		e, b = allocNode[[152]byte]()
	case need <= 168:
		e, b = allocNode[[168]byte]()
	case need <= 184:
		e, b = allocNode[[184]byte]()
	case need <= 200:
		e, b = allocNode[[200]byte]()
	default: // key of 200..254 bytes
		e, b = allocNode[[256]byte]()
	}
	b[0] = uint8(len(key))
	copy(b[1:], key)
	if inline {
		v := b[1+len(key) : 1+len(key) : need]
		e.Str = append(v, val...)
	}
	return e
}
