package node

import (
	"bufio"
	"fmt"
	"io"
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
		AutoAOFRewritePct: 100, AutoAOFRewriteMin: 64 << 20, AOFLoadTruncated: true, AOFUseRDBPreamble: true,
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
	optInt("maxclients", true, 1, 1<<31-1, func(c *Config) *int { return &c.MaxClients })
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
	optEnum("loglevel", true, []string{"debug", "verbose", "notice", "warning", "nothing"}, func(c *Config) *string { return &c.LogLevel })
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
	optInt("hz", true, 1, 500, func(c *Config) *int { return &c.Hz })

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
}

// knownRedisOptions are redis.conf directives slotkv accepts and ignores
// (with a warning) so existing config files start.
var knownRedisOptions = strings.Fields(`tls-port tls-cert-file tls-key-file tls-ca-cert-file tls-auth-clients
tls-replication tls-cluster unixsocket unixsocketperm tcp-backlog supervised pidfile syslog-enabled syslog-ident
syslog-facility always-show-logo set-proc-title proc-title-template locale-collate stop-writes-on-bgsave-error
rdbcompression rdbchecksum sanitize-dump-payload rdb-del-sync-files replica-serve-stale-data slave-serve-stale-data
repl-diskless-sync repl-diskless-sync-delay repl-diskless-sync-max-replicas repl-diskless-load repl-ping-replica-period
repl-timeout repl-disable-tcp-nodelay repl-backlog-ttl replica-priority slave-priority propagation-error-behavior
replica-ignore-disk-write-errors replica-announced replica-announce-ip replica-announce-port acllog-max-len aclfile
lazyfree-lazy-eviction lazyfree-lazy-expire lazyfree-lazy-server-del replica-lazy-flush lazyfree-lazy-user-del
lazyfree-lazy-user-flush oom-score-adj oom-score-adj-values disable-thp no-appendfsync-on-rewrite
auto-aof-rewrite-percentage auto-aof-rewrite-min-size aof-load-truncated aof-use-rdb-preamble aof-timestamp-enabled
shutdown-timeout shutdown-on-sigint shutdown-on-sigterm lua-time-limit busy-reply-threshold cluster-link-sendbuf-limit
slowlog-log-slower-than slowlog-max-len latency-monitor-threshold latency-tracking latency-tracking-info-percentiles
notify-keyspace-events hash-max-listpack-entries hash-max-listpack-value hash-max-ziplist-entries hash-max-ziplist-value
list-max-listpack-size list-max-ziplist-size list-compress-depth set-max-intset-entries set-max-listpack-entries
set-max-listpack-value zset-max-listpack-entries zset-max-listpack-value zset-max-ziplist-entries zset-max-ziplist-value
hll-sparse-max-bytes stream-node-max-bytes stream-node-max-entries activerehashing client-output-buffer-limit
client-query-buffer-limit dynamic-hz aof-rewrite-incremental-fsync rdb-save-incremental-fsync lfu-log-factor
lfu-decay-time activedefrag active-defrag-ignore-bytes active-defrag-threshold-lower active-defrag-threshold-upper
active-defrag-cycle-min active-defrag-cycle-max active-defrag-max-scan-fields jemalloc-bg-thread
server-cpulist bio-cpulist aof-rewrite-cpulist bgsave-cpulist ignore-warnings maxmemory-eviction-tenacity
maxmemory-clients io-threads io-threads-do-reads enable-protected-configs enable-debug-command enable-module-command
rename-command include loadmodule user crash-log-enabled crash-memcheck-enabled use-exit-on-panic
cluster-allow-pubsubshard-when-down cluster-link-msg-queue-limit replicaof slaveof`)

// isKnownRedisOption reports whether name is a Redis directive we ignore.
func isKnownRedisOption(name string) bool {
	for _, k := range knownRedisOptions {
		if k == name {
			return true
		}
	}
	return false
}

// Set applies one directive (name lower-cased) with its arguments joined by
// spaces. Unknown-but-Redis options are recorded in Ignored.
func (c *Config) Set(name string, args []string) error {
	name = strings.ToLower(name)
	if a, ok := aliases[name]; ok {
		name = a
	}
	o := options[name]
	if o == nil {
		if isKnownRedisOption(name) {
			c.Ignored[name] = strings.Join(args, " ")
			return nil
		}
		return fmt.Errorf("Bad directive or wrong number of arguments")
	}
	v := strings.Join(args, " ")
	if name == "save" && len(args) == 1 && args[0] == "" {
		v = ""
	}
	if err := o.set(c, v); err != nil {
		return err
	}
	return nil
}

// LoadConfig builds a config from redis-server style arguments: an optional
// config file path first, then "--name value..." pairs (which override the
// file), exactly as redis-server accepts them.
func LoadConfig(argv []string) (Config, []string, error) {
	c := DefaultConfig()
	var warnings []string
	var text strings.Builder
	i := 0
	if len(argv) > 0 && !strings.HasPrefix(argv[0], "--") {
		f, err := os.Open(argv[0])
		if err != nil {
			return c, nil, fmt.Errorf("Fatal error, can't open config file '%s': %v", argv[0], err)
		}
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return c, nil, err
		}
		text.Write(b)
		text.WriteByte('\n')
		i = 1
	}
	// Command-line options become config lines, as redis-server does.
	for ; i < len(argv); i++ {
		a := argv[i]
		if strings.HasPrefix(a, "--") {
			text.WriteByte('\n')
			text.WriteString(a[2:])
		} else {
			text.WriteByte(' ')
			text.WriteString(quoteArg(a))
		}
	}
	sc := bufio.NewScanner(strings.NewReader(text.String()))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f, err := splitConfigLine(line)
		if err != nil || len(f) == 0 {
			return c, warnings, fmt.Errorf("config line %d: %q: unbalanced quotes", lineNo, line)
		}
		name := strings.ToLower(f[0])
		if err := c.Set(name, f[1:]); err != nil {
			return c, warnings, fmt.Errorf("invalid option '%s' (line %d: %q): %v", name, lineNo, line, err)
		}
		if _, ign := c.Ignored[name]; ign {
			warnings = append(warnings, fmt.Sprintf("option '%s' is accepted but not implemented yet; ignored", name))
		}
	}
	if err := c.Validate(); err != nil {
		return c, warnings, err
	}
	return c, warnings, nil
}

func quoteArg(a string) string {
	if a == "" {
		return `""`
	}
	if strings.ContainsAny(a, " \"'\\") {
		return strconv.Quote(a)
	}
	return a
}

func splitConfigLine(line string) ([]string, error) {
	args, err := splitArgsString(line)
	if err != nil {
		return nil, err
	}
	return args, nil
}

// ConfigGet returns name/value pairs matching a glob pattern, sorted.
func (c *Config) ConfigGet(pattern string) [][2]string {
	var out [][2]string
	seen := map[string]bool{}
	for name, o := range options {
		if globMatch(pattern, name, true) && !seen[name] {
			seen[name] = true
			out = append(out, [2]string{name, o.get(c)})
		}
	}
	for alias, name := range aliases {
		if globMatch(pattern, alias, true) && !seen[alias] {
			seen[alias] = true
			out = append(out, [2]string{alias, options[name].get(c)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}
