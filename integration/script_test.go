package integration

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// scriptSteps are compared byte for byte with redis-server 7.
var scriptSteps = []Step{
	S("EVAL", "return 1", "0"),
	S("EVAL", "return 1", "-1"),
	S("EVAL", "return 1", "2", "a"),
	S("EVAL", "return 1", "x"),
	S("EVAL", "return {1,2,3,nil,4}", "0"),
	S("EVAL", `return {1,2.7,"x",true,false,{ok="fine"}}`, "0"),
	S("EVAL", `return {err="My Error"}`, "0"),
	S("EVAL", `return redis.error_reply("My Error")`, "0"),
	S("EVAL", `return redis.error_reply("oops")`, "0"),
	S("EVAL", `return redis.status_reply("FINE")`, "0"),
	S("EVAL", "return nil", "0"), S("EVAL", "return false", "0"), S("EVAL", "return true", "0"),
	S("EVAL", "return 3.99", "0"), S("EVAL", "return -3.99", "0"), S("EVAL", "return 1e20", "0"),
	S("EVAL", "return x", "0"),
	S("EVAL", "x = 1", "0"),
	S("EVAL", "return (", "0"),
	S("EVAL", `return redis.call("nosuch")`, "0"),
	S("EVAL", `return redis.call("get")`, "0"),
	S("EVAL", `return redis.call("set","k","v","x")`, "0"),
	S("EVAL", `return redis.pcall("set","k","v","x")`, "0"),
	S("EVAL", `return redis.call("set",KEYS[1],ARGV[1])`, "1", "k", "v"),
	S("EVAL", `return redis.call("lpush",KEYS[1],"v")`, "1", "k"),
	S("EVAL", `local r = redis.pcall("lpush",KEYS[1],"v") return r.err`, "1", "k"),
	S("EVAL", `return {pcall(redis.call,"nosuch")}`, "0"),
	S("EVAL", `return redis.call("multi")`, "0"),
	S("EVAL", `return redis.call("get",{})`, "0"),
	S("EVAL", `return redis.call("set","f",0.1)`, "0"), S("GET", "f"),
	S("EVAL", `return redis.sha1hex("")`, "0"),
	S("EVAL", `error("boom")`, "0"),
	S("EVAL", `error({err="XX boom"})`, "0"),
	S("EVAL", "return KEYS[1]..ARGV[1]", "1", "a", "b"),
	S("EVAL", "return #KEYS..#ARGV", "1", "a", "b", "c"),
	S("EVAL", "return type(print)", "0"),
	S("EVAL", "string.foo = 1", "0"),
	S("EVAL", `return cjson.encode({1,2,{a="x"}})`, "0"),
	S("EVAL", `return cjson.decode('[1,2,"x"]')`, "0"),
	S("EVAL", "return bit.band(7,3)", "0"),
	S("EVAL", "return redis.REDIS_VERSION", "0"),
	S("EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"),
	S("SCRIPT", "LOAD", "return 'loaded'"),
	S("SCRIPT", "EXISTS", "9c5a1ea0fd4c4a2ab6b4b4a0b0a0a5a1d0a9b5f1", "ffffffffffffffffffffffffffffffffffffffff"),
	S("SCRIPT", "KILL"),
	S("SCRIPT", "FLUSH", "x"),
	S("SCRIPT", "FLUSH", "SYNC"),
	S("SCRIPT", "FOO"),
	S("SCRIPT", "HELP"),
	S("EVAL_RO", `return redis.call("set","k","v")`, "0"),
	S("EVAL_RO", `return redis.call("get","k")`, "0"),
	S("EVAL", `redis.setresp(3) return redis.call("get","nokey")`, "0"),
	S("EVAL", `return {double=1.5}`, "0"),
	S("EVAL", `redis.setresp(3) return true`, "0"),
	S("EVAL", `return redis.call("eval","return 1","0")`, "0"),
}

func TestScriptDifferential(t *testing.T) {
	sk, rs := DiffPair(t)
	for _, proto := range []int{2, 3} {
		sk.Client().FlushAll(Ctx(t, 5*time.Second))
		rs.Client().FlushAll(Ctx(t, 5*time.Second))
		Differential(t, sk, rs, proto, scriptSteps)
	}
}

// TestScriptKillAndBusy: a looping script makes other clients get -BUSY
// once it passes busy-reply-threshold; SCRIPT KILL ends it; a script that
// wrote is UNKILLABLE.
func TestScriptKillAndBusy(t *testing.T) {
	n := StartNode(t, Options{Args: []string{"--busy-reply-threshold", "200"}})
	ctx := Ctx(t, 60*time.Second)
	looper := n.NewClient(t, 2)
	other := DialRaw(t, n.Addr())
	done := make(chan error, 1)
	go func() {
		_, err := looper.Eval(ctx, "local i = 0 while true do i = i + 1 end", nil).Result()
		done <- err
	}()
	Eventually(t, 10*time.Second, "BUSY from another client", func() bool {
		got, _ := other.Do("GET", "x")
		return got == "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
	})
	if got, _ := other.Do("PING"); !strings.HasPrefix(got, "-BUSY") {
		t.Fatalf("PING while busy: %q", got)
	}
	if got, _ := other.Do("SCRIPT", "KILL"); got != "+OK\r\n" {
		t.Fatalf("SCRIPT KILL: %q", got)
	}
	select {
	case err := <-done:
		if err == nil || !strings.HasPrefix(err.Error(), "ERR Script killed by user with SCRIPT KILL... script: ") {
			t.Fatalf("killed script: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("script still running after SCRIPT KILL")
	}
	if got, _ := other.Do("PING"); got != "+PONG\r\n" {
		t.Fatalf("after kill: %q", got)
	}
	// a script that already wrote cannot be killed
	go func() {
		_, err := looper.Eval(ctx, "redis.call('set',KEYS[1],'1') local i = 0 while i < 2e7 do i = i + 1 end return 1", []string{"w"}).Result()
		done <- err
	}()
	Eventually(t, 10*time.Second, "BUSY", func() bool {
		got, _ := other.Do("GET", "x")
		return strings.HasPrefix(got, "-BUSY")
	})
	got, _ := other.Do("SCRIPT", "KILL")
	if !strings.HasPrefix(got, "-UNKILLABLE Sorry the script already executed write commands") {
		t.Fatalf("SCRIPT KILL on a writer: %q", got)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("writer script: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("writer script did not finish")
	}
	if got, _ := other.Do("SCRIPT", "KILL"); got != "-NOTBUSY No scripts in execution right now.\r\n" {
		t.Fatalf("%q", got)
	}
}

const (
	unlockScript = `if redis.call("get",KEYS[1]) == ARGV[1] then return redis.call("del",KEYS[1]) else return 0 end`
	renewScript  = `if redis.call("get",KEYS[1]) == ARGV[1] then return redis.call("pexpire",KEYS[1],ARGV[2]) else return 0 end`
	// Redisson's reentrant lock (RedissonLock.tryLockInnerAsync / unlockInnerAsync)
	hashLockScript = `if (redis.call('exists', KEYS[1]) == 0) then redis.call('hincrby', KEYS[1], ARGV[2], 1); redis.call('pexpire', KEYS[1], ARGV[1]); return nil; end; ` +
		`if (redis.call('hexists', KEYS[1], ARGV[2]) == 1) then redis.call('hincrby', KEYS[1], ARGV[2], 1); redis.call('pexpire', KEYS[1], ARGV[1]); return nil; end; ` +
		`return redis.call('pttl', KEYS[1]);`
	hashUnlockScript = `if (redis.call('hexists', KEYS[1], ARGV[3]) == 0) then return nil; end; ` +
		`local counter = redis.call('hincrby', KEYS[1], ARGV[3], -1); ` +
		`if (counter > 0) then redis.call('pexpire', KEYS[1], ARGV[2]); return 0; ` +
		`else redis.call('del', KEYS[1]); redis.call('publish', ARGV[1], ARGV[4]); return 1; end; return nil;`
)

// TestDistributedLock: 20 clients take and release one lock 1,000 times in
// total (SET NX PX + compare-and-delete Lua unlock); never two holders, and
// unlocking with someone else's token never deletes the lock.
func TestDistributedLock(t *testing.T) {
	n := StartNode(t, Options{})
	ctx := Ctx(t, 120*time.Second)
	unlock := redis.NewScript(unlockScript)
	renew := redis.NewScript(renewScript)
	const clients, each = 20, 50
	var holders, maxHolders, foreignDeletes atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		c := n.NewClient(t, 2+i%2)
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			for j := 0; j < each; j++ {
				token := fmt.Sprintf("c%d-%d", id, j)
				deadline := time.Now().Add(60 * time.Second)
				for {
					ok, err := c.SetNX(ctx, "lock:res", token, 10*time.Second).Result()
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						break
					}
					// not the owner: our unlock must not delete it
					if r, err := unlock.Run(ctx, c, []string{"lock:res"}, token).Int(); err != nil || r != 0 {
						foreignDeletes.Add(1)
					}
					if time.Now().After(deadline) {
						t.Error("could not take the lock within 60s")
						return
					}
					time.Sleep(200 * time.Microsecond)
				}
				h := holders.Add(1)
				for {
					m := maxHolders.Load()
					if h <= m || maxHolders.CompareAndSwap(m, h) {
						break
					}
				}
				if r, err := renew.Run(ctx, c, []string{"lock:res"}, token, 10000).Int(); err != nil || r != 1 {
					t.Errorf("renew by owner: %d %v", r, err)
				}
				holders.Add(-1)
				if r, err := unlock.Run(ctx, c, []string{"lock:res"}, token).Int(); err != nil || r != 1 {
					t.Errorf("owner unlock returned %d %v (lock lost or deleted by another client)", r, err)
				}
			}
		}(i)
	}
	wg.Wait()
	if maxHolders.Load() != 1 {
		t.Fatalf("max simultaneous holders %d", maxHolders.Load())
	}
	if foreignDeletes.Load() != 0 {
		t.Fatalf("%d unlocks by non-owners did not return 0", foreignDeletes.Load())
	}
}

// TestReentrantHashLock: the Redisson-style reentrant lock over a hash, taken
// twice and released twice per round, 20 clients, 1,000 rounds in total.
func TestReentrantHashLock(t *testing.T) {
	n := StartNode(t, Options{})
	ctx := Ctx(t, 120*time.Second)
	lock := redis.NewScript(hashLockScript)
	unlock := redis.NewScript(hashUnlockScript)
	const clients, each = 20, 50
	var holders, maxHolders, bad atomic.Int64
	var wg sync.WaitGroup
	sub := n.NewClient(t, 3).Subscribe(ctx, "redisson_lock__channel:{res}")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < clients; i++ {
		c := n.NewClient(t, 2+i%2)
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			for j := 0; j < each; j++ {
				owner := fmt.Sprintf("uuid-%d:%d", id, j)
				deadline := time.Now().Add(60 * time.Second)
				for {
					err := lock.Run(ctx, c, []string{"{res}"}, 30000, owner).Err()
					if errors.Is(err, redis.Nil) {
						break // acquired
					}
					if err != nil {
						t.Error(err)
						return
					}
					if time.Now().After(deadline) {
						t.Error("could not take the lock within 60s")
						return
					}
					time.Sleep(200 * time.Microsecond)
				}
				// reentrant acquisition
				if err := lock.Run(ctx, c, []string{"{res}"}, 30000, owner).Err(); !errors.Is(err, redis.Nil) {
					t.Errorf("re-entry: %v", err)
				}
				h := holders.Add(1)
				for {
					m := maxHolders.Load()
					if h <= m || maxHolders.CompareAndSwap(m, h) {
						break
					}
				}
				if v, err := c.HGet(ctx, "{res}", owner).Int(); err != nil || v != 2 {
					bad.Add(1)
				}
				holders.Add(-1)
				if r, err := unlock.Run(ctx, c, []string{"{res}", "redisson_lock__channel:{res}"}, "redisson_lock__channel:{res}", 30000, owner, 0).Int(); err != nil || r != 0 {
					t.Errorf("first unlock: %d %v", r, err)
				}
				if r, err := unlock.Run(ctx, c, []string{"{res}", "redisson_lock__channel:{res}"}, "redisson_lock__channel:{res}", 30000, owner, 0).Int(); err != nil || r != 1 {
					t.Errorf("last unlock: %d %v", r, err)
				}
				// a non-owner's unlock is a no-op (nil)
				if err := unlock.Run(ctx, c, []string{"{res}", "redisson_lock__channel:{res}"}, "redisson_lock__channel:{res}", 30000, "intruder", 0).Err(); !errors.Is(err, redis.Nil) {
					t.Errorf("intruder unlock: %v", err)
				}
			}
		}(i)
	}
	wg.Wait()
	if maxHolders.Load() != 1 || bad.Load() != 0 {
		t.Fatalf("max holders %d, bad hold counts %d", maxHolders.Load(), bad.Load())
	}
	// every release published an unlock message
	got := 0
	ch := sub.Channel()
	Eventually(t, 10*time.Second, "unlock messages", func() bool {
		for {
			select {
			case <-ch:
				got++
				continue
			default:
			}
			return got == clients*each
		}
	})
}

// TestScriptRedisCLI runs EVAL through redis-cli against slotkv and
// redis-server and compares the printed output.
func TestScriptRedisCLI(t *testing.T) {
	sk, rs := DiffPair(t)
	for _, args := range [][]string{
		{"EVAL", "return {1,'two',{3},false,{err='E x'}}", "0"},
		{"EVAL", "return redis.call('set', KEYS[1], ARGV[1])", "1", "cli", "v"},
		{"EVAL", "return redis.call('get', KEYS[1])", "1", "cli"},
		{"EVAL", "return redis.call('nosuch')", "0"},
		{"--no-raw", "EVAL", "return {1,'two',{3}}", "0"},
	} {
		var outs [2]string
		for i, n := range []*Node{sk, rs} {
			out, _ := RedisCLI(t, append([]string{"-h", n.IP, "-p", fmt.Sprint(n.Port)}, args...)...)
			outs[i] = out
		}
		if outs[0] != outs[1] {
			t.Errorf("redis-cli %q:\n slotkv: %q\n  redis: %q", args, outs[0], outs[1])
		}
	}
}

// TestClusterModeTxScriptDifferential compares EXEC, scripts and sharded
// pub/sub on a single-node cluster (all slots served) with redis-server in
// cluster mode: CROSSSLOT at EXEC, undeclared local keys allowed in
// scripts, non-local/cross-slot script commands refused.
func TestClusterModeTxScriptDifferential(t *testing.T) {
	sk := StartNode(t, Options{IP: "127.0.0.71", Cluster: true})
	rs := StartRedis(t, Options{IP: "127.0.0.72", Cluster: true})
	ctx := Ctx(t, 30*time.Second)
	for _, n := range []*Node{sk, rs} {
		if err := n.Client().ClusterAddSlotsRange(ctx, 0, 16383).Err(); err != nil {
			t.Fatal(err)
		}
	}
	Eventually(t, 15*time.Second, "cluster_state:ok on both", func() bool {
		a, _ := sk.Client().ClusterInfo(ctx).Result()
		b, _ := rs.Client().ClusterInfo(ctx).Result()
		return strings.Contains(a, "cluster_state:ok") && strings.Contains(b, "cluster_state:ok")
	})
	steps := []Step{
		S("EVAL", `return redis.call("set","a","1")`, "0"),
		S("EVAL", `redis.call("set","a","1") return redis.call("set","b","1")`, "0"),
		S("EVAL", `return redis.call("set","b","2")`, "1", "a"),
		S("EVAL", `return redis.call("mset","a","1","b","2")`, "0"),
		S("EVAL", `return redis.call("get","a")`, "2", "a", "b"),
		S("EVAL", `return redis.call("mget","{t}1","{t}2")`, "0"),
		U("EVAL", `return redis.call("keys","*")`, "0"),
		S("MULTI"), S("SET", "a", "1"), S("SET", "b", "1"), S("EXEC"),
		S("MULTI"), S("SET", "a", "1"), S("GET", "a"), S("EXEC"),
		S("MULTI"), S("MSET", "a", "1", "b", "1"), S("EXEC"),
		S("WATCH", "a", "b"),
		S("SSUBSCRIBE", "a", "b"),
		S("SPUBLISH", "a", "m"),
		S("PUBLISH", "a", "m"),
	}
	Differential(t, sk, rs, 2, steps)
}
