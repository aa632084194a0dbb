package clusterbus

import (
	"fmt"
	"testing"
	"time"
)

// backdate makes every bus look started long ago, so the writable delay
// (CLUSTER_WRITABLE_DELAY, 2 s from start) is over without waiting for it:
// the case of nodes started well before the cluster is created.
func (tc *testCluster) backdate(d time.Duration) {
	for _, b := range tc.buses {
		b.mu.Lock()
		b.st.startTime = b.st.startTime.Add(-d)
		b.mu.Unlock()
	}
}

// TestFreshClusterOKWithoutRejoinDelay: nodes that knew no master with slots
// before ADDSLOTS were never in a minority partition, so a freshly created
// 3-master cluster reaches ok as soon as every slot is covered and the
// masters know each other, not a rejoin delay (5 s at node-timeout 15 s)
// after the last slot assignment.
func TestFreshClusterOKWithoutRejoinDelay(t *testing.T) {
	tc := newTestCluster(t, 3, 15*time.Second)
	tc.backdate(10 * time.Second)
	// Evaluate the state of the still slot-less nodes past the writable
	// delay, as the cron does every tick (this stamped the minority time).
	for _, b := range tc.buses {
		b.locked(func(s *state) { s.updateState(time.Now()) })
	}
	for i, b := range tc.buses {
		b.SetConfigEpoch(fmt.Sprint(i + 1))
	}
	tc.assignEvenly()
	assigned := time.Now()
	tc.meetAll()
	waitFor(t, 10*time.Second, "all ok", func() bool { return tc.allKnow(3) && tc.agree() && tc.allOK() })
	d := time.Since(assigned)
	t.Logf("cluster_state ok on all 3 nodes %v after the last ADDSLOTS", d)
	if d > 2*time.Second {
		t.Errorf("fresh cluster took %v to reach ok (rejoin delay applied to nodes that were never in a minority)", d)
	}
}

// TestMinorityMasterWaitsRejoinDelay: a master that was cut off with the
// minority stays down for the rejoin delay (node-timeout clamped to
// 0.5-5 s) after the partition heals, so it does not take writes before it
// had a chance to learn a newer configuration. The majority is unaffected.
func TestMinorityMasterWaitsRejoinDelay(t *testing.T) {
	tmo := time.Second // rejoin delay = 1 s
	tc := newConvergedCluster(t, 3, tmo, 15*time.Second)
	lone := tc.buses[2]
	tc.nw.Isolate(ipOf(2))
	waitFor(t, 10*time.Second, "isolated master goes down", func() bool { return lone.Table().Down })
	healed := time.Now()
	tc.nw.Heal()
	d := waitFor(t, 15*time.Second, "isolated master ok again", func() bool { return !lone.Table().Down })
	t.Logf("isolated master back to ok %v after the heal", d)
	if d < tmo {
		t.Errorf("minority master served again %v after the heal, before the %v rejoin delay", d, tmo)
	}
	lone.mu.Lock()
	among := lone.st.amongMinorityTime
	lone.mu.Unlock()
	if among.Before(healed) {
		t.Errorf("minority time %v not refreshed until the partition healed (%v)", among, healed)
	}
	waitFor(t, 15*time.Second, "all ok", func() bool { return tc.allOK() })
}
