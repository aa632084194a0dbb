package integration

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// persistInfo returns one INFO persistence field.
func persistInfo(t *testing.T, c *redis.Client, field string) string {
	t.Helper()
	s, err := c.Info(Ctx(t, 10*time.Second), "persistence").Result()
	if err != nil {
		return ""
	}
	for _, ln := range strings.Split(s, "\r\n") {
		if v, ok := strings.CutPrefix(ln, field+":"); ok {
			return v
		}
	}
	return ""
}

// waitLoaded waits until the node has finished loading its dataset.
func waitLoaded(t *testing.T, n *Node) {
	t.Helper()
	c := n.Client()
	Eventually(t, 60*time.Second, "dataset loaded", func() bool { return persistInfo(t, c, "loading") == "0" })
}

func waitField(t *testing.T, n *Node, field, want string) {
	t.Helper()
	c := n.Client()
	Eventually(t, 60*time.Second, field+"="+want, func() bool { return persistInfo(t, c, field) == want })
}

// startExpectFailure runs the node's command line and expects the process
// to exit with an error within the timeout; it returns the output.
func startExpectFailure(t *testing.T, n *Node) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.Bin, n.Args...)
	cmd.Dir = n.Dir
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("server did not exit on a damaged file:\n%s", out)
	}
	if err == nil {
		t.Fatalf("server exited 0 on a damaged file:\n%s", out)
	}
	return string(out)
}

func aofDir(n *Node) string { return filepath.Join(n.Dir, "appendonlydir") }

func incrFile(t *testing.T, n *Node) string {
	t.Helper()
	fs, _ := filepath.Glob(filepath.Join(aofDir(n), "*.incr.aof"))
	if len(fs) != 1 {
		t.Fatalf("incr files: %v", fs)
	}
	return fs[0]
}

// ackLog records acknowledged writes of concurrent writers.
type ackLog struct {
	mu   sync.Mutex
	keys map[string]string
	cnt  map[string]int64
}

func newAckLog() *ackLog { return &ackLog{keys: map[string]string{}, cnt: map[string]int64{}} }

// writers runs w writers against addr until ctx ends. Each SETs unique keys
// and INCRs its own counter, recording what was acknowledged.
func runWriters(ctx context.Context, addr, tag string, w int, log *ackLog) *sync.WaitGroup {
	var wg sync.WaitGroup
	for i := 0; i < w; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, PoolSize: 1, DialTimeout: time.Second, ReadTimeout: 5 * time.Second})
			defer c.Close()
			cnt := fmt.Sprintf("cnt:%s:%d", tag, i)
			for j := 0; ctx.Err() == nil; j++ {
				k := fmt.Sprintf("k:%s:%d:%d", tag, i, j)
				v := strconv.Itoa(j) + strings.Repeat("v", j%40)
				if c.Set(ctx, k, v, 0).Err() != nil {
					return
				}
				log.mu.Lock()
				log.keys[k] = v
				log.mu.Unlock()
				n, err := c.Incr(ctx, cnt).Result()
				if err != nil {
					return
				}
				log.mu.Lock()
				log.cnt[cnt] = n
				log.mu.Unlock()
			}
		}(i)
	}
	return &wg
}

// checkAcked verifies every acknowledged write survived.
func checkAcked(t *testing.T, c *redis.Client, log *ackLog) {
	t.Helper()
	ctx := Ctx(t, 60*time.Second)
	log.mu.Lock()
	defer log.mu.Unlock()
	keys := make([]string, 0, len(log.keys))
	for k := range log.keys {
		keys = append(keys, k)
	}
	for i := 0; i < len(keys); i += 500 {
		end := min(i+500, len(keys))
		vals, err := c.MGet(ctx, keys[i:end]...).Result()
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range vals {
			if s, _ := v.(string); s != log.keys[keys[i+j]] {
				t.Fatalf("acknowledged write lost: %s = %q, want %q", keys[i+j], v, log.keys[keys[i+j]])
			}
		}
	}
	for k, n := range log.cnt {
		got, _ := c.Get(ctx, k).Int64()
		// The last INCR may have been applied without its reply arriving.
		if got != n && got != n+1 {
			t.Fatalf("counter %s = %d, acknowledged %d", k, got, n)
		}
	}
}

// kill -9 at random moments under appendfsync always (and everysec, which
// also writes to the kernel before replying): every acknowledged write is
// there after the restart.
func TestAOFKill9KeepsAcknowledgedWrites(t *testing.T) {
	for _, policy := range []string{"always", "everysec"} {
		t.Run(policy, func(t *testing.T) {
			n := StartNode(t, Options{Args: []string{"--appendonly", "yes", "--appendfsync", policy}})
			log := newAckLog()
			rng := rand.New(rand.NewSource(time.Now().UnixNano()))
			rounds := 20 // issue 8: 20 kill -9 rounds under appendfsync always
			if policy == "everysec" {
				rounds = 2
			}
			for r := 0; r < rounds; r++ {
				waitLoaded(t, n)
				ctx, cancel := context.WithCancel(context.Background())
				wg := runWriters(ctx, n.Addr(), fmt.Sprint(r), 4, log)
				time.Sleep(time.Duration(100+rng.Intn(300)) * time.Millisecond)
				n.Kill()
				cancel()
				wg.Wait()
				n.Start()
				waitLoaded(t, n)
				checkAcked(t, n.Client(), log)
			}
			log.mu.Lock()
			t.Logf("%s: %d acknowledged keys survived %d kill -9 rounds", policy, len(log.keys), rounds)
			log.mu.Unlock()
		})
	}
}

// BGSAVE while clients write: the snapshot is one point in time (each
// writer's keys, written in order, form a prefix: no gaps, nothing after a
// missing key) and other clients are not paused.
func TestBgsaveWhileWriting(t *testing.T) {
	n := StartNode(t, Options{})
	c := n.Client()
	ctx := Ctx(t, 120*time.Second)
	const preload = 100000
	pipe := c.Pipeline()
	for i := 0; i < preload; i++ {
		pipe.Set(ctx, "pre:"+strconv.Itoa(i), strings.Repeat("p", 32), 0)
		if i%1000 == 999 {
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	const writers = 3
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wc := redis.NewClient(&redis.Options{Addr: n.Addr(), PoolSize: 1})
			defer wc.Close()
			for j := 0; wctx.Err() == nil; {
				p := wc.Pipeline()
				for k := 0; k < 50; k++ {
					p.Set(wctx, fmt.Sprintf("seq:%d:%d", w, j), j, 0)
					j++
				}
				if _, err := p.Exec(wctx); err != nil {
					return
				}
			}
		}(w)
	}
	// Latency probe.
	var maxLat time.Duration
	var pings int
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		pc := redis.NewClient(&redis.Options{Addr: n.Addr(), PoolSize: 1})
		defer pc.Close()
		for wctx.Err() == nil {
			st := time.Now()
			if pc.Get(wctx, "pre:1").Err() != nil {
				return
			}
			if d := time.Since(st); d > maxLat {
				maxLat = d
			}
			pings++
		}
	}()
	time.Sleep(200 * time.Millisecond)
	if s := c.BgSave(ctx).Val(); s != "Background saving started" {
		t.Fatalf("BGSAVE: %q", s)
	}
	waitField(t, n, "rdb_bgsave_in_progress", "0")
	time.Sleep(100 * time.Millisecond)
	cancel()
	wg.Wait()
	<-probeDone
	if st := persistInfo(t, c, "rdb_last_bgsave_status"); st != "ok" {
		t.Fatalf("bgsave status %s", st)
	}
	t.Logf("GET latency during BGSAVE of %d+ keys: max %v over %d requests", preload, maxLat, pings)
	if maxLat > 500*time.Millisecond {
		t.Errorf("a client was paused %v during BGSAVE", maxLat)
	}
	n.Kill()
	n.Start()
	waitLoaded(t, n)
	c = n.Client()
	if got := c.DBSize(ctx).Val(); got < preload {
		t.Fatalf("dbsize %d after reload", got)
	}
	for w := 0; w < writers; w++ {
		// Find the prefix length by binary search, then check no key beyond.
		lo, hi := 0, 1<<22
		for lo < hi {
			mid := (lo + hi) / 2
			if c.Exists(ctx, fmt.Sprintf("seq:%d:%d", w, mid)).Val() == 1 {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		m := lo
		for j := 0; j < m; j++ {
			if j%97 == 0 || j > m-200 {
				if v, _ := c.Get(ctx, fmt.Sprintf("seq:%d:%d", w, j)).Int(); v != j {
					t.Fatalf("writer %d: key %d missing below the cut (%d)", w, j, m)
				}
			}
		}
		var after []string
		for j := m; j < m+500; j++ {
			after = append(after, fmt.Sprintf("seq:%d:%d", w, j))
		}
		if cnt := c.Exists(ctx, after...).Val(); cnt != 0 {
			t.Fatalf("writer %d: %d keys after the first missing one (%d): not a point-in-time snapshot", w, cnt, m)
		}
		t.Logf("writer %d: %d keys in the snapshot", w, m)
	}
}

// BGREWRITEAOF while clients write loses nothing and applies nothing twice
// (APPEND is not idempotent), and old files are removed.
func TestAOFRewriteDuringWrites(t *testing.T) {
	n := StartNode(t, Options{Args: []string{"--appendonly", "yes", "--appendfsync", "everysec"}})
	waitLoaded(t, n)
	ctx := Ctx(t, 120*time.Second)
	var mu sync.Mutex
	acked := map[string]int{}
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wc := redis.NewClient(&redis.Options{Addr: n.Addr(), PoolSize: 1})
			defer wc.Close()
			for j := 0; wctx.Err() == nil; j++ {
				k := fmt.Sprintf("app:%d:%d", w, j%30)
				if wc.Append(wctx, k, "x").Err() != nil {
					return
				}
				mu.Lock()
				acked[k]++
				mu.Unlock()
			}
		}(w)
	}
	c := n.Client()
	for r := 0; r < 3; r++ {
		time.Sleep(150 * time.Millisecond)
		if s := c.BgRewriteAOF(ctx).Val(); s != "Background append only file rewriting started" {
			t.Fatalf("BGREWRITEAOF: %q", s)
		}
		waitField(t, n, "aof_rewrite_in_progress", "0")
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	wg.Wait()
	if st := persistInfo(t, c, "aof_last_bgrewrite_status"); st != "ok" {
		t.Fatalf("rewrite status %s", st)
	}
	if r := persistInfo(t, c, "aof_rewrites"); r != "3" {
		t.Fatalf("aof_rewrites %s", r)
	}
	n.Kill()
	fs, _ := filepath.Glob(filepath.Join(aofDir(n), "*"))
	if len(fs) != 3 {
		t.Fatalf("AOF dir holds %v", fs)
	}
	n.Start()
	waitLoaded(t, n)
	c = n.Client()
	for k, cnt := range acked {
		if l := c.StrLen(ctx, k).Val(); l != int64(cnt) {
			t.Fatalf("%s: length %d after reload, %d APPENDs acknowledged", k, l, cnt)
		}
	}
	t.Logf("%d keys checked", len(acked))
}

func TestAOFTruncatedTail(t *testing.T) {
	n := StartNode(t, Options{Args: []string{"--appendonly", "yes"}})
	waitLoaded(t, n)
	ctx := Ctx(t, 30*time.Second)
	c := n.Client()
	c.Set(ctx, "a", "1", 0)
	c.RPush(ctx, "l", "x", "y")
	n.Stop()
	f := incrFile(t, n)
	st, _ := os.Stat(f)
	fh, _ := os.OpenFile(f, os.O_WRONLY|os.O_APPEND, 0)
	fh.WriteString("*3\r\n$3\r\nSET\r\n$1\r\nz\r\n$5\r\nhel") // crash mid-write
	fh.Close()
	n.Start()
	waitLoaded(t, n)
	c = n.Client()
	if c.Get(ctx, "a").Val() != "1" || c.LLen(ctx, "l").Val() != 2 || c.Exists(ctx, "z").Val() != 0 {
		t.Fatal("data wrong after loading a truncated AOF")
	}
	if st2, _ := os.Stat(f); st2.Size() != st.Size() {
		t.Fatalf("tail not truncated: %d -> %d bytes", st.Size(), st2.Size())
	}
	if !strings.Contains(n.Tail(50), "short read") {
		t.Fatalf("no truncation warning in the log:\n%s", n.Tail(20))
	}
	// Writes continue cleanly after the cut.
	c.Set(ctx, "b", "2", 0)
	n.Kill()
	n.Start()
	waitLoaded(t, n)
	if n.Client().Get(ctx, "b").Val() != "2" {
		t.Fatal("write after truncation lost")
	}

	// With aof-load-truncated no the same damage stops startup.
	n.Stop()
	fh, _ = os.OpenFile(f, os.O_WRONLY|os.O_APPEND, 0)
	fh.WriteString("*2\r\n$3\r\nDEL")
	fh.Close()
	n.Args = append(n.Args, "--aof-load-truncated", "no")
	out := startExpectFailure(t, n)
	if !strings.Contains(out, f) || !strings.Contains(out, "offset") {
		t.Fatalf("error does not name file and offset:\n%s", out)
	}
}

func TestAOFCorruptionStopsStartup(t *testing.T) {
	n := StartNode(t, Options{Args: []string{"--appendonly", "yes"}})
	waitLoaded(t, n)
	ctx := Ctx(t, 30*time.Second)
	c := n.Client()
	for i := 0; i < 10; i++ {
		c.Set(ctx, "k"+strconv.Itoa(i), i, 0)
	}
	n.Stop()
	f := incrFile(t, n)
	data, _ := os.ReadFile(f)
	cmdLen := len("*3\r\n$3\r\nset\r\n$2\r\nk0\r\n$1\r\n0\r\n")
	off := 3 * cmdLen
	data[off] = '!'
	os.WriteFile(f, data, 0o644)
	out := startExpectFailure(t, n)
	if !strings.Contains(out, f) || !strings.Contains(out, "offset "+strconv.Itoa(off)) {
		t.Fatalf("error does not name %s offset %d:\n%s", f, off, out)
	}
	// The checker reports the same and refuses to "fix" by dropping data.
	chk, _ := exec.Command(n.Bin, "--check-aof", "--fix", aofDir(n)).CombinedOutput()
	if !strings.Contains(string(chk), "not valid") {
		t.Fatalf("checker:\n%s", chk)
	}
}

func TestSnapshotSaveLoadAndCorruption(t *testing.T) {
	n := StartNode(t, Options{})
	c := n.Client()
	ctx := Ctx(t, 60*time.Second)
	keys := dumpFixtures(t, c)
	c.Expire(ctx, "d:list", time.Hour)
	c.PExpire(ctx, "d:hash", 300*time.Millisecond)
	want := map[string]string{}
	for _, k := range keys {
		want[k] = valueOf(t, c, k)
	}
	before := c.LastSave(ctx).Val()
	if persistInfo(t, c, "rdb_changes_since_last_save") == "0" {
		t.Fatal("no changes counted")
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if persistInfo(t, c, "rdb_changes_since_last_save") != "0" || c.LastSave(ctx).Val() < before {
		t.Fatal("SAVE did not reset the change counter / LASTSAVE")
	}
	time.Sleep(400 * time.Millisecond) // d:hash expires before the restart
	n.Kill()
	n.Start()
	waitLoaded(t, n)
	c = n.Client()
	for _, k := range keys {
		if k == "d:hash" {
			if c.Exists(ctx, k).Val() != 0 {
				t.Fatal("expired key loaded")
			}
			continue
		}
		if got := valueOf(t, c, k); got != want[k] {
			t.Fatalf("%s after reload: %.200s want %.200s", k, got, want[k])
		}
	}
	if ttl := c.TTL(ctx, "d:list").Val(); ttl < 59*time.Minute {
		t.Fatalf("TTL lost: %v", ttl)
	}
	if persistInfo(t, c, "rdb_last_load_keys_loaded") != strconv.Itoa(len(keys)-1) {
		t.Fatalf("rdb_last_load_keys_loaded %s", persistInfo(t, c, "rdb_last_load_keys_loaded"))
	}
	n.Stop()

	path := filepath.Join(n.Dir, "dump.rdb")
	out, err := exec.Command(n.Bin, "--check-snapshot", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("check-snapshot on a good file: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(path)
	data[len(data)/2] ^= 0x55
	os.WriteFile(path, data, 0o644)
	if out, err := exec.Command(n.Bin, "--check-snapshot", path).CombinedOutput(); err == nil || !strings.Contains(string(out), "offset") {
		t.Fatalf("check-snapshot on a damaged file: %v\n%s", err, out)
	}
	out2 := startExpectFailure(t, n)
	if !strings.Contains(out2, path) || !strings.Contains(out2, "offset") {
		t.Fatalf("startup error does not name file and offset:\n%s", out2)
	}
}

func TestShutdownSaveModes(t *testing.T) {
	n := StartNode(t, Options{Args: []string{"--save", "900 1"}})
	ctx := Ctx(t, 60*time.Second)
	n.Client().Set(ctx, "a", "1", 0)
	n.Stop() // SIGTERM with save points: saves
	n.Start()
	waitLoaded(t, n)
	if n.Client().Get(ctx, "a").Val() != "1" {
		t.Fatal("SIGTERM with save points did not save")
	}
	n.Client().Set(ctx, "b", "2", 0)
	r := DialRaw(t, n.Addr())
	r.Do("SHUTDOWN", "NOSAVE")
	Eventually(t, 10*time.Second, "process exit", func() bool { return !n.Running() })
	n.Start()
	waitLoaded(t, n)
	if n.Client().Exists(ctx, "b").Val() != 0 || n.Client().Get(ctx, "a").Val() != "1" {
		t.Fatal("SHUTDOWN NOSAVE saved")
	}
	if got, _ := DialRaw(t, n.Addr()).Do("SHUTDOWN", "SAVE", "NOSAVE"); got != "-ERR syntax error\r\n" {
		t.Fatalf("SHUTDOWN SAVE NOSAVE: %q", got)
	}
	if got, _ := DialRaw(t, n.Addr()).Do("SHUTDOWN", "ABORT"); got != "-ERR No shutdown in progress.\r\n" {
		t.Fatalf("SHUTDOWN ABORT: %q", got)
	}

	// No save points: SIGTERM does not save, SHUTDOWN SAVE does.
	m := StartNode(t, Options{})
	m.Client().Set(ctx, "c", "3", 0)
	m.Stop()
	m.Start()
	waitLoaded(t, m)
	if m.Client().Exists(ctx, "c").Val() != 0 {
		t.Fatal("saved without save points")
	}
	m.Client().Set(ctx, "d", "4", 0)
	DialRaw(t, m.Addr()).Do("SHUTDOWN", "SAVE")
	Eventually(t, 10*time.Second, "process exit", func() bool { return !m.Running() })
	m.Start()
	waitLoaded(t, m)
	if m.Client().Get(ctx, "d").Val() != "4" {
		t.Fatal("SHUTDOWN SAVE did not save")
	}
}

func TestSavePointTriggersBgsave(t *testing.T) {
	n := StartNode(t, Options{Args: []string{"--save", "1 3"}})
	c := n.Client()
	ctx := Ctx(t, 30*time.Second)
	for i := 0; i < 5; i++ {
		c.Set(ctx, "sp"+strconv.Itoa(i), i, 0)
	}
	Eventually(t, 10*time.Second, "save point fired", func() bool {
		return persistInfo(t, c, "rdb_saves") != "0" && persistInfo(t, c, "rdb_bgsave_in_progress") == "0"
	})
	n.Kill()
	n.Start()
	waitLoaded(t, n)
	if n.Client().DBSize(ctx).Val() != 5 {
		t.Fatal("save point snapshot incomplete")
	}
}

// CONFIG SET appendonly yes on a running server creates the AOF from the
// current data; writes after it survive kill -9.
func TestAOFEnabledAtRuntime(t *testing.T) {
	n := StartNode(t, Options{})
	c := n.Client()
	ctx := Ctx(t, 60*time.Second)
	for i := 0; i < 1000; i++ {
		c.Set(ctx, "before:"+strconv.Itoa(i), i, 0)
	}
	if err := c.ConfigSet(ctx, "appendonly", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	waitField(t, n, "aof_enabled", "1")
	waitField(t, n, "aof_rewrite_in_progress", "0")
	c.Set(ctx, "after", "x", 0)
	n.Kill()
	n.Args = append(n.Args, "--appendonly", "yes")
	n.Start()
	waitLoaded(t, n)
	c = n.Client()
	if c.DBSize(ctx).Val() != 1001 || c.Get(ctx, "after").Val() != "x" {
		t.Fatalf("dbsize %d", c.DBSize(ctx).Val())
	}
	// And CONFIG SET appendonly no stops it.
	if err := c.ConfigSet(ctx, "appendonly", "no").Err(); err != nil {
		t.Fatal(err)
	}
	waitField(t, n, "aof_enabled", "0")
}

func TestCheckAOFTool(t *testing.T) {
	n := StartNode(t, Options{Args: []string{"--appendonly", "yes"}})
	waitLoaded(t, n)
	n.Client().Set(Ctx(t, 10*time.Second), "a", "1", 0)
	n.Stop()
	run := func(args ...string) (string, int) {
		out, err := exec.Command(n.Bin, args...).CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return string(out), code
	}
	if out, code := run("--check-aof", aofDir(n)); code != 0 || !strings.Contains(out, "valid") {
		t.Fatalf("good AOF: %d\n%s", code, out)
	}
	f := incrFile(t, n)
	fh, _ := os.OpenFile(f, os.O_WRONLY|os.O_APPEND, 0)
	fh.WriteString("*2\r\n$3\r\nDEL\r\n$1")
	fh.Close()
	if out, code := run("--check-aof", aofDir(n)); code == 0 || !strings.Contains(out, "--fix") {
		t.Fatalf("truncated AOF: %d\n%s", code, out)
	}
	if out, code := run("--check-aof", "--fix", filepath.Join(aofDir(n), "appendonly.aof.manifest")); code != 0 {
		t.Fatalf("--fix: %d\n%s", code, out)
	}
	if out, code := run("--check-aof", aofDir(n)); code != 0 {
		t.Fatalf("after fix: %d\n%s", code, out)
	}
}

const misconf = "-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.\r\n"

// rawSteps returns a function that sends one command on a raw connection
// to n and fails the test unless the reply is want, byte for byte.
func rawSteps(t *testing.T, n *Node) func(want string, args ...string) {
	r := DialRaw(t, n.Addr())
	return func(want string, args ...string) {
		t.Helper()
		got, err := r.Do(args...)
		if err != nil || got != want {
			t.Fatalf("%s %v: got %q (%v), want %q", filepath.Base(n.Bin), args, got, err, want)
		}
	}
}

// stop-writes-on-bgsave-error: after a failed BGSAVE (dump.rdb is a
// directory, so the rename fails even as root), with save points set,
// writes and PING get Redis 7.0's -MISCONF, reads still work, a write inside
// MULTI aborts the transaction; CONFIG SET stop-writes-on-bgsave-error no or
// save "" lift it at once; a successful BGSAVE clears it. The same steps run
// against redis-server 7 and must give the same bytes.
func TestStopWritesOnBgsaveError(t *testing.T) {
	run := func(t *testing.T, n *Node) {
		do := rawSteps(t, n)
		bgsaveStatus := func(want string) {
			t.Helper()
			c := n.Client()
			Eventually(t, 20*time.Second, "bgsave status "+want, func() bool {
				return persistInfo(t, c, "rdb_bgsave_in_progress") == "0" && persistInfo(t, c, "rdb_last_bgsave_status") == want
			})
		}
		do("+OK\r\n", "SET", "a", "1")
		// A transaction whose write was queued before the save failed.
		r2 := DialRaw(t, n.Addr())
		for _, step := range [][]string{{"+OK\r\n", "MULTI"}, {"+QUEUED\r\n", "SET", "a", "queued"}} {
			if got, err := r2.Do(step[1:]...); err != nil || got != step[0] {
				t.Fatalf("%s %v: got %q (%v)", filepath.Base(n.Bin), step[1:], got, err)
			}
		}
		if err := os.MkdirAll(filepath.Join(n.Dir, "dump.rdb", "x"), 0o755); err != nil {
			t.Fatal(err)
		}
		do("+Background saving started\r\n", "BGSAVE")
		bgsaveStatus("err")
		if got, err := r2.Do("EXEC"); err != nil || got != "-EXECABORT Transaction discarded because of: "+misconf[1:] {
			t.Fatalf("%s EXEC of a write queued before the failed save: got %q (%v)", filepath.Base(n.Bin), got, err)
		}
		do("$1\r\n1\r\n", "GET", "a")
		do(misconf, "SET", "a", "2")
		do(misconf, "PING")
		do("$1\r\n1\r\n", "GET", "a")
		do("+OK\r\n", "MULTI")
		do(misconf, "SET", "a", "3")
		do("-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC")
		do("*2\r\n$27\r\nstop-writes-on-bgsave-error\r\n$3\r\nyes\r\n", "CONFIG", "GET", "stop-writes-on-bgsave-error")
		do("+OK\r\n", "CONFIG", "SET", "stop-writes-on-bgsave-error", "no")
		do("+OK\r\n", "SET", "a", "4")
		do("+OK\r\n", "CONFIG", "SET", "stop-writes-on-bgsave-error", "yes")
		do(misconf, "SET", "a", "5")
		do("+OK\r\n", "CONFIG", "SET", "save", "")
		do("+OK\r\n", "SET", "a", "6")
		do("+OK\r\n", "CONFIG", "SET", "save", "3600 1")
		do(misconf, "SET", "a", "7")
		if err := os.RemoveAll(filepath.Join(n.Dir, "dump.rdb")); err != nil {
			t.Fatal(err)
		}
		do("+Background saving started\r\n", "BGSAVE")
		bgsaveStatus("ok")
		do("+OK\r\n", "SET", "a", "8")
		do("+PONG\r\n", "PING")
		do("$1\r\n8\r\n", "GET", "a")
	}
	t.Run("slotkv", func(t *testing.T) { run(t, StartNode(t, Options{Args: []string{"--save", "3600 1"}})) })
	t.Run("redis", func(t *testing.T) { run(t, StartRedis(t, Options{Args: []string{"--save", "3600 1"}})) })
}

// In cluster mode Redis answers the redirection before -MISCONF: a write to
// a slot this node does not serve gets -CLUSTERDOWN Hash slot not served
// (MOVED/ASK likewise), one to a served slot -MISCONF. Same bytes from
// slotkv and redis-server 7.
func TestStopWritesOnBgsaveErrorCluster(t *testing.T) {
	run := func(t *testing.T, n *Node) {
		do := rawSteps(t, n)
		do("+OK\r\n", "CLUSTER", "ADDSLOTSRANGE", "0", "8000") // "b" is slot 3300, "a" 15495
		Eventually(t, 20*time.Second, "cluster_state:ok", func() bool {
			return strings.Contains(clusterInfo(t, n), "cluster_state:ok")
		})
		do("+OK\r\n", "SET", "b", "1")
		if err := os.MkdirAll(filepath.Join(n.Dir, "dump.rdb", "x"), 0o755); err != nil {
			t.Fatal(err)
		}
		do("+Background saving started\r\n", "BGSAVE")
		c := n.Client()
		Eventually(t, 20*time.Second, "bgsave status err", func() bool {
			return persistInfo(t, c, "rdb_bgsave_in_progress") == "0" && persistInfo(t, c, "rdb_last_bgsave_status") == "err"
		})
		do("-CLUSTERDOWN Hash slot not served\r\n", "SET", "a", "1")
		do(misconf, "SET", "b", "2")
		do("+OK\r\n", "MULTI")
		do("-CLUSTERDOWN Hash slot not served\r\n", "SET", "a", "1")
		do("-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC")
		do("$1\r\n1\r\n", "GET", "b")
	}
	args := []string{"--save", "3600 1", "--cluster-require-full-coverage", "no", "--cluster-node-timeout", "1000"}
	t.Run("slotkv", func(t *testing.T) { run(t, StartNode(t, Options{Cluster: true, Args: args})) })
	t.Run("redis", func(t *testing.T) { run(t, StartRedis(t, Options{Cluster: true, Args: args})) })
}
