package clusterbus

import (
	"crypto/rand"
	"encoding/hex"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/slotkv/slotkv/redirect"
)

// NumSlots is the number of hash slots.
const NumSlots = redirect.NumSlots

// Redis constants (cluster.h).
const (
	failReportValidityMult = 2               // CLUSTER_FAIL_REPORT_VALIDITY_MULT
	failUndoTimeMult       = 2               // CLUSTER_FAIL_UNDO_TIME_MULT
	writableDelay          = 2 * time.Second // CLUSTER_WRITABLE_DELAY
	blacklistTTL           = 60 * time.Second
	maxRejoinDelay         = 5 * time.Second
	minRejoinDelay         = 500 * time.Millisecond
)

// slotBits is a 16384-bit slot bitmap.
type slotBits [NumSlots / 64]uint64

func (b *slotBits) set(i int)      { b[i>>6] |= 1 << (i & 63) }
func (b *slotBits) clear(i int)    { b[i>>6] &^= 1 << (i & 63) }
func (b *slotBits) has(i int) bool { return b[i>>6]&(1<<(i&63)) != 0 }

func (b *slotBits) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// each calls f for every set bit in ascending order.
func (b *slotBits) each(f func(int)) {
	for wi, w := range b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			f(wi<<6 | t)
			w &^= 1 << t
		}
	}
}

func (b *slotBits) ranges() []slotRange {
	var out []slotRange
	start := -1
	for i := 0; i <= NumSlots; i++ {
		if i&63 == 0 && i < NumSlots {
			// Whole words that continue the current run (or the gap)
			// are skipped: a reshard renders this several times per slot.
			if w := b[i>>6]; (w == 0 && start < 0) || (w == ^uint64(0) && start >= 0) {
				i += 63
				continue
			}
		}
		on := i < NumSlots && b.has(i)
		if on && start < 0 {
			start = i
		} else if !on && start >= 0 {
			out = append(out, slotRange{uint16(start), uint16(i - 1)})
			start = -1
		}
	}
	return out
}

func bitsFromRanges(rs []slotRange) slotBits {
	var b slotBits
	for _, r := range rs {
		for i := int(r.start); i <= int(r.end); i++ {
			b.set(i)
		}
	}
	return b
}

// nodeFlags are the CLUSTER NODES flags (plus our own bookkeeping).
type nodeFlags uint16

const (
	fMyself nodeFlags = 1 << iota
	fMaster
	fReplica
	fPFail
	fFail
	fHandshake
	fNoAddr
	fNoFailover
)

// node is one node of the cluster as this node sees it.
type node struct {
	id       string
	ip       string
	port     int
	cport    int
	hostname string
	shardID  string
	flags    nodeFlags
	masterID string

	configEpoch uint64
	recVersion  uint64   // version of the last record applied
	claims      slotBits // slots claimed in that record

	pingSent    time.Time // first unanswered ping, zero when none
	pongRecv    time.Time
	lastPing    time.Time // last ping sent
	nonce       uint64
	prevNonce   uint64
	added       time.Time
	failTime    time.Time
	failReports map[string]time.Time // reporter id -> last report
	replOffset  int64
	linkCreated time.Time // first contact of the current "link"

	lastJoin       time.Time
	lastGet        time.Time
	lastUpdateSent time.Time

	// Kept by setOwner (slotview.go): how many and which slots n owns.
	nslots int
	ranges []slotRange
}

func (n *node) isMaster() bool  { return n.flags&fMaster != 0 }
func (n *node) isReplica() bool { return n.flags&fReplica != 0 }
func (n *node) failed() bool    { return n.flags&fFail != 0 }
func (n *node) timedOut() bool  { return n.flags&fPFail != 0 }

func (n *node) recFlags() uint8 {
	var f uint8
	if n.isMaster() {
		f |= recMaster
	} else {
		f |= recReplica
	}
	if n.flags&fNoFailover != 0 {
		f |= recNoFailover
	}
	return f
}

// outKind is the kind of an outbound action queued under the state lock and
// executed after it is released.
type outKind uint8

const (
	outUDP outKind = iota
	outReliable
	outBroadcast
	outUpdateMeta
	outJoin
)

type outMsg struct {
	kind  outKind
	id    string // target node id (may be "")
	addr  string // target ip:cport
	data  []byte
	name  string // broadcast name
	stat  string // message type for the stats counters
	count bool
	// self marks a reliable message carrying this node's own record: a
	// later one to the same address supersedes it (records are versioned),
	// so a burst of changes (a reshard's SETSLOTs) is sent once per node.
	self bool
}

// pendingRelease is a slot a master stopped claiming; it is unassigned after
// a grace period unless another claim arrives first (so a reshard's two
// SETSLOT NODE arriving in either order never leave a hole).
type pendingRelease struct {
	slot int
	n    *node
	at   time.Time
}

// state is the cluster view. Every field is guarded by Bus.mu.
type state struct {
	cfg    *Config
	myself *node
	nodes  map[string]*node

	// scratch holds buildTable's owner/migrating/importing arrays while it
	// compares them with the last published table's.
	scratch [3][NumSlots]uint16

	// Written only through setOwner/setMigrating/setImporting
	// (slotview.go), which keep the fields below and node.nslots/ranges.
	owner     [NumSlots]*node
	migrating [NumSlots]*node
	importing [NumSlots]*node

	marked     slotBits // slots with a MIGRATING or IMPORTING marker
	dirtySlots []uint16 // slots changed since the last buildTable
	dirtyAll   bool     // too many for dirtySlots: rebuild the table whole
	tableNodes []*node  // the last table's nodes, in its index order

	currentEpoch  uint64
	lastVoteEpoch uint64

	ok                bool
	size              int
	startTime         time.Time
	amongMinorityTime time.Time

	banned   map[string]time.Time
	releases []pendingRelease

	pubVersion uint64
	pubBody    string
	selfRec    *record

	statsSent map[string]uint64
	statsRecv map[string]uint64

	foSt foState // failover.go: elections, votes, manual failover

	// effects of the current locked section
	out          []outMsg
	lost         []int
	roleChanged  bool
	tableDirty   bool
	saveDirty    bool
	forceSave    bool
	lightSave    bool // save before replying, without fsync (SETSLOT)
	ownerSave    bool // slot owners learned from a peer: saved in the background, without fsync
	stateChanged bool
}

func newState(cfg *Config) *state {
	return &state{
		cfg:       cfg,
		nodes:     make(map[string]*node),
		banned:    make(map[string]time.Time),
		statsSent: make(map[string]uint64),
		statsRecv: make(map[string]uint64),
		startTime: time.Now(),
		dirtyAll:  true,
	}
}

func randomID() string {
	var b [idLen]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

func randomNonce() uint64 {
	var b [8]byte
	rand.Read(b[:]) //nolint:errcheck
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v | 1
}

func validID(id string) bool {
	if len(id) != 2*idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func (s *state) addNode(id string) *node {
	now := time.Now()
	n := &node{id: id, flags: fMaster, added: now, linkCreated: now, shardID: randomID()}
	s.nodes[id] = n
	s.tableDirty = true
	s.saveDirty = true
	return n
}

// delNode removes n from the view (CLUSTER FORGET, clusterDelNode).
func (s *state) delNode(n *node) {
	s.clearSlotsOf(n)
	for _, o := range s.nodes {
		delete(o.failReports, n.id)
	}
	s.releases = slices.DeleteFunc(s.releases, func(p pendingRelease) bool { return p.n == n })
	delete(s.nodes, n.id)
	s.tableDirty = true
	s.saveDirty = true
}

func (s *state) isBanned(id string) bool {
	t, ok := s.banned[id]
	if !ok {
		return false
	}
	if time.Now().After(t) {
		delete(s.banned, id)
		return false
	}
	return true
}

func (s *state) slotsOf(n *node) slotBits { return bitsFromRanges(n.ranges) }

// rangesOf returns (a copy of) the slot ranges n owns.
func (s *state) rangesOf(n *node) []slotRange { return slices.Clone(n.ranges) }

func (s *state) countSlots(n *node) int { return n.nslots }

// slotCounts maps every node owning slots to its slot count.
func (s *state) slotCounts() map[*node]int {
	m := make(map[*node]int, len(s.nodes))
	for _, n := range s.nodes {
		if n.nslots > 0 {
			m[n] = n.nslots
		}
	}
	return m
}

func (s *state) masterOf(n *node) *node {
	if n.isReplica() && n.masterID != "" {
		return s.nodes[n.masterID]
	}
	return nil
}

// nodeEpoch is Redis's nodeEpoch: a replica shows its master's epoch.
func (s *state) nodeEpoch(n *node) uint64 {
	if m := s.masterOf(n); m != nil {
		return m.configEpoch
	}
	return n.configEpoch
}

func (s *state) replicasOf(m *node) []*node {
	var out []*node
	for _, n := range s.sortedNodes() {
		if n.isReplica() && n.masterID == m.id {
			out = append(out, n)
		}
	}
	return out
}

func (s *state) sortedNodes() []*node {
	out := make([]*node, 0, len(s.nodes))
	for _, n := range s.nodes {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func (s *state) maxEpoch() uint64 {
	m := s.currentEpoch
	for _, n := range s.nodes {
		if n.configEpoch > m {
			m = n.configEpoch
		}
	}
	return m
}

// bumpEpochWithoutConsensus is clusterBumpConfigEpochWithoutConsensus.
func (s *state) bumpEpochWithoutConsensus() bool {
	me := s.myself
	if me.configEpoch == 0 || me.configEpoch != s.maxEpoch() {
		s.currentEpoch++
		me.configEpoch = s.currentEpoch
		s.forceSave = true
		return true
	}
	return false
}

// setMaster turns myself into a replica of m (clusterSetMaster).
func (s *state) setMaster(m *node) {
	me := s.myself
	if me.isMaster() {
		me.flags &^= fMaster
		me.flags |= fReplica
		for j := 0; j < NumSlots; j++ {
			s.setMigrating(j, nil)
			s.setImporting(j, nil)
		}
	}
	me.masterID = m.id
	if m.shardID != "" {
		me.shardID = m.shardID
	}
	s.roleChanged = true
	s.tableDirty = true
	s.forceSave = true
}

// setMyselfMaster turns myself back into a master.
func (s *state) setMyselfMaster() {
	me := s.myself
	if me.isMaster() && me.masterID == "" {
		return
	}
	me.flags &^= fReplica
	me.flags |= fMaster
	me.masterID = ""
	s.roleChanged = true
	s.tableDirty = true
	s.forceSave = true
}

// ---- own record ----

func (s *state) buildSelfRecord() *record {
	me := s.myself
	r := &record{
		id: me.id, ip: me.ip, port: me.port, cport: me.cport, hostname: me.hostname,
		shardID: me.shardID, flags: me.recFlags(), masterID: me.masterID,
		configEpoch: me.configEpoch, currentEpoch: s.currentEpoch,
	}
	if me.isMaster() {
		r.slots = s.rangesOf(me)
	} else {
		r.masterID = me.masterID
	}
	return r
}

// publishIfChanged gives myself's record a new version and queues its
// propagation when anything in it changed.
func (s *state) publishIfChanged() {
	r := s.buildSelfRecord()
	body := string(appendRecord(nil, r))
	if body == s.pubBody && s.selfRec != nil {
		return
	}
	v := uint64(time.Now().UnixNano())
	if v <= s.pubVersion {
		v = s.pubVersion + 1
	}
	s.pubVersion = v
	s.pubBody = body
	r.version = v
	s.myself.recVersion = v
	s.selfRec = r
	enc := encodeRecord(s.myself.id, r)
	if len(enc) <= 1000 {
		s.out = append(s.out, outMsg{kind: outBroadcast, name: "rec:" + r.id, data: enc})
	}
	for _, n := range s.nodes {
		if n != s.myself {
			k := len(s.out)
			s.queueTo(n, outReliable, enc, "update")
			if len(s.out) > k {
				s.out[k].self = true
			}
		}
	}
	s.out = append(s.out, outMsg{kind: outUpdateMeta})
}

func (s *state) queueTo(n *node, kind outKind, data []byte, stat string) {
	if n.ip == "" || n.cport == 0 {
		return
	}
	if kind == outReliable && n.flags&(fPFail|fFail) != 0 {
		return // unreachable; it asks for records again once it answers pings
	}
	if stat != "" {
		s.statsSent[stat]++
	}
	s.out = append(s.out, outMsg{kind: kind, id: n.id, addr: joinHostPort(n.ip, n.cport), data: data, stat: stat, count: true})
}

func joinHostPort(ip string, port int) string {
	if len(ip) > 0 && ip[0] != '[' && containsColon(ip) {
		return "[" + ip + "]:" + strconv.Itoa(port)
	}
	return ip + ":" + strconv.Itoa(port)
}

func containsColon(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return true
		}
	}
	return false
}

// recordOf reconstructs the last record we applied for n (for relaying in
// push/pull and UPDATE corrections).
func (s *state) recordOf(n *node) *record {
	if n == s.myself {
		if s.selfRec == nil {
			s.publishIfChanged()
		}
		return s.selfRec
	}
	r := &record{
		id: n.id, ip: n.ip, port: n.port, cport: n.cport, hostname: n.hostname,
		shardID: n.shardID, flags: n.recFlags(), masterID: n.masterID,
		configEpoch: n.configEpoch, version: n.recVersion,
	}
	if n.isMaster() {
		r.masterID = ""
		r.slots = n.claims.ranges()
	}
	return r
}

// ---- applying what others say ----

// applyRecord merges a node record. fromOrigin is true when the node itself
// sent it (it is then authoritative even if its version went backwards).
func (s *state) applyRecord(rec *record, fromOrigin bool) {
	if rec.id == s.myself.id || s.isBanned(rec.id) {
		return
	}
	if rec.masterID != "" && s.isBanned(rec.masterID) {
		return
	}
	n := s.nodes[rec.id]
	if n == nil {
		n = s.addNode(rec.id)
	} else if rec.version == n.recVersion || (!fromOrigin && rec.version < n.recVersion) {
		if fromOrigin {
			s.checkStaleClaims(n)
		}
		return
	}
	if rec.ip != "" && (n.ip != rec.ip || n.port != rec.port || n.cport != rec.cport) {
		n.ip, n.port, n.cport = rec.ip, rec.port, rec.cport
		s.tableDirty = true
		s.saveDirty = true
	}
	if n.hostname != rec.hostname {
		n.hostname = rec.hostname
		s.tableDirty = true
		s.saveDirty = true
	}
	if rec.shardID != "" && n.shardID != rec.shardID {
		n.shardID = rec.shardID
		s.saveDirty = true
	}
	if rec.flags&recNoFailover != 0 {
		n.flags |= fNoFailover
	} else {
		n.flags &^= fNoFailover
	}
	if rec.currentEpoch > s.currentEpoch {
		s.currentEpoch = rec.currentEpoch
		s.saveDirty = true
	}
	if rec.configEpoch > s.currentEpoch {
		s.currentEpoch = rec.configEpoch
		s.saveDirty = true
	}
	wasMaster := n.isMaster()
	if rec.flags&recReplica != 0 {
		if !n.isReplica() || n.masterID != rec.masterID {
			n.flags &^= fMaster
			n.flags |= fReplica
			n.masterID = rec.masterID
			s.tableDirty = true
			s.saveDirty = true
			if m := s.nodes[rec.masterID]; m == nil && !s.isBanned(rec.masterID) && validID(rec.masterID) {
				// A replica of a master we do not know yet: learn it
				// from someone (it will show up through memberlist).
				_ = m
			}
		}
	} else if !n.isMaster() {
		n.flags &^= fReplica
		n.flags |= fMaster
		n.masterID = ""
		s.tableDirty = true
		s.saveDirty = true
	}
	if n.configEpoch != rec.configEpoch {
		n.configEpoch = rec.configEpoch
		s.saveDirty = true
	}
	old := n.claims
	n.claims = bitsFromRanges(rec.slots)
	n.recVersion = rec.version
	now := time.Now()

	if wasMaster && !n.isMaster() {
		// A master turned into a replica: its slots are unassigned now
		// (Redis clusterDelNodeSlots on role change).
		var freed []int
		for j := 0; j < NumSlots; j++ {
			if s.owner[j] == n {
				s.setOwner(j, nil)
				freed = append(freed, j)
			}
		}
		s.reassign(freed)
		s.tableDirty = true
		s.saveDirty = true
	} else {
		for wi := range old {
			gone := old[wi] &^ n.claims[wi]
			for gone != 0 {
				t := bits.TrailingZeros64(gone)
				gone &^= 1 << t
				j := wi<<6 | t
				if s.owner[j] == n {
					s.releases = append(s.releases, pendingRelease{slot: j, n: n, at: now})
				}
			}
		}
	}
	if n.isMaster() {
		s.updateSlotsConfigWith(n, &n.claims)
	}
	s.maybeFollow()
}

// updateSlotsConfigWith is Redis's clusterUpdateSlotsConfigWith: every slot
// sender claims becomes its own when unassigned here or held by a node with
// a lower config epoch; claims beaten by a higher epoch earn sender an
// UPDATE with the winner's record.
func (s *state) updateSlotsConfigWith(sender *node, claims *slotBits) {
	me := s.myself
	if sender == me {
		return
	}
	curMaster := me
	if me.isReplica() {
		curMaster = s.masterOf(me)
	}
	var dirty []int
	var newMaster *node
	migrated := 0
	var staleAgainst *node
	claims.each(func(j int) {
		o := s.owner[j]
		if o == sender {
			return
		}
		if s.importing[j] != nil {
			return
		}
		if o == nil || o.configEpoch < sender.configEpoch {
			if o == me && s.keysInSlot(j) > 0 {
				dirty = append(dirty, j)
			}
			if o != nil && o == curMaster {
				newMaster = sender
				migrated++
			}
			if o == me {
				s.setMigrating(j, nil)
			}
			s.setOwner(j, sender)
			s.tableDirty = true
			// No fsync (unlike Redis): an owner lost in a crash is
			// learned again from sender, whose config epoch (fsynced
			// wherever it changed) wins. During a redis-cli reshard
			// the new owner's record reaches every node before
			// redis-cli's SETSLOT NODE does, once per slot.
			s.ownerSave = true
		} else if o.configEpoch > sender.configEpoch {
			staleAgainst = o
		}
	})
	if staleAgainst != nil {
		s.sendUpdate(sender, staleAgainst)
	}
	if newMaster != nil && curMaster != nil && s.countSlots(curMaster) == 0 &&
		(s.cfg.AllowReplicaMigration || claims.count() == migrated) {
		s.cfg.Logger.Info("configuration change detected: reconfiguring myself as a replica", "master", sender.id)
		s.setMaster(sender)
	} else if len(dirty) > 0 {
		s.lost = append(s.lost, dirty...)
	}
}

// maybeFollow handles a replica whose master turned into a replica of
// another node: it follows the new master (Redis does this on role change).
func (s *state) maybeFollow() {
	me := s.myself
	if !me.isReplica() {
		return
	}
	m := s.masterOf(me)
	if m == nil || !m.isReplica() {
		return
	}
	if nm := s.masterOf(m); nm != nil && nm != me && nm.isMaster() {
		s.setMaster(nm)
	}
}

// reassign gives freed slots to the best remaining claimer, if any.
func (s *state) reassign(freed []int) {
	for _, j := range freed {
		if s.owner[j] != nil || s.importing[j] != nil {
			continue
		}
		var best *node
		for _, n := range s.nodes {
			if n != s.myself && n.isMaster() && !s.isBanned(n.id) && n.claims.has(j) &&
				(best == nil || n.configEpoch > best.configEpoch) {
				best = n
			}
		}
		if best != nil {
			s.setOwner(j, best)
		}
		s.tableDirty = true
		s.saveDirty = true
	}
}

// processReleases unassigns slots whose claimer stopped claiming them more
// than grace ago and that nobody else claimed since.
func (s *state) processReleases(now time.Time) {
	if len(s.releases) == 0 {
		return
	}
	grace := s.cfg.NodeTimeout / 4
	if grace < 100*time.Millisecond {
		grace = 100 * time.Millisecond
	}
	if grace > time.Second {
		grace = time.Second
	}
	var freed []int
	keep := s.releases[:0]
	for _, p := range s.releases {
		if now.Sub(p.at) < grace {
			keep = append(keep, p)
			continue
		}
		if s.owner[p.slot] == p.n && !p.n.claims.has(p.slot) {
			s.setOwner(p.slot, nil)
			freed = append(freed, p.slot)
		}
	}
	s.releases = keep
	s.reassign(freed)
}

// checkStaleClaims sends n an UPDATE when it claims slots that belong to a
// node with a higher config epoch.
func (s *state) checkStaleClaims(n *node) {
	if !n.isMaster() || n == s.myself {
		return
	}
	var winner *node
	n.claims.each(func(j int) {
		if o := s.owner[j]; o != nil && o != n && o.configEpoch > n.configEpoch {
			winner = o
		}
	})
	if winner != nil {
		s.sendUpdate(n, winner)
	}
}

func (s *state) sendUpdate(to, about *node) {
	now := time.Now()
	if now.Sub(to.lastUpdateSent) < 500*time.Millisecond {
		return
	}
	to.lastUpdateSent = now
	rec := s.recordOf(about)
	if rec == nil {
		return
	}
	s.queueTo(to, outReliable, encodeRecord(s.myself.id, rec), "update")
}

func (s *state) keysInSlot(j int) int {
	if f := s.cfg.Hooks.CountKeysInSlot; f != nil {
		return f(j)
	}
	return 0
}

func (s *state) keyCount() int {
	if f := s.cfg.Hooks.KeyCount; f != nil {
		return f()
	}
	return 0
}

// ---- heartbeats and failure detection ----

func (s *state) heartbeatFor(pong bool, nonce uint64) *heartbeat {
	me := s.myself
	h := &heartbeat{
		pong: pong, sender: me.id, flags: me.recFlags(),
		currentEpoch: s.currentEpoch, configEpoch: me.configEpoch,
		recVersion: me.recVersion, replOffset: me.replOffset, nonce: nonce,
	}
	for _, n := range s.nodes {
		if n != me && n.flags&(fPFail|fFail) != 0 {
			h.failing = append(h.failing, n.id)
		}
	}
	return h
}

func (s *state) handleHeartbeat(h *heartbeat) {
	me := s.myself
	if h.sender == me.id || s.isBanned(h.sender) {
		return
	}
	n := s.nodes[h.sender]
	if n == nil {
		return // unknown senders are learned through memberlist, not pings
	}
	now := time.Now()
	if h.pong {
		s.statsRecv["pong"]++
		if h.nonce == n.nonce || h.nonce == n.prevNonce {
			if n.pongRecv.IsZero() || now.Sub(n.pongRecv) > s.cfg.NodeTimeout {
				n.linkCreated = now
			}
			n.pongRecv = now
			n.pingSent = time.Time{}
			if n.timedOut() {
				n.flags &^= fPFail
				s.stateChanged = true
			}
			if n.failed() {
				s.clearFailureIfNeeded(n, now)
			}
		}
	} else {
		s.statsRecv["ping"]++
		s.queueTo(n, outUDP, encodeHeartbeat(s.heartbeatFor(true, h.nonce)), "pong")
	}
	n.replOffset = h.replOffset
	if h.currentEpoch > s.currentEpoch {
		s.currentEpoch = h.currentEpoch
		s.saveDirty = true
	}
	if h.recVersion != n.recVersion && now.Sub(n.lastGet) > 300*time.Millisecond {
		n.lastGet = now
		s.queueTo(n, outUDP, encodeGetRec(me.id), "ping")
	}
	// Epoch collision: two masters with the same config epoch; the one with
	// the lower node id takes a new epoch.
	if h.flags&recMaster != 0 && me.isMaster() && n.isMaster() &&
		h.configEpoch == me.configEpoch && me.id < h.sender {
		s.currentEpoch++
		me.configEpoch = s.currentEpoch
		s.forceSave = true
		s.cfg.Logger.Info("WARNING: configEpoch collision with node, configEpoch set", "node", h.sender, "epoch", me.configEpoch)
	}
	// Failure reports: only masters' opinions count.
	if n.isMaster() {
		listed := make(map[string]bool, len(h.failing))
		for _, id := range h.failing {
			listed[id] = true
			f := s.nodes[id]
			if f == nil || f == me {
				continue
			}
			if f.failReports == nil {
				f.failReports = make(map[string]time.Time)
			}
			f.failReports[n.id] = now
			s.markFailingIfNeeded(f, now)
		}
		for _, f := range s.nodes {
			if _, ok := f.failReports[n.id]; ok && !listed[f.id] {
				delete(f.failReports, n.id)
			}
		}
	}
}

func (s *state) failureReportCount(n *node, now time.Time) int {
	maxAge := s.cfg.NodeTimeout * failReportValidityMult
	for id, t := range n.failReports {
		if now.Sub(t) > maxAge {
			delete(n.failReports, id)
		}
	}
	c := 0
	for id := range n.failReports {
		if r := s.nodes[id]; r != nil && r.isMaster() {
			c++
		}
	}
	return c
}

// markFailingIfNeeded is markNodeAsFailingIfNeeded.
func (s *state) markFailingIfNeeded(n *node, now time.Time) {
	if !n.timedOut() || n.failed() {
		return
	}
	needed := s.size/2 + 1
	failures := s.failureReportCount(n, now)
	if s.myself.isMaster() {
		failures++
	}
	if failures < needed {
		return
	}
	s.cfg.Logger.Info("marking node as failing (quorum reached)", "node", n.id)
	n.flags &^= fPFail
	n.flags |= fFail
	n.failTime = now
	s.broadcastFail(n)
	s.stateChanged = true
	s.saveDirty = true
}

func (s *state) broadcastFail(n *node) {
	msg := encodeFail(s.myself.id, n.id)
	s.out = append(s.out, outMsg{kind: outBroadcast, name: "fail:" + n.id, data: msg})
	for _, o := range s.nodes {
		if o != s.myself && o != n {
			s.queueTo(o, outReliable, msg, "fail")
		}
	}
}

func (s *state) handleFail(sender, failing string) {
	s.statsRecv["fail"]++
	if s.isBanned(sender) || s.nodes[sender] == nil {
		return
	}
	f := s.nodes[failing]
	if f == nil || f == s.myself || f.failed() {
		return
	}
	s.cfg.Logger.Info("FAIL message received", "from", sender, "about", failing)
	f.flags &^= fPFail
	f.flags |= fFail
	f.failTime = time.Now()
	s.stateChanged = true
	s.saveDirty = true
}

// clearFailureIfNeeded is clearNodeFailureIfNeeded.
func (s *state) clearFailureIfNeeded(n *node, now time.Time) {
	if n.isReplica() || s.countSlots(n) == 0 {
		s.cfg.Logger.Info("clear FAIL state: node is reachable again", "node", n.id)
		n.flags &^= fFail
		s.stateChanged = true
		s.saveDirty = true
		return
	}
	if n.isMaster() && now.Sub(n.failTime) > s.cfg.NodeTimeout*failUndoTimeMult {
		s.cfg.Logger.Info("clear FAIL state: node is reachable again and nobody is serving its slots after some time", "node", n.id)
		n.flags &^= fFail
		s.stateChanged = true
		s.saveDirty = true
	}
}

func heartbeatInterval(nodeTimeout time.Duration) time.Duration {
	iv := nodeTimeout / 4
	if iv < 10*time.Millisecond {
		iv = 10 * time.Millisecond
	}
	if iv > time.Second {
		iv = time.Second
	}
	return iv
}

// cron is clusterCron: heartbeats, PFAIL detection, FAIL quorum, releases,
// stale-claim corrections and the cluster state.
func (s *state) cron(now time.Time, tick int) {
	me := s.myself
	iv := heartbeatInterval(s.cfg.NodeTimeout)
	newPFail := false
	for _, n := range s.nodes {
		if n == me {
			continue
		}
		if now.Sub(n.lastPing) >= iv {
			n.lastPing = now
			n.prevNonce = n.nonce
			n.nonce = randomNonce()
			if n.pingSent.IsZero() {
				n.pingSent = now
			}
			s.queueTo(n, outUDP, encodeHeartbeat(s.heartbeatFor(false, n.nonce)), "ping")
		}
		last := n.pongRecv
		if last.IsZero() || last.Before(n.added) {
			last = n.added
		}
		if last.Before(s.startTime) {
			last = s.startTime
		}
		// A ping goes out every iv, so normally the last pong is at most iv
		// older than the unanswered ping; not so right after the node
		// timeout (and with it iv) was lowered at run time, when the last
		// pong may be older than the new timeout although the node is up.
		if p := n.pingSent.Add(-iv); last.Before(p) {
			last = p
		}
		if !n.pingSent.IsZero() && now.Sub(last) > s.cfg.NodeTimeout && n.flags&(fPFail|fFail) == 0 {
			s.cfg.Logger.Info("node might be failing (PFAIL)", "node", n.id)
			n.flags |= fPFail
			s.stateChanged = true
			newPFail = true
		}
	}
	if newPFail {
		// Spread the news at once: the next tick pings everyone, and the
		// pings carry our failure reports.
		for _, o := range s.nodes {
			o.lastPing = time.Time{}
		}
	}
	s.processReleases(now)
	s.updateState(now) // also refreshes s.size, used by the FAIL quorum
	for _, n := range s.nodes {
		if n.timedOut() {
			s.markFailingIfNeeded(n, now)
		}
	}
	if tick%10 == 0 {
		for _, n := range s.nodes {
			s.checkStaleClaims(n)
		}
		for id, t := range s.banned {
			if now.After(t) {
				delete(s.banned, id)
			}
		}
	}
	s.updateState(now)
}

func (s *state) updateSize() {
	counts := s.slotCounts()
	size := 0
	for n, c := range counts {
		if c > 0 && n.isMaster() {
			size++
		}
	}
	s.size = size
}

// updateState is clusterUpdateState.
func (s *state) updateState(now time.Time) {
	me := s.myself
	counts := s.slotCounts()
	s.size = 0
	for n, c := range counts {
		if c > 0 && n.isMaster() {
			s.size++
		}
	}
	if me.isMaster() && !s.ok && now.Sub(s.startTime) < writableDelay {
		return
	}
	newOK := true
	if s.cfg.RequireFullCoverage {
		assigned := 0
		for n, c := range counts {
			assigned += c
			if n.failed() {
				newOK = false
			}
		}
		if assigned < NumSlots {
			newOK = false
		}
	}
	size, reachable := 0, 0
	for n, c := range counts {
		if c > 0 && n.isMaster() {
			size++
			if n.flags&(fFail|fPFail) == 0 {
				reachable++
			}
		}
	}
	s.size = size
	if reachable < size/2+1 {
		newOK = false
		// Unlike Redis 7.0, a node that knows no master with slots (a
		// fresh node before ADDSLOTS, or after CLUSTER RESET) is not
		// counted as being in a minority partition: there is no
		// partition, and it holds no slots anyone else could have taken
		// over. Redis stamps the time here too, so every master of a
		// cluster created more than the writable delay after its start
		// waited the rejoin delay (5 s at node-timeout >= 5 s) after its
		// ADDSLOTS. A partition never empties the view (unreachable
		// masters keep their slots and are counted in size), so a master
		// cut off with the minority still waits the full rejoin delay.
		if size > 0 {
			s.amongMinorityTime = now
		}
	}
	if newOK != s.ok {
		rejoin := s.cfg.NodeTimeout
		if rejoin > maxRejoinDelay {
			rejoin = maxRejoinDelay
		}
		if rejoin < minRejoinDelay {
			rejoin = minRejoinDelay
		}
		if newOK && me.isMaster() && now.Sub(s.amongMinorityTime) < rejoin {
			return
		}
		s.ok = newOK
		s.tableDirty = true
		if newOK {
			s.cfg.Logger.Info("cluster state changed: ok")
		} else {
			s.cfg.Logger.Info("cluster state changed: fail")
		}
	}
}

// ---- routing table ----

func (s *state) endpoint(n *node) string {
	return s.endpointHost(n) + ":" + strconv.Itoa(n.port)
}

// endpointHost is clusterNodePreferredEndpoint.
func (s *state) endpointHost(n *node) string {
	switch s.cfg.PreferredEndpoint {
	case EndpointHostname:
		if n.hostname != "" {
			return n.hostname
		}
		return "?"
	case EndpointUnknown:
		return "?"
	}
	return n.ip
}

// noneSlots is a slot array with every entry redirect.None.
var noneSlots = func() (a [NumSlots]uint16) {
	for i := range a {
		a[i] = redirect.None
	}
	return a
}()

// buildTable builds the routing table; the parts of its slot maps unchanged
// since prev (the table published last, may be nil) are shared with it.
func (s *state) buildTable(prev *redirect.Table) *redirect.Table {
	nodes := s.sortedNodes()
	t := &redirect.Table{Nodes: make([]redirect.Node, len(nodes)), Master: redirect.None,
		Down: !s.ok, ReadsWhenDown: s.cfg.AllowReadsWhenDown}
	idx := make(map[*node]uint16, len(nodes))
	for i, n := range nodes {
		idx[n] = uint16(i)
		t.Nodes[i] = redirect.Node{ID: n.id, Endpoint: s.endpoint(n)}
		if n == s.myself {
			t.Self = uint16(i)
		}
	}
	if m := s.masterOf(s.myself); m != nil {
		if i, ok := idx[m]; ok {
			t.Master = i
		}
	}
	// Neighbouring slots mostly share an owner: remember the last lookup
	// (three map lookups per slot were most of a SETSLOT's cost).
	var last *node
	lastIdx := redirect.None
	look := func(n *node) uint16 {
		if n == nil {
			return redirect.None
		}
		if n == last {
			return lastIdx
		}
		i, ok := idx[n]
		if !ok {
			i = redirect.None
		}
		last, lastIdx = n, i
		return i
	}
	defer func() {
		s.tableNodes = nodes
		s.dirtySlots = s.dirtySlots[:0]
		s.dirtyAll = false
	}()
	if prev != nil && prev.Owner != nil && !s.dirtyAll && slices.Equal(nodes, s.tableNodes) {
		// Same nodes in the same order as prev: patch the slots changed
		// since (setOwner & co. listed them); the maps share every chunk
		// not changed with prev's.
		own, mig, imp := prev.Owner.Edit(), prev.Migrating.Edit(), prev.Importing.Edit()
		for _, j16 := range s.dirtySlots {
			j := int(j16)
			own.Set(j, look(s.owner[j]))
			mig.Set(j, look(s.migrating[j]))
			imp.Set(j, look(s.importing[j]))
		}
		t.Owner, t.Migrating, t.Importing = own.Done(), mig.Done(), imp.Done()
		return t
	}
	own, mig, imp := &s.scratch[0], &s.scratch[1], &s.scratch[2]
	*mig, *imp = noneSlots, noneSlots
	for j := 0; j < NumSlots; j++ {
		if o := s.owner[j]; o == last {
			own[j] = lastIdx
		} else {
			own[j] = look(o)
		}
		if m := s.migrating[j]; m != nil {
			mig[j] = look(m)
		}
		if i := s.importing[j]; i != nil {
			imp[j] = look(i)
		}
	}
	var po, pm, pi *redirect.SlotMap
	if prev != nil {
		po, pm, pi = prev.Owner, prev.Migrating, prev.Importing
	}
	t.Owner, t.Migrating, t.Importing = redirect.SlotMapOf(po, own), redirect.SlotMapOf(pm, mig), redirect.SlotMapOf(pi, imp)
	return t
}
