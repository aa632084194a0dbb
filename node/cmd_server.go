package node

// Server commands: INFO, DBSIZE, FLUSHDB, FLUSHALL, TIME, MONITOR, SLOWLOG,
// LATENCY. (SAVE/BGSAVE/LASTSAVE/SHUTDOWN live with persistence.)

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slotkv/slotkv/node/resp"
)

func init() {
	resp.ErrorHook = countError
	adminSub := func(arity int, flags Flag, proc func(*Client), summary string, tips ...string) *Command {
		return &Command{Arity: arity, Flags: flags, Group: "server", Since: "2.2.12", Summary: summary, Complexity: "O(1)",
			ACL: []string{"@admin", "@slow", "@dangerous"}, Tips: tips, Proc: proc}
	}
	help := func(lines ...string) func(*Client) {
		return func(c *Client) { replyHelp(c, upper(strings.SplitN(c.Cmd.Name, "|", 2)[0]), lines) }
	}
	register(
		&Command{Name: "info", Arity: -1, Flags: FlagLoading | FlagStale, Group: "server", Since: "1.0.0",
			Summary: "Returns information and statistics about the server.", Complexity: "O(1)",
			ACL: []string{"@slow", "@dangerous"}, Tips: []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
			Proc: cmdInfo},
		&Command{Name: "dbsize", Arity: 1, Flags: FlagReadOnly | FlagFast | FlagAllSlots, Group: "server", Since: "1.0.0",
			Summary: "Returns the number of keys in the database.", Complexity: "O(1)",
			ACL: []string{"@keyspace"}, Tips: []string{"request_policy:all_shards", "response_policy:agg_sum"}, Proc: cmdDbsize},
		&Command{Name: "flushdb", Arity: -1, Flags: FlagWrite | FlagAllSlots, Group: "server", Since: "1.0.0",
			Summary: "Remove all keys from the current database.", Complexity: "O(N) where N is the number of keys in the selected database",
			ACL: []string{"@keyspace", "@dangerous"}, Tips: []string{"request_policy:all_shards", "response_policy:all_succeeded"}, Proc: cmdFlush},
		&Command{Name: "flushall", Arity: -1, Flags: FlagWrite | FlagAllSlots, Group: "server", Since: "1.0.0",
			Summary: "Removes all keys from all databases.", Complexity: "O(N) where N is the total number of keys in all databases",
			ACL: []string{"@keyspace", "@dangerous"}, Tips: []string{"request_policy:all_shards", "response_policy:all_succeeded"}, Proc: cmdFlush},
		&Command{Name: "time", Arity: 1, Flags: FlagLoading | FlagStale | FlagFast, Group: "server", Since: "2.6.0",
			Summary: "Returns the server time.", Complexity: "O(1)", ACL: []string{}, Tips: []string{"nondeterministic_output"}, Proc: cmdTime},
		&Command{Name: "monitor", Arity: 1, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Group: "server", Since: "1.0.0",
			Summary: "Listens for all requests received by the server in real-time.", ACL: []string{"@admin", "@slow", "@dangerous"}, Proc: cmdMonitor},
		&Command{Name: "slowlog", Arity: -2, Group: "server", Since: "2.2.12", Summary: "A container for slow log commands.",
			Complexity: "Depends on subcommand.", ACL: []string{"@slow"}, Sub: map[string]*Command{
				"get": adminSub(-2, FlagAdmin|FlagLoading|FlagStale, cmdSlowlogGet, "Returns the slow log's entries.",
					"request_policy:all_nodes", "nondeterministic_output"),
				"len": adminSub(2, FlagAdmin|FlagLoading|FlagStale, func(c *Client) { c.W.Int(0) }, "Returns the number of entries in the slow log.",
					"request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"),
				"reset": adminSub(2, FlagAdmin|FlagLoading|FlagStale, func(c *Client) { c.W.OK() }, "Clears all entries from the slow log.",
					"request_policy:all_nodes", "response_policy:all_succeeded"),
				"help": {Arity: 2, Flags: FlagLoading | FlagStale, Group: "server", Since: "6.2.0", Summary: "Show helpful text about the different subcommands",
					Complexity: "O(1)", ACL: []string{"@slow"}, Proc: help(
						"GET [<count>]",
						"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
						"    Entries are made of:",
						"    id, timestamp, time in microseconds, arguments array, client IP and port,",
						"    client name",
						"LEN",
						"    Return the length of the slowlog.",
						"RESET",
						"    Reset the slowlog.")},
			}},
		&Command{Name: "latency", Arity: -2, Group: "server", Since: "2.8.13", Summary: "A container for latency diagnostics commands.",
			Complexity: "Depends on subcommand.", ACL: []string{"@slow"}, Sub: map[string]*Command{
				"latest": adminSub(2, FlagAdmin|FlagNoScript|FlagLoading|FlagStale, func(c *Client) { c.W.Array(0) },
					"Returns the latest latency samples for all events.", "nondeterministic_output", "request_policy:all_nodes", "response_policy:special"),
				"history": adminSub(3, FlagAdmin|FlagNoScript|FlagLoading|FlagStale, func(c *Client) { c.W.Array(0) },
					"Returns timestamp-latency samples for an event.", "nondeterministic_output", "request_policy:all_nodes", "response_policy:special"),
				"reset": adminSub(-2, FlagAdmin|FlagNoScript|FlagLoading|FlagStale, func(c *Client) { c.W.Int(0) },
					"Resets the latency data for one or more events.", "request_policy:all_nodes", "response_policy:all_succeeded"),
				"graph": adminSub(3, FlagAdmin|FlagNoScript|FlagLoading|FlagStale, func(c *Client) {
					c.W.Error("ERR No samples available for event '" + string(c.Argv[2]) + "'")
				}, "Returns a latency graph for an event.", "nondeterministic_output", "request_policy:all_nodes", "response_policy:special"),
				"doctor": adminSub(2, FlagAdmin|FlagNoScript|FlagLoading|FlagStale, func(c *Client) {
					c.W.Verbatim("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n")
				}, "Returns a human-readable latency analysis report.", "nondeterministic_output", "request_policy:all_nodes", "response_policy:special"),
				"histogram": adminSub(-2, FlagAdmin|FlagNoScript|FlagLoading|FlagStale, func(c *Client) { c.W.Map(0) },
					"Returns the cumulative distribution of latencies of a subset or all commands.", "nondeterministic_output", "request_policy:all_nodes", "response_policy:special"),
				"help": {Arity: 2, Flags: FlagLoading | FlagStale, Group: "server", Since: "2.8.13", Summary: "Show helpful text about the different subcommands.",
					Complexity: "O(1)", ACL: []string{"@slow"}, Proc: help(
						"DOCTOR",
						"    Return a human readable latency analysis report.",
						"GRAPH <event>",
						"    Return an ASCII latency graph for the <event> class.",
						"HISTORY <event>",
						"    Return time-latency samples for the <event> class.",
						"LATEST",
						"    Return the latest latency samples for all events.",
						"RESET [<event> ...]",
						"    Reset latency data of one or more <event> classes.",
						"    (default: reset all data for all event classes)",
						"HISTOGRAM [COMMAND ...]",
						"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
						"    If no commands are specified then all histograms are replied.")},
			}},
	)
}

// replyHelp writes Redis's addReplyHelp: a header line, the given lines,
// then HELP, all as status replies.
func replyHelp(c *Client, cmd string, lines []string) {
	c.W.Array(len(lines) + 3)
	c.W.Simple(cmd + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.W.Simple(l)
	}
	c.W.Simple("HELP")
	c.W.Simple("    Prints this help.")
}

func cmdInfo(c *Client) {
	c.W.Verbatim(GenInfo(c.Server(), c, c.Argv[1:]))
}

func cmdDbsize(c *Client) {
	var n int64
	for i := range c.srv.KS.slots {
		c.WithSlot(i, func(s *Slot) { n += int64(s.Len()) })
	}
	c.W.Int(n)
}

// cmdFlush is FLUSHDB and FLUSHALL [ASYNC|SYNC]: slotkv has one database,
// so both empty every slot. Freeing is left to the GC either way.
func cmdFlush(c *Client) {
	if len(c.Argv) > 2 || (len(c.Argv) == 2 && !argIs(c.Argv[1], "async") && !argIs(c.Argv[1], "sync")) {
		c.W.Error(ErrSyntax)
		return
	}
	if !c.allSlots && len(c.locked) == 0 {
		// Hold every slot until the FLUSH has been propagated (the
		// dispatcher unlocks after call()), so no write can slip between
		// an emptied slot and the FLUSH in the replication stream or AOF.
		all := make([]int, len(c.srv.KS.slots))
		for i := range all {
			all[i] = i
		}
		c.lockSlots(all)
		c.allSlots = true
		defer func() { c.allSlots = false }()
	}
	removed := FlushAll(c)
	c.Dirty += removed + 1 // always propagated, like Redis
	c.W.OK()
}

// FlushAll empties every slot one at a time (through c, so slots the
// client already holds are not locked twice) and returns the number of
// keys removed.
func FlushAll(c *Client) int {
	n := 0
	for i := range c.srv.KS.slots {
		c.WithSlot(i, func(s *Slot) {
			if s.Len() > 0 || s.watch != nil {
				n += s.Flush()
			}
		})
	}
	return n
}

func cmdTime(c *Client) {
	now := time.Now()
	c.W.Array(2)
	c.W.BulkString(strconv.FormatInt(now.Unix(), 10))
	c.W.BulkString(strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
}

// ---------------------------------------------------------------------------
// MONITOR

// monitorsActive counts MONITOR clients of all servers; call() feeds them
// only when it is non-zero.
var monitorsActive atomic.Int32

type monitor struct {
	ch   chan []byte
	quit chan struct{} // closed (once) to drop a monitor that fell behind
	once sync.Once
}

var (
	monitorsMu sync.Mutex
	monitors   = map[*Server][]*monitor{}
)

// cmdMonitor turns the connection into a monitor: +OK, then one line per
// command the server runs (admin and skip_monitor commands excepted), as
// Redis formats them. The connection's goroutine stays here, writing what
// other clients feed, until the client disconnects or the server stops; a
// monitor that cannot keep up is disconnected.
func cmdMonitor(c *Client) {
	if c.HasFlag(ClientMonitor) {
		return
	}
	if !canBlock(c) {
		c.W.Error("ERR MONITOR isn't allowed for DENY BLOCKING client")
		return
	}
	s := c.srv
	m := &monitor{ch: make(chan []byte, 4096), quit: make(chan struct{})}
	monitorsMu.Lock()
	monitors[s] = append(monitors[s], m)
	monitorsMu.Unlock()
	monitorsActive.Add(1)
	c.SetFlag(ClientMonitor, true)
	defer func() {
		monitorsMu.Lock()
		ms := monitors[s]
		for i, x := range ms {
			if x == m {
				ms = append(ms[:i], ms[i+1:]...)
				break
			}
		}
		if len(ms) == 0 {
			delete(monitors, s)
		} else {
			monitors[s] = ms
		}
		monitorsMu.Unlock()
		monitorsActive.Add(-1)
		c.CloseAfterReply = true
	}()
	c.W.OK()
	if c.flush() != nil {
		return
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case line := <-m.ch:
			c.W.B = append(c.W.B, line...)
			for len(c.W.B) < 64<<10 { // batch what is already queued
				select {
				case more := <-m.ch:
					c.W.B = append(c.W.B, more...)
					continue
				default:
				}
				break
			}
			if c.flush() != nil {
				return
			}
		case <-m.quit:
			return
		case <-tick.C:
			if c.Closed() {
				return
			}
		case <-s.Done():
			return
		}
	}
}

// feedMonitors sends one executed command to the server's monitors.
func feedMonitors(s *Server, c *Client, cmd *Command, argv [][]byte) {
	monitorsMu.Lock()
	ms := monitors[s]
	monitorsMu.Unlock()
	if len(ms) == 0 {
		return
	}
	line := monitorLine(c, cmd, argv, time.Now())
	for _, m := range ms {
		select {
		case m.ch <- line:
		default: // too slow: Redis would hit the output buffer limit
			m.once.Do(func() { close(m.quit) })
		}
	}
}

// monitorLine formats a command like Redis's replicationFeedMonitors:
// +<unix>.<usec> [0 <addr>] "arg" "arg"...
func monitorLine(c *Client, cmd *Command, argv [][]byte, now time.Time) []byte {
	b := make([]byte, 0, 64)
	b = append(b, '+')
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '.')
	us := strconv.Itoa(now.Nanosecond() / 1000)
	b = append(b, "000000"[len(us):]...)
	b = append(b, us...)
	b = append(b, " [0 "...)
	if c == nil || c.conn == nil {
		b = append(b, "lua"...)
	} else {
		b = append(b, c.Addr...)
	}
	b = append(b, ']')
	redact := redactedArgs(cmd, argv)
	for i, a := range argv {
		b = append(b, ' ')
		if redact != nil && redact[i] {
			b = append(b, `"(redacted)"`...)
			continue
		}
		b = appendRepr(b, a)
	}
	return append(b, '\r', '\n')
}

// redactedArgs marks password arguments (AUTH, HELLO ... AUTH, MIGRATE
// AUTH/AUTH2) that MONITOR must not show.
func redactedArgs(cmd *Command, argv [][]byte) map[int]bool {
	var r map[int]bool
	mark := func(i int) {
		if r == nil {
			r = map[int]bool{}
		}
		if i < len(argv) {
			r[i] = true
		}
	}
	switch cmd.Name {
	case "auth":
		for i := 1; i < len(argv); i++ {
			mark(i)
		}
	case "hello":
		for i := 2; i+2 < len(argv); i++ {
			if argIs(argv[i], "auth") {
				mark(i + 1)
				mark(i + 2)
				i += 2
			}
		}
	case "migrate":
		for i := 6; i < len(argv); i++ {
			if argIs(argv[i], "auth") {
				mark(i + 1)
				i++
			} else if argIs(argv[i], "auth2") {
				mark(i + 1)
				mark(i + 2)
				i += 2
			} else if argIs(argv[i], "keys") {
				break
			}
		}
	}
	return r
}

// appendRepr quotes a like Redis's sdscatrepr.
func appendRepr(b, a []byte) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	for _, ch := range a {
		switch ch {
		case '\\', '"':
			b = append(b, '\\', ch)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if ch >= 0x20 && ch < 0x7f {
				b = append(b, ch)
			} else {
				b = append(b, '\\', 'x', hexd[ch>>4], hexd[ch&15])
			}
		}
	}
	return append(b, '"')
}

func cmdSlowlogGet(c *Client) {
	if len(c.Argv) == 3 {
		if n, ok := ParseInt(c.Argv[2]); !ok || n < -1 {
			c.W.Error("ERR count should be greater than or equal to -1")
			return
		}
	} else if len(c.Argv) > 3 {
		c.W.Error("ERR unknown subcommand or wrong number of arguments for '" + string(c.Argv[1]) + "'. Try SLOWLOG HELP.")
		return
	}
	c.W.Array(0)
}

// argIs compares an argument with a lower-case ASCII word.
func argIs(b []byte, word string) bool {
	if len(b) != len(word) {
		return false
	}
	for i := range b {
		if lower(b[i]) != word[i] {
			return false
		}
	}
	return true
}
