package node

import (
	"strings"
	"sync"
	"testing"

	"github.com/slotkv/slotkv/redirect"
	"github.com/slotkv/slotkv/slots"
)

func TestMultiExecBasics(t *testing.T) {
	e := newStrTestEnv(t)
	e.putObj("lst")
	runCases(t, e, []replyCase{
		{a("EXEC"), "-ERR EXEC without MULTI\r\n"},
		{a("DISCARD"), "-ERR DISCARD without MULTI\r\n"},
		{a("MULTI"), "+OK\r\n"},
		{a("MULTI"), "-ERR MULTI calls can not be nested\r\n"},
		{a("WATCH", "x"), "-ERR WATCH inside MULTI is not allowed\r\n"},
		{a("SET", "a", "1"), "+QUEUED\r\n"},
		{a("GET", "a"), "+QUEUED\r\n"},
		{a("GET", "lst"), "+QUEUED\r\n"},
		{a("EXEC"), "*3\r\n+OK\r\n$1\r\n1\r\n" + wrongType},
		{a("MULTI"), "+OK\r\n"},
		{a("EXEC"), "*0\r\n"},
		// queue-time errors abort
		{a("MULTI"), "+OK\r\n"},
		{a("SET", "a", "2"), "+QUEUED\r\n"},
		{a("SET", "a"), "-ERR wrong number of arguments for 'set' command\r\n"},
		{a("EXEC"), "-EXECABORT Transaction discarded because of previous errors.\r\n"},
		{a("GET", "a"), "$1\r\n1\r\n"},
		{a("MULTI"), "+OK\r\n"},
		{a("NOSUCH"), "-ERR unknown command 'NOSUCH', with args beginning with: \r\n"},
		{a("EXEC"), "-EXECABORT Transaction discarded because of previous errors.\r\n"},
		{a("MULTI"), "+OK\r\n"},
		{a("SET", "a", "3"), "+QUEUED\r\n"},
		{a("DISCARD"), "+OK\r\n"},
		{a("GET", "a"), "$1\r\n1\r\n"},
		{a("MULTI"), "+OK\r\n"},
		{a("UNWATCH"), "+QUEUED\r\n"},
		{a("EXEC"), "*1\r\n+OK\r\n"},
		{a("UNWATCH"), "+OK\r\n"},
	})
}

func TestWatch(t *testing.T) {
	e := newStrTestEnv(t)
	_, other := newTestServerClient(t, e.s)
	do2 := func(args ...string) string {
		argv := make([][]byte, len(args))
		for i, x := range args {
			argv[i] = []byte(x)
		}
		other.W.B = other.W.B[:0]
		e.s.Process(other, argv)
		return string(other.W.B)
	}
	// modified by another client → nil
	runCases(t, e, []replyCase{{a("WATCH", "w", "w"), "+OK\r\n"}, {a("MULTI"), "+OK\r\n"}, {a("SET", "w", "mine"), "+QUEUED\r\n"}})
	if got := do2("SET", "w", "theirs"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	runCases(t, e, []replyCase{{a("EXEC"), "*-1\r\n"}, {a("GET", "w"), "$6\r\ntheirs\r\n"}})
	if len(e.c.Watched) != 0 {
		t.Fatal("watches left after EXEC")
	}
	// untouched → runs
	runCases(t, e, []replyCase{{a("WATCH", "w"), "+OK\r\n"}, {a("MULTI"), "+OK\r\n"}, {a("SET", "w", "mine"), "+QUEUED\r\n"}, {a("EXEC"), "*1\r\n+OK\r\n"}})
	// own write before MULTI also counts
	runCases(t, e, []replyCase{{a("WATCH", "w"), "+OK\r\n"}, {a("SET", "w", "x"), "+OK\r\n"}, {a("MULTI"), "+OK\r\n"}, {a("EXEC"), "*-1\r\n"}})
	// UNWATCH clears
	runCases(t, e, []replyCase{{a("WATCH", "w"), "+OK\r\n"}, {a("SET", "w", "x"), "+OK\r\n"}, {a("UNWATCH"), "+OK\r\n"}, {a("MULTI"), "+OK\r\n"}, {a("EXEC"), "*0\r\n"}})
	// a watched key that expires (logically) → abort
	runCases(t, e, []replyCase{{a("SET", "t", "v", "PX", "30"), "+OK\r\n"}, {a("WATCH", "t"), "+OK\r\n"}})
	sl := e.s.KS.Slot(slots.Of([]byte("t")))
	sl.Lock()
	sl.keys.getString("t").Exp = nowMs() - 1
	sl.Unlock()
	runCases(t, e, []replyCase{{a("MULTI"), "+OK\r\n"}, {a("EXEC"), "*-1\r\n"}})
	// a key already expired when WATCHed is no change when it goes away
	runCases(t, e, []replyCase{{a("SET", "t2", "v", "PX", "100000"), "+OK\r\n"}})
	sl = e.s.KS.Slot(slots.Of([]byte("t2")))
	sl.Lock()
	sl.keys.getString("t2").Exp = nowMs() - 1
	sl.Unlock()
	runCases(t, e, []replyCase{{a("WATCH", "t2"), "+OK\r\n"}, {a("GET", "t2"), "$-1\r\n"}, {a("MULTI"), "+OK\r\n"}, {a("EXEC"), "*0\r\n"}})
	// DISCARD unwatches
	runCases(t, e, []replyCase{{a("WATCH", "w"), "+OK\r\n"}, {a("MULTI"), "+OK\r\n"}, {a("DISCARD"), "+OK\r\n"}})
	if len(e.c.Watched) != 0 {
		t.Fatal("watches left after DISCARD")
	}
	// RESP3 nil
	e.c.W.Proto = 3
	runCases(t, e, []replyCase{{a("WATCH", "w"), "+OK\r\n"}, {a("MULTI"), "+OK\r\n"}})
	do2("DEL", "w")
	runCases(t, e, []replyCase{{a("EXEC"), "_\r\n"}})
}

// TestExecAtomic runs EXECs that move a counter between two keys in
// different slots while other clients read both: the sum never changes.
func TestExecAtomic(t *testing.T) {
	e := newStrTestEnv(t)
	run := func(c *Client, args ...string) string {
		argv := make([][]byte, len(args))
		for i, x := range args {
			argv[i] = []byte(x)
		}
		c.W.B = c.W.B[:0]
		e.s.Process(c, argv)
		return string(c.W.B)
	}
	run(e.c, "SET", "{a}x", "1000")
	run(e.c, "SET", "{b}y", "0")
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		_, c := newTestServerClient(t, e.s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				run(c, "MULTI")
				run(c, "DECR", "{a}x")
				run(c, "INCR", "{b}y")
				if r := run(c, "EXEC"); !strings.HasPrefix(r, "*2\r\n") {
					t.Errorf("exec: %q", r)
					return
				}
			}
		}()
	}
	_, rd := newTestServerClient(t, e.s)
	for i := 0; i < 300; i++ {
		r := run(rd, "MGET", "{a}x", "{b}y")
		parts := strings.Split(r, "\r\n")
		if len(parts) < 5 {
			t.Fatalf("mget %q", r)
		}
		x, _ := ParseInt([]byte(parts[2]))
		y, _ := ParseInt([]byte(parts[4]))
		if x+y != 1000 {
			t.Fatalf("non-atomic view: %d + %d", x, y)
		}
	}
	wg.Wait()
	if r := run(rd, "GET", "{b}y"); r != "$3\r\n900\r\n" {
		t.Fatalf("final %q", r)
	}
}

func TestExecAllSlots(t *testing.T) {
	e := newStrTestEnv(t)
	runCases(t, e, []replyCase{
		{a("SET", "k1", "v"), "+OK\r\n"},
		{a("MULTI"), "+OK\r\n"},
		{a("SET", "k2", "v"), "+QUEUED\r\n"},
		{a("DBSIZE"), "+QUEUED\r\n"},
		{a("EXEC"), "*2\r\n+OK\r\n:2\r\n"},
		{a("GET", "k2"), "$1\r\nv\r\n"},
	})
	if e.c.allSlots || len(e.c.locked) != 0 {
		t.Fatal("locks left")
	}
}

func TestExecCluster(t *testing.T) {
	s, c := newTestServer(t, true)
	e := &strTestEnv{t: t, s: s, c: c}
	// serve every slot here
	tb := *s.Route.Load()
	tb.Owner = redirect.Fill(tb.Self)
	s.Route.Store(&tb)
	runCases(t, e, []replyCase{
		{a("MULTI"), "+OK\r\n"},
		{a("SET", "a", "1"), "+QUEUED\r\n"},
		{a("SET", "b", "1"), "+QUEUED\r\n"},
		{a("EXEC"), "-CROSSSLOT Keys in request don't hash to the same slot\r\n"},
		{a("EXEC"), "-ERR EXEC without MULTI\r\n"},
		{a("MULTI"), "+OK\r\n"},
		{a("SET", "a", "1"), "+QUEUED\r\n"},
		{a("GET", "a"), "+QUEUED\r\n"},
		{a("EXEC"), "*2\r\n+OK\r\n$1\r\n1\r\n"},
	})
}
