package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func role(t *testing.T, n *Node) []interface{} {
	t.Helper()
	v, err := n.Client().Do(Ctx(t, 5*time.Second), "ROLE").Slice()
	if err != nil {
		t.Fatalf("ROLE on %s: %v", n.Addr(), err)
	}
	return v
}

func linkUp(t *testing.T, n *Node) bool {
	r := role(t, n)
	return len(r) == 5 && r[0] == "slave" && r[3] == "connected"
}

// TestStandaloneReplication: a master with two replicas and a chained
// replica; writes on the master reach all of them; replicas refuse writes;
// WAIT counts acknowledgements; a dropped link resumes with a partial resync.
func TestStandaloneReplication(t *testing.T) {
	m := StartNode(t, Options{})
	ctx := Ctx(t, 60*time.Second)
	mc := m.Client()
	// data present before the replicas attach travels in the full sync
	for i := 0; i < 2000; i++ {
		if err := mc.Set(ctx, fmt.Sprintf("pre:%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	mc.Set(ctx, "ttl", "x", time.Hour)
	r1, r2 := StartNode(t, Options{}), StartNode(t, Options{})
	for _, r := range []*Node{r1, r2} {
		if err := r.Client().Do(ctx, "REPLICAOF", m.IP, strconv.Itoa(m.Port)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	r3 := StartNode(t, Options{})
	if err := r3.Client().Do(ctx, "REPLICAOF", r1.IP, strconv.Itoa(r1.Port)).Err(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Node{r1, r2, r3} {
		r := r
		Eventually(t, 10*time.Second, "link up on "+r.Addr(), func() bool { return linkUp(t, r) })
	}
	for i := 0; i < 500; i++ {
		if err := mc.Incr(ctx, "counter").Err(); err != nil {
			t.Fatal(err)
		}
	}
	mc.Del(ctx, "pre:0")
	n, err := mc.Do(ctx, "WAIT", "2", "5000").Int()
	if err != nil || n < 2 {
		t.Fatalf("WAIT 2 = %d, %v", n, err)
	}
	for _, r := range []*Node{r1, r2, r3} {
		rc := r.Client()
		r := r
		Eventually(t, 10*time.Second, "replica "+r.Addr()+" caught up", func() bool {
			v, _ := rc.Get(ctx, "counter").Result()
			return v == "500"
		})
		if v, _ := rc.Get(ctx, "pre:1999").Result(); v != "1999" {
			t.Errorf("%s: pre:1999 = %q", r.Addr(), v)
		}
		if ex, _ := rc.Exists(ctx, "pre:0").Result(); ex != 0 {
			t.Errorf("%s: deleted key still present", r.Addr())
		}
		if ttl, _ := rc.TTL(ctx, "ttl").Result(); ttl <= 0 {
			t.Errorf("%s: TTL not carried over: %v", r.Addr(), ttl)
		}
		err := rc.Set(ctx, "x", "y", 0).Err()
		if err == nil || err.Error() != "READONLY You can't write against a read only replica." {
			t.Errorf("%s: write on replica: %v", r.Addr(), err)
		}
	}
	// Offsets agree once idle.
	mo := role(t, m)[1].(int64)
	Eventually(t, 10*time.Second, "offsets converge", func() bool {
		return role(t, r1)[4].(int64) >= mo && role(t, r2)[4].(int64) >= mo
	})

	// Drop r2's link from the master side: it must come back with a
	// partial resync, not a full one.
	before := infoField(t, m, "replication", "master_repl_offset")
	if err := mc.Do(ctx, "CLIENT", "KILL", "TYPE", "replica").Err(); err != nil {
		// CLIENT KILL TYPE may not exist yet: kill by address instead.
		killReplicaConns(t, m)
	}
	_ = before
	for i := 0; i < 100; i++ {
		mc.Incr(ctx, "counter")
	}
	Eventually(t, 10*time.Second, "r2 back in sync", func() bool {
		v, _ := r2.Client().Get(ctx, "counter").Result()
		return v == "600" && linkUp(t, r2)
	})
	if !strings.Contains(r2.Tail(200), "partial resync with master") {
		t.Errorf("r2 did not resume with a partial resync:\n%s", r2.Tail(20))
	}

	// Promotion keeps data and makes the node writable.
	if err := r2.Client().Do(ctx, "REPLICAOF", "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	if err := r2.Client().Set(ctx, "after-promotion", "1", 0).Err(); err != nil {
		t.Fatalf("write after promotion: %v", err)
	}
	if v, _ := r2.Client().Get(ctx, "counter").Result(); v != "600" {
		t.Fatalf("promoted replica lost data: counter=%q", v)
	}
}

func killReplicaConns(t *testing.T, m *Node) {
	list, err := m.Client().ClientList(Ctx(t, 5*time.Second)).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(list, "\n") {
		if strings.Contains(line, "cmd=psync") || strings.Contains(line, "cmd=replconf") {
			for _, f := range strings.Fields(line) {
				if strings.HasPrefix(f, "addr=") {
					m.Client().Do(Ctx(t, 5*time.Second), "CLIENT", "KILL", strings.TrimPrefix(f, "addr="))
				}
			}
		}
	}
}

func infoField(t *testing.T, n *Node, section, field string) string {
	t.Helper()
	s, err := n.Client().Info(Ctx(t, 5*time.Second), section).Result()
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), field+":"); ok {
			return v
		}
	}
	return ""
}

// TestFullSyncUnderLoad: a full sync of 1,000,000 keys completes while the
// master keeps serving (issue 6): a writer INCRs a counter and a prober
// times PING, GET and SET on the master all through the sync; the worst
// latency is bounded (generously: the machine is shared) and the replica
// ends with exactly the master's keys and values.
func TestFullSyncUnderLoad(t *testing.T) {
	m := StartNode(t, Options{})
	ctx := Ctx(t, 120*time.Second)
	const N = 1000000
	loadStart := time.Now()
	pipelineSets(t, m.Addr(), N)
	t.Logf("loaded %d keys in %v", N, time.Since(loadStart).Round(time.Millisecond))
	r := StartNode(t, Options{})
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		w := redis.NewClient(&redis.Options{Addr: m.Addr()})
		defer w.Close()
		i := 0
		for {
			select {
			case <-stop:
				done <- i
				return
			default:
			}
			if w.Incr(ctx, "live").Err() == nil {
				i++
			}
		}
	}()
	type lat struct {
		max  time.Duration
		n    int
		errs int
	}
	probed := make(chan map[string]*lat)
	go func() {
		p := redis.NewClient(&redis.Options{Addr: m.Addr(), ReadTimeout: 20 * time.Second})
		defer p.Close()
		res := map[string]*lat{"PING": {}, "GET": {}, "SET": {}}
		for i := 0; ; i++ {
			select {
			case <-stop:
				probed <- res
				return
			default:
			}
			k := "k:" + strconv.Itoa(i*7919%N)
			for name, f := range map[string]func() error{
				"PING": func() error { return p.Ping(ctx).Err() },
				"GET":  func() error { return p.Get(ctx, k).Err() },
				"SET":  func() error { return p.Set(ctx, "probe:"+strconv.Itoa(i%1000), i, 0).Err() },
			} {
				t0 := time.Now()
				err := f()
				d := time.Since(t0)
				l := res[name]
				l.n++
				if err != nil {
					l.errs++
				}
				if d > l.max {
					l.max = d
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	syncStart := time.Now()
	if err := r.Client().Do(ctx, "REPLICAOF", m.IP, strconv.Itoa(m.Port)).Err(); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 60*time.Second, "replica link up", func() bool { return linkUp(t, r) })
	synced := time.Since(syncStart)
	close(stop)
	writes := <-done
	lats := <-probed
	for name, l := range lats {
		t.Logf("master during the full sync: %s x%d, max latency %v, errors %d", name, l.n, l.max.Round(time.Millisecond), l.errs)
		if l.errs > 0 || l.n == 0 {
			t.Errorf("master did not keep serving %s during the full sync: %d of %d failed", name, l.errs, l.n)
		}
		// Slot-level copy-on-write: a client waits at most for the encoding
		// of one slot (microseconds). The bound is generous for a shared
		// machine: at a load average of 25 on 2 cores, PING alone (no
		// keyspace access) took up to 0.6 s here.
		if l.max > 2*time.Second {
			t.Errorf("master %s took %v during the full sync", name, l.max)
		}
	}
	Eventually(t, 20*time.Second, "replica has the live counter", func() bool {
		v, _ := r.Client().Get(ctx, "live").Int()
		return v == writes
	})
	mo := role(t, m)[1].(int64)
	Eventually(t, 20*time.Second, "replica offset reached the master's", func() bool { return role(t, r)[4].(int64) >= mo })
	// exactly the master's keys: same count, and every loaded value
	ms, _ := m.Client().DBSize(ctx).Result()
	rs, _ := r.Client().DBSize(ctx).Result()
	if ms != rs || ms < N {
		t.Fatalf("DBSIZE master %d, replica %d (want >= %d and equal)", ms, rs, N)
	}
	verifySets(t, r.Addr(), N)
	t.Logf("full sync of %d keys: link up after %v, %d concurrent INCRs", N, synced.Round(time.Millisecond), writes)
}

// verifySets checks k:<i> = <i> for i in [0, n) on addr with MGETs of
// 10,000 keys over a raw connection, comparing the reply bytes.
func verifySets(t *testing.T, addr string, n int) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rd := bufio.NewReaderSize(c, 256<<10)
	var req, want []byte
	for i := 0; i < n; i += 10000 {
		m := min(10000, n-i)
		req = fmt.Appendf(req[:0], "*%d\r\n$4\r\nMGET\r\n", m+1)
		want = fmt.Appendf(want[:0], "*%d\r\n", m)
		for x := i; x < i+m; x++ {
			k, v := "k:"+strconv.Itoa(x), strconv.Itoa(x)
			req = fmt.Appendf(req, "$%d\r\n%s\r\n", len(k), k)
			want = fmt.Appendf(want, "$%d\r\n%s\r\n", len(v), v)
		}
		c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(want))
		if _, err := ioReadFull(rd, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			j := 0
			for j < len(got) && got[j] == want[j] {
				j++
			}
			t.Fatalf("replica: MGET of k:%d..k:%d differs at byte %d: got %q, want %q", i, i+m-1, j,
				got[max(0, j-20):min(len(got), j+20)], want[max(0, j-20):min(len(want), j+20)])
		}
	}
}

// pipelineSets writes k:<i> = <i> for i in [0, n) with MSETs of 100 keys,
// 20 per round trip, over two raw connections.
func pipelineSets(t *testing.T, addr string, n int) {
	t.Helper()
	const conns, perCmd, perTrip = 2, 100, 20
	errc := make(chan error, conns)
	for g := 0; g < conns; g++ {
		go func(g int) {
			errc <- func() error {
				c, err := net.DialTimeout("tcp", addr, 2*time.Second)
				if err != nil {
					return err
				}
				defer c.Close()
				rd := bufio.NewReaderSize(c, 64<<10)
				var buf []byte
				for i := g * perCmd * perTrip; i < n; i += conns * perCmd * perTrip {
					buf = buf[:0]
					cmds := 0
					for j := i; j < i+perCmd*perTrip && j < n; j += perCmd {
						m := min(perCmd, n-j)
						buf = fmt.Appendf(buf, "*%d\r\n$4\r\nMSET\r\n", 1+2*m)
						for x := j; x < j+m; x++ {
							k, v := "k:"+strconv.Itoa(x), strconv.Itoa(x)
							buf = fmt.Appendf(buf, "$%d\r\n%s\r\n$%d\r\n%s\r\n", len(k), k, len(v), v)
						}
						cmds++
					}
					c.SetDeadline(time.Now().Add(30 * time.Second))
					if _, err := c.Write(buf); err != nil {
						return err
					}
					for ; cmds > 0; cmds-- {
						line, err := rd.ReadSlice('\n')
						if err != nil {
							return err
						}
						if line[0] != '+' {
							return fmt.Errorf("MSET: %q", line)
						}
					}
				}
				return nil
			}()
		}(g)
	}
	for g := 0; g < conns; g++ {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}
