package node

// Set commands with Redis 7.0 t_set.c semantics: replies, error texts,
// intset/hashtable encodings (see types_set.go), SPOP propagated as SREM.

import (
	"math"
	"math/rand/v2"
	"sort"
)

func init() {
	st := func(cmd *Command) *Command {
		cmd.Group = "set"
		cmd.ACL = []string{"@set"}
		if cmd.First == 0 && cmd.Keys == nil {
			cmd.First, cmd.Last, cmd.Step = 1, 1, 1
		}
		return cmd
	}
	unordered := []string{"nondeterministic_output_order"}
	register(
		st(&Command{Name: "sadd", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, Since: "1.0.0", Summary: "Add one or more members to a set", Complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", Proc: cmdSadd}),
		st(&Command{Name: "srem", Arity: -3, Flags: FlagWrite | FlagFast, Since: "1.0.0", Summary: "Remove one or more members from a set", Complexity: "O(N) where N is the number of members to be removed.", Proc: cmdSrem}),
		st(&Command{Name: "sismember", Arity: 3, Flags: FlagReadOnly | FlagFast, Since: "1.0.0", Summary: "Determine if a given value is a member of a set", Complexity: "O(1)", Proc: cmdSismember}),
		st(&Command{Name: "smismember", Arity: -3, Flags: FlagReadOnly | FlagFast, Since: "6.2.0", Summary: "Returns the membership associated with the given elements for a set", Complexity: "O(N) where N is the number of elements being checked for membership", Proc: cmdSmismember}),
		st(&Command{Name: "scard", Arity: 2, Flags: FlagReadOnly | FlagFast, Since: "1.0.0", Summary: "Get the number of members in a set", Complexity: "O(1)", Proc: cmdScard}),
		st(&Command{Name: "smembers", Arity: 2, Flags: FlagReadOnly, Since: "1.0.0", Summary: "Get all the members in a set", Complexity: "O(N) where N is the set cardinality.", Tips: unordered, Proc: cmdSinter}),
		st(&Command{Name: "srandmember", Arity: -2, Flags: FlagReadOnly, Since: "1.0.0", Summary: "Get one or multiple random members from a set", Complexity: "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.", Tips: []string{"nondeterministic_output"}, Proc: cmdSrandmember}),
		st(&Command{Name: "spop", Arity: -2, Flags: FlagWrite | FlagFast, Since: "1.0.0", Summary: "Remove and return one or multiple random members from a set", Complexity: "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.", Tips: []string{"nondeterministic_output"}, Proc: cmdSpop}),
		st(&Command{Name: "smove", Arity: 4, Flags: FlagWrite | FlagFast, First: 1, Last: 2, Step: 1, Since: "1.0.0", Summary: "Move a member from one set to another", Complexity: "O(1)", Proc: cmdSmove}),
		st(&Command{Name: "sinter", Arity: -2, Flags: FlagReadOnly, First: 1, Last: -1, Step: 1, Since: "1.0.0", Summary: "Intersect multiple sets", Complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", Tips: unordered, Proc: cmdSinter}),
		st(&Command{Name: "sinterstore", Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: -1, Step: 1, Since: "1.0.0", Summary: "Intersect multiple sets and store the resulting set in a key", Complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", Proc: cmdSinterstore}),
		st(&Command{Name: "sintercard", Arity: -3, Flags: FlagReadOnly, Keys: numkeysKeys(1), Since: "7.0.0", Summary: "Intersect multiple sets and return the cardinality of the result", Complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", Proc: cmdSintercard}),
		st(&Command{Name: "sunion", Arity: -2, Flags: FlagReadOnly, First: 1, Last: -1, Step: 1, Since: "1.0.0", Summary: "Add multiple sets", Complexity: "O(N) where N is the total number of elements in all given sets.", Tips: unordered, Proc: func(c *Client) { sunionDiff(c, c.Argv[1:], nil, false) }}),
		st(&Command{Name: "sunionstore", Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: -1, Step: 1, Since: "1.0.0", Summary: "Add multiple sets and store the resulting set in a key", Complexity: "O(N) where N is the total number of elements in all given sets.", Proc: func(c *Client) { sunionDiff(c, c.Argv[2:], c.Argv[1], false) }}),
		st(&Command{Name: "sdiff", Arity: -2, Flags: FlagReadOnly, First: 1, Last: -1, Step: 1, Since: "1.0.0", Summary: "Subtract multiple sets", Complexity: "O(N) where N is the total number of elements in all given sets.", Tips: unordered, Proc: func(c *Client) { sunionDiff(c, c.Argv[1:], nil, true) }}),
		st(&Command{Name: "sdiffstore", Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: -1, Step: 1, Since: "1.0.0", Summary: "Subtract multiple sets and store the resulting set in a key", Complexity: "O(N) where N is the total number of elements in all given sets.", Proc: func(c *Client) { sunionDiff(c, c.Argv[2:], c.Argv[1], true) }}),
		st(&Command{Name: "sscan", Arity: -3, Flags: FlagReadOnly, Since: "2.8.0", Summary: "Incrementally iterate Set elements", Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", Tips: []string{"nondeterministic_output"}, Proc: cmdSscan}),
	)
}

// numkeysKeys returns a Keys function for "numkeys key [key ...]" with
// numkeys at argv[idx]. Invalid numkeys yields no keys (the command then
// reports the error itself).
func numkeysKeys(idx int) func(args [][]byte, dst []int) []int {
	return func(args [][]byte, dst []int) []int {
		if idx >= len(args) {
			return dst
		}
		n, ok := ParseInt(args[idx])
		if !ok || n < 1 || n > int64(len(args)-idx-1) {
			return dst
		}
		for i := idx + 1; i <= idx+int(n); i++ {
			dst = append(dst, i)
		}
		return dst
	}
}

// setOf returns key's set (nil when missing); ok is false after a
// WRONGTYPE reply.
func setOf(c *Client, key []byte) (*Slot, *Entry, *Set, bool) {
	s, e := c.Lookup(key)
	if e == nil {
		return s, nil, nil, true
	}
	set, isSet := e.Obj.(*Set)
	if !isSet {
		c.W.Error(ErrWrongType)
		return s, e, nil, false
	}
	return s, e, set, true
}

func cmdSadd(c *Client) {
	key := c.Argv[1]
	s, e, set, ok := setOf(c, key)
	if !ok {
		return
	}
	if set == nil {
		set = NewSet()
	}
	added := 0
	for _, m := range c.Argv[2:] {
		if set.Add(m) {
			added++
		}
	}
	if e == nil {
		s.Set(key, &Entry{Obj: set})
	} else if added > 0 {
		s.Modified(key)
	}
	c.Dirty += added
	c.W.Int(int64(added))
}

func cmdSrem(c *Client) {
	key := c.Argv[1]
	s, _, set, ok := setOf(c, key)
	if !ok {
		return
	}
	if set == nil {
		c.W.Int(0)
		return
	}
	removed := 0
	for _, m := range c.Argv[2:] {
		if set.Remove(m) {
			removed++
			if set.Len() == 0 {
				break
			}
		}
	}
	if removed > 0 {
		if set.Len() == 0 {
			s.Delete(key, c.Now)
		} else {
			s.Modified(key)
		}
		c.Dirty += removed
	}
	c.W.Int(int64(removed))
}

func cmdSismember(c *Client) {
	_, _, set, ok := setOf(c, c.Argv[1])
	if !ok {
		return
	}
	if set != nil && set.Has(c.Argv[2]) {
		c.W.Int(1)
	} else {
		c.W.Int(0)
	}
}

func cmdSmismember(c *Client) {
	_, _, set, ok := setOf(c, c.Argv[1])
	if !ok {
		return
	}
	c.W.Array(len(c.Argv) - 2)
	for _, m := range c.Argv[2:] {
		if set != nil && set.Has(m) {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
	}
}

func cmdScard(c *Client) {
	_, _, set, ok := setOf(c, c.Argv[1])
	if !ok {
		return
	}
	if set == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(set.Len()))
}

func cmdSrandmember(c *Client) {
	if len(c.Argv) > 3 {
		c.W.Error(ErrSyntax)
		return
	}
	if len(c.Argv) == 2 {
		_, _, set, ok := setOf(c, c.Argv[1])
		if !ok {
			return
		}
		if set == nil {
			c.W.Null()
			return
		}
		var tmp [24]byte
		c.W.Bulk(set.Random(tmp[:0]))
		return
	}
	l, ok := getRangeLongOrReply(c, c.Argv[2], -math.MaxInt64, math.MaxInt64, "")
	if !ok {
		return
	}
	_, _, set, ok := setOf(c, c.Argv[1])
	if !ok {
		return
	}
	if set == nil || l == 0 {
		c.W.Array(0)
		return
	}
	size := set.Len()
	var tmp [24]byte
	// CASE 1: negative count (repetitions) or a single member.
	if l < 0 || l == 1 {
		count := -l
		if l == 1 {
			count = 1
		}
		if count > hrandCountLimit {
			c.W.Error("ERR value is out of range")
			return
		}
		c.W.Array(int(count))
		for ; count > 0; count-- {
			c.W.Bulk(set.Random(tmp[:0]))
		}
		return
	}
	// CASE 2: the whole set.
	if l >= int64(size) {
		c.W.Array(size)
		set.Each(func(m []byte) bool { c.W.Bulk(m); return true })
		return
	}
	count := int(l)
	c.W.Array(count)
	if set.d == nil || count*3 > size {
		// CASE 3: pick count distinct positions.
		pick := make([]bool, size)
		for _, i := range rand.Perm(size)[:count] {
			pick[i] = true
		}
		i := 0
		set.Each(func(m []byte) bool {
			if pick[i] {
				c.W.Bulk(m)
			}
			i++
			return true
		})
		return
	}
	// CASE 4: random picks until count distinct members.
	seen := make(map[string]struct{}, count)
	for len(seen) < count {
		m := set.Random(tmp[:0])
		if _, dup := seen[string(m)]; dup {
			continue
		}
		seen[string(m)] = struct{}{}
		c.W.Bulk(m)
	}
}

func cmdSpop(c *Client) {
	key := c.Argv[1]
	if len(c.Argv) > 3 {
		c.W.Error(ErrSyntax)
		return
	}
	if len(c.Argv) == 2 {
		s, _, set, ok := setOf(c, key)
		if !ok {
			return
		}
		if set == nil {
			c.W.Null()
			return
		}
		m := set.Random(nil)
		set.Remove(m)
		c.W.Bulk(m)
		c.Propagate = [][]byte{[]byte("SREM"), append([]byte(nil), key...), m}
		if set.Len() == 0 {
			s.Delete(key, c.Now)
		} else {
			s.Modified(key)
		}
		c.Dirty++
		return
	}
	count64, ok := getPositiveLongOrReply(c, c.Argv[2], "")
	if !ok {
		return
	}
	s, e, set, ok := setOf(c, key)
	if !ok {
		return
	}
	if set == nil || count64 == 0 {
		c.W.Set(0)
		return
	}
	size := set.Len()
	// CASE 1: everything: reply the set, delete the key, propagate DEL.
	if count64 >= int64(size) {
		c.W.Set(size)
		set.Each(func(m []byte) bool { c.W.Bulk(m); return true })
		s.Delete(key, c.Now)
		c.Dirty += size
		c.Propagate = copyArgs([]byte("DEL"), key)
		return
	}
	count := int(count64)
	remaining := size - count
	prop := make([][]byte, 2, 2+count)
	prop[0], prop[1] = []byte("SREM"), append([]byte(nil), key...)
	c.W.Set(count)
	if remaining*5 > count {
		// CASE 2: pop random members one by one.
		for i := 0; i < count; i++ {
			m := set.Random(nil)
			set.Remove(m)
			c.W.Bulk(m)
			prop = append(prop, m)
		}
	} else {
		// CASE 3: move the members that stay into a new set; reply the rest.
		newSet := NewSet()
		for i := 0; i < remaining; i++ {
			m := set.Random(nil)
			newSet.Add(m)
			set.Remove(m)
		}
		set.Each(func(m []byte) bool {
			c.W.Bulk(m)
			prop = append(prop, append([]byte(nil), m...))
			return true
		})
		e.Obj = newSet
	}
	s.Modified(key)
	c.Dirty += count
	c.Propagate = prop
}

func cmdSmove(c *Client) {
	src, dst, m := c.Argv[1], c.Argv[2], c.Argv[3]
	ss, _, srcSet, ok := setOf(c, src)
	if !ok {
		return
	}
	ds, de := c.Lookup(dst)
	if srcSet == nil {
		c.W.Int(0)
		return
	}
	var dstSet *Set
	if de != nil {
		var isSet bool
		if dstSet, isSet = de.Obj.(*Set); !isSet {
			c.W.Error(ErrWrongType)
			return
		}
	}
	if dstSet == srcSet {
		if srcSet.Has(m) {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
		return
	}
	if !srcSet.Remove(m) {
		c.W.Int(0)
		return
	}
	if srcSet.Len() == 0 {
		ss.Delete(src, c.Now)
	} else {
		ss.Modified(src)
	}
	c.Dirty++
	if dstSet == nil {
		dstSet = NewSet()
		dstSet.Add(m)
		ds.Set(dst, &Entry{Obj: dstSet})
		c.Dirty++
	} else if dstSet.Add(m) {
		ds.Modified(dst)
		c.Dirty++
	}
	c.W.Int(1)
}

// setsOf looks up keys as sets (nil entries for missing keys). It reports
// WRONGTYPE for the first key of another type.
func setsOf(c *Client, keys [][]byte) ([]*Set, bool) {
	sets := make([]*Set, len(keys))
	for i, k := range keys {
		_, _, set, ok := setOf(c, k)
		if !ok {
			return nil, false
		}
		sets[i] = set
	}
	return sets, true
}

// sinterCompute intersects sets (none nil), calling emit for each member of
// the result until it returns false.
func sinterCompute(sets []*Set, emit func(m []byte) bool) {
	sort.SliceStable(sets, func(i, j int) bool { return sets[i].Len() < sets[j].Len() })
	sets[0].Each(func(m []byte) bool {
		for _, o := range sets[1:] {
			if o != sets[0] && !o.Has(m) {
				return true
			}
		}
		return emit(m)
	})
}

func cmdSinter(c *Client) { sinterGeneric(c, c.Argv[1:], nil, false, 0) }

func cmdSinterstore(c *Client) { sinterGeneric(c, c.Argv[2:], c.Argv[1], false, 0) }

func cmdSintercard(c *Client) {
	numkeys, ok := getRangeLongOrReply(c, c.Argv[1], 1, math.MaxInt64, "numkeys should be greater than 0")
	if !ok {
		return
	}
	if numkeys > int64(len(c.Argv)-2) {
		c.W.Error("ERR Number of keys can't be greater than number of args")
		return
	}
	limit := int64(0)
	for j := 2 + int(numkeys); j < len(c.Argv); j++ {
		if eqFold(c.Argv[j], "limit") && j+1 < len(c.Argv) {
			j++
			if limit, ok = getPositiveLongOrReply(c, c.Argv[j], "LIMIT can't be negative"); !ok {
				return
			}
		} else {
			c.W.Error(ErrSyntax)
			return
		}
	}
	sinterGeneric(c, c.Argv[2:2+numkeys], nil, true, limit)
}

func sinterGeneric(c *Client, keys [][]byte, dst []byte, cardOnly bool, limit int64) {
	sets, ok := setsOf(c, keys)
	if !ok {
		return
	}
	empty := false
	for _, s := range sets {
		if s == nil {
			empty = true
		}
	}
	if empty {
		switch {
		case dst != nil:
			if c.SlotFor(dst).Delete(dst, c.Now) {
				c.Dirty++
			}
			c.W.Int(0)
		case cardOnly:
			c.W.Int(0)
		default:
			c.W.Set(0)
		}
		return
	}
	switch {
	case cardOnly:
		n := int64(0)
		sinterCompute(sets, func([]byte) bool {
			n++
			return limit == 0 || n < limit
		})
		c.W.Int(n)
	case dst != nil:
		res := NewSet()
		sinterCompute(sets, func(m []byte) bool { res.Add(m); return true })
		storeSetResult(c, dst, res)
	default:
		// Reply length is known only at the end: collect first.
		var out [][]byte
		var arena []byte
		sinterCompute(sets, func(m []byte) bool {
			start := len(arena)
			arena = append(arena, m...)
			out = append(out, arena[start:len(arena):len(arena)])
			return true
		})
		c.W.Set(len(out))
		for _, m := range out {
			c.W.Bulk(m)
		}
	}
}

// storeSetResult stores res at dst (dropping any TTL) and replies its size,
// or deletes dst when res is empty.
func storeSetResult(c *Client, dst []byte, res *Set) {
	s := c.SlotFor(dst)
	if res.Len() > 0 {
		s.SetKey(dst, &Entry{Obj: res}, c.Now) // setKey: touches an existing dst
		c.Dirty++
		c.W.Int(int64(res.Len()))
		return
	}
	if s.Delete(dst, c.Now) {
		c.Dirty++
	}
	c.W.Int(0)
}

func sunionDiff(c *Client, keys [][]byte, dst []byte, diff bool) {
	sets, ok := setsOf(c, keys)
	if !ok {
		return
	}
	res := NewSet()
	if diff {
		if sets[0] != nil {
			sets[0].Each(func(m []byte) bool {
				for _, o := range sets[1:] {
					if o != nil && o.Has(m) {
						return true
					}
				}
				res.Add(m)
				return true
			})
		}
	} else {
		for _, s := range sets {
			if s != nil {
				s.Each(func(m []byte) bool { res.Add(m); return true })
			}
		}
	}
	if dst != nil {
		storeSetResult(c, dst, res)
		return
	}
	c.W.Set(res.Len())
	res.Each(func(m []byte) bool { c.W.Bulk(m); return true })
}

func cmdSscan(c *Client) {
	cursor, ok := parseScanCursor(c, c.Argv[2])
	if !ok {
		return
	}
	_, _, set, ok := setOf(c, c.Argv[1])
	if !ok {
		return
	}
	if set == nil {
		writeEmptyScan(c)
		return
	}
	o, ok := parseScanOpts(c, 3)
	if !ok {
		return
	}
	var out [][]byte
	next := set.Scan(cursor, o.count, func(m []byte) {
		if o.match(m) {
			out = append(out, append([]byte(nil), m...))
		}
	})
	writeScanReply(c, next, out)
}
