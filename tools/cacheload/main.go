// Command cacheload runs the issue-9 cache workload against one server: a
// writer pushing a multiple of maxmemory in SETs while a Zipf-distributed
// reader does GETs and SETs the key again on a miss (read-through cache).
// It samples the server's RSS (-pid) every 100 ms and prints a one-line
// summary (or JSON with -json): hit rate, peak RSS as a multiple of
// maxmemory, evicted_keys, ops/s and server CPU per op. The same -seed
// against two servers issues the same keys in the same order. Used by
// scripts/bench-cache.sh.
//
//	cacheload -addr 127.0.0.1:6379 -pid 1234 -maxmemory 256mb -volume 5
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/slotkv/slotkv/tools/cacheload/load"
)

// parseBytes accepts redis-style sizes: 1000, 64kb, 256mb, 1gb (and k/m/g).
func parseBytes(s string) (int64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1000}, {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000}, {"b", 1}} {
		if strings.HasSuffix(s, u.suf) {
			s, mult = strings.TrimSuffix(s, u.suf), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

func main() {
	cfg := load.DefaultConfig()
	maxmem := flag.String("maxmemory", "256mb", "the server's maxmemory (volume and RSS multiples are relative to it; 0 = ask CONFIG GET)")
	flag.StringVar(&cfg.Addr, "addr", cfg.Addr, "server address")
	flag.IntVar(&cfg.PID, "pid", 0, "server pid: sample its RSS and CPU from /proc")
	flag.Float64Var(&cfg.Volume, "volume", cfg.Volume, "writer volume as a multiple of maxmemory")
	flag.Float64Var(&cfg.ZipfS, "zipf-s", cfg.ZipfS, "reader Zipf exponent s (> 1)")
	flag.Float64Var(&cfg.ZipfV, "zipf-v", cfg.ZipfV, "reader Zipf v (>= 1)")
	flag.IntVar(&cfg.Keys, "keys", 0, "key space (0 = 2 x maxmemory / value size)")
	flag.IntVar(&cfg.ValueSize, "value", cfg.ValueSize, "value size in bytes")
	flag.Float64Var(&cfg.ReadsPerWrite, "reads", cfg.ReadsPerWrite, "reader GETs per writer SET")
	flag.IntVar(&cfg.Conns, "conns", cfg.Conns, "connections (workers, each its own seeded stream)")
	flag.IntVar(&cfg.Batch, "batch", cfg.Batch, "writer SETs per pipeline step")
	flag.DurationVar(&cfg.Pace, "pace", 0, "spread the writer volume over at least this duration (0 = flat out)")
	flag.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "bound: stop after this")
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "workload seed")
	flag.DurationVar(&cfg.SampleEvery, "sample", cfg.SampleEvery, "RSS sampling period")
	flag.Float64Var(&cfg.Steady, "steady", cfg.Steady, "steady-state hit rate counts GETs after this multiple of maxmemory was written")
	label := flag.String("label", "server", "label of the output line")
	asJSON := flag.Bool("json", false, "print the result as JSON")
	flag.Parse()
	var err error
	if cfg.MaxMemory, err = parseBytes(*maxmem); err != nil {
		fmt.Fprintln(os.Stderr, "cacheload:", err)
		os.Exit(2)
	}
	res, err := load.Run(cfg, *label, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cacheload:", err)
		os.Exit(1)
	}
	if *asJSON {
		b, _ := json.Marshal(res)
		fmt.Println(string(b))
		return
	}
	fmt.Println(res.Summary())
}
