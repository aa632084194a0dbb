package plan

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/slotkv/slotkv/tools/clustercli/internal/cluster"
)

func TestAllocSlots(t *testing.T) {
	got := AllocSlots(3)
	want := []cluster.Range{{From: 0, To: 5460}, {From: 5461, To: 10922}, {From: 10923, To: 16383}}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("AllocSlots(3) = %v, want %v", got, want)
		}
	}
	for m := 3; m <= 500; m++ {
		rs := AllocSlots(m)
		next := 0
		for _, r := range rs {
			if r.From != next || r.To < r.From {
				t.Fatalf("AllocSlots(%d): gap or overlap at %v", m, r)
			}
			next = r.To + 1
		}
		if next != cluster.NumSlots {
			t.Fatalf("AllocSlots(%d) ends at %d", m, next)
		}
	}
}

func mkNodes(n int, hosts int) []*cluster.Node {
	var out []*cluster.Node
	for i := 0; i < n; i++ {
		out = append(out, &cluster.Node{ID: fmt.Sprintf("%040d", i), Host: fmt.Sprintf("10.0.0.%d", i%hosts), Port: 7000 + i, Weight: 1})
	}
	return out
}

func TestAllocCreateAntiAffinity(t *testing.T) {
	nodes := mkNodes(6, 3)
	p, err := AllocCreate(nodes, 1, rand.New(rand.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Masters) != 3 || len(p.Replicas) != 3 {
		t.Fatalf("masters %d replicas %d", len(p.Masters), len(p.Replicas))
	}
	if p.AntiAffinityScore != 0 {
		t.Fatalf("3 hosts, 3+3 nodes: want perfect anti-affinity, got score %d (%v)", p.AntiAffinityScore, p.Log)
	}
	byID := map[string]*cluster.Node{}
	for _, m := range p.Masters {
		byID[m.ID] = m
	}
	for _, r := range p.Replicas {
		if byID[r.MasterID] == nil || byID[r.MasterID].Host == r.Host {
			t.Fatalf("replica %s on its master's host", r.Addr())
		}
	}
	if _, err := AllocCreate(mkNodes(5, 1), 1, nil); err == nil {
		t.Fatal("5 nodes with 1 replica must be refused (needs 3 masters)")
	}
}

func TestReshardTable(t *testing.T) {
	a := &cluster.Node{ID: "a"}
	b := &cluster.Node{ID: "b"}
	a.Slots.AddRange(0, 5460)
	b.Slots.AddRange(5461, 10922)
	moves := ReshardTable([]*cluster.Node{a, b}, 1000)
	// b has more slots: it goes first and gives ceil(1000/10923*5462)=501.
	if len(moves) != 1000 || moves[0].Source != b || moves[0].Slot != 5461 || moves[500].Source != b || moves[501].Source != a || moves[501].Slot != 0 {
		t.Fatalf("unexpected table: first=%v #501=%v len=%d", moves[0], moves[501], len(moves))
	}
}

func TestRebalancePlan(t *testing.T) {
	ns := mkNodes(5, 1)
	for i, r := range AllocSlots(3) {
		ns[i].Slots.AddRange(r.From, r.To)
	}
	r := RebalancePlan(ns, true, 2)
	if !r.Needed || len(r.Involved) != 5 {
		t.Fatalf("needed=%v involved=%d", r.Needed, len(r.Involved))
	}
	total := 0
	for _, n := range ns {
		c := n.Slots.Count()
		total += c
		if c < 3276 || c > 3278 { // rounding leftovers go to receivers, as in redis-cli
			t.Fatalf("node %s has %d slots after plan", n.ID, c)
		}
	}
	if total != cluster.NumSlots {
		t.Fatal("slots lost")
	}
	// Draining one node with weight 0.
	ns[0].Weight = 0
	r = RebalancePlan(ns, true, 2)
	if ns[0].Slots.Count() != 0 {
		t.Fatalf("weight 0 node still has %d slots", ns[0].Slots.Count())
	}
	// Balanced cluster: nothing to do.
	ns[0].Weight = 1
	if r := RebalancePlan(ns[1:], false, 2); r.Needed {
		t.Fatalf("balanced cluster should need nothing: %+v", r.Transfers)
	}
}
