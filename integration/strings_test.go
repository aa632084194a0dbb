package integration

// String, counter and bitmap commands: differential tests against
// redis-server 7 (byte-exact replies, RESP2 and RESP3), go-redis table
// tests (RESP2 and RESP3) and redis-cli output.

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// supportsHello3 reports whether n answers HELLO 3 (the connection family
// provides it); RESP3 sub-tests are skipped, not failed, without it.
func supportsHello3(t *testing.T, n *Node) bool {
	t.Helper()
	r, err := DialRaw(t, n.Addr()).Do("HELLO", "3")
	return err == nil && !strings.HasPrefix(r, "-")
}

// hasCommand reports whether slotkv implements name (used to include
// WRONGTYPE steps only once the other type families exist).
func hasCommand(t *testing.T, n *Node, args ...string) bool {
	t.Helper()
	r, err := DialRaw(t, n.Addr()).Do(args...)
	return err == nil && !strings.HasPrefix(r, "-ERR unknown command")
}

// diffProtos runs steps (built per protocol with a key prefix, as the
// servers are not flushed between runs) in RESP2 and RESP3.
func diffProtos(t *testing.T, s, r *Node, steps func(p string) []Step) {
	t.Helper()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			if proto == 3 && !supportsHello3(t, s) {
				t.Skip("slotkv does not answer HELLO 3 yet")
			}
			Differential(t, s, r, proto, steps(fmt.Sprintf("r%d:", proto)))
		})
	}
}

func stringSteps(p string) []Step {
	k := func(n string) string { return p + n }
	return []Step{
		// SET and its options
		S("SET", k("k"), "v"), S("GET", k("k")), S("GET", k("none")),
		S("SET", k("k"), "v2", "NX"), S("SET", k("k"), "v2", "XX"), S("SET", k("n"), "v", "XX"), S("EXISTS", k("n")),
		S("SET", k("k"), "v3", "GET"), S("SET", k("k2"), "x", "GET"), S("SET", k("k"), "v4", "NX", "GET"), S("SET", k("k9"), "v", "XX", "GET"),
		S("SET", k("k"), "v", "EX", "100"), S("TTL", k("k")), S("SET", k("k"), "v", "KEEPTTL"), S("TTL", k("k")),
		S("SET", k("k"), "v"), S("TTL", k("k")), S("SET", k("k"), "v", "PX", "100000"), S("TTL", k("k")),
		S("SET", k("k"), "v", "EXAT", "99999999999"), S("EXPIRETIME", k("k")),
		S("SET", k("k"), "v", "PXAT", "99999999999999"), S("PEXPIRETIME", k("k")),
		S("SET", k("k"), "v", "ex", "0"), S("SET", k("k"), "v", "EX", "-1"), S("SET", k("k"), "v", "EX", "a"),
		S("SET", k("k"), "v", "PX", "9223372036854775807"), S("SET", k("k"), "v", "EX", "9223372036854775"),
		S("SET", k("k"), "v", "EX"), S("SET", k("k"), "v", "NX", "XX"), S("SET", k("k"), "v", "KEEPTTL", "EX", "1"),
		S("SET", k("k"), "v", "EX", "1", "PX", "1"), S("SET", k("k"), "v", "FOO"), S("SET", k("k"), "v", "PERSIST"), S("SET", k("k")),
		// SETNX / SETEX / PSETEX / GETSET / GETDEL / GETEX
		S("SETNX", k("k"), "z"), S("SETNX", k("new"), "z"), S("GET", k("new")),
		S("SETEX", k("se"), "100", "v"), S("TTL", k("se")), S("SETEX", k("se"), "0", "v"), S("SETEX", k("se"), "a", "v"),
		S("PSETEX", k("pe"), "100000", "v"), S("TTL", k("pe")), S("PSETEX", k("pe"), "-5", "v"),
		S("GETSET", k("k"), "nv"), S("TTL", k("k")), S("GETSET", k("none2"), "nv"), S("GETDEL", k("k")), S("GETDEL", k("k")),
		S("SET", k("g"), "v"), S("GETEX", k("g")), S("GETEX", k("g"), "EX", "100"), S("TTL", k("g")), S("GETEX", k("g"), "PERSIST"),
		S("TTL", k("g")), S("GETEX", k("g"), "PX", "50000"), S("TTL", k("g")), S("GETEX", k("g"), "EXAT", "1"), S("EXISTS", k("g")),
		S("GETEX", k("none"), "EX", "-5"), S("SET", k("g"), "v"), S("GETEX", k("g"), "EX", "-5"), S("GETEX", k("g"), "EX"),
		S("GETEX", k("g"), "NX"), S("GETEX", k("g"), "PERSIST", "EX", "10"), S("GETEX", k("g"), "KEEPTTL"),
		// MSET / MGET / MSETNX
		S("MSET", k("a"), "1", k("b"), "2", k("c"), "3"), S("MGET", k("a"), k("b"), k("c"), k("none")),
		S("MSET", k("a")), S("MSET", k("a"), "1", k("b")), S("MSETNX", k("a"), "1", k("z"), "2"), S("EXISTS", k("z")),
		S("MSETNX", k("x1"), "1", k("x2"), "2"), S("MGET", k("x1"), k("x2")), S("MSETNX", k("x3")),
		// counters
		S("SET", k("i"), "10"), S("INCR", k("i")), S("DECR", k("i")), S("INCRBY", k("i"), "100"), S("DECRBY", k("i"), "50"),
		S("INCRBY", k("i"), "a"), S("INCR", k("new1")), S("DECR", k("new2")), S("INCRBY", k("i"), "9223372036854775807"),
		S("SET", k("i"), "9223372036854775807"), S("INCR", k("i")), S("SET", k("i"), "-9223372036854775808"), S("DECR", k("i")),
		S("DECRBY", k("i"), "-9223372036854775808"), S("INCRBY", k("i"), "-1"),
		S("SET", k("i"), "abc"), S("INCR", k("i")), S("SET", k("i"), " 1"), S("INCR", k("i")), S("SET", k("i"), "01"), S("INCR", k("i")),
		S("SET", k("i"), "-0"), S("INCR", k("i")), S("SET", k("i"), "12345678901234567890"), S("INCR", k("i")),
		S("SET", k("i"), "5"), S("EXPIRE", k("i"), "100"), S("INCR", k("i")), S("TTL", k("i")),
		// INCRBYFLOAT: long double arithmetic and %.17Lf formatting
		S("SET", k("f"), "10.5"), S("INCRBYFLOAT", k("f"), "0.1"), S("INCRBYFLOAT", k("f"), "-5"), S("INCRBYFLOAT", k("f"), "1e10"),
		S("INCRBYFLOAT", k("f"), "abc"), S("INCRBYFLOAT", k("f"), "inf"), S("INCRBYFLOAT", k("f"), "-inf"), S("INCRBYFLOAT", k("f"), "nan"),
		S("INCRBYFLOAT", k("nf"), "3.0e3"), S("INCRBYFLOAT", k("nf2"), "-0.0"), S("INCRBYFLOAT", k("nf3"), "1e300"),
		S("INCRBYFLOAT", k("nf4"), "0x10"), S("INCRBYFLOAT", k("nf4"), "1.1e-7"), S("INCRBYFLOAT", k("nf5"), "5.0000000000000000001"),
		S("INCRBYFLOAT", k("nf6"), "1.23456789012345678901234"), S("INCRBYFLOAT", k("nf7"), "-1e-30"), S("INCRBYFLOAT", k("nf8"), "1e-5"),
		S("SET", k("f"), "1"), S("INCRBYFLOAT", k("f"), "0.3"), S("INCRBYFLOAT", k("f"), "0.3"), S("INCRBYFLOAT", k("f"), "0.3"),
		S("INCRBYFLOAT", k("f"), "-1.9"), S("GET", k("f")), S("INCRBYFLOAT", k("f"), "1e5000"), S("INCRBYFLOAT", k("f"), " 1"),
		S("SET", k("f"), "1.7976931348623157e308"), S("INCRBYFLOAT", k("f"), "1.7976931348623157e308"), S("INCRBYFLOAT", k("f"), "1e4932"),
		S("SET", k("f"), "3"), S("EXPIRE", k("f"), "100"), S("INCRBYFLOAT", k("f"), "1.5"), S("TTL", k("f")),
		// APPEND / STRLEN / SETRANGE / GETRANGE / SUBSTR
		S("APPEND", k("ap"), "hello"), S("APPEND", k("ap"), " world"), S("GET", k("ap")), S("STRLEN", k("ap")), S("STRLEN", k("none")),
		S("SETRANGE", k("sr"), "5", "hi"), S("GET", k("sr")), S("SETRANGE", k("sr"), "0", "HE"), S("GET", k("sr")),
		S("SETRANGE", k("sr"), "-1", "x"), S("SETRANGE", k("sr"), "a", "x"), S("SETRANGE", k("none3"), "3", ""), S("EXISTS", k("none3")),
		S("SETRANGE", k("sr"), "100", ""), S("SETRANGE", k("sr"), "536870912", "x"),
		S("SET", k("gr"), "Hello World"), S("GETRANGE", k("gr"), "0", "4"), S("GETRANGE", k("gr"), "-5", "-1"), S("GETRANGE", k("gr"), "5", "2"),
		S("GETRANGE", k("gr"), "0", "100"), S("GETRANGE", k("gr"), "-100", "-50"), S("GETRANGE", k("gr"), "-1", "-5"),
		S("GETRANGE", k("none"), "0", "1"), S("GETRANGE", k("gr"), "a", "1"), S("SUBSTR", k("gr"), "0", "2"),
		S("SET", k("e"), ""), S("GETRANGE", k("e"), "0", "-1"), S("STRLEN", k("e")), S("GET", k("e")),
		// LCS
		S("SET", k("s1"), "ohmytext"), S("SET", k("s2"), "mynewtext"), S("LCS", k("s1"), k("s2")), S("LCS", k("s1"), k("s2"), "LEN"),
		S("LCS", k("s1"), k("s2"), "IDX"), S("LCS", k("s1"), k("s2"), "IDX", "MINMATCHLEN", "4"), S("LCS", k("s1"), k("s2"), "IDX", "WITHMATCHLEN"),
		S("LCS", k("s1"), k("s2"), "IDX", "MINMATCHLEN", "2", "WITHMATCHLEN"), S("LCS", k("s1"), k("none")),
		S("LCS", k("s1"), k("s2"), "LEN", "IDX"), S("LCS", k("s1"), k("s2"), "FOO"), S("LCS", k("s1"), k("s2"), "MINMATCHLEN", "a", "IDX"),
		S("LCS", k("s1"), k("s2"), "MINMATCHLEN"), S("LCS", k("s1"), k("s2"), "IDX", "MINMATCHLEN", "-3"),
		S("SET", k("s1"), "ABCBDAB"), S("SET", k("s2"), "BDCABA"), S("LCS", k("s1"), k("s2"), "IDX", "WITHMATCHLEN"),
		// OBJECT ENCODING / REFCOUNT of strings
		S("SET", k("o"), "123"), S("OBJECT", "ENCODING", k("o")), S("OBJECT", "REFCOUNT", k("o")),
		S("SET", k("o"), "12345678901234567890"), S("OBJECT", "ENCODING", k("o")), S("OBJECT", "REFCOUNT", k("o")),
		S("SET", k("o"), "1234567890123456789012"), S("OBJECT", "ENCODING", k("o")),
		S("SET", k("o"), strings.Repeat("x", 44)), S("OBJECT", "ENCODING", k("o")), S("SET", k("o"), strings.Repeat("x", 45)), S("OBJECT", "ENCODING", k("o")),
		S("APPEND", k("o2"), "12"), S("OBJECT", "ENCODING", k("o2")), S("APPEND", k("o2"), "3"), S("OBJECT", "ENCODING", k("o2")),
		S("INCRBYFLOAT", k("o3"), "5"), S("OBJECT", "ENCODING", k("o3")), S("INCR", k("o3")), S("OBJECT", "ENCODING", k("o3")),
		S("SETRANGE", k("o4"), "0", "12"), S("OBJECT", "ENCODING", k("o4")), S("SET", k("o5"), "-0"), S("OBJECT", "ENCODING", k("o5")),
		S("SET", k("o"), "100"), S("OBJECT", "REFCOUNT", k("o")), S("COPY", k("o"), k("oc")), S("OBJECT", "REFCOUNT", k("oc")), S("OBJECT", "ENCODING", k("oc")),
		S("SETBIT", k("o"), "0", "0"), S("OBJECT", "ENCODING", k("o")),
	}
}

func bitmapSteps(p string) []Step {
	k := func(n string) string { return p + n }
	return []Step{
		S("SETBIT", k("b"), "7", "1"), S("GET", k("b")), S("SETBIT", k("b"), "7", "0"), S("SETBIT", k("b"), "100", "1"),
		S("STRLEN", k("b")), S("GETBIT", k("b"), "100"), S("GETBIT", k("b"), "1000000"), S("GETBIT", k("none"), "5"),
		S("SETBIT", k("b"), "-1", "1"), S("SETBIT", k("b"), "a", "1"), S("SETBIT", k("b"), "1", "2"), S("SETBIT", k("b"), "1", "-1"),
		S("SETBIT", k("b"), "1", "a"), S("SETBIT", k("b"), "4294967296", "1"), S("GETBIT", k("b"), "4294967296"), S("GETBIT", k("b"), "a"),
		S("OBJECT", "ENCODING", k("b")), S("SET", k("n"), "12"), S("SETBIT", k("n"), "0", "1"), S("GET", k("n")),
		S("SET", k("n"), "12"), S("GETBIT", k("n"), "2"), S("GETBIT", k("n"), "3"),
		// BITCOUNT
		S("SET", k("bc"), "foobar"), S("BITCOUNT", k("bc")), S("BITCOUNT", k("bc"), "0", "0"), S("BITCOUNT", k("bc"), "1", "1"),
		S("BITCOUNT", k("bc"), "1", "1", "BYTE"), S("BITCOUNT", k("bc"), "5", "30", "BIT"), S("BITCOUNT", k("bc"), "-2", "-1"),
		S("BITCOUNT", k("bc"), "-1", "-2"), S("BITCOUNT", k("bc"), "0", "-1", "bit"), S("BITCOUNT", k("bc"), "a", "1"),
		S("BITCOUNT", k("bc"), "0"), S("BITCOUNT", k("bc"), "0", "1", "foo"), S("BITCOUNT", k("none")), S("BITCOUNT", k("none"), "a", "b"),
		S("BITCOUNT", k("bc"), "0", "1", "bit", "x"), S("BITCOUNT", k("bc"), "-100", "100"), S("BITCOUNT", k("bc"), "3", "100", "BIT"),
		S("BITCOUNT", k("bc"), "47", "47", "bit"), S("BITCOUNT", k("bc"), "2", "5", "bit"),
		// BITPOS
		S("SET", k("bp"), "\xff\xf0\x00"), S("BITPOS", k("bp"), "0"), S("BITPOS", k("bp"), "1"), S("BITPOS", k("bp"), "0", "1"),
		S("BITPOS", k("bp"), "1", "2"), S("BITPOS", k("bp"), "0", "0", "0"), S("BITPOS", k("bp"), "0", "0", "-1"), S("BITPOS", k("bp"), "1", "2", "-1"),
		S("BITPOS", k("bp"), "1", "7", "15", "bit"), S("BITPOS", k("bp"), "0", "7", "15", "bit"), S("BITPOS", k("bp"), "0", "3", "4", "bit"),
		S("BITPOS", k("bp"), "1", "12", "23", "bit"), S("BITPOS", k("bp"), "0", "0", "11", "bit"), S("BITPOS", k("bp"), "0", "5", "bit"),
		S("BITPOS", k("bp"), "2"), S("BITPOS", k("bp"), "a"), S("BITPOS", k("none"), "1"), S("BITPOS", k("none"), "0"),
		S("BITPOS", k("bp"), "1", "a"), S("BITPOS", k("bp"), "1", "0", "a"), S("BITPOS", k("bp"), "1", "0", "1", "foo"),
		S("BITPOS", k("bp"), "1", "0", "1", "bit", "x"),
		S("SET", k("ones"), "\xff\xff"), S("BITPOS", k("ones"), "0"), S("BITPOS", k("ones"), "0", "0", "-1"), S("BITPOS", k("ones"), "0", "1"),
		S("SET", k("z"), "\x00\x00"), S("BITPOS", k("z"), "1"), S("BITPOS", k("z"), "0", "1", "1"),
		S("SET", k("e"), ""), S("BITPOS", k("e"), "0"), S("BITPOS", k("e"), "1"), S("BITCOUNT", k("e")),
		S("BITPOS", k("ones"), "0", "3", "bit"), S("BITPOS", k("ones"), "1", "3", "bit"), S("BITPOS", k("z"), "1", "9", "bit"),
		S("BITPOS", k("bp"), "0", "8", "bit"), S("BITPOS", k("bp"), "0", "-5", "-1", "bit"), S("BITPOS", k("bp"), "1", "-50", "-1", "bit"),
		// BITOP
		S("SET", k("x1"), "foobar"), S("SET", k("x2"), "abcdefghij"), S("BITOP", "AND", k("dest"), k("x1"), k("x2")), S("GET", k("dest")),
		S("BITOP", "or", k("dest"), k("x1"), k("x2")), S("GET", k("dest")), S("BITOP", "XOR", k("dest"), k("x1"), k("x2"), k("none")),
		S("GET", k("dest")), S("BITOP", "NOT", k("dest"), k("x1")), S("GET", k("dest")), S("BITOP", "NOT", k("dest"), k("x1"), k("x2")),
		S("BITOP", "FOO", k("dest"), k("x1")), S("BITOP", "AND", k("dest"), k("none"), k("none2")), S("EXISTS", k("dest")),
		S("SET", k("dest"), "v"), S("EXPIRE", k("dest"), "100"), S("BITOP", "OR", k("dest"), k("x1")), S("TTL", k("dest")),
		S("OBJECT", "ENCODING", k("dest")), S("BITOP", "AND", k("dest2"), k("x1"), k("none")), S("GET", k("dest2")),
		// BITFIELD / BITFIELD_RO
		S("BITFIELD", k("bf"), "SET", "i8", "0", "100", "GET", "i8", "0", "INCRBY", "i8", "0", "100", "GET", "u4", "0"),
		S("BITFIELD", k("bf"), "OVERFLOW", "SAT", "INCRBY", "i8", "0", "100", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "100", "OVERFLOW", "WRAP", "INCRBY", "i8", "0", "100"),
		S("BITFIELD", k("bf"), "GET", "u63", "0", "GET", "i64", "0", "SET", "u2", "#3", "3", "GET", "u8", "0", "GET", "i5", "#1"),
		S("BITFIELD", k("bf"), "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "5", "INCRBY", "u2", "102", "-10"), S("GET", k("bf")),
		S("BITFIELD", k("bf"), "SET", "i64", "0", "-9223372036854775808", "INCRBY", "i64", "0", "-1", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1",
			"INCRBY", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "9223372036854775807"),
		S("BITFIELD", k("bf"), "OVERFLOW", "WRAP", "INCRBY", "i64", "0", "9223372036854775807", "INCRBY", "u63", "0", "-9223372036854775808",
			"OVERFLOW", "SAT", "INCRBY", "u63", "0", "-9223372036854775808", "SET", "u63", "0", "9223372036854775807", "INCRBY", "u63", "0", "1"),
		S("BITFIELD", k("bf"), "GET", "I8", "0"), S("BITFIELD", k("bf"), "GET", "u64", "0"), S("BITFIELD", k("bf"), "GET", "i65", "0"),
		S("BITFIELD", k("bf"), "GET", "i0", "0"), S("BITFIELD", k("bf"), "GET", "x8", "0"), S("BITFIELD", k("bf"), "GET", "i8", "-1"),
		S("BITFIELD", k("bf"), "GET", "i8", "#-1"), S("BITFIELD", k("bf"), "GET", "i8", "#"), S("BITFIELD", k("bf"), "GET", "i8"),
		S("BITFIELD", k("bf"), "FOO"), S("BITFIELD", k("bf"), "OVERFLOW", "FOO"), S("BITFIELD", k("bf"), "OVERFLOW"),
		S("BITFIELD", k("bf"), "SET", "i8", "0", "a"), S("BITFIELD", k("bf"), "INCRBY", "i8", "0"), S("BITFIELD", k("bf")),
		S("BITFIELD", k("none")), S("EXISTS", k("none")), S("BITFIELD", k("none"), "GET", "i8", "100"),
		S("BITFIELD_RO", k("bf"), "GET", "i8", "0", "GET", "u8", "8"), S("BITFIELD_RO", k("bf"), "SET", "i8", "0", "1"),
		S("BITFIELD_RO", k("bf"), "INCRBY", "i8", "0", "1", "GET", "i8", "0"), S("BITFIELD_RO", k("none"), "GET", "u1", "0"),
		S("BITFIELD", k("nk2"), "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "10"), S("GET", k("nk2")),
		S("BITFIELD", k("n"), "GET", "u8", "0", "SET", "u8", "0", "255"), S("GET", k("n")),
		S("BITFIELD", k("bf"), "SET", "i3", "1", "-4", "GET", "i3", "1", "SET", "u3", "1", "9", "GET", "u3", "1", "SET", "i3", "1", "4", "GET", "i3", "1"),
		S("BITFIELD", k("bf"), "SET", "u1", "#4294967296", "1"),
	}
}

// wrongTypeSteps uses a list (LPUSH) as the value of the wrong type.
func wrongTypeSteps(p string) []Step {
	l := p + "list"
	steps := []Step{S("LPUSH", l, "a")}
	for _, c := range [][]string{
		{"GET", l}, {"SET", l, "v", "GET"}, {"GETSET", l, "x"}, {"GETDEL", l}, {"GETEX", l}, {"GETEX", l, "PERSIST"},
		{"MGET", l, p + "none"}, {"INCR", l}, {"DECRBY", l, "1"}, {"INCRBYFLOAT", l, "1"}, {"APPEND", l, "x"}, {"STRLEN", l},
		{"SETRANGE", l, "0", "x"}, {"SETRANGE", l, "0", ""}, {"GETRANGE", l, "0", "1"}, {"LCS", l, p + "none"},
		{"SETBIT", l, "1", "1"}, {"GETBIT", l, "1"}, {"BITCOUNT", l}, {"BITPOS", l, "1"}, {"BITOP", "AND", p + "d", l},
		{"BITFIELD", l, "GET", "u8", "0"}, {"BITFIELD_RO", l, "GET", "u8", "0"}, {"BITFIELD", l, "SET", "u8", "0", "1"},
		{"TYPE", l}, {"OBJECT", "ENCODING", l}, {"SETNX", l, "x"}, {"MSETNX", l, "x"},
		{"BITOP", "OR", l, p + "none"}, {"TYPE", l},
	} {
		steps = append(steps, S(c...))
	}
	return append(steps, S("LPUSH", l, "a"), S("SET", l, "now a string"), S("GET", l), S("TYPE", l))
}

func TestStringsDifferential(t *testing.T) {
	s, r := DiffPair(t)
	diffProtos(t, s, r, stringSteps)
}

func TestBitmapsDifferential(t *testing.T) {
	s, r := DiffPair(t)
	diffProtos(t, s, r, bitmapSteps)
}

func TestStringsWrongTypeDifferential(t *testing.T) {
	s, r := DiffPair(t)
	if !hasCommand(t, s, "LPUSH", "probe:list", "x") {
		t.Skip("slotkv has no LPUSH yet: no value of another type to test WRONGTYPE with")
	}
	diffProtos(t, s, r, wrongTypeSteps)
}

// TestStringsGoRedis drives the family with go-redis in RESP2 and RESP3 and
// checks typed results.
func TestStringsGoRedis(t *testing.T) {
	n := StartNode(t, Options{})
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := n.NewClient(t, proto)
			ctx := Ctx(t, 30*time.Second)
			p := fmt.Sprintf("gr%d:", proto)
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(rdb.Set(ctx, p+"k", "v", 0).Err())
			if v, err := rdb.Get(ctx, p+"k").Result(); err != nil || v != "v" {
				t.Fatalf("GET = %q, %v", v, err)
			}
			if _, err := rdb.Get(ctx, p+"missing").Result(); err != redis.Nil {
				t.Fatalf("GET missing: err %v, want redis.Nil", err)
			}
			old, err := rdb.SetArgs(ctx, p+"k", "v2", redis.SetArgs{Get: true, TTL: 100 * time.Second}).Result()
			if err != nil || old != "v" {
				t.Fatalf("SET GET EX = %q, %v", old, err)
			}
			if ttl := rdb.TTL(ctx, p+"k").Val(); ttl < 99*time.Second || ttl > 100*time.Second {
				t.Fatalf("TTL after SET EX 100 = %v", ttl)
			}
			if ok := rdb.SetNX(ctx, p+"k", "x", 0).Val(); ok {
				t.Fatal("SETNX on an existing key succeeded")
			}
			if err := rdb.SetArgs(ctx, p+"k", "x", redis.SetArgs{Mode: "NX"}).Err(); err != redis.Nil {
				t.Fatalf("SET NX on existing key: %v, want redis.Nil", err)
			}
			must(rdb.SetArgs(ctx, p+"k", "v3", redis.SetArgs{KeepTTL: true}).Err())
			if ttl := rdb.TTL(ctx, p+"k").Val(); ttl <= 0 {
				t.Fatalf("KEEPTTL lost the TTL: %v", ttl)
			}
			if v := rdb.GetEx(ctx, p+"k", 0).Val(); v != "v3" {
				t.Fatalf("GETEX = %q", v)
			}
			if v := rdb.GetDel(ctx, p+"k").Val(); v != "v3" || rdb.Exists(ctx, p+"k").Val() != 0 {
				t.Fatalf("GETDEL = %q", v)
			}
			must(rdb.MSet(ctx, p+"a", "1", p+"b", "2").Err())
			vals, err := rdb.MGet(ctx, p+"a", p+"b", p+"missing").Result()
			if err != nil || len(vals) != 3 || vals[0] != "1" || vals[1] != "2" || vals[2] != nil {
				t.Fatalf("MGET = %#v, %v", vals, err)
			}
			if ok := rdb.MSetNX(ctx, p+"a", "x", p+"c", "y").Val(); ok {
				t.Fatal("MSETNX with an existing key succeeded")
			}
			if v := rdb.Incr(ctx, p+"ctr").Val(); v != 1 {
				t.Fatalf("INCR = %d", v)
			}
			if v := rdb.IncrBy(ctx, p+"ctr", 41).Val(); v != 42 {
				t.Fatalf("INCRBY = %d", v)
			}
			if v := rdb.DecrBy(ctx, p+"ctr", 2).Val(); v != 40 {
				t.Fatalf("DECRBY = %d", v)
			}
			if err := rdb.Incr(ctx, p+"a").Err(); err != nil {
				t.Fatal(err)
			}
			must(rdb.Set(ctx, p+"s", "abc", 0).Err())
			if err := rdb.Incr(ctx, p+"s").Err(); err == nil || err.Error() != "ERR value is not an integer or out of range" {
				t.Fatalf("INCR on text: %v", err)
			}
			if f := rdb.IncrByFloat(ctx, p+"fl", 10.5).Val(); f != 10.5 {
				t.Fatalf("INCRBYFLOAT = %v", f)
			}
			if f := rdb.IncrByFloat(ctx, p+"fl", 0.1).Val(); f != 10.6 {
				t.Fatalf("INCRBYFLOAT = %v", f)
			}
			if n := rdb.Append(ctx, p+"ap", "hello").Val(); n != 5 {
				t.Fatalf("APPEND = %d", n)
			}
			if n := rdb.SetRange(ctx, p+"ap", 5, " world").Val(); n != 11 {
				t.Fatalf("SETRANGE = %d", n)
			}
			if v := rdb.GetRange(ctx, p+"ap", -5, -1).Val(); v != "world" {
				t.Fatalf("GETRANGE = %q", v)
			}
			if n := rdb.StrLen(ctx, p+"ap").Val(); n != 11 {
				t.Fatalf("STRLEN = %d", n)
			}
			must(rdb.MSet(ctx, p+"l1", "ohmytext", p+"l2", "mynewtext").Err())
			lcs, err := rdb.LCS(ctx, &redis.LCSQuery{Key1: p + "l1", Key2: p + "l2"}).Result()
			if err != nil || lcs.MatchString != "mytext" {
				t.Fatalf("LCS = %+v, %v", lcs, err)
			}
			lcs, err = rdb.LCS(ctx, &redis.LCSQuery{Key1: p + "l1", Key2: p + "l2", Idx: true, WithMatchLen: true, MinMatchLen: 4}).Result()
			if err != nil || lcs.Len != 6 || len(lcs.Matches) != 1 || lcs.Matches[0].Key1 != (redis.LCSPosition{Start: 4, End: 7}) || lcs.Matches[0].MatchLen != 4 {
				t.Fatalf("LCS IDX = %+v, %v", lcs, err)
			}
			// Bitmaps: a day's active users.
			for _, uid := range []int64{5, 77, 1000} {
				must(rdb.SetBit(ctx, p+"dau", uid, 1).Err())
			}
			if n := rdb.BitCount(ctx, p+"dau", nil).Val(); n != 3 {
				t.Fatalf("BITCOUNT = %d", n)
			}
			if n := rdb.BitCount(ctx, p+"dau", &redis.BitCount{Start: 0, End: 77, Unit: "BIT"}).Val(); n != 2 {
				t.Fatalf("BITCOUNT BIT = %d", n)
			}
			if v := rdb.GetBit(ctx, p+"dau", 77).Val(); v != 1 {
				t.Fatalf("GETBIT = %d", v)
			}
			if pos := rdb.BitPos(ctx, p+"dau", 1).Val(); pos != 5 {
				t.Fatalf("BITPOS = %d", pos)
			}
			must(rdb.SetBit(ctx, p+"dau2", 77, 1).Err())
			if n := rdb.BitOpAnd(ctx, p+"both", p+"dau", p+"dau2").Val(); n != 126 {
				t.Fatalf("BITOP AND = %d", n)
			}
			if n := rdb.BitCount(ctx, p+"both", nil).Val(); n != 1 {
				t.Fatalf("BITCOUNT of AND = %d", n)
			}
			bf, err := rdb.BitField(ctx, p+"bf", "SET", "u8", 0, 200, "INCRBY", "u8", 0, 100, "OVERFLOW", "SAT", "INCRBY", "u8", 0, 100).Result()
			if err != nil || len(bf) != 3 || bf[0] != 0 || bf[1] != 44 || bf[2] != 144 {
				t.Fatalf("BITFIELD = %v, %v", bf, err)
			}
			ro, err := rdb.BitFieldRO(ctx, p+"bf", "u8", 0).Result()
			if err != nil || len(ro) != 1 || ro[0] != 144 {
				t.Fatalf("BITFIELD_RO = %v, %v", ro, err)
			}
			if enc := rdb.ObjectEncoding(ctx, p+"ctr").Val(); enc != "int" {
				t.Fatalf("OBJECT ENCODING of a counter = %q", enc)
			}
			var rerr redis.Error
			if err := rdb.Do(ctx, "SET", p+"k", "v", "EX", "0").Err(); !errors.As(err, &rerr) || err.Error() != "ERR invalid expire time in 'set' command" {
				t.Fatalf("SET EX 0: %v", err)
			}
		})
	}
}

// TestStringsRedisCLI compares redis-cli's rendering of the family's replies
// (nested arrays, nils, floats, errors) from slotkv and redis-server.
func TestStringsRedisCLI(t *testing.T) {
	s, r := DiffPair(t)
	script := [][]string{
		{"SET", "cli:k", "hello"}, {"GET", "cli:k"}, {"GET", "cli:none"}, {"INCRBYFLOAT", "cli:f", "1.5"},
		{"MSET", "cli:a", "ohmytext", "cli:b", "mynewtext"}, {"MGET", "cli:a", "cli:none", "cli:b"},
		{"LCS", "cli:a", "cli:b", "IDX", "WITHMATCHLEN"}, {"BITFIELD", "cli:bf", "SET", "u8", "0", "255", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1"},
		{"SETBIT", "cli:bits", "3", "1"}, {"BITCOUNT", "cli:bits"}, {"GETEX", "cli:k", "PERSIST"}, {"SET", "cli:k", "v", "EX", "0"},
		{"INCR", "cli:k"}, {"APPEND", "cli:k", "!"}, {"GETRANGE", "cli:k", "0", "-1"}, {"OBJECT", "ENCODING", "cli:f"},
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

// TestStringExpiry checks that TTLs really expire keys (lazily on access).
func TestStringExpiry(t *testing.T) {
	n := StartNode(t, Options{})
	rdb := n.Client()
	ctx := Ctx(t, 30*time.Second)
	if err := rdb.Set(ctx, "exp:a", "v", 100*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.SetArgs(ctx, "exp:b", "v", redis.SetArgs{ExpireAt: time.Now().Add(150 * time.Millisecond)}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "exp:c", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.PExpire(ctx, "exp:c", 100*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 5*time.Second, "keys with a TTL to expire", func() bool {
		return rdb.Exists(ctx, "exp:a", "exp:b", "exp:c").Val() == 0
	})
	if v, err := rdb.Get(ctx, "exp:a").Result(); err != redis.Nil {
		t.Fatalf("GET of expired key = %q, %v", v, err)
	}
	if ttl := rdb.PTTL(ctx, "exp:b").Val(); ttl != -2 {
		t.Fatalf("PTTL of expired key = %v", ttl)
	}
}
