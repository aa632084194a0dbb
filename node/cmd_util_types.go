package node

import (
	"math"
	"math/big"
	"strconv"
	"time"
)

func init() {
	StartHooks = append(StartHooks, func(s *Server) error {
		applyTypeLimits(s.Config())
		return nil
	})
}

// applyTypeLimits reads the encoding thresholds of hashes, sets and lists
// from the startup configuration (config file or --options; CONFIG SET at
// runtime is not applied: the limits are plain variables read on every
// write). Values Redis would reject are ignored.
func applyTypeLimits(cfg *Config) {
	get := func(name string, dst *int) {
		if v, ok := cfg.Get(name); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				*dst = n
			}
		}
	}
	get("hash-max-listpack-entries", &HashMaxListpackEntries)
	get("hash-max-listpack-value", &HashMaxListpackValue)
	get("set-max-intset-entries", &SetMaxIntsetEntries)
	get("set-max-listpack-entries", &SetMaxListpackEntries)
	get("set-max-listpack-value", &SetMaxListpackValue)
	if v, ok := cfg.Get("list-max-listpack-size"); ok {
		if n, err := strconv.Atoi(v); err == nil && n >= -5 && n <= -1 {
			listNodeMaxBytes = 4096 << (-n - 1)
		}
	}
}

// Helpers shared by the collection families (hash, list, set, zset):
// Redis's getLongFromObjectOrReply family with its exact error texts, SCAN
// cursor/option parsing, blocking timeouts.

// getLongOrReply parses an integer argument like getLongFromObjectOrReply:
// on failure it replies msg (when non-empty) or "value is not an integer
// or out of range".
func getLongOrReply(c *Client, b []byte, msg string) (int64, bool) {
	v, ok := ParseInt(b)
	if !ok {
		if msg != "" {
			c.W.Error("ERR " + msg)
		} else {
			c.W.Error(ErrNotInt)
		}
		return 0, false
	}
	return v, true
}

// getRangeLongOrReply is getRangeLongFromObjectOrReply (Redis 7.0 texts).
func getRangeLongOrReply(c *Client, b []byte, min, max int64, msg string) (int64, bool) {
	v, ok := getLongOrReply(c, b, msg)
	if !ok {
		return 0, false
	}
	if v < min || v > max {
		if msg != "" {
			c.W.Error("ERR " + msg)
		} else {
			c.W.Error("ERR value is out of range, value must between " + strconv.FormatInt(min, 10) + " and " + strconv.FormatInt(max, 10))
		}
		return 0, false
	}
	return v, true
}

// getPositiveLongOrReply is getPositiveLongFromObjectOrReply: 0..LONG_MAX,
// any failure answered with msg (default "value is out of range, must be
// positive", which Redis also uses for non-integers).
func getPositiveLongOrReply(c *Client, b []byte, msg string) (int64, bool) {
	if msg == "" {
		msg = "value is out of range, must be positive"
	}
	return getRangeLongOrReply(c, b, 0, math.MaxInt64, msg)
}

// parseScanCursor parses a SCAN cursor like Redis's strtoul-based
// parseScanCursorOrReply ("ERR invalid cursor").
func parseScanCursor(c *Client, b []byte) (uint64, bool) {
	i := 0
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		i = 1
	}
	if i == 1 && len(b) == 1 { // a lone sign: strtoul parses nothing
		c.W.Error("ERR invalid cursor")
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		ch := b[i]
		if ch < '0' || ch > '9' {
			c.W.Error("ERR invalid cursor")
			return 0, false
		}
		if v > (math.MaxUint64-uint64(ch-'0'))/10 {
			c.W.Error("ERR invalid cursor")
			return 0, false
		}
		v = v*10 + uint64(ch-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// scanOpts are the options of HSCAN/SSCAN/ZSCAN.
type scanOpts struct {
	count   int
	pattern []byte // nil: match everything
}

// parseScanOpts parses [MATCH pattern] [COUNT count] from argv[i:] like
// scanGenericCommand does for a key's collection (no TYPE option).
func parseScanOpts(c *Client, i int) (scanOpts, bool) {
	o := scanOpts{count: 10}
	argv := c.Argv
	for i < len(argv) {
		more := len(argv) - i
		switch {
		case more >= 2 && eqFold(argv[i], "count"):
			n, ok := getLongOrReply(c, argv[i+1], "")
			if !ok {
				return o, false
			}
			if n < 1 {
				c.W.Error(ErrSyntax)
				return o, false
			}
			if n > math.MaxInt32 {
				n = math.MaxInt32
			}
			o.count = int(n)
			i += 2
		case more >= 2 && eqFold(argv[i], "match"):
			p := argv[i+1]
			if len(p) == 1 && p[0] == '*' {
				o.pattern = nil
			} else {
				o.pattern = p
			}
			i += 2
		default:
			c.W.Error(ErrSyntax)
			return o, false
		}
	}
	return o, true
}

// match reports whether s matches the scan pattern.
func (o *scanOpts) match(s []byte) bool {
	return o.pattern == nil || globMatchBytes(o.pattern, s, false, 0)
}

// writeScanReply writes [cursor, [elems...]].
func writeScanReply(c *Client, cursor uint64, elems [][]byte) {
	c.W.Array(2)
	var tmp [24]byte
	c.W.Bulk(strconv.AppendUint(tmp[:0], cursor, 10))
	c.W.Array(len(elems))
	for _, e := range elems {
		c.W.Bulk(e)
	}
}

// emptyScan is the reply to a scan of a missing key.
func writeEmptyScan(c *Client) {
	c.W.B = append(c.W.B, "*2\r\n$1\r\n0\r\n*0\r\n"...)
}

// eqFold compares an argument with a lower-case ASCII word.
func eqFold(b []byte, word string) bool {
	if len(b) != len(word) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if lower(b[i]) != word[i] {
			return false
		}
	}
	return true
}

// parseTimeout parses a blocking timeout in seconds like Redis 7.0's
// getTimeoutFromObjectOrReply(UNIT_SECONDS): a long double, times 1000,
// rounded up to whole milliseconds. 0 means forever (returned as 0).
func parseTimeout(c *Client, b []byte) (time.Duration, bool) {
	if n, ok := ParseInt(b); ok { // fast path: whole seconds
		if n < 0 {
			c.W.Error("ERR timeout is negative")
			return 0, false
		}
		if n > math.MaxInt64/1000 {
			c.W.Error("ERR timeout is negative") // (long long) overflow, as Redis
			return 0, false
		}
		return msDuration(n * 1000), true
	}
	f, inf, ok := strParseLongDouble(b)
	if !ok {
		c.W.Error("ERR timeout is not a float or out of range")
		return 0, false
	}
	if inf != 0 {
		c.W.Error("ERR timeout is negative")
		return 0, false
	}
	ms := new(big.Float).SetPrec(ldPrec).SetMode(big.ToNearestEven)
	ms.Mul(f, big.NewFloat(1000))
	// ceill, then (long long): out of range becomes LLONG_MIN on x86.
	i, acc := ms.Int(nil)
	if acc == big.Below && ms.Sign() > 0 {
		i.Add(i, big.NewInt(1))
	}
	if !i.IsInt64() || i.Int64() < 0 {
		c.W.Error("ERR timeout is negative")
		return 0, false
	}
	return msDuration(i.Int64()), true
}

// msDuration converts ms to a Duration; values that do not fit (hundreds of
// years) block forever (0), which is what such a timeout amounts to.
func msDuration(ms int64) time.Duration {
	if ms > math.MaxInt64/int64(time.Millisecond) {
		return 0
	}
	return time.Duration(ms) * time.Millisecond
}

// copyArgs copies arguments for c.Propagate.
func copyArgs(args ...[]byte) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = append([]byte(nil), a...)
	}
	return out
}
