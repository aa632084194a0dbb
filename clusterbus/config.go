package clusterbus

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/slotkv/slotkv/redirect"
)

// Endpoint types for cluster-preferred-endpoint-type.
const (
	EndpointIP       = "ip"
	EndpointHostname = "hostname"
	EndpointUnknown  = "unknown-endpoint"
)

// Config configures a Bus. Build it with DefaultConfig, change fields, and
// call Validate (New does it too).
type Config struct {
	// Dir is the working directory; ConfigFile is resolved under it unless
	// it is absolute (cluster-config-file, default "nodes.conf").
	Dir        string
	ConfigFile string

	// BindIP is the address the bus listens on and originates its
	// connections from ("0.0.0.0" = any, no source binding).
	BindIP string
	// Port is the client port; BusPort defaults to Port+10000 when 0.
	Port    int
	BusPort int

	// Announce* override what this node advertises to others and clients
	// (cluster-announce-ip/port/bus-port/hostname). Zero values mean "use
	// the real ones".
	AnnounceIP       string
	AnnouncePort     int
	AnnounceBusPort  int
	AnnounceHostname string

	// PreferredEndpoint is cluster-preferred-endpoint-type: ip, hostname or
	// unknown-endpoint.
	PreferredEndpoint string

	// NodeTimeout is cluster-node-timeout.
	NodeTimeout time.Duration
	// RequireFullCoverage is cluster-require-full-coverage.
	RequireFullCoverage bool
	// AllowReadsWhenDown is cluster-allow-reads-when-down.
	AllowReadsWhenDown bool
	// AllowReplicaMigration is cluster-allow-replica-migration.
	AllowReplicaMigration bool

	// Secret, when non-empty, encrypts and authenticates the bus: the
	// memberlist SecretKey is SHA-256(Secret). All nodes need the same one.
	Secret string

	// Logger receives bus events; nil means slog.Default().
	Logger *slog.Logger

	// Hooks connect the bus to the node's keyspace and replication.
	Hooks Hooks

	// NewTransport, when set, replaces the real network transport (tests use
	// InmemNetwork.NewTransport). It is called on Start and again after
	// CLUSTER RESET HARD.
	NewTransport func(bindIP string, busPort int) (memberlist.NodeAwareTransport, error)
}

// Hooks are callbacks into the node. All are optional. They are called
// without any bus lock held; SlotsLost and RoleChanged are called from one
// notifier goroutine, in order.
type Hooks struct {
	// CountKeysInSlot returns the number of keys stored in slot. Used by
	// SETSLOT NODE and to detect slots lost with keys.
	CountKeysInSlot func(slot int) int
	// KeyCount returns the number of keys in the keyspace (FLUSHSLOTS,
	// RESET and REPLICATE refuse on a non-empty master).
	KeyCount func() int
	// SlotsLost is called after this node stopped owning slots that still
	// held keys (another master claimed them with a higher config epoch):
	// the keyspace should drop those keys. The routing Table has already
	// been swapped when it runs.
	SlotsLost func(slots []int)
	// Publish, when set, is called with every new routing Table, in order,
	// under the bus lock: it must only store the pointer (for example into
	// the server's atomic.Pointer the dispatcher reads).
	Publish func(*redirect.Table)
	// RoleChanged is called after this node's role or master changed in the
	// cluster view. MasterID/Addr are empty for a master.
	RoleChanged func(RoleChange)
}

// RoleChange describes this node's new role.
type RoleChange struct {
	Master     bool
	MasterID   string
	MasterIP   string
	MasterPort int
}

// DefaultConfig returns Redis's defaults: nodes.conf, port 6379, node timeout
// 15 s, full coverage required, preferred endpoint ip.
func DefaultConfig() Config {
	return Config{
		Dir:                   ".",
		ConfigFile:            "nodes.conf",
		BindIP:                "0.0.0.0",
		Port:                  6379,
		PreferredEndpoint:     EndpointIP,
		NodeTimeout:           15 * time.Second,
		RequireFullCoverage:   true,
		AllowReplicaMigration: true,
	}
}

// Validate checks the configuration and fills derived defaults (BusPort).
func (c *Config) Validate() error {
	if c.ConfigFile == "" {
		return errors.New("cluster-config-file must not be empty")
	}
	if c.Port <= 0 || c.Port > 65535 {
		return fmt.Errorf("invalid port %d", c.Port)
	}
	if c.BusPort == 0 {
		c.BusPort = c.Port + 10000
	}
	if c.BusPort <= 0 || c.BusPort > 65535 {
		return fmt.Errorf("invalid cluster bus port %d (port+10000 must be below 65536)", c.BusPort)
	}
	if c.BindIP == "" {
		c.BindIP = "0.0.0.0"
	}
	if net.ParseIP(c.BindIP) == nil {
		return fmt.Errorf("invalid bind address %q", c.BindIP)
	}
	if c.AnnounceIP != "" && net.ParseIP(c.AnnounceIP) == nil {
		return fmt.Errorf("invalid cluster-announce-ip %q", c.AnnounceIP)
	}
	if c.AnnouncePort < 0 || c.AnnouncePort > 65535 {
		return fmt.Errorf("invalid cluster-announce-port %d", c.AnnouncePort)
	}
	if c.AnnounceBusPort < 0 || c.AnnounceBusPort > 65535 {
		return fmt.Errorf("invalid cluster-announce-bus-port %d", c.AnnounceBusPort)
	}
	if c.AnnounceHostname != "" && !validHostname(c.AnnounceHostname) {
		return fmt.Errorf("invalid cluster-announce-hostname %q: only letters, digits, '-' and '.' are allowed", c.AnnounceHostname)
	}
	switch c.PreferredEndpoint {
	case "":
		c.PreferredEndpoint = EndpointIP
	case EndpointIP, EndpointHostname, EndpointUnknown:
	default:
		return fmt.Errorf("invalid cluster-preferred-endpoint-type %q", c.PreferredEndpoint)
	}
	if c.NodeTimeout < 10*time.Millisecond {
		return fmt.Errorf("cluster-node-timeout %v is too small", c.NodeTimeout)
	}
	return nil
}

// Path is the resolved nodes.conf path.
func (c *Config) Path() string {
	if filepath.IsAbs(c.ConfigFile) {
		return c.ConfigFile
	}
	return filepath.Join(c.Dir, c.ConfigFile)
}

// validHostname follows Redis's isValidAuxString for hostnames: letters,
// digits, '-' and '.', at most 255 bytes.
func validHostname(s string) bool {
	if len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '.') {
			return false
		}
	}
	return true
}

// memberlistTimings derives memberlist's probe/suspicion/gossip timings from
// the cluster node timeout. Our own heartbeats decide PFAIL; memberlist's
// failure detector only drives reconnects, so it runs a bit slower.
func memberlistTimings(mc *memberlist.Config, nodeTimeout time.Duration) {
	clamp := func(d, lo, hi time.Duration) time.Duration {
		if d < lo {
			return lo
		}
		if d > hi {
			return hi
		}
		return d
	}
	mc.ProbeInterval = clamp(nodeTimeout/2, 100*time.Millisecond, 5*time.Second)
	mc.ProbeTimeout = clamp(nodeTimeout/4, 50*time.Millisecond, 3*time.Second)
	mc.SuspicionMult = 3
	mc.SuspicionMaxTimeoutMult = 3
	mc.GossipInterval = clamp(nodeTimeout/20, 20*time.Millisecond, 200*time.Millisecond)
	mc.GossipNodes = 4
	mc.GossipToTheDeadTime = clamp(4*nodeTimeout, time.Second, 30*time.Second)
	mc.PushPullInterval = clamp(5*nodeTimeout, 5*time.Second, 60*time.Second)
	mc.TCPTimeout = clamp(nodeTimeout, time.Second, 10*time.Second)
	mc.DeadNodeReclaimTime = nodeTimeout
	mc.RetransmitMult = 4
}
