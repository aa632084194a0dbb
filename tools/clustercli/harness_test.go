package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// This file starts real redis-server processes (Debian's redis-server 7)
// for the clustercli tests and drives redis-cli for comparisons. CI installs
// redis-server and redis-tools; a missing binary fails the tests loudly.

type redisNode struct {
	host string
	port int
	dir  string
	cmd  *exec.Cmd
	cli  *redis.Client
}

func (n *redisNode) addr() string { return n.host + ":" + strconv.Itoa(n.port) }

func requireBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found in PATH: these tests run clustercli against real Redis 7 nodes. "+
			"Install it with: apt-get install -y redis-server redis-tools", name)
	}
	return p
}

var portMu sync.Mutex
var nextPort = 20000 + rand.New(rand.NewSource(time.Now().UnixNano()+int64(os.Getpid()))).Intn(9000)

// freePort returns a port p such that p and p+10000 (the cluster bus) are
// free on host.
func freePort(t testing.TB, host string) int {
	portMu.Lock()
	defer portMu.Unlock()
	for i := 0; i < 2000; i++ {
		p := nextPort
		nextPort++
		if nextPort >= 30000 {
			nextPort = 20000
		}
		l1, err := net.Listen("tcp", fmt.Sprintf("%s:%d", host, p))
		if err != nil {
			continue
		}
		l2, err := net.Listen("tcp", fmt.Sprintf("%s:%d", host, p+10000))
		l1.Close()
		if err != nil {
			continue
		}
		l2.Close()
		return p
	}
	t.Fatal("no free port pair found")
	return 0
}

// startRedis starts n redis-server processes; cluster says whether they
// are cluster-enabled. They are killed when the test ends.
func startRedis(t testing.TB, n int, clusterMode bool, extra ...string) []*redisNode {
	t.Helper()
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = "127.0.0.1"
	}
	return startRedisOn(t, hosts, clusterMode, extra...)
}

// startRedisOn starts one redis-server per entry of hosts, bound to that
// loopback address (127.0.0.x).
func startRedisOn(t testing.TB, hosts []string, clusterMode bool, extra ...string) []*redisNode {
	t.Helper()
	bin := requireBinary(t, "redis-server")
	nodes := make([]*redisNode, len(hosts))
	for i := range nodes {
		host := hosts[i]
		port := freePort(t, host)
		dir := t.TempDir()
		args := []string{"--port", strconv.Itoa(port), "--bind", host, "--dir", dir,
			"--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", filepath.Join(dir, "redis.log")}
		if clusterMode {
			args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"),
				// Redis's default node timeout: a shared, overloaded CI machine
				// must not trigger failovers in the middle of a test.
				"--cluster-node-timeout", "15000", "--cluster-announce-ip", host)
		}
		cmd := exec.Command(bin, append(args, extra...)...)
		if err := cmd.Start(); err != nil {
			t.Fatalf("start redis-server: %v", err)
		}
		rn := &redisNode{host: host, port: port, dir: dir, cmd: cmd}
		rn.cli = redis.NewClient(&redis.Options{Addr: rn.addr(), Protocol: 2, DisableIdentity: true})
		nodes[i] = rn
		t.Cleanup(func() {
			rn.cli.Close()
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	ctx := context.Background()
	for _, rn := range nodes {
		waitFor(t, 10*time.Second, "redis-server "+rn.addr()+" ready", func() bool {
			err := rn.cli.Ping(ctx).Err()
			return err == nil || strings.Contains(err.Error(), "NOAUTH")
		})
	}
	return nodes
}

func addrsOf(ns []*redisNode) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.addr())
	}
	return out
}

// waitFor polls cond until it is true or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type result struct {
	code           int
	stdout, stderr string
}

// cli runs clustercli in-process.
func cli(t testing.TB, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := run(ctx, args, strings.NewReader(stdin), &out, &errb)
	return result{code, out.String(), errb.String()}
}

// cliJSON runs clustercli with --json and decodes stdout.
func cliJSON(t testing.TB, args ...string) (int, map[string]any, string) {
	t.Helper()
	r := cli(t, "", append(args, "--json")...)
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("clustercli %v: bad JSON (%v):\nstdout: %s\nstderr: %s", args, err, r.stdout, r.stderr)
	}
	return r.code, m, r.stderr
}

// redisCli runs redis-cli with the given stdin; returns output and exit code.
func redisCli(t testing.TB, stdin string, args ...string) (string, int) {
	t.Helper()
	bin := requireBinary(t, "redis-cli")
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TERM=dumb")
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("redis-cli: %v", err)
	}
	return string(out), code
}

// clusterClient returns a go-redis ClusterClient on the cluster.
func clusterClient(t testing.TB, addrs ...string) *redis.ClusterClient {
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Protocol: 2, DisableIdentity: true, MaxRedirects: 8})
	t.Cleanup(func() { c.Close() })
	return c
}

// loadKeys writes n string keys "key:<i>" = "val:<i>" (pipelined).
func loadKeys(t testing.TB, c *redis.ClusterClient, prefix string, n int) {
	t.Helper()
	ctx := context.Background()
	for start := 0; start < n; start += 1000 {
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := start; i < min(start+1000, n); i++ {
				p.Set(ctx, fmt.Sprintf("%s:%d", prefix, i), fmt.Sprintf("val:%d", i), 0)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("load keys: %v", err)
		}
	}
}

// verifyKeys checks every key written by loadKeys is present with its value.
func verifyKeys(t testing.TB, c *redis.ClusterClient, prefix string, n int) {
	t.Helper()
	ctx := context.Background()
	c.ReloadState(ctx)
	for start := 0; start < n; start += 1000 {
		cmds := make([]*redis.StringCmd, 0, 1000)
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := start; i < min(start+1000, n); i++ {
				cmds = append(cmds, p.Get(ctx, fmt.Sprintf("%s:%d", prefix, i)))
			}
			return nil
		})
		if err != nil {
			t.Fatalf("verify keys: %v", err)
		}
		for j, cmd := range cmds {
			if want := fmt.Sprintf("val:%d", start+j); cmd.Val() != want {
				t.Fatalf("key %s:%d = %q, want %q", prefix, start+j, cmd.Val(), want)
			}
		}
	}
}

// nodeID returns a node's id.
func nodeID(t testing.TB, n *redisNode) string {
	id, err := n.cli.Do(context.Background(), "CLUSTER", "MYID").Text()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// waitHealthy waits until redis-cli --cluster check passes and every node
// of the cluster reports cluster_state:ok.
func waitHealthy(t testing.TB, addr string) {
	t.Helper()
	var out string
	deadline := time.Now().Add(20 * time.Second)
	for {
		var code int
		out, code = redisCli(t, "", "--cluster", "check", addr)
		if code == 0 {
			states, _ := redisCli(t, "", "--cluster", "call", addr, "CLUSTER", "INFO")
			if !strings.Contains(states, "cluster_state:fail") {
				return
			}
			out = states
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster at %s not healthy:\n%s", addr, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// nodeKnown returns cluster_known_nodes of n.
func nodeKnown(t testing.TB, n *redisNode) int {
	s, err := n.cli.ClusterInfo(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "cluster_known_nodes:"); ok {
			k, _ := strconv.Atoi(v)
			return k
		}
	}
	return -1
}
