package node

// Expiry commands (Redis 7.0 expire.c): EXPIRE, PEXPIRE, EXPIREAT,
// PEXPIREAT with NX/XX/GT/LT, TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST.
// Keys expire lazily in Slot.Lookup and actively in Keyspace.expireCycle.

import "math"

func init() {
	gen := func(cmd *Command) *Command {
		cmd.Group = "generic"
		cmd.ACL = []string{"@keyspace"}
		return cmd
	}
	register(
		gen(&Command{Name: "expire", Arity: -3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Since: "1.0.0", Summary: "Set a key's time to live in seconds", Complexity: "O(1)", Proc: func(c *Client) { expireGeneric(c, c.Now, true) }}),
		gen(&Command{Name: "pexpire", Arity: -3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Since: "2.6.0", Summary: "Set a key's time to live in milliseconds", Complexity: "O(1)", Proc: func(c *Client) { expireGeneric(c, c.Now, false) }}),
		gen(&Command{Name: "expireat", Arity: -3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Since: "1.2.0", Summary: "Set the expiration for a key as a UNIX timestamp", Complexity: "O(1)", Proc: func(c *Client) { expireGeneric(c, 0, true) }}),
		gen(&Command{Name: "pexpireat", Arity: -3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Since: "2.6.0", Summary: "Set the expiration for a key as a UNIX timestamp specified in milliseconds", Complexity: "O(1)", Proc: func(c *Client) { expireGeneric(c, 0, false) }}),
		gen(&Command{Name: "ttl", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Since: "1.0.0", Summary: "Get the time to live for a key in seconds", Complexity: "O(1)", Tips: []string{"nondeterministic_output"}, Proc: func(c *Client) { ttlGeneric(c, false, false) }}),
		gen(&Command{Name: "pttl", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Since: "2.6.0", Summary: "Get the time to live for a key in milliseconds", Complexity: "O(1)", Tips: []string{"nondeterministic_output"}, Proc: func(c *Client) { ttlGeneric(c, true, false) }}),
		gen(&Command{Name: "expiretime", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Since: "7.0.0", Summary: "Get the expiration Unix timestamp for a key", Complexity: "O(1)", Proc: func(c *Client) { ttlGeneric(c, false, true) }}),
		gen(&Command{Name: "pexpiretime", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Since: "7.0.0", Summary: "Get the expiration Unix timestamp for a key in milliseconds", Complexity: "O(1)", Proc: func(c *Client) { ttlGeneric(c, true, true) }}),
		gen(&Command{Name: "persist", Arity: 2, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Since: "2.2.0", Summary: "Remove the expiration from a key", Complexity: "O(1)", Proc: cmdPersist}),
	)
}

const (
	expNX = 1 << iota
	expXX
	expGT
	expLT
)

// expireGeneric is expireGenericCommand: basetime is now for relative
// commands and 0 for the *AT ones.
func expireGeneric(c *Client, basetime int64, seconds bool) {
	argv := c.Argv
	flags := 0
	for _, opt := range argv[3:] {
		switch {
		case strArgIs(opt, "nx"):
			flags |= expNX
		case strArgIs(opt, "xx"):
			flags |= expXX
		case strArgIs(opt, "gt"):
			flags |= expGT
		case strArgIs(opt, "lt"):
			flags |= expLT
		default:
			c.W.Error("ERR Unsupported option " + string(opt))
			return
		}
	}
	if flags&expNX != 0 && flags&(expXX|expGT|expLT) != 0 {
		c.W.Error("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if flags&expGT != 0 && flags&expLT != 0 {
		c.W.Error("ERR GT and LT options at the same time are not compatible")
		return
	}
	when, ok := ParseInt(argv[2])
	if !ok {
		c.W.Error(ErrNotInt)
		return
	}
	if seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.W.Error(expInvalidTime(c))
			return
		}
		when *= 1000
	}
	if when > math.MaxInt64-basetime {
		c.W.Error(expInvalidTime(c))
		return
	}
	when += basetime
	key := argv[1]
	s := c.SlotFor(key)
	e := s.Lookup(key, c.Now)
	if e == nil {
		c.W.Int(0)
		return
	}
	if flags != 0 {
		cur := int64(-1)
		if e.Exp != 0 {
			cur = e.Exp
		}
		if (flags&expNX != 0 && cur != -1) ||
			(flags&expXX != 0 && cur == -1) ||
			(flags&expGT != 0 && (when <= cur || cur == -1)) ||
			(flags&expLT != 0 && cur != -1 && when >= cur) {
			c.W.Int(0)
			return
		}
	}
	c.Dirty++
	if when <= c.Now {
		s.Delete(key, c.Now)
		c.Propagate = [][]byte{[]byte("DEL"), strCopy(key)}
		c.W.Int(1)
		return
	}
	s.SetExpire(e, when)
	s.Modified(key)
	c.Propagate = [][]byte{[]byte("PEXPIREAT"), strCopy(key), strInt(when)}
	c.W.Int(1)
}

// keysPeek returns key's live entry without updating its access time
// (LOOKUP_NOTOUCH); an expired key is removed.
func keysPeek(s *Slot, key []byte, now int64) *Entry {
	e := s.keys.get(key)
	if e == nil {
		return nil
	}
	if e.Exp != 0 && e.Exp <= now {
		s.Lookup(key, now) // deletes it
		return nil
	}
	return e
}

func ttlGeneric(c *Client, ms, abs bool) {
	key := c.Argv[1]
	e := keysPeek(c.SlotFor(key), key, c.Now)
	if e == nil {
		c.W.Int(-2)
		return
	}
	if e.Exp == 0 {
		c.W.Int(-1)
		return
	}
	ttl := e.Exp
	if !abs {
		ttl -= c.Now
	}
	if ttl < 0 {
		ttl = 0
	}
	if ms {
		c.W.Int(ttl)
	} else {
		c.W.Int((ttl + 500) / 1000)
	}
}

func cmdPersist(c *Client) {
	key := c.Argv[1]
	s := c.SlotFor(key)
	e := s.Lookup(key, c.Now)
	if e == nil || e.Exp == 0 {
		c.W.Int(0)
		return
	}
	s.SetExpire(e, 0)
	s.Modified(key)
	c.Dirty++
	c.W.Int(1)
}
