package main

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/slotkv/slotkv/tools/clustercli/internal/cluster"
	"github.com/slotkv/slotkv/tools/clustercli/internal/move"
)

// problem is one finding of a cluster check.
type problem struct {
	Kind    string `json:"kind"` // config, open-slot, coverage, multiple-owners, unreachable
	Message string `json:"message"`
	Slots   string `json:"slots,omitempty"`
	Node    string `json:"node,omitempty"`
}

// checkResult is what clusterManagerCheckCluster finds.
type checkResult struct {
	OK             bool              `json:"ok"`
	Consistent     bool              `json:"consistent"`
	OpenSlots      []int             `json:"open_slots"`
	Covered        int               `json:"covered_slots"`
	Uncovered      string            `json:"uncovered_slots,omitempty"`
	MultipleOwners map[int][]string  `json:"multiple_owners,omitempty"`
	Problems       []problem         `json:"problems"`
	Warnings       []string          `json:"warnings,omitempty"`
	Fixed          []string          `json:"fixed,omitempty"`
	FixErrors      []string          `json:"fix_errors,omitempty"`
	Entry          string            `json:"entry"`
	unreachable    map[string]string // addr -> reason
}

type checkOpts struct {
	fix            bool
	multipleOwners bool
	quiet          bool // don't print the node listing
	withUnreach    bool // --fix-with-unreachable-masters
	mover          *move.MigrateMover
}

func (r *checkResult) add(kind, msg string) {
	r.Problems = append(r.Problems, problem{Kind: kind, Message: msg})
	r.OK = false
}

// checkCluster mirrors clusterManagerCheckCluster, fixing things when
// o.fix is set. Extra (clustercli) finding: unreachable or failed nodes.
func (a *app) checkCluster(c *cluster.Cluster, o checkOpts) *checkResult {
	r := &checkResult{OK: true, Entry: c.Nodes[0].Addr()}
	a.info(">>> Performing Cluster Check (using node %s)", c.Nodes[0].Addr())
	if !o.quiet && a.verbose {
		for _, n := range c.Nodes {
			a.plain("%s", nodeInfoLines(n, ""))
		}
	}
	for _, u := range c.Unreachable {
		role := "replica"
		if u.IsMaster() {
			role = "master"
		}
		msg := fmt.Sprintf("[ERR] Node %s (%s %s, %d slots) is unreachable: %s.", u.Line.Addr(), role, short(u.Line.ID), u.Line.Slots.Count(), u.Reason)
		a.errf("%s", msg)
		r.add("unreachable", msg)
		r.Problems[len(r.Problems)-1].Node = u.Line.Addr()
	}
	consistent, err := c.IsConfigConsistent(a.ctx)
	if err != nil {
		a.errf("[ERR] %v", err)
	}
	r.Consistent = consistent
	if !consistent {
		msg := "[ERR] Nodes don't agree about configuration!"
		a.errf("%s", msg)
		r.add("config", msg)
		if sigs, err := c.Signatures(a.ctx); err == nil && len(sigs) > 1 {
			a.plainDisagreement(sigs)
		}
	} else {
		a.ok("[OK] All nodes agree about slots configuration.")
	}

	// Open slots.
	a.info(">>> Check for open slots...")
	for _, n := range c.Nodes {
		if len(n.Migrating) > 0 {
			msg := fmt.Sprintf("[WARNING] Node %s has slots in migrating state %s.", n.Addr(), joinInts(sortedKeys(n.Migrating)))
			a.errf("%s", msg)
			r.add("open-slot", msg)
			r.Problems[len(r.Problems)-1].Node = n.Addr()
		}
		if len(n.Importing) > 0 {
			msg := fmt.Sprintf("[WARNING] Node %s has slots in importing state %s.", n.Addr(), joinInts(sortedKeys(n.Importing)))
			a.errf("%s", msg)
			r.add("open-slot", msg)
			r.Problems[len(r.Problems)-1].Node = n.Addr()
		}
	}
	r.OpenSlots = c.SortedOpenSlots()
	if len(r.OpenSlots) > 0 {
		a.errf("[WARNING] The following slots are open: %s.", joinInts(r.OpenSlots))
		if o.fix && !a.confirm("Fix the open slots (move their keys to a single owner and close them)?") {
			r.FixErrors = append(r.FixErrors, "open slots: not confirmed")
		} else if o.fix {
			for _, s := range r.OpenSlots {
				if a.interrupted() {
					r.FixErrors = append(r.FixErrors, "interrupted")
					break
				}
				if !a.guardUnreachable(c, o, "open slots") {
					r.FixErrors = append(r.FixErrors, "refused: unreachable masters")
					return r
				}
				if err := a.fixOpenSlot(c, s, o); err != nil {
					a.errf("%v", err)
					r.FixErrors = append(r.FixErrors, err.Error())
					break
				}
				r.Fixed = append(r.Fixed, fmt.Sprintf("open slot %d", s))
			}
		}
	}

	// Coverage.
	a.info(">>> Check slots coverage...")
	covered := c.CoveredSlots()
	r.Covered = covered.Count()
	if r.Covered == cluster.NumSlots {
		a.ok("[OK] All %d slots covered.", cluster.NumSlots)
	} else {
		var unc []int
		for s := 0; s < cluster.NumSlots; s++ {
			if !covered.Has(s) {
				unc = append(unc, s)
			}
		}
		r.Uncovered = cluster.FormatRanges(unc)
		msg := fmt.Sprintf("[ERR] Not all %d slots are covered by nodes.", cluster.NumSlots)
		a.errf("%s", msg)
		r.add("coverage", msg)
		r.Problems[len(r.Problems)-1].Slots = r.Uncovered
		if o.fix && a.guardUnreachable(c, o, "slots coverage") {
			n, err := a.fixSlotsCoverage(c, unc)
			if err != nil {
				a.errf("%v", err)
				r.FixErrors = append(r.FixErrors, err.Error())
			} else if n > 0 {
				r.Fixed = append(r.Fixed, fmt.Sprintf("covered %d slots", n))
			}
		}
	}

	for n, st := range a.clusterStates(c) {
		w := fmt.Sprintf("[WARNING] Node %s reports %s.", n.Addr(), st)
		a.warn("%s", w)
		r.Warnings = append(r.Warnings, w)
	}

	if o.multipleOwners {
		a.info(">>> Check for multiple slot owners...")
		counts := a.countAllSlots(c)
		r.MultipleOwners = map[int][]string{}
		remaining := 0
		for s := 0; s < cluster.NumSlots; s++ {
			var owners []*cluster.Node
			for _, n := range c.Masters() {
				if n.Slots.Has(s) || counts[n][s] > 0 {
					owners = append(owners, n)
				}
			}
			if len(owners) <= 1 {
				continue
			}
			var addrs []string
			for _, n := range owners {
				addrs = append(addrs, n.Addr())
			}
			r.MultipleOwners[s] = addrs
			msg := fmt.Sprintf("[WARNING] Slot %d has %d owners:", s, len(owners))
			a.errf("%s", msg)
			for _, ad := range addrs {
				a.errf("    %s", ad)
			}
			r.add("multiple-owners", msg+" "+strings.Join(addrs, " "))
			remaining++
			if o.fix && !a.confirm(fmt.Sprintf("Fix slot %d (keep the owner with most keys, move the other keys there)?", s)) {
				r.FixErrors = append(r.FixErrors, fmt.Sprintf("slot %d: not confirmed", s))
			} else if o.fix {
				if err := a.fixMultipleOwners(c, s, owners, o); err != nil {
					a.errf("Failed to fix multiple owners for slot %d: %v", s, err)
					r.FixErrors = append(r.FixErrors, err.Error())
					break
				}
				remaining--
				r.Fixed = append(r.Fixed, fmt.Sprintf("multiple owners of slot %d", s))
			}
		}
		if remaining == 0 {
			a.ok("[OK] No multiple owners found.")
		}
	}
	return r
}

// plainDisagreement explains which nodes see which configuration.
func (a *app) plainDisagreement(sigs map[string][]*cluster.Node) {
	type group struct {
		sig   string
		nodes []*cluster.Node
	}
	var gs []group
	for s, ns := range sigs {
		gs = append(gs, group{s, ns})
	}
	sort.Slice(gs, func(i, j int) bool { return len(gs[i].nodes) > len(gs[j].nodes) })
	for i, g := range gs {
		var addrs []string
		for _, n := range g.nodes {
			addrs = append(addrs, n.Addr())
		}
		a.plain("    view %d (%d nodes): %s", i+1, len(g.nodes), strings.Join(addrs, " "))
	}
	a.plain("    Nodes converge through the cluster bus within a few node timeouts; if they do not, run 'clustercli fix %s'.", gs[0].nodes[0].Addr())
}

func joinInts(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprint(x)
	}
	return strings.Join(parts, ",")
}

// countAllSlots counts keys per slot on every master (pipelined).
func (a *app) countAllSlots(c *cluster.Cluster) map[*cluster.Node][]int {
	out := map[*cluster.Node][]int{}
	all := make([]int, cluster.NumSlots)
	for i := range all {
		all[i] = i
	}
	for _, n := range c.Masters() {
		out[n] = countSlots(a.ctx, n, all)
	}
	return out
}

func (a *app) guardUnreachable(c *cluster.Cluster, o checkOpts, what string) bool {
	if k := c.UnreachableMasters(); k > 0 && !o.withUnreach {
		a.warn("*** Fixing %s with %d unreachable masters is dangerous: clustercli would assume that slots of masters that are not reachable are not covered, and would reassign them to the reachable nodes. This can cause data loss and is rarely what you want to do. If you really want to proceed use the --fix-with-unreachable-masters option.", what, k)
		return false
	}
	return true
}

// nodeWithMostKeys mirrors clusterManagerGetNodeWithMostKeysInSlot
// (replicas are skipped).
func (a *app) nodeWithMostKeys(nodes []*cluster.Node, slot int) (*cluster.Node, error) {
	var best *cluster.Node
	var most int64
	for _, n := range nodes {
		if n.IsReplica() {
			continue
		}
		k, err := n.CountKeysInSlot(a.ctx, slot)
		if err != nil {
			return nil, err
		}
		if best == nil || k > most {
			best, most = n, k
		}
	}
	return best, nil
}

func removeNode(list []*cluster.Node, n *cluster.Node) []*cluster.Node {
	out := list[:0]
	for _, x := range list {
		if x != n {
			out = append(out, x)
		}
	}
	return out
}

func addrs(ns []*cluster.Node) string {
	var s []string
	for _, n := range ns {
		s = append(s, n.Addr())
	}
	return strings.Join(s, ",")
}

// fixOpenSlot mirrors clusterManagerFixOpenSlot.
func (a *app) fixOpenSlot(c *cluster.Cluster, slot int, o checkOpts) error {
	ctx := a.ctx
	a.info(">>> Fixing open slot %d", slot)
	var owners, migrating, importing []*cluster.Node
	var owner *cluster.Node
	for _, n := range c.Masters() {
		if n.Slots.Has(slot) {
			owners = append(owners, n)
			continue
		}
		k, err := n.CountKeysInSlot(ctx, slot)
		if err != nil {
			return err
		}
		if k > 0 {
			a.warn("*** Found keys about slot %d in non-owner node %s!", slot, n.Addr())
			owners = append(owners, n)
		}
	}
	if len(owners) == 1 {
		owner = owners[0]
	}
	for _, n := range c.Masters() {
		_, isMig := n.Migrating[slot]
		_, isImp := n.Importing[slot]
		if isMig {
			migrating = append(migrating, n)
		} else if isImp {
			importing = append(importing, n)
		}
		if !isMig && !isImp && n != owner {
			k, err := n.CountKeysInSlot(ctx, slot)
			if err != nil {
				return err
			}
			if k > 0 {
				a.warn("*** Found keys about slot %d in node %s!", slot, n.Addr())
				importing = append(importing, n)
			}
		}
	}
	if len(migrating) > 0 {
		a.plain("Set as migrating in: %s", addrs(migrating))
	}
	if len(importing) > 0 {
		a.plain("Set as importing in: %s", addrs(importing))
	}
	if owner == nil {
		a.info(">>> No single clear owner for the slot, selecting an owner by # of keys...")
		var err error
		owner, err = a.nodeWithMostKeys(c.Nodes, slot)
		if err != nil {
			return err
		}
		if owner == nil {
			return fmt.Errorf("[ERR] Can't select a slot owner for slot %d. Impossible to fix: assign it by hand with CLUSTER ADDSLOTS %d on one master, then CLUSTER SETSLOT %d STABLE on every node that has it open", slot, slot, slot)
		}
		// Unlike redis-cli, demote the other claimants before the new owner
		// bumps its epoch: a node that still owns a slot with keys when it
		// learns of a newer owner deletes those keys (Redis's "dirty slots").
		for _, n := range owners {
			if n == owner {
				continue
			}
			if err := n.DelSlot(ctx, slot); err != nil {
				return err
			}
			n.Slots.Del(slot)
			if err := n.SetSlot(ctx, slot, "NODE", owner.ID); err != nil {
				return err
			}
			if err := n.SetSlot(ctx, slot, "IMPORTING", owner.ID); err != nil {
				return err
			}
			importing = append(removeNode(importing, n), n)
			migrating = removeNode(migrating, n)
		}
		a.warn("*** Configuring %s as the slot owner", owner.Addr())
		if err := owner.SetSlotStable(ctx, slot); err != nil {
			return err
		}
		if err := owner.SetSlotOwner(ctx, slot, false); err != nil {
			return err
		}
		owner.Slots.Add(slot)
		migrating = removeNode(migrating, owner)
		importing = removeNode(importing, owner)
	}
	job := func(src, dst *cluster.Node) move.Job {
		return move.Job{Src: src, Dst: dst, Slots: []int{slot}, Masters: c.Masters()}
	}
	switch {
	case len(migrating) == 1 && len(importing) == 1:
		src, dst := migrating[0], importing[0]
		a.info(">>> Case 1: Moving slot %d from %s to %s", slot, src.Addr(), dst.Addr())
		if err := o.mover.MoveSlots(ctx, job(src, dst)); err != nil {
			return err
		}
		src.Slots.Del(slot)
		dst.Slots.Add(slot)
	case len(migrating) == 0 && len(importing) > 0:
		a.info(">>> Case 2: Moving all the %d slot keys to its owner %s", slot, owner.Addr())
		for _, n := range importing {
			if n == owner {
				continue
			}
			if _, open := n.Importing[slot]; !open && !n.Slots.Has(slot) {
				// A node that merely holds keys: open the slot so that it
				// serves MIGRATE instead of answering MOVED.
				if err := n.SetSlot(ctx, slot, "IMPORTING", owner.ID); err != nil {
					return err
				}
			}
			if err := o.mover.MigrateKeys(ctx, n, owner, slot); err != nil {
				return err
			}
			a.info(">>> Setting %d as STABLE in %s", slot, n.Addr())
			if err := n.SetSlotStable(ctx, slot); err != nil {
				return err
			}
		}
		for _, n := range c.Masters() {
			if n == owner {
				continue
			}
			if err := n.SetSlot(ctx, slot, "NODE", owner.ID); err != nil {
				return err
			}
		}
	case len(migrating) == 1 && len(importing) > 1:
		src := migrating[0]
		target := src.Migrating[slot]
		var dst *cluster.Node
		for _, n := range importing {
			k, err := n.CountKeysInSlot(ctx, slot)
			if err != nil {
				return err
			}
			if k > 0 {
				return unhandledSlot(slot, migrating, importing, owner)
			}
			if n.ID == target {
				dst = n
			}
		}
		if dst != nil {
			a.info(">>> Case 3: Moving slot %d from %s to %s and closing it on all the other importing nodes.", slot, src.Addr(), dst.Addr())
			if err := o.mover.MoveSlots(ctx, job(src, dst)); err != nil {
				return err
			}
			for _, n := range importing {
				if n != dst {
					if err := n.SetSlotStable(ctx, slot); err != nil {
						return err
					}
				}
			}
		} else {
			a.info(">>> Case 3: Closing slot %d on both migrating and importing nodes.", slot)
			if err := src.SetSlotStable(ctx, slot); err != nil {
				return err
			}
			for _, n := range importing {
				if err := n.SetSlotStable(ctx, slot); err != nil {
					return err
				}
			}
		}
	default:
		tryClose := len(importing) == 0 && len(migrating) == 1
		if tryClose && owner != migrating[0] {
			keys, err := migrating[0].GetKeysInSlot(ctx, slot, 10)
			if err != nil {
				return err
			}
			tryClose = len(keys) == 0
		}
		if !tryClose {
			return unhandledSlot(slot, migrating, importing, owner)
		}
		n := migrating[0]
		a.info(">>> Case 4: Closing slot %d on %s", slot, n.Addr())
		if err := n.SetSlotStable(ctx, slot); err != nil {
			return err
		}
	}
	return nil
}

func unhandledSlot(slot int, migrating, importing []*cluster.Node, owner *cluster.Node) error {
	return fmt.Errorf("[ERR] Sorry, clustercli can't fix this slot automatically. Slot %d is set as migrating in %s, as importing in %s, owner is %s. "+
		"Inspect the keys with CLUSTER COUNTKEYSINSLOT %d on each node, move them with MIGRATE, then close the slot with CLUSTER SETSLOT %d STABLE",
		slot, addrs(migrating), addrs(importing), owner.Addr(), slot, slot)
}

// fixSlotsCoverage mirrors clusterManagerFixSlotsCoverage.
func (a *app) fixSlotsCoverage(c *cluster.Cluster, uncovered []int) (int, error) {
	ctx := a.ctx
	a.info(">>> Fixing slots coverage...")
	holders := map[int][]*cluster.Node{}
	for _, s := range uncovered {
		for _, n := range c.Masters() {
			keys, err := n.GetKeysInSlot(ctx, s, 1)
			if err != nil {
				return 0, err
			}
			if len(keys) > 0 {
				holders[s] = append(holders[s], n)
			}
		}
	}
	var none, single, multi []int
	for _, s := range uncovered {
		switch len(holders[s]) {
		case 0:
			none = append(none, s)
		case 1:
			single = append(single, s)
		default:
			multi = append(multi, s)
		}
	}
	fixed := 0
	masters := c.Masters()
	if len(none) > 0 {
		a.plain("The following uncovered slots have no keys across the cluster:")
		a.plain("%s", bracketRanges(none))
		if a.confirm("Fix these slots by covering with a random node?") {
			for _, s := range none {
				n := masters[rand.Intn(len(masters))]
				a.info(">>> Covering slot %d with %s", s, n.Addr())
				if err := n.SetSlotOwner(ctx, s, false); err != nil {
					return fixed, err
				}
				n.Slots.Add(s)
				fixed++
			}
		}
	}
	if len(single) > 0 {
		a.plain("The following uncovered slots have keys in just one node:")
		a.plain("%s", bracketRanges(single))
		if a.confirm("Fix these slots by covering with those nodes?") {
			for _, s := range single {
				n := holders[s][0]
				a.info(">>> Covering slot %d with %s", s, n.Addr())
				if err := n.SetSlotOwner(ctx, s, false); err != nil {
					return fixed, err
				}
				n.Slots.Add(s)
				fixed++
			}
		}
	}
	if len(multi) > 0 {
		a.plain("The following uncovered slots have keys in multiple nodes:")
		a.plain("%s", bracketRanges(multi))
		if a.confirm("Fix these slots by moving keys into a single node?") {
			mover := a.fixMover()
			for _, s := range multi {
				target, err := a.nodeWithMostKeys(holders[s], s)
				if err != nil || target == nil {
					return fixed, fmt.Errorf("cannot pick a target for slot %d: %v", s, err)
				}
				a.info(">>> Covering slot %d moving keys to %s", s, target.Addr())
				if err := target.SetSlotOwner(ctx, s, true); err != nil {
					return fixed, err
				}
				target.Slots.Add(s)
				for _, src := range holders[s] {
					if src == target {
						continue
					}
					if err := src.SetSlot(ctx, s, "NODE", target.ID); err != nil {
						return fixed, err
					}
					if err := src.SetSlot(ctx, s, "IMPORTING", target.ID); err != nil {
						return fixed, err
					}
					if err := mover.MigrateKeys(ctx, src, target, s); err != nil {
						return fixed, err
					}
					if err := src.SetSlotStable(ctx, s); err != nil {
						return fixed, err
					}
				}
				fixed++
			}
		}
	}
	return fixed, nil
}

func bracketRanges(slots []int) string {
	var set cluster.SlotSet
	for _, s := range slots {
		set.Add(s)
	}
	return set.String()
}

// fixMultipleOwners mirrors clusterManagerFixMultipleSlotOwners.
func (a *app) fixMultipleOwners(c *cluster.Cluster, slot int, owners []*cluster.Node, o checkOpts) error {
	ctx := a.ctx
	a.info(">>> Fixing multiple owners for slot %d...", slot)
	owner, err := a.nodeWithMostKeys(owners, slot)
	if err != nil {
		return err
	}
	if owner == nil {
		owner = owners[0]
	}
	a.info(">>> Setting slot %d owner: %s", slot, owner.Addr())
	// Demote every other master first (see fixOpenSlot): DELSLOTS, point
	// the slot at the owner, and open it (IMPORTING) where keys must move.
	withKeys := map[*cluster.Node]bool{}
	for _, n := range c.Masters() {
		if n == owner {
			continue
		}
		k, err := n.CountKeysInSlot(ctx, slot)
		if err != nil {
			return err
		}
		_ = n.DelSlot(ctx, slot)
		if err := n.SetSlot(ctx, slot, "NODE", owner.ID); err != nil {
			return err
		}
		if k > 0 {
			// MIGRATE is only served for a slot the node does not own while
			// the slot is open there (redis-cli omits this and gets MOVED).
			if err := n.SetSlot(ctx, slot, "IMPORTING", owner.ID); err != nil {
				return err
			}
			withKeys[n] = true
		}
	}
	if err := owner.SetSlotOwner(ctx, slot, false); err != nil {
		return err
	}
	for _, n := range c.Masters() {
		if !withKeys[n] {
			continue
		}
		if err := o.mover.MigrateKeys(ctx, n, owner, slot); err != nil {
			return err
		}
		if err := n.SetSlotStable(ctx, slot); err != nil {
			return err
		}
	}
	return nil
}

// clusterStates returns the nodes whose CLUSTER INFO does not say
// cluster_state:ok, with what they say.
// The nodes are asked concurrently.
func (a *app) clusterStates(c *cluster.Cluster) map[*cluster.Node]string {
	bad := map[*cluster.Node]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range c.Nodes {
		wg.Add(1)
		go func(n *cluster.Node) {
			defer wg.Done()
			st, err := n.ClusterState(a.ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				bad[n] = err.Error()
			} else if st != "ok" {
				bad[n] = "cluster_state:" + st
			}
		}(n)
	}
	wg.Wait()
	return bad
}

// waitClusterOK waits until every node reports cluster_state:ok. A fresh
// or just-healed cluster needs a moment; nodes refuse keys until then.
func (a *app) waitClusterOK(c *cluster.Cluster, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	pl := newPoller(100 * time.Millisecond)
	for {
		bad := a.clusterStates(c)
		if len(bad) == 0 {
			return nil
		}
		if time.Now().After(deadline) || a.interrupted() {
			var parts []string
			for n, st := range bad {
				parts = append(parts, n.Addr()+" "+st)
			}
			sort.Strings(parts)
			return fmt.Errorf("the cluster is not serving: %s (check 'clustercli check %s' and the nodes' logs)", strings.Join(parts, ", "), c.Nodes[0].Addr())
		}
		pl.wait()
	}
}
