package node

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/slotkv/slotkv/clusterbus"
	"github.com/slotkv/slotkv/migrate"
	"github.com/slotkv/slotkv/slots"
)

// The whole-slot fast path (shaped after Valkey 9's atomic slot migration):
//
//	CLUSTER MIGRATESLOTS SLOTSRANGE start end [start end ...] NODE node-id
//	CLUSTER GETSLOTMIGRATIONS
//	CLUSTER CANCELSLOTMIGRATIONS
//
// MIGRATESLOTS runs on the source and returns at once; the move runs in the
// background. Slots move in groups: one pipelined round trip opens a group
// (IMPORTING on the target), every key of a slot then travels in large
// pipelined RESTORE-ASKING batches with the slot's lock held for one batch
// at a time (other slots are never blocked), keys are deleted here only once
// the target acknowledged them, and one more round trip hands the group over
// (SETSLOT NODE on the target, which bumps its config epoch, then here; the
// bus spreads it). Clients keep working throughout: existing keys are
// served here, new ones are sent to the target with ASK, exactly as with
// redis-cli's key-by-key MIGRATE — only without a round trip per ten keys.

const (
	fastGroupSlots = 256     // slots opened/handed over per round trip
	fastBatchKeys  = 2000    // keys per RESTORE pipeline
	fastBatchBytes = 8 << 20 // payload bytes per RESTORE pipeline
)

var (
	fastJobsMu sync.Mutex
	fastJobs   []*migrate.Job
	fastJobSeq int
)

func init() {
	cl := commands["cluster"]
	if cl == nil || cl.Sub == nil {
		panic("cmd_migrateslots.go: the CLUSTER container must be registered first (cmd_cluster.go)")
	}
	add := func(name string, arity int, flags Flag, summary string, proc func(c *Client)) {
		cl.Sub[name] = &Command{Name: "cluster|" + name, Arity: arity, Flags: flags, Group: "cluster", Since: "9.0.0",
			Summary: summary, ACL: []string{"@admin", "@slow", "@dangerous"}, Proc: proc}
	}
	add("migrateslots", -6, FlagAdmin|FlagNoScript, "Migrates whole slot ranges to another node in one streamed transfer (slotkv fast path).", cmdMigrateSlots)
	add("getslotmigrations", 2, FlagAdmin|FlagStale, "Lists whole-slot migrations started on this node and their progress.", cmdGetSlotMigrations)
	add("cancelslotmigrations", 2, FlagAdmin, "Cancels the running whole-slot migrations of this node.", cmdCancelSlotMigrations)
	add("setslots", -5, FlagAdmin|FlagNoScript, "slotkv internal: CLUSTER SETSLOTS IMPORTING|MIGRATING|NODE|STABLE node-id|- slot [slot ...], many SETSLOTs with one nodes.conf save.", cmdSetSlots)
}

// cmdSetSlots is CLUSTER SETSLOTS action node-id|- slot [slot ...]: the same
// checks and effects as one CLUSTER SETSLOT per slot, saved once.
func cmdSetSlots(c *Client) {
	b := c.srv.ClusterBus()
	if b == nil {
		c.W.Error("ERR This instance has cluster support disabled")
		return
	}
	action, id := string(c.Argv[2]), string(c.Argv[3])
	var actions [][]string
	for _, a := range c.Argv[4:] {
		if id == "-" {
			actions = append(actions, []string{string(a), action})
		} else {
			actions = append(actions, []string{string(a), action, id})
		}
	}
	replyErr(c, b.SetSlots(actions))
}

// setSlotsCmd builds the CLUSTER SETSLOTS command for a group.
func setSlotsCmd(action, id string, group []int) [][]byte {
	cmd := [][]byte{[]byte("CLUSTER"), []byte("SETSLOTS"), []byte(action), []byte(id)}
	for _, sl := range group {
		cmd = append(cmd, []byte(strconv.Itoa(sl)))
	}
	return cmd
}

func localSetSlots(action, id string, group []int) [][]string {
	var out [][]string
	for _, sl := range group {
		if id == "-" {
			out = append(out, []string{strconv.Itoa(sl), action})
		} else {
			out = append(out, []string{strconv.Itoa(sl), action, id})
		}
	}
	return out
}

func cmdMigrateSlots(c *Client) {
	s := c.srv
	b := s.ClusterBus()
	if b == nil {
		c.W.Error("ERR This instance has cluster support disabled")
		return
	}
	var ranges []migrate.Range
	target := ""
	argv := c.Argv
	for i := 2; i < len(argv); {
		switch {
		case dumpArgIs(argv[i], "slotsrange"):
			i++
			for i+1 < len(argv) && !dumpArgIs(argv[i], "node") && !dumpArgIs(argv[i], "slotsrange") {
				a, err1 := slots.ParseSlot(string(argv[i]))
				z, err2 := slots.ParseSlot(string(argv[i+1]))
				if err1 != nil || err2 != nil {
					c.W.Error("ERR Invalid or out of range slot")
					return
				}
				if z < a {
					c.W.Error(fmt.Sprintf("ERR start slot number %d is greater than end slot number %d", a, z))
					return
				}
				ranges = append(ranges, migrate.Range{Start: a, End: z})
				i += 2
			}
		case dumpArgIs(argv[i], "node") && i+1 < len(argv):
			target = string(argv[i+1])
			i += 2
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	if len(ranges) == 0 || target == "" {
		c.W.Error(ErrSyntax)
		return
	}
	t := b.Table()
	me := t.Nodes[t.Self].ID
	if target == me {
		c.W.Error("ERR Can't migrate slots to myself")
		return
	}
	endpoint := ""
	for _, n := range t.Nodes {
		if n.ID == target {
			endpoint = n.Endpoint
		}
	}
	if endpoint == "" || !b.KnowsNode(target) {
		c.W.Error("ERR Unknown node " + target)
		return
	}
	seen := map[int]bool{}
	for _, r := range ranges {
		for sl := r.Start; sl <= r.End; sl++ {
			if seen[sl] {
				c.W.Error(fmt.Sprintf("ERR Slot %d specified multiple times", sl))
				return
			}
			seen[sl] = true
			if t.Owner[sl] != t.Self {
				c.W.Error(fmt.Sprintf("ERR I'm not the owner of hash slot %d", sl))
				return
			}
			if t.Migrating[sl] != 0xFFFF || t.Importing[sl] != 0xFFFF {
				c.W.Error(fmt.Sprintf("ERR Slot %d is already being migrated or imported", sl))
				return
			}
		}
	}
	fastJobsMu.Lock()
	for _, j := range fastJobs {
		if st := j.State(); st < migrate.Done {
			for _, sl := range j.Slots() {
				if seen[sl] {
					fastJobsMu.Unlock()
					c.W.Error(fmt.Sprintf("ERR Slot %d is already part of migration %s", sl, j.ID))
					return
				}
			}
		}
	}
	fastJobSeq++
	job := migrate.NewJob(fmt.Sprintf("%s-%d", me[:8], fastJobSeq), ranges, target, endpoint)
	fastJobs = append(fastJobs, job)
	if len(fastJobs) > 100 {
		fastJobs = fastJobs[len(fastJobs)-100:]
	}
	fastJobsMu.Unlock()
	s.Log.Info("whole-slot migration started", "job", job.ID, "slots", job.RangesString(), "target", target, "endpoint", endpoint)
	go s.runFastMigration(job, b, me)
	c.W.OK()
}

// runFastMigration drives one job to a terminal state.
func (s *Server) runFastMigration(job *migrate.Job, b *clusterbus.Bus, me string) {
	start := time.Now()
	pool := s.migratePool()
	conn, err := pool.Get(job.Endpoint, 5*time.Second)
	if err != nil {
		job.Fail(fmt.Errorf("connecting to %s: %v", job.Endpoint, err))
		s.Log.Warn("whole-slot migration failed", "job", job.ID, "err", job.Err())
		return
	}
	defer conn.Close() // dedicated to the job, not returned to the pool
	timeout := 60 * time.Second
	if pass := s.Config().MasterAuth; pass != "" {
		args := [][]byte{[]byte("AUTH"), []byte(pass)}
		if u := s.Config().MasterUser; u != "" {
			args = [][]byte{[]byte("AUTH"), []byte(u), []byte(pass)}
		}
		if r, err := conn.Pipeline([][][]byte{args}, timeout); err != nil || !r[0].OK {
			job.Fail(fmt.Errorf("AUTH on target refused"))
			return
		}
	}
	all := job.Slots()
	for g := 0; g < len(all); g += fastGroupSlots {
		group := all[g:min(g+fastGroupSlots, len(all))]
		if job.Cancelled() {
			job.Advance(migrate.Cancelled)
			break
		}
		if err := s.fastMoveGroup(job, b, conn, me, group, timeout); err != nil {
			job.Fail(err)
			s.Log.Warn("whole-slot migration failed; open slots can be closed with clustercli fix / redis-cli --cluster fix",
				"job", job.ID, "err", err, "slots_done", job.SlotsDone.Load())
			return
		}
	}
	job.Advance(migrate.Done)
	el := time.Since(start)
	s.Log.Info("whole-slot migration finished", "job", job.ID, "state", job.State().String(), "slots", job.SlotsDone.Load(),
		"keys", job.KeysMoved.Load(), "bytes", job.BytesMoved.Load(), "took", el.Round(time.Millisecond),
		"keys_per_sec", int(float64(job.KeysMoved.Load())/el.Seconds()))
}

// fastMoveGroup opens, moves and hands over one group of slots.
func (s *Server) fastMoveGroup(job *migrate.Job, b *clusterbus.Bus, conn *migrate.Conn, me string, group []int, timeout time.Duration) error {
	job.Advance(migrate.Opening)
	if err := pipelineOK(conn, [][][]byte{setSlotsCmd("IMPORTING", me, group)}, timeout); err != nil {
		return fmt.Errorf("opening slots on the target: %w", err)
	}
	if err := b.SetSlots(localSetSlots("migrating", job.Target, group)); err != nil {
		s.closeOpened(b, conn, group, timeout)
		return fmt.Errorf("SETSLOT MIGRATING: %v", err)
	}
	job.Advance(migrate.Moving)
	for _, sl := range group {
		for {
			n, err := s.fastMoveBatch(job, conn, sl, timeout)
			if err != nil {
				return fmt.Errorf("moving slot %d: %w", sl, err)
			}
			if n == 0 {
				break
			}
		}
	}
	job.Advance(migrate.Handoff)
	if err := pipelineOK(conn, [][][]byte{setSlotsCmd("NODE", job.Target, group)}, timeout); err != nil {
		return fmt.Errorf("handing slots over to the target: %w", err)
	}
	if err := b.SetSlots(localSetSlots("node", job.Target, group)); err != nil && !ownedBy(b, job.Target, group) {
		// The target's epoch bump may reach us by gossip first; if this
		// node then gave away its last slot it is now a replica and refuses
		// SETSLOT — which is fine as long as the target owns the group.
		return fmt.Errorf("SETSLOT NODE here: %v", err)
	}
	job.SlotsDone.Add(int64(len(group)))
	return nil
}

// ownedBy reports whether this node's view gives every slot of group to id.
func ownedBy(b *clusterbus.Bus, id string, group []int) bool {
	t := b.Table()
	for _, sl := range group {
		o := t.Owner[sl]
		if o == 0xFFFF || t.Nodes[o].ID != id {
			return false
		}
	}
	return true
}

// closeOpened undoes the IMPORTING markers of a group that never started.
func (s *Server) closeOpened(b *clusterbus.Bus, conn *migrate.Conn, group []int, timeout time.Duration) {
	b.SetSlots(localSetSlots("stable", "-", group))
	conn.Pipeline([][][]byte{setSlotsCmd("STABLE", "-", group)}, timeout)
}

// fastMoveBatch sends one batch of slot sl's keys and deletes what the
// target acknowledged. The slot stays locked for the batch's round trip.
func (s *Server) fastMoveBatch(job *migrate.Job, conn *migrate.Conn, sl int, timeout time.Duration) (int, error) {
	slot := s.KS.Slot(sl)
	slot.Lock()
	defer slot.Unlock()
	if slot.Len() == 0 {
		return 0, nil
	}
	now := nowMs()
	var keys []string
	var cmds [][][]byte
	size := 0
	var encErr error
	slot.Each(func(key string, e *Entry) bool {
		if e.Exp != 0 && e.Exp <= now {
			return true // expired: dropped below, never sent
		}
		payload, err := AppendDumpPayload(nil, e)
		if err != nil {
			encErr = err
			return false
		}
		ttl := int64(0)
		if e.Exp != 0 {
			ttl = e.Exp - now
			if ttl < 1 {
				ttl = 1
			}
		}
		cmds = append(cmds, [][]byte{[]byte("RESTORE-ASKING"), []byte(key), []byte(strconv.FormatInt(ttl, 10)), payload, []byte("REPLACE")})
		keys = append(keys, key)
		size += len(payload) + len(key)
		return len(keys) < fastBatchKeys && size < fastBatchBytes
	})
	if encErr != nil {
		return 0, encErr
	}
	if len(keys) == 0 {
		// Only expired keys are left: expire them now.
		var dead []string
		slot.Each(func(key string, e *Entry) bool { dead = append(dead, key); return true })
		for _, k := range dead {
			slot.Delete([]byte(k), now)
			s.propagate(nil, [][]byte{[]byte("DEL"), []byte(k)})
		}
		return len(dead), nil
	}
	replies, err := conn.Pipeline(cmds, timeout)
	for i, r := range replies {
		if !r.OK {
			continue
		}
		slot.Delete([]byte(keys[i]), now)
		s.propagate(nil, [][]byte{[]byte("DEL"), []byte(keys[i])})
		job.KeysMoved.Add(1)
	}
	job.BytesMoved.Add(int64(size))
	if err != nil {
		return 0, err
	}
	for _, r := range replies {
		if !r.OK {
			return 0, errors.New("target replied: " + r.Err)
		}
	}
	return len(keys), nil
}

func pipelineOK(conn *migrate.Conn, cmds [][][]byte, timeout time.Duration) error {
	replies, err := conn.Pipeline(cmds, timeout)
	if err != nil {
		return err
	}
	for _, r := range replies {
		if !r.OK {
			return errors.New(r.Err)
		}
	}
	return nil
}

func cmdGetSlotMigrations(c *Client) {
	fastJobsMu.Lock()
	jobs := append([]*migrate.Job(nil), fastJobs...)
	fastJobsMu.Unlock()
	c.W.Array(len(jobs))
	for _, j := range jobs {
		fields := [][2]string{
			{"name", j.ID},
			{"operation", "EXPORT"},
			{"slot_ranges", j.RangesString()},
			{"target_node", j.Target},
			{"state", j.State().String()},
			{"slots_migrated", strconv.FormatInt(j.SlotsDone.Load(), 10)},
			{"keys_migrated", strconv.FormatInt(j.KeysMoved.Load(), 10)},
			{"bytes_migrated", strconv.FormatInt(j.BytesMoved.Load(), 10)},
			{"create_time", strconv.FormatInt(j.Created.Unix(), 10)},
			{"error", j.Err()},
		}
		if f := j.Finished(); !f.IsZero() {
			fields = append(fields, [2]string{"duration_ms", strconv.FormatInt(f.Sub(j.Created).Milliseconds(), 10)})
		}
		c.W.Map(len(fields))
		for _, f := range fields {
			c.W.BulkString(f[0])
			c.W.BulkString(f[1])
		}
	}
}

func cmdCancelSlotMigrations(c *Client) {
	fastJobsMu.Lock()
	n := 0
	for _, j := range fastJobs {
		if j.State() < migrate.Done {
			j.Cancel()
			n++
		}
	}
	fastJobsMu.Unlock()
	if n > 0 {
		c.srv.Log.Info("cancelling whole-slot migrations", "jobs", n)
	}
	c.W.OK()
}
