package clusterbus

import (
	"fmt"
	"time"
)

// Tunables are the cluster-* options that CONFIG SET changes at run time,
// as in Redis.
type Tunables struct {
	NodeTimeout           time.Duration // cluster-node-timeout
	RequireFullCoverage   bool          // cluster-require-full-coverage
	AllowReadsWhenDown    bool          // cluster-allow-reads-when-down
	AllowReplicaMigration bool          // cluster-allow-replica-migration
}

// SetTunables applies t at once: failure detection (PFAIL after the node
// timeout, failure-report validity), heartbeat and cron intervals,
// elections, the cluster state and the routing table use the new values.
// memberlist's own probe timings, which only drive membership (slotkv's
// failure detection is its own heartbeats'), keep their start-up values
// until the bus restarts (CLUSTER RESET).
func (b *Bus) SetTunables(t Tunables) error {
	if t.NodeTimeout < 10*time.Millisecond {
		return fmt.Errorf("cluster-node-timeout %v is too small", t.NodeTimeout)
	}
	b.locked(func(s *state) {
		c := s.cfg
		if c.NodeTimeout == t.NodeTimeout && c.RequireFullCoverage == t.RequireFullCoverage &&
			c.AllowReadsWhenDown == t.AllowReadsWhenDown && c.AllowReplicaMigration == t.AllowReplicaMigration {
			return
		}
		c.NodeTimeout = t.NodeTimeout
		c.RequireFullCoverage = t.RequireFullCoverage
		c.AllowReadsWhenDown = t.AllowReadsWhenDown
		c.AllowReplicaMigration = t.AllowReplicaMigration
		b.nt.Store(int64(t.NodeTimeout))
		s.stateChanged = true // coverage rules may change cluster_state
		s.tableDirty = true   // the table carries ReadsWhenDown
	})
	return nil
}

// nodeTimeout is cfg.NodeTimeout for code that does not hold mu.
func (b *Bus) nodeTimeout() time.Duration { return time.Duration(b.nt.Load()) }
