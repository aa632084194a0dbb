package ui

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Progress tracks a slot move: keys and slots done. On a terminal it draws
// a progressbar/v3 bar (keys/s and ETA); otherwise it prints a status line
// every few seconds so logs show the operation is alive.
type Progress struct {
	u          *UI
	totalKeys  int64
	totalSlots int64
	keys       atomic.Int64
	slots      atomic.Int64
	start      time.Time
	bar        *progressbar.ProgressBar
	mu         sync.Mutex
	stop       chan struct{}
	done       chan struct{}
	quiet      bool
}

// NewProgress starts tracking. totalKeys is the expected number of keys
// (may grow while clients write), totalSlots the number of slots.
func (u *UI) NewProgress(desc string, totalKeys, totalSlots int, quiet bool) *Progress {
	p := &Progress{u: u, totalKeys: int64(totalKeys), totalSlots: int64(totalSlots), start: time.Now(), quiet: quiet,
		stop: make(chan struct{}), done: make(chan struct{})}
	if u.Progress && !quiet {
		max := int64(totalKeys)
		unit := "keys"
		if max == 0 {
			max, unit = int64(totalSlots), "slots"
		}
		p.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(u.ErrW),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString(unit),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		)
		close(p.done)
		return p
	}
	go p.ticker(desc)
	return p
}

func (p *Progress) ticker(desc string) {
	defer close(p.done)
	if p.quiet {
		<-p.stop
		return
	}
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.u.Logf(Plain, "%s: %s", desc, p.Status())
		}
	}
}

// Keys implements move.Progress.
func (p *Progress) Keys(n int) {
	if n <= 0 {
		return
	}
	k := p.keys.Add(int64(n))
	if p.bar != nil && p.totalKeys > 0 {
		p.mu.Lock()
		if k > p.bar.GetMax64() {
			p.bar.ChangeMax64(k)
		}
		_ = p.bar.Set64(k)
		p.mu.Unlock()
	}
}

// SlotDone implements move.Progress.
func (p *Progress) SlotDone(int) {
	s := p.slots.Add(1)
	if p.bar != nil {
		p.mu.Lock()
		p.bar.Describe(fmt.Sprintf("slots %d/%d", s, p.totalSlots))
		if p.totalKeys == 0 {
			_ = p.bar.Set64(s)
		}
		p.mu.Unlock()
	}
}

// Status renders "k/K keys, s/S slots, r keys/s, ETA e".
func (p *Progress) Status() string {
	k, s := p.keys.Load(), p.slots.Load()
	el := time.Since(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(k) / el
	}
	eta := "?"
	if p.totalKeys > 0 && rate > 0 && k <= p.totalKeys {
		eta = (time.Duration(float64(p.totalKeys-k)/rate*1e9) / time.Second * time.Second).String()
	} else if p.totalKeys == 0 && s > 0 {
		eta = (time.Duration(float64(p.totalSlots-s)/float64(s)*el*1e9) / time.Second * time.Second).String()
	}
	return fmt.Sprintf("%d/%d keys, %d/%d slots, %.0f keys/s, ETA %s", k, p.totalKeys, s, p.totalSlots, rate, eta)
}

// Finish stops the bar/ticker and returns keys, slots and elapsed time.
func (p *Progress) Finish() (keys, slots int64, elapsed time.Duration) {
	close(p.stop)
	<-p.done
	if p.bar != nil {
		_ = p.bar.Finish()
	}
	return p.keys.Load(), p.slots.Load(), time.Since(p.start)
}
