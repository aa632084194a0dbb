package node

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotkv/slotkv/slots"
)

func quietServer() *Server {
	cfg := DefaultConfig()
	return NewServer(&cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// fillServer stores every sample value under several keys, some with TTLs.
func fillServer(s *Server, n int) map[string]*Entry {
	want := map[string]*Entry{}
	samples := sampleEntries()
	future := time.Now().Add(time.Hour).UnixMilli()
	for i := 0; i < n; i++ {
		key := "key:" + strconv.Itoa(i)
		e := samples[i%len(samples)]
		ne, err := DecodeValue(mustValue(e))
		if err != nil {
			panic(err)
		}
		if i%3 == 0 {
			ne.Exp = future + int64(i)
		}
		sl := s.KS.Slot(slots.Of([]byte(key)))
		sl.Lock()
		sl.Set([]byte(key), ne)
		sl.Unlock()
		want[key] = ne
	}
	return want
}

func mustValue(e *Entry) []byte {
	b, err := AppendValue(nil, e)
	if err != nil {
		panic(err)
	}
	return b
}

// dumpServer returns every live key's canonical value and expiry.
func dumpServer(s *Server) map[string]string {
	out := map[string]string{}
	now := nowMs()
	for i := 0; i < slots.N; i++ {
		sl := s.KS.Slot(i)
		sl.Lock()
		sl.Each(func(k string, e *Entry) bool {
			if e.Exp == 0 || e.Exp > now {
				out[k] = fmt.Sprintf("%s exp=%d", canonical(e), e.Exp)
			}
			return true
		})
		sl.Unlock()
	}
	return out
}

func sameData(t *testing.T, a, b map[string]string) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("key count %d vs %d", len(a), len(b))
	}
	for k, v := range a {
		if b[k] != v {
			t.Fatalf("key %s differs:\n%.200s\n%.200s", k, v, b[k])
		}
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := quietServer()
	fillServer(s, 120)
	// An expired key is not saved.
	sl := s.KS.Slot(slots.Of([]byte("gone")))
	sl.Lock()
	sl.Set([]byte("gone"), &Entry{Str: []byte("x"), Exp: 1})
	sl.Unlock()
	var buf bytes.Buffer
	st, err := s.WriteSnapshot(&buf, snapshotAux("snapshot"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Keys != 120 {
		t.Fatalf("saved %d keys", st.Keys)
	}
	s2 := quietServer()
	ls, err := s2.LoadSnapshot(bytes.NewReader(buf.Bytes()), "mem", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ls.Keys != 120 {
		t.Fatalf("loaded %d keys", ls.Keys)
	}
	want := dumpServer(s)
	delete(want, "gone")
	sameData(t, want, dumpServer(s2))

	// The slot filter drops whole slots.
	s3 := quietServer()
	keep := slots.Of([]byte("key:1"))
	ls, err = s3.LoadSnapshot(bytes.NewReader(buf.Bytes()), "mem", func(slot int) bool { return slot == keep })
	if err != nil || ls.Keys == 0 || ls.Dropped == 0 || ls.Keys+ls.Dropped != 120 {
		t.Fatalf("filtered load: %+v %v", ls, err)
	}
}

func TestSnapshotEmpty(t *testing.T) {
	var buf bytes.Buffer
	if _, err := quietServer().WriteSnapshot(&buf, nil, nil); err != nil {
		t.Fatal(err)
	}
	st, err := quietServer().LoadSnapshot(&buf, "mem", nil)
	if err != nil || st.Keys != 0 {
		t.Fatalf("%+v %v", st, err)
	}
}

// Any truncation or single-byte corruption is detected: the loader never
// reports success for a damaged file.
func TestSnapshotDamageDetected(t *testing.T) {
	s := quietServer()
	fillServer(s, 40)
	var buf bytes.Buffer
	if _, err := s.WriteSnapshot(&buf, snapshotAux("snapshot"), nil); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 200; i++ {
		var b []byte
		if i%2 == 0 {
			b = good[:rng.Intn(len(good))]
		} else {
			b = append([]byte(nil), good...)
			b[rng.Intn(len(b))] ^= byte(1 + rng.Intn(255))
		}
		_, _, err := CheckSnapshot(bytes.NewReader(b), "f")
		var se *SnapshotError
		if err == nil || !errors.As(err, &se) {
			t.Fatalf("damage %d not detected: %v", i, err)
		}
		if se.Offset < 0 || se.Offset > int64(len(good)) {
			t.Fatalf("bad offset %d", se.Offset)
		}
	}
	if _, _, err := CheckSnapshot(bytes.NewReader(good), "f"); err != nil {
		t.Fatal(err)
	}
}

// A BGSAVE-style snapshot taken while writers increment counters equals the
// state at the cut: replaying the per-slot write log up to the cut gives the
// same values.
func TestSnapshotPointInTimeUnderWrites(t *testing.T) {
	s := quietServer()
	var stop = make(chan struct{})
	var wg sync.WaitGroup
	var logMu sync.Mutex
	var log []string
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := []byte("c" + strconv.Itoa((i*13+w)%300))
				sl := s.KS.Slot(slots.Of(key))
				sl.Lock()
				n := 0
				if e := sl.Lookup(key, nowMs()); e != nil {
					n, _ = strconv.Atoi(string(e.Str))
				}
				sl.Set(key, &Entry{Str: []byte(strconv.Itoa(n + 1))})
				logMu.Lock()
				log = append(log, string(key))
				logMu.Unlock()
				sl.Unlock()
			}
		}(w)
	}
	for {
		logMu.Lock()
		n := len(log)
		logMu.Unlock()
		if n > 5000 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	var atCut int
	var buf bytes.Buffer
	_, err := s.WriteSnapshot(&buf, nil, func() { atCut = len(log) })
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, k := range log[:atCut] {
		want[k]++
	}
	s2 := quietServer()
	if _, err := s2.LoadSnapshot(&buf, "mem", nil); err != nil {
		t.Fatal(err)
	}
	got := dumpServer(s2)
	if len(got) != len(want) {
		t.Fatalf("%d keys, want %d", len(got), len(want))
	}
	for k, n := range want {
		if got[k] != fmt.Sprintf("string:%q exp=0", strconv.Itoa(n)) {
			t.Fatalf("%s: %s want %d", k, got[k], n)
		}
	}
}

func TestAOFReader(t *testing.T) {
	var b []byte
	cmds := [][][]byte{
		{[]byte("SET"), []byte("k"), []byte("v")},
		{[]byte("RPUSH"), []byte("l"), []byte(""), []byte("a\r\nb")},
		{[]byte("DEL"), []byte("k")},
	}
	var ends []int64
	for _, c := range cmds {
		b = appendRESPCommand(b, c)
		ends = append(ends, int64(len(b)))
	}
	b = append([]byte("#TS:1700000000\r\n"), b...)
	for i := range ends {
		ends[i] += int64(len("#TS:1700000000\r\n"))
	}
	ar := newAOFReader(bytes.NewReader(b), "f", 0)
	for i := range cmds {
		argv, _, err := ar.next()
		if err != nil || len(argv) != len(cmds[i]) {
			t.Fatalf("cmd %d: %v %q", i, err, argv)
		}
		for j := range argv {
			if !bytes.Equal(argv[j], cmds[i][j]) {
				t.Fatalf("cmd %d arg %d: %q", i, j, argv[j])
			}
		}
	}
	if _, _, err := ar.next(); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
	// Every truncation point is reported as truncated, at the start of the
	// incomplete command.
	for cut := 0; cut < len(b); cut++ {
		ar := newAOFReader(bytes.NewReader(b[:cut]), "f", 0)
		var lastEnd int64
		for {
			_, _, err := ar.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var ae *AOFError
				if !errors.As(err, &ae) || !ae.Truncated {
					t.Fatalf("cut %d: %v", cut, err)
				}
				if ae.Offset > int64(cut) {
					t.Fatalf("cut %d: offset %d", cut, ae.Offset)
				}
				break
			}
			lastEnd = ar.off
		}
		_ = lastEnd
	}
	// Garbage in the middle is corruption, not truncation.
	bad := append([]byte(nil), b...)
	bad[ends[0]] = 'X'
	ar = newAOFReader(bytes.NewReader(bad), "f", 0)
	ar.next()
	_, off, err := ar.next()
	var ae *AOFError
	if !errors.As(err, &ae) || ae.Truncated || off != ends[0] || ae.Offset != ends[0] {
		t.Fatalf("corruption: %v at %d", err, off)
	}
}

func TestAOFManifest(t *testing.T) {
	m := &aofManifest{Base: &aofFile{Name: "appendonly.aof.3.base.rdb", Seq: 3, Type: 'b'},
		Incrs: []aofFile{{Name: "appendonly.aof.3.incr.aof", Seq: 3, Type: 'i'}, {Name: "with space.4.incr.aof", Seq: 4, Type: 'i'}}}
	got, err := parseManifest(m.encode(), "m")
	if err != nil {
		t.Fatal(err)
	}
	if got.Base.Name != m.Base.Name || len(got.Incrs) != 2 || got.Incrs[1].Name != "with space.4.incr.aof" {
		t.Fatalf("%+v", got)
	}
	// Redis 7 writes history files too; they are not replayed.
	r := "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
	got, err = parseManifest([]byte(r), "m")
	if err != nil || len(got.Incrs) != 1 || got.Incrs[0].Seq != 2 {
		t.Fatalf("%+v %v", got, err)
	}
	for _, bad := range []string{"", "file x seq\n", "file ../x seq 1 type i\n", "file x seq 1 type z\n",
		"file a seq 1 type b\nfile b seq 2 type b\n"} {
		if _, err := parseManifest([]byte(bad), "m"); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// newTestPersistence starts persistence on an in-process server with the
// given config changes, waiting for loading to finish.
func newTestPersistence(t *testing.T, dir string, edit func(c *Config)) (*Server, *Persistence) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Dir = dir
	cfg.Save = ""
	if edit != nil {
		edit(&cfg)
	}
	s := NewServer(&cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var fatal error
	old := fatalExit
	fatalExit = func(int) { fatal = errors.New("fatal exit") }
	t.Cleanup(func() { fatalExit = old })
	if err := startPersistence(s); err != nil {
		t.Fatal(err)
	}
	p := persistenceOf(s)
	deadline := time.Now().Add(10 * time.Second)
	for p.IsLoading() && fatal == nil {
		if time.Now().After(deadline) {
			t.Fatal("loading did not finish")
		}
		time.Sleep(time.Millisecond)
	}
	if fatal != nil {
		t.Fatal(fatal)
	}
	t.Cleanup(func() {
		p.closeOnShutdown()
		persistMu.Lock()
		delete(persistences, s)
		persistMu.Unlock()
	})
	return s, p
}

// run executes one command through the dispatcher on a loopback client and
// flushes (so appendfsync waits apply). It returns the raw reply.
func run(s *Server, c *Client, args ...string) string {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	s.Process(c, argv)
	out := string(c.W.B)
	c.flush()
	return out
}

func testClient(s *Server) *Client {
	c := newLoaderClient(s)
	c.closing.Store(false)
	c.ID = 1
	return c
}

func TestAOFPersistsAndReloads(t *testing.T) {
	for _, policy := range []string{"always", "everysec", "no"} {
		t.Run(policy, func(t *testing.T) {
			dir := t.TempDir()
			edit := func(c *Config) { c.AppendOnly = true; c.AppendFsync = policy }
			s, p := newTestPersistence(t, dir, edit)
			c := testClient(s)
			for i := 0; i < 200; i++ {
				if r := run(s, c, "SET", "k"+strconv.Itoa(i), "v"+strconv.Itoa(i)); r != "+OK\r\n" {
					t.Fatalf("SET: %q", r)
				}
			}
			a := p.aof.Load()
			// Every acknowledged write has been written to the file.
			if c.AckOff.Load() > a.synced.Load() {
				t.Fatalf("ack offset %d beyond written %d", c.AckOff.Load(), a.synced.Load())
			}
			want := dumpServer(s)
			// Simulate a crash: no close, no final flush beyond what was acked.
			s2, _ := newTestPersistence(t, dir, edit)
			sameData(t, want, dumpServer(s2))
		})
	}
}

// Concurrent writers with appendfsync always: each reply waits for the
// group commit, and the file holds every acknowledged write.
func TestAOFGroupCommitConcurrent(t *testing.T) {
	dir := t.TempDir()
	edit := func(c *Config) { c.AppendOnly = true; c.AppendFsync = "always" }
	s, _ := newTestPersistence(t, dir, edit)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := testClient(s)
			for i := 0; i < 50; i++ {
				run(s, c, "SET", fmt.Sprintf("w%d:%d", w, i), "x")
			}
		}(w)
	}
	wg.Wait()
	want := dumpServer(s)
	if len(want) != 400 {
		t.Fatalf("%d keys", len(want))
	}
	s2, _ := newTestPersistence(t, dir, edit)
	sameData(t, want, dumpServer(s2))
}

func TestAOFRewriteUnderWrites(t *testing.T) {
	dir := t.TempDir()
	edit := func(c *Config) { c.AppendOnly = true; c.AppendFsync = "everysec" }
	s, p := newTestPersistence(t, dir, edit)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := testClient(s)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				// INCR-like non-idempotent writes: a replayed duplicate or a
				// lost write changes the final value.
				k := "cnt" + strconv.Itoa((i+w)%50)
				run(s, c, "APPEND", k, "x")
			}
		}(w)
	}
	for r := 0; r < 3; r++ {
		time.Sleep(20 * time.Millisecond)
		if !p.StartRewrite() {
			t.Fatal("rewrite refused")
		}
		deadline := time.Now().Add(10 * time.Second)
		for p.RewriteInProgress() {
			if time.Now().After(deadline) {
				t.Fatal("rewrite stuck")
			}
			time.Sleep(time.Millisecond)
		}
	}
	close(stop)
	wg.Wait()
	want := dumpServer(s)
	p.closeOnShutdown()
	files, _ := filepath.Glob(filepath.Join(dir, "appendonlydir", "*"))
	if len(files) != 3 {
		t.Fatalf("old AOF files left behind: %v", files)
	}
	s2, _ := newTestPersistence(t, dir, edit)
	sameData(t, want, dumpServer(s2))
}

func TestAOFTruncatedTailAndCorruption(t *testing.T) {
	dir := t.TempDir()
	edit := func(c *Config) { c.AppendOnly = true }
	s, p := newTestPersistence(t, dir, edit)
	c := testClient(s)
	run(s, c, "SET", "a", "1")
	run(s, c, "SET", "b", "2")
	p.closeOnShutdown()
	incr := filepath.Join(dir, "appendonlydir", "appendonly.aof.1.incr.aof")
	data, err := os.ReadFile(incr)
	if err != nil {
		t.Fatal(err)
	}
	// Crash in the middle of the last command: loaded without it, file cut.
	os.WriteFile(incr, data[:len(data)-3], 0o644)
	s2, p2 := newTestPersistence(t, dir, edit)
	got := dumpServer(s2)
	if len(got) != 1 || got["a"] == "" {
		t.Fatalf("after truncation: %v", got)
	}
	p2.closeOnShutdown()
	if fi, _ := os.Stat(incr); fi.Size() != int64(bytes.Index(data, []byte("*3\r\n$3\r\nSET\r\n$1\r\nb"))) {
		t.Fatalf("tail not truncated: size %d", fi.Size())
	}
	// With aof-load-truncated no, the same damage stops startup.
	os.WriteFile(incr, data[:len(data)-3], 0o644)
	cfg := DefaultConfig()
	cfg.Dir, cfg.AppendOnly, cfg.AOFLoadTruncated = dir, true, false
	s3 := NewServer(&cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	a := newAOFLog(nil, &cfg, 0)
	if _, _, err := s3.loadAOF(a.dir, a.prefix, false); err == nil || !strings.Contains(err.Error(), "offset") {
		t.Fatalf("want truncation error, got %v", err)
	}
	// Corruption in the middle: error naming the file and offset.
	bad := append([]byte(nil), data...)
	bad[1] = 'x'
	os.WriteFile(incr, bad, 0o644)
	_, _, err = s3.loadAOF(a.dir, a.prefix, true)
	var ae *AOFError
	if !errors.As(err, &ae) || ae.Truncated || ae.Offset != 0 || !strings.Contains(err.Error(), incr) {
		t.Fatalf("want corruption error at offset 0 of %s, got %v", incr, err)
	}
}

// Transactions stay contiguous in the AOF while other clients write, and a
// file cut inside a transaction loads without any of it.
func TestAOFTransactionsContiguous(t *testing.T) {
	dir := t.TempDir()
	edit := func(c *Config) { c.AppendOnly = true; c.AppendFsync = "no" }
	s, p := newTestPersistence(t, dir, edit)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := testClient(s)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			run(s, c, "SET", "other"+strconv.Itoa(i%100), "x")
		}
	}()
	c := testClient(s)
	for i := 0; i < 200; i++ {
		run(s, c, "MULTI")
		run(s, c, "SET", "{t}a", strconv.Itoa(i))
		run(s, c, "INCR", "{t}n")
		if r := run(s, c, "EXEC"); !strings.HasPrefix(r, "*2") {
			t.Fatalf("EXEC: %q", r)
		}
	}
	close(stop)
	wg.Wait()
	p.closeOnShutdown()
	incr := filepath.Join(dir, "appendonlydir", "appendonly.aof.1.incr.aof")
	f, _ := os.Open(incr)
	ar := newAOFReader(f, incr, 0)
	in := false
	var txs int
	var lastMulti int64
	for {
		argv, off, err := ar.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.ToUpper(string(argv[0]))
		switch {
		case name == "MULTI":
			if in {
				t.Fatal("nested MULTI")
			}
			in, lastMulti = true, off
		case name == "EXEC":
			in = false
			txs++
		case in && !strings.HasPrefix(string(argv[1]), "{t}"):
			t.Fatalf("foreign command inside a transaction: %q", argv)
		}
	}
	f.Close()
	if txs != 200 {
		t.Fatalf("%d transactions in the AOF", txs)
	}
	// Cut the file inside the last transaction: it is dropped as a whole.
	os.Truncate(incr, lastMulti+20)
	s2, _ := newTestPersistence(t, dir, edit)
	c2 := testClient(s2)
	if r := run(s2, c2, "GET", "{t}n"); r != "$3\r\n199\r\n" {
		t.Fatalf("after a cut inside the last transaction: %q", r)
	}
	if r := run(s2, c2, "GET", "{t}a"); r != "$3\r\n198\r\n" {
		t.Fatalf("after a cut inside the last transaction: %q", r)
	}
}

func benchServer(n int) *Server {
	s := quietServer()
	for i := 0; i < n; i++ {
		key := []byte(fmt.Sprintf("key:%08d", i))
		sl := s.KS.Slot(slots.Of(key))
		sl.Lock()
		sl.Set(key, &Entry{Str: []byte(fmt.Sprintf("value-%d-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i))})
		sl.Unlock()
	}
	return s
}

func BenchmarkSnapshotLoad(b *testing.B) {
	const n = 200000
	var buf bytes.Buffer
	if _, err := benchServer(n).WriteSnapshot(&buf, nil, nil); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := quietServer()
		if _, err := s.LoadSnapshot(bytes.NewReader(buf.Bytes()), "mem", nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/key")
}

func BenchmarkSnapshotWrite(b *testing.B) {
	const n = 200000
	s := benchServer(n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.WriteSnapshot(io.Discard, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/key")
}

func BenchmarkAOFReplay(b *testing.B) {
	const n = 200000
	var aof []byte
	for i := 0; i < n; i++ {
		aof = appendRESPCommand(aof, [][]byte{[]byte("SET"), []byte(fmt.Sprintf("key:%08d", i)), []byte(fmt.Sprintf("value-%d-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i))})
	}
	b.SetBytes(int64(len(aof)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := quietServer()
		if _, _, err := s.replayAOF(bytes.NewReader(aof), "mem", newLoaderClient(s)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/key")
}

// aof-use-rdb-preamble no: the base is RESP commands; every type and TTL
// survives a rewrite and a reload.
func TestAOFRespBase(t *testing.T) {
	dir := t.TempDir()
	edit := func(c *Config) { c.AppendOnly = true; c.AOFUseRDBPreamble = false }
	s, p := newTestPersistence(t, dir, edit)
	fillServer(s, 60)
	if !p.StartRewrite() {
		t.Fatal("rewrite refused")
	}
	for p.RewriteInProgress() {
		time.Sleep(time.Millisecond)
	}
	want := dumpServer(s)
	p.closeOnShutdown()
	if fs, _ := filepath.Glob(filepath.Join(dir, "appendonlydir", "*.base.aof")); len(fs) != 1 {
		t.Fatalf("no RESP base: %v", fs)
	}
	s2, _ := newTestPersistence(t, dir, edit)
	sameData(t, want, dumpServer(s2))
}

// While the dataset loads, commands without the loading flag get -LOADING.
func TestLoadingAnswersLoading(t *testing.T) {
	dir := t.TempDir()
	src := benchServer(150000)
	if _, err := src.SaveSnapshotFile(filepath.Join(dir, "dump.rdb"), nil, nil); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Dir, cfg.Save = dir, ""
	s := NewServer(&cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := startPersistence(s); err != nil {
		t.Fatal(err)
	}
	p := persistenceOf(s)
	t.Cleanup(func() {
		p.closeOnShutdown()
		persistMu.Lock()
		delete(persistences, s)
		persistMu.Unlock()
	})
	c := testClient(s)
	if r := run(s, c, "GET", "key:00000001"); r != "-LOADING Redis is loading the dataset in memory\r\n" {
		t.Fatalf("during loading: %q", r)
	}
	if r := run(s, c, "LASTSAVE"); !strings.HasPrefix(r, ":") {
		t.Fatalf("LASTSAVE (loading flag) during loading: %q", r)
	}
	deadline := time.Now().Add(30 * time.Second)
	for p.IsLoading() {
		if time.Now().After(deadline) {
			t.Fatal("loading stuck")
		}
		time.Sleep(time.Millisecond)
	}
	if r := run(s, c, "GET", "key:00000001"); !strings.HasPrefix(r, "$") {
		t.Fatalf("after loading: %q", r)
	}
}

// The consistency check: a snapshot taken while clients write
// equals the AOF replayed up to the stream offset recorded at the cut.
func TestSnapshotMatchesAOFPrefix(t *testing.T) {
	dir := t.TempDir()
	edit := func(c *Config) { c.AppendOnly = true; c.AppendFsync = "no"; c.AutoAOFRewritePct = 0 }
	s, p := newTestPersistence(t, dir, edit)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := testClient(s)
			rng := rand.New(rand.NewSource(int64(w)))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := strconv.Itoa(rng.Intn(400))
				switch i % 6 {
				case 0:
					run(s, c, "SET", "s"+k, strconv.Itoa(i))
				case 1:
					run(s, c, "INCR", "n"+k)
				case 2:
					run(s, c, "APPEND", "a"+k, "x")
				case 3:
					run(s, c, "RPUSH", "l"+k, strconv.Itoa(i))
				case 4:
					run(s, c, "HSET", "h"+k, "f"+strconv.Itoa(i%7), strconv.Itoa(i))
				case 5:
					run(s, c, "DEL", "s"+k)
				}
			}
		}(w)
	}
	time.Sleep(150 * time.Millisecond)
	a := p.aof.Load()
	var cutOff int64
	var snap bytes.Buffer
	if _, err := s.WriteSnapshot(&snap, nil, func() {
		a.mu.Lock()
		cutOff = a.appended
		a.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	p.closeOnShutdown()
	fromSnap := quietServer()
	if _, err := fromSnap.LoadSnapshot(&snap, "snap", nil); err != nil {
		t.Fatal(err)
	}
	incr, err := os.ReadFile(filepath.Join(dir, "appendonlydir", "appendonly.aof.1.incr.aof"))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(incr)) <= cutOff {
		t.Fatalf("AOF (%d bytes) does not extend past the cut (%d): no writes after it", len(incr), cutOff)
	}
	fromAOF := quietServer()
	if _, _, err := fromAOF.replayAOF(bytes.NewReader(incr[:cutOff]), "aof", newLoaderClient(fromAOF)); err != nil {
		t.Fatal(err)
	}
	want, got := dumpServer(fromAOF), dumpServer(fromSnap)
	if len(want) < 100 {
		t.Fatalf("only %d keys", len(want))
	}
	sameData(t, want, got)
}

// Expiry deletions reach the AOF as DEL.
func TestAOFLogsExpiryAsDel(t *testing.T) {
	dir := t.TempDir()
	edit := func(c *Config) { c.AppendOnly = true }
	s, p := newTestPersistence(t, dir, edit)
	c := testClient(s)
	run(s, c, "SET", "k", "v", "PX", "20")
	time.Sleep(60 * time.Millisecond)
	if r := run(s, c, "GET", "k"); r != "$-1\r\n" {
		t.Fatalf("GET after expiry: %q", r)
	}
	p.closeOnShutdown()
	data, _ := os.ReadFile(filepath.Join(dir, "appendonlydir", "appendonly.aof.1.incr.aof"))
	if !bytes.Contains(data, []byte("*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n")) {
		t.Fatalf("no DEL for the expired key in the AOF:\n%q", data)
	}
}

// auto-aof-rewrite-percentage / min-size trigger a rewrite by themselves.
func TestAOFAutoRewrite(t *testing.T) {
	dir := t.TempDir()
	edit := func(c *Config) {
		c.AppendOnly = true
		c.AutoAOFRewriteMin = 4096
		c.AutoAOFRewritePct = 100
	}
	s, p := newTestPersistence(t, dir, edit)
	c := testClient(s)
	for i := 0; i < 300; i++ {
		run(s, c, "SET", "k", strings.Repeat("x", 50)) // one key: the rewrite shrinks the AOF
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.mu.Lock()
		n := p.rewrites
		p.mu.Unlock()
		if n > 0 && !p.RewriteInProgress() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no automatic rewrite")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if size := p.aof.Load().totalSize(); size > 4096 {
		t.Fatalf("AOF still %d bytes after the rewrite", size)
	}
	want := dumpServer(s)
	p.closeOnShutdown()
	s2, _ := newTestPersistence(t, dir, edit)
	sameData(t, want, dumpServer(s2))
}

// appendfsync always: a reply is released only once the fdatasync of the
// batch holding its write has returned, and concurrent writers share
// batches (fewer fdatasyncs than writes).
func TestAOFAlwaysRepliesAfterFdatasync(t *testing.T) {
	var durable, syncs atomic.Int64
	aofSyncedHook = func(end int64) {
		syncs.Add(1)
		for {
			d := durable.Load()
			if end <= d || durable.CompareAndSwap(d, end) {
				return
			}
		}
	}
	t.Cleanup(func() { aofSyncedHook = nil })
	dir := t.TempDir()
	s, _ := newTestPersistence(t, dir, func(c *Config) { c.AppendOnly = true; c.AppendFsync = "always" })
	const writers, each = 16, 100
	var wg sync.WaitGroup
	var bad atomic.Int64
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := testClient(s)
			for i := 0; i < each; i++ {
				run(s, c, "SET", fmt.Sprintf("w%d:%d", w, i), "x")
				if c.AckOff.Load() > durable.Load() {
					bad.Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	if bad.Load() > 0 {
		t.Fatalf("%d replies released before their write was fdatasync'ed", bad.Load())
	}
	t.Logf("%d writes, %d fdatasyncs", writers*each, syncs.Load())
	if syncs.Load() == 0 || syncs.Load() >= writers*each {
		t.Fatalf("%d fdatasyncs for %d concurrent writes: no group commit", syncs.Load(), writers*each)
	}
}
