package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/slotkv/slotkv/tools/clustercli/internal/cluster"
)

// tagFor returns a hash tag whose keys land in slot.
func tagFor(slot int) string {
	for i := 0; ; i++ {
		tag := fmt.Sprintf("t%d", i)
		if cluster.KeySlot(tag) == slot {
			return tag
		}
	}
}

// redisCliCluster creates a 3-master cluster with redis-cli itself.
func redisCliCluster(t *testing.T) []*redisNode {
	nodes := startRedis(t, 3, true)
	out, code := redisCli(t, "", append(append([]string{"--cluster", "create"}, addrsOf(nodes)...), "--cluster-yes")...)
	if code != 0 {
		t.Fatalf("redis-cli --cluster create: %s", out)
	}
	waitHealthy(t, nodes[0].addr())
	return nodes
}

// asking runs ASKING + args on one connection of n.
func asking(t *testing.T, n *redisNode, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn := n.cli.Conn()
	defer conn.Close()
	if err := conn.Do(ctx, "ASKING").Err(); err != nil {
		t.Fatal(err)
	}
	if err := conn.Do(ctx, args...).Err(); err != nil {
		t.Fatal(err)
	}
}

func do(t *testing.T, n *redisNode, args ...any) {
	t.Helper()
	if err := n.cli.Do(context.Background(), args...).Err(); err != nil {
		t.Fatalf("%s %v: %v", n.addr(), args, err)
	}
}

func checkBoth(t *testing.T, entry string, extra ...string) (redisOut string, redisCode int, ours map[string]any, ourCode int) {
	t.Helper()
	redisArgs := []string{"--cluster", "check", entry}
	ourArgs := []string{"check", entry}
	for _, e := range extra {
		redisArgs = append(redisArgs, "--cluster-"+e)
		ourArgs = append(ourArgs, "--"+e)
	}
	redisOut, redisCode = redisCli(t, "", redisArgs...)
	ourCode, ours, _ = cliJSON(t, ourArgs...)
	return
}

func problemKinds(doc map[string]any) map[string]bool {
	out := map[string]bool{}
	for _, p := range doc["check"].(map[string]any)["problems"].([]any) {
		out[p.(map[string]any)["kind"].(string)] = true
	}
	return out
}

func ownerOf(t *testing.T, n *redisNode, slot int) string {
	res, err := n.cli.ClusterSlots(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if slot >= r.Start && slot <= r.End {
			return r.Nodes[0].ID
		}
	}
	return ""
}

func keysInSlot(t *testing.T, c *redis.ClusterClient, tag string, n int) {
	t.Helper()
	ctx := context.Background()
	c.ReloadState(ctx)
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("{%s}:%d", tag, i)
		if v, err := c.Get(ctx, k).Result(); err != nil || v != k {
			t.Fatalf("GET %s = %q, %v", k, v, err)
		}
	}
}

// TestCheckAndFixMatchRedisCli breaks a redis-cli-made cluster in the ways
// redis-cli --cluster check knows, and requires clustercli check to find the
// same problems; each is repaired alternately by clustercli fix and
// redis-cli --cluster fix, and the other tool must then find it healthy.
func TestCheckAndFixMatchRedisCli(t *testing.T) {
	t.Parallel()
	nodes := redisCliCluster(t)
	entry := nodes[0].addr()
	m0, m1 := nodeID(t, nodes[0]), nodeID(t, nodes[1])
	cc := clusterClient(t, entry)
	ctx := context.Background()
	write := func(tag string, n int) {
		for i := 0; i < n; i++ {
			k := fmt.Sprintf("{%s}:%d", tag, i)
			if err := cc.Set(ctx, k, k, 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("healthy", func(t *testing.T) {
		out, rc := redisCli(t, "", "--cluster", "check", entry)
		oc, doc, _ := cliJSON(t, "check", entry, "--search-multiple-owners")
		if rc != 0 || oc != 0 || doc["ok"] != true {
			t.Fatalf("healthy cluster: redis-cli %d, clustercli %d\n%s\n%v", rc, oc, out, doc)
		}
	})

	t.Run("open slot without keys", func(t *testing.T) {
		do(t, nodes[0], "CLUSTER", "SETSLOT", 100, "MIGRATING", m1)
		out, rc, doc, oc := checkBoth(t, entry)
		if rc == 0 || !strings.Contains(out, "The following slots are open: 100.") {
			t.Fatalf("redis-cli should report slot 100 open:\n%s", out)
		}
		if oc != 1 || !problemKinds(doc)["open-slot"] || fmt.Sprint(doc["check"].(map[string]any)["open_slots"]) != "[100]" {
			t.Fatalf("clustercli should report slot 100 open: %v", doc)
		}
		if r := cli(t, "no\n", "fix", entry); r.code != 1 || !strings.Contains(r.stdout, "type 'yes' to accept") {
			t.Fatalf("fix answered 'no' must change nothing and exit 1: %d\n%s", r.code, r.stdout)
		}
		if c, _, _ := cliJSON(t, "check", entry); c != 1 {
			t.Fatal("slot 100 must still be open after a declined fix")
		}
		mustOK(t, cli(t, "yes\n", "fix", entry), "fix answered yes")
		waitHealthy(t, entry)
	})

	// An interrupted reshard: slot open on both sides, some keys moved.
	interrupted := func(slot, moved int) string {
		tag := tagFor(slot)
		write(tag, 20)
		do(t, nodes[1], "CLUSTER", "SETSLOT", slot, "IMPORTING", m0)
		do(t, nodes[0], "CLUSTER", "SETSLOT", slot, "MIGRATING", m1)
		if moved > 0 {
			args := []any{"MIGRATE", nodes[1].host, nodes[1].port, "", 0, 5000, "KEYS"}
			for i := 0; i < moved; i++ {
				args = append(args, fmt.Sprintf("{%s}:%d", tag, i))
			}
			do(t, nodes[0], args...)
		}
		return tag
	}
	// Where the slot ends follows redis-cli's rules: with no keys moved it is
	// a plain "case 1" (finish the move); once keys are on both sides the
	// node with most keys (first on ties) becomes the owner.
	for _, tc := range []struct {
		slot, moved int
		tool        string
		owner       string
	}{
		{200, 0, "redis-cli", m1}, {201, 0, "clustercli", m1},
		{202, 10, "redis-cli", m0}, {203, 10, "clustercli", m0},
		{204, 15, "redis-cli", m1}, {205, 15, "clustercli", m1},
	} {
		t.Run(fmt.Sprintf("interrupted reshard %d of 20 keys moved, fixed by %s", tc.moved, tc.tool), func(t *testing.T) {
			tag := interrupted(tc.slot, tc.moved)
			out, rc, doc, oc := checkBoth(t, entry)
			if rc == 0 || oc != 1 || !problemKinds(doc)["open-slot"] {
				t.Fatalf("both must see the open slot: redis-cli %d\n%s\nclustercli %d %v", rc, out, oc, doc)
			}
			if tc.tool == "redis-cli" {
				if out, code := redisCli(t, "", "--cluster", "fix", entry); code != 0 {
					t.Fatalf("redis-cli fix: %s", out)
				}
				waitFor(t, 10e9, "clustercli check clean", func() bool { c, _, _ := cliJSON(t, "check", entry); return c == 0 })
			} else {
				mustOK(t, cli(t, "", "fix", entry, "--yes"), "fix")
				waitHealthy(t, entry)
			}
			keysInSlot(t, cc, tag, 20)
			if o := ownerOf(t, nodes[2], tc.slot); o != tc.owner {
				t.Fatalf("slot %d owned by %s, want %s", tc.slot, o, tc.owner)
			}
		})
	}

	uncover := func(slot int) {
		for _, n := range nodes {
			do(t, n, "CLUSTER", "DELSLOTS", slot)
		}
	}
	t.Run("uncovered slots fixed by clustercli", func(t *testing.T) {
		tag := tagFor(301)
		write(tag, 5)
		uncover(300)
		uncover(301)
		out, rc, doc, oc := checkBoth(t, entry)
		if rc == 0 || !strings.Contains(out, "[ERR] Not all 16384 slots are covered by nodes.") {
			t.Fatalf("redis-cli should report uncovered slots:\n%s", out)
		}
		if oc != 1 || !problemKinds(doc)["coverage"] || doc["check"].(map[string]any)["uncovered_slots"] != "300-301" {
			t.Fatalf("clustercli should report slots 300-301 uncovered: %v", doc)
		}
		mustOK(t, cli(t, "", "fix", entry, "--yes"), "fix")
		waitHealthy(t, entry)
		if ownerOf(t, nodes[0], 301) != m0 {
			t.Fatalf("slot 301 has keys only on %s: it must be covered by that node", nodes[0].addr())
		}
		keysInSlot(t, cc, tag, 5)
	})
	t.Run("uncovered slot fixed by redis-cli", func(t *testing.T) {
		tag := tagFor(302)
		write(tag, 5)
		uncover(302)
		if out, code := redisCli(t, "yes\n", "--cluster", "fix", entry); code != 0 {
			t.Fatalf("redis-cli fix: %s", out)
		}
		waitFor(t, 10e9, "clustercli check clean", func() bool { c, _, _ := cliJSON(t, "check", entry); return c == 0 })
		keysInSlot(t, cc, tag, 5)
	})

	t.Run("nodes disagree", func(t *testing.T) {
		do(t, nodes[0], "CLUSTER", "DELSLOTS", 500) // only the owner forgets it
		out, rc, doc, oc := checkBoth(t, entry)
		for _, want := range []string{"[ERR] Nodes don't agree about configuration!", "[ERR] Not all 16384 slots are covered by nodes."} {
			if rc == 0 || !strings.Contains(out, want) {
				t.Fatalf("redis-cli should report %q:\n%s", want, out)
			}
		}
		if k := problemKinds(doc); oc != 1 || !k["config"] || !k["coverage"] {
			t.Fatalf("clustercli should report disagreement and coverage: %v", doc)
		}
		mustOK(t, cli(t, "", "fix", entry, "--yes"), "fix")
		waitHealthy(t, entry)
	})

	t.Run("keys on a non-owner", func(t *testing.T) {
		tag := tagFor(400)
		write(tag, 3)
		do(t, nodes[1], "CLUSTER", "SETSLOT", 400, "IMPORTING", m0)
		asking(t, nodes[1], "SET", "{"+tag+"}:stray", "{"+tag+"}:stray")
		do(t, nodes[1], "CLUSTER", "SETSLOT", 400, "STABLE")
		out, rc, doc, oc := checkBoth(t, entry)
		if rc != 0 || oc != 0 || doc["ok"] != true {
			t.Fatalf("without --search-multiple-owners both pass: redis-cli %d, clustercli %d\n%s", rc, oc, out)
		}
		out, rc, doc, oc = checkBoth(t, entry, "search-multiple-owners")
		if rc == 0 || !strings.Contains(out, "[WARNING] Slot 400 has 2 owners:") {
			t.Fatalf("redis-cli should find 2 owners of slot 400:\n%s", out)
		}
		if oc != 1 || !problemKinds(doc)["multiple-owners"] {
			t.Fatalf("clustercli should find 2 owners of slot 400: %v", doc)
		}
		mustOK(t, cli(t, "", "fix", entry, "--search-multiple-owners", "--yes"), "fix")
		waitHealthy(t, entry)
		if c, doc, _ := cliJSON(t, "check", entry, "--search-multiple-owners"); c != 0 {
			t.Fatalf("check after fix: %v", doc)
		}
		keysInSlot(t, cc, tag, 3)
		if v, err := cc.Get(ctx, "{"+tag+"}:stray").Result(); err != nil || v != "{"+tag+"}:stray" {
			t.Fatalf("stray key lost: %q %v", v, err)
		}
	})
}
