package migrate

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// State is where a whole-slot migration job is. Jobs move forward only:
//
//	Pending → Opening (IMPORTING on the target, MIGRATING here)
//	        → Moving  (keys streamed in large batches, deleted here once acked)
//	        → Handoff (SETSLOT NODE on the target, which bumps its epoch, then here)
//	        → Done
//
// Any error moves the job to Failed; its slots stay open (MIGRATING /
// IMPORTING) with every key on exactly one side, which `redis-cli --cluster
// fix` or `clustercli fix` closes. The per-slot MIGRATING/IMPORTING markers
// are the persisted part of the state machine: they live in nodes.conf.
type State int32

const (
	Pending State = iota
	Opening
	Moving
	Handoff
	Done
	Failed
	Cancelled
)

func (s State) String() string {
	switch s {
	case Pending:
		return "pending"
	case Opening:
		return "opening"
	case Moving:
		return "moving"
	case Handoff:
		return "handoff"
	case Done:
		return "success"
	case Failed:
		return "failed"
	case Cancelled:
		return "cancelled"
	}
	return "unknown"
}

// Range is an inclusive slot range.
type Range struct{ Start, End int }

// Job is one CLUSTER MIGRATESLOTS request: slot ranges moving from this node
// to one target. Counters are atomics so GETSLOTMIGRATIONS can read them
// while the job runs.
type Job struct {
	ID       string
	Ranges   []Range
	Target   string // node id
	Endpoint string // target ip:port
	Created  time.Time

	state      atomic.Int32
	mu         sync.Mutex
	err        string
	finished   time.Time
	SlotsDone  atomic.Int64
	KeysMoved  atomic.Int64
	BytesMoved atomic.Int64
	cancel     atomic.Bool
}

// NewJob returns a pending job.
func NewJob(id string, ranges []Range, target, endpoint string) *Job {
	return &Job{ID: id, Ranges: ranges, Target: target, Endpoint: endpoint, Created: time.Now()}
}

// Slots returns every slot of the job in order.
func (j *Job) Slots() []int {
	var out []int
	for _, r := range j.Ranges {
		for s := r.Start; s <= r.End; s++ {
			out = append(out, s)
		}
	}
	return out
}

// State returns the current state.
func (j *Job) State() State { return State(j.state.Load()) }

// Advance moves the job to s (forward only; terminal states stick).
func (j *Job) Advance(s State) {
	for {
		cur := State(j.state.Load())
		if cur >= Done || s <= cur {
			return
		}
		if j.state.CompareAndSwap(int32(cur), int32(s)) {
			if s >= Done {
				j.mu.Lock()
				j.finished = time.Now()
				j.mu.Unlock()
			}
			return
		}
	}
}

// Fail records err and moves the job to Failed.
func (j *Job) Fail(err error) {
	j.mu.Lock()
	if j.err == "" {
		j.err = err.Error()
	}
	j.mu.Unlock()
	j.Advance(Failed)
}

// Cancel asks the job to stop before its next batch.
func (j *Job) Cancel() { j.cancel.Store(true) }

// Cancelled reports whether Cancel was called.
func (j *Job) Cancelled() bool { return j.cancel.Load() }

// Err returns the failure text, if any.
func (j *Job) Err() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// Finished returns when the job reached a terminal state (zero if running).
func (j *Job) Finished() time.Time {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.finished
}

// RangesString formats the ranges as "0-100 200-200".
func (j *Job) RangesString() string {
	var b strings.Builder
	for i, r := range j.Ranges {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d-%d", r.Start, r.End) // always start-end, as Valkey prints slot ranges
	}
	return b.String()
}
