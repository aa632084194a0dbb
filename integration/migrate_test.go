package integration

import (
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/slotkv/slotkv/slots"
)

// TestMigrateCommand covers MIGRATE between two standalone slotkv nodes:
// single key, KEYS form, COPY, REPLACE, BUSYKEY, NOKEY, TTL carried over,
// and a dead target leaving the key at the source.
func TestMigrateCommand(t *testing.T) {
	src, dst := StartNode(t, Options{}), StartNode(t, Options{})
	ctx := Ctx(t, 30*time.Second)
	sc, dc := src.Client(), dst.Client()
	host, port := dst.IP, strconv.Itoa(dst.Port)
	sc.Set(ctx, "a", "1", 0)
	sc.Set(ctx, "t", "ttl", time.Hour)
	sc.RPush(ctx, "l", "x", "y")

	do := func(args ...interface{}) (string, error) {
		v, err := sc.Do(ctx, args...).Result()
		if err != nil {
			return "", err
		}
		return v.(string), nil
	}
	if v, err := do("MIGRATE", host, port, "a", "0", "1000"); err != nil || v != "OK" {
		t.Fatalf("MIGRATE a: %v %v", v, err)
	}
	if n, _ := sc.Exists(ctx, "a").Result(); n != 0 {
		t.Fatal("key still at source after MIGRATE")
	}
	if v, _ := dc.Get(ctx, "a").Result(); v != "1" {
		t.Fatalf("target a = %q", v)
	}
	if v, err := do("MIGRATE", host, port, "", "0", "1000", "KEYS", "t", "l", "missing"); err != nil || v != "OK" {
		t.Fatalf("MIGRATE KEYS: %v %v", v, err)
	}
	if ttl, _ := dc.TTL(ctx, "t").Result(); ttl < 59*time.Minute {
		t.Fatalf("TTL not carried: %v", ttl)
	}
	if v, _ := dc.LRange(ctx, "l", 0, -1).Result(); strings.Join(v, ",") != "x,y" {
		t.Fatalf("list on target = %v", v)
	}
	if v, err := do("MIGRATE", host, port, "nothere", "0", "1000"); err != nil || v != "NOKEY" {
		t.Fatalf("MIGRATE missing: %v %v", v, err)
	}
	// BUSYKEY without REPLACE, with COPY the source keeps the key.
	sc.Set(ctx, "a", "2", 0)
	_, err := do("MIGRATE", host, port, "a", "0", "1000", "COPY")
	if err == nil || err.Error() != "ERR Target instance replied with error: BUSYKEY Target key name already exists." {
		t.Fatalf("BUSYKEY: %v", err)
	}
	if v, err := do("MIGRATE", host, port, "a", "0", "1000", "COPY", "REPLACE"); err != nil || v != "OK" {
		t.Fatalf("COPY REPLACE: %v %v", v, err)
	}
	if v, _ := sc.Get(ctx, "a").Result(); v != "2" {
		t.Fatal("COPY removed the source key")
	}
	if v, _ := dc.Get(ctx, "a").Result(); v != "2" {
		t.Fatal("REPLACE did not replace")
	}
	// Syntax errors.
	if _, err := do("MIGRATE", host, port, "a", "0", "1000", "KEYS", "b"); err == nil || !strings.Contains(err.Error(), "the key argument must be set to the empty string") {
		t.Fatalf("KEYS with key: %v", err)
	}
	if _, err := do("MIGRATE", host, port, "a", "0", "1000", "BOGUS"); err == nil || err.Error() != "ERR syntax error" {
		t.Fatalf("bogus option: %v", err)
	}
	// A dead target: IOERR and the key stays.
	dead := strconv.Itoa(FreePort(t, "127.0.0.1"))
	_, err = do("MIGRATE", "127.0.0.1", dead, "a", "0", "300")
	if err == nil || !strings.HasPrefix(err.Error(), "IOERR") {
		t.Fatalf("dead target: %v", err)
	}
	if v, _ := sc.Get(ctx, "a").Result(); v != "2" {
		t.Fatal("key lost after failed MIGRATE")
	}
}

// pingProbe pings addr over its own connection every few milliseconds until
// stop is closed and returns the largest round trip seen and the count.
func pingProbe(t *testing.T, addr string, stop chan struct{}) func() (time.Duration, int) {
	p := pingProbeAll(t, addr, stop)
	return func() (time.Duration, int) {
		all := p()
		if len(all) == 0 {
			return 0, 0
		}
		return all[len(all)-1], len(all)
	}
}

// pingProbeAll is pingProbe returning every PING's latency, sorted.
func pingProbeAll(t *testing.T, addr string, stop chan struct{}) func() []time.Duration {
	r := DialRaw(t, addr)
	var all []time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			start := time.Now()
			if v, err := r.Do("PING"); err != nil || !strings.HasPrefix(v, "+PONG") {
				t.Errorf("PING to %s: %q %v", addr, v, err)
				return
			}
			all = append(all, time.Since(start))
			time.Sleep(2 * time.Millisecond)
		}
	}()
	return func() []time.Duration {
		<-done
		sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
		return all
	}
}

// TestMigrateBigHash moves a 1,000,000-field hash between two cluster
// masters with the redis-cli reshard sequence (SETSLOT IMPORTING/MIGRATING,
// MIGRATE, SETSLOT NODE) while other clients PING both nodes: 95% of PINGs
// within 50 ms of the idle nodes', none near the move's length, and the hash
// arrives whole.
func TestMigrateBigHash(t *testing.T) {
	nodes := startMasters(t, 2, "--cluster-node-timeout", "15000") // see TestRedisCliReshardRebalanceFix
	ctx := Ctx(t, 90*time.Second)
	const key, fields = "{bighash}h", 1000000
	slot := strconv.Itoa(slots.OfString(key))
	var src, dst *Node
	for _, n := range nodes {
		if ownerOf(t, n, slots.OfString(key)) == n.Addr() {
			src = n
		} else {
			dst = n
		}
	}
	if src == nil || dst == nil {
		t.Fatal("no owner for the hash slot")
	}
	sc := src.Client()
	loadStart := time.Now()
	for i := 0; i < fields; i += 5000 {
		p := sc.Pipeline()
		for j := i; j < i+5000; j += 1000 {
			args := make([]interface{}, 0, 2000)
			for f := j; f < j+1000; f++ {
				args = append(args, "f"+strconv.Itoa(f), "v"+strconv.Itoa(f))
			}
			p.HSet(ctx, key, args...)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("1M-field hash loaded in %v", time.Since(loadStart).Round(time.Millisecond))

	// PING latency is bounded by 50 ms over the slowest PING of an idle
	// second just before. On a heavily loaded machine (idle PINGs already
	// >= 10 ms, or more than 2 runnable threads per CPU: a node busy
	// decoding waits for a CPU share, then for its single Go P to preempt
	// the decoder) that bound measures the host,
	// so only the structural one is enforced there: no PING waits for a
	// sizeable part of the move, as with redis-server, which serves nothing
	// during its DUMP/RESTORE (seconds for this hash).
	idle := make(chan struct{})
	idleProbes := []func() (time.Duration, int){pingProbe(t, src.Addr(), idle), pingProbe(t, dst.Addr(), idle)}
	time.Sleep(time.Second)
	close(idle)
	var baseline time.Duration
	for _, p := range idleProbes {
		if m, _ := p(); m > baseline {
			baseline = m
		}
	}
	stop := make(chan struct{})
	probes := []func() []time.Duration{pingProbeAll(t, src.Addr(), stop), pingProbeAll(t, dst.Addr(), stop)}
	srcID, dstID := nodeID(t, src), nodeID(t, dst)
	must := func(n *Node, args ...interface{}) {
		t.Helper()
		c := redis.NewClient(&redis.Options{Addr: n.Addr(), ReadTimeout: time.Minute})
		defer c.Close()
		if err := c.Do(ctx, args...).Err(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	start := time.Now()
	must(dst, "CLUSTER", "SETSLOT", slot, "IMPORTING", srcID)
	must(src, "CLUSTER", "SETSLOT", slot, "MIGRATING", dstID)
	must(src, "MIGRATE", dst.IP, strconv.Itoa(dst.Port), "", "0", "30000", "KEYS", key)
	must(dst, "CLUSTER", "SETSLOT", slot, "NODE", dstID)
	must(src, "CLUSTER", "SETSLOT", slot, "NODE", dstID)
	took := time.Since(start)
	close(stop)
	// On a quiet host 95% of PINGs must stay within 50 ms of the idle
	// baseline (measured: the slowest 1% reach 70-185 ms on this 2-core VM
	// while one goroutine encodes or decodes the 20 MB value: see the
	// closing notes of issue 5), and none may wait for a sizeable part of
	// the move, as with redis-server, which serves nothing during its
	// DUMP/RESTORE (seconds for this hash). On a loaded host only the
	// structural bound is enforced.
	p95limit, maxLimit := 50*time.Millisecond+baseline, took/4
	if load := loadPerCPU(); baseline >= 10*time.Millisecond || load > 2 {
		p95limit = maxLimit
		t.Logf("loaded host (load %.1f per CPU, idle PING up to %v): enforcing only PING < move/4 = %v",
			load, baseline.Round(time.Microsecond), maxLimit.Round(time.Millisecond))
	}
	for i, p := range probes {
		all := p()
		if len(all) == 0 {
			t.Fatalf("node %d: no PING completed during the move", i)
		}
		p95, p99, max := all[len(all)*95/100], all[len(all)*99/100], all[len(all)-1]
		t.Logf("node %d: %d PINGs during the move: p95 %v, p99 %v, max %v (idle baseline %v)", i, len(all),
			p95.Round(time.Microsecond), p99.Round(time.Microsecond), max.Round(time.Microsecond), baseline.Round(time.Microsecond))
		if p95 >= p95limit {
			t.Errorf("node %d: p95 PING %v while the 1M-field hash moved (limit %v)", i, p95, p95limit)
		}
		if max >= maxLimit {
			t.Errorf("node %d: a PING took %v, a quarter of the move (%v)", i, max, took)
		}
	}
	t.Logf("MIGRATE of a 1M-field hash took %v", took.Round(time.Millisecond))

	dc := dst.Client()
	if n, err := dc.HLen(ctx, key).Result(); err != nil || n != fields {
		t.Fatalf("HLEN on the target = %d, %v", n, err)
	}
	for _, f := range []int{0, 1, 4999, 500000, 777777, fields - 1} {
		if v, err := dc.HGet(ctx, key, "f"+strconv.Itoa(f)).Result(); err != nil || v != "v"+strconv.Itoa(f) {
			t.Fatalf("HGET f%d on the target = %q, %v", f, v, err)
		}
	}
	if n, _ := sc.Exists(ctx, key).Result(); n != 0 {
		t.Fatal("hash still at the source")
	}
}

// loadPerCPU is the 1-minute load average divided by the CPU count (0 when
// unreadable).
func loadPerCPU() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0
	}
	return v / float64(runtime.NumCPU())
}
