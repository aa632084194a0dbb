package integration

import (
	"strings"
	"testing"
	"time"
)

// TestCoreProtocol checks the wire behaviour of the core: unknown commands,
// arity errors, inline commands, pipelining and protocol errors.
func TestCoreProtocol(t *testing.T) {
	n := StartNode(t, Options{})
	r := DialRaw(t, n.Addr())
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"PING"}, "+PONG\r\n"},
		{[]string{"ping", "hi"}, "$2\r\nhi\r\n"},
		{[]string{"NOSUCH", "a", "b"}, "-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n"},
		{[]string{"GET"}, "-ERR wrong number of arguments for 'get' command\r\n"},
		{[]string{"SET", "k", "v"}, "+OK\r\n"},
		{[]string{"GET", "k"}, "$1\r\nv\r\n"},
		{[]string{"GET", "missing"}, "$-1\r\n"},
	}
	for _, c := range cases {
		got, err := r.Do(c.args...)
		if err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		if got != c.want {
			t.Errorf("%q = %q, want %q", c.args, got, c.want)
		}
	}
	// Inline and pipelined commands.
	if err := r.Send("PING\r\nGET k\r\n*1\r\n$4\r\nPING\r\n"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"+PONG\r\n", "$1\r\nv\r\n", "+PONG\r\n"} {
		got, err := r.ReadReply()
		if err != nil || got != want {
			t.Fatalf("pipelined reply %q (%v), want %q", got, err, want)
		}
	}
}

// TestProtocolErrorsCloseConnection sends malformed requests: each gets
// Redis's protocol error and the connection is closed; the server lives on.
func TestProtocolErrorsCloseConnection(t *testing.T) {
	n := StartNode(t, Options{})
	bad := map[string]string{
		"*1\r\n$-5\r\n":            "-ERR Protocol error: invalid bulk length\r\n",
		"*x\r\n":                   "-ERR Protocol error: invalid multibulk length\r\n",
		"*1\r\n+PING\r\n":          "-ERR Protocol error: expected '$', got '+'\r\n",
		"*1\r\n$9999999999\r\n":    "-ERR Protocol error: invalid bulk length\r\n",
		"PING \"unbalanced\r\n":    "-ERR Protocol error: unbalanced quotes in request\r\n",
		strings.Repeat("a", 70000): "-ERR Protocol error: too big inline request\r\n",
	}
	for in, want := range bad {
		r := DialRaw(t, n.Addr())
		if err := r.Send(in); err != nil {
			t.Fatal(err)
		}
		got, err := r.ReadReply()
		if err != nil || got != want {
			t.Errorf("input %.30q: reply %q (%v), want %q", in, got, err, want)
		}
		if _, err := r.ReadReply(); err == nil {
			t.Errorf("input %.30q: connection still open", in)
		}
	}
	if got, _ := DialRaw(t, n.Addr()).Do("PING"); got != "+PONG\r\n" {
		t.Fatalf("server unhealthy after bad input: %q", got)
	}
}

// TestDifferentialCore compares core replies with a real redis-server 7.
func TestDifferentialCore(t *testing.T) {
	s, r := DiffPair(t)
	steps := []Step{
		S("PING"), S("PING", "x"), S("ECHO", "hello"), S("SET", "a", "1"), S("GET", "a"),
		S("GET", "nope"), S("GET"), S("NOSUCHCMD", "x"), S("ECHO"),
	}
	Differential(t, s, r, 2, steps)
	Differential(t, s, r, 3, []Step{S("GET", "nope"), S("SET", "b", "2"), S("GET", "b")})
}

// TestShutdownOnSIGTERM checks a clean exit on SIGTERM.
func TestShutdownOnSIGTERM(t *testing.T) {
	n := StartNode(t, Options{})
	n.Stop()
	Eventually(t, 5*time.Second, "process exit", func() bool { return !n.Running() })
	if code := n.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM\n%s", code, n.Tail(20))
	}
}
