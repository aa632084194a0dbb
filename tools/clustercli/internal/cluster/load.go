package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Unreachable describes a node listed by the entry node that clustercli
// could not use (failed, no address, connection refused, ...).
type Unreachable struct {
	Line   *NodeLine // the entry node's view of it
	Reason string
}

// IsMaster reports whether the entry node sees it as a master.
func (u Unreachable) IsMaster() bool { return !u.Line.HasFlag("slave") }

// Cluster is the set of reachable nodes, entry node first, then the others in
// the entry node's CLUSTER NODES order (like redis-cli's cluster_manager).
type Cluster struct {
	Nodes       []*Node
	Unreachable []Unreachable
	Warnings    []string
	Conn        ConnConfig
}

// Close closes every node connection.
func (c *Cluster) Close() {
	for _, n := range c.Nodes {
		n.Close()
	}
}

// Masters returns the master nodes in cluster order.
func (c *Cluster) Masters() []*Node {
	var out []*Node
	for _, n := range c.Nodes {
		if !n.IsReplica() {
			out = append(out, n)
		}
	}
	return out
}

// UnreachableMasters counts unreachable nodes that are masters.
func (c *Cluster) UnreachableMasters() int {
	k := 0
	for _, u := range c.Unreachable {
		if u.IsMaster() {
			k++
		}
	}
	return k
}

// ByID returns the node with exactly this id (case-insensitive).
func (c *Cluster) ByID(id string) *Node {
	id = strings.ToLower(id)
	for _, n := range c.Nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// Lookup resolves a node reference: a full id, a unique id prefix, or a
// host:port address. It returns an error telling the operator what to do
// when the reference is unknown or ambiguous.
func (c *Cluster) Lookup(ref string) (*Node, error) {
	if n := c.ByID(ref); n != nil {
		return n, nil
	}
	for _, n := range c.Nodes {
		if n.Addr() == ref {
			return n, nil
		}
	}
	lref := strings.ToLower(ref)
	var found []*Node
	for _, n := range c.Nodes {
		if lref != "" && strings.HasPrefix(n.ID, lref) {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, fmt.Errorf("unknown node %q: give a node id, a unique id prefix or host:port (see 'clustercli info')", ref)
	default:
		return nil, fmt.Errorf("node reference %q is ambiguous (%d nodes match): use more characters of the id", ref, len(found))
	}
}

// Load connects to the entry node and every node it knows about, and loads
// each node's own view (clusterManagerLoadInfoFromNode). Nodes flagged
// fail/noaddr/handshake by the entry node, and nodes that cannot be
// reached, are listed in Unreachable.
func Load(ctx context.Context, cc ConnConfig, addr string) (*Cluster, error) {
	entry, err := NewNode(addr)
	if err != nil {
		return nil, err
	}
	ok, err := entry.Open(ctx, cc)
	if err != nil {
		entry.Close()
		return nil, err
	}
	if !ok {
		entry.Close()
		return nil, fmt.Errorf("node %s is not configured as a cluster node (start it with cluster-enabled yes)", addr)
	}
	c := &Cluster{Nodes: []*Node{entry}, Conn: cc}
	type result struct {
		node *Node
		un   *Unreachable
	}
	var friends []*NodeLine
	for _, l := range entry.View {
		if !l.HasFlag("myself") {
			friends = append(friends, l)
		}
	}
	results := make([]result, len(friends))
	var wg sync.WaitGroup
	for i, l := range friends {
		wg.Add(1)
		go func(i int, l *NodeLine) {
			defer wg.Done()
			results[i] = loadFriend(ctx, cc, l)
		}(i, l)
	}
	wg.Wait()
	for _, r := range results {
		if r.un != nil {
			c.Unreachable = append(c.Unreachable, *r.un)
			continue
		}
		c.Nodes = append(c.Nodes, r.node)
	}
	c.countReplicas()
	return c, nil
}

func loadFriend(ctx context.Context, cc ConnConfig, l *NodeLine) (r struct {
	node *Node
	un   *Unreachable
}) {
	bad := func(reason string) {
		r.un = &Unreachable{Line: l, Reason: reason}
	}
	for _, f := range []string{"noaddr", "fail", "handshake"} {
		if l.HasFlag(f) {
			bad("flagged " + f)
			return
		}
	}
	if l.Host == "" || l.Port == 0 {
		bad("no address")
		return
	}
	n := &Node{Host: l.Host, Port: l.Port, BusPort: l.BusPort, Weight: 1}
	if ok, err := n.Open(ctx, cc); err != nil || !ok {
		n.Close()
		if err == nil {
			err = fmt.Errorf("%s is not in cluster mode", n.Addr())
		}
		bad(err.Error())
		return
	}
	r.node = n
	return
}

// countReplicas recomputes each master's replica count and records warnings
// about replicas of unknown masters.
func (c *Cluster) countReplicas() {
	for _, n := range c.Nodes {
		n.Replicas = 0
	}
	for _, n := range c.Nodes {
		if n.MasterID == "" {
			continue
		}
		m := c.ByID(n.MasterID)
		if m == nil {
			c.Warnings = append(c.Warnings, fmt.Sprintf("*** WARNING: %s claims to be slave of unknown node ID %s.", n.Addr(), n.MasterID))
			continue
		}
		m.Replicas++
	}
}

// Reload re-reads every node's own view (slots, flags, markers).
func (c *Cluster) Reload(ctx context.Context) error {
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for _, n := range c.Nodes {
		wg.Add(1)
		go func(n *Node) {
			defer wg.Done()
			if err := n.LoadView(ctx); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}(n)
	}
	wg.Wait()
	c.countReplicas()
	return first
}

// Signatures reads every node's configuration signature concurrently.
// It returns the distinct signatures with the nodes holding each.
func (c *Cluster) Signatures(ctx context.Context) (map[string][]*Node, error) {
	sigs := make([]string, len(c.Nodes))
	errs := make([]error, len(c.Nodes))
	var wg sync.WaitGroup
	for i, n := range c.Nodes {
		wg.Add(1)
		go func(i int, n *Node) {
			defer wg.Done()
			sigs[i], _, errs[i] = n.Signature(ctx)
		}(i, n)
	}
	wg.Wait()
	out := map[string][]*Node{}
	for i, n := range c.Nodes {
		if errs[i] != nil {
			return nil, fmt.Errorf("%s: %w", n.Addr(), errs[i])
		}
		out[sigs[i]] = append(out[sigs[i]], n)
	}
	return out, nil
}

// IsConfigConsistent reports whether every node has the same (non-empty)
// configuration signature (clusterManagerIsConfigConsistent).
func (c *Cluster) IsConfigConsistent(ctx context.Context) (bool, error) {
	if len(c.Nodes) <= 1 {
		return true, nil
	}
	sigs, err := c.Signatures(ctx)
	if err != nil {
		return false, err
	}
	if len(sigs) != 1 {
		return false, nil
	}
	for s := range sigs {
		if s == "" {
			return false, nil
		}
	}
	return true, nil
}

// CoveredSlots returns the union of every loaded node's own slots.
func (c *Cluster) CoveredSlots() SlotSet {
	var all SlotSet
	for _, n := range c.Nodes {
		for i := range all {
			all[i] |= n.Slots[i]
		}
	}
	return all
}

// SortedOpenSlots returns the slots that are migrating or importing on any
// node, ascending.
func (c *Cluster) SortedOpenSlots() []int {
	set := map[int]bool{}
	for _, n := range c.Nodes {
		for s := range n.Migrating {
			set[s] = true
		}
		for s := range n.Importing {
			set[s] = true
		}
	}
	out := make([]int, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Ints(out)
	return out
}
