package node

import (
	"strconv"
	"strings"
	"testing"
)

func TestMemoryCommandsUnit(t *testing.T) {
	e := newStrTestEnv(t)
	e.do("SET", "a", "hello")
	if got := e.do("MEMORY", "STATS"); !strings.HasPrefix(got, "*56\r\n$14\r\npeak.allocated\r\n:") ||
		!strings.Contains(got, "$10\r\nkeys.count\r\n:1\r\n") || !strings.Contains(got, "$4\r\ndb.0\r\n*6\r\n") {
		t.Fatalf("MEMORY STATS: %q", got)
	}
	for i := 0; i < 2000; i++ {
		e.do("HSET", "h", "field:"+strconv.Itoa(i), "value:"+strconv.Itoa(i))
		e.do("RPUSH", "l", "element:"+strconv.Itoa(i))
	}
	usage := func(args ...string) int {
		r := e.do(append([]string{"MEMORY", "USAGE"}, args...)...)
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r, ":"), "\r\n"))
		if err != nil {
			t.Fatalf("MEMORY USAGE %v: %q", args, r)
		}
		return n
	}
	for _, k := range []string{"h", "l"} {
		all, sampled := usage(k, "SAMPLES", "0"), usage(k)
		if sampled < all/2 || sampled > all*2 {
			t.Errorf("%s: sampled %d, all %d", k, sampled, all)
		}
	}
	if s := usage("a"); s < 16 || s > 200 {
		t.Errorf("string: %d", s)
	}
	runCases(t, e, []replyCase{
		{a("MEMORY", "USAGE", "nokey"), "$-1\r\n"},
		{a("MEMORY", "USAGE", "a", "SAMPLES", "-1"), "-ERR syntax error\r\n"},
		{a("MEMORY", "USAGE", "a", "SAMPLES", "x"), "-ERR value is not an integer or out of range\r\n"},
		{a("MEMORY", "PURGE"), "+OK\r\n"},
		{a("MEMORY", "MALLOC-STATS"), "$45\r\nStats not supported for the current allocator\r\n"},
	})
}
