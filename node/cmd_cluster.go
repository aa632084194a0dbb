package node

import (
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slotkv/slotkv/clusterbus"
	"github.com/slotkv/slotkv/redirect"
	"github.com/slotkv/slotkv/slots"
)

// This file wires the cluster layer (package clusterbus) into the server in
// cluster mode and registers the CLUSTER command family, READONLY,
// READWRITE and ASKING.

// buses maps a *Server to its *clusterbus.Bus (cluster mode only).
var buses sync.Map

// CONFIG SET of the cluster-* options the bus reads reaches it at once.
func init() {
	ConfigChangeHooks = append(ConfigChangeHooks, func(s *Server, old, cur *Config) {
		if old.ClusterNodeTimeout == cur.ClusterNodeTimeout && old.ClusterRequireFull == cur.ClusterRequireFull &&
			old.ClusterAllowReadsDown == cur.ClusterAllowReadsDown && old.ClusterAllowReplicaMig == cur.ClusterAllowReplicaMig {
			return
		}
		v, ok := buses.Load(s)
		if !ok {
			return
		}
		err := v.(*clusterbus.Bus).SetTunables(clusterbus.Tunables{
			NodeTimeout:           cur.ClusterNodeTimeout,
			RequireFullCoverage:   cur.ClusterRequireFull,
			AllowReadsWhenDown:    cur.ClusterAllowReadsDown,
			AllowReplicaMigration: cur.ClusterAllowReplicaMig,
		})
		if err != nil {
			s.Log.Warn("cluster bus kept its settings", "err", err)
		} else {
			s.Log.Info("cluster settings changed", "node_timeout", cur.ClusterNodeTimeout,
				"require_full_coverage", cur.ClusterRequireFull, "allow_reads_when_down", cur.ClusterAllowReadsDown,
				"allow_replica_migration", cur.ClusterAllowReplicaMig)
		}
	})
}

// ClusterBus returns the server's cluster bus, nil in standalone mode.
func (s *Server) ClusterBus() *clusterbus.Bus {
	if v, ok := buses.Load(s); ok {
		return v.(*clusterbus.Bus)
	}
	return nil
}

const errClusterDisabled = "ERR This instance has cluster support disabled"

func init() {
	StartHooks = append(StartHooks, startClusterBus)
	register(
		&Command{Name: "readonly", Arity: 1, Flags: FlagLoading | FlagStale | FlagFast, Group: "cluster", Since: "3.0.0",
			Summary: "Enables read-only queries for a connection to a Redis Cluster replica node.", Complexity: "O(1)", ACL: []string{"@connection"},
			Proc: func(c *Client) {
				if !c.srv.Config().ClusterEnabled {
					c.W.Error(errClusterDisabled)
					return
				}
				c.ReadOnly = true
				c.SetFlag(ClientReadOnly, true)
				c.W.OK()
			}},
		&Command{Name: "readwrite", Arity: 1, Flags: FlagLoading | FlagStale | FlagFast, Group: "cluster", Since: "3.0.0",
			Summary: "Enables read-write queries for a connection to a Reids Cluster replica node.", Complexity: "O(1)", ACL: []string{"@connection"},
			Proc: func(c *Client) {
				if !c.srv.Config().ClusterEnabled {
					c.W.Error(errClusterDisabled)
					return
				}
				c.ReadOnly = false
				c.SetFlag(ClientReadOnly, false)
				c.W.OK()
			}},
		&Command{Name: "asking", Arity: 1, Flags: FlagFast, Group: "cluster", Since: "3.0.0",
			Summary: "Signals that a cluster client is following an -ASK redirect.", Complexity: "O(1)", ACL: []string{"@connection"},
			Proc: func(c *Client) {
				if !c.srv.Config().ClusterEnabled {
					c.W.Error(errClusterDisabled)
					return
				}
				c.Asking = true
				c.W.OK()
			}},
		&Command{Name: "cluster", Arity: -2, Group: "cluster", Since: "3.0.0", Summary: "A container for Redis Cluster commands.",
			Complexity: "Depends on subcommand.", ACL: []string{"@slow"}, Sub: clusterSubcommands()},
	)
}

func csub(arity int, flags Flag, summary string, proc func(c *Client, b *clusterbus.Bus)) *Command {
	return &Command{Arity: arity, Flags: flags, Group: "cluster", Since: "3.0.0", Summary: summary, ACL: []string{"@slow"},
		Proc: func(c *Client) {
			b := c.srv.ClusterBus()
			if b == nil {
				c.W.Error(errClusterDisabled)
				return
			}
			proc(c, b)
		}}
}

func argStrings(argv [][]byte) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = string(a)
	}
	return out
}

// replyErr writes err (a *clusterbus.ReplyError or any error) or OK.
func replyErr(c *Client, err error) {
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	c.W.OK()
}

// writeValue writes a clusterbus reply value.
func writeValue(c *Client, v any) {
	switch x := v.(type) {
	case nil:
		c.W.Null()
	case string:
		c.W.BulkString(x)
	case int64:
		c.W.Int(x)
	case int:
		c.W.Int(int64(x))
	case []any:
		c.W.Array(len(x))
		for _, e := range x {
			writeValue(c, e)
		}
	case clusterbus.Map:
		c.W.Map(len(x))
		for _, kv := range x {
			c.W.BulkString(kv.Key)
			writeValue(c, kv.Value)
		}
	default:
		c.W.Error("ERR internal: unexpected cluster reply value")
	}
}

func clusterSubcommands() map[string]*Command {
	admin := FlagAdmin | FlagStale // Redis 7.0: admin, stale, no_async_loading
	info := FlagStale
	wrongArgs := func(c *Client) {
		c.W.Error("ERR wrong number of arguments for '" + c.Cmd.Name + "' command")
	}
	m := map[string]*Command{
		"info": csub(2, info, "Returns information about the state of a node.", func(c *Client, b *clusterbus.Bus) {
			c.W.Verbatim(b.Info())
		}),
		"nodes": csub(2, info, "Returns the cluster configuration for a node.", func(c *Client, b *clusterbus.Bus) {
			c.W.Verbatim(b.Nodes())
		}),
		"myid": csub(2, info, "Returns the ID of a node.", func(c *Client, b *clusterbus.Bus) {
			c.W.BulkString(b.MyID())
		}),
		"myshardid": csub(2, info, "Returns the shard ID of a node.", func(c *Client, b *clusterbus.Bus) {
			c.W.BulkString(b.MyShardID())
		}),
		"slots": csub(2, info, "Returns the mapping of cluster slots to nodes.", func(c *Client, b *clusterbus.Bus) {
			writeValue(c, b.Slots())
		}),
		"shards": csub(2, info, "Returns the mapping of cluster slots to shards.", func(c *Client, b *clusterbus.Bus) {
			writeValue(c, b.Shards())
		}),
		"links": csub(2, info, "Returns a list of all TCP links to and from peer nodes.", func(c *Client, b *clusterbus.Bus) {
			writeValue(c, b.Links())
		}),
		"replicas": csub(3, admin, "Lists the replica nodes of a master node.", func(c *Client, b *clusterbus.Bus) {
			v, err := b.Replicas(string(c.Argv[2]))
			if err != nil {
				c.W.Error(err.Error())
				return
			}
			writeValue(c, v)
		}),
		"meet": csub(-4, admin, "Forces a node to handshake with another node.", func(c *Client, b *clusterbus.Bus) {
			if len(c.Argv) > 5 {
				wrongArgs(c)
				return
			}
			cport := ""
			if len(c.Argv) == 5 {
				cport = string(c.Argv[4])
			}
			replyErr(c, b.Meet(string(c.Argv[2]), string(c.Argv[3]), cport))
		}),
		"forget": csub(3, admin, "Removes a node from the nodes table.", func(c *Client, b *clusterbus.Bus) {
			replyErr(c, b.Forget(string(c.Argv[2])))
		}),
		"reset": csub(-2, admin|FlagNoScript, "Resets a node.", func(c *Client, b *clusterbus.Bus) {
			hard := false
			if len(c.Argv) == 3 {
				switch strings.ToLower(string(c.Argv[2])) {
				case "hard":
					hard = true
				case "soft":
				default:
					c.W.Error(ErrSyntax)
					return
				}
			} else if len(c.Argv) > 3 {
				c.W.Error(ErrSyntax)
				return
			}
			wasReplica, err := b.Reset(hard)
			if err != nil {
				c.W.Error(err.Error())
				return
			}
			if wasReplica {
				FlushAll(c)
			}
			c.W.OK()
		}),
		"addslots": csub(-3, admin, "Assigns new hash slots to a node.", func(c *Client, b *clusterbus.Bus) {
			replyErr(c, b.AddSlots(argStrings(c.Argv[2:])))
		}),
		"delslots": csub(-3, admin, "Sets hash slots as unbound for a node.", func(c *Client, b *clusterbus.Bus) {
			replyErr(c, b.DelSlots(argStrings(c.Argv[2:])))
		}),
		"addslotsrange": csub(-4, admin, "Assigns new hash slot ranges to a node.", func(c *Client, b *clusterbus.Bus) {
			if len(c.Argv)%2 == 1 {
				wrongArgs(c)
				return
			}
			replyErr(c, b.AddSlotsRange(argStrings(c.Argv[2:])))
		}),
		"delslotsrange": csub(-4, admin, "Sets hash slot ranges as unbound for a node.", func(c *Client, b *clusterbus.Bus) {
			if len(c.Argv)%2 == 1 {
				wrongArgs(c)
				return
			}
			replyErr(c, b.DelSlotsRange(argStrings(c.Argv[2:])))
		}),
		"flushslots": csub(2, admin, "Deletes all slots information from a node.", func(c *Client, b *clusterbus.Bus) {
			replyErr(c, b.FlushSlots())
		}),
		"setslot": csub(-4, admin, "Binds a hash slot to a node.", func(c *Client, b *clusterbus.Bus) {
			replyErr(c, b.SetSlot(argStrings(c.Argv[2:])))
		}),
		"set-config-epoch": csub(3, admin, "Sets the configuration epoch for a new node.", func(c *Client, b *clusterbus.Bus) {
			replyErr(c, b.SetConfigEpoch(string(c.Argv[2])))
		}),
		"bumpepoch": csub(2, admin, "Advances the cluster config epoch.", func(c *Client, b *clusterbus.Bus) {
			c.W.Simple(b.BumpEpoch())
		}),
		"replicate": csub(3, admin, "Configure a node as replica of a master node.", func(c *Client, b *clusterbus.Bus) {
			replyErr(c, b.Replicate(string(c.Argv[2])))
		}),
		"count-failure-reports": csub(3, admin, "Returns the number of active failure reports active for a node.", func(c *Client, b *clusterbus.Bus) {
			n, err := b.CountFailureReports(string(c.Argv[2]))
			if err != nil {
				c.W.Error(err.Error())
				return
			}
			c.W.Int(int64(n))
		}),
		"saveconfig": csub(2, admin, "Forces a node to save the cluster configuration to disk.", func(c *Client, b *clusterbus.Bus) {
			replyErr(c, b.SaveConfig())
		}),
		"failover": csub(-2, admin, "Forces a replica to perform a manual failover of its master.", func(c *Client, b *clusterbus.Bus) {
			if len(c.Argv) == 3 {
				switch strings.ToLower(string(c.Argv[2])) {
				case "force", "takeover":
				default:
					c.W.Error(ErrSyntax)
					return
				}
			} else if len(c.Argv) > 3 {
				c.W.Error(ErrSyntax)
				return
			}
			if !b.IsReplica() {
				c.W.Error("ERR You should send CLUSTER FAILOVER to a replica")
				return
			}
			c.W.Error("ERR CLUSTER FAILOVER is not supported by this slotkv version yet")
		}),
		"keyslot": csub(3, FlagStale, "Returns the hash slot for a key.", func(c *Client, b *clusterbus.Bus) {
			c.W.Int(int64(slots.Of(c.Argv[2])))
		}),
		"countkeysinslot": csub(3, FlagStale, "Returns the number of keys in a hash slot.", func(c *Client, b *clusterbus.Bus) {
			v, ok := ParseInt(c.Argv[2])
			if !ok {
				c.W.Error("ERR value is not an integer or out of range")
				return
			}
			if v < 0 || v >= slots.N {
				c.W.Error("ERR Invalid slot")
				return
			}
			n := 0
			c.WithSlot(int(v), func(s *Slot) { n = s.Len() })
			c.W.Int(int64(n))
		}),
		"getkeysinslot": csub(4, FlagStale, "Returns the key names in a hash slot.", func(c *Client, b *clusterbus.Bus) {
			v, ok1 := ParseInt(c.Argv[2])
			max, ok2 := ParseInt(c.Argv[3])
			if !ok1 || !ok2 {
				c.W.Error("ERR value is not an integer or out of range")
				return
			}
			if v < 0 || v >= slots.N || max < 0 {
				c.W.Error("ERR Invalid slot or number of keys")
				return
			}
			var keys []string
			c.WithSlot(int(v), func(s *Slot) {
				s.Each(func(k string, _ *Entry) bool {
					if int64(len(keys)) >= max {
						return false
					}
					keys = append(keys, k)
					return true
				})
			})
			c.W.Array(len(keys))
			for _, k := range keys {
				c.W.BulkString(k)
			}
		}),
	}
	m["slaves"] = m["replicas"]
	m["help"] = &Command{Arity: 2, Flags: FlagLoading | FlagStale, Group: "cluster", Since: "5.0.0",
		Summary: "Returns helpful text about the different subcommands.", ACL: []string{"@slow"}, Proc: clusterHelp}
	return m
}

var clusterHelpLines = []string{
	"CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ADDSLOTS <slot> [<slot> ...]",
	"    Assign slots to current node.",
	"ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
	"    Assign slots which are between <start-slot> and <end-slot> to current node.",
	"BUMPEPOCH",
	"    Advance the cluster config epoch.",
	"COUNT-FAILURE-REPORTS <node-id>",
	"    Return number of failure reports for <node-id>.",
	"COUNTKEYSINSLOT <slot>",
	"    Return the number of keys in <slot>.",
	"DELSLOTS <slot> [<slot> ...]",
	"    Delete slots information from current node.",
	"DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
	"    Delete slots information which are between <start-slot> and <end-slot>.",
	"FAILOVER [FORCE|TAKEOVER]",
	"    Promote current replica node to being a master.",
	"FORGET <node-id>",
	"    Remove a node from the cluster.",
	"GETKEYSINSLOT <slot> <count>",
	"    Return key names stored by current node in a slot.",
	"FLUSHSLOTS",
	"    Delete current node own slots information.",
	"INFO",
	"    Return information about the cluster.",
	"KEYSLOT <key>",
	"    Return the hash slot for <key>.",
	"LINKS",
	"    Return information about all network links between this node and its peers.",
	"    Output format is an array where each array element is a map containing attributes of a link",
	"MEET <ip> <port> [<bus-port>]",
	"    Connect nodes into a working cluster.",
	"MYID",
	"    Return the node id.",
	"MYSHARDID",
	"    Return the node's shard id.",
	"NODES",
	"    Return cluster configuration seen by node. Output format:",
	"    <id> <ip:port@bus-port[,hostname]> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
	"REPLICATE <node-id>",
	"    Configure current node as replica to <node-id>.",
	"RESET [HARD|SOFT]",
	"    Reset current node (default: soft).",
	"SET-CONFIG-EPOCH <epoch>",
	"    Set config epoch of current node.",
	"SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
	"    Set slot state.",
	"REPLICAS <node-id>",
	"    Return <node-id> replicas.",
	"SAVECONFIG",
	"    Force saving cluster configuration on disk.",
	"SLOTS",
	"    Return information about slots range mappings. Each range is made of:",
	"    start, end, master and replicas IP addresses, ports and ids",
	"SHARDS",
	"    Return information about slot range mappings and the nodes associated with them.",
	"HELP",
	"    Print this help.",
}

func clusterHelp(c *Client) {
	c.W.Array(len(clusterHelpLines))
	for _, l := range clusterHelpLines {
		c.W.Simple(l)
	}
}

// startClusterBus is a StartHook: in cluster mode it loads/creates
// nodes.conf, starts the bus and connects it to the keyspace, the routing
// table the dispatcher reads and replication.
func startClusterBus(s *Server) error {
	cfg := s.Config()
	if !cfg.ClusterEnabled {
		return nil
	}
	bc := clusterbus.DefaultConfig()
	bc.Dir = cfg.Dir
	bc.ConfigFile = cfg.ClusterConfigFile
	bc.BindIP = "0.0.0.0"
	if addrs := cfg.listenAddrs(); len(addrs) > 0 {
		if ip := net.ParseIP(addrs[0]); ip != nil && !ip.IsUnspecified() {
			bc.BindIP = ip.String()
		}
	}
	if cfg.BindSourceAddr != "" && bc.BindIP == "0.0.0.0" {
		bc.BindIP = cfg.BindSourceAddr
	}
	bc.Port = cfg.Port
	bc.BusPort = cfg.ClusterPort
	bc.AnnounceIP = cfg.ClusterAnnounceIP
	bc.AnnouncePort = cfg.ClusterAnnouncePort
	bc.AnnounceBusPort = cfg.ClusterAnnounceBusPort
	bc.AnnounceHostname = cfg.ClusterAnnounceHostname
	bc.PreferredEndpoint = cfg.ClusterPreferredEndpt
	bc.NodeTimeout = cfg.ClusterNodeTimeout
	bc.RequireFullCoverage = cfg.ClusterRequireFull
	bc.AllowReadsWhenDown = cfg.ClusterAllowReadsDown
	bc.AllowReplicaMigration = cfg.ClusterAllowReplicaMig
	bc.Secret = cfg.ClusterBusSecret
	bc.Logger = s.Log.With("component", "cluster")
	ks := s.KS
	bc.Hooks = clusterbus.Hooks{
		CountKeysInSlot: func(j int) int {
			sl := ks.Slot(j)
			sl.Lock()
			defer sl.Unlock()
			return sl.Len()
		},
		KeyCount: func() int {
			n := 0
			for j := 0; j < slots.N; j++ {
				sl := ks.Slot(j)
				sl.Lock()
				n += sl.Len()
				sl.Unlock()
			}
			return n
		},
		SlotsLost: func(lost []int) {
			removed := 0
			for _, j := range lost {
				sl := ks.Slot(j)
				sl.Lock()
				// Delete key by key and propagate each DEL (as Redis's
				// delKeysInSlot), so replicas and the AOF drop them too.
				var keys []string
				sl.Each(func(k string, _ *Entry) bool { keys = append(keys, k); return true })
				for _, k := range keys {
					sl.Delete([]byte(k), nowMs())
					s.propagate(nil, [][]byte{[]byte("DEL"), []byte(k)})
				}
				removed += len(keys)
				sl.Unlock()
			}
			s.Log.Warn("deleted keys of slots this node no longer owns", "slots", len(lost), "keys", removed)
		},
		RoleChanged: func(rc clusterbus.RoleChange) {
			if rc.Master {
				s.ReplicaOf("", 0)
			} else if rc.MasterIP != "" {
				s.ReplicaOf(rc.MasterIP, rc.MasterPort)
			}
		},
		Publish: func(t *redirect.Table) { s.Route.Store(t) },
	}
	b, err := clusterbus.New(bc)
	if err != nil {
		return err
	}
	if err := b.Start(); err != nil {
		b.Close()
		return err
	}
	buses.Store(s, b)
	stop := make(chan struct{})
	go func() { // gossip our replication offset (CLUSTER SLOTS/SHARDS use it)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				b.SetReplicationOffset(s.ReplOffset())
			}
		}
	}()
	s.Closers = append(s.Closers, func() { close(stop); b.Close() })
	if rc := b.Role(); !rc.Master && rc.MasterIP != "" {
		go s.ReplicaOf(rc.MasterIP, rc.MasterPort)
	}
	s.Log.Info("cluster bus started", "id", b.MyID(), "bus", net.JoinHostPort(bc.BindIP, strconv.Itoa(busPort(bc))))
	return nil
}

func busPort(bc clusterbus.Config) int {
	if bc.BusPort != 0 {
		return bc.BusPort
	}
	return bc.Port + 10000
}
