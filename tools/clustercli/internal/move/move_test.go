package move

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotkv/slotkv/tools/clustercli/internal/cluster"
)

// recordingMover is a scheduler test double: it records jobs and can fail.
type recordingMover struct {
	mu       sync.Mutex
	done     []Job
	failSrc  *cluster.Node
	active   atomic.Int32
	maxSeen  atomic.Int32
	pairBusy sync.Map
	delay    time.Duration
}

func (m *recordingMover) Name() string { return "test" }

func (m *recordingMover) MoveSlots(ctx context.Context, j Job) error {
	type pair struct{ a, b *cluster.Node }
	if _, busy := m.pairBusy.LoadOrStore(pair{j.Src, j.Dst}, true); busy {
		return errors.New("two jobs of the same pair ran at once")
	}
	defer m.pairBusy.Delete(pair{j.Src, j.Dst})
	n := m.active.Add(1)
	defer m.active.Add(-1)
	for {
		old := m.maxSeen.Load()
		if n <= old || m.maxSeen.CompareAndSwap(old, n) {
			break
		}
	}
	time.Sleep(m.delay)
	if j.stopped() {
		return ErrStopped
	}
	if j.Src == m.failSrc {
		return &MoveError{Err: errors.New("boom"), Open: []OpenSlot{{Slot: j.Slots[0], Src: j.Src, Dst: j.Dst, Detail: "test"}}}
	}
	m.mu.Lock()
	m.done = append(m.done, j)
	m.mu.Unlock()
	return nil
}

func nodes(n int) []*cluster.Node {
	var out []*cluster.Node
	for i := 0; i < n; i++ {
		out = append(out, &cluster.Node{ID: strings.Repeat(string(rune('a'+i)), 40), Host: "127.0.0.1", Port: 7000 + i})
	}
	return out
}

func TestRunJobsConcurrencyAndOrder(t *testing.T) {
	ns := nodes(4)
	var jobs []Job
	for i := 0; i < 3; i++ {
		jobs = append(jobs, Job{Src: ns[i], Dst: ns[3], Slots: []int{i}}, Job{Src: ns[i], Dst: ns[3], Slots: []int{10 + i}})
	}
	m := &recordingMover{delay: 20 * time.Millisecond}
	if errs := RunJobs(context.Background(), nil, m, jobs, 2); len(errs) != 0 {
		t.Fatal(errs)
	}
	if len(m.done) != 6 {
		t.Fatalf("ran %d jobs", len(m.done))
	}
	if m.maxSeen.Load() > 2 {
		t.Fatalf("concurrency %d exceeded the limit 2", m.maxSeen.Load())
	}
}

func TestRunJobsStopsAfterFailure(t *testing.T) {
	ns := nodes(3)
	m := &recordingMover{failSrc: ns[0]}
	jobs := []Job{{Src: ns[0], Dst: ns[2], Slots: []int{1}}, {Src: ns[0], Dst: ns[2], Slots: []int{2}}}
	errs := RunJobs(context.Background(), nil, m, jobs, 4)
	if len(errs) != 1 || len(m.done) != 0 {
		t.Fatalf("errs %v done %d", errs, len(m.done))
	}
	var me *MoveError
	if !errors.As(errs[0], &me) || !strings.Contains(me.FixHint(), "clustercli fix 127.0.0.1:7000") {
		t.Fatalf("want a fix hint naming the node, got %v", errs[0])
	}
}

func TestRunJobsInterrupt(t *testing.T) {
	ns := nodes(2)
	var jobs []Job
	for i := 0; i < 50; i++ {
		jobs = append(jobs, Job{Src: ns[0], Dst: ns[1], Slots: []int{i}})
	}
	m := &recordingMover{delay: 5 * time.Millisecond}
	intr := make(chan struct{})
	go func() { time.Sleep(30 * time.Millisecond); close(intr) }()
	errs := RunJobs(context.Background(), intr, m, jobs, 1)
	if len(errs) == 0 || !errors.Is(errs[len(errs)-1], ErrStopped) {
		t.Fatalf("want ErrStopped, got %v", errs)
	}
	if len(m.done) == 0 || len(m.done) == 50 {
		t.Fatalf("interrupt should stop part-way, ran %d", len(m.done))
	}
}

func TestMigrationFields(t *testing.T) {
	f := fields([]any{"name", "x-1", "slot_ranges", "0-9 20", "state", "success", "keys_migrated", "42"})
	if f["slot_ranges"] != "0-9 20" || f["state"] != "success" {
		t.Fatal(f)
	}
	sl, err := cluster.ParseRanges(f["slot_ranges"])
	if err != nil || len(sl) != 11 {
		t.Fatal(sl, err)
	}
	m := fields(map[any]any{"state": "failed", "error": "boom"})
	if m["state"] != "failed" || m["error"] != "boom" {
		t.Fatal(m)
	}
}

func TestOptionsValidate(t *testing.T) {
	o := DefaultOptions()
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	o.Pipeline = 0
	if o.Validate() == nil {
		t.Fatal("pipeline 0 must be refused")
	}
	o = DefaultOptions()
	o.User = "bob"
	if o.Validate() == nil {
		t.Fatal("user without password must be refused")
	}
}

func TestFlowAdapts(t *testing.T) {
	f := newFlow(64)
	if f.depth != 8 {
		t.Fatal(f.depth)
	}
	for i := 0; i < 5; i++ {
		f.observe(time.Millisecond)
	}
	if f.depth != 64 {
		t.Fatalf("fast round trips should deepen the pipeline to 64, got %d", f.depth)
	}
	for i := 0; i < 10; i++ {
		f.observe(time.Second)
	}
	if f.depth != 1 {
		t.Fatalf("slow round trips should shrink the pipeline to 1, got %d", f.depth)
	}
	f.observe(20 * time.Millisecond)
	if f.depth != 1 {
		t.Fatalf("in-between round trips keep the depth, got %d", f.depth)
	}
}
