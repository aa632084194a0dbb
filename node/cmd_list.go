package node

// List commands with Redis 7.0 t_list.c semantics: replies, error texts,
// propagation of blocking pops as their non-blocking forms. The blocking
// machinery is in blocking.go, the list type in types_list.go.

import (
	"bytes"
	"math"
	"strconv"
)

func init() {
	li := func(cmd *Command) *Command {
		cmd.Group = "list"
		cmd.ACL = []string{"@list"}
		if cmd.First == 0 && cmd.Keys == nil {
			cmd.First, cmd.Last, cmd.Step = 1, 1, 1
		}
		return cmd
	}
	const push = FlagWrite | FlagDenyOOM | FlagFast
	register(
		li(&Command{Name: "lpush", Arity: -3, Flags: push, Since: "1.0.0", Summary: "Prepend one or multiple elements to a list", Complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", Proc: func(c *Client) { pushGeneric(c, true, false) }}),
		li(&Command{Name: "rpush", Arity: -3, Flags: push, Since: "1.0.0", Summary: "Append one or multiple elements to a list", Complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", Proc: func(c *Client) { pushGeneric(c, false, false) }}),
		li(&Command{Name: "lpushx", Arity: -3, Flags: push, Since: "2.2.0", Summary: "Prepend an element to a list, only if the list exists", Complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", Proc: func(c *Client) { pushGeneric(c, true, true) }}),
		li(&Command{Name: "rpushx", Arity: -3, Flags: push, Since: "2.2.0", Summary: "Append an element to a list, only if the list exists", Complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", Proc: func(c *Client) { pushGeneric(c, false, true) }}),
		li(&Command{Name: "lpop", Arity: -2, Flags: FlagWrite | FlagFast, Since: "1.0.0", Summary: "Remove and get the first elements in a list", Complexity: "O(N) where N is the number of elements returned", Proc: func(c *Client) { popGeneric(c, true) }}),
		li(&Command{Name: "rpop", Arity: -2, Flags: FlagWrite | FlagFast, Since: "1.0.0", Summary: "Remove and get the last elements in a list", Complexity: "O(N) where N is the number of elements returned", Proc: func(c *Client) { popGeneric(c, false) }}),
		li(&Command{Name: "llen", Arity: 2, Flags: FlagReadOnly | FlagFast, Since: "1.0.0", Summary: "Get the length of a list", Complexity: "O(1)", Proc: cmdLlen}),
		li(&Command{Name: "lrange", Arity: 4, Flags: FlagReadOnly, Since: "1.0.0", Summary: "Get a range of elements from a list", Complexity: "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.", Proc: cmdLrange}),
		li(&Command{Name: "lindex", Arity: 3, Flags: FlagReadOnly, Since: "1.0.0", Summary: "Get an element from a list by its index", Complexity: "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).", Proc: cmdLindex}),
		li(&Command{Name: "lset", Arity: 4, Flags: FlagWrite | FlagDenyOOM, Since: "1.0.0", Summary: "Set the value of an element in a list by its index", Complexity: "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).", Proc: cmdLset}),
		li(&Command{Name: "linsert", Arity: 5, Flags: FlagWrite | FlagDenyOOM, Since: "2.2.0", Summary: "Insert an element before or after another element in a list", Complexity: "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).", Proc: cmdLinsert}),
		li(&Command{Name: "lrem", Arity: 4, Flags: FlagWrite, Since: "1.0.0", Summary: "Remove elements from a list", Complexity: "O(N+M) where N is the length of the list and M is the number of elements removed.", Proc: cmdLrem}),
		li(&Command{Name: "ltrim", Arity: 4, Flags: FlagWrite, Since: "1.0.0", Summary: "Trim a list to the specified range", Complexity: "O(N) where N is the number of elements to be removed by the operation.", Proc: cmdLtrim}),
		li(&Command{Name: "lpos", Arity: -3, Flags: FlagReadOnly, Since: "6.0.6", Summary: "Return the index of matching elements on a list", Complexity: "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.", Proc: cmdLpos}),
		li(&Command{Name: "lmove", Arity: 5, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 2, Step: 1, Since: "6.2.0", Summary: "Pop an element from a list, push it to another list and return it", Complexity: "O(1)", Proc: cmdLmove}),
		li(&Command{Name: "rpoplpush", Arity: 3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 2, Step: 1, Since: "1.2.0", Summary: "Remove the last element in a list, prepend it to another list and return it", Complexity: "O(1)", Proc: cmdRpoplpush}),
		li(&Command{Name: "lmpop", Arity: -4, Flags: FlagWrite, Keys: numkeysKeys(1), Since: "7.0.0", Summary: "Pop elements from a list", Complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.", Proc: cmdLmpop}),
		li(&Command{Name: "blpop", Arity: -3, Flags: FlagWrite | FlagNoScript | FlagBlocking, First: 1, Last: -2, Step: 1, Since: "2.0.0", Summary: "Remove and get the first element in a list, or block until one is available", Complexity: "O(N) where N is the number of provided keys.", ACL: []string{"@list", "@blocking"}, Proc: func(c *Client) { blockingPop(c, true) }}),
		li(&Command{Name: "brpop", Arity: -3, Flags: FlagWrite | FlagNoScript | FlagBlocking, First: 1, Last: -2, Step: 1, Since: "2.0.0", Summary: "Remove and get the last element in a list, or block until one is available", Complexity: "O(N) where N is the number of provided keys.", ACL: []string{"@list", "@blocking"}, Proc: func(c *Client) { blockingPop(c, false) }}),
		li(&Command{Name: "blmove", Arity: 6, Flags: FlagWrite | FlagDenyOOM | FlagNoScript | FlagBlocking, First: 1, Last: 2, Step: 1, Since: "6.2.0", Summary: "Pop an element from a list, push it to another list and return it; or block until one is available", Complexity: "O(1)", ACL: []string{"@list", "@blocking"}, Proc: cmdBlmove}),
		li(&Command{Name: "brpoplpush", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagNoScript | FlagBlocking, First: 1, Last: 2, Step: 1, Since: "2.2.0", Summary: "Pop an element from a list, push it to another list and return it; or block until one is available", Complexity: "O(1)", ACL: []string{"@list", "@blocking"}, Proc: cmdBrpoplpush}),
		li(&Command{Name: "blmpop", Arity: -5, Flags: FlagWrite | FlagBlocking, Keys: numkeysKeys(2), Since: "7.0.0", Summary: "Pop elements from a list, or block until one is available", Complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.", ACL: []string{"@list", "@blocking"}, Proc: cmdBlmpop}),
	)
}

// listOf returns key's list (nil when missing); ok is false after a
// WRONGTYPE reply.
func listOf(c *Client, key []byte) (*Slot, *Entry, *List, bool) {
	s, e := c.Lookup(key)
	if e == nil {
		return s, nil, nil, true
	}
	l, isList := e.Obj.(*List)
	if !isList {
		c.W.Error(ErrWrongType)
		return s, e, nil, false
	}
	return s, e, l, true
}

// listChanged finishes an in-place change: deletes the key of an emptied
// list, else signals the change (WATCH, blocked clients).
func listChanged(c *Client, s *Slot, key []byte, l *List) {
	if l.Len() == 0 {
		s.Delete(key, c.Now)
	} else {
		s.Modified(key)
	}
}

// listPosition parses LEFT/RIGHT (true = LEFT/head).
func listPosition(c *Client, b []byte) (head, ok bool) {
	switch {
	case eqFold(b, "left"):
		return true, true
	case eqFold(b, "right"):
		return false, true
	}
	c.W.Error(ErrSyntax)
	return false, false
}

func pushGeneric(c *Client, head, onlyExisting bool) {
	key := c.Argv[1]
	s, e, l, ok := listOf(c, key)
	if !ok {
		return
	}
	if l == nil {
		if onlyExisting {
			c.W.Int(0)
			return
		}
		l = NewList()
	}
	for _, v := range c.Argv[2:] {
		l.Push(v, head)
	}
	if e == nil {
		s.Set(key, &Entry{Obj: l})
	} else {
		s.Modified(key)
	}
	c.Dirty += len(c.Argv) - 2
	c.W.Int(int64(l.Len()))
}

func popGeneric(c *Client, head bool) {
	hasCount := len(c.Argv) == 3
	var count int64
	if len(c.Argv) > 3 {
		c.W.Error("ERR wrong number of arguments for '" + c.Cmd.Name + "' command")
		return
	} else if hasCount {
		var ok bool
		if count, ok = getPositiveLongOrReply(c, c.Argv[2], "value is out of range, must be positive"); !ok {
			return
		}
	}
	key := c.Argv[1]
	s, _, l, ok := listOf(c, key)
	if !ok {
		return
	}
	if l == nil {
		if hasCount {
			c.W.NullArray()
		} else {
			c.W.Null()
		}
		return
	}
	if hasCount && count == 0 {
		c.W.Array(0)
		return
	}
	if !hasCount {
		c.W.Bulk(l.Pop(head))
	} else {
		n := min(count, int64(l.Len()))
		c.W.Array(int(n))
		for i := int64(0); i < n; i++ {
			c.W.Bulk(l.Pop(head))
		}
	}
	listChanged(c, s, key, l)
	c.Dirty++
}

func cmdLlen(c *Client) {
	_, _, l, ok := listOf(c, c.Argv[1])
	if !ok {
		return
	}
	if l == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(l.Len()))
}

func cmdLrange(c *Client) {
	start, ok1 := ParseInt(c.Argv[2])
	end, ok2 := ParseInt(c.Argv[3])
	if !ok1 || !ok2 {
		c.W.Error(ErrNotInt)
		return
	}
	_, _, l, ok := listOf(c, c.Argv[1])
	if !ok {
		return
	}
	if l == nil {
		c.W.Array(0)
		return
	}
	llen := int64(l.Len())
	if start < 0 {
		start += llen
	}
	if end < 0 {
		end += llen
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= llen {
		c.W.Array(0)
		return
	}
	if end >= llen {
		end = llen - 1
	}
	n := int(end - start + 1)
	c.W.Array(n)
	l.EachFrom(int(start), func(v []byte) bool {
		c.W.Bulk(v)
		n--
		return n > 0
	})
}

func cmdLindex(c *Client) {
	_, _, l, ok := listOf(c, c.Argv[1])
	if !ok {
		return
	}
	if l == nil {
		c.W.Null()
		return
	}
	idx, ok := ParseInt(c.Argv[2])
	if !ok {
		c.W.Error(ErrNotInt)
		return
	}
	if idx > math.MaxInt32 || idx < -math.MaxInt32 {
		c.W.Null()
		return
	}
	if v, found := l.Index(int(idx)); found {
		c.W.Bulk(v)
	} else {
		c.W.Null()
	}
}

func cmdLset(c *Client) {
	key := c.Argv[1]
	s, e, l, ok := listOf(c, key)
	if !ok {
		return
	}
	if e == nil {
		c.W.Error(ErrNoSuchKey)
		return
	}
	idx, ok := ParseInt(c.Argv[2])
	if !ok {
		c.W.Error(ErrNotInt)
		return
	}
	if idx > math.MaxInt32 || idx < -math.MaxInt32 || !l.Set(int(idx), c.Argv[3]) {
		c.W.Error(ErrOutOfRange)
		return
	}
	s.Modified(key)
	c.Dirty++
	c.W.OK()
}

func cmdLinsert(c *Client) {
	var after bool
	switch {
	case eqFold(c.Argv[2], "after"):
		after = true
	case eqFold(c.Argv[2], "before"):
	default:
		c.W.Error(ErrSyntax)
		return
	}
	key := c.Argv[1]
	s, _, l, ok := listOf(c, key)
	if !ok {
		return
	}
	if l == nil {
		c.W.Int(0)
		return
	}
	n := l.Insert(c.Argv[3], c.Argv[4], after)
	if n > 0 {
		s.Modified(key)
		c.Dirty++
	}
	c.W.Int(int64(n))
}

func cmdLrem(c *Client) {
	count, ok := ParseInt(c.Argv[2])
	if !ok {
		c.W.Error(ErrNotInt)
		return
	}
	key := c.Argv[1]
	s, _, l, ok := listOf(c, key)
	if !ok {
		return
	}
	if l == nil {
		c.W.Int(0)
		return
	}
	if count > math.MaxInt32 || count < -math.MaxInt32 {
		count = 0 // more than any list holds: same as "all"
	}
	removed := l.Remove(c.Argv[3], int(count))
	if removed > 0 {
		listChanged(c, s, key, l)
		c.Dirty += removed
	}
	c.W.Int(int64(removed))
}

func cmdLtrim(c *Client) {
	start, ok1 := ParseInt(c.Argv[2])
	end, ok2 := ParseInt(c.Argv[3])
	if !ok1 || !ok2 {
		c.W.Error(ErrNotInt)
		return
	}
	key := c.Argv[1]
	s, _, l, ok := listOf(c, key)
	if !ok {
		return
	}
	if l == nil {
		c.W.OK()
		return
	}
	llen := int64(l.Len())
	if start < 0 {
		start += llen
	}
	if end < 0 {
		end += llen
	}
	if start < 0 {
		start = 0
	}
	before := l.Len()
	if start > end || start >= llen {
		l.Trim(1, 0) // empty
	} else {
		if end >= llen {
			end = llen - 1
		}
		l.Trim(int(start), int(end))
	}
	listChanged(c, s, key, l) // Redis signals the key even when nothing was trimmed
	c.Dirty += before - l.Len()
	c.W.OK()
}

func cmdLpos(c *Client) {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for j := 3; j < len(c.Argv); j++ {
		more := j+1 < len(c.Argv)
		switch {
		case eqFold(c.Argv[j], "rank") && more:
			j++
			var ok bool
			if rank, ok = getLongOrReply(c, c.Argv[j], ""); !ok {
				return
			}
			if rank == 0 {
				c.W.Error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
				return
			}
		case eqFold(c.Argv[j], "count") && more:
			j++
			var ok bool
			if count, ok = getPositiveLongOrReply(c, c.Argv[j], "COUNT can't be negative"); !ok {
				return
			}
		case eqFold(c.Argv[j], "maxlen") && more:
			j++
			var ok bool
			if maxlen, ok = getPositiveLongOrReply(c, c.Argv[j], "MAXLEN can't be negative"); !ok {
				return
			}
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	fromHead := true
	if rank < 0 {
		rank = -rank // LONG_MIN stays negative, as in Redis
		fromHead = false
	}
	_, e, l, ok := listOf(c, c.Argv[1])
	if !ok {
		return
	}
	if e == nil {
		if count != -1 {
			c.W.Array(0)
		} else {
			c.W.Null()
		}
		return
	}
	ele := c.Argv[2]
	llen := int64(l.Len())
	var matches, index int64
	var found []int64
	matchIndex := int64(-1)
	visit := func(v []byte) bool {
		if maxlen != 0 && index >= maxlen {
			return false
		}
		if bytes.Equal(v, ele) {
			matches++
			if fromHead {
				matchIndex = index
			} else {
				matchIndex = llen - index - 1
			}
			if matches >= rank {
				if count == -1 {
					return false
				}
				found = append(found, matchIndex)
				if count != 0 && matches-rank+1 >= count {
					return false
				}
			}
		}
		index++
		matchIndex = -1
		return true
	}
	if fromHead {
		l.EachFrom(0, visit)
	} else {
		l.EachRevFrom(l.Len()-1, visit)
	}
	if count != -1 {
		c.W.Array(len(found))
		for _, i := range found {
			c.W.Int(i)
		}
		return
	}
	if matchIndex != -1 {
		c.W.Int(matchIndex)
	} else {
		c.W.Null()
	}
}

// lmoveDo moves one element from the non-empty list src (at srcKey) to
// dstKey, checking dst's type first. It replies the element (or
// WRONGTYPE) and reports whether it moved one.
func lmoveDo(c *Client, srcKey []byte, src *List, dstKey []byte, fromHead, toHead bool) bool {
	ds, de := c.Lookup(dstKey)
	var dst *List
	if de != nil {
		var isList bool
		if dst, isList = de.Obj.(*List); !isList {
			c.W.Error(ErrWrongType)
			return false
		}
	}
	v := src.Pop(fromHead)
	if dst == src {
		v = append([]byte(nil), v...) // the push below may overwrite the popped bytes
	}
	if dst == nil {
		dst = NewList()
		dst.Push(v, toHead)
		ds.Set(dstKey, &Entry{Obj: dst})
	} else {
		dst.Push(v, toHead)
		ds.Modified(dstKey)
	}
	c.W.Bulk(v)
	if dst != src {
		listChanged(c, c.SlotFor(srcKey), srcKey, src)
	} else {
		c.SlotFor(srcKey).Modified(srcKey)
	}
	c.Dirty++
	return true
}

func lmoveGeneric(c *Client, fromHead, toHead bool) {
	src := c.Argv[1]
	_, _, l, ok := listOf(c, src)
	if !ok {
		return
	}
	if l == nil || l.Len() == 0 {
		c.W.Null()
		return
	}
	lmoveDo(c, src, l, c.Argv[2], fromHead, toHead)
}

func cmdLmove(c *Client) {
	from, ok := listPosition(c, c.Argv[3])
	if !ok {
		return
	}
	to, ok := listPosition(c, c.Argv[4])
	if !ok {
		return
	}
	lmoveGeneric(c, from, to)
}

func cmdRpoplpush(c *Client) { lmoveGeneric(c, false, true) }

// listPopCountReply pops up to count elements of l and replies
// [key, [elements]] (LMPOP/BLMPOP); it propagates [LR]POP key n.
func listPopCountReply(c *Client, s *Slot, key []byte, l *List, head bool, count int64) {
	n := min(count, int64(l.Len()))
	c.W.Array(2)
	c.W.Bulk(key)
	c.W.Array(int(n))
	for i := int64(0); i < n; i++ {
		c.W.Bulk(l.Pop(head))
	}
	listChanged(c, s, key, l)
	c.Dirty++
	var tmp [20]byte
	c.Propagate = copyArgs(popName(head), key, strconv.AppendInt(tmp[:0], n, 10))
}

func popName(head bool) []byte {
	if head {
		return []byte("LPOP")
	}
	return []byte("RPOP")
}

// lmpopArgs parses "numkeys key... LEFT|RIGHT [COUNT n]" at argv[idx].
func lmpopArgs(c *Client, idx int) (keys [][]byte, head bool, count int64, ok bool) {
	numkeys, ok := getRangeLongOrReply(c, c.Argv[idx], 1, math.MaxInt64, "numkeys should be greater than 0")
	if !ok {
		return nil, false, 0, false
	}
	whereIdx := int64(idx) + numkeys + 1
	if whereIdx >= int64(len(c.Argv)) || whereIdx < 0 {
		c.W.Error(ErrSyntax)
		return nil, false, 0, false
	}
	if head, ok = listPosition(c, c.Argv[whereIdx]); !ok {
		return nil, false, 0, false
	}
	count = -1
	for j := int(whereIdx) + 1; j < len(c.Argv); j++ {
		if count == -1 && eqFold(c.Argv[j], "count") && j+1 < len(c.Argv) {
			j++
			if count, ok = getRangeLongOrReply(c, c.Argv[j], 1, math.MaxInt64, "count should be greater than 0"); !ok {
				return nil, false, 0, false
			}
		} else {
			c.W.Error(ErrSyntax)
			return nil, false, 0, false
		}
	}
	if count == -1 {
		count = 1
	}
	return c.Argv[idx+1 : whereIdx], head, count, true
}

// lmpopTry serves (B)LMPOP from the first non-empty list of keys.
func lmpopTry(c *Client, keys [][]byte, head bool, count int64) listTryFunc {
	return func(mayTake func([]byte) bool, blocked bool) bool {
		for _, k := range keys {
			s := c.SlotFor(k)
			e := s.Lookup(k, c.Now)
			if e == nil {
				continue
			}
			l, isList := e.Obj.(*List)
			if !isList {
				if blocked {
					continue
				}
				c.W.Error(ErrWrongType)
				return true
			}
			if l.Len() == 0 || !mayTake(k) {
				continue
			}
			listPopCountReply(c, s, k, l, head, count)
			return true
		}
		return false
	}
}

func cmdLmpop(c *Client) {
	keys, head, count, ok := lmpopArgs(c, 1)
	if !ok {
		return
	}
	try := lmpopTry(c, keys, head, count)
	if try(func([]byte) bool { return true }, false) {
		return
	}
	c.W.NullArray()
}

func cmdBlmpop(c *Client) {
	timeout, ok := parseTimeout(c, c.Argv[1])
	if !ok {
		return
	}
	keys, head, count, ok := lmpopArgs(c, 2)
	if !ok {
		return
	}
	blockOnLists(c, keys, timeout, lmpopTry(c, keys, head, count), c.W.NullArray)
}

func blockingPop(c *Client, head bool) {
	timeout, ok := parseTimeout(c, c.Argv[len(c.Argv)-1])
	if !ok {
		return
	}
	keys := c.Argv[1 : len(c.Argv)-1]
	try := func(mayTake func([]byte) bool, blocked bool) bool {
		for _, k := range keys {
			s := c.SlotFor(k)
			e := s.Lookup(k, c.Now)
			if e == nil {
				continue
			}
			l, isList := e.Obj.(*List)
			if !isList {
				if blocked {
					continue
				}
				c.W.Error(ErrWrongType)
				return true
			}
			if l.Len() == 0 || !mayTake(k) {
				continue
			}
			c.W.Array(2)
			c.W.Bulk(k)
			c.W.Bulk(l.Pop(head))
			listChanged(c, s, k, l)
			c.Dirty++
			c.Propagate = copyArgs(popName(head), k)
			return true
		}
		return false
	}
	blockOnLists(c, keys, timeout, try, c.W.NullArray)
}

func blmoveGeneric(c *Client, fromHead, toHead bool, timeoutArg []byte, propagate [][]byte) {
	timeout, ok := parseTimeout(c, timeoutArg)
	if !ok {
		return
	}
	src, dst := c.Argv[1], c.Argv[2]
	try := func(mayTake func([]byte) bool, blocked bool) bool {
		s := c.SlotFor(src)
		e := s.Lookup(src, c.Now)
		if e == nil {
			return false
		}
		l, isList := e.Obj.(*List)
		if !isList {
			if blocked {
				return false
			}
			c.W.Error(ErrWrongType)
			return true
		}
		if l.Len() == 0 || !mayTake(src) {
			return false
		}
		if lmoveDo(c, src, l, dst, fromHead, toHead) {
			c.Propagate = copyArgs(propagate...)
		}
		return true
	}
	blockOnLists(c, [][]byte{src}, timeout, try, c.W.Null)
}

func cmdBlmove(c *Client) {
	from, ok := listPosition(c, c.Argv[3])
	if !ok {
		return
	}
	to, ok := listPosition(c, c.Argv[4])
	if !ok {
		return
	}
	a := c.Argv
	blmoveGeneric(c, from, to, a[5], [][]byte{[]byte("LMOVE"), a[1], a[2], a[3], a[4]})
}

func cmdBrpoplpush(c *Client) {
	a := c.Argv
	blmoveGeneric(c, false, true, a[3], [][]byte{[]byte("RPOPLPUSH"), a[1], a[2]})
}
