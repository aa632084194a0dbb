package integration

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/slotkv/slotkv/node"
)

// dumpFixtures creates one key of every type (both encodings where there
// are two) and returns their names.
func dumpFixtures(t *testing.T, c *redis.Client) []string {
	t.Helper()
	ctx := Ctx(t, 30*time.Second)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Set(ctx, "d:str", "hello\x00world", 0).Err())
	must(c.Set(ctx, "d:int", "12345", 0).Err())
	must(c.Set(ctx, "d:big", strings.Repeat("x", 100000), 0).Err())
	must(c.RPush(ctx, "d:list", "a", "", "b\r\nc", "3").Err())
	var many []any
	for i := 0; i < 1000; i++ {
		many = append(many, fmt.Sprintf("elem-%d-%s", i, strings.Repeat("z", i%50)))
	}
	must(c.RPush(ctx, "d:biglist", many...).Err())
	must(c.SAdd(ctx, "d:intset", 1, -5, 9223372036854775807).Err())
	must(c.SAdd(ctx, "d:set", many...).Err())
	must(c.ZAdd(ctx, "d:zset", redis.Z{Score: 1.5, Member: "a"}, redis.Z{Score: -3, Member: "b"}, redis.Z{Score: 0, Member: ""}).Err())
	var zs []redis.Z
	for i := 0; i < 300; i++ {
		zs = append(zs, redis.Z{Score: float64(i%7) / 3, Member: "m" + strconv.Itoa(i)})
	}
	must(c.ZAdd(ctx, "d:bigzset", zs...).Err())
	must(c.HSet(ctx, "d:hash", "f1", "v1", "", "", "z", "last").Err())
	var hs []any
	for i := 0; i < 300; i++ {
		hs = append(hs, "field"+strconv.Itoa(i), strings.Repeat("v", i))
	}
	must(c.HSet(ctx, "d:bighash", hs...).Err())
	return []string{"d:str", "d:int", "d:big", "d:list", "d:biglist", "d:intset", "d:set", "d:zset", "d:bigzset", "d:hash", "d:bighash"}
}

// valueOf renders a key's type, encoding and full value comparably.
func valueOf(t *testing.T, c *redis.Client, key string) string {
	t.Helper()
	ctx := Ctx(t, 30*time.Second)
	typ, err := c.Type(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := c.ObjectEncoding(ctx, key).Result()
	var v string
	switch typ {
	case "string":
		v, err = c.Get(ctx, key).Result()
	case "list":
		var l []string
		l, err = c.LRange(ctx, key, 0, -1).Result()
		v = fmt.Sprintf("%q", l)
	case "set":
		var l []string
		l, err = c.SMembers(ctx, key).Result()
		sort.Strings(l)
		v = fmt.Sprintf("%q", l)
	case "zset":
		var l []redis.Z
		l, err = c.ZRangeWithScores(ctx, key, 0, -1).Result()
		v = fmt.Sprintf("%v", l)
	case "hash":
		var ks, vs []string
		ks, err = c.HKeys(ctx, key).Result()
		if err == nil {
			vs, err = c.HVals(ctx, key).Result()
		}
		if enc == "hashtable" {
			// Only listpack hashes have an order to keep.
			pairs := make([]string, len(ks))
			for i := range ks {
				pairs[i] = ks[i] + "=" + vs[i]
			}
			sort.Strings(pairs)
			ks, vs = pairs, nil
		}
		v = fmt.Sprintf("%q %q", ks, vs)
	case "none":
		return "none"
	}
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return typ + "/" + enc + ":" + v
}

func TestDumpRestoreAllTypes(t *testing.T) {
	a := StartNode(t, Options{})
	b := StartNode(t, Options{})
	ca, cb := a.Client(), b.Client()
	ctx := Ctx(t, 60*time.Second)
	keys := dumpFixtures(t, ca)
	for _, k := range keys {
		want := valueOf(t, ca, k)
		p, err := ca.Dump(ctx, k).Result()
		if err != nil {
			t.Fatalf("DUMP %s: %v", k, err)
		}
		// Same node, new name, no TTL.
		if err := ca.Restore(ctx, k+":copy", 0, p).Err(); err != nil {
			t.Fatalf("RESTORE %s: %v", k, err)
		}
		if got := valueOf(t, ca, k+":copy"); got != want {
			t.Fatalf("%s: restored %.200s\nwant %.200s", k, got, want)
		}
		if ttl := ca.PTTL(ctx, k+":copy").Val(); ttl != -1 {
			t.Fatalf("%s: PTTL %v", k, ttl)
		}
		// Another slotkv node, with a TTL.
		if err := cb.Restore(ctx, k, 5*time.Second, p).Err(); err != nil {
			t.Fatalf("RESTORE on b %s: %v", k, err)
		}
		if got := valueOf(t, cb, k); got != want {
			t.Fatalf("%s on b: %.200s\nwant %.200s", k, got, want)
		}
		if ttl := cb.PTTL(ctx, k).Val(); ttl <= 3*time.Second || ttl > 5*time.Second {
			t.Fatalf("%s: PTTL after RESTORE 5000: %v", k, ttl)
		}
		// BUSYKEY without REPLACE; REPLACE with ABSTTL.
		err = cb.Restore(ctx, k, 0, p).Err()
		if err == nil || err.Error() != "BUSYKEY Target key name already exists." {
			t.Fatalf("%s: want BUSYKEY, got %v", k, err)
		}
		abs := time.Now().Add(time.Hour).UnixMilli()
		if err := cb.Do(ctx, "RESTORE", k, abs, p, "REPLACE", "ABSTTL").Err(); err != nil {
			t.Fatal(err)
		}
		if ms := cb.Do(ctx, "PEXPIRETIME", k).Val(); ms != abs {
			t.Fatalf("%s: PEXPIRETIME %v want %d", k, ms, abs)
		}
	}
	// An absolute TTL in the past: OK, and the key is not there (REPLACE
	// deletes the old one).
	p := ca.Dump(ctx, "d:str").Val()
	if err := ca.Do(ctx, "RESTORE", "d:str", 1000, p, "REPLACE", "ABSTTL").Err(); err != nil {
		t.Fatal(err)
	}
	if n := ca.Exists(ctx, "d:str").Val(); n != 0 {
		t.Fatal("expired RESTORE left the key")
	}
	// IDLETIME is applied.
	if err := ca.Do(ctx, "RESTORE", "idle", 0, p, "IDLETIME", 1000).Err(); err != nil {
		t.Fatal(err)
	}
	if idle := ca.ObjectIdleTime(ctx, "idle").Val(); idle < 999*time.Second {
		t.Fatalf("OBJECT IDLETIME %v after RESTORE IDLETIME 1000", idle)
	}
	// DUMP of a missing key is nil.
	if err := ca.Dump(ctx, "nokey").Err(); err != redis.Nil {
		t.Fatalf("DUMP missing: %v", err)
	}
}

// reframe puts a valid footer (version, CRC-64) around body.
func reframe(body []byte, ver uint16) string {
	p := append([]byte(nil), body...)
	p = binary.LittleEndian.AppendUint16(p, ver)
	return string(binary.LittleEndian.AppendUint64(p, node.RedisCRC64(0, p)))
}

func TestRestoreErrors(t *testing.T) {
	n := StartNode(t, Options{})
	c := n.Client()
	ctx := Ctx(t, 30*time.Second)
	c.RPush(ctx, "l", "a", "b", "c")
	good := []byte(c.Dump(ctx, "l").Val())
	body := good[:len(good)-10]
	flip := func(i int) string {
		b := append([]byte(nil), good...)
		b[i] ^= 0x20
		return string(b)
	}
	cases := []struct {
		name, payload, want string
	}{
		{"bad checksum", flip(len(good) - 1), "ERR DUMP payload version or checksum are wrong"},
		{"bad body byte", flip(2), "ERR DUMP payload version or checksum are wrong"},
		{"truncated", string(good[:len(good)-3]), "ERR DUMP payload version or checksum are wrong"},
		{"too short", "abc", "ERR DUMP payload version or checksum are wrong"},
		{"wrong version", reframe(body, node.DumpVersion+1), "ERR DUMP payload version or checksum are wrong"},
		{"redis payload", "\x00\x03bar\n\x00\xe6\xbeI`\xeef\xfd\x17", "ERR DUMP payload version or checksum are wrong"},
		{"valid footer, bad data", reframe(body[:len(body)-1], node.DumpVersion), "ERR Bad data format"},
		{"valid footer, unknown type", reframe([]byte{0x00, 1, 'x'}, node.DumpVersion), "ERR Bad data format"},
	}
	for _, cs := range cases {
		err := c.Restore(ctx, "new", 0, cs.payload).Err()
		if err == nil || err.Error() != cs.want {
			t.Errorf("%s: got %v, want %q", cs.name, err, cs.want)
		}
		if c.Exists(ctx, "new").Val() != 0 {
			t.Fatalf("%s: a key was created", cs.name)
		}
	}
	// A rejected REPLACE leaves the old value alone.
	if err := c.RestoreReplace(ctx, "l", 0, flip(3)).Err(); err == nil {
		t.Fatal("corrupt REPLACE accepted")
	}
	if got := c.LRange(ctx, "l", 0, -1).Val(); len(got) != 3 {
		t.Fatalf("old value changed: %v", got)
	}
}

// Argument errors and their order are Redis's, byte for byte; a slotkv
// payload is refused by Redis and a Redis payload by slotkv with the same
// error (DUMP payloads only move between slotkv nodes).
func TestRestoreDifferential(t *testing.T) {
	s, r := DiffPair(t)
	Differential(t, s, r, 2, []Step{
		S("SET", "foo", "bar"),
		S("RESTORE", "foo", "0", "xx"),
		S("RESTORE", "foo", "-1", "xx"),
		S("RESTORE", "nokey", "-1", "xx"),
		S("RESTORE", "nokey", "0", "xx"),
		S("RESTORE", "nokey", "abc", "xx"),
		S("RESTORE", "nokey", "0", "xx", "badopt"),
		S("RESTORE", "nokey", "0", "xx", "idletime", "-1"),
		S("RESTORE", "nokey", "0", "xx", "idletime"),
		S("RESTORE", "nokey", "0", "xx", "idletime", "x"),
		S("RESTORE", "nokey", "0", "xx", "freq", "300"),
		S("RESTORE", "nokey", "0", "xx", "idletime", "1", "freq", "3"),
		S("RESTORE", "nokey", "0", "xx", "replace", "absttl"),
		S("RESTORE", "nokey"),
		S("RESTORE-ASKING", "nokey", "0", "xx"),
		S("DUMP", "nokey"),
		S("DUMP"),
	})
	ctx := Ctx(t, 10*time.Second)
	sp := s.Client().Dump(ctx, "foo").Val()
	rp := r.Client().Dump(ctx, "foo").Val()
	for _, x := range []struct {
		n *Node
		p string
	}{{r, sp}, {s, rp}} {
		err := x.n.Client().Restore(ctx, "other", 0, x.p).Err()
		if err == nil || err.Error() != "ERR DUMP payload version or checksum are wrong" {
			t.Errorf("%s: cross-implementation payload: %v", x.n.Bin, err)
		}
	}
}
