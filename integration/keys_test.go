package integration

// Generic key and expiry commands: differential tests against
// redis-server 7 (RESP2 and RESP3), go-redis table tests, SCAN guarantees
// across the 16384 slot dictionaries, and key positions in cluster mode.

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func keySteps(p string) []Step {
	k := func(n string) string { return p + n }
	return []Step{
		S("MSET", k("a"), "1", k("b"), "2", k("c"), "3", k("{t}x"), "1", k("{t}y"), "2"),
		S("DEL", k("a"), k("b"), k("none"), k("a")), S("EXISTS", k("a"), k("c"), k("c"), k("none")), S("UNLINK", k("c"), k("{t}x")),
		S("EXISTS", k("c")), S("TYPE", k("{t}y")), S("TYPE", k("none")), S("TOUCH", k("{t}y"), k("none"), k("{t}y")),
		S("DEL"), S("EXISTS"), S("TYPE"), S("TYPE", k("a"), k("b")),
		// EXPIRE family with NX/XX/GT/LT
		S("SET", k("k"), "v"), S("EXPIRE", k("k"), "100"), S("TTL", k("k")), S("EXPIRE", k("k"), "100", "NX"),
		S("EXPIRE", k("k"), "200", "XX"), S("TTL", k("k")), S("EXPIRE", k("k"), "50", "GT"), S("EXPIRE", k("k"), "500", "gt"),
		S("TTL", k("k")), S("EXPIRE", k("k"), "600", "LT"), S("EXPIRE", k("k"), "60", "LT"), S("TTL", k("k")),
		S("PERSIST", k("k")), S("TTL", k("k")), S("PERSIST", k("k")), S("EXPIRE", k("k"), "100", "XX"), S("EXPIRE", k("k"), "100", "GT"),
		S("EXPIRE", k("k"), "100", "LT"), S("TTL", k("k")), S("PERSIST", k("none")),
		S("EXPIRE", k("k"), "10", "FOO"), S("EXPIRE", k("k"), "10", "NX", "XX"), S("EXPIRE", k("k"), "10", "NX", "GT"),
		S("EXPIRE", k("k"), "10", "GT", "LT"), S("EXPIRE", k("k"), "a"), S("EXPIRE", k("k"), "a", "FOO"),
		S("EXPIRE", k("k"), "9223372036854775807"), S("EXPIRE", k("k"), "-9223372036854775808"),
		S("PEXPIRE", k("k"), "9223372036854775807"), S("EXPIREAT", k("k"), "9223372036854775807"),
		S("PEXPIREAT", k("k"), "9223372036854775807"), S("PEXPIRETIME", k("k")), S("PEXPIREAT", k("k"), "99999999999999"),
		S("PEXPIRETIME", k("k")), S("EXPIRETIME", k("k")), S("EXPIREAT", k("k"), "99999999999"), S("EXPIRETIME", k("k")),
		S("EXPIRE", k("none"), "10"), S("TTL", k("none")), S("PTTL", k("none")), S("EXPIRETIME", k("none")), S("PEXPIRETIME", k("none")),
		S("SET", k("p"), "v"), S("TTL", k("p")), S("PTTL", k("p")), S("EXPIRETIME", k("p")), S("PEXPIRETIME", k("p")),
		S("EXPIRE", k("p"), "-1"), S("EXISTS", k("p")), S("SET", k("p"), "v"), S("PEXPIREAT", k("p"), "1"), S("GET", k("p")),
		S("SET", k("p"), "v"), S("EXPIRE", k("p"), "0"), S("EXISTS", k("p")), S("SET", k("p"), "v"), S("EXPIRE", k("p"), "-5", "LT"),
		S("EXISTS", k("p")), S("SET", k("p"), "v"), S("EXPIRE", k("p"), "10", "EX"), S("EXPIRE", k("p"), "10"), S("EXPIRE", k("p")),
		// RENAME / RENAMENX
		S("SET", k("r"), "v"), S("EXPIRE", k("r"), "100"), S("RENAME", k("r"), k("r2")), S("EXISTS", k("r")), S("GET", k("r2")),
		S("TTL", k("r2")), S("RENAME", k("none"), k("x")), S("RENAME", k("r2"), k("r2")), S("RENAMENX", k("r2"), k("r2")),
		S("RENAMENX", k("none"), k("none")), S("RENAME", k("none"), k("none")), S("SET", k("r3"), "w"), S("RENAMENX", k("r2"), k("r3")),
		S("RENAME", k("r2"), k("r3")), S("GET", k("r3")), S("TTL", k("r3")), S("RENAMENX", k("r3"), k("r4")), S("GET", k("r4")),
		// COPY
		S("COPY", k("r4"), k("r5")), S("GET", k("r5")), S("TTL", k("r5")), S("COPY", k("r4"), k("r5")), S("COPY", k("r4"), k("r5"), "REPLACE"),
		S("COPY", k("none"), k("r6")), S("COPY", k("r4"), k("r4")), S("COPY", k("r4"), k("x"), "DB", "16"), S("COPY", k("r4"), k("x"), "DB", "a"),
		S("COPY", k("r4"), k("x"), "FOO"), S("COPY", k("r4"), k("x"), "DB"), S("COPY", k("r4"), k("x"), "DB", "0"),
		S("COPY", k("r4"), k("y"), "REPLACE", "DB", "0"), S("COPY", k("r4"), k("y"), "DB", "-1"), S("COPY", k("r4")),
		S("SET", k("cp"), "12"), S("COPY", k("cp"), k("cp2")), S("INCR", k("cp2")), S("GET", k("cp")), S("APPEND", k("cp2"), "x"), S("GET", k("cp")),
		// KEYS (order is not promised)
		U("KEYS", p+"*"), U("KEYS", p+"r*"), U("KEYS", p+"{t}?"), S("KEYS", p+"nomatch*"), U("KEYS", p+"[rx]*"), U("KEYS", p+"r\\4"),
		U("KEYS", p+"[^a-q]*"), S("KEYS"),
		// OBJECT
		S("OBJECT", "ENCODING", k("r4")), S("OBJECT", "ENCODING", k("none")), S("OBJECT", "REFCOUNT", k("none")),
		S("OBJECT", "IDLETIME", k("none")), S("OBJECT", "FREQ", k("none")), S("OBJECT", "FREQ", k("r4")), S("OBJECT", "HELP"),
		S("OBJECT", "help"), S("OBJECT", "FOO"), S("OBJECT", "FOO", "x"), S("OBJECT", "ENCODING"), S("OBJECT"), S("OBJECT", "ENCODING", "a", "b"),
		S("OBJECT", "HELP", "x"),
		// SCAN argument errors (results are compared as sets below)
		S("SCAN", "abc"), S("SCAN", "0", "COUNT", "0"), S("SCAN", "0", "COUNT", "a"), S("SCAN", "0", "FOO"), S("SCAN", "0", "MATCH"),
		S("SCAN", "+"), S("SCAN", " 0"), S("SCAN", "18446744073709551616"), S("SCAN", "1.5"), S("SCAN", "0", "COUNT", "-1"),
		S("SCAN", "0", "TYPE"), S("SCAN"), S("RANDOMKEY", "x"),
	}
}

func TestKeysDifferential(t *testing.T) {
	s, r := DiffPair(t)
	diffProtos(t, s, r, keySteps)
}

func TestKeysWrongTypeDifferential(t *testing.T) {
	s, r := DiffPair(t)
	if !hasCommand(t, s, "LPUSH", "probe:list", "x") {
		t.Skip("slotkv has no LPUSH yet")
	}
	diffProtos(t, s, r, func(p string) []Step {
		l := p + "list"
		return []Step{
			S("RPUSH", l, "a", "b", "c"), S("TYPE", l), S("EXPIRE", l, "100"), S("TTL", l), S("PERSIST", l),
			S("RENAME", l, p+"list2"), S("TYPE", p+"list2"), S("COPY", p+"list2", l), S("LRANGE", l, "0", "-1"),
			S("RPUSH", l, "d"), S("LRANGE", p+"list2", "0", "-1"), S("DEL", l, p+"list2"), S("EXISTS", l),
		}
	})
}

// scanAll iterates SCAN to the end and returns every key (with repeats).
func scanAll(t *testing.T, rdb *redis.Client, match string, count int64, typ string, between func()) []string {
	t.Helper()
	ctx := Ctx(t, 60*time.Second)
	var out []string
	var cursor uint64
	for calls := 0; ; calls++ {
		var keys []string
		var err error
		if typ != "" {
			keys, cursor, err = rdb.ScanType(ctx, cursor, match, count, typ).Result()
		} else {
			keys, cursor, err = rdb.Scan(ctx, cursor, match, count).Result()
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, keys...)
		if between != nil {
			between()
		}
		if cursor == 0 {
			return out
		}
		if calls > 200000 {
			t.Fatal("SCAN does not terminate")
		}
	}
}

func TestScan(t *testing.T) {
	n := StartNode(t, Options{})
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := n.NewClient(t, proto)
			ctx := Ctx(t, 60*time.Second)
			p := fmt.Sprintf("scan%d:", proto)
			want := map[string]bool{}
			pipe := rdb.Pipeline()
			for i := 0; i < 4000; i++ { // spread over slots
				k := fmt.Sprintf("%sk:%d", p, i)
				pipe.Set(ctx, k, "v", 0)
				want[k] = true
			}
			for i := 0; i < 3000; i++ { // one crowded slot
				k := fmt.Sprintf("{%s}:%d", p, i)
				pipe.Set(ctx, k, "v", 0)
				want[k] = true
			}
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			for _, count := range []int64{0, 1, 7, 100, 100000} {
				got := scanAll(t, rdb, p+"*", count, "", nil)
				got = append(got, scanAll(t, rdb, "{"+p+"}*", count, "", nil)...)
				seen := map[string]int{}
				for _, k := range got {
					seen[k]++
				}
				for k := range want {
					if seen[k] != 1 {
						t.Fatalf("COUNT %d: key %s returned %d times", count, k, seen[k])
					}
				}
				if len(seen) != len(want) {
					t.Fatalf("COUNT %d: %d distinct keys, want %d", count, len(seen), len(want))
				}
			}
			got := scanAll(t, rdb, p+"k:1*", 50, "", nil)
			if len(got) != 1111 {
				t.Fatalf("MATCH %sk:1* returned %d keys, want 1111", p, len(got))
			}
			if got := scanAll(t, rdb, p+"*", 1000, "string", nil); len(got) != 4000 {
				t.Fatalf("TYPE string returned %d keys", len(got))
			}
			if got := scanAll(t, rdb, "", 1000, "hash", nil); len(got) != 0 {
				t.Fatalf("TYPE hash returned %v", got[:1])
			}
			// Guarantee: a key present for the whole scan is returned, even
			// while other clients add and delete keys all over the keyspace.
			writer := n.NewClient(t, 2)
			i := 0
			churn := func() {
				pl := writer.Pipeline()
				for j := 0; j < 10; j++ {
					i++
					pl.Set(ctx, fmt.Sprintf("%snew:%d", p, i), "v", 0)
					pl.Set(ctx, fmt.Sprintf("{%s}:new%d", p, i), "v", 0)
					pl.Del(ctx, fmt.Sprintf("%snew:%d", p, i/2))
				}
				if _, err := pl.Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
			got = scanAll(t, rdb, "", 25, "", churn)
			seen := map[string]bool{}
			for _, k := range got {
				seen[k] = true
			}
			for k := range want {
				if !seen[k] {
					t.Fatalf("key %s existed during the whole scan but was not returned", k)
				}
			}
			// Expired keys are not returned.
			if err := rdb.Set(ctx, p+"gone", "v", time.Millisecond).Err(); err != nil {
				t.Fatal(err)
			}
			Eventually(t, 2*time.Second, "key to expire", func() bool { return rdb.Exists(ctx, p+"gone").Val() == 0 })
			if got := scanAll(t, rdb, p+"gone", 1000, "", nil); len(got) != 0 {
				t.Fatalf("SCAN returned an expired key")
			}
		})
	}
}

// TestScanSmallKeyspaceOneCall checks that a small keyspace comes back in a
// single call with cursor 0, as redis-server does.
func TestScanSmallKeyspaceOneCall(t *testing.T) {
	s, r := DiffPair(t)
	for _, n := range []*Node{s, r} {
		rdb := n.NewClient(t, 2)
		ctx := Ctx(t, 10*time.Second)
		if err := rdb.MSet(ctx, "s:a", "1", "s:b", "2", "s:c", "3").Err(); err != nil {
			t.Fatal(err)
		}
		keys, cursor, err := rdb.Scan(ctx, 0, "", 10).Result()
		sort.Strings(keys)
		if err != nil || cursor != 0 || strings.Join(keys, ",") != "s:a,s:b,s:c" {
			t.Fatalf("%s: SCAN 0 = %v cursor %d, %v", n.Bin, keys, cursor, err)
		}
	}
}

func TestKeysGoRedis(t *testing.T) {
	n := StartNode(t, Options{})
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := n.NewClient(t, proto)
			ctx := Ctx(t, 30*time.Second)
			p := fmt.Sprintf("gk%d:", proto)
			if err := rdb.MSet(ctx, p+"a", "1", p+"b", "2", p+"c", "3").Err(); err != nil {
				t.Fatal(err)
			}
			if n := rdb.Exists(ctx, p+"a", p+"b", p+"none").Val(); n != 2 {
				t.Fatalf("EXISTS = %d", n)
			}
			if typ := rdb.Type(ctx, p+"a").Val(); typ != "string" {
				t.Fatalf("TYPE = %q", typ)
			}
			if typ := rdb.Type(ctx, p+"none").Val(); typ != "none" {
				t.Fatalf("TYPE missing = %q", typ)
			}
			if ok := rdb.Expire(ctx, p+"a", time.Minute).Val(); !ok {
				t.Fatal("EXPIRE returned false")
			}
			if ok := rdb.ExpireNX(ctx, p+"a", time.Hour).Val(); ok {
				t.Fatal("EXPIRE NX on a volatile key returned true")
			}
			if ok := rdb.ExpireGT(ctx, p+"a", time.Hour).Val(); !ok {
				t.Fatal("EXPIRE GT with a later time returned false")
			}
			if ttl := rdb.TTL(ctx, p+"a").Val(); ttl != time.Hour {
				t.Fatalf("TTL = %v", ttl)
			}
			if ok := rdb.ExpireLT(ctx, p+"a", 2*time.Hour).Val(); ok {
				t.Fatal("EXPIRE LT with a later time returned true")
			}
			if ok := rdb.ExpireXX(ctx, p+"b", time.Hour).Val(); ok {
				t.Fatal("EXPIRE XX on a persistent key returned true")
			}
			at := time.Now().Add(time.Hour).Truncate(time.Second)
			if err := rdb.ExpireAt(ctx, p+"b", at).Err(); err != nil {
				t.Fatal(err)
			}
			if et := rdb.ExpireTime(ctx, p+"b").Val(); et != time.Duration(at.Unix())*time.Second {
				t.Fatalf("EXPIRETIME = %v, want %v", et, at.Unix())
			}
			if pt := rdb.PExpireTime(ctx, p+"b").Val(); pt != time.Duration(at.UnixMilli())*time.Millisecond {
				t.Fatalf("PEXPIRETIME = %v", pt)
			}
			if ttl := rdb.PTTL(ctx, p+"b").Val(); ttl <= 59*time.Minute || ttl > time.Hour {
				t.Fatalf("PTTL = %v", ttl)
			}
			if ok := rdb.Persist(ctx, p+"b").Val(); !ok {
				t.Fatal("PERSIST returned false")
			}
			if ttl := rdb.TTL(ctx, p+"b").Val(); ttl != -1 {
				t.Fatalf("TTL after PERSIST = %v", ttl)
			}
			if ttl := rdb.TTL(ctx, p+"none").Val(); ttl != -2 {
				t.Fatalf("TTL of missing key = %v", ttl)
			}
			if err := rdb.Rename(ctx, p+"a", p+"a2").Err(); err != nil {
				t.Fatal(err)
			}
			if ttl := rdb.TTL(ctx, p+"a2").Val(); ttl <= 0 {
				t.Fatalf("RENAME lost the TTL: %v", ttl)
			}
			if err := rdb.Rename(ctx, p+"none", p+"x").Err(); err == nil || err.Error() != "ERR no such key" {
				t.Fatalf("RENAME missing: %v", err)
			}
			if ok := rdb.RenameNX(ctx, p+"a2", p+"b").Val(); ok {
				t.Fatal("RENAMENX onto an existing key returned true")
			}
			if n := rdb.Copy(ctx, p+"a2", p+"a3", 0, false).Val(); n != 1 {
				t.Fatalf("COPY = %d", n)
			}
			if n := rdb.Copy(ctx, p+"a2", p+"a3", 0, true).Val(); n != 1 {
				t.Fatalf("COPY REPLACE = %d", n)
			}
			if v := rdb.Get(ctx, p+"a3").Val(); v != "1" {
				t.Fatalf("GET copy = %q", v)
			}
			keys, err := rdb.Keys(ctx, p+"a*").Result()
			sort.Strings(keys)
			if err != nil || strings.Join(keys, ",") != p+"a2,"+p+"a3" {
				t.Fatalf("KEYS = %v, %v", keys, err)
			}
			if n := rdb.Touch(ctx, p+"a2", p+"none").Val(); n != 1 {
				t.Fatalf("TOUCH = %d", n)
			}
			if enc := rdb.ObjectEncoding(ctx, p+"a2").Val(); enc != "int" {
				t.Fatalf("OBJECT ENCODING = %q", enc)
			}
			if idle := rdb.ObjectIdleTime(ctx, p+"a2").Val(); idle < 0 || idle > 5*time.Second {
				t.Fatalf("OBJECT IDLETIME = %v", idle)
			}
			if rc := rdb.ObjectRefCount(ctx, p+"a2").Val(); rc != 2147483647 {
				t.Fatalf("OBJECT REFCOUNT of a shared integer = %d", rc)
			}
			if k, err := rdb.RandomKey(ctx).Result(); err != nil || k == "" {
				t.Fatalf("RANDOMKEY = %q, %v", k, err)
			}
			if n := rdb.Del(ctx, p+"a2", p+"a3", p+"b", p+"c", p+"none").Val(); n != 4 {
				t.Fatalf("DEL = %d", n)
			}
			if n := rdb.Unlink(ctx, p+"a2").Val(); n != 0 {
				t.Fatalf("UNLINK of deleted key = %d", n)
			}
		})
	}
}

// TestRandomkeyEmpty: RANDOMKEY on an empty keyspace is a nil reply.
func TestRandomkeyEmpty(t *testing.T) {
	s, r := DiffPair(t)
	diffProtos(t, s, r, func(p string) []Step { return []Step{S("RANDOMKEY"), S("KEYS", "*"), S("SCAN", "0")} })
}

// TestKeysConcurrentMultiSlot runs multi-key commands whose keys live in
// different slots from several connections at once (standalone mode locks
// all their slots), and checks the end state.
func TestKeysConcurrentMultiSlot(t *testing.T) {
	n := StartNode(t, Options{})
	ctx := Ctx(t, 60*time.Second)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		rdb := n.NewClient(t, 2)
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				a, b := fmt.Sprintf("mc:a%d", i%11), fmt.Sprintf("mc:b%d", (i+w)%7)
				rdb.MSet(ctx, a, "1", b, "2")
				rdb.Rename(ctx, a, b)
				rdb.Copy(ctx, b, a, 0, true)
				rdb.Incr(ctx, "mc:ctr")
				rdb.MGet(ctx, a, b)
				rdb.Del(ctx, a)
			}
		}(w)
	}
	wg.Wait()
	if v := n.Client().Get(ctx, "mc:ctr").Val(); v != "800" {
		t.Fatalf("counter = %s, want 800 (lost updates)", v)
	}
}

// TestKeysClusterKeyPositions checks, in cluster mode, that the key
// positions of the family are right: keys in different slots give
// CROSSSLOT, values and operation names are not taken for keys.
func TestKeysClusterKeyPositions(t *testing.T) {
	n := StartNode(t, Options{Cluster: true})
	r := DialRaw(t, n.Addr())
	const cross = "-CROSSSLOT Keys in request don't hash to the same slot\r\n"
	crossCmds := [][]string{
		{"MSET", "{a}1", "v", "{b}1", "v"}, {"MSETNX", "{a}1", "v", "{b}1", "v"}, {"MGET", "{a}1", "{b}1"},
		{"DEL", "{a}1", "{b}1"}, {"UNLINK", "{a}1", "{b}1"}, {"EXISTS", "{a}1", "{b}1"}, {"TOUCH", "{a}1", "{b}1"},
		{"RENAME", "{a}1", "{b}1"}, {"RENAMENX", "{a}1", "{b}1"}, {"COPY", "{a}1", "{b}1"}, {"LCS", "{a}1", "{b}1"},
		{"BITOP", "AND", "{a}d", "{a}1", "{b}1"}, {"BITOP", "NOT", "{a}d", "{b}1"},
	}
	for _, c := range crossCmds {
		if got, err := r.Do(c...); err != nil || got != cross {
			t.Errorf("%q = %q (%v), want CROSSSLOT", c, got, err)
		}
	}
	sameSlot := [][]string{
		{"MSET", "{a}1", "{b}value", "{a}2", "{c}value"}, {"MSETNX", "{a}1", "{b}v", "{a}2", "{c}v"},
		{"BITOP", "{b}AND", "{a}d", "{a}1"}, {"SET", "{a}1", "{b}v", "EX", "{c}10"}, {"GETEX", "{a}1", "EX", "{b}1"},
		{"COPY", "{a}1", "{a}2", "DB", "0"}, {"LCS", "{a}1", "{a}2", "{b}IDX"}, {"OBJECT", "ENCODING", "{a}1"},
	}
	for _, c := range sameSlot {
		if got, err := r.Do(c...); err != nil || got == cross {
			t.Errorf("%q = %q (%v): values or option names were taken for keys", c, got, err)
		}
	}
}
