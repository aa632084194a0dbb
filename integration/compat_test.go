package integration

// Redis 7.0 compatibility checks, differential against redis-server 7.0.

import "testing"

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

