package node

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	fastGroupSlots = 1024    // slots opened/handed over per round trip
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
			if t.Owner.Get(sl) != t.Self {
				c.W.Error(fmt.Sprintf("ERR I'm not the owner of hash slot %d", sl))
				return
			}
			if t.Migrating.Get(sl) != 0xFFFF || t.Importing.Get(sl) != 0xFFFF {
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
	timeout := 60 * time.Second
	// Keys travel over several connections at once (contiguous sub-ranges
	// of each group), so the target restores them on several cores.
	n := min(max(runtime.GOMAXPROCS(0), 2), 8)
	st := &fastStats{}
	movers := make([]*fastMover, 0, n)
	defer func() {
		for _, mv := range movers {
			mv.conn.Close() // dedicated to the job, not returned to the pool
		}
	}()
	for range n {
		conn, err := s.dialMigrationTarget(job.Endpoint, timeout)
		if err != nil {
			job.Fail(err)
			s.Log.Warn("whole-slot migration failed", "job", job.ID, "err", job.Err())
			return
		}
		movers = append(movers, &fastMover{s: s, job: job, conn: conn, timeout: timeout, stats: st})
	}
	if info, err := movers[0].conn.Text([][]byte{[]byte("INFO"), []byte("replication")}, timeout); err == nil && connectedReplicas(info) > 0 {
		ms := max(s.Config().ClusterNodeTimeout.Milliseconds()/2, 1000)
		wait := migrate.AppendCommand(nil, [][]byte{[]byte("WAIT"), []byte("1"), []byte(strconv.FormatInt(ms, 10))})
		for _, mv := range movers {
			mv.waitCmd = wait
		}
	}
	all := job.Slots()
	sort.Ints(all) // batches lock slots in ascending order
	for g := 0; g < len(all); g += fastGroupSlots {
		group := all[g:min(g+fastGroupSlots, len(all))]
		if job.Cancelled() {
			job.Advance(migrate.Cancelled)
			break
		}
		if err := s.fastMoveGroup(job, b, movers, st, me, group, timeout); err != nil {
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
		"keys_per_sec", int(float64(job.KeysMoved.Load())/el.Seconds()), "streams", n, "replica_acks", movers[0].waitCmd != nil,
		"opening", st.open.Round(time.Millisecond), "moving", st.moving.Round(time.Millisecond),
		"handing_over", st.handoff.Round(time.Millisecond), "batches", st.batches.Load())
}

// connectedReplicas reads connected_slaves from INFO replication text.
func connectedReplicas(info string) int {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "connected_slaves:"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// fastStats are a job's phase durations and batch count, logged at the end.
type fastStats struct {
	open, moving, handoff time.Duration
	batches               atomic.Int64
}

// dialMigrationTarget opens a dedicated, authenticated connection to addr.
func (s *Server) dialMigrationTarget(addr string, timeout time.Duration) (*migrate.Conn, error) {
	conn, err := s.migratePool().Get(addr, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %v", addr, err)
	}
	if pass := s.Config().MasterAuth; pass != "" {
		args := [][]byte{[]byte("AUTH"), []byte(pass)}
		if u := s.Config().MasterUser; u != "" {
			args = [][]byte{[]byte("AUTH"), []byte(u), []byte(pass)}
		}
		if r, err := conn.Pipeline([][][]byte{args}, timeout); err != nil || !r[0].OK {
			conn.Close()
			return nil, fmt.Errorf("AUTH on target refused")
		}
	}
	return conn, nil
}

// fastMoveGroup opens, moves and hands over one group of slots.
func (s *Server) fastMoveGroup(job *migrate.Job, b *clusterbus.Bus, movers []*fastMover, st *fastStats, me string, group []int, timeout time.Duration) error {
	conn := movers[0].conn
	job.Advance(migrate.Opening)
	t0 := time.Now()
	defer func() { st.handoff += time.Since(t0) }()
	if err := pipelineOK(conn, [][][]byte{setSlotsCmd("IMPORTING", me, group)}, timeout); err != nil {
		return fmt.Errorf("opening slots on the target: %w", err)
	}
	if err := b.SetSlots(localSetSlots("migrating", job.Target, group)); err != nil {
		s.closeOpened(b, conn, group, timeout)
		return fmt.Errorf("SETSLOT MIGRATING: %v", err)
	}
	job.Advance(migrate.Moving)
	t1 := time.Now()
	st.open += t1.Sub(t0)
	errs := make([]error, len(movers))
	var wg sync.WaitGroup
	per := (len(group) + len(movers) - 1) / len(movers)
	for i, mv := range movers {
		part := group[min(i*per, len(group)):min((i+1)*per, len(group))]
		if len(part) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = mv.moveKeys(part)
		}()
	}
	wg.Wait()
	t0 = time.Now()
	st.moving += t0.Sub(t1)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("moving keys: %w", err)
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
		o := t.Owner.Get(sl)
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

// fastMover streams the keys of a group of slots to the target as
// pipelined RESTORE-ASKING batches. A batch takes keys from consecutive
// slots (a few dozen keys per slot make one batch span a hundred slots, so
// the move costs a round trip per 2000 keys rather than one per slot) and
// keeps those slots locked — in ascending order, like every multi-slot
// locker — until the target has acknowledged the batch, so a key cannot
// change between being sent and being deleted here. Two batches are in
// flight: the next one is built and written while the target still works
// on the previous one, so neither side waits for the other's scheduling.
// Buffers are reused across batches.
type fastMover struct {
	s       *Server
	job     *migrate.Job
	conn    *migrate.Conn
	timeout time.Duration
	payload []byte // scratch for one DUMP payload
	num     [20]byte
	delArgv [][]byte
	batches [2]fastBatch
	stats   *fastStats
	// waitCmd, when set, ends every batch with WAIT 1 <ms>: keys are
	// deleted here only once one of the target's replicas has them too, so
	// a target that dies mid-move and is replaced by its replica loses
	// nothing (Redis's MIGRATE deletes on the target's word alone).
	waitCmd []byte
}

// fastBatch is one pipelined exchange.
type fastBatch struct {
	buf     []byte     // the pipeline
	keys    []string   // keys sent, in order
	owner   []int      // index into locked of each key's slot
	dead    [][]string // per locked slot: expired keys to drop
	locked  []*Slot    // slots held until the batch is acknowledged
	partial bool       // the last locked slot has keys left for the next batch
	replies []migrate.Reply
	size    int
	now     int64
}

func (b *fastBatch) reset(now int64) {
	b.buf, b.keys, b.owner, b.locked, b.size, b.partial, b.now = b.buf[:0], b.keys[:0], b.owner[:0], b.locked[:0], 0, false, now
}

func (b *fastBatch) full() bool { return len(b.keys) >= fastBatchKeys || b.size >= fastBatchBytes }

func (b *fastBatch) unlock() {
	for _, sl := range b.locked {
		sl.Unlock()
	}
	b.locked = b.locked[:0]
}

// build locks slots from group[i:] and encodes their keys until the batch
// is full; it returns the index of the first slot not finished.
func (m *fastMover) build(b *fastBatch, group []int, i int) (int, error) {
	b.reset(nowMs())
	for i < len(group) && !b.full() {
		slot := m.s.KS.Slot(group[i])
		slot.Lock()
		li := len(b.locked)
		b.locked = append(b.locked, slot)
		if li < len(b.dead) {
			b.dead[li] = b.dead[li][:0]
		} else {
			b.dead = append(b.dead, nil)
		}
		more, err := m.fill(b, slot, li)
		if err != nil {
			return i, err
		}
		if more {
			b.partial = true
			return i, nil // a big slot continues in the next batch
		}
		i++
	}
	return i, nil
}

// fill encodes keys of slot (locked, recorded as b.locked[li]) until the
// batch is full; it reports whether the slot has keys left.
func (m *fastMover) fill(b *fastBatch, slot *Slot, li int) (more bool, err error) {
	slot.Each(func(key string, e *Entry) bool {
		if b.full() {
			more = true
			return false
		}
		if e.Exp != 0 && e.Exp <= b.now {
			b.dead[li] = append(b.dead[li], key) // expired: dropped here, never sent
			return true
		}
		m.payload, err = AppendDumpPayload(m.payload[:0], e)
		if err != nil {
			return false
		}
		ttl := int64(0)
		if e.Exp != 0 {
			ttl = max(e.Exp-b.now, 1)
		}
		b.buf = append(b.buf, "*5\r\n$14\r\nRESTORE-ASKING\r\n"...)
		b.buf = migrate.AppendBulk(b.buf, key)
		b.buf = migrate.AppendBulk(b.buf, strconv.AppendInt(m.num[:0], ttl, 10))
		b.buf = migrate.AppendBulk(b.buf, m.payload)
		b.buf = append(b.buf, "$7\r\nREPLACE\r\n"...)
		b.keys = append(b.keys, key)
		b.owner = append(b.owner, li)
		b.size += len(m.payload) + len(key)
		return true
	})
	return more, err
}

// moveKeys moves every key of group (ascending slots) to the target, with
// up to two batches in flight. On error every slot is unlocked; keys not
// acknowledged stay here (the slots stay open for fix).
func (m *fastMover) moveKeys(group []int) (err error) {
	var prev *fastBatch
	defer func() {
		if prev != nil {
			prev.unlock()
		}
	}()
	i, k := 0, 0
	for i < len(group) || prev != nil {
		var cur *fastBatch
		if i < len(group) {
			if prev != nil && prev.partial {
				// The next slot is still locked by prev: finish it first.
				p := prev
				prev = nil
				if err := m.finish(p); err != nil {
					return err
				}
			}
			cur = &m.batches[k]
			k ^= 1
			if i, err = m.build(cur, group, i); err == nil && len(cur.keys) > 0 {
				cur.buf = append(cur.buf, m.waitCmd...)
				err = m.conn.Send(cur.buf, m.timeout)
				m.stats.batches.Add(1)
			}
			if err != nil {
				cur.unlock()
				if prev != nil { // delete what the target did acknowledge
					p := prev
					prev = nil
					m.finish(p)
				}
				return err
			}
		}
		if prev != nil {
			p := prev
			prev = nil
			if err := m.finish(p); err != nil {
				if cur != nil {
					cur.unlock()
				}
				return err
			}
		}
		prev = cur
	}
	return nil
}

// finish reads the batch's replies, then deletes (and propagates DEL for)
// every key the target acknowledged and every expired key met, and unlocks
// the batch's slots.
func (m *fastMover) finish(b *fastBatch) error {
	defer b.unlock()
	var err error
	b.replies = b.replies[:0]
	if len(b.keys) > 0 {
		n := len(b.keys)
		if m.waitCmd != nil {
			n++
		}
		b.replies, err = m.conn.Receive(n, m.timeout, b.replies)
		if err != nil && m.waitCmd != nil {
			b.replies = b.replies[:0] // no replica acknowledgement: delete nothing
		}
		if err == nil && m.waitCmd != nil {
			w := b.replies[n-1]
			b.replies = b.replies[:n-1]
			if !w.OK || w.Int < 1 {
				// Not on a replica yet: keep every key here too (the
				// slots stay open; fix closes them).
				b.replies = b.replies[:0]
				err = fmt.Errorf("the target's replica did not acknowledge the batch in time (WAIT 1: %d %s)", w.Int, w.Err)
			}
		}
	}
	acked := 0
	for li, slot := range b.locked {
		m.delArgv = append(m.delArgv[:0], []byte("DEL"))
		for _, k := range b.dead[li] {
			slot.Delete([]byte(k), b.now)
			m.delArgv = append(m.delArgv, []byte(k))
		}
		for ki := range b.replies {
			if b.owner[ki] == li && b.replies[ki].OK {
				slot.Delete([]byte(b.keys[ki]), b.now)
				m.delArgv = append(m.delArgv, []byte(b.keys[ki]))
				acked++
			}
		}
		if len(m.delArgv) > 1 {
			m.s.propagate(nil, m.delArgv)
		}
	}
	m.job.KeysMoved.Add(int64(acked))
	m.job.BytesMoved.Add(int64(b.size))
	if err != nil {
		return err
	}
	for _, r := range b.replies {
		if !r.OK {
			return errors.New("target replied: " + r.Err)
		}
	}
	return nil
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
