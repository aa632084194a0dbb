package main

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

var (
	reMasterAlloc = regexp.MustCompile(`(?m)^Master\[\d+\] -> Slots \d+ - \d+$`)
	reMBlock      = regexp.MustCompile(`(?m)^M: [0-9a-f]{40} \S+\n   slots:\S* \(\d+ slots\) master$`)
	reSLine       = regexp.MustCompile(`(?m)^S: [0-9a-f]{40} \S+$`)
)

// TestCreatePlanMatchesRedisCli answers "no" to redis-cli --cluster create
// (so nothing changes) and compares its slot allocation and master choice
// with clustercli create --simulate on the same nodes.
func TestCreatePlanMatchesRedisCli(t *testing.T) {
	t.Parallel()
	nodes := startRedis(t, 8, true)
	addrs := addrsOf(nodes)
	cases := []struct{ n, replicas int }{{3, 0}, {4, 0}, {5, 0}, {7, 0}, {8, 0}, {6, 1}, {7, 1}, {8, 1}}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%dnodes_%dreplicas", c.n, c.replicas), func(t *testing.T) {
			args := append([]string{"--cluster", "create"}, addrs[:c.n]...)
			args = append(args, "--cluster-replicas", fmt.Sprint(c.replicas))
			want, _ := redisCli(t, "no\n", args...)
			got := cli(t, "", append(append([]string{"create"}, addrs[:c.n]...), "--replicas", fmt.Sprint(c.replicas), "--simulate")...)
			if got.code != 0 {
				t.Fatalf("clustercli create --simulate: exit %d\n%s%s", got.code, got.stdout, got.stderr)
			}
			w, g := reMasterAlloc.FindAllString(want, -1), reMasterAlloc.FindAllString(got.stdout, -1)
			if len(w) == 0 || strings.Join(w, "\n") != strings.Join(g, "\n") {
				t.Fatalf("slot allocation differs\nredis-cli:\n%s\nclustercli:\n%s", strings.Join(w, "\n"), strings.Join(g, "\n"))
			}
			wm, gm := reMBlock.FindAllString(want, -1), reMBlock.FindAllString(got.stdout, -1)
			sort.Strings(wm)
			sort.Strings(gm)
			if strings.Join(wm, "\n") != strings.Join(gm, "\n") {
				t.Fatalf("masters differ\nredis-cli:\n%s\nclustercli:\n%s", strings.Join(wm, "\n"), strings.Join(gm, "\n"))
			}
			if ws, gs := len(reSLine.FindAllString(want, -1)), len(reSLine.FindAllString(got.stdout, -1)); ws != gs {
				t.Fatalf("replica count differs: redis-cli %d, clustercli %d\n%s\n---\n%s", ws, gs, want, got.stdout)
			}
		})
	}
	// Several hosts: nodes are interleaved by host and replicas avoid their
	// master's host, identically.
	hosts := []string{"127.0.0.11", "127.0.0.11", "127.0.0.12", "127.0.0.12", "127.0.0.13", "127.0.0.13"}
	multi := startRedisOn(t, hosts, true)
	maddrs := addrsOf(multi)
	want, _ := redisCli(t, "no\n", append(append([]string{"--cluster", "create"}, maddrs...), "--cluster-replicas", "1")...)
	got := cli(t, "", append(append([]string{"create"}, maddrs...), "--replicas", "1", "--simulate")...)
	wm, gm := reMBlock.FindAllString(want, -1), reMBlock.FindAllString(got.stdout, -1)
	if len(wm) != 3 || strings.Join(wm, "\n") != strings.Join(gm, "\n") {
		t.Fatalf("multi-host masters differ\nredis-cli:\n%s\nclustercli:\n%s", want, got.stdout)
	}
	for _, out := range []string{want, got.stdout} {
		if !strings.Contains(out, "[OK] Perfect anti-affinity obtained!") && strings.Contains(out, "anti-affinity") {
			t.Fatalf("expected perfect anti-affinity:\n%s", out)
		}
	}

	// Too few masters: both refuse.
	out, code := redisCli(t, "no\n", slices.Concat([]string{"--cluster", "create"}, addrs[:5], []string{"--cluster-replicas", "1"})...)
	got = cli(t, "", append(append([]string{"create"}, addrs[:5]...), "--replicas", "1", "--simulate")...)
	if code == 0 || got.code == 0 || !strings.Contains(out, "requires at least 3 master") || !strings.Contains(got.stdout+got.stderr, "requires at least 3 master") {
		t.Fatalf("both must refuse 5 nodes with 1 replica: redis-cli %d %q; clustercli %d %q", code, out, got.code, got.stdout+got.stderr)
	}
	// Nothing was changed on the nodes: they are all still empty.
	for _, n := range nodes {
		if nodeKnown(t, n) != 1 {
			t.Fatalf("%s was changed by a refused/simulated create", n.addr())
		}
	}
}
