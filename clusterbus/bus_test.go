package clusterbus

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotkv/slotkv/redirect"
)

// testCluster runs several Bus instances on one InmemNetwork.
type testCluster struct {
	t     testing.TB
	nw    *InmemNetwork
	buses []*Bus
	cfgs  []Config
	tmo   time.Duration
}

func testLogger() *slog.Logger {
	if os.Getenv("CLUSTERBUS_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func ipOf(i int) string { return fmt.Sprintf("127.0.0.%d", 10+i) }

func newTestCluster(t testing.TB, n int, tmo time.Duration) *testCluster {
	t.Helper()
	tc := &testCluster{t: t, nw: NewInmemNetwork(), tmo: tmo}
	for i := 0; i < n; i++ {
		cfg := DefaultConfig()
		cfg.Dir = filepath.Join(t.TempDir())
		cfg.BindIP = ipOf(i)
		cfg.Port = 7000
		cfg.NodeTimeout = tmo
		cfg.Logger = testLogger()
		cfg.NewTransport = tc.nw.NewTransport
		tc.cfgs = append(tc.cfgs, cfg)
		tc.buses = append(tc.buses, tc.start(cfg))
	}
	t.Cleanup(func() {
		for _, b := range tc.buses {
			if b != nil {
				b.Close()
			}
		}
	})
	return tc
}

func (tc *testCluster) start(cfg Config) *Bus {
	tc.t.Helper()
	b, err := New(cfg)
	if err != nil {
		tc.t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		tc.t.Fatal(err)
	}
	return b
}

// newConvergedCluster starts n buses owning the slots evenly with config
// epochs 1..n, meets them and waits (at most within) until every bus knows
// every node, all agree on the slot owners and the cluster state is ok.
func newConvergedCluster(t testing.TB, n int, tmo, within time.Duration) *testCluster {
	t.Helper()
	tc := newTestCluster(t, n, tmo)
	tc.assignEvenly()
	for i, b := range tc.buses {
		b.SetConfigEpoch(fmt.Sprint(i + 1))
	}
	tc.meetAll()
	waitFor(t, within, "converged", func() bool { return tc.allKnow(n) && tc.agree() && tc.allOK() })
	return tc
}

// restart closes bus i and starts it again from its nodes.conf.
func (tc *testCluster) restart(i int) {
	tc.buses[i].Close()
	tc.buses[i] = tc.start(tc.cfgs[i])
}

func (tc *testCluster) meetAll() {
	for i := 1; i < len(tc.buses); i++ {
		if err := tc.buses[i].Meet(ipOf(0), "7000", ""); err != nil {
			tc.t.Fatal(err)
		}
	}
}

// waitFor polls cond until it is true or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < d {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timeout after %v waiting for %s", d, what)
	return 0
}

func (tc *testCluster) allKnow(n int) bool {
	for _, b := range tc.buses {
		if b == nil {
			continue
		}
		b.mu.Lock()
		k := len(b.st.nodes)
		b.mu.Unlock()
		if k != n {
			return false
		}
	}
	return true
}

// slotViews returns, for every bus, the owner id of every slot as a string
// signature.
func viewSig(b *Bus) string {
	t := b.Table()
	var sb strings.Builder
	prev := ""
	for j := 0; j < NumSlots; j++ {
		id := "-"
		if o := t.Owner.Get(j); o != redirect.None {
			id = t.Nodes[o].ID
		}
		if id != prev {
			fmt.Fprintf(&sb, "%d:%s ", j, id)
			prev = id
		}
	}
	return sb.String()
}

func (tc *testCluster) agree() bool {
	var first string
	for i, b := range tc.buses {
		if b == nil {
			continue
		}
		s := viewSig(b)
		if i == 0 {
			first = s
		} else if s != first {
			return false
		}
	}
	return true
}

func (tc *testCluster) assignEvenly() {
	n := len(tc.buses)
	per := NumSlots / n
	for i, b := range tc.buses {
		lo, hi := i*per, (i+1)*per-1
		if i == n-1 {
			hi = NumSlots - 1
		}
		if err := b.AddSlotsRange([]string{fmt.Sprint(lo), fmt.Sprint(hi)}); err != nil {
			tc.t.Fatal(err)
		}
	}
}

func (tc *testCluster) allOK() bool {
	for _, b := range tc.buses {
		if b != nil && !b.State() {
			return false
		}
	}
	return true
}

func TestConvergence10(t *testing.T) {
	tc := newTestCluster(t, 10, 500*time.Millisecond)
	tc.assignEvenly()
	for i, b := range tc.buses {
		if err := b.SetConfigEpoch(fmt.Sprint(i + 1)); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	tc.meetAll()
	waitFor(t, 30*time.Second, "all nodes know 10 nodes", func() bool { return tc.allKnow(10) })
	waitFor(t, 30*time.Second, "slot views agree", tc.agree)
	conv := time.Since(start)
	waitFor(t, 30*time.Second, "cluster_state ok everywhere", tc.allOK)
	t.Logf("10-node convergence (meet -> all views agree): %v; state ok after %v", conv, time.Since(start))

	// A slot change on one node is seen by all.
	b0 := tc.buses[0]
	if err := b0.DelSlots([]string{"0"}); err != nil {
		t.Fatal(err)
	}
	d := waitFor(t, 5*time.Second, "DELSLOTS 0 seen everywhere", func() bool {
		for _, b := range tc.buses {
			if b.Table().Owner.Get(0) != redirect.None {
				return false
			}
		}
		return true
	})
	t.Logf("DELSLOTS propagation: %v", d)
	id5 := tc.buses[5].MyID()
	addStart := time.Now()
	if err := tc.buses[5].AddSlots([]string{"0"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "ADDSLOTS 0 seen everywhere", func() bool {
		for _, b := range tc.buses {
			tb := b.Table()
			if o := tb.Owner.Get(0); o == redirect.None || tb.Nodes[o].ID != id5 {
				return false
			}
		}
		return true
	})
	d = time.Since(addStart)
	t.Logf("ADDSLOTS propagation (10 nodes, node-timeout 500ms, includes the command's nodes.conf fsync): %v", d)
	if d > time.Second {
		t.Errorf("ADDSLOTS took %v to propagate, want < 1s", d)
	}
}

func TestSetSlotNodePropagation(t *testing.T) {
	tc := newTestCluster(t, 4, 500*time.Millisecond)
	tc.assignEvenly()
	for i, b := range tc.buses {
		b.SetConfigEpoch(fmt.Sprint(i + 1))
	}
	tc.meetAll()
	waitFor(t, 30*time.Second, "agree", func() bool { return tc.allKnow(4) && tc.agree() })
	src, dst := tc.buses[0], tc.buses[1]
	srcID, dstID := src.MyID(), dst.MyID()
	if err := dst.SetSlot([]string{"100", "importing", srcID}); err != nil {
		t.Fatal(err)
	}
	if err := src.SetSlot([]string{"100", "migrating", dstID}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(src.Nodes(), "[100->-"+dstID+"]") || !strings.Contains(dst.Nodes(), "[100-<-"+srcID+"]") {
		t.Fatalf("migration markers missing:\n%s\n%s", src.Nodes(), dst.Nodes())
	}
	start := time.Now() // includes both commands' nodes.conf fsyncs
	if err := dst.SetSlot([]string{"100", "node", dstID}); err != nil {
		t.Fatal(err)
	}
	if err := src.SetSlot([]string{"100", "node", dstID}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "slot 100 moved everywhere", func() bool {
		for _, b := range tc.buses {
			tb := b.Table()
			if o := tb.Owner.Get(100); o == redirect.None || tb.Nodes[o].ID != dstID {
				return false
			}
		}
		return true
	})
	t.Logf("SETSLOT NODE propagation: %v", time.Since(start))
	if strings.Contains(src.Nodes(), "->-") || strings.Contains(dst.Nodes(), "-<-") {
		t.Fatalf("markers not cleared")
	}
	// The importer bumped its epoch to a unique maximum.
	waitFor(t, 5*time.Second, "epochs distinct", func() bool { return distinctEpochs(tc) })
}

func distinctEpochs(tc *testCluster) bool {
	seen := map[uint64]bool{}
	for _, b := range tc.buses {
		b.mu.Lock()
		e := b.st.myself.configEpoch
		b.mu.Unlock()
		if seen[e] {
			return false
		}
		seen[e] = true
	}
	return true
}

func TestEpochCollision(t *testing.T) {
	tc := newTestCluster(t, 3, 500*time.Millisecond)
	// All masters start at config epoch 0: they must end distinct.
	tc.meetAll()
	waitFor(t, 10*time.Second, "epochs distinct after collision", func() bool {
		return tc.allKnow(3) && distinctEpochs(tc)
	})
	// Two masters with the same non-zero epoch, the lower id bumps.
	tc2 := newTestCluster(t, 2, 500*time.Millisecond)
	tc2.buses[0].SetConfigEpoch("5")
	tc2.buses[1].SetConfigEpoch("5")
	lo := 0
	if tc2.buses[1].MyID() < tc2.buses[0].MyID() {
		lo = 1
	}
	tc2.meetAll()
	waitFor(t, 10*time.Second, "collision resolved", func() bool { return distinctEpochs(tc2) })
	tc2.buses[lo].mu.Lock()
	e := tc2.buses[lo].st.myself.configEpoch
	tc2.buses[lo].mu.Unlock()
	if e != 6 {
		t.Fatalf("lower id node epoch = %d, want 6", e)
	}
}

func TestFailureDetection(t *testing.T) {
	tmo := 500 * time.Millisecond
	tc := newConvergedCluster(t, 6, tmo, 30*time.Second)
	victim := tc.buses[5]
	vid := victim.MyID()
	start := time.Now()
	tc.nw.Isolate(ipOf(5))
	var pfailSeen time.Duration
	d := waitFor(t, 10*time.Second, "FAIL on all survivors", func() bool {
		all := true
		for _, b := range tc.buses[:5] {
			n := b.Nodes()
			if pfailSeen == 0 && strings.Contains(lineOf(n, vid), "fail?") {
				pfailSeen = time.Since(start)
			}
			if !strings.Contains(lineOf(n, vid), " master,fail ") {
				all = false
			}
		}
		return all
	})
	t.Logf("node-timeout %v: first PFAIL after %v, FAIL on all survivors after %v", tmo, pfailSeen, d)
	if d > tmo+time.Second {
		t.Errorf("FAIL took %v, want <= node-timeout + 1s", d)
	}
	// Survivors: cluster is down (slots of a failed master, full coverage).
	waitFor(t, 5*time.Second, "cluster_state fail on survivors", func() bool {
		for _, b := range tc.buses[:5] {
			if b.State() {
				return false
			}
		}
		return true
	})
	if c, _ := tc.buses[0].CountFailureReports(vid); c < 1 {
		t.Errorf("COUNT-FAILURE-REPORTS = %d, want >= 1", c)
	}
	// Heal: a master with slots clears FAIL after 2 x node-timeout.
	tc.nw.Heal()
	waitFor(t, 10*time.Second, "FAIL cleared and state ok", func() bool {
		for _, b := range tc.buses {
			if strings.Contains(lineOf(b.Nodes(), vid), "fail") {
				return false
			}
		}
		return tc.allOK()
	})
}

func lineOf(nodes, id string) string {
	for _, l := range strings.Split(nodes, "\n") {
		if strings.HasPrefix(l, id) {
			return l
		}
	}
	return ""
}

func TestForgetBan(t *testing.T) {
	tc := newTestCluster(t, 3, 500*time.Millisecond)
	tc.meetAll()
	waitFor(t, 10*time.Second, "3 nodes", func() bool { return tc.allKnow(3) })
	gone := tc.buses[2].MyID()
	if err := tc.buses[0].Forget(gone); err != nil {
		t.Fatal(err)
	}
	// bus 1 still knows it and gossips it; bus 0 must not re-add it within
	// the ban. Watch for a few push/pull and heartbeat rounds.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if tc.buses[0].KnowsNode(gone) {
			t.Fatal("forgotten node came back during the ban")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := tc.buses[0].Forget(gone); err == nil || err.Error() != "ERR Unknown node "+gone {
		t.Fatalf("second forget: %v", err)
	}
	// Ban expiry brings it back (as Redis): shorten the ban and check.
	tc.buses[0].mu.Lock()
	tc.buses[0].st.banned[gone] = time.Now()
	tc.buses[0].mu.Unlock()
	waitFor(t, 10*time.Second, "node back after ban", func() bool { return tc.buses[0].KnowsNode(gone) })
}

func TestRestartFromNodesConf(t *testing.T) {
	tc := newTestCluster(t, 3, 300*time.Millisecond)
	tc.assignEvenly()
	for i, b := range tc.buses {
		b.SetConfigEpoch(fmt.Sprint(i + 1))
	}
	tc.meetAll()
	waitFor(t, 30*time.Second, "converged", func() bool { return tc.allKnow(3) && tc.agree() })
	id := tc.buses[2].MyID()
	before := viewSig(tc.buses[2])
	tc.restart(2)
	if tc.buses[2].MyID() != id {
		t.Fatal("id changed across restart")
	}
	if viewSig(tc.buses[2]) != before {
		t.Fatal("slots changed across restart")
	}
	tc.buses[2].mu.Lock()
	ep := tc.buses[2].st.myself.configEpoch
	tc.buses[2].mu.Unlock()
	if ep != 3 {
		t.Fatalf("config epoch after restart = %d", ep)
	}
	// Rejoins without MEET: it answers pings again (connected everywhere).
	waitFor(t, 10*time.Second, "restarted node connected", func() bool {
		for _, b := range tc.buses[:2] {
			if !strings.Contains(lineOf(b.Nodes(), id), " connected") {
				return false
			}
		}
		return tc.allKnow(3) && tc.agree()
	})
}

func TestReplicateAndRoles(t *testing.T) {
	tc := newTestCluster(t, 4, time.Second)
	tc.buses[0].AddSlotsRange([]string{"0", "8191"})
	tc.buses[1].AddSlotsRange([]string{"8192", "16383"})
	tc.meetAll()
	waitFor(t, 10*time.Second, "4 nodes", func() bool { return tc.allKnow(4) })
	m0 := tc.buses[0].MyID()
	roles := make(chan RoleChange, 4)
	tc.buses[2].cfg.Hooks.RoleChanged = func(rc RoleChange) { roles <- rc }
	if err := tc.buses[2].Replicate(m0); err != nil {
		t.Fatal(err)
	}
	select {
	case rc := <-roles:
		if rc.Master || rc.MasterID != m0 {
			t.Fatalf("role change %+v", rc)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no RoleChanged")
	}
	r2 := tc.buses[2].MyID()
	waitFor(t, 5*time.Second, "bus 3 sees bus 2 as a replica", func() bool {
		return strings.Contains(lineOf(tc.buses[3].Nodes(), r2), " slave ")
	})
	if err := tc.buses[3].Replicate(r2); err == nil || err.Error() != "ERR I can only replicate a master, not a replica." {
		t.Fatalf("replicate a replica: %v", err)
	}
	waitFor(t, 5*time.Second, "REPLICAS lists it everywhere", func() bool {
		for _, b := range tc.buses {
			r, err := b.Replicas(m0)
			if err != nil || len(r) != 1 || !strings.HasPrefix(r[0].(string), r2) {
				return false
			}
		}
		return true
	})
	line := lineOf(tc.buses[1].Nodes(), r2)
	if !strings.Contains(line, " slave "+m0+" ") {
		t.Fatalf("replica line: %q", line)
	}
	if tb := tc.buses[2].Table(); tb.Master == redirect.None || tb.Nodes[tb.Master].ID != m0 {
		t.Fatal("table master not set")
	}
	if err := tc.buses[2].SetSlot([]string{"1", "stable"}); err == nil || err.Error() != "ERR Please use SETSLOT only with masters." {
		t.Fatalf("setslot on replica: %v", err)
	}
	if err := tc.buses[2].Forget(m0); err == nil || err.Error() != "ERR Can't forget my master!" {
		t.Fatalf("forget master: %v", err)
	}
}

func TestStaleClaimUpdate(t *testing.T) {
	// Two nodes claim the same slot; the higher config epoch wins on both.
	tc := newTestCluster(t, 3, 300*time.Millisecond)
	tc.buses[0].SetConfigEpoch("1")
	tc.buses[1].SetConfigEpoch("2")
	tc.buses[2].SetConfigEpoch("3")
	tc.buses[0].AddSlots([]string{"7"})
	tc.buses[1].AddSlots([]string{"7"})
	tc.meetAll()
	id1 := tc.buses[1].MyID()
	waitFor(t, 10*time.Second, "slot 7 owned by epoch-2 node everywhere", func() bool {
		for _, b := range tc.buses {
			tb := b.Table()
			if o := tb.Owner.Get(7); o == redirect.None || tb.Nodes[o].ID != id1 {
				return false
			}
		}
		return true
	})
}
