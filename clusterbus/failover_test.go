package clusterbus

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotkv/slotkv/redirect"
)

// foNode is the fake node side of one bus: offsets, data age and the calls
// failover makes into the node.
type foNode struct {
	offset    atomic.Int64
	age       atomic.Int64 // ns
	noFail    atomic.Bool
	promoted  atomic.Int32
	paused    atomic.Int32
	unpaused  atomic.Int32
	pauseHook func() // called inside PauseWrites (tests)
}

func (f *foNode) hooks() FailoverHooks {
	return FailoverHooks{
		ReplOffset: func() int64 { return f.offset.Load() },
		DataAge:    func() time.Duration { return time.Duration(f.age.Load()) },
		Promote:    func() { f.promoted.Add(1) },
		PauseWrites: func(time.Duration) {
			f.paused.Add(1)
			if f.pauseHook != nil {
				f.pauseHook()
			}
		},
		UnpauseWrites: func() { f.unpaused.Add(1) },
		Settings: func() FailoverSettings {
			s := DefaultFailoverSettings()
			s.ReplicaNoFailover = f.noFail.Load()
			return s
		},
	}
}

type foCluster struct {
	*testCluster
	nodes   []*foNode
	masters int
}

// newFailoverCluster starts masters+replicas buses on the in-memory network:
// buses 0..masters-1 own the slots evenly (config epochs 1..masters), the
// others replicate masters in turn (bus masters+i replicates i%masters).
func newFailoverCluster(t *testing.T, masters, replicas int, tmo time.Duration) *foCluster {
	t.Helper()
	n := masters + replicas
	tc := newTestCluster(t, n, tmo)
	fc := &foCluster{testCluster: tc, masters: masters}
	for i, b := range tc.buses {
		fn := &foNode{}
		fn.offset.Store(1000)
		// No elections while the cluster forms: at short node timeouts the
		// bus may flag nodes that do not know each other yet as failing.
		fn.noFail.Store(true)
		fc.nodes = append(fc.nodes, fn)
		b.SetFailoverHooks(fn.hooks())
		if os.Getenv("FAILOVER_LOG") != "" { // Info-level bus logs of the failover tests
			b.mu.Lock()
			b.cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil)).With("bus", i)
			b.log = b.cfg.Logger
			b.mu.Unlock()
		}
	}
	per := NumSlots / masters
	for i := 0; i < masters; i++ {
		lo, hi := i*per, (i+1)*per-1
		if i == masters-1 {
			hi = NumSlots - 1
		}
		if err := tc.buses[i].AddSlotsRange([]string{fmt.Sprint(lo), fmt.Sprint(hi)}); err != nil {
			t.Fatal(err)
		}
		if err := tc.buses[i].SetConfigEpoch(fmt.Sprint(i + 1)); err != nil {
			t.Fatal(err)
		}
	}
	tc.meetAll()
	waitFor(t, 15*time.Second, "all nodes known", func() bool { return tc.allKnow(n) })
	for i := 0; i < replicas; i++ {
		r := tc.buses[masters+i]
		if err := r.Replicate(tc.buses[i%masters].MyID()); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	var stable time.Time
	for {
		if !fc.setupDone(masters, replicas) {
			stable = time.Time{}
		} else if stable.IsZero() {
			stable = time.Now()
		} else if time.Since(stable) > 4*tmo {
			break
		}
		if time.Now().After(deadline) {
			for i, b := range tc.buses {
				t.Logf("bus %d state ok=%v:\n%s", i, b.State(), b.Nodes())
			}
			t.Fatal("cluster setup: roles and slots not agreed and stable within 20s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("cluster of %d masters + %d replicas formed and stable (node-timeout %v)", masters, replicas, tmo)
	for _, fn := range fc.nodes {
		fn.noFail.Store(false)
	}
	waitFor(t, 5*time.Second, "nofailover flags cleared everywhere", func() bool {
		for _, b := range tc.buses {
			if strings.Contains(b.Nodes(), "nofailover") {
				return false
			}
		}
		return true
	})
	return fc
}

func (fc *foCluster) setupDone(masters, replicas int) bool {
	tc := fc.testCluster
	{
		for i := 0; i < replicas; i++ {
			rid, mid := tc.buses[masters+i].MyID(), tc.buses[i%masters].MyID()
			for _, b := range tc.buses {
				if !replicaLine(lineOf(b.Nodes(), rid), mid) {
					return false
				}
			}
		}
		for _, b := range tc.buses {
			if n := b.Nodes(); strings.Contains(n, ",fail") || strings.Contains(n, "fail?") {
				return false
			}
		}
		return tc.agree() && tc.allOK()
	}
}

// replicaLine reports whether a CLUSTER NODES line is a replica of mid.
func replicaLine(line, mid string) bool {
	f := strings.Fields(line)
	return len(f) > 3 && strings.Contains(f[2], "slave") && f[3] == mid
}

func (fc *foCluster) id(i int) string { return fc.buses[i].MyID() }

// ownerEverywhere reports whether every bus in idx sees slot owned by id.
func (fc *foCluster) ownerEverywhere(slot int, id string, idx []int) bool {
	for _, i := range idx {
		t := fc.buses[i].Table()
		if o := t.Owner.Get(slot); o == redirect.None || t.Nodes[o].ID != id {
			return false
		}
	}
	return true
}

func others(n int, except ...int) []int {
	var out []int
	for i := 0; i < n; i++ {
		skip := false
		for _, e := range except {
			if e == i {
				skip = true
			}
		}
		if !skip {
			out = append(out, i)
		}
	}
	return out
}

func (fc *foCluster) isMaster(i int) bool { return fc.buses[i].Role().Master }

func (fc *foCluster) epochs(i int) (current, config, lastVote uint64) {
	b := fc.buses[i]
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st.currentEpoch, b.st.myself.configEpoch, b.st.lastVoteEpoch
}

// TestAutomaticFailover: a master cut off from everyone is replaced by its
// replica, which takes its slots with a new unique config epoch; when the
// old master comes back it becomes a replica of the winner.
func TestAutomaticFailover(t *testing.T) {
	tmo := 500 * time.Millisecond
	fc := newFailoverCluster(t, 3, 3, tmo)
	oldID, newID := fc.id(0), fc.id(3)
	alive := others(6, 0)
	fc.nw.Isolate(ipOf(0))
	d := waitFor(t, 10*time.Second, "replica 3 owns slot 0 on every reachable node", func() bool {
		return fc.isMaster(3) && fc.ownerEverywhere(0, newID, alive)
	})
	t.Logf("node-timeout %v: master isolated -> replica owns its slots everywhere after %v (election %v after FAIL)",
		tmo, d, fc.buses[3].FailoverStats().LastElection)
	if d > tmo+2*time.Second {
		t.Errorf("failover took %v", d)
	}
	if fc.nodes[3].promoted.Load() != 1 {
		t.Fatalf("Promote hook called %d times", fc.nodes[3].promoted.Load())
	}
	_, cfg3, _ := fc.epochs(3)
	for _, i := range []int{1, 2} {
		if _, c, _ := fc.epochs(i); c >= cfg3 {
			t.Fatalf("winner's config epoch %d not above master %d's %d", cfg3, i, c)
		}
	}
	waitFor(t, 5*time.Second, "cluster ok again", func() bool {
		for _, i := range alive {
			if !fc.buses[i].State() {
				return false
			}
		}
		return true
	})
	line := lineOf(fc.buses[1].Nodes(), oldID)
	if !strings.Contains(line, "master,fail") || strings.Contains(line, " 0-") {
		t.Fatalf("old master line: %q", line)
	}
	if l := lineOf(fc.buses[1].Nodes(), newID); !strings.Contains(l, " master - ") || !strings.Contains(l, fmt.Sprintf(" %d connected 0-", cfg3)) {
		t.Fatalf("new master line: %q", l)
	}
	info := fc.buses[3].Info()
	if !strings.Contains(info, "cluster_stats_messages_auth-req_sent:") || !strings.Contains(info, "cluster_stats_messages_auth-ack_received:") {
		t.Fatalf("auth stats missing from CLUSTER INFO:\n%s", info)
	}
	if !strings.Contains(fc.buses[1].Info(), "cluster_stats_messages_auth-ack_sent:") {
		t.Fatalf("voter did not count auth-ack sent:\n%s", fc.buses[1].Info())
	}
	// The old master returns: it sees a newer epoch for its slots and
	// becomes a replica of the winner.
	fc.nw.Heal()
	waitFor(t, 10*time.Second, "old master is a replica of the winner", func() bool {
		rc := fc.buses[0].Role()
		return !rc.Master && rc.MasterID == newID && fc.ownerEverywhere(0, newID, others(6))
	})
	waitFor(t, 10*time.Second, "everyone sees the old master as a replica", func() bool {
		for _, b := range fc.buses {
			if !strings.Contains(lineOf(b.Nodes(), oldID), "slave "+newID) {
				return false
			}
		}
		return fc.allOK()
	})
}

// TestFailoverWinnerIsBestReplica: of two replicas, the one with the higher
// replication offset wins; the other re-points to it.
func TestFailoverWinnerIsBestReplica(t *testing.T) {
	tmo := 500 * time.Millisecond
	fc := newFailoverCluster(t, 3, 4, tmo) // replicas 3 and 6 follow master 0
	fc.setOffset(t, 3, 500)
	fc.setOffset(t, 6, 900)
	// Offsets travel with heartbeats: wait until both know each other's.
	waitFor(t, 5*time.Second, "offsets gossiped", func() bool {
		b := fc.buses[3]
		b.mu.Lock()
		defer b.mu.Unlock()
		n := b.st.nodes[fc.id(6)]
		return n != nil && n.replOffset == 900
	})
	fc.nw.Isolate(ipOf(0))
	best := fc.id(6)
	waitFor(t, 10*time.Second, "best replica promoted", func() bool {
		return fc.isMaster(6) && fc.ownerEverywhere(0, best, others(7, 0))
	})
	waitFor(t, 5*time.Second, "other replica re-pointed", func() bool {
		rc := fc.buses[3].Role()
		return !rc.Master && rc.MasterID == best
	})
	if fc.isMaster(3) || fc.nodes[3].promoted.Load() != 0 {
		t.Fatal("the worse replica was promoted")
	}
}

// TestOneVotePerEpoch drives a voter's state directly: one vote per epoch,
// never twice about the same master within 2×node-timeout, votes only for
// replicas of FAIL masters (or with FORCEACK), never against newer slot
// epochs; lastVoteEpoch is in nodes.conf.
func TestOneVotePerEpoch(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dir = t.TempDir()
	cfg.BindIP = "127.0.0.9"
	cfg.Port = 7000
	cfg.NodeTimeout = time.Second
	cfg.Logger = testLogger()
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.mu.Lock()
	s := b.st
	me := s.myself
	mk := func(c byte, master *node, epoch uint64) *node {
		n := s.addNode(strings.Repeat(string([]byte{c}), 40))
		n.ip, n.port, n.cport, n.configEpoch = "127.0.0.10", 7000, 17000, epoch
		if master != nil {
			n.flags = fReplica
			n.masterID = master.id
		}
		return n
	}
	ma, mb, mc := mk('a', nil, 2), mk('b', nil, 3), mk('c', nil, 4)
	me.configEpoch = 1
	for j := 0; j < 100; j++ {
		s.setOwner(j, me)
		s.setOwner(100+j, ma)
		s.setOwner(200+j, mb)
		s.setOwner(300+j, mc)
	}
	ma.flags |= fFail
	mb.flags |= fFail
	ra, ra2, rb, rc := mk('d', ma, 0), mk('e', ma, 0), mk('f', mb, 0), mk('0', mc, 0)
	s.currentEpoch = 4
	claimsOf := map[*node][]slotRange{}
	for _, m := range []*node{ma, mb, mc} {
		c := s.slotsOf(m)
		claimsOf[m] = c.ranges()
	}
	req := func(r *node, epoch uint64, force bool) bool {
		m := s.masterOf(r)
		msg := &foMsg{sender: r.id, currentEpoch: epoch, configEpoch: m.configEpoch, slots: claimsOf[m]}
		if force {
			msg.flags = authForceAck
		}
		if epoch > s.currentEpoch {
			s.currentEpoch = epoch
		}
		before := len(s.out)
		s.maybeVote(r, msg, time.Now())
		return len(s.out) > before
	}
	if !req(ra, 5, false) {
		t.Fatal("no vote for the first request of epoch 5")
	}
	if s.lastVoteEpoch != 5 || !s.forceSave {
		t.Fatalf("lastVoteEpoch %d forceSave %v", s.lastVoteEpoch, s.forceSave)
	}
	if req(rb, 5, false) {
		t.Fatal("voted twice in epoch 5")
	}
	if req(ra2, 6, false) {
		t.Fatal("voted again about master a within 2×node-timeout")
	}
	if !req(rb, 7, false) {
		t.Fatal("no vote for a replica of another failed master in a new epoch")
	}
	if req(rc, 8, false) {
		t.Fatal("voted for a replica whose master is not failing")
	}
	if !req(rc, 9, true) {
		t.Fatal("no vote with FORCEACK (manual failover)")
	}
	if req(ra2, 3, false) {
		t.Fatal("voted for a request of an old epoch")
	}
	// A slot claimed with an older epoch than its current owner's: refused.
	s.fo().votedTime = map[string]time.Time{}
	for j := 100; j < 110; j++ {
		s.setOwner(j, mc) // epoch 4 > ma's 2
	}
	if req(ra2, 10, false) {
		t.Fatal("voted although a claimed slot has a newer epoch elsewhere")
	}
	// Masters without slots never vote.
	s.fo().votedTime = map[string]time.Time{}
	for j := 0; j < 100; j++ {
		s.setOwner(j, nil)
	}
	if req(rb, 11, false) {
		t.Fatal("a master without slots voted")
	}
	conf := string(s.renderConfig())
	b.mu.Unlock()
	if !strings.Contains(conf, "lastVoteEpoch 9") {
		t.Fatalf("nodes.conf vars: %q", conf[strings.LastIndex(conf, "vars"):])
	}
	// The saved file has it too after a restart.
	if err := b.SaveConfig(); err != nil {
		t.Fatal(err)
	}
	b2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b2.mu.Lock()
	lv := b2.st.lastVoteEpoch
	b2.mu.Unlock()
	if lv != 9 {
		t.Fatalf("lastVoteEpoch after reload = %d", lv)
	}
}

// TestTwoMastersFailAtOnce: two of five masters cut off together; both get
// replaced (failed-master rank staggers their elections).
func TestTwoMastersFailAtOnce(t *testing.T) {
	tmo := 500 * time.Millisecond
	fc := newFailoverCluster(t, 5, 5, tmo)
	start := time.Now()
	fc.nw.Isolate(ipOf(0))
	fc.nw.Isolate(ipOf(1))
	alive := others(10, 0, 1)
	waitFor(t, 20*time.Second, "both replicas promoted everywhere", func() bool {
		return fc.isMaster(5) && fc.isMaster(6) &&
			fc.ownerEverywhere(0, fc.id(5), alive) && fc.ownerEverywhere(NumSlots/5, fc.id(6), alive)
	})
	d := time.Since(start)
	e5, e6 := fc.buses[5].FailoverStats(), fc.buses[6].FailoverStats()
	t.Logf("two masters isolated at once: both replaced after %v (elections run: %d and %d)", d, e5.Elections, e6.Elections)
	_, c5, _ := fc.epochs(5)
	_, c6, _ := fc.epochs(6)
	if c5 == c6 {
		t.Fatalf("both winners have config epoch %d", c5)
	}
}

// TestSplitVoteRecovers forces two elections into the same epoch (the two
// candidates cannot hear each other): votes may split, but both candidates
// get elected in the end (the loser retries after the retry time).
func TestSplitVoteRecovers(t *testing.T) {
	tmo := 500 * time.Millisecond
	fc := newFailoverCluster(t, 5, 2, tmo) // replicas 5 (of 0) and 6 (of 1)
	fc.nw.Disconnect(ipOf(5), ipOf(6))
	for _, i := range []int{5, 6} { // same epoch, same instant
		b := fc.buses[i]
		b.mu.Lock()
		fo := b.st.fo()
		fo.authTime = time.Now().Add(time.Hour) // hold the election
		b.mu.Unlock()
	}
	fc.nw.Isolate(ipOf(0))
	fc.nw.Isolate(ipOf(1))
	fc.nw.Disconnect(ipOf(5), ipOf(6))
	alive := others(7, 0, 1)
	waitFor(t, 10*time.Second, "both masters FAIL for both candidates", func() bool {
		for _, i := range []int{5, 6} {
			n := fc.buses[i].Nodes()
			if !strings.Contains(lineOf(n, fc.id(0)), "master,fail ") || !strings.Contains(lineOf(n, fc.id(1)), "master,fail ") {
				return false
			}
		}
		return true
	})
	var maxEpoch uint64
	for _, i := range []int{5, 6} {
		if c, _, _ := fc.epochs(i); c > maxEpoch {
			maxEpoch = c
		}
	}
	at := time.Now().Add(30 * time.Millisecond)
	for _, i := range []int{5, 6} {
		b := fc.buses[i]
		b.mu.Lock()
		b.st.currentEpoch = maxEpoch
		fo := b.st.fo()
		fo.authTime = at
		fo.authSent = false
		fo.authRank, fo.failedRank = 0, 100 // no re-rank delay
		b.mu.Unlock()
	}
	start := time.Now()
	waitFor(t, 25*time.Second, "both candidates elected", func() bool {
		return fc.isMaster(5) && fc.isMaster(6) &&
			fc.ownerEverywhere(0, fc.id(5), alive) && fc.ownerEverywhere(NumSlots/5, fc.id(6), alive)
	})
	t.Logf("same-epoch elections: both won after %v (elections: %d, %d)", time.Since(start),
		fc.buses[5].FailoverStats().Elections, fc.buses[6].FailoverStats().Elections)
}

// TestStaleOrNoFailoverReplicaDoesNotStand: a replica whose data is too old,
// or with cluster-replica-no-failover, never starts an election.
func TestStaleOrNoFailoverReplicaDoesNotStand(t *testing.T) {
	tmo := 300 * time.Millisecond
	fc := newFailoverCluster(t, 5, 2, tmo) // 5 follows 0 (stale), 6 follows 1 (nofailover)
	fc.nodes[5].age.Store(int64(time.Hour))
	fc.nodes[6].noFail.Store(true)
	waitFor(t, 5*time.Second, "nofailover flag seen", func() bool {
		return strings.Contains(lineOf(fc.buses[0].Nodes(), fc.id(6)), "slave,nofailover ")
	})
	fc.nw.Isolate(ipOf(0))
	fc.nw.Isolate(ipOf(1))
	waitFor(t, 5*time.Second, "masters FAIL", func() bool {
		n := fc.buses[2].Nodes()
		return strings.Contains(lineOf(n, fc.id(0)), "fail ") && strings.Contains(lineOf(n, fc.id(1)), "fail ")
	})
	// Well past the election delay and one retry period.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if fc.isMaster(5) || fc.isMaster(6) {
			t.Fatal("a stale or nofailover replica got promoted")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if e := fc.buses[5].FailoverStats().Elections + fc.buses[6].FailoverStats().Elections; e != 0 {
		t.Fatalf("%d elections started", e)
	}
	// A manual FORCE failover still works for the stale one (Redis skips the
	// data age check for manual failovers).
	if err := fc.buses[5].Failover(FailoverForce); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "forced failover of the stale replica", func() bool {
		return fc.isMaster(5) && fc.ownerEverywhere(0, fc.id(5), others(7, 0, 1))
	})
}

// TestManualFailover: CLUSTER FAILOVER waits for the master's paused offset,
// then takes over with the master's own vote; the master resumes writes
// once it is a replica.
func TestManualFailover(t *testing.T) {
	tmo := 500 * time.Millisecond
	fc := newFailoverCluster(t, 3, 3, tmo)
	m, r := fc.nodes[0], fc.nodes[3]
	fc.setOffset(t, 0, 5000)
	fc.setOffset(t, 3, 4000) // behind until the test lets it catch up
	var once sync.Once
	caught := make(chan struct{})
	m.pauseHook = func() { once.Do(func() { close(caught) }) }
	fc.SetHooks(0)
	if err := fc.buses[0].Failover(FailoverDefault); err == nil || err.Error() != "ERR You should send CLUSTER FAILOVER to a replica" {
		t.Fatalf("failover on a master: %v", err)
	}
	if err := fc.buses[3].Failover(FailoverDefault); err != nil {
		t.Fatal(err)
	}
	select {
	case <-caught:
	case <-time.After(3 * time.Second):
		t.Fatal("master never paused writes")
	}
	// Behind the paused offset: no election yet.
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		if fc.isMaster(3) {
			t.Fatal("replica took over before reaching the master's offset")
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	r.offset.Store(5000)
	waitFor(t, 5*time.Second, "replica took over", func() bool {
		return fc.isMaster(3) && fc.ownerEverywhere(0, fc.id(3), others(6))
	})
	t.Logf("manual failover: caught up -> slots moved everywhere in %v", time.Since(start))
	waitFor(t, 5*time.Second, "old master is a replica and resumed writes", func() bool {
		rc := fc.buses[0].Role()
		return !rc.Master && rc.MasterID == fc.id(3) && m.unpaused.Load() > 0
	})
	if r.promoted.Load() != 1 {
		t.Fatalf("Promote called %d times", r.promoted.Load())
	}

	// FORCE with the master unreachable; TAKEOVER without any vote. Replica
	// 4 must not fail over on its own meanwhile (at a 500 ms node timeout
	// it may elect itself before a loaded host lets the test ask);
	// cluster-replica-no-failover does not apply to manual failovers.
	fc.nodes[4].noFail.Store(true)
	fc.nw.Isolate(ipOf(1))
	waitFor(t, 5*time.Second, "master 1 not reachable", func() bool {
		return strings.Contains(lineOf(fc.buses[4].Nodes(), fc.id(1)), "disconnected")
	})
	if err := fc.buses[4].Failover(FailoverDefault); err == nil || err.Error() != "ERR Master is down or failed, please use CLUSTER FAILOVER FORCE" {
		t.Fatalf("default failover with master down: %v", err)
	}
	if err := fc.buses[4].Failover(FailoverForce); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "forced failover", func() bool {
		return fc.isMaster(4) && fc.ownerEverywhere(NumSlots/3, fc.id(4), others(6, 1))
	})
	fc.nw.Heal()
	waitFor(t, 10*time.Second, "old master 1 follows", func() bool {
		rc := fc.buses[1].Role()
		return !rc.Master && rc.MasterID == fc.id(4)
	})
	// TAKEOVER: master 2 and everyone else cut off from replica 5.
	fc.nw.Isolate(ipOf(5))
	if err := fc.buses[5].Failover(FailoverTakeover); err != nil {
		t.Fatal(err)
	}
	if !fc.isMaster(5) {
		t.Fatal("TAKEOVER did not make the replica a master at once")
	}
	_, c5, _ := fc.epochs(5)
	fc.nw.Heal()
	waitFor(t, 10*time.Second, "takeover seen everywhere", func() bool {
		return fc.ownerEverywhere(NumSlots-1, fc.id(5), others(6))
	})
	for i := 0; i < 6; i++ {
		if _, c, _ := fc.epochs(i); i != 5 && fc.isMaster(i) && c >= c5 {
			t.Fatalf("takeover epoch %d not the highest (node %d has %d)", c5, i, c)
		}
	}
}

// setOffset sets node i's replication offset and waits until its bus used it.
func (fc *foCluster) setOffset(t *testing.T, i int, off int64) {
	fc.nodes[i].offset.Store(off)
	waitFor(t, 2*time.Second, "offset applied", func() bool {
		b := fc.buses[i]
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.st.fo().myOffset == off
	})
}

// SetHooks re-installs bus i's hooks (after a test changed its foNode).
func (fc *foCluster) SetHooks(i int) { fc.buses[i].SetFailoverHooks(fc.nodes[i].hooks()) }

// TestManualFailoverTimeout: a replica that never catches up gives up after
// 5 s and the master resumes writes.
func TestManualFailoverTimeout(t *testing.T) {
	fc := newFailoverCluster(t, 3, 3, 500*time.Millisecond)
	fc.setOffset(t, 0, 100)
	fc.setOffset(t, 3, 50)
	if err := fc.buses[3].Failover(FailoverDefault); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "master paused", func() bool { return fc.nodes[0].paused.Load() == 1 })
	start := time.Now()
	waitFor(t, 8*time.Second, "master resumed writes after the timeout", func() bool { return fc.nodes[0].unpaused.Load() > 0 })
	if d := time.Since(start); d < 4*time.Second {
		t.Fatalf("unpaused after %v, before the 5 s manual failover timeout", d)
	}
	if fc.isMaster(3) || !fc.isMaster(0) {
		t.Fatal("roles changed although the failover timed out")
	}
}

// TestReplicaMigration: a master that lost its only replica gets one from
// the master with two.
func TestReplicaMigration(t *testing.T) {
	fc := newFailoverCluster(t, 3, 4, 300*time.Millisecond) // 3,6 -> m0; 4 -> m1; 5 -> m2
	fc.nw.Isolate(ipOf(4))
	migrant := 3
	if fc.id(6) < fc.id(3) {
		migrant = 6
	}
	waitFor(t, 15*time.Second, "a replica of master 0 moved to master 1", func() bool {
		rc := fc.buses[migrant].Role()
		return !rc.Master && rc.MasterID == fc.id(1)
	})
	other := 9 - migrant
	if rc := fc.buses[other].Role(); rc.MasterID != fc.id(0) {
		t.Fatalf("both replicas migrated: %+v", rc)
	}
}

func TestFailoverWire(t *testing.T) {
	id := strings.Repeat("ab", 20)
	msgs := [][]byte{
		encodeAuthReq(id, 9, 3, authForceAck, []slotRange{{0, 10}, {12, 5000}}),
		encodeAuthReq(id, 9, 3, 0, nil),
		encodeAuthAck(id, 9, 9),
		encodeMFStart(id, 4, 77),
		encodeMFOffset(id, 4, 123456),
	}
	want := []*foMsg{
		{sender: id, currentEpoch: 9, configEpoch: 3, flags: authForceAck, slots: []slotRange{{0, 10}, {12, 5000}}},
		{sender: id, currentEpoch: 9, configEpoch: 3, slots: []slotRange{}},
		{sender: id, currentEpoch: 9, epoch: 9},
		{sender: id, currentEpoch: 4, nonce: 77},
		{sender: id, currentEpoch: 4, offset: 123456},
	}
	for i, b := range msgs {
		m, err := decodeMessage(b)
		if err != nil || m.fo == nil || !reflect.DeepEqual(m.fo, want[i]) {
			t.Fatalf("msg %d: %v %+v", i, err, m)
		}
		if again := encodeFailoverMsg(m.typ, m.fo); !bytes.Equal(again, b) {
			t.Fatalf("msg %d re-encodes differently", i)
		}
		for j := 0; j < len(b); j++ {
			if _, err := decodeMessage(b[:j]); err == nil {
				t.Fatalf("msg %d truncated at %d accepted", i, j)
			}
		}
		if _, err := decodeMessage(append(append([]byte{}, b...), 0)); err == nil {
			t.Fatalf("msg %d with a trailing byte accepted", i)
		}
	}
	bad := [][]byte{
		encodeAuthReq(id, 1, 1, 0x80, nil),                      // unknown flag
		encodeAuthReq(id, 1, 1, 0, []slotRange{{5, 1}}),         // inverted
		encodeAuthReq(id, 1, 1, 0, []slotRange{{0, 5}, {3, 9}}), // overlapping
		encodeAuthReq(id, 1, 1, 0, []slotRange{{0, NumSlots}}),  // out of range
		encodeMFOffset(id, 1, -5),                               // negative offset
		encodeAuthAck(strings.Repeat("00", 20), 1, 1),           // zero sender
	}
	for i, b := range bad {
		if _, err := decodeMessage(b); err == nil {
			t.Fatalf("bad msg %d accepted", i)
		}
	}
	// Hostile failover messages from unknown or lying senders change
	// nothing and never panic.
	tc := newTestCluster(t, 2, 300*time.Millisecond)
	tc.meetAll()
	waitFor(t, 5*time.Second, "2 nodes", func() bool { return tc.allKnow(2) })
	b := tc.buses[0]
	peer := tc.buses[1].MyID()
	for _, m := range [][]byte{
		encodeAuthAck(peer, 1<<40, 1<<40),
		encodeAuthReq(peer, 1<<40, 0, authForceAck, []slotRange{{0, NumSlots - 1}}),
		encodeMFStart(peer, 1, 1),
		encodeMFOffset(peer, 1, 10),
		encodeAuthReq(strings.Repeat("77", 20), 3, 0, 0, nil),
	} {
		b.handleMessage(m)
	}
	if b.Role().Master != true {
		t.Fatal("role changed")
	}
	_, _, lv := (&foCluster{testCluster: tc}).epochs(0)
	if lv != 0 {
		t.Fatalf("voted (lastVoteEpoch %d) for a master", lv)
	}
	_ = filepath.Join
}
