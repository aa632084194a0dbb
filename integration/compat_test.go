package integration

// Redis 7.0 compatibility checks, differential against redis-server 7.0.

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestCompatLFUKeptOnOverwrite: under an LFU policy a command that
// overwrites an existing key's value keeps the old object's LFU field
// (Redis 7.0 src/db.c dbOverwrite: "if (server.maxmemory_policy &
// MAXMEMORY_FLAG_LFU) val->lru = old->lru;"), while COPY REPLACE creates a
// new object (LFU_INIT_VAL). lfu-log-factor 0 makes every access increment
// the counter and lfu-decay-time 0 disables decay, so the counters are
// deterministic.
func TestCompatLFUKeptOnOverwrite(t *testing.T) {
	sk, rs := DiffPair(t)
	steps := lfuExact(
		S("SET", "k", "v"),
		S("GET", "k"), S("GET", "k"), S("GET", "k"),
		S("OBJECT", "FREQ", "k"),
		S("SET", "k", "v2"),
		S("OBJECT", "FREQ", "k"),
		S("SET", "k", "v3", "EX", "100"),
		S("OBJECT", "FREQ", "k"),
		S("APPEND", "k", "zz"),
		S("SETRANGE", "k", "1", "abc"),
		S("OBJECT", "FREQ", "k"),
		S("RPUSH", "l", "a"), S("LLEN", "l"), S("LLEN", "l"),
		S("SET", "l", "x"),
		S("OBJECT", "FREQ", "l"),
		S("SET", "{b}src", "abc"),
		S("SET", "{b}d", "x"), S("GET", "{b}d"), S("GET", "{b}d"),
		S("BITOP", "NOT", "{b}d", "{b}src"),
		S("OBJECT", "FREQ", "{b}d"),
		S("COPY", "{b}src", "{b}d", "REPLACE"),
		S("OBJECT", "FREQ", "{b}d"),
	)
	Differential(t, sk, rs, 2, steps)
}

// commandKeySpecs returns name -> key-specs part (COMMAND INFO element 8)
// of every command and subcommand the server knows.
func commandKeySpecs(t *testing.T, n *Node) map[string]string {
	t.Helper()
	res, err := n.Client().Do(Ctx(t, 10*time.Second), "COMMAND").Slice()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(list []interface{})
	walk = func(list []interface{}) {
		for _, c := range list {
			info, ok := c.([]interface{})
			if !ok || len(info) < 10 {
				continue
			}
			out[fmt.Sprint(info[0])] = fmt.Sprint(info[8])
			if subs, ok := info[9].([]interface{}); ok {
				walk(subs)
			}
		}
	}
	walk(res)
	return out
}

// TestCommandKeySpecsDifferential compares the key specifications of every
// command (and subcommand) both slotkv and redis-server 7.0 implement.
func TestCommandKeySpecsDifferential(t *testing.T) {
	sk, rs := DiffPair(t)
	a, b := commandKeySpecs(t, sk), commandKeySpecs(t, rs)
	names := make([]string, 0, len(a))
	for name := range a {
		if _, ok := b[name]; ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) < 100 {
		t.Fatalf("only %d common commands", len(names))
	}
	for _, name := range names {
		if a[name] != b[name] {
			t.Errorf("%s key specs:\n slotkv: %s\n  redis: %s", name, a[name], b[name])
		}
	}
}

// diffWithDump is Differential for steps that RESTORE a payload: a step
// "DUMP key" keeps each server's own payload (slotkv's encoding differs
// from Redis's, so that reply is not compared) and a "$DUMP" argument in
// later steps is replaced by the payload of the server it is sent to.
func diffWithDump(t *testing.T, slotkv, redisSrv *Node, steps []Step) {
	t.Helper()
	conns := []*Raw{DialRaw(t, slotkv.Addr()), DialRaw(t, redisSrv.Addr())}
	payload := make([]string, 2)
	for i, st := range steps {
		var got [2]string
		for n, r := range conns {
			args := append([]string(nil), st.Args...)
			for j, a := range args {
				if a == "$DUMP" {
					args[j] = payload[n]
				}
			}
			rep, err := r.Do(args...)
			if err != nil {
				t.Fatalf("step %d %q: io error on server %d: %v", i, st.Args, n, err)
			}
			got[n] = rep
		}
		if len(st.Args) > 0 && st.Args[0] == "DUMP" {
			for n, rep := range got {
				nl := strings.Index(rep, "\r\n")
				if !strings.HasPrefix(rep, "$") || nl < 0 || len(rep) < nl+4 {
					t.Fatalf("step %d DUMP on server %d: %q", i, n, rep)
				}
				payload[n] = rep[nl+2 : len(rep)-2]
			}
			continue
		}
		if got[0] != got[1] {
			t.Errorf("step %d %q:\n slotkv: %q\n  redis: %q", i, st.Args, got[0], got[1])
		}
	}
}

// TestCompatRestoreFreqIdletime: RESTORE creates a new object (dbAdd), so
// it starts with LFU_INIT_VAL (5) under an LFU policy and an access time of
// now otherwise, then objectSetLRUOrLFU (Redis 7.0 src/object.c, called by
// src/cluster.c restoreCommand) applies FREQ only under an LFU policy and
// IDLETIME only under any other policy; RESTORE-ASKING (what MIGRATE sends,
// without FREQ or IDLETIME) behaves the same. lfu-log-factor 0 and
// lfu-decay-time 0 make the counters deterministic; idle times below
// LRU_CLOCK_MAX come back exactly, longer ones wrap in Redis's 24-bit clock.
func TestCompatRestoreFreqIdletime(t *testing.T) {
	sk, rs := DiffPair(t)
	const p = "$DUMP"
	steps := lfuExact(
		S("SET", "{r}src", "value"),
		S("GET", "{r}src"), S("GET", "{r}src"),
		S("OBJECT", "FREQ", "{r}src"),
		S("DUMP", "{r}src"),
		S("RESTORE", "{r}a", "0", p),
		S("OBJECT", "FREQ", "{r}a"),
		S("RESTORE", "{r}b", "0", p, "FREQ", "100"),
		S("OBJECT", "FREQ", "{r}b"),
		S("RESTORE", "{r}c", "0", p, "IDLETIME", "100"),
		S("OBJECT", "FREQ", "{r}c"),
		S("RESTORE", "{r}c", "0", p, "REPLACE", "FREQ", "0"),
		S("OBJECT", "FREQ", "{r}c"),
		S("GET", "{r}c"),
		S("OBJECT", "FREQ", "{r}c"),
		S("RESTORE", "{r}c", "0", p, "REPLACE"),
		S("OBJECT", "FREQ", "{r}c"),
		S("RESTORE", "{r}d", "100000", p, "FREQ", "255"),
		S("GET", "{r}d"),
		S("OBJECT", "FREQ", "{r}d"),
		S("RESTORE", "{r}e", "0", p, "FREQ", "3", "IDLETIME", "10"),
		S("RESTORE-ASKING", "{r}f", "0", p),
		S("OBJECT", "FREQ", "{r}f"),
		S("RESTORE-ASKING", "{r}g", "0", p, "FREQ", "9"),
		S("OBJECT", "FREQ", "{r}g"),
		S("OBJECT", "IDLETIME", "{r}g"),
		S("CONFIG", "SET", "maxmemory-policy", "volatile-lfu"),
		S("RESTORE", "{r}h", "0", p, "FREQ", "33"),
		S("OBJECT", "FREQ", "{r}h"),
		S("CONFIG", "SET", "maxmemory-policy", "allkeys-lru"),
		S("RESTORE", "{r}i", "0", p, "IDLETIME", "1000"),
		S("OBJECT", "IDLETIME", "{r}i"),
		S("RESTORE", "{r}j", "0", p, "FREQ", "7"),
		S("OBJECT", "IDLETIME", "{r}j"),
		S("OBJECT", "FREQ", "{r}j"),
		S("RESTORE", "{r}k", "0", p, "IDLETIME", "16777215"),
		S("OBJECT", "IDLETIME", "{r}k"),
		S("RESTORE", "{r}l", "0", p, "IDLETIME", "20000000"),
		S("OBJECT", "IDLETIME", "{r}l"),
		S("RESTORE", "{r}k", "0", p, "REPLACE"),
		S("OBJECT", "IDLETIME", "{r}k"),
		S("RESTORE-ASKING", "{r}m", "0", p, "IDLETIME", "777"),
		S("OBJECT", "IDLETIME", "{r}m"),
		S("CONFIG", "SET", "maxmemory-policy", "noeviction"),
		S("RESTORE", "{r}n", "0", p, "IDLETIME", "4242"),
		S("OBJECT", "IDLETIME", "{r}n"),
	)
	diffWithDump(t, sk, rs, steps)
}

// TestCompatLFUSetGetTouches: Redis counts every lookup of a key as an
// access. SET ... GET and GETSET read the key (getGenericCommand) and then
// look it up again for writing (Redis 7.0 src/t_string.c
// setGenericCommand's lookupKeyWrite; getsetCommand's setKey, src/db.c),
// and the overwrite keeps the LFU field, so the counter gains two (a wrong
// type stops after the first). Values are not small integers: those are
// Redis's shared objects, whose one counter all such keys share.
func TestCompatLFUSetGetTouches(t *testing.T) {
	sk, rs := DiffPair(t)
	steps := lfuExact(
		S("SET", "k", "v"),
		S("SET", "k", "v2", "GET"),
		S("OBJECT", "FREQ", "k"),
		S("GETSET", "k", "v3"),
		S("OBJECT", "FREQ", "k"),
		S("SET", "k", "v4"),
		S("OBJECT", "FREQ", "k"),
		S("SET", "k", "v5", "NX", "GET"),
		S("OBJECT", "FREQ", "k"),
		S("SET", "k", "v6", "XX", "GET", "EX", "100"),
		S("OBJECT", "FREQ", "k"),
		S("SET", "k", "v7", "KEEPTTL", "GET"),
		S("OBJECT", "FREQ", "k"),
		S("SETEX", "k", "100", "v8"),
		S("SETNX", "k", "v9"),
		S("GETEX", "k", "PERSIST"),
		S("OBJECT", "FREQ", "k"),
		S("SET", "new", "v", "GET"),
		S("OBJECT", "FREQ", "new"),
		S("GETSET", "new2", "v"),
		S("OBJECT", "FREQ", "new2"),
		S("RPUSH", "l", "a"),
		S("SET", "l", "v", "GET"),
		S("OBJECT", "FREQ", "l"),
		S("GETSET", "l", "v"),
		S("OBJECT", "FREQ", "l"),
	)
	Differential(t, sk, rs, 2, steps)
}

// TestCompatLFUStoreTouches: the *STORE commands write through setKey,
// whose lookupKeyWrite (Redis 7.0 src/db.c) touches an existing
// destination once before dbOverwrite keeps its LFU field: one more access
// than the sources' reads (a destination that is also a source counts
// twice); a new destination starts at LFU_INIT_VAL and an empty result
// deletes it. BITOP already did so (strStoreOwned).
func TestCompatLFUStoreTouches(t *testing.T) {
	sk, rs := DiffPair(t)
	steps := lfuExact(
		S("SADD", "{s}a", "x", "y", "z"),
		S("SADD", "{s}b", "y", "z", "w"),
		S("SADD", "{s}d", "q"),
		S("SUNIONSTORE", "{s}d", "{s}a", "{s}b"),
		S("OBJECT", "FREQ", "{s}d"),
		S("SINTERSTORE", "{s}d", "{s}a", "{s}b"),
		S("OBJECT", "FREQ", "{s}d"),
		S("SDIFFSTORE", "{s}d", "{s}a", "{s}b"),
		S("OBJECT", "FREQ", "{s}d"),
		S("SUNIONSTORE", "{s}d", "{s}d", "{s}a"),
		S("OBJECT", "FREQ", "{s}d"),
		S("SET", "{s}d", "str"),
		S("SUNIONSTORE", "{s}d", "{s}a", "{s}b"),
		S("OBJECT", "FREQ", "{s}d"),
		S("SUNIONSTORE", "{s}new", "{s}a", "{s}b"),
		S("OBJECT", "FREQ", "{s}new"),
		S("SINTERSTORE", "{s}d", "{s}a", "{s}none"),
		S("EXISTS", "{s}d"),
		S("OBJECT", "FREQ", "{s}a"),

		S("ZADD", "{z}a", "1", "x", "2", "y"),
		S("ZADD", "{z}b", "1", "y", "3", "w"),
		S("ZADD", "{z}d", "1", "q"),
		S("ZUNIONSTORE", "{z}d", "2", "{z}a", "{z}b"),
		S("OBJECT", "FREQ", "{z}d"),
		S("ZINTERSTORE", "{z}d", "2", "{z}a", "{z}b"),
		S("OBJECT", "FREQ", "{z}d"),
		S("ZDIFFSTORE", "{z}d", "2", "{z}a", "{z}b"),
		S("OBJECT", "FREQ", "{z}d"),
		S("ZRANGESTORE", "{z}d", "{z}a", "0", "-1"),
		S("OBJECT", "FREQ", "{z}d"),
		S("ZRANGESTORE", "{z}d", "{z}a", "1", "+inf", "BYSCORE"),
		S("OBJECT", "FREQ", "{z}d"),
		S("ZUNIONSTORE", "{z}d", "2", "{z}d", "{z}a"),
		S("OBJECT", "FREQ", "{z}d"),
		S("ZRANGESTORE", "{z}new", "{z}a", "0", "-1"),
		S("OBJECT", "FREQ", "{z}new"),
		S("ZRANGESTORE", "{z}d", "{z}a", "5", "10"),
		S("EXISTS", "{z}d"),
		S("OBJECT", "FREQ", "{z}a"),

		S("SET", "{b}s1", "abc"),
		S("SET", "{b}d", "xyz"),
		S("BITOP", "AND", "{b}d", "{b}s1", "{b}s1"),
		S("OBJECT", "FREQ", "{b}d"),
	)
	Differential(t, sk, rs, 2, steps)
}

// TestCompatMigrateLFUFresh: MIGRATE sends RESTORE (RESTORE-ASKING in a
// cluster) with the TTL, the payload and REPLACE only, no FREQ or IDLETIME
// (Redis 7.0 src/cluster.c migrateCommand), so the target's key is a new
// object with LFU_INIT_VAL whatever the source's counter was, also when
// REPLACE overwrites a much-used key.
func TestCompatMigrateLFUFresh(t *testing.T) {
	pairs := [][2]*Node{
		{StartNode(t, Options{}), StartNode(t, Options{})},
		{StartRedis(t, Options{}), StartRedis(t, Options{})},
	}
	var out [2][]string
	for n, p := range pairs {
		src, dst := DialRaw(t, p[0].Addr()), DialRaw(t, p[1].Addr())
		do := func(r *Raw, args ...string) {
			rep, err := r.Do(args...)
			if err != nil {
				t.Fatalf("server %d %q: %v", n, args, err)
			}
			if args[0] == "MIGRATE" {
				args = append([]string{"MIGRATE", "host", "port"}, args[3:]...)
			}
			out[n] = append(out[n], fmt.Sprintf("%q -> %q", args, rep))
		}
		for _, r := range []*Raw{src, dst} {
			do(r, "CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
			do(r, "CONFIG", "SET", "lfu-log-factor", "0")
			do(r, "CONFIG", "SET", "lfu-decay-time", "0")
		}
		do(src, "SET", "k", "value")
		do(src, "GET", "k")
		do(src, "GET", "k")
		do(src, "OBJECT", "FREQ", "k")
		do(src, "MIGRATE", p[1].IP, fmt.Sprint(p[1].Port), "k", "0", "5000", "COPY")
		do(dst, "OBJECT", "FREQ", "k")
		do(dst, "GET", "k")
		do(dst, "GET", "k")
		do(dst, "GET", "k")
		do(dst, "OBJECT", "FREQ", "k")
		do(src, "MIGRATE", p[1].IP, fmt.Sprint(p[1].Port), "k", "0", "5000", "REPLACE")
		do(dst, "OBJECT", "FREQ", "k")
		do(src, "EXISTS", "k")
	}
	for i := range out[0] {
		if i >= len(out[1]) || out[0][i] != out[1][i] {
			t.Errorf("step %d:\n slotkv: %s\n  redis: %s", i, out[0][i], out[1][i])
		}
	}
}

// TestCompatLFUAfterRestart: keys loaded from a snapshot at startup are new
// objects; under an LFU policy OBJECT FREQ shows LFU_INIT_VAL (Redis saves
// the counter, which is also 5 for a key never read since its SET), not a
// clock value misread as a counter.
func TestCompatLFUAfterRestart(t *testing.T) {
	args := []string{"--maxmemory-policy", "allkeys-lfu", "--save", "3600 1"}
	for _, n := range []*Node{StartNode(t, Options{Args: args}), StartRedis(t, Options{Args: args})} {
		ctx := Ctx(t, 30*time.Second)
		c := n.Client()
		if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.Save(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		n.Kill()
		n.Start()
		waitLoaded(t, n)
		if got, err := n.Client().Do(ctx, "OBJECT", "FREQ", "k").Int(); err != nil || got != 5 {
			t.Errorf("%s: OBJECT FREQ after a restart = %d, %v; want 5", n.Bin, got, err)
		}
	}
}

// lfuExact prefixes steps with an allkeys-lfu policy whose counter moves by
// exactly one per access (lfu-log-factor 0) and never decays
// (lfu-decay-time 0), so OBJECT FREQ is deterministic on both servers.
func lfuExact(steps ...Step) []Step {
	return append([]Step{
		S("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"),
		S("CONFIG", "SET", "lfu-log-factor", "0"),
		S("CONFIG", "SET", "lfu-decay-time", "0"),
	}, steps...)
}
