package node

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestServeRawTCP drives serveRaw (the raw-syscall connection loop) over a
// real socket: requests split at every byte boundary, pipelines, values
// larger than the read buffer, a blocked client whose peer goes away, and
// QUIT.
func TestServeRawTCP(t *testing.T) {
	s := perfServer(t)
	addr := s.Addr().String()
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(20 * time.Second))
		return c, bufio.NewReader(c)
	}
	expect := func(rd *bufio.Reader, want string) {
		t.Helper()
		got := make([]byte, len(want))
		if _, err := io.ReadFull(rd, got); err != nil {
			t.Fatalf("reading %q: %v (got %q)", want, err, got)
		}
		if string(got) != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}

	c, rd := dial()
	// One byte at a time: every partial-command state of the reader.
	req := perfCmd("SET", "k", "hello")
	for i := range req {
		if _, err := c.Write(req[i : i+1]); err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	expect(rd, "+OK\r\n")

	// A pipeline of 1000 commands in one write, then inline commands.
	var b bytes.Buffer
	for i := 0; i < 1000; i++ {
		b.Write(perfCmd("INCR", "n"))
	}
	b.WriteString("GET k\r\nPING\r\n")
	c.Write(b.Bytes())
	var want strings.Builder
	for i := 1; i <= 1000; i++ {
		want.WriteString(":" + strconv.Itoa(i) + "\r\n")
	}
	want.WriteString("$5\r\nhello\r\n+PONG\r\n")
	expect(rd, want.String())

	// Values much larger than the 16 KB read buffer (full reads).
	big := strings.Repeat("v", 300<<10)
	c.Write(append(perfCmd("SET", "big", big), perfCmd("STRLEN", "big")...))
	expect(rd, "+OK\r\n:"+strconv.Itoa(len(big))+"\r\n")
	c.Write(perfCmd("GET", "big"))
	expect(rd, "$"+strconv.Itoa(len(big))+"\r\n"+big+"\r\n")

	// A blocked client whose peer closes is dropped (peerClosed through the
	// raw socket while serveRaw holds its read lock).
	bc, _ := dial()
	bc.Write(perfCmd("CLIENT", "SETNAME", "blocked"))
	bc.Write(perfCmd("BLPOP", "nolist", "0"))
	rawWaitFor(t, func() bool {
		return strings.Contains(rawClientList(t, addr), "name=blocked") && strings.Contains(rawClientList(t, addr), "cmd=blpop")
	})
	bc.Close()
	rawWaitFor(t, func() bool { return !strings.Contains(rawClientList(t, addr), "name=blocked") })

	// A blocked client is served when the list is pushed to.
	bc2, brd2 := dial()
	bc2.Write(perfCmd("BLPOP", "l", "0"))
	rawWaitFor(t, func() bool { return strings.Contains(rawClientList(t, addr), "cmd=blpop") })
	c.Write(perfCmd("RPUSH", "l", "x"))
	expect(rd, ":1\r\n")
	expect(brd2, "*2\r\n$1\r\nl\r\n$1\r\nx\r\n")

	// CLIENT KILL of a blocked client and of the killer itself: Close
	// never waits for the client's loop.
	kc, krd := dial()
	kc.Write(perfCmd("CLIENT", "ID"))
	line, err := krd.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	kid := strings.TrimSpace(line[1:])
	kc.Write(perfCmd("BLPOP", "nolist2", "0"))
	rawWaitFor(t, func() bool { return strings.Contains(rawClientList(t, addr), "id="+kid+" ") })
	c.Write(perfCmd("CLIENT", "KILL", "ID", kid))
	expect(rd, ":1\r\n")
	if _, err := krd.ReadByte(); err != io.EOF {
		t.Fatalf("killed client: %v, want EOF", err)
	}
	sc, srd := dial()
	sc.Write(perfCmd("CLIENT", "ID"))
	line, err = srd.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	sc.Write(perfCmd("CLIENT", "KILL", "ID", strings.TrimSpace(line[1:]), "SKIPME", "no"))
	expect(srd, ":1\r\n")
	if _, err := srd.ReadByte(); err != io.EOF {
		t.Fatalf("self-killed client: %v, want EOF", err)
	}

	// QUIT replies and closes.
	c.Write(perfCmd("QUIT"))
	expect(rd, "+OK\r\n")
	if _, err := rd.ReadByte(); err != io.EOF {
		t.Fatalf("after QUIT: %v, want EOF", err)
	}

	// A protocol error is answered and the connection closed.
	pc, prd := dial()
	pc.Write([]byte("*1\r\n$x\r\n"))
	expect(prd, "-ERR Protocol error: invalid bulk length\r\n")
	if _, err := prd.ReadByte(); err != io.EOF {
		t.Fatalf("after protocol error: %v, want EOF", err)
	}
}

// rawClientList asks CLIENT LIST over its own connection.
func rawClientList(t *testing.T, addr string) string {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write(perfCmd("CLIENT", "LIST"))
	rd := bufio.NewReader(c)
	line, err := rd.ReadString('\n')
	if err != nil || line[0] != '$' {
		t.Fatalf("CLIENT LIST: %q %v", line, err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	b := make([]byte, n)
	if _, err := io.ReadFull(rd, b); err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func rawWaitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
