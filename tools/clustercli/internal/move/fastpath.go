package move

import (
	"context"
	"fmt"
	"strings"
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
		ok := true
		for _, n := range nodes {
			if !Advertises(ctx, n, fp.Command()) {
				ok = false
				break
			}
		}
		if ok {
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

// MoveSlots implements Mover: one server-side job per job range group.
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
	want := rangesText(job.Slots)
	deadline := time.Now().Add(max(10*time.Minute, 10*m.opts.Timeout))
	for {
		state, err := migrationState(ctx, job.Src, job.Dst.ID, want)
		if err != nil {
			return &MoveError{Err: err, Open: openAll(job, "cannot read the migration state: "+err.Error())}
		}
		switch state {
		case "success", "succeeded", "completed", "done":
			for _, s := range job.Slots {
				m.opts.progress().SlotDone(s)
			}
			return nil
		case "failed", "canceled", "cancelled":
			return &MoveError{Err: fmt.Errorf("%s: server-side migration of slots %s to %s ended %q", job.Src.Addr(), cluster.FormatRanges(job.Slots), job.Dst.Addr(), state), Open: openAll(job, "check with 'clustercli check'")}
		}
		if time.Now().After(deadline) {
			return &MoveError{Err: fmt.Errorf("server-side migration of slots %s did not finish in time", cluster.FormatRanges(job.Slots)), Open: openAll(job, "still running on the server")}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func openAll(job Job, detail string) []OpenSlot {
	out := make([]OpenSlot, 0, len(job.Slots))
	for _, s := range job.Slots {
		out = append(out, OpenSlot{Slot: s, Src: job.Src, Dst: job.Dst, Detail: detail})
	}
	return out
}

// rangesText renders slots as "a-b c-d", GETSLOTMIGRATIONS's slot_ranges.
func rangesText(slots []int) string {
	var parts []string
	for _, r := range cluster.RangesOf(slots) {
		parts = append(parts, fmt.Sprintf("%d-%d", r.From, r.To))
	}
	return strings.Join(parts, " ")
}

// migrationState finds our job in CLUSTER GETSLOTMIGRATIONS (entries are
// maps, or flat field/value arrays in RESP2) and returns its state.
func migrationState(ctx context.Context, src *cluster.Node, target, ranges string) (string, error) {
	res, err := src.Client.Do(ctx, "CLUSTER", "GETSLOTMIGRATIONS").Slice()
	if err != nil {
		return "", fmt.Errorf("%s: CLUSTER GETSLOTMIGRATIONS: %w", src.Addr(), err)
	}
	state := ""
	for _, e := range res {
		f := fields(e)
		if f["target_node"] != target || f["slot_ranges"] != ranges {
			continue
		}
		if op := strings.ToLower(f["operation"]); op != "" && op != "export" {
			continue
		}
		state = strings.ToLower(f["state"]) // the newest matching entry wins
	}
	if state == "" {
		return "", fmt.Errorf("%s: migration of %s to %s not listed by CLUSTER GETSLOTMIGRATIONS", src.Addr(), ranges, target)
	}
	return state, nil
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
