package node

// Bitmap commands on string values (Redis 7.0 bitops.c): SETBIT, GETBIT,
// BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO. Bit 0 is the most
// significant bit of the first byte.

import (
	"encoding/binary"
	"math"
	"math/bits"
)

func init() {
	bm := func(cmd *Command) *Command {
		cmd.Group = "bitmap"
		cmd.ACL = []string{"@bitmap"}
		return cmd
	}
	register(
		bm(&Command{Name: "setbit", Arity: 4, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Since: "2.2.0", Summary: "Sets or clears the bit at offset in the string value stored at key", Complexity: "O(1)", Proc: cmdSetbit}),
		bm(&Command{Name: "getbit", Arity: 3, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Since: "2.2.0", Summary: "Returns the bit value at offset in the string value stored at key", Complexity: "O(1)", Proc: cmdGetbit}),
		bm(&Command{Name: "bitcount", Arity: -2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Since: "2.6.0", Summary: "Count set bits in a string", Complexity: "O(N)", Proc: cmdBitcount}),
		bm(&Command{Name: "bitpos", Arity: -3, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Since: "2.8.7", Summary: "Find first bit set or clear in a string", Complexity: "O(N)", Proc: cmdBitpos}),
		bm(&Command{Name: "bitop", Arity: -4, Flags: FlagWrite | FlagDenyOOM, First: 2, Last: -1, Step: 1, Since: "2.6.0", Summary: "Perform bitwise operations between strings", Complexity: "O(N)", Proc: cmdBitop}),
		bm(&Command{Name: "bitfield", Arity: -2, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Since: "3.2.0", Summary: "Perform arbitrary bitfield integer operations on strings", Complexity: "O(1) for each subcommand specified", Proc: func(c *Client) { bitfieldGeneric(c, false) }}),
		bm(&Command{Name: "bitfield_ro", Arity: -2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Since: "6.0.0", Summary: "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD", Complexity: "O(1) for each subcommand specified", Proc: func(c *Client) { bitfieldGeneric(c, true) }}),
	)
}

const bitOffsetErr = "ERR bit offset is not an integer or out of range"

// bitOffsetArg is getBitOffsetFromArgument: a bit offset below
// proto-max-bulk-len bytes; with hash, "#N" means N*bits.
func bitOffsetArg(c *Client, arg []byte, hash bool, nbits int) (uint64, bool) {
	usehash := hash && nbits > 0 && len(arg) > 0 && arg[0] == '#'
	if usehash {
		arg = arg[1:]
	}
	off, ok := ParseInt(arg)
	if !ok {
		c.W.Error(bitOffsetErr)
		return 0, false
	}
	if usehash {
		off *= int64(nbits) // wraps like C; negative results are refused below
	}
	if off < 0 || (off>>3) >= c.srv.Config().ProtoMaxBulkLen {
		c.W.Error(bitOffsetErr)
		return 0, false
	}
	return uint64(off), true
}

// bitLookupForWrite is lookupStringForBitCommand: the key's string grown
// with zero bytes so that bit maxbit exists (a new key is created). The
// value becomes "raw". It returns nil after a WRONGTYPE reply.
func bitLookupForWrite(c *Client, maxbit uint64) *Entry {
	key := c.Argv[1]
	s := c.SlotFor(key)
	e := s.Lookup(key, c.Now)
	n := int(maxbit>>3) + 1
	if e == nil {
		return s.Set(key, &Entry{Str: make([]byte, n), Enc: strEncRaw})
	}
	if e.Obj != nil {
		c.W.Error(ErrWrongType)
		return nil
	}
	e.Str = strGrow(e.Str, n)
	e.Enc = strEncRaw
	return e
}

func cmdSetbit(c *Client) {
	const bitErr = "ERR bit is not an integer or out of range"
	off, ok := bitOffsetArg(c, c.Argv[2], false, 0)
	if !ok {
		return
	}
	on, ok := ParseInt(c.Argv[3])
	if !ok || on&^1 != 0 {
		c.W.Error(bitErr)
		return
	}
	e := bitLookupForWrite(c, off)
	if e == nil {
		return
	}
	byteIdx := off >> 3
	bit := 7 - (off & 7)
	old := e.Str[byteIdx] & (1 << bit)
	e.Str[byteIdx] = e.Str[byteIdx]&^(1<<bit) | byte(on)<<bit
	c.SlotFor(c.Argv[1]).Modified(c.Argv[1])
	c.Dirty++
	if old != 0 {
		c.W.Int(1)
	} else {
		c.W.Int(0)
	}
}

func cmdGetbit(c *Client) {
	off, ok := bitOffsetArg(c, c.Argv[2], false, 0)
	if !ok {
		return
	}
	_, e := c.Lookup(c.Argv[1])
	if e == nil {
		c.W.Int(0)
		return
	}
	if e.Obj != nil {
		c.W.Error(ErrWrongType)
		return
	}
	byteIdx := off >> 3
	if byteIdx < uint64(len(e.Str)) && e.Str[byteIdx]&(1<<(7-(off&7))) != 0 {
		c.W.Int(1)
		return
	}
	c.W.Int(0)
}

// bitPopcount counts set bits.
func bitPopcount(p []byte) int64 {
	var n int
	for len(p) >= 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(p))
		p = p[8:]
	}
	for _, b := range p {
		n += bits.OnesCount8(b)
	}
	return int64(n)
}

// bitRange converts BITCOUNT/BITPOS start/end (bytes or bits) into a byte
// range [start,end] plus masks of the out-of-range bits of the first and
// last bytes (bitops.c logic). end < start means empty.
func bitRange(start, end, strlen int64, isbit bool) (int64, int64, byte, byte) {
	totlen := strlen
	if isbit {
		totlen <<= 3
	}
	if start < 0 {
		start += totlen
	}
	if end < 0 {
		end += totlen
	}
	if start < 0 {
		start = 0
	}
	if end < 0 {
		end = 0
	}
	if end >= totlen {
		end = totlen - 1
	}
	var firstMask, lastMask byte
	if isbit && start <= end {
		firstMask = ^byte((1 << (8 - (start & 7))) - 1)
		lastMask = byte((1 << (7 - (end & 7))) - 1)
		start >>= 3
		end >>= 3
	}
	return start, end, firstMask, lastMask
}

// bitUnitArg parses the optional BIT|BYTE argument.
func bitUnitArg(c *Client, arg []byte) (isbit, ok bool) {
	switch {
	case strArgIs(arg, "bit"):
		return true, true
	case strArgIs(arg, "byte"):
		return false, true
	}
	c.W.Error(ErrSyntax)
	return false, false
}

func cmdBitcount(c *Client) {
	_, e := c.Lookup(c.Argv[1])
	if e == nil {
		c.W.Int(0)
		return
	}
	if e.Obj != nil {
		c.W.Error(ErrWrongType)
		return
	}
	p := e.Str
	strlen := int64(len(p))
	var start, end int64
	var firstMask, lastMask byte
	switch len(c.Argv) {
	case 4, 5:
		var ok bool
		if start, ok = ParseInt(c.Argv[2]); !ok {
			c.W.Error(ErrNotInt)
			return
		}
		if end, ok = ParseInt(c.Argv[3]); !ok {
			c.W.Error(ErrNotInt)
			return
		}
		if start < 0 && end < 0 && start > end {
			c.W.Int(0)
			return
		}
		isbit := false
		if len(c.Argv) == 5 {
			if isbit, ok = bitUnitArg(c, c.Argv[4]); !ok {
				return
			}
		}
		start, end, firstMask, lastMask = bitRange(start, end, strlen, isbit)
	case 2:
		start, end = 0, strlen-1
	default:
		c.W.Error(ErrSyntax)
		return
	}
	if start > end {
		c.W.Int(0)
		return
	}
	count := bitPopcount(p[start : end+1])
	if firstMask != 0 {
		count -= int64(bits.OnesCount8(p[start] & firstMask))
	}
	if lastMask != 0 {
		count -= int64(bits.OnesCount8(p[end] & lastMask))
	}
	c.W.Int(count)
}

// bitFirst is redisBitpos: the position of the first bit equal to bit in
// p. Looking for 0 in all-ones returns len*8 (zero padding on the right);
// looking for 1 in all-zeros returns -1.
func bitFirst(p []byte, bit bool) int64 {
	skip := byte(0)
	if !bit {
		skip = 0xff
	}
	for i, b := range p {
		if b != skip {
			if bit {
				return int64(i)*8 + int64(bits.LeadingZeros8(b))
			}
			return int64(i)*8 + int64(bits.LeadingZeros8(^b))
		}
	}
	if bit {
		return -1
	}
	return int64(len(p)) * 8
}

func cmdBitpos(c *Client) {
	b, ok := ParseInt(c.Argv[2])
	if !ok {
		c.W.Error(ErrNotInt)
		return
	}
	if b != 0 && b != 1 {
		c.W.Error("ERR The bit argument must be 1 or 0.")
		return
	}
	bit := b == 1
	_, e := c.Lookup(c.Argv[1])
	if e == nil {
		if bit {
			c.W.Int(-1)
		} else {
			c.W.Int(0)
		}
		return
	}
	if e.Obj != nil {
		c.W.Error(ErrWrongType)
		return
	}
	p := e.Str
	strlen := int64(len(p))
	var start, end int64
	var firstMask, lastMask byte
	endGiven := false
	switch len(c.Argv) {
	case 4, 5, 6:
		if start, ok = ParseInt(c.Argv[3]); !ok {
			c.W.Error(ErrNotInt)
			return
		}
		isbit := false
		if len(c.Argv) == 6 {
			if isbit, ok = bitUnitArg(c, c.Argv[5]); !ok {
				return
			}
		}
		if len(c.Argv) >= 5 {
			if end, ok = ParseInt(c.Argv[4]); !ok {
				c.W.Error(ErrNotInt)
				return
			}
			endGiven = true
		} else if isbit {
			end = strlen<<3 + 7
		} else {
			end = strlen - 1
		}
		start, end, firstMask, lastMask = bitRange(start, end, strlen, isbit)
	case 3:
		start, end = 0, strlen-1
	default:
		c.W.Error(ErrSyntax)
		return
	}
	if start > end {
		c.W.Int(-1)
		return
	}
	nbytes := end - start + 1
	var pos int64
	var tmp [1]byte
	done := false
	if firstMask != 0 {
		if bit {
			tmp[0] = p[start] &^ firstMask
		} else {
			tmp[0] = p[start] | firstMask
		}
		if lastMask != 0 && nbytes == 1 {
			if bit {
				tmp[0] &^= lastMask
			} else {
				tmp[0] |= lastMask
			}
		}
		pos = bitFirst(tmp[:], bit)
		if nbytes == 1 || (pos != -1 && pos != 8) {
			done = true
		} else {
			start++
			nbytes--
		}
	}
	if !done {
		cur := nbytes
		if lastMask != 0 {
			cur--
		}
		if cur > 0 {
			pos = bitFirst(p[start:start+cur], bit)
			if nbytes == cur || (pos != -1 && pos != cur<<3) {
				done = true
			} else {
				start += cur
				nbytes -= cur
			}
		}
	}
	if !done {
		if bit {
			tmp[0] = p[end] &^ lastMask
		} else {
			tmp[0] = p[end] | lastMask
		}
		pos = bitFirst(tmp[:], bit)
	}
	if endGiven && !bit && pos == nbytes<<3 {
		c.W.Int(-1)
		return
	}
	if pos != -1 {
		pos += start << 3
	}
	c.W.Int(pos)
}

func cmdBitop(c *Client) {
	const (
		opAnd = iota
		opOr
		opXor
		opNot
	)
	var op int
	switch name := c.Argv[1]; {
	case strArgIs(name, "and"):
		op = opAnd
	case strArgIs(name, "or"):
		op = opOr
	case strArgIs(name, "xor"):
		op = opXor
	case strArgIs(name, "not"):
		op = opNot
	default:
		c.W.Error(ErrSyntax)
		return
	}
	if op == opNot && len(c.Argv) != 4 {
		c.W.Error("ERR BITOP NOT must be called with a single source key.")
		return
	}
	srcKeys := c.Argv[3:]
	srcs := make([][]byte, len(srcKeys))
	maxlen := 0
	for i, k := range srcKeys {
		_, e := c.Lookup(k)
		if e == nil {
			continue
		}
		if e.Obj != nil {
			c.W.Error(ErrWrongType)
			return
		}
		srcs[i] = e.Str
		if len(e.Str) > maxlen {
			maxlen = len(e.Str)
		}
	}
	target := c.Argv[2]
	ts := c.SlotFor(target)
	if maxlen == 0 {
		if ts.Lookup(target, c.Now) != nil {
			ts.Delete(target, c.Now)
			c.Dirty++
		}
		c.W.Int(0)
		return
	}
	res := make([]byte, maxlen)
	if op == opNot {
		for i, b := range srcs[0] {
			res[i] = ^b
		}
		for i := len(srcs[0]); i < maxlen; i++ {
			res[i] = 0xff
		}
	} else {
		copy(res, srcs[0]) // missing tail bytes count as zero
		for _, src := range srcs[1:] {
			switch op {
			case opAnd:
				for i := range res {
					if i < len(src) {
						res[i] &= src[i]
					} else {
						res[i] = 0
					}
				}
			case opOr:
				for i, b := range src {
					res[i] |= b
				}
			case opXor:
				for i, b := range src {
					res[i] ^= b
				}
			}
		}
	}
	strStoreOwned(c, ts, target, res, strEncRaw)
	c.Dirty++
	c.W.Int(int64(maxlen))
}

// strStoreOwned stores buf (not copied) as key's string, removing any TTL.
func strStoreOwned(c *Client, s *Slot, key []byte, buf []byte, enc uint8) {
	e := s.Lookup(key, c.Now)
	if e == nil {
		s.Set(key, &Entry{Str: buf, Enc: enc})
		return
	}
	e.Obj = nil
	e.Str = buf
	e.Enc = enc
	if e.Exp != 0 {
		s.SetExpire(e, 0)
	}
	s.Modified(key)
}

// BITFIELD.

const (
	bfWrap = iota
	bfSat
	bfFail
)

const (
	bfGet = iota
	bfSet
	bfIncrby
)

type bitfieldOp struct {
	offset uint64
	i64    int64
	opcode int
	owtype int
	bits   uint
	sign   bool
}

func bitGetUnsigned(p []byte, offset uint64, nbits uint) uint64 {
	var v uint64
	for j := uint(0); j < nbits; j++ {
		byteIdx := offset >> 3
		bit := 7 - (offset & 7)
		var b uint64
		if byteIdx < uint64(len(p)) {
			b = uint64(p[byteIdx]>>bit) & 1
		}
		v = v<<1 | b
		offset++
	}
	return v
}

func bitGetSigned(p []byte, offset uint64, nbits uint) int64 {
	v := int64(bitGetUnsigned(p, offset, nbits))
	if nbits < 64 && v&(1<<(nbits-1)) != 0 {
		v |= -1 << nbits
	}
	return v
}

func bitSetUnsigned(p []byte, offset uint64, nbits uint, value uint64) {
	for j := uint(0); j < nbits; j++ {
		bv := byte(value>>(nbits-1-j)) & 1
		byteIdx := offset >> 3
		bit := 7 - (offset & 7)
		p[byteIdx] = p[byteIdx]&^(1<<bit) | bv<<bit
		offset++
	}
}

// bitCheckUnsignedOverflow is checkUnsignedBitfieldOverflow.
func bitCheckUnsignedOverflow(value uint64, incr int64, nbits uint, owtype int) (int, uint64) {
	max := uint64(math.MaxUint64)
	if nbits != 64 {
		max = 1<<nbits - 1
	}
	maxincr := int64(max - value)
	minincr := -int64(value)
	wrap := func() uint64 {
		res := value + uint64(incr)
		if nbits < 64 {
			res &= ^(uint64(math.MaxUint64) << nbits)
		}
		return res
	}
	if value > max || (incr > 0 && incr > maxincr) {
		switch owtype {
		case bfWrap:
			return 1, wrap()
		case bfSat:
			return 1, max
		}
		return 1, 0
	} else if incr < 0 && incr < minincr {
		switch owtype {
		case bfWrap:
			return -1, wrap()
		case bfSat:
			return -1, 0
		}
		return -1, 0
	}
	return 0, 0
}

// bitCheckSignedOverflow is checkSignedBitfieldOverflow.
func bitCheckSignedOverflow(value, incr int64, nbits uint, owtype int) (int, int64) {
	max := int64(math.MaxInt64)
	if nbits != 64 {
		max = 1<<(nbits-1) - 1
	}
	min := -max - 1
	maxincr := int64(uint64(max) - uint64(value))
	minincr := min - value
	wrap := func() int64 {
		c := uint64(value) + uint64(incr)
		if nbits < 64 {
			mask := uint64(math.MaxUint64) << nbits
			if c&(1<<(nbits-1)) != 0 {
				c |= mask
			} else {
				c &^= mask
			}
		}
		return int64(c)
	}
	if value > max || (nbits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
		switch owtype {
		case bfWrap:
			return 1, wrap()
		case bfSat:
			return 1, max
		}
		return 1, 0
	} else if value < min || (nbits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr) {
		switch owtype {
		case bfWrap:
			return -1, wrap()
		case bfSat:
			return -1, min
		}
		return -1, 0
	}
	return 0, 0
}

// bitfieldTypeArg is getBitfieldTypeFromArgument: i1..i64 or u1..u63.
func bitfieldTypeArg(c *Client, arg []byte) (sign bool, nbits uint, ok bool) {
	const errType = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
	if len(arg) == 0 || (arg[0] != 'i' && arg[0] != 'u') {
		c.W.Error(errType)
		return false, 0, false
	}
	sign = arg[0] == 'i'
	n, ok := ParseInt(arg[1:])
	if !ok || n < 1 || (sign && n > 64) || (!sign && n > 63) {
		c.W.Error(errType)
		return false, 0, false
	}
	return sign, uint(n), true
}

func bitfieldGeneric(c *Client, roCmd bool) {
	argv := c.Argv
	var opsBuf [8]bitfieldOp
	ops := opsBuf[:0]
	owtype := bfWrap
	readonly := true
	var highest uint64
	for j := 2; j < len(argv); j++ {
		rem := len(argv) - j - 1
		sub := argv[j]
		var opcode int
		switch {
		case strArgIs(sub, "get") && rem >= 2:
			opcode = bfGet
		case strArgIs(sub, "set") && rem >= 3:
			opcode = bfSet
		case strArgIs(sub, "incrby") && rem >= 3:
			opcode = bfIncrby
		case strArgIs(sub, "overflow") && rem >= 1:
			j++
			switch t := argv[j]; {
			case strArgIs(t, "wrap"):
				owtype = bfWrap
			case strArgIs(t, "sat"):
				owtype = bfSat
			case strArgIs(t, "fail"):
				owtype = bfFail
			default:
				c.W.Error("ERR Invalid OVERFLOW type specified")
				return
			}
			continue
		default:
			c.W.Error(ErrSyntax)
			return
		}
		sign, nbits, ok := bitfieldTypeArg(c, argv[j+1])
		if !ok {
			return
		}
		off, ok := bitOffsetArg(c, argv[j+2], true, int(nbits))
		if !ok {
			return
		}
		var i64 int64
		if opcode != bfGet {
			readonly = false
			if highest < off+uint64(nbits)-1 {
				highest = off + uint64(nbits) - 1
			}
			if i64, ok = ParseInt(argv[j+3]); !ok {
				c.W.Error(ErrNotInt)
				return
			}
		}
		ops = append(ops, bitfieldOp{offset: off, i64: i64, opcode: opcode, owtype: owtype, bits: nbits, sign: sign})
		if opcode == bfGet {
			j += 2
		} else {
			j += 3
		}
	}
	var e *Entry
	if readonly {
		_, e = c.Lookup(argv[1])
		if e != nil && e.Obj != nil {
			c.W.Error(ErrWrongType)
			return
		}
	} else {
		if roCmd {
			c.W.Error("ERR BITFIELD_RO only supports the GET subcommand")
			return
		}
		if e = bitLookupForWrite(c, highest); e == nil {
			return
		}
	}
	c.W.Array(len(ops))
	changes := 0
	for _, op := range ops {
		if op.opcode == bfGet {
			var p []byte
			if e != nil {
				p = e.Str
			}
			if op.sign {
				c.W.Int(bitGetSigned(p, op.offset, op.bits))
			} else {
				c.W.Int(int64(bitGetUnsigned(p, op.offset, op.bits)))
			}
			continue
		}
		if op.sign {
			oldval := bitGetSigned(e.Str, op.offset, op.bits)
			var newval, retval int64
			var overflow int
			var wrapped int64
			if op.opcode == bfIncrby {
				overflow, wrapped = bitCheckSignedOverflow(oldval, op.i64, op.bits, op.owtype)
				if overflow != 0 {
					newval = wrapped
				} else {
					newval = oldval + op.i64
				}
				retval = newval
			} else {
				newval = op.i64
				overflow, wrapped = bitCheckSignedOverflow(newval, 0, op.bits, op.owtype)
				if overflow != 0 {
					newval = wrapped
				}
				retval = oldval
			}
			if !(overflow != 0 && op.owtype == bfFail) {
				c.W.Int(retval)
				bitSetUnsigned(e.Str, op.offset, op.bits, uint64(newval))
			} else {
				c.W.Null()
			}
		} else {
			oldval := bitGetUnsigned(e.Str, op.offset, op.bits)
			var newval, retval uint64
			var overflow int
			var wrapped uint64
			if op.opcode == bfIncrby {
				newval = oldval + uint64(op.i64)
				overflow, wrapped = bitCheckUnsignedOverflow(oldval, op.i64, op.bits, op.owtype)
				if overflow != 0 {
					newval = wrapped
				}
				retval = newval
			} else {
				newval = uint64(op.i64)
				overflow, wrapped = bitCheckUnsignedOverflow(newval, 0, op.bits, op.owtype)
				if overflow != 0 {
					newval = wrapped
				}
				retval = oldval
			}
			if !(overflow != 0 && op.owtype == bfFail) {
				c.W.Int(int64(retval))
				bitSetUnsigned(e.Str, op.offset, op.bits, newval)
			} else {
				c.W.Null()
			}
		}
		changes++
	}
	if changes > 0 {
		c.SlotFor(argv[1]).Modified(argv[1])
		c.Dirty += changes
	}
}
