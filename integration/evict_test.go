package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// fill writes n keys prefix:i with values of size bytes in pipelines and
// returns how many writes failed with OOM.
func fill(t *testing.T, c *redis.Client, prefix string, n, size int, ttl time.Duration) int {
	t.Helper()
	ctx := Ctx(t, 60*time.Second)
	val := strings.Repeat("v", size)
	ooms := 0
	for i := 0; i < n; i += 500 {
		p := c.Pipeline()
		for j := i; j < i+500 && j < n; j++ {
			p.Set(ctx, fmt.Sprintf("%s:%d", prefix, j), val, ttl)
		}
		cmds, _ := p.Exec(ctx)
		for _, cmd := range cmds {
			if err := cmd.Err(); err != nil {
				if strings.HasPrefix(err.Error(), "OOM ") {
					ooms++
					continue
				}
				t.Fatalf("write failed: %v", err)
			}
		}
	}
	return ooms
}

func countPresent(t *testing.T, c *redis.Client, prefix string, n int) int {
	t.Helper()
	ctx := Ctx(t, 30*time.Second)
	present := 0
	for i := 0; i < n; i += 1000 {
		keys := []string{}
		for j := i; j < i+1000 && j < n; j++ {
			keys = append(keys, fmt.Sprintf("%s:%d", prefix, j))
		}
		p := c.Pipeline()
		ex := p.Exists(ctx, keys...)
		p.Exec(ctx)
		present += int(ex.Val())
	}
	return present
}

// readKeys touches keys prefix:0..n-1 with GET (LRU/LFU access).
func readKeys(t *testing.T, c *redis.Client, prefix string, n, times int) {
	ctx := Ctx(t, 30*time.Second)
	for r := 0; r < times; r++ {
		p := c.Pipeline()
		for j := 0; j < n; j++ {
			p.Get(ctx, fmt.Sprintf("%s:%d", prefix, j))
		}
		p.Exec(ctx)
	}
}

func TestEvictionNoeviction(t *testing.T) {
	n := StartNode(t, Options{Args: []string{"--maxmemory", "24mb", "--maxmemory-policy", "noeviction"}})
	c := n.Client()
	ctx := Ctx(t, 60*time.Second)
	ooms := fill(t, c, "k", 60000, 1000, 0) // ~60 MB of values
	if ooms == 0 {
		t.Fatal("noeviction accepted every write past maxmemory")
	}
	err := c.Set(ctx, "one-more", "x", 0).Err()
	if err == nil || err.Error() != "OOM command not allowed when used memory > 'maxmemory'." {
		t.Fatalf("write past maxmemory: %v", err)
	}
	if v, err := c.Get(ctx, "k:0").Result(); err != nil || len(v) != 1000 {
		t.Fatalf("read under OOM: %v", err)
	}
	if err := c.Del(ctx, "k:0", "k:1").Err(); err != nil {
		t.Fatalf("DEL under OOM: %v", err)
	}
}

func TestEvictionAllkeysLRU(t *testing.T) {
	n := StartNode(t, Options{Args: []string{"--maxmemory", "32mb", "--maxmemory-policy", "allkeys-lru"}})
	c := n.Client()
	const hot, cold, size = 200, 1500, 10000
	fill(t, c, "hot", hot, size, 0)
	for round := 0; round < 6; round++ {
		if ooms := fill(t, c, fmt.Sprintf("cold%d", round), cold, size, 0); ooms != 0 {
			t.Fatalf("allkeys-lru returned OOM %d times", ooms)
		}
		// LRU clocks have one-second resolution (as Redis's): read the hot
		// keys in a later second than the cold writes.
		waitNextSecond(t, c)
		readKeys(t, c, "hot", hot, 1)
	}
	h := countPresent(t, c, "hot", hot)
	kept := 0
	for round := 0; round < 6; round++ {
		kept += countPresent(t, c, fmt.Sprintf("cold%d", round), cold)
	}
	t.Logf("recently read keys kept %d/%d, cold keys kept %d/%d", h, hot, kept, 6*cold)
	if kept >= 6*cold {
		t.Fatal("nothing was evicted")
	}
	// Sampled LRU is approximate (as Redis's): most, not all, survive.
	if float64(h)/hot < 0.75 {
		t.Fatalf("LRU evicted recently read keys: kept %d/%d", h, hot)
	}
}

// waitNextSecond polls the server's TIME until its second changes.
func waitNextSecond(t *testing.T, c *redis.Client) {
	ctx := Ctx(t, 5*time.Second)
	t0, err := c.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	Eventually(t, 3*time.Second, "server clock to reach the next second", func() bool {
		t1, err := c.Time(ctx).Result()
		return err == nil && t1.Unix() > t0.Unix()
	})
}

func TestEvictionVolatileOnlyTouchesTTLKeys(t *testing.T) {
	n := StartNode(t, Options{Args: []string{"--maxmemory", "32mb", "--maxmemory-policy", "volatile-lru"}})
	c := n.Client()
	fill(t, c, "persist", 5000, 1000, 0)
	fill(t, c, "ttl", 60000, 1000, time.Hour)
	if got := countPresent(t, c, "persist", 5000); got != 5000 {
		t.Fatalf("volatile-lru evicted keys without TTL: %d/5000 left", got)
	}
	if got := countPresent(t, c, "ttl", 60000); got == 60000 {
		t.Fatal("volatile-lru evicted nothing")
	}
}

func TestEvictionVolatileTTLNearestFirst(t *testing.T) {
	n := StartNode(t, Options{Args: []string{"--maxmemory", "32mb", "--maxmemory-policy", "volatile-ttl"}})
	c := n.Client()
	fill(t, c, "far", 8000, 1000, 10*time.Hour)
	fill(t, c, "near", 60000, 1000, time.Hour)
	far := countPresent(t, c, "far", 8000)
	near := countPresent(t, c, "near", 60000)
	t.Logf("far kept %d/8000, near kept %d/60000", far, near)
	if float64(far)/8000 < 0.9 {
		t.Fatalf("volatile-ttl evicted far expiries first: far kept %d/8000", far)
	}
}

func TestEvictionAllkeysLFU(t *testing.T) {
	n := StartNode(t, Options{Args: []string{"--maxmemory", "32mb", "--maxmemory-policy", "allkeys-lfu"}})
	c := n.Client()
	const hot = 2000
	fill(t, c, "hot", hot, 1000, 0)
	readKeys(t, c, "hot", hot, 20)
	fill(t, c, "cold", 80000, 1000, 0)
	h := countPresent(t, c, "hot", hot)
	t.Logf("frequently read keys kept %d/%d", h, hot)
	if float64(h)/hot < 0.9 {
		t.Fatalf("LFU evicted frequently read keys: kept %d/%d", h, hot)
	}
}

func TestConfigSetMaxmemoryEvictsDown(t *testing.T) {
	n := StartNode(t, Options{Args: []string{"--maxmemory-policy", "allkeys-random"}})
	c := n.Client()
	ctx := Ctx(t, 60*time.Second)
	fill(t, c, "k", 50000, 1000, 0)
	if err := c.ConfigSet(ctx, "maxmemory", "20mb").Err(); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 20*time.Second, "keys evicted down to the new limit", func() bool {
		return countPresent(t, c, "k", 50000) < 25000
	})
}
