package main

import (
	"bytes"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// Unless GOMAXPROCS is set in the environment, slotkv-server runs as many
// Go Ps (threads running Go code at once) as it can actually get CPU for,
// not simply one per CPU. Each P that runs out of goroutines spins looking
// for work, polls the network and is woken by futex when another P finds
// some; when the CPUs are already busy (a redis-benchmark on the same
// 2-CPU host, other processes), those Ps only add context switches.
// Measured with redis-benchmark -c 50 -P 1 on this 2-CPU VM (the client
// takes one CPU): server CPU per request 12.2-15.1 us with 2 Ps,
// 11.3-11.9 us with 1 (context switches per request 0.24-0.33 -> 0.18-0.22).
// With CPU to spare, more Ps are what lets commands on different slots run
// in parallel, so the count follows the load:
//   - more Ps (one per idle CPU, at most doubling) when the process kept
//     all its Ps busy over the last interval and the machine had at least
//     half a CPU idle;
//   - one less when the Ps we have cannot all run (our CPU use plus the
//     machine's idle CPU is half a CPU short of the P count);
//   - a change needs the same verdict procsConfirm intervals in a row.
//
// Loading the dataset at startup runs with the runtime's default (CPUs, or
// the cgroup CPU limit), which is also the cap; serving starts at 1 P.
const (
	procsInterval = 500 * time.Millisecond
	procsConfirm  = 3
)

// nextProcs returns the P count for the next interval given the current
// count cur, the cap max, this process's CPU use (own) and the machine's
// idle CPU (idle), both in CPUs averaged over the last interval.
func nextProcs(cur, max int, own, idle float64) int {
	switch {
	case cur < max && own > float64(cur)-0.25 && idle >= 0.5:
		// Grow by the idle CPUs, at most doubling, so a busy node on a
		// big idle machine reaches its cap in a few steps, not one per P.
		return min(max, cur+min(cur, int(idle+0.5)))
	case cur > 1 && own+idle < float64(cur)-0.5:
		return cur - 1
	}
	return cur
}

// tuneProcs starts the P controller unless GOMAXPROCS is set or the
// machine's CPU statistics are unreadable. loading reports whether the
// server is still loading its dataset.
func tuneProcs(log *slog.Logger, loading func() bool) {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	max := runtime.GOMAXPROCS(0)
	if max <= 1 {
		return
	}
	if _, ok := machineIdle(); !ok {
		return
	}
	go func() {
		for loading() {
			time.Sleep(10 * time.Millisecond)
		}
		runtime.GOMAXPROCS(1)
		cur, want, streak := 1, 1, 0
		idle0, _ := machineIdle()
		own0, t0 := ownCPU(), time.Now()
		for {
			time.Sleep(procsInterval)
			idle1, ok := machineIdle()
			if !ok {
				return
			}
			own1, t1 := ownCPU(), time.Now()
			dt := t1.Sub(t0).Seconds()
			n := nextProcs(cur, max, (own1-own0)/dt, (idle1-idle0)/dt)
			own0, idle0, t0 = own1, idle1, t1
			if n == cur || n != want {
				want, streak = n, 0
				if n == cur {
					continue
				}
			}
			if streak++; streak < procsConfirm {
				continue
			}
			log.Debug("GOMAXPROCS", "from", cur, "to", n)
			runtime.GOMAXPROCS(n)
			cur, streak = n, 0
		}
	}()
}

// ownCPU is the process's user+system CPU time in seconds.
func ownCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// machineIdle is the idle+iowait CPU time of the whole machine in seconds
// (from /proc/stat, in USER_HZ = 100 ticks per second).
func machineIdle() (float64, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil || !bytes.HasPrefix(b, []byte("cpu ")) {
		return 0, false
	}
	if i := bytes.IndexByte(b, '\n'); i > 0 {
		b = b[:i]
	}
	f := bytes.Fields(b)
	if len(f) < 6 {
		return 0, false
	}
	var ticks float64
	for _, s := range f[4:6] { // idle, iowait
		v, err := strconv.ParseUint(string(s), 10, 64)
		if err != nil {
			return 0, false
		}
		ticks += float64(v)
	}
	return ticks / 100, true
}
