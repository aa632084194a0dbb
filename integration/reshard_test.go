package integration

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// loadKeys writes key:i = i for i in [0,n) through a ClusterClient.
func loadKeys(t *testing.T, cc *redis.ClusterClient, n int) {
	t.Helper()
	ctx := Ctx(t, 60*time.Second)
	for i := 0; i < n; i += 1000 {
		p := cc.Pipeline()
		for j := i; j < i+1000 && j < n; j++ {
			p.Set(ctx, "key:"+strconv.Itoa(j), j, 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// verifyKeys checks every key:i = i.
func verifyKeys(t *testing.T, cc *redis.ClusterClient, n int) {
	t.Helper()
	ctx := Ctx(t, 60*time.Second)
	cc.ReloadState(ctx)
	for i := 0; i < n; i += 1000 {
		p := cc.Pipeline()
		var cmds []*redis.StringCmd
		for j := i; j < i+1000 && j < n; j++ {
			cmds = append(cmds, p.Get(ctx, "key:"+strconv.Itoa(j)))
		}
		p.Exec(ctx)
		for j, c := range cmds {
			if v, err := c.Result(); err != nil || v != strconv.Itoa(i+j) {
				t.Fatalf("key:%d = %q, %v", i+j, v, err)
			}
		}
	}
}

// workload runs reads and writes over all slots until stop is closed and
// returns the number of errors seen.
func workload(t *testing.T, cc *redis.ClusterClient, n int, stop chan struct{}) func() (ops, errs int64) {
	var nops, nerrs atomic.Int64
	var wg sync.WaitGroup
	ctx := Ctx(t, 5*time.Minute)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				if i%2 == 0 {
					err = cc.Incr(ctx, "live:"+strconv.Itoa(w)+":"+strconv.Itoa(i%3000)).Err()
				} else {
					err = cc.Get(ctx, "key:"+strconv.Itoa((i*7919)%n)).Err()
				}
				if err != nil && err != redis.Nil {
					if nerrs.Add(1) <= 5 {
						t.Logf("client error: %v", err)
					}
				}
				nops.Add(1)
			}
		}(w)
	}
	return func() (int64, int64) { wg.Wait(); return nops.Load(), nerrs.Load() }
}

// TestRedisCliReshardRebalanceFix drives slotkv with the stock
// redis-cli --cluster tools under a live workload: reshard at pipeline 10
// and 100, rebalance onto an empty master, and fix of an interrupted move.
func TestRedisCliReshardRebalanceFix(t *testing.T) {
	nodes := startMasters(t, 3)
	ctx := Ctx(t, 5*time.Minute)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{nodes[0].Addr()}, MaxRedirects: 16})
	defer cc.Close()
	const N = 30000
	loadKeys(t, cc, N)
	ids := []string{nodeID(t, nodes[0]), nodeID(t, nodes[1]), nodeID(t, nodes[2])}

	stop := make(chan struct{})
	wait := workload(t, cc, N, stop)
	for i, pipe := range []string{"10", "100"} {
		start := time.Now()
		out, err := RedisCLI(t, "--cluster", "reshard", nodes[0].Addr(), "--cluster-from", ids[i], "--cluster-to", ids[2],
			"--cluster-slots", "100", "--cluster-yes", "--cluster-pipeline", pipe)
		if err != nil {
			t.Fatalf("reshard (pipeline %s): %v\n%s", pipe, err, tail(out))
		}
		t.Logf("redis-cli reshard of 100 slots at pipeline %s took %v", pipe, time.Since(start).Round(time.Millisecond))
	}
	if out, ok := checkOK(t, nodes[0].Addr()); !ok {
		t.Fatalf("check after reshard:\n%s", out)
	}

	// Add an empty master and rebalance onto it.
	extra := StartNode(t, Options{Cluster: true})
	if out, err := RedisCLI(t, "--cluster", "add-node", extra.Addr(), nodes[0].Addr()); err != nil {
		t.Fatalf("add-node: %v\n%s", err, tail(out))
	}
	Eventually(t, 20*time.Second, "new node known everywhere and cluster_state:ok on it", func() bool {
		for _, n := range append(nodes, extra) {
			info := clusterInfo(t, n)
			if !strings.Contains(info, "cluster_known_nodes:4") || !strings.Contains(info, "cluster_state:ok") {
				return false
			}
		}
		return true
	})
	start := time.Now()
	// A small weight keeps the move to a few hundred slots (CI time).
	if out, err := RedisCLI(t, "--cluster", "rebalance", nodes[0].Addr(), "--cluster-use-empty-masters", "--cluster-pipeline", "100",
		"--cluster-weight", nodeID(t, extra)+"=0.1"); err != nil {
		t.Fatalf("rebalance: %v\n%s", err, tail(out))
	}
	t.Logf("redis-cli rebalance onto an empty master took %v", time.Since(start).Round(time.Millisecond))
	Eventually(t, 20*time.Second, "check clean after rebalance", func() bool {
		_, ok := checkOK(t, nodes[0].Addr())
		return ok
	})
	close(stop)
	ops, errs := wait()
	t.Logf("workload during reshard/rebalance: %d ops, %d errors", ops, errs)
	if errs != 0 {
		t.Errorf("%d client errors during reshard/rebalance", errs)
	}
	verifyKeys(t, cc, N)

	// An interrupted reshard: slot opened on both sides, some keys moved,
	// then the tool "died". redis-cli --cluster fix must close it with every
	// key present once.
	src, dst := nodes[0], extra
	srcID, dstID := nodeID(t, src), nodeID(t, dst)
	var slot int
	var keys []string
	for s := 0; s < 16384; s++ {
		ks, _ := src.Client().ClusterGetKeysInSlot(ctx, s, 100).Result()
		if len(ks) >= 4 {
			slot, keys = s, ks
			break
		}
	}
	if keys == nil {
		t.Fatal("no slot with keys on the source")
	}
	ss := strconv.Itoa(slot)
	must := func(n *Node, args ...interface{}) {
		if err := n.Client().Do(ctx, args...).Err(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	must(dst, "CLUSTER", "SETSLOT", ss, "IMPORTING", srcID)
	must(src, "CLUSTER", "SETSLOT", ss, "MIGRATING", dstID)
	must(src, "MIGRATE", dst.IP, strconv.Itoa(dst.Port), "", "0", "5000", "KEYS", keys[0], keys[1])
	if out, ok := checkOK(t, src.Addr()); ok {
		t.Fatalf("check did not notice the open slot:\n%s", out)
	}
	if out, err := RedisCLI(t, "--cluster", "fix", src.Addr(), "--cluster-yes"); err != nil {
		t.Fatalf("fix: %v\n%s", err, tail(out))
	}
	Eventually(t, 20*time.Second, "check clean after fix", func() bool {
		_, ok := checkOK(t, src.Addr())
		return ok
	})
	verifyKeys(t, cc, N)
}

func tail(s string) string {
	ls := strings.Split(s, "\n")
	if len(ls) > 30 {
		ls = ls[len(ls)-30:]
	}
	return strings.Join(ls, "\n")
}
