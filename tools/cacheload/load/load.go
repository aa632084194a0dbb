// Package load is the cache workload of tools/cacheload (issue 9), shared
// with the integration test: a writer pushes a multiple of maxmemory in SETs
// of keys drawn uniformly from a key space while a reader does GETs of keys
// drawn from a Zipf distribution over the same key space, and on a miss SETs
// the key again (a read-through cache). Meanwhile it samples the server's
// RSS from /proc/PID/status and its INFO.
//
// The operation sequence depends only on the seed and on which GETs hit: a
// worker sends, per step, a pipeline of its writer SETs, its reader GETs and
// the fills for the previous step's misses, then reads every reply. The
// same seed against two servers therefore asks both for the same keys in
// the same order, so hit rates compare eviction quality, not speed.
package load

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes one run.
type Config struct {
	Addr          string        // server address
	PID           int           // server pid for RSS and CPU (0: not sampled)
	MaxMemory     int64         // bytes; 0 = read CONFIG GET maxmemory
	Volume        float64       // writer volume as a multiple of MaxMemory
	ZipfS, ZipfV  float64       // reader distribution (s > 1, v >= 1)
	Keys          int           // key space; 0 = 2 x MaxMemory / ValueSize
	ValueSize     int           // bytes per value
	ReadsPerWrite float64       // reader GETs per writer SET
	Conns         int           // workers, one connection each
	Batch         int           // writer SETs per pipeline step
	Pace          time.Duration // spread the writer's volume over at least this (0: flat out)
	Timeout       time.Duration // stop after this even if the volume is not written
	Seed          uint64
	SampleEvery   time.Duration // RSS sampling period
	// Steady is the writer volume (multiple of MaxMemory) after which GETs
	// count towards the steady-state hit rate (the cache is full by then).
	Steady float64
}

// DefaultConfig is the workload: maxmemory 256mb, 5x volume.
func DefaultConfig() Config {
	return Config{Addr: "127.0.0.1:6379", MaxMemory: 256 << 20, Volume: 5, ZipfS: 1.1, ZipfV: 1,
		ValueSize: 1000, ReadsPerWrite: 1, Conns: 2, Batch: 64, Timeout: 5 * time.Minute, Seed: 1,
		SampleEvery: 100 * time.Millisecond, Steady: 1.5}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Addr == "":
		return errors.New("addr is empty")
	case c.MaxMemory < 0:
		return errors.New("maxmemory < 0")
	case c.Volume <= 0:
		return errors.New("volume must be > 0")
	case c.ZipfS <= 1 || c.ZipfV < 1:
		return errors.New("zipf needs s > 1 and v >= 1")
	case c.Keys < 0 || c.ValueSize < 1 || c.ReadsPerWrite < 0:
		return errors.New("keys >= 0, value >= 1, reads-per-write >= 0")
	case c.Conns < 1 || c.Batch < 1:
		return errors.New("conns and batch must be >= 1")
	case c.Timeout <= 0 || c.SampleEvery <= 0:
		return errors.New("timeout and sample period must be > 0")
	}
	return nil
}

// Result is what a run measured.
type Result struct {
	Label         string  `json:"label"`
	MaxMemory     int64   `json:"maxmemory"`
	Keys          int     `json:"keys"`
	ValueSize     int     `json:"value_size"`
	Seed          uint64  `json:"seed"`
	Writes        int64   `json:"writes"`      // writer SETs
	WriteBytes    int64   `json:"write_bytes"` // writer value bytes
	Gets          int64   `json:"gets"`
	Hits          int64   `json:"hits"`
	Fills         int64   `json:"fills"` // read-through SETs after misses
	SteadyGets    int64   `json:"steady_gets"`
	SteadyHits    int64   `json:"steady_hits"`
	HitRate       float64 `json:"hit_rate"`        // percent, whole run
	SteadyHitRate float64 `json:"steady_hit_rate"` // percent, after Steady x volume
	Errors        int64   `json:"errors"`          // error replies (e.g. OOM)
	FirstError    string  `json:"first_error,omitempty"`
	Seconds       float64 `json:"seconds"`
	OpsPerSec     float64 `json:"ops_per_sec"`
	Completed     bool    `json:"completed"` // false if Timeout cut the run short
	BaseRSS       int64   `json:"base_rss"`
	PeakRSS       int64   `json:"peak_rss"`
	FinalRSS      int64   `json:"final_rss"`
	RSSMultiple   float64 `json:"peak_rss_multiple"` // PeakRSS / MaxMemory
	// Anonymous resident memory (RssAnon: heap, stacks, runtime), i.e.
	// VmRSS without the mapped executable and libraries (file pages are
	// constant, clean and reclaimable: ~11 MB for slotkv-server, which
	// matters at small maxmemory only).
	PeakAnon     int64   `json:"peak_rss_anon"`
	AnonMultiple float64 `json:"peak_rss_anon_multiple"`
	RSSSamples   int     `json:"rss_samples"`
	PeakRSSAt    float64 `json:"peak_rss_at"`      // seconds into the run
	PeakUsed     int64   `json:"peak_used_memory"` // highest INFO used_memory seen
	FinalUsed    int64   `json:"final_used_memory"`
	EvictedKeys  int64   `json:"evicted_keys"`
	DBSize       int64   `json:"dbsize"`
	CPUSeconds   float64 `json:"server_cpu_seconds"`
	CPUusPerOp   float64 `json:"server_cpu_us_per_op"`
}

// Summary is the one-line form.
func (r *Result) Summary() string {
	s := fmt.Sprintf("%-7s maxmemory %dmb keys %d value %dB: %d sets %d gets (+%d fills) in %.1fs %.0f ops/s; hit rate %.2f%% (steady %.2f%%); peak RSS %.1fMB = %.3fx maxmemory (anon %.3fx; base %.1fMB, final %.1fMB, %d samples); peak used_memory %.3fx; evicted_keys %d dbsize %d",
		r.Label, r.MaxMemory>>20, r.Keys, r.ValueSize, r.Writes, r.Gets, r.Fills, r.Seconds, r.OpsPerSec,
		r.HitRate, r.SteadyHitRate, mb(r.PeakRSS), r.RSSMultiple, r.AnonMultiple, mb(r.BaseRSS), mb(r.FinalRSS), r.RSSSamples,
		float64(r.PeakUsed)/float64(r.MaxMemory), r.EvictedKeys, r.DBSize)
	if r.CPUSeconds > 0 {
		s += fmt.Sprintf("; server CPU %.1fs = %.2f us/op", r.CPUSeconds, r.CPUusPerOp)
	}
	if r.Errors > 0 {
		s += fmt.Sprintf("; %d errors (first: %s)", r.Errors, r.FirstError)
	}
	if !r.Completed {
		s += "; STOPPED AT TIMEOUT"
	}
	return s
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

// Run drives the workload against cfg.Addr and returns the measurements.
// stop, if not nil, ends the run early when closed.
func Run(cfg Config, label string, stop <-chan struct{}) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctl, err := dial(cfg.Addr)
	if err != nil {
		return nil, err
	}
	defer ctl.close()
	if cfg.MaxMemory == 0 {
		v, err := ctl.configGet("maxmemory")
		if err != nil {
			return nil, err
		}
		if cfg.MaxMemory, err = strconv.ParseInt(v, 10, 64); err != nil || cfg.MaxMemory <= 0 {
			return nil, fmt.Errorf("server maxmemory %q: set maxmemory or pass it", v)
		}
	}
	if cfg.Keys == 0 {
		cfg.Keys = int(2 * cfg.MaxMemory / int64(cfg.ValueSize))
	}
	res := &Result{Label: label, MaxMemory: cfg.MaxMemory, Keys: cfg.Keys, ValueSize: cfg.ValueSize, Seed: cfg.Seed}

	// Zipf rank -> key id: a seeded permutation, so the hot keys are spread
	// over the key space (and over slots).
	perm := make([]uint32, cfg.Keys)
	for i := range perm {
		perm[i] = uint32(i)
	}
	pr := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	pr.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })

	totalWrites := int64(cfg.Volume * float64(cfg.MaxMemory) / float64(cfg.ValueSize))
	steadyAfter := int64(cfg.Steady * float64(cfg.MaxMemory) / float64(cfg.ValueSize))
	var written atomic.Int64 // writer SETs sent so far, all workers

	smp := newSampler(cfg, ctl)
	res.BaseRSS, _ = RSS(cfg.PID)
	cpu0 := procCPU(cfg.PID)
	start := time.Now()
	deadline := start.Add(cfg.Timeout)
	done := make(chan struct{})
	go smp.loop(start, done)

	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	stats := make([]workerStats, cfg.Conns)
	for w := 0; w < cfg.Conns; w++ {
		share := totalWrites / int64(cfg.Conns)
		if w == 0 {
			share += totalWrites % int64(cfg.Conns)
		}
		wg.Add(1)
		go func(w int, share int64) {
			defer wg.Done()
			err := runWorker(cfg, w, share, perm, &written, steadyAfter, start, deadline, stop, &stats[w])
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}(w, share)
	}
	wg.Wait()
	el := time.Since(start)
	close(done)
	smp.wait()
	if firstErr != nil {
		return nil, firstErr
	}
	for _, st := range stats {
		res.Writes += st.writes
		res.Gets += st.gets
		res.Hits += st.hits
		res.Fills += st.fills
		res.SteadyGets += st.steadyGets
		res.SteadyHits += st.steadyHits
		res.Errors += st.errors
		if res.FirstError == "" {
			res.FirstError = st.firstError
		}
	}
	res.Completed = res.Writes >= totalWrites
	res.WriteBytes = res.Writes * int64(cfg.ValueSize)
	res.Seconds = el.Seconds()
	ops := res.Writes + res.Gets + res.Fills
	res.OpsPerSec = float64(ops) / el.Seconds()
	res.HitRate = pct(res.Hits, res.Gets)
	res.SteadyHitRate = pct(res.SteadyHits, res.SteadyGets)
	if cpu1 := procCPU(cfg.PID); cpu0 >= 0 && cpu1 >= 0 {
		res.CPUSeconds = cpu1 - cpu0
		if ops > 0 {
			res.CPUusPerOp = res.CPUSeconds * 1e6 / float64(ops)
		}
	}
	smp.final(res)
	return res, nil
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

type workerStats struct {
	writes, gets, hits, fills, steadyGets, steadyHits, errors int64
	firstError                                                string
}

func runWorker(cfg Config, w int, share int64, perm []uint32, written *atomic.Int64, steadyAfter int64,
	start, deadline time.Time, stop <-chan struct{}, st *workerStats) error {
	c, err := dial(cfg.Addr)
	if err != nil {
		return err
	}
	defer c.close()
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(w)+1))
	zipf := rand.NewZipf(rng, cfg.ZipfS, cfg.ZipfV, uint64(cfg.Keys-1))
	val := []byte(strings.Repeat("v", cfg.ValueSize))
	var keybuf []byte
	key := func(id uint32) []byte {
		keybuf = strconv.AppendUint(append(keybuf[:0], "ck:"...), uint64(id), 10)
		return keybuf
	}
	var fills, gets []uint32
	var readAcc float64
	for st.writes < share {
		if time.Now().After(deadline) {
			return nil
		}
		select {
		case <-stop:
			return nil
		default:
		}
		if cfg.Pace > 0 { // keep the writer at or behind its schedule
			ahead := time.Duration(float64(st.writes)/float64(share)*float64(cfg.Pace)) - time.Since(start)
			if ahead > time.Millisecond {
				time.Sleep(ahead)
			}
		}
		nw := int64(cfg.Batch)
		if share-st.writes < nw {
			nw = share - st.writes
		}
		steady := written.Add(nw) > steadyAfter
		for i := int64(0); i < nw; i++ {
			c.cmd3("SET", key(uint32(rng.IntN(cfg.Keys))), val)
		}
		for _, id := range fills {
			c.cmd3("SET", key(id), val)
		}
		readAcc += float64(nw) * cfg.ReadsPerWrite
		gets = gets[:0]
		for ; readAcc >= 1; readAcc-- {
			id := perm[zipf.Uint64()]
			gets = append(gets, id)
			c.cmd2("GET", key(id))
		}
		if err := c.w.Flush(); err != nil {
			return err
		}
		for i := int64(0); i < nw+int64(len(fills)); i++ {
			if _, err := c.reply(st); err != nil {
				return err
			}
		}
		st.writes += nw
		st.fills += int64(len(fills))
		fills = fills[:0]
		for _, id := range gets {
			hit, err := c.reply(st)
			if err != nil {
				return err
			}
			st.gets++
			if steady {
				st.steadyGets++
			}
			if hit {
				st.hits++
				if steady {
					st.steadyHits++
				}
			} else {
				fills = append(fills, id)
			}
		}
	}
	return nil
}

// conn is a minimal RESP2 client.
type conn struct {
	nc net.Conn
	r  *bufio.Reader
	w  *bufio.Writer
}

func dial(addr string) (*conn, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &conn{nc: nc, r: bufio.NewReaderSize(nc, 1<<16), w: bufio.NewWriterSize(nc, 1<<16)}, nil
}

func (c *conn) close() { c.nc.Close() }

func (c *conn) bulk(b []byte) {
	c.w.WriteByte('$')
	c.w.WriteString(strconv.Itoa(len(b)))
	c.w.WriteString("\r\n")
	c.w.Write(b)
	c.w.WriteString("\r\n")
}

func (c *conn) cmd2(name string, a []byte) {
	c.w.WriteString("*2\r\n")
	c.bulk([]byte(name))
	c.bulk(a)
}

func (c *conn) cmd3(name string, a, b []byte) {
	c.w.WriteString("*3\r\n")
	c.bulk([]byte(name))
	c.bulk(a)
	c.bulk(b)
}

// reply reads one reply; a bulk string is a hit, a nil bulk a miss, an
// error reply is counted in st.
func (c *conn) reply(st *workerStats) (bool, error) {
	c.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return false, err
	}
	if len(line) < 3 {
		return false, fmt.Errorf("short reply %q", line)
	}
	switch line[0] {
	case '+':
		return true, nil
	case '-':
		st.errors++
		if st.firstError == "" {
			st.firstError = strings.TrimSpace(string(line[1:]))
		}
		return false, nil
	case '$':
		n, err := strconv.Atoi(string(line[1 : len(line)-2]))
		if err != nil {
			return false, fmt.Errorf("bad bulk header %q", line)
		}
		if n < 0 {
			return false, nil
		}
		if _, err := c.r.Discard(n + 2); err != nil {
			return false, err
		}
		return true, nil
	}
	return false, fmt.Errorf("unexpected reply %q", line)
}

// do sends one command and returns a bulk reply's text (or a simple
// string / integer line); for the control connection only.
func (c *conn) do(args ...string) (string, error) {
	fmt.Fprintf(c.w, "*%d\r\n", len(args))
	for _, a := range args {
		c.bulk([]byte(a))
	}
	if err := c.w.Flush(); err != nil {
		return "", err
	}
	c.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	line, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	switch {
	case strings.HasPrefix(line, "-"):
		return "", errors.New(line[1:])
	case strings.HasPrefix(line, "$"):
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "", nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, b); err != nil {
			return "", err
		}
		return string(b[:n]), nil
	case strings.HasPrefix(line, "*"): // CONFIG GET name -> [name, value]
		var vals []string
		n, _ := strconv.Atoi(line[1:])
		for i := 0; i < n; i++ {
			v, err := c.do1()
			if err != nil {
				return "", err
			}
			vals = append(vals, v)
		}
		return strings.Join(vals, "\n"), nil
	}
	return line[1:], nil
}

// do1 reads one bulk string (an element of an array reply).
func (c *conn) do1() (string, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	n, err := strconv.Atoi(strings.TrimRight(line[1:], "\r\n"))
	if err != nil || n < 0 {
		return "", err
	}
	b := make([]byte, n+2)
	if _, err := io.ReadFull(c.r, b); err != nil {
		return "", err
	}
	return string(b[:n]), nil
}

func (c *conn) configGet(name string) (string, error) {
	v, err := c.do("CONFIG", "GET", name)
	if err != nil {
		return "", err
	}
	parts := strings.Split(v, "\n")
	if len(parts) != 2 {
		return "", fmt.Errorf("CONFIG GET %s: %q", name, v)
	}
	return parts[1], nil
}

// info returns the fields of INFO section.
func (c *conn) info(section string) (map[string]string, error) {
	v, err := c.do("INFO", section)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, l := range strings.Split(v, "\n") {
		if k, val, ok := strings.Cut(strings.TrimSpace(l), ":"); ok {
			m[k] = val
		}
	}
	return m, nil
}

// sampler records peak RSS every SampleEvery and peak used_memory from INFO
// every 5 periods, on its own connection.
type sampler struct {
	cfg      Config
	ctl      *conn
	peak     int64
	peakAnon int64
	peakAt   time.Duration
	n        int
	peakUsed int64
	exited   chan struct{}
}

func newSampler(cfg Config, ctl *conn) *sampler {
	return &sampler{cfg: cfg, ctl: ctl, exited: make(chan struct{})}
}

func (s *sampler) sample(start time.Time, withInfo bool) {
	if r, anon := RSS(s.cfg.PID); r > 0 {
		s.n++
		if r > s.peak {
			s.peak, s.peakAt = r, time.Since(start)
		}
		if anon > s.peakAnon {
			s.peakAnon = anon
		}
	}
	if withInfo {
		if m, err := s.ctl.info("memory"); err == nil {
			if u, err := strconv.ParseInt(m["used_memory"], 10, 64); err == nil && u > s.peakUsed {
				s.peakUsed = u
			}
		}
	}
}

func (s *sampler) loop(start time.Time, done <-chan struct{}) {
	defer close(s.exited)
	t := time.NewTicker(s.cfg.SampleEvery)
	defer t.Stop()
	for i := 0; ; i++ {
		s.sample(start, i%5 == 0)
		select {
		case <-done:
			s.sample(start, true)
			return
		case <-t.C:
		}
	}
}

func (s *sampler) wait() { <-s.exited }

// final fills the RSS, INFO and DBSIZE figures at the end of a run.
func (s *sampler) final(r *Result) {
	r.PeakRSS, r.RSSSamples, r.PeakRSSAt = s.peak, s.n, s.peakAt.Seconds()
	r.PeakAnon = s.peakAnon
	r.FinalRSS, _ = RSS(s.cfg.PID)
	if r.MaxMemory > 0 {
		r.RSSMultiple = float64(r.PeakRSS) / float64(r.MaxMemory)
		r.AnonMultiple = float64(r.PeakAnon) / float64(r.MaxMemory)
	}
	r.PeakUsed = s.peakUsed
	if m, err := s.ctl.info("memory"); err == nil {
		r.FinalUsed, _ = strconv.ParseInt(m["used_memory"], 10, 64)
		if r.FinalUsed > r.PeakUsed {
			r.PeakUsed = r.FinalUsed
		}
	}
	if m, err := s.ctl.info("stats"); err == nil {
		r.EvictedKeys, _ = strconv.ParseInt(m["evicted_keys"], 10, 64)
	}
	if v, err := s.ctl.do("DBSIZE"); err == nil {
		r.DBSize, _ = strconv.ParseInt(v, 10, 64)
	}
}

// RSS returns VmRSS and RssAnon of pid in bytes (-1 if unknown).
func RSS(pid int) (rss, anon int64) {
	rss, anon = -1, -1
	if pid <= 0 {
		return
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss = n * 1024
		case "RssAnon:":
			anon = n * 1024
		}
	}
	return
}

var clkTck = 100.0 // Linux USER_HZ

// procCPU returns utime+stime of pid in seconds (-1 if unknown).
func procCPU(pid int) float64 {
	if pid <= 0 {
		return -1
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return -1
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / clkTck
}
