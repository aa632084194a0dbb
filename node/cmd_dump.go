package node

// DUMP, RESTORE and RESTORE-ASKING (Redis 7.0 cluster.c semantics). The
// payload format is described in codec.go: Redis's framing around slotkv's
// own value encoding, so payloads move between slotkv nodes only.

import (
	"strconv"
)

func init() {
	keyspace := func(cmd *Command) *Command {
		cmd.Group = "generic"
		if cmd.ACL == nil {
			cmd.ACL = []string{"@keyspace"}
		}
		return cmd
	}
	restoreAsking := func(cmd *Command) *Command {
		cmd.Group = "server"
		return cmd
	}
	register(
		keyspace(&Command{Name: "dump", Arity: 2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1,
			Since: "2.6.0", Summary: "Return a serialized version of the value stored at the specified key.",
			Complexity: "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
			Tips:       []string{"nondeterministic_output"}, Proc: cmdDump}),
		keyspace(&Command{Name: "restore", Arity: -4, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1,
			Since: "2.6.0", Summary: "Create a key using the provided serialized value, previously obtained using DUMP.",
			Complexity: restoreComplexity,
			ACL:        []string{"@keyspace", "@dangerous"}, Proc: cmdRestore}),
		restoreAsking(&Command{Name: "restore-asking", Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagAsking, First: 1, Last: 1, Step: 1,
			Since: "3.0.0", Summary: "An internal command for migrating keys in a cluster",
			Complexity: restoreComplexity,
			ACL:        []string{"@keyspace", "@dangerous"}, Proc: cmdRestore}),
	)
}

const restoreComplexity = "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N))."

func cmdDump(c *Client) {
	_, e := c.Lookup(c.Argv[1])
	if e == nil {
		c.W.Null()
		return
	}
	p, err := AppendDumpPayload(nil, e)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	c.W.Bulk(p)
}

// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
func cmdRestore(c *Client) {
	argv := c.Argv
	replace, absttl := false, false
	idle, freq := int64(-1), int64(-1)
	for j := 4; j < len(argv); j++ {
		additional := len(argv) - j - 1
		switch {
		case dumpArgIs(argv[j], "replace"):
			replace = true
		case dumpArgIs(argv[j], "absttl"):
			absttl = true
		case dumpArgIs(argv[j], "idletime") && additional >= 1 && freq == -1:
			n, ok := ParseInt(argv[j+1])
			if !ok {
				c.W.Error(ErrNotInt)
				return
			}
			if n < 0 {
				c.W.Error("ERR Invalid IDLETIME value, must be >= 0")
				return
			}
			idle = n
			j++
		case dumpArgIs(argv[j], "freq") && additional >= 1 && idle == -1:
			n, ok := ParseInt(argv[j+1])
			if !ok {
				c.W.Error(ErrNotInt)
				return
			}
			if n < 0 || n > 255 {
				c.W.Error("ERR Invalid FREQ value, must be >= 0 and <= 255")
				return
			}
			freq = n
			j++
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	key := argv[1]
	s, old := c.Lookup(key)
	if !replace && old != nil {
		c.W.Error("BUSYKEY Target key name already exists.")
		return
	}
	ttl, ok := ParseInt(argv[2])
	if !ok {
		c.W.Error(ErrNotInt)
		return
	}
	if ttl < 0 {
		c.W.Error("ERR Invalid TTL value, must be >= 0")
		return
	}
	e, err := DecodeDumpPayload(argv[3])
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	deleted := false
	if replace && old != nil {
		deleted = s.Delete(key, c.Now)
	}
	if ttl != 0 && !absttl {
		ttl += c.Now
	}
	if ttl != 0 && ttl <= c.Now {
		// Already expired: the key is not created; a replaced key is gone.
		if deleted {
			c.Dirty++
			c.Propagate = [][]byte{[]byte("DEL"), append([]byte(nil), key...)}
		}
		c.W.OK()
		return
	}
	e.Exp = ttl
	// A new object (dbAdd), even with REPLACE: fresh access metadata, then
	// FREQ or IDLETIME as the policy allows.
	e.LRU = 0
	restoreSetLRUOrLFU(s.Set(key, e), freq, idle, c.Now)
	c.Dirty++
	if ttl != 0 && !absttl {
		// Propagate the TTL as an absolute time, like Redis.
		p := make([][]byte, 0, len(argv)+1)
		for i, a := range argv {
			if i == 2 {
				p = append(p, strconv.AppendInt(nil, ttl, 10))
			} else {
				p = append(p, append([]byte(nil), a...))
			}
		}
		c.Propagate = append(p, []byte("ABSTTL"))
	}
	c.W.OK()
}

// lruClockMax is Redis's LRU_CLOCK_MAX: the object's lru field is 24 bits
// of a seconds clock.
const lruClockMax = 1<<24 - 1

// restoreSetLRUOrLFU is Redis 7.0's objectSetLRUOrLFU (src/object.c), as
// RESTORE calls it on the new object (src/cluster.c restoreCommand): under
// an LFU policy FREQ sets the counter (otherwise the object keeps
// LFU_INIT_VAL and IDLETIME is ignored); under any other policy IDLETIME
// sets the access time (otherwise it is now and FREQ is ignored). freq and
// idle are -1 when not given. e must be the stored entry (Set's result).
func restoreSetLRUOrLFU(e *Entry, freq, idle, nowMs int64) {
	if lfuMode.Load() {
		if freq >= 0 {
			e.LRU = lfuTimeMinutes(nowMs)<<8 | uint32(freq)
		}
		return
	}
	if idle >= 0 {
		e.LRU = uint32(nowMs/1000) - uint32(redisRestoredIdle(idle, nowMs))
	}
}

// redisRestoredIdle is the idle time OBJECT IDLETIME reports in Redis after
// RESTORE ... IDLETIME idle: objectSetLRUOrLFU stores lru_clock - idle in
// the 24-bit field, adding LRU_CLOCK_MAX once when negative (the field
// keeps the low 24 bits of what is still negative), and
// estimateObjectIdleTime unwraps it against the clock. Idle times below
// LRU_CLOCK_MAX (194 days) come back exactly; longer ones wrap, as in
// redis-server 7.0.15 (IDLETIME 16777215 reads back 0, 20000000 3222784
// or 3222785 depending on the clock).
func redisRestoredIdle(idle, nowMs int64) int64 {
	clock := (nowMs / 1000) & lruClockMax
	abs := clock - idle
	if abs < 0 {
		abs += lruClockMax
	}
	lru := abs & (1<<24 - 1)
	if clock >= lru {
		return clock - lru
	}
	return clock + (lruClockMax - lru)
}

// dumpArgIs reports whether b equals the lower-case ASCII word s, ignoring case.
func dumpArgIs(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		ch := b[i]
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != s[i] {
			return false
		}
	}
	return true
}
