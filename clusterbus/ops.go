package clusterbus

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// ReplyError is an error whose text is a complete Redis error reply without
// the leading '-' (for example "ERR Unknown node abc"). Every error returned
// by the CLUSTER operations below is a *ReplyError with Redis 7's text.
type ReplyError struct{ Msg string }

func (e *ReplyError) Error() string { return e.Msg }

func errf(format string, args ...any) error {
	return &ReplyError{Msg: "ERR " + fmt.Sprintf(format, args...)}
}

// ErrSyntax is Redis's shared syntax error.
var ErrSyntax error = &ReplyError{Msg: "ERR syntax error"}

// ErrNotInteger is Redis's "value is not an integer or out of range".
var ErrNotInteger error = &ReplyError{Msg: "ERR value is not an integer or out of range"}

// parseInt parses like Redis's string2ll (no spaces, no '+', no leading
// zeros except "0").
func parseInt(s string) (int64, bool) {
	if s == "" || len(s) > 20 {
		return 0, false
	}
	if s[0] == '+' || (len(s) > 1 && s[0] == '0') || (len(s) > 2 && s[0] == '-' && s[1] == '0') || s == "-" {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

// getSlot is getSlotOrReply.
func getSlot(s string) (int, error) {
	v, ok := parseInt(s)
	if !ok || v < 0 || v >= NumSlots {
		return 0, errf("Invalid or out of range slot")
	}
	return int(v), nil
}

// Meet is CLUSTER MEET ip port [cport] (cport "" when absent). It returns at
// once; the handshake (a memberlist Join) runs in the background.
func (b *Bus) Meet(ip, port, cport string) error {
	p, ok := parseInt(port)
	if !ok {
		return errf("Invalid TCP base port specified: %s", port)
	}
	cp := p + 10000
	if cport != "" {
		if cp, ok = parseInt(cport); !ok {
			return errf("Invalid TCP bus port specified: %s", cport)
		}
	}
	parsed := net.ParseIP(ip)
	if parsed == nil || p <= 0 || p > 65535 || cp <= 0 || cp > 65535 {
		return errf("Invalid node address specified: %s:%s", ip, port)
	}
	addr := joinHostPort(parsed.String(), int(cp))
	b.addMeet(addr)
	b.locked(func(s *state) {
		s.statsSent["meet"]++
		s.out = append(s.out, outMsg{kind: outJoin, data: []byte(addr)})
	})
	return nil
}

// Forget is CLUSTER FORGET id: the node is removed and banned for 60 s so
// gossip from nodes that still know it does not bring it back.
func (b *Bus) Forget(id string) error {
	var err error
	b.locked(func(s *state) {
		n := s.nodes[id]
		switch {
		case n == nil:
			err = errf("Unknown node %s", id)
		case n == s.myself:
			err = errf("I tried hard but I can't forget myself...")
		case s.myself.isReplica() && s.myself.masterID == n.id:
			err = errf("Can't forget my master!")
		default:
			s.banned[id] = time.Now().Add(blacklistTTL)
			s.delNode(n)
			s.stateChanged = true
			s.forceSave = true
		}
	})
	return err
}

// Reset is CLUSTER RESET [SOFT|HARD]. wasReplica tells the caller to empty
// its keyspace (Redis flushes a reset replica's data). The node leaves the
// bus and starts a fresh memberlist (with a new id after HARD).
func (b *Bus) Reset(hard bool) (wasReplica bool, err error) {
	b.mu.Lock()
	if b.st.myself.isMaster() && b.st.keyCount() != 0 {
		b.mu.Unlock()
		return false, errf("CLUSTER RESET can't be called with master nodes containing keys")
	}
	b.mu.Unlock()
	b.lmu.Lock()
	defer b.lmu.Unlock()
	running := b.started && !b.closed
	if running {
		// Leave first, so the old memberlist cannot re-add peers to the
		// table we are about to clear.
		b.stopMemberlist()
	}
	b.locked(func(s *state) {
		me := s.myself
		wasReplica = me.isReplica()
		if wasReplica {
			s.setMyselfMaster()
		}
		for j := 0; j < NumSlots; j++ {
			s.setOwner(j, nil)
			s.setMigrating(j, nil)
			s.setImporting(j, nil)
		}
		for id, n := range s.nodes {
			if n != me {
				delete(s.nodes, id)
			}
		}
		s.releases = nil
		if hard {
			s.currentEpoch, s.lastVoteEpoch = 0, 0
			me.configEpoch = 0
			delete(s.nodes, me.id)
			me.id = randomID()
			me.shardID = randomID()
			s.nodes[me.id] = me
			b.log.Info("node hard reset, now I'm " + me.id)
		} else {
			if wasReplica {
				me.shardID = randomID()
			}
			b.log.Info("node soft reset")
		}
		me.failReports = nil
		s.selfRec = nil
		s.pubBody = ""
		s.tableDirty = true
		s.stateChanged = true
		s.forceSave = true
	})
	b.meetMu.Lock()
	b.meets = nil
	b.meetMu.Unlock()
	if running {
		if e := b.startMemberlist(); e != nil {
			b.log.Error("cluster bus restart after RESET failed", "err", e)
			return wasReplica, errf("%s", e.Error())
		}
	}
	return wasReplica, nil
}

// checkSlotAssignments is checkSlotAssignmentsOrReply.
func (s *state) checkSlotAssignments(seen []byte, del bool, start, end int) error {
	for j := start; j <= end; j++ {
		if del && s.owner[j] == nil {
			return errf("Slot %d is already unassigned", j)
		} else if !del && s.owner[j] != nil {
			return errf("Slot %d is already busy", j)
		}
		seen[j]++
		if seen[j] == 2 {
			return errf("Slot %d specified multiple times", j)
		}
	}
	return nil
}

func (s *state) updateSlots(seen []byte, del bool) {
	for j := 0; j < NumSlots; j++ {
		if seen[j] == 0 {
			continue
		}
		if del {
			s.setOwner(j, nil)
		} else {
			s.setImporting(j, nil)
			s.setOwner(j, s.myself)
		}
	}
	s.releases = nil
	s.tableDirty = true
	s.stateChanged = true
	s.forceSave = true
}

// AddSlots is CLUSTER ADDSLOTS slot...; DelSlots is CLUSTER DELSLOTS.
func (b *Bus) AddSlots(args []string) error { return b.addDelSlots(args, false) }

// DelSlots is CLUSTER DELSLOTS slot...
func (b *Bus) DelSlots(args []string) error { return b.addDelSlots(args, true) }

func (b *Bus) addDelSlots(args []string, del bool) error {
	slots := make([]int, len(args))
	for i, a := range args {
		v, err := getSlot(a)
		if err != nil {
			return err
		}
		slots[i] = v
	}
	var err error
	b.locked(func(s *state) {
		seen := make([]byte, NumSlots)
		for _, j := range slots {
			if err = s.checkSlotAssignments(seen, del, j, j); err != nil {
				return
			}
		}
		s.updateSlots(seen, del)
	})
	return err
}

// AddSlotsRange is CLUSTER ADDSLOTSRANGE start end [start end ...]; the
// caller checks that len(args) is even and non-zero (arity error).
func (b *Bus) AddSlotsRange(args []string) error { return b.addDelSlotsRange(args, false) }

// DelSlotsRange is CLUSTER DELSLOTSRANGE start end [start end ...].
func (b *Bus) DelSlotsRange(args []string) error { return b.addDelSlotsRange(args, true) }

func (b *Bus) addDelSlotsRange(args []string, del bool) error {
	if len(args) == 0 || len(args)%2 != 0 {
		return ErrSyntax
	}
	type rng struct{ a, z int }
	var rs []rng
	for i := 0; i < len(args); i += 2 {
		a, err := getSlot(args[i])
		if err != nil {
			return err
		}
		z, err := getSlot(args[i+1])
		if err != nil {
			return err
		}
		if a > z {
			return errf("start slot number %d is greater than end slot number %d", a, z)
		}
		rs = append(rs, rng{a, z})
	}
	var err error
	b.locked(func(s *state) {
		seen := make([]byte, NumSlots)
		for _, r := range rs {
			if err = s.checkSlotAssignments(seen, del, r.a, r.z); err != nil {
				return
			}
		}
		s.updateSlots(seen, del)
	})
	return err
}

// FlushSlots is CLUSTER FLUSHSLOTS.
func (b *Bus) FlushSlots() error {
	var err error
	b.locked(func(s *state) {
		if s.keyCount() != 0 {
			err = errf("DB must be empty to perform CLUSTER FLUSHSLOTS.")
			return
		}
		for j := 0; j < NumSlots; j++ {
			if s.owner[j] == s.myself {
				s.setOwner(j, nil)
			}
		}
		s.tableDirty = true
		s.stateChanged = true
		s.forceSave = true
	})
	return err
}

// SetSlot is CLUSTER SETSLOT with args = slot action [node-id]. The caller
// checks arity (at least 2 args).
func (b *Bus) SetSlot(args []string) error {
	var err error
	b.locked(func(s *state) { err = s.setSlot(args) })
	return err
}

func (s *state) setSlot(args []string) error {
	me := s.myself
	if me.isReplica() {
		return errf("Please use SETSLOT only with masters.")
	}
	if len(args) < 2 {
		return errf("Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP")
	}
	slot, err := getSlot(args[0])
	if err != nil {
		return err
	}
	action := strings.ToLower(args[1])
	prevOwner, prevMig, prevImp := s.owner[slot], s.migrating[slot], s.importing[slot]
	switch {
	case action == "migrating" && len(args) == 3:
		if s.owner[slot] != me {
			return errf("I'm not the owner of hash slot %d", slot)
		}
		n := s.nodes[args[2]]
		if n == nil {
			return errf("I don't know about node %s", args[2])
		}
		if n.isReplica() {
			return errf("Target node is not a master")
		}
		s.setMigrating(slot, n)
	case action == "importing" && len(args) == 3:
		if s.owner[slot] == me {
			return errf("I'm already the owner of hash slot %d", slot)
		}
		n := s.nodes[args[2]]
		if n == nil {
			return errf("I don't know about node %s", args[2])
		}
		if n.isReplica() {
			return errf("Target node is not a master")
		}
		s.setImporting(slot, n)
	case action == "stable" && len(args) == 2:
		s.setMigrating(slot, nil)
		s.setImporting(slot, nil)
	case action == "node" && len(args) == 3:
		n := s.nodes[args[2]]
		if n == nil {
			return errf("Unknown node %s", args[2])
		}
		if n.isReplica() {
			return errf("Target node is not a master")
		}
		keys := s.keysInSlot(slot)
		if s.owner[slot] == me && n != me && keys != 0 {
			return errf("Can't assign hashslot %d to a different node while I still hold keys for this hash slot.", slot)
		}
		if keys == 0 && s.migrating[slot] != nil {
			s.setMigrating(slot, nil)
		}
		wasMine := s.owner[slot] == me
		s.setOwner(slot, n)
		s.releases = nil
		if wasMine && n != me && s.countSlots(me) == 0 && s.cfg.AllowReplicaMigration {
			s.cfg.Logger.Info("lost my last slot during slot migration, reconfiguring myself as a replica", "master", n.id)
			s.setMaster(n)
		}
		if n == me && s.importing[slot] != nil {
			if s.bumpEpochWithoutConsensus() {
				s.cfg.Logger.Info(fmt.Sprintf("configEpoch updated after importing slot %d", slot))
			}
			s.setImporting(slot, nil)
		}
	default:
		return errf("Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP")
	}
	if s.owner[slot] == prevOwner && s.migrating[slot] == prevMig && s.importing[slot] == prevImp {
		// Nothing changed (e.g. redis-cli's SETSLOT NODE to every master
		// that already learned the new owner by gossip): no save needed.
		return nil
	}
	s.tableDirty = true
	s.stateChanged = true
	s.lightSave = true
	return nil
}

// SetConfigEpoch is CLUSTER SET-CONFIG-EPOCH epoch.
func (b *Bus) SetConfigEpoch(arg string) error {
	v, ok := parseInt(arg)
	if !ok {
		return ErrNotInteger
	}
	if v < 0 {
		return errf("Invalid config epoch specified: %d", v)
	}
	var err error
	b.locked(func(s *state) {
		if len(s.nodes) > 1 {
			err = errf("The user can assign a config epoch only when the node does not know any other node.")
			return
		}
		if s.myself.configEpoch != 0 {
			err = errf("Node config epoch is already non-zero")
			return
		}
		s.myself.configEpoch = uint64(v)
		if s.currentEpoch < uint64(v) {
			s.currentEpoch = uint64(v)
		}
		s.forceSave = true
	})
	return err
}

// BumpEpoch is CLUSTER BUMPEPOCH; it returns the status reply text
// ("BUMPED n" or "STILL n").
func (b *Bus) BumpEpoch() string {
	var out string
	b.locked(func(s *state) {
		bumped := s.bumpEpochWithoutConsensus()
		if bumped {
			out = "BUMPED " + strconv.FormatUint(s.myself.configEpoch, 10)
		} else {
			out = "STILL " + strconv.FormatUint(s.myself.configEpoch, 10)
		}
	})
	return out
}

// Replicate is CLUSTER REPLICATE id: this node becomes a replica of id in
// the cluster view (data replication is driven by the RoleChanged hook).
func (b *Bus) Replicate(id string) error {
	var err error
	b.locked(func(s *state) {
		n := s.nodes[id]
		me := s.myself
		switch {
		case n == nil:
			err = errf("Unknown node %s", id)
		case n == me:
			err = errf("Can't replicate myself")
		case n.isReplica():
			err = errf("I can only replicate a master, not a replica.")
		case me.isMaster() && (s.countSlots(me) != 0 || s.keyCount() != 0):
			err = errf("To set a master the node must be empty and without assigned slots.")
		default:
			s.setMaster(n)
			s.stateChanged = true
		}
	})
	return err
}

// CountFailureReports is CLUSTER COUNT-FAILURE-REPORTS id.
func (b *Bus) CountFailureReports(id string) (int, error) {
	var c int
	var err error
	b.locked(func(s *state) {
		n := s.nodes[id]
		if n == nil {
			err = errf("Unknown node %s", id)
			return
		}
		c = s.failureReportCount(n, time.Now())
	})
	return c, err
}

// SaveConfig is CLUSTER SAVECONFIG.
func (b *Bus) SaveConfig() error {
	b.mu.Lock()
	b.st.forceSave = true
	out, _ := b.finishLocked()
	b.mu.Unlock()
	b.dispatch(out)
	if err := b.saveNow(); err != nil {
		return errf("error saving the cluster node config: %s", err.Error())
	}
	return nil
}

// MyShardID is CLUSTER MYSHARDID.
func (b *Bus) MyShardID() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st.myself.shardID
}

// IsReplica reports whether this node is a replica in the cluster view.
func (b *Bus) IsReplica() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st.myself.isReplica()
}

// SetReplicationOffset records this node's replication offset; it is
// gossiped (CLUSTER SLOTS leaves out replicas whose offset is 0).
func (b *Bus) SetReplicationOffset(off int64) {
	b.mu.Lock()
	b.st.myself.replOffset = off
	b.mu.Unlock()
}

// KnowsNode reports whether id is in the node table.
func (b *Bus) KnowsNode(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st.nodes[id] != nil
}
