package node

// Performance benchmarks for the request path and the keyspace's memory
// use (issue 2's "make bench" targets). They report cpu-ns/op (process CPU
// time per request), which stays meaningful on a shared machine where wall
// time per op does not.
//
//	go test ./node -run '^$' -bench 'Perf' -benchmem -count 5
//	go test ./node -run 'TestPerfMemPerKey' -v   (SLOTKV_MEMTEST=1)

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// perfCPU returns a function that reports process CPU time per op.
func perfCPU(b *testing.B) func() {
	cpu := func() int64 {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return ru.Utime.Nano() + ru.Stime.Nano()
	}
	start := cpu()
	return func() {
		b.ReportMetric(float64(cpu()-start)/float64(b.N), "cpu-ns/op")
	}
}

// perfServer starts a real server on a loopback port (no start hooks).
func perfServer(tb testing.TB) *Server {
	cfg := DefaultConfig()
	cfg.Bind = []string{"127.0.0.1"}
	cfg.Port = 0
	cfg.Dir = tb.TempDir()
	s := NewServer(&cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := s.Listen(); err != nil {
		tb.Fatal(err)
	}
	go s.Serve()
	tb.Cleanup(s.Shutdown)
	return s
}

func perfCmd(args ...string) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, "$"+strconv.Itoa(len(a))+"\r\n"+a+"\r\n"...)
	}
	return b
}

// perfSkipReply consumes one reply (simple types and bulk strings only).
func perfSkipReply(rd *bufio.Reader) error {
	line, err := rd.ReadSlice('\n')
	if err != nil {
		return err
	}
	switch line[0] {
	case '+', ':':
		return nil
	case '$':
		n, _ := strconv.Atoi(string(line[1 : len(line)-2]))
		if n >= 0 {
			_, err = rd.Discard(n + 2)
		}
		return err
	}
	return fmt.Errorf("unexpected reply %q", line)
}

// BenchmarkPerfTCP drives a real server over loopback like redis-benchmark
// -c 50 -P 1|16 (one key, 3-byte values: redis-benchmark's defaults).
func BenchmarkPerfTCP(b *testing.B) {
	val := "xxx"
	cmds := map[string][]byte{
		"SET":  perfCmd("SET", "key:__rand_int__", val),
		"GET":  perfCmd("GET", "key:__rand_int__"),
		"INCR": perfCmd("INCR", "counter:__rand_int__"),
		"MSET": perfCmd("MSET", "key:__rand_int__", val, "key:__rand_int__", val, "key:__rand_int__", val, "key:__rand_int__", val, "key:__rand_int__", val,
			"key:__rand_int__", val, "key:__rand_int__", val, "key:__rand_int__", val, "key:__rand_int__", val, "key:__rand_int__", val),
	}
	s := perfServer(b)
	addr := s.Addr().String()
	const clients = 50
	for _, name := range []string{"SET", "GET", "INCR", "MSET"} {
		for _, depth := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/P%d", name, depth), func(b *testing.B) {
				req := make([]byte, 0, depth*len(cmds[name]))
				for i := 0; i < depth; i++ {
					req = append(req, cmds[name]...)
				}
				conns := make([]net.Conn, clients)
				for i := range conns {
					c, err := net.Dial("tcp", addr)
					if err != nil {
						b.Fatal(err)
					}
					defer c.Close()
					conns[i] = c
				}
				batches := b.N / depth
				if batches < clients {
					batches = clients
				}
				var next sync.WaitGroup
				work := make(chan struct{}, batches)
				for i := 0; i < batches; i++ {
					work <- struct{}{}
				}
				close(work)
				b.ResetTimer()
				done := perfCPU(b)
				for _, c := range conns {
					next.Add(1)
					go func(c net.Conn) {
						defer next.Done()
						rd := bufio.NewReaderSize(c, 64<<10)
						for range work {
							if _, err := c.Write(req); err != nil {
								b.Error(err)
								return
							}
							for j := 0; j < depth; j++ {
								if err := perfSkipReply(rd); err != nil {
									b.Error(err)
									return
								}
							}
						}
					}(c)
				}
				next.Wait()
				done()
				b.ReportMetric(float64(batches*depth)/b.Elapsed().Seconds(), "req/s")
			})
		}
	}
}

// BenchmarkPerfProcess runs commands through Process on one client (no
// network): the per-command CPU cost of dispatch, locking and the command.
func BenchmarkPerfProcess(b *testing.B) {
	s, c := newTestServer(b, false)
	v := []byte("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
	k := []byte("key:000000000001")
	cases := []struct {
		name string
		argv [][]byte
	}{
		{"SET", [][]byte{[]byte("SET"), k, v}},
		{"GET", [][]byte{[]byte("GET"), k}},
		{"INCR", [][]byte{[]byte("INCR"), []byte("counter:00000001")}},
		{"MSET10", [][]byte{[]byte("MSET"), []byte("k0"), v, []byte("k1"), v, []byte("k2"), v, []byte("k3"), v, []byte("k4"), v,
			[]byte("k5"), v, []byte("k6"), v, []byte("k7"), v, []byte("k8"), v, []byte("k9"), v}},
		{"MSET10same", [][]byte{[]byte("MSET"), k, v, k, v, k, v, k, v, k, v, k, v, k, v, k, v, k, v, k, v}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			done := perfCPU(b)
			for i := 0; i < b.N; i++ {
				s.Process(c, tc.argv)
				c.W.B = c.W.B[:0]
			}
			done()
		})
	}
}

// BenchmarkPerfNewKeys measures inserting distinct keys (SET of new keys,
// 16-byte keys and 32-byte values), the load of the memory benchmark.
func BenchmarkPerfNewKeys(b *testing.B) {
	s, c := newTestServer(b, false)
	v := []byte("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
	argv := [][]byte{[]byte("SET"), nil, v}
	b.ReportAllocs()
	done := perfCPU(b)
	for i := 0; i < b.N; i++ {
		argv[1] = fmt.Appendf(argv[1][:0], "key:%012d", i)
		s.Process(c, argv)
		c.W.B = c.W.B[:0]
	}
	done()
}

// BenchmarkPerfLookup measures GET of existing and missing keys in a
// keyspace of 1M keys (dictionary probe cost).
func BenchmarkPerfLookup(b *testing.B) {
	s, c := newTestServer(b, false)
	v := []byte("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
	const n = 1 << 20
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%012d", i)
		s.Process(c, [][]byte{[]byte("SET"), keys[i], v})
		c.W.B = c.W.B[:0]
	}
	for _, miss := range []bool{false, true} {
		b.Run(fmt.Sprintf("miss=%v", miss), func(b *testing.B) {
			argv := [][]byte{[]byte("GET"), nil}
			var mk []byte
			done := perfCPU(b)
			for i := 0; i < b.N; i++ {
				if miss {
					mk = fmt.Appendf(mk[:0], "nokey:%011d", i&(n-1))
					argv[1] = mk
				} else {
					argv[1] = keys[(i*7919)&(n-1)]
				}
				s.Process(c, argv)
				c.W.B = c.W.B[:0]
			}
			done()
		})
	}
}

// TestPerfMemPerKey loads 1,000,000 keys (16-byte keys, 32-byte values)
// through Process and reports the Go heap per key. Set SLOTKV_MEMTEST=1.
func TestPerfMemPerKey(t *testing.T) {
	if os.Getenv("SLOTKV_MEMTEST") == "" {
		t.Skip("set SLOTKV_MEMTEST=1")
	}
	s, c := newTestServer(t, false)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	v := []byte("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
	argv := [][]byte{[]byte("SET"), nil, v}
	const n = 1000000
	start := time.Now()
	for i := 0; i < n; i++ {
		argv[1] = fmt.Appendf(argv[1][:0], "key:%012d", i)
		s.Process(c, argv)
		c.W.B = c.W.B[:0]
	}
	el := time.Since(start)
	runtime.ReadMemStats(&m1)
	sysNoGC := m1.HeapSys - m1.HeapReleased
	runtime.GC()
	runtime.ReadMemStats(&m1)
	t.Logf("%d keys in %v: live heap %.1f B/key, heap in use before GC %.1f B/key, mallocs %.2f/key",
		n, el, float64(m1.HeapAlloc-m0.HeapAlloc)/n, float64(sysNoGC-(m0.HeapSys-m0.HeapReleased))/n, float64(m1.Mallocs-m0.Mallocs)/n)
	var names []string
	for _, d := range metrics.All() {
		if strings.HasPrefix(d.Name, "/memory/classes/") {
			names = append(names, d.Name)
		}
	}
	ms := make([]metrics.Sample, len(names))
	for i, n := range names {
		ms[i].Name = n
	}
	metrics.Read(ms)
	for _, m := range ms {
		t.Logf("  %-50s %8.1f B/key", m.Name, float64(m.Value.Uint64())/n)
	}
}

// BenchmarkPerfMSETParallel runs MSETs of 10 random keys from several
// clients at once: standalone mode locks every slot of the keys (ascending
// order), so concurrent MSETs over overlapping slots contend; compare with
// the same MSET on one hash tag (one slot).
func BenchmarkPerfMSETParallel(b *testing.B) {
	s, _ := newTestServer(b, false)
	v := []byte("xxx")
	for _, tagged := range []bool{false, true} {
		b.Run(fmt.Sprintf("tagged=%v", tagged), func(b *testing.B) {
			var seed atomic.Int64
			done := perfCPU(b)
			b.RunParallel(func(pb *testing.PB) {
				a, p := net.Pipe()
				go io.Copy(io.Discard, p)
				defer a.Close()
				c := s.newClient(a)
				rng := rand.New(rand.NewPCG(uint64(seed.Add(1)), 7))
				argv := make([][]byte, 21)
				argv[0] = []byte("MSET")
				for pb.Next() {
					for j := 1; j < 21; j += 2 {
						if tagged {
							argv[j] = fmt.Appendf(argv[j][:0], "{t%d}:%d", rng.IntN(4), rng.IntN(1000))
						} else {
							argv[j] = fmt.Appendf(argv[j][:0], "k:%d", rng.IntN(100000))
						}
						argv[j+1] = v
					}
					s.Process(c, argv)
					c.W.B = c.W.B[:0]
				}
			})
			done()
		})
	}
}
