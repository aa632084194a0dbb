package main

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/slotkv/slotkv/tools/clustercli/internal/cluster"
	"github.com/slotkv/slotkv/tools/clustercli/internal/plan"
)

// connectNew connects to a node given on the command line and checks it is
// a cluster node; it loads its own view (id, bus port).
func (a *app) connectNew(addr string) (*cluster.Node, error) {
	n, err := cluster.NewNode(addr)
	if err != nil {
		return nil, err
	}
	ok, err := n.Open(a.ctx, a.conn)
	if err != nil {
		n.Close()
		return nil, err
	}
	if !ok {
		n.Close()
		return nil, fmt.Errorf("Node %s is not configured as a cluster node. Start it with 'cluster-enabled yes'", n.Addr())
	}
	return n, nil
}

func (a *app) requireEmpty(n *cluster.Node) error {
	empty, err := n.IsEmpty(a.ctx)
	if err != nil {
		return fmt.Errorf("node %s replied with error: %w", n.Addr(), err)
	}
	if !empty {
		return fmt.Errorf("Node %s is not empty. Either the node already knows other nodes (check with CLUSTER NODES) or contains some key in database 0. "+
			"To reuse it: FLUSHALL and CLUSTER RESET on it (this deletes its data)", n.Addr())
	}
	return nil
}

func cmdCreate(a *app) int {
	replicas, err := a.p.intVal("replicas", 0)
	if err != nil || replicas < 0 {
		a.errf("--replicas wants a non-negative integer")
		return exitUsage
	}
	waitMS, err := a.p.intVal("wait-timeout", 60000)
	if err != nil {
		a.errf("%v", err)
		return exitUsage
	}
	seen := map[string]bool{}
	var nodes []*cluster.Node
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	// Connect to all nodes concurrently, keep command-line order.
	res := make([]*cluster.Node, len(a.p.pos))
	errs := make([]error, len(a.p.pos))
	var wg sync.WaitGroup
	for i, addr := range a.p.pos {
		if seen[addr] {
			a.errf("[ERR] Node %s given twice", addr)
			return exitUsage
		}
		seen[addr] = true
		wg.Add(1)
		go func(i int, addr string) {
			defer wg.Done()
			n, err := a.connectNew(addr)
			if err == nil {
				err = a.requireEmpty(n)
			}
			res[i], errs[i] = n, err
		}(i, addr)
	}
	wg.Wait()
	for i := range res {
		if res[i] != nil {
			nodes = append(nodes, res[i])
		}
	}
	for _, err := range errs {
		if err != nil {
			return a.fail(err)
		}
	}
	a.info(">>> Performing hash slots allocation on %d nodes...", len(nodes))
	pl, err := plan.AllocCreate(nodes, replicas, nil)
	if err != nil {
		a.errf("%v", err)
		return a.finish(exitProblem)
	}
	for _, l := range pl.Log {
		a.plain("%s", l)
	}
	for _, m := range pl.Masters {
		m.Replicas = 0
	}
	for _, r := range pl.Replicas {
		for _, m := range pl.Masters {
			if m.ID == r.MasterID {
				m.Replicas++
			}
		}
	}
	for _, n := range nodes {
		a.plain("%s", nodeInfoLines(n, ""))
	}
	doc := map[string]any{"ok": false, "masters": createJSON(pl.Masters), "replicas": createJSON(pl.Replicas), "simulated": a.p.bools["simulate"]}
	a.out = doc
	if a.p.bools["simulate"] {
		a.warn("--simulate: nothing was changed.")
		doc["ok"] = true
		return a.finish(exitOK)
	}
	a.tm.mark("connect+plan")
	if !a.confirm("Can I set the above configuration?") {
		a.warn("Aborted: nothing was changed.")
		return a.finish(exitProblem)
	}
	a.tm.skip()
	ctx := a.ctx
	for _, m := range pl.Masters {
		if err := m.AddSlots(ctx, &m.Slots); err != nil {
			return a.fail(fmt.Errorf("%v (nothing else was changed; the slots assigned so far can be removed with CLUSTER RESET on each node)", err))
		}
	}
	a.info(">>> Nodes configuration updated")
	a.info(">>> Assign a different config epoch to each node")
	for i, n := range nodes {
		if err := n.Client.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
			a.warn("*** %s: CLUSTER SET-CONFIG-EPOCH %d: %v", n.Addr(), i+1, err)
		}
	}
	a.info(">>> Sending CLUSTER MEET messages to join the cluster")
	first := nodes[0]
	ip, err := resolveIP(first.Host)
	if err != nil {
		return a.fail(fmt.Errorf("invalid IP address or hostname specified: %s", first.Host))
	}
	for _, n := range nodes[1:] {
		args := []any{"CLUSTER", "MEET", ip, first.Port}
		if first.BusPort != 0 && first.BusPort != first.Port+10000 {
			args = append(args, first.BusPort)
		}
		if err := n.Client.Do(ctx, args...).Err(); err != nil {
			return a.fail(fmt.Errorf("%s: CLUSTER MEET: %v (slots and epochs are already set: to start over run CLUSTER RESET HARD on every node; check that %s can reach %s and its cluster bus port)", n.Addr(), err, n.Addr(), first.Addr()))
		}
	}
	a.tm.mark("slots+epochs+meet")
	c := &cluster.Cluster{Nodes: nodes, Conn: a.conn}
	if err := a.waitForJoin(c, time.Duration(waitMS)*time.Millisecond); err != nil {
		return a.fail(err)
	}
	// Replicas can only REPLICATE once they know their master.
	a.tm.mark("join")
	deadline := time.Now().Add(time.Duration(waitMS) * time.Millisecond)
	for _, r := range pl.Replicas {
		poll := newPoller(100 * time.Millisecond)
		for {
			err := r.Client.Do(ctx, "CLUSTER", "REPLICATE", r.MasterID).Err()
			if err == nil {
				break
			}
			if time.Now().After(deadline) || a.interrupted() {
				return a.fail(fmt.Errorf("%s: CLUSTER REPLICATE %s: %v (the cluster is up without this replica: run 'redis-cli -h %s -p %d CLUSTER REPLICATE %s' once it knows its master, see 'clustercli check %s')", r.Addr(), r.MasterID, err, r.Host, r.Port, r.MasterID, first.Addr()))
			}
			poll.wait()
		}
	}
	for _, n := range nodes {
		n.Close()
	}
	nodes = nil
	c2, err := a.load(first.Addr())
	if err != nil {
		return a.fail(err)
	}
	defer c2.Close()
	a.tm.mark("replicate+reload")
	if err := a.waitClusterOK(c2, time.Duration(waitMS)*time.Millisecond); err != nil {
		a.warn("*** %v", err)
	}
	a.tm.mark("wait cluster_state:ok")
	a.nodeList(c2)
	r := a.checkCluster(c2, checkOpts{})
	a.tm.mark("check")
	doc["ok"] = r.OK
	doc["check"] = r
	if !r.OK {
		return a.finish(exitProblem)
	}
	return a.finish(exitOK)
}

// nodeList prints redis-cli's M:/S: node listing.
func (a *app) nodeList(c *cluster.Cluster) {
	for _, n := range c.Nodes {
		a.plain("%s", nodeInfoLines(n, ""))
	}
}

func createJSON(ns []*cluster.Node) []map[string]any {
	var out []map[string]any
	for _, n := range ns {
		m := map[string]any{"id": n.ID, "addr": n.Addr()}
		if n.MasterID != "" {
			m["master_id"] = n.MasterID
		} else {
			m["slot_ranges"] = cluster.FormatRanges(n.Slots.List())
			m["slots"] = n.Slots.Count()
		}
		out = append(out, m)
	}
	return out
}

func resolveIP(host string) (string, error) {
	if net.ParseIP(host) != nil {
		return host, nil
	}
	ips, err := net.LookupHost(host)
	if err != nil || len(ips) == 0 {
		return "", fmt.Errorf("cannot resolve %s", host)
	}
	return ips[0], nil
}

// waitForJoin polls until every node has the same configuration signature
// (clusterManagerWaitForClusterJoin), reporting unreachable bus ports.
func (a *app) waitForJoin(c *cluster.Cluster, timeout time.Duration) error {
	a.Printf("Waiting for the cluster to join")
	start := time.Now()
	warned := false
	dots := time.Now()
	pl := newPoller(100 * time.Millisecond)
	for {
		ok, err := c.IsConfigConsistent(a.ctx)
		if err == nil && ok {
			a.Printf("\n")
			return nil
		}
		if time.Since(dots) >= time.Second {
			a.Printf(".")
			dots = time.Now()
		}
		if !warned && time.Since(start) > 20*time.Second {
			warned = true
			a.Printf("\n")
			a.reportLinks(c)
		}
		if time.Since(start) > timeout {
			a.Printf("\n")
			a.reportLinks(c)
			return fmt.Errorf("the nodes did not agree about the configuration within %v. Check that every node's cluster bus port (port+10000 by default) is reachable from every other node, then run 'clustercli check %s'", timeout, c.Nodes[0].Addr())
		}
		if a.sig.Err() != nil {
			return a.sig.Err()
		}
		pl.wait()
	}
}

// reportLinks prints nodes that others see disconnected or in handshake
// (clusterManagerGetLinkStatus).
func (a *app) reportLinks(c *cluster.Cluster) {
	from := map[string][]string{}
	for _, n := range c.Nodes {
		_, lines, err := n.Signature(a.ctx)
		if err != nil {
			continue
		}
		for _, l := range lines {
			if l.HasFlag("myself") {
				continue
			}
			if l.LinkState == "disconnected" || l.HasFlag("handshake") {
				key := fmt.Sprintf("%s@%d", l.Addr(), l.BusPort)
				from[key] = append(from[key], n.Addr())
			}
		}
	}
	if len(from) == 0 {
		return
	}
	a.errf("Warning: %d node(s) may be unreachable", len(from))
	for _, k := range sortedKeys(from) {
		a.errf(" - Node %s may be unreachable from:\n   %s", k, strings.Join(from[k], "\n   "))
	}
	a.errf("Cluster bus ports must be reachable by every node.\nRemember that cluster bus ports are different from standard instance ports.")
}

// Printf prints raw progress text to the human stream.
func (a *app) Printf(format string, args ...any) { a.ui.Printf(format, args...) }
