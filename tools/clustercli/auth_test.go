package main

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestAuth: a password-protected cluster with an ACL user. -a is used for
// every node and passed to MIGRATE as AUTH; --user makes it AUTH2.
func TestAuth(t *testing.T) {
	t.Parallel()
	nodes := startRedis(t, 3, true, "--requirepass", "pw", "--masterauth", "pw",
		"--user", "admin", "on", ">adminpw", "~*", "&*", "+@all")
	addrs := addrsOf(nodes)
	entry := addrs[0]
	for _, n := range nodes {
		n.cli.Close()
		n.cli = redis.NewClient(&redis.Options{Addr: n.addr(), Password: "pw", Protocol: 2, DisableIdentity: true})
	}
	r := cli(t, "", "check", entry)
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "-a/--pass") {
		t.Fatalf("no password: want exit 1 with a hint, got %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	mustOK(t, cli(t, "", append(append([]string{"create"}, addrs...), "-a", "pw", "--yes")...), "create -a")
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{entry}, Password: "pw", Protocol: 2, DisableIdentity: true})
	defer cc.Close()
	loadKeys(t, cc, "auth", 3000)
	m0 := nodeID(t, nodes[0])
	// MIGRATE ... AUTH2 admin adminpw
	mustOK(t, cli(t, "", "reshard", entry, "--from", "all", "--to", m0, "--slots", "3000", "--user", "admin", "--pass", "adminpw", "--yes"), "reshard --user")
	verifyKeys(t, cc, "auth", 3000)
	// MIGRATE ... AUTH pw
	mustOK(t, cli(t, "", "rebalance", entry, "-a", "pw", "--yes"), "rebalance -a")
	verifyKeys(t, cc, "auth", 3000)
	code, doc, _ := cliJSON(t, "check", entry, "-a", "pw")
	if code != 0 || doc["ok"] != true {
		t.Fatalf("check -a: %v", doc)
	}
	if v := nodes[0].cli.ConfigGet(context.Background(), "requirepass").Val(); v["requirepass"] != "pw" {
		t.Fatalf("unexpected config %v", v)
	}
}
