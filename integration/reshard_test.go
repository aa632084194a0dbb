package integration

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/slotkv/slotkv/slots"
)

// loadKeys writes key:i = i for i in [0,n) through a ClusterClient, in
// pipelines of 2000 commands.
func loadKeys(t *testing.T, cc *redis.ClusterClient, n int) {
	t.Helper()
	ctx := Ctx(t, 120*time.Second)
	for i := 0; i < n; i += 2000 {
		p := cc.Pipeline()
		for j := i; j < i+2000 && j < n; j++ {
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
	ctx := Ctx(t, 120*time.Second)
	cc.ReloadState(ctx)
	for i := 0; i < n; i += 2000 {
		p := cc.Pipeline()
		var cmds []*redis.StringCmd
		for j := i; j < i+2000 && j < n; j++ {
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

// liveLoad is a ClusterClient workload of INCRs and GETs over all slots.
// Every acknowledged INCR is counted, so lost writes show up in check.
type liveLoad struct {
	stop  chan struct{}
	wg    sync.WaitGroup
	ops   atomic.Int64
	errs  atomic.Int64
	count [4]map[string]int64 // per worker: key -> acknowledged INCRs
}

func startLiveLoad(t *testing.T, cc *redis.ClusterClient, n int) *liveLoad {
	l := &liveLoad{stop: make(chan struct{})}
	ctx := Ctx(t, 10*time.Minute)
	for w := range l.count {
		l.count[w] = map[string]int64{}
		l.wg.Add(1)
		go func(w int) {
			defer l.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				var err error
				if i%2 == 0 {
					k := "live:" + strconv.Itoa(w) + ":" + strconv.Itoa(i%3000)
					if err = cc.Incr(ctx, k).Err(); err == nil {
						l.count[w][k]++
					}
				} else {
					err = cc.Get(ctx, "key:"+strconv.Itoa((i*7919)%n)).Err()
				}
				if err != nil && err != redis.Nil {
					if l.errs.Add(1) <= 5 {
						t.Logf("client error: %v", err)
					}
				}
				l.ops.Add(1)
			}
		}(w)
	}
	return l
}

// finish stops the workload, requires zero client errors and checks every
// counter against the acknowledged INCRs. It returns the number of live
// keys.
func (l *liveLoad) finish(t *testing.T, cc *redis.ClusterClient) int {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	t.Logf("workload: %d ops, %d errors", l.ops.Load(), l.errs.Load())
	if l.errs.Load() != 0 {
		t.Errorf("%d client errors during the moves", l.errs.Load())
	}
	ctx := Ctx(t, 60*time.Second)
	keys := 0
	for _, m := range l.count {
		p := cc.Pipeline()
		cmds := map[string]*redis.StringCmd{}
		for k := range m {
			cmds[k] = p.Get(ctx, k)
		}
		p.Exec(ctx)
		for k, c := range cmds {
			if v, err := c.Int64(); err != nil || v != m[k] {
				t.Errorf("%s = %d, %v; %d INCRs were acknowledged", k, v, err, m[k])
			}
		}
		keys += len(m)
	}
	return keys
}

// dbsizes returns the sum of DBSIZE over the nodes (a key held by two
// masters counts twice).
func dbsizes(t *testing.T, nodes []*Node) int64 {
	var sum int64
	for _, n := range nodes {
		v, err := n.Client().DBSize(Ctx(t, 10*time.Second)).Result()
		if err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	return sum
}

// lowestSlot returns the lowest slot owned by the master at addr.
func lowestSlot(t *testing.T, n *Node, addr string) int {
	t.Helper()
	ss, err := n.Client().ClusterSlots(Ctx(t, 10*time.Second)).Result()
	if err != nil {
		t.Fatal(err)
	}
	low := -1
	for _, s := range ss {
		if s.Nodes[0].Addr == addr && (low < 0 || s.Start < low) {
			low = s.Start
		}
	}
	if low < 0 {
		t.Fatalf("%s owns no slot", addr)
	}
	return low
}

// tagFor returns a hash tag whose keys hash to slot.
func tagFor(slot int) string {
	for i := 0; ; i++ {
		tag := "{t" + strconv.Itoa(i) + "}"
		if slots.OfString(tag) == slot {
			return tag
		}
	}
}

// TestRedisCliReshardRebalanceFix drives slotkv with the stock redis-cli
// --cluster tools over 300,000 keys while a ClusterClient workload reads
// and writes every slot: reshard at pipeline 10 and 100, rebalance with
// --cluster-use-empty-masters onto an added empty master, and an
// interrupted reshard (redis-cli killed inside a slot) repaired by
// --cluster fix. No client error, every value checked, no key on two
// masters.
func TestRedisCliReshardRebalanceFix(t *testing.T) {
	testStart := time.Now()
	// Redis's default node timeout: on a loaded 2-core machine every
	// process sometimes stalls for over a second, and the 2 s test default
	// then fails nodes (CLUSTERDOWN) in the middle of a move.
	timeout := []string{"--cluster-node-timeout", "15000"}
	nodes := startMasters(t, 3, timeout...)
	ctx := Ctx(t, 5*time.Minute)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{nodes[0].Addr()}, MaxRedirects: 16})
	defer cc.Close()
	const N = 300000
	const moveSlots = "300"
	start := time.Now()
	loadKeys(t, cc, N)
	t.Logf("loaded %d keys in %v", N, time.Since(start).Round(time.Millisecond))
	ids := []string{nodeID(t, nodes[0]), nodeID(t, nodes[1]), nodeID(t, nodes[2])}

	load := startLiveLoad(t, cc, N)
	for i, pipe := range []string{"10", "100"} {
		start := time.Now()
		out, err := RedisCLI(t, "--cluster", "reshard", nodes[0].Addr(), "--cluster-from", ids[i], "--cluster-to", ids[2],
			"--cluster-slots", moveSlots, "--cluster-yes", "--cluster-pipeline", pipe)
		if err != nil {
			t.Fatalf("reshard (pipeline %s): %v\n%s", pipe, err, tail(out))
		}
		el := time.Since(start)
		moved := movedSlots(out)
		t.Logf("redis-cli reshard of %d slots (~%d keys) at pipeline %s took %v (%.0f slots/s)", moved,
			moved*N/16384, pipe, el.Round(time.Millisecond), float64(moved)/el.Seconds())
	}
	if out, ok := checkOK(t, nodes[0].Addr()); !ok {
		t.Fatalf("check after reshard:\n%s", out)
	}

	// Add an empty master and rebalance onto it.
	extra := StartNode(t, Options{Cluster: true, Args: timeout})
	if out, err := RedisCLI(t, "--cluster", "add-node", extra.Addr(), nodes[0].Addr()); err != nil {
		t.Fatalf("add-node: %v\n%s", err, tail(out))
	}
	all := append(append([]*Node(nil), nodes...), extra)
	Eventually(t, 20*time.Second, "new node known everywhere and cluster_state:ok on it", func() bool {
		for _, n := range all {
			info := clusterInfo(t, n)
			if !strings.Contains(info, "cluster_known_nodes:4") || !strings.Contains(info, "cluster_state:ok") {
				return false
			}
		}
		return true
	})
	start = time.Now()
	// A small weight for the new master keeps the move to ~270 slots.
	out, err := RedisCLI(t, "--cluster", "rebalance", nodes[0].Addr(), "--cluster-use-empty-masters", "--cluster-pipeline", "100",
		"--cluster-weight", nodeID(t, extra)+"=0.05")
	if err != nil {
		for _, n := range all {
			t.Logf("%s:\n%s\n%s", n.Addr(), clusterInfo(t, n), n.Tail(15))
		}
		t.Fatalf("rebalance: %v\n%s", err, tail(out))
	}
	moved := 0
	for _, l := range strings.Split(out, "\n") {
		var n int
		if _, err := fmt.Sscanf(stripANSI(l), "Moving %d slots from", &n); err == nil {
			moved += n
		}
	}
	el := time.Since(start)
	t.Logf("redis-cli rebalance onto an empty master moved %d slots in %v (%.0f slots/s)", moved, el.Round(time.Millisecond), float64(moved)/el.Seconds())
	if n, _ := extra.Client().DBSize(ctx).Result(); n == 0 {
		t.Fatalf("the empty master got no keys:\n%s", tail(out))
	}
	Eventually(t, 20*time.Second, "check clean after rebalance", func() bool {
		_, ok := checkOK(t, nodes[0].Addr())
		return ok
	})

	// An interrupted reshard: redis-cli is killed while it moves a slot
	// holding 20,000 keys (the first slot it takes), leaving the slot
	// MIGRATING/IMPORTING with keys on both sides. --cluster fix closes it.
	src, dst := nodes[1], extra
	slot := lowestSlot(t, src, src.Addr())
	tag := tagFor(slot)
	const tagged = 20000
	for i := 0; i < tagged; i += 2000 {
		p := cc.Pipeline()
		for j := i; j < i+2000; j++ {
			p.Set(ctx, tag+strconv.Itoa(j), j, 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cli, _ := exec.LookPath("redis-cli")
	cmd := exec.Command(cli, "--cluster", "reshard", src.Addr(), "--cluster-from", nodeID(t, src), "--cluster-to", nodeID(t, dst),
		"--cluster-slots", "10", "--cluster-yes", "--cluster-pipeline", "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	Eventually(t, 30*time.Second, "redis-cli moving the big slot", func() bool {
		n, _ := dst.Client().ClusterCountKeysInSlot(ctx, slot).Result()
		return n >= 1000
	})
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	n, _ := dst.Client().ClusterCountKeysInSlot(ctx, slot).Result()
	t.Logf("redis-cli killed with %d of %d keys of slot %d moved", n, tagged, slot)
	if out, ok := checkOK(t, src.Addr()); ok {
		t.Fatalf("check did not notice the open slot:\n%s", out)
	}
	start = time.Now()
	if out, err := RedisCLI(t, "--cluster", "fix", src.Addr(), "--cluster-yes"); err != nil {
		t.Fatalf("fix: %v\n%s", err, tail(out))
	}
	t.Logf("redis-cli --cluster fix took %v", time.Since(start).Round(time.Millisecond))
	Eventually(t, 20*time.Second, "check clean after fix", func() bool {
		_, ok := checkOK(t, src.Addr())
		return ok
	})

	live := load.finish(t, cc)
	verifyKeys(t, cc, N)
	cc.ReloadState(ctx)
	p := cc.Pipeline()
	var cmds []*redis.StringCmd
	for j := 0; j < tagged; j++ {
		cmds = append(cmds, p.Get(ctx, tag+strconv.Itoa(j)))
	}
	p.Exec(ctx)
	for j, c := range cmds {
		if v, err := c.Result(); err != nil || v != strconv.Itoa(j) {
			t.Fatalf("%s%d = %q, %v after fix", tag, j, v, err)
		}
	}
	if sum, want := dbsizes(t, all), int64(N+tagged+live); sum != want {
		t.Fatalf("DBSIZE summed over the masters = %d, want %d (a key on two masters, or lost)", sum, want)
	}
	t.Logf("total %v", time.Since(testStart).Round(time.Millisecond))
}

// movedSlots counts the "Moving slot N from ip:port to ip:port: ..." lines
// of redis-cli reshard (the plan lists each slot once more without "to").
func movedSlots(out string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(stripANSI(l), "Moving slot ") && strings.Contains(l, " to ") {
			n++
		}
	}
	return n
}

func tail(s string) string {
	ls := strings.Split(s, "\n")
	if len(ls) > 30 {
		ls = ls[len(ls)-30:]
	}
	return strings.Join(ls, "\n")
}
