package node

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestHelloAuthSelectReset(t *testing.T) {
	e := newSvEnv(t, func(c *Config) { c.RequirePass = "secret" })
	noauth := "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n"
	e.expect("-NOAUTH Authentication required.\r\n", "GET", "x")
	e.expect(noauth, "HELLO", "3")
	e.expect("-WRONGPASS invalid username-password pair or user is disabled.\r\n", "AUTH", "bad")
	e.expect("-WRONGPASS invalid username-password pair or user is disabled.\r\n", "AUTH", "someone", "secret")
	e.expect("-ERR syntax error\r\n", "AUTH", "a", "b", "c")
	e.expect("-WRONGPASS invalid username-password pair or user is disabled.\r\n", "HELLO", "3", "AUTH", "default", "nope")
	id := e.c.ID
	hello3 := "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n" + Version + "\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:" +
		itoa(id) + "\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
	e.expect(hello3, "HELLO", "3", "AUTH", "default", "secret", "SETNAME", "me")
	e.expect("$2\r\nme\r\n", "CLIENT", "GETNAME")
	e.expect("_\r\n", "GET", "x") // RESP3 null
	e.expect("-NOPROTO unsupported protocol version\r\n", "HELLO", "4")
	e.expect("-ERR Protocol version is not an integer or out of range\r\n", "HELLO", "x")
	e.expect("-ERR Syntax error in HELLO option 'FOO'\r\n", "HELLO", "3", "FOO")
	e.expect("-ERR Syntax error in HELLO option 'SETNAME'\r\n", "HELLO", "3", "SETNAME")
	e.expect("-ERR Client names cannot contain spaces, newlines or special characters.\r\n", "HELLO", "3", "SETNAME", "a b")
	e.expect("+OK\r\n", "SELECT", "0")
	e.expect("-ERR DB index is out of range\r\n", "SELECT", "1")
	e.expect("-ERR value is not an integer or out of range\r\n", "SELECT", "x")
	e.do("MULTI")
	e.expect("+RESET\r\n", "RESET")
	if e.c.InMulti || e.c.Name != "" || e.c.W.Proto != 2 || e.c.Authed {
		t.Errorf("RESET left state: multi %v name %q proto %d authed %v", e.c.InMulti, e.c.Name, e.c.W.Proto, e.c.Authed)
	}
	e.expect("-NOAUTH Authentication required.\r\n", "GET", "x")
	e.expect("+OK\r\n", "AUTH", "secret")
	e.expect("+OK\r\n", "AUTH", "default", "secret")
	e.expect("$-1\r\n", "GET", "x")

	// without requirepass
	f := newSvEnv(t, nil)
	f.expect("-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n", "AUTH", "x")
	f.expect("+OK\r\n", "AUTH", "default", "anything")
	g, _ := newTestServer(t, true)
	gc := g.newClient(f.c.conn)
	argv := [][]byte{[]byte("SELECT"), []byte("1")}
	g.Process(gc, argv)
	if got := string(gc.W.B); got != "-ERR SELECT is not allowed in cluster mode\r\n" {
		t.Errorf("cluster SELECT 1: %q", got)
	}
}

var clientLineRE = regexp.MustCompile(`^id=\d+ addr=\S* laddr=\S* fd=-?\d+ name=\S* age=\d+ idle=\d+ flags=[A-Za-z]+ db=0 sub=\d+ psub=\d+ ssub=\d+ multi=-?\d+ qbuf=\d+ qbuf-free=\d+ argv-mem=\d+ multi-mem=\d+ rbs=\d+ rbp=\d+ obl=\d+ oll=\d+ omem=\d+ tot-mem=\d+ events=r cmd=\S+ user=default redir=-1 resp=[23] lib-name=\S* lib-ver=\S*$`)

func TestClientCommands(t *testing.T) {
	e := newSvEnv(t, nil)
	other := e.newClient()
	e.expect(":"+itoa(e.c.ID)+"\r\n", "CLIENT", "ID")
	e.expect("$-1\r\n", "CLIENT", "GETNAME")
	e.expect("+OK\r\n", "CLIENT", "SETNAME", "worker-1")
	e.expect("$8\r\nworker-1\r\n", "CLIENT", "GETNAME")
	e.expect("-ERR Client names cannot contain spaces, newlines or special characters.\r\n", "CLIENT", "SETNAME", "a\nb")
	e.expect("+OK\r\n", "CLIENT", "SETINFO", "lib-name", "go-redis(,go1.26)")
	e.expect("+OK\r\n", "CLIENT", "SETINFO", "LIB-VER", "9.23.0")
	e.expect("-ERR Unrecognized option 'foo'\r\n", "CLIENT", "SETINFO", "foo", "x")
	e.expect("-ERR lib-name cannot contain spaces, newlines or special characters.\r\n", "CLIENT", "SETINFO", "lib-name", "a b")
	e.doOn(other, "CLIENT", "SETNAME", "other")
	e.doOn(other, "GET", "k")

	info := bulkBody(t, e.do("CLIENT", "INFO"))
	if !strings.HasSuffix(info, "\n") || !clientLineRE.MatchString(strings.TrimSuffix(info, "\n")) {
		t.Fatalf("CLIENT INFO format: %q", info)
	}
	for _, want := range []string{" name=worker-1 ", " cmd=client|info ", " lib-name=go-redis(,go1.26) lib-ver=9.23.0", " flags=N ", " multi=-1 "} {
		if !strings.Contains(info, want) {
			t.Errorf("CLIENT INFO lacks %q: %q", want, info)
		}
	}
	list := bulkBody(t, e.do("CLIENT", "LIST"))
	lines := strings.Split(strings.TrimSuffix(list, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("CLIENT LIST: %q", list)
	}
	for _, l := range lines {
		if !clientLineRE.MatchString(l) {
			t.Errorf("CLIENT LIST line format: %q", l)
		}
	}
	if !strings.Contains(lines[1], " name=other ") || !strings.Contains(lines[1], " cmd=get ") {
		t.Errorf("other client's line: %q", lines[1])
	}
	if got := bulkBody(t, e.do("CLIENT", "LIST", "ID", itoa(other.ID), "999999")); !strings.Contains(got, "name=other") || strings.Count(got, "\n") != 1 {
		t.Errorf("CLIENT LIST ID: %q", got)
	}
	e.expect("$0\r\n\r\n", "CLIENT", "LIST", "TYPE", "pubsub")
	e.expect("-ERR Unknown client type 'foo'\r\n", "CLIENT", "LIST", "TYPE", "foo")
	e.expect("-ERR Invalid client ID\r\n", "CLIENT", "LIST", "ID", "x")
	e.expect("-ERR syntax error\r\n", "CLIENT", "LIST", "foo")
	e.expect("+OK\r\n", "CLIENT", "NO-EVICT", "on")
	e.expect("+OK\r\n", "CLIENT", "NO-TOUCH", "ON")
	if info := bulkBody(t, e.do("CLIENT", "INFO")); !strings.Contains(info, " flags=eT ") {
		t.Errorf("flags after NO-EVICT/NO-TOUCH: %q", info)
	}
	e.expect("-ERR syntax error\r\n", "CLIENT", "NO-EVICT", "x")
	e.expect("+OK\r\n", "CLIENT", "REPLY", "ON")
	e.expect("-ERR syntax error\r\n", "CLIENT", "REPLY", "x")
	e.expect(":-1\r\n", "CLIENT", "GETREDIR")

	// KILL
	e.expect("-ERR No such client\r\n", "CLIENT", "KILL", "1.2.3.4:5")
	e.expect(":0\r\n", "CLIENT", "KILL", "ID", "999999")
	e.expect("-ERR client-id should be greater than 0\r\n", "CLIENT", "KILL", "ID", "x")
	e.expect("-ERR syntax error\r\n", "CLIENT", "KILL", "FOO", "bar")
	e.expect("-ERR Unknown client type 'foo'\r\n", "CLIENT", "KILL", "TYPE", "foo")
	e.expect("-ERR syntax error\r\n", "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "maybe")
	e.expect("-ERR No such user 'nobody'\r\n", "CLIENT", "KILL", "USER", "nobody")
	e.expect("-ERR syntax error\r\n", "CLIENT", "KILL", "ID", "1", "ADDR")
	e.expect(":1\r\n", "CLIENT", "KILL", "ID", itoa(other.ID))
	if !other.Closed() {
		t.Errorf("killed client is not closed")
	}
	e.expect(":0\r\n", "CLIENT", "KILL", "TYPE", "normal") // SKIPME yes by default
	e.expect(":1\r\n", "CLIENT", "KILL", "ID", itoa(e.c.ID), "SKIPME", "no")
	if !e.c.CloseAfterReply {
		t.Errorf("killing oneself must close after the reply")
	}
	e.c.CloseAfterReply = false
	if r := e.do("CLIENT", "HELP"); !strings.HasPrefix(r, "*54\r\n+CLIENT <subcommand>") {
		t.Errorf("CLIENT HELP: %.60q", r)
	}
}

func TestClientPause(t *testing.T) {
	e := newSvEnv(t, nil)
	w := e.newClient()
	e.expect("-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n", "CLIENT", "PAUSE", "10", "FOO")
	e.expect("-ERR timeout is not an integer or out of range\r\n", "CLIENT", "PAUSE", "x")
	e.expect("-ERR timeout is negative\r\n", "CLIENT", "PAUSE", "-1")
	e.expect("+OK\r\n", "CLIENT", "PAUSE", "60000", "WRITE")
	// reads go through during a WRITE pause
	if r := e.doOn(w, "GET", "k"); r != "$-1\r\n" {
		t.Fatalf("GET during WRITE pause: %q", r)
	}
	done := make(chan string, 1)
	go func() { done <- e.doOn(w, "SET", "k", "v") }()
	select {
	case r := <-done:
		t.Fatalf("SET ran during a WRITE pause: %q", r)
	case <-time.After(50 * time.Millisecond):
	}
	e.expect("+OK\r\n", "CLIENT", "UNPAUSE")
	select {
	case r := <-done:
		if r != "+OK\r\n" {
			t.Fatalf("SET after UNPAUSE: %q", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SET still blocked after UNPAUSE")
	}
	// a pause ends by itself
	e.expect("+OK\r\n", "CLIENT", "PAUSE", "30", "ALL")
	deadline := time.Now().Add(5 * time.Second)
	for pausedServers.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if r := e.doOn(w, "GET", "k"); r != "$1\r\nv\r\n" {
		t.Fatalf("GET after the pause expired: %q", r)
	}
}

func TestMonitorLine(t *testing.T) {
	e := newSvEnv(t, nil)
	e.c.Addr = "127.0.0.1:5000"
	argv := [][]byte{[]byte("set"), []byte("k\"\\"), []byte("a\r\n\t\x00\xff b")}
	got := string(monitorLine(e.c, commands["echo"], argv, time.Unix(1700000000, 5000)))
	want := "+1700000000.000005 [0 127.0.0.1:5000] \"set\" \"k\\\"\\\\\" \"a\\r\\n\\t\\x00\\xff b\"\r\n"
	if got != want {
		t.Errorf("monitor line:\n got  %q\n want %q", got, want)
	}
	hello := [][]byte{[]byte("HELLO"), []byte("3"), []byte("AUTH"), []byte("u"), []byte("p"), []byte("SETNAME"), []byte("n")}
	got = string(monitorLine(e.c, commands["hello"], hello, time.Unix(1, 0)))
	if !strings.HasSuffix(got, `"HELLO" "3" "AUTH" "(redacted)" "(redacted)" "SETNAME" "n"`+"\r\n") {
		t.Errorf("HELLO redaction: %q", got)
	}
}
