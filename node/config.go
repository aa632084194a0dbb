package node

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is a node's configuration, settable with redis-server style flags
// and config files and (for mutable options) CONFIG SET.
type Config struct {
	Port            int
	Bind            []string
	bindDefault     bool
	BindSourceAddr  string
	ProtectedMode   bool
	Dir             string
	RequirePass     string
	MasterAuth      string
	MasterUser      string
	MaxClients      int
	ProtoMaxBulkLen int64
	LogLevel        string
	LogFile         string
	Daemonize       bool
	Databases       int
	Timeout         int // client idle timeout, seconds (0 = never)
	TCPKeepAlive    int
	Hz              int

	ClusterEnabled           bool
	ClusterConfigFile        string
	ClusterNodeTimeout       time.Duration
	ClusterAnnounceIP        string
	ClusterAnnouncePort      int
	ClusterAnnounceBusPort   int
	ClusterAnnounceHostname  string
	ClusterPreferredEndpt    string
	ClusterRequireFull       bool
	ClusterAllowReadsDown    bool
	ClusterReplicaValidity   int
	ClusterMigrationBarrier  int
	ClusterAllowReplicaMig   bool
	ClusterReplicaNoFailover bool
	ClusterBusSecret         string
	ClusterPort              int

	AppendOnly     bool
	AppendFsync    string
	AppendFilename string
	AppendDirname  string
	Save           string // "" disables; "900 1 300 10"
	DBFilename     string
	// AOF tuning (options registered in persistence.go)
	AutoAOFRewritePct int
	AutoAOFRewriteMin int64
	AOFLoadTruncated  bool
	AOFUseRDBPreamble bool
	StopWritesBgsave  bool

	MaxMemory        int64
	MaxMemoryPolicy  string
	MaxMemorySamples int

	ReplicaReadOnly    bool
	ReplBacklogSize    int64
	MinReplicasToWrite int
	MinReplicasMaxLag  int

	// ConfigFile is the absolute path of the config file the server was
	// started with ("" when none); CONFIG REWRITE writes it back.
	ConfigFile string

	// Options we accept but do not act on yet, as given.
	Ignored map[string]string
}

// DefaultConfig returns redis-server 7's defaults.
func DefaultConfig() Config {
	return Config{
		Port: 6379, Bind: []string{"*"}, bindDefault: true, ProtectedMode: true, Dir: ".",
		MaxClients: 10000, ProtoMaxBulkLen: 512 << 20, LogLevel: "notice", Databases: 16,
		TCPKeepAlive: 300, Hz: 10,
		ClusterConfigFile: "nodes.conf", ClusterNodeTimeout: 15 * time.Second,
		ClusterPreferredEndpt: "ip", ClusterRequireFull: true, ClusterReplicaValidity: 10,
		ClusterMigrationBarrier: 1, ClusterAllowReplicaMig: true,
		AppendFsync: "everysec", AppendFilename: "appendonly.aof", AppendDirname: "appendonlydir",
		Save: "3600 1 300 100 60 10000", DBFilename: "dump.rdb",
		AutoAOFRewritePct: 100, AutoAOFRewriteMin: 64 << 20, AOFLoadTruncated: true, AOFUseRDBPreamble: true, StopWritesBgsave: true,
		MaxMemoryPolicy: "noeviction", MaxMemorySamples: 5,
		ReplicaReadOnly: true, ReplBacklogSize: 1 << 20, MinReplicasMaxLag: 10,
		Ignored: map[string]string{},
	}
}

// Validate checks cross-option rules.
func (c *Config) Validate() error {
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("port: %d out of range 0..65535", c.Port)
	}
	if c.ClusterEnabled && c.Port > 55535 && c.ClusterPort == 0 {
		return fmt.Errorf("port: %d leaves no room for the cluster bus port (port+10000)", c.Port)
	}
	if c.ClusterNodeTimeout <= 0 {
		return fmt.Errorf("cluster-node-timeout: must be positive")
	}
	if c.ProtoMaxBulkLen < 1<<20 {
		return fmt.Errorf("proto-max-bulk-len: must be at least 1mb")
	}
	if c.BindSourceAddr != "" && net.ParseIP(c.BindSourceAddr) == nil {
		return fmt.Errorf("bind-source-addr: %q is not an IP address", c.BindSourceAddr)
	}
	if c.ClusterAnnounceIP != "" && net.ParseIP(c.ClusterAnnounceIP) == nil {
		return fmt.Errorf("cluster-announce-ip: %q is not an IP address", c.ClusterAnnounceIP)
	}
	if err := checkSave(c.Save); err != nil {
		return fmt.Errorf("save: %v", err)
	}
	return nil
}

func (c *Config) announceIP() string {
	if c.ClusterAnnounceIP != "" {
		return c.ClusterAnnounceIP
	}
	for _, b := range c.Bind {
		b = strings.TrimPrefix(b, "-")
		if b != "*" && b != "::*" && b != "0.0.0.0" && b != "::" {
			return b
		}
	}
	return "127.0.0.1"
}

// ListenAddrs returns the addresses to bind, resolving '*' and '-' forms.
func (c *Config) listenAddrs() []string {
	var out []string
	for _, b := range c.Bind {
		b = strings.TrimPrefix(b, "-")
		switch b {
		case "*":
			b = "0.0.0.0"
		case "::*":
			b = "::"
		}
		out = append(out, b)
	}
	return out
}

// Path resolves a file name under Dir.
func (c *Config) Path(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(c.Dir, name)
}

func checkSave(s string) error {
	f := strings.Fields(s)
	if len(f)%2 != 0 {
		return fmt.Errorf("invalid save parameters %q", s)
	}
	for _, x := range f {
		if n, err := strconv.Atoi(x); err != nil || n < 0 {
			return fmt.Errorf("invalid save parameters %q", s)
		}
	}
	return nil
}

// option describes one config directive.
type option struct {
	name    string
	mutable bool
	get     func(c *Config) string
	set     func(c *Config, v string) error
}

var options = map[string]*option{}

func opt(name string, mutable bool, get func(c *Config) string, set func(c *Config, v string) error) {
	options[name] = &option{name: name, mutable: mutable, get: get, set: set}
}

func optBool(name string, mutable bool, p func(c *Config) *bool) {
	opt(name, mutable, func(c *Config) string { return yesno(*p(c)) }, func(c *Config, v string) error {
		b, err := parseYesNo(v)
		if err != nil {
			return err
		}
		*p(c) = b
		return nil
	})
}

func optInt(name string, mutable bool, min, max int64, p func(c *Config) *int) {
	opt(name, mutable, func(c *Config) string { return strconv.Itoa(*p(c)) }, func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("argument couldn't be parsed into an integer")
		}
		if n < min || n > max {
			return fmt.Errorf("argument must be between %d and %d inclusive", min, max)
		}
		*p(c) = int(n)
		return nil
	})
}

func optMem(name string, mutable bool, p func(c *Config) *int64) {
	opt(name, mutable, func(c *Config) string { return strconv.FormatInt(*p(c), 10) }, func(c *Config, v string) error {
		n, err := ParseMemory(v)
		if err != nil {
			return err
		}
		*p(c) = n
		return nil
	})
}

func optString(name string, mutable bool, p func(c *Config) *string) {
	opt(name, mutable, func(c *Config) string { return *p(c) }, func(c *Config, v string) error { *p(c) = v; return nil })
}

func optEnum(name string, mutable bool, vals []string, p func(c *Config) *string) {
	opt(name, mutable, func(c *Config) string { return *p(c) }, func(c *Config, v string) error {
		v = strings.ToLower(v)
		for _, x := range vals {
			if x == v {
				*p(c) = v
				return nil
			}
		}
		return fmt.Errorf("argument(s) must be one of the following: %s", strings.Join(vals, ", "))
	})
}

func yesno(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func parseYesNo(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes":
		return true, nil
	case "no":
		return false, nil
	}
	return false, fmt.Errorf("argument must be 'yes' or 'no'")
}

// ParseMemory parses Redis memory units: 1k=1000, 1kb=1024, m/mb, g/gb.
func ParseMemory(v string) (int64, error) {
	l := strings.ToLower(v)
	mul := int64(1)
	for _, u := range []struct {
		s string
		m int64
	}{{"kb", 1024}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1000}, {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000}, {"b", 1}} {
		if strings.HasSuffix(l, u.s) {
			mul = u.m
			l = strings.TrimSuffix(l, u.s)
			break
		}
	}
	n, err := strconv.ParseInt(l, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("argument must be a memory value")
	}
	return n * mul, nil
}

func init() {
	optInt("port", false, 0, 65535, func(c *Config) *int { return &c.Port })
	opt("bind", false, func(c *Config) string { return strings.Join(c.Bind, " ") }, func(c *Config, v string) error {
		f := strings.Fields(v)
		if len(f) == 0 {
			return fmt.Errorf("bind needs at least one address")
		}
		c.Bind, c.bindDefault = f, false
		return nil
	})
	optString("bind-source-addr", false, func(c *Config) *string { return &c.BindSourceAddr })
	optBool("protected-mode", true, func(c *Config) *bool { return &c.ProtectedMode })
	opt("dir", true, func(c *Config) string {
		if abs, err := filepath.Abs(c.Dir); err == nil {
			return abs
		}
		return c.Dir
	}, func(c *Config, v string) error {
		st, err := os.Stat(v)
		if err != nil || !st.IsDir() {
			return fmt.Errorf("No such file or directory")
		}
		c.Dir = v
		return nil
	})
	optString("requirepass", true, func(c *Config) *string { return &c.RequirePass })
	optString("masterauth", true, func(c *Config) *string { return &c.MasterAuth })
	optString("masteruser", true, func(c *Config) *string { return &c.MasterUser })
	optInt("maxclients", true, 1, 1<<32-1, func(c *Config) *int { return &c.MaxClients })
	opt("proto-max-bulk-len", true, func(c *Config) string { return strconv.FormatInt(c.ProtoMaxBulkLen, 10) }, func(c *Config, v string) error {
		n, err := ParseMemory(v)
		if err != nil {
			return err
		}
		if n < 1<<20 {
			return fmt.Errorf("argument must be between 1048576 and 9223372036854775807 inclusive")
		}
		c.ProtoMaxBulkLen = n
		return nil
	})
	optEnum("loglevel", true, []string{"debug", "verbose", "notice", "warning"}, func(c *Config) *string { return &c.LogLevel })
	optString("logfile", false, func(c *Config) *string { return &c.LogFile })
	opt("daemonize", false, func(c *Config) string { return yesno(c.Daemonize) }, func(c *Config, v string) error {
		b, err := parseYesNo(v)
		if err != nil {
			return err
		}
		if b {
			return fmt.Errorf("daemonize yes is not supported; run slotkv-server under a supervisor")
		}
		return nil
	})
	optInt("databases", false, 1, 1<<31-1, func(c *Config) *int { return &c.Databases })
	optInt("timeout", true, 0, 1<<31-1, func(c *Config) *int { return &c.Timeout })
	optInt("tcp-keepalive", true, 0, 1<<31-1, func(c *Config) *int { return &c.TCPKeepAlive })
	// Redis accepts any non-negative hz and clamps it to 1..500.
	opt("hz", true, func(c *Config) string { return strconv.Itoa(c.Hz) }, func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("argument couldn't be parsed into an integer")
		}
		if n < 0 || n > 1<<31-1 {
			return fmt.Errorf("argument must be between 0 and 2147483647 inclusive")
		}
		c.Hz = int(min(max(n, 1), 500))
		return nil
	})

	optBool("cluster-enabled", false, func(c *Config) *bool { return &c.ClusterEnabled })
	optString("cluster-config-file", false, func(c *Config) *string { return &c.ClusterConfigFile })
	opt("cluster-node-timeout", true, func(c *Config) string { return strconv.FormatInt(c.ClusterNodeTimeout.Milliseconds(), 10) }, func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("argument must be a positive number of milliseconds")
		}
		c.ClusterNodeTimeout = time.Duration(n) * time.Millisecond
		return nil
	})
	optString("cluster-announce-ip", true, func(c *Config) *string { return &c.ClusterAnnounceIP })
	optInt("cluster-announce-port", true, 0, 65535, func(c *Config) *int { return &c.ClusterAnnouncePort })
	optInt("cluster-announce-bus-port", true, 0, 65535, func(c *Config) *int { return &c.ClusterAnnounceBusPort })
	optString("cluster-announce-hostname", true, func(c *Config) *string { return &c.ClusterAnnounceHostname })
	optEnum("cluster-preferred-endpoint-type", true, []string{"ip", "hostname", "unknown-endpoint"}, func(c *Config) *string { return &c.ClusterPreferredEndpt })
	optBool("cluster-require-full-coverage", true, func(c *Config) *bool { return &c.ClusterRequireFull })
	optBool("cluster-allow-reads-when-down", true, func(c *Config) *bool { return &c.ClusterAllowReadsDown })
	optInt("cluster-replica-validity-factor", true, 0, 1<<31-1, func(c *Config) *int { return &c.ClusterReplicaValidity })
	optInt("cluster-migration-barrier", true, 0, 1<<31-1, func(c *Config) *int { return &c.ClusterMigrationBarrier })
	optBool("cluster-allow-replica-migration", true, func(c *Config) *bool { return &c.ClusterAllowReplicaMig })
	optBool("cluster-replica-no-failover", true, func(c *Config) *bool { return &c.ClusterReplicaNoFailover })
	optString("cluster-bus-secret", false, func(c *Config) *string { return &c.ClusterBusSecret })
	optInt("cluster-port", false, 0, 65535, func(c *Config) *int { return &c.ClusterPort })

	optBool("appendonly", true, func(c *Config) *bool { return &c.AppendOnly })
	optEnum("appendfsync", true, []string{"always", "everysec", "no"}, func(c *Config) *string { return &c.AppendFsync })
	optString("appendfilename", false, func(c *Config) *string { return &c.AppendFilename })
	optString("appenddirname", false, func(c *Config) *string { return &c.AppendDirname })
	opt("save", true, func(c *Config) string { return c.Save }, func(c *Config, v string) error {
		if err := checkSave(v); err != nil {
			return err
		}
		c.Save = strings.Join(strings.Fields(v), " ")
		return nil
	})
	optString("dbfilename", true, func(c *Config) *string { return &c.DBFilename })
	optMem("maxmemory", true, func(c *Config) *int64 { return &c.MaxMemory })
	optEnum("maxmemory-policy", true, []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"}, func(c *Config) *string { return &c.MaxMemoryPolicy })
	optInt("maxmemory-samples", true, 1, 64, func(c *Config) *int { return &c.MaxMemorySamples })
	optBool("replica-read-only", true, func(c *Config) *bool { return &c.ReplicaReadOnly })
	optMem("repl-backlog-size", true, func(c *Config) *int64 { return &c.ReplBacklogSize })
	optInt("min-replicas-to-write", true, 0, 1<<31-1, func(c *Config) *int { return &c.MinReplicasToWrite })
	optInt("min-replicas-max-lag", true, 0, 1<<31-1, func(c *Config) *int { return &c.MinReplicasMaxLag })
}

// aliases maps old Redis option names to current ones.
var aliases = map[string]string{
	"slave-read-only":               "replica-read-only",
	"min-slaves-to-write":           "min-replicas-to-write",
	"min-slaves-max-lag":            "min-replicas-max-lag",
	"cluster-slave-validity-factor": "cluster-replica-validity-factor",
	"cluster-slave-no-failover":     "cluster-replica-no-failover",
	"slave-priority":                "replica-priority",
	"slave-serve-stale-data":        "replica-serve-stale-data",
	"slave-lazy-flush":              "replica-lazy-flush",
	"slave-ignore-maxmemory":        "replica-ignore-maxmemory",
	"slave-announce-ip":             "replica-announce-ip",
	"slave-announce-port":           "replica-announce-port",
	"repl-ping-slave-period":        "repl-ping-replica-period",
	"slaveof":                       "replicaof",
	"hash-max-ziplist-entries":      "hash-max-listpack-entries",
	"hash-max-ziplist-value":        "hash-max-listpack-value",
	"list-max-ziplist-size":         "list-max-listpack-size",
	"zset-max-ziplist-entries":      "zset-max-listpack-entries",
	"zset-max-ziplist-value":        "zset-max-listpack-value",
}

// redisDefaults are redis-server 7.0.15 options slotkv accepts without
// acting on them (a warning is logged), with Redis's default value, so
// existing config files start and CONFIG GET answers like Redis. An option
// a subsystem implements (registered in options) takes precedence.
var redisDefaults = map[string]string{
	"acl-pubsub-default": "resetchannels", "aclfile": "", "acllog-max-len": "128",
	"active-defrag-cycle-max": "25", "active-defrag-cycle-min": "1", "active-defrag-ignore-bytes": "104857600",
	"active-defrag-max-scan-fields": "1000", "active-defrag-threshold-lower": "10", "active-defrag-threshold-upper": "100",
	"active-expire-effort": "1", "activedefrag": "no", "activerehashing": "yes", "always-show-logo": "no",
	"aof-disable-auto-gc": "no", "aof-load-truncated": "yes", "aof-rewrite-incremental-fsync": "yes",
	"aof-timestamp-enabled": "no", "aof-use-rdb-preamble": "yes", "aof_rewrite_cpulist": "",
	"auto-aof-rewrite-min-size": "67108864", "auto-aof-rewrite-percentage": "100", "bgsave_cpulist": "", "bio_cpulist": "",
	"busy-reply-threshold": "5000", "lua-time-limit": "5000",
	"client-output-buffer-limit":          "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
	"client-query-buffer-limit":           "1073741824",
	"cluster-allow-pubsubshard-when-down": "yes", "cluster-announce-tls-port": "0", "cluster-link-sendbuf-limit": "0",
	"crash-log-enabled": "yes", "crash-memcheck-enabled": "yes", "disable-thp": "yes", "dynamic-hz": "yes",
	"enable-debug-command": "no", "enable-module-command": "no", "enable-protected-configs": "no",
	"hash-max-listpack-entries": "512", "hash-max-listpack-value": "64", "hll-sparse-max-bytes": "3000",
	"ignore-warnings": "", "io-threads": "1", "io-threads-do-reads": "no", "jemalloc-bg-thread": "yes",
	"latency-monitor-threshold": "0", "latency-tracking": "yes", "latency-tracking-info-percentiles": "50 99 99.9",
	"lazyfree-lazy-eviction": "no", "lazyfree-lazy-expire": "no", "lazyfree-lazy-server-del": "no",
	"lazyfree-lazy-user-del": "no", "lazyfree-lazy-user-flush": "no", "lfu-decay-time": "1", "lfu-log-factor": "10",
	"list-compress-depth": "0", "list-max-listpack-size": "-2", "maxmemory-clients": "0",
	"maxmemory-eviction-tenacity": "10", "no-appendfsync-on-rewrite": "no", "notify-keyspace-events": "",
	"oom-score-adj": "no", "oom-score-adj-values": "0 200 800", "pidfile": "",
	"proc-title-template": "{title} {listen-addr} {server-mode}", "propagation-error-behavior": "ignore",
	"rdb-del-sync-files": "no", "rdb-save-incremental-fsync": "yes", "rdbchecksum": "yes", "rdbcompression": "yes",
	"repl-backlog-ttl": "3600", "repl-disable-tcp-nodelay": "no", "repl-diskless-load": "disabled",
	"repl-diskless-sync": "yes", "repl-diskless-sync-delay": "5", "repl-diskless-sync-max-replicas": "0",
	"repl-ping-replica-period": "10", "repl-timeout": "60", "replica-announce-ip": "", "replica-announce-port": "0",
	"replica-announced": "yes", "replica-ignore-disk-write-errors": "no", "replica-ignore-maxmemory": "yes",
	"replica-lazy-flush": "no", "replica-priority": "100", "replica-serve-stale-data": "yes", "replicaof": "",
	"sanitize-dump-payload": "no", "server_cpulist": "", "set-max-intset-entries": "512", "set-proc-title": "yes",
	"shutdown-on-sigint": "default", "shutdown-on-sigterm": "default", "shutdown-timeout": "10",
	"slowlog-log-slower-than": "10000", "slowlog-max-len": "128", "socket-mark-id": "0",
	"stop-writes-on-bgsave-error": "yes", "stream-node-max-bytes": "4096", "stream-node-max-entries": "100",
	"supervised": "no", "syslog-enabled": "no", "syslog-facility": "local0", "syslog-ident": "redis",
	"tcp-backlog": "511", "tls-auth-clients": "yes", "tls-ca-cert-dir": "", "tls-ca-cert-file": "", "tls-cert-file": "",
	"tls-ciphers": "", "tls-ciphersuites": "", "tls-client-cert-file": "", "tls-client-key-file": "",
	"tls-client-key-file-pass": "", "tls-cluster": "no", "tls-dh-params-file": "", "tls-key-file": "",
	"tls-key-file-pass": "", "tls-port": "0", "tls-prefer-server-ciphers": "no", "tls-protocols": "",
	"tls-replication": "no", "tls-session-cache-size": "20480", "tls-session-cache-timeout": "300",
	"tls-session-caching": "yes", "tracking-table-max-keys": "1000000", "unixsocket": "", "unixsocketperm": "0",
	"zset-max-listpack-entries": "128", "zset-max-listpack-value": "64",
}

// ignoredImmutable are accepted-but-ignored options Redis only takes at
// startup (CONFIG SET refuses them as immutable).
var ignoredImmutable = map[string]bool{
	"aclfile": true, "always-show-logo": true, "disable-thp": true, "enable-debug-command": true,
	"enable-module-command": true, "enable-protected-configs": true, "io-threads": true, "io-threads-do-reads": true,
	"pidfile": true, "set-proc-title": true, "supervised": true, "syslog-enabled": true, "syslog-facility": true,
	"syslog-ident": true, "tcp-backlog": true, "unixsocket": true, "unixsocketperm": true,
}

// knownRedisOptions are redis.conf directives that are not CONFIG
// parameters (or not listed in redisDefaults) which slotkv accepts and
// ignores with a warning.
var knownRedisOptions = strings.Fields(`rename-command loadmodule user locale-collate`)

// isKnownRedisOption reports whether name is a Redis directive we ignore.
func isKnownRedisOption(name string) bool {
	if _, ok := redisDefaults[name]; ok {
		return true
	}
	for _, k := range knownRedisOptions {
		if k == name {
			return true
		}
	}
	return false
}

// canonicalOption resolves an option name (any case, aliases) to its
// canonical name and implementation; known reports whether the name is a
// Redis option at all (implemented or accepted-and-ignored).
func canonicalOption(name string) (canon string, o *option, known bool) {
	canon = strings.ToLower(name)
	if a, ok := aliases[canon]; ok {
		canon = a
	}
	if o = options[canon]; o != nil {
		return canon, o, true
	}
	return canon, nil, isKnownRedisOption(canon)
}

// Get returns the current value of option name as CONFIG GET shows it.
func (c *Config) Get(name string) (string, bool) {
	canon, o, known := canonicalOption(name)
	switch {
	case o != nil:
		return o.get(c), true
	case !known:
		return "", false
	}
	if v, ok := c.Ignored[canon]; ok {
		return v, true
	}
	return redisDefaults[canon], true
}

// Mutable reports whether CONFIG SET may change option name.
func Mutable(name string) bool {
	canon, o, known := canonicalOption(name)
	if o != nil {
		return o.mutable
	}
	return known && !ignoredImmutable[canon]
}

// Set applies one directive (any case) with its arguments joined by
// spaces. Unknown-but-Redis options are recorded in Ignored.
func (c *Config) Set(name string, args []string) error {
	canon, o, known := canonicalOption(name)
	if o == nil {
		if known {
			if c.Ignored == nil {
				c.Ignored = map[string]string{}
			}
			c.Ignored[canon] = strings.Join(args, " ")
			return nil
		}
		return fmt.Errorf("Bad directive or wrong number of arguments")
	}
	v := strings.Join(args, " ")
	if canon == "save" && len(args) == 1 && args[0] == "" {
		v = ""
	}
	return o.set(c, v)
}

// ConfigError is a startup configuration error, reported like
// redis-server's "FATAL CONFIG FILE ERROR" and naming the option.
type ConfigError struct {
	Line   int    // line in the (file + command line) config text; 0 if none
	Text   string // the offending line, as Redis shows it
	Option string // option name, "" if not applicable
	Reason string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "*** FATAL CONFIG FILE ERROR (slotkv %s, Redis %s compatible) ***\n", SlotkvVersion, Version)
	if e.Line > 0 {
		fmt.Fprintf(&b, "Reading the configuration file, at line %d\n>>> '%s'\n", e.Line, e.Text)
	}
	if e.Option != "" {
		fmt.Fprintf(&b, "option '%s': ", e.Option)
	}
	b.WriteString(e.Reason)
	return b.String()
}

// LoadConfig builds a config from redis-server style arguments: an optional
// config file path first ("-" reads stdin), then "--name value..." pairs
// (which override the file), exactly as redis-server accepts them. The
// actedOn lists the options kept only as text in Config.Ignored that some
// part of the server does read (they get no "not implemented" warning).
var actedOn = map[string]bool{
	"repl-ping-replica-period":   true, // cmd_failover.go
	"client-output-buffer-limit": true, // pubsub.go
	"lua-time-limit":             true, // script.go
	"busy-reply-threshold":       true, // script.go
	"lfu-log-factor":             true, // evict.go
	"lfu-decay-time":             true, // evict.go
}

// warnings list options that were accepted but are not implemented.
func LoadConfig(argv []string) (Config, []string, error) {
	c := DefaultConfig()
	var text strings.Builder
	i := 0
	if len(argv) > 0 && !strings.HasPrefix(argv[0], "--") {
		var b []byte
		var err error
		if argv[0] == "-" {
			b, err = io.ReadAll(os.Stdin)
		} else {
			b, err = os.ReadFile(argv[0])
			if abs, aerr := filepath.Abs(argv[0]); aerr == nil {
				c.ConfigFile = abs
			}
		}
		if err != nil {
			return c, nil, &ConfigError{Reason: fmt.Sprintf("Fatal error, can't open config file '%s': %v", argv[0], unwrapPathErr(err))}
		}
		text.Write(b)
		text.WriteByte('\n')
		i = 1
	}
	// Command-line options become config lines, as redis-server does:
	// "--port 7000" is the line `port "7000"`.
	for ; i < len(argv); i++ {
		a := argv[i]
		if strings.HasPrefix(a, "--") && len(a) > 2 {
			text.WriteByte('\n')
			text.WriteString(a[2:])
		} else {
			text.WriteByte(' ')
			text.WriteString(strconv.Quote(a))
		}
	}
	warnings, err := c.parseText(text.String(), 0)
	if err != nil {
		return c, warnings, err
	}
	if err := c.Validate(); err != nil {
		return c, warnings, &ConfigError{Reason: err.Error()}
	}
	return c, warnings, nil
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parseText applies config text line by line. "include" reads another
// file (nesting bounded). Several "save" lines accumulate, like Redis.
func (c *Config) parseText(text string, depth int) ([]string, error) {
	var warnings []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	lineNo := 0
	saveSeen := false
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f, err := splitConfigLine(line)
		if err != nil || len(f) == 0 {
			return warnings, &ConfigError{Line: lineNo, Text: line, Reason: "Unbalanced quotes in configuration line"}
		}
		name := strings.ToLower(f[0])
		args := f[1:]
		switch name {
		case "include":
			if len(args) != 1 {
				return warnings, &ConfigError{Line: lineNo, Text: line, Option: name, Reason: "Bad directive or wrong number of arguments"}
			}
			if depth >= 8 {
				return warnings, &ConfigError{Line: lineNo, Text: line, Option: name, Reason: "too many nested includes"}
			}
			b, err := os.ReadFile(args[0])
			if err != nil {
				return warnings, &ConfigError{Line: lineNo, Text: line, Option: name, Reason: fmt.Sprintf("can't open included file '%s': %v", args[0], unwrapPathErr(err))}
			}
			w, err := c.parseText(string(b), depth+1)
			warnings = append(warnings, w...)
			if err != nil {
				return warnings, err
			}
			continue
		case "save":
			// "save 900 1" lines accumulate; the first one replaces the default.
			if saveSeen && len(args) > 0 && args[0] != "" && c.Save != "" {
				args = append(strings.Fields(c.Save), args...)
			}
			saveSeen = true
		}
		if err := c.Set(name, args); err != nil {
			return warnings, &ConfigError{Line: lineNo, Text: line, Option: name, Reason: err.Error()}
		}
		if canon, o, known := canonicalOption(name); o == nil && known && !actedOn[canon] {
			warnings = append(warnings, fmt.Sprintf("option '%s' is accepted but not implemented by slotkv; ignored", name))
		}
	}
	return warnings, nil
}

func splitConfigLine(line string) ([]string, error) {
	args, err := splitArgsString(line)
	if err != nil {
		return nil, err
	}
	return args, nil
}

// configNames lists every name CONFIG GET knows: implemented options,
// their aliases and the accepted-but-ignored Redis options.
func configNames() []string {
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for n := range options {
		add(n)
	}
	for n := range aliases {
		add(n)
	}
	for n := range redisDefaults {
		add(n)
	}
	sort.Strings(out)
	return out
}

// ConfigGet returns name/value pairs matching a glob pattern
// (case-insensitive), sorted by name.
func (c *Config) ConfigGet(pattern string) [][2]string {
	var out [][2]string
	for _, name := range configNames() {
		if globMatch(pattern, name, true) {
			v, _ := c.Get(name)
			out = append(out, [2]string{name, v})
		}
	}
	return out
}
