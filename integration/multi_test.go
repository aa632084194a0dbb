package integration

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// multiSteps are transaction cases compared byte for byte with redis-server.
var multiSteps = []Step{
	S("EXEC"), S("DISCARD"),
	S("MULTI"), S("MULTI"), S("WATCH", "x"),
	S("SET", "a", "1"), S("INCR", "a"), S("LPUSH", "a", "x"), S("GET", "a"),
	S("EXEC"),
	S("MULTI"), S("EXEC"),
	// queue-time errors → EXECABORT, nothing runs
	S("MULTI"), S("SET", "a", "2"), S("SET", "a"), S("EXEC"), S("GET", "a"),
	S("MULTI"), S("NOSUCHCMD", "x"), S("EXEC"),
	S("MULTI"), S("SET", "b", "1"), S("DISCARD"), S("GET", "b"),
	// WATCH
	S("WATCH", "w"), S("SET", "w", "1"), S("MULTI"), S("GET", "w"), S("EXEC"),
	S("WATCH", "w"), S("MULTI"), S("GET", "w"), S("EXEC"),
	S("WATCH", "w"), S("SET", "w", "2"), S("UNWATCH"), S("MULTI"), S("GET", "w"), S("EXEC"),
	S("WATCH", "nokey"), S("MULTI"), S("EXEC"),
	S("WATCH", "w"), S("DEL", "w"), S("MULTI"), S("EXEC"),
	S("WATCH", "w"), S("MULTI"), S("DISCARD"), S("SET", "w", "3"), S("MULTI"), S("EXEC"),
	S("WATCH"),
	S("MULTI"), S("UNWATCH"), S("WATCH", "a"), S("EXEC"),
	// scripts and expiry inside a transaction
	S("MULTI"), S("EVAL", "return redis.call('incr', KEYS[1])", "1", "cnt"), S("PEXPIRE", "cnt", "100000"), S("TTL", "cnt"), S("EXEC"),
	S("MULTI"), S("PING"), S("ECHO", "hi"), S("EXEC"),
}

func TestMultiDifferential(t *testing.T) {
	sk, rs := DiffPair(t)
	for _, proto := range []int{2, 3} {
		sk.Client().FlushAll(Ctx(t, 5*time.Second))
		rs.Client().FlushAll(Ctx(t, 5*time.Second))
		Differential(t, sk, rs, proto, multiSteps)
	}
}

// TestWatchRace has several clients increment one counter with the
// WATCH/GET/MULTI/SET/EXEC pattern: every committed transaction counts,
// and a failed EXEC (nil) never writes.
func TestWatchRace(t *testing.T) {
	n := StartNode(t, Options{})
	ctx := Ctx(t, 60*time.Second)
	const clients, perClient = 8, 40
	var committed, aborted atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		c := n.NewClient(t, 2+i%2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < perClient; {
				err := c.Watch(ctx, func(tx *redis.Tx) error {
					v, err := tx.Get(ctx, "counter").Int()
					if err != nil && err != redis.Nil {
						return err
					}
					_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.Set(ctx, "counter", v+1, 0)
						return nil
					})
					return err
				}, "counter")
				switch {
				case err == nil:
					committed.Add(1)
					done++
				case errors.Is(err, redis.TxFailedErr):
					aborted.Add(1)
				default:
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got, err := n.Client().Get(ctx, "counter").Int64()
	if err != nil {
		t.Fatal(err)
	}
	if got != clients*perClient || committed.Load() != clients*perClient {
		t.Fatalf("counter %d, committed %d, want %d", got, committed.Load(), clients*perClient)
	}
	t.Logf("%d commits, %d aborted EXECs (WATCH conflicts)", committed.Load(), aborted.Load())
	if aborted.Load() == 0 {
		t.Log("no WATCH conflict happened in this run")
	}
}

// TestWatchTwoClients is the deterministic two-client race: a write from
// another connection between WATCH and EXEC makes EXEC return nil; expiry
// and FLUSHALL count as writes.
func TestWatchTwoClients(t *testing.T) {
	n := StartNode(t, Options{})
	a, b := DialRaw(t, n.Addr()), DialRaw(t, n.Addr())
	must := func(r *Raw, want string, args ...string) {
		t.Helper()
		got, err := r.Do(args...)
		if err != nil || got != want {
			t.Fatalf("%q: got %q (%v), want %q", args, got, err, want)
		}
	}
	must(a, "+OK\r\n", "SET", "k", "1")
	must(a, "+OK\r\n", "WATCH", "k")
	must(b, "+OK\r\n", "SET", "k", "2")
	must(a, "+OK\r\n", "MULTI")
	must(a, "+QUEUED\r\n", "SET", "k", "3")
	must(a, "*-1\r\n", "EXEC")
	must(b, "$1\r\n2\r\n", "GET", "k")
	// expiry of a watched key
	must(a, "+OK\r\n", "SET", "e", "1", "PX", "50")
	must(a, "+OK\r\n", "WATCH", "e")
	Eventually(t, 5*time.Second, "key expired", func() bool {
		got, _ := b.Do("PTTL", "e")
		return got == ":-2\r\n"
	})
	must(a, "+OK\r\n", "MULTI")
	must(a, "+QUEUED\r\n", "SET", "e", "2")
	must(a, "*-1\r\n", "EXEC")
	// FLUSHALL
	must(a, "+OK\r\n", "SET", "f", "1")
	must(a, "+OK\r\n", "WATCH", "f")
	must(b, "+OK\r\n", "FLUSHALL")
	must(a, "+OK\r\n", "MULTI")
	must(a, "+QUEUED\r\n", "PING")
	must(a, "*-1\r\n", "EXEC")
	// untouched: runs
	must(a, "+OK\r\n", "WATCH", "f")
	must(b, "+OK\r\n", "SET", "other", "x")
	must(a, "+OK\r\n", "MULTI")
	must(a, "+QUEUED\r\n", "SET", "f", "9")
	must(a, "*1\r\n+OK\r\n", "EXEC")
}

// TestExecAbortVsRuntimeError: a queue-time error discards everything; a
// runtime error fails one command and the others still run.
func TestExecAbortVsRuntimeError(t *testing.T) {
	n := StartNode(t, Options{})
	ctx := Ctx(t, 10*time.Second)
	c := n.NewClient(t, 3)
	c.Set(ctx, "list", "not a list", 0)
	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "x", "1", 0)
		p.LPush(ctx, "list", "a") // WRONGTYPE at run time
		p.Incr(ctx, "x")
		return nil
	})
	if err == nil || len(cmds) != 3 {
		t.Fatalf("want the WRONGTYPE error reported, got %v", err)
	}
	if cmds[1].Err() == nil || cmds[0].Err() != nil || cmds[2].Err() != nil {
		t.Fatalf("per-command errors: %v %v %v", cmds[0].Err(), cmds[1].Err(), cmds[2].Err())
	}
	if v, _ := c.Get(ctx, "x").Result(); v != "2" {
		t.Fatalf("x=%q, the commands around the runtime error must have run", v)
	}
	_, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "y", "1", 0)
		p.Do(ctx, "set", "y") // wrong arity: queue-time error
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "EXECABORT") {
		t.Fatalf("want EXECABORT, got %v", err)
	}
	if n, _ := c.Exists(ctx, "y").Result(); n != 0 {
		t.Fatal("aborted transaction wrote")
	}
}

// TestExecAtomicAcrossSlots: transactions move units between keys of two
// slots while readers sum them with MGET; the sum never changes.
func TestExecAtomicAcrossSlots(t *testing.T) {
	n := StartNode(t, Options{})
	ctx := Ctx(t, 60*time.Second)
	c := n.Client()
	c.MSet(ctx, "acct:a", 1000, "acct:b", 0)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		cl := n.NewClient(t, 2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				_, err := cl.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.DecrBy(ctx, "acct:a", 2)
					p.IncrBy(ctx, "acct:b", 2)
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var bad atomic.Int64
	var rwg sync.WaitGroup
	rwg.Add(1)
	go func() {
		defer rwg.Done()
		rc := n.NewClient(t, 2)
		for {
			select {
			case <-stop:
				return
			default:
			}
			vs, err := rc.MGet(ctx, "acct:a", "acct:b").Result()
			if err != nil {
				t.Error(err)
				return
			}
			x, _ := strconv.Atoi(vs[0].(string))
			y, _ := strconv.Atoi(vs[1].(string))
			if x+y != 1000 {
				bad.Add(1)
			}
		}
	}()
	wg.Wait()
	close(stop)
	rwg.Wait()
	if bad.Load() > 0 {
		t.Fatalf("%d reads saw a half-applied transaction", bad.Load())
	}
	if v, _ := c.Get(ctx, "acct:b").Int(); v != 800 {
		t.Fatalf("acct:b=%d want 800", v)
	}
}
