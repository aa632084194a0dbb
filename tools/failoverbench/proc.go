package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one server process (slotkv-server or redis-server) started with
// the same option conventions as integration/harness.go.
type proc struct {
	bin    string
	ip     string
	port   int
	dir    string
	args   []string
	log    string
	cmd    *exec.Cmd
	exited chan struct{}
}

var (
	procsMu sync.Mutex
	procs   []*proc
)

// killAll ends every process this tool started (on exit or signal).
func killAll() {
	procsMu.Lock()
	defer procsMu.Unlock()
	for _, p := range procs {
		if p.running() {
			p.cmd.Process.Kill()
			<-p.exited
		}
	}
}

func (p *proc) addr() string { return net.JoinHostPort(p.ip, strconv.Itoa(p.port)) }

// newProc prepares a server on ip:port with its own data dir under root.
// cluster > 0 enables cluster mode with that node timeout (ms).
func newProc(bin, root, ip string, port int, cluster int, extra []string) (*proc, error) {
	dir := filepath.Join(root, fmt.Sprintf("%s-%d", ip, port))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := &proc{bin: bin, ip: ip, port: port, dir: dir, log: filepath.Join(dir, "server.log")}
	p.args = []string{"--port", strconv.Itoa(port), "--bind", ip, "--dir", dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "no", "--daemonize", "no"}
	if cluster > 0 {
		p.args = append(p.args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.Itoa(cluster), "--cluster-announce-ip", ip)
	}
	if ip != "127.0.0.1" {
		p.args = append(p.args, "--bind-source-addr", ip)
	}
	p.args = append(p.args, extra...)
	procsMu.Lock()
	procs = append(procs, p)
	procsMu.Unlock()
	return p, nil
}

// start runs the process and waits (15 s at most) until it answers PING.
func (p *proc) start() error {
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Dir = p.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	f.Close()
	if err != nil {
		return fmt.Errorf("start %s: %v", p.bin, err)
	}
	p.cmd = cmd
	p.exited = make(chan struct{})
	go func(c *exec.Cmd, ch chan struct{}) { c.Wait(); close(ch) }(cmd, p.exited)
	deadline := time.Now().Add(15 * time.Second)
	for !pingRaw(p.addr()) {
		if !p.running() {
			return fmt.Errorf("%s on %s exited during startup; log %s", filepath.Base(p.bin), p.addr(), p.log)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s on %s not ready after 15s; log %s", filepath.Base(p.bin), p.addr(), p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func (p *proc) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the process to go.
func (p *proc) kill() {
	if p.running() {
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// stop sends SIGTERM, then SIGKILL after 10 s.
func (p *proc) stop() {
	if !p.running() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.kill()
	}
}

// cpu returns the process's CPU time so far, with that of its reaped
// children (utime+stime+cutime+cstime from /proc: redis-server's fork for a
// full sync counts).
func (p *proc) cpu() time.Duration {
	if !p.running() {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	s := string(b)
	// fields after the parenthesised command name; utime, stime are 14, 15
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:]
	}
	f := strings.Fields(s)
	if len(f) < 15 {
		return 0
	}
	var ticks int64
	for _, i := range []int{11, 12, 13, 14} {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += v
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ is 100 on Linux
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
	return err == nil && (strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-LOADING"))
}

// freePort returns a port >= from such that it and port+10000 (cluster
// bus) are free on ip.
func freePort(ip string, from int) (int, error) {
	for p := from; p < from+2000 && p+10000 < 65536; p++ {
		if portFree(ip, p) && portFree(ip, p+10000) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free port on %s from %d", ip, from)
}

func portFree(ip string, p int) bool {
	addr := net.JoinHostPort(ip, strconv.Itoa(p))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// nthIP returns the address i steps after ip (127.0.0.61 + 2 = 127.0.0.63).
func nthIP(ip string, i int) (string, error) {
	a := net.ParseIP(ip).To4()
	if a == nil || int(a[3])+i > 254 {
		return "", fmt.Errorf("bad --ip %q for %d nodes", ip, i+1)
	}
	b := append(net.IP(nil), a...)
	b[3] += byte(i)
	return b.String(), nil
}

// startNodes starts n servers on consecutive IPs from ip (ports from base,
// or a free one each).
func startNodes(o *common, root string, n, cluster int, extra []string) ([]*proc, error) {
	var out []*proc
	for i := 0; i < n; i++ {
		ip, err := nthIP(o.ip, i)
		if err != nil {
			return out, err
		}
		from := o.basePort
		if from == 0 {
			from = 30000 + int(time.Now().UnixNano()%9000)
		}
		port, err := freePort(ip, from+i)
		if err != nil {
			return out, err
		}
		p, err := newProc(o.serverBin, root, ip, port, cluster, extra)
		if err != nil {
			return out, err
		}
		if err := p.start(); err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}
