package node

// String commands (Redis 7.0 t_string.c semantics): GET/SET and options,
// SETNX/SETEX/PSETEX, GETSET/GETEX/GETDEL, MGET/MSET/MSETNX, the INCR
// family, INCRBYFLOAT, APPEND, STRLEN, SETRANGE/GETRANGE/SUBSTR and LCS.
//
// Strings live in Entry.Str. Entry.Enc records what Redis's object encoding
// would be (OBJECT ENCODING / REFCOUNT), see strEnc*.

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

// String encoding hints kept in Entry.Enc.
const (
	// strEncAuto: the value went through Redis's tryObjectEncoding: "int"
	// when it is a canonical 64-bit integer, "embstr" up to 44 bytes,
	// "raw" above.
	strEncAuto uint8 = 0
	// strEncRaw: the value was changed in place (APPEND, SETRANGE, SETBIT,
	// BITFIELD, BITOP...): always "raw".
	strEncRaw uint8 = 1
	// strEncNoInt: created without integer encoding (INCRBYFLOAT):
	// "embstr" up to 44 bytes, "raw" above.
	strEncNoInt uint8 = 2
	// strEncKindMask selects the kind above.
	strEncKindMask uint8 = 3
	// strEncUnshared: an "int" value that is not Redis's shared integer
	// object (COPY of a small integer): OBJECT REFCOUNT is 1.
	strEncUnshared uint8 = 4
)

// strEmbstrLimit is OBJ_ENCODING_EMBSTR_SIZE_LIMIT.
const strEmbstrLimit = 44

// strSharedIntegers is OBJ_SHARED_INTEGERS.
const strSharedIntegers = 10000

// stringEncoding returns the OBJECT ENCODING of a string entry.
func stringEncoding(e *Entry) string {
	switch e.Enc & strEncKindMask {
	case strEncRaw:
		return "raw"
	case strEncNoInt:
		if len(e.Str) <= strEmbstrLimit {
			return "embstr"
		}
		return "raw"
	}
	if len(e.Str) <= 20 {
		if _, ok := ParseInt(e.Str); ok {
			return "int"
		}
	}
	if len(e.Str) <= strEmbstrLimit {
		return "embstr"
	}
	return "raw"
}

// stringRefcount returns OBJECT REFCOUNT of a string entry: shared small
// integers report INT_MAX like Redis.
func stringRefcount(e *Entry) int64 {
	if e.Enc == strEncAuto && len(e.Str) <= 4 {
		if n, ok := ParseInt(e.Str); ok && n >= 0 && n < strSharedIntegers {
			return math.MaxInt32
		}
	}
	return 1
}

func init() {
	str := func(cmd *Command) *Command {
		cmd.Group = "string"
		cmd.ACL = []string{"@string"}
		return cmd
	}
	register(
		str(&Command{Name: "get", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Since: "1.0.0", Summary: "Get the value of a key", Complexity: "O(1)", Proc: cmdGet}),
		str(&Command{Name: "set", Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Since: "1.0.0", Summary: "Set the string value of a key", Complexity: "O(1)", Proc: cmdSet}),
		str(&Command{Name: "setnx", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Since: "1.0.0", Summary: "Set the value of a key, only if the key does not exist", Complexity: "O(1)", Proc: cmdSetnx}),
		str(&Command{Name: "setex", Arity: 4, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Since: "2.0.0", Summary: "Set the value and expiration of a key", Complexity: "O(1)", Proc: func(c *Client) { strSetex(c, 1000) }}),
		str(&Command{Name: "psetex", Arity: 4, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Since: "2.6.0", Summary: "Set the value and expiration in milliseconds of a key", Complexity: "O(1)", Proc: func(c *Client) { strSetex(c, 1) }}),
		str(&Command{Name: "getset", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Since: "1.0.0", Summary: "Set the string value of a key and return its old value", Complexity: "O(1)", Proc: cmdGetset}),
		str(&Command{Name: "getex", Arity: -2, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Since: "6.2.0", Summary: "Get the value of a key and optionally set its expiration", Complexity: "O(1)", Proc: cmdGetex}),
		str(&Command{Name: "getdel", Arity: 2, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Since: "6.2.0", Summary: "Get the value of a key and delete the key", Complexity: "O(1)", Proc: cmdGetdel}),
		str(&Command{Name: "mget", Arity: -2, Flags: FlagReadOnly | FlagFast, First: 1, Last: -1, Step: 1, Since: "1.0.0", Summary: "Get the values of all the given keys", Complexity: "O(N) where N is the number of keys to retrieve.", Tips: []string{"request_policy:multi_shard"}, Proc: cmdMget}),
		str(&Command{Name: "mset", Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: -1, Step: 2, Since: "1.0.1", Summary: "Set multiple keys to multiple values", Complexity: "O(N) where N is the number of keys to set.", Tips: []string{"request_policy:multi_shard", "response_policy:all_succeeded"}, Proc: func(c *Client) { strMset(c, false) }}),
		str(&Command{Name: "msetnx", Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: -1, Step: 2, Since: "1.0.1", Summary: "Set multiple keys to multiple values, only if none of the keys exist", Complexity: "O(N) where N is the number of keys to set.", Tips: []string{"request_policy:multi_shard", "response_policy:agg_min"}, Proc: func(c *Client) { strMset(c, true) }}),
		str(&Command{Name: "incr", Arity: 2, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Since: "1.0.0", Summary: "Increment the integer value of a key by one", Complexity: "O(1)", Proc: func(c *Client) { strIncr(c, 1) }}),
		str(&Command{Name: "decr", Arity: 2, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Since: "1.0.0", Summary: "Decrement the integer value of a key by one", Complexity: "O(1)", Proc: func(c *Client) { strIncr(c, -1) }}),
		str(&Command{Name: "incrby", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Since: "1.0.0", Summary: "Increment the integer value of a key by the given amount", Complexity: "O(1)", Proc: cmdIncrby}),
		str(&Command{Name: "decrby", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Since: "1.0.0", Summary: "Decrement the integer value of a key by the given number", Complexity: "O(1)", Proc: cmdDecrby}),
		str(&Command{Name: "incrbyfloat", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Since: "2.6.0", Summary: "Increment the float value of a key by the given amount", Complexity: "O(1)", Proc: cmdIncrbyfloat}),
		str(&Command{Name: "append", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Since: "2.0.0", Summary: "Append a value to a key", Complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.", Proc: cmdAppend}),
		str(&Command{Name: "strlen", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Since: "2.2.0", Summary: "Get the length of the value stored in a key", Complexity: "O(1)", Proc: cmdStrlen}),
		str(&Command{Name: "setrange", Arity: 4, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Since: "2.2.0", Summary: "Overwrite part of a string at key starting at the specified offset", Complexity: "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.", Proc: cmdSetrange}),
		str(&Command{Name: "getrange", Arity: 4, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Since: "2.4.0", Summary: "Get a substring of the string stored at a key", Complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.", Proc: cmdGetrange}),
		str(&Command{Name: "substr", Arity: 4, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Since: "1.0.0", Summary: "Get a substring of the string stored at a key", Complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.", Proc: cmdGetrange}),
		str(&Command{Name: "lcs", Arity: -3, Flags: FlagReadOnly, First: 1, Last: 2, Step: 1, Since: "7.0.0", Summary: "Find longest common substring", Complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively", Proc: cmdLcs}),
	)
}

// strArgIs reports whether arg equals name (lower case) ignoring ASCII case.
func strArgIs(arg []byte, name string) bool {
	if len(arg) != len(name) {
		return false
	}
	for i := 0; i < len(arg); i++ {
		ch := arg[i]
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != name[i] {
			return false
		}
	}
	return true
}

// strCopy returns a private copy of b (nil stays nil-length).
func strCopy(b []byte) []byte { return append([]byte(nil), b...) }

// strPXAT formats ms for a propagated PXAT / PEXPIREAT argument.
func strInt(n int64) []byte { return strconv.AppendInt(make([]byte, 0, 20), n, 10) }

// strStore stores val (copied) as key's string value. e is the key's live
// entry (nil when absent). The TTL is set to exp unless keepTTL. It reuses
// e and, when its capacity fits, e's buffer, so that overwriting an
// existing key allocates nothing.
func strStore(c *Client, s *Slot, key []byte, e *Entry, val []byte, exp int64, keepTTL bool, enc uint8) {
	if e == nil {
		s.setString(key, val, exp, enc)
		return
	}
	if e.Obj == nil && cap(e.Str) >= len(val) && cap(e.Str) <= 2*len(val)+32 {
		e.Str = append(e.Str[:0], val...)
	} else {
		e.Str = strCopy(val)
	}
	e.Obj = nil
	e.Enc = enc
	if !keepTTL && e.Exp != exp {
		s.SetExpire(e, exp)
	}
	s.Modified(key)
}

// strGetOrReply replies with key's value like Redis's getGenericCommand and
// returns (entry, ok); ok is false after a WRONGTYPE error.
func strGetOrReply(c *Client, s *Slot, key []byte) (*Entry, bool) {
	e := s.Lookup(key, c.Now)
	if e == nil {
		c.W.Null()
		return nil, true
	}
	if e.Obj != nil {
		c.W.Error(ErrWrongType)
		return e, false
	}
	c.W.Bulk(e.Str)
	return e, true
}

func cmdGet(c *Client) {
	_, e := c.Lookup(c.Argv[1])
	if e == nil {
		c.W.Null()
		return
	}
	if e.Obj != nil {
		c.W.Error(ErrWrongType)
		return
	}
	c.W.Bulk(e.Str)
}

// SET option flags (t_string.c OBJ_*).
const (
	setNX = 1 << iota
	setXX
	setEX
	setPX
	setKeepTTL
	setGet
	setEXAT
	setPXAT
	setPersist
)

// strParseSetOpts parses SET (isSet) or GETEX options starting at argv[from].
// It returns the flags and the index of the expire argument (0 if none), or
// ok=false after replying a syntax error.
func strParseSetOpts(c *Client, from int, isSet bool) (flags int, expIdx int, ok bool) {
	argv := c.Argv
	const anyExp = setEX | setPX | setEXAT | setPXAT
	for j := from; j < len(argv); j++ {
		opt := argv[j]
		hasNext := j < len(argv)-1
		switch {
		case isSet && strArgIs(opt, "nx") && flags&setXX == 0:
			flags |= setNX
		case isSet && strArgIs(opt, "xx") && flags&setNX == 0:
			flags |= setXX
		case isSet && strArgIs(opt, "get"):
			flags |= setGet
		case isSet && strArgIs(opt, "keepttl") && flags&(setPersist|anyExp) == 0:
			flags |= setKeepTTL
		case !isSet && strArgIs(opt, "persist") && flags&(anyExp|setKeepTTL) == 0:
			flags |= setPersist
		case strArgIs(opt, "ex") && flags&(setKeepTTL|setPersist|setEXAT|setPX|setPXAT) == 0 && hasNext:
			flags |= setEX
			expIdx = j + 1
			j++
		case strArgIs(opt, "px") && flags&(setKeepTTL|setPersist|setEX|setEXAT|setPXAT) == 0 && hasNext:
			flags |= setPX
			expIdx = j + 1
			j++
		case strArgIs(opt, "exat") && flags&(setKeepTTL|setPersist|setEX|setPX|setPXAT) == 0 && hasNext:
			flags |= setEXAT
			expIdx = j + 1
			j++
		case strArgIs(opt, "pxat") && flags&(setKeepTTL|setPersist|setEX|setEXAT|setPX) == 0 && hasNext:
			flags |= setPXAT
			expIdx = j + 1
			j++
		default:
			c.W.Error(ErrSyntax)
			return 0, 0, false
		}
	}
	return flags, expIdx, true
}

// strExpireArg converts an EX/PX/EXAT/PXAT argument into an absolute unix
// time in ms (getExpireMillisecondsOrReply).
func strExpireArg(c *Client, arg []byte, flags int) (int64, bool) {
	ms, ok := ParseInt(arg)
	if !ok {
		c.W.Error(ErrNotInt)
		return 0, false
	}
	seconds := flags&(setEX|setEXAT) != 0
	if ms <= 0 || (seconds && ms > math.MaxInt64/1000) {
		c.W.Error(expInvalidTime(c))
		return 0, false
	}
	if seconds {
		ms *= 1000
	}
	if flags&(setEX|setPX) != 0 {
		ms += c.Now // wraps on overflow, caught below like Redis
	}
	if ms <= 0 {
		c.W.Error(expInvalidTime(c))
		return 0, false
	}
	return ms, true
}

// expInvalidTime is Redis's addReplyErrorExpireTime text.
func expInvalidTime(c *Client) string {
	return "ERR invalid expire time in '" + c.Cmd.Name + "' command"
}

func cmdSet(c *Client) {
	argv := c.Argv
	key := argv[1]
	if len(argv) == 3 { // the hot path: SET key value
		s := c.SlotFor(key)
		strStore(c, s, key, s.Lookup(key, c.Now), argv[2], 0, false, strEncAuto)
		c.Dirty++
		c.W.OK()
		return
	}
	flags, expIdx, ok := strParseSetOpts(c, 3, true)
	if !ok {
		return
	}
	strSetGeneric(c, flags, key, argv[2], expIdx)
}

// strSetGeneric is Redis's setGenericCommand. okReply/abortReply are
// handled by the callers that differ (SETNX).
func strSetGeneric(c *Client, flags int, key, val []byte, expIdx int) bool {
	var exp int64
	if expIdx > 0 {
		var ok bool
		if exp, ok = strExpireArg(c, c.Argv[expIdx], flags); !ok {
			return false
		}
	}
	s := c.SlotFor(key)
	var e *Entry
	if flags&setGet != 0 {
		var ok bool
		if e, ok = strGetOrReply(c, s, key); !ok {
			return false
		}
		touchSecondLookup(e, c.Now)
	} else {
		e = s.Lookup(key, c.Now)
	}
	if (flags&setNX != 0 && e != nil) || (flags&setXX != 0 && e == nil) {
		if flags&setGet == 0 {
			c.W.Null()
		}
		return false
	}
	strStore(c, s, key, e, val, exp, flags&setKeepTTL != 0, strEncAuto)
	c.Dirty++
	if expIdx > 0 {
		c.Propagate = [][]byte{[]byte("SET"), strCopy(key), strCopy(val), []byte("PXAT"), strInt(exp)}
	} else if flags&setGet != 0 {
		// Propagate without GET.
		p := make([][]byte, 0, len(c.Argv))
		for j, a := range c.Argv {
			if j >= 3 && strArgIs(a, "get") {
				continue
			}
			p = append(p, strCopy(a))
		}
		c.Propagate = p
	}
	if flags&setGet == 0 {
		c.W.OK()
	}
	return true
}

func cmdSetnx(c *Client) {
	key := c.Argv[1]
	s := c.SlotFor(key)
	e := s.Lookup(key, c.Now)
	if e != nil {
		c.W.Int(0)
		return
	}
	strStore(c, s, key, nil, c.Argv[2], 0, false, strEncAuto)
	c.Dirty++
	c.W.Int(1)
}

// strSetex implements SETEX (unit 1000) and PSETEX (unit 1).
func strSetex(c *Client, unit int64) {
	flags := setEX
	if unit == 1 {
		flags = setPX
	}
	// SETEX key seconds value: the expire argument is argv[2].
	strSetGeneric(c, flags, c.Argv[1], c.Argv[3], 2)
}

func cmdGetset(c *Client) {
	key := c.Argv[1]
	s := c.SlotFor(key)
	e, ok := strGetOrReply(c, s, key)
	if !ok {
		return
	}
	touchSecondLookup(e, c.Now)
	strStore(c, s, key, e, c.Argv[2], 0, false, strEncAuto)
	c.Dirty++
	c.Propagate = [][]byte{[]byte("SET"), strCopy(key), strCopy(c.Argv[2])}
}

func cmdGetex(c *Client) {
	flags, expIdx, ok := strParseSetOpts(c, 2, false)
	if !ok {
		return
	}
	key := c.Argv[1]
	s := c.SlotFor(key)
	e := s.Lookup(key, c.Now)
	if e == nil {
		c.W.Null()
		return
	}
	if e.Obj != nil {
		c.W.Error(ErrWrongType)
		return
	}
	var exp int64
	if expIdx > 0 {
		if exp, ok = strExpireArg(c, c.Argv[expIdx], flags); !ok {
			return
		}
	}
	c.W.Bulk(e.Str)
	switch {
	case flags&(setEXAT|setPXAT) != 0 && exp <= c.Now:
		s.Delete(key, c.Now)
		c.Dirty++
		c.Propagate = [][]byte{[]byte("DEL"), strCopy(key)}
	case expIdx > 0:
		s.SetExpire(e, exp)
		s.Modified(key)
		c.Dirty++
		c.Propagate = [][]byte{[]byte("PEXPIREAT"), strCopy(key), strInt(exp)}
	case flags&setPersist != 0 && e.Exp != 0:
		s.SetExpire(e, 0)
		s.Modified(key)
		c.Dirty++
		c.Propagate = [][]byte{[]byte("PERSIST"), strCopy(key)}
	}
}

func cmdGetdel(c *Client) {
	key := c.Argv[1]
	s := c.SlotFor(key)
	e, ok := strGetOrReply(c, s, key)
	if !ok || e == nil {
		return
	}
	s.Delete(key, c.Now)
	c.Dirty++
	c.Propagate = [][]byte{[]byte("DEL"), strCopy(key)}
}

func cmdMget(c *Client) {
	c.W.Array(len(c.Argv) - 1)
	for _, key := range c.Argv[1:] {
		_, e := c.Lookup(key)
		if e == nil || e.Obj != nil {
			c.W.Null()
			continue
		}
		c.W.Bulk(e.Str)
	}
}

func strMset(c *Client, nx bool) {
	argv := c.Argv
	if len(argv)%2 == 0 {
		c.W.Error("ERR wrong number of arguments for '" + c.Cmd.Name + "' command")
		return
	}
	if nx {
		for j := 1; j < len(argv); j += 2 {
			if _, e := c.Lookup(argv[j]); e != nil {
				c.W.Int(0)
				return
			}
		}
	}
	for j := 1; j < len(argv); j += 2 {
		s := c.SlotFor(argv[j])
		strStore(c, s, argv[j], s.Lookup(argv[j], c.Now), argv[j+1], 0, false, strEncAuto)
	}
	c.Dirty += (len(argv) - 1) / 2
	if nx {
		c.W.Int(1)
	} else {
		c.W.OK()
	}
}

func cmdIncrby(c *Client) {
	n, ok := ParseInt(c.Argv[2])
	if !ok {
		c.W.Error(ErrNotInt)
		return
	}
	strIncr(c, n)
}

func cmdDecrby(c *Client) {
	n, ok := ParseInt(c.Argv[2])
	if !ok {
		c.W.Error(ErrNotInt)
		return
	}
	if n == math.MinInt64 {
		c.W.Error("ERR decrement would overflow")
		return
	}
	strIncr(c, -n)
}

// strIncr is incrDecrCommand. It rewrites the value in place when the key
// exists, so a counter update allocates nothing.
func strIncr(c *Client, incr int64) {
	key := c.Argv[1]
	s := c.SlotFor(key)
	e := s.Lookup(key, c.Now)
	var v int64
	if e != nil {
		if e.Obj != nil {
			c.W.Error(ErrWrongType)
			return
		}
		var ok bool
		if v, ok = ParseInt(e.Str); !ok {
			c.W.Error(ErrNotInt)
			return
		}
	}
	if (incr < 0 && v < 0 && incr < math.MinInt64-v) || (incr > 0 && v > 0 && incr > math.MaxInt64-v) {
		c.W.Error(ErrOverflow)
		return
	}
	v += incr
	if e != nil {
		e.Str = strconv.AppendInt(e.Str[:0], v, 10)
		e.Enc = strEncAuto
		s.Modified(key)
	} else {
		var tmp [20]byte
		s.setString(key, strconv.AppendInt(tmp[:0], v, 10), 0, strEncAuto)
	}
	c.Dirty++
	c.W.Int(v)
}

// x87 80-bit long double limits used to emulate Redis's INCRBYFLOAT, whose
// arithmetic and formatting are done in long double.
const (
	ldPrec   = 64     // mantissa bits
	ldMaxExp = 16384  // big.Float exponent (mant in [0.5,1)) above which strtold overflows
	ldMinExp = -16444 // below: underflow to zero (denormals bottom out here)
)

// strParseLongDouble parses like Redis's string2ld (strtold): decimal or
// hex floats, inf/infinity; no spaces, no nan, overflow and underflow to
// zero rejected. It returns a 64-bit-mantissa value, or inf=±1.
func strParseLongDouble(b []byte) (f *big.Float, inf int, ok bool) {
	if len(b) == 0 || len(b) >= 5*1024 {
		return nil, 0, false
	}
	switch b[0] {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return nil, 0, false
	}
	s := string(b)
	body, neg := s, false
	if body[0] == '+' || body[0] == '-' {
		neg = body[0] == '-'
		body = body[1:]
	}
	switch lowerASCII(body) {
	case "inf", "infinity":
		if neg {
			return nil, -1, true
		}
		return nil, 1, true
	case "nan":
		return nil, 0, false
	}
	if len(body) == 0 {
		return nil, 0, false
	}
	// strtold accepts what Go's big.Float parser accepts for decimal and
	// 0x hex mantissas, except: no '_' separators, hex needs 'p' optional.
	for i := 0; i < len(body); i++ {
		ch := body[i]
		if ch == '_' || ch == ' ' {
			return nil, 0, false
		}
	}
	if len(body) > 1 && body[0] == '0' && strings.IndexByte("bBoO", body[1]) >= 0 {
		return nil, 0, false // Go's base prefixes; strtold reads "0" and stops
	}
	if len(body) > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		hasP := false
		for i := 2; i < len(body); i++ {
			if body[i] == 'p' || body[i] == 'P' {
				hasP = true
			}
		}
		if !hasP {
			s += "p0"
		}
	}
	f, _, err := big.ParseFloat(s, 0, ldPrec, big.ToNearestEven)
	if err != nil {
		return nil, 0, false
	}
	if f.IsInf() {
		return nil, 0, false
	}
	if f.Sign() != 0 {
		exp := f.MantExp(nil)
		if exp > ldMaxExp || exp < ldMinExp {
			return nil, 0, false // ERANGE: HUGE_VAL or underflow to zero
		}
	}
	return f, 0, true
}

func lowerASCII(s string) string {
	if len(s) > 8 {
		return s
	}
	b := []byte(s)
	for i, ch := range b {
		b[i] = lower(ch)
	}
	return string(b)
}

// strFormatLongDouble formats like Redis's ld2string(LD_STR_HUMAN):
// "%.17Lf" with trailing zeros (and a trailing '.') removed, "-0" → "0".
func strFormatLongDouble(f *big.Float) []byte {
	b := f.Append(make([]byte, 0, 48), 'f', 17)
	for i := range b {
		if b[i] == '.' {
			l := len(b)
			for b[l-1] == '0' {
				l--
			}
			if b[l-1] == '.' {
				l--
			}
			b = b[:l]
			break
		}
	}
	if len(b) == 2 && b[0] == '-' && b[1] == '0' {
		b = b[1:]
	}
	return b
}

func cmdIncrbyfloat(c *Client) {
	key := c.Argv[1]
	s := c.SlotFor(key)
	e := s.Lookup(key, c.Now)
	if e != nil && e.Obj != nil {
		c.W.Error(ErrWrongType)
		return
	}
	value := new(big.Float).SetPrec(ldPrec)
	vinf := 0
	if e != nil {
		v, inf, ok := strParseLongDouble(e.Str)
		if !ok {
			c.W.Error(ErrNotFloat)
			return
		}
		if v != nil {
			value = v
		}
		vinf = inf
	}
	incr, iinf, ok := strParseLongDouble(c.Argv[2])
	if !ok {
		c.W.Error(ErrNotFloat)
		return
	}
	if vinf != 0 || iinf != 0 {
		c.W.Error("ERR increment would produce NaN or Infinity")
		return
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
	if e != nil {
		e.Str = nv
		e.Enc = strEncNoInt
		s.Modified(key)
	} else {
		s.Set(key, &Entry{Str: nv, Enc: strEncNoInt})
	}
	c.Dirty++
	c.W.Bulk(nv)
	c.Propagate = [][]byte{[]byte("SET"), strCopy(key), strCopy(nv), []byte("KEEPTTL")}
}

// strCheckLength is checkStringLength: the resulting size must fit
// proto-max-bulk-len.
func strCheckLength(c *Client, size, add int64) bool {
	total := uint64(size) + uint64(add)
	if int64(total) > c.srv.Config().ProtoMaxBulkLen || int64(total) < size || int64(total) < add {
		c.W.Error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
		return false
	}
	return true
}

func cmdAppend(c *Client) {
	key, val := c.Argv[1], c.Argv[2]
	s := c.SlotFor(key)
	e := s.Lookup(key, c.Now)
	if e == nil {
		strStore(c, s, key, nil, val, 0, false, strEncAuto)
		c.Dirty++
		c.W.Int(int64(len(val)))
		return
	}
	if e.Obj != nil {
		c.W.Error(ErrWrongType)
		return
	}
	if !strCheckLength(c, int64(len(e.Str)), int64(len(val))) {
		return
	}
	e.Str = append(e.Str, val...)
	e.Enc = strEncRaw
	s.Modified(key)
	c.Dirty++
	c.W.Int(int64(len(e.Str)))
}

func cmdStrlen(c *Client) {
	_, e := c.Lookup(c.Argv[1])
	if e == nil {
		c.W.Int(0)
		return
	}
	if e.Obj != nil {
		c.W.Error(ErrWrongType)
		return
	}
	c.W.Int(int64(len(e.Str)))
}

// strGrow returns b extended with zero bytes to at least n bytes.
func strGrow(b []byte, n int) []byte {
	if n <= len(b) {
		return b
	}
	if n <= cap(b) {
		old := len(b)
		b = b[:n]
		clear(b[old:])
		return b
	}
	c := 2 * n // like sdsMakeRoomFor: double below 1 MB, then +1 MB
	if n >= 1<<20 {
		c = n + 1<<20
	}
	nb := make([]byte, n, c)
	copy(nb, b)
	return nb
}

func cmdSetrange(c *Client) {
	key, val := c.Argv[1], c.Argv[3]
	offset, ok := ParseInt(c.Argv[2])
	if !ok {
		c.W.Error(ErrNotInt)
		return
	}
	if offset < 0 {
		c.W.Error("ERR offset is out of range")
		return
	}
	s := c.SlotFor(key)
	e := s.Lookup(key, c.Now)
	if e == nil {
		if len(val) == 0 {
			c.W.Int(0)
			return
		}
		if !strCheckLength(c, offset, int64(len(val))) {
			return
		}
		b := make([]byte, int(offset)+len(val))
		copy(b[offset:], val)
		s.Set(key, &Entry{Str: b, Enc: strEncRaw})
		c.Dirty++
		c.W.Int(int64(len(b)))
		return
	}
	if e.Obj != nil {
		c.W.Error(ErrWrongType)
		return
	}
	if len(val) == 0 {
		c.W.Int(int64(len(e.Str)))
		return
	}
	if !strCheckLength(c, offset, int64(len(val))) {
		return
	}
	e.Str = strGrow(e.Str, int(offset)+len(val))
	copy(e.Str[offset:], val)
	e.Enc = strEncRaw
	s.Modified(key)
	c.Dirty++
	c.W.Int(int64(len(e.Str)))
}

func cmdGetrange(c *Client) {
	start, ok := ParseInt(c.Argv[2])
	if !ok {
		c.W.Error(ErrNotInt)
		return
	}
	end, ok := ParseInt(c.Argv[3])
	if !ok {
		c.W.Error(ErrNotInt)
		return
	}
	_, e := c.Lookup(c.Argv[1])
	if e == nil {
		c.W.BulkString("")
		return
	}
	if e.Obj != nil {
		c.W.Error(ErrWrongType)
		return
	}
	str := e.Str
	n := int64(len(str))
	if start < 0 && end < 0 && start > end {
		c.W.BulkString("")
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	if start < 0 {
		start = 0
	}
	if end < 0 {
		end = 0
	}
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		c.W.BulkString("")
		return
	}
	c.W.Bulk(str[start : end+1])
}

// lookupStrings returns the string values of two keys for LCS (missing =
// empty); ok is false when one holds another type.
func cmdLcs(c *Client) {
	_, ea := c.Lookup(c.Argv[1])
	_, eb := c.Lookup(c.Argv[2])
	if (ea != nil && ea.Obj != nil) || (eb != nil && eb.Obj != nil) {
		c.W.Error("ERR The specified keys must contain string values")
		return
	}
	var a, b []byte
	if ea != nil {
		a = ea.Str
	}
	if eb != nil {
		b = eb.Str
	}
	var getlen, getidx, withmatchlen bool
	var minmatchlen int64
	argv := c.Argv
	for j := 3; j < len(argv); j++ {
		opt := argv[j]
		more := len(argv) - 1 - j
		switch {
		case strArgIs(opt, "idx"):
			getidx = true
		case strArgIs(opt, "len"):
			getlen = true
		case strArgIs(opt, "withmatchlen"):
			withmatchlen = true
		case strArgIs(opt, "minmatchlen") && more > 0:
			n, ok := ParseInt(argv[j+1])
			if !ok {
				c.W.Error(ErrNotInt)
				return
			}
			if n < 0 {
				n = 0
			}
			minmatchlen = n
			j++
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	if getlen && getidx {
		c.W.Error("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	if uint64(len(a)) >= math.MaxUint32-1 || uint64(len(b)) >= math.MaxUint32-1 {
		c.W.Error("ERR String too long for LCS")
		return
	}
	alen, blen := len(a), len(b)
	cells := uint64(alen+1) * uint64(blen+1)
	if cells*4 > uint64(c.srv.Config().ProtoMaxBulkLen) {
		c.W.Error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	lcs := make([]uint32, cells)
	at := func(i, j int) int { return j + i*(blen+1) }
	for i := 1; i <= alen; i++ {
		for j := 1; j <= blen; j++ {
			if a[i-1] == b[j-1] {
				lcs[at(i, j)] = lcs[at(i-1, j-1)] + 1
			} else if l1, l2 := lcs[at(i-1, j)], lcs[at(i, j-1)]; l1 > l2 {
				lcs[at(i, j)] = l1
			} else {
				lcs[at(i, j)] = l2
			}
		}
	}
	idx := int(lcs[at(alen, blen)])
	total := idx
	if getlen && !getidx {
		c.W.Int(int64(total))
		return
	}
	result := make([]byte, idx)
	type match struct{ a0, a1, b0, b1, l int }
	var matches []match
	arangeStart, arangeEnd, brangeStart, brangeEnd := alen, 0, 0, 0
	i, j := alen, blen
	for i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			if arangeStart == alen {
				arangeStart, arangeEnd = i-1, i-1
				brangeStart, brangeEnd = j-1, j-1
			} else if arangeStart == i && brangeStart == j {
				arangeStart--
				brangeStart--
			} else {
				emit = true
			}
			if arangeStart == 0 || brangeStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if lcs[at(i-1, j)] > lcs[at(i, j-1)] {
				i--
			} else {
				j--
			}
			if arangeStart != alen {
				emit = true
			}
		}
		if emit {
			ml := arangeEnd - arangeStart + 1
			if minmatchlen == 0 || int64(ml) >= minmatchlen {
				matches = append(matches, match{arangeStart, arangeEnd, brangeStart, brangeEnd, ml})
			}
			arangeStart = alen
		}
	}
	if !getidx {
		c.W.Bulk(result)
		return
	}
	c.W.Map(2)
	c.W.BulkString("matches")
	c.W.Array(len(matches))
	for _, m := range matches {
		if withmatchlen {
			c.W.Array(3)
		} else {
			c.W.Array(2)
		}
		c.W.Array(2)
		c.W.Int(int64(m.a0))
		c.W.Int(int64(m.a1))
		c.W.Array(2)
		c.W.Int(int64(m.b0))
		c.W.Int(int64(m.b1))
		if withmatchlen {
			c.W.Int(int64(m.l))
		}
	}
	c.W.BulkString("len")
	c.W.Int(int64(total))
}
