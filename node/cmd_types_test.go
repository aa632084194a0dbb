package node

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotkv/slotkv/redirect"
	"github.com/slotkv/slotkv/slots"
)

// typesEnv runs hash/list/set commands in-process and returns raw replies.
type typesEnv struct {
	t *testing.T
	s *Server
	c *Client
}

func newTypesEnv(t *testing.T) *typesEnv {
	s, c := newTestServer(t, false)
	return &typesEnv{t: t, s: s, c: c}
}

func (e *typesEnv) client() *Client {
	_, c := newTestServer(e.t, false)
	c.srv = e.s
	return c
}

func runOn(s *Server, c *Client, args ...string) string {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	c.W.B = c.W.B[:0]
	s.Process(c, argv)
	return string(c.W.B)
}

func (e *typesEnv) do(args ...string) string { return runOn(e.s, e.c, args...) }

func (e *typesEnv) cases(proto int, cases [][2]string) {
	e.t.Helper()
	e.c.W.Proto = proto
	for _, tc := range cases {
		args := strings.Split(tc[0], " ")
		if got := e.do(args...); got != tc[1] {
			e.t.Errorf("RESP%d %s:\n got  %q\n want %q", proto, tc[0], got, tc[1])
		}
	}
}

// TestTypesRESP3Shapes checks the RESP3 reply types against what
// redis-server 7.0.15 sends (captured with a raw client).
func TestTypesRESP3Shapes(t *testing.T) {
	e := newTypesEnv(t)
	e.cases(3, [][2]string{
		{"hset hz a 1 b 2", ":2\r\n"},
		{"hgetall hz", "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"},
		{"hgetall nokey", "%0\r\n"},
		{"hkeys nokey", "*0\r\n"},
		{"hmget hz a zz", "*2\r\n$1\r\n1\r\n_\r\n"},
		{"hget hz zz", "_\r\n"},
		{"hrandfield nokey", "_\r\n"},
		{"hrandfield nokey 2", "*0\r\n"},
		{"hrandfield hz 5", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{"hrandfield hz 5 withvalues", "*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"},
		{"hscan hz 0", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"},
		{"sadd z a b c", ":3\r\n"},
		{"smembers nos", "~0\r\n"},
		{"spop nos 2", "~0\r\n"},
		{"srandmember nos 2", "*0\r\n"},
		{"sadd zi 1 2 3", ":3\r\n"},
		{"smembers zi", "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
		{"srandmember zi 5", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
		{"sinter zi", "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
		{"sdiff zi z", "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
		{"smismember z a q", "*2\r\n:1\r\n:0\r\n"},
		{"sismember z a", ":1\r\n"},
		{"spop zi 5", "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
		{"lmpop 1 nol left", "_\r\n"},
		{"lpop nol 2", "_\r\n"},
		{"lpop nol", "_\r\n"},
		{"lindex nol 0", "_\r\n"},
		{"rpush ll a b c", ":3\r\n"},
		{"lpos ll b count 0", "*1\r\n:1\r\n"},
		{"lpos ll q", "_\r\n"},
		{"lmpop 1 ll left count 2", "*2\r\n$2\r\nll\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{"blpop ll 0", "*2\r\n$2\r\nll\r\n$1\r\nc\r\n"},
		{"blpop nol 0.01", "_\r\n"},
		{"brpoplpush nol x 0.01", "_\r\n"},
		{"blmove nol x left left 0.01", "_\r\n"},
		{"blmpop 0.01 1 nol left", "_\r\n"},
	})
}

func TestTypesRESP2Blocking(t *testing.T) {
	e := newTypesEnv(t)
	e.cases(2, [][2]string{
		{"blpop nol 0.01", "*-1\r\n"},
		{"brpoplpush nol x 0.01", "*-1\r\n"},
		{"blmove nol x left left 0.01", "*-1\r\n"},
		{"blmpop 0.01 1 nol left", "*-1\r\n"},
		{"blpop nol x", "-ERR timeout is not a float or out of range\r\n"},
		{"blpop nol -1", "-ERR timeout is negative\r\n"},
		{"blpop nol -0.5", "-ERR timeout is negative\r\n"},
		{"blpop nol inf", "-ERR timeout is negative\r\n"},
		{"blpop nol 9223372036854775.808", "-ERR timeout is negative\r\n"},
		{"blpop nol 1e30", "-ERR timeout is negative\r\n"},
		{"blpop nol 0x1p-10", "*-1\r\n"},
		{"blpop nol 0.0001", "*-1\r\n"},
		{"blmove nol x up left 0", "-ERR syntax error\r\n"},
		{"blmpop 0 0 l left", "-ERR numkeys should be greater than 0\r\n"},
		{"set str x", "+OK\r\n"},
		{"blpop nol str 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"rpush l1 a", ":1\r\n"},
		{"blpop l1 str 0", "*2\r\n$2\r\nl1\r\n$1\r\na\r\n"},
		{"rpush l1 a", ":1\r\n"},
		{"blmove l1 str left left 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"lrange l1 0 -1", "*1\r\n$1\r\na\r\n"},
	})
}

// TestBlockingPropagation checks what blocking pops hand to replication.
func TestBlockingPropagation(t *testing.T) {
	e := newTypesEnv(t)
	var mu sync.Mutex
	var got []string
	e.s.PropagateHook = func(c *Client, argv [][]byte) {
		var parts []string
		for _, a := range argv {
			parts = append(parts, string(a))
		}
		mu.Lock()
		got = append(got, strings.Join(parts, " "))
		mu.Unlock()
	}
	e.do("rpush", "l", "a", "b", "c", "d")
	e.do("blpop", "l", "0")
	e.do("brpop", "l", "0")
	e.do("blmpop", "0", "1", "l", "left", "count", "5")
	e.do("rpush", "l", "a", "b")
	e.do("brpoplpush", "l", "m", "0")
	e.do("blmove", "l", "m", "left", "right", "0")
	e.do("sadd", "s", "1")
	e.do("spop", "s")
	e.do("sadd", "s", "1", "2")
	e.do("spop", "s", "5")
	e.do("hincrbyfloat", "h", "f", "1.5")
	want := []string{"rpush l a b c d", "LPOP l", "RPOP l", "LPOP l 2", "rpush l a b", "RPOPLPUSH l m", "LMOVE l m left right",
		"sadd s 1", "SREM s 1", "sadd s 1 2", "DEL s", "HSET h f 1.5"}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("propagated:\n%q\nwant\n%q", got, want)
	}
}

// TestBlockingFIFO: three clients block on one key; pushes serve them in
// the order they blocked, and a BRPOPLPUSH with a bad destination gets
// its error without consuming the element.
func TestBlockingFIFO(t *testing.T) {
	e := newTypesEnv(t)
	type res struct {
		i     int
		reply string
	}
	out := make(chan res, 4)
	cmds := [][]string{{"blpop", "q", "5"}, {"brpoplpush", "q", "str", "5"}, {"blpop", "q", "5"}, {"blpop", "q", "5"}}
	e.do("set", "str", "x")
	for i, args := range cmds {
		c := e.client()
		go func(i int, args []string) { out <- res{i, runOn(e.s, c, args...)} }(i, args)
		deadline := time.Now().Add(5 * time.Second)
		for BlockedListClients() != int64(i+1) {
			if time.Now().After(deadline) {
				t.Fatalf("client %d did not block", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	e.do("rpush", "q", "a", "b")
	got := map[int]string{}
	for len(got) < 3 {
		select {
		case r := <-out:
			got[r.i] = r.reply
		case <-time.After(5 * time.Second):
			t.Fatalf("replies so far: %v", got)
		}
	}
	want := map[int]string{
		0: "*2\r\n$1\r\nq\r\n$1\r\na\r\n",
		1: "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
		2: "*2\r\n$1\r\nq\r\n$1\r\nb\r\n",
	}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("client %d got %q want %q", i, got[i], w)
		}
	}
	e.do("rpush", "q", "c")
	select {
	case r := <-out:
		if r.i != 3 || r.reply != "*2\r\n$1\r\nq\r\n$1\r\nc\r\n" {
			t.Fatalf("last client: %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("last client not served")
	}
	if BlockedListClients() != 0 {
		t.Fatalf("blocked clients left: %d", BlockedListClients())
	}
}

// TestBlockingTimeoutThenPush: a timed-out waiter leaves no trace and
// consumes nothing.
func TestBlockingTimeoutThenPush(t *testing.T) {
	e := newTypesEnv(t)
	c := e.client()
	start := time.Now()
	if r := runOn(e.s, c, "blpop", "k", "0.2"); r != "*-1\r\n" {
		t.Fatalf("timeout reply %q", r)
	}
	if d := time.Since(start); d < 190*time.Millisecond || d > 3*time.Second {
		t.Fatalf("timeout took %v", d)
	}
	if e.do("rpush", "k", "v") != ":1\r\n" || e.do("llen", "k") != ":1\r\n" {
		t.Fatal("element lost after a timed-out waiter")
	}
}

// TestTypesMemoryPerKey reports heap bytes per key for small hashes, lists
// and sets created through the command path (run with SLOTKV_MEM=1).
func TestTypesMemoryPerKey(t *testing.T) {
	if os.Getenv("SLOTKV_MEM") == "" {
		t.Skip("set SLOTKV_MEM=1 to measure")
	}
	const n = 100000
	for _, tc := range []struct {
		name string
		args func(i int) []string
	}{
		{"hash 3 fields (listpack)", func(i int) []string {
			return []string{"hset", fmt.Sprint("h:", i), "name", "alice", "age", "33", "city", "paris"}
		}},
		{"list 3 elements", func(i int) []string { return []string{"rpush", fmt.Sprint("l:", i), "job-1", "job-2", "job-3"} }},
		{"set 3 ints (intset)", func(i int) []string { return []string{"sadd", fmt.Sprint("s:", i), "1", "2", "3"} }},
		{"set 3 strings (packed)", func(i int) []string { return []string{"sadd", fmt.Sprint("t:", i), "red", "green", "blue"} }},
		{"string (baseline)", func(i int) []string { return []string{"set", fmt.Sprint("k:", i), "value"} }},
	} {
		e := newTypesEnv(t)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := 0; i < n; i++ {
			e.do(tc.args(i)...)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		t.Logf("%-28s %6.0f bytes/key (heap)", tc.name, float64(after.HeapAlloc-before.HeapAlloc)/n)
		runtime.KeepAlive(e)
	}
}

// BenchmarkTypesCommands measures the per-command cost (and allocations)
// of hot collection commands through the dispatcher.
func BenchmarkTypesCommands(b *testing.B) {
	for _, bc := range []struct {
		name string
		argv []string
	}{
		{"lpush", []string{"LPUSH", "mylist", "xxx"}},
		{"rpush+lpop", []string{"RPUSH", "q", "xxx"}},
		{"hset", []string{"HSET", "myhash", "element:1", "xxx"}},
		{"hget", []string{"HGET", "myhash", "element:1"}},
		{"sadd", []string{"SADD", "myset", "element:1"}},
		{"sismember", []string{"SISMEMBER", "myset", "element:1"}},
		{"lrange10", []string{"LRANGE", "mylist", "0", "9"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, c := newTestServer(b, false)
			argv := make([][]byte, len(bc.argv))
			for i, a := range bc.argv {
				argv[i] = []byte(a)
			}
			pop := [][]byte{[]byte("LPOP"), []byte("q")}
			s.Process(c, argv)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.W.B = c.W.B[:0]
				s.Process(c, argv)
				if bc.name == "rpush+lpop" {
					s.Process(c, pop)
				}
			}
		})
	}
}

// TestBlockedClientRedirect: in cluster mode a client blocked on a slot
// that moves to another node is unblocked with -MOVED, and with
// -CLUSTERDOWN when the cluster goes down.
func TestBlockedClientRedirect(t *testing.T) {
	s, c := newTestServer(t, true)
	self := redirect.Node{ID: "self", Endpoint: "127.0.0.1:7000"}
	other := redirect.Node{ID: "other", Endpoint: "127.0.0.1:7001"}
	own := redirect.NewTable(self)
	own.Nodes = append(own.Nodes, other)
	own.Owner = redirect.Fill(0)
	s.Route.Store(own)
	for _, tc := range []struct {
		key  string
		next func() *redirect.Table
		want string
	}{
		{"jobs", func() *redirect.Table {
			t2 := *own
			e := own.Owner.Edit()
			e.Set(slots.Of([]byte("jobs")), 1)
			t2.Owner = e.Done()
			return &t2
		}, fmt.Sprintf("-MOVED %d 127.0.0.1:7001\r\n", slots.Of([]byte("jobs")))},
		{"q2", func() *redirect.Table { t2 := *own; t2.Down = true; return &t2 }, "-CLUSTERDOWN The cluster is down\r\n"},
	} {
		s.Route.Store(own)
		done := make(chan string, 1)
		go func() { done <- runOn(s, c, "BLPOP", tc.key, "0") }()
		deadline := time.Now().Add(5 * time.Second)
		for BlockedListClients() != 1 {
			if time.Now().After(deadline) {
				t.Fatal("client did not block")
			}
			time.Sleep(time.Millisecond)
		}
		s.Route.Store(tc.next())
		select {
		case got := <-done:
			if got != tc.want {
				t.Fatalf("blocked client got %q, want %q", got, tc.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("blocked client not redirected")
		}
	}
}

func TestUnblockClient(t *testing.T) {
	e := newTypesEnv(t)
	for _, withErr := range []bool{false, true} {
		c := e.client()
		done := make(chan string, 1)
		go func() { done <- runOn(e.s, c, "BRPOPLPUSH", "uq", "dst", "0") }()
		deadline := time.Now().Add(5 * time.Second)
		for !UnblockClient(c, withErr) {
			if time.Now().After(deadline) {
				t.Fatal("client never blocked")
			}
			time.Sleep(time.Millisecond)
		}
		want := "*-1\r\n"
		if withErr {
			want = "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
		}
		select {
		case got := <-done:
			if got != want {
				t.Fatalf("unblocked reply %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("not unblocked")
		}
		if UnblockClient(c, withErr) {
			t.Fatal("a client that is not blocked was unblocked")
		}
	}
}
