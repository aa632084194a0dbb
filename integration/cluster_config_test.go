package integration

import (
	"strings"
	"testing"
	"time"
)

// TestConfigSetNodeTimeoutReachesBus: CONFIG SET cluster-node-timeout takes
// effect at once, as in Redis: masters started with a 60 s node timeout,
// lowered to 1 s, mark a killed master FAIL within seconds, not a minute.
func TestConfigSetNodeTimeoutReachesBus(t *testing.T) {
	nodes := startMasters(t, 3, "--cluster-node-timeout", "60000")
	ctx := Ctx(t, 60*time.Second)
	for _, n := range nodes {
		if err := n.Client().ConfigSet(ctx, "cluster-node-timeout", "1000").Err(); err != nil {
			t.Fatal(err)
		}
		if v := n.Client().ConfigGet(ctx, "cluster-node-timeout").Val()["cluster-node-timeout"]; v != "1000" {
			t.Fatalf("CONFIG GET cluster-node-timeout = %q", v)
		}
	}
	victim := nodes[2]
	vid := nodeID(t, victim)
	start := time.Now()
	victim.Kill()
	Eventually(t, 20*time.Second, "the killed master marked fail on both survivors", func() bool {
		for _, n := range nodes[:2] {
			line := ""
			for _, l := range strings.Split(n.Client().ClusterNodes(ctx).Val(), "\n") {
				if strings.HasPrefix(l, vid) {
					line = l
				}
			}
			if !strings.Contains(line, "master,fail ") {
				return false
			}
		}
		return true
	})
	t.Logf("FAIL %v after kill -9 (node timeout lowered from 60 s to 1 s)", time.Since(start).Round(time.Millisecond))
}
