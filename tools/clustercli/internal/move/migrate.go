package move

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/slotkv/slotkv/tools/clustercli/internal/cluster"
)

// MigrateMover moves slots with the public commands every Redis-compatible
// server has, like redis-cli's clusterManagerMoveSlot, but with pipelining:
// a window of slots is opened with one pipelined round trip per node, keys
// are listed with pipelined GETKEYSINSLOT and moved with pipelined
// MIGRATE ... KEYS batches of Options.Pipeline keys, and ownership is
// switched with pipelined SETSLOT NODE (target first, then source, then
// every other master).
type MigrateMover struct {
	Opts Options
}

// Name implements Mover.
func (m *MigrateMover) Name() string { return "MIGRATE" }

const acceptableSetslotErr = "ERR Please use SETSLOT only with masters."

// MoveSlots implements Mover.
func (m *MigrateMover) MoveSlots(ctx context.Context, job Job) error {
	w := m.Opts.Window
	fl := newFlow(m.Opts.MaxInflight)
	for start := 0; start < len(job.Slots); start += w {
		if job.stopped() {
			return ErrStopped
		}
		end := min(start+w, len(job.Slots))
		if err := m.moveWindow(ctx, job, job.Slots[start:end], fl); err != nil {
			return err
		}
	}
	return nil
}

// flow adapts how many MIGRATE commands are pipelined at once. Redis runs a
// client's pipelined commands back to back without serving anyone else
// (cluster bus included), and each MIGRATE waits for the target, so a deep
// pipeline of slow MIGRATEs (big values, a busy target) could stall the
// source long enough to look dead. The depth doubles while a round trip
// stays under 10 ms and halves when one exceeds 50 ms.
type flow struct{ depth, max int }

func newFlow(max int) *flow { return &flow{depth: min(8, max), max: max} }

func (f *flow) observe(d time.Duration) {
	switch {
	case d < 10*time.Millisecond && f.depth < f.max:
		f.depth = min(f.depth*2, f.max)
	case d > 50*time.Millisecond && f.depth > 1:
		f.depth /= 2
	}
}

// pipe runs one command per slot on n in a single pipeline and returns the
// per-slot errors (nil = OK).
func pipe(ctx context.Context, n *cluster.Node, slots []int, args func(slot int) []any) []error {
	cmds := make([]*redis.Cmd, len(slots))
	_, _ = n.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, s := range slots {
			cmds[i] = p.Do(ctx, args(s)...)
		}
		return nil
	})
	errs := make([]error, len(slots))
	for i, c := range cmds {
		if err := c.Err(); err != nil {
			errs[i] = fmt.Errorf("%s: %s: %w", n.Addr(), cmdString(c.Args()), err)
		}
	}
	return errs
}

func cmdString(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = fmt.Sprint(a)
	}
	return strings.Join(parts, " ")
}

func firstErr(errs []error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func setslot(state, id string) func(int) []any {
	return func(s int) []any { return []any{"CLUSTER", "SETSLOT", s, state, id} }
}

func stable(s int) []any { return []any{"CLUSTER", "SETSLOT", s, "STABLE"} }

func (m *MigrateMover) moveWindow(ctx context.Context, job Job, win []int, fl *flow) error {
	src, dst := job.Src, job.Dst
	t0 := time.Now()
	var tOpen, tKeys time.Duration
	if m.Opts.Trace {
		defer func() {
			m.Opts.logf("window %s %s->%s: open %v, keys %v, owner %v, MIGRATE pipeline depth %d", cluster.FormatRanges(win), src.Addr(), dst.Addr(),
				tOpen.Round(time.Microsecond), tKeys.Round(time.Microsecond), (time.Since(t0) - tOpen - tKeys).Round(time.Microsecond), fl.depth)
		}()
	}
	// 1. IMPORTING on the target.
	errs := pipe(ctx, dst, win, setslot("IMPORTING", src.ID))
	if err := firstErr(errs); err != nil {
		var ok []int
		for i, e := range errs {
			if e == nil {
				ok = append(ok, win[i])
			}
		}
		if len(ok) > 0 {
			pipe(ctx, dst, ok, stable)
		}
		return &MoveError{Err: err, RolledBack: ok}
	}
	// 2. MIGRATING on the source.
	errs = pipe(ctx, src, win, setslot("MIGRATING", dst.ID))
	if err := firstErr(errs); err != nil {
		pipe(ctx, src, win, stable)
		pipe(ctx, dst, win, stable)
		return &MoveError{Err: err, RolledBack: append([]int(nil), win...)}
	}
	tOpen = time.Since(t0)
	// 3. Keys.
	if err := m.migrateKeys(ctx, src, dst, win, true, fl); err != nil {
		return m.recover(ctx, job, win, err)
	}
	tKeys = time.Since(t0) - tOpen
	// 4. Ownership.
	if err := m.finalize(ctx, job, win); err != nil {
		var me *MoveError
		if errors.As(err, &me) {
			for _, s := range me.Finalized {
				m.Opts.progress().SlotDone(s)
			}
		}
		return err
	}
	for _, s := range win {
		m.Opts.progress().SlotDone(s)
	}
	return nil
}

// finalize switches ownership of drained slots to the target: SETSLOT NODE
// on the target first (so that a target crash cannot leave the slot without
// owner, redis#7116), then on the source (tolerating "use SETSLOT only with
// masters" when the source just became a replica, redis#9223), then on every
// other master so that nobody redirects to the old owner.
func (m *MigrateMover) finalize(ctx context.Context, job Job, slots []int) error {
	src, dst := job.Src, job.Dst
	errs := pipe(ctx, dst, slots, setslot("NODE", dst.ID))
	if err := firstErr(errs); err != nil {
		me := &MoveError{Err: err}
		for i, e := range errs {
			if e != nil {
				me.Open = append(me.Open, OpenSlot{Slot: slots[i], Src: src, Dst: dst, Detail: "keys moved but the target refused ownership: " + e.Error()})
			} else {
				me.Finalized = append(me.Finalized, slots[i])
			}
		}
		// The slots the target took still need the source and others told.
		if len(me.Finalized) > 0 {
			m.tellOthers(ctx, job, me.Finalized)
		}
		return me
	}
	return m.tellOthers(ctx, job, slots)
}

// tellOthers sends SETSLOT NODE <dst> for slots to the source and to every
// other master, concurrently (the target already owns them).
func (m *MigrateMover) tellOthers(ctx context.Context, job Job, slots []int) error {
	src, dst := job.Src, job.Dst
	var wg sync.WaitGroup
	var mu sync.Mutex
	var srcErr, otherErr error
	for _, n := range job.Masters {
		if n == dst || n.IsReplica() {
			continue
		}
		wg.Add(1)
		go func(n *cluster.Node) {
			defer wg.Done()
			for _, e := range pipe(ctx, n, slots, setslot("NODE", dst.ID)) {
				// A master that just lost its last slot may have turned into
				// a replica (redis#9223): it needs no update.
				if e == nil || strings.Contains(e.Error(), acceptableSetslotErr) {
					continue
				}
				mu.Lock()
				if n == src {
					srcErr = e
				} else {
					otherErr = e
				}
				mu.Unlock()
				return
			}
		}(n)
	}
	wg.Wait()
	if srcErr != nil {
		return &MoveError{Err: fmt.Errorf("target owns slots %s but the source did not accept the change: %w (the cluster bus will propagate it; run 'clustercli check %s')", cluster.FormatRanges(slots), srcErr, dst.Addr())}
	}
	if otherErr != nil {
		// The move itself is complete; the cluster bus spreads the change.
		m.Opts.logf("*** slots %s moved, but informing another master failed: %v (the cluster bus will propagate it)", cluster.FormatRanges(slots), otherErr)
	}
	return nil
}

// recover settles every slot of a window after a key-migration failure:
// slots with no key left on the source are completed, slots with no key on
// the target are rolled back, the rest stay open with a fix hint.
func (m *MigrateMover) recover(ctx context.Context, job Job, win []int, cause error) error {
	src, dst := job.Src, job.Dst
	me := &MoveError{Err: cause}
	var forward []int
	for _, s := range win {
		sc, serr := src.CountKeysInSlot(ctx, s)
		dc, derr := dst.CountKeysInSlot(ctx, s)
		switch {
		case serr == nil && sc == 0:
			forward = append(forward, s)
		case serr == nil && derr == nil && dc == 0:
			if err := src.SetSlotStable(ctx, s); err != nil {
				me.Open = append(me.Open, OpenSlot{s, src, dst, err.Error()})
				continue
			}
			if err := dst.SetSlotStable(ctx, s); err != nil {
				me.Open = append(me.Open, OpenSlot{s, src, dst, err.Error()})
				continue
			}
			if dc2, err := dst.CountKeysInSlot(ctx, s); err == nil && dc2 > 0 {
				me.Open = append(me.Open, OpenSlot{s, src, dst, fmt.Sprintf("rolled back, but %d keys were written to the target meanwhile", dc2)})
				continue
			}
			me.RolledBack = append(me.RolledBack, s)
		default:
			detail := fmt.Sprintf("%d keys on the source, %d on the target", sc, dc)
			if serr != nil || derr != nil {
				detail = "cannot count keys: " + errors.Join(serr, derr).Error()
			}
			me.Open = append(me.Open, OpenSlot{s, src, dst, detail})
		}
	}
	if len(forward) > 0 {
		if err := m.finalize(ctx, job, forward); err != nil {
			var fe *MoveError
			if errors.As(err, &fe) {
				me.Open = append(me.Open, fe.Open...)
				me.Finalized = append(me.Finalized, fe.Finalized...)
			}
		} else {
			me.Finalized = append(me.Finalized, forward...)
		}
	}
	for _, s := range me.Finalized {
		m.Opts.progress().SlotDone(s)
	}
	return me
}

// MigrateKeys moves every key of one slot from src to dst without touching
// slot states (redis-cli's "cold" move, used by fix).
func (m *MigrateMover) MigrateKeys(ctx context.Context, src, dst *cluster.Node, slot int) error {
	return m.migrateKeys(ctx, src, dst, []int{slot}, false, newFlow(m.Opts.MaxInflight))
}

type batch struct {
	slot int
	keys []string
}

// migrateKeys empties slots on src into dst. migrating says the slots are
// MIGRATING on src, so that they cannot gain new keys there.
func (m *MigrateMover) migrateKeys(ctx context.Context, src, dst *cluster.Node, slots []int, migrating bool, fl *flow) error {
	pending := append([]int(nil), slots...)
	listCount := max(m.Opts.ListCount, m.Opts.Pipeline)
	for len(pending) > 0 {
		lists := make([]*redis.StringSliceCmd, len(pending))
		_, _ = src.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, s := range pending {
				lists[i] = p.ClusterGetKeysInSlot(ctx, s, listCount)
			}
			return nil
		})
		var batches []batch
		var next []int
		for i, c := range lists {
			keys, err := c.Result()
			if err != nil {
				return fmt.Errorf("%s: CLUSTER GETKEYSINSLOT %d %d: %w", src.Addr(), pending[i], listCount, err)
			}
			if len(keys) == 0 {
				continue
			}
			// A MIGRATING slot cannot gain keys on the source (new keys are
			// redirected to the target with ASK), so a short list means the
			// slot is drained once these keys are moved.
			if len(keys) >= listCount || !migrating {
				next = append(next, pending[i])
			}
			for len(keys) > 0 {
				k := min(m.Opts.Pipeline, len(keys))
				batches = append(batches, batch{slot: pending[i], keys: keys[:k]})
				keys = keys[k:]
			}
		}
		for len(batches) > 0 {
			k := min(fl.depth, len(batches))
			t0 := time.Now()
			if err := m.runBatches(ctx, src, dst, batches[:k]); err != nil {
				return err
			}
			fl.observe(time.Since(t0))
			batches = batches[k:]
		}
		pending = next
	}
	return nil
}

func (m *MigrateMover) migrateArgs(dst *cluster.Node, keys []string, replace bool) []any {
	args := make([]any, 0, len(keys)+12)
	args = append(args, "MIGRATE", dst.Host, strconv.Itoa(dst.Port), "", 0, m.Opts.Timeout.Milliseconds())
	if replace {
		args = append(args, "REPLACE")
	}
	if m.Opts.Password != "" {
		if m.Opts.User != "" {
			args = append(args, "AUTH2", m.Opts.User, m.Opts.Password)
		} else {
			args = append(args, "AUTH", m.Opts.Password)
		}
	}
	args = append(args, "KEYS")
	for _, k := range keys {
		args = append(args, k)
	}
	return args
}

func (m *MigrateMover) runBatches(ctx context.Context, src, dst *cluster.Node, batches []batch) error {
	cmds := make([]*redis.Cmd, len(batches))
	_, _ = src.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, b := range batches {
			cmds[i] = p.Do(ctx, m.migrateArgs(dst, b.keys, m.Opts.Replace)...)
		}
		return nil
	})
	// Every pipelined MIGRATE ran: count all that succeeded, handle each
	// failure (BUSYKEY retries), report the first one that stays failed.
	moved := 0
	var first error
	for i, c := range cmds {
		if err := c.Err(); err != nil {
			if first != nil || !cluster.IsRedisError(err) {
				if first == nil {
					first = fmt.Errorf("%s: MIGRATE to %s (slot %d): %w", src.Addr(), dst.Addr(), batches[i].slot, err)
				}
				continue
			}
			if err := m.handleMigrateError(ctx, src, dst, batches[i], err); err != nil {
				first = err
				continue
			}
		}
		moved += len(batches[i].keys)
	}
	m.Opts.progress().Keys(moved)
	return first
}

// handleMigrateError mirrors clusterManagerMigrateKeysInSlot's error path:
// BUSYKEY retries with REPLACE when the values are equal on both sides (or
// when --replace was given); a slot the source no longer serves is assigned
// to the target in fix mode; anything else is an error.
func (m *MigrateMover) handleMigrateError(ctx context.Context, src, dst *cluster.Node, b batch, merr error) error {
	busy := cluster.IsBusyKey(merr)
	notServed := false
	if !busy && cluster.IsRedisError(merr) {
		if owner, err := src.SlotOwner(ctx, b.slot); err == nil && owner == "" {
			notServed = true
		}
	}
	if !busy && !notServed {
		return fmt.Errorf("%s: MIGRATE to %s (slot %d): %w", src.Addr(), dst.Addr(), b.slot, merr)
	}
	if notServed && m.Opts.Fix {
		m.Opts.logf("*** Slot was not served, setting owner to node %s.", dst.Addr())
		_ = src.SetSlot(ctx, b.slot, "NODE", dst.ID)
	}
	if busy {
		m.Opts.logf("*** Target key exists")
		if !m.Opts.Replace {
			m.Opts.logf("*** Checking key values on both nodes...")
			diffs, err := CompareValues(ctx, src, dst, b.keys)
			if err != nil {
				return fmt.Errorf("*** Value check failed! %w", err)
			}
			if len(diffs) > 0 {
				return fmt.Errorf("*** Found %d key(s) in both source node and target node having different values.\n"+
					"    Source node: %s\n    Target node: %s\n    Key(s):\n      - %s\n"+
					"Please fix the above key(s) manually and try again, or relaunch the command with --replace to overwrite the target's values",
					len(diffs), src.Addr(), dst.Addr(), strings.Join(diffs, "\n      - "))
			}
		}
		m.Opts.logf("*** Replacing target keys...")
	}
	if err := src.Client.Do(ctx, m.migrateArgs(dst, b.keys, busy)...).Err(); err != nil {
		return fmt.Errorf("%s: MIGRATE to %s (slot %d): %w", src.Addr(), dst.Addr(), b.slot, err)
	}
	return nil
}

// CompareValues returns the keys that exist on both nodes with different
// values. It uses DEBUG DIGEST-VALUE like redis-cli, and falls back to
// comparing DUMP payloads when DEBUG is disabled (Redis 7's default).
func CompareValues(ctx context.Context, a, b *cluster.Node, keys []string) ([]string, error) {
	args := []any{"DEBUG", "DIGEST-VALUE"}
	for _, k := range keys {
		args = append(args, k)
	}
	da, errA := a.Client.Do(ctx, args...).StringSlice()
	db, errB := b.Client.Do(ctx, args...).StringSlice()
	if errA == nil && errB == nil && len(da) == len(keys) && len(db) == len(keys) {
		const zero = "0000000000000000000000000000000000000000"
		var diffs []string
		for i, k := range keys {
			if da[i] == zero || db[i] == zero {
				continue
			}
			if da[i] != db[i] {
				diffs = append(diffs, k)
			}
		}
		return diffs, nil
	}
	// DUMP each key, after ASKING so that an importing node answers for
	// the slot; an ASK reply from a migrating node means "not here".
	dumps := func(n *cluster.Node) ([]*redis.StringCmd, error) {
		cmds := make([]*redis.StringCmd, len(keys))
		_, _ = n.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				p.Do(ctx, "ASKING")
				cmds[i] = p.Dump(ctx, k)
			}
			return nil
		})
		for _, c := range cmds {
			if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) && !strings.HasPrefix(err.Error(), "ASK ") {
				return nil, fmt.Errorf("%s: DUMP %s: %w", n.Addr(), c.Args()[1], err)
			}
		}
		return cmds, nil
	}
	ca, err := dumps(a)
	if err != nil {
		return nil, err
	}
	cb, err := dumps(b)
	if err != nil {
		return nil, err
	}
	var diffs []string
	for i, k := range keys {
		va, ea := ca[i].Result()
		vb, eb := cb[i].Result()
		if ea != nil || eb != nil {
			continue // missing on one side
		}
		if va != vb {
			diffs = append(diffs, k)
		}
	}
	return diffs, nil
}
