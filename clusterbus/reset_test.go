package clusterbus

import (
	"testing"
	"time"
)

// TestResetHard follows redis-cli --cluster del-node: the others FORGET the
// node, then it is reset. It forgets everybody, gets a new id and zero
// epochs, restarts its memberlist under the new name, stays alone, and can be
// met again. (A node that still knows a reset node re-meets it through the
// bus reconnect; Redis would drop it instead.)
func TestResetHard(t *testing.T) {
	tc := newTestCluster(t, 2, 500*time.Millisecond)
	tc.buses[1].SetConfigEpoch("3")
	tc.buses[1].AddSlots([]string{"10"})
	tc.meetAll()
	waitFor(t, 10*time.Second, "2 nodes", func() bool { return tc.allKnow(2) })
	b := tc.buses[1]
	old := b.MyID()
	if err := tc.buses[0].Forget(old); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Reset(true); err != nil {
		t.Fatal(err)
	}
	if b.MyID() == old || b.KnowsNode(tc.buses[0].MyID()) {
		t.Fatal("hard reset kept the id or the peers")
	}
	if b.Table().Owner.Get(10) != 0xFFFF {
		t.Fatal("slots kept")
	}
	b.mu.Lock()
	e, ce := b.st.myself.configEpoch, b.st.currentEpoch
	b.mu.Unlock()
	if e != 0 || ce != 0 {
		t.Fatalf("epochs after hard reset: %d %d", e, ce)
	}
	time.Sleep(time.Second)
	if b.KnowsNode(tc.buses[0].MyID()) || tc.buses[0].KnowsNode(b.MyID()) {
		t.Fatal("reset node re-learned its old cluster without MEET")
	}
	if err := tc.buses[0].Meet(ipOf(1), "7000", ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "new id met", func() bool {
		return tc.buses[0].KnowsNode(b.MyID()) && b.KnowsNode(tc.buses[0].MyID())
	})
}
