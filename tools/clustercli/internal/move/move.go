// Package move moves hash slots between masters. MigrateMover is the path
// that works against every Redis-compatible server (SETSLOT IMPORTING /
// MIGRATING, GETKEYSINSLOT + pipelined MIGRATE ... KEYS, SETSLOT NODE on
// target, source and every other master, BUSYKEY handled like redis-cli).
// Mover is the seam for server-side whole-slot migration (see fastpath.go),
// used only when every node involved advertises it.
package move

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slotkv/slotkv/tools/clustercli/internal/cluster"
)

// Job asks a Mover to move Slots (all owned by Src) to Dst and to make
// every master in Masters agree that Dst owns them.
type Job struct {
	Src, Dst *cluster.Node
	Slots    []int
	Masters  []*cluster.Node // every reachable master (Src and Dst included)
	// Stop, when set, is checked between windows: a mover stops cleanly
	// (every slot settled) once it reads true, returning ErrStopped.
	Stop *atomic.Bool
}

// ErrStopped is returned by a mover that stopped because Job.Stop was set
// (another job failed, or the operator interrupted).
var ErrStopped = errors.New("stopped")

func (j *Job) stopped() bool { return j.Stop != nil && j.Stop.Load() }

// Mover moves whole slots. Implementations must end every slot of a job
// either moved (owned by Dst on Dst and Src) or not moved (owned by Src and
// STABLE everywhere); any slot they cannot settle is reported in a
// *MoveError with the exact command that repairs it.
type Mover interface {
	Name() string
	MoveSlots(ctx context.Context, job Job) error
}

// Progress receives progress reports; it must be safe for concurrent use.
type Progress interface {
	Keys(n int)
	SlotDone(slot int)
}

// NopProgress ignores progress.
type NopProgress struct{}

// Keys implements Progress.
func (NopProgress) Keys(int) {}

// SlotDone implements Progress.
func (NopProgress) SlotDone(int) {}

// Options configures key movement.
type Options struct {
	// Timeout is MIGRATE's timeout (redis-cli --cluster-timeout, 60000 ms).
	Timeout time.Duration
	// Pipeline is the number of keys per MIGRATE command (redis-cli
	// --cluster-pipeline, default 10).
	Pipeline int
	// Replace migrates with REPLACE when the target already has a key with
	// a different value (redis-cli --cluster-replace).
	Replace bool
	// User and Password are passed to MIGRATE as AUTH / AUTH2.
	User, Password string
	// Window is how many slots of one source->target job are opened
	// (IMPORTING/MIGRATING) and moved together. Keys of a window's slots are
	// listed and migrated with pipelined commands.
	Window int
	// ListCount is the COUNT passed to GETKEYSINSLOT.
	ListCount int
	// MaxInflight bounds the MIGRATE commands pipelined in one round trip,
	// so that a source node never has more than MaxInflight*Pipeline keys of
	// work queued from us.
	MaxInflight int
	// Fix enables redis-cli's fix-mode behaviour: when MIGRATE fails because
	// the source no longer serves the slot, assign it to the target.
	Fix bool
	// Log receives warnings (BUSYKEY handling, ...). May be nil.
	Log func(string)
	// Trace, with Log set, also logs the duration of every step of every
	// window (to see where a slow move spends its time).
	Trace bool
	// Progress receives progress. May be nil.
	Progress Progress
}

// DefaultOptions mirrors redis-cli's defaults.
func DefaultOptions() Options {
	return Options{
		Timeout:     60 * time.Second,
		Pipeline:    10,
		Window:      256,
		ListCount:   1000,
		MaxInflight: 64,
	}
}

// Validate checks the options.
func (o Options) Validate() error {
	switch {
	case o.Timeout <= 0:
		return errors.New("--timeout must be positive (milliseconds)")
	case o.Pipeline <= 0:
		return errors.New("--pipeline must be positive")
	case o.Window <= 0 || o.ListCount <= 0 || o.MaxInflight <= 0:
		return errors.New("window, list count and max inflight must be positive")
	case o.User != "" && o.Password == "":
		return errors.New("--user needs a password")
	}
	return nil
}

func (o *Options) progress() Progress {
	if o.Progress == nil {
		return NopProgress{}
	}
	return o.Progress
}

func (o *Options) logf(format string, a ...any) {
	if o.Log != nil {
		o.Log(fmt.Sprintf(format, a...))
	}
}

// OpenSlot is a slot a mover could not settle.
type OpenSlot struct {
	Slot     int
	Src, Dst *cluster.Node
	Detail   string
}

// MoveError reports a failed move and the state every affected slot was
// left in.
type MoveError struct {
	Err        error
	Finalized  []int // completed (keys moved, owner switched) during recovery
	RolledBack []int // returned to the source, STABLE on both sides
	Open       []OpenSlot
}

func (e *MoveError) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	if len(e.Finalized) > 0 {
		fmt.Fprintf(&b, "; completed slots %s", cluster.FormatRanges(e.Finalized))
	}
	if len(e.RolledBack) > 0 {
		fmt.Fprintf(&b, "; rolled back slots %s", cluster.FormatRanges(e.RolledBack))
	}
	if len(e.Open) > 0 {
		var s []int
		for _, o := range e.Open {
			s = append(s, o.Slot)
		}
		sort.Ints(s)
		fmt.Fprintf(&b, "; slots %s left OPEN", cluster.FormatRanges(s))
	}
	return b.String()
}

func (e *MoveError) Unwrap() error { return e.Err }

// FixHint tells the operator exactly how to close the open slots.
func (e *MoveError) FixHint() string {
	if len(e.Open) == 0 {
		return ""
	}
	var b strings.Builder
	entry := e.Open[0].Src
	fmt.Fprintf(&b, "Some slots are still open. To finish moving them run:\n    clustercli fix %s\n(or: redis-cli --cluster fix %s). Details:\n", entry.Addr(), entry.Addr())
	for _, o := range e.Open {
		fmt.Fprintf(&b, "  slot %d: MIGRATING on %s (%s), IMPORTING on %s (%s): %s\n",
			o.Slot, o.Src.Addr(), o.Src.ShortID(), o.Dst.Addr(), o.Dst.ShortID(), o.Detail)
	}
	return strings.TrimRight(b.String(), "\n")
}

// RunJobs runs jobs with mover, concurrently per source->target pair (one
// job at a time per pair, up to concurrency pairs at once). After the first
// failure, or once interrupt is closed, no new window starts; running jobs
// settle their current window. It returns the errors of failed jobs, and
// ErrStopped if the interrupt stopped any job.
func RunJobs(ctx context.Context, interrupt <-chan struct{}, mover Mover, jobs []Job, concurrency int) []error {
	if concurrency <= 0 {
		concurrency = 1
	}
	type pair struct{ src, dst *cluster.Node }
	var order []pair
	byPair := map[pair][]Job{}
	for _, j := range jobs {
		k := pair{j.Src, j.Dst}
		if _, ok := byPair[k]; !ok {
			order = append(order, k)
		}
		byPair[k] = append(byPair[k], j)
	}
	var (
		stop atomic.Bool
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, concurrency)
		intr atomic.Bool
	)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-interrupt:
			intr.Store(true)
			stop.Store(true)
		case <-done:
		}
	}()
	for _, k := range order {
		wg.Add(1)
		go func(js []Job) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			for _, j := range js {
				if stop.Load() {
					return
				}
				j.Stop = &stop
				if err := mover.MoveSlots(ctx, j); err != nil {
					if errors.Is(err, ErrStopped) {
						return
					}
					stop.Store(true)
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		}(byPair[k])
	}
	wg.Wait()
	if intr.Load() {
		errs = append(errs, ErrStopped)
	}
	return errs
}
