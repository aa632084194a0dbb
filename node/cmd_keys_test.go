package node

import (
	"fmt"
	"math/rand"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/slotkv/slotkv/slots"
)

func TestKeyCommands(t *testing.T) {
	e := newStrTestEnv(t)
	e.putObj("lst")
	e.do("MSET", "a", "1", "b", "2", "c", "3")
	runCases(t, e, []replyCase{
		{a("DEL", "a", "b", "nokey", "a"), ":2\r\n"},
		{a("EXISTS", "a", "c", "c", "lst", "nokey"), ":3\r\n"},
		{a("UNLINK", "c"), ":1\r\n"},
		{a("TYPE", "lst"), "+list\r\n"},
		{a("TYPE", "nokey"), "+none\r\n"},
		{a("SET", "s", "v"), "+OK\r\n"},
		{a("TYPE", "s"), "+string\r\n"},
		{a("TOUCH", "s", "nokey", "s"), ":2\r\n"},
		{a("RENAME", "nokey", "x"), "-ERR no such key\r\n"},
		{a("RENAME", "s", "s"), "+OK\r\n"},
		{a("RENAMENX", "s", "s"), ":0\r\n"},
		{a("EXPIRE", "s", "100"), ":1\r\n"},
		{a("RENAME", "s", "{x}s2"), "+OK\r\n"},
		{a("EXISTS", "s"), ":0\r\n"},
		{a("TTL", "{x}s2"), ":100\r\n"},
		{a("SET", "t", "w"), "+OK\r\n"},
		{a("RENAMENX", "{x}s2", "t"), ":0\r\n"},
		{a("RENAME", "{x}s2", "t"), "+OK\r\n"},
		{a("GET", "t"), "$1\r\nv\r\n"},
		{a("COPY", "t", "t2"), ":1\r\n"},
		{a("TTL", "t2"), ":100\r\n"},
		{a("COPY", "t", "t2"), ":0\r\n"},
		{a("COPY", "t", "t2", "REPLACE"), ":1\r\n"},
		{a("COPY", "t", "t"), "-ERR source and destination objects are the same\r\n"},
		{a("COPY", "nokey", "x"), ":0\r\n"},
		{a("COPY", "t", "x", "DB", "16"), "-ERR DB index is out of range\r\n"},
		{a("COPY", "t", "x", "DB", "z"), "-ERR value is not an integer or out of range\r\n"},
		{a("COPY", "t", "x", "FOO"), "-ERR syntax error\r\n"},
		{a("COPY", "t", "x", "DB", "0"), ":1\r\n"},
		{a("OBJECT", "ENCODING", "nokey"), "$-1\r\n"},
		{a("OBJECT", "ENCODING", "lst"), "$9\r\nquicklist\r\n"},
		{a("OBJECT", "IDLETIME", "t"), ":0\r\n"},
		{a("OBJECT", "FREQ", "t"), "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n"},
		{a("OBJECT", "FREQ", "nokey"), "$-1\r\n"},
		{a("OBJECT", "NOPE"), "-ERR unknown subcommand 'NOPE'. Try OBJECT HELP.\r\n"},
		{a("SCAN", "abc"), "-ERR invalid cursor\r\n"},
		{a("SCAN", "0", "COUNT", "0"), "-ERR syntax error\r\n"},
		{a("SCAN", "0", "COUNT", "x"), "-ERR value is not an integer or out of range\r\n"},
		{a("SCAN", "0", "MATCH"), "-ERR syntax error\r\n"},
	})
	if got := e.do("OBJECT", "HELP"); got[:4] != "*15\r" {
		t.Errorf("OBJECT HELP = %q", got)
	}
}

func TestExpireCommands(t *testing.T) {
	e := newStrTestEnv(t)
	e.do("SET", "k", "v")
	runCases(t, e, []replyCase{
		{a("TTL", "k"), ":-1\r\n"},
		{a("TTL", "nokey"), ":-2\r\n"},
		{a("PEXPIRETIME", "k"), ":-1\r\n"},
		{a("EXPIRE", "k", "100", "XX"), ":0\r\n"},
		{a("EXPIRE", "k", "100", "GT"), ":0\r\n"},
		{a("EXPIRE", "k", "100", "NX"), ":1\r\n"},
		{a("EXPIRE", "k", "100", "NX"), ":0\r\n"},
		{a("EXPIRE", "k", "50", "GT"), ":0\r\n"},
		{a("EXPIRE", "k", "500", "GT"), ":1\r\n"},
		{a("EXPIRE", "k", "600", "LT"), ":0\r\n"},
		{a("EXPIRE", "k", "60", "lt"), ":1\r\n"},
		{a("TTL", "k"), ":60\r\n"},
		{a("PERSIST", "k"), ":1\r\n"},
		{a("PERSIST", "k"), ":0\r\n"},
		{a("PERSIST", "nokey"), ":0\r\n"},
		{a("EXPIRE", "k", "10", "foo"), "-ERR Unsupported option foo\r\n"},
		{a("EXPIRE", "k", "x", "foo"), "-ERR Unsupported option foo\r\n"},
		{a("EXPIRE", "k", "10", "NX", "XX"), "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"},
		{a("EXPIRE", "k", "10", "GT", "LT"), "-ERR GT and LT options at the same time are not compatible\r\n"},
		{a("EXPIRE", "k", "x"), "-ERR value is not an integer or out of range\r\n"},
		{a("EXPIRE", "k", "9223372036854775807"), "-ERR invalid expire time in 'expire' command\r\n"},
		{a("PEXPIRE", "k", "9223372036854775807"), "-ERR invalid expire time in 'pexpire' command\r\n"},
		{a("PEXPIREAT", "k", "99999999999999"), ":1\r\n"},
		{a("PEXPIRETIME", "k"), ":99999999999999\r\n"},
		{a("EXPIRETIME", "k"), ":100000000000\r\n"},
		{a("EXPIREAT", "k", "99999999999"), ":1\r\n"},
		{a("EXPIRETIME", "k"), ":99999999999\r\n"},
		{a("EXPIRE", "nokey", "10"), ":0\r\n"},
		{a("EXPIRE", "k", "-1"), ":1\r\n"},
		{a("EXISTS", "k"), ":0\r\n"},
		{a("SET", "k", "v", "PX", "1"), "+OK\r\n"},
	})
	// Lazy expiry: after 1 ms the key is gone for every reader.
	deadline := time.Now().Add(2 * time.Second)
	for e.do("EXISTS", "k") != ":0\r\n" {
		if time.Now().After(deadline) {
			t.Fatal("key with PX 1 never expired")
		}
		time.Sleep(time.Millisecond)
	}
	for _, c := range [][]string{{"GET", "k"}, {"TTL", "k"}, {"TYPE", "k"}, {"OBJECT", "ENCODING", "k"}} {
		if got := e.do(c...); got != map[string]string{"GET": "$-1\r\n", "TTL": ":-2\r\n", "TYPE": "+none\r\n", "OBJECT": "$-1\r\n"}[c[0]] {
			t.Errorf("%q on an expired key = %q", c, got)
		}
	}
}

func TestScanCursor(t *testing.T) {
	cases := map[string]struct {
		n  uint64
		ok bool
	}{
		"0": {0, true}, "": {0, true}, "123": {123, true}, "+5": {5, true},
		"-1": {1<<64 - 1, true}, "18446744073709551615": {1<<64 - 1, true},
		"18446744073709551616": {0, false}, "abc": {0, false}, " 1": {0, false},
		"1 ": {0, false}, "+": {0, false}, "-": {0, false},
	}
	for in, want := range cases {
		n, ok := scanParseCursor([]byte(in))
		if ok != want.ok || (ok && n != want.n) {
			t.Errorf("scanParseCursor(%q) = %d,%v want %d,%v", in, n, ok, want.n, want.ok)
		}
	}
}

// scanAll runs a full SCAN iteration with the given options, calling
// between after every call.
func scanAll(t *testing.T, e *strTestEnv, between func(), opts ...string) (keys []string, calls int) {
	t.Helper()
	cursor := "0"
	for {
		r := e.do(append([]string{"SCAN", cursor}, opts...)...)
		cur, ks := parseScanReply(t, r)
		keys = append(keys, ks...)
		calls++
		if between != nil {
			between()
		}
		if cur == "0" {
			return keys, calls
		}
		if calls > 100000 {
			t.Fatal("SCAN does not terminate")
		}
		cursor = cur
	}
}

func parseScanReply(t *testing.T, r string) (string, []string) {
	t.Helper()
	// *2\r\n$N\r\ncursor\r\n*M\r\n($L\r\nkey\r\n)*
	var p int
	line := func() string {
		i := p
		for r[p] != '\r' {
			p++
		}
		s := r[i:p]
		p += 2
		return s
	}
	if line() != "*2" {
		t.Fatalf("bad SCAN reply %q", r)
	}
	line()
	cur := line()
	m, _ := strconv.Atoi(line()[1:])
	keys := make([]string, 0, m)
	for i := 0; i < m; i++ {
		n, _ := strconv.Atoi(line()[1:])
		keys = append(keys, r[p:p+n])
		p += n + 2
	}
	return cur, keys
}

func TestScanCoversKeyspace(t *testing.T) {
	e := newStrTestEnv(t)
	all := map[string]bool{}
	for i := 0; i < 3000; i++ {
		k := fmt.Sprintf("key:%d", i)
		e.do("SET", k, "v")
		all[k] = true
	}
	for i := 0; i < 2000; i++ { // one big slot
		k := fmt.Sprintf("{tag}:%d", i)
		e.do("SET", k, "v")
		all[k] = true
	}
	e.putObj("{tag}:list")
	for _, opts := range [][]string{nil, {"COUNT", "1"}, {"COUNT", "1000"}, {"COUNT", "100000"}} {
		keys, calls := scanAll(t, e, nil, opts...)
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[k] {
				t.Errorf("opts %q: %s returned twice without concurrent changes", opts, k)
			}
			seen[k] = true
		}
		if len(seen) != len(all)+1 {
			t.Errorf("opts %q: saw %d keys, want %d (in %d calls)", opts, len(seen), len(all)+1, calls)
		}
	}
	keys, _ := scanAll(t, e, nil, "MATCH", "{tag}:1*", "COUNT", "50")
	for _, k := range keys {
		if k[:7] != "{tag}:1" {
			t.Errorf("MATCH returned %q", k)
		}
	}
	if len(keys) != 1111 {
		t.Errorf("MATCH {tag}:1* returned %d keys, want 1111", len(keys))
	}
	keys, _ = scanAll(t, e, nil, "TYPE", "LIST")
	if len(keys) != 1 || keys[0] != "{tag}:list" {
		t.Errorf("TYPE list returned %q", keys)
	}
	// Keys present for the whole scan are always returned, whatever is
	// added and removed meanwhile.
	rng := rand.New(rand.NewSource(1))
	churn := func() {
		for j := 0; j < 20; j++ {
			e.do("SET", fmt.Sprintf("new:%d", rng.Intn(1_000_000)), "v")
			e.do("SET", fmt.Sprintf("{tag}:new%d", rng.Intn(1_000_000)), "v")
			e.do("DEL", fmt.Sprintf("new:%d", rng.Intn(1_000_000)))
		}
	}
	keys, _ = scanAll(t, e, churn, "COUNT", "20")
	seen := map[string]bool{}
	for _, k := range keys {
		seen[k] = true
	}
	for k := range all {
		if !seen[k] {
			t.Fatalf("key %s present for the whole scan was not returned", k)
		}
	}
}

func TestKeysAndRandomkey(t *testing.T) {
	e := newStrTestEnv(t)
	if got := e.do("RANDOMKEY"); got != "$-1\r\n" {
		t.Errorf("RANDOMKEY on empty = %q", got)
	}
	if got := e.do("KEYS", "*"); got != "*0\r\n" {
		t.Errorf("KEYS * on empty = %q", got)
	}
	e.do("MSET", "foo", "1", "bar", "2", "baz", "3")
	e.do("SET", "gone", "x", "PX", "1")
	time.Sleep(5 * time.Millisecond)
	got := e.do("KEYS", "ba?")
	if got != "*2\r\n$3\r\nbar\r\n$3\r\nbaz\r\n" && got != "*2\r\n$3\r\nbaz\r\n$3\r\nbar\r\n" {
		t.Errorf("KEYS ba? = %q", got)
	}
	if got := e.do("KEYS", "gone"); got != "*0\r\n" {
		t.Errorf("KEYS returned an expired key: %q", got)
	}
	for i := 0; i < 50; i++ {
		switch r := e.do("RANDOMKEY"); r {
		case "$3\r\nfoo\r\n", "$3\r\nbar\r\n", "$3\r\nbaz\r\n":
		default:
			t.Fatalf("RANDOMKEY = %q", r)
		}
	}
}

// TestKeysConcurrentSlots runs multi-slot commands from several clients at
// once (standalone mode locks every slot involved) to catch lock misuse
// under -race.
func TestKeysConcurrentSlots(t *testing.T) {
	s, _ := newTestServer(t, false)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		_, c := newTestServerClient(t, s)
		wg.Add(1)
		go func(w int, c *Client) {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				k1, k2 := fmt.Sprintf("a%d", i%17), fmt.Sprintf("b%d", (i+w)%13)
				for _, argv := range [][]string{{"MSET", k1, "1", k2, "2"}, {"RENAME", k1, k2}, {"COPY", k2, k1, "REPLACE"}, {"DEL", k1, k2}, {"SCAN", "0", "COUNT", "5"}, {"INCR", k1}, {"MGET", k1, k2}} {
					bs := make([][]byte, len(argv))
					for j, x := range argv {
						bs[j] = []byte(x)
					}
					c.W.B = c.W.B[:0]
					s.Process(c, bs)
				}
			}
		}(w, c)
	}
	wg.Wait()
}

func newTestServerClient(t *testing.T, s *Server) (*Server, *Client) {
	_, c := newTestServer(t, false)
	c.srv = s
	return s, c
}

// TestIdletimeTouch checks which commands count as an access (Redis's
// LOOKUP_NOTOUCH commands TYPE, TTL, EXISTS, OBJECT do not).
func TestIdletimeTouch(t *testing.T) {
	e := newStrTestEnv(t)
	e.do("SET", "k", "v")
	age := func() {
		sl := e.s.KS.Slot(slots.Of([]byte("k")))
		sl.Lock()
		sl.keys.getString("k").LRU -= 100
		sl.Unlock()
	}
	age()
	for _, c := range [][]string{{"TYPE", "k"}, {"TTL", "k"}, {"EXISTS", "k"}, {"OBJECT", "ENCODING", "k"}, {"PEXPIRETIME", "k"}} {
		e.do(c...)
	}
	if got := e.do("OBJECT", "IDLETIME", "k"); got != ":100\r\n" {
		t.Fatalf("IDLETIME after no-touch commands = %q, want :100", got)
	}
	for _, c := range [][]string{{"GET", "k"}, {"TOUCH", "k"}, {"STRLEN", "k"}, {"APPEND", "k", "x"}} {
		age()
		e.do(c...)
		if got := e.do("OBJECT", "IDLETIME", "k"); got != ":0\r\n" {
			t.Errorf("IDLETIME after %q = %q, want :0", c, got)
		}
	}
}

func TestObjectFreqIdletimePolicies(t *testing.T) {
	e := newStrTestEnv(t)
	e.do("SET", "k", "v")
	if got := e.do("OBJECT", "FREQ", "k"); got[0] != '-' {
		t.Fatalf("OBJECT FREQ without an LFU policy = %q", got)
	}
	e.s.UpdateConfig(func(c *Config) error { c.MaxMemoryPolicy = "allkeys-lfu"; return nil })
	if got := e.do("OBJECT", "IDLETIME", "k"); got != "-ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n" {
		t.Fatalf("OBJECT IDLETIME with an LFU policy = %q", got)
	}
	if got := e.do("OBJECT", "FREQ", "k"); got[0] != ':' {
		t.Fatalf("OBJECT FREQ with an LFU policy = %q", got)
	}
	if got := e.do("OBJECT", "FREQ", "nokey"); got != "$-1\r\n" {
		t.Fatalf("OBJECT FREQ of a missing key = %q", got)
	}
	now := int64(1_000_000) * 60000
	m := uint32(now/60000) & 0xFFFF
	for _, c := range []struct {
		v    uint32
		now  int64
		want int64
	}{
		{m<<8 | 5, now, 5}, {m<<8 | 5, now + 3*60000, 2}, {m<<8 | 5, now + 10*60000, 0}, {(m-1)<<8 | 200, now, 199},
	} {
		if got := objectLFUCounter(c.v, c.now); got != c.want {
			t.Errorf("objectLFUCounter(%x, %d) = %d, want %d", c.v, c.now, got, c.want)
		}
	}
}
