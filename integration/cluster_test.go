package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startCluster6 starts six slotkv nodes on their own loopback addresses and
// forms a 3 masters + 3 replicas cluster with the real redis-cli.
func startCluster6(t *testing.T, base int) []*Node {
	t.Helper()
	var nodes []*Node
	var addrs []string
	for i := 0; i < 6; i++ {
		n := StartNode(t, Options{IP: fmt.Sprintf("127.0.0.%d", base+i), Cluster: true})
		nodes = append(nodes, n)
		addrs = append(addrs, n.Addr())
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	out, err := RedisCLI(t, args...)
	if err != nil || !strings.Contains(out, "[OK] All 16384 slots covered.") {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok := true
		for _, n := range nodes {
			if !strings.Contains(clusterInfo(t, n), "cluster_state:ok") {
				ok = false
			}
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			for _, n := range nodes {
				t.Logf("%s running=%v\n%s\n%s\n%s", n.Addr(), n.Running(), clusterInfo(t, n), clusterNodes(n), n.Tail(15))
			}
			t.Fatal("cluster_state:ok not reached on all nodes within 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nodes
}

func clusterInfo(t *testing.T, n *Node) string {
	s, _ := n.Client().ClusterInfo(context.Background()).Result()
	return s
}

func clusterNodes(n *Node) string {
	s, _ := n.Client().ClusterNodes(context.Background()).Result()
	return s
}

// checkOK runs redis-cli --cluster check and requires every bracketed status
// line to be [OK].
func checkOK(t *testing.T, addr string) (string, bool) {
	out, _ := RedisCLI(t, "--cluster", "check", addr)
	ok := strings.Contains(out, "[OK] All nodes agree about slots configuration.") &&
		strings.Contains(out, "[OK] All 16384 slots covered.")
	for _, l := range strings.Split(out, "\n") {
		l = stripANSI(l)
		if strings.HasPrefix(l, "[") && !strings.HasPrefix(l, "[OK]") {
			ok = false
		}
	}
	return out, ok
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return strings.TrimSpace(b.String())
}

func TestClusterCreateCheckWorkloadFail(t *testing.T) {
	nodes := startCluster6(t, 51)
	var out string
	var ok bool
	Eventually(t, 20*time.Second, "redis-cli --cluster check all [OK]", func() bool {
		out, ok = checkOK(t, nodes[0].Addr())
		return ok
	})
	t.Logf("redis-cli --cluster check:\n%s", out)

	// go-redis ClusterClient: mixed workload, zero errors.
	ctx := Ctx(t, 60*time.Second)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{nodes[0].Addr()}})
	defer cc.Close()
	for i := 0; i < 2000; i++ {
		k := "key:" + strconv.Itoa(i)
		if err := cc.Set(ctx, k, i, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
	for i := 0; i < 2000; i++ {
		k := "key:" + strconv.Itoa(i)
		v, err := cc.Get(ctx, k).Int()
		if err != nil || v != i {
			t.Fatalf("GET %s = %d, %v", k, v, err)
		}
	}
	if err := cc.MSet(ctx, "{u1}a", 1, "{u1}b", 2).Err(); err != nil {
		t.Fatal(err)
	}
	if vs, err := cc.MGet(ctx, "{u1}a", "{u1}b").Result(); err != nil || fmt.Sprint(vs) != "[1 2]" {
		t.Fatalf("MGET = %v %v", vs, err)
	}
	if err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		return c.Ping(ctx).Err()
	}); err != nil {
		t.Fatal(err)
	}

	// A client sent to the wrong node gets MOVED to the owner; a
	// cross-slot request gets CROSSSLOT.
	slot := 12182 // "foo"
	owner := ownerOf(t, nodes[0], slot)
	var wrong *Node
	for _, n := range nodes {
		if n.Addr() != owner && isMaster(n) {
			wrong = n
			break
		}
	}
	r := DialRaw(t, wrong.Addr())
	got := do(r, "GET", "foo")
	if want := "-MOVED 12182 " + owner; got != want {
		t.Fatalf("stale client: got %q want %q", got, want)
	}
	got = do(r, "MGET", "foo", "bar")
	if got != "-CROSSSLOT Keys in request don't hash to the same slot" {
		t.Fatalf("CROSSSLOT: %q", got)
	}

	// redis-cli -c follows redirects.
	if o, err := RedisCLI(t, "-c", "-h", wrong.IP, "-p", strconv.Itoa(wrong.Port), "SET", "foo", "viacli"); err != nil || strings.TrimSpace(o) != "OK" {
		t.Fatalf("redis-cli -c SET: %v %q", err, o)
	}

	// kill -9 a master: PFAIL then FAIL on every survivor within
	// node-timeout (2000 ms) + 1 s.
	var victim *Node
	for _, n := range nodes[1:] {
		if isMaster(n) {
			victim = n
			break
		}
	}
	vid, _ := victim.Client().ClusterMyID(context.Background()).Result()
	survivors := []*Node{}
	for _, n := range nodes {
		if n != victim {
			survivors = append(survivors, n)
		}
	}
	start := time.Now()
	victim.Kill()
	var pfail time.Duration
	Eventually(t, 15*time.Second, "FAIL on all survivors", func() bool {
		all := true
		for _, n := range survivors {
			line := nodeLine(clusterNodes(n), vid)
			if pfail == 0 && strings.Contains(line, "fail?") {
				pfail = time.Since(start)
			}
			if !strings.Contains(line, "master,fail ") {
				all = false
			}
		}
		return all
	})
	failAfter := time.Since(start)
	t.Logf("kill -9 of a master, node-timeout 2000ms: first PFAIL seen after %v, FAIL on all 5 survivors after %v", pfail, failAfter)
	if failAfter > 3500*time.Millisecond {
		t.Errorf("FAIL took %v, want about node-timeout + 1s", failAfter)
	}

	// Restart from nodes.conf: same id, rejoins without MEET, check [OK].
	victim.Start()
	if id, _ := victim.Client().ClusterMyID(context.Background()).Result(); id != vid {
		t.Fatalf("id after restart %s, want %s", id, vid)
	}
	Eventually(t, 30*time.Second, "restarted master rejoined, FAIL cleared, check [OK]", func() bool {
		for _, n := range nodes {
			if strings.Contains(clusterNodes(n), "fail") || !strings.Contains(clusterInfo(t, n), "cluster_state:ok") {
				return false
			}
		}
		out, ok = checkOK(t, nodes[0].Addr())
		return ok
	})
	if v, err := cc.Get(ctx, "key:7").Int(); err != nil || v != 7 {
		// the restarted master has no persistence in this test; keys of
		// other masters must still be there
		if ownerOf(t, nodes[0], 7) != victim.Addr() {
			t.Fatalf("GET key:7 after restart: %v %v", v, err)
		}
	}
}

// do sends one command over a raw connection and returns the reply without
// its final CRLF.
func do(r *Raw, args ...string) string {
	got, _ := r.Do(args...)
	return strings.TrimSuffix(got, "\r\n")
}

func nodeLine(nodes, id string) string {
	for _, l := range strings.Split(nodes, "\n") {
		if strings.HasPrefix(l, id) {
			return l
		}
	}
	return ""
}

func isMaster(n *Node) bool {
	return strings.Contains(nodeLine(clusterNodes(n), myID(n)), "master")
}

func myID(n *Node) string {
	id, _ := n.Client().ClusterMyID(context.Background()).Result()
	return id
}

// ownerOf returns "ip:port" of slot's master as n sees it.
func ownerOf(t *testing.T, n *Node, slot int) string {
	t.Helper()
	ss, err := n.Client().ClusterSlots(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		if slot >= s.Start && slot <= s.End {
			return s.Nodes[0].Addr
		}
	}
	return ""
}

// TestClusterSingleNode: single-node cluster mode (issue 2 item 4).
func TestClusterSingleNode(t *testing.T) {
	n := StartNode(t, Options{IP: "127.0.0.61", Cluster: true})
	ctx := Ctx(t, 30*time.Second)
	c := n.Client()
	id := myID(n)
	if len(id) != 40 {
		t.Fatalf("MYID %q", id)
	}
	r := DialRaw(t, n.Addr())
	if got := do(r, "SET", "foo", "bar"); got != "-CLUSTERDOWN Hash slot not served" {
		t.Fatalf("unserved slot: %q", got)
	}
	if err := c.ClusterAddSlotsRange(ctx, 0, 16383).Err(); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 10*time.Second, "cluster_state:ok", func() bool {
		return strings.Contains(clusterInfo(t, n), "cluster_state:ok")
	})
	if err := c.Set(ctx, "foo", "bar", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got := do(r, "MSET", "a", "1", "b", "2"); got != "-CROSSSLOT Keys in request don't hash to the same slot" {
		t.Fatalf("CROSSSLOT: %q", got)
	}
	if v, _ := c.ClusterCountKeysInSlot(ctx, 12182).Result(); v != 1 {
		t.Fatalf("COUNTKEYSINSLOT = %d", v)
	}
	if v, _ := c.ClusterGetKeysInSlot(ctx, 12182, 10).Result(); fmt.Sprint(v) != "[foo]" {
		t.Fatalf("GETKEYSINSLOT = %v", v)
	}
	if v, _ := c.ClusterKeySlot(ctx, "foo").Result(); v != 12182 {
		t.Fatalf("KEYSLOT = %d", v)
	}
	line := strings.TrimSpace(clusterNodes(n))
	want := id + " 127.0.0.61:" + strconv.Itoa(n.Port) + "@" + strconv.Itoa(n.Port+10000) + " myself,master - 0 0 0 connected 0-16383"
	if line != want {
		t.Fatalf("CLUSTER NODES:\n got %q\nwant %q", line, want)
	}
	ss, err := c.ClusterSlots(ctx).Result()
	if err != nil || len(ss) != 1 || ss[0].Start != 0 || ss[0].End != 16383 || ss[0].Nodes[0].ID != id {
		t.Fatalf("CLUSTER SLOTS = %+v %v", ss, err)
	}
	sh, err := c.ClusterShards(ctx).Result()
	if err != nil || len(sh) != 1 || len(sh[0].Nodes) != 1 || sh[0].Nodes[0].ID != id || sh[0].Nodes[0].Role != "master" {
		t.Fatalf("CLUSTER SHARDS = %+v %v", sh, err)
	}
	if got := do(r, "CLUSTER", "FLUSHSLOTS"); got != "-ERR DB must be empty to perform CLUSTER FLUSHSLOTS." {
		t.Fatalf("FLUSHSLOTS: %q", got)
	}
	if got := do(r, "CLUSTER", "RESET"); got != "-ERR CLUSTER RESET can't be called with master nodes containing keys" {
		t.Fatalf("RESET: %q", got)
	}
	shard := do(r, "CLUSTER", "MYSHARDID")

	// nodes.conf survives a restart: same id, slots and shard id.
	n.Restart()
	if got := myID(n); got != id {
		t.Fatalf("id after restart %q", got)
	}
	r = DialRaw(t, n.Addr())
	if s2 := do(r, "CLUSTER", "MYSHARDID"); s2 != shard {
		t.Fatalf("shard id changed: %q -> %q", shard, s2)
	}
	conf, err := os.ReadFile(filepath.Join(n.Dir, "nodes.conf"))
	if err != nil || !strings.Contains(string(conf), "vars currentEpoch 0 lastVoteEpoch 0") {
		t.Fatalf("nodes.conf: %v\n%s", err, conf)
	}
	Eventually(t, 10*time.Second, "cluster_state:ok after restart", func() bool {
		return strings.Contains(clusterInfo(t, n), "cluster_state:ok")
	})
	if got := do(r, "CLUSTER", "DELSLOTS", "12182"); got != "+OK" {
		t.Fatal(got)
	}
	if got := do(r, "GET", "foo"); got != "-CLUSTERDOWN Hash slot not served" {
		t.Fatalf("after DELSLOTS: %q", got)
	}
}

// TestClusterErrorsDifferential compares CLUSTER error replies with a real
// redis-server 7 in cluster mode.
func TestClusterErrorsDifferential(t *testing.T) {
	sk := StartNode(t, Options{IP: "127.0.0.62", Cluster: true})
	rs := StartRedis(t, Options{IP: "127.0.0.62", Cluster: true})
	unknown := strings.Repeat("ab", 20)
	steps := []Step{
		S("CLUSTER", "MEET", "127.0.0.1", "abc"),
		S("CLUSTER", "MEET", "127.0.0.1", "7000", "abc"),
		S("CLUSTER", "MEET", "1.2.3.4.5", "7000"),
		S("CLUSTER", "MEET", "127.0.0.1", "70000"),
		S("CLUSTER", "MEET", "a"),
		S("CLUSTER", "FORGET", unknown),
		S("CLUSTER", "ADDSLOTS", "99999"),
		S("CLUSTER", "ADDSLOTS", "x"),
		S("CLUSTER", "ADDSLOTS", "1", "1"),
		S("CLUSTER", "ADDSLOTS", "1"),
		S("CLUSTER", "ADDSLOTS", "1"),
		S("CLUSTER", "DELSLOTS", "2"),
		S("CLUSTER", "ADDSLOTSRANGE", "5", "3"),
		S("CLUSTER", "ADDSLOTSRANGE", "5"),
		S("CLUSTER", "ADDSLOTSRANGE", "5", "6", "7"),
		S("CLUSTER", "ADDSLOTSRANGE", "10", "20", "15", "30"),
		S("CLUSTER", "DELSLOTSRANGE", "100", "200"),
		S("CLUSTER", "SETSLOT", "1", "migrating", unknown),
		S("CLUSTER", "SETSLOT", "1", "importing", unknown),
		S("CLUSTER", "SETSLOT", "2", "migrating", unknown),
		S("CLUSTER", "SETSLOT", "2", "importing", unknown),
		S("CLUSTER", "SETSLOT", "1", "node", unknown),
		S("CLUSTER", "SETSLOT", "1", "foo"),
		S("CLUSTER", "SETSLOT", "1"),
		S("CLUSTER", "SETSLOT", "99999", "stable"),
		S("CLUSTER", "SETSLOT", "1", "stable", "x"),
		S("CLUSTER", "SETSLOT", "1", "stable"),
		S("CLUSTER", "SET-CONFIG-EPOCH", "-1"),
		S("CLUSTER", "SET-CONFIG-EPOCH", "x"),
		S("CLUSTER", "SET-CONFIG-EPOCH", "5"),
		S("CLUSTER", "SET-CONFIG-EPOCH", "6"),
		S("CLUSTER", "BUMPEPOCH"),
		S("CLUSTER", "REPLICATE", unknown),
		S("CLUSTER", "COUNT-FAILURE-REPORTS", unknown),
		S("CLUSTER", "REPLICAS", unknown),
		S("CLUSTER", "SLAVES", unknown),
		S("CLUSTER", "RESET", "foo"),
		S("CLUSTER", "FOO"),
		S("CLUSTER", "COUNTKEYSINSLOT", "99999"),
		S("CLUSTER", "COUNTKEYSINSLOT", "x"),
		S("CLUSTER", "GETKEYSINSLOT", "1", "-1"),
		S("CLUSTER", "GETKEYSINSLOT", "1", "x"),
		S("CLUSTER", "KEYSLOT", "foo"),
		S("CLUSTER", "KEYSLOT", "{user1000}.following"),
		S("CLUSTER", "SAVECONFIG"),
		S("CLUSTER", "LINKS"),
		S("READONLY"),
		S("READWRITE"),
		S("ASKING"),
		S("CLUSTER", "FLUSHSLOTS"),
		S("CLUSTER", "ADDSLOTS", "1"),
		S("CLUSTER", "RESET", "SOFT"),
	}
	Differential(t, sk, rs, 2, steps)
	Differential(t, sk, rs, 3, []Step{S("CLUSTER", "LINKS"), S("CLUSTER", "ADDSLOTS", "3"), S("CLUSTER", "KEYSLOT", "x")})
}

// TestClusterReadonlyReplica: READONLY reads on a replica of the key's
// master are served; without READONLY, and for writes, MOVED.
func TestClusterReadonlyReplica(t *testing.T) {
	a := StartNode(t, Options{IP: "127.0.0.63", Cluster: true})
	b := StartNode(t, Options{IP: "127.0.0.64", Cluster: true})
	ctx := Ctx(t, 30*time.Second)
	if err := a.Client().ClusterAddSlotsRange(ctx, 0, 16383).Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.Client().ClusterMeet(ctx, a.IP, strconv.Itoa(a.Port)).Err(); err != nil {
		t.Fatal(err)
	}
	aid := myID(a)
	Eventually(t, 10*time.Second, "b knows a", func() bool { return strings.Contains(clusterNodes(b), aid) })
	if err := b.Client().ClusterReplicate(ctx, aid).Err(); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 10*time.Second, "state ok on both", func() bool {
		return strings.Contains(clusterInfo(t, a), "cluster_state:ok") && strings.Contains(clusterInfo(t, b), "cluster_state:ok")
	})
	if err := a.Client().Set(ctx, "foo", "bar", 0).Err(); err != nil {
		t.Fatal(err)
	}
	r := DialRaw(t, b.Addr())
	moved := "-MOVED 12182 " + a.Addr()
	if got := do(r, "GET", "foo"); got != moved {
		t.Fatalf("replica GET without READONLY: %q", got)
	}
	r.Do("READONLY")
	Eventually(t, 10*time.Second, "replica serves READONLY reads", func() bool {
		return do(r, "GET", "foo") == "$3\r\nbar"
	})
	if got := do(r, "SET", "foo", "x"); got != moved {
		t.Fatalf("replica write: %q", got)
	}
	r.Do("READWRITE")
	if got := do(r, "GET", "foo"); got != moved {
		t.Fatalf("after READWRITE: %q", got)
	}
}

// slotSig summarises a node's CLUSTER NODES as "master-id:ranges" lines,
// sorted, the way redis-cli --cluster check compares views.
func slotSig(n *Node) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(clusterNodes(n)), "\n") {
		f := strings.Fields(l)
		if len(f) < 8 || !strings.Contains(f[2], "master") {
			continue
		}
		var rs []string
		for _, x := range f[8:] {
			if !strings.HasPrefix(x, "[") {
				rs = append(rs, x)
			}
		}
		out = append(out, f[0]+":"+strings.Join(rs, ","))
	}
	sortStrings(out)
	return strings.Join(out, " ")
}

func sortStrings(a []string) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func myEpoch(n *Node) string {
	for _, l := range strings.Split(clusterNodes(n), "\n") {
		if f := strings.Fields(l); len(f) >= 8 && strings.Contains(f[2], "myself") {
			return f[6]
		}
	}
	return ""
}

// TestCluster10Nodes: ten real processes converge after MEET, a slot change
// on one node reaches all others, two masters with the same config epoch end
// with distinct epochs, and a forgotten live node stays forgotten.
func TestCluster10Nodes(t *testing.T) {
	const n = 10
	ctx := Ctx(t, 120*time.Second)
	var nodes []*Node
	for i := 0; i < n; i++ {
		nd := StartNode(t, Options{IP: fmt.Sprintf("127.0.0.%d", 71+i), Cluster: true})
		nodes = append(nodes, nd)
		per := 16384 / n
		lo, hi := i*per, (i+1)*per-1
		if i == n-1 {
			hi = 16383
		}
		if err := nd.Client().ClusterAddSlotsRange(ctx, lo, hi).Err(); err != nil {
			t.Fatal(err)
		}
		epoch := i + 1
		if i == n-1 {
			epoch = n - 1 // same epoch as the previous node: a collision
		}
		if err := nd.Client().Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", epoch).Err(); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	for _, nd := range nodes[1:] {
		if err := nd.Client().ClusterMeet(ctx, nodes[0].IP, strconv.Itoa(nodes[0].Port)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	Eventually(t, 60*time.Second, "10 nodes know each other and agree on slots", func() bool {
		sig := slotSig(nodes[0])
		for _, nd := range nodes {
			if !strings.Contains(clusterInfo(t, nd), "cluster_known_nodes:10\r\n") || slotSig(nd) != sig {
				return false
			}
		}
		return true
	})
	t.Logf("10-node convergence after MEET: %v", time.Since(start))
	Eventually(t, 30*time.Second, "cluster_state:ok everywhere", func() bool {
		for _, nd := range nodes {
			if !strings.Contains(clusterInfo(t, nd), "cluster_state:ok") {
				return false
			}
		}
		return true
	})
	t.Logf("10-node cluster_state:ok after MEET: %v", time.Since(start))
	Eventually(t, 30*time.Second, "config epoch collision resolved", func() bool {
		return myEpoch(nodes[n-1]) != myEpoch(nodes[n-2])
	})

	// A slot moves from node 0 to node 5 (DELSLOTS + ADDSLOTS): everyone sees it.
	id5 := myID(nodes[5])
	if err := nodes[0].Client().ClusterDelSlots(ctx, 0).Err(); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 10*time.Second, "DELSLOTS 0 seen everywhere", func() bool {
		for _, nd := range nodes {
			if strings.Contains(slotSig(nd), ":0-") || strings.Contains(slotSig(nd), ":0,") {
				return false
			}
		}
		return true
	})
	start = time.Now()
	if err := nodes[5].Client().ClusterAddSlots(ctx, 0).Err(); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 10*time.Second, "ADDSLOTS 0 on node 5 seen everywhere", func() bool {
		for _, nd := range nodes {
			if !strings.Contains(slotSig(nd), id5+":0,") {
				return false
			}
		}
		return true
	})
	d := time.Since(start)
	t.Logf("ADDSLOTS on one node seen by all 10 (node-timeout 2000ms): %v", d)
	if d > time.Second {
		t.Errorf("slot change took %v to reach every node, want < 1s", d)
	}

	// FORGET a live node on node 0: it must not come back during the ban,
	// although the 8 other nodes still know it and gossip it.
	gone := myID(nodes[4])
	if err := nodes[0].Client().ClusterForget(ctx, gone).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(clusterNodes(nodes[0]), gone) {
			t.Fatal("forgotten node came back within the 60 s ban")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
