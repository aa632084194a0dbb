package integration

// Sorted set commands: byte-exact differential tests against redis-server 7
// (RESP2 and RESP3, fixed steps and a seeded random workload), go-redis
// tables for every command, blocking pops across connections, ZSCAN under
// churn, redis-cli output and a leaderboard scenario.

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// zsetSteps covers every sorted set command, normal and error cases. p
// prefixes keys (a hash tag keeps multi-key commands in one slot).
func zsetSteps(p string) []Step {
	k := func(n string) string { return "{" + p + "}" + n }
	steps := []Step{
		// ZADD options, replies and errors
		S("ZADD", k("z"), "1", "a", "2", "b", "3", "c"), S("ZADD", k("z"), "1", "a"), S("ZADD", k("z"), "CH", "5", "a"),
		S("ZADD", k("z"), "NX", "9", "a", "4", "d"), S("ZADD", k("z"), "XX", "CH", "9", "a", "4", "e"), S("ZADD", k("z"), "GT", "CH", "1", "a"),
		S("ZADD", k("z"), "LT", "CH", "1", "a"), S("ZADD", k("z"), "XX", "GT", "CH", "7", "a"), S("ZADD", k("z"), "INCR", "2.5", "a"),
		S("ZADD", k("z"), "XX", "INCR", "1", "nope"), S("ZADD", k("z"), "NX", "INCR", "1", "a"), S("ZADD", k("z"), "GT", "INCR", "-1", "a"),
		S("ZADD", k("z"), "LT", "INCR", "-1", "a"), S("ZADD", k("z"), "nx", "xx", "1", "a"), S("ZADD", k("z"), "gt", "lt", "1", "a"),
		S("ZADD", k("z"), "nx", "gt", "1", "a"), S("ZADD", k("z"), "nx", "lt", "1", "a"), S("ZADD", k("z"), "incr", "1", "a", "2", "b"),
		S("ZADD", k("z"), "1"), S("ZADD", k("z"), "nx"), S("ZADD", k("z"), "xx", "1", "a", "nx", "2", "b"), S("ZADD", k("z"), "1", "a", "2"),
		S("ZADD", k("z"), "x", "a"), S("ZADD", k("z"), "1e400", "a"), S("ZADD", k("z"), "1e-400", "a"), S("ZADD", k("z"), " 1", "a"),
		S("ZADD", k("z"), "nan", "a"), S("ZADD", k("z"), "", "a"), S("ZADD", k("z"), "1", "a", "nan", "b"), S("ZSCORE", k("z"), "b"),
		S("ZADD", k("new"), "XX", "1", "a"), S("EXISTS", k("new")), S("ZADD", k("new"), "GT", "1", "a"), S("ZADD", k("new"), "NX", "INCR", "5", "b"),
		S("ZADD", k("f"), "0x10", "hex", "1e-310", "tiny", "+5", "plus", ".5", "half", "5.", "dot", "-0", "negzero", "inf", "pinf", "-inf", "ninf",
			"0.1", "tenth", "1e20", "big", "123456789012345678", "huge", "1.5e-7", "small"),
		S("ZRANGE", k("f"), "0", "-1", "WITHSCORES"), S("ZSCORE", k("f"), "tenth"), S("ZSCORE", k("f"), "negzero"), S("ZSCORE", k("f"), "ninf"),
		S("ZINCRBY", k("f"), "0.2", "tenth"), S("ZINCRBY", k("f"), "-inf", "pinf"), S("ZINCRBY", k("f"), "1", "pinf"), S("ZINCRBY", k("f"), "abc", "x"),
		S("ZINCRBY", k("f"), "nx", "x"), S("ZINCRBY", k("f"), "5", "fresh"), S("ZADD", k("f"), "INCR", "-inf", "pinf"),
		// point reads
		S("ZCARD", k("z")), S("ZCARD", k("none")), S("ZSCORE", k("z"), "a"), S("ZSCORE", k("z"), "x"), S("ZSCORE", k("none"), "x"),
		S("ZMSCORE", k("z"), "a", "x", "b"), S("ZMSCORE", k("none"), "a", "b"), S("ZMSCORE", k("z")),
		S("ZRANK", k("z"), "a"), S("ZRANK", k("z"), "b"), S("ZRANK", k("z"), "x"), S("ZRANK", k("none"), "x"),
		S("ZREVRANK", k("z"), "a"), S("ZREVRANK", k("z"), "b"), S("ZREVRANK", k("none"), "x"), S("ZRANK", k("z"), "a", "WITHSCORE"),
		S("ZCOUNT", k("z"), "-inf", "+inf"), S("ZCOUNT", k("z"), "(1", "3"), S("ZCOUNT", k("z"), "(3", "(3"), S("ZCOUNT", k("z"), "3", "1"),
		S("ZCOUNT", k("z"), "a", "3"), S("ZCOUNT", k("z"), "1", "(x"), S("ZCOUNT", k("z"), "", ""), S("ZCOUNT", k("z"), " 1", "("),
		S("ZCOUNT", k("z"), "1 ", "2"), S("ZCOUNT", k("none"), "0", "1"), S("ZCOUNT", k("none"), "x", "1"),
		// ranges by rank
		S("ZRANGE", k("z"), "0", "-1"), S("ZRANGE", k("z"), "0", "-1", "WITHSCORES"), S("ZRANGE", k("z"), "-2", "-1"), S("ZRANGE", k("z"), "5", "10"),
		S("ZRANGE", k("z"), "2", "1"), S("ZRANGE", k("z"), "-100", "100"), S("ZRANGE", k("z"), "0", "-1", "REV", "WITHSCORES"),
		S("ZRANGE", k("z"), "a", "1"), S("ZRANGE", k("z"), "0", "1", "LIMIT", "0", "1"), S("ZRANGE", k("z"), "0", "1", "LIMIT", "0", "-1"),
		S("ZRANGE", k("z"), "0", "1", "REV", "REV"), S("ZRANGE", k("z"), "0", "1", "BYSCORE", "BYLEX"), S("ZRANGE", k("z"), "0", "1", "FOO"),
		S("ZRANGE", k("none"), "0", "-1"), S("ZRANGE", k("none"), "a", "b"),
		S("ZREVRANGE", k("z"), "0", "1"), S("ZREVRANGE", k("z"), "0", "-1", "WITHSCORES"), S("ZREVRANGE", k("z"), "0", "1", "REV"),
		S("ZREVRANGE", k("z"), "0", "1", "BYSCORE"),
		// ranges by score
		S("ZRANGE", k("z"), "-inf", "+inf", "BYSCORE"), S("ZRANGE", k("z"), "(1", "3", "BYSCORE", "WITHSCORES"),
		S("ZRANGE", k("z"), "+inf", "-inf", "BYSCORE", "REV"), S("ZRANGE", k("z"), "3", "(1", "BYSCORE", "REV", "LIMIT", "0", "1"),
		S("ZRANGE", k("z"), "-inf", "+inf", "BYSCORE", "LIMIT", "1", "2"), S("ZRANGE", k("z"), "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "2"),
		S("ZRANGE", k("z"), "-inf", "+inf", "BYSCORE", "LIMIT", "1", "-1"), S("ZRANGE", k("z"), "-inf", "+inf", "BYSCORE", "LIMIT", "100", "1"),
		S("ZRANGE", k("z"), "-inf", "+inf", "BYSCORE", "LIMIT", "1"), S("ZRANGE", k("z"), "-inf", "+inf", "BYSCORE", "LIMIT", "x", "1"),
		S("ZRANGE", k("z"), "x", "1", "BYSCORE"),
		S("ZRANGEBYSCORE", k("z"), "-inf", "+inf"), S("ZRANGEBYSCORE", k("z"), "-inf", "+inf", "WITHSCORES", "LIMIT", "1", "1"),
		S("ZRANGEBYSCORE", k("z"), "(1", "(4"), S("ZRANGEBYSCORE", k("z"), "0", "1", "BYSCORE"), S("ZRANGEBYSCORE", k("z"), "0", "1", "REV"),
		S("ZRANGEBYSCORE", k("z"), "0", "1", "LIMIT", "0"), S("ZRANGEBYSCORE", k("none"), "0", "1"),
		S("ZREVRANGEBYSCORE", k("z"), "+inf", "-inf"), S("ZREVRANGEBYSCORE", k("z"), "+inf", "-inf", "WITHSCORES", "LIMIT", "0", "2"),
		S("ZREVRANGEBYSCORE", k("z"), "-inf", "+inf"), S("ZREVRANGEBYSCORE", k("z"), "(4", "(1"),
		// lex
		S("ZADD", k("l"), "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "f", "0", "aa", "0", ""),
		S("ZRANGEBYLEX", k("l"), "-", "+"), S("ZRANGEBYLEX", k("l"), "[b", "(e"), S("ZRANGEBYLEX", k("l"), "(a", "[c", "LIMIT", "1", "1"),
		S("ZRANGEBYLEX", k("l"), "+", "-"), S("ZRANGEBYLEX", k("l"), "-", "-"), S("ZRANGEBYLEX", k("l"), "[", "(b"), S("ZRANGEBYLEX", k("l"), "(", "+"),
		S("ZRANGEBYLEX", k("l"), "a", "+"), S("ZRANGEBYLEX", k("l"), "", "+"), S("ZRANGEBYLEX", k("l"), "-", "+x"), S("ZRANGEBYLEX", k("l"), "[b", "[b"),
		S("ZRANGEBYLEX", k("l"), "(b", "[b"), S("ZRANGEBYLEX", k("l"), "-", "+", "LIMIT", "-1", "2"), S("ZRANGEBYLEX", k("l"), "-", "+", "WITHSCORES"),
		S("ZREVRANGEBYLEX", k("l"), "+", "-"), S("ZREVRANGEBYLEX", k("l"), "[e", "(b"), S("ZREVRANGEBYLEX", k("l"), "+", "-", "LIMIT", "2", "3"),
		S("ZRANGE", k("l"), "[b", "[d", "BYLEX"), S("ZRANGE", k("l"), "[d", "[b", "BYLEX", "REV"), S("ZRANGE", k("l"), "-", "+", "BYLEX", "WITHSCORES"),
		S("ZRANGE", k("l"), "-", "+", "BYLEX", "LIMIT", "2", "2"),
		S("ZLEXCOUNT", k("l"), "-", "+"), S("ZLEXCOUNT", k("l"), "[b", "(e"), S("ZLEXCOUNT", k("l"), "x", "+"), S("ZLEXCOUNT", k("none"), "-", "+"),
		S("ZREMRANGEBYLEX", k("l"), "[aa", "(c"), S("ZRANGE", k("l"), "0", "-1"), S("ZREMRANGEBYLEX", k("l"), "x", "+"),
		S("ZREMRANGEBYLEX", k("none"), "-", "+"), S("ZREMRANGEBYLEX", k("l"), "-", "+"), S("EXISTS", k("l")),
		// ZRANGESTORE
		S("ZRANGESTORE", k("dst"), k("z"), "0", "1"), S("ZRANGE", k("dst"), "0", "-1", "WITHSCORES"), S("OBJECT", "ENCODING", k("dst")),
		S("ZRANGESTORE", k("dst"), k("z"), "+inf", "(1", "BYSCORE", "REV", "LIMIT", "0", "2"), S("ZRANGE", k("dst"), "0", "-1", "WITHSCORES"),
		S("ZRANGESTORE", k("dst"), k("z"), "5", "6"), S("EXISTS", k("dst")), S("ZRANGESTORE", k("dst"), k("none"), "0", "-1"),
		S("ZRANGESTORE", k("dst"), k("z"), "0", "-1", "WITHSCORES"), S("ZRANGESTORE", k("dst"), k("z"), "0"),
		S("SET", k("str"), "x"), S("ZRANGESTORE", k("str"), k("z"), "0", "0"), S("TYPE", k("str")), S("SET", k("str"), "x"),
		S("ZRANGESTORE", k("dst"), k("str"), "0", "-1"), S("ZRANGESTORE", k("z2"), k("z"), "[a", "[z", "BYLEX"),
		// removal
		S("ZADD", k("r"), "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"), S("ZREM", k("r"), "a", "x", "a"), S("ZREM", k("none"), "a"),
		S("ZREMRANGEBYRANK", k("r"), "0", "0"), S("ZREMRANGEBYRANK", k("r"), "-1", "-1"), S("ZREMRANGEBYRANK", k("r"), "5", "10"),
		S("ZREMRANGEBYRANK", k("r"), "x", "1"), S("ZRANGE", k("r"), "0", "-1"), S("ZREMRANGEBYSCORE", k("r"), "(3", "+inf"),
		S("ZREMRANGEBYSCORE", k("r"), "x", "1"), S("ZREMRANGEBYSCORE", k("none"), "0", "1"), S("ZRANGE", k("r"), "0", "-1"),
		S("ZREM", k("r"), "c"), S("EXISTS", k("r")), S("ZREMRANGEBYRANK", k("none"), "0", "-1"),
		// pops
		S("ZADD", k("p"), "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"), S("ZPOPMIN", k("p")), S("ZPOPMAX", k("p")),
		S("ZPOPMIN", k("p"), "2"), S("ZPOPMAX", k("p"), "0"), S("ZPOPMIN", k("p"), "-1"), S("ZPOPMIN", k("p"), "x"), S("ZPOPMIN", k("p"), "1", "2"),
		S("ZPOPMAX", k("p"), "10"), S("EXISTS", k("p")), S("ZPOPMIN", k("none")), S("ZPOPMIN", k("none"), "0"), S("ZPOPMIN", k("str"), "0"),
		S("ZADD", k("p"), "1", "a", "2", "b", "3", "c"), S("ZMPOP", "1", k("p"), "MIN"), S("ZMPOP", "2", k("none"), k("p"), "MAX", "COUNT", "10"),
		S("ZMPOP", "1", k("p"), "MIN"), S("ZMPOP", "x", k("p"), "MIN"), S("ZMPOP", "0", k("p"), "MIN"), S("ZMPOP", "1", k("p")),
		S("ZMPOP", "1", k("p"), "FOO"), S("ZMPOP", "1", k("p"), "MIN", "COUNT", "0"), S("ZMPOP", "1", k("p"), "MIN", "COUNT", "x"),
		S("ZMPOP", "1", k("p"), "MIN", "COUNT", "1", "COUNT", "1"), S("ZMPOP", "1", k("p"), "MIN", "COUNT"), S("ZMPOP", "5", k("p"), "MIN"),
		S("ZMPOP", "2", k("str"), k("p"), "MIN"), S("ZADD", k("p"), "1", "a"), S("ZMPOP", "2", k("p"), k("str"), "MAX"),
		S("BZPOPMIN", k("none"), k("p"), "0.01"), S("ZADD", k("p"), "1", "a", "2", "b"), S("BZPOPMIN", k("none"), k("p"), "0"),
		S("BZPOPMAX", k("p"), "0"), S("BZPOPMIN", k("p"), "-1"), S("BZPOPMIN", k("p"), "x"), S("BZPOPMIN", k("p"), "inf"),
		S("BZPOPMIN", k("str"), "0"), S("ZADD", k("p"), "1", "a", "2", "b", "3", "c"), S("BZMPOP", "0", "1", k("p"), "MAX", "COUNT", "2"),
		S("BZMPOP", "0.01", "1", k("none"), "MIN"), S("BZMPOP", "x", "1", k("p"), "MIN"), S("BZMPOP", "-1", "1", k("p"), "MIN"),
		S("BZMPOP", "0", "0", k("p"), "MIN"), S("BZMPOP", "0", "1", k("p"), "FOO"), S("BZMPOP", "x", "1", k("p"), "FOO"),
		S("BZMPOP", "0", "1", k("p"), "MIN", "COUNT", "1"), S("EXISTS", k("p")),
		// set operations
		S("ZADD", k("a"), "1", "x", "2", "y", "3", "z"), S("ZADD", k("b"), "10", "y", "20", "z", "30", "w"), S("SADD", k("s"), "x", "w", "q"),
		S("ZUNION", "2", k("a"), k("b")), S("ZUNION", "2", k("a"), k("b"), "WITHSCORES"), S("ZUNION", "3", k("a"), k("b"), k("s"), "WITHSCORES"),
		S("ZUNION", "2", k("a"), k("b"), "WEIGHTS", "2", "0.5", "WITHSCORES"), S("ZUNION", "2", k("a"), k("b"), "AGGREGATE", "MIN", "WITHSCORES"),
		S("ZUNION", "2", k("a"), k("b"), "AGGREGATE", "MAX", "WEIGHTS", "-1", "1", "WITHSCORES"), S("ZUNION", "1", k("none")),
		S("ZUNION", "0", k("a")), S("ZUNION", "x", k("a")), S("ZUNION", "3", k("a")), S("ZUNION", "1", k("a"), "WEIGHTS", "x"),
		S("ZUNION", "1", k("a"), "WEIGHTS", "1", "2"), S("ZUNION", "1", k("a"), "AGGREGATE", "FOO"), S("ZUNION", "1", k("a"), "AGGREGATE"),
		S("ZUNION", "1", k("a"), "WEIGHTS"), S("ZUNION", "1", k("str")), S("ZUNION", "2", k("a"), k("str"), "WEIGHTS", "x"),
		S("ZINTER", "2", k("a"), k("b")), S("ZINTER", "2", k("a"), k("b"), "WITHSCORES"), S("ZINTER", "2", k("a"), k("s"), "WITHSCORES"),
		S("ZINTER", "2", k("a"), k("b"), "WEIGHTS", "1", "-1", "AGGREGATE", "SUM", "WITHSCORES"), S("ZINTER", "2", k("a"), k("none")),
		S("ZINTER", "2", k("a"), k("a"), "WITHSCORES"), S("ZINTER", "0", k("a")),
		S("ZDIFF", "2", k("a"), k("b")), S("ZDIFF", "2", k("a"), k("b"), "WITHSCORES"), S("ZDIFF", "2", k("a"), k("s"), "WITHSCORES"),
		S("ZDIFF", "1", k("none")), S("ZDIFF", "2", k("a"), k("a")), S("ZDIFF", "1", k("a"), "WEIGHTS", "1"), S("ZDIFF", "1", k("a"), "AGGREGATE", "SUM"),
		S("ZDIFF", "2", k("none"), k("a")), S("ZDIFF", "2", k("a"), k("none"), "WITHSCORES"),
		S("ZINTERCARD", "2", k("a"), k("b")), S("ZINTERCARD", "2", k("a"), k("b"), "LIMIT", "1"), S("ZINTERCARD", "2", k("a"), k("b"), "LIMIT", "0"),
		S("ZINTERCARD", "2", k("a"), k("b"), "LIMIT", "-1"), S("ZINTERCARD", "2", k("a"), k("b"), "LIMIT", "x"), S("ZINTERCARD", "1", k("a"), "WITHSCORES"),
		S("ZINTERCARD", "0", k("a")), S("ZINTERCARD", "3", k("a")), S("ZINTERCARD", "2", k("a"), k("s")), S("ZINTERCARD", "1", k("none")),
		S("ZUNIONSTORE", k("d"), "2", k("a"), k("b")), S("ZRANGE", k("d"), "0", "-1", "WITHSCORES"), S("OBJECT", "ENCODING", k("d")),
		S("ZINTERSTORE", k("d"), "2", k("a"), k("b"), "WEIGHTS", "2", "3"), S("ZRANGE", k("d"), "0", "-1", "WITHSCORES"),
		S("ZDIFFSTORE", k("d"), "2", k("a"), k("b")), S("ZRANGE", k("d"), "0", "-1", "WITHSCORES"), S("ZINTERSTORE", k("d"), "2", k("a"), k("none")),
		S("EXISTS", k("d")), S("ZUNIONSTORE", k("d"), "1", k("a"), "WITHSCORES"), S("ZUNIONSTORE", k("d"), "0", k("a")),
		S("ZDIFFSTORE", k("d"), "1", k("a"), "WEIGHTS", "1"), S("ZUNIONSTORE", k("str"), "1", k("a")), S("TYPE", k("str")), S("SET", k("str"), "x"),
		S("ZUNIONSTORE", k("a"), "2", k("a"), k("b")), S("ZRANGE", k("a"), "0", "-1", "WITHSCORES"),
		S("SET", k("ttl"), "v"), S("EXPIRE", k("ttl"), "100"), S("ZUNIONSTORE", k("ttl"), "1", k("b")), S("TTL", k("ttl")),
		S("EXPIRE", k("ttl"), "100"), S("ZADD", k("ttl"), "1", "new"), S("ZREM", k("ttl"), "y"), S("TTL", k("ttl")),
		S("ZRANGESTORE", k("ttl"), k("b"), "0", "0"), S("TTL", k("ttl")), S("TYPE", k("ttl")),
		S("ZADD", k("inf1"), "inf", "m"), S("ZADD", k("inf2"), "-inf", "m"), S("ZUNION", "2", k("inf1"), k("inf2"), "WITHSCORES"),
		S("ZINTER", "2", k("inf1"), k("inf2"), "WITHSCORES"), S("ZUNION", "1", k("inf1"), "WEIGHTS", "0", "WITHSCORES"),
		// ZRANDMEMBER: deterministic shapes only
		S("ZRANDMEMBER", k("none")), S("ZRANDMEMBER", k("none"), "5"), S("ZRANDMEMBER", k("b"), "0"), S("ZRANDMEMBER", k("b"), "10"),
		S("ZRANDMEMBER", k("b"), "3", "WITHSCORES"), S("ZRANDMEMBER", k("b"), "x"), S("ZRANDMEMBER", k("b"), "1", "2"),
		S("ZRANDMEMBER", k("b"), "1", "WITHSCORE"), S("ZRANDMEMBER", k("b"), "-9223372036854775808"),
		S("ZRANDMEMBER", k("b"), "-4611686018427387904", "WITHSCORES"), S("ZRANDMEMBER", k("b"), "4611686018427387904", "WITHSCORES"),
		S("ZADD", k("one"), "7", "m"), S("ZRANDMEMBER", k("one")), S("ZRANDMEMBER", k("one"), "-3", "WITHSCORES"), S("ZRANDMEMBER", k("one"), "1"),
		S("ZRANDMEMBER", k("str")),
		// ZSCAN on a listpack: everything, cursor 0
		S("ZSCAN", k("b"), "0"), S("ZSCAN", k("b"), "0", "MATCH", "*y*"), S("ZSCAN", k("b"), "0", "COUNT", "1"), S("ZSCAN", k("b"), "0", "COUNT", "0"),
		S("ZSCAN", k("b"), "0", "COUNT", "x"), S("ZSCAN", k("b"), "abc"), S("ZSCAN", k("b"), "-1"), S("ZSCAN", k("b"), ""), S("ZSCAN", k("b"), "+"),
		S("ZSCAN", k("b"), "18446744073709551616"), S("ZSCAN", k("b"), "0", "TYPE", "zset"), S("ZSCAN", k("b"), "0", "MATCH"),
		S("ZSCAN", k("none"), "0"), S("ZSCAN", k("none"), "0", "FOO"), S("ZSCAN", k("f"), "0"), S("ZSCAN", k("str"), "0"),
		// WRONGTYPE everywhere
		S("ZADD", k("str"), "1", "a"), S("ZINCRBY", k("str"), "1", "a"), S("ZSCORE", k("str"), "a"), S("ZMSCORE", k("str"), "a"),
		S("ZRANK", k("str"), "a"), S("ZREVRANK", k("str"), "a"), S("ZCARD", k("str")), S("ZCOUNT", k("str"), "0", "1"),
		S("ZLEXCOUNT", k("str"), "-", "+"), S("ZRANGE", k("str"), "0", "1"), S("ZRANGEBYSCORE", k("str"), "0", "1"),
		S("ZREVRANGEBYLEX", k("str"), "+", "-"), S("ZREM", k("str"), "a"), S("ZREMRANGEBYRANK", k("str"), "0", "1"),
		S("ZREMRANGEBYSCORE", k("str"), "0", "1"), S("ZREMRANGEBYLEX", k("str"), "-", "+"), S("ZPOPMAX", k("str")),
		S("ZINTER", "1", k("str")), S("ZDIFF", "2", k("a"), k("str")), S("ZINTERCARD", "1", k("str")), S("ZRANDMEMBER", k("str"), "1"),
		S("ZADD", k("str"), "x", "a"), S("ZCOUNT", k("str"), "x", "1"),
		// arity
		S("ZADD", k("z"), "1"), S("ZINCRBY", k("z"), "1"), S("ZSCORE", k("z")), S("ZCARD"), S("ZRANGE", k("z"), "0"), S("ZREM", k("z")),
		S("ZPOPMIN"), S("BZPOPMIN", k("z")), S("ZMPOP", "1"), S("BZMPOP", "0", "1", k("z")), S("ZUNIONSTORE", k("d"), "1"),
		S("ZUNION", "1"), S("ZINTERCARD", "1"), S("ZRANGESTORE", k("d"), k("z"), "0"), S("ZRANDMEMBER"), S("ZSCAN", k("z")),
		S("ZREMRANGEBYRANK", k("z"), "0"), S("ZLEXCOUNT", k("z"), "-"),
	}
	// Encodings: listpack limits (128 entries, 64-byte members) and
	// conversions; results of stores convert back to listpack when small.
	var big []string
	for i := 0; i < 200; i++ {
		big = append(big, strconv.Itoa(i%17), "m"+strconv.Itoa(i))
	}
	steps = append(steps,
		S(append([]string{"ZADD", k("big")}, big[:256]...)...), S("OBJECT", "ENCODING", k("big")),
		S("ZADD", k("big"), "1", "extra"), S("OBJECT", "ENCODING", k("big")), S("ZCARD", k("big")),
		S(append([]string{"ZADD", k("big")}, big[256:]...)...), S("ZRANGE", k("big"), "0", "-1", "WITHSCORES"),
		S("ZRANGE", k("big"), "-inf", "+inf", "BYSCORE", "REV", "LIMIT", "50", "20"), S("ZRANGE", k("big"), "(3", "5", "BYSCORE"),
		S("ZRANK", k("big"), "m150"), S("ZREVRANK", k("big"), "m150"), S("ZCOUNT", k("big"), "(3", "10"),
		S("ZRANGESTORE", k("bd"), k("big"), "0", "127"), S("OBJECT", "ENCODING", k("bd")),
		S("ZRANGESTORE", k("bd"), k("big"), "0", "128"), S("OBJECT", "ENCODING", k("bd")),
		S("ZUNIONSTORE", k("bd"), "1", k("big")), S("OBJECT", "ENCODING", k("bd")), S("ZREMRANGEBYRANK", k("big"), "10", "-1"),
		S("OBJECT", "ENCODING", k("big")), S("ZUNIONSTORE", k("bd"), "1", k("big")), S("OBJECT", "ENCODING", k("bd")),
		S("ZRANDMEMBER", k("big"), "100", "WITHSCORES"), S("ZRANGE", k("big"), "0", "-1", "WITHSCORES"),
		S("ZADD", k("sc"), "4611686018427387904", "e", "4611686018427387905", "f", "5e18", "g", "-4611686018427387906", "j",
			"9007199254740993", "k", "1.5", "l", "-0", "m", "123456789012345678", "n"), S("ZSCAN", k("sc"), "0"),
		S("ZADD", k("sc"), "-0", strings.Repeat("s", 70)), S("OBJECT", "ENCODING", k("sc")), S("ZADD", k("sc"), "-0", "o"),
		S("ZRANGE", k("sc"), "0", "-1", "WITHSCORES"),
		S("ZADD", k("long"), "1", strings.Repeat("x", 64)), S("OBJECT", "ENCODING", k("long")),
		S("ZADD", k("long"), "1", strings.Repeat("y", 65)), S("OBJECT", "ENCODING", k("long")),
		S("ZADD", k("long2"), "1", strings.Repeat("y", 65)), S("OBJECT", "ENCODING", k("long2")),
		S("ZADD", k("long3"), "1", "a"), S("ZADD", k("long3"), "XX", "1", strings.Repeat("y", 65)), S("OBJECT", "ENCODING", k("long3")),
		S("ZRANGESTORE", k("long4"), k("long"), "0", "-1"), S("OBJECT", "ENCODING", k("long4")),
		S("COPY", k("long"), k("long5")), S("OBJECT", "ENCODING", k("long5")), S("ZRANGE", k("long5"), "0", "-1"),
	)
	return steps
}

func TestZsetDifferential(t *testing.T) {
	s, r := DiffPair(t)
	Differential(t, s, r, 2, zsetSteps("r2"))
	Differential(t, s, r, 3, zsetSteps("r3"))
	// A skiplist's ZSCAN order is its hash table's: compare the pairs.
	ctx := Ctx(t, 30*time.Second)
	for _, p := range []string{"r2", "r3"} {
		key := "{" + p + "}sc"
		a, b := zscanPairs(t, ctx, s.Client(), key), zscanPairs(t, ctx, r.Client(), key)
		if a != b {
			t.Errorf("ZSCAN %s pairs:\n slotkv: %s\n  redis: %s", key, a, b)
		}
	}
}

// zscanPairs runs a full ZSCAN and returns its "member=score" pairs sorted.
func zscanPairs(t *testing.T, ctx context.Context, c *redis.Client, key string) string {
	t.Helper()
	var pairs []string
	var cursor uint64
	for i := 0; ; i++ {
		kv, next, err := c.ZScan(ctx, key, cursor, "", 1000).Result()
		if err != nil || i > 100000 {
			t.Fatalf("ZSCAN %s: %v", key, err)
		}
		for j := 0; j+1 < len(kv); j += 2 {
			pairs = append(pairs, kv[j]+"="+kv[j+1])
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, " ")
}

// zRandomSteps generates a seeded random workload over a few keys (some
// small, one that crosses into the skiplist encoding), avoiding replies
// whose order Redis leaves random.
func zRandomSteps(seed int64, n int) []Step {
	rng := rand.New(rand.NewSource(seed))
	keys := []string{"{rz}a", "{rz}b", "{rz}c", "{rz}big"}
	dsts := []string{"{rz}d1", "{rz}d2"}
	member := func(key string) string {
		if key == "{rz}big" {
			return "m" + strconv.Itoa(rng.Intn(300))
		}
		return string(rune('a' + rng.Intn(12)))
	}
	score := func() string {
		switch rng.Intn(12) {
		case 0:
			return "inf"
		case 1:
			return "-inf"
		case 2:
			return "0.1"
		case 3:
			return "-2.5"
		case 4, 5:
			return "7"
		}
		return strconv.Itoa(rng.Intn(20) - 5)
	}
	bound := func() string {
		b := []string{"-inf", "+inf", "0", "3", "7", "10", "-3", "0.1"}[rng.Intn(8)]
		if rng.Intn(3) == 0 {
			b = "(" + b
		}
		return b
	}
	lex := func() string {
		return []string{"-", "+", "[c", "(c", "[f", "(a", "[m1", "(m2"}[rng.Intn(8)]
	}
	idx := func() string { return strconv.Itoa(rng.Intn(14) - 7) }
	var steps []Step
	for i := 0; i < n; i++ {
		k := keys[rng.Intn(len(keys))]
		k2 := keys[rng.Intn(len(keys))]
		var st []string
		switch rng.Intn(20) {
		case 0, 1, 2:
			st = []string{"ZADD", k}
			for _, o := range [][]string{{"NX", "XX"}, {"GT", "LT"}, {"CH"}} {
				if rng.Intn(3) == 0 {
					st = append(st, o[rng.Intn(len(o))])
				}
			}
			for j := rng.Intn(4); j >= 0; j-- {
				st = append(st, score(), member(k))
			}
			if k == "{rz}big" {
				for j := 0; j < 20; j++ {
					st = append(st, score(), member(k))
				}
			}
		case 3:
			st = []string{"ZINCRBY", k, score(), member(k)}
		case 4:
			st = []string{"ZREM", k, member(k), member(k)}
		case 5:
			st = []string{"ZRANGE", k, idx(), idx()}
			if rng.Intn(2) == 0 {
				st = append(st, "REV")
			}
			if rng.Intn(2) == 0 {
				st = append(st, "WITHSCORES")
			}
		case 6:
			st = []string{"ZRANGE", k, bound(), bound(), "BYSCORE"}
			if rng.Intn(2) == 0 {
				st = append(st, "REV")
			}
			if rng.Intn(2) == 0 {
				st = append(st, "LIMIT", strconv.Itoa(rng.Intn(4)), strconv.Itoa(rng.Intn(6)-1))
			}
			if rng.Intn(2) == 0 {
				st = append(st, "WITHSCORES")
			}
		case 7: // lex queries on listpacks only: on a skiplist with mixed
			// scores Redis's answer depends on its random levels
			small := keys[rng.Intn(3)]
			st = []string{[]string{"ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZLEXCOUNT", "ZREMRANGEBYLEX"}[rng.Intn(4)], small, lex(), lex()}
		case 8:
			st = []string{"ZCOUNT", k, bound(), bound()}
		case 9:
			st = []string{[]string{"ZRANK", "ZREVRANK", "ZSCORE"}[rng.Intn(3)], k, member(k)}
		case 10:
			st = []string{[]string{"ZPOPMIN", "ZPOPMAX"}[rng.Intn(2)], k, strconv.Itoa(rng.Intn(3))}
		case 11:
			st = []string{"ZREMRANGEBYSCORE", k, bound(), bound()}
		case 12:
			st = []string{"ZREMRANGEBYRANK", k, idx(), idx()}
		case 13:
			op := []string{"ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"}[rng.Intn(3)]
			st = []string{op, dsts[rng.Intn(2)], "2", k, k2}
			if op != "ZDIFFSTORE" && rng.Intn(2) == 0 {
				st = append(st, "WEIGHTS", strconv.Itoa(rng.Intn(5)-2), "0.5", "AGGREGATE", []string{"SUM", "MIN", "MAX"}[rng.Intn(3)])
			}
		case 14:
			op := []string{"ZUNION", "ZINTER", "ZDIFF"}[rng.Intn(3)]
			st = []string{op, "2", k, k2, "WITHSCORES"}
		case 15:
			st = []string{"ZRANGESTORE", dsts[rng.Intn(2)], k, idx(), idx()}
		case 16:
			st = []string{"ZMPOP", "2", k, k2, []string{"MIN", "MAX"}[rng.Intn(2)], "COUNT", strconv.Itoa(rng.Intn(3) + 1)}
		case 17:
			st = []string{"ZCARD", k}
		case 18:
			st = []string{"OBJECT", "ENCODING", k}
		case 19:
			st = []string{"ZRANGE", k, "0", "-1", "WITHSCORES"}
		}
		steps = append(steps, S(st...))
	}
	for _, k := range append(keys, dsts...) {
		steps = append(steps, S("ZRANGE", k, "0", "-1", "WITHSCORES"), S("OBJECT", "ENCODING", k))
	}
	return steps
}

func TestZsetDifferentialRandom(t *testing.T) {
	s, r := DiffPair(t)
	seeds := int64(3)
	if v, err := strconv.Atoi(os.Getenv("ZSET_RANDOM_SEEDS")); err == nil && v > 0 {
		seeds = int64(v) // longer local runs
	}
	for seed := int64(1); seed <= seeds; seed++ {
		Differential(t, s, r, int(2+seed%2), zRandomSteps(seed, 700))
		if t.Failed() {
			t.Fatalf("seed %d diverged", seed)
		}
	}
}

// TestZsetGoRedis drives every command through go-redis (RESP3).
func TestZsetGoRedis(t *testing.T) {
	n := StartNode(t, Options{})
	c := n.Client()
	ctx := Ctx(t, 60*time.Second)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	zs := func(pairs ...interface{}) []redis.Z {
		var out []redis.Z
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, redis.Z{Member: pairs[i], Score: float64(pairs[i+1].(int))})
		}
		return out
	}
	eq := func(what string, got, want interface{}) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	n1, err := c.ZAdd(ctx, "{g}z", zs("a", 1, "b", 2, "c", 3)...).Result()
	must(err)
	eq("ZADD", n1, 3)
	ch, err := c.ZAddArgs(ctx, "{g}z", redis.ZAddArgs{GT: true, Ch: true, Members: zs("a", 5, "b", 1)}).Result()
	must(err)
	eq("ZADD GT CH", ch, 1)
	f, err := c.ZAddArgsIncr(ctx, "{g}z", redis.ZAddArgs{XX: true, Members: zs("c", 2)}).Result()
	must(err)
	eq("ZADD XX INCR", f, 5)
	_, err = c.ZAddArgsIncr(ctx, "{g}z", redis.ZAddArgs{XX: true, Members: zs("nope", 2)}).Result()
	eq("ZADD XX INCR missing", err, redis.Nil)
	f, err = c.ZIncrBy(ctx, "{g}z", 0.5, "b").Result()
	must(err)
	eq("ZINCRBY", f, 2.5)
	eq("ZCARD", c.ZCard(ctx, "{g}z").Val(), 3)
	eq("ZSCORE", c.ZScore(ctx, "{g}z", "a").Val(), 5)
	eq("ZMSCORE", c.ZMScore(ctx, "{g}z", "a", "x", "b").Val(), []float64{5, 0, 2.5})
	eq("ZRANK", c.ZRank(ctx, "{g}z", "a").Val(), 1)
	eq("ZREVRANK", c.ZRevRank(ctx, "{g}z", "c").Val(), 0)
	eq("ZRANK WITHSCORE (7.2, not in 7.0)", c.ZRankWithScore(ctx, "{g}z", "b").Err(), "ERR wrong number of arguments for 'zrank' command")
	_, err = c.ZRank(ctx, "{g}z", "x").Result()
	eq("ZRANK missing", err, redis.Nil)
	eq("ZCOUNT", c.ZCount(ctx, "{g}z", "(2.5", "+inf").Val(), 2)
	eq("ZRANGE", c.ZRange(ctx, "{g}z", 0, -1).Val(), []string{"b", "a", "c"})
	eq("ZRANGE WITHSCORES", c.ZRangeWithScores(ctx, "{g}z", 0, 1).Val(), []redis.Z{{Score: 2.5, Member: "b"}, {Score: 5, Member: "a"}})
	eq("ZRANGE BYSCORE REV LIMIT", c.ZRangeArgs(ctx, redis.ZRangeArgs{Key: "{g}z", Start: "+inf", Stop: "-inf", ByScore: true, Rev: true, Offset: 1, Count: 1}).Val(), []string{"a"})
	eq("ZRANGEBYSCORE", c.ZRangeByScore(ctx, "{g}z", &redis.ZRangeBy{Min: "3", Max: "+inf"}).Val(), []string{"a", "c"})
	eq("ZREVRANGEBYSCORE WITHSCORES", c.ZRevRangeByScoreWithScores(ctx, "{g}z", &redis.ZRangeBy{Min: "-inf", Max: "+inf", Count: 1}).Val(), []redis.Z{{Score: 5, Member: "c"}})
	eq("ZREVRANGE", c.ZRevRange(ctx, "{g}z", 0, 0).Val(), []string{"c"})
	n1, err = c.ZRangeStore(ctx, "{g}dst", redis.ZRangeArgs{Key: "{g}z", Start: 0, Stop: 1}).Result()
	must(err)
	eq("ZRANGESTORE", n1, 2)
	must(c.ZAdd(ctx, "{g}l", zs("a", 0, "b", 0, "c", 0, "d", 0)...).Err())
	eq("ZRANGEBYLEX", c.ZRangeByLex(ctx, "{g}l", &redis.ZRangeBy{Min: "[b", Max: "+"}).Val(), []string{"b", "c", "d"})
	eq("ZREVRANGEBYLEX", c.ZRevRangeByLex(ctx, "{g}l", &redis.ZRangeBy{Min: "-", Max: "(c"}).Val(), []string{"b", "a"})
	eq("ZLEXCOUNT", c.ZLexCount(ctx, "{g}l", "(a", "[c").Val(), 2)
	eq("ZREMRANGEBYLEX", c.ZRemRangeByLex(ctx, "{g}l", "[d", "+").Val(), 1)
	eq("ZREMRANGEBYRANK", c.ZRemRangeByRank(ctx, "{g}l", 0, 0).Val(), 1)
	eq("ZREMRANGEBYSCORE", c.ZRemRangeByScore(ctx, "{g}l", "-inf", "+inf").Val(), 2)
	eq("EXISTS after emptying", c.Exists(ctx, "{g}l").Val(), 0)
	eq("ZREM", c.ZRem(ctx, "{g}dst", "b", "x").Val(), 1)
	// pops
	must(c.ZAdd(ctx, "{g}p", zs("a", 1, "b", 2, "c", 3, "d", 4)...).Err())
	eq("ZPOPMIN", c.ZPopMin(ctx, "{g}p").Val(), []redis.Z{{Score: 1, Member: "a"}})
	eq("ZPOPMAX 2", c.ZPopMax(ctx, "{g}p", 2).Val(), []redis.Z{{Score: 4, Member: "d"}, {Score: 3, Member: "c"}})
	key, popped, err := c.ZMPop(ctx, "min", 5, "{g}none", "{g}p").Result()
	must(err)
	eq("ZMPOP", fmt.Sprint(key, popped), fmt.Sprint("{g}p", []redis.Z{{Score: 2, Member: "b"}}))
	_, _, err = c.ZMPop(ctx, "min", 1, "{g}p").Result()
	eq("ZMPOP empty", err, redis.Nil)
	must(c.ZAdd(ctx, "{g}p", zs("a", 1, "b", 2)...).Err())
	zk, err := c.BZPopMax(ctx, time.Second, "{g}none", "{g}p").Result()
	must(err)
	eq("BZPOPMAX", fmt.Sprintf("%v %v %v", zk.Key, zk.Member, zk.Score), "{g}p b 2")
	key, popped, err = c.BZMPop(ctx, time.Second, "max", 3, "{g}p").Result()
	must(err)
	eq("BZMPOP", fmt.Sprint(key, popped), fmt.Sprint("{g}p", []redis.Z{{Score: 1, Member: "a"}}))
	err = c.Do(ctx, "BZPOPMIN", "{g}p", "0.05").Err()
	eq("BZPOPMIN timeout", err, redis.Nil)
	// set operations
	must(c.ZAdd(ctx, "{g}a", zs("x", 1, "y", 2)...).Err())
	must(c.ZAdd(ctx, "{g}b", zs("y", 10, "z", 20)...).Err())
	eq("ZUNION", c.ZUnion(ctx, redis.ZStore{Keys: []string{"{g}a", "{g}b"}}).Val(), []string{"x", "y", "z"})
	eq("ZUNION WITHSCORES", c.ZUnionWithScores(ctx, redis.ZStore{Keys: []string{"{g}a", "{g}b"}, Weights: []float64{2, 1}, Aggregate: "MAX"}).Val(),
		[]redis.Z{{Score: 2, Member: "x"}, {Score: 10, Member: "y"}, {Score: 20, Member: "z"}})
	eq("ZINTER", c.ZInter(ctx, &redis.ZStore{Keys: []string{"{g}a", "{g}b"}}).Val(), []string{"y"})
	eq("ZINTER WITHSCORES", c.ZInterWithScores(ctx, &redis.ZStore{Keys: []string{"{g}a", "{g}b"}}).Val(), []redis.Z{{Score: 12, Member: "y"}})
	eq("ZINTERCARD", c.ZInterCard(ctx, 0, "{g}a", "{g}b").Val(), 1)
	eq("ZDIFF", c.ZDiff(ctx, "{g}a", "{g}b").Val(), []string{"x"})
	eq("ZDIFF WITHSCORES", c.ZDiffWithScores(ctx, "{g}a", "{g}b").Val(), []redis.Z{{Score: 1, Member: "x"}})
	eq("ZUNIONSTORE", c.ZUnionStore(ctx, "{g}u", &redis.ZStore{Keys: []string{"{g}a", "{g}b"}}).Val(), 3)
	eq("ZINTERSTORE", c.ZInterStore(ctx, "{g}i", &redis.ZStore{Keys: []string{"{g}a", "{g}b"}, Aggregate: "MIN"}).Val(), 1)
	eq("ZDIFFSTORE", c.ZDiffStore(ctx, "{g}d", "{g}b", "{g}a").Val(), 1)
	eq("ZRANGE stored", c.ZRangeWithScores(ctx, "{g}i", 0, -1).Val(), []redis.Z{{Score: 2, Member: "y"}})
	// random and scan
	m := c.ZRandMember(ctx, "{g}u", 1).Val()
	if len(m) != 1 || !strings.Contains("xyz", m[0]) {
		t.Errorf("ZRANDMEMBER = %v", m)
	}
	eq("ZRANDMEMBER 5 (whole set)", len(c.ZRandMember(ctx, "{g}u", 5).Val()), 3)
	eq("ZRANDMEMBER -5 (repeats)", len(c.ZRandMember(ctx, "{g}u", -5).Val()), 5)
	rw := c.ZRandMemberWithScores(ctx, "{g}u", 2).Val()
	if len(rw) != 2 || rw[0].Member == rw[1].Member {
		t.Errorf("ZRANDMEMBER 2 WITHSCORES = %v", rw)
	}
	keys, cur, err := c.ZScan(ctx, "{g}u", 0, "*", 10).Result()
	must(err)
	eq("ZSCAN", fmt.Sprint(keys, cur), "[x 1 y 12 z 20] 0")
	// errors
	err = c.Do(ctx, "ZADD", "{g}z", "NX", "XX", "1", "a").Err()
	eq("ZADD NX XX", err, "ERR XX and NX options at the same time are not compatible")
	must(c.Set(ctx, "{g}str", "v", 0).Err())
	eq("WRONGTYPE", c.ZAdd(ctx, "{g}str", zs("a", 1)...).Err(), "WRONGTYPE Operation against a key holding the wrong kind of value")
	eq("ZINCRBY NaN", c.Do(ctx, "ZADD", "{g}z", "inf", "a").Err(), nil)
	eq("ZINCRBY NaN", c.ZIncrBy(ctx, "{g}z", 0, "a").Val(), "+Inf")
	eq("ZINCRBY NaN", c.Do(ctx, "ZINCRBY", "{g}z", "-inf", "a").Err(), "ERR resulting score is not a number (NaN)")
	// RESP2 client shapes
	c2 := n.NewClient(t, 2)
	eq("RESP2 ZRANGE WITHSCORES", c2.ZRangeWithScores(ctx, "{g}u", 0, 0).Val(), []redis.Z{{Score: 1, Member: "x"}})
	eq("RESP2 ZPOPMIN", c2.ZPopMin(ctx, "{g}u", 1).Val(), []redis.Z{{Score: 1, Member: "x"}})
	eq("RESP2 ZSCORE", c2.ZScore(ctx, "{g}u", "y").Val(), 12)
}

// TestZsetBlocking: blocked pops woken by writes from other connections,
// served in arrival order; timeouts; MULTI; disconnects.
func TestZsetBlocking(t *testing.T) {
	n := StartNode(t, Options{})
	ctx := Ctx(t, 60*time.Second)
	w := n.NewClient(t, 3)
	const N = 4
	type res struct {
		i   int
		key string
		mem string
		err error
	}
	out := make(chan res, N)
	clients := make([]*redis.Client, N)
	for i := 0; i < N; i++ {
		clients[i] = n.NewClient(t, 3)
		clients[i].Ping(ctx)
	}
	blocked := func(want int) {
		Eventually(t, 5*time.Second, fmt.Sprintf("%d blocked clients", want), func() bool {
			info := w.Info(ctx, "clients").Val()
			return strings.Contains(info, "blocked_clients:"+strconv.Itoa(want)+"\r")
		})
	}
	for i := 0; i < N; i++ {
		i := i
		go func() {
			if i%2 == 0 {
				r, err := clients[i].BZPopMin(ctx, 10*time.Second, "{b}k1", "{b}k2").Result()
				if err != nil {
					out <- res{i: i, err: err}
					return
				}
				out <- res{i, r.Key, r.Member.(string), nil}
			} else {
				k, zz, err := clients[i].BZMPop(ctx, 10*time.Second, "min", 1, "{b}k2", "{b}k1").Result()
				if err != nil || len(zz) != 1 {
					out <- res{i: i, err: fmt.Errorf("%v %v", zz, err)}
					return
				}
				out <- res{i, k, zz[0].Member.(string), nil}
			}
		}()
		blocked(i + 1) // arrival order
	}
	// One element at a time: each goes to the longest-waiting client.
	for i := 0; i < N; i++ {
		key := []string{"{b}k1", "{b}k2"}[i%2]
		if err := w.ZAdd(ctx, key, redis.Z{Score: float64(i), Member: "m" + strconv.Itoa(i)}).Err(); err != nil {
			t.Fatal(err)
		}
		r := <-out
		if r.err != nil || r.i != i || r.key != key || r.mem != "m"+strconv.Itoa(i) {
			t.Fatalf("push %d: served %+v", i, r)
		}
	}
	blocked(0)
	// MULTI/EXEC: a blocking pop on an empty key answers nil at once.
	raw := DialRaw(t, n.Addr())
	for _, step := range [][2]string{{"MULTI", "+OK\r\n"}, {"BZPOPMIN {b}k1 0", "+QUEUED\r\n"}, {"BZMPOP 0 1 {b}k1 MIN", "+QUEUED\r\n"}, {"EXEC", "*2\r\n*-1\r\n*-1\r\n"}} {
		got, err := raw.Do(strings.Fields(step[0])...)
		if err != nil || got != step[1] {
			t.Fatalf("%s: %q %v, want %q", step[0], got, err, step[1])
		}
	}
	// A client that disconnects while blocked is cleaned up and consumes
	// nothing.
	gone := DialRaw(t, n.Addr())
	if err := gone.Send("*3\r\n$8\r\nBZPOPMIN\r\n$5\r\n{b}k1\r\n$1\r\n0\r\n"); err != nil {
		t.Fatal(err)
	}
	blocked(1)
	gone.c.Close()
	blocked(0)
	w.ZAdd(ctx, "{b}k1", redis.Z{Score: 1, Member: "kept"})
	if got := w.ZCard(ctx, "{b}k1").Val(); got != 1 {
		t.Fatalf("element consumed by a disconnected client: zcard=%d", got)
	}
	// Wrong type while blocked: the client keeps waiting (as in Redis).
	w.Del(ctx, "{b}k3")
	done := make(chan string, 1)
	go func() {
		r, err := clients[0].BZPopMin(ctx, 10*time.Second, "{b}k3").Result()
		done <- fmt.Sprintf("%v %v %v", r.Key, r.Member, err)
	}()
	blocked(1)
	w.Set(ctx, "{b}k3", "str", 0)
	w.Del(ctx, "{b}k3")
	w.ZAdd(ctx, "{b}k3", redis.Z{Score: 1, Member: "z"})
	if got := <-done; got != "{b}k3 z <nil>" {
		t.Fatalf("after a type change: %s", got)
	}
}

// TestZsetScanChurn: ZSCAN over a skiplist set returns every member that
// stays present for the whole iteration, while others are added/removed.
func TestZsetScanChurn(t *testing.T) {
	n := StartNode(t, Options{})
	c := n.Client()
	ctx := Ctx(t, 60*time.Second)
	var zs []redis.Z
	for i := 0; i < 2000; i++ {
		zs = append(zs, redis.Z{Score: float64(i), Member: "s" + strconv.Itoa(i)})
	}
	if err := c.ZAdd(ctx, "zscan", zs...).Err(); err != nil {
		t.Fatal(err)
	}
	if enc := c.ObjectEncoding(ctx, "zscan").Val(); enc != "skiplist" {
		t.Fatalf("encoding %s", enc)
	}
	seen := map[string]bool{}
	var cursor uint64
	calls, extra := 0, 0
	for {
		keys, next, err := c.ZScan(ctx, "zscan", cursor, "", 50).Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys)%2 != 0 {
			t.Fatalf("odd ZSCAN reply %d", len(keys))
		}
		for i := 0; i < len(keys); i += 2 {
			seen[keys[i]] = true
			if _, err := strconv.ParseFloat(keys[i+1], 64); err != nil {
				t.Fatalf("score %q", keys[i+1])
			}
		}
		// churn: grow by 1000 then drop them
		if calls%4 == 1 {
			var add []redis.Z
			for j := 0; j < 1000; j++ {
				add = append(add, redis.Z{Score: -1, Member: "x" + strconv.Itoa(extra)})
				extra++
			}
			c.ZAdd(ctx, "zscan", add...)
		} else if calls%4 == 3 {
			c.ZRemRangeByScore(ctx, "zscan", "-1", "-1")
		}
		calls++
		cursor = next
		if cursor == 0 || calls > 10000 {
			break
		}
	}
	for i := 0; i < 2000; i++ {
		if !seen["s"+strconv.Itoa(i)] {
			t.Fatalf("member s%d missed (calls=%d)", i, calls)
		}
	}
	keys, _, _ := c.ZScan(ctx, "zscan", 0, "s19*", 100000).Result()
	for i := 0; i < len(keys); i += 2 {
		if !strings.HasPrefix(keys[i], "s19") {
			t.Fatalf("MATCH let %q through", keys[i])
		}
	}
}

// TestZsetRandMember checks ZRANDMEMBER's distribution properties on both
// encodings.
func TestZsetRandMember(t *testing.T) {
	n := StartNode(t, Options{})
	c := n.Client()
	ctx := Ctx(t, 60*time.Second)
	for _, size := range []int{20, 500} {
		key := "rand" + strconv.Itoa(size)
		var zs []redis.Z
		for i := 0; i < size; i++ {
			zs = append(zs, redis.Z{Score: float64(i), Member: strconv.Itoa(i)})
		}
		c.ZAdd(ctx, key, zs...)
		for _, cnt := range []int{1, 5, size / 2, size - 1} {
			got := c.ZRandMemberWithScores(ctx, key, cnt).Val()
			if len(got) != cnt {
				t.Fatalf("size %d count %d: %d elements", size, cnt, len(got))
			}
			uniq := map[string]bool{}
			for _, z := range got {
				m := z.Member.(string)
				if uniq[m] || strconv.Itoa(int(z.Score)) != m {
					t.Fatalf("size %d count %d: duplicate or wrong score %v", size, cnt, z)
				}
				uniq[m] = true
			}
		}
		hits := map[string]int{}
		for i := 0; i < 20; i++ {
			for _, m := range c.ZRandMember(ctx, key, -200).Val() {
				hits[m]++
			}
		}
		if len(hits) < size/2 {
			t.Fatalf("size %d: only %d distinct members in 4000 draws", size, len(hits))
		}
	}
}

// TestZsetRedisCLI checks redis-cli's rendering of zset replies, which
// depends on the exact reply types.
func TestZsetRedisCLI(t *testing.T) {
	s, r := DiffPair(t)
	cmds := [][]string{
		{"ZADD", "cli", "1.5", "a", "2", "b", "inf", "c"},
		{"ZRANGE", "cli", "0", "-1", "WITHSCORES"},
		{"ZSCORE", "cli", "a"},
		{"ZPOPMIN", "cli", "1"},
		{"ZRANK", "cli", "b"},
		{"ZSCAN", "cli", "0"},
		{"ZMPOP", "1", "cli", "MAX"},
		{"ZADD", "cli", "NX", "XX", "1", "a"},
	}
	for _, proto := range []string{"-2", "-3"} {
		for _, cmd := range cmds {
			args := func(n *Node) []string {
				return append([]string{"-h", n.IP, "-p", strconv.Itoa(n.Port), proto}, cmd...)
			}
			got, err1 := RedisCLI(t, args(s)...)
			want, err2 := RedisCLI(t, args(r)...)
			if (err1 == nil) != (err2 == nil) || got != want {
				t.Errorf("redis-cli %s %q:\n slotkv: %q (%v)\n  redis: %q (%v)", proto, cmd, got, err1, want, err2)
			}
		}
	}
}

// TestZsetLeaderboard: concurrent players bump their scores with ZINCRBY
// while readers page through the board; the final board matches a model.
func TestZsetLeaderboard(t *testing.T) {
	n := StartNode(t, Options{})
	ctx := Ctx(t, 120*time.Second)
	const players, writers, rounds = 300, 8, 250
	var mu sync.Mutex
	model := map[string]float64{}
	var wg sync.WaitGroup
	errs := make(chan error, writers+2)
	for w := 0; w < writers; w++ {
		w := w
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := n.NewClient(t, 3)
			rng := rand.New(rand.NewSource(int64(w)))
			for i := 0; i < rounds; i++ {
				p := "player:" + strconv.Itoa(rng.Intn(players))
				inc := float64(rng.Intn(100))
				if _, err := c.ZIncrBy(ctx, "board", inc, p).Result(); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				model[p] += inc
				mu.Unlock()
			}
		}()
	}
	stop := make(chan struct{})
	var rwg sync.WaitGroup
	rwg.Add(1)
	go func() { // a reader: top-10 pages are always sorted, descending
		defer rwg.Done()
		c := n.NewClient(t, 2)
		for {
			select {
			case <-stop:
				return
			default:
			}
			top, err := c.ZRevRangeWithScores(ctx, "board", 0, 9).Result()
			if err != nil {
				errs <- err
				return
			}
			for i := 1; i < len(top); i++ {
				if top[i].Score > top[i-1].Score {
					errs <- fmt.Errorf("top page out of order: %v", top)
					return
				}
			}
		}
	}()
	wg.Wait()
	close(stop)
	rwg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c := n.Client()
	if got := c.ZCard(ctx, "board").Val(); int(got) != len(model) {
		t.Fatalf("ZCARD %d, model %d", got, len(model))
	}
	type entry struct {
		p string
		s float64
	}
	var want []entry
	for p, s := range model {
		want = append(want, entry{p, s})
	}
	sort.Slice(want, func(i, j int) bool { // ZREVRANGE order: score desc, member desc
		if want[i].s != want[j].s {
			return want[i].s > want[j].s
		}
		return want[i].p > want[j].p
	})
	board := c.ZRevRangeWithScores(ctx, "board", 0, -1).Val()
	for i, z := range board {
		if z.Member != want[i].p || z.Score != want[i].s {
			t.Fatalf("rank %d: %v, want %v", i, z, want[i])
		}
	}
	// Rank queries agree with the page order.
	for _, i := range []int{0, 7, len(want) / 2, len(want) - 1} {
		if r := c.ZRevRank(ctx, "board", want[i].p).Val(); int(r) != i {
			t.Fatalf("ZREVRANK %s = %d, want %d", want[i].p, r, i)
		}
	}
	// "Players around me": the 5 above and below a given player.
	me := want[len(want)/2]
	r := c.ZRevRank(ctx, "board", me.p).Val()
	around := c.ZRevRange(ctx, "board", r-5, r+5).Val()
	if len(around) != 11 || around[5] != me.p {
		t.Fatalf("around %s: %v", me.p, around)
	}
	// Score bands.
	cnt := c.ZCount(ctx, "board", "(1000", "+inf").Val()
	wantCnt := 0
	for _, e := range want {
		if e.s > 1000 {
			wantCnt++
		}
	}
	if int(cnt) != wantCnt {
		t.Fatalf("ZCOUNT (1000 +inf = %d, want %d", cnt, wantCnt)
	}
	// Season reset: keep the top 100.
	c.ZRemRangeByRank(ctx, "board", 0, int64(-101))
	if got := c.ZCard(ctx, "board").Val(); got != 100 {
		t.Fatalf("after trimming: %d", got)
	}
}
