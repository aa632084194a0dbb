package main

import (
	"fmt"
	"strings"
	"time"
)

// phase is one timed step of a command (load, check, plan, move, ...).
type phase struct {
	Name string  `json:"phase"`
	MS   float64 `json:"ms"`
}

// timer records how long each step of a command takes, so that a slow
// reshard shows whether the time went into planning, moving keys or
// waiting for the nodes to agree. -v prints the breakdown; --json always
// carries it ("timings").
type timer struct {
	start, last time.Time
	phases      []phase
}

func newTimer() *timer {
	now := time.Now()
	return &timer{start: now, last: now}
}

// mark closes the step that began at the previous mark (or at start) and
// names it.
func (t *timer) mark(name string) {
	now := time.Now()
	t.phases = append(t.phases, phase{Name: name, MS: float64(now.Sub(t.last).Microseconds()) / 1000})
	t.last = now
}

// skip drops the time since the previous mark (e.g. waiting for the
// operator to confirm).
func (t *timer) skip() { t.last = time.Now() }

func (t *timer) total() time.Duration { return time.Since(t.start) }

func (t *timer) String() string {
	parts := make([]string, 0, len(t.phases)+1)
	for _, p := range t.phases {
		parts = append(parts, fmt.Sprintf("%s %.0fms", p.Name, p.MS))
	}
	parts = append(parts, fmt.Sprintf("total %.0fms", float64(t.total().Microseconds())/1000))
	return strings.Join(parts, ", ")
}

// poller paces a wait-until loop: the first checks come quickly (most
// conditions clustercli waits for hold within milliseconds), later ones
// back off to at most max so that a long wait does not load the nodes.
type poller struct{ d, max time.Duration }

func newPoller(max time.Duration) *poller { return &poller{d: 5 * time.Millisecond, max: max} }

// wait sleeps before the next check.
func (p *poller) wait() {
	time.Sleep(p.d)
	p.d = min(2*p.d, p.max)
}
