package node

import (
	"sort"
	"strings"
	"sync/atomic"
)

// Flag describes a command for dispatch, redirects, MULTI, scripts and the
// COMMAND reply. Names follow Redis's command flags.
type Flag uint32

const (
	FlagWrite        Flag = 1 << iota // may modify the keyspace
	FlagReadOnly                      // only reads the keyspace
	FlagDenyOOM                       // may grow memory: refused over maxmemory
	FlagAdmin                         // administrative
	FlagPubSub                        // pub/sub related
	FlagNoScript                      // not allowed in scripts
	FlagBlocking                      // may block the client
	FlagLoading                       // allowed while loading the dataset
	FlagStale                         // allowed on a replica with stale data
	FlagSkipMonitor                   // not shown in MONITOR
	FlagSkipSlowlog                   // not shown in SLOWLOG
	FlagFast                          // O(1) or O(log N)
	FlagNoAuth                        // allowed before AUTH
	FlagMayReplicate                  // may be replicated
	FlagNoMulti                       // not allowed inside MULTI
	FlagAllowBusy                     // allowed while a script is busy
	FlagAsking                        // served on an importing slot without ASKING
	FlagAllSlots                      // walks the whole keyspace itself (KEYS, SCAN, FLUSHALL...)
	FlagNoPropagate                   // never replicated even though it writes (e.g. expiry-only)
	FlagSentinel                      // reserved
)

var flagNames = []struct {
	f    Flag
	name string
}{
	{FlagWrite, "write"}, {FlagReadOnly, "readonly"}, {FlagDenyOOM, "denyoom"},
	{FlagAdmin, "admin"}, {FlagPubSub, "pubsub"}, {FlagNoScript, "noscript"},
	{FlagBlocking, "blocking"}, {FlagLoading, "loading"}, {FlagStale, "stale"},
	{FlagSkipMonitor, "skip_monitor"}, {FlagSkipSlowlog, "skip_slowlog"},
	{FlagFast, "fast"}, {FlagNoAuth, "no_auth"}, {FlagMayReplicate, "may_replicate"},
	{FlagNoMulti, "no_multi"}, {FlagAllowBusy, "allow_busy"}, {FlagAsking, "asking"},
}

// FlagStrings returns Redis's names of the flags set in f, in COMMAND order.
func (f Flag) Strings() []string {
	var out []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// Command is one row of the command table. The same row drives dispatch
// (arity, flags, Proc), routing (key positions), MULTI/script checks and the
// COMMAND / COMMAND DOCS replies.
type Command struct {
	Name  string // lower case; subcommands are "parent|sub"
	Arity int    // Redis convention: N exact, -N at least N
	Flags Flag
	// First, Last and Step give key positions as in COMMAND INFO: First=0
	// for no keys, Last=-1 for "up to the last argument".
	First, Last, Step int
	// Keys, when set, returns key positions for commands whose keys move
	// (EVAL, ZUNIONSTORE, XREAD...). It appends to dst and must not
	// allocate beyond it.
	Keys func(args [][]byte, dst []int) []int
	// Proc runs the command. The dispatcher has already checked arity and
	// locked the slot(s) of the command's keys.
	Proc func(c *Client)
	// Subcommands of a container command (CONFIG, CLIENT, CLUSTER...).
	Sub map[string]*Command

	// Documentation for COMMAND DOCS / INFO.
	Group      string   // "string", "generic", "server", ...
	Since      string   // first Redis version
	Summary    string   // one line
	Complexity string   // big-O text
	ACL        []string // extra ACL categories, e.g. "@string" (flag-derived ones are added)
	Tips       []string // request/response policy tips

	calls shardedCounter
}

// shardedCounter is a statistics counter bumped on the hot path by many
// connections at once. Each connection adds to its own cache line (chosen
// by client id), so cores never fight over one counter; readers sum.
type shardedCounter struct {
	shards [16]struct {
		n atomic.Int64
		_ [56]byte
	}
}

// inc adds one on the shard of the given client id.
func (s *shardedCounter) inc(id int64) { s.shards[id&15].n.Add(1) }

// Load returns the total.
func (s *shardedCounter) Load() int64 {
	var t int64
	for i := range s.shards {
		t += s.shards[i].n.Load()
	}
	return t
}

// Store sets the total to v (CONFIG RESETSTAT uses 0).
func (s *shardedCounter) Store(v int64) {
	for i := range s.shards {
		s.shards[i].n.Store(0)
	}
	s.shards[0].n.Store(v)
}

var (
	commands = map[string]*Command{}
	// names sorted, for COMMAND replies
	commandNames []string
)

// register adds commands to the table; called from init() in each family's
// file. Subcommands are registered through their parent's Sub map.
func register(cmds ...*Command) {
	for _, c := range cmds {
		if _, dup := commands[c.Name]; dup {
			panic("duplicate command " + c.Name)
		}
		for name, sc := range c.Sub {
			if sc.Name == "" {
				sc.Name = c.Name + "|" + name
			}
		}
		commands[c.Name] = c
	}
	commandNames = commandNames[:0]
	for n := range commands {
		commandNames = append(commandNames, n)
	}
	sort.Strings(commandNames)
}

// lookupCommand finds a command by name, case-insensitively, without
// allocating for names up to 32 bytes.
func lookupCommand(name []byte, scratch *[32]byte) *Command {
	if len(name) > len(scratch) {
		return commands[strings.ToLower(string(name))]
	}
	b := scratch[:len(name)]
	for i, ch := range name {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		b[i] = ch
	}
	return commands[string(b)]
}

// nameIs reports whether name equals the lower-case command name lower,
// ignoring ASCII case.
func nameIs(name []byte, lower string) bool {
	if len(name) != len(lower) {
		return false
	}
	for i, ch := range name {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != lower[i] {
			return false
		}
	}
	return true
}

// KeyPositions returns the argument indexes of args' keys (args[0] is the
// command name), appended to dst.
func (cmd *Command) KeyPositions(args [][]byte, dst []int) []int {
	if cmd.Keys != nil {
		return cmd.Keys(args, dst)
	}
	if cmd.First <= 0 {
		return dst
	}
	last := cmd.Last
	if last < 0 {
		last = len(args) + last
	}
	step := cmd.Step
	if step <= 0 {
		step = 1
	}
	for i := cmd.First; i <= last && i < len(args); i += step {
		dst = append(dst, i)
	}
	return dst
}

// HasKeys reports whether the command can name keys at all.
func (cmd *Command) HasKeys() bool { return cmd.First > 0 || cmd.Keys != nil }

// arityOK checks Redis's arity rule.
func (cmd *Command) arityOK(n int) bool {
	if cmd.Arity >= 0 {
		return n == cmd.Arity
	}
	return n >= -cmd.Arity
}
