package node

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/slotkv/slotkv/slots"
)

// TestCutIsPointInTime runs writers that increment counters (logging every
// increment under the slot lock, as propagation does) while a cut is taken.
// Replaying the log up to the cut must give exactly what the cut emitted.
func TestCutIsPointInTime(t *testing.T) {
	k := NewKeyspace()
	var logMu sync.Mutex
	var log []string
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; !stop.Load() && i < 200000; i++ {
				key := []byte("k" + strconv.Itoa((i*7+w)%500))
				s := k.Slot(slots.Of(key))
				s.Lock()
				e := s.Lookup(key, 1)
				n := 0
				if e != nil {
					n, _ = strconv.Atoi(string(e.Str))
				}
				s.Set(key, &Entry{Str: []byte(strconv.Itoa(n + 1))})
				logMu.Lock()
				log = append(log, string(key))
				logMu.Unlock()
				s.Unlock()
			}
		}(w)
	}
	// let writers run a little, then cut
	for {
		logMu.Lock()
		n := len(log)
		logMu.Unlock()
		if n > 20000 {
			break
		}
	}
	var atCut int
	var mu sync.Mutex
	got := map[string]string{}
	c := k.StartCut(func() { atCut = len(log) }, func(slot int, s *Slot) {
		mu.Lock()
		defer mu.Unlock()
		s.Each(func(key string, e *Entry) bool { got[key] = string(e.Str); return true })
	})
	<-c.Done()
	stop.Store(true)
	wg.Wait()
	want := map[string]int{}
	for _, key := range log[:atCut] {
		want[key]++
	}
	if len(got) != len(want) {
		t.Fatalf("cut has %d keys, log up to cut has %d", len(got), len(want))
	}
	for key, n := range want {
		if got[key] != fmt.Sprint(n) {
			t.Fatalf("key %s: cut has %s, want %d", key, got[key], n)
		}
	}
}
