package node

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/slotkv/slotkv/slots"
)

// fakeObj is a non-string value for WRONGTYPE tests.
type fakeObj struct{}

func (fakeObj) Type() string     { return "list" }
func (fakeObj) Encoding() string { return "quicklist" }

// strTestEnv runs commands in-process and returns raw RESP replies.
type strTestEnv struct {
	t *testing.T
	s *Server
	c *Client
}

func newStrTestEnv(t *testing.T) *strTestEnv {
	s, c := newTestServer(t, false)
	return &strTestEnv{t: t, s: s, c: c}
}

func (e *strTestEnv) do(args ...string) string {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	e.c.W.B = e.c.W.B[:0]
	e.s.Process(e.c, argv)
	return string(e.c.W.B)
}

// put stores a non-string value under key.
func (e *strTestEnv) putObj(key string) {
	sl := e.s.KS.Slot(slots.Of([]byte(key)))
	sl.Lock()
	sl.Set([]byte(key), &Entry{Obj: fakeObj{}})
	sl.Unlock()
}

type replyCase struct {
	args []string
	want string
}

func runCases(t *testing.T, e *strTestEnv, cases []replyCase) {
	t.Helper()
	for i, tc := range cases {
		if got := e.do(tc.args...); got != tc.want {
			t.Errorf("case %d %q:\n got  %q\n want %q", i, tc.args, got, tc.want)
		}
	}
}

func a(args ...string) []string { return args }

const wrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"

func TestStringCommands(t *testing.T) {
	e := newStrTestEnv(t)
	e.putObj("lst")
	runCases(t, e, []replyCase{
		{a("SET", "k", "v"), "+OK\r\n"},
		{a("GET", "k"), "$1\r\nv\r\n"},
		{a("GET", "nokey"), "$-1\r\n"},
		{a("GET", "lst"), wrongType},
		{a("SET", "k", "v2", "NX"), "$-1\r\n"},
		{a("SET", "k", "v2", "XX"), "+OK\r\n"},
		{a("SET", "n", "x", "XX"), "$-1\r\n"},
		{a("SET", "k", "v3", "GET"), "$2\r\nv2\r\n"},
		{a("SET", "k", "v4", "NX", "GET"), "$2\r\nv3\r\n"},
		{a("SET", "lst", "v", "GET"), wrongType},
		{a("SET", "k", "v", "EX", "0"), "-ERR invalid expire time in 'set' command\r\n"},
		{a("SET", "k", "v", "EX", "9223372036854776"), "-ERR invalid expire time in 'set' command\r\n"},
		{a("SET", "k", "v", "PX", "9223372036854775807"), "-ERR invalid expire time in 'set' command\r\n"},
		{a("SET", "k", "v", "EX", "x"), "-ERR value is not an integer or out of range\r\n"},
		{a("SET", "k", "v", "EX"), "-ERR syntax error\r\n"},
		{a("SET", "k", "v", "NX", "XX"), "-ERR syntax error\r\n"},
		{a("SET", "k", "v", "KEEPTTL", "EX", "1"), "-ERR syntax error\r\n"},
		{a("SET", "k", "v", "PERSIST"), "-ERR syntax error\r\n"},
		{a("SETNX", "k", "x"), ":0\r\n"},
		{a("SETNX", "new", "x"), ":1\r\n"},
		{a("SETEX", "se", "0", "v"), "-ERR invalid expire time in 'setex' command\r\n"},
		{a("PSETEX", "se", "-1", "v"), "-ERR invalid expire time in 'psetex' command\r\n"},
		{a("SETEX", "se", "100", "v"), "+OK\r\n"},
		{a("TTL", "se"), ":100\r\n"},
		{a("GETSET", "se", "w"), "$1\r\nv\r\n"},
		{a("TTL", "se"), ":-1\r\n"},
		{a("GETSET", "lst", "w"), wrongType},
		{a("GETDEL", "se"), "$1\r\nw\r\n"},
		{a("GETDEL", "se"), "$-1\r\n"},
		{a("GETDEL", "lst"), wrongType},
		{a("MSET", "a", "1", "b", "2"), "+OK\r\n"},
		{a("MSET", "a", "1", "b"), "-ERR wrong number of arguments for 'mset' command\r\n"},
		{a("MGET", "a", "b", "nokey", "lst"), "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n$-1\r\n"},
		{a("MSETNX", "a", "1", "zz", "2"), ":0\r\n"},
		{a("EXISTS", "zz"), ":0\r\n"},
		{a("MSETNX", "y1", "1", "y2", "2"), ":1\r\n"},
		{a("APPEND", "ap", "hello"), ":5\r\n"},
		{a("APPEND", "ap", " world"), ":11\r\n"},
		{a("STRLEN", "ap"), ":11\r\n"},
		{a("STRLEN", "lst"), wrongType},
		{a("APPEND", "lst", "x"), wrongType},
		{a("SETRANGE", "sr", "3", "ab"), ":5\r\n"},
		{a("GET", "sr"), "$5\r\n\x00\x00\x00ab\r\n"},
		{a("SETRANGE", "sr", "-1", "x"), "-ERR offset is out of range\r\n"},
		{a("SETRANGE", "sr", "0", ""), ":5\r\n"},
		{a("SETRANGE", "nokey", "0", ""), ":0\r\n"},
		{a("SETRANGE", "sr", "536870912", "x"), "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"},
		{a("SET", "gr", "Hello World"), "+OK\r\n"},
		{a("GETRANGE", "gr", "0", "4"), "$5\r\nHello\r\n"},
		{a("GETRANGE", "gr", "-5", "-1"), "$5\r\nWorld\r\n"},
		{a("GETRANGE", "gr", "-100", "-50"), "$1\r\nH\r\n"},
		{a("GETRANGE", "gr", "-50", "-100"), "$0\r\n\r\n"},
		{a("GETRANGE", "gr", "5", "2"), "$0\r\n\r\n"},
		{a("SUBSTR", "gr", "0", "100"), "$11\r\nHello World\r\n"},
		{a("GETRANGE", "nokey", "0", "1"), "$0\r\n\r\n"},
		{a("GETRANGE", "gr", "x", "1"), "-ERR value is not an integer or out of range\r\n"},
	})
}

func TestCounters(t *testing.T) {
	e := newStrTestEnv(t)
	e.putObj("lst")
	runCases(t, e, []replyCase{
		{a("INCR", "c"), ":1\r\n"},
		{a("INCRBY", "c", "41"), ":42\r\n"},
		{a("DECR", "c"), ":41\r\n"},
		{a("DECRBY", "c", "50"), ":-9\r\n"},
		{a("INCRBY", "c", "x"), "-ERR value is not an integer or out of range\r\n"},
		{a("INCR", "lst"), wrongType},
		{a("SET", "c", "9223372036854775807"), "+OK\r\n"},
		{a("INCR", "c"), "-ERR increment or decrement would overflow\r\n"},
		{a("DECRBY", "c", "-9223372036854775808"), "-ERR decrement would overflow\r\n"},
		{a("SET", "c", " 1"), "+OK\r\n"},
		{a("INCR", "c"), "-ERR value is not an integer or out of range\r\n"},
		{a("SET", "c", "-0"), "+OK\r\n"},
		{a("INCR", "c"), "-ERR value is not an integer or out of range\r\n"},
		{a("SET", "f", "10.5"), "+OK\r\n"},
		{a("INCRBYFLOAT", "f", "0.1"), "$4\r\n10.6\r\n"},
		{a("INCRBYFLOAT", "f", "-5"), "$3\r\n5.6\r\n"},
		{a("INCRBYFLOAT", "f", "abc"), "-ERR value is not a valid float\r\n"},
		{a("INCRBYFLOAT", "f", "inf"), "-ERR increment would produce NaN or Infinity\r\n"},
		{a("INCRBYFLOAT", "f", "1e5000"), "-ERR value is not a valid float\r\n"},
		{a("INCRBYFLOAT", "f", " 1"), "-ERR value is not a valid float\r\n"},
		{a("INCRBYFLOAT", "f", "0b1"), "-ERR value is not a valid float\r\n"},
		{a("INCRBYFLOAT", "lst", "1"), wrongType},
		{a("INCRBYFLOAT", "h", "0x10"), "$2\r\n16\r\n"},
		{a("INCRBYFLOAT", "h", "1.1e-7"), "$11\r\n16.00000011\r\n"},
		{a("INCRBYFLOAT", "z", "-0.0"), "$1\r\n0\r\n"},
		{a("INCRBYFLOAT", "p", "5.0000000000000000001"), "$1\r\n5\r\n"},
		{a("INCRBYFLOAT", "q", "1.23456789012345678901234"), "$19\r\n1.23456789012345679\r\n"},
		{a("INCRBYFLOAT", "g", "1e300"), "$301\r\n1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144\r\n"},
	})
	// 1 + 0.3 three times then -1.9, in 80-bit precision, is exactly what
	// redis-server prints.
	e.do("SET", "f", "1")
	for _, want := range []string{"1.3", "1.6", "1.9", "0"} {
		incr := "0.3"
		if want == "0" {
			incr = "-1.9"
		}
		if got := e.do("INCRBYFLOAT", "f", incr); got != "$"+strconv.Itoa(len(want))+"\r\n"+want+"\r\n" {
			t.Errorf("INCRBYFLOAT f %s = %q, want %q", incr, got, want)
		}
	}
}

func TestLcs(t *testing.T) {
	e := newStrTestEnv(t)
	e.putObj("lst")
	e.do("SET", "s1", "ohmytext")
	e.do("SET", "s2", "mynewtext")
	runCases(t, e, []replyCase{
		{a("LCS", "s1", "s2"), "$6\r\nmytext\r\n"},
		{a("LCS", "s1", "s2", "LEN"), ":6\r\n"},
		{a("LCS", "s1", "s2", "IDX"), "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"},
		{a("LCS", "s1", "s2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"), "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"},
		{a("LCS", "s1", "nokey"), "$0\r\n\r\n"},
		{a("LCS", "s1", "s2", "LEN", "IDX"), "-ERR If you want both the length and indexes, please just use IDX.\r\n"},
		{a("LCS", "s1", "s2", "MINMATCHLEN"), "-ERR syntax error\r\n"},
		{a("LCS", "s1", "lst"), "-ERR The specified keys must contain string values\r\n"},
	})
}

func TestStringEncoding(t *testing.T) {
	e := newStrTestEnv(t)
	cases := []struct {
		setup [][]string
		enc   string
		ref   string
	}{
		{[][]string{{"SET", "o", "123"}}, "int", ":2147483647\r\n"},
		{[][]string{{"SET", "o", "10000"}}, "int", ":1\r\n"},
		{[][]string{{"SET", "o", "-1"}}, "int", ":1\r\n"},
		{[][]string{{"SET", "o", "-0"}}, "embstr", ":1\r\n"},
		{[][]string{{"SET", "o", "012"}}, "embstr", ":1\r\n"},
		{[][]string{{"SET", "o", strings.Repeat("x", 44)}}, "embstr", ":1\r\n"},
		{[][]string{{"SET", "o", strings.Repeat("x", 45)}}, "raw", ":1\r\n"},
		{[][]string{{"DEL", "o"}, {"APPEND", "o", "12"}}, "int", ":2147483647\r\n"},
		{[][]string{{"APPEND", "o", "3"}}, "raw", ":1\r\n"},
		{[][]string{{"DEL", "o"}, {"INCRBYFLOAT", "o", "5"}}, "embstr", ":1\r\n"},
		{[][]string{{"INCR", "o"}}, "int", ":2147483647\r\n"},
		{[][]string{{"SETBIT", "o", "0", "0"}}, "raw", ":1\r\n"},
		{[][]string{{"DEL", "o"}, {"SETRANGE", "o", "0", "1"}}, "raw", ":1\r\n"},
		{[][]string{{"SET", "x", "5"}, {"DEL", "o"}, {"COPY", "x", "o"}}, "int", ":1\r\n"},
	}
	for i, tc := range cases {
		for _, s := range tc.setup {
			e.do(s...)
		}
		if got := e.do("OBJECT", "ENCODING", "o"); got != "$"+strconv.Itoa(len(tc.enc))+"\r\n"+tc.enc+"\r\n" {
			t.Errorf("case %d: encoding %q, want %s", i, got, tc.enc)
		}
		if got := e.do("OBJECT", "REFCOUNT", "o"); got != tc.ref {
			t.Errorf("case %d: refcount %q, want %q", i, got, tc.ref)
		}
	}
}

func TestStringPropagation(t *testing.T) {
	e := newStrTestEnv(t)
	var got [][]byte
	e.s.PropagateHook = func(c *Client, argv [][]byte) {
		got = got[:0]
		for _, a := range argv {
			got = append(got, append([]byte(nil), a...))
		}
	}
	check := func(args []string, want string) {
		t.Helper()
		got = nil
		e.do(args...)
		if s := string(bytes.Join(got, []byte(" "))); s != want {
			t.Errorf("%q propagated %q, want %q", args, s, want)
		}
	}
	now := nowMs()
	check(a("SET", "k", "v"), "SET k v")
	check(a("SET", "k", "v", "PXAT", "99999999999999"), "SET k v PXAT 99999999999999")
	check(a("SET", "k", "v", "EXAT", "99999999999"), "SET k v PXAT 99999999999000")
	check(a("SET", "k", "v", "GET", "KEEPTTL"), "SET k v KEEPTTL")
	check(a("SET", "k", "v", "NX"), "")
	check(a("GETSET", "k", "w"), "SET k w")
	check(a("GETEX", "k", "PXAT", "99999999999999"), "PEXPIREAT k 99999999999999")
	check(a("GETEX", "k", "PERSIST"), "PERSIST k")
	check(a("GETEX", "k", "PERSIST"), "")
	check(a("GETEX", "k", "EXAT", "1"), "DEL k")
	check(a("SET", "f", "1.5"), "SET f 1.5")
	check(a("INCRBYFLOAT", "f", "1"), "SET f 2.5 KEEPTTL")
	check(a("GETDEL", "f"), "DEL f")
	check(a("GETDEL", "f"), "")
	e.do("SET", "k", "v")
	check(a("EXPIREAT", "k", "99999999999"), "PEXPIREAT k 99999999999000")
	check(a("PEXPIRE", "k", "100000", "GT"), "")
	check(a("EXPIRE", "k", "-1"), "DEL k")
	// Relative expiries become absolute.
	e.do("SET", "k", "v")
	got = nil
	e.do("SET", "k", "v", "EX", "100")
	if len(got) != 5 || string(got[3]) != "PXAT" {
		t.Fatalf("SET EX propagated %q", got)
	}
	if ms, _ := ParseInt(got[4]); ms < now+100000 || ms > now+100000+5000 {
		t.Errorf("SET EX 100 propagated PXAT %d, now %d", ms, now)
	}
}

func TestParseLongDouble(t *testing.T) {
	ok := []string{"1", "-1.5", ".5", "5.", "1e10", "+3", "0x10", "0X1p-2", "inf", "-Infinity", "1E-300"}
	bad := []string{"", " 1", "1 ", "nan", "-nan", "1e", "0b1", "0o7", "1_0", "abc", "1e5000", "1e-5000", "--1"}
	for _, s := range ok {
		if _, _, valid := strParseLongDouble([]byte(s)); !valid {
			t.Errorf("%q rejected", s)
		}
	}
	for _, s := range bad {
		if _, _, valid := strParseLongDouble([]byte(s)); valid {
			t.Errorf("%q accepted", s)
		}
	}
}

func BenchmarkStringHotPath(b *testing.B) {
	s, c := newTestServer(b, false)
	cmds := map[string][][]byte{
		"SET":  {[]byte("SET"), []byte("key:000000000001"), []byte("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")},
		"GET":  {[]byte("GET"), []byte("key:000000000001")},
		"INCR": {[]byte("INCR"), []byte("counter:00000001")},
	}
	for _, name := range []string{"SET", "GET", "INCR"} {
		argv := cmds[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				s.Process(c, argv)
				c.W.B = c.W.B[:0]
			}
		})
	}
}

// TestResp3Replies checks the RESP3 shapes (null "_", map "%") against
// replies recorded from redis-server 7.0.15 after HELLO 3.
func TestResp3Replies(t *testing.T) {
	e := newStrTestEnv(t)
	e.c.W.Proto = 3
	e.do("SET", "s1", "ohmytext")
	e.do("SET", "s2", "mynewtext")
	runCases(t, e, []replyCase{
		{a("GET", "nokey"), "_\r\n"},
		{a("SET", "s1", "v", "NX"), "_\r\n"},
		{a("MGET", "s1", "nokey"), "*2\r\n$8\r\nohmytext\r\n_\r\n"},
		{a("LCS", "s1", "s2", "IDX", "MINMATCHLEN", "4"), "%2\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n"},
		{a("BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "10"), "*1\r\n_\r\n"},
		{a("OBJECT", "ENCODING", "nokey"), "_\r\n"},
		{a("GETEX", "nokey"), "_\r\n"},
		{a("INCRBYFLOAT", "f", "1.5"), "$3\r\n1.5\r\n"},
		{a("SCAN", "0", "MATCH", "s2"), "*2\r\n$1\r\n0\r\n*1\r\n$2\r\ns2\r\n"},
	})
	e.do("DEL", "s1", "s2", "bf", "f")
	if got := e.do("RANDOMKEY"); got != "_\r\n" {
		t.Errorf("RANDOMKEY on empty (RESP3) = %q", got)
	}
}
