package integration

// Redis 7.0 compatibility checks, differential against redis-server 7.0.

import (
	"fmt"
	"sort"
	"testing"
	"time"
)

// TestCompatLFUKeptOnOverwrite: under an LFU policy a command that
// overwrites an existing key's value keeps the old object's LFU field
// (Redis 7.0 src/db.c dbOverwrite: "if (server.maxmemory_policy &
// MAXMEMORY_FLAG_LFU) val->lru = old->lru;"), while COPY REPLACE creates a
// new object (LFU_INIT_VAL). lfu-log-factor 0 makes every access increment
// the counter and lfu-decay-time 0 disables decay, so the counters are
// deterministic.
func TestCompatLFUKeptOnOverwrite(t *testing.T) {
	sk, rs := DiffPair(t)
	steps := []Step{
		S("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"),
		S("CONFIG", "SET", "lfu-log-factor", "0"),
		S("CONFIG", "SET", "lfu-decay-time", "0"),
		S("SET", "k", "v"),
		S("GET", "k"), S("GET", "k"), S("GET", "k"),
		S("OBJECT", "FREQ", "k"),
		S("SET", "k", "v2"),
		S("OBJECT", "FREQ", "k"),
		S("SET", "k", "v3", "EX", "100"),
		S("OBJECT", "FREQ", "k"),
		S("APPEND", "k", "zz"),
		S("SETRANGE", "k", "1", "abc"),
		S("OBJECT", "FREQ", "k"),
		S("RPUSH", "l", "a"), S("LLEN", "l"), S("LLEN", "l"),
		S("SET", "l", "x"),
		S("OBJECT", "FREQ", "l"),
		S("SET", "{b}src", "abc"),
		S("SET", "{b}d", "x"), S("GET", "{b}d"), S("GET", "{b}d"),
		S("BITOP", "NOT", "{b}d", "{b}src"),
		S("OBJECT", "FREQ", "{b}d"),
		S("COPY", "{b}src", "{b}d", "REPLACE"),
		S("OBJECT", "FREQ", "{b}d"),
	}
	Differential(t, sk, rs, 2, steps)
}

// commandKeySpecs returns name -> key-specs part (COMMAND INFO element 8)
// of every command and subcommand the server knows.
func commandKeySpecs(t *testing.T, n *Node) map[string]string {
	t.Helper()
	res, err := n.Client().Do(Ctx(t, 10*time.Second), "COMMAND").Slice()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(list []interface{})
	walk = func(list []interface{}) {
		for _, c := range list {
			info, ok := c.([]interface{})
			if !ok || len(info) < 10 {
				continue
			}
			out[fmt.Sprint(info[0])] = fmt.Sprint(info[8])
			if subs, ok := info[9].([]interface{}); ok {
				walk(subs)
			}
		}
	}
	walk(res)
	return out
}

// TestCommandKeySpecsDifferential compares the key specifications of every
// command (and subcommand) both slotkv and redis-server 7.0 implement.
func TestCommandKeySpecsDifferential(t *testing.T) {
	sk, rs := DiffPair(t)
	a, b := commandKeySpecs(t, sk), commandKeySpecs(t, rs)
	names := make([]string, 0, len(a))
	for name := range a {
		if _, ok := b[name]; ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) < 100 {
		t.Fatalf("only %d common commands", len(names))
	}
	for _, name := range names {
		if a[name] != b[name] {
			t.Errorf("%s key specs:\n slotkv: %s\n  redis: %s", name, a[name], b[name])
		}
	}
}
