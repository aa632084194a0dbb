// Package plan holds clustercli's pure planning logic, mirroring
// redis-cli's cluster manager exactly so that runbooks give the same
// results: slot allocation and replica placement for create
// (clusterManagerCommandCreate + clusterManagerOptimizeAntiAffinity), the
// reshard table (clusterManagerComputeReshardTable) and the rebalance plan
// (clusterManagerCommandRebalance). Nothing here talks to the network.
package plan

import (
	"fmt"
	"math"
	"math/rand"
	"sort"

	"github.com/slotkv/slotkv/tools/clustercli/internal/cluster"
)

// MinMasters is the minimum number of masters of a Redis Cluster.
const MinMasters = 3

// CreatePlan is the outcome of AllocCreate: the nodes carry their planned
// slots (masters) or master id (replicas) and are marked Dirty.
type CreatePlan struct {
	Masters  []*cluster.Node
	Replicas []*cluster.Node
	Log      []string // the lines redis-cli prints while planning
	// AntiAffinityScore is 0 when no replica shares a host with its master
	// or with another replica of the same master.
	AntiAffinityScore int
}

// AllocCreate plans a new cluster over nodes (which must have IDs) with
// the given replicas per master, exactly like redis-cli: nodes interleaved
// by host, the first nodes/(replicas+1) become masters with contiguous slot
// ranges, replicas preferably on another host, then a randomized
// anti-affinity optimisation. rng may be nil (time-seeded).
func AllocCreate(nodes []*cluster.Node, replicas int, rng *rand.Rand) (*CreatePlan, error) {
	if replicas < 0 {
		return nil, fmt.Errorf("replicas must be >= 0")
	}
	mcount := len(nodes) / (replicas + 1)
	if mcount < MinMasters {
		return nil, fmt.Errorf("*** ERROR: Invalid configuration for cluster creation.\n"+
			"*** Redis Cluster requires at least 3 master nodes.\n"+
			"*** This is not possible with %d nodes and %d replicas per node.\n"+
			"*** At least %d nodes are required.", len(nodes), replicas, 3*(replicas+1))
	}
	if rng == nil {
		rng = rand.New(rand.NewSource(rand.Int63()))
	}
	p := &CreatePlan{}
	logf := func(format string, a ...any) { p.Log = append(p.Log, fmt.Sprintf(format, a...)) }

	// Group by host, in order of first appearance, then interleave.
	var hosts []string
	byHost := map[string][]*cluster.Node{}
	for _, n := range nodes {
		if _, ok := byHost[n.Host]; !ok {
			hosts = append(hosts, n.Host)
		}
		byHost[n.Host] = append(byHost[n.Host], n)
	}
	var interleaved []*cluster.Node
	cursors := map[string]int{}
	for len(interleaved) < len(nodes) {
		for _, h := range hosts {
			if cursors[h] < len(byHost[h]) {
				interleaved = append(interleaved, byHost[h][cursors[h]])
				cursors[h]++
			}
		}
	}
	masters := interleaved[:mcount]
	rest := append([]*cluster.Node(nil), interleaved[mcount:]...)

	for _, m := range masters {
		m.Slots.Reset()
		m.MasterID = ""
	}
	for i, r := range AllocSlots(mcount) {
		m := masters[i]
		logf("Master[%d] -> Slots %d - %d", i, r.From, r.To)
		m.Slots.AddRange(r.From, r.To)
		m.Dirty = true
	}

	// Rotating the list sometimes helps to get better initial anti-affinity.
	if len(rest) > 0 {
		rest = append(rest[1:], rest[0])
	}
	off := 0 // redis-cli advances the array start pointer in one branch
	available := len(rest)
	assignUnused := false
	for {
		for _, m := range masters {
			assigned := 0
			for assigned < replicas {
				if available == 0 {
					break
				}
				var slave *cluster.Node
				first := -1
				for j := off; j < len(rest); j++ {
					n := rest[j]
					if n == nil {
						continue
					}
					if n.Host != m.Host {
						slave = n
						rest[j] = nil
						break
					}
					if first < 0 {
						first = j
					}
				}
				if slave == nil && first >= 0 {
					slave = rest[first]
					off = first + 1
				}
				if slave == nil {
					break
				}
				assigned++
				available--
				slave.MasterID = m.ID
				slave.Slots.Reset()
				slave.Dirty = true
				logf("Adding replica %s to %s", slave.Addr(), m.Addr())
				if assignUnused {
					break
				}
			}
		}
		if !assignUnused && available > 0 {
			assignUnused = true
			logf("Adding extra replicas...")
			continue
		}
		break
	}
	p.AntiAffinityScore = optimizeAntiAffinity(nodes, hosts, rng, logf)
	for _, n := range nodes {
		if n.MasterID != "" {
			p.Replicas = append(p.Replicas, n)
		}
	}
	p.Masters = masters
	return p, nil
}

// AllocSlots splits the 16384 slots over masters contiguous ranges using
// redis-cli's float32 cursor arithmetic, so the boundaries are identical.
func AllocSlots(masters int) []cluster.Range {
	out := make([]cluster.Range, 0, masters)
	perNode := float32(cluster.NumSlots) / float32(masters)
	first := 0
	var cursor float32
	for i := 0; i < masters; i++ {
		last := int(math.Round(float64(cursor + perNode - 1)))
		if last > cluster.NumSlots || i == masters-1 {
			last = cluster.NumSlots - 1
		}
		if last < first {
			last = first
		}
		out = append(out, cluster.Range{From: first, To: last})
		first = last + 1
		cursor += perNode
	}
	return out
}

// AntiAffinityScore mirrors clusterManagerGetAntiAffinityScore: 10000 per
// replica on its master's host, 1 per replica sharing a host with another
// replica of the same master. It also returns one offending replica per
// offending group.
func AntiAffinityScore(nodes []*cluster.Node, hosts []string) (int, []*cluster.Node) {
	score := 0
	var offenders []*cluster.Node
	for _, h := range hosts {
		types := map[string]string{}
		var keys []string
		for _, n := range nodes {
			if n.Host != h {
				continue
			}
			key := n.MasterID
			if key == "" {
				key = n.ID
			}
			t, ok := types[key]
			if !ok {
				keys = append(keys, key)
			}
			if n.MasterID != "" {
				t += "s"
			} else {
				t = "m" + t
			}
			types[key] = t
		}
		for _, key := range keys {
			t := types[key]
			if len(t) < 2 {
				continue
			}
			if t[0] == 'm' {
				score += 10000 * (len(t) - 1)
			} else {
				score += len(t)
			}
			for _, n := range nodes {
				if n.MasterID == key && n.Host == h {
					offenders = append(offenders, n)
					break
				}
			}
		}
	}
	return score, offenders
}

func optimizeAntiAffinity(nodes []*cluster.Node, hosts []string, rng *rand.Rand, logf func(string, ...any)) int {
	score, _ := AntiAffinityScore(nodes, hosts)
	if score == 0 {
		return 0
	}
	logf(">>> Trying to optimize slaves allocation for anti-affinity")
	for maxiter := 500 * len(nodes); maxiter > 0; maxiter-- {
		var offenders []*cluster.Node
		score, offenders = AntiAffinityScore(nodes, hosts)
		if score == 0 || len(offenders) == 0 {
			break
		}
		first := offenders[rng.Intn(len(offenders))]
		var others []*cluster.Node
		for _, n := range nodes {
			if n != first && n.MasterID != "" {
				others = append(others, n)
			}
		}
		if len(others) == 0 {
			break
		}
		second := others[rng.Intn(len(others))]
		fm, sm := first.MasterID, second.MasterID
		first.MasterID, second.MasterID = sm, fm
		if ns, _ := AntiAffinityScore(nodes, hosts); ns > score {
			first.MasterID, second.MasterID = fm, sm
		}
	}
	score, _ = AntiAffinityScore(nodes, hosts)
	switch {
	case score == 0:
		logf("[OK] Perfect anti-affinity obtained!")
	case score >= 10000:
		logf("[WARNING] Some slaves are in the same host as their master")
	default:
		logf("[WARNING] Some slaves of the same master are in the same host")
	}
	return score
}

// Move is one slot to move from Source.
type Move struct {
	Source *cluster.Node
	Slot   int
}

// ReshardTable mirrors clusterManagerComputeReshardTable: sources sorted by
// slot count (descending, stable), each giving its share of numSlots
// (the first rounded up, the others down), lowest slots first.
func ReshardTable(sources []*cluster.Node, numSlots int) []Move {
	sorted := append([]*cluster.Node(nil), sources...)
	total := 0
	for _, n := range sorted {
		total += n.Slots.Count()
	}
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Slots.Count() > sorted[j].Slots.Count() })
	var moves []Move
	if total == 0 {
		return nil
	}
	for i, n := range sorted {
		share := float32(numSlots) / float32(total) * float32(n.Slots.Count())
		if i == 0 {
			share = float32(math.Ceil(float64(share)))
		} else {
			share = float32(math.Floor(float64(share)))
		}
		max, count := int(share), 0
		for _, s := range n.Slots.List() {
			if count >= max || len(moves) >= numSlots {
				break
			}
			moves = append(moves, Move{Source: n, Slot: s})
			count++
		}
	}
	return moves
}

// Transfer is one step of a rebalance: Slots move from Src to Dst.
type Transfer struct {
	Src, Dst *cluster.Node
	Slots    []int
}

// Rebalance is the outcome of RebalancePlan.
type Rebalance struct {
	Involved    []*cluster.Node
	TotalWeight float32
	Needed      bool // false: every node within the threshold
	Transfers   []Transfer
}

// RebalancePlan mirrors clusterManagerCommandRebalance. masters are the
// cluster's masters in cluster order, with Weight set (default 1). The
// nodes' Slots and Balance are updated as if the plan had been executed,
// so pass clones when only simulating.
func RebalancePlan(masters []*cluster.Node, useEmpty bool, threshold float32) *Rebalance {
	r := &Rebalance{}
	for _, n := range masters {
		if !useEmpty && n.Slots.Count() == 0 {
			n.Weight = 0
			continue
		}
		r.TotalWeight += n.Weight
		r.Involved = append(r.Involved, n)
	}
	if len(r.Involved) == 0 {
		return r
	}
	totalBalance := 0
	for _, n := range r.Involved {
		count := n.Slots.Count()
		expected := int(float32(cluster.NumSlots) / r.TotalWeight * n.Weight)
		n.Balance = count - expected
		totalBalance += n.Balance
		if threshold > 0 {
			if count > 0 {
				errPerc := math.Abs(100 - 100.0*float64(expected)/float64(count))
				if errPerc > float64(threshold) {
					r.Needed = true
				}
			} else if expected > 1 {
				r.Needed = true
			}
		}
	}
	if !r.Needed {
		return r
	}
	for totalBalance > 0 {
		for _, n := range r.Involved {
			if n.Balance <= 0 && totalBalance > 0 {
				n.Balance--
				totalBalance--
			}
		}
	}
	w := append([]*cluster.Node(nil), r.Involved...)
	sort.SliceStable(w, func(i, j int) bool { return w[i].Balance < w[j].Balance })
	dstIdx, srcIdx := 0, len(w)-1
	for dstIdx < srcIdx {
		dst, src := w[dstIdx], w[srcIdx]
		db, sb := abs(dst.Balance), abs(src.Balance)
		num := db
		if sb < num {
			num = sb
		}
		if num > 0 {
			t := Transfer{Src: src, Dst: dst}
			for _, m := range ReshardTable([]*cluster.Node{src}, num) {
				t.Slots = append(t.Slots, m.Slot)
			}
			for _, s := range t.Slots {
				src.Slots.Del(s)
				dst.Slots.Add(s)
			}
			r.Transfers = append(r.Transfers, t)
		}
		dst.Balance += num
		src.Balance -= num
		if dst.Balance == 0 {
			dstIdx++
		}
		if src.Balance == 0 {
			srcIdx--
		}
	}
	return r
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
