package clusterbus

import (
	"fmt"
	"testing"
	"time"
)

// TestSlotsLostHook: a master that loses a slot holding keys to a claim with
// a higher config epoch is told to drop those keys.
func TestSlotsLostHook(t *testing.T) {
	tc := newTestCluster(t, 2, 500*time.Millisecond)
	a, b := tc.buses[0], tc.buses[1]
	lost := make(chan []int, 4)
	a.cfg.Hooks.CountKeysInSlot = func(slot int) int { return 1 }
	a.cfg.Hooks.SlotsLost = func(s []int) { lost <- s }
	a.SetConfigEpoch("1")
	b.SetConfigEpoch("2")
	a.AddSlots([]string{"7", "8"})
	b.AddSlots([]string{"7"})
	tc.meetAll()
	select {
	case s := <-lost:
		if fmt.Sprint(s) != "[7]" {
			t.Fatalf("lost %v", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SlotsLost not called")
	}
	if a.IsReplica() {
		t.Fatal("a still owns slot 8 and must stay a master")
	}
}

// TestMinorityGoesDown: a master cut off from the majority marks the cluster
// failed (and stops serving) about node-timeout after its last contact, while
// the majority side keeps its view.
func TestMinorityGoesDown(t *testing.T) {
	tmo := 500 * time.Millisecond
	tc := newConvergedCluster(t, 3, tmo, 15*time.Second)
	lone := tc.buses[2]
	tc.nw.Isolate(ipOf(2))
	d := waitFor(t, 10*time.Second, "isolated master sees cluster_state fail", func() bool {
		return lone.Table().Down
	})
	t.Logf("node-timeout %v: isolated master stops serving after %v", tmo, d)
	if d > tmo+time.Second {
		t.Errorf("minority took %v to go down", d)
	}
	tc.nw.Heal()
	waitFor(t, 15*time.Second, "healed", func() bool { return tc.allOK() })
}
