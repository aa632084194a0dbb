// Package integration holds tests that start real slotkv-server processes
// (and real redis-server 7 processes for differential tests) on 127.0.0.x
// addresses and drive them with go-redis v9 and redis-cli.
//
// The harness builds slotkv-server once per test binary (TestMain), picks
// free ports, waits for readiness by polling, and stops processes by PID.
// Every wait is bounded; nothing sleeps for a fixed time.
package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ServerBin is the slotkv-server binary under test (set by Build).
var ServerBin string

var buildOnce sync.Once
var buildErr error

// Build compiles slotkv-server into a temp dir (once), unless SLOTKV_BIN
// names an existing binary.
func Build() error {
	buildOnce.Do(func() {
		if b := os.Getenv("SLOTKV_BIN"); b != "" {
			ServerBin = b
			return
		}
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Dir(filepath.Dir(file))
		dir, err := os.MkdirTemp("", "slotkv-bin-")
		if err != nil {
			buildErr = err
			return
		}
		ServerBin = filepath.Join(dir, "slotkv-server")
		cmd := exec.Command("go", "build", "-o", ServerBin, "./cmd/slotkv-server")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build slotkv-server: %v\n%s", err, out)
		}
	})
	return buildErr
}

var (
	portMu   sync.Mutex
	nextPort = 21000 + rand.Intn(8000)
)

// FreePort returns a port p on ip such that p and p+10000 (the cluster bus)
// are free for TCP and UDP.
func FreePort(t testing.TB, ip string) int {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	for tries := 0; tries < 2000; tries++ {
		p := nextPort
		nextPort++
		if nextPort > 29999 {
			nextPort = 21000
		}
		if portFree(ip, p) && portFree(ip, p+10000) {
			return p
		}
	}
	t.Fatalf("no free port on %s", ip)
	return 0
}

func portFree(ip string, p int) bool {
	addr := net.JoinHostPort(ip, strconv.Itoa(p))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	u.Close()
	return true
}

// Node is one server process (slotkv-server or redis-server).
type Node struct {
	t      testing.TB
	Bin    string
	IP     string
	Port   int
	Dir    string
	Args   []string // extra arguments
	Log    string   // path of the process's stdout+stderr
	cmd    *exec.Cmd
	exited chan struct{}
	mu     sync.Mutex
	client *redis.Client
}

// Addr returns "ip:port".
func (n *Node) Addr() string { return net.JoinHostPort(n.IP, strconv.Itoa(n.Port)) }

// Options for StartNode.
type Options struct {
	IP      string   // default 127.0.0.1
	Cluster bool     // --cluster-enabled yes (node timeout 2000 unless given in Args)
	Args    []string // extra --flags
	Dir     string   // reuse a data dir (restart); default a fresh temp dir
	Port    int      // reuse a port; default a free one
}

// StartNode starts slotkv-server and waits until it answers PING.
func StartNode(t testing.TB, o Options) *Node {
	t.Helper()
	if err := Build(); err != nil {
		t.Fatal(err)
	}
	return startProc(t, ServerBin, o)
}

// RedisServerBin finds redis-server; tests needing it fail (not skip) when
// it is missing, since CI installs it.
func RedisServerBin(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found: install Debian's redis-server (make test does)")
	}
	return p
}

// StartRedis starts a real redis-server with the same option conventions.
func StartRedis(t testing.TB, o Options) *Node {
	t.Helper()
	return startProc(t, RedisServerBin(t), o)
}

func startProc(t testing.TB, bin string, o Options) *Node {
	t.Helper()
	if o.IP == "" {
		o.IP = "127.0.0.1"
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.Port == 0 {
		o.Port = FreePort(t, o.IP)
	}
	n := &Node{t: t, Bin: bin, IP: o.IP, Port: o.Port, Dir: o.Dir}
	args := []string{"--port", strconv.Itoa(o.Port), "--bind", o.IP, "--dir", o.Dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "no", "--daemonize", "no"}
	if o.Cluster {
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000", "--cluster-announce-ip", o.IP)
		if o.IP != "127.0.0.1" {
			args = append(args, "--bind-source-addr", o.IP)
		}
	}
	n.Args = append(args, o.Args...)
	n.start()
	t.Cleanup(n.Stop)
	return n
}

func (n *Node) start() {
	n.t.Helper()
	n.Log = filepath.Join(n.Dir, fmt.Sprintf("server-%d.log", n.Port))
	f, err := os.OpenFile(n.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		n.t.Fatal(err)
	}
	cmd := exec.Command(n.Bin, n.Args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Dir = n.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		n.t.Fatalf("start %s: %v", n.Bin, err)
	}
	f.Close()
	n.cmd = cmd
	n.exited = make(chan struct{})
	go func(c *exec.Cmd, ch chan struct{}) { c.Wait(); close(ch) }(cmd, n.exited)
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-n.exited:
			n.t.Fatalf("%s on %s exited during startup:\n%s", filepath.Base(n.Bin), n.Addr(), n.Tail(40))
		default:
		}
		if pingRaw(n.Addr()) {
			return
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s on %s not ready after 15s:\n%s", filepath.Base(n.Bin), n.Addr(), n.Tail(40))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func pingRaw(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	// -LOADING or -NOAUTH still mean the process is up and serving the port.
	return err == nil && (strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH") || strings.HasPrefix(line, "-LOADING"))
}

// Tail returns the last n lines of the process log.
func (n *Node) Tail(lines int) string {
	b, _ := os.ReadFile(n.Log)
	ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

// Client returns a go-redis client (RESP3) for the node, closed at cleanup.
func (n *Node) Client() *redis.Client {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.client == nil {
		n.client = redis.NewClient(&redis.Options{Addr: n.Addr(), DialTimeout: 2 * time.Second, ReadTimeout: 10 * time.Second, MaxRetries: -1})
	}
	return n.client
}

// NewClient returns a fresh go-redis client with the given protocol (2 or
// 3); the caller's test closes it at cleanup.
func (n *Node) NewClient(t testing.TB, proto int) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: n.Addr(), Protocol: proto, DialTimeout: 2 * time.Second, ReadTimeout: 10 * time.Second, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// PID returns the process id.
func (n *Node) PID() int { return n.cmd.Process.Pid }

// Running reports whether the process is alive.
func (n *Node) Running() bool {
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

func (n *Node) closeClient() {
	n.mu.Lock()
	if n.client != nil {
		n.client.Close()
		n.client = nil
	}
	n.mu.Unlock()
}

// Kill sends SIGKILL and waits for the process to go.
func (n *Node) Kill() {
	n.closeClient()
	if !n.Running() {
		return
	}
	n.cmd.Process.Kill()
	<-n.exited
}

// Stop sends SIGTERM, waits up to 10 s, then SIGKILL.
func (n *Node) Stop() {
	n.closeClient()
	if !n.Running() {
		return
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(10 * time.Second):
		n.t.Logf("%s did not stop within 10s of SIGTERM; killing", n.Addr())
		n.cmd.Process.Kill()
		<-n.exited
	}
}

// Pause sends SIGSTOP; Resume sends SIGCONT.
func (n *Node) Pause()  { n.cmd.Process.Signal(syscall.SIGSTOP) }
func (n *Node) Resume() { n.cmd.Process.Signal(syscall.SIGCONT) }

// Restart starts the process again with the same port, dir and args.
func (n *Node) Restart() {
	n.t.Helper()
	n.Stop()
	n.start()
}

// RestartAfterKill restarts a process stopped by Kill.
func (n *Node) Start() { n.t.Helper(); n.start() }

// Eventually polls cond every 20 ms until it is true or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for: %s", timeout, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Ctx returns a context bounded to d, cancelled at test cleanup.
func Ctx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// RedisCLI runs redis-cli with args (bounded to 60 s) and returns its
// combined output.
func RedisCLI(t testing.TB, args ...string) (string, error) {
	t.Helper()
	p, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatalf("redis-cli not found: install Debian's redis-tools (make test does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, p, args...).CombinedOutput()
	return string(out), err
}

// Raw is a raw RESP connection for byte-exact checks.
type Raw struct {
	c  net.Conn
	rd *bufio.Reader
}

// DialRaw opens a raw connection to addr.
func DialRaw(t testing.TB, addr string) *Raw {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &Raw{c: c, rd: bufio.NewReader(c)}
}

// Do sends one command and returns the raw reply bytes.
func (r *Raw) Do(args ...string) (string, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	r.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.c.Write(b.Bytes()); err != nil {
		return "", err
	}
	return r.ReadReply()
}

// Send writes raw bytes as they are.
func (r *Raw) Send(raw string) error {
	r.c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err := r.c.Write([]byte(raw))
	return err
}

// ReadReply reads one complete RESP2/RESP3 reply and returns its bytes.
func (r *Raw) ReadReply() (string, error) {
	var b bytes.Buffer
	err := readReply(r.rd, &b, nil)
	return b.String(), err
}

// readReply copies one reply into b. If sortArrays is non-nil, the elements
// of top-level aggregates are sorted (for replies Redis leaves unordered).
func readReply(rd *bufio.Reader, b *bytes.Buffer, elems *[]string) error {
	line, err := rd.ReadString('\n')
	if err != nil {
		return err
	}
	if len(line) < 3 {
		return fmt.Errorf("short RESP line %q", line)
	}
	b.WriteString(line)
	body := line[1 : len(line)-2]
	switch line[0] {
	case '$', '=', '!':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := ioReadFull(rd, buf); err != nil {
			return err
		}
		b.Write(buf)
	case '*', '~', '>', '%', '|':
		n, _ := strconv.Atoi(body)
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			if elems != nil {
				var eb bytes.Buffer
				if err := readReply(rd, &eb, nil); err != nil {
					return err
				}
				*elems = append(*elems, eb.String())
				continue
			}
			if err := readReply(rd, b, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

func ioReadFull(rd *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := rd.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// DoSorted sends a command and returns its reply with top-level elements
// sorted (header kept), for replies whose order Redis does not promise.
func (r *Raw) DoSorted(args ...string) (string, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	r.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.c.Write(b.Bytes()); err != nil {
		return "", err
	}
	var out bytes.Buffer
	var elems []string
	if err := readReply(r.rd, &out, &elems); err != nil {
		return "", err
	}
	sort.Strings(elems)
	return out.String() + strings.Join(elems, ""), nil
}

// Step is one command of a differential test.
type Step struct {
	Args      []string
	Unordered bool // compare with top-level elements sorted
}

// S builds a Step from its arguments.
func S(args ...string) Step { return Step{Args: args} }

// U builds an unordered Step.
func U(args ...string) Step { return Step{Args: args, Unordered: true} }

// Differential sends the same steps to slotkv and redis-server over fresh
// raw connections (after HELLO proto when proto is 3) and reports every
// reply that differs byte for byte.
func Differential(t *testing.T, slotkv, redisSrv *Node, proto int, steps []Step) {
	t.Helper()
	a, b := DialRaw(t, slotkv.Addr()), DialRaw(t, redisSrv.Addr())
	if proto == 3 {
		a.Do("HELLO", "3")
		b.Do("HELLO", "3")
	}
	for i, st := range steps {
		do := func(r *Raw) (string, error) {
			if st.Unordered {
				return r.DoSorted(st.Args...)
			}
			return r.Do(st.Args...)
		}
		got, err1 := do(a)
		want, err2 := do(b)
		if err1 != nil || err2 != nil {
			t.Fatalf("step %d %q: io error slotkv=%v redis=%v", i, st.Args, err1, err2)
		}
		if got != want {
			t.Errorf("step %d %q (RESP%d):\n slotkv: %q\n  redis: %q", i, st.Args, proto, got, want)
		}
	}
}

// DiffPair starts one slotkv-server and one redis-server (standalone) for
// differential tests.
func DiffPair(t *testing.T) (slotkv, redisSrv *Node) {
	t.Helper()
	return StartNode(t, Options{}), StartRedis(t, Options{})
}
