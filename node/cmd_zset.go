package node

// Sorted set commands (Redis 7.0 semantics, replies and error texts; ZRANK
// and ZREVRANK also take 7.2's WITHSCORE).

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"time"
)

func init() {
	z := func(cmd *Command) *Command {
		cmd.Group = "sorted-set"
		return cmd
	}
	const (
		w    = FlagWrite
		wd   = FlagWrite | FlagDenyOOM
		ro   = FlagReadOnly
		fast = FlagFast
	)
	register(
		z(&Command{Name: "zadd", Arity: -4, Flags: wd | fast, First: 1, Last: 1, Step: 1, Since: "1.2.0", Summary: "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", Complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.", Proc: cmdZadd}),
		z(&Command{Name: "zincrby", Arity: 4, Flags: wd | fast, First: 1, Last: 1, Step: 1, Since: "1.2.0", Summary: "Increments the score of a member in a sorted set.", Complexity: "O(log(N)) where N is the number of elements in the sorted set.", Proc: cmdZincrby}),
		z(&Command{Name: "zscore", Arity: 3, Flags: ro | fast, First: 1, Last: 1, Step: 1, Since: "1.2.0", Summary: "Returns the score of a member in a sorted set.", Complexity: "O(1)", Proc: cmdZscore}),
		z(&Command{Name: "zmscore", Arity: -3, Flags: ro | fast, First: 1, Last: 1, Step: 1, Since: "6.2.0", Summary: "Returns the score of one or more members in a sorted set.", Complexity: "O(N) where N is the number of members being requested.", Proc: cmdZmscore}),
		z(&Command{Name: "zrank", Arity: zrankArity, Flags: ro | fast, First: 1, Last: 1, Step: 1, Since: "2.0.0", Summary: "Returns the index of a member in a sorted set ordered by ascending scores.", Complexity: "O(log(N))", Proc: func(c *Client) { zrankGeneric(c, false) }}),
		z(&Command{Name: "zrevrank", Arity: zrankArity, Flags: ro | fast, First: 1, Last: 1, Step: 1, Since: "2.0.0", Summary: "Returns the index of a member in a sorted set ordered by descending scores.", Complexity: "O(log(N))", Proc: func(c *Client) { zrankGeneric(c, true) }}),
		z(&Command{Name: "zcard", Arity: 2, Flags: ro | fast, First: 1, Last: 1, Step: 1, Since: "1.2.0", Summary: "Returns the number of members in a sorted set.", Complexity: "O(1)", Proc: cmdZcard}),
		z(&Command{Name: "zcount", Arity: 4, Flags: ro | fast, First: 1, Last: 1, Step: 1, Since: "2.0.0", Summary: "Returns the count of members in a sorted set that have scores within a range.", Complexity: "O(log(N)) with N being the number of elements in the sorted set.", Proc: cmdZcount}),
		z(&Command{Name: "zlexcount", Arity: 4, Flags: ro | fast, First: 1, Last: 1, Step: 1, Since: "2.8.9", Summary: "Returns the number of members in a sorted set within a lexicographical range.", Complexity: "O(log(N)) with N being the number of elements in the sorted set.", Proc: cmdZlexcount}),
		z(&Command{Name: "zrange", Arity: -4, Flags: ro, First: 1, Last: 1, Step: 1, Since: "1.2.0", Summary: "Returns members in a sorted set within a range of indexes.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", Proc: func(c *Client) { zrangeGeneric(c, 1, false, zrAuto, zdAuto) }}),
		z(&Command{Name: "zrangebyscore", Arity: -4, Flags: ro, First: 1, Last: 1, Step: 1, Since: "1.0.5", Summary: "Returns members in a sorted set within a range of scores.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned.", Proc: func(c *Client) { zrangeGeneric(c, 1, false, zrScore, zdForward) }}),
		z(&Command{Name: "zrevrangebyscore", Arity: -4, Flags: ro, First: 1, Last: 1, Step: 1, Since: "2.2.0", Summary: "Returns members in a sorted set within a range of scores in reverse order.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned.", Proc: func(c *Client) { zrangeGeneric(c, 1, false, zrScore, zdReverse) }}),
		z(&Command{Name: "zrangebylex", Arity: -4, Flags: ro, First: 1, Last: 1, Step: 1, Since: "2.8.9", Summary: "Returns members in a sorted set within a lexicographical range.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned.", Proc: func(c *Client) { zrangeGeneric(c, 1, false, zrLex, zdForward) }}),
		z(&Command{Name: "zrevrangebylex", Arity: -4, Flags: ro, First: 1, Last: 1, Step: 1, Since: "2.8.9", Summary: "Returns members in a sorted set within a lexicographical range in reverse order.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned.", Proc: func(c *Client) { zrangeGeneric(c, 1, false, zrLex, zdReverse) }}),
		z(&Command{Name: "zrevrange", Arity: -4, Flags: ro, First: 1, Last: 1, Step: 1, Since: "1.2.0", Summary: "Returns members in a sorted set within a range of indexes in reverse order.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", Proc: func(c *Client) { zrangeGeneric(c, 1, false, zrRank, zdReverse) }}),
		z(&Command{Name: "zrangestore", Arity: -5, Flags: wd, First: 1, Last: 2, Step: 1, Since: "6.2.0", Summary: "Stores a range of members from sorted set in a key.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.", Proc: func(c *Client) { zrangeGeneric(c, 2, true, zrAuto, zdAuto) }}),
		z(&Command{Name: "zrem", Arity: -3, Flags: w | fast, First: 1, Last: 1, Step: 1, Since: "1.2.0", Summary: "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", Complexity: "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.", Proc: cmdZrem}),
		z(&Command{Name: "zremrangebyrank", Arity: 4, Flags: w, First: 1, Last: 1, Step: 1, Since: "2.0.0", Summary: "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", Proc: func(c *Client) { zremrangeGeneric(c, zrRank) }}),
		z(&Command{Name: "zremrangebyscore", Arity: 4, Flags: w, First: 1, Last: 1, Step: 1, Since: "1.2.0", Summary: "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", Proc: func(c *Client) { zremrangeGeneric(c, zrScore) }}),
		z(&Command{Name: "zremrangebylex", Arity: 4, Flags: w, First: 1, Last: 1, Step: 1, Since: "2.8.9", Summary: "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", Proc: func(c *Client) { zremrangeGeneric(c, zrLex) }}),
		z(&Command{Name: "zpopmin", Arity: -2, Flags: w | fast, First: 1, Last: 1, Step: 1, Since: "5.0.0", Summary: "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", Complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", Proc: func(c *Client) { zpopMinMax(c, false) }}),
		z(&Command{Name: "zpopmax", Arity: -2, Flags: w | fast, First: 1, Last: 1, Step: 1, Since: "5.0.0", Summary: "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", Complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", Proc: func(c *Client) { zpopMinMax(c, true) }}),
		z(&Command{Name: "bzpopmin", Arity: -3, Flags: w | FlagNoScript | FlagBlocking | fast, First: 1, Last: -2, Step: 1, Since: "5.0.0", Summary: "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", Complexity: "O(log(N)) with N being the number of elements in the sorted set.", Proc: func(c *Client) { bzpopMinMax(c, false) }}),
		z(&Command{Name: "bzpopmax", Arity: -3, Flags: w | FlagNoScript | FlagBlocking | fast, First: 1, Last: -2, Step: 1, Since: "5.0.0", Summary: "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.", Complexity: "O(log(N)) with N being the number of elements in the sorted set.", Proc: func(c *Client) { bzpopMinMax(c, true) }}),
		z(&Command{Name: "zmpop", Arity: -4, Flags: w, Keys: zKeysNumkeys(1), Since: "7.0.0", Summary: "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.", Complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", Proc: func(c *Client) { zmpopGeneric(c, 1, false) }}),
		z(&Command{Name: "bzmpop", Arity: -5, Flags: w | FlagBlocking, Keys: zKeysNumkeys(2), Since: "7.0.0", Summary: "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", Complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", Proc: func(c *Client) { zmpopGeneric(c, 2, true) }}),
		z(&Command{Name: "zunionstore", Arity: -4, Flags: wd, First: 1, Last: 1, Step: 1, Keys: zKeysStore, Since: "2.0.0", Summary: "Stores the union of multiple sorted sets in a key.", Complexity: "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", Proc: func(c *Client) { zsetopGeneric(c, true, 2, zopUnion, false) }}),
		z(&Command{Name: "zinterstore", Arity: -4, Flags: wd, First: 1, Last: 1, Step: 1, Keys: zKeysStore, Since: "2.0.0", Summary: "Stores the intersect of multiple sorted sets in a key.", Complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", Proc: func(c *Client) { zsetopGeneric(c, true, 2, zopInter, false) }}),
		z(&Command{Name: "zdiffstore", Arity: -4, Flags: wd, First: 1, Last: 1, Step: 1, Keys: zKeysStore, Since: "6.2.0", Summary: "Stores the difference of multiple sorted sets in a key.", Complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", Proc: func(c *Client) { zsetopGeneric(c, true, 2, zopDiff, false) }}),
		z(&Command{Name: "zunion", Arity: -3, Flags: ro, Keys: zKeysNumkeys(1), Since: "6.2.0", Summary: "Returns the union of multiple sorted sets.", Complexity: "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", Proc: func(c *Client) { zsetopGeneric(c, false, 1, zopUnion, false) }}),
		z(&Command{Name: "zinter", Arity: -3, Flags: ro, Keys: zKeysNumkeys(1), Since: "6.2.0", Summary: "Returns the intersect of multiple sorted sets.", Complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", Proc: func(c *Client) { zsetopGeneric(c, false, 1, zopInter, false) }}),
		z(&Command{Name: "zdiff", Arity: -3, Flags: ro, Keys: zKeysNumkeys(1), Since: "6.2.0", Summary: "Returns the difference between multiple sorted sets.", Complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", Proc: func(c *Client) { zsetopGeneric(c, false, 1, zopDiff, false) }}),
		z(&Command{Name: "zintercard", Arity: -3, Flags: ro, Keys: zKeysNumkeys(1), Since: "7.0.0", Summary: "Returns the number of members of the intersect of multiple sorted sets.", Complexity: "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.", Proc: func(c *Client) { zsetopGeneric(c, false, 1, zopInter, true) }}),
		z(&Command{Name: "zrandmember", Arity: -2, Flags: ro, First: 1, Last: 1, Step: 1, Since: "6.2.0", Summary: "Returns one or more random members from a sorted set.", Complexity: "O(N) where N is the number of members returned", Proc: cmdZrandmember, Tips: []string{"nondeterministic_output"}}),
		z(&Command{Name: "zscan", Arity: -3, Flags: ro, First: 1, Last: 1, Step: 1, Since: "2.8.0", Summary: "Iterates over members and scores of a sorted set.", Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.", Proc: cmdZscan, Tips: []string{"nondeterministic_output"}}),
	)
}

// zrankArity is ZRANK/ZREVRANK's arity. slotkv reports Redis 7.0.15, whose
// ZRANK takes exactly 3 arguments (COMMAND INFO and the arity error match
// it). zrankGeneric also implements 7.2's optional WITHSCORE; setting this
// to -3 enables it.
const zrankArity = 3

// ---------------------------------------------------------------------------
// Key positions of movable-key commands. They use the same strict numkeys
// parsing as the commands, so a command that accepts its numkeys always has
// every key it touches locked.

// zKeysNumkeys returns a Keys func for "numkeys key [key ...]" with numkeys
// at argument idx (ZUNION, ZINTER, ZDIFF, ZINTERCARD, ZMPOP, BZMPOP).
func zKeysNumkeys(idx int) func(args [][]byte, dst []int) []int {
	return func(args [][]byte, dst []int) []int {
		if len(args) <= idx {
			return dst
		}
		n, ok := ParseInt(args[idx])
		if !ok || n < 1 || n > int64(len(args)-idx-1) {
			return dst
		}
		for i := 0; i < int(n); i++ {
			dst = append(dst, idx+1+i)
		}
		return dst
	}
}

// zKeysStore gives "destination numkeys key [key ...]" key positions
// (ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE).
func zKeysStore(args [][]byte, dst []int) []int {
	if len(args) < 4 {
		return dst
	}
	n, ok := ParseInt(args[2])
	if !ok || n < 1 || n > int64(len(args)-3) {
		return dst
	}
	dst = append(dst, 1)
	for i := 0; i < int(n); i++ {
		dst = append(dst, 3+i)
	}
	return dst
}

// ---------------------------------------------------------------------------
// Shared helpers

// zArgIs compares an argument with a lower-case ASCII keyword, ignoring
// ASCII case (strcasecmp).
func zArgIs(b []byte, kw string) bool {
	if len(b) != len(kw) {
		return false
	}
	for i := 0; i < len(b); i++ {
		ch := b[i]
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != kw[i] {
			return false
		}
	}
	return true
}

// zStrIs is zArgIs for a string.
func zStrIs(s string, kw string) bool { return zArgIs(sbytes(s), kw) }

// zLookup returns key's slot, entry and sorted set. It writes WRONGTYPE and
// returns ok=false for another type; z is nil when the key is missing.
func zLookup(c *Client, key []byte) (s *Slot, e *Entry, z *ZSet, ok bool) {
	s = c.SlotFor(key)
	e = s.Lookup(key, c.Now)
	if e == nil {
		return s, nil, nil, true
	}
	z, isZ := e.Obj.(*ZSet)
	if !isZ {
		c.W.Error(ErrWrongType)
		return s, e, nil, false
	}
	return s, e, z, true
}

// zChanged records an in-place change of key (or deletes it when empty).
func zChanged(c *Client, s *Slot, key []byte, z *ZSet) {
	if z.Len() == 0 {
		s.Delete(key, c.Now)
	} else {
		s.Modified(key)
	}
}

// zFloatText checks that b (not empty, no leading space) looks like a
// decimal or hexadecimal float that C's strtod would consume entirely, and
// returns the text Go's parser needs (hex floats get a "p0" exponent) and
// whether the mantissa has a non-zero digit (to detect underflow).
func zFloatText(b []byte) (text string, nonzero bool, ok bool) {
	s := bstr(b)
	for i := 0; i < len(s); i++ {
		if s[i] == '_' {
			return "", false, false // Go accepts digit separators, strtod does not
		}
	}
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	rest := s[i:]
	if len(rest) >= 3 && (zStrIs(rest[:3], "inf") || zStrIs(rest[:3], "nan")) {
		return s, false, true // ParseFloat handles inf/infinity; nan is refused by callers
	}
	hex := len(rest) >= 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X')
	digits, hasP := 0, false
	if hex {
		i += 2
	}
	for ; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= '0' && ch <= '9':
			digits++
			if ch != '0' {
				nonzero = true
			}
		case hex && (ch >= 'a' && ch <= 'f' || ch >= 'A' && ch <= 'F'):
			digits++
			nonzero = true
		case ch == '.':
		case !hex && (ch == 'e' || ch == 'E'), hex && (ch == 'p' || ch == 'P'):
			hasP = hex
			i = len(s) // exponent: leave its syntax to ParseFloat
		default:
			return "", false, false // '_' and anything else strtod would stop at
		}
	}
	if digits == 0 {
		return "", false, false
	}
	if hex && !hasP {
		return s + "p0", nonzero, true
	}
	return s, nonzero, true
}

// zParseScore parses a score or increment like Redis's getDoubleFromObject
// (strtod, whole string, no leading space, no overflow or underflow to
// zero, no NaN).
func zParseScore(b []byte) (float64, bool) {
	if len(b) == 0 || zIsSpace(b[0]) {
		return 0, false
	}
	text, nonzero, ok := zFloatText(b)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false // syntax, or overflow to ±inf (ERANGE)
	}
	if f == 0 && nonzero {
		return 0, false // underflow to zero (ERANGE)
	}
	return f, true
}

func zIsSpace(ch byte) bool {
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r'
}

// zStrtod parses a range bound like Redis's zslParseRange: strtod over the
// whole string, leading spaces allowed, "" is 0, overflow saturates to
// ±inf, NaN refused.
func zStrtod(b []byte) (float64, bool) {
	for len(b) > 0 && zIsSpace(b[0]) {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, true
	}
	text, _, ok := zFloatText(b)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		if ne, isNum := err.(*strconv.NumError); !isNum || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	if math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// zParseScoreRange parses a ZRANGEBYSCORE-style interval.
func zParseScoreRange(min, max []byte) (r zScoreRange, ok bool) {
	if len(min) > 0 && min[0] == '(' {
		r.minex = true
		min = min[1:]
	}
	if len(max) > 0 && max[0] == '(' {
		r.maxex = true
		max = max[1:]
	}
	if r.min, ok = zStrtod(min); !ok {
		return r, false
	}
	r.max, ok = zStrtod(max)
	return r, ok
}

func zParseLexItem(b []byte) (zLexBound, bool, bool) {
	if len(b) == 0 {
		return zLexBound{}, false, false
	}
	switch b[0] {
	case '+':
		return zLexBound{kind: 1}, true, len(b) == 1
	case '-':
		return zLexBound{kind: -1}, true, len(b) == 1
	case '(':
		return zLexBound{s: string(b[1:])}, true, true
	case '[':
		return zLexBound{s: string(b[1:])}, false, true
	}
	return zLexBound{}, false, false
}

// zParseLexRange parses a ZRANGEBYLEX-style interval.
func zParseLexRange(min, max []byte) (r zLexRange, ok bool) {
	var ok1, ok2 bool
	r.min, r.minex, ok1 = zParseLexItem(min)
	r.max, r.maxex, ok2 = zParseLexItem(max)
	return r, ok1 && ok2
}

// zReplyElem writes one member (and score) of a WITHSCORES reply: a
// [member, score] pair in RESP3, two flat items in RESP2.
func zReplyElem(c *Client, m string, score float64, withScores bool) {
	if withScores {
		if c.W.Proto == 3 {
			c.W.Array(2)
		}
		c.W.BulkString(m)
		c.W.Double(score)
		return
	}
	c.W.BulkString(m)
}

// zReplyLen writes the header of a reply of n elements.
func zReplyLen(c *Client, n int, withScores bool) {
	if withScores && c.W.Proto == 2 {
		c.W.Array(2 * n)
	} else {
		c.W.Array(n)
	}
}

// ---------------------------------------------------------------------------
// ZADD / ZINCRBY

func cmdZadd(c *Client)    { zaddGeneric(c, 0) }
func cmdZincrby(c *Client) { zaddGeneric(c, zaddInIncr) }

func zaddGeneric(c *Client, flags int) {
	argv := c.Argv
	key := argv[1]
	ch := false
	scoreidx := 2
opts:
	for ; scoreidx < len(argv); scoreidx++ {
		opt := argv[scoreidx]
		switch {
		case zArgIs(opt, "nx"):
			flags |= zaddInNX
		case zArgIs(opt, "xx"):
			flags |= zaddInXX
		case zArgIs(opt, "ch"):
			ch = true
		case zArgIs(opt, "incr"):
			flags |= zaddInIncr
		case zArgIs(opt, "gt"):
			flags |= zaddInGT
		case zArgIs(opt, "lt"):
			flags |= zaddInLT
		default:
			break opts
		}
	}
	elements := len(argv) - scoreidx
	if elements%2 != 0 || elements == 0 {
		c.W.Error(ErrSyntax)
		return
	}
	elements /= 2
	nx, xx := flags&zaddInNX != 0, flags&zaddInXX != 0
	gt, lt := flags&zaddInGT != 0, flags&zaddInLT != 0
	incr := flags&zaddInIncr != 0
	if nx && xx {
		c.W.Error("ERR XX and NX options at the same time are not compatible")
		return
	}
	if (gt && nx) || (lt && nx) || (gt && lt) {
		c.W.Error("ERR GT, LT, and/or NX options at the same time are not compatible")
		return
	}
	if incr && elements > 1 {
		c.W.Error("ERR INCR option supports a single increment-element pair")
		return
	}
	// Parse every score before changing anything.
	var buf [16]float64
	scores := buf[:0]
	if elements > len(buf) {
		scores = make([]float64, 0, elements)
	}
	for j := 0; j < elements; j++ {
		f, ok := zParseScore(argv[scoreidx+2*j])
		if !ok {
			c.W.Error(ErrNotFloat)
			return
		}
		scores = append(scores, f)
	}
	s, _, z, ok := zLookup(c, key)
	if !ok {
		return
	}
	added, updated, processed := 0, 0, 0
	var score float64
	created := false
	if z == nil {
		if xx {
			goto reply
		}
		z = NewZSet()
		created = true
	}
	for j := 0; j < elements; j++ {
		out, ns := z.add(argv[scoreidx+2*j+1], scores[j], flags)
		if out&zaddOutNaN != 0 {
			c.W.Error("ERR resulting score is not a number (NaN)")
			zaddFinish(c, s, key, z, created, added+updated)
			return
		}
		if out&zaddOutAdded != 0 {
			added++
		}
		if out&zaddOutUpdated != 0 {
			updated++
		}
		if out&zaddOutNop == 0 {
			processed++
		}
		score = ns
	}
	zaddFinish(c, s, key, z, created, added+updated)
reply:
	if incr {
		if processed > 0 {
			c.W.Double(score)
		} else {
			c.W.Null()
		}
		return
	}
	if ch {
		c.W.Int(int64(added + updated))
	} else {
		c.W.Int(int64(added))
	}
}

func zaddFinish(c *Client, s *Slot, key []byte, z *ZSet, created bool, changes int) {
	if changes == 0 {
		return
	}
	c.Dirty += changes
	if created {
		s.Set(key, &Entry{Obj: z})
	} else {
		s.Modified(key)
	}
}

// ---------------------------------------------------------------------------
// Point reads

func cmdZcard(c *Client) {
	_, _, z, ok := zLookup(c, c.Argv[1])
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	c.W.Int(int64(z.Len()))
}

func cmdZscore(c *Client) {
	_, _, z, ok := zLookup(c, c.Argv[1])
	if !ok {
		return
	}
	if z != nil {
		if f, found := z.Score(c.Argv[2]); found {
			c.W.Double(f)
			return
		}
	}
	c.W.Null()
}

func cmdZmscore(c *Client) {
	_, _, z, ok := zLookup(c, c.Argv[1])
	if !ok {
		return
	}
	c.W.Array(len(c.Argv) - 2)
	for _, m := range c.Argv[2:] {
		if z != nil {
			if f, found := z.Score(m); found {
				c.W.Double(f)
				continue
			}
		}
		c.W.Null()
	}
}

func zrankGeneric(c *Client, reverse bool) {
	argv := c.Argv
	if len(argv) > 4 {
		c.W.Error("ERR wrong number of arguments for '" + c.Cmd.Name + "' command")
		return
	}
	withScore := false
	if len(argv) == 4 {
		if !zArgIs(argv[3], "withscore") {
			c.W.Error(ErrSyntax)
			return
		}
		withScore = true
	}
	_, _, z, ok := zLookup(c, argv[1])
	if !ok {
		return
	}
	if z != nil {
		if r, f, found := z.Rank(argv[2], reverse); found {
			if withScore {
				c.W.Array(2)
				c.W.Int(int64(r))
				c.W.Double(f)
			} else {
				c.W.Int(int64(r))
			}
			return
		}
	}
	if withScore {
		c.W.NullArray()
	} else {
		c.W.Null()
	}
}

func cmdZcount(c *Client) {
	r, ok := zParseScoreRange(c.Argv[2], c.Argv[3])
	if !ok {
		c.W.Error("ERR min or max is not a float")
		return
	}
	_, _, z, ok := zLookup(c, c.Argv[1])
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	lo, hi := z.scoreRangeRanks(&r)
	c.W.Int(int64(hi - lo))
}

func cmdZlexcount(c *Client) {
	r, ok := zParseLexRange(c.Argv[2], c.Argv[3])
	if !ok {
		c.W.Error("ERR min or max not valid string range item")
		return
	}
	_, _, z, ok := zLookup(c, c.Argv[1])
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	lo, hi := z.lexRangeRanks(&r, false)
	c.W.Int(int64(hi - lo))
}

// ---------------------------------------------------------------------------
// ZRANGE family

type zrangeType int

const (
	zrAuto zrangeType = iota
	zrRank
	zrScore
	zrLex
)

type zrangeDir int

const (
	zdAuto zrangeDir = iota
	zdForward
	zdReverse
)

// zrankBounds turns ZRANGE-style start/end indexes into a 0-based start
// and a count (Redis's index sanitising); n is 0 for an empty range.
func zrankBounds(start, end int64, llen int) (int, int) {
	l := int64(llen)
	if start < 0 {
		start += l
	}
	if end < 0 {
		end += l
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= l {
		return 0, 0
	}
	if end >= l {
		end = l - 1
	}
	return int(start), int(end - start + 1)
}

// zrangeGeneric implements ZRANGE, ZRANGESTORE, ZREVRANGE,
// Z[REV]RANGEBYSCORE and Z[REV]RANGEBYLEX (Redis's zrangeGenericCommand).
// argStart is the index of the source key.
func zrangeGeneric(c *Client, argStart int, store bool, rt zrangeType, dir zrangeDir) {
	argv := c.Argv
	key := argv[argStart]
	minidx, maxidx := argStart+1, argStart+2
	withScores := false
	var offset, limit int64 = 0, -1
	for j := argStart + 3; j < len(argv); j++ {
		left := len(argv) - j - 1
		a := argv[j]
		switch {
		case !store && zArgIs(a, "withscores"):
			withScores = true
		case zArgIs(a, "limit") && left >= 2:
			var ok1, ok2 bool
			offset, ok1 = ParseInt(argv[j+1])
			if ok1 {
				limit, ok2 = ParseInt(argv[j+2])
			}
			if !ok1 || !ok2 {
				c.W.Error(ErrNotInt)
				return
			}
			j += 2
		case dir == zdAuto && zArgIs(a, "rev"):
			dir = zdReverse
		case rt == zrAuto && zArgIs(a, "bylex"):
			rt = zrLex
		case rt == zrAuto && zArgIs(a, "byscore"):
			rt = zrScore
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	if dir == zdAuto {
		dir = zdForward
	}
	if rt == zrAuto {
		rt = zrRank
	}
	if limit != -1 && rt == zrRank {
		c.W.Error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
		return
	}
	if withScores && rt == zrLex {
		c.W.Error("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
		return
	}
	rev := dir == zdReverse
	if rev && rt != zrRank {
		minidx, maxidx = maxidx, minidx
	}
	var start, end int64
	var sr zScoreRange
	var lr zLexRange
	switch rt {
	case zrRank:
		var ok1, ok2 bool
		start, ok1 = ParseInt(argv[minidx])
		if ok1 {
			end, ok2 = ParseInt(argv[maxidx])
		}
		if !ok1 || !ok2 {
			c.W.Error(ErrNotInt)
			return
		}
	case zrScore:
		var ok bool
		if sr, ok = zParseScoreRange(argv[minidx], argv[maxidx]); !ok {
			c.W.Error("ERR min or max is not a float")
			return
		}
	case zrLex:
		var ok bool
		if lr, ok = zParseLexRange(argv[minidx], argv[maxidx]); !ok {
			c.W.Error("ERR min or max not valid string range item")
			return
		}
	}
	_, _, z, ok := zLookup(c, key)
	if !ok {
		return
	}
	// first: 0-based rank in walk direction; n: number of elements.
	first, n := 0, 0
	if z != nil {
		llen := z.Len()
		switch rt {
		case zrRank:
			first, n = zrankBounds(start, end, llen)
		case zrScore:
			lo, hi := z.scoreRangeRanks(&sr)
			n = hi - lo
			if offset < 0 || offset >= int64(n) {
				n = 0
			} else {
				n -= int(offset)
			}
			if limit >= 0 && limit < int64(n) {
				n = int(limit)
			}
			if rev {
				first = llen - hi + int(offset)
			} else {
				first = lo + int(offset)
			}
		case zrLex:
			// Like Redis: from the first element in range, skip offset
			// elements, then take elements while they are within the far
			// bound (identical to a rank interval when scores are equal).
			lo, hi := z.lexRangeRanks(&lr, rev)
			if hi > lo && offset >= 0 && offset < int64(llen) {
				first = lo
				if rev {
					first = llen - hi
				}
				first += int(offset)
				z.walk(first, llen-first, rev, func(m string, _ float64) bool {
					if limit >= 0 && int64(n) >= limit {
						return false
					}
					if rev && !lr.gteMin(m) || !rev && !lr.lteMax(m) {
						return false
					}
					n++
					return true
				})
			}
		}
	}
	if store {
		zrangeStore(c, argv[1], z, first, n, rev)
		return
	}
	if z == nil {
		c.W.Array(0)
		return
	}
	zReplyLen(c, n, withScores)
	z.walk(first, n, rev, func(m string, sc float64) bool {
		zReplyElem(c, m, sc, withScores)
		return true
	})
}

// zrangeStore writes the selected range of z (nil: empty) into dst.
func zrangeStore(c *Client, dst []byte, z *ZSet, first, n int, rev bool) {
	if z == nil || n == 0 {
		zstoreEmpty(c, dst)
		return
	}
	es := make([]zlpEntry, 0, n)
	z.walk(first, n, rev, func(m string, sc float64) bool {
		es = append(es, zlpEntry{member: m, score: sc})
		return true
	})
	if rev {
		for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
			es[i], es[j] = es[j], es[i]
		}
	}
	c.SlotFor(dst).SetKey(dst, &Entry{Obj: zsetFromSorted(es)}, c.Now) // setKey: touches an existing dst
	c.Dirty++
	c.W.Int(int64(len(es)))
}

// zstoreEmpty handles an empty store result: dst is deleted, reply 0.
func zstoreEmpty(c *Client, dst []byte) {
	if c.SlotFor(dst).Delete(dst, c.Now) {
		c.Dirty++
	}
	c.W.Int(0)
}

// ---------------------------------------------------------------------------
// Removal

func cmdZrem(c *Client) {
	key := c.Argv[1]
	s, _, z, ok := zLookup(c, key)
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	deleted := 0
	for _, m := range c.Argv[2:] {
		if z.Remove(m) {
			deleted++
			if z.Len() == 0 {
				break
			}
		}
	}
	if deleted > 0 {
		c.Dirty += deleted
		zChanged(c, s, key, z)
	}
	c.W.Int(int64(deleted))
}

func zremrangeGeneric(c *Client, rt zrangeType) {
	argv := c.Argv
	key := argv[1]
	var start, end int64
	var sr zScoreRange
	var lr zLexRange
	switch rt {
	case zrRank:
		var ok1, ok2 bool
		start, ok1 = ParseInt(argv[2])
		if ok1 {
			end, ok2 = ParseInt(argv[3])
		}
		if !ok1 || !ok2 {
			c.W.Error(ErrNotInt)
			return
		}
	case zrScore:
		var ok bool
		if sr, ok = zParseScoreRange(argv[2], argv[3]); !ok {
			c.W.Error("ERR min or max is not a float")
			return
		}
	case zrLex:
		var ok bool
		if lr, ok = zParseLexRange(argv[2], argv[3]); !ok {
			c.W.Error("ERR min or max not valid string range item")
			return
		}
	}
	s, _, z, ok := zLookup(c, key)
	if !ok {
		return
	}
	if z == nil {
		c.W.Int(0)
		return
	}
	var lo, hi int
	switch rt {
	case zrRank:
		first, n := zrankBounds(start, end, z.Len())
		lo, hi = first, first+n
	case zrScore:
		lo, hi = z.scoreRangeRanks(&sr)
	case zrLex:
		lo, hi = z.lexRangeRanks(&lr, false)
	}
	deleted := z.DeleteRankRange(lo, hi)
	if deleted > 0 {
		c.Dirty += deleted
		zChanged(c, s, key, z)
	}
	c.W.Int(int64(deleted))
}

// ---------------------------------------------------------------------------
// Pops

// zpopGeneric is Redis's genericZpopCommand: it pops up to count elements
// (-1: a single pop without COUNT) from the first existing key of keys.
func zpopGeneric(c *Client, keys [][]byte, max, emitKey bool, count int64, nested, nilWhenEmpty bool) {
	var key []byte
	var s *Slot
	var z *ZSet
	for _, k := range keys {
		ks, _, kz, ok := zLookup(c, k)
		if !ok {
			return
		}
		if kz != nil {
			key, s, z = k, ks, kz
			break
		}
	}
	if z == nil {
		if nilWhenEmpty {
			c.W.NullArray()
		} else {
			c.W.Array(0)
		}
		return
	}
	if count == 0 {
		c.W.Array(0)
		return
	}
	single := count == -1
	if single {
		count = 1
	}
	llen := int64(z.Len())
	n := count
	if n > llen {
		n = llen
	}
	switch {
	case !nested && !emitKey:
		c.W.Array(int(n) * 2)
	case nested && !emitKey:
		c.W.Array(int(n))
	case !nested && emitKey:
		c.W.Array(int(n)*2 + 1)
		c.W.Bulk(key)
	default:
		c.W.Array(2)
		c.W.Bulk(key)
		c.W.Array(int(n))
	}
	for i := int64(0); i < n; i++ {
		r := 0
		if max {
			r = z.Len() - 1
		}
		m, sc := z.At(r)
		z.DeleteRankRange(r, r+1)
		if nested {
			c.W.Array(2)
		}
		c.W.BulkString(m)
		c.W.Double(sc)
	}
	c.Dirty += int(n)
	zChanged(c, s, key, z)
	if c.Cmd != nil && c.Cmd.Name != "zpopmin" && c.Cmd.Name != "zpopmax" {
		// Replicate blocking and multi-key pops as the plain pop they did.
		name := "ZPOPMIN"
		if max {
			name = "ZPOPMAX"
		}
		if single {
			c.Propagate = [][]byte{[]byte(name), append([]byte(nil), key...)}
		} else {
			c.Propagate = [][]byte{[]byte(name), append([]byte(nil), key...), strconv.AppendInt(nil, count, 10)}
		}
	}
}

func zpopMinMax(c *Client, max bool) {
	if len(c.Argv) > 3 {
		c.W.Error(ErrSyntax)
		return
	}
	count := int64(-1)
	if len(c.Argv) == 3 {
		n, ok := ParseInt(c.Argv[2])
		if !ok || n < 0 {
			c.W.Error("ERR value is out of range, must be positive")
			return
		}
		count = n
	}
	zpopGeneric(c, c.Argv[1:2], max, false, count, c.W.Proto == 3 && count != -1, false)
}

// zParseTimeout parses a blocking timeout in seconds like Redis 7.0's
// getTimeoutFromObjectOrReply; 0 means forever.
func zParseTimeout(c *Client, b []byte) (time.Duration, bool) {
	f, ok := zParseScore(b)
	if !ok {
		c.W.Error("ERR timeout is not a float or out of range")
		return 0, false
	}
	ms := math.Ceil(f * 1000)
	if !(ms >= -9.223372036854775807e18 && ms < 9.223372036854775807e18) || ms < 0 {
		// C's (long long) cast of an out-of-range value gives LLONG_MIN.
		c.W.Error("ERR timeout is negative")
		return 0, false
	}
	if ms > float64(math.MaxInt64/int64(time.Millisecond)) {
		ms = float64(math.MaxInt64 / int64(time.Millisecond))
	}
	return time.Duration(ms) * time.Millisecond, true
}

// zsetWaiters holds the Waiters of clients blocked in BZPOPMIN, BZPOPMAX
// and BZMPOP, for first-come-first-served ordering among them (the same
// scheme as the list commands in blocking.go).
var zsetWaiters sync.Map // *Waiter -> struct{}

// zsetTurn reports whether the client registered as w (nil: not
// registered) may pop from key: no zset waiter that registered on key
// before it is still waiting. Slot lock held.
func zsetTurn(s *Slot, key []byte, w *Waiter) bool {
	for _, x := range s.Waiters(key) {
		if x == w {
			return true
		}
		if _, isZ := zsetWaiters.Load(x); isZ {
			return false
		}
	}
	return true
}

// zsetResignal wakes the waiters of keys that still hold elements, so a
// client leaving the queue without consuming passes its turn on.
func zsetResignal(c *Client, keys [][]byte) {
	for _, k := range keys {
		s := c.SlotFor(k)
		ws := s.Waiters(k)
		if len(ws) == 0 {
			continue
		}
		e := s.Lookup(k, c.Now)
		if e == nil {
			continue
		}
		if z, ok := e.Obj.(*ZSet); !ok || z.Len() == 0 {
			continue
		}
		for _, x := range ws {
			select {
			case x.C <- struct{}{}:
			default:
			}
		}
	}
}

// zblockingPop is Redis's blockingGenericZpopCommand: pop from the first
// non-empty key, or block until one is written or the timeout passes
// (0 = forever). Inside MULTI/EXEC or a script it answers like a timeout.
// A client that disconnects while blocked leaves without a reply and
// without consuming anything.
func zblockingPop(c *Client, keys [][]byte, max bool, timeoutArg []byte, count int64, nested, nilWhenEmpty bool) {
	timeout, ok := zParseTimeout(c, timeoutArg)
	if !ok {
		return
	}
	// try serves from the first non-empty sorted set whose turn has come;
	// before blocking a key of another type is an error, afterwards it is
	// skipped and the client keeps waiting, as in Redis.
	try := func(w *Waiter, blocked bool) bool {
		for _, k := range keys {
			s := c.SlotFor(k)
			e := s.Lookup(k, c.Now)
			if e == nil {
				continue
			}
			z, isZ := e.Obj.(*ZSet)
			if !isZ {
				if blocked {
					continue
				}
				c.W.Error(ErrWrongType)
				return true
			}
			if z.Len() == 0 || !zsetTurn(s, k, w) {
				continue
			}
			zpopGeneric(c, [][]byte{k}, max, true, count, nested, nilWhenEmpty)
			return true
		}
		return false
	}
	if try(nil, false) {
		return
	}
	if !canBlock(c) {
		c.W.NullArray()
		return
	}
	w := &Waiter{C: make(chan struct{}, 1)}
	zsetWaiters.Store(w, struct{}{})
	for _, k := range keys {
		c.SlotFor(k).AddWaiter(k, w)
	}
	c.SetFlag(ClientBlocked, true)
	defer func() { // slot locks held again here
		for _, k := range keys {
			c.SlotFor(k).RemoveWaiter(string(k), w)
		}
		zsetWaiters.Delete(w)
		c.SetFlag(ClientBlocked, false)
		zsetResignal(c, keys)
	}()
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		timedOut := c.blockWait(w, deadline)
		if c.Closed() || c.Server().Stopping() || peerClosed(c) {
			return
		}
		if try(w, true) {
			return
		}
		if timedOut {
			c.W.NullArray()
			return
		}
	}
}

func bzpopMinMax(c *Client, max bool) {
	n := len(c.Argv)
	zblockingPop(c, c.Argv[1:n-1], max, c.Argv[n-1], -1, false, false)
}

// zmpopGeneric implements ZMPOP and BZMPOP; numkeysIdx is the index of
// numkeys (1 for ZMPOP, 2 for BZMPOP).
func zmpopGeneric(c *Client, numkeysIdx int, block bool) {
	argv := c.Argv
	numkeys, ok := ParseInt(argv[numkeysIdx])
	if !ok || numkeys < 1 {
		c.W.Error("ERR numkeys should be greater than 0")
		return
	}
	if numkeys > int64(len(argv)) {
		c.W.Error(ErrSyntax)
		return
	}
	whereIdx := numkeysIdx + int(numkeys) + 1
	if whereIdx >= len(argv) {
		c.W.Error(ErrSyntax)
		return
	}
	var max bool
	switch {
	case zArgIs(argv[whereIdx], "min"):
	case zArgIs(argv[whereIdx], "max"):
		max = true
	default:
		c.W.Error(ErrSyntax)
		return
	}
	count := int64(-1)
	for j := whereIdx + 1; j < len(argv); j++ {
		more := len(argv) - 1 - j
		if count == -1 && zArgIs(argv[j], "count") && more > 0 {
			j++
			n, ok := ParseInt(argv[j])
			if !ok || n < 1 {
				c.W.Error("ERR count should be greater than 0")
				return
			}
			count = n
		} else {
			c.W.Error(ErrSyntax)
			return
		}
	}
	if count == -1 {
		count = 1
	}
	keys := argv[numkeysIdx+1 : whereIdx]
	if block {
		zblockingPop(c, keys, max, argv[1], count, true, true)
		return
	}
	zpopGeneric(c, keys, max, true, count, true, true)
}

// ---------------------------------------------------------------------------
// ZUNION / ZINTER / ZDIFF (+STORE), ZINTERCARD

type zsetOp int

const (
	zopUnion zsetOp = iota
	zopInter
	zopDiff
)

// zsrc is one input of a set operation (Redis's zsetopsrc): a sorted set,
// a plain set (members score 1) or nothing (missing key).
type zsrc struct {
	z      *ZSet
	set    *Set
	weight float64
}

func (s *zsrc) length() int {
	switch {
	case s.z != nil:
		return s.z.Len()
	case s.set != nil:
		return s.set.Len()
	}
	return 0
}

// each visits every element with its (unweighted) score; sorted sets are
// walked from the highest rank down, like Redis's zuiNext.
func (s *zsrc) each(fn func(m string, score float64) bool) {
	switch {
	case s.z != nil:
		s.z.walk(0, s.z.Len(), true, fn)
	case s.set != nil:
		s.set.Each(func(b []byte) bool { return fn(string(b), 1) })
	}
}

// find returns the element's unweighted score in this input.
func (s *zsrc) find(m string) (float64, bool) {
	switch {
	case s.z != nil:
		return s.z.Score(sbytes(m))
	case s.set != nil:
		return 1, s.set.Has(sbytes(m))
	}
	return 0, false
}

// zAggregate folds val into *target (Redis's zunionInterAggregate).
func zAggregate(target *float64, val float64, agg int) {
	switch agg {
	case 0: // sum
		*target += val
		if math.IsNaN(*target) {
			*target = 0
		}
	case 1: // min
		if val < *target {
			*target = val
		}
	case 2: // max
		if val > *target {
			*target = val
		}
	}
}

// zsetopGeneric is Redis's zunionInterDiffGenericCommand. store: the first
// argument is the destination; numkeysIdx: index of numkeys; cardOnly:
// ZINTERCARD.
func zsetopGeneric(c *Client, store bool, numkeysIdx int, op zsetOp, cardOnly bool) {
	argv := c.Argv
	setnum, ok := ParseInt(argv[numkeysIdx])
	if !ok {
		c.W.Error(ErrNotInt)
		return
	}
	if setnum < 1 {
		c.W.Error("ERR at least 1 input key is needed for '" + c.Cmd.Name + "' command")
		return
	}
	if setnum > int64(len(argv)-(numkeysIdx+1)) {
		c.W.Error(ErrSyntax)
		return
	}
	n := int(setnum)
	src := make([]zsrc, n)
	j := numkeysIdx + 1
	for i := 0; i < n; i, j = i+1, j+1 {
		src[i].weight = 1
		e := c.SlotFor(argv[j]).Lookup(argv[j], c.Now)
		if e == nil {
			continue
		}
		switch o := e.Obj.(type) {
		case *ZSet:
			src[i].z = o
		case *Set:
			src[i].set = o
		default:
			c.W.Error(ErrWrongType)
			return
		}
	}
	agg := 0
	withScores := false
	var limit int64
	for remaining := len(argv) - j; remaining > 0; remaining = len(argv) - j {
		a := argv[j]
		switch {
		case op != zopDiff && !cardOnly && remaining >= n+1 && zArgIs(a, "weights"):
			j++
			for i := 0; i < n; i, j = i+1, j+1 {
				f, ok := zParseScore(argv[j])
				if !ok {
					c.W.Error("ERR weight value is not a float")
					return
				}
				src[i].weight = f
			}
		case op != zopDiff && !cardOnly && remaining >= 2 && zArgIs(a, "aggregate"):
			switch {
			case zArgIs(argv[j+1], "sum"):
				agg = 0
			case zArgIs(argv[j+1], "min"):
				agg = 1
			case zArgIs(argv[j+1], "max"):
				agg = 2
			default:
				c.W.Error(ErrSyntax)
				return
			}
			j += 2
		case !store && !cardOnly && zArgIs(a, "withscores"):
			withScores = true
			j++
		case cardOnly && remaining >= 2 && zArgIs(a, "limit"):
			l, ok := ParseInt(argv[j+1])
			if !ok || l < 0 {
				c.W.Error("ERR LIMIT can't be negative")
				return
			}
			limit = l
			j += 2
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	if op != zopDiff {
		// Smallest inputs first (glibc's qsort is a stable merge sort here).
		sort.SliceStable(src, func(a, b int) bool { return src[a].length() < src[b].length() })
	}
	var res []zlpEntry
	card := 0
	switch op {
	case zopInter:
		if src[0].length() == 0 {
			break
		}
		src[0].each(func(m string, sc float64) bool {
			score := src[0].weight * sc
			if math.IsNaN(score) {
				score = 0
			}
			k := 1
			for ; k < n; k++ {
				if src[k].z != nil && src[k].z == src[0].z {
					zAggregate(&score, sc*src[k].weight, agg)
				} else if v, found := src[k].find(m); found {
					zAggregate(&score, v*src[k].weight, agg)
				} else {
					break
				}
			}
			if k == n {
				if cardOnly {
					card++
					if limit > 0 && int64(card) >= limit {
						return false
					}
				} else {
					res = append(res, zlpEntry{member: m, score: score})
				}
			}
			return true
		})
	case zopUnion:
		acc := make(map[string]int, src[n-1].length())
		for i := range src {
			if src[i].length() == 0 {
				continue
			}
			w := src[i].weight
			src[i].each(func(m string, sc float64) bool {
				score := w * sc
				if math.IsNaN(score) {
					score = 0
				}
				if at, found := acc[m]; found {
					zAggregate(&res[at].score, score, agg)
				} else {
					acc[m] = len(res)
					res = append(res, zlpEntry{member: m, score: score})
				}
				return true
			})
		}
	case zopDiff:
		if src[0].length() == 0 {
			break
		}
		src[0].each(func(m string, sc float64) bool {
			for k := 1; k < n; k++ {
				if src[k].length() == 0 {
					continue
				}
				if src[k].z != nil && src[k].z == src[0].z {
					return true
				}
				if _, found := src[k].find(m); found {
					return true
				}
			}
			res = append(res, zlpEntry{member: m, score: sc})
			return true
		})
	}
	if cardOnly {
		c.W.Int(int64(card))
		return
	}
	sortZEntries(res)
	if store {
		dst := argv[1]
		if len(res) == 0 {
			zstoreEmpty(c, dst)
			return
		}
		c.SlotFor(dst).SetKey(dst, &Entry{Obj: zsetFromSorted(res)}, c.Now) // setKey: touches an existing dst
		c.Dirty++
		c.W.Int(int64(len(res)))
		return
	}
	zReplyLen(c, len(res), withScores)
	for i := range res {
		zReplyElem(c, res[i].member, res[i].score, withScores)
	}
}

// ---------------------------------------------------------------------------
// ZRANDMEMBER

// zrandMaxCount bounds the reply of ZRANDMEMBER with a negative count so a
// hostile count cannot exhaust memory (Redis would try to build it).
const zrandMaxCount = 1 << 27

func cmdZrandmember(c *Client) {
	argv := c.Argv
	if len(argv) < 3 {
		_, _, z, ok := zLookup(c, argv[1])
		if !ok {
			return
		}
		if z == nil {
			c.W.Null()
			return
		}
		m, _ := z.randomElement()
		c.W.BulkString(m)
		return
	}
	l, ok := ParseInt(argv[2])
	if !ok {
		c.W.Error(ErrNotInt)
		return
	}
	if l == math.MinInt64 {
		c.W.Error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return
	}
	withScores := false
	if len(argv) > 4 || (len(argv) == 4 && !zArgIs(argv[3], "withscores")) {
		c.W.Error(ErrSyntax)
		return
	} else if len(argv) == 4 {
		withScores = true
		if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
			c.W.Error("ERR value is out of range")
			return
		}
	}
	_, _, z, ok := zLookup(c, argv[1])
	if !ok {
		return
	}
	if z == nil {
		c.W.Array(0)
		return
	}
	size := z.Len()
	uniq := true
	count := l
	if l < 0 {
		count, uniq = -l, false
	}
	if count == 0 {
		c.W.Array(0)
		return
	}
	// Case 1: repetitions allowed (negative count), or a single element.
	if !uniq || count == 1 {
		if count > zrandMaxCount {
			c.W.Error("ERR value is out of range")
			return
		}
		zReplyLen(c, int(count), withScores)
		for i := int64(0); i < count; i++ {
			m, sc := z.randomElement()
			zReplyElem(c, m, sc, withScores)
		}
		return
	}
	// Case 2: the whole set, walked from the highest rank like zuiNext.
	if count >= int64(size) {
		zReplyLen(c, size, withScores)
		z.walk(0, size, true, func(m string, sc float64) bool {
			zReplyElem(c, m, sc, withScores)
			return true
		})
		return
	}
	// Cases 3 and 4: count distinct random elements, in random order.
	k := int(count)
	zReplyLen(c, k, withScores)
	if k*3 > size {
		// Partial Fisher-Yates over the ranks.
		ranks := make([]int32, size)
		for i := range ranks {
			ranks[i] = int32(i)
		}
		for i := 0; i < k; i++ {
			j := i + rand.IntN(size-i)
			ranks[i], ranks[j] = ranks[j], ranks[i]
			m, sc := z.At(int(ranks[i]))
			zReplyElem(c, m, sc, withScores)
		}
		return
	}
	seen := make(map[int]struct{}, k)
	for len(seen) < k {
		r := rand.IntN(size)
		if _, dup := seen[r]; dup {
			continue
		}
		seen[r] = struct{}{}
		m, sc := z.At(r)
		zReplyElem(c, m, sc, withScores)
	}
}

// ---------------------------------------------------------------------------
// ZSCAN

// zParseCursor parses a SCAN cursor like Redis's parseScanCursorOrReply
// (strtoul over the whole string).
func zParseCursor(b []byte) (uint64, bool) {
	if len(b) > 0 && zIsSpace(b[0]) {
		return 0, false
	}
	if len(b) == 0 {
		return 0, true
	}
	neg := false
	i := 0
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		i++
	}
	if i == len(b) {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		ch := b[i]
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false // ERANGE
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return v, true
}

func cmdZscan(c *Client) {
	argv := c.Argv
	cursor, ok := zParseCursor(argv[2])
	if !ok {
		c.W.Error("ERR invalid cursor")
		return
	}
	_, _, z, ok := zLookup(c, argv[1])
	if !ok {
		return
	}
	if z == nil {
		c.W.Array(2)
		c.W.BulkString("0")
		c.W.Array(0)
		return
	}
	count := int64(10)
	var pat string
	usePat := false
	for i := 3; i < len(argv); {
		left := len(argv) - i
		switch {
		case zArgIs(argv[i], "count") && left >= 2:
			n, ok := ParseInt(argv[i+1])
			if !ok {
				c.W.Error(ErrNotInt)
				return
			}
			if n < 1 {
				c.W.Error(ErrSyntax)
				return
			}
			count = n
			i += 2
		case zArgIs(argv[i], "match") && left >= 2:
			pat = string(argv[i+1])
			usePat = pat != "*"
			i += 2
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	type item struct {
		m  string
		sc float64
	}
	var items []item
	if z.zsl == nil {
		// A listpack is returned whole in one call (COUNT is a hint).
		items = make([]item, 0, len(z.lp))
		for _, e := range z.lp {
			items = append(items, item{e.member, e.score})
		}
		cursor = 0
	} else {
		maxIter := count * 10
		for {
			cursor = z.dict.scan(cursor, func(n *zslNode) { items = append(items, item{n.member, n.score}) })
			maxIter--
			if cursor == 0 || maxIter <= 0 || int64(2*len(items)) >= count {
				break
			}
		}
	}
	if usePat {
		kept := items[:0]
		for _, it := range items {
			if globMatch(pat, it.m, false) {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	c.W.Array(2)
	var tmp [32]byte
	c.W.Bulk(strconv.AppendUint(tmp[:0], cursor, 10))
	c.W.Array(2 * len(items))
	listpack := z.zsl == nil
	for _, it := range items {
		c.W.BulkString(it.m)
		c.W.Bulk(zFormatScore(tmp[:0], it.sc, listpack))
	}
}

// zFormatScore formats a ZSCAN score. A listpack holds scores as Redis's
// d2string text (integral values within ±2^62 printed as integers); a
// skiplist's are printed with "%.17g". Infinities are inf/-inf.
func zFormatScore(dst []byte, f float64, listpack bool) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case listpack && f >= -4611686018427387904 && f <= 4611686018427387904 && f == math.Trunc(f):
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}
