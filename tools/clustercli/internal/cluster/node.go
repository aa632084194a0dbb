package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ConnConfig says how clustercli connects to nodes.
type ConnConfig struct {
	User        string        // ACL user (AUTH user pass), "" for the default user
	Password    string        // password, "" for none
	DialTimeout time.Duration // TCP connect timeout
	// ReadTimeout bounds every reply. MIGRATE can legitimately take up to its
	// own timeout, so this must exceed the migrate timeout.
	ReadTimeout time.Duration
	TLS         *tls.Config
	PoolSize    int
}

// DefaultConnConfig returns the defaults used by clustercli.
func DefaultConnConfig() ConnConfig {
	return ConnConfig{DialTimeout: 5 * time.Second, ReadTimeout: 70 * time.Second, PoolSize: 8}
}

// Validate checks the configuration.
func (c ConnConfig) Validate() error {
	if c.DialTimeout <= 0 || c.ReadTimeout <= 0 {
		return errors.New("dial and read timeouts must be positive")
	}
	if c.PoolSize <= 0 {
		return errors.New("pool size must be positive")
	}
	if c.User != "" && c.Password == "" {
		return errors.New("--user needs a password (-a/--pass)")
	}
	return nil
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func init() {
	// go-redis logs dial failures itself; clustercli reports them.
	redis.SetLogger(quietLogger{})
}

// NewClient returns a go-redis client for one node. It uses RESP2 and skips
// CLIENT SETINFO so that it talks to any Redis-compatible server, and never
// retries on its own: the caller decides what is safe to repeat.
func (c ConnConfig) NewClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:            addr,
		Username:        c.User,
		Password:        c.Password,
		Protocol:        2,
		DisableIdentity: true,
		MaxRetries:      -1,
		DialerRetries:   2,
		DialTimeout:     c.DialTimeout,
		ReadTimeout:     c.ReadTimeout,
		WriteTimeout:    c.ReadTimeout,
		PoolSize:        c.PoolSize,
		TLSConfig:       c.TLS,
	})
}

// Node is one cluster node as clustercli sees it: identity and flags, and,
// for nodes loaded through their own connection, their own view of their
// slots and migration markers.
type Node struct {
	ID          string
	Host        string
	Port        int
	BusPort     int
	Hostname    string
	Flags       []string // flags from the node's own "myself" line (without "myself")
	MasterID    string   // set when the node is a replica
	ConfigEpoch uint64
	PingSent    int64
	PongRecv    int64
	LinkState   string
	Slots       SlotSet
	Migrating   map[int]string // slot -> destination id
	Importing   map[int]string // slot -> source id
	Replicas    int            // number of loaded replicas pointing at this node

	// Rebalance bookkeeping.
	Weight  float32
	Balance int

	// Server facts, from INFO server.
	RedisVersion  string
	SlotkvVersion string // non-empty when the server is slotkv
	// Dirty marks a planned (not yet applied) configuration during create.
	Dirty bool

	Client *redis.Client
	// View is the parsed CLUSTER NODES of this node (its view of everyone).
	View []*NodeLine
}

// Addr returns host:port.
func (n *Node) Addr() string { return JoinHostPort(n.Host, n.Port) }

// IsReplica reports whether the node replicates another node.
func (n *Node) IsReplica() bool { return n.MasterID != "" || n.HasFlag("slave") }

// HasFlag reports whether the node carries flag f in its own view.
func (n *Node) HasFlag(f string) bool {
	for _, x := range n.Flags {
		if x == f {
			return true
		}
	}
	return false
}

// FlagString renders the flags without "myself", like redis-cli.
func (n *Node) FlagString() string {
	var fs []string
	for _, f := range n.Flags {
		if f != "myself" {
			fs = append(fs, f)
		}
	}
	return strings.Join(fs, ",")
}

// ShortID returns the first 8 characters of the node id.
func (n *Node) ShortID() string {
	if len(n.ID) > 8 {
		return n.ID[:8]
	}
	return n.ID
}

// Close closes the node's connection pool.
func (n *Node) Close() {
	if n.Client != nil {
		_ = n.Client.Close()
	}
}

// NewNode returns an unconnected node for addr ("host:port").
func NewNode(addr string) (*Node, error) {
	host, portStr, ok := cutLast(addr, ':')
	if !ok {
		return nil, fmt.Errorf("invalid address %q: want host:port (e.g. 127.0.0.1:7000)", addr)
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port > 65535 || host == "" {
		return nil, fmt.Errorf("invalid address %q: want host:port (e.g. 127.0.0.1:7000)", addr)
	}
	return &Node{Host: host, Port: port, Weight: 1}, nil
}

func cutLast(s string, sep byte) (string, string, bool) {
	i := strings.LastIndexByte(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// Connect opens the node's client and checks it answers PING.
func (n *Node) Connect(ctx context.Context, cc ConnConfig) error {
	if n.Client == nil {
		n.Client = cc.NewClient(net.JoinHostPort(n.Host, strconv.Itoa(n.Port)))
	}
	if err := n.Client.Ping(ctx).Err(); err != nil {
		return connectError(n, err)
	}
	return nil
}

func connectError(n *Node, err error) error {
	hint := ""
	if m := err.Error(); strings.Contains(m, "NOAUTH") || strings.Contains(m, "WRONGPASS") || strings.Contains(m, "invalid password") {
		hint = " (give the password with -a/--pass, the ACL user with --user, or set REDISCLI_AUTH)"
	} else if !IsRedisError(err) {
		hint = " (is the server running and is the address right? clustercli needs the client port, not the cluster bus port)"
	}
	return fmt.Errorf("could not connect to %s: %w%s", n.Addr(), err, hint)
}

// Info returns INFO <section> parsed into a map.
func (n *Node) Info(ctx context.Context, section string) (map[string]string, error) {
	var (
		s   string
		err error
	)
	if section == "" {
		s, err = n.Client.Info(ctx).Result()
	} else {
		s, err = n.Client.Info(ctx, section).Result()
	}
	if err != nil {
		return nil, err
	}
	return ParseInfo(s), nil
}

// ParseInfo parses INFO / CLUSTER INFO text into key/value pairs.
func ParseInfo(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = v
		}
	}
	return m
}

// IsClusterEnabled checks INFO cluster's cluster_enabled field and records
// the server versions from INFO server.
func (n *Node) IsClusterEnabled(ctx context.Context) (bool, error) {
	info, err := n.Info(ctx, "")
	if err != nil {
		return false, err
	}
	n.RedisVersion = info["redis_version"]
	n.SlotkvVersion = info["slotkv_version"]
	return info["cluster_enabled"] == "1", nil
}

// IsEmpty reports whether the node holds no key in db0 and knows no other
// node, as redis-cli requires for create and add-node.
func (n *Node) IsEmpty(ctx context.Context) (bool, error) {
	ks, err := n.Info(ctx, "keyspace")
	if err != nil {
		return false, err
	}
	if _, ok := ks["db0"]; ok {
		return false, nil
	}
	ci, err := n.Client.ClusterInfo(ctx).Result()
	if err != nil {
		return false, err
	}
	return ParseInfo(ci)["cluster_known_nodes"] == "1", nil
}

// Open connects (if needed) and, in a single round trip, checks that the
// node answers, reads INFO server and INFO cluster, and loads its CLUSTER
// NODES view: what Connect, IsClusterEnabled and LoadView do in three. It
// reports whether cluster mode is enabled; the view is loaded only then.
func (n *Node) Open(ctx context.Context, cc ConnConfig) (bool, error) {
	if n.Client == nil {
		n.Client = cc.NewClient(net.JoinHostPort(n.Host, strconv.Itoa(n.Port)))
	}
	var (
		ping        *redis.StatusCmd
		srv, cl, cn *redis.StringCmd
	)
	_, _ = n.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		ping = p.Ping(ctx)
		srv = p.Info(ctx, "server")
		cl = p.Info(ctx, "cluster")
		cn = p.ClusterNodes(ctx)
		return nil
	})
	if err := ping.Err(); err != nil {
		return false, connectError(n, err)
	}
	if err := errors.Join(srv.Err(), cl.Err()); err != nil {
		return false, fmt.Errorf("node %s replied with error: %w", n.Addr(), err)
	}
	info := ParseInfo(srv.Val())
	n.RedisVersion = info["redis_version"]
	n.SlotkvVersion = info["slotkv_version"]
	if ParseInfo(cl.Val())["cluster_enabled"] != "1" {
		return false, nil
	}
	if err := cn.Err(); err != nil {
		return true, fmt.Errorf("%s: CLUSTER NODES: %w", n.Addr(), err)
	}
	return true, n.applyView(cn.Val())
}

// LoadView reads CLUSTER NODES and fills the node from its "myself" line.
func (n *Node) LoadView(ctx context.Context) error {
	text, err := n.Client.ClusterNodes(ctx).Result()
	if err != nil {
		return err
	}
	return n.applyView(text)
}

func (n *Node) applyView(text string) error {
	lines, err := ParseNodes(text)
	if err != nil {
		return fmt.Errorf("%s: %w", n.Addr(), err)
	}
	n.View = lines
	for _, l := range lines {
		if !l.HasFlag("myself") {
			continue
		}
		n.ID = l.ID
		n.BusPort = l.BusPort
		n.Hostname = l.Hostname
		n.Flags = l.Flags
		n.MasterID = l.MasterID
		if !l.HasFlag("slave") {
			n.MasterID = ""
		}
		n.ConfigEpoch = l.ConfigEpoch
		n.PingSent, n.PongRecv = l.PingSent, l.PongRecv
		n.LinkState = l.LinkState
		n.Slots = l.Slots
		n.Migrating = l.Migrating
		n.Importing = l.Importing
		n.Dirty = false
		return nil
	}
	return fmt.Errorf("%s: CLUSTER NODES has no 'myself' line", n.Addr())
}

// Signature returns the node's current configuration signature, re-reading
// CLUSTER NODES.
func (n *Node) Signature(ctx context.Context) (string, []*NodeLine, error) {
	text, err := n.Client.ClusterNodes(ctx).Result()
	if err != nil {
		return "", nil, err
	}
	lines, err := ParseNodes(text)
	if err != nil {
		return "", nil, err
	}
	return ConfigSignature(lines), lines, nil
}

// ClusterState returns CLUSTER INFO's cluster_state ("ok" or "fail").
func (n *Node) ClusterState(ctx context.Context) (string, error) {
	ci, err := n.Client.ClusterInfo(ctx).Result()
	if err != nil {
		return "", err
	}
	return ParseInfo(ci)["cluster_state"], nil
}
