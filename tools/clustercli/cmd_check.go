package main

import (
	"fmt"
	"time"

	"github.com/slotkv/slotkv/tools/clustercli/internal/cluster"
	"github.com/slotkv/slotkv/tools/clustercli/internal/move"
	"github.com/slotkv/slotkv/tools/clustercli/internal/ui"
)

// moveOptions builds mover options from the command line.
func (a *app) moveOptions() (move.Options, error) {
	o := move.DefaultOptions()
	t, err := a.p.intVal("timeout", 60000)
	if err != nil {
		return o, err
	}
	o.Timeout = time.Duration(t) * time.Millisecond
	if o.Pipeline, err = a.p.intVal("pipeline", 10); err != nil {
		return o, err
	}
	o.Replace = a.p.bools["replace"]
	o.User, o.Password = a.conn.User, a.conn.Password
	o.Log = func(s string) { a.warn("%s", s) }
	o.Trace = a.verbose
	return o, o.Validate()
}

func (a *app) fixMover() *move.MigrateMover {
	o, _ := a.moveOptions()
	o.Fix = true
	return &move.MigrateMover{Opts: o}
}

// clusterInfo prints the info table and summary (clusterManagerShowClusterInfo).
func (a *app) clusterInfo(c *cluster.Cluster) (map[*cluster.Node]int64, int64) {
	keys := a.dbsizes(c.Nodes)
	a.nodeTable(c, keys)
	var total int64
	masters := 0
	for _, m := range c.Masters() {
		masters++
		total += keys[m]
	}
	a.ok("[OK] %d keys in %d masters.", total, masters)
	a.plain("%.2f keys per slot on average.", float32(total)/float32(cluster.NumSlots))
	return keys, total
}

func cmdCheck(a *app) int {
	c, err := a.load(a.p.pos[0])
	if err != nil {
		return a.fail(err)
	}
	defer c.Close()
	keys, _ := a.clusterInfo(c)
	r := a.checkCluster(c, checkOpts{multipleOwners: a.p.bools["search-multiple-owners"]})
	if !r.OK {
		a.plain("")
		a.warn("Problems found. To repair them run: clustercli fix %s", a.p.pos[0])
	}
	a.out = map[string]any{"ok": r.OK, "check": r, "nodes": nodesJSON(c, keys)}
	if !r.OK {
		return a.finish(exitProblem)
	}
	return a.finish(exitOK)
}

func nodesJSON(c *cluster.Cluster, keys map[*cluster.Node]int64) []nodeJSON {
	var out []nodeJSON
	for _, n := range c.Nodes {
		out = append(out, toJSON(n, keys))
	}
	return out
}

func cmdInfo(a *app) int {
	c, err := a.load(a.p.pos[0])
	if err != nil {
		return a.fail(err)
	}
	defer c.Close()
	keys, total := a.clusterInfo(c)
	if a.p.bools["map"] {
		a.plain("")
		a.slotMap(c)
	}
	code := exitOK
	if len(c.Unreachable) > 0 {
		a.warn("%d node(s) unreachable; run 'clustercli check %s' for details.", len(c.Unreachable), a.p.pos[0])
		code = exitProblem
	}
	a.out = map[string]any{"ok": code == exitOK, "keys": total, "masters": len(c.Masters()), "nodes": nodesJSON(c, keys),
		"keys_per_slot": float64(total) / cluster.NumSlots}
	return a.finish(code)
}

// slotMap draws the 16384 slots coloured by owner.
func (a *app) slotMap(c *cluster.Cluster) {
	owner := make([]int, cluster.NumSlots)
	open := make([]bool, cluster.NumSlots)
	for i := range owner {
		owner[i] = -1
	}
	var legend []ui.SlotMapOwner
	for i, m := range c.Masters() {
		for _, s := range m.Slots.List() {
			owner[s] = i
		}
		for s := range m.Migrating {
			open[s] = true
		}
		for s := range m.Importing {
			open[s] = true
		}
		legend = append(legend, ui.SlotMapOwner{Label: fmt.Sprintf("%s (%s)", m.Addr(), m.ShortID()), Slots: m.Slots.Count()})
	}
	ui.RenderSlotMap(a.ui.Human, owner, open, legend, a.ui.Color)
}

func cmdFix(a *app) int {
	c, err := a.load(a.p.pos[0])
	if err != nil {
		return a.fail(err)
	}
	defer c.Close()
	keys, _ := a.clusterInfo(c)
	o := checkOpts{
		fix:            !a.p.bools["simulate"],
		multipleOwners: a.p.bools["search-multiple-owners"],
		withUnreach:    a.p.bools["fix-with-unreachable-masters"],
	}
	if _, err := a.moveOptions(); err != nil {
		a.errf("%v", err)
		return exitUsage
	}
	o.mover = a.fixMover()
	first := a.checkCluster(c, o)
	if first.OK {
		a.out = map[string]any{"ok": true, "check": first, "nodes": nodesJSON(c, keys)}
		return a.finish(exitOK)
	}
	if a.p.bools["simulate"] {
		a.warn("--simulate: nothing was changed.")
		a.out = map[string]any{"ok": false, "check": first, "nodes": nodesJSON(c, keys)}
		return a.finish(exitProblem)
	}
	// Re-check after fixing: wait briefly for the bus to spread the changes.
	a.plain("")
	a.info(">>> Re-checking the cluster after the fix...")
	var after *checkResult
	deadline := time.Now().Add(10 * time.Second)
	if len(first.FixErrors) > 0 {
		deadline = time.Now() // the fix failed: report the state once
	}
	pl := newPoller(200 * time.Millisecond)
	for {
		c2, err := cluster.Load(a.ctx, a.conn, a.p.pos[0])
		if err != nil {
			return a.fail(err)
		}
		quietUI := *a
		quietUI.ui = ui.New(discard{}, discard{}, nil, false, false)
		after = quietUI.checkCluster(c2, checkOpts{multipleOwners: o.multipleOwners, quiet: true})
		c2.Close()
		if after.OK || time.Now().After(deadline) || a.interrupted() {
			break
		}
		pl.wait()
	}
	if after.OK {
		a.ok("[OK] The cluster is healthy after the fix.")
	} else {
		for _, p := range after.Problems {
			a.errf("%s", p.Message)
		}
		a.warn("Some problems remain; see the messages above. Re-run 'clustercli fix %s' once the cause is handled.", a.p.pos[0])
	}
	a.out = map[string]any{"ok": after.OK, "check": first, "after": after, "nodes": nodesJSON(c, keys)}
	if !after.OK {
		return a.finish(exitProblem)
	}
	return a.finish(exitOK)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) Read([]byte) (int, error)    { return 0, fmt.Errorf("no input") }
