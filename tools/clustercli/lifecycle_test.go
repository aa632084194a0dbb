package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	reReshardLine   = regexp.MustCompile(`(?m)^\s+Moving slot \d+ from [0-9a-f]{40}$`)
	reRebalanceLine = regexp.MustCompile(`(?m)^Moving \d+ slots from \S+ to \S+$`)
)

// workload runs single-key SET/GET traffic through a ClusterClient until
// stopped, counting errors: slot moves must be invisible to clients.
type workload struct {
	stop   chan struct{}
	wg     sync.WaitGroup
	ops    atomic.Int64
	errs   atomic.Int64
	mu     sync.Mutex
	first  error
	writes atomic.Int64
}

func startWorkload(t *testing.T, c *redis.ClusterClient) *workload {
	w := &workload{stop: make(chan struct{})}
	ctx := context.Background()
	for g := 0; g < 2; g++ {
		w.wg.Add(1)
		go func(g int) {
			defer w.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-w.stop:
					return
				default:
				}
				k := fmt.Sprintf("w%d:%d", g, i%2000)
				err := c.Set(ctx, k, k, 0).Err()
				if err == nil {
					w.writes.Add(1)
					var v string
					v, err = c.Get(ctx, k).Result()
					if err == nil && v != k {
						err = fmt.Errorf("GET %s = %q", k, v)
					}
				}
				w.ops.Add(1)
				if err != nil {
					w.errs.Add(1)
					w.mu.Lock()
					if w.first == nil {
						w.first = err
					}
					w.mu.Unlock()
				}
			}
		}(g)
	}
	return w
}

func (w *workload) finish(t *testing.T) {
	close(w.stop)
	w.wg.Wait()
	t.Logf("workload: %d ops, %d errors", w.ops.Load(), w.errs.Load())
	if w.errs.Load() > 0 {
		t.Errorf("workload saw %d errors during the slot moves; first: %v", w.errs.Load(), w.first)
	}
}

func mustOK(t *testing.T, r result, what string) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", what, r.code, r.stdout, r.stderr)
	}
}

// TestScaleOutLifecycle: create 3+3 with clustercli, load keys under a live
// workload, reshard, add two masters and a replica, rebalance, drain and
// delete an original master. Plans are compared with redis-cli's on the same
// cluster; every key must survive and redis-cli --cluster check must pass.
func TestScaleOutLifecycle(t *testing.T) {
	t.Parallel()
	nodes := startRedis(t, 9, true)
	addrs := addrsOf(nodes)
	entry := addrs[0]
	mustOK(t, cli(t, "", append(append([]string{"create"}, addrs[:6]...), "--replicas", "1", "--yes")...), "create")
	waitHealthy(t, entry)

	code, info, _ := cliJSON(t, "info", entry)
	if code != 0 || info["masters"].(float64) != 3 || len(info["nodes"].([]any)) != 6 {
		t.Fatalf("info after create: code %d %v", code, info)
	}
	for _, n := range info["nodes"].([]any) {
		m := n.(map[string]any)
		if m["role"] == "master" && m["replicas"].(float64) != 1 {
			t.Fatalf("master %v has %v replicas", m["addr"], m["replicas"])
		}
	}

	cc := clusterClient(t, entry)
	const nkeys = 5000
	loadKeys(t, cc, "k", nkeys)
	w := startWorkload(t, cc)
	defer func() {
		if w != nil {
			close(w.stop)
			w.wg.Wait()
		}
	}()

	// Reshard: the plan must be redis-cli's, slot for slot.
	m0 := nodeID(t, nodes[0])
	out, _ := redisCli(t, "no\n", "--cluster", "reshard", entry, "--cluster-from", "all", "--cluster-to", m0, "--cluster-slots", "1500")
	want := reReshardLine.FindAllString(out, -1)
	sim := cli(t, "", "reshard", entry, "--from", "all", "--to", m0, "--slots", "1500", "--simulate", "--verbose")
	mustOK(t, sim, "reshard --simulate")
	got := reReshardLine.FindAllString(sim.stdout, -1)
	if len(want) != 1500 || strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Fatalf("reshard plans differ: redis-cli %d lines, clustercli %d lines\n%s\n---\n%s", len(want), len(got), out, sim.stdout)
	}
	start := time.Now()
	mustOK(t, cli(t, "", "reshard", entry, "--from", "all", "--to", m0[:10], "--slots", "1500", "--yes"), "reshard")
	t.Logf("reshard 1500 slots: %v", time.Since(start))
	verifyKeys(t, cc, "k", nkeys)
	waitHealthy(t, entry)

	// Grow: two empty masters and a replica of the first new master.
	mustOK(t, cli(t, "", "add-node", addrs[6], entry, "--yes"), "add-node master 1")
	mustOK(t, cli(t, "", "add-node", addrs[7], entry, "--yes"), "add-node master 2")
	new1 := nodeID(t, nodes[6])
	mustOK(t, cli(t, "", "add-node", addrs[8], entry, "--replica", "--master-id", new1, "--yes"), "add-node replica")
	if c, doc, _ := cliJSON(t, "check", entry); c != 0 {
		t.Fatalf("check after add-node: %v", doc)
	}

	// Rebalance onto the empty masters: same plan as redis-cli.
	out, _ = redisCli(t, "", "--cluster", "rebalance", entry, "--cluster-use-empty-masters", "--cluster-simulate")
	sim = cli(t, "", "rebalance", entry, "--use-empty-masters", "--simulate")
	mustOK(t, sim, "rebalance --simulate")
	if w, g := reRebalanceLine.FindAllString(out, -1), reRebalanceLine.FindAllString(sim.stdout, -1); len(w) == 0 || strings.Join(w, "\n") != strings.Join(g, "\n") {
		t.Fatalf("rebalance plans differ\nredis-cli:\n%s\nclustercli:\n%s", out, sim.stdout)
	}
	start = time.Now()
	mustOK(t, cli(t, "", "rebalance", entry, "--use-empty-masters", "--yes"), "rebalance")
	t.Logf("rebalance onto 2 empty masters: %v", time.Since(start))
	verifyKeys(t, cc, "k", nkeys)
	waitHealthy(t, entry)

	// Drain an original master (weight 0), then delete it.
	m1 := nodeID(t, nodes[1])
	out, _ = redisCli(t, "", "--cluster", "rebalance", entry, "--cluster-weight", m1+"=0", "--cluster-simulate")
	sim = cli(t, "", "rebalance", entry, "--weight", m1[:12]+"=0", "--simulate")
	mustOK(t, sim, "drain --simulate")
	if w, g := reRebalanceLine.FindAllString(out, -1), reRebalanceLine.FindAllString(sim.stdout, -1); len(w) == 0 || strings.Join(w, "\n") != strings.Join(g, "\n") {
		t.Fatalf("drain plans differ\nredis-cli:\n%s\nclustercli:\n%s", out, sim.stdout)
	}
	mustOK(t, cli(t, "", "rebalance", entry, "--weight", m1[:12]+"=0", "--yes"), "drain")
	verifyKeys(t, cc, "k", nkeys)
	waitHealthy(t, entry)
	if r := cli(t, "", "del-node", entry, m1, "--yes"); r.code != 0 {
		t.Fatalf("del-node: %s%s", r.stdout, r.stderr)
	}
	waitFor(t, 10*time.Second, "deleted node forgotten", func() bool { return nodeKnown(t, nodes[1]) == 1 })
	waitHealthy(t, entry)
	verifyKeys(t, cc, "k", nkeys)

	w.finish(t)
	w = nil

	// call: DBSIZE on masters adds up to every key.
	code, doc, _ := cliJSON(t, "call", entry, "DBSIZE", "--only-masters")
	if code != 0 {
		t.Fatalf("call: %v", doc)
	}
	var total int64
	for _, r := range doc["results"].([]any) {
		total += int64(r.(map[string]any)["reply"].(float64))
	}
	if total < nkeys {
		t.Fatalf("DBSIZE over masters = %d, want >= %d", total, nkeys)
	}
	mustOK(t, cli(t, "", "set-timeout", entry, "4000", "--yes"), "set-timeout")
	if v, _ := nodes[0].cli.ConfigGet(context.Background(), "cluster-node-timeout").Result(); v["cluster-node-timeout"] != "4000" {
		t.Fatalf("set-timeout not applied: %v", v)
	}
	if c, doc, _ := cliJSON(t, "check", entry, "--search-multiple-owners"); c != 0 || doc["ok"] != true {
		t.Fatalf("final check: %v", doc)
	}
	r := cli(t, "", "info", entry, "--map")
	mustOK(t, r, "info --map")
	if !strings.Contains(r.stdout, "each cell = 16 slots") || !strings.Contains(r.stdout, "16383") {
		t.Fatalf("info --map:\n%s", r.stdout)
	}

	// A dead node is a problem: check fails, moves refuse unless --force.
	deadID := nodeID(t, nodes[8])
	_ = nodes[8].cmd.Process.Kill()
	waitFor(t, 10*time.Second, "replica down", func() bool { return nodes[8].cli.Ping(context.Background()).Err() != nil })
	code, doc, _ = cliJSON(t, "check", entry)
	if code != 1 || !problemKinds(doc)["unreachable"] {
		t.Fatalf("check with a dead replica: %d %v", code, doc)
	}
	if r := cli(t, "", "rebalance", entry, "--threshold", "0.01", "--simulate"); r.code != 1 || !strings.Contains(r.stdout+r.stderr, "--force") {
		t.Fatalf("rebalance must refuse an unhealthy cluster:\n%s%s", r.stdout, r.stderr)
	}
	mustOK(t, cli(t, "", "rebalance", entry, "--threshold", "0.01", "--simulate", "--force"), "rebalance --force --simulate")
	// An unreachable node without slots can be deleted (FORGET everywhere).
	mustOK(t, cli(t, "", "del-node", entry, deadID, "--yes"), "del-node of a dead replica")
	if c, doc, _ := cliJSON(t, "check", entry); c != 0 {
		t.Fatalf("check after removing the dead node: %v", doc)
	}
}
