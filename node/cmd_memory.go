package node

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// MEMORY DOCTOR | HELP | MALLOC-STATS | PURGE | STATS | USAGE, with Redis
// 7.0's reply shapes and error texts (src/object.c memoryCommand).
//
// The figures come from what the rest of the node already measures: MEMORY
// USAGE is eviction's per-key estimate (estimateEntry in evict.go), with the
// value of a big hashtable-encoded hash or set, or a long list, sampled as
// Redis samples its aggregates; MEMORY STATS takes total/peak from INFO
// memory's used_memory/used_memory_peak, RSS from the same cached reader,
// and maps Redis's allocator figures to the Go runtime's heap classes
// (allocated = heap objects, active = + unused bytes of in-use spans,
// resident = memory mapped by the runtime and not released to the OS).

func init() {
	sub := func(name, summary, complexity string, arity int, flags Flag, tips []string, proc func(*Client)) *Command {
		return &Command{Name: "memory|" + name, Arity: arity, Flags: flags, Group: "server",
			Since: "4.0.0", Summary: summary, Complexity: complexity, Tips: tips, Proc: proc}
	}
	special := []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"}
	usage := sub("usage", "Estimate the memory usage of a key", "O(N) where N is the number of samples.", -3, FlagReadOnly, nil, cmdMemoryUsage)
	usage.First, usage.Last, usage.Step = 2, 2, 1
	register(&Command{Name: "memory", Arity: -2, Group: "server", Since: "4.0.0",
		Summary: "A container for memory diagnostics commands", Complexity: "Depends on subcommand.",
		Sub: map[string]*Command{
			"doctor": sub("doctor", "Outputs memory problems report", "O(1)", 2, 0, special, cmdMemoryDoctor),
			"help":   sub("help", "Show helpful text about the different subcommands", "O(1)", 2, FlagLoading|FlagStale, nil, cmdMemoryHelp),
			"malloc-stats": sub("malloc-stats", "Show allocator internal stats", "Depends on how much memory is allocated, could be slow", 2, 0,
				special, cmdMemoryMallocStats),
			"purge": sub("purge", "Ask the allocator to release memory", "Depends on how much memory is allocated, could be slow", 2, 0,
				[]string{"request_policy:all_shards", "response_policy:all_succeeded"}, cmdMemoryPurge),
			// FlagAllSlots: STATS counts keys slot by slot (EXEC and
			// scripts then hold every slot, as for DBSIZE).
			"stats": sub("stats", "Show memory usage details", "O(1)", 2, FlagAllSlots, special, cmdMemoryStats),
			"usage": usage,
		}})
	StartHooks = append(StartHooks, func(s *Server) error {
		startupMem.Store(s, s.usedMemory())
		return nil
	})
	// CONFIG SET maxmemory-policy takes effect before the reply (the
	// memory loop would pick it up within 100 ms): OBJECT FREQ right
	// after switching to an LFU policy must see LFU counters on new keys.
	ConfigChangeHooks = append(ConfigChangeHooks, func(s *Server, old, cur *Config) {
		if old.MaxMemoryPolicy != cur.MaxMemoryPolicy || old.MaxMemory != cur.MaxMemory {
			s.applyMemoryConfig()
		}
	})
}

var memoryHelp = []string{
	"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DOCTOR",
	"    Return memory problems reports.",
	"MALLOC-STATS",
	"    Return internal statistics report from the memory allocator.",
	"PURGE",
	"    Attempt to purge dirty pages for reclamation by the allocator.",
	"STATS",
	"    Return information about the memory usage of the server.",
	"USAGE <key> [SAMPLES <count>]",
	"    Return memory in bytes used by <key> and its value. Nested values are",
	"    sampled up to <count> times (default: 5, 0 means sample all).",
	"HELP",
	"    Prints this help.",
}

func cmdMemoryHelp(c *Client) {
	c.W.Array(len(memoryHelp))
	for _, l := range memoryHelp {
		c.W.Simple(l)
	}
}

// ---------------------------------------------------------------------------
// MEMORY USAGE key [SAMPLES count]

// memoryDefaultSamples is Redis's OBJ_COMPUTE_SIZE_DEF_SAMPLES.
const memoryDefaultSamples = 5

func cmdMemoryUsage(c *Client) {
	samples := memoryDefaultSamples
	for j := 3; j < len(c.Argv); j++ {
		if !argIs(c.Argv[j], "samples") || j+1 >= len(c.Argv) {
			c.W.Error(ErrSyntax)
			return
		}
		n, ok := ParseInt(c.Argv[j+1])
		if !ok {
			c.W.Error(ErrNotInt)
			return
		}
		if n < 0 {
			c.W.Error(ErrSyntax)
			return
		}
		if n == 0 || n > math.MaxInt32 {
			samples = math.MaxInt
		} else {
			samples = int(n)
		}
		j++
	}
	key := c.Argv[2]
	e := keysPeek(c.SlotFor(key), key, c.Now) // no access-time update, like Redis
	if e == nil {
		c.W.Null()
		return
	}
	c.W.Int(int64(memoryUsage(key, e, samples)))
}

// memoryUsage is MEMORY USAGE's figure: eviction's estimate of what the key
// costs (estimateEntry), with the value's size sampled from up to `samples`
// elements when walking all of them would be O(N) (hashtable-encoded hashes
// and sets, lists of more than `samples` nodes). Sorted sets' estimate is
// already sampled (ZSet.MemUsage); strings and packed encodings are exact.
func memoryUsage(key []byte, e *Entry, samples int) int {
	if e.Obj != nil {
		if size, ok := sampledValueSize(e.Obj, samples); ok {
			tmp := *e
			tmp.Obj = sizedObject{e.Obj, size}
			return estimateEntry(string(key), &tmp)
		}
	}
	return estimateEntry(string(key), e)
}

// sizedObject carries a precomputed value size into estimateEntry.
type sizedObject struct {
	Object
	size int
}

func (o sizedObject) MemUsage() int { return o.size }

// sampledValueSize estimates o's size from `samples` elements, extrapolated
// to all of them as Redis's objectComputeSize does; false when o's own
// MemUsage is already cheap (or samples covers everything).
func sampledValueSize(o Object, samples int) (int, bool) {
	switch v := o.(type) {
	case *Hash:
		if v.d != nil && v.d.n > samples {
			return 32 + sampledDictSize(v.d, samples), true
		}
	case *Set:
		if v.d != nil && v.d.n > samples {
			return 32 + sampledDictSize(v.d, samples), true
		}
	case *List:
		if len(v.nodes) > samples {
			n, seen := 0, 0
			for i := range v.nodes[:samples] {
				n += cap(v.nodes[i].b)
				seen++
			}
			// List.MemUsage: header + node array + each node's buffer.
			return 32 + cap(v.nodes)*32 + n/seen*len(v.nodes), true
		}
	}
	return 0, false
}

// sampledDictSize is strDict.memUsage with the per-node cost (node header
// + its key/value allocation) averaged over the first `samples` nodes.
func sampledDictSize(d *strDict, samples int) int {
	sum, seen := 0, 0
	for _, nd := range d.tab {
		for ; nd != nil && seen < samples; nd = nd.next {
			sum += 32 + roundAlloc(len(nd.kv))
			seen++
		}
		if seen >= samples {
			break
		}
	}
	n := 32 + len(d.tab)*8
	if seen > 0 {
		n += sum / seen * d.n
	}
	return n
}

// ---------------------------------------------------------------------------
// MEMORY STATS

// startupMem is startup.allocated per server (used memory when the start
// hooks ran, before persistence loads the dataset).
var startupMem sync.Map // *Server → uint64

// memOverhead is Redis's struct redisMemOverhead, filled from slotkv's
// figures.
type memOverhead struct {
	peak, total, startup            uint64
	replBacklog                     uint64
	clientsSlaves, clientsNormal    uint64
	clusterLinks, aofBuffer         uint64
	luaCaches, functionsCaches      uint64
	htMain, htExpires, htSlotToKeys uint64
	overheadTotal                   uint64
	keys                            int64
	bytesPerKey                     uint64
	dataset                         int64
	datasetPerc, peakPerc           float32
	allocAllocated, allocActive     uint64
	allocResident, rss              uint64
	allocFrag, allocRSS, rssExtra   float32
	totalFrag                       float32
	allocFragBytes, allocRSSBytes   int64
	rssExtraBytes, totalFragBytes   int64
}

var allocSamples = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/unused:bytes"},
	{Name: "/memory/classes/total:bytes"},
	{Name: "/memory/classes/heap/released:bytes"},
}

// allocatorStats maps jemalloc's allocated/active/resident to the Go heap.
func allocatorStats() (allocated, active, resident uint64) {
	var ms [4]metrics.Sample
	copy(ms[:], allocSamples)
	metrics.Read(ms[:])
	v := func(i int) uint64 {
		if ms[i].Value.Kind() == metrics.KindUint64 {
			return ms[i].Value.Uint64()
		}
		return 0
	}
	allocated = v(0)
	active = allocated + v(1)
	if t, rel := v(2), v(3); t > rel {
		resident = t - rel
	}
	return
}

// ratio is a/b as Redis's float division, 0 when b is 0 (Redis would send
// inf or nan).
func ratio(a, b uint64) float32 {
	if b == 0 {
		return 0
	}
	return float32(a) / float32(b)
}

// getMemoryOverhead is Redis's getMemoryOverheadData. c walks the slots
// (nil: lock each slot directly).
func getMemoryOverhead(s *Server, c *Client) *memOverhead {
	mh := &memOverhead{}
	mh.total = s.usedMemory()
	mh.peak = s.peakMemory()
	if mh.peak < mh.total {
		mh.peak = mh.total
	}
	if v, ok := startupMem.Load(s); ok {
		mh.startup = v.(uint64)
	}
	s.repl.mu.Lock()
	mh.replBacklog = uint64(len(s.repl.backlog))
	s.repl.mu.Unlock()
	// Client buffers, cluster links, the AOF buffer and the script caches
	// are not measured (INFO memory reports them as 0 too).

	// The keyspace: per slot, the bucket array (pointer + tag byte per
	// bucket) and an Entry header per key. Expiry times live in the Entry
	// (no expires table), and the slot dictionaries are the slot-to-keys
	// index, so those two overheads are 0.
	walk := func(sl *Slot) {
		mh.keys += int64(sl.keys.n)
		mh.htMain += uint64(len(sl.keys.ents))*8 + uint64(len(sl.keys.tags)) + uint64(sl.keys.n)*uint64(entrySize)
	}
	for i := range s.KS.slots {
		if c != nil {
			c.WithSlot(i, walk)
			continue
		}
		sl := &s.KS.slots[i]
		sl.Lock()
		walk(sl)
		sl.Unlock()
	}
	mh.overheadTotal = mh.startup + mh.replBacklog + mh.clientsSlaves + mh.clientsNormal + mh.clusterLinks +
		mh.aofBuffer + mh.luaCaches + mh.functionsCaches + mh.htMain + mh.htExpires + mh.htSlotToKeys
	mh.dataset = int64(mh.total) - int64(mh.overheadTotal)
	if mh.dataset < 0 {
		mh.dataset = 0
	}
	if mh.peak > 0 {
		mh.peakPerc = float32(mh.total) * 100 / float32(mh.peak)
	}
	net := uint64(1)
	if mh.total > mh.startup {
		net = mh.total - mh.startup
	}
	mh.datasetPerc = float32(mh.dataset) * 100 / float32(net)
	if mh.keys > 0 {
		mh.bytesPerKey = net / uint64(mh.keys)
	}

	mh.allocAllocated, mh.allocActive, mh.allocResident = allocatorStats()
	mh.rss = memStats().rss
	mh.allocFrag = ratio(mh.allocActive, mh.allocAllocated)
	mh.allocFragBytes = int64(mh.allocActive) - int64(mh.allocAllocated)
	mh.allocRSS = ratio(mh.allocResident, mh.allocActive)
	mh.allocRSSBytes = int64(mh.allocResident) - int64(mh.allocActive)
	mh.rssExtra = ratio(mh.rss, mh.allocResident)
	mh.rssExtraBytes = int64(mh.rss) - int64(mh.allocResident)
	mh.totalFrag = ratio(mh.rss, mh.total)
	mh.totalFragBytes = int64(mh.rss) - int64(mh.total)
	return mh
}

func cmdMemoryStats(c *Client) {
	mh := getMemoryOverhead(c.srv, c)
	w := &c.W
	numDBs := 0
	if mh.keys > 0 {
		numDBs = 1
	}
	w.Map(27 + numDBs)
	u := func(name string, v uint64) {
		w.BulkString(name)
		w.Int(int64(v))
	}
	i := func(name string, v int64) {
		w.BulkString(name)
		w.Int(v)
	}
	d := func(name string, v float32) {
		w.BulkString(name)
		w.Double(float64(v))
	}
	u("peak.allocated", mh.peak)
	u("total.allocated", mh.total)
	u("startup.allocated", mh.startup)
	u("replication.backlog", mh.replBacklog)
	u("clients.slaves", mh.clientsSlaves)
	u("clients.normal", mh.clientsNormal)
	u("cluster.links", mh.clusterLinks)
	u("aof.buffer", mh.aofBuffer)
	u("lua.caches", mh.luaCaches)
	u("functions.caches", mh.functionsCaches)
	if numDBs > 0 {
		w.BulkString("db.0")
		w.Map(3)
		u("overhead.hashtable.main", mh.htMain)
		u("overhead.hashtable.expires", mh.htExpires)
		u("overhead.hashtable.slot-to-keys", mh.htSlotToKeys)
	}
	u("overhead.total", mh.overheadTotal)
	i("keys.count", mh.keys)
	u("keys.bytes-per-key", mh.bytesPerKey)
	i("dataset.bytes", mh.dataset)
	d("dataset.percentage", mh.datasetPerc)
	d("peak.percentage", mh.peakPerc)
	u("allocator.allocated", mh.allocAllocated)
	u("allocator.active", mh.allocActive)
	u("allocator.resident", mh.allocResident)
	d("allocator-fragmentation.ratio", mh.allocFrag)
	i("allocator-fragmentation.bytes", mh.allocFragBytes)
	d("allocator-rss.ratio", mh.allocRSS)
	i("allocator-rss.bytes", mh.allocRSSBytes)
	d("rss-overhead.ratio", mh.rssExtra)
	i("rss-overhead.bytes", mh.rssExtraBytes)
	d("fragmentation", mh.totalFrag)
	i("fragmentation.bytes", mh.totalFragBytes)
}

// ---------------------------------------------------------------------------
// MEMORY DOCTOR, MALLOC-STATS, PURGE

// memoryDoctorReport is Redis's getMemoryDoctorReport with the same
// thresholds; the texts of the findings describe the Go runtime, which
// stands where Redis has jemalloc.
func memoryDoctorReport(mh *memOverhead) string {
	if mh.total < 5<<20 {
		return "Hi Sam, this instance is empty or is using very little memory, " +
			"my issues detector can't be used in these conditions. " +
			"Please, leave for your mission on Earth and fill it with some data. " +
			"The new Sam and I will be back to our programming as soon as I " +
			"finished rebooting.\n"
	}
	var issues []string
	if float32(mh.peak)/float32(mh.total) > 1.5 {
		issues = append(issues, " * Peak memory: In the past this instance used more than 150% the memory that is currently using. "+
			"The Go runtime returns freed heap to the operating system gradually, so RSS can stay above what the data needs for a while after a peak. "+
			"If you want to reclaim it now, try the MEMORY PURGE command (a full garbage collection that releases free memory).\n\n")
	}
	if mh.totalFrag > 1.4 && mh.totalFragBytes > 10<<20 {
		issues = append(issues, " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 "+
			"(the Resident Set Size of the process is much larger than the memory used by the data). "+
			"With a garbage collector this is usually garbage waiting for the next collection, or a large peak memory (check if there is a peak memory entry above in the report). "+
			"Setting maxmemory also sets the runtime's soft memory limit, which makes the collector keep the heap near that size. "+
			"Note: The currently used allocator is \"go\".\n\n")
	}
	if mh.allocFrag > 1.1 && mh.allocFragBytes > 10<<20 {
		issues = append(issues, " * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1 "+
			"(free space inside the heap's in-use spans). This is usually due to a large peak memory or to a workload that frees many objects of mixed sizes; "+
			"the runtime reuses that space for new allocations of the same size classes.\n\n")
	}
	if mh.allocRSS > 1.1 && mh.allocRSSBytes > 10<<20 {
		issues = append(issues, " * High allocator RSS overhead: This instance has an RSS memory overhead greater than 1.1 "+
			"(the runtime holds much more memory than its in-use spans). "+
			"This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n")
	}
	if mh.rssExtra > 1.1 && mh.rssExtraBytes > 10<<20 {
		issues = append(issues, " * High process RSS overhead: This instance has non-allocator RSS memory overhead greater than 1.1 "+
			"(the Resident Set Size of the process is much larger than the memory the Go runtime accounts for). "+
			"This problem may be due to memory mapped files or to pages the runtime released but the kernel did not reclaim yet.\n\n")
	}
	if len(issues) == 0 {
		return "Hi Sam, I can't find any memory issue in your instance. " +
			"I can only account for what occurs on this base.\n"
	}
	out := "Sam, I detected a few issues in this Redis instance memory implants:\n\n"
	for _, s := range issues {
		out += s
	}
	return out + "I'm here to keep you safe, Sam. I want to help you.\n"
}

func cmdMemoryDoctor(c *Client) {
	c.W.Verbatim(memoryDoctorReport(getMemoryOverhead(c.srv, c)))
}

// cmdMemoryMallocStats answers as Redis built without jemalloc does; the
// Go heap's figures are in MEMORY STATS (allocator.*) and INFO memory.
func cmdMemoryMallocStats(c *Client) {
	c.W.BulkString("Stats not supported for the current allocator")
}

// purging is set while a MEMORY PURGE collection runs (one at a time).
var purging atomic.Bool

// cmdMemoryPurge returns free memory to the operating system: a forced
// collection plus scavenge (debug.FreeOSMemory), in the background so the
// client is not held for a full GC of a large heap. Replies +OK at once, as
// Redis does for allocators other than jemalloc.
func cmdMemoryPurge(c *Client) {
	if purging.CompareAndSwap(false, true) {
		go func() {
			defer purging.Store(false)
			debug.FreeOSMemory()
		}()
	}
	c.W.OK()
}
