package node

import "testing"

func TestBitmapCommands(t *testing.T) {
	e := newStrTestEnv(t)
	e.putObj("lst")
	runCases(t, e, []replyCase{
		{a("SETBIT", "b", "7", "1"), ":0\r\n"},
		{a("GET", "b"), "$1\r\n\x01\r\n"},
		{a("SETBIT", "b", "7", "0"), ":1\r\n"},
		{a("SETBIT", "b", "100", "1"), ":0\r\n"},
		{a("STRLEN", "b"), ":13\r\n"},
		{a("GETBIT", "b", "100"), ":1\r\n"},
		{a("GETBIT", "b", "1000000"), ":0\r\n"},
		{a("GETBIT", "nokey", "1"), ":0\r\n"},
		{a("SETBIT", "b", "-1", "1"), "-ERR bit offset is not an integer or out of range\r\n"},
		{a("SETBIT", "b", "4294967296", "1"), "-ERR bit offset is not an integer or out of range\r\n"},
		{a("SETBIT", "b", "1", "2"), "-ERR bit is not an integer or out of range\r\n"},
		{a("SETBIT", "b", "1", "x"), "-ERR bit is not an integer or out of range\r\n"},
		{a("SETBIT", "lst", "1", "1"), wrongType},
		{a("GETBIT", "lst", "1"), wrongType},
		{a("SET", "bc", "foobar"), "+OK\r\n"},
		{a("BITCOUNT", "bc"), ":26\r\n"},
		{a("BITCOUNT", "bc", "1", "1"), ":6\r\n"},
		{a("BITCOUNT", "bc", "5", "30", "BIT"), ":17\r\n"},
		{a("BITCOUNT", "bc", "-1", "-2"), ":0\r\n"},
		{a("BITCOUNT", "bc", "0"), "-ERR syntax error\r\n"},
		{a("BITCOUNT", "bc", "0", "1", "foo"), "-ERR syntax error\r\n"},
		{a("BITCOUNT", "nokey", "a", "b"), ":0\r\n"},
		{a("BITCOUNT", "bc", "a", "b"), "-ERR value is not an integer or out of range\r\n"},
		{a("BITCOUNT", "lst"), wrongType},
		{a("SET", "bp", "\xff\xf0\x00"), "+OK\r\n"},
		{a("BITPOS", "bp", "0"), ":12\r\n"},
		{a("BITPOS", "bp", "1", "2"), ":-1\r\n"},
		{a("BITPOS", "bp", "0", "0", "0"), ":-1\r\n"},
		{a("BITPOS", "bp", "1", "7", "15", "BIT"), ":7\r\n"},
		{a("BITPOS", "bp", "0", "3", "4", "BIT"), ":-1\r\n"},
		{a("BITPOS", "bp", "2"), "-ERR The bit argument must be 1 or 0.\r\n"},
		{a("BITPOS", "nokey", "1"), ":-1\r\n"},
		{a("BITPOS", "nokey", "0"), ":0\r\n"},
		{a("SET", "ones", "\xff\xff"), "+OK\r\n"},
		{a("BITPOS", "ones", "0"), ":16\r\n"},
		{a("BITPOS", "ones", "0", "0", "-1"), ":-1\r\n"},
		{a("SET", "x1", "foobar"), "+OK\r\n"},
		{a("SET", "x2", "abcdefghij"), "+OK\r\n"},
		{a("BITOP", "AND", "d", "x1", "x2"), ":10\r\n"},
		{a("GET", "d"), "$10\r\n`bc`ab\x00\x00\x00\x00\r\n"},
		{a("BITOP", "OR", "d", "x1", "x2"), ":10\r\n"},
		{a("GET", "d"), "$10\r\ngoofevghij\r\n"},
		{a("BITOP", "XOR", "d", "x1", "x2", "nokey"), ":10\r\n"},
		{a("GET", "d"), "$10\r\n\x07\r\x0c\x06\x04\x14ghij\r\n"},
		{a("BITOP", "NOT", "d", "x1"), ":6\r\n"},
		{a("BITOP", "NOT", "d", "x1", "x2"), "-ERR BITOP NOT must be called with a single source key.\r\n"},
		{a("BITOP", "NAND", "d", "x1"), "-ERR syntax error\r\n"},
		{a("BITOP", "AND", "d", "lst"), wrongType},
		{a("BITOP", "AND", "d", "nokey"), ":0\r\n"},
		{a("EXISTS", "d"), ":0\r\n"},
		{a("BITFIELD", "bf", "SET", "i8", "0", "100", "GET", "i8", "0", "INCRBY", "i8", "0", "100", "GET", "u4", "0"), "*4\r\n:0\r\n:100\r\n:-56\r\n:12\r\n"},
		{a("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-100", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-100", "OVERFLOW", "WRAP", "INCRBY", "i8", "0", "-100"), "*3\r\n:-128\r\n$-1\r\n:28\r\n"},
		{a("BITFIELD", "bf", "SET", "u2", "#3", "3", "GET", "u8", "0"), "*2\r\n:0\r\n:31\r\n"},
		{a("BITFIELD", "bf", "GET", "u64", "0"), "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"},
		{a("BITFIELD", "bf", "GET", "I8", "0"), "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"},
		{a("BITFIELD", "bf", "GET", "i8", "-1"), "-ERR bit offset is not an integer or out of range\r\n"},
		{a("BITFIELD", "bf", "OVERFLOW", "foo"), "-ERR Invalid OVERFLOW type specified\r\n"},
		{a("BITFIELD", "bf", "foo"), "-ERR syntax error\r\n"},
		{a("BITFIELD", "bf", "SET", "i8", "0", "x"), "-ERR value is not an integer or out of range\r\n"},
		{a("BITFIELD", "nokey"), "*0\r\n"},
		{a("BITFIELD", "lst", "GET", "u1", "0"), wrongType},
		{a("BITFIELD_RO", "bf", "GET", "u8", "0"), "*1\r\n:31\r\n"},
		{a("BITFIELD_RO", "bf", "SET", "u8", "0", "1"), "-ERR BITFIELD_RO only supports the GET subcommand\r\n"},
		{a("BITFIELD", "bf", "SET", "i64", "0", "-9223372036854775808", "INCRBY", "i64", "0", "-1", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1"), "*3\r\n:2233785415175766016\r\n:9223372036854775807\r\n:9223372036854775806\r\n"},
	})
}

func TestBitfieldOverflow(t *testing.T) {
	type uc struct {
		v     uint64
		incr  int64
		bits  uint
		ow    int
		dir   int
		limit uint64
	}
	for _, c := range []uc{
		{250, 10, 8, bfWrap, 1, 4}, {250, 10, 8, bfSat, 1, 255}, {5, -10, 8, bfSat, -1, 0}, {5, -10, 8, bfWrap, -1, 251},
		{1<<63 - 1, 1, 63, bfWrap, 1, 0}, {3, 0, 2, bfWrap, 0, 0}, {4, 0, 2, bfWrap, 1, 0}, {9, 0, 3, bfSat, 1, 7},
	} {
		dir, lim := bitCheckUnsignedOverflow(c.v, c.incr, c.bits, c.ow)
		if dir != c.dir || (dir != 0 && lim != c.limit) {
			t.Errorf("unsigned %+v: got %d,%d", c, dir, lim)
		}
	}
	type sc struct {
		v, incr int64
		bits    uint
		ow, dir int
		limit   int64
	}
	for _, c := range []sc{
		{127, 1, 8, bfWrap, 1, -128}, {127, 1, 8, bfSat, 1, 127}, {-128, -1, 8, bfSat, -1, -128}, {-128, -1, 8, bfWrap, -1, 127},
		{1<<63 - 1, 1, 64, bfWrap, 1, -1 << 63}, {-1 << 63, -1, 64, bfSat, -1, -1 << 63}, {4, 0, 3, bfWrap, 1, -4}, {10, 5, 8, bfWrap, 0, 0},
	} {
		dir, lim := bitCheckSignedOverflow(c.v, c.incr, c.bits, c.ow)
		if dir != c.dir || (dir != 0 && lim != c.limit) {
			t.Errorf("signed %+v: got %d,%d", c, dir, lim)
		}
	}
}

func TestBitFirst(t *testing.T) {
	cases := []struct {
		p    string
		bit  bool
		want int64
	}{
		{"\x00\x00", true, -1}, {"\x00\x01", true, 15}, {"\xff\xff", false, 16}, {"\xff\x7f", false, 8},
		{"", false, 0}, {"", true, -1}, {"\x80", true, 0}, {"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10", true, 75},
	}
	for _, c := range cases {
		if got := bitFirst([]byte(c.p), c.bit); got != c.want {
			t.Errorf("bitFirst(%q,%v) = %d, want %d", c.p, c.bit, got, c.want)
		}
	}
}
