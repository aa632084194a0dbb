package clusterbus

import (
	"strconv"
	"strings"
	"time"
)

// Reply values returned by the renderers are plain Go values the node
// writes as RESP:
//
//	string -> bulk string     int64 -> integer     nil -> null
//	[]any  -> array           Map   -> RESP3 map (flat array in RESP2)
type Map []KV

// KV is one entry of a Map.
type KV struct {
	Key   string
	Value any
}

// Nodes is CLUSTER NODES: one line per node, "\n"-terminated, myself first.
func (b *Bus) Nodes() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.st
	now := time.Now()
	var sb strings.Builder
	sb.WriteString(s.describeNode(s.myself, false, now))
	sb.WriteByte('\n')
	for _, n := range s.sortedNodes() {
		if n != s.myself {
			sb.WriteString(s.describeNode(n, false, now))
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

// Replicas is CLUSTER REPLICAS id (and SLAVES): node lines of its replicas.
func (b *Bus) Replicas(id string) ([]any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.st
	n := s.nodes[id]
	if n == nil {
		return nil, errf("Unknown node %s", id)
	}
	if n.isReplica() {
		return nil, errf("The specified node is not a master")
	}
	now := time.Now()
	out := []any{}
	for _, r := range s.replicasOf(n) {
		out = append(out, s.describeNode(r, false, now))
	}
	return out, nil
}

var msgTypeOrder = []string{"ping", "pong", "meet", "fail", "publish", "publishshard", "auth-req", "auth-ack", "update", "mfstart", "module"}

// Info is CLUSTER INFO ("\r\n"-separated fields, as Redis).
func (b *Bus) Info() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.st
	assigned, ok, pfail, fail := 0, 0, 0, 0
	for j := 0; j < NumSlots; j++ {
		o := s.owner[j]
		if o == nil {
			continue
		}
		assigned++
		switch {
		case o.failed():
			fail++
		case o.timedOut():
			pfail++
		default:
			ok++
		}
	}
	st := "fail"
	if s.ok {
		st = "ok"
	}
	var sb strings.Builder
	w := func(k string, v any) {
		sb.WriteString(k)
		sb.WriteByte(':')
		switch x := v.(type) {
		case string:
			sb.WriteString(x)
		case int:
			sb.WriteString(strconv.Itoa(x))
		case uint64:
			sb.WriteString(strconv.FormatUint(x, 10))
		}
		sb.WriteString("\r\n")
	}
	w("cluster_state", st)
	w("cluster_slots_assigned", assigned)
	w("cluster_slots_ok", ok)
	w("cluster_slots_pfail", pfail)
	w("cluster_slots_fail", fail)
	w("cluster_known_nodes", len(s.nodes))
	w("cluster_size", s.size)
	w("cluster_current_epoch", s.currentEpoch)
	w("cluster_my_epoch", s.nodeEpoch(s.myself))
	var tot uint64
	for _, t := range msgTypeOrder {
		if c := s.statsSent[t]; c > 0 {
			w("cluster_stats_messages_"+t+"_sent", c)
			tot += c
		}
	}
	w("cluster_stats_messages_sent", tot)
	tot = 0
	for _, t := range msgTypeOrder {
		if c := s.statsRecv[t]; c > 0 {
			w("cluster_stats_messages_"+t+"_received", c)
			tot += c
		}
	}
	w("cluster_stats_messages_received", tot)
	w("total_cluster_links_buffer_limit_exceeded", 0)
	return sb.String()
}

// State reports whether cluster_state is ok.
func (b *Bus) State() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st.ok
}

func (s *state) slotsNodeEntry(n *node) []any {
	var ep any
	switch s.cfg.PreferredEndpoint {
	case EndpointIP:
		ep = n.ip
	case EndpointHostname:
		ep = s.endpointHost(n)
	default:
		ep = nil
	}
	extra := Map{}
	if s.cfg.PreferredEndpoint != EndpointIP {
		extra = append(extra, KV{"ip", n.ip})
	}
	if s.cfg.PreferredEndpoint != EndpointHostname && n.hostname != "" {
		extra = append(extra, KV{"hostname", n.hostname})
	}
	return []any{ep, int64(n.port), n.id, extra}
}

func (s *state) replOffsetOf(n *node) int64 {
	return n.replOffset
}

// replicaAvailable is isReplicaAvailable.
func (s *state) replicaAvailable(n *node) bool {
	return !n.failed() && s.replOffsetOf(n) != 0
}

func (s *state) mastersSorted() []*node {
	var out []*node
	for _, n := range s.sortedNodes() {
		if n.isMaster() {
			out = append(out, n)
		}
	}
	return out
}

// Slots is CLUSTER SLOTS.
func (b *Bus) Slots() []any {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.st
	out := []any{}
	// Redis walks slots in order and emits one entry per contiguous range.
	start := -1
	for j := 0; j <= NumSlots; j++ {
		var o *node
		if j < NumSlots {
			o = s.owner[j]
		}
		if start >= 0 && (j == NumSlots || o != s.owner[start]) {
			m := s.owner[start]
			e := []any{int64(start), int64(j - 1), s.slotsNodeEntry(m)}
			for _, r := range s.replicasOf(m) {
				if s.replicaAvailable(r) {
					e = append(e, s.slotsNodeEntry(r))
				}
			}
			out = append(out, e)
			start = -1
		}
		if j < NumSlots && o != nil && start < 0 {
			start = j
		}
	}
	return out
}

func (s *state) shardNode(n *node) Map {
	m := Map{{"id", n.id}, {"port", int64(n.port)}, {"ip", n.ip}}
	ep := s.endpointHost(n)
	m = append(m, KV{"endpoint", ep})
	if n.hostname != "" {
		m = append(m, KV{"hostname", n.hostname})
	}
	role := "master"
	if n.isReplica() {
		role = "replica"
	}
	off := s.replOffsetOf(n)
	health := "online"
	if n.failed() {
		health = "fail"
	} else if n.isReplica() && off == 0 {
		health = "loading"
	}
	m = append(m, KV{"role", role}, KV{"replication-offset", off}, KV{"health", health})
	return m
}

// Shards is CLUSTER SHARDS.
func (b *Bus) Shards() []any {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.st
	out := []any{}
	for _, m := range s.mastersSorted() {
		bits := s.slotsOf(m)
		slots := []any{}
		for _, r := range bits.ranges() {
			slots = append(slots, int64(r.start), int64(r.end))
		}
		nodes := []any{s.shardNode(m)}
		for _, r := range s.replicasOf(m) {
			nodes = append(nodes, s.shardNode(r))
		}
		out = append(out, Map{{"slots", slots}, {"nodes", nodes}})
	}
	// Replicas whose master is unknown still appear, in their own shard.
	for _, n := range s.sortedNodes() {
		if n.isReplica() && s.masterOf(n) == nil {
			out = append(out, Map{{"slots", []any{}}, {"nodes", []any{s.shardNode(n)}}})
		}
	}
	return out
}

// Links is CLUSTER LINKS. The bus has no long-lived per-node connections
// (heartbeats are datagrams, records go over short TCP streams), so each
// reachable node is shown with one "to" and one "from" link created at the
// first answered ping of the current contact.
func (b *Bus) Links() []any {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.st
	now := time.Now()
	out := []any{}
	for _, n := range s.sortedNodes() {
		if n == s.myself || !s.linkUp(n, now) {
			continue
		}
		for _, dir := range []string{"to", "from"} {
			out = append(out, Map{
				{"direction", dir}, {"node", n.id}, {"create-time", ms(n.linkCreated)},
				{"events", "r"}, {"send-buffer-allocated", int64(0)}, {"send-buffer-used", int64(0)},
			})
		}
	}
	return out
}

// Stats are bus counters for tests and INFO.
type Stats struct {
	MessagesReceived uint64 // bus messages handed to us by memberlist
	MessagesDropped  uint64 // invalid messages dropped
	SendQueueDrops   uint64 // outbound messages dropped on a full queue
	BytesSent        uint64 // UDP + TCP bytes written by this node's transport
}

// Stats returns the bus counters.
func (b *Bus) Stats() Stats {
	return Stats{
		MessagesReceived: b.received.Load(),
		MessagesDropped:  b.dropped.Load(),
		SendQueueDrops:   b.sendDrops.Load(),
		BytesSent:        b.counts.udpOut.Load() + b.counts.tcpOut.Load(),
	}
}
