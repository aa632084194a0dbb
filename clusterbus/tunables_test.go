package clusterbus

import (
	"strings"
	"testing"
	"time"
)

// TestSetTunablesNodeTimeout: a node timeout lowered at run time (CONFIG SET
// cluster-node-timeout) drives failure detection at once, and
// cluster-require-full-coverage no then keeps the survivors' state ok.
func TestSetTunablesNodeTimeout(t *testing.T) {
	tc := newConvergedCluster(t, 3, 30*time.Second, 30*time.Second)
	if err := tc.buses[0].SetTunables(Tunables{NodeTimeout: time.Millisecond}); err == nil {
		t.Fatal("a 1 ms node timeout was accepted")
	}
	for _, b := range tc.buses {
		if err := b.SetTunables(Tunables{NodeTimeout: 500 * time.Millisecond, RequireFullCoverage: false,
			AllowReadsWhenDown: true, AllowReplicaMigration: true}); err != nil {
			t.Fatal(err)
		}
	}
	if !tc.buses[0].Table().ReadsWhenDown {
		t.Fatal("the routing table did not pick up cluster-allow-reads-when-down")
	}
	vid := tc.buses[2].MyID()
	tc.nw.Isolate(ipOf(2))
	// With the start-up 30 s timeout this would take over 30 s.
	d := waitFor(t, 10*time.Second, "FAIL on both survivors", func() bool {
		for _, b := range tc.buses[:2] {
			if !strings.Contains(lineOf(b.Nodes(), vid), " master,fail ") {
				return false
			}
		}
		return true
	})
	t.Logf("FAIL %v after the cut with the node timeout lowered to 500 ms", d)
	for i, b := range tc.buses[:2] {
		if !b.State() {
			t.Errorf("survivor %d: cluster_state fail without full-coverage requirement", i)
		}
	}
}
