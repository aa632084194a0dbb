package integration

// List commands: differential tests against redis-server 7 (byte-exact,
// RESP2 and RESP3), go-redis tables, and blocking pops across connections:
// wake-ups by other clients and by MULTI/EXEC, FIFO order, fractional
// timeouts, 0 = forever, disconnects while blocked, BLMOVE chains.

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func listSteps(p string) []Step {
	k := func(n string) string { return p + n }
	steps := []Step{
		// pushes, LRANGE, LLEN, LINDEX
		S("RPUSH", k("l"), "a", "b", "c", "d", "e", "f"), S("LPUSH", k("l"), "z", "y", "x"), S("LRANGE", k("l"), "0", "-1"),
		S("LRANGE", k("l"), "-100", "100"), S("LRANGE", k("l"), "5", "2"), S("LRANGE", k("l"), "x", "1"), S("LRANGE", k("l"), "1", "x"),
		S("LRANGE", k("none"), "0", "-1"), S("LRANGE", k("l"), "-3", "-1"), S("LRANGE", k("l"), "9", "10"), S("LRANGE", k("l"), "0", "9223372036854775807"),
		S("LLEN", k("l")), S("LLEN", k("none")), S("LINDEX", k("l"), "0"), S("LINDEX", k("l"), "-1"), S("LINDEX", k("l"), "100"),
		S("LINDEX", k("l"), "-100"), S("LINDEX", k("l"), "x"), S("LINDEX", k("none"), "x"), S("LINDEX", k("l"), "-9223372036854775808"),
		S("LPUSH", k("l")), S("RPUSH", k("l")),
		// LSET / LINSERT
		S("LSET", k("l"), "1", "YY"), S("LSET", k("l"), "-1", "last"), S("LSET", k("l"), "100", "YY"), S("LSET", k("l"), "x", "YY"),
		S("LSET", k("none"), "0", "a"), S("LRANGE", k("l"), "0", "-1"),
		S("LINSERT", k("l"), "before", "a", "A"), S("LINSERT", k("l"), "AFTER", "last", "F"), S("LINSERT", k("l"), "after", "nope", "F"),
		S("LINSERT", k("l"), "middle", "a", "F"), S("LINSERT", k("none"), "before", "a", "b"), S("LRANGE", k("l"), "0", "-1"),
		// LREM
		S("RPUSH", k("l"), "a", "a", "b", "a"), S("LREM", k("l"), "2", "a"), S("LRANGE", k("l"), "0", "-1"), S("LREM", k("l"), "-1", "a"),
		S("LRANGE", k("l"), "0", "-1"), S("LREM", k("l"), "0", "b"), S("LREM", k("l"), "x", "b"), S("LREM", k("none"), "0", "b"),
		S("RPUSH", k("r1"), "v"), S("LREM", k("r1"), "0", "v"), S("EXISTS", k("r1")),
		// LPOS
		S("LPOS", k("l"), "c"), S("LPOS", k("l"), "zz"), S("LPOS", k("l"), "c", "RANK", "-1"), S("LPOS", k("l"), "c", "COUNT", "0"),
		S("LPOS", k("l"), "c", "COUNT", "0", "MAXLEN", "2"), S("LPOS", k("l"), "c", "RANK", "0"), S("LPOS", k("l"), "c", "RANK", "x"),
		S("LPOS", k("l"), "c", "COUNT", "-1"), S("LPOS", k("l"), "c", "COUNT", "x"), S("LPOS", k("l"), "c", "MAXLEN", "-1"), S("LPOS", k("l"), "c", "foo"),
		S("LPOS", k("l"), "c", "COUNT"), S("LPOS", k("none"), "c"), S("LPOS", k("none"), "c", "COUNT", "1"),
		S("RPUSH", k("p"), "1", "2", "1", "2", "1", "2"), S("LPOS", k("p"), "1", "COUNT", "0"), S("LPOS", k("p"), "1", "RANK", "2", "COUNT", "2"),
		S("LPOS", k("p"), "1", "RANK", "-1", "COUNT", "0"), S("LPOS", k("p"), "2", "RANK", "-2"), S("LPOS", k("p"), "2", "RANK", "-9223372036854775808"),
		S("LPOS", k("p"), "2", "MAXLEN", "1"), S("LPOS", k("p"), "2", "RANK", "-1", "MAXLEN", "2"), S("LPOS", k("p"), "1", "RANK", "4"),
		S("LPOS", k("p"), "1", "COUNT", "2", "COUNT", "1"),
		// LTRIM
		S("LTRIM", k("p"), "1", "-2"), S("LRANGE", k("p"), "0", "-1"), S("LTRIM", k("p"), "10", "20"), S("EXISTS", k("p")),
		S("LTRIM", k("none"), "0", "1"), S("LTRIM", k("l"), "x", "1"), S("RPUSH", k("t"), "1", "2", "3"), S("LTRIM", k("t"), "-100", "100"),
		S("LRANGE", k("t"), "0", "-1"), S("LTRIM", k("t"), "2", "1"), S("EXISTS", k("t")),
		// LPOP / RPOP with count
		S("LPOP", k("l")), S("RPOP", k("l")), S("LPOP", k("l"), "2"), S("RPOP", k("l"), "2"), S("LPOP", k("l"), "0"), S("LPOP", k("l"), "-1"),
		S("LPOP", k("l"), "x"), S("LPOP", k("l"), "1", "2"), S("LPOP", k("none")), S("LPOP", k("none"), "3"), S("RPOP", k("none"), "0"),
		S("LRANGE", k("l"), "0", "-1"), S("RPOP", k("l"), "100"), S("EXISTS", k("l")),
		// LPUSHX / RPUSHX
		S("LPUSHX", k("none"), "a"), S("RPUSHX", k("none"), "a"), S("EXISTS", k("none")), S("RPUSH", k("x"), "m"),
		S("LPUSHX", k("x"), "q", "w"), S("RPUSHX", k("x"), "e", "r"), S("LRANGE", k("x"), "0", "-1"),
		// LMOVE / RPOPLPUSH
		S("RPUSH", k("s1"), "a", "b", "c"), S("LMOVE", k("s1"), k("d1"), "left", "right"), S("LMOVE", k("s1"), k("d1"), "RIGHT", "LEFT"),
		S("LMOVE", k("s1"), k("d1"), "up", "left"), S("LMOVE", k("s1"), k("d1"), "left", "down"), S("LMOVE", k("nos"), k("d1"), "left", "left"),
		S("LRANGE", k("d1"), "0", "-1"), S("RPOPLPUSH", k("s1"), k("s1")), S("LRANGE", k("s1"), "0", "-1"),
		S("RPUSH", k("s1"), "x"), S("LMOVE", k("s1"), k("s1"), "left", "right"), S("LRANGE", k("s1"), "0", "-1"),
		S("RPOPLPUSH", k("s1"), k("d1")), S("RPOPLPUSH", k("s1"), k("d1")), S("EXISTS", k("s1")), S("RPOPLPUSH", k("s1"), k("d1")),
		// LMPOP
		S("LMPOP", "1", k("d1"), "left"), S("LMPOP", "2", k("none"), k("d1"), "right", "count", "5"), S("LMPOP", "2", k("none"), k("d1"), "right"),
		S("LMPOP", "0", k("d1"), "left"), S("LMPOP", "-1", k("d1"), "left"), S("LMPOP", "x", k("d1"), "left"), S("LMPOP", "1", k("d1"), "left", "count", "0"),
		S("LMPOP", "1", k("d1"), "left", "count", "-1"), S("LMPOP", "1", k("d1"), "left", "count", "1", "count", "2"),
		S("LMPOP", "1", k("d1"), "middle"), S("LMPOP", "3", k("d1"), "left"), S("LMPOP", "1", k("d1"), "left", "foo"),
		// non-blocking behaviour of the blocking commands
		S("RPUSH", k("bl"), "1", "2", "3", "4", "5"), S("BLPOP", k("none"), k("bl"), "0"), S("BRPOP", k("bl"), "0"),
		S("BLMOVE", k("bl"), k("bd"), "LEFT", "RIGHT", "0"), S("BRPOPLPUSH", k("bl"), k("bd"), "0"), S("BLMPOP", "0", "2", k("none"), k("bl"), "LEFT", "COUNT", "10"),
		S("EXISTS", k("bl")), S("LRANGE", k("bd"), "0", "-1"),
		S("BLPOP", k("none"), "0.01"), S("BRPOP", k("none"), "0.001"), S("BLMOVE", k("none"), k("bd"), "LEFT", "RIGHT", "0.01"),
		S("BRPOPLPUSH", k("none"), k("bd"), "0.01"), S("BLMPOP", "0.01", "1", k("none"), "LEFT"),
		S("BLPOP", k("none"), "x"), S("BLPOP", k("none"), "-1"), S("BLPOP", k("none"), "-0.5"), S("BLPOP", k("none"), "inf"),
		S("BLPOP", k("none"), "1e30"), S("BLPOP", k("none"), ""), S("BLPOP", k("none"), " 1"), S("BLPOP", k("none"), "9223372036854775.808"),
		S("BLMOVE", k("none"), k("bd"), "UP", "RIGHT", "0"), S("BLMOVE", k("none"), k("bd"), "LEFT", "RIGHT", "x"),
		S("BLMPOP", "x", "1", k("none"), "LEFT"), S("BLMPOP", "0", "0", k("none"), "LEFT"), S("BLMPOP", "0", "1", k("none"), "UP"),
		S("BLMPOP", "0", "1", k("none"), "LEFT", "COUNT", "0"), S("BRPOPLPUSH", k("none"), k("bd"), "-1"),
		// encoding, type
		S("OBJECT", "ENCODING", k("bd")), S("TYPE", k("bd")), S("RPUSH", k("big"), strings.Repeat("x", 10000)), S("OBJECT", "ENCODING", k("big")),
		// WRONGTYPE
		S("SET", k("str"), "v"), S("RPUSH", k("src"), "v"),
	}
	for _, c := range [][]string{
		{"LPUSH", k("str"), "a"}, {"RPUSH", k("str"), "a"}, {"LPUSHX", k("str"), "a"}, {"RPUSHX", k("str"), "a"}, {"LPOP", k("str")},
		{"RPOP", k("str"), "2"}, {"LLEN", k("str")}, {"LRANGE", k("str"), "0", "1"}, {"LINDEX", k("str"), "0"}, {"LSET", k("str"), "0", "a"},
		{"LINSERT", k("str"), "before", "a", "b"}, {"LREM", k("str"), "0", "a"}, {"LTRIM", k("str"), "0", "1"}, {"LPOS", k("str"), "a"},
		{"LMOVE", k("str"), k("d1"), "left", "left"}, {"LMOVE", k("src"), k("str"), "left", "left"}, {"LRANGE", k("src"), "0", "-1"},
		{"RPOPLPUSH", k("str"), k("src")}, {"LMPOP", "2", k("none"), k("str"), "left"}, {"BLPOP", k("none"), k("str"), "0"},
		{"BLPOP", k("src"), k("str"), "0"}, {"RPUSH", k("src"), "v"}, {"BLMOVE", k("src"), k("str"), "LEFT", "LEFT", "0"}, {"LLEN", k("src")},
		{"BRPOPLPUSH", k("str"), k("src"), "0"}, {"BLMPOP", "0", "1", k("str"), "LEFT"}, {"LINDEX", k("str"), "x"}, {"LRANGE", k("str"), "x", "0"},
	} {
		steps = append(steps, S(c...))
	}
	return steps
}

func TestListDifferential(t *testing.T) {
	s, r := DiffPair(t)
	diffProtos(t, s, r, listSteps)
}

// TestListDifferentialBig exercises lists spanning many nodes (packed
// buffers of 8 KiB) with LINSERT/LSET/LREM/LTRIM in the middle.
func TestListDifferentialBig(t *testing.T) {
	s, r := DiffPair(t)
	var steps []Step
	push := []string{"RPUSH", "bigl"}
	for i := 0; i < 3000; i++ {
		push = append(push, fmt.Sprint("element-", i%97, "-", strings.Repeat("x", i%50)))
	}
	steps = append(steps, S(push...), S("LLEN", "bigl"), S("LINDEX", "bigl", "1500"), S("LINDEX", "bigl", "-1234"),
		S("LSET", "bigl", "1500", strings.Repeat("Y", 9000)), S("LINDEX", "bigl", "1500"), S("LINSERT", "bigl", "BEFORE", "element-5-", "ins"),
		S("LINSERT", "bigl", "AFTER", "element-96-"+strings.Repeat("x", 46), "ins2"), S("LREM", "bigl", "7", "element-3-"),
		S("LREM", "bigl", "-3", "element-10-"+strings.Repeat("x", 10)), S("LPOS", "bigl", "ins2"), S("LPOS", "bigl", "element-7-", "COUNT", "0"),
		S("LPOS", "bigl", "element-7-", "RANK", "-2"), S("LTRIM", "bigl", "100", "-100"), S("LLEN", "bigl"), S("LRANGE", "bigl", "0", "-1"),
		S("LPOP", "bigl", "500"), S("RPOP", "bigl", "500"), S("LRANGE", "bigl", "0", "-1"), S("LREM", "bigl", "0", "ins"),
		S("LRANGE", "bigl", "1000", "1100"))
	Differential(t, s, r, 2, steps)
}

// TestListGoRedis drives the family with go-redis (RESP2 and RESP3).
func TestListGoRedis(t *testing.T) {
	n := StartNode(t, Options{})
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := n.NewClient(t, proto)
			ctx := Ctx(t, 30*time.Second)
			p := fmt.Sprintf("gl%d:", proto)
			if n := rdb.RPush(ctx, p+"q", "a", "b", "c").Val(); n != 3 {
				t.Fatalf("RPUSH = %d", n)
			}
			if v := rdb.LRange(ctx, p+"q", 0, -1).Val(); strings.Join(v, ",") != "a,b,c" {
				t.Fatalf("LRANGE = %v", v)
			}
			if v := rdb.LPopCount(ctx, p+"q", 2).Val(); strings.Join(v, ",") != "a,b" {
				t.Fatalf("LPOP 2 = %v", v)
			}
			if err := rdb.LPopCount(ctx, p+"none", 2).Err(); err != redis.Nil {
				t.Fatalf("LPOP count on missing key: %v", err)
			}
			if v := rdb.LPos(ctx, p+"q", "c", redis.LPosArgs{}).Val(); v != 0 {
				t.Fatalf("LPOS = %d", v)
			}
			if err := rdb.LPos(ctx, p+"q", "zz", redis.LPosArgs{}).Err(); err != redis.Nil {
				t.Fatalf("LPOS no match: %v", err)
			}
			if v := rdb.LMove(ctx, p+"q", p+"d", "LEFT", "RIGHT").Val(); v != "c" {
				t.Fatalf("LMOVE = %q", v)
			}
			if rdb.Exists(ctx, p+"q").Val() != 0 {
				t.Fatal("emptied list still exists")
			}
			key, vals, err := rdb.LMPop(ctx, "right", 5, p+"none", p+"d").Result()
			if err != nil || key != p+"d" || len(vals) != 1 || vals[0] != "c" {
				t.Fatalf("LMPOP = %q %v %v", key, vals, err)
			}
			rdb.RPush(ctx, p+"w", "1")
			bl, err := rdb.BLPop(ctx, time.Second, p+"none", p+"w").Result()
			if err != nil || len(bl) != 2 || bl[0] != p+"w" || bl[1] != "1" {
				t.Fatalf("BLPOP = %v, %v", bl, err)
			}
			if err := rdb.BRPop(ctx, 50*time.Millisecond, p+"none").Err(); err != redis.Nil {
				t.Fatalf("BRPOP timeout: %v", err)
			}
			if err := rdb.BLMove(ctx, p+"none", p+"d", "LEFT", "LEFT", 50*time.Millisecond).Err(); err != redis.Nil {
				t.Fatalf("BLMOVE timeout: %v", err)
			}
			rdb.Set(ctx, p+"str", "x", 0)
			if err := rdb.LPush(ctx, p+"str", "a").Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
				t.Fatalf("LPUSH on a string: %v", err)
			}
			if err := rdb.LSet(ctx, p+"none", 0, "a").Err(); err == nil || err.Error() != "ERR no such key" {
				t.Fatalf("LSET missing key: %v", err)
			}
		})
	}
}

// blockedClients polls until n clients are blocked in list commands
// (CLIENT LIST shows them with their last command).
func waitBlocked(t *testing.T, rdb *redis.Client, cmd string, n int) {
	t.Helper()
	ctx := Ctx(t, 10*time.Second)
	Eventually(t, 10*time.Second, fmt.Sprintf("%d clients blocked in %s", n, cmd), func() bool {
		list, err := rdb.ClientList(ctx).Result()
		if err != nil {
			return false
		}
		return strings.Count(list, "cmd="+cmd+" ") >= n
	})
}

// TestListBlockingAcrossClients: clients blocked on a list are woken by
// pushes from other connections, served first-come-first-served, and a
// timeout of 0 waits as long as needed.
func TestListBlockingAcrossClients(t *testing.T) {
	n := StartNode(t, Options{})
	admin := n.Client()
	ctx := Ctx(t, 60*time.Second)
	type res struct {
		i   int
		val []string
		err error
	}
	out := make(chan res, 3)
	for i := 0; i < 3; i++ {
		c := n.NewClient(t, 2)
		go func(i int) {
			v, err := c.BLPop(ctx, 0, "jobs").Result()
			out <- res{i, v, err}
		}(i)
		waitBlocked(t, admin, "blpop", i+1) // block in a known order
	}
	admin.RPush(ctx, "jobs", "j1", "j2")
	got := map[int]string{}
	for len(got) < 2 {
		select {
		case r := <-out:
			if r.err != nil {
				t.Fatalf("client %d: %v", r.i, r.err)
			}
			got[r.i] = r.val[1]
		case <-time.After(10 * time.Second):
			t.Fatalf("blocked clients not served: %v", got)
		}
	}
	if got[0] != "j1" || got[1] != "j2" {
		t.Fatalf("not first-come-first-served: %v", got)
	}
	admin.LPush(ctx, "jobs", "j3")
	select {
	case r := <-out:
		if r.i != 2 || r.val[1] != "j3" {
			t.Fatalf("third client: %+v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("third client not served")
	}
	if admin.Exists(ctx, "jobs").Val() != 0 {
		t.Fatal("list should be empty")
	}
}

// TestListBlockingTimeouts: fractional timeouts expire on time and leave
// nothing behind; the reply is a null array.
func TestListBlockingTimeouts(t *testing.T) {
	n := StartNode(t, Options{})
	r := DialRaw(t, n.Addr())
	for _, tc := range []struct {
		args []string
		min  time.Duration
	}{
		{[]string{"BLPOP", "tq", "0.25"}, 240 * time.Millisecond},
		{[]string{"BRPOP", "tq", "tq2", "0.1"}, 90 * time.Millisecond},
		{[]string{"BLMOVE", "tq", "td", "LEFT", "LEFT", "0.1"}, 90 * time.Millisecond},
		{[]string{"BRPOPLPUSH", "tq", "td", "0.1"}, 90 * time.Millisecond},
		{[]string{"BLMPOP", "0.1", "1", "tq", "RIGHT"}, 90 * time.Millisecond},
		{[]string{"BLPOP", "tq", "1"}, 990 * time.Millisecond},
	} {
		start := time.Now()
		got, err := r.Do(tc.args...)
		d := time.Since(start)
		if err != nil || got != "*-1\r\n" {
			t.Fatalf("%q = %q, %v", tc.args, got, err)
		}
		if d < tc.min || d > tc.min+3*time.Second {
			t.Fatalf("%q took %v", tc.args, d)
		}
	}
	if got, _ := r.Do("RPUSH", "tq", "x"); got != ":1\r\n" {
		t.Fatalf("RPUSH after timeouts = %q", got)
	}
	if got, _ := r.Do("LRANGE", "tq", "0", "-1"); got != "*1\r\n$1\r\nx\r\n" {
		t.Fatalf("element taken by a timed-out client: %q", got)
	}
}

// TestListBlockedClientDisconnect: a client that disconnects while blocked
// is removed from the queue and consumes nothing.
func TestListBlockedClientDisconnect(t *testing.T) {
	n := StartNode(t, Options{})
	admin := n.Client()
	ctx := Ctx(t, 30*time.Second)
	gone := DialRaw(t, n.Addr())
	if err := gone.Send("*3\r\n$5\r\nBLPOP\r\n$2\r\ndq\r\n$1\r\n0\r\n"); err != nil {
		t.Fatal(err)
	}
	waitBlocked(t, admin, "blpop", 1)
	stay := DialRaw(t, n.Addr())
	stay.Send("*3\r\n$5\r\nBRPOP\r\n$2\r\ndq\r\n$1\r\n0\r\n")
	waitBlocked(t, admin, "brpop", 1)
	gone.c.Close()
	Eventually(t, 10*time.Second, "disconnected client cleaned up", func() bool {
		list := admin.ClientList(ctx).Val()
		return !strings.Contains(list, "cmd=blpop ")
	})
	admin.RPush(ctx, "dq", "only")
	got, err := stay.ReadReply()
	if err != nil || got != "*2\r\n$2\r\ndq\r\n$4\r\nonly\r\n" {
		t.Fatalf("remaining client got %q, %v", got, err)
	}
	// And a disconnect with nobody else waiting leaves the element in place.
	gone2 := DialRaw(t, n.Addr())
	gone2.Send("*3\r\n$5\r\nBLPOP\r\n$3\r\ndq2\r\n$1\r\n0\r\n")
	waitBlocked(t, admin, "blpop", 1)
	gone2.c.Close()
	Eventually(t, 10*time.Second, "disconnected client cleaned up", func() bool {
		return !strings.Contains(admin.ClientList(ctx).Val(), "cmd=blpop ")
	})
	admin.RPush(ctx, "dq2", "kept")
	if v := admin.LRange(ctx, "dq2", 0, -1).Val(); len(v) != 1 || v[0] != "kept" {
		t.Fatalf("element consumed by a disconnected client: %v", v)
	}
}

// TestListBlockingMultiExec: inside MULTI a blocking pop does not block; a
// blocked client woken by an EXEC sees the transaction's final state.
func TestListBlockingMultiExec(t *testing.T) {
	n := StartNode(t, Options{})
	if !hasCommand(t, n, "MULTI") {
		t.Skip("slotkv has no MULTI yet")
	}
	admin := n.Client()
	ctx := Ctx(t, 30*time.Second)
	r := DialRaw(t, n.Addr())
	for _, step := range [][2]string{{"MULTI", "+OK\r\n"}, {"BLPOP mq 0", "+QUEUED\r\n"}, {"BRPOPLPUSH mq x 0", "+QUEUED\r\n"},
		{"BLMPOP 0 1 mq LEFT", "+QUEUED\r\n"}, {"EXEC", "*3\r\n*-1\r\n$-1\r\n*-1\r\n"}} {
		if got, err := r.Do(strings.Split(step[0], " ")...); err != nil || got != step[1] {
			t.Fatalf("%s = %q, %v; want %q", step[0], got, err, step[1])
		}
	}
	blocked := DialRaw(t, n.Addr())
	blocked.Send("*3\r\n$5\r\nBLPOP\r\n$2\r\nmq\r\n$1\r\n0\r\n")
	waitBlocked(t, admin, "blpop", 1)
	// LPUSH a, b, c then DEL and LPUSH d in one transaction: the blocked
	// client must get d, the only element present after EXEC.
	pipe := admin.TxPipeline()
	pipe.LPush(ctx, "mq", "a", "b", "c")
	pipe.Del(ctx, "mq")
	pipe.LPush(ctx, "mq", "d", "e")
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := blocked.ReadReply()
	if err != nil || got != "*2\r\n$2\r\nmq\r\n$1\r\ne\r\n" {
		t.Fatalf("blocked client got %q, %v", got, err)
	}
	if v := admin.LRange(ctx, "mq", 0, -1).Val(); len(v) != 1 || v[0] != "d" {
		t.Fatalf("after EXEC: %v", v)
	}
}

// TestListBlockingScript: a push made by a Lua script wakes a blocked
// client.
func TestListBlockingScript(t *testing.T) {
	n := StartNode(t, Options{})
	if !hasCommand(t, n, "EVAL", "return 1", "0") {
		t.Skip("slotkv has no EVAL yet")
	}
	admin := n.Client()
	ctx := Ctx(t, 30*time.Second)
	blocked := DialRaw(t, n.Addr())
	blocked.Send("*3\r\n$5\r\nBRPOP\r\n$2\r\nsq\r\n$1\r\n0\r\n")
	waitBlocked(t, admin, "brpop", 1)
	if err := admin.Eval(ctx, "redis.call('rpush', KEYS[1], 'from-lua'); return 1", []string{"sq"}).Err(); err != nil {
		t.Fatal(err)
	}
	got, err := blocked.ReadReply()
	if err != nil || got != "*2\r\n$2\r\nsq\r\n$8\r\nfrom-lua\r\n" {
		t.Fatalf("blocked client got %q, %v", got, err)
	}
}

// TestListBlockingMoves: chained and circular BLMOVEs, a BRPOPLPUSH whose
// destination has the wrong type (error, element kept, next client served)
// and BLMPOP with COUNT, all woken by one push.
func TestListBlockingMoves(t *testing.T) {
	n := StartNode(t, Options{})
	admin := n.Client()
	ctx := Ctx(t, 30*time.Second)
	// Chain: c1 moves list1 -> list2, c2 moves list2 -> list3.
	c1, c2 := DialRaw(t, n.Addr()), DialRaw(t, n.Addr())
	c1.Send("*6\r\n$6\r\nBLMOVE\r\n$5\r\nlist1\r\n$5\r\nlist2\r\n$5\r\nRIGHT\r\n$4\r\nLEFT\r\n$1\r\n0\r\n")
	waitBlocked(t, admin, "blmove", 1)
	c2.Send("*6\r\n$6\r\nBLMOVE\r\n$5\r\nlist2\r\n$5\r\nlist3\r\n$4\r\nLEFT\r\n$5\r\nRIGHT\r\n$1\r\n0\r\n")
	waitBlocked(t, admin, "blmove", 2)
	admin.RPush(ctx, "list1", "foo")
	for i, c := range []*Raw{c1, c2} {
		if got, err := c.ReadReply(); err != nil || got != "$3\r\nfoo\r\n" {
			t.Fatalf("mover %d got %q, %v", i, got, err)
		}
	}
	if v := admin.LRange(ctx, "list3", 0, -1).Val(); len(v) != 1 || v[0] != "foo" || admin.Exists(ctx, "list1", "list2").Val() != 0 {
		t.Fatalf("chain result list3=%v", v)
	}
	// Wrong destination type: error for the first client, element stays,
	// the second client gets it.
	admin.Set(ctx, "target1", "nobody", 0)
	w1, w2 := DialRaw(t, n.Addr()), DialRaw(t, n.Addr())
	w1.Send("*4\r\n$10\r\nBRPOPLPUSH\r\n$5\r\nblist\r\n$7\r\ntarget1\r\n$1\r\n0\r\n")
	waitBlocked(t, admin, "brpoplpush", 1)
	w2.Send("*4\r\n$10\r\nBRPOPLPUSH\r\n$5\r\nblist\r\n$7\r\ntarget2\r\n$1\r\n0\r\n")
	waitBlocked(t, admin, "brpoplpush", 2)
	admin.LPush(ctx, "blist", "foo")
	if got, _ := w1.ReadReply(); !strings.HasPrefix(got, "-WRONGTYPE") {
		t.Fatalf("first client: %q", got)
	}
	if got, _ := w2.ReadReply(); got != "$3\r\nfoo\r\n" {
		t.Fatalf("second client: %q", got)
	}
	if v := admin.LRange(ctx, "target2", 0, -1).Val(); len(v) != 1 || v[0] != "foo" {
		t.Fatalf("target2 = %v", v)
	}
	// BLMPOP with COUNT takes up to COUNT elements of the first ready key.
	m := DialRaw(t, n.Addr())
	m.Send("*8\r\n$6\r\nBLMPOP\r\n$1\r\n0\r\n$1\r\n2\r\n$2\r\nm1\r\n$2\r\nm2\r\n$5\r\nRIGHT\r\n$5\r\nCOUNT\r\n") // incomplete on purpose
	m.Send("$1\r\n3\r\n")
	waitBlocked(t, admin, "blmpop", 1)
	admin.RPush(ctx, "m2", "a", "b", "c", "d")
	if got, _ := m.ReadReply(); got != "*2\r\n$2\r\nm2\r\n*3\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n" {
		t.Fatalf("BLMPOP got %q", got)
	}
}

// TestListBlockingStress: producers and consumers on a few queues; every
// element is delivered exactly once.
func TestListBlockingStress(t *testing.T) {
	n := StartNode(t, Options{})
	ctx := Ctx(t, 60*time.Second)
	const producers, consumers, perProducer = 4, 6, 300
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for i := 0; i < consumers; i++ {
		c := n.NewClient(t, 2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				v, err := c.Do(ctx, "BRPOP", "sq:a", "sq:b", "0.2").StringSlice()
				if err == redis.Nil {
					select {
					case <-done:
						return
					default:
						continue
					}
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[v[1]]++
				mu.Unlock()
			}
		}()
	}
	var pw sync.WaitGroup
	for p := 0; p < producers; p++ {
		c := n.NewClient(t, 2)
		pw.Add(1)
		go func(p int) {
			defer pw.Done()
			for i := 0; i < perProducer; i++ {
				q := "sq:a"
				if i%3 == 0 {
					q = "sq:b"
				}
				if err := c.LPush(ctx, q, fmt.Sprint(p, ":", i)).Err(); err != nil {
					t.Error(err)
					return
				}
			}
		}(p)
	}
	pw.Wait()
	Eventually(t, 30*time.Second, "all elements consumed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == producers*perProducer
	})
	close(done)
	wg.Wait()
	for k, c := range seen {
		if c != 1 {
			t.Fatalf("%s delivered %d times", k, c)
		}
	}
}

// TestListRedisCLI compares redis-cli's rendering of list replies.
func TestListRedisCLI(t *testing.T) {
	s, r := DiffPair(t)
	script := [][]string{
		{"RPUSH", "cli:l", "a", "b", "c"}, {"LRANGE", "cli:l", "0", "-1"}, {"LPOP", "cli:l", "2"}, {"LPOP", "cli:none", "2"},
		{"LMPOP", "1", "cli:l", "LEFT"}, {"BLPOP", "cli:none", "0.01"}, {"LPOS", "cli:l", "a", "COUNT", "0"}, {"LINDEX", "cli:none", "0"},
	}
	for _, args := range script {
		run := func(n *Node) string {
			out, _ := RedisCLI(t, append([]string{"-h", n.IP, "-p", fmt.Sprint(n.Port)}, args...)...)
			return out
		}
		if got, want := run(s), run(r); got != want {
			t.Errorf("redis-cli %q:\n slotkv: %q\n  redis: %q", args, got, want)
		}
	}
}

// TestCollectionsRandomDifferential runs a seeded random mix of list, hash
// and set commands (values that cross encoding limits, keys shared across
// types for WRONGTYPE) against slotkv and redis-server and compares every
// reply byte for byte (sorted where Redis promises no order).
func TestCollectionsRandomDifferential(t *testing.T) {
	s, r := DiffPair(t)
	rng := rand.New(rand.NewPCG(42, 7))
	val := func() string {
		switch rng.IntN(12) {
		case 0:
			return strings.Repeat("v", 60+rng.IntN(10)) // around the 64-byte limit
		case 1:
			return fmt.Sprint(rng.Int64N(1<<40) - 1<<39)
		case 2:
			return ""
		case 3, 4, 5:
			return fmt.Sprint(rng.IntN(40))
		}
		return fmt.Sprint("e", rng.IntN(30))
	}
	key := func(kind string) string {
		if rng.IntN(20) == 0 {
			return "shared" // holds whatever type came first: WRONGTYPE paths
		}
		return fmt.Sprint(kind, rng.IntN(4))
	}
	idx := func() string { return fmt.Sprint(rng.IntN(30) - 15) }
	var steps []Step
	for i := 0; i < 4000; i++ {
		l, h, st := key("l"), key("h"), key("s")
		var step Step
		switch rng.IntN(34) {
		case 0:
			step = S("RPUSH", l, val(), val())
		case 1:
			step = S("LPUSH", l, val())
		case 2:
			step = S("LPOP", l)
		case 3:
			step = S("RPOP", l, fmt.Sprint(rng.IntN(4)))
		case 4:
			step = S("LRANGE", l, idx(), idx())
		case 5:
			step = S("LINSERT", l, []string{"BEFORE", "AFTER"}[rng.IntN(2)], val(), val())
		case 6:
			step = S("LREM", l, fmt.Sprint(rng.IntN(5)-2), val())
		case 7:
			step = S("LTRIM", l, idx(), idx())
		case 8:
			step = S("LSET", l, idx(), val())
		case 9:
			step = S("LPOS", l, val(), "RANK", []string{"1", "-1", "2"}[rng.IntN(3)], "COUNT", fmt.Sprint(rng.IntN(3)))
		case 10:
			step = S("LMOVE", l, key("l"), []string{"LEFT", "RIGHT"}[rng.IntN(2)], []string{"LEFT", "RIGHT"}[rng.IntN(2)])
		case 11:
			step = S("LMPOP", "2", l, key("l"), "RIGHT", "COUNT", "2")
		case 12:
			step = S("LINDEX", l, idx())
		case 13:
			step = S("HSET", h, val(), val(), val(), val())
		case 14:
			step = S("HDEL", h, val(), val())
		case 15:
			step = S("HGET", h, val())
		case 16:
			step = S("HINCRBY", h, val(), fmt.Sprint(rng.IntN(100)-50))
		case 17:
			step = S("HINCRBYFLOAT", h, val(), fmt.Sprint(rng.Float64()*10-5))
		case 18:
			step = U("HGETALL", h)
		case 19:
			step = S("HLEN", h)
		case 20:
			step = S("HSETNX", h, val(), val())
		case 21:
			step = S("HMGET", h, val(), val())
		case 22:
			step = S("SADD", st, val(), val(), val())
		case 23:
			step = S("SREM", st, val(), val())
		case 24:
			step = S("SISMEMBER", st, val())
		case 25:
			step = U("SMEMBERS", st)
		case 26:
			step = U("SINTER", st, key("s"))
		case 27:
			step = U("SUNION", st, key("s"))
		case 28:
			step = U("SDIFF", st, key("s"))
		case 29:
			step = S([]string{"SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"}[rng.IntN(3)], key("s"), st, key("s"))
		case 30:
			step = S("SMOVE", st, key("s"), val())
		case 31:
			step = S("SCARD", st)
		case 32:
			step = S("SINTERCARD", "2", st, key("s"), "LIMIT", fmt.Sprint(rng.IntN(3)))
		case 33:
			step = S("OBJECT", "ENCODING", []string{l, h, st}[rng.IntN(3)])
		}
		steps = append(steps, step)
	}
	Differential(t, s, r, 2, steps)
}
