package clusterbus

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestIdleTraffic measures the bytes a node's bus transport writes per
// second on an idle, converged cluster (node-timeout 2000 ms, as in the
// integration tests). The 30-node run is opt-in (CLUSTERBUS_TRAFFIC=1): it
// runs 30 buses in one process.
func TestIdleTraffic(t *testing.T) {
	sizes := []int{6}
	if os.Getenv("CLUSTERBUS_TRAFFIC") != "" {
		sizes = append(sizes, 30)
	}
	for _, n := range sizes {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			tc := newConvergedCluster(t, n, 2*time.Second, 60*time.Second)
			time.Sleep(time.Second) // let the post-join pushes drain
			var before uint64
			for _, b := range tc.buses {
				before += b.Stats().BytesSent
			}
			const window = 4 * time.Second
			time.Sleep(window)
			var after uint64
			for _, b := range tc.buses {
				after += b.Stats().BytesSent
			}
			perNode := float64(after-before) / float64(n) / window.Seconds()
			t.Logf("%d nodes idle, node-timeout 2s: %.0f bytes/s sent per node (%.1f kB/s for the whole cluster)", n, perNode, perNode*float64(n)/1000)
		})
	}
}

func TestBusSecret(t *testing.T) {
	nw := NewInmemNetwork()
	mk := func(i int, secret string) *Bus {
		cfg := DefaultConfig()
		cfg.Dir = filepath.Join(t.TempDir())
		cfg.BindIP = ipOf(i)
		cfg.Port = 7000
		cfg.NodeTimeout = 300 * time.Millisecond
		cfg.Logger = testLogger()
		cfg.NewTransport = nw.NewTransport
		cfg.Secret = secret
		b, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}
	a, b, c := mk(0, "s3cret"), mk(1, "s3cret"), mk(2, "other")
	b.Meet(ipOf(0), "7000", "")
	c.Meet(ipOf(0), "7000", "")
	waitFor(t, 10*time.Second, "same-secret nodes meet", func() bool { return a.KnowsNode(b.MyID()) && b.KnowsNode(a.MyID()) })
	time.Sleep(time.Second)
	if a.KnowsNode(c.MyID()) || c.KnowsNode(a.MyID()) {
		t.Fatal("a node with another secret joined")
	}
}
