package integration

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startMasters starts n slotkv masters on 127.0.0.1 with the slots split
// evenly, joined with CLUSTER MEET, and waits for cluster_state:ok. args
// are extra server flags.
func startMasters(t *testing.T, n int, args ...string) []*Node {
	t.Helper()
	ctx := Ctx(t, 30*time.Second)
	var nodes []*Node
	for i := 0; i < n; i++ {
		nodes = append(nodes, StartNode(t, Options{Cluster: true, Args: args}))
	}
	per := 16384 / n
	for i, nd := range nodes {
		lo, hi := i*per, (i+1)*per-1
		if i == n-1 {
			hi = 16383
		}
		if err := nd.Client().Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
			t.Fatal(err)
		}
		if err := nd.Client().Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, nd := range nodes[1:] {
		if err := nodes[0].Client().Do(ctx, "CLUSTER", "MEET", nd.IP, strconv.Itoa(nd.Port)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	Eventually(t, 20*time.Second, "cluster_state:ok with every node known everywhere", func() bool {
		for _, nd := range nodes {
			info := clusterInfo(t, nd)
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", n)) {
				return false
			}
		}
		return true
	})
	return nodes
}

// TestWholeSlotMigration moves a third of the slots with CLUSTER
// MIGRATESLOTS while a ClusterClient reads and writes every slot: no client
// error, no key lost, and every node agrees on the new owner.
func TestWholeSlotMigration(t *testing.T) {
	nodes := startMasters(t, 2)
	a, b := nodes[0], nodes[1]
	ctx := Ctx(t, 120*time.Second)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{a.Addr(), b.Addr()}, MaxRedirects: 8})
	defer cc.Close()
	const N = 60000
	for i := 0; i < N; i += 1000 {
		p := cc.Pipeline()
		for j := i; j < i+1000; j++ {
			p.Set(ctx, "key:"+strconv.Itoa(j), j, 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// A big hash rides along in a moving slot.
	big := map[string]interface{}{}
	for i := 0; i < 20000; i++ {
		big["f"+strconv.Itoa(i)] = i
	}
	if err := cc.HSet(ctx, "{big}hash", big).Err(); err != nil { // slot of "big" is owned by a
		t.Fatal(err)
	}

	var errs atomic.Int64
	var ops atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// incrs[w][k] counts worker w's acknowledged INCRs of its key k: the
	// counters must end with exactly those values (no write lost or doubled
	// by the move).
	incrs := make([][]int64, 4)
	for w := 0; w < 4; w++ {
		incrs[w] = make([]int64, 5000)
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := "live:" + strconv.Itoa(w) + ":" + strconv.Itoa(i%5000)
				var err error
				if i%2 == 0 {
					var n int64
					if n, err = cc.Incr(ctx, k).Result(); err == nil {
						incrs[w][i%5000]++
						if n != incrs[w][i%5000] {
							t.Errorf("INCR %s = %d, want %d", k, n, incrs[w][i%5000])
						}
					}
				} else {
					err = cc.Get(ctx, "key:"+strconv.Itoa((i*7919)%N)).Err()
				}
				if err != nil && err != redis.Nil {
					if errs.Add(1) <= 5 {
						t.Logf("client error: %v", err)
					}
				}
				ops.Add(1)
			}
		}(w)
	}

	bid := nodeID(t, b)
	start := time.Now()
	if err := a.Client().Do(ctx, "CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", "0", "5460", "NODE", bid).Err(); err != nil {
		t.Fatal(err)
	}
	var last map[string]string
	Eventually(t, 60*time.Second, "migration job to finish", func() bool {
		v, err := a.Client().Do(ctx, "CLUSTER", "GETSLOTMIGRATIONS").Slice()
		if err != nil || len(v) == 0 {
			return false
		}
		last = toStringMap(v[len(v)-1])
		return last["state"] == "success" || last["state"] == "failed"
	})
	took := time.Since(start)
	if last["state"] != "success" {
		t.Fatalf("migration ended %v", last)
	}
	close(stop)
	wg.Wait()
	keys, _ := strconv.Atoi(last["keys_migrated"])
	t.Logf("moved 5461 slots, %d keys in %v (%.0f keys/s, %.0f slots/s); %d client ops, %d errors",
		keys, took.Round(time.Millisecond), float64(keys)/took.Seconds(), 5461/took.Seconds(), ops.Load(), errs.Load())
	if errs.Load() != 0 {
		t.Errorf("%d client errors during the migration", errs.Load())
	}
	// Every node sees b as owner of slot 0 and 5460.
	Eventually(t, 10*time.Second, "all nodes agree on the new owner", func() bool {
		for _, n := range nodes {
			if !strings.Contains(clusterNodes(n), bid) {
				return false
			}
			for _, line := range strings.Split(clusterNodes(n), "\n") {
				if strings.HasPrefix(line, bid) && !strings.Contains(line, " 0-") {
					return false
				}
			}
		}
		return true
	})
	// Every key is present with its value.
	cc.ReloadState(ctx)
	for i := 0; i < N; i += 1000 {
		p := cc.Pipeline()
		cmds := make([]*redis.StringCmd, 0, 1000)
		for j := i; j < i+1000; j++ {
			cmds = append(cmds, p.Get(ctx, "key:"+strconv.Itoa(j)))
		}
		p.Exec(ctx)
		for j, c := range cmds {
			if v, err := c.Result(); err != nil || v != strconv.Itoa(i+j) {
				t.Fatalf("key:%d = %q, %v after migration", i+j, v, err)
			}
		}
	}
	for w := range incrs {
		for k, want := range incrs[w] {
			if want == 0 {
				continue
			}
			if got, err := cc.Get(ctx, "live:"+strconv.Itoa(w)+":"+strconv.Itoa(k)).Int64(); err != nil || got != want {
				t.Fatalf("live:%d:%d = %d, %v; %d INCRs were acknowledged", w, k, got, err, want)
			}
		}
	}
	if n, err := cc.HLen(ctx, "{big}hash").Result(); err != nil || n != 20000 {
		t.Fatalf("big hash after migration: %d fields, %v", n, err)
	}
	if n, _ := a.Client().Do(ctx, "CLUSTER", "COUNTKEYSINSLOT", "0").Int(); n != 0 {
		t.Fatalf("source still holds %d keys in slot 0", n)
	}
}

func nodeID(t *testing.T, n *Node) string {
	id, err := n.Client().Do(Ctx(t, 5*time.Second), "CLUSTER", "MYID").Text()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func toStringMap(v interface{}) map[string]string {
	out := map[string]string{}
	switch m := v.(type) {
	case map[interface{}]interface{}:
		for k, val := range m {
			out[fmt.Sprint(k)] = fmt.Sprint(val)
		}
	case []interface{}:
		for i := 0; i+1 < len(m); i += 2 {
			out[fmt.Sprint(m[i])] = fmt.Sprint(m[i+1])
		}
	}
	return out
}

var _ = context.Background

// TestClusterPublishReachesEveryNode: PUBLISH on one node is delivered to
// subscribers connected to another node; SPUBLISH stays in its shard.
func TestClusterPublishReachesEveryNode(t *testing.T) {
	nodes := startMasters(t, 3)
	ctx := Ctx(t, 30*time.Second)
	sub := nodes[2].NewClient(t, 3).Subscribe(ctx, "news")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	// The forwarder connects lazily; publish until the message arrives.
	got := make(chan string, 1)
	go func() {
		m, err := sub.ReceiveMessage(ctx)
		if err == nil {
			got <- m.Payload
		}
	}()
	deadline := time.After(10 * time.Second)
	for {
		if err := nodes[0].Client().Publish(ctx, "news", "hello").Err(); err != nil {
			t.Fatal(err)
		}
		select {
		case p := <-got:
			if p != "hello" {
				t.Fatalf("payload %q", p)
			}
			return
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatal("PUBLISH on node 0 never reached a subscriber on node 2")
		}
	}
}

// TestWholeSlotMigrationTargetDies kills the target of a whole-slot move
// with kill -9 midway. The target has a replica, so the source deletes a
// batch only once that replica acknowledged it (WAIT 1): after the replica
// takes over, every key is on the source or on the promoted replica with
// its value — none lost.
func TestWholeSlotMigrationTargetDies(t *testing.T) {
	nodes := startCluster6(t, 161)
	ctx := Ctx(t, 120*time.Second)
	masterOf := func(slot int) *Node {
		for _, n := range nodes {
			r, err := n.Client().Do(ctx, "ROLE").Slice()
			if err != nil || len(r) == 0 || r[0] != "master" {
				continue
			}
			for _, line := range strings.Split(clusterNodes(n), "\n") {
				f := strings.Fields(line)
				if len(f) < 9 || !strings.Contains(f[2], "myself") {
					continue
				}
				for _, rg := range f[8:] {
					lo, hi, _ := strings.Cut(rg, "-")
					a, _ := strconv.Atoi(lo)
					b := a
					if hi != "" {
						b, _ = strconv.Atoi(hi)
					}
					if slot >= a && slot <= b {
						return n
					}
				}
			}
		}
		t.Fatalf("no master owns slot %d", slot)
		return nil
	}
	src, dst := masterOf(0), masterOf(8000)
	dstID := nodeID(t, dst)
	var replica *Node
	for _, n := range nodes {
		if r, err := n.Client().Do(ctx, "ROLE").Slice(); err == nil && r[0] == "slave" && strings.Contains(clusterNodes(n), "slave "+dstID) {
			for _, line := range strings.Split(clusterNodes(n), "\n") {
				if strings.Contains(line, "myself") && strings.Contains(line, dstID) {
					replica = n
				}
			}
		}
	}
	if replica == nil {
		t.Fatal("the target has no replica")
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{src.Addr()}, MaxRedirects: 8})
	defer cc.Close()
	const N = 150000
	for i := 0; i < N; i += 2000 {
		p := cc.Pipeline()
		for j := i; j < i+2000; j++ {
			p.Set(ctx, "key:"+strconv.Itoa(j), j, 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := src.Client().Do(ctx, "CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", "0", "5000", "NODE", dstID).Err(); err != nil {
		t.Fatal(err)
	}
	var moved int
	Eventually(t, 60*time.Second, "some keys moved", func() bool {
		v, err := src.Client().Do(ctx, "CLUSTER", "GETSLOTMIGRATIONS").Slice()
		if err != nil || len(v) == 0 {
			return false
		}
		m := toStringMap(v[len(v)-1])
		moved, _ = strconv.Atoi(m["keys_migrated"])
		return moved >= 2000 || m["state"] != "moving" && m["state"] != "opening" && m["state"] != "pending"
	})
	dst.Kill()
	var last map[string]string
	Eventually(t, 30*time.Second, "the job to end", func() bool {
		v, err := src.Client().Do(ctx, "CLUSTER", "GETSLOTMIGRATIONS").Slice()
		if err != nil || len(v) == 0 {
			return false
		}
		last = toStringMap(v[len(v)-1])
		return last["state"] == "failed" || last["state"] == "success"
	})
	t.Logf("target killed after %d keys; job %s (%s), %s keys migrated", moved, last["state"], last["error"], last["keys_migrated"])
	Eventually(t, 30*time.Second, "the replica to take over", func() bool {
		r, err := replica.Client().Do(ctx, "ROLE").Slice()
		return err == nil && len(r) > 0 && r[0] == "master"
	})
	// Every key of the moved range is on the source or on the new master.
	held := map[string]bool{}
	for _, n := range []*Node{src, replica} {
		for sl := 0; sl <= 5000; sl++ {
			keys, err := n.Client().Do(ctx, "CLUSTER", "GETKEYSINSLOT", sl, 100000).StringSlice()
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				held[k] = true
			}
		}
	}
	lost := 0
	for i := 0; i < N; i++ {
		k := "key:" + strconv.Itoa(i)
		if sl := keySlot(k); sl <= 5000 && !held[k] {
			if lost++; lost <= 5 {
				t.Errorf("%s (slot %d) is on neither the source nor the promoted replica", k, sl)
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d keys lost when the target died", lost)
	}
}
