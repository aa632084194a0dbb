package integration

// MEMORY USAGE | STATS | DOCTOR | MALLOC-STATS | PURGE | HELP and OBJECT
// FREQ/IDLETIME against redis-server 7: byte-exact replies where the
// figures are not involved (errors, help, nil, COMMAND INFO, LFU counters),
// the same reply shapes (field names, order and RESP types) where they are,
// and MEMORY USAGE figures within 2x of Redis's.

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func memorySteps(p string) []Step {
	k := func(n string) string { return p + n }
	return []Step{
		S("SET", k("s"), "hello"), S("MEMORY", "USAGE", k("none")), S("MEMORY", "USAGE", k("none"), "SAMPLES", "0"),
		S("MEMORY", "USAGE", k("s"), "SAMPLES"), S("MEMORY", "USAGE", k("s"), "SAMPLES", "x"),
		S("MEMORY", "USAGE", k("s"), "SAMPLES", "-1"), S("MEMORY", "USAGE", k("s"), "FOO", "1"),
		S("MEMORY", "USAGE", k("s"), "samples", "99999999999999999999"), S("MEMORY", "USAGE", k("none"), "SAMPLES", "x"),
		S("MEMORY", "USAGE"), S("MEMORY"), S("MEMORY", "FOO"), S("MEMORY", "STATS", "x"), S("MEMORY", "DOCTOR", "x"),
		S("MEMORY", "HELP", "x"), S("MEMORY", "PURGE", "x"), S("MEMORY", "MALLOC-STATS", "x"), S("MEMORY", "HELP"),
		S("memory", "help"), S("MEMORY", "PURGE"),
		S("COMMAND", "INFO", "memory|usage"), S("COMMAND", "INFO", "memory|stats"), S("COMMAND", "INFO", "memory|doctor"),
		S("COMMAND", "INFO", "memory|help"), S("COMMAND", "INFO", "memory|purge"), S("COMMAND", "INFO", "memory|malloc-stats"),
		S("COMMAND", "GETKEYS", "MEMORY", "USAGE", k("s")), S("COMMAND", "GETKEYS", "MEMORY", "USAGE", k("s"), "SAMPLES", "5"),
		S("COMMAND", "GETKEYSANDFLAGS", "MEMORY", "USAGE", k("s")), S("COMMAND", "GETKEYS", "MEMORY", "STATS"),
		// OBJECT FREQ / IDLETIME and the policy switch (takes effect at once)
		S("OBJECT", "FREQ", k("s")), S("OBJECT", "FREQ", k("none")),
		S("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"), S("SET", k("f"), "hello"), S("OBJECT", "FREQ", k("f")),
		S("GET", k("f")), S("OBJECT", "FREQ", k("f")), S("OBJECT", "IDLETIME", k("f")), S("OBJECT", "IDLETIME", k("none")),
		S("CONFIG", "SET", "maxmemory-policy", "volatile-lfu"), S("OBJECT", "IDLETIME", k("f")), S("SET", k("g"), "world"),
		S("OBJECT", "FREQ", k("g")),
		S("CONFIG", "SET", "maxmemory-policy", "noeviction"), S("OBJECT", "FREQ", k("f")), S("OBJECT", "FREQ", k("g")),
	}
}

func TestMemoryDifferential(t *testing.T) {
	s, r := DiffPair(t)
	diffProtos(t, s, r, memorySteps)
}

// respNode is a parsed reply that keeps RESP types.
type respNode struct {
	t    byte
	s    string
	kids []respNode
}

func readNode(rd *bufio.Reader) (respNode, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return respNode{}, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return respNode{}, fmt.Errorf("empty RESP line")
	}
	n := respNode{t: line[0], s: line[1:]}
	switch n.t {
	case '$', '=':
		l, _ := strconv.Atoi(n.s)
		if l < 0 {
			n.t = '_'
			return n, nil
		}
		buf := make([]byte, l+2)
		if _, err := ioReadFull(rd, buf); err != nil {
			return n, err
		}
		n.s = string(buf[:l])
	case '*', '%', '~', '>':
		l, _ := strconv.Atoi(n.s)
		if n.t == '%' {
			l *= 2
		}
		for i := 0; i < l; i++ {
			k, err := readNode(rd)
			if err != nil {
				return n, err
			}
			n.kids = append(n.kids, k)
		}
	}
	return n, nil
}

// doNode sends one command on r and parses the reply.
func doNode(t *testing.T, r *Raw, args ...string) respNode {
	t.Helper()
	raw, err := r.Do(args...)
	if err != nil {
		t.Fatal(err)
	}
	n, err := readNode(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	return n
}

// shape renders a map reply as "name:type" pairs, recursing into
// sub-maps (values other than names are left out).
func shape(n respNode) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%c%d[", n.t, len(n.kids))
	for i := 0; i+1 < len(n.kids); i += 2 {
		v := n.kids[i+1]
		fmt.Fprintf(&b, " %s:", n.kids[i].s)
		if len(v.kids) > 0 {
			b.WriteString(shape(v))
		} else {
			b.WriteByte(v.t)
		}
	}
	b.WriteString(" ]")
	return b.String()
}

// field returns the value of name in a map reply.
func field(t *testing.T, n respNode, name string) respNode {
	t.Helper()
	for i := 0; i+1 < len(n.kids); i += 2 {
		if n.kids[i].s == name {
			return n.kids[i+1]
		}
	}
	t.Fatalf("no field %q in %s", name, shape(n))
	return respNode{}
}

func TestMemoryStatsShape(t *testing.T) {
	s, r := DiffPair(t)
	for _, proto := range []int{2, 3} {
		a, b := DialRaw(t, s.Addr()), DialRaw(t, r.Addr())
		if proto == 3 {
			a.Do("HELLO", "3")
			b.Do("HELLO", "3")
		}
		check := func(when string) {
			got, want := doNode(t, a, "MEMORY", "STATS"), doNode(t, b, "MEMORY", "STATS")
			if shape(got) != shape(want) {
				t.Errorf("RESP%d %s: MEMORY STATS shape\n slotkv: %s\n  redis: %s", proto, when, shape(got), shape(want))
			}
			keys := field(t, got, "keys.count").s
			if dbsize := doNode(t, a, "DBSIZE").s; keys != dbsize {
				t.Errorf("RESP%d %s: keys.count %s, DBSIZE %s", proto, when, keys, dbsize)
			}
			for _, f := range []string{"total.allocated", "peak.allocated", "allocator.allocated", "allocator.resident"} {
				if v, _ := strconv.ParseInt(field(t, got, f).s, 10, 64); v <= 0 {
					t.Errorf("RESP%d %s: %s = %d", proto, when, f, v)
				}
			}
			for _, cmd := range [][]string{{"MEMORY", "DOCTOR"}, {"MEMORY", "MALLOC-STATS"}} {
				g, w := doNode(t, a, cmd...), doNode(t, b, cmd...)
				if proto == 2 && g.t != w.t || cmd[1] == "DOCTOR" && g.t != w.t {
					t.Errorf("RESP%d %v: type %c, redis %c", proto, cmd, g.t, w.t)
				}
			}
		}
		if proto == 2 {
			check("empty") // no db.0 entry on either
		}
		a.Do("SET", fmt.Sprintf("k%d", proto), "v")
		a.Do("SET", fmt.Sprintf("e%d", proto), "v", "EX", "100")
		b.Do("SET", fmt.Sprintf("k%d", proto), "v")
		b.Do("SET", fmt.Sprintf("e%d", proto), "v", "EX", "100")
		check("with keys")
	}
	a := DialRaw(t, s.Addr())
	doc := doNode(t, a, "MEMORY", "DOCTOR").s
	if !strings.HasPrefix(doc, "Hi Sam") && !strings.HasPrefix(doc, "Sam, I detected") {
		t.Errorf("MEMORY DOCTOR: %q", doc)
	}
	if ms := doNode(t, a, "MEMORY", "MALLOC-STATS").s; ms != "Stats not supported for the current allocator" {
		t.Errorf("MEMORY MALLOC-STATS: %q", ms)
	}
}

func TestMemoryUsageVsRedis(t *testing.T) {
	s, r := DiffPair(t)
	ctx := Ctx(t, 60*time.Second)
	for _, n := range []*Node{s, r} {
		rdb := n.Client()
		pipe := rdb.Pipeline()
		for _, size := range []int{10, 100, 1000, 10000, 100000} {
			pipe.Set(ctx, fmt.Sprintf("str:%d", size), strings.Repeat("x", size), 0)
		}
		for i := 0; i < 1000; i++ {
			pipe.HSet(ctx, "hash:1000", fmt.Sprintf("field:%d", i), fmt.Sprintf("value:%d", i))
			pipe.RPush(ctx, "list:1000", fmt.Sprintf("element:%d", i))
			pipe.SAdd(ctx, "set:1000", fmt.Sprintf("member:%d", i))
			pipe.ZAdd(ctx, "zset:1000", redis.Z{Score: float64(i), Member: fmt.Sprintf("member:%d", i)})
		}
		for i := 0; i < 10; i++ {
			pipe.HSet(ctx, "hash:10", fmt.Sprintf("f%d", i), fmt.Sprintf("v%d", i))
			pipe.RPush(ctx, "list:10", fmt.Sprintf("e%d", i))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	usage := func(n *Node, key string, extra ...any) int64 {
		args := append([]any{"MEMORY", "USAGE", key}, extra...)
		v, err := n.Client().Do(ctx, args...).Int64()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return v
	}
	prev := int64(0)
	for _, key := range []string{"str:10", "str:100", "str:1000", "str:10000", "str:100000"} {
		u := usage(s, key)
		if u <= prev {
			t.Errorf("MEMORY USAGE %s = %d, not above the smaller value's %d", key, u, prev)
		}
		prev = u
	}
	for _, key := range []string{"str:10", "str:100", "str:1000", "str:10000", "str:100000",
		"hash:10", "hash:1000", "list:10", "list:1000", "set:1000", "zset:1000"} {
		for _, samples := range [][]any{nil, {"SAMPLES", "0"}, {"SAMPLES", "1"}} {
			got, want := usage(s, key, samples...), usage(r, key, samples...)
			t.Logf("MEMORY USAGE %s %v: slotkv %d, redis %d (%.2fx)", key, samples, got, want, float64(got)/float64(want))
			if got*2 < want || got > want*2 {
				t.Errorf("MEMORY USAGE %s %v: slotkv %d, redis %d: not within 2x", key, samples, got, want)
			}
		}
	}
}
