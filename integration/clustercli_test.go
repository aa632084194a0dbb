package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Tests of tools/clustercli against slotkv-server clusters. clustercli is
// built once per test binary; every run is bounded in time.

var (
	clustercliOnce sync.Once
	clustercliBin  string
	clustercliErr  error
)

func buildClustercli(t testing.TB) string {
	t.Helper()
	clustercliOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Dir(filepath.Dir(file))
		dir, err := os.MkdirTemp("", "clustercli-bin-")
		if err != nil {
			clustercliErr = err
			return
		}
		clustercliBin = filepath.Join(dir, "clustercli")
		cmd := exec.Command("go", "build", "-o", clustercliBin, "./tools/clustercli")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			clustercliErr = fmt.Errorf("go build clustercli: %v\n%s", err, out)
		}
	})
	if clustercliErr != nil {
		t.Fatal(clustercliErr)
	}
	return clustercliBin
}

// clustercli runs the tool (stdin closed) and returns exit code and output.
func clustercli(t testing.TB, args ...string) (int, string) {
	t.Helper()
	ctx := Ctx(t, 120*time.Second)
	cmd := exec.CommandContext(ctx, buildClustercli(t), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("clustercli %v: %v", args, err)
	}
	return code, out.String()
}

func clustercliOK(t testing.TB, args ...string) string {
	t.Helper()
	code, out := clustercli(t, args...)
	if code != 0 {
		t.Fatalf("clustercli %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

func clustercliJSON(t testing.TB, args ...string) (int, map[string]any) {
	t.Helper()
	ctx := Ctx(t, 120*time.Second)
	cmd := exec.CommandContext(ctx, buildClustercli(t), append(args, "--json")...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	var doc map[string]any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("clustercli %v --json: %v\nstdout: %s\nstderr: %s", args, err, out.String(), errb.String())
	}
	return code, doc
}

func ccNodeID(t testing.TB, n *Node) string {
	id, err := n.Client().Do(Ctx(t, 5*time.Second), "CLUSTER", "MYID").Text()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestClustercliOnSlotkv drives every clustercli subcommand against a
// slotkv cluster: create, check, info, reshard, rebalance, add-node,
// del-node, fix, call, set-timeout and import; every key must survive.
func TestClustercliOnSlotkv(t *testing.T) {
	var nodes []*Node
	for i := 0; i < 4; i++ {
		nodes = append(nodes, StartNode(t, Options{Cluster: true}))
	}
	entry := nodes[0].Addr()
	clustercliOK(t, "create", nodes[0].Addr(), nodes[1].Addr(), nodes[2].Addr(), "--yes")
	Eventually(t, 20*time.Second, "clustercli check passes", func() bool {
		code, _ := clustercli(t, "check", entry)
		return code == 0
	})
	if code, doc := clustercliJSON(t, "info", entry); code != 0 || doc["masters"].(float64) != 3 {
		t.Fatalf("info: %d %v", code, doc)
	}

	ctx := Ctx(t, 120*time.Second)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{entry}, MaxRedirects: 8})
	defer cc.Close()
	const nkeys = 2000
	for i := 0; i < nkeys; i++ {
		if err := cc.Set(ctx, fmt.Sprintf("cc:%d", i), fmt.Sprintf("v%d", i), 0).Err(); err != nil {
			t.Fatalf("SET: %v", err)
		}
	}
	verify := func(what string) {
		t.Helper()
		cc.ReloadState(ctx)
		for i := 0; i < nkeys; i++ {
			if v, err := cc.Get(ctx, fmt.Sprintf("cc:%d", i)).Result(); err != nil || v != fmt.Sprintf("v%d", i) {
				t.Fatalf("after %s: GET cc:%d = %q, %v", what, i, v, err)
			}
		}
	}

	m0 := ccNodeID(t, nodes[0])
	// Key-by-key MIGRATE path (what works on Redis too)...
	code, doc := clustercliJSON(t, "reshard", entry, "--from", "all", "--to", m0, "--slots", "200", "--yes", "--no-fast-path")
	if code != 0 || doc["result"].(map[string]any)["mover"] != "MIGRATE" {
		t.Fatalf("reshard --no-fast-path: %d %v", code, doc)
	}
	verify("reshard")
	// ...and slotkv's whole-slot path, which clustercli picks by itself.
	code, doc = clustercliJSON(t, "rebalance", entry, "--threshold", "1", "--yes")
	if code != 0 || doc["result"].(map[string]any)["mover"] != "CLUSTER MIGRATESLOTS" {
		t.Fatalf("rebalance should use the fast path: %d %v", code, doc)
	}
	verify("rebalance")

	clustercliOK(t, "add-node", nodes[3].Addr(), entry, "--yes")
	m3 := ccNodeID(t, nodes[3])
	clustercliOK(t, "reshard", entry, "--from", m0, "--to", m3, "--slots", "100", "--yes")
	verify("reshard to the new node")
	clustercliOK(t, "reshard", entry, "--from", m3, "--to", m0, "--slots", "100", "--yes")
	clustercliOK(t, "del-node", entry, m3, "--yes")
	verify("del-node")

	// An open slot (as left by a killed reshard) is found and fixed.
	m1 := ccNodeID(t, nodes[1])
	if err := nodes[0].Client().Do(ctx, "CLUSTER", "SETSLOT", 300, "MIGRATING", m1).Err(); err != nil {
		t.Fatal(err)
	}
	if code, doc := clustercliJSON(t, "check", entry); code != 1 || fmt.Sprint(doc["check"].(map[string]any)["open_slots"]) != "[300]" {
		t.Fatalf("check should report slot 300 open: %d %v", code, doc)
	}
	clustercliOK(t, "fix", entry, "--yes")
	clustercliOK(t, "check", entry)

	if out := clustercliOK(t, "call", entry, "DBSIZE", "--only-masters"); strings.Count(out, ": ") < 3 {
		t.Fatalf("call output:\n%s", out)
	}
	clustercliOK(t, "set-timeout", entry, "3000", "--yes")

	// import from a standalone slotkv node.
	src := StartNode(t, Options{})
	for i := 0; i < 500; i++ {
		if err := src.Client().Set(ctx, fmt.Sprintf("imp:%d", i), "x", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	clustercliOK(t, "import", entry, "--from", src.Addr(), "--yes")
	for i := 0; i < 500; i++ {
		if v, err := cc.Get(ctx, fmt.Sprintf("imp:%d", i)).Result(); err != nil || v != "x" {
			t.Fatalf("imported key imp:%d = %q %v", i, v, err)
		}
	}
	verify("import")
	clustercliOK(t, "check", entry, "--search-multiple-owners")
}
