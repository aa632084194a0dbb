package node

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotkv/slotkv/node/resp"
)

func TestScriptRedisCases(t *testing.T) {
	e := newStrTestEnv(t)
	runCases(t, e, scriptRedisCases)
}

func TestScriptBasics(t *testing.T) {
	e := newStrTestEnv(t)
	unlock := `if redis.call("get",KEYS[1]) == ARGV[1] then return redis.call("del",KEYS[1]) else return 0 end`
	runCases(t, e, []replyCase{
		{a("SET", "lock", "me"), "+OK\r\n"},
		{a("EVAL", unlock, "1", "lock", "other"), ":0\r\n"},
		{a("GET", "lock"), "$2\r\nme\r\n"},
		{a("EVAL", unlock, "1", "lock", "me"), ":1\r\n"},
		{a("GET", "lock"), "$-1\r\n"},
		{a("SCRIPT", "LOAD", unlock), "$40\r\n" + string(sha1hexStr(unlock)) + "\r\n"},
		{a("EVALSHA", string(sha1hexStr(unlock)), "1", "lock", "me"), ":0\r\n"},
		{a("EVALSHA_RO", string(sha1hexStr(unlock)), "1", "lock", "me"), ":0\r\n"},
		{a("SCRIPT", "FLUSH"), "+OK\r\n"},
		{a("EVALSHA", string(sha1hexStr(unlock)), "1", "lock", "me"), "-NOSCRIPT No matching script. Please use EVAL.\r\n"},
		// undeclared keys in other slots (standalone): taken on demand
		{a("EVAL", `redis.call("set","zz1","a") redis.call("set","aa2","b") return redis.call("mget","zz1","aa2","nokey")`, "0"), "*3\r\n$1\r\na\r\n$1\r\nb\r\n$-1\r\n"},
		{a("EVAL", `return redis.call("dbsize")`, "1", "zz1"), ":2\r\n"},
		{a("EVAL", "return redis.call('incr', KEYS[1])", "1", "cnt"), ":1\r\n"},
		// shebang flags
		{a("EVAL", "#!lua flags=no-writes\nreturn redis.call('set','x','1')", "0"), "-ERR Write commands are not allowed from read-only scripts. script: " + string(sha1hexStr("#!lua flags=no-writes\nreturn redis.call('set','x','1')")) + ", on @user_script:2.\r\n"},
		{a("EVAL", "#!lua\nreturn 1", "0"), ":1\r\n"},
	})
	if e.c.allSlots || len(e.c.locked) != 0 {
		t.Fatalf("locks left: %v %v", e.c.allSlots, e.c.locked)
	}
	// pollution of globals does not leak into later scripts
	runCases(t, e, []replyCase{
		{a("EVAL", "table.insert(string, 'x') return 1", "0"), ":1\r\n"},
		{a("EVAL", "return rawget(string, 1)", "0"), "$-1\r\n"},
	})
}

func sha1hexStr(s string) []byte {
	h := sha1hex([]byte(s))
	return h[:]
}

func TestScriptInMulti(t *testing.T) {
	e := newStrTestEnv(t)
	runCases(t, e, []replyCase{
		{a("MULTI"), "+OK\r\n"},
		{a("EVAL", "return redis.call('set',KEYS[1],'v')", "1", "k"), "+QUEUED\r\n"},
		{a("EVAL", "return redis.call('get','k')", "0"), "+QUEUED\r\n"},
		{a("EXEC"), "*2\r\n+OK\r\n$1\r\nv\r\n"},
	})
}

func TestScriptRESP3(t *testing.T) {
	e := newStrTestEnv(t)
	e.c.W.Proto = 3
	runCases(t, e, []replyCase{
		{a("EVAL", "return nil", "0"), "_\r\n"},
		{a("EVAL", "return false", "0"), "_\r\n"},
		{a("EVAL", "redis.setresp(3) return true", "0"), "#t\r\n"},
		{a("EVAL", "redis.setresp(3) return redis.call('get','nokey')", "0"), "_\r\n"},
		{a("EVAL", "return {double=1.5}", "0"), ",1.5\r\n"},
		{a("EVAL", "return {map={a=1}}", "0"), "%1\r\n$1\r\na\r\n:1\r\n"},
	})
}

func TestRespParse(t *testing.T) {
	var w resp.Writer
	w.Proto = 3
	w.Array(3)
	w.Int(5)
	w.Null()
	w.Map(1)
	w.BulkString("k")
	w.Double(2.5)
	r, rest, err := ParseReply(w.B)
	if err != nil || len(rest) != 0 || r.Kind != '*' || len(r.Elems) != 3 || r.Elems[0].Int != 5 || !r.Elems[1].Nil || r.Elems[2].Elems[1].Num != 2.5 {
		t.Fatalf("%+v %q %v", r, rest, err)
	}
	for _, bad := range []string{"", "*2\r\n:1\r\n", "$5\r\nab\r\n", ":x\r\n", "?\r\n"} {
		if _, _, err := ParseReply([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestScriptBusyKill runs an endless script; another client gets -BUSY,
// SCRIPT KILL stops it.
func TestScriptBusyKill(t *testing.T) {
	s, c := newTestServer(t, false)
	s.UpdateConfig(func(cfg *Config) error {
		cfg.Ignored = map[string]string{"busy-reply-threshold": "100"}
		return nil
	})
	e := &strTestEnv{t: t, s: s, c: c}
	_, other := newTestServerClient(t, s)
	run := func(cl *Client, args ...string) string {
		argv := make([][]byte, len(args))
		for i, x := range args {
			argv[i] = []byte(x)
		}
		cl.W.B = cl.W.B[:0]
		s.Process(cl, argv)
		return string(cl.W.B)
	}
	if r := run(other, "SCRIPT", "KILL"); r != "-NOTBUSY No scripts in execution right now.\r\n" {
		t.Fatal(r)
	}
	var wg sync.WaitGroup
	var got string
	wg.Add(1)
	go func() {
		defer wg.Done()
		got = e.do("EVAL", "local i = 0 while true do i = i + 1 end", "0")
	}()
	deadline := time.Now().Add(5 * time.Second)
	for run(other, "GET", "x") != "-"+errBusy+"\r\n" {
		if time.Now().After(deadline) {
			t.Fatal("never busy")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r := run(other, "MULTI"); r != "+OK\r\n" {
		t.Fatal(r)
	}
	run(other, "SET", "a", "1")
	if r := run(other, "EXEC"); r != "-EXECABORT Transaction discarded because of: "+errBusy+"\r\n" {
		t.Fatal(r)
	}
	if r := run(other, "SCRIPT", "KILL"); r != "+OK\r\n" {
		t.Fatal(r)
	}
	wg.Wait()
	if !strings.HasPrefix(got, "-ERR Script killed by user with SCRIPT KILL... script: ") {
		t.Fatalf("killed script replied %q", got)
	}
	if r := run(other, "GET", "x"); r != "$-1\r\n" {
		t.Fatal(r)
	}
	// a script that wrote cannot be killed
	wg.Add(1)
	go func() {
		defer wg.Done()
		got = e.do("EVAL", "redis.call('set','w','1') local i = 0 while i < 1e7 do i = i + 1 end return 1", "0")
	}()
	for run(other, "GET", "x") != "-"+errBusy+"\r\n" {
		if time.Now().After(deadline.Add(5 * time.Second)) {
			t.Fatal("never busy")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r := run(other, "SCRIPT", "KILL"); !strings.HasPrefix(r, "-UNKILLABLE") {
		t.Fatal(r)
	}
	wg.Wait()
}

func BenchmarkEvalSHAUnlock(b *testing.B) {
	s, c := newTestServer(b, false)
	unlock := `if redis.call("get",KEYS[1]) == ARGV[1] then return redis.call("del",KEYS[1]) else return 0 end`
	sha := string(sha1hexStr(unlock))
	run := func(args ...string) {
		argv := make([][]byte, len(args))
		for i, x := range args {
			argv[i] = []byte(x)
		}
		c.W.B = c.W.B[:0]
		s.Process(c, argv)
	}
	run("SCRIPT", "LOAD", unlock)
	argv := [][]byte{[]byte("EVALSHA"), []byte(sha), []byte("1"), []byte("lock:1"), []byte("tok")}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.W.B = c.W.B[:0]
		s.Process(c, argv)
	}
}
