package integration

// Server family: INFO, DBSIZE, FLUSHDB/FLUSHALL, TIME, CONFIG, COMMAND,
// SLOWLOG, LATENCY, process configuration and signals. Differential tests
// against redis-server 7 (RESP2 and RESP3), go-redis tables (RESP3 and
// RESP2) and redis-cli.

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// bothProtos runs a differential step list in RESP2 and RESP3.
func bothProtos(t *testing.T, s, r *Node, steps []Step) {
	t.Helper()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) { Differential(t, s, r, proto, steps) })
	}
}

func TestServerDifferential(t *testing.T) {
	s, r := DiffPair(t)
	steps := []Step{
		// Redis must not log slow commands on a busy machine (SLOWLOG GET is compared)
		S("CONFIG", "SET", "slowlog-log-slower-than", "-1"), S("SLOWLOG", "RESET"),
		S("FLUSHALL"), S("DBSIZE"), S("SET", "a", "1"), S("SET", "b", "2"), S("DBSIZE"),
		S("FLUSHALL", "x"), S("FLUSHALL", "SYNC", "x"), S("FLUSHDB", "foo"), S("DBSIZE"),
		S("FLUSHDB", "ASYNC"), S("DBSIZE"), S("SET", "a", "1"), S("FLUSHALL", "sync"), S("DBSIZE"),
		S("SET", "a", "1"), S("FLUSHALL", "ASYNC"), S("DBSIZE"), S("DBSIZE", "x"), S("TIME", "x"),
		S("INFO", "nosuch"), S("INFO", "keyspace"), S("SET", "k", "v"), S("INFO", "keyspace"), S("INFO", "cluster"),
		S("INFO", "cluster", "nosuch"), S("INFO", "KEYSPACE", "Cluster"), S("INFO", "modules"),
		S("SLOWLOG", "GET"), S("SLOWLOG", "GET", "x"), S("SLOWLOG", "GET", "-2"), S("SLOWLOG", "GET", "-1"), S("SLOWLOG", "GET", "5"),
		S("SLOWLOG", "LEN"), S("SLOWLOG", "RESET"), S("SLOWLOG", "HELP"), S("SLOWLOG", "FOO"), S("SLOWLOG"),
		S("LATENCY", "LATEST"), S("LATENCY", "HISTORY", "cmd"), S("LATENCY", "RESET"), S("LATENCY", "RESET", "a", "b"),
		S("LATENCY", "GRAPH", "foo"), S("LATENCY", "DOCTOR"), S("LATENCY", "HELP"), S("LATENCY", "FOO"),
		S("CONFIG", "HELP"), S("CONFIG", "GET"), S("CONFIG", "FOO"), S("CONFIG"),
		S("CONFIG", "GET", "nosuch"), S("CONFIG", "GET", "maxmemory"), S("CONFIG", "GET", "MAXMEMORY"),
		S("CONFIG", "GET", "maxmemory", "maxmemory"), S("CONFIG", "GET", "slave-read-only"), S("CONFIG", "GET", "appendonly"),
		S("CONFIG", "GET", "save"), S("CONFIG", "GET", "cluster-enabled"), S("CONFIG", "GET", "lazyfree-lazy-user-flush"),
		S("CONFIG", "GET", "slowlog-log-slower-than"), S("CONFIG", "GET", "timeout"), S("CONFIG", "GET", "maxclients"),
		S("CONFIG", "GET", "proto-max-bulk-len"), S("CONFIG", "GET", "maxmemory-policy"), S("CONFIG", "GET", "databases"),
		U("CONFIG", "GET", "*max-*-entries*"), U("CONFIG", "GET", "cluster-allow-*"),
		S("CONFIG", "SET", "maxmemory", "x"), S("CONFIG", "SET", "nosuch", "1"), S("CONFIG", "SET", "maxmemory", "10", "maxmemory", "20"),
		S("CONFIG", "SET", "maxmemory", "1", "MAXMEMORY", "2"), S("CONFIG", "SET", "maxmemory"),
		S("CONFIG", "SET", "maxmemory", "10mb", "loglevel", "foo"), S("CONFIG", "GET", "maxmemory"),
		S("CONFIG", "SET", "maxmemory", "10mb", "loglevel", "verbose"), S("CONFIG", "GET", "maxmemory"), S("CONFIG", "GET", "loglevel"),
		S("CONFIG", "SET", "maxmemory", "0", "loglevel", "notice"),
		S("CONFIG", "SET", "hz", "1000"), S("CONFIG", "GET", "hz"), S("CONFIG", "SET", "hz", "-1"), S("CONFIG", "SET", "hz", "10"),
		S("CONFIG", "SET", "appendonly", "maybe"), S("CONFIG", "SET", "maxclients", "0"), S("CONFIG", "SET", "maxmemory-policy", "foo"),
		S("CONFIG", "SET", "daemonize", "yes"), S("CONFIG", "SET", "nosuch", "1", "maxmemory", "1"),
		S("CONFIG", "SET", "maxmemory", "1", "slave-read-only", "x"), S("CONFIG", "SET", "replica-read-only", "yes", "slave-read-only", "no"),
		U("CONFIG", "GET", "REPLICA-read-only", "slave-read-only", "replica-read-only"), S("CONFIG", "SET", "replica-read-only", "yes"),
		S("CONFIG", "SET", "timeout", "abc"), S("CONFIG", "SET", "timeout", "0"), S("CONFIG", "SET", "lazyfree-lazy-user-flush", "no"),
		S("CONFIG", "RESETSTAT"), S("CONFIG", "RESETSTAT", "x"), S("CONFIG", "REWRITE"),
		S("COMMAND", "GETKEYS", "nosuch", "a"), S("COMMAND", "GETKEYS", "client", "foo", "x"), S("COMMAND", "GETKEYS", "echo", "a", "b"),
		S("COMMAND", "GETKEYS", "config", "get", "x"), S("COMMAND", "GETKEYS", "get"), S("COMMAND", "GETKEYS", "get", "a"),
		S("COMMAND", "GETKEYS", "GET", "a"), S("COMMAND", "GETKEYS", "get", "a", "b"), S("COMMAND", "GETKEYS", "mset", "a", "b", "c", "d"),
		S("COMMAND", "GETKEYS", "set", "k", "v", "EX", "10"), S("COMMAND", "GETKEYS", "del", "a", "b", "c"),
		S("COMMAND", "GETKEYSANDFLAGS", "get", "a"),
		S("COMMAND", "INFO", "nosuch"), S("COMMAND", "INFO", "get", "nosuch", "ping"), S("COMMAND", "INFO", "ping"),
		S("COMMAND", "INFO", "client|list"), S("COMMAND", "INFO", "CLIENT|LIST"), S("COMMAND", "INFO", "dbsize"), S("COMMAND", "INFO", "info"),
		S("COMMAND", "INFO", "flushall"), S("COMMAND", "INFO", "echo"), S("COMMAND", "INFO", "hello"), S("COMMAND", "INFO", "auth"),
		S("COMMAND", "INFO", "select"), S("COMMAND", "INFO", "reset"), S("COMMAND", "INFO", "time"), S("COMMAND", "INFO", "config|set"),
		S("COMMAND", "DOCS", "nosuch"), S("COMMAND", "COUNT", "x"), S("COMMAND", "HELP"), S("COMMAND", "FOO"),
		S("COMMAND", "LIST", "x"), S("COMMAND", "LIST", "FILTERBY", "foo", "x"), S("COMMAND", "LIST", "FILTERBY", "module", "x"),
		S("COMMAND", "LIST", "FILTERBY", "aclcat", "nosuch"), S("COMMAND", "LIST", "FILTERBY", "pattern", "CLIENT|LIS*"),
		U("COMMAND", "LIST", "FILTERBY", "pattern", "conf*"),
		S("MONITOR", "x"),
	}
	bothProtos(t, s, r, steps)
}

// respValue is a parsed RESP reply.
type respValue struct {
	kind  byte // '+', '-', ':', '$', '*' (arrays, sets, maps flattened), '_'
	str   string
	num   int64
	elems []respValue
}

func parseRESP(rd *bufio.Reader) (respValue, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return respValue{}, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return respValue{}, fmt.Errorf("empty RESP line")
	}
	v := respValue{kind: line[0]}
	body := line[1:]
	switch line[0] {
	case '+', '-':
		v.str = body
	case ':':
		v.num, _ = strconv.ParseInt(body, 10, 64)
	case '_':
	case '$', '=':
		n, _ := strconv.Atoi(body)
		v.kind = '$'
		if n < 0 {
			v.kind = '_'
			return v, nil
		}
		buf := make([]byte, n+2)
		if _, err := ioReadFull(rd, buf); err != nil {
			return v, err
		}
		v.str = string(buf[:n])
	case '*', '~', '%', '>':
		n, _ := strconv.Atoi(body)
		if line[0] == '%' {
			n *= 2
		}
		v.kind = '*'
		if n < 0 {
			v.kind = '_'
			return v, nil
		}
		for i := 0; i < n; i++ {
			e, err := parseRESP(rd)
			if err != nil {
				return v, err
			}
			v.elems = append(v.elems, e)
		}
	default:
		return v, fmt.Errorf("unexpected RESP type %q", line)
	}
	return v, nil
}

// rawCommand sends one command on a fresh connection and parses the reply.
func rawCommand(t *testing.T, addr string, args ...string) respValue {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	v, err := parseRESP(bufio.NewReaderSize(c, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type cmdInfo struct {
	name              string
	arity             int64
	flags, acl        []string
	first, last, step int64
}

// commandInfos flattens a COMMAND reply (with subcommands) by name.
func commandInfos(v respValue, out map[string]cmdInfo) {
	for _, e := range v.elems {
		if e.kind != '*' || len(e.elems) < 7 {
			continue
		}
		ci := cmdInfo{name: e.elems[0].str, arity: e.elems[1].num, first: e.elems[3].num, last: e.elems[4].num, step: e.elems[5].num}
		for _, f := range e.elems[2].elems {
			ci.flags = append(ci.flags, f.str)
		}
		for _, f := range e.elems[6].elems {
			ci.acl = append(ci.acl, f.str)
		}
		out[ci.name] = ci
		if len(e.elems) >= 10 {
			commandInfos(e.elems[9], out)
		}
	}
}

// TestCommandInfoMatchesRedis compares COMMAND INFO of every command
// slotkv implements with redis-server 7: arity, first/last/step (cluster
// clients route by them), flags (slotkv's must be a subset of Redis's;
// movablekeys must agree). Commands Redis does not have are skipped.
func TestCommandInfoMatchesRedis(t *testing.T) {
	s, r := DiffPair(t)
	ours, theirs := map[string]cmdInfo{}, map[string]cmdInfo{}
	commandInfos(rawCommand(t, s.Addr(), "COMMAND"), ours)
	commandInfos(rawCommand(t, r.Addr(), "COMMAND"), theirs)
	if len(ours) < 20 {
		t.Fatalf("slotkv COMMAND lists only %d commands", len(ours))
	}
	names := make([]string, 0, len(ours))
	for n := range ours {
		names = append(names, n)
	}
	sort.Strings(names)
	checked, aclDiffs := 0, 0
	for _, n := range names {
		o := ours[n]
		th, ok := theirs[n]
		if !ok {
			t.Logf("%s: not a redis-server 7.0 command, skipped", n)
			continue
		}
		checked++
		if o.arity != th.arity {
			t.Errorf("%s: arity %d, redis %d", n, o.arity, th.arity)
		}
		if o.first != th.first || o.last != th.last || o.step != th.step {
			t.Errorf("%s: first/last/step %d/%d/%d, redis %d/%d/%d", n, o.first, o.last, o.step, th.first, th.last, th.step)
		}
		rf := map[string]bool{}
		for _, f := range th.flags {
			rf[f] = true
		}
		for _, f := range o.flags {
			if !rf[f] {
				t.Errorf("%s: flag %q not in redis's %v", n, f, th.flags)
			}
		}
		if rf["movablekeys"] != contains(o.flags, "movablekeys") {
			t.Errorf("%s: movablekeys %v, redis %v", n, contains(o.flags, "movablekeys"), rf["movablekeys"])
		}
		if strings.Join(o.acl, " ") != strings.Join(th.acl, " ") {
			aclDiffs++
			t.Logf("%s: ACL categories %v, redis %v", n, o.acl, th.acl)
		}
	}
	t.Logf("compared %d commands (%d with different ACL categories)", checked, aclDiffs)
	// the RESP3 form parses to the same data
	ours3 := map[string]cmdInfo{}
	conn := DialRaw(t, s.Addr())
	conn.Do("HELLO", "3")
	rd := bufio.NewReaderSize(conn.c, 1<<20)
	conn.Send("*1\r\n$7\r\nCOMMAND\r\n")
	v, err := parseRESP(rd)
	if err != nil {
		t.Fatal(err)
	}
	commandInfos(v, ours3)
	if len(ours3) != len(ours) {
		t.Errorf("RESP3 COMMAND lists %d commands, RESP2 %d", len(ours3), len(ours))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestCommandGoRedis checks what go-redis reads from COMMAND (the
// ClusterClient routes by it) in RESP3 and RESP2.
func TestCommandGoRedis(t *testing.T) {
	s := StartNode(t, Options{})
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			c := s.NewClient(t, proto)
			ctx := Ctx(t, 20*time.Second)
			cmds, err := c.Command(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			n, err := c.CommandList(ctx, nil).Result()
			if err != nil || len(n) < len(cmds) {
				t.Fatalf("COMMAND LIST: %d names, %v", len(n), err)
			}
			cnt, err := c.Do(ctx, "COMMAND", "COUNT").Int()
			if err != nil || cnt != len(cmds) {
				t.Fatalf("COMMAND COUNT %d, COMMAND lists %d (%v)", cnt, len(cmds), err)
			}
			get := cmds["get"]
			if get == nil || get.Arity != 2 || get.FirstKeyPos != 1 || get.LastKeyPos != 1 || get.StepCount != 1 || !get.ReadOnly {
				t.Errorf("get: %+v", get)
			}
			if mset := cmds["mset"]; mset != nil && (mset.FirstKeyPos != 1 || mset.LastKeyPos != -1 || mset.StepCount != 2) {
				t.Errorf("mset: %+v", mset)
			}
			if cfg := cmds["config"]; cfg == nil || cfg.Arity != -2 {
				t.Errorf("config: %+v", cfg)
			}
			keys, err := c.CommandGetKeys(ctx, "mset", "a", "1", "b", "2").Result()
			if err != nil || strings.Join(keys, ",") != "a,b" {
				t.Errorf("COMMAND GETKEYS mset: %v %v", keys, err)
			}
			kf, err := c.CommandGetKeysAndFlags(ctx, "get", "a").Result()
			if err != nil || len(kf) != 1 || kf[0].Key != "a" {
				t.Errorf("COMMAND GETKEYSANDFLAGS: %+v %v", kf, err)
			}
			docs, err := c.Do(ctx, "COMMAND", "DOCS", "get").Result()
			if err != nil || !strings.Contains(fmt.Sprint(docs), "string") {
				t.Errorf("COMMAND DOCS: %+v %v", docs, err)
			}
		})
	}
}

func TestInfoGoRedis(t *testing.T) {
	s := StartNode(t, Options{})
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			c := s.NewClient(t, proto)
			ctx := Ctx(t, 20*time.Second)
			c.Set(ctx, "k1", "v", 0)
			c.Set(ctx, "k2", "v", time.Hour)
			m, err := c.InfoMap(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]map[string]string{
				"Server":      {"redis_version": "7.0.15", "redis_mode": "standalone", "tcp_port": strconv.Itoa(s.Port), "process_id": strconv.Itoa(s.PID())},
				"Clients":     {"maxclients": "10000"},
				"Memory":      {"maxmemory": "0", "maxmemory_policy": "noeviction"},
				"Persistence": {"loading": "0"},
				"Stats":       {},
				"Replication": {"role": "master", "connected_slaves": "0"},
				"CPU":         {},
				"Cluster":     {"cluster_enabled": "0"},
				"Keyspace":    {"db0": "keys=2,expires=1,avg_ttl=0"},
			}
			for sec, fields := range want {
				got, ok := m[sec]
				if !ok {
					t.Errorf("INFO lacks section %s (has %v)", sec, keysOf(m))
					continue
				}
				for k, v := range fields {
					if got[k] != v {
						t.Errorf("INFO %s %s = %q, want %q", sec, k, got[k], v)
					}
				}
			}
			for _, f := range []string{"used_memory", "used_memory_rss", "mem_fragmentation_ratio", "used_memory_human"} {
				if m["Memory"][f] == "" {
					t.Errorf("INFO memory lacks %s", f)
				}
			}
			if n, _ := strconv.Atoi(m["Clients"]["connected_clients"]); n < 1 {
				t.Errorf("connected_clients = %q", m["Clients"]["connected_clients"])
			}
			if n, _ := strconv.Atoi(m["Stats"]["total_commands_processed"]); n < 2 {
				t.Errorf("total_commands_processed = %q", m["Stats"]["total_commands_processed"])
			}
			if len(m["Server"]["run_id"]) != 40 || len(m["Replication"]["master_replid"]) != 40 {
				t.Errorf("run_id %q master_replid %q", m["Server"]["run_id"], m["Replication"]["master_replid"])
			}
			info, err := c.Info(ctx, "server", "keyspace").Result()
			if err != nil || !strings.HasPrefix(info, "# Server\r\n") || !strings.Contains(info, "\r\n\r\n# Keyspace\r\ndb0:") {
				t.Errorf("INFO server keyspace: %q %v", info, err)
			}
			c.FlushAll(ctx)
			if n, err := c.DBSize(ctx).Result(); err != nil || n != 0 {
				t.Errorf("DBSIZE after FLUSHALL = %d %v", n, err)
			}
			tm, err := c.Time(ctx).Result()
			if err != nil || time.Since(tm).Abs() > time.Minute {
				t.Errorf("TIME = %v %v", tm, err)
			}
			// CONFIG through go-redis
			if err := c.ConfigSet(ctx, "maxmemory", "5mb").Err(); err != nil {
				t.Fatal(err)
			}
			cfg, err := c.ConfigGet(ctx, "maxmemory*").Result()
			if err != nil || cfg["maxmemory"] != "5242880" || cfg["maxmemory-policy"] != "noeviction" {
				t.Errorf("CONFIG GET maxmemory*: %v %v", cfg, err)
			}
			c.ConfigSet(ctx, "maxmemory", "0")
			err = c.ConfigSet(ctx, "port", "1").Err()
			if err == nil || err.Error() != "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config" {
				t.Errorf("CONFIG SET port: %v", err)
			}
			if err := c.ConfigResetStat(ctx).Err(); err != nil {
				t.Error(err)
			}
			if _, err := c.SlowLogGet(ctx, 10).Result(); err != nil {
				t.Errorf("SLOWLOG GET: %v", err)
			}
		})
	}
}

func keysOf(m map[string]map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestInfoClusterMode(t *testing.T) {
	s := StartNode(t, Options{Cluster: true})
	c := s.NewClient(t, 3)
	ctx := Ctx(t, 10*time.Second)
	m, err := c.InfoMap(ctx, "cluster", "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	if m["Cluster"]["cluster_enabled"] != "1" || m["Server"]["redis_mode"] != "cluster" {
		t.Errorf("cluster INFO: %v", m)
	}
	hello, err := c.Do(ctx, "HELLO", "3").Result()
	if err != nil {
		t.Fatal(err)
	}
	if hm, ok := hello.(map[interface{}]interface{}); !ok || hm["mode"] != "cluster" {
		t.Errorf("HELLO in cluster mode: %#v", hello)
	}
	if err := c.Do(ctx, "SELECT", "1").Err(); err == nil || err.Error() != "ERR SELECT is not allowed in cluster mode" {
		t.Errorf("SELECT 1 in cluster mode: %v", err)
	}
	if err := c.Do(ctx, "SELECT", "0").Err(); err != nil {
		t.Errorf("SELECT 0 in cluster mode: %v", err)
	}
}

func TestServerRedisCLI(t *testing.T) {
	s := StartNode(t, Options{})
	port := strconv.Itoa(s.Port)
	out, err := RedisCLI(t, "-p", port, "INFO", "server")
	if err != nil || !strings.Contains(out, "redis_version:7.0.15") {
		t.Errorf("redis-cli INFO server: %v\n%s", err, out)
	}
	out, err = RedisCLI(t, "-p", port, "CONFIG", "GET", "maxmemory")
	if err != nil || out != "maxmemory\n0\n" {
		t.Errorf("redis-cli CONFIG GET: %v %q", err, out)
	}
	out, err = RedisCLI(t, "-p", port, "DBSIZE")
	if err != nil || out != "0\n" {
		t.Errorf("redis-cli DBSIZE: %v %q", err, out)
	}
	out, err = RedisCLI(t, "-p", port, "COMMAND", "GETKEYS", "mset", "a", "1", "b", "2")
	if err != nil || out != "a\nb\n" {
		t.Errorf("redis-cli COMMAND GETKEYS: %v %q", err, out)
	}
	out, err = RedisCLI(t, "-p", port, "--no-raw", "CONFIG", "SET", "nosuch", "1")
	if err != nil || !strings.Contains(out, "(error) ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'") {
		t.Errorf("redis-cli CONFIG SET error: %v %q", err, out)
	}
	out, err = RedisCLI(t, "-3", "-p", port, "HELLO", "3")
	if err != nil || !strings.Contains(out, "proto") || !strings.Contains(out, "standalone") {
		t.Errorf("redis-cli -3 HELLO 3: %v %q", err, out)
	}
}

// startWithConfigFile runs slotkv-server with a config file as its first
// argument (the harness passes flags only) and stops it at cleanup.
func startWithConfigFile(t *testing.T, conf string, extra ...string) (addr string, cmd *exec.Cmd) {
	t.Helper()
	if err := Build(); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t, "127.0.0.1")
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args := append([]string{conf, "--port", strconv.Itoa(port), "--bind", "127.0.0.1"}, extra...)
	cmd = exec.Command(ServerBin, args...)
	logf, err := os.Create(filepath.Join(filepath.Dir(conf), "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = filepath.Dir(conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	Eventually(t, 15*time.Second, "slotkv-server with a config file answers PING", func() bool {
		select {
		case <-exited:
			b, _ := os.ReadFile(filepath.Join(filepath.Dir(conf), "server.log"))
			t.Fatalf("server exited:\n%s", b)
		default:
		}
		return pingRaw(addr)
	})
	return addr, cmd
}

func TestConfigFileAndRewrite(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "slotkv.conf")
	os.WriteFile(conf, []byte("# test config\nsave \"\"\nappendonly no\nprotected-mode no\nmaxmemory 1mb\nslowlog-max-len 64\ntcp-backlog 511\ndir "+dir+"\n"), 0o644)
	addr, _ := startWithConfigFile(t, conf)
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ctx := Ctx(t, 10*time.Second)
	got, err := c.ConfigGet(ctx, "maxmemory").Result()
	if err != nil || got["maxmemory"] != "1048576" {
		t.Fatalf("CONFIG GET maxmemory from file: %v %v", got, err)
	}
	if v := c.ConfigGet(ctx, "slowlog-max-len").Val()["slowlog-max-len"]; v != "64" {
		t.Errorf("ignored option from file: %q", v)
	}
	info := c.InfoMap(ctx, "server").Val()
	if info["Server"]["config_file"] != conf {
		t.Errorf("config_file = %q", info["Server"]["config_file"])
	}
	if err := c.ConfigSet(ctx, "maxmemory", "2mb").Err(); err != nil {
		t.Fatal(err)
	}
	c.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru")
	if err := c.ConfigRewrite(ctx).Err(); err != nil {
		t.Fatalf("CONFIG REWRITE: %v", err)
	}
	b, _ := os.ReadFile(conf)
	text := string(b)
	for _, want := range []string{"# test config\n", "\nmaxmemory 2097152\n", "\nmaxmemory-policy allkeys-lru\n", "\nslowlog-max-len 64\n", "# Generated by CONFIG REWRITE\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("rewritten config lacks %q:\n%s", want, text)
		}
	}
	// without a config file
	s := StartNode(t, Options{})
	if err := s.NewClient(t, 3).ConfigRewrite(ctx).Err(); err == nil || err.Error() != "ERR The server is running without a config file" {
		t.Errorf("CONFIG REWRITE without a file: %v", err)
	}
}

// TestStartupErrors checks that an invalid value stops startup with an
// error naming the option, and unknown Redis options only warn.
func TestStartupErrors(t *testing.T) {
	if err := Build(); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, int) {
		ctx := Ctx(t, 20*time.Second)
		cmd := exec.CommandContext(ctx, ServerBin, args...)
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--port", "abc"}, "option 'port': argument couldn't be parsed into an integer"},
		{[]string{"--maxmemory", "lots"}, "option 'maxmemory': argument must be a memory value"},
		{[]string{"--appendfsync", "sometimes"}, "option 'appendfsync': argument(s) must be one of the following: always, everysec, no"},
		{[]string{"--cluster-enabled", "perhaps"}, "option 'cluster-enabled': argument must be 'yes' or 'no'"},
		{[]string{"--no-such-option", "1"}, "option 'no-such-option': Bad directive or wrong number of arguments"},
		{[]string{"--daemonize", "yes"}, "option 'daemonize'"},
		{[]string{"/nonexistent/slotkv.conf"}, "can't open config file"},
	}
	for _, tc := range cases {
		out, code := run(tc.args...)
		if code != 1 || !strings.Contains(out, tc.want) || !strings.Contains(out, "FATAL CONFIG FILE ERROR") {
			t.Errorf("%q: exit %d, output:\n%s\nwant it to contain %q", tc.args, code, out, tc.want)
		}
	}
	out, code := run("--help")
	if code != 0 || !strings.Contains(out, "--cluster-enabled") || !strings.Contains(out, "--requirepass") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
	out, code = run("--version")
	if code != 0 || !strings.Contains(out, "redis_compat=7.0.15") {
		t.Errorf("--version: exit %d %q", code, out)
	}
	// a Redis option slotkv ignores: starts, with a warning naming it
	n := StartNode(t, Options{Args: []string{"--slowlog-log-slower-than", "5", "--lazyfree-lazy-user-flush", "yes"}})
	if !strings.Contains(n.Tail(50), "lazyfree-lazy-user-flush") {
		t.Errorf("no warning for an ignored option:\n%s", n.Tail(50))
	}
	if v := n.NewClient(t, 3).ConfigGet(Ctx(t, 5*time.Second), "lazyfree-lazy-user-flush").Val(); v["lazyfree-lazy-user-flush"] != "yes" {
		t.Errorf("CONFIG GET of an ignored option: %v", v)
	}
}

func TestShutdownOnSIGINT(t *testing.T) {
	n := StartNode(t, Options{})
	n.cmd.Process.Signal(syscall.SIGINT)
	Eventually(t, 10*time.Second, "process exit after SIGINT", func() bool { return !n.Running() })
	if code := n.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGINT\n%s", code, n.Tail(20))
	}
}
