package move

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slotkv/slotkv/tools/clustercli/internal/cluster"
)

// The whole-slot fast path.
//
// A server that can move whole slots itself (Valkey 9's atomic slot
// migration, CLUSTER MIGRATESLOTS; the slotkv server's equivalent) makes
// per-key round trips unnecessary. clustercli uses such a path only when
// every node of a job is a slotkv node (INFO server reports
// "slotkv_version:") AND the server advertises the command (COMMAND INFO
// of it returns a non-nil entry). Everything else goes through
// MigrateMover.
//
// To support another server-side protocol, implement FastPath and add it to
// FastPaths.

// FastPath is a server-side whole-slot migration protocol.
type FastPath interface {
	// Command is the command name as accepted by COMMAND INFO
	// (e.g. "cluster|migrateslots").
	Command() string
	// NewMover returns a Mover using this protocol.
	NewMover(opts Options) Mover
}

// FastPaths lists the known protocols, in order of preference.
var FastPaths = []FastPath{migrateSlotsPath{}}

// Advertises reports whether n advertises cmd through COMMAND INFO.
func Advertises(ctx context.Context, n *cluster.Node, cmd string) bool {
	res, err := n.Client.Do(ctx, "COMMAND", "INFO", cmd).Slice()
	return err == nil && len(res) == 1 && res[0] != nil
}

// DetectFastPath returns the first FastPath that every node in nodes
// supports (all must be slotkv nodes advertising the command), or nil.
func DetectFastPath(ctx context.Context, nodes []*cluster.Node) FastPath {
	if len(nodes) == 0 {
		return nil
	}
	for _, n := range nodes {
		if n.SlotkvVersion == "" {
			return nil
		}
	}
	for _, fp := range FastPaths {
		var no atomic.Bool
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Add(1)
			go func(n *cluster.Node) {
				defer wg.Done()
				if !Advertises(ctx, n, fp.Command()) {
					no.Store(true)
				}
			}(n)
		}
		wg.Wait()
		if !no.Load() {
			return fp
		}
	}
	return nil
}

// migrateSlotsPath drives CLUSTER MIGRATESLOTS SLOTSRANGE a b [a b ...]
// NODE <target-id> on the source, then polls CLUSTER GETSLOTMIGRATIONS on
// the source until the job reports success or failure (the shape of
// Valkey 9's atomic slot migration).
type migrateSlotsPath struct{}

func (migrateSlotsPath) Command() string { return "cluster|migrateslots" }

func (migrateSlotsPath) NewMover(opts Options) Mover { return &migrateSlotsMover{opts: opts} }

type migrateSlotsMover struct{ opts Options }

func (m *migrateSlotsMover) Name() string { return "CLUSTER MIGRATESLOTS" }

// MoveSlots implements Mover: one server-side job per Job.
func (m *migrateSlotsMover) MoveSlots(ctx context.Context, job Job) error {
	if job.stopped() {
		return ErrStopped
	}
	args := []any{"CLUSTER", "MIGRATESLOTS", "SLOTSRANGE"}
	for _, r := range cluster.RangesOf(job.Slots) {
		args = append(args, r.From, r.To)
	}
	args = append(args, "NODE", job.Dst.ID)
	if err := job.Src.Client.Do(ctx, args...).Err(); err != nil {
		// Nothing was started: the slots are untouched.
		return &MoveError{Err: fmt.Errorf("%s: %s: %w", job.Src.Addr(), cmdString(args), err), RolledBack: job.Slots}
	}
	var want cluster.SlotSet
	for _, s := range job.Slots {
		want.Add(s)
	}
	deadline := time.Now().Add(max(10*time.Minute, 10*m.opts.Timeout))
	var keys, slots int64
	// Poll quickly at first (small jobs finish in milliseconds), then every
	// 20 ms: often enough for the progress bar and to notice the end, rare
	// enough not to load the source.
	pause := 2 * time.Millisecond
	for {
		st, err := migrationState(ctx, job.Src, job.Dst.ID, &want)
		if err != nil {
			return m.settle(ctx, job, err)
		}
		if d := st.keys - keys; d > 0 {
			m.opts.progress().Keys(int(d))
			keys = st.keys
		}
		for ; slots < st.slots; slots++ {
			m.opts.progress().SlotDone(-1)
		}
		switch st.state {
		case "success", "succeeded", "completed", "done":
			for ; slots < int64(len(job.Slots)); slots++ {
				m.opts.progress().SlotDone(-1)
			}
			return nil
		case "failed", "canceled", "cancelled":
			msg := st.state
			if st.err != "" {
				msg += ": " + st.err
			}
			err := m.settle(ctx, job, fmt.Errorf("%s: server-side migration of slots %s to %s %s", job.Src.Addr(), cluster.FormatRanges(job.Slots), job.Dst.Addr(), msg))
			if me, ok := err.(*MoveError); ok && len(me.Finalized) == len(job.Slots) {
				// The cluster state is the truth: every slot did move.
				m.opts.logf("*** %s reported %q, but every slot reached %s; continuing", job.Src.Addr(), msg, job.Dst.Addr())
				for ; slots < int64(len(job.Slots)); slots++ {
					m.opts.progress().SlotDone(-1)
				}
				return nil
			}
			return err
		}
		if time.Now().After(deadline) {
			return m.settle(ctx, job, fmt.Errorf("server-side migration of slots %s did not finish in time (see CLUSTER GETSLOTMIGRATIONS on %s)", cluster.FormatRanges(job.Slots), job.Src.Addr()))
		}
		time.Sleep(pause)
		pause = min(2*pause, 20*time.Millisecond)
	}
}

// settle classifies the job's slots after a failure from the source's and
// target's own views: moved, untouched, or still open.
func (m *migrateSlotsMover) settle(ctx context.Context, job Job, cause error) error {
	me := &MoveError{Err: cause}
	srcErr, dstErr := job.Src.LoadView(ctx), job.Dst.LoadView(ctx)
	if srcErr != nil || dstErr != nil {
		me.Open = openAll(job, "cannot read the nodes' state; run 'clustercli check'")
		return me
	}
	for _, s := range job.Slots {
		_, mig := job.Src.Migrating[s]
		_, imp := job.Dst.Importing[s]
		switch {
		case mig || imp:
			me.Open = append(me.Open, OpenSlot{Slot: s, Src: job.Src, Dst: job.Dst, Detail: "left open by the server-side migration"})
		case job.Dst.Slots.Has(s):
			me.Finalized = append(me.Finalized, s)
		default:
			me.RolledBack = append(me.RolledBack, s)
		}
	}
	return me
}

func openAll(job Job, detail string) []OpenSlot {
	out := make([]OpenSlot, 0, len(job.Slots))
	for _, s := range job.Slots {
		out = append(out, OpenSlot{Slot: s, Src: job.Src, Dst: job.Dst, Detail: detail})
	}
	return out
}

type migration struct {
	state, err  string
	keys, slots int64
}

// migrationState finds our job in CLUSTER GETSLOTMIGRATIONS (entries are
// maps in RESP3, flat field/value arrays in RESP2): the newest EXPORT entry
// for target whose slot_ranges ("a-b c" or "a-b c-c") are exactly want.
func migrationState(ctx context.Context, src *cluster.Node, target string, want *cluster.SlotSet) (migration, error) {
	res, err := src.Client.Do(ctx, "CLUSTER", "GETSLOTMIGRATIONS").Slice()
	if err != nil {
		return migration{}, fmt.Errorf("%s: CLUSTER GETSLOTMIGRATIONS: %w", src.Addr(), err)
	}
	var found *migration
	for _, e := range res {
		f := fields(e)
		if f["target_node"] != target {
			continue
		}
		if op := strings.ToLower(f["operation"]); op != "" && op != "export" {
			continue
		}
		sl, err := cluster.ParseRanges(f["slot_ranges"])
		if err != nil || len(sl) != want.Count() {
			continue
		}
		same := true
		for _, s := range sl {
			if !want.Has(s) {
				same = false
				break
			}
		}
		if !same {
			continue
		}
		mg := migration{state: strings.ToLower(f["state"]), err: f["error"]}
		mg.keys, _ = strconv.ParseInt(f["keys_migrated"], 10, 64)
		mg.slots, _ = strconv.ParseInt(f["slots_migrated"], 10, 64)
		found = &mg // the newest matching entry wins
	}
	if found == nil {
		return migration{}, fmt.Errorf("%s: migration to %s not listed by CLUSTER GETSLOTMIGRATIONS", src.Addr(), target)
	}
	return *found, nil
}

func fields(e any) map[string]string {
	out := map[string]string{}
	switch v := e.(type) {
	case map[any]any:
		for k, val := range v {
			out[fmt.Sprint(k)] = fmt.Sprint(val)
		}
	case []any:
		for i := 0; i+1 < len(v); i += 2 {
			out[fmt.Sprint(v[i])] = fmt.Sprint(v[i+1])
		}
	}
	return out
}
