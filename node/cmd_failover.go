package node

import (
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slotkv/slotkv/clusterbus"
	"github.com/slotkv/slotkv/slots"
)

// This file is the node side of cluster failover (package clusterbus runs
// the elections, see clusterbus/failover.go): CLUSTER FAILOVER
// [FORCE|TAKEOVER], and the hooks the bus calls into the node — the
// replication offset and data age, the promotion of a replica's
// replication, and the write pause of a master being failed over manually.

func init() {
	cl := commands["cluster"]
	if cl == nil || cl.Sub == nil || cl.Sub["failover"] == nil {
		panic("cmd_failover.go: CLUSTER FAILOVER must be registered first (cmd_cluster.go)")
	}
	cl.Sub["failover"].Proc = cmdClusterFailover
	StartHooks = append(StartHooks, startFailoverHooks)
}

// cmdClusterFailover is CLUSTER FAILOVER [FORCE|TAKEOVER] (replies as Redis
// 7.0: OK once the failover started; TAKEOVER is complete when it replies).
func cmdClusterFailover(c *Client) {
	b := c.srv.ClusterBus()
	if b == nil {
		c.W.Error(errClusterDisabled)
		return
	}
	mode := clusterbus.FailoverDefault
	switch {
	case len(c.Argv) > 3:
		c.W.Error("ERR unknown subcommand or wrong number of arguments for 'failover'. Try CLUSTER HELP.")
		return
	case len(c.Argv) == 3 && argIs(c.Argv[2], "force"):
		mode = clusterbus.FailoverForce
	case len(c.Argv) == 3 && argIs(c.Argv[2], "takeover"):
		mode = clusterbus.FailoverTakeover
	case len(c.Argv) == 3:
		c.W.Error(ErrSyntax)
		return
	}
	replyErr(c, b.Failover(mode))
}

// startFailoverHooks connects the bus's failover to this server (a
// StartHook running after the bus started).
func startFailoverHooks(s *Server) error {
	b := s.ClusterBus()
	if b == nil {
		return nil
	}
	go s.stallGuard(b)
	b.SetFailoverHooks(clusterbus.FailoverHooks{
		ReplOffset:    s.ReplOffset,
		DataAge:       s.replDataAge,
		Promote:       func() { s.ReplicaOf("", 0) },
		PauseWrites:   s.pauseWritesForFailover,
		UnpauseWrites: s.UnpauseClients,
		Settings:      s.failoverSettings,
	})
	return nil
}

func (s *Server) failoverSettings() clusterbus.FailoverSettings {
	cfg := s.Config()
	ping := 10 * time.Second
	if v, ok := cfg.Ignored["repl-ping-replica-period"]; ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			ping = time.Duration(n) * time.Second
		}
	}
	return clusterbus.FailoverSettings{
		ReplicaValidityFactor: cfg.ClusterReplicaValidity,
		ReplicaNoFailover:     cfg.ClusterReplicaNoFailover,
		MigrationBarrier:      cfg.ClusterMigrationBarrier,
		ReplPingPeriod:        ping,
	}
}

// syncedLinks remembers master links seen connected: a replica whose link
// never completed a sync has no data worth a failover.
var syncedLinks sync.Map // *replicaLink -> struct{}

// replDataAge is Redis's data_age for elections: time since the last byte
// from the master while the link is up, time since it went down otherwise,
// "forever" when this link never synchronized.
func (s *Server) replDataAge() time.Duration {
	s.replMu.Lock()
	l := s.repl.link
	s.replMu.Unlock()
	if l == nil {
		return 0
	}
	now := nowMs()
	if st, _ := l.state.Load().(string); st == "connected" {
		syncedLinks.Store(l, struct{}{})
		return time.Duration(now-l.lastIO.Load()) * time.Millisecond
	}
	if _, ok := syncedLinks.Load(l); !ok && l.fullSyncs.Load() == 0 {
		return time.Duration(1 << 62)
	}
	return time.Duration(now-l.downSince.Load()) * time.Millisecond
}

// pauseWritesForFailover pauses client writes (CLIENT PAUSE WRITE) and
// returns once no write can still change the replication offset: a write
// that passed the dispatcher's pause check before the pause began holds its
// slot lock until it has been propagated, and one that takes its slot lock
// afterwards sees the pause (writePausedNow) and waits. Taking every slot
// lock once is therefore a barrier.
func (s *Server) pauseWritesForFailover(d time.Duration) {
	s.PauseClients(d, true)
	for j := 0; j < slots.N; j++ {
		sl := s.KS.Slot(j)
		sl.Lock()
		sl.Unlock() //nolint:staticcheck // barrier: wait for the write holding it
	}
}

// writePausedNow re-checks a client pause with the command's slot locks
// held (the dispatcher calls it only while some pause is active): a write
// that got past pauseWait just before the pause began goes back and waits,
// so that pauseWritesForFailover's barrier is exact. It reports whether it
// ran the command itself.
func (s *Server) writePausedNow(c *Client, cmd *Command, argv [][]byte) bool {
	if c.isMaster || cmd.Flags&(FlagWrite|FlagMayReplicate) == 0 || c.HasFlag(ClientReplica) {
		return false
	}
	x := extraOf(s)
	x.pauseMu.Lock()
	paused := x.pauseCh != nil
	x.pauseMu.Unlock()
	if !paused {
		return false
	}
	c.unlockSlots()
	c.cmds.Add(-1) // counted again by Process
	s.Process(c, argv)
	return true
}

// writeLease is the unix ms until which client writes run without further
// check (process-wide, like replicaMode; math.MaxInt64 when no stall guard
// runs). The stall guard renews it every few ms; a write finding it expired
// waits (leaseWait) until the guard ran again and, after a stall long enough
// for a failover, until the cluster confirmed this node is still master.
var writeLease atomic.Int64

func init() { writeLease.Store(math.MaxInt64) }

const (
	stallTick    = 25 * time.Millisecond
	writeLeaseMs = 250
)

// stallGuard notices when this process was not scheduled for a while
// (SIGSTOP, a paused VM, extreme starvation). After a gap of at least half
// the node timeout the cluster may have replaced this master, so writes
// wait until the bus heard from the cluster again (StallCheck): a resumed
// master then redirects its queued writes instead of acknowledging them and
// losing them when it turns into a replica.
func (s *Server) stallGuard(b *clusterbus.Bus) {
	t := time.NewTicker(stallTick)
	defer t.Stop()
	last := time.Now()
	writeLease.Store(time.Now().UnixMilli() + writeLeaseMs) // not nowMs: the command clock parks while no command reads it
	for {
		select {
		case <-s.Done():
			writeLease.Store(math.MaxInt64)
			return
		case <-t.C:
		}
		now := time.Now()
		gap := now.Sub(last)
		if nt := s.Config().ClusterNodeTimeout; gap >= nt/2 {
			s.Log.Warn("this node was not running for a while; holding writes until the cluster confirms it is still master", "gap", gap.Round(time.Millisecond))
			chk := b.BeginStallCheck(last)
			for !chk.Settled() {
				select {
				case <-s.Done():
					writeLease.Store(math.MaxInt64)
					return
				case <-time.After(2 * time.Millisecond):
				}
			}
			s.Log.Info("cluster view confirmed after the stall; writes resume", "held", time.Since(now).Round(time.Millisecond))
			now = time.Now()
		}
		last = now
		writeLease.Store(time.Now().UnixMilli() + writeLeaseMs) // not nowMs: the command clock parks while no command reads it
	}
}

// leaseWait holds a write while the write lease is expired (the dispatcher
// calls it only then), at most 2×node-timeout.
func (s *Server) leaseWait() {
	deadline := time.Now().Add(2 * s.Config().ClusterNodeTimeout)
	for nowMs() > writeLease.Load() && time.Now().Before(deadline) {
		select {
		case <-s.Done():
			return
		case <-time.After(2 * time.Millisecond):
		}
	}
}
