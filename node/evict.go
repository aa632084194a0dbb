package node

import (
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slotkv/slotkv/slots"
)

// Memory accounting and eviction (maxmemory, maxmemory-policy).
//
// used_memory is the Go heap's object bytes (runtime/metrics), read by a
// background goroutine every few milliseconds into an atomic, so the check
// on the write path is one load. The heap only shrinks after a garbage
// collection, so between collections the evictor subtracts its own estimate
// of what it already freed. The runtime's soft memory limit is set from
// maxmemory, so the collector runs before the process outgrows it.
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
	used      atomic.Int64 // heap object bytes at the last sample
	freed     atomic.Int64 // estimated bytes evicted since the last GC
	gcCycles  atomic.Uint64
	peak      atomic.Int64
	evicted   atomic.Int64 // evicted_keys
	policy    atomic.Int32 // current policy
	limitSet  atomic.Int64 // maxmemory the runtime limit was derived from
	evictMu   sync.Mutex   // one evictor at a time; guards pool
	pool      []evictCandidate
	lastGC    atomic.Int64 // unix ms of the last collection forced by the write path
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

// applyMemoryConfig installs maxmemory, the policy and the runtime's soft
// memory limit; called at startup and after CONFIG SET.
func (s *Server) applyMemoryConfig() {
	cfg := s.Config()
	p := policyByName[cfg.MaxMemoryPolicy]
	s.mem.policy.Store(p)
	lfuMode.Store(p == polAllkeysLFU || p == polVolatileLFU)
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
}

// sampleMemory refreshes used memory; cheap enough to run every few ms.
func (s *Server) sampleMemory() int64 {
	ms := make([]metrics.Sample, len(memSamples))
	copy(ms, memSamples)
	metrics.Read(ms)
	used := int64(ms[0].Value.Uint64())
	if cyc := ms[1].Value.Uint64(); cyc != s.mem.gcCycles.Load() {
		s.mem.gcCycles.Store(cyc)
		s.mem.freed.Store(0)
	}
	s.mem.used.Store(used)
	if used > s.mem.peak.Load() {
		s.mem.peak.Store(used)
	}
	return used
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
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		if n%20 == 0 {
			s.applyMemoryConfig() // picks up CONFIG SET maxmemory / policy
		}
		s.sampleMemory()
		if max := s.Config().MaxMemory; max > 0 && s.UsedMemory() > max {
			s.evict(50*time.Millisecond, false)
		}
	}
}

// overMaxmemory runs eviction if needed and reports whether a command that
// may grow memory must be refused with -OOM.
func (s *Server) overMaxmemory() bool {
	max := s.Config().MaxMemory
	if max <= 0 || s.UsedMemory() <= max {
		return false
	}
	if replicaMode.Load() {
		return false // replicas follow the master's deletions
	}
	if s.mem.policy.Load() == polNoEviction {
		return true
	}
	// Evict on the writer's time (back-pressure), waiting for a concurrent
	// evictor rather than failing the write; refuse only if nothing could be
	// evicted.
	s.evict(100*time.Millisecond, true)
	if s.UsedMemory() > max {
		// What is left over may be garbage the collector has not reclaimed
		// yet: collect once and look again before refusing the write.
		if last := s.mem.lastGC.Load(); nowMs()-last > 100 {
			s.mem.lastGC.Store(nowMs())
			runtime.GC()
			s.sampleMemory()
		}
		s.evict(100*time.Millisecond, true)
	}
	return s.UsedMemory() > max
}

// evict frees memory by policy until under maxmemory or out of budget.
// wait makes it queue behind a running evictor instead of returning.
func (s *Server) evict(budget time.Duration, wait bool) {
	if replicaMode.Load() {
		return
	}
	pol := s.mem.policy.Load()
	if pol == polNoEviction {
		return
	}
	if wait {
		s.mem.evictMu.Lock()
	} else if !s.mem.evictMu.TryLock() {
		return
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
			return
		}
		if rounds&15 == 15 && time.Now().After(deadline) {
			return
		}
		slot, key, ok := s.pickVictim(pol, volatile, samples)
		if !ok {
			return // nothing evictable (e.g. volatile-* with no TTLs)
		}
		sl := s.KS.Slot(slot)
		sl.Lock()
		if e := sl.keys.getString(key); e != nil {
			size := estimateEntry(key, e)
			sl.Delete([]byte(key), nowMs())
			s.propagate(nil, [][]byte{[]byte("DEL"), []byte(key)})
			s.mem.freed.Add(int64(size))
			s.mem.evicted.Add(1)
		}
		sl.Unlock()
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

// pickVictim refills the eviction pool (Redis's evictionPoolPopulate: the
// best candidates survive across rounds, which makes the approximation much
// closer to true LRU/LFU/TTL order) with one key from each of `samples`
// random non-empty slots, then pops the best candidate still present.
// Caller holds mem.evictMu.
func (s *Server) pickVictim(pol int32, volatile bool, samples int) (int, string, bool) {
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
		s.mem.pool = s.mem.pool[1:]
		sl := s.KS.Slot(best.slot)
		sl.Lock()
		e := sl.keys.getString(best.key)
		ok := e != nil && (!volatile || e.Exp != 0)
		var cur float64
		if ok {
			cur = victimScore(pol, e, now)
		}
		sl.Unlock()
		if !ok {
			continue
		}
		// The key may have been used since it was pooled: rescore it and
		// put it back if another candidate is now a better victim.
		if len(s.mem.pool) > 0 && cur < s.mem.pool[0].score && pol != polAllkeysRandom && pol != polVolatileRandom {
			s.mem.pool = poolInsert(s.mem.pool, evictCandidate{best.slot, best.key, cur})
			continue
		}
		return best.slot, best.key, true
	}
	return 0, "", false
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

// memUser is implemented by values that can estimate their own size.
type memUser interface{ MemUsage() int }

// estimateEntry approximates the heap bytes a key costs: map slot, key,
// entry and value.
func estimateEntry(key string, e *Entry) int {
	n := 48 + len(key) + 64
	if e.Obj == nil {
		n += cap(e.Str)
	} else if mu, ok := e.Obj.(memUser); ok {
		n += mu.MemUsage()
	} else {
		n += 64
	}
	return n
}
