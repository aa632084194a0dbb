package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/slotkv/slotkv/tools/clustercli/internal/cluster"
)

// leastReplicas returns the master with the fewest replicas (first one on
// ties), like clusterManagerNodeWithLeastReplicas, skipping exclude.
func leastReplicas(c *cluster.Cluster, exclude *cluster.Node) *cluster.Node {
	var best *cluster.Node
	for _, n := range c.Nodes {
		if n.IsReplica() || n == exclude {
			continue
		}
		if best == nil || n.Replicas < best.Replicas {
			best = n
		}
	}
	return best
}

func cmdAddNode(a *app) int {
	newAddr, refAddr := a.p.pos[0], a.p.pos[1]
	waitMS, err := a.p.intVal("wait-timeout", 60000)
	if err != nil {
		a.errf("%v", err)
		return exitUsage
	}
	a.info(">>> Adding node %s to cluster %s", newAddr, refAddr)
	doc := map[string]any{"ok": false}
	a.out = doc
	c, err := a.load(refAddr)
	if err != nil {
		return a.fail(err)
	}
	defer c.Close()
	a.tm.mark("load")
	a.nodeList(c)
	if r := a.checkCluster(c, checkOpts{quiet: true}); !r.OK {
		a.errf("*** Please fix your cluster problems before adding a node: run 'clustercli fix %s'.", refAddr)
		doc["check"] = r
		return a.finish(exitProblem)
	}
	var master *cluster.Node
	asReplica := a.p.bools["replica"] || a.p.has("master-id")
	if asReplica {
		if id := a.p.str("master-id"); id != "" {
			n, err := c.Lookup(id)
			if err != nil || n.IsReplica() {
				return a.fail(fmt.Errorf("No such master ID %s: give a master's id (a unique prefix works) or host:port; 'clustercli info %s' lists them", id, refAddr))
			}
			master = n
		} else {
			master = leastReplicas(c, nil)
			a.plain("Automatically selected master %s", master.Addr())
		}
	}
	nn, err := a.connectNew(newAddr)
	if err != nil {
		return a.fail(fmt.Errorf("Sorry, can't add node %s: %v", newAddr, err))
	}
	defer nn.Close()
	if err := a.requireEmpty(nn); err != nil {
		return a.fail(err)
	}
	if master != nil {
		a.plain("Plan: %s (%s) joins as a replica of %s (%s).", nn.Addr(), nn.ID, master.Addr(), master.ID)
	} else {
		a.plain("Plan: %s (%s) joins as a master with no slots (then use 'clustercli rebalance %s --use-empty-masters' or 'reshard' to give it slots).", nn.Addr(), nn.ID, refAddr)
	}
	a.tm.mark("check+connect")
	if !a.confirm("Add the node?") {
		a.warn("Aborted: nothing was changed.")
		return a.finish(exitProblem)
	}
	a.tm.skip()
	ctx := a.ctx
	first := c.Nodes[0]
	if master == nil {
		a.info(">>> Getting functions from cluster")
		payload, err := first.Client.Do(ctx, "FUNCTION", "DUMP").Text()
		if err != nil {
			a.info(">>> Failed retrieving Functions from the cluster, skip this step as the server does not support FUNCTION (error = '%v')", err)
		} else {
			a.info(">>> Send FUNCTION LIST to %s to verify there is no functions in it", nn.Addr())
			list, err := nn.Client.Do(ctx, "FUNCTION", "LIST").Slice()
			if err != nil {
				return a.fail(fmt.Errorf(">>> Failed on FUNCTION LIST (error = '%v')", err))
			}
			if len(list) > 0 {
				return a.fail(fmt.Errorf(">>> New node already contains functions and can not be added to the cluster. Use FUNCTION FLUSH and try again"))
			}
			a.info(">>> Send FUNCTION RESTORE to %s", nn.Addr())
			if err := nn.Client.Do(ctx, "FUNCTION", "RESTORE", payload).Err(); err != nil {
				return a.fail(fmt.Errorf(">>> Failed loading functions to the new node (error = '%v')", err))
			}
		}
	}
	a.info(">>> Send CLUSTER MEET to node %s to make it join the cluster.", nn.Addr())
	ip, err := resolveIP(first.Host)
	if err != nil {
		return a.fail(err)
	}
	args := []any{"CLUSTER", "MEET", ip, first.Port}
	if first.BusPort != 0 && first.BusPort != first.Port+10000 {
		args = append(args, first.BusPort)
	}
	if err := nn.Client.Do(ctx, args...).Err(); err != nil {
		return a.fail(fmt.Errorf("%s: CLUSTER MEET %s %d: %v (nothing was changed; check that the new node can reach %s and its cluster bus port)", nn.Addr(), ip, first.Port, err, first.Addr()))
	}
	a.tm.mark("functions+meet")
	all := &cluster.Cluster{Nodes: append(append([]*cluster.Node(nil), c.Nodes...), nn), Conn: a.conn}
	timeout := time.Duration(waitMS) * time.Millisecond
	if err := a.waitForJoin(all, timeout); err != nil {
		return a.fail(err)
	}
	a.tm.mark("join")
	if err := a.waitKnown(all, nn.ID, timeout); err != nil {
		a.warn("*** %v", err)
	}
	a.tm.mark("known everywhere")
	if master != nil {
		a.info(">>> Configure node as replica of %s.", master.Addr())
		deadline := time.Now().Add(timeout)
		pl := newPoller(100 * time.Millisecond)
		for {
			err := nn.Client.Do(ctx, "CLUSTER", "REPLICATE", master.ID).Err()
			if err == nil {
				break
			}
			if time.Now().After(deadline) || a.interrupted() {
				return a.fail(fmt.Errorf("%s: CLUSTER REPLICATE %s: %v. The node joined as an empty master: make it a replica with 'redis-cli -h %s -p %d CLUSTER REPLICATE %s', or remove it with 'clustercli del-node %s %s'",
					nn.Addr(), master.ID, err, nn.Host, nn.Port, master.ID, refAddr, nn.ID))
			}
			pl.wait()
		}
		a.tm.mark("replicate")
	}
	a.ok("[OK] New node added correctly.")
	doc["ok"] = true
	doc["node"] = map[string]any{"id": nn.ID, "addr": nn.Addr(), "role": map[bool]string{true: "replica", false: "master"}[master != nil]}
	if master != nil {
		doc["node"].(map[string]any)["master_id"] = master.ID
	}
	return a.finish(exitOK)
}

// waitKnown waits until every node lists id as a known, non-handshake node.
func (a *app) waitKnown(c *cluster.Cluster, id string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	pl := newPoller(100 * time.Millisecond)
	for {
		missing := ""
		for _, n := range c.Nodes {
			_, lines, err := n.Signature(a.ctx)
			if err != nil {
				missing = n.Addr()
				break
			}
			found := false
			for _, l := range lines {
				if l.ID == id && !l.HasFlag("handshake") {
					found = true
				}
			}
			if !found {
				missing = n.Addr()
				break
			}
		}
		if missing == "" {
			return nil
		}
		if time.Now().After(deadline) || a.interrupted() {
			return fmt.Errorf("node %s does not know the new node %s yet; the cluster bus will spread it, check with 'clustercli check %s'", missing, id, c.Nodes[0].Addr())
		}
		pl.wait()
	}
}

func cmdDelNode(a *app) int {
	entry, id := a.p.pos[0], strings.ToLower(a.p.pos[1])
	a.info(">>> Removing node %s from cluster %s", id, entry)
	doc := map[string]any{"ok": false}
	a.out = doc
	c, err := a.load(entry)
	if err != nil {
		return a.fail(err)
	}
	defer c.Close()
	a.tm.mark("load")
	// The node: a full id as redis-cli wants, or (clustercli) a unique id
	// prefix or host:port, among reachable and unreachable nodes.
	node := c.ByID(id)
	var unreachable *cluster.Unreachable
	if node == nil {
		var matches []*cluster.Unreachable
		for i := range c.Unreachable {
			l := c.Unreachable[i].Line
			if l.ID == id || l.Addr() == id || strings.HasPrefix(l.ID, id) {
				matches = append(matches, &c.Unreachable[i])
			}
		}
		n, lerr := c.Lookup(id)
		switch {
		case lerr == nil && len(matches) == 0:
			node, id = n, n.ID
		case lerr != nil && len(matches) == 1 && !strings.Contains(lerr.Error(), "ambiguous"):
			unreachable, id = matches[0], matches[0].Line.ID
		case len(matches)+boolInt(lerr == nil) > 1 || (lerr != nil && strings.Contains(lerr.Error(), "ambiguous")):
			return a.fail(fmt.Errorf("Node reference %s matches several nodes: give more characters of the id (see 'clustercli info %s')", id, entry))
		default:
			return a.fail(fmt.Errorf("No such node ID %s: give the node's id (a unique prefix works) or host:port; 'clustercli info %s' lists them", id, entry))
		}
	}
	if node != nil && node.Slots.Count() != 0 {
		return a.fail(fmt.Errorf("Node %s is not empty! Reshard data away and try again: 'clustercli rebalance %s --weight %s=0 --yes' moves its slots to the other masters", node.Addr(), entry, short(node.ID)))
	}
	if unreachable != nil && unreachable.Line.Slots.Count() != 0 {
		return a.fail(fmt.Errorf("Node %s is unreachable and still owns %d slots. Promote one of its replicas (CLUSTER FAILOVER on the replica) or cover its slots with 'clustercli fix %s' first", unreachable.Line.Addr(), unreachable.Line.Slots.Count(), entry))
	}
	// Plan.
	type repoint struct{ replica, master *cluster.Node }
	var repoints []repoint
	for _, n := range c.Nodes {
		if n != node && n.MasterID == id {
			m := leastReplicas(c, node)
			if m == nil {
				return a.fail(fmt.Errorf("no other master to re-point the replicas of %s to: add a master first ('clustercli add-node <new> %s') or delete the replicas first", id, entry))
			}
			repoints = append(repoints, repoint{n, m})
			m.Replicas++
		}
	}
	for _, r := range repoints {
		a.plain("Plan: %s (replica of the removed node) will replicate %s.", r.replica.Addr(), r.master.Addr())
	}
	a.plain("Plan: CLUSTER FORGET %s on %d nodes, then CLUSTER RESET SOFT on it.", id, len(c.Nodes)-boolInt(node != nil))
	if a.p.bools["simulate"] {
		a.warn("--simulate: nothing was changed.")
		doc["ok"] = true
		return a.finish(exitOK)
	}
	if !a.confirm("Remove the node?") {
		a.warn("Aborted: nothing was changed.")
		return a.finish(exitProblem)
	}
	a.tm.skip()
	ctx := a.ctx
	a.info(">>> Sending CLUSTER FORGET messages to the cluster...")
	for _, n := range c.Nodes {
		if n == node {
			continue
		}
		for _, r := range repoints {
			if r.replica == n {
				a.info(">>> %s as replica of %s", n.Addr(), r.master.Addr())
				if err := n.Client.Do(ctx, "CLUSTER", "REPLICATE", r.master.ID).Err(); err != nil {
					return a.fail(fmt.Errorf("%s: CLUSTER REPLICATE %s: %v (nothing was forgotten yet)", n.Addr(), r.master.ID, err))
				}
			}
		}
		if err := n.Client.Do(ctx, "CLUSTER", "FORGET", id).Err(); err != nil && !strings.Contains(err.Error(), "Unknown node") {
			return a.fail(fmt.Errorf("%s: CLUSTER FORGET %s: %v. The forget list expires after 60 s: re-run this command right away so the node is not re-learned", n.Addr(), id, err))
		}
	}
	a.tm.mark("replicate+forget")
	if node != nil {
		a.info(">>> Sending CLUSTER RESET SOFT to the deleted node.")
		if err := node.Client.Do(ctx, "CLUSTER", "RESET", "SOFT").Err(); err != nil {
			return a.fail(fmt.Errorf("%s: CLUSTER RESET SOFT: %v. The cluster has forgotten the node; run CLUSTER RESET SOFT on it yourself (or stop it) before the forget list expires in 60 s, or it will be re-learned", node.Addr(), err))
		}
	} else {
		a.warn("*** The node was unreachable: when it comes back, run CLUSTER RESET SOFT on it before it rejoins, or it will be re-learned.")
	}
	a.tm.mark("reset")
	doc["ok"] = true
	return a.finish(exitOK)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// formatRaw formats a reply like redis-cli's cliFormatReplyRaw.
func formatRaw(v any, err error) string {
	if err != nil {
		if errors.Is(err, redis.Nil) {
			return ""
		}
		return err.Error() + "\n"
	}
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			if ee, ok := e.(error); ok {
				parts[i] = formatRaw(nil, ee)
			} else {
				parts[i] = formatRaw(e, nil)
			}
		}
		return strings.Join(parts, "\n")
	default:
		return fmt.Sprint(x)
	}
}

func cmdCall(a *app) int {
	c, err := a.load(a.p.pos[0])
	if err != nil {
		return a.fail(err)
	}
	defer c.Close()
	cmd := a.p.pos[1:]
	a.info(">>> Calling %s", strings.Join(cmd, " "))
	args := make([]any, len(cmd))
	for i, s := range cmd {
		args[i] = s
	}
	onlyM, onlyR := a.p.bools["only-masters"], a.p.bools["only-replicas"]
	var results []map[string]any
	code := exitOK
	for _, n := range c.Nodes {
		if (onlyM && n.IsReplica()) || (onlyR && !n.IsReplica()) {
			continue
		}
		v, err := n.Client.Do(a.ctx, args...).Result()
		res := map[string]any{"addr": n.Addr(), "id": n.ID, "role": role(n)}
		if err != nil && !errors.Is(err, redis.Nil) {
			res["error"] = err.Error()
			code = exitProblem
			if !cluster.IsRedisError(err) {
				a.plain("%s: Failed!", n.Addr())
				results = append(results, res)
				continue
			}
		} else {
			res["reply"] = v
		}
		a.plain("%s: %s", n.Addr(), formatRaw(v, err))
		results = append(results, res)
	}
	for _, u := range c.Unreachable {
		a.plain("%s: Failed! (unreachable: %s)", u.Line.Addr(), u.Reason)
		results = append(results, map[string]any{"addr": u.Line.Addr(), "id": u.Line.ID, "error": "unreachable: " + u.Reason})
		code = exitProblem
	}
	a.out = map[string]any{"ok": code == exitOK, "results": results}
	return a.finish(code)
}

func cmdSetTimeout(a *app) int {
	ms, err := strconv.Atoi(a.p.pos[1])
	if err != nil {
		a.errf("milliseconds must be an integer")
		return exitUsage
	}
	if ms < 100 {
		a.errf("Setting a node timeout of less than 100 milliseconds is a bad idea.")
		return exitUsage
	}
	c, err := a.load(a.p.pos[0])
	if err != nil {
		return a.fail(err)
	}
	defer c.Close()
	a.plain("Plan: CONFIG SET cluster-node-timeout %d and CONFIG REWRITE on %d nodes.", ms, len(c.Nodes))
	if !a.confirm("Set the timeout?") {
		a.warn("Aborted: nothing was changed.")
		return exitProblem
	}
	a.info(">>> Reconfiguring node timeout in every cluster node...")
	okCount, errCount := 0, 0
	var results []map[string]any
	for _, n := range c.Nodes {
		res := map[string]any{"addr": n.Addr()}
		if err := n.Client.ConfigSet(a.ctx, "cluster-node-timeout", strconv.Itoa(ms)).Err(); err != nil {
			a.errf("ERR setting node-timeout for %s: %v", n.Addr(), err)
			res["error"] = err.Error()
			errCount++
			results = append(results, res)
			continue
		}
		if err := n.Client.ConfigRewrite(a.ctx).Err(); err != nil {
			a.warn("*** New timeout set for %s, but not persisted (CONFIG REWRITE: %v); add cluster-node-timeout %d to its configuration", n.Addr(), err, ms)
			res["rewrite_error"] = err.Error()
		} else {
			a.warn("*** New timeout set for %s", n.Addr())
		}
		okCount++
		results = append(results, res)
	}
	a.info(">>> New node timeout set. %d OK, %d ERR.", okCount, errCount)
	for _, u := range c.Unreachable {
		a.errf("ERR %s is unreachable (%s): set its timeout when it is back", u.Line.Addr(), u.Reason)
		errCount++
	}
	a.out = map[string]any{"ok": errCount == 0, "results": results}
	if errCount > 0 {
		return a.finish(exitProblem)
	}
	return a.finish(exitOK)
}
