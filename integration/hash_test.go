package integration

// Hash commands: differential tests against redis-server 7 (byte-exact,
// RESP2 and RESP3), go-redis tables, redis-cli rendering, HSCAN over a
// hashtable under churn and HRANDFIELD properties.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func hashSteps(p string) []Step {
	k := func(n string) string { return p + n }
	long := strings.Repeat("v", 65)
	steps := []Step{
		// HSET / HMSET / HSETNX / HGET / HMGET
		S("HSET", k("h"), "a", "1", "b", "2", "c", "3"), S("HSET", k("h"), "a", "1", "b"), S("HSET", k("h")), S("HMSET", k("h"), "x", "1"),
		S("HMSET", k("h"), "x"), S("HSET", k("h"), "a", "10"), S("HGET", k("h"), "a"), S("HGET", k("h"), "zz"), S("HGET", k("none"), "a"),
		S("HMGET", k("h"), "a", "zz", "b"), S("HMGET", k("none"), "a", "b"), S("HMGET", k("h")),
		S("HSETNX", k("h"), "a", "5"), S("HSETNX", k("h"), "q", "5"), S("HSETNX", k("new"), "f", "v"), S("HGETALL", k("new")),
		// HLEN / HEXISTS / HSTRLEN / HKEYS / HVALS / HGETALL (listpack: insertion order)
		S("HLEN", k("h")), S("HLEN", k("none")), S("HEXISTS", k("h"), "a"), S("HEXISTS", k("h"), "nope"), S("HEXISTS", k("none"), "a"),
		S("HSTRLEN", k("h"), "a"), S("HSTRLEN", k("h"), "nope"), S("HSTRLEN", k("none"), "a"),
		S("HGETALL", k("h")), S("HKEYS", k("h")), S("HVALS", k("h")), S("HGETALL", k("none")), S("HKEYS", k("none")), S("HVALS", k("none")),
		// HDEL
		S("HDEL", k("h"), "a", "zz"), S("HDEL", k("h"), "a"), S("HDEL", k("none"), "a"), S("HGETALL", k("h")),
		S("HSET", k("d"), "f", "v"), S("HDEL", k("d"), "f", "f"), S("EXISTS", k("d")),
		// HINCRBY
		S("HINCRBY", k("h"), "b", "10"), S("HINCRBY", k("h"), "b", "x"), S("HINCRBY", k("h"), "b", "9223372036854775807"),
		S("HINCRBY", k("h"), "n", "-5"), S("HINCRBY", k("h"), "n", "-9223372036854775808"), S("HSET", k("h"), "s", "abc"),
		S("HINCRBY", k("h"), "s", "1"), S("HSET", k("h"), "s2", " 1"), S("HINCRBY", k("h"), "s2", "1"), S("HINCRBY", k("h"), "b", "1.5"),
		S("HINCRBY", k("h"), "b", "01"), S("HINCRBY", k("none2"), "f", "7"), S("HGETALL", k("none2")),
		// HINCRBYFLOAT: long double arithmetic, %.17Lf formatting
		S("HINCRBYFLOAT", k("h"), "s", "1"), S("HINCRBYFLOAT", k("h"), "b", "1.5"), S("HINCRBYFLOAT", k("h"), "b", "0.1"),
		S("HINCRBYFLOAT", k("h"), "f", "3.0e3"), S("HINCRBYFLOAT", k("h"), "f", "abc"), S("HINCRBYFLOAT", k("h"), "f", "inf"),
		S("HINCRBYFLOAT", k("h"), "f", "-inf"), S("HINCRBYFLOAT", k("h"), "f", "nan"), S("HINCRBYFLOAT", k("h"), "f", "1e5000"),
		S("HINCRBYFLOAT", k("h"), "f", "0x10"), S("HINCRBYFLOAT", k("h"), "g", "0.1"), S("HINCRBYFLOAT", k("h"), "g", "0.2"),
		S("HINCRBYFLOAT", k("h"), "g", "-0.3"), S("HINCRBYFLOAT", k("hf"), "big", "1e308"), S("HINCRBYFLOAT", k("hf"), "big", "1e308"),
		S("HINCRBYFLOAT", k("hf"), "small", "1e-300"), U("HGETALL", k("hf")), S("OBJECT", "ENCODING", k("hf")),
		S("HSET", k("h"), "fi", "inf"), S("HINCRBYFLOAT", k("h"), "fi", "1"), S("HINCRBYFLOAT", k("h"), "b", " 1"),
		S("HGETALL", k("h")), S("OBJECT", "ENCODING", k("h")),
		// HRANDFIELD: deterministic shapes (count >= size: whole listpack in order)
		S("HRANDFIELD", k("none")), S("HRANDFIELD", k("none"), "5"), S("HRANDFIELD", k("none"), "-5", "WITHVALUES"),
		S("HRANDFIELD", k("h"), "0"), S("HRANDFIELD", k("h"), "100"), S("HRANDFIELD", k("h"), "100", "withvalues"),
		S("HRANDFIELD", k("h"), "1", "WITHVALUES", "x"), S("HRANDFIELD", k("h"), "x"), S("HRANDFIELD", k("h"), "1", "WITHVALUE"),
		S("HRANDFIELD", k("h"), "-9223372036854775808"), S("HRANDFIELD", k("h"), "-9223372036854775807", "withvalues"),
		S("HRANDFIELD", k("h"), "4611686018427387904", "withvalues"), S("HSET", k("one"), "f", "v"), S("HRANDFIELD", k("one")),
		S("HRANDFIELD", k("one"), "-3"), S("HRANDFIELD", k("one"), "-2", "WITHVALUES"), S("HRANDFIELD", k("one"), "1", "WITHVALUES"),
		// HSCAN on a listpack: everything, cursor 0
		S("HSCAN", k("h"), "0"), S("HSCAN", k("h"), "0", "MATCH", "b*"), S("HSCAN", k("h"), "0", "COUNT", "0"), S("HSCAN", k("h"), "0", "COUNT", "x"),
		S("HSCAN", k("h"), "x"), S("HSCAN", k("h"), "0", "MATCH"), S("HSCAN", k("none"), "0", "FOO"), S("HSCAN", k("h"), "0", "MATCH", "*", "COUNT", "1"),
		S("HSCAN", k("h"), "0", "TYPE", "string"), S("HSCAN", k("h"), "-1"), S("HSCAN", k("h"), "18446744073709551616"), S("HSCAN", k("h"), "123"),
		// encodings
		S("HSET", k("e1"), "f", strings.Repeat("x", 64)), S("OBJECT", "ENCODING", k("e1")),
		S("HSET", k("e2"), "f", long), S("OBJECT", "ENCODING", k("e2")), S("HSET", k("e3"), long, "v"), S("OBJECT", "ENCODING", k("e3")),
		S("HSET", k("e4"), "f", "1"), S("HINCRBYFLOAT", k("e4"), "f", "1e100"), S("OBJECT", "ENCODING", k("e4")),
		S("HSETNX", k("e5"), "f", long), S("OBJECT", "ENCODING", k("e5")), S("HDEL", k("e2"), "f"), S("HSET", k("e2"), "a", "b"),
		S("OBJECT", "ENCODING", k("e2")), S("TYPE", k("e2")),
		// WRONGTYPE
		S("SET", k("str"), "v"),
	}
	for _, c := range [][]string{
		{"HSET", k("str"), "a", "b"}, {"HMSET", k("str"), "a", "b"}, {"HSETNX", k("str"), "a", "b"}, {"HGET", k("str"), "a"},
		{"HMGET", k("str"), "a"}, {"HDEL", k("str"), "a"}, {"HLEN", k("str")}, {"HSTRLEN", k("str"), "a"}, {"HEXISTS", k("str"), "a"},
		{"HINCRBY", k("str"), "a", "1"}, {"HINCRBYFLOAT", k("str"), "a", "1"}, {"HKEYS", k("str")}, {"HVALS", k("str")},
		{"HGETALL", k("str")}, {"HRANDFIELD", k("str")}, {"HRANDFIELD", k("str"), "0"}, {"HSCAN", k("str"), "0"},
		{"HINCRBY", k("str"), "a", "x"}, {"HSCAN", k("str"), "x"}, {"HRANDFIELD", k("str"), "x"},
	} {
		steps = append(steps, S(c...))
	}
	// A hashtable-encoded hash: replies whose order Redis does not promise
	// are compared sorted.
	big := []string{"HSET", k("big")}
	for i := 0; i < 600; i++ {
		big = append(big, fmt.Sprint("field:", i), fmt.Sprint(i*7))
	}
	steps = append(steps, S(big...), S("OBJECT", "ENCODING", k("big")), S("HLEN", k("big")), U("HKEYS", k("big")), U("HVALS", k("big")),
		U("HGETALL", k("big")), S("HGET", k("big"), "field:77"), S("HINCRBY", k("big"), "field:77", "1"), S("HDEL", k("big"), "field:1", "field:2"),
		S("HLEN", k("big")), U("HRANDFIELD", k("big"), "1000"), S("HRANDFIELD", k("big"), "0"), S("HEXISTS", k("big"), "field:599"))
	return steps
}

func TestHashDifferential(t *testing.T) {
	s, r := DiffPair(t)
	diffProtos(t, s, r, hashSteps)
}

// TestHashGoRedis drives the family with go-redis (RESP2 and RESP3).
func TestHashGoRedis(t *testing.T) {
	n := StartNode(t, Options{})
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := n.NewClient(t, proto)
			ctx := Ctx(t, 30*time.Second)
			p := fmt.Sprintf("gh%d:", proto)
			if n, err := rdb.HSet(ctx, p+"user", "name", "ann", "age", "33", "city", "x").Result(); err != nil || n != 3 {
				t.Fatalf("HSET = %d, %v", n, err)
			}
			if v := rdb.HGet(ctx, p+"user", "name").Val(); v != "ann" {
				t.Fatalf("HGET = %q", v)
			}
			if err := rdb.HGet(ctx, p+"user", "nope").Err(); err != redis.Nil {
				t.Fatalf("HGET missing field: %v", err)
			}
			all, err := rdb.HGetAll(ctx, p+"user").Result()
			if err != nil || len(all) != 3 || all["age"] != "33" {
				t.Fatalf("HGETALL = %v, %v", all, err)
			}
			vals, err := rdb.HMGet(ctx, p+"user", "name", "nope").Result()
			if err != nil || len(vals) != 2 || vals[0] != "ann" || vals[1] != nil {
				t.Fatalf("HMGET = %#v, %v", vals, err)
			}
			if v := rdb.HIncrBy(ctx, p+"user", "age", 2).Val(); v != 35 {
				t.Fatalf("HINCRBY = %d", v)
			}
			if v := rdb.HIncrByFloat(ctx, p+"user", "score", 1.25).Val(); v != 1.25 {
				t.Fatalf("HINCRBYFLOAT = %v", v)
			}
			if ok := rdb.HSetNX(ctx, p+"user", "name", "bob").Val(); ok {
				t.Fatal("HSETNX overwrote")
			}
			if ok := rdb.HExists(ctx, p+"user", "city").Val(); !ok {
				t.Fatal("HEXISTS")
			}
			if n := rdb.HDel(ctx, p+"user", "city", "nope").Val(); n != 1 {
				t.Fatalf("HDEL = %d", n)
			}
			if n := rdb.HLen(ctx, p+"user").Val(); n != 3 {
				t.Fatalf("HLEN = %d", n)
			}
			if keys := rdb.HKeys(ctx, p+"user").Val(); strings.Join(keys, ",") != "name,age,score" {
				t.Fatalf("HKEYS = %v", keys)
			}
			if vals := rdb.HVals(ctx, p+"user").Val(); strings.Join(vals, ",") != "ann,35,1.25" {
				t.Fatalf("HVALS = %v", vals)
			}
			if f, err := rdb.HRandField(ctx, p+"user", 2).Result(); err != nil || len(f) != 2 || f[0] == f[1] {
				t.Fatalf("HRANDFIELD 2 = %v, %v", f, err)
			}
			kv, err := rdb.HRandFieldWithValues(ctx, p+"user", -5).Result()
			if err != nil || len(kv) != 5 {
				t.Fatalf("HRANDFIELD -5 WITHVALUES = %v, %v", kv, err)
			}
			for _, e := range kv {
				if all2 := rdb.HGet(ctx, p+"user", e.Key).Val(); all2 != e.Value {
					t.Fatalf("HRANDFIELD pair %v does not match HGET %q", e, all2)
				}
			}
			keys, cur, err := rdb.HScan(ctx, p+"user", 0, "a*", 10).Result()
			if err != nil || cur != 0 || len(keys) != 2 || keys[0] != "age" || keys[1] != "35" {
				t.Fatalf("HSCAN = %v %d %v", keys, cur, err)
			}
			rdb.Set(ctx, p+"str", "x", 0)
			if err := rdb.HGet(ctx, p+"str", "a").Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
				t.Fatalf("HGET on a string: %v", err)
			}
			if err := rdb.HIncrBy(ctx, p+"user", "name", 1).Err(); err == nil || err.Error() != "ERR hash value is not an integer" {
				t.Fatalf("HINCRBY on text: %v", err)
			}
		})
	}
}

// TestHashScanFull iterates a large hash with HSCAN while fields are added
// and removed: every field present throughout must be returned.
func TestHashScanFull(t *testing.T) {
	n := StartNode(t, Options{})
	rdb := n.Client()
	ctx := Ctx(t, 60*time.Second)
	args := []interface{}{}
	for i := 0; i < 5000; i++ {
		args = append(args, fmt.Sprint("stable:", i), i)
	}
	if err := rdb.HSet(ctx, "scanh", args...).Err(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var cursor uint64
	for iter := 0; ; iter++ {
		keys, next, err := rdb.HScan(ctx, "scanh", cursor, "", 50).Result()
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(keys); i += 2 {
			seen[keys[i]] = true
		}
		// churn that resizes the table back and forth
		if iter%2 == 0 {
			extra := []interface{}{}
			for j := 0; j < 3000; j++ {
				extra = append(extra, fmt.Sprint("tmp:", j), "x")
			}
			rdb.HSet(ctx, "scanh", extra...)
		} else {
			del := []string{}
			for j := 0; j < 3000; j++ {
				del = append(del, fmt.Sprint("tmp:", j))
			}
			rdb.HDel(ctx, "scanh", del...)
		}
		cursor = next
		if cursor == 0 {
			break
		}
		if iter > 10000 {
			t.Fatal("HSCAN does not terminate")
		}
	}
	for i := 0; i < 5000; i++ {
		if !seen[fmt.Sprint("stable:", i)] {
			t.Fatalf("stable:%d never returned by HSCAN", i)
		}
	}
}

// TestHashRedisCLI compares redis-cli's rendering of hash replies.
func TestHashRedisCLI(t *testing.T) {
	s, r := DiffPair(t)
	script := [][]string{
		{"HSET", "cli:h", "a", "1", "b", "2"}, {"HGETALL", "cli:h"}, {"HMGET", "cli:h", "a", "x"}, {"HGET", "cli:h", "x"},
		{"HINCRBYFLOAT", "cli:h", "a", "0.5"}, {"HRANDFIELD", "cli:h", "5", "WITHVALUES"}, {"HSCAN", "cli:h", "0"},
		{"HKEYS", "cli:none"}, {"HINCRBY", "cli:h", "a", "1"}, {"HLEN", "cli:h"},
	}
	for _, args := range script {
		for _, proto := range []string{"-2", "-3"} {
			run := func(n *Node) string {
				out, _ := RedisCLI(t, append([]string{"-h", n.IP, "-p", fmt.Sprint(n.Port), proto}, args...)...)
				return out
			}
			if proto == "-3" && !supportsHello3(t, s) {
				continue
			}
			if got, want := run(s), run(r); got != want {
				t.Errorf("redis-cli %s %q:\n slotkv: %q\n  redis: %q", proto, args, got, want)
			}
		}
	}
}
