package node

// INFO: sections, field providers and the registration hooks other
// subsystems (replication, persistence, cluster, pub/sub) use to add or
// replace fields.
//
// A section is rendered as "# Title\r\n" followed by "name:value\r\n" lines;
// sections are joined by "\r\n", exactly as redis-server 7 does.
//
// Extending INFO:
//
//	SetInfoField("stats", "pubsub_channels", func(s *Server) string { ... })
//	    defines or replaces one field (new fields go to the end of the section);
//	RegisterInfoSection("replication", func(s *Server, b *strings.Builder) { ... })
//	    replaces a whole section body (or adds a new section after keyspace).
//
// Providers run on the INFO caller's goroutine without any slot lock held;
// they must not lock slots (use the counters they own).

import (
	"os"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// infoField is one "name:value" line.
type infoField struct {
	name string
	fn   func(s *Server) string
}

// infoSection is one INFO section.
type infoSection struct {
	name   string // lower-case name used in INFO arguments
	title  string // header after "# "
	def    bool   // part of INFO / INFO default
	fields []infoField
	// body, when set, writes the section body after fields (dynamic
	// field sets: keyspace, commandstats, errorstats, replication...).
	body func(s *Server, b *strings.Builder)
	// kbody is the client-aware body of the keyspace section.
	kbody func(s *Server, c *Client, b *strings.Builder)
}

var (
	infoMu       sync.RWMutex
	infoSections []*infoSection
)

func infoSectionLocked(name string) *infoSection {
	for _, sec := range infoSections {
		if sec.name == name {
			return sec
		}
	}
	return nil
}

func sectionTitle(name string) string {
	switch name {
	case "cpu":
		return "CPU"
	case "modules":
		return "Modules"
	}
	if name == "" {
		return ""
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

// addSection appends a section (used at init for the built-in ones).
func addSection(name string, def bool) *infoSection {
	sec := &infoSection{name: name, title: sectionTitle(name), def: def}
	infoSections = append(infoSections, sec)
	return sec
}

// SetInfoField defines field name in section (lower case, e.g. "stats")
// or replaces the provider of an existing field, keeping its position. A
// new section is created (after the built-in ones) if needed.
func SetInfoField(section, name string, fn func(s *Server) string) {
	infoMu.Lock()
	defer infoMu.Unlock()
	section = strings.ToLower(section)
	sec := infoSectionLocked(section)
	if sec == nil {
		sec = addSection(section, true)
	}
	for i := range sec.fields {
		if sec.fields[i].name == name {
			sec.fields[i].fn = fn
			return
		}
	}
	sec.fields = append(sec.fields, infoField{name, fn})
}

// RegisterInfoSection replaces the body of section name (its built-in
// fields are dropped) with fn, or adds a new section (shown by INFO,
// INFO default and INFO all) after the built-in ones. fn writes
// "field:value\r\n" lines.
func RegisterInfoSection(name string, fn func(s *Server, b *strings.Builder)) {
	infoMu.Lock()
	defer infoMu.Unlock()
	name = strings.ToLower(name)
	sec := infoSectionLocked(name)
	if sec == nil {
		sec = addSection(name, true)
	}
	sec.fields = nil
	sec.kbody = nil
	sec.body = fn
}

// InfoLine appends "name:value\r\n" to b.
func InfoLine(b *strings.Builder, name, value string) {
	b.WriteString(name)
	b.WriteByte(':')
	b.WriteString(value)
	b.WriteString("\r\n")
}

// parseInfoArgs returns the set of sections to render for INFO args.
func parseInfoArgs(args [][]byte) (want map[string]bool, all, everything bool) {
	want = map[string]bool{}
	if len(args) == 0 {
		want["default"] = true
	}
	for _, a := range args {
		n := strings.ToLower(string(a))
		switch n {
		case "all":
			all = true
		case "everything":
			everything = true
		default:
			want[n] = true
		}
	}
	return want, all, everything
}

// GenInfo renders INFO for the given arguments (nil = default sections).
// c may be nil; when set, slots it already holds are not locked again.
func GenInfo(s *Server, c *Client, args [][]byte) string {
	want, all, everything := parseInfoArgs(args)
	def := want["default"]
	infoMu.RLock()
	secs := append([]*infoSection(nil), infoSections...)
	infoMu.RUnlock()
	var b strings.Builder
	b.Grow(4096)
	n := 0
	for _, sec := range secs {
		show := want[sec.name] || all || everything || (def && sec.def)
		if sec.name == "modules" && want["module_list"] {
			show = true
		}
		if !show {
			continue
		}
		if n > 0 {
			b.WriteString("\r\n")
		}
		n++
		b.WriteString("# ")
		b.WriteString(sec.title)
		b.WriteString("\r\n")
		for _, f := range sec.fields {
			InfoLine(&b, f.name, f.fn(s))
		}
		if sec.kbody != nil {
			sec.kbody(s, c, &b)
		} else if sec.body != nil {
			sec.body(s, &b)
		}
	}
	return b.String()
}

// ---------------------------------------------------------------------------
// Per-server state owned by the INFO/CLIENT/CONFIG families, kept beside the
// Server (a side table, so server.go stays untouched).

type serverExtra struct {
	runID      string
	cmdsBase   atomic.Int64 // total_commands_processed at the last CONFIG RESETSTAT
	peakMem    atomic.Uint64
	opsMu      sync.Mutex
	opsSamples [16]int64
	opsIdx     int
	opsLastN   int64
	opsLastT   time.Time
	sampling   atomic.Bool

	pauseMu    sync.Mutex
	pauseEnd   time.Time // zero: no pause
	pauseWrite bool      // WRITE mode (only writes wait)
	pauseCh    chan struct{}
}

var extras sync.Map // *Server -> *serverExtra

func extraOf(s *Server) *serverExtra {
	if v, ok := extras.Load(s); ok {
		return v.(*serverExtra)
	}
	x := &serverExtra{runID: randomHex(40)}
	v, _ := extras.LoadOrStore(s, x)
	return v.(*serverExtra)
}

// RunID returns the server's run_id (40 hex characters, new each start).
func (s *Server) RunID() string { return extraOf(s).runID }

func randomHex(n int) string {
	const hexd = "0123456789abcdef"
	b := make([]byte, n)
	rb := make([]byte, n)
	if f, err := os.Open("/dev/urandom"); err == nil {
		f.Read(rb)
		f.Close()
	} else {
		x := uint64(time.Now().UnixNano())
		for i := range rb {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			rb[i] = byte(x)
		}
	}
	for i := range b {
		b[i] = hexd[rb[i]&15]
	}
	return string(b)
}

// TotalCommands is total_commands_processed.
func (s *Server) TotalCommands() int64 {
	n := s.statCmdsDead.Load()
	s.clientsMu.Lock()
	for _, c := range s.clients {
		n += c.cmds.Load()
	}
	s.clientsMu.Unlock()
	return n - extraOf(s).cmdsBase.Load()
}

// sampleOps runs every 100 ms while the server is up and keeps the last 16
// rates for instantaneous_ops_per_sec, as Redis does.
func (s *Server) sampleOps() {
	x := extraOf(s)
	if !x.sampling.CompareAndSwap(false, true) {
		return
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.Done():
			return
		case now := <-t.C:
			n := s.TotalCommands()
			x.opsMu.Lock()
			if !x.opsLastT.IsZero() {
				dt := now.Sub(x.opsLastT).Milliseconds()
				if dt > 0 {
					x.opsSamples[x.opsIdx] = (n - x.opsLastN) * 1000 / dt
					x.opsIdx = (x.opsIdx + 1) % len(x.opsSamples)
				}
			}
			x.opsLastN, x.opsLastT = n, now
			x.opsMu.Unlock()
			memStats() // keep used_memory_peak fresh
			x.notePeak()
		}
	}
}

func (s *Server) instantaneousOps() int64 {
	x := extraOf(s)
	x.opsMu.Lock()
	defer x.opsMu.Unlock()
	var sum int64
	for _, v := range x.opsSamples {
		sum += v
	}
	return sum / int64(len(x.opsSamples))
}

// ---------------------------------------------------------------------------
// Memory: runtime/metrics (no stop-the-world), cached for 100 ms.

type memSnapshot struct {
	at        time.Time
	heapInUse uint64 // live heap objects (used_memory)
	total     uint64 // memory mapped by the Go runtime
	rss       uint64
}

var (
	memMu    sync.Mutex
	memCache memSnapshot
	memSamp  = []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/total:bytes"},
	}
)

func memStats() memSnapshot {
	memMu.Lock()
	defer memMu.Unlock()
	if time.Since(memCache.at) < 100*time.Millisecond {
		return memCache
	}
	metrics.Read(memSamp)
	m := memSnapshot{at: time.Now()}
	if memSamp[0].Value.Kind() == metrics.KindUint64 {
		m.heapInUse = memSamp[0].Value.Uint64()
	}
	if memSamp[1].Value.Kind() == metrics.KindUint64 {
		m.total = memSamp[1].Value.Uint64()
	}
	m.rss = readRSS()
	if m.rss == 0 {
		m.rss = m.total
	}
	memCache = m
	return m
}

func (x *serverExtra) notePeak() {
	u := memStats().heapInUse
	for {
		p := x.peakMem.Load()
		if u <= p || x.peakMem.CompareAndSwap(p, u) {
			return
		}
	}
}

// usedMemory is INFO's used_memory: the eviction layer's figure (heap
// object bytes minus what it freed since the last GC) when its sampler
// runs, else the live heap objects (cached for 100 ms).
func (s *Server) usedMemory() uint64 {
	if u := s.UsedMemory(); u > 0 {
		return uint64(u)
	}
	return memStats().heapInUse
}

// peakMemory is used_memory_peak.
func (s *Server) peakMemory() uint64 {
	x := extraOf(s)
	x.notePeak()
	p := x.peakMem.Load()
	if e := uint64(s.PeakMemory()); e > p {
		p = e
	}
	return p
}

func readRSS() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

var totalSysMem = sync.OnceValue(func() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "MemTotal:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				n, _ := strconv.ParseUint(f[1], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
})

// bytesToHuman formats like Redis's bytesToHuman.
func bytesToHuman(n uint64) string {
	d := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatUint(n, 10) + "B"
	case n < 1<<20:
		return strconv.FormatFloat(d/1024, 'f', 2, 64) + "K"
	case n < 1<<30:
		return strconv.FormatFloat(d/(1<<20), 'f', 2, 64) + "M"
	case n < 1<<40:
		return strconv.FormatFloat(d/(1<<30), 'f', 2, 64) + "G"
	case n < 1<<50:
		return strconv.FormatFloat(d/(1<<40), 'f', 2, 64) + "T"
	case n < 1<<60:
		return strconv.FormatFloat(d/(1<<50), 'f', 2, 64) + "P"
	}
	return strconv.FormatUint(n, 10) + "B"
}

// ---------------------------------------------------------------------------
// Error statistics (errorstats, total_error_replies). Counted process-wide
// from the reply writer's error hook.

var (
	errStatsMu    sync.Mutex
	errStats      = map[string]*atomic.Int64{}
	errTotal      atomic.Int64
	errStatsLimit = 128 // like Redis: beyond this many distinct prefixes, stop tracking new ones
)

// countError records one error reply (text without the leading '-').
func countError(msg string) {
	errTotal.Add(1)
	prefix := "ERR"
	lim := len(msg)
	if lim > 32 {
		lim = 32
	}
	if i := strings.IndexByte(msg[:lim], ' '); i > 0 {
		prefix = msg[:i]
	}
	errStatsMu.Lock()
	ctr := errStats[prefix]
	if ctr == nil {
		if len(errStats) >= errStatsLimit {
			errStatsMu.Unlock()
			return
		}
		ctr = new(atomic.Int64)
		errStats[strings.Clone(prefix)] = ctr
	}
	errStatsMu.Unlock()
	ctr.Add(1)
}

func resetErrorStats() {
	errStatsMu.Lock()
	errStats = map[string]*atomic.Int64{}
	errStatsMu.Unlock()
	errTotal.Store(0)
}

// ---------------------------------------------------------------------------
// Built-in sections.

var unameOS = sync.OnceValue(func() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return runtime.GOOS + " " + runtime.GOARCH
	}
	cv := func(a [65]int8) string {
		b := make([]byte, 0, len(a))
		for _, c := range a {
			if c == 0 {
				break
			}
			b = append(b, byte(c))
		}
		return string(b)
	}
	return cv(u.Sysname) + " " + cv(u.Release) + " " + cv(u.Machine)
})

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func cpuTimes(who int) (sys, user float64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0, 0
	}
	return float64(ru.Stime.Sec) + float64(ru.Stime.Usec)/1e6, float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6
}

func (s *Server) mode() string {
	if s.Config().ClusterEnabled {
		return "cluster"
	}
	return "standalone"
}

// role reports "master" or "replica" (HELLO, INFO).
func (s *Server) role() string {
	if s.IsReplica() {
		return "replica"
	}
	return "master"
}

// keyspaceCounts walks every slot: keys (including expired keys not yet
// removed, as Redis's DBSIZE) and keys with a TTL.
func keyspaceCounts(s *Server, c *Client) (keys, expires int64) {
	for i := range s.KS.slots {
		sl := &s.KS.slots[i]
		if c != nil {
			c.WithSlot(i, func(sl *Slot) {
				keys += int64(sl.Len())
				expires += int64(sl.Volatile())
			})
			continue
		}
		sl.Lock()
		keys += int64(sl.Len())
		expires += int64(sl.Volatile())
		sl.Unlock()
	}
	return
}

func init() {
	f := func(sec *infoSection, name string, fn func(s *Server) string) {
		sec.fields = append(sec.fields, infoField{name, fn})
	}
	k := func(v string) func(*Server) string { return func(*Server) string { return v } }

	// # Server
	sv := addSection("server", true)
	f(sv, "redis_version", k(Version))
	f(sv, "slotkv_version", k(SlotkvVersion))
	f(sv, "redis_git_sha1", k("00000000"))
	f(sv, "redis_git_dirty", k("0"))
	f(sv, "redis_build_id", k("0"))
	f(sv, "redis_mode", func(s *Server) string { return s.mode() })
	f(sv, "os", func(*Server) string { return unameOS() })
	f(sv, "arch_bits", k(strconv.Itoa(strconv.IntSize)))
	f(sv, "monotonic_clock", k("POSIX clock_gettime"))
	f(sv, "multiplexing_api", k("epoll"))
	f(sv, "atomicvar_api", k("go-atomic"))
	f(sv, "gcc_version", k("0.0.0"))
	f(sv, "go_version", k(runtime.Version()))
	f(sv, "process_id", func(*Server) string { return strconv.Itoa(os.Getpid()) })
	f(sv, "process_supervised", k("no"))
	f(sv, "run_id", func(s *Server) string { return s.RunID() })
	f(sv, "tcp_port", func(s *Server) string { return strconv.Itoa(s.Config().Port) })
	f(sv, "server_time_usec", func(*Server) string { return itoa(time.Now().UnixMicro()) })
	f(sv, "uptime_in_seconds", func(s *Server) string { return itoa(int64(time.Since(s.Started) / time.Second)) })
	f(sv, "uptime_in_days", func(s *Server) string { return itoa(int64(time.Since(s.Started) / (24 * time.Hour))) })
	f(sv, "hz", func(s *Server) string { return strconv.Itoa(s.Config().Hz) })
	f(sv, "configured_hz", func(s *Server) string { return strconv.Itoa(s.Config().Hz) })
	f(sv, "lru_clock", func(*Server) string { return itoa(time.Now().Unix() & (1<<24 - 1)) })
	f(sv, "executable", func(*Server) string { p, _ := os.Executable(); return p })
	f(sv, "config_file", func(s *Server) string { return s.Config().ConfigFile })
	f(sv, "io_threads_active", k("0"))

	// # Clients
	cl := addSection("clients", true)
	f(cl, "connected_clients", func(s *Server) string {
		s.clientsMu.Lock()
		n := len(s.clients)
		s.clientsMu.Unlock()
		return strconv.Itoa(n)
	})
	f(cl, "cluster_connections", k("0"))
	f(cl, "maxclients", func(s *Server) string { return strconv.Itoa(s.Config().MaxClients) })
	f(cl, "client_recent_max_input_buffer", k("0"))
	f(cl, "client_recent_max_output_buffer", k("0"))
	f(cl, "blocked_clients", func(s *Server) string {
		n := 0
		for _, c := range s.Clients() {
			if ClientFlag(c.Flags.Load())&ClientBlocked != 0 {
				n++
			}
		}
		return strconv.Itoa(n)
	})
	f(cl, "tracking_clients", k("0"))
	f(cl, "clients_in_timeout_table", k("0"))

	// # Memory
	me := addSection("memory", true)
	f(me, "used_memory", func(s *Server) string { return strconv.FormatUint(s.usedMemory(), 10) })
	f(me, "used_memory_human", func(s *Server) string { return bytesToHuman(s.usedMemory()) })
	f(me, "used_memory_rss", func(*Server) string { return strconv.FormatUint(memStats().rss, 10) })
	f(me, "used_memory_rss_human", func(*Server) string { return bytesToHuman(memStats().rss) })
	f(me, "used_memory_peak", func(s *Server) string { return strconv.FormatUint(s.peakMemory(), 10) })
	f(me, "used_memory_peak_human", func(s *Server) string { return bytesToHuman(s.peakMemory()) })
	f(me, "used_memory_peak_perc", func(s *Server) string {
		p := s.peakMemory()
		if p == 0 {
			return "100.00%"
		}
		return strconv.FormatFloat(float64(s.usedMemory())*100/float64(p), 'f', 2, 64) + "%"
	})
	f(me, "total_system_memory", func(*Server) string { return strconv.FormatUint(totalSysMem(), 10) })
	f(me, "total_system_memory_human", func(*Server) string { return bytesToHuman(totalSysMem()) })
	f(me, "used_memory_lua", k("0"))
	f(me, "used_memory_scripts", k("0"))
	f(me, "maxmemory", func(s *Server) string { return itoa(s.Config().MaxMemory) })
	f(me, "maxmemory_human", func(s *Server) string { return bytesToHuman(uint64(s.Config().MaxMemory)) })
	f(me, "maxmemory_policy", func(s *Server) string { return s.Config().MaxMemoryPolicy })
	f(me, "mem_fragmentation_ratio", func(s *Server) string {
		u := s.usedMemory()
		if u == 0 {
			return "0.00"
		}
		return strconv.FormatFloat(float64(memStats().rss)/float64(u), 'f', 2, 64)
	})
	f(me, "mem_fragmentation_bytes", func(s *Server) string { return itoa(int64(memStats().rss) - int64(s.usedMemory())) })
	f(me, "mem_not_counted_for_evict", k("0"))
	f(me, "mem_replication_backlog", func(s *Server) string { return "0" })
	f(me, "mem_clients_slaves", k("0"))
	f(me, "mem_clients_normal", k("0"))
	f(me, "mem_aof_buffer", k("0"))
	f(me, "mem_allocator", k("go"))
	f(me, "go_heap_sys", func(*Server) string { return strconv.FormatUint(memStats().total, 10) })
	f(me, "lazyfree_pending_objects", k("0"))
	f(me, "lazyfreed_objects", k("0"))

	// # Persistence: the persistence layer's fields when it runs.
	pe := addSection("persistence", true)
	pe.body = func(s *Server, b *strings.Builder) {
		if p := PersistenceOf(s); p != nil {
			for _, kv := range p.InfoPersistence() {
				InfoLine(b, kv[0], kv[1])
			}
			return
		}
		for _, kv := range [][2]string{
			{"loading", boolInt(s.Loading.Load())}, {"async_loading", "0"},
			{"rdb_changes_since_last_save", "0"}, {"rdb_bgsave_in_progress", "0"},
			{"rdb_last_save_time", itoa(s.Started.Unix())}, {"rdb_last_bgsave_status", "ok"},
			{"rdb_last_bgsave_time_sec", "-1"}, {"rdb_current_bgsave_time_sec", "-1"}, {"rdb_saves", "0"},
			{"aof_enabled", boolInt(s.Config().AppendOnly)}, {"aof_rewrite_in_progress", "0"},
			{"aof_rewrite_scheduled", "0"}, {"aof_last_rewrite_time_sec", "-1"},
			{"aof_current_rewrite_time_sec", "-1"}, {"aof_last_bgrewrite_status", "ok"},
			{"aof_rewrites", "0"}, {"aof_last_write_status", "ok"},
		} {
			InfoLine(b, kv[0], kv[1])
		}
	}

	// # Stats
	st := addSection("stats", true)
	f(st, "total_connections_received", func(s *Server) string { return itoa(s.statConns.Load()) })
	f(st, "total_commands_processed", func(s *Server) string { return itoa(s.TotalCommands()) })
	f(st, "instantaneous_ops_per_sec", func(s *Server) string { return itoa(s.instantaneousOps()) })
	f(st, "total_net_input_bytes", k("0"))
	f(st, "total_net_output_bytes", k("0"))
	f(st, "total_net_repl_input_bytes", k("0"))
	f(st, "total_net_repl_output_bytes", k("0"))
	f(st, "instantaneous_input_kbps", k("0.00"))
	f(st, "instantaneous_output_kbps", k("0.00"))
	f(st, "instantaneous_input_repl_kbps", k("0.00"))
	f(st, "instantaneous_output_repl_kbps", k("0.00"))
	f(st, "rejected_connections", func(s *Server) string { return itoa(s.statRejected.Load()) })
	f(st, "sync_full", func(s *Server) string { return itoa(s.statFullSync.Load()) })
	f(st, "sync_partial_ok", func(s *Server) string { return itoa(s.statPartialOK.Load()) })
	f(st, "sync_partial_err", func(s *Server) string { return itoa(s.statPartialErr.Load()) })
	f(st, "expired_keys", func(s *Server) string { return itoa(s.statExpired.Load()) })
	f(st, "expired_stale_perc", k("0.00"))
	f(st, "expired_time_cap_reached_count", k("0"))
	f(st, "expire_cycle_cpu_milliseconds", k("0"))
	f(st, "evicted_keys", func(s *Server) string { return itoa(s.EvictedKeys()) })
	f(st, "evicted_clients", k("0"))
	f(st, "total_eviction_exceeded_time", k("0"))
	f(st, "current_eviction_exceeded_time", k("0"))
	f(st, "keyspace_hits", func(s *Server) string { return itoa(s.statKeyHits.Load()) })
	f(st, "keyspace_misses", func(s *Server) string { return itoa(s.statKeyMisses.Load()) })
	f(st, "pubsub_channels", k("0"))
	f(st, "pubsub_patterns", k("0"))
	f(st, "pubsubshard_channels", k("0"))
	f(st, "latest_fork_usec", k("0"))
	f(st, "total_forks", k("0"))
	f(st, "migrate_cached_sockets", k("0"))
	f(st, "slave_expires_tracked_keys", k("0"))
	f(st, "active_defrag_hits", k("0"))
	f(st, "active_defrag_misses", k("0"))
	f(st, "active_defrag_key_hits", k("0"))
	f(st, "active_defrag_key_misses", k("0"))
	f(st, "total_active_defrag_time", k("0"))
	f(st, "current_active_defrag_time", k("0"))
	f(st, "tracking_total_keys", k("0"))
	f(st, "tracking_total_items", k("0"))
	f(st, "tracking_total_prefixes", k("0"))
	f(st, "unexpected_error_replies", k("0"))
	f(st, "total_error_replies", func(*Server) string { return itoa(errTotal.Load()) })
	f(st, "dump_payload_sanitizations", k("0"))
	f(st, "total_reads_processed", func(s *Server) string { return itoa(s.TotalCommands()) })
	f(st, "total_writes_processed", func(s *Server) string { return itoa(s.TotalCommands()) })
	f(st, "io_threaded_reads_processed", k("0"))
	f(st, "io_threaded_writes_processed", k("0"))

	// # Replication: the replication layer renders it.
	rp := addSection("replication", true)
	rp.body = func(s *Server, b *strings.Builder) { b.WriteString(s.ReplicationInfo()) }

	// # CPU
	cpu := addSection("cpu", true)
	cpu.body = func(s *Server, b *strings.Builder) {
		sys, user := cpuTimes(syscall.RUSAGE_SELF)
		csys, cuser := cpuTimes(syscall.RUSAGE_CHILDREN)
		ff := func(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
		InfoLine(b, "used_cpu_sys", ff(sys))
		InfoLine(b, "used_cpu_user", ff(user))
		InfoLine(b, "used_cpu_sys_children", ff(csys))
		InfoLine(b, "used_cpu_user_children", ff(cuser))
		InfoLine(b, "used_cpu_sys_main_thread", ff(sys))
		InfoLine(b, "used_cpu_user_main_thread", ff(user))
	}

	// # Modules (always empty)
	addSection("modules", true)

	// # Commandstats (INFO all / commandstats)
	cs := addSection("commandstats", false)
	cs.body = func(s *Server, b *strings.Builder) {
		var names []string
		var calls []int64
		visit := func(cmd *Command) {
			if n := cmd.calls.Load(); n > 0 {
				names = append(names, cmd.Name)
				calls = append(calls, n)
			}
		}
		for _, name := range commandNames {
			cmd := commands[name]
			visit(cmd)
			for _, sc := range cmd.Sub {
				visit(sc)
			}
		}
		idx := make([]int, len(names))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(i, j int) bool { return names[idx[i]] < names[idx[j]] })
		for _, i := range idx {
			InfoLine(b, "cmdstat_"+names[i], "calls="+itoa(calls[i])+",usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=0")
		}
	}

	// # Errorstats
	es := addSection("errorstats", true)
	es.body = func(s *Server, b *strings.Builder) {
		errStatsMu.Lock()
		names := make([]string, 0, len(errStats))
		for n := range errStats {
			names = append(names, n)
		}
		sort.Strings(names)
		vals := make([]int64, len(names))
		for i, n := range names {
			vals[i] = errStats[n].Load()
		}
		errStatsMu.Unlock()
		for i, n := range names {
			InfoLine(b, "errorstat_"+n, "count="+itoa(vals[i]))
		}
	}

	// # Latencystats (INFO all): not tracked
	addSection("latencystats", false)

	// # Cluster
	cu := addSection("cluster", true)
	f(cu, "cluster_enabled", func(s *Server) string { return boolInt(s.Config().ClusterEnabled) })

	// # Keyspace
	ks := addSection("keyspace", true)
	ks.kbody = func(s *Server, c *Client, b *strings.Builder) {
		keys, exp := keyspaceCounts(s, c)
		if keys > 0 {
			InfoLine(b, "db0", "keys="+itoa(keys)+",expires="+itoa(exp)+",avg_ttl=0")
		}
	}

	StartHooks = append(StartHooks, func(s *Server) error {
		go s.sampleOps()
		return nil
	})
}
