package node

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slotkv/slotkv/slots"
)

// startNetServer runs a real listening server on 127.0.0.1 (ephemeral port).
func startNetServer(t *testing.T, edit func(*Config)) *Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Bind = []string{"127.0.0.1"}
	cfg.Port = 0
	cfg.Save = ""
	cfg.Dir = t.TempDir()
	if edit != nil {
		edit(&cfg)
	}
	s := NewServer(&cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(s.Shutdown)
	return s
}

type rawConn struct {
	t  *testing.T
	c  net.Conn
	rd *bufio.Reader
}

func dialRaw(t *testing.T, s *Server) *rawConn {
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, rd: bufio.NewReader(c)}
}

func (r *rawConn) send(args ...string) {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	if _, err := r.c.Write([]byte(b.String())); err != nil {
		r.t.Fatal(err)
	}
}

// expect reads exactly len(want) bytes and compares.
func (r *rawConn) expect(want string) {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, len(want))
	if _, err := io.ReadFull(r.rd, buf); err != nil {
		r.t.Fatalf("reading %q: %v (got %q)", want, err, buf)
	}
	if string(buf) != want {
		r.t.Fatalf("got  %q\nwant %q", buf, want)
	}
}

func (r *rawConn) do(want string, args ...string) {
	r.t.Helper()
	r.send(args...)
	r.expect(want)
}

func TestPubSubBasics(t *testing.T) {
	s := startNetServer(t, nil)
	sub := dialRaw(t, s)
	pub := dialRaw(t, s)
	sub.do("*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n", "UNSUBSCRIBE")
	sub.do("*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n", "SUBSCRIBE", "a", "b", "a")
	sub.do("*3\r\n$10\r\npsubscribe\r\n$5\r\nh*llo\r\n:3\r\n", "PSUBSCRIBE", "h*llo")
	sub.do("*3\r\n$10\r\nssubscribe\r\n$2\r\ns1\r\n:1\r\n", "SSUBSCRIBE", "s1")
	sub.do("-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n", "GET", "x")
	sub.do("*2\r\n$4\r\npong\r\n$0\r\n\r\n", "PING")
	pub.do(":1\r\n", "PUBLISH", "a", "m1")
	sub.expect("*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nm1\r\n")
	pub.do(":1\r\n", "PUBLISH", "hello", "m2")
	sub.expect("*4\r\n$8\r\npmessage\r\n$5\r\nh*llo\r\n$5\r\nhello\r\n$2\r\nm2\r\n")
	pub.do(":0\r\n", "PUBLISH", "s1", "m3")
	pub.do(":1\r\n", "SPUBLISH", "s1", "m4")
	sub.expect("*3\r\n$8\r\nsmessage\r\n$2\r\ns1\r\n$2\r\nm4\r\n")
	pub.do("*2\r\n$1\r\na\r\n$1\r\nb\r\n", "PUBSUB", "CHANNELS")
	pub.do("*1\r\n$1\r\nb\r\n", "PUBSUB", "CHANNELS", "b*")
	pub.do("*4\r\n$1\r\na\r\n:1\r\n$1\r\nz\r\n:0\r\n", "PUBSUB", "NUMSUB", "a", "z")
	pub.do(":1\r\n", "PUBSUB", "NUMPAT")
	pub.do("*1\r\n$2\r\ns1\r\n", "PUBSUB", "SHARDCHANNELS")
	pub.do("*2\r\n$2\r\ns1\r\n:1\r\n", "PUBSUB", "SHARDNUMSUB", "s1")
	sub.do("*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n", "UNSUBSCRIBE")
	sub.do("*3\r\n$12\r\npunsubscribe\r\n$5\r\nh*llo\r\n:0\r\n", "PUNSUBSCRIBE")
	sub.do("*3\r\n$12\r\nsunsubscribe\r\n$2\r\ns1\r\n:0\r\n", "SUNSUBSCRIBE")
	sub.do("+PONG\r\n", "PING")
	pub.do(":0\r\n", "PUBLISH", "a", "m1")
	pub.do(":0\r\n", "PUBSUB", "NUMPAT")
}

func TestPubSubDisconnectCleanup(t *testing.T) {
	s := startNetServer(t, nil)
	sub := dialRaw(t, s)
	pub := dialRaw(t, s)
	sub.do("*3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n", "SUBSCRIBE", "x")
	sub.c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		pub.send("PUBLISH", "x", "y")
		pub.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := pub.rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == ":0\r\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("subscriber never cleaned up")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPubSubSlowSubscriber floods a subscriber that never reads: the
// publisher keeps going and the subscriber is disconnected at the limit.
func TestPubSubSlowSubscriber(t *testing.T) {
	s := startNetServer(t, func(c *Config) { c.Ignored["client-output-buffer-limit"] = "pubsub 1mb 256kb 1" })
	sub := dialRaw(t, s)
	sub.do("*3\r\n$9\r\nsubscribe\r\n$1\r\nf\r\n:1\r\n", "SUBSCRIBE", "f")
	if tc, ok := sub.c.(*net.TCPConn); ok {
		tc.SetReadBuffer(4096)
	}
	pub := dialRaw(t, s)
	msg := strings.Repeat("x", 16<<10)
	start := time.Now()
	gone := false
	for i := 0; i < 5000 && time.Since(start) < 20*time.Second; i++ {
		pub.send("PUBLISH", "f", msg)
		pub.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := pub.rd.ReadString('\n')
		if err != nil {
			t.Fatalf("publisher blocked or failed: %v", err)
		}
		if line == ":0\r\n" {
			gone = true
			break
		}
	}
	if !gone {
		t.Fatal("slow subscriber was never disconnected")
	}
}

func TestShardSlotRemoved(t *testing.T) {
	s := startNetServer(t, nil)
	sub := dialRaw(t, s)
	sub.do("*3\r\n$10\r\nssubscribe\r\n$2\r\ns1\r\n:1\r\n*3\r\n$10\r\nssubscribe\r\n$5\r\n{a}s2\r\n:2\r\n", "SSUBSCRIBE", "s1", "{a}s2")
	s.ShardSlotRemoved(slots.Of([]byte("s1")))
	sub.expect("*3\r\n$12\r\nsunsubscribe\r\n$2\r\ns1\r\n:1\r\n")
	pub := dialRaw(t, s)
	pub.do("*4\r\n$2\r\ns1\r\n:0\r\n$5\r\n{a}s2\r\n:1\r\n", "PUBSUB", "SHARDNUMSUB", "s1", "{a}s2")
	// the client's own view catches up on its next pub/sub command
	sub.do("*3\r\n$12\r\nsunsubscribe\r\n$5\r\n{a}s2\r\n:0\r\n", "SUNSUBSCRIBE")
}
