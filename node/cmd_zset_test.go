package node

import (
	"bytes"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotkv/slotkv/slots"
)

// zTestEnv runs commands in-process and returns raw RESP replies.
type zTestEnv struct {
	t    *testing.T
	s    *Server
	c    *Client
	prop [][]string // propagated commands
	mu   sync.Mutex
}

func newZTestEnv(t *testing.T) *zTestEnv {
	s, c := newTestServer(t, false)
	e := &zTestEnv{t: t, s: s, c: c}
	s.PropagateHook = func(_ *Client, argv [][]byte) {
		e.mu.Lock()
		defer e.mu.Unlock()
		var a []string
		for _, b := range argv {
			a = append(a, string(b))
		}
		e.prop = append(e.prop, a)
	}
	return e
}

func (e *zTestEnv) doOn(c *Client, args ...string) string {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	c.W.B = c.W.B[:0]
	e.s.Process(c, argv)
	return string(c.W.B)
}

func (e *zTestEnv) do(args ...string) string { return e.doOn(e.c, args...) }

func (e *zTestEnv) entry(key string) *Entry {
	sl := e.s.KS.Slot(slots.Of([]byte(key)))
	sl.Lock()
	defer sl.Unlock()
	return sl.Lookup([]byte(key), nowMs())
}

type zCase struct {
	args []string
	want string
}

func zRun(t *testing.T, e *zTestEnv, cases []zCase) {
	t.Helper()
	for i, tc := range cases {
		if got := e.do(tc.args...); got != tc.want {
			t.Errorf("case %d %q:\n got  %q\n want %q", i, tc.args, got, tc.want)
		}
	}
}

func zc(want string, args ...string) zCase { return zCase{args: args, want: want} }

// Replies checked against redis-server 7.0.15 (RESP2).
func TestZsetCommandsRESP2(t *testing.T) {
	e := newZTestEnv(t)
	zRun(t, e, []zCase{
		zc(":3\r\n", "zadd", "z", "1", "a", "2", "b", "3", "c"),
		zc(":0\r\n", "zadd", "z", "1", "a"),
		zc(":1\r\n", "zadd", "z", "ch", "5", "a"),
		zc("$1\r\n5\r\n", "zscore", "z", "a"),
		zc("$-1\r\n", "zadd", "z", "xx", "incr", "1", "nope"),
		zc("$1\r\n6\r\n", "zadd", "z", "incr", "1", "a"),
		zc(":0\r\n", "zadd", "z", "gt", "ch", "1", "a"),
		zc(":1\r\n", "zadd", "z", "lt", "ch", "1", "a"),
		zc("-ERR XX and NX options at the same time are not compatible\r\n", "zadd", "z", "nx", "xx", "1", "a"),
		zc("-ERR GT, LT, and/or NX options at the same time are not compatible\r\n", "zadd", "z", "gt", "lt", "1", "a"),
		zc("-ERR GT, LT, and/or NX options at the same time are not compatible\r\n", "zadd", "z", "nx", "gt", "1", "a"),
		zc("-ERR INCR option supports a single increment-element pair\r\n", "zadd", "z", "incr", "1", "a", "2", "b"),
		zc("-ERR syntax error\r\n", "zadd", "z", "xx", "1", "a", "nx", "2", "b"),
		zc("-ERR value is not a valid float\r\n", "zadd", "z", "1e400", "a"),
		zc("-ERR value is not a valid float\r\n", "zadd", "z", "nan", "a"),
		zc("-ERR syntax error\r\n", "zincrby", "z", "nx", "a"),
		zc("-ERR value is not a valid float\r\n", "zincrby", "z", "abc", "a"),
		zc(":1\r\n", "zadd", "inf", "inf", "m"),
		zc("-ERR resulting score is not a number (NaN)\r\n", "zincrby", "inf", "-inf", "m"),
		zc("$3\r\ninf\r\n", "zscore", "inf", "m"),
		zc("$19\r\n0.10000000000000001\r\n", "zincrby", "f", "0.1", "m"),
		zc(":3\r\n", "zcard", "z"),
		zc(":0\r\n", "zcard", "nokey"),
		zc("*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n", "zmscore", "z", "a", "x", "b"),
		zc(":0\r\n", "zrank", "z", "a"),
		zc(":2\r\n", "zrevrank", "z", "a"),
		zc("$-1\r\n", "zrank", "z", "x"),
		zc("-ERR wrong number of arguments for 'zrank' command\r\n", "zrank", "z", "b", "withscore"),
		zc(":2\r\n", "zcount", "z", "(1", "3"),
		zc("-ERR min or max is not a float\r\n", "zcount", "z", "a", "3"),
		zc("*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n", "zrange", "z", "0", "-1", "withscores"),
		zc("*2\r\n$1\r\nc\r\n$1\r\nb\r\n", "zrange", "z", "+inf", "(1", "byscore", "rev"),
		zc("*1\r\n$1\r\nb\r\n", "zrange", "z", "-inf", "+inf", "byscore", "limit", "1", "1"),
		zc("*0\r\n", "zrangebyscore", "z", "-inf", "+inf", "limit", "-1", "2"),
		zc("*2\r\n$1\r\nb\r\n$1\r\nc\r\n", "zrangebyscore", "z", "-inf", "+inf", "limit", "1", "-1"),
		zc("-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n", "zrange", "z", "0", "-1", "limit", "0", "1"),
		zc("-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n", "zrange", "z", "[a", "[b", "bylex", "withscores"),
		zc("-ERR syntax error\r\n", "zrangebyscore", "z", "0", "1", "byscore"),
		zc("-ERR syntax error\r\n", "zrevrange", "z", "0", "1", "rev"),
		zc("*0\r\n", "zrange", "nokey", "0", "-1"),
		zc("*2\r\n$1\r\nc\r\n$1\r\nb\r\n", "zrevrange", "z", "0", "1"),
		zc(":2\r\n", "zrangestore", "dst", "z", "0", "1"),
		zc("*2\r\n$1\r\na\r\n$1\r\nb\r\n", "zrange", "dst", "0", "-1"),
		zc(":0\r\n", "zrangestore", "dst", "nokey", "0", "-1"),
		zc(":0\r\n", "zcard", "dst"),
		zc("-ERR syntax error\r\n", "zrangestore", "dst", "z", "0", "-1", "withscores"),
		zc(":1\r\n", "zrem", "z", "a", "x"),
		zc("*2\r\n$1\r\nb\r\n$1\r\n2\r\n", "zpopmin", "z"),
		zc("*2\r\n$1\r\nc\r\n$1\r\n3\r\n", "zpopmax", "z", "5"),
		zc(":0\r\n", "zcard", "z"),
		zc("*0\r\n", "zpopmin", "z"),
		zc("-ERR value is out of range, must be positive\r\n", "zpopmin", "z", "-1"),
		zc("-ERR syntax error\r\n", "zpopmin", "z", "1", "2"),
	})
	if e.entry("z") != nil {
		t.Fatal("empty zset key not deleted")
	}
	// Lex.
	zRun(t, e, []zCase{
		zc(":5\r\n", "zadd", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"),
		zc(":3\r\n", "zlexcount", "l", "[b", "(e"),
		zc("*2\r\n$1\r\nd\r\n$1\r\nc\r\n", "zrevrangebylex", "l", "[d", "(b"),
		zc("*2\r\n$1\r\nb\r\n$1\r\nc\r\n", "zrangebylex", "l", "-", "+", "limit", "1", "2"),
		zc("-ERR min or max not valid string range item\r\n", "zrangebylex", "l", "a", "+"),
		zc(":2\r\n", "zremrangebylex", "l", "-", "(c"),
		zc(":1\r\n", "zremrangebyrank", "l", "-1", "-1"),
		zc(":0\r\n", "zremrangebyscore", "l", "(0", "1"),
		zc("*2\r\n$1\r\nc\r\n$1\r\nd\r\n", "zrange", "l", "0", "-1"),
		zc(":2\r\n", "zremrangebyscore", "l", "-inf", "(1"),
		zc(":0\r\n", "exists", "l"),
	})
	// Wrong type.
	e.do("set", "str", "x")
	for _, args := range [][]string{{"zadd", "str", "1", "a"}, {"zscore", "str", "a"}, {"zrange", "str", "0", "1"},
		{"zpopmin", "str", "0"}, {"zunion", "1", "str"}, {"zrandmember", "str"}, {"zscan", "str", "0"}, {"bzpopmin", "str", "0"}} {
		if got := e.do(args...); got != "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n" {
			t.Errorf("%q: %q", args, got)
		}
	}
}

// RESP3 shapes checked against redis-server 7.0.15 (HELLO 3).
func TestZsetCommandsRESP3(t *testing.T) {
	e := newZTestEnv(t)
	e.c.W.Proto = 3
	zRun(t, e, []zCase{
		zc(":3\r\n", "zadd", "z", "1", "a", "2", "b", "3", "c"),
		zc("*3\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n", "zrange", "z", "0", "-1", "withscores"),
		zc("*2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n", "zrevrangebyscore", "z", "+inf", "-inf", "withscores", "limit", "0", "2"),
		zc("*3\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\na\r\n,1\r\n", "zrandmember", "z", "5", "withscores"),
		zc(",3\r\n", "zscore", "z", "c"),
		zc("_\r\n", "zscore", "z", "x"),
		zc("*2\r\n,3\r\n_\r\n", "zmscore", "z", "c", "x"),
		zc("*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n", "zscan", "z", "0"),
	})
	zRun(t, e, []zCase{
		zc("*2\r\n$1\r\na\r\n,1\r\n", "zpopmin", "z"),
		zc("*1\r\n*2\r\n$1\r\nb\r\n,2\r\n", "zpopmin", "z", "1"),
		zc("*0\r\n", "zpopmax", "z", "0"),
		zc(":2\r\n", "zadd", "z", "1", "a", "2", "b"),
		zc("*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\na\r\n,1\r\n", "zmpop", "1", "z", "min"),
		zc("*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n", "zmpop", "1", "z", "max", "count", "5"),
		zc("_\r\n", "zmpop", "1", "z", "max", "count", "5"),
		zc(":3\r\n", "zadd", "z", "1", "a", "2", "b", "3", "c"),
		zc("*3\r\n$1\r\nz\r\n$1\r\na\r\n,1\r\n", "bzpopmin", "z", "0"),
		zc("*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n,2\r\n", "bzmpop", "0", "1", "z", "min", "count", "1"),
		zc("*1\r\n*2\r\n$1\r\nc\r\n,3\r\n", "zunion", "1", "z", "withscores"),
		zc(",4\r\n", "zadd", "z", "incr", "1", "c"),
		zc("_\r\n", "zadd", "z", "xx", "incr", "1", "nope"),
		zc("_\r\n", "bzpopmin", "nokey", "0.001"),
	})
}

func TestZsetSetOps(t *testing.T) {
	e := newZTestEnv(t)
	e.do("zadd", "{t}a", "1", "x", "2", "y", "3", "z")
	e.do("zadd", "{t}b", "10", "y", "20", "z", "30", "w")
	e.do("sadd", "{t}s", "x", "w")
	zRun(t, e, []zCase{
		zc("*8\r\n$1\r\nx\r\n$1\r\n2\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n31\r\n", "zunion", "3", "{t}a", "{t}b", "{t}s", "withscores"),
		zc("*4\r\n$1\r\ny\r\n$2\r\n10\r\n$1\r\nz\r\n$2\r\n20\r\n", "zinter", "2", "{t}a", "{t}b", "aggregate", "max", "withscores"),
		zc("*4\r\n$1\r\ny\r\n$2\r\n18\r\n$1\r\nz\r\n$2\r\n37\r\n", "zinter", "2", "{t}a", "{t}b", "weights", "-1", "2", "withscores"),
		zc("*2\r\n$1\r\nx\r\n$1\r\n1\r\n", "zdiff", "2", "{t}a", "{t}b", "withscores"),
		zc(":2\r\n", "zintercard", "2", "{t}a", "{t}b"),
		zc(":1\r\n", "zintercard", "2", "{t}a", "{t}b", "limit", "1"),
		zc(":4\r\n", "zunionstore", "{t}d", "2", "{t}a", "{t}b"),
		zc(":0\r\n", "zinterstore", "{t}d", "2", "{t}a", "{t}nokey"),
		zc(":0\r\n", "exists", "{t}d"),
		zc(":1\r\n", "zdiffstore", "{t}d", "2", "{t}a", "{t}b"),
		zc("-ERR at least 1 input key is needed for 'zunionstore' command\r\n", "zunionstore", "{t}d", "0", "{t}a"),
		zc("-ERR at least 1 input key is needed for 'zintercard' command\r\n", "zintercard", "0", "{t}a"),
		zc("-ERR syntax error\r\n", "zunion", "2", "{t}a"),
		zc("-ERR value is not an integer or out of range\r\n", "zunion", "x", "{t}a"),
		zc("-ERR weight value is not a float\r\n", "zunion", "1", "{t}a", "weights", "x"),
		zc("-ERR syntax error\r\n", "zdiff", "1", "{t}a", "weights", "1"),
		zc("-ERR LIMIT can't be negative\r\n", "zintercard", "1", "{t}a", "limit", "-1"),
		zc("-ERR syntax error\r\n", "zunionstore", "{t}d", "1", "{t}a", "withscores"),
	})
}

// TestZrankWithScore exercises Redis 7.2's WITHSCORE (off by default: see
// zrankArity) by widening the arity for the test.
func TestZrankWithScore(t *testing.T) {
	e := newZTestEnv(t)
	for _, n := range []string{"zrank", "zrevrank"} {
		cmd := commands[n]
		old := cmd.Arity
		cmd.Arity = -3
		defer func() { cmd.Arity = old }()
	}
	e.do("zadd", "z", "1", "a", "2", "b")
	zRun(t, e, []zCase{
		zc("*2\r\n:1\r\n$1\r\n2\r\n", "zrank", "z", "b", "withscore"),
		zc("*2\r\n:0\r\n$1\r\n2\r\n", "zrevrank", "z", "b", "WITHSCORE"),
		zc("*-1\r\n", "zrank", "z", "x", "withscore"),
		zc("*-1\r\n", "zrank", "nokey", "x", "withscore"),
		zc("-ERR syntax error\r\n", "zrank", "z", "b", "withscores"),
		zc("-ERR wrong number of arguments for 'zrank' command\r\n", "zrank", "z", "b", "withscore", "x"),
	})
	e.c.W.Proto = 3
	zRun(t, e, []zCase{
		zc("*2\r\n:1\r\n,2\r\n", "zrank", "z", "b", "withscore"),
		zc("_\r\n", "zrank", "z", "x", "withscore"),
	})
}

// TestZsetPropagation checks Dirty counting and the rewritten pops.
func TestZsetPropagation(t *testing.T) {
	e := newZTestEnv(t)
	e.do("zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d")
	e.do("zadd", "z", "1", "a")    // no change: not propagated
	e.do("zrem", "z", "nope")      // no change
	e.do("zpopmin", "z")           // as is
	e.do("zmpop", "1", "z", "max") // → ZPOPMAX z 1
	e.do("bzpopmin", "z", "0")     // → ZPOPMIN z
	e.do("bzmpop", "0", "1", "z", "min", "count", "3")
	got := []string{}
	for _, p := range e.prop {
		got = append(got, strings.Join(p, " "))
	}
	want := []string{"zadd z 1 a 2 b 3 c 4 d", "zpopmin z", "ZPOPMAX z 1", "ZPOPMIN z", "ZPOPMIN z 3"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("propagated %q, want %q", got, want)
	}
}

// TestZsetBlockingFIFO: two clients blocked on a key are served in arrival
// order by pushes from a third.
func TestZsetBlockingFIFO(t *testing.T) {
	e := newZTestEnv(t)
	c1 := e.s.newClient(zPipeConn(t))
	c2 := e.s.newClient(zPipeConn(t))
	res := make(chan string, 2)
	go func() { res <- "c1 " + e.doOn(c1, "bzpopmin", "k", "5") }()
	zWaitBlocked(t, c1)
	go func() { res <- "c2 " + e.doOn(c2, "bzpopmin", "k", "5") }()
	zWaitBlocked(t, c2)
	e.do("zadd", "k", "1", "a")
	first := <-res
	if first != "c1 *3\r\n$1\r\nk\r\n$1\r\na\r\n$1\r\n1\r\n" {
		t.Fatalf("first served: %q", first)
	}
	e.do("zadd", "k", "2", "b")
	if second := <-res; second != "c2 *3\r\n$1\r\nk\r\n$1\r\nb\r\n$1\r\n2\r\n" {
		t.Fatalf("second served: %q", second)
	}
	// Timeout.
	start := time.Now()
	if got := e.do("bzpopmax", "k", "0.05"); got != "*-1\r\n" || time.Since(start) < 40*time.Millisecond {
		t.Fatalf("timeout reply %q after %v", got, time.Since(start))
	}
	// Inside MULTI a blocking pop answers at once.
	e.do("multi")
	e.do("bzpopmin", "k", "0")
	if got := e.do("exec"); got != "*1\r\n*-1\r\n" {
		t.Fatalf("BZPOPMIN in MULTI: %q", got)
	}
}

// zPipeConn returns one end of a pipe whose other end is drained.
func zPipeConn(t *testing.T) net.Conn {
	a, b := net.Pipe()
	go io.Copy(io.Discard, b)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a
}

func zWaitBlocked(t *testing.T, c *Client) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !c.HasFlag(ClientBlocked) {
		if time.Now().After(deadline) {
			t.Fatal("client did not block")
		}
		time.Sleep(time.Millisecond)
	}
}

// zBenchEnv returns a server holding the shared 1M-member sorted set at
// "big" (scores 0..2^20-1, members "member:<i>"; ZADD benchmarks may leave
// up to 65536 extra members).
func zBenchEnv(b *testing.B) (*Server, *Client) {
	s, c := newTestServer(b, false)
	sl := s.KS.Slot(slots.Of([]byte("big")))
	sl.Lock()
	sl.Set([]byte("big"), &Entry{Obj: zBigShared()})
	sl.Unlock()
	return s, c
}

// BenchmarkZaddCmd1M: ZADD through the full dispatch path into a 1M-member
// skiplist set (new members, then score updates of those members).
func BenchmarkZaddCmd1M(b *testing.B) {
	s, c := zBenchEnv(b)
	argvs := make([][][]byte, 1<<16)
	for i := range argvs {
		argvs[i] = [][]byte{[]byte("zadd"), []byte("big"), []byte(strconv.Itoa(i*16) + ".5"), []byte("new:" + strconv.Itoa(i))}
	}
	b.ReportAllocs()
	b.ResetTimer()
	done := zCPUTimer(b)
	defer done()
	for i := 0; i < b.N; i++ {
		c.W.B = c.W.B[:0]
		argv := argvs[i&(1<<16-1)]
		if i>>16&1 == 1 { // second lap: move the member
			argv[2] = []byte(strconv.Itoa(i&0xfffff) + ".25")
		}
		s.Process(c, argv)
	}
}

// BenchmarkZrangeCmd1M: ZRANGE of 10 members with scores at random ranks
// of a 1M-member set, and ZRANGE BYSCORE LIMIT 0 10.
func BenchmarkZrangeCmd1M(b *testing.B) {
	s, c := zBenchEnv(b)
	argvs := make([][][]byte, 4096)
	byScore := make([][][]byte, 4096)
	for i := range argvs {
		start := (i * 7919) % (1<<20 - 10)
		argvs[i] = [][]byte{[]byte("zrange"), []byte("big"), []byte(strconv.Itoa(start)), []byte(strconv.Itoa(start + 9)), []byte("withscores")}
		byScore[i] = [][]byte{[]byte("zrange"), []byte("big"), []byte("(" + strconv.Itoa(start)), []byte("+inf"), []byte("byscore"), []byte("limit"), []byte("0"), []byte("10")}
	}
	b.Run("rank", func(b *testing.B) {
		b.ReportAllocs()
		done := zCPUTimer(b)
		defer done()
		for i := 0; i < b.N; i++ {
			c.W.B = c.W.B[:0]
			s.Process(c, argvs[i&4095])
		}
	})
	b.Run("byscore-limit", func(b *testing.B) {
		b.ReportAllocs()
		done := zCPUTimer(b)
		defer done()
		for i := 0; i < b.N; i++ {
			c.W.B = c.W.B[:0]
			s.Process(c, byScore[i&4095])
		}
	})
}

// FuzzZsetCommands runs byte-driven sequences of sorted set commands
// (NUL-separated arguments, newline-separated commands) through dispatch:
// nothing may panic, every command must reply, and every sorted set left
// must keep its structural invariants.
func FuzzZsetCommands(f *testing.F) {
	for _, s := range []string{
		"zadd\x00z\x001\x00a\x002\x00b\nzrange\x00z\x000\x00-1\x00withscores",
		"zadd\x00z\x00incr\x00inf\x00a\nzincrby\x00z\x00-inf\x00a",
		"zadd\x00z\x000\x00a\x000\x00b\nzrangebylex\x00z\x00[a\x00(c\x00limit\x001\x001\nzremrangebylex\x00z\x00-\x00+",
		"zunionstore\x00d\x002\x00z\x00z\x00weights\x002\x00-1\x00aggregate\x00max",
		"zrangestore\x00d\x00z\x00+inf\x00-inf\x00byscore\x00rev\x00limit\x000\x005",
		"zmpop\x002\x00z\x00d\x00max\x00count\x003\nzpopmin\x00z\x0010",
		"zrandmember\x00z\x00-5\x00withscores\nzscan\x00z\x000\x00match\x00*a*\x00count\x005",
	} {
		f.Add([]byte(s))
	}
	s, c := newTestServer(f, false)
	e := &zTestEnv{s: s, c: c}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 2048 {
			return
		}
		e.s.KS = NewKeyspace()
		candidates := map[string]bool{}
		for _, line := range bytes.Split(data, []byte{'\n'}) {
			argv := bytes.Split(line, []byte{0})
			if len(argv) == 0 || len(argv) > 40 || !bytes.HasPrefix(bytes.ToLower(argv[0]), []byte("z")) {
				continue
			}
			for _, a := range argv[1:] {
				candidates[string(a)] = true
			}
			e.c.W.B = e.c.W.B[:0]
			e.s.Process(e.c, argv)
			if len(e.c.W.B) == 0 {
				t.Fatalf("%q: no reply", argv)
			}
		}
		for key := range candidates {
			en := e.entry(key)
			if en == nil {
				continue
			}
			z, ok := en.Obj.(*ZSet)
			if !ok {
				continue
			}
			if z.Len() == 0 {
				t.Fatalf("empty zset %q left in the keyspace", key)
			}
			ref := &zNaive{}
			z.Each(func(m []byte, s float64) bool {
				ref.es = append(ref.es, zlpEntry{string(m), s})
				return true
			})
			if !sort.SliceIsSorted(ref.es, func(a, b int) bool {
				return zless(ref.es[a].score, ref.es[a].member, ref.es[b].score, ref.es[b].member)
			}) {
				t.Fatalf("zset %q out of order", key)
			}
			zCheckInvariants(t, z, ref)
		}
	})
}
