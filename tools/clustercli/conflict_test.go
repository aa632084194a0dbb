package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/slotkv/slotkv/tools/clustercli/internal/cluster"
)

// TestReshardConflictLeavesFixableState: a key that exists on the target
// with a different value stops the move like in redis-cli; clustercli
// settles every other slot of the window, leaves exactly that slot open,
// prints the fix command, and fix --replace finishes the move.
func TestReshardConflictLeavesFixableState(t *testing.T) {
	t.Parallel()
	nodes := redisCliCluster(t)
	entry := nodes[0].addr()
	m0, m1 := nodeID(t, nodes[0]), nodeID(t, nodes[1])
	cc := clusterClient(t, entry)
	ctx := context.Background()
	tags := make([]string, 10)
	for s := range tags {
		tags[s] = tagFor(s)
		for i := 0; i < 10; i++ {
			k := fmt.Sprintf("{%s}:%d", tags[s], i)
			if err := cc.Set(ctx, k, k, 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// On the target: {t0}:3 with another value, {t0}:5 with the same one.
	do(t, nodes[1], "CLUSTER", "SETSLOT", 0, "IMPORTING", m0)
	asking(t, nodes[1], "SET", "{"+tags[0]+"}:3", "other")
	asking(t, nodes[1], "SET", "{"+tags[0]+"}:5", "{"+tags[0]+"}:5")
	do(t, nodes[1], "CLUSTER", "SETSLOT", 0, "STABLE")

	code, doc, stderr := cliJSON(t, "reshard", entry, "--from", m0, "--to", m1, "--slots", "10", "--yes")
	if code != 1 {
		t.Fatalf("reshard with a conflicting key must fail: %d %v", code, doc)
	}
	for _, want := range []string{"different values", "{" + tags[0] + "}:3", "clustercli fix " + entry, "--replace"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("output lacks %q:\n%s", want, stderr)
		}
	}
	res := doc["result"].(map[string]any)
	if fmt.Sprint(res["open_slots"]) != "[0]" {
		t.Fatalf("want exactly slot 0 open, got %v", res["open_slots"])
	}
	out, rc := redisCli(t, "", "--cluster", "check", entry)
	if rc == 0 || !strings.Contains(out, "The following slots are open: 0.") {
		t.Fatalf("redis-cli should see only slot 0 open:\n%s", out)
	}
	// The other slots of the window were settled one way or the other:
	// completed to the target or rolled back to the source.
	for s := 1; s < 10; s++ {
		if o := ownerOf(t, nodes[2], s); o != m1 && o != m0 {
			t.Fatalf("slot %d owned by %q", s, o)
		}
	}
	// fix without --replace refuses to overwrite, fix --replace completes.
	if r := cli(t, "", "fix", entry, "--yes"); r.code == 0 || !strings.Contains(r.stdout+r.stderr, "--replace") {
		t.Fatalf("fix without --replace must refuse the conflicting key:\n%s%s", r.stdout, r.stderr)
	}
	mustOK(t, cli(t, "", "fix", entry, "--replace", "--yes"), "fix --replace")
	waitHealthy(t, entry)
	if ownerOf(t, nodes[2], 0) != m1 {
		t.Fatal("slot 0 should end on the target")
	}
	cc.ReloadState(ctx)
	for s := range tags {
		for i := 0; i < 10; i++ {
			k := fmt.Sprintf("{%s}:%d", tags[s], i)
			if v, err := cc.Get(ctx, k).Result(); err != nil || v != k {
				t.Fatalf("GET %s = %q %v (the source's value must win with --replace)", k, v, err)
			}
		}
	}
}

// TestImport moves a standalone server's keys into the cluster: --copy
// keeps them at the source, a second run needs --replace, TTLs survive.
func TestImport(t *testing.T) {
	t.Parallel()
	nodes := redisCliCluster(t)
	src := startRedis(t, 1, false)[0]
	entry := nodes[0].addr()
	ctx := context.Background()
	const n = 3000
	_, err := src.cli.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := 0; i < n; i++ {
			p.Set(ctx, fmt.Sprintf("imp:%d", i), fmt.Sprintf("val:%d", i), 0)
		}
		p.HSet(ctx, "imp:hash", "a", "1", "b", "2")
		p.Set(ctx, "imp:ttl", "x", time.Hour)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := cli(t, "", "import", entry, "--from", src.addr(), "--copy"); r.code == 0 || !strings.Contains(r.stdout+r.stderr, "Aborted") {
		t.Fatalf("import without --yes and no answer must abort:\n%s%s", r.stdout, r.stderr)
	}
	mustOK(t, cli(t, "", "import", entry, "--from", src.addr(), "--copy", "--yes"), "import --copy")
	cc := clusterClient(t, entry)
	verifyKeys(t, cc, "imp", n)
	if sz := src.cli.DBSize(ctx).Val(); sz != n+2 {
		t.Fatalf("--copy must leave the source intact: DBSIZE %d", sz)
	}
	if r := cli(t, "", "import", entry, "--from", src.addr(), "--yes"); r.code == 0 || !strings.Contains(r.stdout+r.stderr, "--replace") {
		t.Fatalf("second import without --replace must fail with a hint:\n%s%s", r.stdout, r.stderr)
	}
	mustOK(t, cli(t, "", "import", entry, "--from", src.addr(), "--replace", "--yes"), "import --replace")
	if sz := src.cli.DBSize(ctx).Val(); sz != 0 {
		t.Fatalf("a move leaves the source empty: DBSIZE %d", sz)
	}
	verifyKeys(t, cc, "imp", n)
	if v := cc.HGet(ctx, "imp:hash", "b").Val(); v != "2" {
		t.Fatalf("hash lost: %q", v)
	}
	if ttl := cc.TTL(ctx, "imp:ttl").Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("TTL not carried over: %v", ttl)
	}
	// A cluster node is refused as source.
	if r := cli(t, "", "import", entry, "--from", nodes[1].addr(), "--yes"); r.code == 0 || !strings.Contains(r.stdout+r.stderr, "should not be a cluster node") {
		t.Fatalf("cluster source must be refused:\n%s%s", r.stdout, r.stderr)
	}
}

// TestInterruptSettlesSlots: an interrupted reshard (SIGINT) stops at a
// safe point: every slot is either moved or untouched, none left open, no
// key lost; running it again finishes the job.
func TestInterruptSettlesSlots(t *testing.T) {
	t.Parallel()
	nodes := redisCliCluster(t)
	entry := nodes[0].addr()
	m0 := nodeID(t, nodes[0])
	cc := clusterClient(t, entry)
	loadKeys(t, cc, "int", 20000)
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"reshard", entry, "--from", "all", "--to", m0, "--slots", "8000", "--yes"}, strings.NewReader(""), &out, &errb)
	}()
	// Interrupt once the move is under way.
	waitFor(t, 30*time.Second, "reshard under way", func() bool {
		view, err := nodes[0].cli.ClusterNodes(context.Background()).Result()
		if err != nil {
			return false
		}
		lines, err := cluster.ParseNodes(view)
		if err != nil {
			return false
		}
		for _, l := range lines {
			if l.HasFlag("myself") {
				return l.Slots.Count() > 5461 // some slots arrived
			}
		}
		return false
	})
	cancel()
	code := <-done
	if code != 1 || !strings.Contains(out.String(), "Interrupted") || strings.Contains(out.String(), " 0 of 8000 slots moved") {
		t.Fatalf("interrupted reshard: exit %d\n%s%s", code, out.String(), errb.String())
	}
	if o, rc := redisCli(t, "", "--cluster", "check", entry); rc != 0 {
		t.Fatalf("an interrupted reshard must leave no open slot:\n%s\n---\n%s", o, out.String())
	}
	verifyKeys(t, cc, "int", 20000)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	t.Logf("%s", strings.Join(lines[max(0, len(lines)-3):], "\n"))
}

// syncBuffer is a strings.Builder safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
