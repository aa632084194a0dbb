package clusterbus

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNodesConfRoundTrip(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Dir = dir
	cfg.BindIP = "127.0.0.9"
	cfg.Port = 7000
	cfg.Logger = testLogger()
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	id := b.MyID()
	other := strings.Repeat("ab", 20)
	third := strings.Repeat("cd", 20)
	b.locked(func(s *state) {
		o := s.addNode(other)
		o.ip, o.port, o.cport, o.hostname = "127.0.0.10", 7001, 17001, "host-b"
		o.configEpoch = 4
		r := s.addNode(third)
		r.ip, r.port, r.cport = "127.0.0.11", 7002, 17002
		r.flags = fReplica | fFail
		r.masterID = other
		for j := 100; j <= 200; j++ {
			s.setOwner(j, o)
		}
		s.currentEpoch = 9
		s.lastVoteEpoch = 3
	})
	if err := b.AddSlotsRange([]string{"0", "99", "300", "300"}); err != nil {
		t.Fatal(err)
	}
	if err := b.SetSlot([]string{"300", "migrating", other}); err != nil {
		t.Fatal(err)
	}
	if err := b.SetSlot([]string{"150", "importing", other}); err != nil {
		t.Fatal(err)
	}
	b.SetConfigEpoch("0")
	before := b.Nodes()
	b.Close()
	data, _ := os.ReadFile(filepath.Join(dir, "nodes.conf"))
	if !strings.Contains(string(data), "vars currentEpoch 9 lastVoteEpoch 3") ||
		!strings.Contains(string(data), "[300->-"+other+"]") || !strings.Contains(string(data), "[150-<-"+other+"]") ||
		!strings.Contains(string(data), "@17001,host-b,shard-id=") {
		t.Fatalf("nodes.conf:\n%s", data)
	}
	b2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	if b2.MyID() != id {
		t.Fatal("id changed")
	}
	after := b2.Nodes()
	norm := func(s string) string { // ping/pong times and link state differ
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
			f := strings.Fields(l)
			f[4], f[5], f[7] = "-", "-", "-"
			out = append(out, strings.Join(f, " "))
		}
		return strings.Join(out, "\n")
	}
	if norm(before) != norm(after) {
		t.Fatalf("round trip differs:\n%s\n---\n%s", before, after)
	}
	if strings.Count(after, "\n") != 3 || !strings.Contains(after, "slave,fail "+other) {
		t.Fatalf("after:\n%s", after)
	}
	// The table is rebuilt from the loaded state.
	tb := b2.Table()
	if tb.Nodes[tb.Owner.Get(150)].ID != other || tb.Nodes[tb.Owner.Get(0)].ID != id || tb.Nodes[tb.Migrating.Get(300)].ID != other {
		t.Fatal("table from nodes.conf is wrong")
	}
}

func TestNodesConfCorrupt(t *testing.T) {
	for _, body := range []string{
		"garbage\n",
		strings.Repeat("ab", 20) + " 127.0.0.1:7000@17000 myself,master - 0 0 0 connected 5-3\n",
		strings.Repeat("ab", 20) + " 127.0.0.1:7000@17000 master - 0 0 0 connected\n", // no myself
		strings.Repeat("zz", 20) + " 127.0.0.1:7000@17000 myself,master - 0 0 0 connected\n",
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "nodes.conf"), []byte(body), 0o644)
		cfg := DefaultConfig()
		cfg.Dir = dir
		cfg.Logger = testLogger()
		if b, err := New(cfg); err == nil {
			b.Close()
			t.Fatalf("accepted corrupt nodes.conf %q", body)
		}
	}
	// Redis 7.0's format (no aux fields) loads.
	dir := t.TempDir()
	id := strings.Repeat("ab", 20)
	os.WriteFile(filepath.Join(dir, "nodes.conf"), []byte(id+" 127.0.0.1:7000@17000 myself,master - 0 0 5 connected 0-16383\nvars currentEpoch 5 lastVoteEpoch 0\n"), 0o644)
	cfg := DefaultConfig()
	cfg.Dir = dir
	cfg.Logger = testLogger()
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.MyID() != id || !strings.Contains(b.Nodes(), " 5 connected 0-16383") {
		t.Fatalf("%s", b.Nodes())
	}
}
