package clusterbus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Failover: replicas replacing a FAIL master (automatic failover) and
// CLUSTER FAILOVER [FORCE|TAKEOVER] (manual failover), after Redis's
// clusterHandleSlaveFailover / clusterSendFailoverAuthIfNeeded /
// clusterHandleManualFailover and Valkey's refinements.
//
// Automatic failover. A replica whose master is FAIL (and serves slots)
// schedules an election after
//
//	base + random(0..base) + rank×1s + failedRank×2·base
//
// where base = min(500 ms, node-timeout/30) (Valkey's scaling for short
// node timeouts; 500 ms at Redis's default 15 s), rank is the number of
// sibling replicas with a better replication offset (ties: lower node id
// first) and failedRank the number of other failed masters with replicas
// whose id sorts before our master's (Valkey's failed-primary rank: when
// several masters fail at once their elections are staggered so they do not
// compete for the same epoch's votes). Both ranks are re-checked until the
// request goes out and only ever add delay. When the delay is over the
// replica bumps currentEpoch, saves nodes.conf and sends AUTH_REQUEST to
// every node. A master votes (AUTH_ACK) at most once per epoch
// (lastVoteEpoch, saved to nodes.conf BEFORE the ack leaves), never twice
// within 2×node-timeout about the same failed master, only when the
// requester's master is FAIL in its own view (or the request carries the
// manual-failover FORCEACK flag), and only when no slot the requester
// claims is served by a master with a newer config epoch. A replica that
// collects votes from a majority of the masters serving slots promotes its
// node-side replication first (FailoverHooks.Promote), then takes
// configEpoch = the election epoch and every slot of its old master, saves
// and pushes its record to everyone: other nodes move the slots, sibling
// replicas re-point (RoleChanged), and the old master, when it is back, sees
// a higher epoch for its slots and turns into a replica of the winner.
// An election expires after max(2×node-timeout, 2 s) and is retried after
// twice that (randomized again, ranks recomputed).
//
// Replicas do not stand when their data is older than
// node-timeout×cluster-replica-validity-factor + repl-ping-replica-period
// (beyond the node timeout itself), or when cluster-replica-no-failover is
// set (the node then advertises the nofailover flag).
//
// Manual failover. CLUSTER FAILOVER (default) sends MFSTART to the master;
// the master pauses client writes (FailoverHooks.PauseWrites, which returns
// only once no write is in flight) and then reports its replication offset
// (MFOFFSET) to the replica every 50 ms. The replica waits until its own
// offset reached the reported one (all data processed), then runs an
// election at once with the FORCEACK flag (masters vote although the master
// is not failing). The master resumes writes when it turned into a replica
// (paused clients are then redirected to the new master) or when the 5 s
// manual-failover time is over. FORCE skips the master handshake (still needs
// votes); TAKEOVER bumps the epoch without any vote and takes the slots.
//
// Replica migration. A replica of the master with the most working replicas
// (more than cluster-migration-barrier) moves to a master that used to have
// replicas and has none left, after it has been orphaned for 5 s.
//
// Everything here runs under Bus.mu (on the state), except the hooks, which
// run on the failover goroutine without the lock.

// FailoverMode selects CLUSTER FAILOVER's variant.
type FailoverMode int

// CLUSTER FAILOVER variants.
const (
	FailoverDefault  FailoverMode = iota // coordinated with the master
	FailoverForce                        // no master handshake, still elected
	FailoverTakeover                     // no election
)

// FailoverSettings are the node's failover configuration values; the node
// returns its current ones from FailoverHooks.Settings (CONFIG SET may change
// them at any time).
type FailoverSettings struct {
	// ReplicaValidityFactor is cluster-replica-validity-factor (0 = a
	// replica always stands, whatever the age of its data).
	ReplicaValidityFactor int
	// ReplicaNoFailover is cluster-replica-no-failover.
	ReplicaNoFailover bool
	// MigrationBarrier is cluster-migration-barrier.
	MigrationBarrier int
	// ReplPingPeriod is repl-ping-replica-period.
	ReplPingPeriod time.Duration
}

// DefaultFailoverSettings returns Redis's defaults.
func DefaultFailoverSettings() FailoverSettings {
	return FailoverSettings{ReplicaValidityFactor: 10, MigrationBarrier: 1, ReplPingPeriod: 10 * time.Second}
}

// Validate checks the settings.
func (f FailoverSettings) Validate() error {
	if f.ReplicaValidityFactor < 0 {
		return errors.New("cluster-replica-validity-factor must not be negative")
	}
	if f.MigrationBarrier < 0 {
		return errors.New("cluster-migration-barrier must not be negative")
	}
	if f.ReplPingPeriod <= 0 {
		return errors.New("repl-ping-replica-period must be positive")
	}
	return nil
}

// FailoverHooks connect failover to the node's replication and clients. All
// are optional and called without any bus lock held, from the failover
// goroutine (or, for Promote, from CLUSTER FAILOVER TAKEOVER's caller).
type FailoverHooks struct {
	// ReplOffset returns the node's replication offset now (a replica's
	// processed offset, a master's stream offset). Without it the offset
	// given to SetReplicationOffset is used.
	ReplOffset func() int64
	// DataAge returns how long ago this replica last heard from its master
	// (Redis's data_age: time since the last interaction while the link is
	// up, since the link went down otherwise; a very large value when it
	// never synchronized). Without it data is always fresh.
	DataAge func() time.Duration
	// Promote turns the node's replication into a master's, keeping the
	// data (ReplicaOf NO ONE), before the bus claims the slots: writes can
	// only reach this node once it no longer applies its old master's
	// stream. RoleChanged follows as usual.
	Promote func()
	// PauseWrites pauses client writes for at most d and returns only once
	// no write that got past the pause is still executing (so the offset
	// read next is final). UnpauseWrites ends the pause.
	PauseWrites   func(d time.Duration)
	UnpauseWrites func()
	// Settings returns the current failover settings; nil means
	// DefaultFailoverSettings.
	Settings func() FailoverSettings
}

// Redis constants (cluster.h) and ours.
const (
	mfTimeout             = 5 * time.Second // CLUSTER_MF_TIMEOUT
	mfPauseMult           = 2               // CLUSTER_MF_PAUSE_MULT
	replicaMigrationDelay = 5 * time.Second // CLUSTER_SLAVE_MIGRATION_DELAY
	operationTimeout      = 2 * time.Second // CLUSTER_OPERATION_TIMEOUT (Valkey)
	failoverTick          = 10 * time.Millisecond
	failoverIdleTick      = 100 * time.Millisecond // clusterCron's pace
	mfReportEvery         = 50 * time.Millisecond
	cantFailoverRelog     = 10 * time.Second // CLUSTER_CANT_FAILOVER_RELOG_PERIOD
	rankDelay             = time.Second      // per replica rank
	dataAgeNever          = time.Duration(1 << 62)
)

// Bus messages of this file (see wire.go for the header):
//
//	AUTHREQ   sender[20] currentEpoch u64 configEpoch u64 flags u8
//	          nranges u16, nranges × (start u16, end u16): the slots the
//	          requester's master serves, with that master's config epoch
//	AUTHACK   sender[20] currentEpoch u64 epoch u64 (the epoch voted for)
//	MFSTART   sender[20] currentEpoch u64 nonce u64 (one manual failover
//	          request: it travels twice, by datagram and by stream)
//	MFOFFSET  sender[20] currentEpoch u64 offset u64: a paused master's
//	          replication offset, to the replica running a manual failover
const (
	msgAuthReq  = 7
	msgAuthAck  = 8
	msgMFStart  = 9
	msgMFOffset = 10

	authForceAck = 1 << 0 // CLUSTERMSG_FLAG0_FORCEACK
)

// foMsg is a decoded failover message.
type foMsg struct {
	sender       string
	currentEpoch uint64
	configEpoch  uint64 // AUTHREQ
	epoch        uint64 // AUTHACK
	flags        uint8  // AUTHREQ
	offset       int64  // MFOFFSET
	nonce        uint64 // MFSTART
	slots        []slotRange
}

func isFailoverMsg(typ uint8) bool { return typ >= msgAuthReq && typ <= msgMFOffset }

func encodeAuthReq(sender string, currentEpoch, configEpoch uint64, flags uint8, slots []slotRange) []byte {
	b := make([]byte, 0, 4+idLen+8+8+1+2+4*len(slots))
	b = appendID(appendHeader(b, msgAuthReq), sender)
	b = binary.BigEndian.AppendUint64(b, currentEpoch)
	b = binary.BigEndian.AppendUint64(b, configEpoch)
	b = append(b, flags)
	b = binary.BigEndian.AppendUint16(b, uint16(len(slots)))
	for _, r := range slots {
		b = binary.BigEndian.AppendUint16(b, r.start)
		b = binary.BigEndian.AppendUint16(b, r.end)
	}
	return b
}

func encodeAuthAck(sender string, currentEpoch, epoch uint64) []byte {
	b := appendID(appendHeader(make([]byte, 0, 4+idLen+16), msgAuthAck), sender)
	b = binary.BigEndian.AppendUint64(b, currentEpoch)
	return binary.BigEndian.AppendUint64(b, epoch)
}

func encodeMFStart(sender string, currentEpoch, nonce uint64) []byte {
	b := appendID(appendHeader(make([]byte, 0, 4+idLen+16), msgMFStart), sender)
	b = binary.BigEndian.AppendUint64(b, currentEpoch)
	return binary.BigEndian.AppendUint64(b, nonce)
}

func encodeMFOffset(sender string, currentEpoch uint64, off int64) []byte {
	b := appendID(appendHeader(make([]byte, 0, 4+idLen+16), msgMFOffset), sender)
	b = binary.BigEndian.AppendUint64(b, currentEpoch)
	return binary.BigEndian.AppendUint64(b, uint64(off))
}

// encodeFailoverMsg re-encodes a decoded failover message (the fuzz test
// checks decode/encode round trips).
func encodeFailoverMsg(typ uint8, m *foMsg) []byte {
	switch typ {
	case msgAuthReq:
		return encodeAuthReq(m.sender, m.currentEpoch, m.configEpoch, m.flags, m.slots)
	case msgAuthAck:
		return encodeAuthAck(m.sender, m.currentEpoch, m.epoch)
	case msgMFStart:
		return encodeMFStart(m.sender, m.currentEpoch, m.nonce)
	case msgMFOffset:
		return encodeMFOffset(m.sender, m.currentEpoch, m.offset)
	}
	return nil
}

// decodeFailoverMsg decodes the body of a failover message (after the
// header); errors are left in r.
func decodeFailoverMsg(typ uint8, r *reader) *foMsg {
	m := &foMsg{sender: r.id(false), currentEpoch: r.u64()}
	switch typ {
	case msgAuthReq:
		m.configEpoch = r.u64()
		m.flags = r.u8()
		n := int(r.u16())
		if r.err != nil {
			return m
		}
		if n > NumSlots/2 || n*4 > len(r.b) {
			r.err = errShort
			return m
		}
		m.slots = make([]slotRange, n)
		prev := -1
		for i := 0; i < n; i++ {
			s, e := r.u16(), r.u16()
			if int(s) <= prev || s > e || e >= NumSlots {
				r.err = errBadValue
				return m
			}
			m.slots[i] = slotRange{s, e}
			prev = int(e)
		}
		if m.flags&^authForceAck != 0 && r.err == nil {
			r.err = errBadValue
		}
	case msgAuthAck:
		m.epoch = r.u64()
	case msgMFStart:
		m.nonce = r.u64()
	case msgMFOffset:
		m.offset = int64(r.u64())
		if m.offset < 0 && r.err == nil {
			r.err = errBadValue
		}
	}
	return m
}

// foState is the failover part of the cluster view (guarded by Bus.mu).
type foState struct {
	hooks FailoverHooks
	set   FailoverSettings
	// node-side facts refreshed before every failover tick
	myOffset int64
	dataAge  time.Duration

	// election (Redis failover_auth_*)
	authTime   time.Time // time of the previous or next election
	authCount  int
	authFrom   map[string]bool
	authSent   bool
	splitSeen  bool // a competing candidate used our election's epoch
	authRank   int
	failedRank int
	authEpoch  uint64
	winning    bool // promotion under way (Promote hook running)
	cantReason string
	cantLogged time.Time

	// voter: master id -> last time we voted for one of its replicas
	votedTime map[string]time.Time
	votedFor  string // the replica we voted for in lastVoteEpoch

	// manual failover, both sides (Redis mf_*)
	mfEnd          time.Time // zero: none in progress
	mfCanStart     bool
	mfMasterOffset int64  // replica: the paused master's offset, -1 unknown
	mfReplica      string // master: the replica failing us over
	mfNonce        uint64 // master: its request's nonce
	mfSeq          uint64 // master: bumped by every reset, voids stale pauses
	mfPaused       bool   // master: writes paused and offset final
	mfPausing      bool   // master: PauseWrites asked for (maybe running)
	mfLastReport   time.Time

	// replica migration
	hadReplicas   map[string]bool      // masters seen with replicas (Redis MIGRATE_TO)
	orphanedSince map[string]time.Time // orphaned masters -> since
	lastSlow      time.Time            // last 10 Hz part of the cron

	// post-lock actions (hooks), run by lockedDurable after the save and
	// the sends of the section
	post []func(b *Bus)

	recent   []foDup // failover messages handled lately (duplicates)
	recentAt int

	// stats
	elections, wins, votesGiven uint64
	lastElection                time.Duration // detection-to-promotion of the last win
	failSeen                    time.Time     // when our master was first seen FAIL
}

func (s *state) fo() *foState {
	f := &s.foSt
	if f.authFrom == nil {
		f.authFrom = make(map[string]bool)
		f.votedTime = make(map[string]time.Time)
		f.hadReplicas = make(map[string]bool)
		f.orphanedSince = make(map[string]time.Time)
		f.mfMasterOffset = -1
		f.myOffset = -1
		f.set = DefaultFailoverSettings()
	}
	return f
}

// SetFailoverHooks installs the node's failover hooks (safe at any time).
func (b *Bus) SetFailoverHooks(h FailoverHooks) {
	b.mu.Lock()
	b.st.fo().hooks = h
	b.mu.Unlock()
}

// lockedDurable is locked with the order elections rely on: nodes.conf
// (currentEpoch, lastVoteEpoch, configEpoch) is on disk before any message
// queued by f leaves the node (Redis saves and fsyncs before replying to a
// vote request or after winning). Post-actions queued in fo().post run
// last, without the lock.
func (b *Bus) lockedDurable(f func(s *state)) {
	b.mu.Lock()
	s := b.st
	f(s)
	out, force := b.finishLocked()
	pending := b.pendingSave != nil
	gen := b.pendingGen
	fo := s.fo()
	post := fo.post
	fo.post = nil
	b.mu.Unlock()
	if force {
		b.saveNow() //nolint:errcheck // logged and kept in saveErr
		// Another section may have picked our rendering up and still be
		// writing it: saveMu is held for the whole write.
		b.saveMu.Lock()
		if b.savedGen < gen {
			b.log.Warn("nodes.conf not saved before a failover message left", "gen", gen)
		}
		b.saveMu.Unlock()
	} else if pending {
		select {
		case b.saveCh <- struct{}{}:
		default:
		}
	}
	b.dispatch(out)
	for _, p := range post {
		p(b)
	}
}

// failoverLoop drives elections, manual failovers and replica migration.
// It ticks every failoverTick while a failover is under way (see
// failoverActive) and at clusterCron's pace otherwise; finishLocked kicks it
// as soon as a locked section makes one active (our master marked failing,
// a manual failover started), so an idle node does not wake 100 times a
// second for it.
func (b *Bus) failoverLoop() {
	defer b.wg.Done()
	t := time.NewTimer(failoverTick)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		case <-b.foKick:
		}
		b.failoverTick()
		b.mu.Lock()
		active := b.st.failoverActive()
		b.mu.Unlock()
		b.foIdle.Store(!active)
		if active {
			t.Reset(failoverTick)
		} else {
			t.Reset(failoverIdleTick)
		}
	}
}

func (b *Bus) failoverTick() {
	b.mu.Lock()
	fo := b.st.fo()
	h := fo.hooks
	// Every tick only while something is going on; otherwise at
	// clusterCron's pace.
	need := time.Since(fo.lastSlow) >= 100*time.Millisecond || b.st.failoverActive()
	b.mu.Unlock()
	if !need {
		return
	}
	off := int64(-1)
	if h.ReplOffset != nil {
		off = h.ReplOffset()
	}
	var age time.Duration
	if h.DataAge != nil {
		age = h.DataAge()
	}
	set := DefaultFailoverSettings()
	if h.Settings != nil {
		if v := h.Settings(); v.Validate() == nil {
			set = v
		}
	}
	b.lockedDurable(func(s *state) {
		fo := s.fo()
		if off >= 0 {
			fo.myOffset = off
			s.myself.replOffset = off
		} else {
			fo.myOffset = s.myself.replOffset
		}
		fo.dataAge = age
		fo.set = set
		s.failoverCron(time.Now())
	})
}

// failoverActive reports whether an election, a manual failover or a
// promotion is under way, or our master is failing.
func (s *state) failoverActive() bool {
	fo := s.fo()
	if !fo.mfEnd.IsZero() || fo.mfPaused || fo.mfPausing || fo.winning {
		return true
	}
	if to, _ := s.authTimeouts(); fo.authSent && time.Since(fo.authTime) < to {
		return true
	}
	m := s.masterOf(s.myself)
	return m != nil && m.flags&(fFail|fPFail) != 0
}

// failoverCron is the failover part of clusterCron.
func (s *state) failoverCron(now time.Time) {
	fo := s.fo()
	me := s.myself
	if nf := fo.set.ReplicaNoFailover; nf != (me.flags&fNoFailover != 0) {
		if nf {
			me.flags |= fNoFailover
		} else {
			me.flags &^= fNoFailover
		}
		s.saveDirty = true
	}
	// manualFailoverCheckTimeout
	if !fo.mfEnd.IsZero() && now.After(fo.mfEnd) {
		s.cfg.Logger.Warn("Manual failover timed out.")
		s.resetManualFailover()
	}
	// A master failed over manually resumes writes once it is a replica:
	// its paused clients then get redirected to the new master.
	if fo.mfReplica != "" && !me.isMaster() {
		s.resetManualFailover()
	}
	if me.isMaster() && fo.mfPaused && now.Sub(fo.mfLastReport) >= mfReportEvery {
		if r := s.nodes[fo.mfReplica]; r != nil {
			fo.mfLastReport = now
			msg := encodeMFOffset(me.id, s.currentEpoch, fo.myOffset)
			s.queueTo(r, outUDP, msg, "ping")
		}
	}
	var ok map[*node]int
	if now.Sub(fo.lastSlow) >= 100*time.Millisecond { // clusterCron's pace
		fo.lastSlow = now
		ok = s.okReplicaCounts()
		s.trackOrphans(now, ok)
	}
	if me.isReplica() {
		s.handleManualFailover()
		s.handleReplicaFailover(now)
		if ok != nil {
			s.handleReplicaMigration(now, ok)
		}
	} else {
		fo.failSeen = time.Time{}
	}
}

// resetManualFailover is Redis's resetManualFailover: a master that paused
// its writes for it resumes them.
func (s *state) resetManualFailover() {
	fo := s.fo()
	if fo.mfPausing {
		if h := fo.hooks.UnpauseWrites; h != nil {
			fo.post = append(fo.post, func(*Bus) { h() })
		}
	}
	fo.mfEnd = time.Time{}
	fo.mfCanStart = false
	fo.mfMasterOffset = -1
	fo.mfReplica = ""
	fo.mfPaused = false
	fo.mfPausing = false
	fo.mfSeq++
}

// handleManualFailover is clusterHandleManualFailover: the replica may
// start the election once it processed everything the paused master wrote.
func (s *state) handleManualFailover() {
	fo := s.fo()
	if fo.mfEnd.IsZero() || fo.mfCanStart || fo.mfMasterOffset < 0 {
		return
	}
	if fo.myOffset >= fo.mfMasterOffset {
		fo.mfCanStart = true
		s.cfg.Logger.Info("All master replication stream processed, manual failover can start.",
			"master_offset", fo.mfMasterOffset, "offset", fo.myOffset)
	}
}

// authTimeouts returns Redis's auth timeout and retry time.
func (s *state) authTimeouts() (timeout, retry time.Duration) {
	timeout = 2 * s.cfg.NodeTimeout
	if timeout < operationTimeout {
		timeout = operationTimeout
	}
	return timeout, 2 * timeout
}

// electionBase is the fixed part of the election delay: 500 ms, scaled down
// to node-timeout/30 for short timeouts (Valkey).
func (s *state) electionBase() time.Duration {
	b := s.cfg.NodeTimeout / 30
	if b > 500*time.Millisecond {
		b = 500 * time.Millisecond
	}
	if b < time.Millisecond {
		b = time.Millisecond
	}
	return b
}

// replicaRank is clusterGetReplicaRank (ties broken by node id, as Valkey).
func (s *state) replicaRank() int {
	me := s.myself
	m := s.masterOf(me)
	if m == nil {
		return 0
	}
	my := s.fo().myOffset
	rank := 0
	for _, r := range s.replicasOf(m) {
		if r == me || r.flags&fNoFailover != 0 || r.failed() {
			continue
		}
		if r.replOffset > my || (r.replOffset == my && r.id < me.id) {
			rank++
		}
	}
	return rank
}

// failedMasterRank is Valkey's clusterGetFailedPrimaryRank: the number of
// failed masters with slots and replicas (failed recently enough for their
// replicas to stand) ordered before ours.
func (s *state) failedMasterRank(now time.Time) int {
	m := s.masterOf(s.myself)
	if m == nil {
		return 0
	}
	counts := s.slotCounts()
	withReplicas := make(map[string]bool)
	for _, n := range s.nodes {
		if n.isReplica() {
			withReplicas[n.masterID] = true
		}
	}
	rank := 0
	for _, n := range s.nodes {
		if n == m || !n.isMaster() || !n.failed() || counts[n] == 0 || !withReplicas[n.id] {
			continue
		}
		if f := s.fo().set.ReplicaValidityFactor; f > 0 && now.Sub(n.failTime) > s.cfg.NodeTimeout*time.Duration(f) {
			continue
		}
		if n.id < m.id {
			rank++
		}
	}
	return rank
}

func (s *state) logCantFailover(reason string, now time.Time) {
	fo := s.fo()
	if reason == fo.cantReason && now.Sub(fo.cantLogged) < cantFailoverRelog {
		return
	}
	fo.cantReason = reason
	fo.cantLogged = now
	s.cfg.Logger.Info("Currently unable to failover: "+reason, "votes", fo.authCount, "needed", s.size/2+1)
}

// handleReplicaFailover is clusterHandleSlaveFailover.
func (s *state) handleReplicaFailover(now time.Time) {
	fo := s.fo()
	me := s.myself
	m := s.masterOf(me)
	manual := !fo.mfEnd.IsZero() && fo.mfCanStart
	if !me.isReplica() || m == nil || (!m.failed() && !manual) ||
		(fo.set.ReplicaNoFailover && !manual) || s.countSlots(m) == 0 || fo.winning {
		fo.cantReason = ""
		if m == nil || !m.failed() {
			fo.failSeen = time.Time{}
		}
		return
	}
	if fo.failSeen.IsZero() {
		fo.failSeen = now
	}
	authTimeout, authRetry := s.authTimeouts()
	authAge := now.Sub(fo.authTime)
	if fo.authTime.IsZero() {
		authAge = authRetry + time.Nanosecond
	}
	needed := s.size/2 + 1

	// Data age: time since we last heard from the master, minus the node
	// timeout (being cut off for that long is the baseline of FAIL).
	age := fo.dataAge
	if age > s.cfg.NodeTimeout {
		age -= s.cfg.NodeTimeout
	}
	if f := fo.set.ReplicaValidityFactor; f > 0 && !manual &&
		age > fo.set.ReplPingPeriod+s.cfg.NodeTimeout*time.Duration(f) {
		s.logCantFailover("Disconnected from master for longer than allowed. Please check the 'cluster-replica-validity-factor' configuration option.", now)
		return
	}

	retry := authRetry
	if fo.splitSeen {
		retry = authTimeout
	}
	if authAge > retry {
		fo.splitSeen = false
		base := s.electionBase()
		fo.authTime = now.Add(base + time.Duration(rand.Int64N(int64(base))))
		fo.authCount = 0
		clear(fo.authFrom)
		fo.authSent = false
		fo.authRank = s.replicaRank()
		fo.authTime = fo.authTime.Add(time.Duration(fo.authRank) * rankDelay)
		fo.failedRank = s.failedMasterRank(now)
		fo.authTime = fo.authTime.Add(time.Duration(fo.failedRank) * 2 * base)
		if !fo.mfEnd.IsZero() {
			fo.authTime = now
			fo.authRank = 0
			fo.failedRank = 0
			authAge = 0
		}
		s.cfg.Logger.Info(fmt.Sprintf("Start of election delayed for %d milliseconds (rank #%d, failed master rank #%d, offset %d).",
			fo.authTime.Sub(now).Milliseconds(), fo.authRank, fo.failedRank, fo.myOffset))
		// Tell the sibling replicas our offset now, so that their ranks
		// are computed with it (clusterBroadcastPong to local replicas).
		for _, r := range s.replicasOf(m) {
			if r != me {
				s.queueTo(r, outUDP, encodeHeartbeat(s.heartbeatFor(false, 0)), "ping")
			}
		}
		if fo.mfEnd.IsZero() {
			return
		}
	}

	// Ranks may have worsened since the election was scheduled (better
	// offsets of siblings learned meanwhile, another master failed): only
	// ever add delay. Not for manual failovers.
	if !fo.authSent && fo.mfEnd.IsZero() {
		if r := s.replicaRank(); r > fo.authRank {
			fo.authTime = fo.authTime.Add(time.Duration(r-fo.authRank) * rankDelay)
			s.cfg.Logger.Info(fmt.Sprintf("Replica rank updated to #%d, added %d milliseconds of delay.", r, (time.Duration(r-fo.authRank) * rankDelay).Milliseconds()))
			fo.authRank = r
		}
		if r := s.failedMasterRank(now); r > fo.failedRank {
			add := time.Duration(r-fo.failedRank) * 2 * s.electionBase()
			fo.authTime = fo.authTime.Add(add)
			s.cfg.Logger.Info(fmt.Sprintf("Failed master rank updated to #%d, added %d milliseconds of delay.", r, add.Milliseconds()))
			fo.failedRank = r
		}
	}
	if now.Before(fo.authTime) {
		s.logCantFailover("Waiting the delay before I can start a new failover.", now)
		return
	}
	if authAge > authTimeout {
		s.logCantFailover("Failover attempt expired.", now)
		return
	}
	if !fo.authSent {
		s.currentEpoch++
		fo.authEpoch = s.currentEpoch
		fo.elections++
		s.cfg.Logger.Info(fmt.Sprintf("Starting a failover election for epoch %d.", fo.authEpoch))
		s.requestFailoverAuth()
		fo.authSent = true
		s.forceSave = true
		s.stateChanged = true
		return
	}
	if fo.authCount >= needed {
		s.cfg.Logger.Info("Failover election won: I'm the new master.", "epoch", fo.authEpoch, "votes", fo.authCount)
		s.startPromotion(fo.authEpoch, m.id, false)
		return
	}
	s.logCantFailover("Waiting for votes, but majority still not reached.", now)
}

// requestFailoverAuth is clusterRequestFailoverAuth: AUTH_REQUEST to every
// node (replicas learn the new epoch from it too), by datagram and by
// stream so that one lost packet does not cost a whole election.
func (s *state) requestFailoverAuth() {
	me := s.myself
	m := s.masterOf(me)
	if m == nil {
		return
	}
	var flags uint8
	if !s.fo().mfEnd.IsZero() {
		flags |= authForceAck
	}
	claims := s.slotsOf(m)
	msg := encodeAuthReq(me.id, s.currentEpoch, m.configEpoch, flags, claims.ranges())
	for _, n := range s.nodes {
		if n == me || n.failed() {
			continue
		}
		s.queueTo(n, outUDP, msg, "auth-req")
		if n.isMaster() {
			s.queueTo(n, outReliable, msg, "")
		}
	}
}

// startPromotion finishes a won election (or a TAKEOVER): the node stops
// replicating first (Promote hook, outside the lock), then the bus takes the
// old master's slots with the new epoch. A TAKEOVER completes before
// CLUSTER FAILOVER returns; an election completes on its own goroutine (the
// winning vote may arrive on memberlist's receive path, which must not
// block).
func (s *state) startPromotion(epoch uint64, oldMaster string, takeover bool) {
	fo := s.fo()
	fo.winning = true
	promote := fo.hooks.Promote
	run := func(b *Bus) {
		if promote != nil {
			promote()
		}
		b.lockedDurable(func(s *state) { s.replaceMaster(epoch, oldMaster, takeover) })
	}
	if takeover {
		fo.post = append(fo.post, run)
	} else {
		fo.post = append(fo.post, func(b *Bus) { go run(b) })
	}
}

// replaceMaster is clusterFailoverReplaceYourMaster.
func (s *state) replaceMaster(epoch uint64, oldID string, takeover bool) {
	fo := s.fo()
	fo.winning = false
	me := s.myself
	old := s.masterOf(me)
	if !me.isReplica() || old == nil || old.id != oldID {
		// The view changed while the node promoted itself: follow the
		// current role again (RoleChanged re-points replication).
		s.cfg.Logger.Warn("failover aborted: my master changed during the promotion")
		s.roleChanged = true
		return
	}
	if takeover {
		s.bumpEpochWithoutConsensus()
	} else if me.configEpoch < epoch {
		me.configEpoch = epoch
		s.cfg.Logger.Info(fmt.Sprintf("configEpoch set to %d after successful failover", epoch))
	}
	if len(s.replicasOf(old)) > 0 {
		fo.hadReplicas[me.id] = true // Redis: the new master inherits MIGRATE_TO
	}
	s.setMyselfMaster()
	for j := 0; j < NumSlots; j++ {
		if s.owner[j] == old {
			s.setOwner(j, me)
			s.setImporting(j, nil)
		}
	}
	if !fo.failSeen.IsZero() {
		fo.lastElection = time.Since(fo.failSeen)
	}
	fo.wins++
	fo.failSeen = time.Time{}
	fo.authSent = false
	s.cfg.Logger.Info("Failover done: I'm the master of my old master's slots now", "old_master", old.id,
		"config_epoch", me.configEpoch, "slots", s.countSlots(me))
	s.tableDirty = true
	s.stateChanged = true
	s.forceSave = true
	s.resetManualFailover()
	// Everyone learns it now: publishIfChanged pushes our record (new role,
	// slots, epoch) to every node when the section ends.
}

// handleFailoverMsg applies a failover message (AUTHREQ, AUTHACK, MFSTART,
// MFOFFSET).
func (b *Bus) handleFailoverMsg(typ uint8, m *foMsg) {
	b.lockedDurable(func(s *state) {
		sender := s.nodes[m.sender]
		if sender == nil || sender == s.myself || s.isBanned(m.sender) {
			return
		}
		if m.currentEpoch > s.currentEpoch {
			s.currentEpoch = m.currentEpoch
			s.saveDirty = true
		}
		if s.fo().duplicate(typ, m) {
			return // its twin (datagram or stream copy) was handled
		}
		now := time.Now()
		switch typ {
		case msgAuthReq:
			s.statsRecv["auth-req"]++
			fo := s.fo()
			if s.myself.isReplica() && fo.authSent && m.currentEpoch == fo.authEpoch && sender.masterID != s.myself.masterID {
				// Another shard's candidate asks for votes in our epoch:
				// the votes may split. Both elections then expire; retry
				// as soon as ours did (masters may vote about our master
				// again by then) rather than after the full retry time.
				fo.splitSeen = true
			}
			s.maybeVote(sender, m, now)
		case msgAuthAck:
			s.statsRecv["auth-ack"]++
			s.countVote(sender, m, now)
		case msgMFStart:
			s.statsRecv["mfstart"]++
			s.handleMFStart(sender, m.nonce, now)
		case msgMFOffset:
			s.statsRecv["ping"]++
			fo := s.fo()
			me := s.myself
			if !fo.mfEnd.IsZero() && me.isReplica() && me.masterID == sender.id {
				if fo.mfMasterOffset < 0 {
					s.cfg.Logger.Info(fmt.Sprintf("Received replication offset for paused master manual failover: %d", m.offset))
				}
				fo.mfMasterOffset = m.offset
				s.handleManualFailover()
				s.handleReplicaFailover(now)
			}
		}
	})
}

// foDup identifies one logical failover message; AUTHREQ, AUTHACK and
// MFSTART are sent twice (datagram and stream).
type foDup struct {
	typ    uint8
	sender string
	n      uint64
}

// duplicate reports whether m is the second copy of a message handled
// recently (the last 64 are remembered).
func (fo *foState) duplicate(typ uint8, m *foMsg) bool {
	var k foDup
	switch typ {
	case msgAuthReq:
		k = foDup{typ, m.sender, m.currentEpoch}
	case msgAuthAck:
		k = foDup{typ, m.sender, m.epoch}
	case msgMFStart:
		k = foDup{typ, m.sender, m.nonce}
	default:
		return false
	}
	for _, d := range fo.recent {
		if d == k {
			return true
		}
	}
	if len(fo.recent) < 64 {
		fo.recent = append(fo.recent, k)
	} else {
		fo.recent[fo.recentAt%64] = k
		fo.recentAt++
	}
	return false
}

// maybeVote is clusterSendFailoverAuthIfNeeded.
func (s *state) maybeVote(node *node, req *foMsg, now time.Time) {
	me := s.myself
	fo := s.fo()
	if !me.isMaster() || s.countSlots(me) == 0 {
		return
	}
	deny := func(why string) {
		s.cfg.Logger.Warn(fmt.Sprintf("Failover auth denied to %s: %s", node.id, why))
	}
	if req.currentEpoch < s.currentEpoch {
		deny(fmt.Sprintf("reqEpoch (%d) < curEpoch(%d)", req.currentEpoch, s.currentEpoch))
		return
	}
	if s.lastVoteEpoch == s.currentEpoch {
		if fo.votedFor == node.id && req.currentEpoch == s.lastVoteEpoch {
			return // the same request again (it travels twice: datagram and stream)
		}
		deny(fmt.Sprintf("already voted for epoch %d", s.currentEpoch))
		return
	}
	master := s.masterOf(node)
	forceAck := req.flags&authForceAck != 0
	switch {
	case node.isMaster():
		deny(fmt.Sprintf("it is a master node (epoch %d)", req.currentEpoch))
		return
	case master == nil:
		deny(fmt.Sprintf("I don't know its master (epoch %d)", req.currentEpoch))
		return
	case !master.failed() && !forceAck:
		deny(fmt.Sprintf("its master is up (epoch %d)", req.currentEpoch))
		return
	}
	if t, ok := fo.votedTime[master.id]; ok && now.Sub(t) < 2*s.cfg.NodeTimeout {
		deny(fmt.Sprintf("can't vote about this master before %d milliseconds", (2*s.cfg.NodeTimeout - now.Sub(t)).Milliseconds()))
		return
	}
	for _, r := range req.slots {
		for j := int(r.start); j <= int(r.end); j++ {
			if o := s.owner[j]; o != nil && o.configEpoch > req.configEpoch {
				deny(fmt.Sprintf("slot %d epoch (%d) > reqEpoch (%d)", j, o.configEpoch, req.configEpoch))
				return
			}
		}
	}
	s.lastVoteEpoch = s.currentEpoch
	fo.votedFor = node.id
	fo.votedTime[master.id] = now
	fo.votesGiven++
	s.forceSave = true // on disk before the ack leaves (lockedDurable)
	ack := encodeAuthAck(me.id, s.currentEpoch, s.currentEpoch)
	s.queueTo(node, outUDP, ack, "auth-ack")
	s.queueTo(node, outReliable, ack, "")
	s.cfg.Logger.Info(fmt.Sprintf("Failover auth granted to %s for epoch %d", node.id, s.currentEpoch))
}

// countVote handles an AUTH_ACK: it counts when the sender is a master
// serving slots that voted for the epoch of our running election.
func (s *state) countVote(sender *node, m *foMsg, now time.Time) {
	fo := s.fo()
	if !s.myself.isReplica() || !fo.authSent || m.epoch != fo.authEpoch || m.currentEpoch < fo.authEpoch {
		return
	}
	if !sender.isMaster() || s.countSlots(sender) == 0 || fo.authFrom[sender.id] {
		return
	}
	fo.authFrom[sender.id] = true
	fo.authCount++
	s.handleReplicaFailover(now)
}

// handleMFStart: a replica of ours asks for a manual failover; pause writes
// and report the final offset.
func (s *state) handleMFStart(sender *node, nonce uint64, now time.Time) {
	me := s.myself
	fo := s.fo()
	if !me.isMaster() || !sender.isReplica() || sender.masterID != me.id ||
		(fo.mfReplica == sender.id && fo.mfNonce == nonce) {
		return
	}
	s.resetManualFailover()
	fo.mfNonce = nonce
	fo.mfEnd = now.Add(mfTimeout)
	fo.mfReplica = sender.id
	fo.mfPausing = true
	seq := fo.mfSeq
	s.cfg.Logger.Info("Manual failover requested by replica " + sender.id)
	pause, unpause, offset := fo.hooks.PauseWrites, fo.hooks.UnpauseWrites, fo.hooks.ReplOffset
	fo.post = append(fo.post, func(b *Bus) {
		go func() {
			if pause != nil {
				pause(mfTimeout * mfPauseMult)
			}
			off := int64(-1)
			if offset != nil {
				off = offset()
			}
			stale := false
			b.lockedDurable(func(s *state) {
				fo := s.fo()
				if fo.mfSeq != seq || fo.mfReplica == "" {
					stale = true
					return
				}
				if off < 0 {
					off = s.myself.replOffset
				}
				fo.myOffset = off
				fo.mfPaused = true
				fo.mfLastReport = time.Now()
				if r := s.nodes[fo.mfReplica]; r != nil {
					s.queueTo(r, outUDP, encodeMFOffset(s.myself.id, s.currentEpoch, off), "ping")
				}
			})
			if stale && unpause != nil {
				unpause() // the failover ended while we were pausing
			}
		}()
	})
}

// Failover is CLUSTER FAILOVER [FORCE|TAKEOVER]. It returns once the
// failover started (TAKEOVER: once it is done here); the rest runs in the
// background and ends within 5 s or not at all.
func (b *Bus) Failover(mode FailoverMode) error {
	var err error
	b.lockedDurable(func(s *state) {
		me := s.myself
		m := s.masterOf(me)
		now := time.Now()
		switch {
		case me.isMaster():
			err = errf("You should send CLUSTER FAILOVER to a replica")
			return
		case m == nil:
			err = errf("I'm a replica but my master is unknown to me")
			return
		case mode == FailoverDefault && (m.failed() || !s.linkUp(m, now)):
			err = errf("Master is down or failed, please use CLUSTER FAILOVER FORCE")
			return
		}
		s.resetManualFailover()
		fo := s.fo()
		fo.mfEnd = now.Add(mfTimeout)
		switch mode {
		case FailoverTakeover:
			s.cfg.Logger.Info("Taking over the master (user request).")
			s.startPromotion(0, m.id, true)
		case FailoverForce:
			s.cfg.Logger.Info("Forced failover user request accepted.")
			fo.mfCanStart = true
			fo.authTime = time.Time{} // a new election at once
			fo.authSent = false
		default:
			s.cfg.Logger.Info("Manual failover user request accepted.")
			fo.authTime = time.Time{}
			fo.authSent = false
			s.statsSent["mfstart"]++
			msg := encodeMFStart(me.id, s.currentEpoch, uint64(now.UnixNano()))
			s.queueTo(m, outUDP, msg, "")
			s.queueTo(m, outReliable, msg, "")
		}
	})
	return err
}

// ---- replica migration ----

// okReplicaCounts is clusterCountNonFailingSlaves for every master at once.
func (s *state) okReplicaCounts() map[*node]int {
	c := make(map[*node]int)
	for _, n := range s.nodes {
		if n.isReplica() && n.flags&(fFail|fPFail) == 0 {
			if m := s.nodes[n.masterID]; m != nil {
				c[m]++
			}
		}
	}
	return c
}

// trackOrphans keeps Redis's MIGRATE_TO flag (masters that had replicas)
// and the orphaned_time of masters left without working replicas.
func (s *state) trackOrphans(now time.Time, ok map[*node]int) {
	fo := s.fo()
	counts := s.slotCounts()
	for _, n := range s.nodes {
		if !n.isMaster() {
			delete(fo.orphanedSince, n.id)
			continue
		}
		if ok[n] > 0 {
			fo.hadReplicas[n.id] = true
		}
		if ok[n] == 0 && !n.failed() && counts[n] > 0 && fo.hadReplicas[n.id] {
			if _, on := fo.orphanedSince[n.id]; !on {
				fo.orphanedSince[n.id] = now
			}
		} else {
			delete(fo.orphanedSince, n.id)
		}
	}
	for id := range fo.hadReplicas {
		if s.nodes[id] == nil {
			delete(fo.hadReplicas, id)
			delete(fo.orphanedSince, id)
		}
	}
}

// handleReplicaMigration is clusterHandleSlaveMigration (and the part of
// clusterCron that decides to call it).
func (s *state) handleReplicaMigration(now time.Time, ok map[*node]int) {
	fo := s.fo()
	me := s.myself
	my := s.masterOf(me)
	if !s.cfg.AllowReplicaMigration || !s.ok || my == nil || fo.set.ReplicaNoFailover || len(fo.orphanedSince) == 0 {
		return
	}
	maxOK := 0
	for _, n := range s.nodes {
		if n.isMaster() && !n.failed() && ok[n] > maxOK {
			maxOK = ok[n]
		}
	}
	thisOK := ok[my]
	if my.failed() {
		thisOK = 0
	}
	if maxOK < 2 || thisOK != maxOK || thisOK <= fo.set.MigrationBarrier {
		return
	}
	// The candidate is the replica with the smallest id among the masters
	// with the most working replicas; the target the first orphaned master
	// (smallest id, for determinism) serving slots.
	candidate := me
	var target *node
	for _, n := range s.sortedNodes() {
		if !n.isMaster() {
			continue
		}
		if _, orphan := fo.orphanedSince[n.id]; orphan && target == nil {
			target = n
		}
		if !n.failed() && ok[n] == maxOK {
			for _, r := range s.replicasOf(n) {
				if r.id < candidate.id {
					candidate = r
				}
			}
		}
	}
	if target == nil || candidate != me || now.Sub(fo.orphanedSince[target.id]) <= replicaMigrationDelay {
		return
	}
	s.cfg.Logger.Info("Migrating to orphaned master " + target.id)
	s.setMaster(target)
	s.stateChanged = true
}

// FailoverStats are failover counters (tests, INFO).
type FailoverStats struct {
	Elections    uint64        // elections started by this node
	Wins         uint64        // elections won (and takeovers)
	VotesGiven   uint64        // votes granted by this node
	LastElection time.Duration // master seen FAIL -> slots taken, last win
}

// FailoverStats returns the failover counters.
func (b *Bus) FailoverStats() FailoverStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	fo := b.st.fo()
	return FailoverStats{Elections: fo.elections, Wins: fo.wins, VotesGiven: fo.votesGiven, LastElection: fo.lastElection}
}

// ---- stalls (SIGSTOP, VM pauses, long starvation) ----

// StallCheck confirms, after this node was not scheduled for a while,
// that it is still the master it believes to be before it acknowledges
// writes again: during the stall the cluster may have failed it over, and a
// master resuming with queued requests would otherwise execute them before
// it hears about its replacement (Redis loses such writes).
type StallCheck struct {
	b        *Bus
	resumed  time.Time
	deadline time.Time
	recs     map[string]uint64 // node id -> record version when we resumed
	replicas []string          // our replicas that were alive before the stall
}

// BeginStallCheck starts a confirmation; stalledSince is when the node was
// last known to run. It pings every node at once and forgets the record
// fetch throttle, so fresh heartbeats and records arrive right away.
func (b *Bus) BeginStallCheck(stalledSince time.Time) *StallCheck {
	c := &StallCheck{b: b, resumed: time.Now(), recs: map[string]uint64{}}
	c.deadline = c.resumed.Add(b.nodeTimeout())
	b.locked(func(s *state) {
		me := s.myself
		for _, n := range s.nodes {
			if n == me {
				continue
			}
			c.recs[n.id] = n.recVersion
			n.lastGet = time.Time{}
			n.lastPing = c.resumed
			n.prevNonce = n.nonce
			n.nonce = randomNonce()
			if n.pingSent.IsZero() {
				n.pingSent = c.resumed
			}
			s.queueTo(n, outUDP, encodeHeartbeat(s.heartbeatFor(false, n.nonce)), "ping")
		}
		for _, r := range s.replicasOf(me) {
			if !r.pongRecv.IsZero() && stalledSince.Sub(r.pongRecv) < s.cfg.NodeTimeout {
				c.replicas = append(c.replicas, r.id)
			}
		}
	})
	return c
}

// Settled reports whether writes may resume: this node is no longer a
// master serving slots (clients will be redirected), or it heard, after it
// resumed, from a majority of the masters and from every replica of its own
// that was alive before the stall (the only nodes that could have replaced
// it), and applied the newer records they announced; or node-timeout passed
// (whoever did not answer by then is failing).
func (c *StallCheck) Settled() bool {
	if time.Now().After(c.deadline) {
		return true
	}
	b := c.b
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.st
	me := s.myself
	if !me.isMaster() || s.countSlots(me) == 0 {
		return true
	}
	settled := func(n *node) bool {
		if n == nil || !n.pongRecv.After(c.resumed) {
			return false
		}
		// A heartbeat with a newer record version made us ask for the
		// record: wait until it arrived.
		return !n.lastGet.After(c.resumed) || n.recVersion != c.recs[n.id]
	}
	for _, id := range c.replicas {
		if !settled(s.nodes[id]) {
			return false
		}
	}
	counts := s.slotCounts()
	heard := 0
	for _, n := range s.nodes {
		if n != me && n.isMaster() && counts[n] > 0 && settled(n) {
			heard++
		}
	}
	return heard+1 >= s.size/2+1
}
