package node

// Hash commands with Redis 7.0 t_hash.c semantics: replies, error texts and
// listpack/hashtable encodings (see types_hash.go).

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
)

func init() {
	h := func(cmd *Command) *Command {
		cmd.Group = "hash"
		cmd.ACL = []string{"@hash"}
		cmd.First, cmd.Last, cmd.Step = 1, 1, 1
		return cmd
	}
	const rw, ro = FlagWrite | FlagDenyOOM | FlagFast, FlagReadOnly | FlagFast
	register(
		h(&Command{Name: "hset", Arity: -4, Flags: rw, Since: "2.0.0", Summary: "Set the string value of a hash field", Complexity: "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.", Proc: cmdHset}),
		h(&Command{Name: "hmset", Arity: -4, Flags: rw, Since: "2.0.0", Summary: "Set multiple hash fields to multiple values", Complexity: "O(N) where N is the number of fields being set.", Proc: cmdHset}),
		h(&Command{Name: "hsetnx", Arity: 4, Flags: rw, Since: "2.0.0", Summary: "Set the value of a hash field, only if the field does not exist", Complexity: "O(1)", Proc: cmdHsetnx}),
		h(&Command{Name: "hget", Arity: 3, Flags: ro, Since: "2.0.0", Summary: "Get the value of a hash field", Complexity: "O(1)", Proc: cmdHget}),
		h(&Command{Name: "hmget", Arity: -3, Flags: ro, Since: "2.0.0", Summary: "Get the values of all the given hash fields", Complexity: "O(N) where N is the number of fields being requested.", Proc: cmdHmget}),
		h(&Command{Name: "hdel", Arity: -3, Flags: FlagWrite | FlagFast, Since: "2.0.0", Summary: "Delete one or more hash fields", Complexity: "O(N) where N is the number of fields to be removed.", Proc: cmdHdel}),
		h(&Command{Name: "hlen", Arity: 2, Flags: ro, Since: "2.0.0", Summary: "Get the number of fields in a hash", Complexity: "O(1)", Proc: cmdHlen}),
		h(&Command{Name: "hstrlen", Arity: 3, Flags: ro, Since: "3.2.0", Summary: "Get the length of the value of a hash field", Complexity: "O(1)", Proc: cmdHstrlen}),
		h(&Command{Name: "hexists", Arity: 3, Flags: ro, Since: "2.0.0", Summary: "Determine if a hash field exists", Complexity: "O(1)", Proc: cmdHexists}),
		h(&Command{Name: "hincrby", Arity: 4, Flags: rw, Since: "2.0.0", Summary: "Increment the integer value of a hash field by the given number", Complexity: "O(1)", Proc: cmdHincrby}),
		h(&Command{Name: "hincrbyfloat", Arity: 4, Flags: rw, Since: "2.6.0", Summary: "Increment the float value of a hash field by the given amount", Complexity: "O(1)", Proc: cmdHincrbyfloat}),
		h(&Command{Name: "hkeys", Arity: 2, Flags: FlagReadOnly, Since: "2.0.0", Summary: "Get all the fields in a hash", Complexity: "O(N) where N is the size of the hash.", Tips: []string{"nondeterministic_output_order"}, Proc: func(c *Client) { hgetallGeneric(c, true, false) }}),
		h(&Command{Name: "hvals", Arity: 2, Flags: FlagReadOnly, Since: "2.0.0", Summary: "Get all the values in a hash", Complexity: "O(N) where N is the size of the hash.", Tips: []string{"nondeterministic_output_order"}, Proc: func(c *Client) { hgetallGeneric(c, false, true) }}),
		h(&Command{Name: "hgetall", Arity: 2, Flags: FlagReadOnly, Since: "2.0.0", Summary: "Get all the fields and values in a hash", Complexity: "O(N) where N is the size of the hash.", Tips: []string{"nondeterministic_output_order"}, Proc: func(c *Client) { hgetallGeneric(c, true, true) }}),
		h(&Command{Name: "hrandfield", Arity: -2, Flags: FlagReadOnly, Since: "6.2.0", Summary: "Get one or multiple random fields from a hash", Complexity: "O(N) where N is the number of fields returned", Tips: []string{"nondeterministic_output"}, Proc: cmdHrandfield}),
		h(&Command{Name: "hscan", Arity: -3, Flags: FlagReadOnly, Since: "2.8.0", Summary: "Incrementally iterate hash fields and associated values", Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", Tips: []string{"nondeterministic_output"}, Proc: cmdHscan}),
	)
}

// hashOf returns the live entry of key and its hash; ok is false (and a
// WRONGTYPE error written) when key holds another type.
func hashOf(c *Client, key []byte) (*Slot, *Entry, *Hash, bool) {
	s, e := c.Lookup(key)
	if e == nil {
		return s, nil, nil, true
	}
	h, isHash := e.Obj.(*Hash)
	if !isHash {
		c.W.Error(ErrWrongType)
		return s, e, nil, false
	}
	return s, e, h, true
}

// hashWrite finishes a write: stores a new hash or signals a changed one.
func hashWrite(c *Client, s *Slot, key []byte, e *Entry, h *Hash) {
	if e == nil {
		s.Set(key, &Entry{Obj: h})
	} else {
		s.Modified(key)
	}
}

func cmdHset(c *Client) {
	if len(c.Argv)%2 == 1 {
		c.W.Error("ERR wrong number of arguments for '" + c.Cmd.Name + "' command")
		return
	}
	key := c.Argv[1]
	s, e, h, ok := hashOf(c, key)
	if !ok {
		return
	}
	if h == nil {
		h = NewHash()
	}
	created := 0
	for i := 2; i < len(c.Argv); i += 2 {
		if h.Set(c.Argv[i], c.Argv[i+1]) {
			created++
		}
	}
	hashWrite(c, s, key, e, h)
	c.Dirty += (len(c.Argv) - 2) / 2
	if c.Cmd.Name == "hmset" {
		c.W.OK()
	} else {
		c.W.Int(int64(created))
	}
}

func cmdHsetnx(c *Client) {
	key := c.Argv[1]
	s, e, h, ok := hashOf(c, key)
	if !ok {
		return
	}
	if h != nil && h.Exists(c.Argv[2]) {
		c.W.Int(0)
		return
	}
	if h == nil {
		h = NewHash()
	}
	h.Set(c.Argv[2], c.Argv[3])
	hashWrite(c, s, key, e, h)
	c.Dirty++
	c.W.Int(1)
}

func cmdHget(c *Client) {
	_, _, h, ok := hashOf(c, c.Argv[1])
	if !ok {
		return
	}
	if h == nil {
		c.W.Null()
		return
	}
	if v, found := h.Get(c.Argv[2]); found {
		c.W.Bulk(v)
	} else {
		c.W.Null()
	}
}

func cmdHmget(c *Client) {
	_, _, h, ok := hashOf(c, c.Argv[1])
	if !ok {
		return
	}
	c.W.Array(len(c.Argv) - 2)
	for _, f := range c.Argv[2:] {
		if h == nil {
			c.W.Null()
			continue
		}
		if v, found := h.Get(f); found {
			c.W.Bulk(v)
		} else {
			c.W.Null()
		}
	}
}

func cmdHdel(c *Client) {
	key := c.Argv[1]
	s, _, h, ok := hashOf(c, key)
	if !ok {
		return
	}
	if h == nil {
		c.W.Int(0)
		return
	}
	deleted := 0
	for _, f := range c.Argv[2:] {
		if h.Delete(f) {
			deleted++
			if h.Len() == 0 {
				break
			}
		}
	}
	if deleted > 0 {
		if h.Len() == 0 {
			s.Delete(key, c.Now)
		} else {
			s.Modified(key)
		}
		c.Dirty += deleted
	}
	c.W.Int(int64(deleted))
}

func cmdHlen(c *Client) {
	_, _, h, ok := hashOf(c, c.Argv[1])
	if !ok {
		return
	}
	if h == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(h.Len()))
}

func cmdHstrlen(c *Client) {
	_, _, h, ok := hashOf(c, c.Argv[1])
	if !ok {
		return
	}
	if h == nil {
		c.W.Int(0)
		return
	}
	v, _ := h.Get(c.Argv[2])
	c.W.Int(int64(len(v)))
}

func cmdHexists(c *Client) {
	_, _, h, ok := hashOf(c, c.Argv[1])
	if !ok {
		return
	}
	if h == nil {
		c.W.Int(0)
		return
	}
	if h.Exists(c.Argv[2]) {
		c.W.Int(1)
	} else {
		c.W.Int(0)
	}
}

func cmdHincrby(c *Client) {
	incr, ok := ParseInt(c.Argv[3])
	if !ok {
		c.W.Error(ErrNotInt)
		return
	}
	key, field := c.Argv[1], c.Argv[2]
	s, e, h, ok := hashOf(c, key)
	if !ok {
		return
	}
	var value int64
	if h != nil {
		if v, found := h.Get(field); found {
			n, isInt := ParseInt(v)
			if !isInt {
				c.W.Error("ERR hash value is not an integer")
				return
			}
			value = n
		}
	} else {
		h = NewHash()
	}
	if (incr < 0 && value < 0 && incr < math.MinInt64-value) || (incr > 0 && value > 0 && incr > math.MaxInt64-value) {
		c.W.Error(ErrOverflow)
		return
	}
	value += incr
	var tmp [24]byte
	h.Set(field, strconv.AppendInt(tmp[:0], value, 10))
	hashWrite(c, s, key, e, h)
	c.Dirty++
	c.W.Int(value)
}

func cmdHincrbyfloat(c *Client) {
	incr, iinf, ok := strParseLongDouble(c.Argv[3])
	if !ok {
		c.W.Error(ErrNotFloat)
		return
	}
	if iinf != 0 {
		c.W.Error("ERR value is NaN or Infinity")
		return
	}
	key, field := c.Argv[1], c.Argv[2]
	s, e, h, ok := hashOf(c, key)
	if !ok {
		return
	}
	value := new(big.Float).SetPrec(ldPrec)
	if h != nil {
		if v, found := h.Get(field); found {
			f, vinf, isFloat := strParseLongDouble(v)
			if !isFloat {
				c.W.Error("ERR hash value is not a float")
				return
			}
			if vinf != 0 {
				c.W.Error("ERR increment would produce NaN or Infinity")
				return
			}
			value = f
		}
	} else {
		h = NewHash()
	}
	value.SetMode(big.ToNearestEven)
	value.Add(value, incr)
	if value.Sign() != 0 && value.MantExp(nil) > ldMaxExp {
		c.W.Error("ERR increment would produce NaN or Infinity")
		return
	}
	if value.Sign() != 0 && value.MantExp(nil) < ldMinExp {
		value.SetInt64(0)
	}
	nv := strFormatLongDouble(value)
	h.Set(field, nv)
	hashWrite(c, s, key, e, h)
	c.Dirty++
	c.W.Bulk(nv)
	// Replicate as HSET with the final value, like Redis.
	c.Propagate = copyArgs([]byte("HSET"), key, field, nv)
}

func hgetallGeneric(c *Client, keys, vals bool) {
	_, _, h, ok := hashOf(c, c.Argv[1])
	if !ok {
		return
	}
	n := 0
	if h != nil {
		n = h.Len()
	}
	if keys && vals {
		c.W.Map(n)
	} else {
		c.W.Array(n)
	}
	if h == nil {
		return
	}
	h.Each(func(f, v []byte) bool {
		if keys {
			c.W.Bulk(f)
		}
		if vals {
			c.W.Bulk(v)
		}
		return true
	})
}

// hrandCountLimit bounds the reply of HRANDFIELD/SRANDMEMBER with a
// negative count (Redis would try to build any size and run out of memory).
const hrandCountLimit = 1 << 27

func cmdHrandfield(c *Client) {
	if len(c.Argv) == 2 {
		_, _, h, ok := hashOf(c, c.Argv[1])
		if !ok {
			return
		}
		if h == nil {
			c.W.Null()
			return
		}
		f, _ := h.Random()
		c.W.Bulk(f)
		return
	}
	l, ok := getRangeLongOrReply(c, c.Argv[2], -math.MaxInt64, math.MaxInt64, "")
	if !ok {
		return
	}
	withValues := false
	if len(c.Argv) > 4 || (len(c.Argv) == 4 && !eqFold(c.Argv[3], "withvalues")) {
		c.W.Error(ErrSyntax)
		return
	} else if len(c.Argv) == 4 {
		withValues = true
		if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
			c.W.Error("ERR value is out of range")
			return
		}
	}
	_, _, h, ok := hashOf(c, c.Argv[1])
	if !ok {
		return
	}
	if h == nil || l == 0 {
		c.W.Array(0)
		return
	}
	size := h.Len()
	pair := func(f, v []byte) {
		if withValues && c.W.Proto > 2 {
			c.W.Array(2)
		}
		c.W.Bulk(f)
		if withValues {
			c.W.Bulk(v)
		}
	}
	header := func(n int) {
		if withValues && c.W.Proto == 2 {
			c.W.Array(2 * n)
		} else {
			c.W.Array(n)
		}
	}
	// CASE 1: negative count (repetitions allowed) or a single field.
	if l < 0 || l == 1 {
		count := -l
		if l == 1 {
			count = 1
		}
		if count > hrandCountLimit {
			c.W.Error("ERR value is out of range")
			return
		}
		header(int(count))
		for ; count > 0; count-- {
			pair(h.Random())
		}
		return
	}
	// CASE 2: as many or more than the hash has: all of it.
	if l >= int64(size) {
		header(size)
		h.Each(func(f, v []byte) bool { pair(f, v); return true })
		return
	}
	count := int(l)
	header(count)
	if h.d == nil || count*3 > size {
		// CASE 3 (and listpacks): pick count distinct positions, keep the
		// hash's order like lpRandomPairsUnique.
		pick := make([]bool, size)
		for _, i := range rand.Perm(size)[:count] {
			pick[i] = true
		}
		i := 0
		h.Each(func(f, v []byte) bool {
			if pick[i] {
				pair(f, v)
			}
			i++
			return true
		})
		return
	}
	// CASE 4: few fields from a big table: random picks until count
	// distinct ones.
	seen := make(map[string]struct{}, count)
	for len(seen) < count {
		f, v := h.Random()
		if _, dup := seen[string(f)]; dup {
			continue
		}
		seen[string(f)] = struct{}{}
		pair(f, v)
	}
}

func cmdHscan(c *Client) {
	cursor, ok := parseScanCursor(c, c.Argv[2])
	if !ok {
		return
	}
	_, _, h, ok := hashOf(c, c.Argv[1])
	if !ok {
		return
	}
	if h == nil {
		writeEmptyScan(c)
		return
	}
	o, ok := parseScanOpts(c, 3)
	if !ok {
		return
	}
	var out [][]byte
	next := h.Scan(cursor, o.count, func(f, v []byte) {
		if o.match(f) {
			out = append(out, f, v)
		}
	})
	writeScanReply(c, next, out)
}
