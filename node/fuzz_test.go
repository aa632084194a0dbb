package node

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"testing"
)

// newTestServer returns an in-process server (no listener) and a client
// whose replies are drained from a pipe.
func newTestServer(t testing.TB, cluster bool) (*Server, *Client) {
	cfg := DefaultConfig()
	cfg.ClusterEnabled = cluster
	s := NewServer(&cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	a, b := net.Pipe()
	go io.Copy(io.Discard, b)
	t.Cleanup(func() { a.Close(); b.Close() })
	return s, s.newClient(a)
}

// fuzzSkip lists commands the dispatch fuzzer must not run: they block,
// stop the process or take over the connection.
func fuzzSkip(cmd *Command) bool {
	if cmd == nil {
		return false
	}
	switch cmd.Name {
	case "shutdown", "monitor", "debug", "sync", "psync", "replicaof", "slaveof", "save", "bgsave", "bgrewriteaof", "failover", "cluster", "migrate",
		"client|pause": // would stall the fuzzer for the pause duration
		return true
	}
	return cmd.Flags&FlagBlocking != 0
}

// FuzzDispatch runs arbitrary argument vectors (NUL-separated) through the
// full dispatch path: it must never panic, and must always write a reply.
func FuzzDispatch(f *testing.F) {
	for _, s := range []string{"set\x00k\x00v", "get\x00k", "incr\x00k", "del\x00k\x00k2", "expire\x00k\x00-1",
		"mset\x00a\x00b\x00c", "getrange\x00k\x00-100\x009223372036854775807", "setrange\x00k\x00536870000\x00x",
		"hset\x00h\x00f\x00v", "lpush\x00l\x00a", "zadd\x00z\x00nan\x00m", "sadd\x00s\x00m", "scan\x000\x00count\x00-1",
		"multi", "exec", "watch\x00k", "eval\x00return 1\x000", "config\x00get\x00*", "client\x00list", "command\x00info\x00get"} {
		f.Add([]byte(s))
	}
	s, c := newTestServer(f, false)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 || len(data) > 4096 {
			return
		}
		argv := bytes.Split(data, []byte{0})
		if len(argv) > 64 {
			return
		}
		var scratch [32]byte
		if cmd := lookupCommand(argv[0], &scratch); fuzzSkip(cmd) {
			return
		} else if cmd != nil && cmd.Sub != nil && len(argv) > 1 {
			if sub := lookupSub(cmd, argv[1]); fuzzSkip(sub) {
				return
			}
		}
		for _, a := range argv[1:] { // huge numeric arguments would allocate gigabytes
			if len(a) >= 9 && a[0] >= '1' && a[0] <= '9' {
				return
			}
		}
		before := len(c.W.B)
		s.Process(c, argv)
		if len(c.W.B) == before && !c.CloseAfterReply {
			t.Fatalf("no reply for %q", argv)
		}
		if len(c.W.B) > 1<<20 {
			c.W.B = c.W.B[:0]
		}
		c.CloseAfterReply = false
	})
}

func BenchmarkDispatchSetGet(b *testing.B) {
	s, c := newTestServer(b, false)
	set := [][]byte{[]byte("SET"), []byte("key:000000000001"), []byte("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")}
	get := [][]byte{[]byte("GET"), []byte("key:000000000001")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.Process(c, set)
		s.Process(c, get)
		c.W.B = c.W.B[:0]
	}
}
