package integration

import (
	"testing"
	"time"

	"github.com/slotkv/slotkv/tools/cacheload/load"
)

// TestCacheWorkloadVsRedis is the issue-9 cache workload at test scale
// (scripts/bench-cache.sh runs it at 256mb): maxmemory 64mb, allkeys-lru, a
// writer pushing 5x maxmemory of SETs while a Zipf reader GETs and re-SETs
// missed keys, against slotkv-server and redis-server at the same time with
// the same seed (same requests). The writer is paced over 12 s so that
// LRU's one-second clock (Redis's too) can tell old keys from new ones.
//
// It checks that slotkv's anonymous RSS stays within 1.3x maxmemory for the
// whole run (sampled every 100 ms) and that its hit rate is within a few
// points of redis-server's. VmRSS also holds the mapped executable (~11 MB
// of file pages for slotkv-server, 0.17x of 64mb; it is logged, and the
// 256mb benchmark checks VmRSS). 64mb rather than 32mb: at 32mb the Go
// runtime's fixed ~5 MB eats most of the soft limit's 20% headroom and the
// collector runs ~60 times a second (755 GCs in 12 s, against 78 at 64mb).
// 8000-byte values keep the request count small (42k SETs, 42k GETs).
//
// Tolerance: measured gaps are -0.3 to -0.7 points here (-0.5 at 256mb); a
// build that evicts the most recently used keys scored -8.4; at 32mb
// redis-server's own allkeys-random scores 2-3 points below its
// allkeys-lru. 5 points cannot flake on noise (both servers get the same
// requests, at the same time), and catches an eviction that removes hot
// keys or an accounting that keeps far fewer keys than maxmemory allows.
func TestCacheWorkloadVsRedis(t *testing.T) {
	const maxmem = 64 << 20
	args := []string{"--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"}
	sk := StartNode(t, Options{Args: args})
	rd := StartRedis(t, Options{Args: args})

	cfg := load.DefaultConfig()
	cfg.MaxMemory = maxmem
	cfg.ValueSize = 8000 // fewer requests for the same volume
	cfg.Volume = 5
	cfg.Pace = 12 * time.Second
	cfg.Timeout = 60 * time.Second
	cfg.Seed = 9
	type out struct {
		r   *load.Result
		err error
	}
	run := func(n *Node, label string, ch chan<- out) {
		c := cfg
		c.Addr, c.PID = n.Addr(), n.PID()
		r, err := load.Run(c, label, nil)
		ch <- out{r, err}
	}
	skc, rdc := make(chan out, 1), make(chan out, 1)
	go run(sk, "slotkv", skc)
	go run(rd, "redis", rdc)
	s, r := <-skc, <-rdc
	if s.err != nil || r.err != nil {
		t.Fatalf("workload: slotkv %v, redis %v", s.err, r.err)
	}
	t.Log(s.r.Summary())
	t.Log(r.r.Summary())
	if !s.r.Completed || !r.r.Completed {
		t.Fatalf("workload did not finish within %v (slotkv %d, redis %d writes)", cfg.Timeout, s.r.Writes, r.r.Writes)
	}
	if s.r.Errors > 0 {
		t.Fatalf("slotkv returned %d errors under allkeys-lru (first: %s)", s.r.Errors, s.r.FirstError)
	}
	if s.r.EvictedKeys == 0 {
		t.Fatal("slotkv evicted nothing")
	}
	if s.r.RSSSamples < 20 || s.r.PeakAnon <= 0 {
		t.Fatalf("RSS not sampled (%d samples)", s.r.RSSSamples)
	}
	if s.r.AnonMultiple > 1.3 {
		t.Errorf("slotkv anonymous RSS peaked at %.1f MB = %.3fx maxmemory (> 1.3x)", float64(s.r.PeakAnon)/(1<<20), s.r.AnonMultiple)
	}
	if d := s.r.HitRate - r.r.HitRate; d < -5 {
		t.Errorf("slotkv hit rate %.2f%% is %.2f points below redis-server's %.2f%%", s.r.HitRate, -d, r.r.HitRate)
	}
}
