package node

import (
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/slotkv/slotkv/slots"
)

// Memory accounting and eviction (maxmemory, maxmemory-policy).
//
// used_memory estimates the live heap (what Redis's used_memory counts: the
// data, not garbage waiting for the collector), from runtime/metrics read by
// a background goroutine every few milliseconds into an atomic, so the check
// on the write path is one load:
//
//	used = live heap marked by the last GC + bytes allocated since
//	       - what eviction removed since (its own per-entry estimate)
//
// capped by the heap's object bytes (live + unswept garbage), which bounds
// it before the first collection. Garbage from overwrites, DELs and
// container edits counts as used until the next collection (an
// overestimate that each GC corrects). Counting the heap's object bytes
// instead would count eviction's own garbage: the evictor then removes live
// keys to make room for dead ones (fewer keys than Redis at the same
// maxmemory, lower hit rates) and writers had to force collections.
// The runtime's soft memory limit is set from maxmemory, so the collector
// keeps live data + garbage + runtime overhead near the configured size.
//
// Eviction samples keys from random non-empty slots (one key per slot per
// sample), so no slot's dictionary is starved or hammered, and evicts the
// best candidate of each round by the policy: oldest access (LRU), lowest
// logarithmic frequency (LFU, Redis's 8-bit counter with decay), nearest
// expiry (volatile-ttl) or any (random). Replicas never evict: they follow
// the master's DELs.
//
// Concurrency: memState fields are atomics; evictions lock one slot at a
// time and never run inside a command's own slot locks.
type memState struct {
	used      atomic.Int64 // live heap estimate at the last sample (before freed)
	freed     atomic.Int64 // estimated bytes evicted since the last GC
	gcCycles  atomic.Uint64
	sampleMu  sync.Mutex // one sampler at a time; guards gcAllocs, gcLive
	gcAllocs  uint64     // cumulative heap allocations when the last GC was seen
	gcLive    uint64     // live heap marked by that GC
	peak      atomic.Int64
	evicted   atomic.Int64 // evicted_keys
	policy    atomic.Int32 // current policy
	limitSet  atomic.Int64 // maxmemory the runtime limit was derived from
	evictMu   sync.Mutex   // one evictor at a time; guards pool
	pool      []evictCandidate
	lastGC    atomic.Int64 // unix ms of the last collection forced by the write path
	gcMu      sync.Mutex   // serialises those collections
	startOnce sync.Once
}

const (
	polNoEviction = iota
	polAllkeysLRU
	polAllkeysLFU
	polAllkeysRandom
	polVolatileLRU
	polVolatileLFU
	polVolatileRandom
	polVolatileTTL
)

var policyByName = map[string]int32{
	"noeviction": polNoEviction, "allkeys-lru": polAllkeysLRU, "allkeys-lfu": polAllkeysLFU,
	"allkeys-random": polAllkeysRandom, "volatile-lru": polVolatileLRU, "volatile-lfu": polVolatileLFU,
	"volatile-random": polVolatileRandom, "volatile-ttl": polVolatileTTL,
}

// lfuMode is process-wide (one server per process): Lookup maintains LFU
// counters instead of LRU clocks while an LFU policy is selected.
var lfuMode atomic.Bool

// LFU tuning (lfu-log-factor, lfu-decay-time), Redis's defaults.
var (
	lfuLogFactor = atomic.Int64{}
	lfuDecayTime = atomic.Int64{}
)

func init() {
	lfuLogFactor.Store(10)
	lfuDecayTime.Store(1)
}

const lfuInitVal = 5

// applyLFUTuning installs lfu-log-factor and lfu-decay-time (accepted
// options without a typed Config field): Redis's updateLFU and
// LFUDecrAndReturn read them (src/evict.c). Values that are not
// non-negative integers leave the current setting.
func applyLFUTuning(cfg *Config) {
	for _, o := range []struct {
		name string
		v    *atomic.Int64
	}{{"lfu-log-factor", &lfuLogFactor}, {"lfu-decay-time", &lfuDecayTime}} {
		if str, ok := cfg.Get(o.name); ok {
			if n, err := strconv.ParseInt(str, 10, 64); err == nil && n >= 0 {
				o.v.Store(n)
			}
		}
	}
}

func init() {
	// CONFIG SET lfu-log-factor / lfu-decay-time take effect before the
	// reply, like maxmemory-policy (cmd_memory.go).
	ConfigChangeHooks = append(ConfigChangeHooks, func(s *Server, old, cur *Config) { applyLFUTuning(cur) })
}

// Entry.LRU holds, in LFU mode, Redis's layout: the top 16 bits are the
// last decrement time in minutes, the low 8 bits the logarithmic counter.
func lfuTimeMinutes(nowMs int64) uint32 { return uint32(nowMs/60000) & 0xFFFF }

func lfuNew(nowMs int64) uint32 { return lfuTimeMinutes(nowMs)<<8 | lfuInitVal }

// lfuDecrAndIncr applies decay for the minutes elapsed, then a logarithmic
// increment, as Redis's updateLFU does.
func lfuTouch(v uint32, nowMs int64) uint32 {
	counter := lfuDecayed(v, nowMs)
	if counter < 255 {
		r := rand.Float64()
		base := float64(counter) - lfuInitVal
		if base < 0 {
			base = 0
		}
		if p := 1.0 / (base*float64(lfuLogFactor.Load()) + 1); r < p {
			counter++
		}
	}
	return lfuTimeMinutes(nowMs)<<8 | counter
}

// lfuDecayed returns the counter after decay, without storing it.
func lfuDecayed(v uint32, nowMs int64) uint32 {
	counter := v & 0xFF
	ldt := (v >> 8) & 0xFFFF
	now := lfuTimeMinutes(nowMs)
	elapsed := now - ldt
	if now < ldt {
		elapsed = 65535 - ldt + now
	}
	if d := lfuDecayTime.Load(); d > 0 {
		periods := elapsed / uint32(d)
		if periods >= counter {
			return 0
		}
		return counter - periods
	}
	return counter
}

// touchAccess updates e's access metadata on a read or write.
func touchAccess(e *Entry, now int64) {
	if lfuMode.Load() {
		e.LRU = lfuTouch(e.LRU, now)
	} else {
		e.LRU = uint32(now / 1000)
	}
}

// touchSecondLookup counts the second access Redis makes to a key that a
// command has already read (lookupKeyRead) when it then looks it up again
// for writing: SET ... GET and GETSET run getGenericCommand, then
// lookupKeyWrite (Redis 7.0 src/t_string.c setGenericCommand; getsetCommand
// through setKey, src/db.c), and the overwrite keeps the LFU field. e is the
// entry the first lookup returned (nil: absent, nothing to touch).
func touchSecondLookup(e *Entry, now int64) {
	if e != nil {
		touchAccess(e, now)
	}
}

// SetKey stores e at key as Redis's setKey does for a command writing a
// computed value to a destination (SUNIONSTORE, ZUNIONSTORE, ZRANGESTORE
// and the like): it first looks the key up for writing (src/db.c setKey ->
// lookupKeyWrite), which removes an expired key and counts as an access of
// a live one, whose LFU field the overwrite then keeps (dbOverwrite).
// Slot lock held.
func (s *Slot) SetKey(key []byte, e *Entry, now int64) *Entry {
	s.Lookup(key, now)
	return s.Set(key, e)
}

// applyMemoryConfig installs maxmemory, the policy and the runtime's soft
// memory limit; called at startup and after CONFIG SET.
func (s *Server) applyMemoryConfig() {
	cfg := s.Config()
	p := policyByName[cfg.MaxMemoryPolicy]
	s.mem.policy.Store(p)
	lfuMode.Store(p == polAllkeysLFU || p == polVolatileLFU)
	applyLFUTuning(cfg)
	if cfg.MaxMemory > 0 && s.mem.limitSet.Load() != cfg.MaxMemory {
		// The Go heap is the dataset plus garbage: let the collector work
		// harder as the heap approaches the configured size.
		debug.SetMemoryLimit(cfg.MaxMemory + cfg.MaxMemory/5)
		s.mem.limitSet.Store(cfg.MaxMemory)
	} else if cfg.MaxMemory == 0 && s.mem.limitSet.Load() != 0 {
		debug.SetMemoryLimit(math.MaxInt64)
		s.mem.limitSet.Store(0)
	}
	s.mem.startOnce.Do(func() { go s.memoryLoop() })
}

var memSamples = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/gc/cycles/total:gc-cycles"},
	{Name: "/gc/heap/live:bytes"},
	{Name: "/gc/heap/allocs:bytes"},
}

// sampleMemory refreshes used memory; cheap enough to run every few ms.
func (s *Server) sampleMemory() int64 {
	s.mem.sampleMu.Lock()
	defer s.mem.sampleMu.Unlock()
	var ms [4]metrics.Sample
	copy(ms[:], memSamples)
	metrics.Read(ms[:])
	objects := ms[0].Value.Uint64()
	allocs := ms[3].Value.Uint64()
	if cyc := ms[1].Value.Uint64(); cyc != s.mem.gcCycles.Load() {
		// A collection finished since the last sample: its mark is the
		// new baseline, and what eviction freed before it is accounted.
		s.mem.gcLive, s.mem.gcAllocs = ms[2].Value.Uint64(), allocs
		s.mem.freed.Store(0)
		s.mem.gcCycles.Store(cyc)
	}
	used := objects
	if cyc := s.mem.gcCycles.Load(); cyc > 0 && allocs >= s.mem.gcAllocs {
		if est := s.mem.gcLive + (allocs - s.mem.gcAllocs); est < used {
			used = est
		}
	}
	s.mem.used.Store(int64(used))
	if u := s.UsedMemory(); u > s.mem.peak.Load() {
		s.mem.peak.Store(u)
	}
	return int64(used)
}

// UsedMemory is used_memory: heap object bytes minus what eviction has
// freed since the last collection.
func (s *Server) UsedMemory() int64 {
	u := s.mem.used.Load() - s.mem.freed.Load()
	if u < 0 {
		return 0
	}
	return u
}

// PeakMemory is used_memory_peak.
func (s *Server) PeakMemory() int64 { return s.mem.peak.Load() }

// EvictedKeys is evicted_keys.
func (s *Server) EvictedKeys() int64 { return s.mem.evicted.Load() }

func (s *Server) memoryLoop() {
	// Every 5 ms under a memory limit; without one only the figures are
	// sampled, every 100 ms (an idle node should not wake 200 times a second).
	t := time.NewTimer(5 * time.Millisecond)
	defer t.Stop()
	var since time.Duration
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		max := s.Config().MaxMemory
		every := 5 * time.Millisecond
		if max <= 0 {
			every = 100 * time.Millisecond
		}
		if since += every; since >= 100*time.Millisecond {
			since = 0
			s.applyMemoryConfig() // picks up CONFIG SET maxmemory / policy
		}
		s.sampleMemory()
		if max > 0 && s.UsedMemory() > max {
			s.evict(50*time.Millisecond, false)
		}
		t.Reset(every)
	}
}

// overMaxmemory runs eviction if needed and reports whether a command that
// may grow memory must be refused with -OOM. As in Redis, a write is
// refused only when nothing can be evicted (noeviction, or volatile-* with
// no key left to evict); when eviction merely ran out of time the write
// goes ahead.
func (s *Server) overMaxmemory() bool {
	max := s.Config().MaxMemory
	if max <= 0 || s.UsedMemory() <= max {
		return false
	}
	if replicaMode.Load() {
		return false // replicas follow the master's deletions
	}
	// Evict on the writer's time (back-pressure), waiting for a concurrent
	// evictor rather than failing the write.
	if s.evict(100*time.Millisecond, true) != evictNoVictim {
		return false
	}
	// Nothing to evict: part of used memory may be garbage of DELs and
	// overwrites that the last collection did not see. Collect (at most
	// every 100 ms) and look again before refusing the write.
	// Writers arriving during that collection wait for its figures (after
	// FLUSHALL, used memory stays high until a GC: no write may fail then).
	s.mem.gcMu.Lock()
	if nowMs()-s.mem.lastGC.Load() > 100 {
		runtime.GC()
		s.sampleMemory()
		s.mem.lastGC.Store(nowMs())
	}
	s.mem.gcMu.Unlock()
	if s.evict(100*time.Millisecond, true) != evictNoVictim {
		return false
	}
	return s.UsedMemory() > max
}

// evict results.
const (
	evictOK       = iota // under maxmemory (or no limit)
	evictTimeout         // out of budget, still over
	evictNoVictim        // over, and nothing can be evicted
)

// evict frees memory by policy until under maxmemory or out of budget.
// wait makes it queue behind a running evictor instead of returning.
func (s *Server) evict(budget time.Duration, wait bool) int {
	if replicaMode.Load() {
		return evictOK
	}
	pol := s.mem.policy.Load()
	if pol == polNoEviction {
		return evictNoVictim
	}
	if wait {
		s.mem.evictMu.Lock()
	} else if !s.mem.evictMu.TryLock() {
		return evictTimeout
	}
	defer s.mem.evictMu.Unlock()
	deadline := time.Now().Add(budget)
	samples := s.Config().MaxMemorySamples
	if samples < 1 {
		samples = 5
	}
	volatile := pol >= polVolatileLRU
	for rounds := 0; ; rounds++ {
		max := s.Config().MaxMemory
		if max <= 0 || s.UsedMemory() <= max {
			return evictOK
		}
		if rounds&15 == 15 && time.Now().After(deadline) {
			return evictTimeout
		}
		if !s.evictOne(pol, volatile, samples) {
			return evictNoVictim // e.g. volatile-* with no TTLs
		}
	}
}

// evictCandidate is one entry of the eviction pool.
type evictCandidate struct {
	slot  int
	key   string
	score float64 // higher = better victim
}

// score rates e as a victim under pol (higher evicts first).
func victimScore(pol int32, e *Entry, now int64) float64 {
	switch pol {
	case polAllkeysLRU, polVolatileLRU:
		if lru := uint32(now / 1000); lru > e.LRU {
			return float64(lru - e.LRU)
		}
		return 0
	case polAllkeysLFU, polVolatileLFU:
		return 255 - float64(lfuDecayed(e.LRU, now))
	case polVolatileTTL:
		return -float64(e.Exp)
	}
	return rand.Float64()
}

// evictOne refills the eviction pool (Redis's evictionPoolPopulate: the
// best candidates survive across rounds, which makes the approximation much
// closer to true LRU/LFU/TTL order) with one key from each of `samples`
// random non-empty slots, then pops the best candidate still present and
// evicts it; false if there was nothing to evict. Caller holds mem.evictMu.
func (s *Server) evictOne(pol int32, volatile bool, samples int) bool {
	now := nowMs()
	found := 0
	start := rand.IntN(slots.N)
	for probe := 0; probe < slots.N && found < samples; probe++ {
		i := (start + probe*7919) & (slots.N - 1) // stride by a prime: spread over slots
		sl := s.KS.Slot(i)
		sl.Lock()
		if sl.keys.Len() == 0 || (volatile && sl.volatil == 0) {
			sl.Unlock()
			continue
		}
		for k, v := range sl.keys.All() { // Go map iteration starts at a random point
			if volatile && v.Exp == 0 {
				continue
			}
			s.mem.pool = poolInsert(s.mem.pool, evictCandidate{i, k, victimScore(pol, v, now)})
			found++
			break
		}
		sl.Unlock()
	}
	for len(s.mem.pool) > 0 {
		best := s.mem.pool[0]
		s.mem.pool = s.mem.pool[:copy(s.mem.pool, s.mem.pool[1:])]
		sl := s.KS.Slot(best.slot)
		sl.Lock()
		e := sl.keys.getString(best.key)
		if e == nil || (volatile && e.Exp == 0) {
			sl.Unlock()
			continue
		}
		// The key may have been used since it was pooled: rescore it and
		// put it back if another candidate is now a better victim.
		cur := victimScore(pol, e, now)
		if len(s.mem.pool) > 0 && cur < s.mem.pool[0].score && pol != polAllkeysRandom && pol != polVolatileRandom {
			sl.Unlock()
			s.mem.pool = poolInsert(s.mem.pool, evictCandidate{best.slot, best.key, cur})
			continue
		}
		// Evict it under the same lock (no second lookup).
		size := estimateEntry(best.key, e)
		key := []byte(best.key)
		sl.Delete(key, now)
		s.propagate(nil, [][]byte{[]byte("DEL"), key})
		s.mem.freed.Add(int64(size))
		s.mem.evicted.Add(1)
		sl.Unlock()
		return true
	}
	return false
}

// poolInsert keeps the 16 best candidates, best first, without duplicates.
func poolInsert(pool []evictCandidate, c evictCandidate) []evictCandidate {
	for i, p := range pool {
		if p.slot == c.slot && p.key == c.key {
			pool = append(pool[:i], pool[i+1:]...)
			break
		}
	}
	i := 0
	for i < len(pool) && pool[i].score >= c.score {
		i++
	}
	if i >= 16 {
		return pool
	}
	pool = append(pool, evictCandidate{})
	copy(pool[i+1:], pool[i:])
	pool[i] = c
	if len(pool) > 16 {
		pool = pool[:16]
	}
	return pool
}

// nodeBlocks are the byte-block sizes newNode allocates after the Entry.
var nodeBlocks = [...]int{8, 24, 40, 56, 72, 88, 104, 120, 136, 152, 168, 184, 200, 256}

// estimateEntry approximates the heap bytes a key costs: its dictionary
// bucket (pointer + tag byte at 60-80% load), the node holding the Entry,
// the key and a short value (see newNode), and the value's own allocation.
// It is what eviction subtracts from used memory until the next GC, so it
// should neither under- nor overcount (e.g. 10-byte key, 1000-byte value:
// 16 + 80 + 1024).
func estimateEntry(key string, e *Entry) int {
	n := 16
	inline := false
	if e.Obj == nil && len(e.Str) > 0 {
		base := uintptr(unsafe.Pointer(e))
		p := uintptr(unsafe.Pointer(unsafe.SliceData(e.Str)))
		inline = p > base && p < base+entrySize+256
	}
	if len(key) >= bigKeyMark {
		n += int(entrySize) + 24 + len(key)
	} else {
		need := 1 + len(key)
		if inline {
			need += len(e.Str)
		}
		blk := 256
		for _, b := range nodeBlocks {
			if need <= b {
				blk = b
				break
			}
		}
		n += int(entrySize) + blk
	}
	switch {
	case e.Obj == nil && !inline:
		n += cap(e.Str)
	case e.Obj == nil:
	default:
		if mu, ok := e.Obj.(memUser); ok {
			n += mu.MemUsage()
		} else {
			n += 64
		}
	}
	return n
}

// memUser is implemented by values that can estimate their own size.
type memUser interface{ MemUsage() int }
