package clusterbus

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/slotkv/slotkv/redirect"
)

// BenchmarkReshardSetSlot replays redis-cli --cluster reshard's per-slot
// SETSLOT sequence (IMPORTING on the target, MIGRATING on the source, NODE
// on target, source and the third master) on three in-memory buses, moving
// slots back and forth between the first two masters. One op is one slot
// moved; the gossip that follows runs in the background and is included in
// the process CPU the benchmark reports as cpu-ns/op.
func BenchmarkReshardSetSlot(b *testing.B) {
	defer func(f func(*state, *redirect.Table)) { verifySlotView = f }(verifySlotView)
	verifySlotView = nil // the per-section check would dominate
	tc := newTestCluster(b, 3, 5*time.Second)
	tc.meetAll()
	waitFor(b, 10*time.Second, "all know 3", func() bool { return tc.allKnow(3) })
	tc.assignEvenly()
	waitFor(b, 10*time.Second, "agreement", tc.agree)
	ids := make([]string, 3)
	for i, bus := range tc.buses {
		ids[i] = bus.MyID()
	}
	must := func(bus *Bus, args ...string) {
		if err := bus.SetSlot(args); err != nil {
			b.Fatalf("SETSLOT %v: %v", args, err)
		}
	}
	const span = 2000 // slots 0..1999 start on bus 0
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		slot := fmt.Sprint(i % span)
		src, dst := 0, 1
		if (i/span)%2 == 1 {
			src, dst = 1, 0
		}
		must(tc.buses[dst], slot, "importing", ids[src])
		must(tc.buses[src], slot, "migrating", ids[dst])
		must(tc.buses[dst], slot, "node", ids[dst])
		must(tc.buses[src], slot, "node", ids[dst])
		must(tc.buses[2], slot, "node", ids[dst])
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is this process's user+system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
