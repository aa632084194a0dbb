package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// BenchmarkReshardVsRedisCli moves 5461 slots holding (by default) 300,000
// keys of 100 bytes between two masters of a real Redis 7 cluster, with
// redis-cli --cluster reshard and with clustercli reshard, at pipeline 10
// and 100, and reports keys/s and slots/s of each. Run it alone:
//
//	go test ./tools/clustercli -run '^$' -bench ReshardVsRedisCli -benchtime 1x -v
//
// CLUSTERCLI_BENCH_KEYS overrides the number of keys.
func BenchmarkReshardVsRedisCli(b *testing.B) {
	nkeys := 300000
	if v, err := strconv.Atoi(os.Getenv("CLUSTERCLI_BENCH_KEYS")); err == nil && v > 0 {
		nkeys = v
	}
	// A master that gives away all its slots must stay a master here.
	nodes := startRedis(b, 3, true, "--cluster-allow-replica-migration", "no")
	addrs := addrsOf(nodes)
	if out, code := redisCli(b, "", append(append([]string{"--cluster", "create"}, addrs...), "--cluster-yes")...); code != 0 {
		b.Fatalf("create: %s", out)
	}
	waitHealthy(b, addrs[0])
	cc := clusterClient(b, addrs[0])
	ctx := context.Background()
	val := strings.Repeat("v", 100)
	start := time.Now()
	for i := 0; i < nkeys; i += 5000 {
		if _, err := cc.Pipelined(ctx, func(p redis.Pipeliner) error {
			for j := i; j < min(i+5000, nkeys); j++ {
				p.Set(ctx, fmt.Sprintf("bench:%d", j), val, 0)
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("loaded %d keys of 100 bytes in %v", nkeys, time.Since(start))
	m0, m1 := nodeID(b, nodes[0]), nodeID(b, nodes[1])
	keysOn := func(n *redisNode) int64 { return n.cli.DBSize(ctx).Val() }
	type run struct {
		tool     string
		pipeline int
		from, to string
	}
	runs := []run{
		{"redis-cli", 10, m0, m1}, {"clustercli", 10, m1, m0},
		{"redis-cli", 100, m0, m1}, {"clustercli", 100, m1, m0},
	}
	b.ResetTimer()
	for _, r := range runs {
		src := nodes[0]
		if r.from == m1 {
			src = nodes[1]
		}
		before := keysOn(src)
		t0 := time.Now()
		if r.tool == "redis-cli" {
			out, code := redisCli(b, "", "--cluster", "reshard", addrs[0], "--cluster-from", r.from, "--cluster-to", r.to,
				"--cluster-slots", "5461", "--cluster-yes", "--cluster-pipeline", strconv.Itoa(r.pipeline))
			if code != 0 {
				b.Fatalf("redis-cli reshard: %s", out[max(0, len(out)-2000):])
			}
		} else {
			res := cli(b, "", "reshard", addrs[0], "--from", r.from, "--to", r.to, "--slots", "5461", "--yes",
				"--pipeline", strconv.Itoa(r.pipeline))
			if res.code != 0 {
				b.Fatalf("clustercli reshard: %s%s", res.stdout, res.stderr)
			}
		}
		el := time.Since(t0)
		moved := before - keysOn(src)
		b.Logf("%-10s pipeline %3d: %d keys, 5461 slots in %6.2fs = %8.0f keys/s, %6.0f slots/s",
			r.tool, r.pipeline, moved, el.Seconds(), float64(moved)/el.Seconds(), 5461/el.Seconds())
		b.ReportMetric(el.Seconds(), fmt.Sprintf("s/%s-p%d", r.tool, r.pipeline))
		waitHealthy(b, addrs[0])
	}
	verifyKeysN(b, cc, nkeys, val)
}

func verifyKeysN(b testing.TB, c *redis.ClusterClient, n int, val string) {
	ctx := context.Background()
	c.ReloadState(ctx)
	for i := 0; i < n; i += 5000 {
		cmds := make([]*redis.StringCmd, 0, 5000)
		if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for j := i; j < min(i+5000, n); j++ {
				cmds = append(cmds, p.Get(ctx, fmt.Sprintf("bench:%d", j)))
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		for _, c := range cmds {
			if c.Val() != val {
				b.Fatalf("key lost or changed: %v", c.Args())
			}
		}
	}
}
