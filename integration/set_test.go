package integration

// Set commands: differential tests against redis-server 7 (byte-exact,
// RESP2 and RESP3; replies of hashtable-encoded sets compared sorted),
// go-redis tables, SSCAN under churn, SPOP/SRANDMEMBER properties.

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

func setSteps(p string) []Step {
	k := func(n string) string { return p + n }
	steps := []Step{
		// intset: ordered replies
		S("SADD", k("s"), "3", "1", "2"), S("SADD", k("s"), "2"), S("SADD", k("s")), S("OBJECT", "ENCODING", k("s")), S("SMEMBERS", k("s")),
		S("SISMEMBER", k("s"), "1"), S("SISMEMBER", k("s"), "9"), S("SISMEMBER", k("s"), "a"), S("SISMEMBER", k("none"), "a"),
		S("SMISMEMBER", k("s"), "1", "9", "a"), S("SMISMEMBER", k("none"), "a", "b"), S("SMISMEMBER", k("s")), S("SCARD", k("s")), S("SCARD", k("none")),
		S("SADD", k("s"), "-5", "100000", "-100000", "9223372036854775807", "-9223372036854775808"), S("SMEMBERS", k("s")), S("OBJECT", "ENCODING", k("s")),
		S("SADD", k("s"), "01"), S("OBJECT", "ENCODING", k("s")), S("SREM", k("s"), "01"), S("OBJECT", "ENCODING", k("s")), U("SMEMBERS", k("s")),
		S("SADD", k("i"), "1", "2", "3"), S("SREM", k("i"), "2", "9", "x"), S("SMEMBERS", k("i")), S("SREM", k("i"), "1", "3"), S("EXISTS", k("i")),
		S("SREM", k("none"), "a"), S("SMEMBERS", k("none")),
		S("SADD", k("t"), "1", "2", "3", "4"), S("SADD", k("u"), "3", "4", "5"),
		S("SINTER", k("t"), k("u")), S("SINTERSTORE", k("d"), k("t"), k("u")), S("OBJECT", "ENCODING", k("d")), S("SMEMBERS", k("d")),
		S("SUNION", k("t"), k("u")), S("SUNIONSTORE", k("d2"), k("t"), k("u")), S("SMEMBERS", k("d2")), S("SDIFF", k("t"), k("u")),
		S("SDIFFSTORE", k("d3"), k("t"), k("u")), S("SMEMBERS", k("d3")), S("SDIFFSTORE", k("d4"), k("t"), k("t")), S("EXISTS", k("d4")),
		S("SDIFF", k("t"), k("none")), S("SDIFF", k("none"), k("t")), S("SINTER", k("t"), k("none")), S("SINTERSTORE", k("d"), k("t"), k("none")),
		S("EXISTS", k("d")), S("SUNION", k("none"), k("none2")), S("SUNIONSTORE", k("d2"), k("none")), S("EXISTS", k("d2")),
		S("SET", k("e"), "v"), S("EXPIRE", k("e"), "100"), S("SINTERSTORE", k("e"), k("t"), k("u")), S("TTL", k("e")), S("TYPE", k("e")),
		// SINTERCARD
		S("SINTERCARD", "2", k("t"), k("u")), S("SINTERCARD", "2", k("t"), k("u"), "LIMIT", "1"), S("SINTERCARD", "2", k("t"), k("u"), "limit", "0"),
		S("SINTERCARD", "2", k("t"), k("u"), "LIMIT", "-1"), S("SINTERCARD", "2", k("t"), k("u"), "LIMIT"), S("SINTERCARD", "2", k("t"), k("u"), "FOO", "1"),
		S("SINTERCARD", "3", k("t"), k("u")), S("SINTERCARD", "0", k("t")), S("SINTERCARD", "x", k("t")), S("SINTERCARD", "1", k("none")),
		S("SINTERCARD", "2", k("t"), k("u"), "LIMIT", "5", "LIMIT", "1"), S("SINTERCARD", "1", k("t"), "LIMIT", "x"),
		// SMOVE
		S("SMOVE", k("t"), k("u"), "1"), S("SMOVE", k("t"), k("u"), "99"), S("SMOVE", k("none"), k("u"), "1"), S("SMOVE", k("t"), k("t"), "2"),
		S("SMOVE", k("t"), k("t"), "99"), S("SMOVE", k("t"), k("new"), "2"), S("OBJECT", "ENCODING", k("new")), S("SMEMBERS", k("new")),
		S("SMOVE", k("t"), k("new2"), "x"), S("SMEMBERS", k("t")), S("SADD", k("m1"), "a"), S("SMOVE", k("m1"), k("m2"), "a"), S("EXISTS", k("m1")),
		S("OBJECT", "ENCODING", k("m2")),
		// SRANDMEMBER / SPOP: deterministic shapes
		S("SRANDMEMBER", k("none")), S("SRANDMEMBER", k("none"), "5"), S("SRANDMEMBER", k("t"), "0"), S("SRANDMEMBER", k("t"), "100"),
		S("SRANDMEMBER", k("t"), "x"), S("SRANDMEMBER", k("t"), "1", "2"), S("SRANDMEMBER", k("t"), "-9223372036854775808"),
		S("SADD", k("one"), "7"), S("SRANDMEMBER", k("one")), S("SRANDMEMBER", k("one"), "-3"), S("SRANDMEMBER", k("one"), "1"),
		S("SPOP", k("none")), S("SPOP", k("none"), "3"), S("SPOP", k("t"), "0"), S("SPOP", k("t"), "-1"), S("SPOP", k("t"), "x"),
		S("SPOP", k("t"), "1", "2"), S("SPOP", k("one")), S("EXISTS", k("one")), S("SADD", k("two"), "7", "8"), S("SPOP", k("two"), "5"),
		S("EXISTS", k("two")), S("SADD", k("three"), "x"), S("SPOP", k("three"), "1"), S("EXISTS", k("three")),
		// SSCAN on an intset: everything, cursor 0
		S("SSCAN", k("u"), "0"), S("SSCAN", k("u"), "0", "MATCH", "1*"), S("SSCAN", k("u"), "0", "COUNT", "0"), S("SSCAN", k("u"), "abc"),
		S("SSCAN", k("none"), "0"), S("SSCAN", k("u"), "18446744073709551615"), S("SSCAN", k("u"), "18446744073709551616"), S("SSCAN", k("u"), "-1"),
		S("SSCAN", k("u"), "+"), S("SSCAN", k("u"), ""), S("SSCAN", k("u"), "0", "TYPE", "set"), S("SSCAN", k("u"), "0", "COUNT", "1", "MATCH"),
		// hashtable sets: unordered replies compared sorted
		S("SADD", k("a1"), "x", "y", "z", "1"), S("SADD", k("a2"), "y", "1"), S("OBJECT", "ENCODING", k("a1")),
		U("SMEMBERS", k("a1")), U("SDIFF", k("a1"), k("a2"), k("none")), U("SINTER", k("a1"), k("a2")), U("SUNION", k("a1"), k("a2"), k("u")),
		S("SINTERSTORE", k("ad"), k("a1"), k("a2")), U("SMEMBERS", k("ad")), S("OBJECT", "ENCODING", k("ad")),
		S("SINTERSTORE", k("ad2"), k("a2"), k("u")), S("OBJECT", "ENCODING", k("ad2")), S("SMEMBERS", k("ad2")),
		U("SRANDMEMBER", k("a1"), "10"), U("SPOP", k("a2"), "2"), S("EXISTS", k("a2")),
		// WRONGTYPE
		S("SET", k("str"), "v"),
	}
	for _, c := range [][]string{
		{"SADD", k("str"), "a"}, {"SREM", k("str"), "a"}, {"SISMEMBER", k("str"), "a"}, {"SMISMEMBER", k("str"), "a"}, {"SCARD", k("str")},
		{"SMEMBERS", k("str")}, {"SRANDMEMBER", k("str")}, {"SRANDMEMBER", k("str"), "2"}, {"SPOP", k("str")}, {"SPOP", k("str"), "2"},
		{"SMOVE", k("str"), k("u"), "a"}, {"SMOVE", k("u"), k("str"), "3"}, {"SMOVE", k("none"), k("str"), "3"}, {"SMOVE", k("u"), k("str"), "nope"},
		{"SINTER", k("u"), k("str")}, {"SINTER", k("none"), k("str")}, {"SINTERSTORE", k("d"), k("str")}, {"SUNION", k("u"), k("str")},
		{"SDIFF", k("none"), k("str")}, {"SDIFFSTORE", k("d"), k("u"), k("str")}, {"SINTERCARD", "2", k("u"), k("str")}, {"SSCAN", k("str"), "0"},
		{"SMEMBERS", k("u")}, {"SSCAN", k("str"), "x"},
	} {
		steps = append(steps, S(c...))
	}
	// large sets: intset limit and hashtable scans
	ints := []string{"SADD", k("ints")}
	for i := 0; i < 512; i++ {
		ints = append(ints, fmt.Sprint(i*3))
	}
	steps = append(steps, S(ints...), S("OBJECT", "ENCODING", k("ints")), S("SMEMBERS", k("ints")), S("SSCAN", k("ints"), "0"),
		S("SADD", k("ints"), "5000"), S("OBJECT", "ENCODING", k("ints")), S("SCARD", k("ints")), U("SMEMBERS", k("ints")),
		S("SREM", k("ints"), "5000"), S("OBJECT", "ENCODING", k("ints")), S("SINTERCARD", "1", k("ints"), "LIMIT", "10"))
	return steps
}

func TestSetDifferential(t *testing.T) {
	s, r := DiffPair(t)
	diffProtos(t, s, r, setSteps)
}

// TestSetGoRedis drives the family with go-redis (RESP2 and RESP3).
func TestSetGoRedis(t *testing.T) {
	n := StartNode(t, Options{})
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			rdb := n.NewClient(t, proto)
			ctx := Ctx(t, 30*time.Second)
			p := fmt.Sprintf("gs%d:", proto)
			if n := rdb.SAdd(ctx, p+"tags", "go", "redis", "db", "go").Val(); n != 3 {
				t.Fatalf("SADD = %d", n)
			}
			m := rdb.SMembers(ctx, p+"tags").Val()
			sort.Strings(m)
			if strings.Join(m, ",") != "db,go,redis" {
				t.Fatalf("SMEMBERS = %v", m)
			}
			if ok := rdb.SIsMember(ctx, p+"tags", "go").Val(); !ok {
				t.Fatal("SISMEMBER")
			}
			if bs := rdb.SMIsMember(ctx, p+"tags", "go", "x").Val(); len(bs) != 2 || !bs[0] || bs[1] {
				t.Fatalf("SMISMEMBER = %v", bs)
			}
			rdb.SAdd(ctx, p+"other", "go", "rust")
			if v := rdb.SInter(ctx, p+"tags", p+"other").Val(); len(v) != 1 || v[0] != "go" {
				t.Fatalf("SINTER = %v", v)
			}
			if n := rdb.SInterCard(ctx, 0, p+"tags", p+"other").Val(); n != 1 {
				t.Fatalf("SINTERCARD = %d", n)
			}
			if n := rdb.SUnionStore(ctx, p+"all", p+"tags", p+"other").Val(); n != 4 {
				t.Fatalf("SUNIONSTORE = %d", n)
			}
			if v := rdb.SDiff(ctx, p+"all", p+"tags").Val(); len(v) != 1 || v[0] != "rust" {
				t.Fatalf("SDIFF = %v", v)
			}
			if ok := rdb.SMove(ctx, p+"other", p+"tags", "rust").Val(); !ok {
				t.Fatal("SMOVE")
			}
			if n := rdb.SCard(ctx, p+"tags").Val(); n != 4 {
				t.Fatalf("SCARD = %d", n)
			}
			r := rdb.SRandMemberN(ctx, p+"tags", 3).Val()
			if len(r) != 3 || r[0] == r[1] || r[1] == r[2] || r[0] == r[2] {
				t.Fatalf("SRANDMEMBER 3 = %v", r)
			}
			if r := rdb.SRandMemberN(ctx, p+"tags", -10).Val(); len(r) != 10 {
				t.Fatalf("SRANDMEMBER -10 = %v", r)
			}
			popped := rdb.SPopN(ctx, p+"tags", 3).Val()
			if len(popped) != 3 || rdb.SCard(ctx, p+"tags").Val() != 1 {
				t.Fatalf("SPOP 3 = %v", popped)
			}
			last := rdb.SPop(ctx, p+"tags").Val()
			if last == "" || rdb.Exists(ctx, p+"tags").Val() != 0 {
				t.Fatalf("SPOP last = %q", last)
			}
			rdb.Set(ctx, p+"str", "x", 0)
			if err := rdb.SAdd(ctx, p+"str", "a").Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
				t.Fatalf("SADD on a string: %v", err)
			}
		})
	}
}

// TestSetRandomness checks SPOP/SRANDMEMBER on hashtable and intset sets:
// distinct members for positive counts, every member reachable.
func TestSetRandomness(t *testing.T) {
	n := StartNode(t, Options{})
	rdb := n.Client()
	ctx := Ctx(t, 60*time.Second)
	for _, kind := range []string{"int", "str"} {
		key := "rand:" + kind
		var members []interface{}
		for i := 0; i < 40; i++ {
			if kind == "int" {
				members = append(members, i)
			} else {
				members = append(members, fmt.Sprint("m", i))
			}
		}
		rdb.SAdd(ctx, key, members...)
		hits := map[string]int{}
		for i := 0; i < 400; i++ {
			for _, m := range rdb.SRandMemberN(ctx, key, 5).Val() {
				hits[m]++
			}
			one := rdb.SRandMemberN(ctx, key, 15).Val()
			seen := map[string]bool{}
			for _, m := range one {
				if seen[m] {
					t.Fatalf("%s: SRANDMEMBER 15 repeated %q", kind, m)
				}
				seen[m] = true
			}
		}
		if len(hits) != 40 {
			t.Fatalf("%s: SRANDMEMBER reached %d of 40 members", kind, len(hits))
		}
		for m, c := range hits {
			if c < 15 { // expected 50
				t.Fatalf("%s: member %s picked %d times", kind, m, c)
			}
		}
		got := map[string]bool{}
		for _, c := range []int64{3, 20, 1, 16} { // exercises both SPOP strategies
			for _, m := range rdb.SPopN(ctx, key, c).Val() {
				if got[m] {
					t.Fatalf("%s: SPOP returned %q twice", kind, m)
				}
				got[m] = true
			}
		}
		if len(got) != 40 || rdb.Exists(ctx, key).Val() != 0 {
			t.Fatalf("%s: SPOP returned %d members", kind, len(got))
		}
	}
}

// TestSetScanFull iterates a large set with SSCAN under churn.
func TestSetScanFull(t *testing.T) {
	n := StartNode(t, Options{})
	rdb := n.Client()
	ctx := Ctx(t, 60*time.Second)
	var members []interface{}
	for i := 0; i < 5000; i++ {
		members = append(members, fmt.Sprint("stable:", i))
	}
	rdb.SAdd(ctx, "scans", members...)
	seen := map[string]bool{}
	var cursor uint64
	for iter := 0; ; iter++ {
		keys, next, err := rdb.SScan(ctx, "scans", cursor, "stable:*", 40).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			seen[k] = true
		}
		var tmp []interface{}
		for j := 0; j < 4000; j++ {
			tmp = append(tmp, fmt.Sprint("tmp:", j))
		}
		if iter%2 == 0 {
			rdb.SAdd(ctx, "scans", tmp...)
		} else {
			rdb.SRem(ctx, "scans", tmp...)
		}
		cursor = next
		if cursor == 0 {
			break
		}
		if iter > 20000 {
			t.Fatal("SSCAN does not terminate")
		}
	}
	for i := 0; i < 5000; i++ {
		if !seen[fmt.Sprint("stable:", i)] {
			t.Fatalf("stable:%d never returned by SSCAN", i)
		}
	}
}

// TestSetRedisCLI compares redis-cli's rendering of set replies.
func TestSetRedisCLI(t *testing.T) {
	s, r := DiffPair(t)
	script := [][]string{
		{"SADD", "cli:s", "3", "1", "2"}, {"SMEMBERS", "cli:s"}, {"SMISMEMBER", "cli:s", "1", "x"}, {"SRANDMEMBER", "cli:s", "10"},
		{"SSCAN", "cli:s", "0"}, {"SPOP", "cli:none"}, {"SMEMBERS", "cli:none"}, {"SINTERCARD", "1", "cli:s"},
	}
	for _, args := range script {
		for _, proto := range []string{"-2", "-3"} {
			if proto == "-3" && !supportsHello3(t, s) {
				continue
			}
			run := func(n *Node) string {
				out, _ := RedisCLI(t, append([]string{"-h", n.IP, "-p", fmt.Sprint(n.Port), proto}, args...)...)
				return out
			}
			if got, want := run(s), run(r); got != want {
				t.Errorf("redis-cli %s %q:\n slotkv: %q\n  redis: %q", proto, args, got, want)
			}
		}
	}
}
