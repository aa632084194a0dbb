package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slotkv/slotkv/tools/clustercli/internal/cluster"
	"github.com/slotkv/slotkv/tools/clustercli/internal/move"
	"github.com/slotkv/slotkv/tools/clustercli/internal/plan"
	"github.com/slotkv/slotkv/tools/clustercli/internal/ui"
)

// transfer is slots to move from one master to another.
type transfer struct {
	Src, Dst *cluster.Node
	Slots    []int
}

// moveSummary is reported in JSON and at the end of a move.
type moveSummary struct {
	Mover       string   `json:"mover"`
	Slots       int64    `json:"slots_moved"`
	Keys        int64    `json:"keys_moved"`
	Seconds     float64  `json:"seconds"`
	KeysPerSec  float64  `json:"keys_per_second"`
	SlotsPerSec float64  `json:"slots_per_second"`
	Errors      []string `json:"errors,omitempty"`
	OpenSlots   []int    `json:"open_slots,omitempty"`
}

// executeTransfers runs the transfers with the best mover available and
// reports progress; it returns the summary and whether everything moved.
func (a *app) executeTransfers(c *cluster.Cluster, ts []transfer) (*moveSummary, bool) {
	opts, err := a.moveOptions()
	if err != nil {
		a.errf("%v", err)
		return &moveSummary{Errors: []string{err.Error()}}, false
	}
	conc, err := a.p.intVal("concurrency", 8)
	if err != nil || conc <= 0 {
		conc = 8
	}
	involved := map[*cluster.Node]bool{}
	totalSlots := 0
	for _, t := range ts {
		involved[t.Src], involved[t.Dst] = true, true
		totalSlots += len(t.Slots)
	}
	// Key counts (for the progress bar) and fast-path detection need one
	// round trip per node; they all run at once.
	var fp move.FastPath
	var wg sync.WaitGroup
	counts := make([]int, len(ts))
	for i, t := range ts {
		wg.Add(1)
		go func(i int, t transfer) {
			defer wg.Done()
			counts[i] = sum(countSlots(a.ctx, t.Src, t.Slots))
		}(i, t)
	}
	if !a.p.bools["no-fast-path"] {
		var ns []*cluster.Node
		for n := range involved {
			ns = append(ns, n)
		}
		fp = move.DetectFastPath(a.ctx, ns)
	}
	wg.Wait()
	totalKeys := sum(counts)
	a.tm.mark("count keys+detect")
	newMover := func(o move.Options) move.Mover {
		if fp != nil {
			return fp.NewMover(o)
		}
		return &move.MigrateMover{Opts: o}
	}
	name := newMover(opts).Name()
	a.info(">>> Moving %d slots (%d keys) with %s, %d transfer(s) in parallel", totalSlots, totalKeys, name, min(conc, len(ts)))
	prog := a.ui.NewProgress("moving slots", totalKeys, totalSlots, a.json && !a.ui.Progress)
	opts.Progress = prog
	mover := newMover(opts)
	jobs := make([]move.Job, 0, len(ts))
	for _, t := range ts {
		jobs = append(jobs, move.Job{Src: t.Src, Dst: t.Dst, Slots: t.Slots, Masters: c.Masters()})
	}
	errs := move.RunJobs(a.ctx, a.sig.Done(), mover, jobs, conc)
	keys, slots, el := prog.Finish()
	a.tm.mark("move")
	s := &moveSummary{Mover: mover.Name(), Slots: slots, Keys: keys, Seconds: el.Seconds()}
	if el > 0 {
		s.KeysPerSec = float64(keys) / el.Seconds()
		s.SlotsPerSec = float64(slots) / el.Seconds()
	}
	for _, e := range errs {
		if errors.Is(e, move.ErrStopped) {
			s.Errors = append(s.Errors, "interrupted")
			a.warn("*** Interrupted: the slots in flight were settled, %d of %d slots moved; nothing is left open. Re-run the command to continue.", slots, totalSlots)
			continue
		}
		s.Errors = append(s.Errors, e.Error())
		a.errf("[ERR] %v", e)
		var me *move.MoveError
		if errors.As(e, &me) {
			for _, o := range me.Open {
				s.OpenSlots = append(s.OpenSlots, o.Slot)
			}
			if h := me.FixHint(); h != "" {
				a.warn("%s", h)
			}
		}
	}
	a.plain("Moved %d slots and %d keys in %.2fs (%.0f keys/s, %.0f slots/s) with %s.", slots, keys, el.Seconds(), s.KeysPerSec, s.SlotsPerSec, mover.Name())
	if len(errs) == 0 {
		a.waitAgreement(c)
		a.tm.mark("agreement")
	}
	return s, len(errs) == 0
}

// waitAgreement waits (briefly) until every node agrees about the slots.
func (a *app) waitAgreement(c *cluster.Cluster) {
	deadline := time.Now().Add(10 * time.Second)
	pl := newPoller(100 * time.Millisecond)
	for {
		ok, err := c.IsConfigConsistent(a.ctx)
		if err == nil && ok {
			a.ok("[OK] All nodes agree about slots configuration.")
			return
		}
		if time.Now().After(deadline) || a.interrupted() {
			a.warn("*** Nodes do not agree about the slots yet; they converge through the cluster bus. Run 'clustercli check %s' in a moment.", c.Nodes[0].Addr())
			return
		}
		pl.wait()
	}
}

// preflight runs the cluster check and refuses to go on if it found
// problems, unless --force.
func (a *app) preflight(c *cluster.Cluster, what string) (*checkResult, bool) {
	r := a.checkCluster(c, checkOpts{quiet: true})
	if r.OK && len(r.Warnings) > 0 { // a node did not report cluster_state:ok
		if err := a.waitClusterOK(c, 10*time.Second); err != nil {
			a.errf("[ERR] %v", err)
			r.add("state", err.Error())
		}
	}
	if !r.OK {
		if a.p.bools["force"] {
			a.warn("*** The cluster has problems, continuing because of --force.")
			return r, true
		}
		a.errf("*** Please fix your cluster problems before %s: run 'clustercli fix %s' (or use --force at your own risk).", what, c.Nodes[0].Addr())
		return r, false
	}
	return r, true
}

func (a *app) interactive() bool { return !a.yes && ui.IsTerminal(a.ui.Out) }

func cmdReshard(a *app) int {
	c, err := a.load(a.p.pos[0])
	if err != nil {
		return a.fail(err)
	}
	defer c.Close()
	a.tm.mark("load")
	doc := map[string]any{"ok": false}
	a.out = doc
	r, ok := a.preflight(c, "resharding")
	a.tm.mark("check")
	doc["check"] = r
	if !ok {
		return a.finish(exitProblem)
	}
	numSlots, err := a.p.intVal("slots", 0)
	if err != nil {
		a.errf("%v", err)
		return exitUsage
	}
	for numSlots <= 0 || numSlots > cluster.NumSlots {
		if a.p.has("slots") || !a.interactive() {
			a.errf("--slots must be between 1 and %d", cluster.NumSlots)
			return exitUsage
		}
		ans, ok := a.ui.Ask(fmt.Sprintf("How many slots do you want to move (from 1 to %d)? ", cluster.NumSlots))
		if !ok {
			return exitUsage
		}
		numSlots, _ = strconv.Atoi(ans)
	}
	to := a.p.str("to")
	for to == "" {
		if !a.interactive() {
			a.errf("--to <node id> is required (see 'clustercli info %s' for ids)", a.p.pos[0])
			return exitUsage
		}
		ans, ok := a.ui.Ask("What is the receiving node ID? ")
		if !ok {
			return exitUsage
		}
		to = ans
	}
	target, err := a.master(c, to)
	if err != nil {
		return a.fail(err)
	}
	var sources []*cluster.Node
	all := false
	addSource := func(ref string) error {
		if ref == "all" {
			all = true
			return nil
		}
		n, err := a.master(c, ref)
		if err != nil {
			return err
		}
		if n == target {
			return fmt.Errorf("*** It is not possible to use the target node as source node: remove %s from --from", ref)
		}
		sources = append(sources, n)
		return nil
	}
	if from := a.p.str("from"); from != "" {
		for _, ref := range strings.Split(from, ",") {
			if ref = strings.TrimSpace(ref); ref == "" {
				continue
			}
			if err := addSource(ref); err != nil {
				return a.fail(err)
			}
		}
	} else if a.interactive() {
		a.plain("Please enter all the source node IDs.\n  Type 'all' to use all the nodes as source nodes for the hash slots.\n  Type 'done' once you entered all the source nodes IDs.")
		for !all {
			ans, ok := a.ui.Ask(fmt.Sprintf("Source node #%d: ", len(sources)+1))
			if !ok || ans == "done" {
				break
			}
			if err := addSource(ans); err != nil {
				a.errf("%v", err)
			}
		}
	} else {
		a.errf("--from <ids>|all is required, e.g. --from all or --from 3f2a,9c1e (see 'clustercli info %s' for ids)", a.p.pos[0])
		return exitUsage
	}
	if all {
		sources = nil
		for _, m := range c.Masters() {
			if m != target {
				sources = append(sources, m)
			}
		}
	}
	if len(sources) == 0 {
		a.errf("*** No source nodes given, operation aborted. Give them with --from <ids>|all.")
		return a.finish(exitProblem)
	}
	a.plain("\nReady to move %d slots.\n  Source nodes:", numSlots)
	for _, s := range sources {
		a.plain("%s", nodeInfoLines(s, "    "))
	}
	a.plain("  Destination node:\n%s", nodeInfoLines(target, "    "))
	table := plan.ReshardTable(sources, numSlots)
	a.plain("  Resharding plan:")
	ts := groupTable(table, target)
	for _, t := range ts {
		if a.verbose {
			for _, s := range t.Slots {
				a.plain("    Moving slot %d from %s", s, t.Src.ID)
			}
		} else {
			a.plain("    Moving %d slots (%s) from %s %s", len(t.Slots), cluster.FormatRanges(t.Slots), t.Src.Addr(), t.Src.ID)
		}
	}
	if len(table) < numSlots {
		a.warn("*** The sources have only %d slots to give; moving those.", len(table))
	}
	doc["plan"] = transfersJSON(ts)
	a.tm.mark("plan")
	if a.p.bools["simulate"] {
		a.warn("--simulate: nothing was changed.")
		doc["ok"] = true
		return a.finish(exitOK)
	}
	if !a.yes && !a.ui.Confirm("Do you want to proceed with the proposed reshard plan (yes/no)?") {
		a.warn("Aborted: nothing was changed.")
		return a.finish(exitProblem)
	}
	a.tm.skip()
	sum, ok := a.executeTransfers(c, ts)
	doc["result"] = sum
	doc["ok"] = ok
	if !ok {
		return a.finish(exitProblem)
	}
	return a.finish(exitOK)
}

// master resolves a node reference that must be a master.
func (a *app) master(c *cluster.Cluster, ref string) (*cluster.Node, error) {
	n, err := c.Lookup(ref)
	if err != nil {
		return nil, fmt.Errorf("*** The specified node (%s) is not known or not a master, please retry. (%v)", ref, err)
	}
	if n.IsReplica() {
		return nil, fmt.Errorf("*** The specified node (%s) is not known or not a master, please retry. (%s is a replica)", ref, n.Addr())
	}
	return n, nil
}

// groupTable groups a reshard table by source, keeping table order.
func groupTable(table []plan.Move, target *cluster.Node) []transfer {
	var out []transfer
	idx := map[*cluster.Node]int{}
	for _, m := range table {
		i, ok := idx[m.Source]
		if !ok {
			i = len(out)
			idx[m.Source] = i
			out = append(out, transfer{Src: m.Source, Dst: target})
		}
		out[i].Slots = append(out[i].Slots, m.Slot)
	}
	return out
}

func transfersJSON(ts []transfer) []map[string]any {
	var out []map[string]any
	for _, t := range ts {
		out = append(out, map[string]any{"from": t.Src.ID, "from_addr": t.Src.Addr(), "to": t.Dst.ID, "to_addr": t.Dst.Addr(),
			"slots": len(t.Slots), "slot_ranges": cluster.FormatRanges(t.Slots)})
	}
	return out
}

func cmdRebalance(a *app) int {
	c, err := a.load(a.p.pos[0])
	if err != nil {
		return a.fail(err)
	}
	defer c.Close()
	a.tm.mark("load")
	doc := map[string]any{"ok": false}
	a.out = doc
	masters := c.Masters()
	clones := make([]*cluster.Node, len(masters))
	byClone := map[*cluster.Node]*cluster.Node{}
	for i, m := range masters {
		cp := *m
		cp.Weight = 1
		clones[i] = &cp
		byClone[&cp] = m
	}
	for _, w := range a.p.vals["weight"] {
		name, val, ok := strings.Cut(w, "=")
		if !ok {
			a.errf("*** invalid input %s: want <node>=<weight>, e.g. --weight 3f2a=0 to drain node 3f2a...", w)
			return exitUsage
		}
		f, err := strconv.ParseFloat(val, 32)
		if err != nil || f < 0 {
			a.errf("*** invalid weight in %s: want a number >= 0, e.g. %s=0 to drain the node or %s=2 to give it twice the slots", w, name, name)
			return exitUsage
		}
		n, err := c.Lookup(name)
		if err != nil || n.IsReplica() {
			a.errf("*** No such master node %s: give a master's id (a unique prefix works) or host:port; 'clustercli info %s' lists them", name, a.p.pos[0])
			return a.finish(exitProblem)
		}
		for _, cl := range clones {
			if byClone[cl] == n {
				cl.Weight = float32(f)
			}
		}
	}
	threshold := float32(2)
	if s := a.p.str("threshold"); s != "" {
		f, err := strconv.ParseFloat(s, 32)
		if err != nil {
			a.errf("--threshold wants a number (percent), e.g. --threshold 2")
			return exitUsage
		}
		threshold = float32(f)
	}
	r, ok := a.preflight(c, "rebalancing")
	a.tm.mark("check")
	doc["check"] = r
	if !ok {
		return a.finish(exitProblem)
	}
	pl := plan.RebalancePlan(clones, a.p.bools["use-empty-masters"], threshold)
	if !pl.Needed {
		a.warn("*** No rebalancing needed! All nodes are within the %.2f%% threshold.", threshold)
		doc["ok"] = true
		doc["plan"] = []any{}
		return a.finish(exitOK)
	}
	a.info(">>> Rebalancing across %d nodes. Total weight = %.2f", len(pl.Involved), pl.TotalWeight)
	var ts []transfer
	for _, t := range pl.Transfers {
		src, dst := byClone[t.Src], byClone[t.Dst]
		a.plain("Moving %d slots from %s to %s", len(t.Slots), src.Addr(), dst.Addr())
		if a.verbose {
			a.plain("    slots %s", cluster.FormatRanges(t.Slots))
		}
		ts = append(ts, transfer{Src: src, Dst: dst, Slots: t.Slots})
	}
	doc["plan"] = transfersJSON(ts)
	a.tm.mark("plan")
	if a.p.bools["simulate"] {
		a.warn("--simulate: nothing was changed.")
		doc["ok"] = true
		return a.finish(exitOK)
	}
	if !a.confirm("Do you want to proceed with the rebalance plan?") {
		a.warn("Aborted: nothing was changed.")
		return a.finish(exitProblem)
	}
	a.tm.skip()
	sum, ok := a.executeTransfers(c, ts)
	doc["result"] = sum
	doc["ok"] = ok
	if !ok {
		return a.finish(exitProblem)
	}
	return a.finish(exitOK)
}
