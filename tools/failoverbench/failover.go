package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/slotkv/slotkv/slots"
)

// FailoverRun is one kill -9.
type FailoverRun struct {
	WriteOKMs  float64 `json:"write_ok_ms"`   // kill -> a SET to the dead master's slots succeeded
	PromotedMs float64 `json:"promoted_ms"`   // kill -> its replica's ROLE says master
	Errors     int64   `json:"client_errors"` // workload SETs that failed meanwhile
}

// FailoverResult is what `failoverbench failover --json` prints.
type FailoverResult struct {
	Kind           string        `json:"kind"` // "failover"
	Server         string        `json:"server"`
	Version        string        `json:"version"`
	NodeTimeoutMs  int           `json:"node_timeout_ms"`
	Runs           []FailoverRun `json:"runs"`
	MedianWriteOK  float64       `json:"median_write_ok_ms"`
	MedianPromoted float64       `json:"median_promoted_ms"`
	Writes         int64         `json:"workload_writes"`
}

type quietLog struct{}

func (quietLog) Printf(context.Context, string, ...interface{}) {}

// newClusterClient is the integration tests' client (failover_test.go): no
// command retries, one dial attempt, so a dead node costs no retry sleeps.
func newClusterClient(addrs []string) *redis.ClusterClient {
	redis.SetLogger(quietLog{})
	return redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: addrs, DialTimeout: 300 * time.Millisecond, ReadTimeout: 3 * time.Second,
		WriteTimeout: time.Second, MaxRetries: -1, MaxRedirects: 3, PoolSize: 16,
		DialerRetries: 1, DialerRetryTimeout: 10 * time.Millisecond,
	})
}

// fnode is one cluster node with its own plain client.
type fnode struct {
	*proc
	id string
	c  *redis.Client
}

func (n *fnode) client() *redis.Client {
	if n.c == nil {
		n.c = redis.NewClient(&redis.Options{Addr: n.addr(), DialTimeout: 300 * time.Millisecond,
			ReadTimeout: time.Second, WriteTimeout: time.Second, MaxRetries: -1})
	}
	return n.c
}

func (n *fnode) resetClient() {
	if n.c != nil {
		n.c.Close()
		n.c = nil
	}
}

func qctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 2*time.Second)
}

func (n *fnode) do(args ...any) (any, error) {
	ctx, cancel := qctx()
	defer cancel()
	return n.client().Do(ctx, args...).Result()
}

func (n *fnode) str(args ...any) string {
	v, err := n.do(args...)
	if err != nil {
		return ""
	}
	s, _ := v.(string)
	return s
}

func (n *fnode) role() string {
	v, err := n.do("ROLE")
	if err != nil {
		return ""
	}
	a, _ := v.([]any)
	if len(a) == 0 {
		return ""
	}
	s, _ := a[0].(string)
	return s
}

func infoField(info, field string) string {
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), field+":"); ok {
			return v
		}
	}
	return ""
}

type fcluster struct {
	nodes []*fnode
	byID  map[string]*fnode
}

// shards parses CLUSTER NODES of one running node: master id -> replica ids,
// and master id -> its slot ranges.
func (fc *fcluster) shards() (reps map[string][]string, ranges map[string][][2]int) {
	for _, n := range fc.nodes {
		if !n.running() {
			continue
		}
		out := n.str("CLUSTER", "NODES")
		if out == "" {
			continue
		}
		reps, ranges = map[string][]string{}, map[string][][2]int{}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) > 8 && strings.Contains(f[2], "master") && !strings.Contains(f[2], "fail") {
				reps[f[0]] = nil
				for _, r := range f[8:] {
					if strings.HasPrefix(r, "[") {
						continue
					}
					a, b, ok := strings.Cut(r, "-")
					lo, _ := strconv.Atoi(a)
					hi := lo
					if ok {
						hi, _ = strconv.Atoi(b)
					}
					ranges[f[0]] = append(ranges[f[0]], [2]int{lo, hi})
				}
			}
		}
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) >= 8 && strings.Contains(f[2], "slave") && !strings.Contains(f[2], "fail") {
				if _, ok := reps[f[3]]; ok {
					reps[f[3]] = append(reps[f[3]], f[0])
				}
			}
		}
		return reps, ranges
	}
	return nil, nil
}

// healthy: every node runs, says cluster_state:ok and sees no failure flag;
// every replica's link is up; 3 masters with slots, each with a replica.
func (fc *fcluster) healthy() bool {
	for _, n := range fc.nodes {
		if !n.running() || !strings.Contains(n.str("CLUSTER", "INFO"), "cluster_state:ok") {
			return false
		}
		if strings.Contains(n.str("CLUSTER", "NODES"), "fail") {
			return false
		}
		if n.role() == "slave" && infoField(n.str("INFO", "replication"), "master_link_status") != "up" {
			return false
		}
	}
	reps, _ := fc.shards()
	if len(reps) != 3 {
		return false
	}
	for _, r := range reps {
		if len(r) == 0 {
			return false
		}
	}
	return true
}

func waitFor(timeout time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// workload: writers SET unique keys through a ClusterClient all along.
type workload struct {
	cc     *redis.ClusterClient
	stop   chan struct{}
	wg     sync.WaitGroup
	writes atomic.Int64
	errs   atomic.Int64
}

func startWorkload(addrs []string, writers int) *workload {
	w := &workload{cc: newClusterClient(addrs), stop: make(chan struct{})}
	for i := 0; i < writers; i++ {
		w.wg.Add(1)
		go func(id int) {
			defer w.wg.Done()
			for seq := 0; ; seq++ {
				select {
				case <-w.stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				err := w.cc.Set(ctx, fmt.Sprintf("fb:%d:%d", id, seq), seq, 0).Err()
				w.writes.Add(1)
				if err != nil {
					w.errs.Add(1)
					w.cc.ReloadState(ctx)
					time.Sleep(5 * time.Millisecond)
				}
				cancel()
			}
		}(i)
	}
	return w
}

func (w *workload) halt() {
	close(w.stop)
	w.wg.Wait()
	w.cc.Close()
}

func mainFailover(args []string) error {
	var o common
	fs := flag.NewFlagSet("failover", flag.ExitOnError)
	o.register(fs, "127.0.0.61")
	nodeTimeout := fs.Int("node-timeout", 2000, "cluster-node-timeout (ms)")
	runs := fs.Int("runs", 5, "kill -9 runs (median reported)")
	writers := fs.Int("writers", 4, "ClusterClient workload goroutines")
	fs.Parse(args)
	if *runs < 1 {
		return errors.New("--runs must be >= 1")
	}
	root, err := o.prepare()
	if err != nil {
		return err
	}
	defer o.cleanup(root)
	logf("%s: starting 3 masters + 3 replicas, node-timeout %d ms", o.label, *nodeTimeout)
	ps, err := startNodes(&o, root, 6, *nodeTimeout, o.extraArgs())
	if err != nil {
		return err
	}
	fc := &fcluster{byID: map[string]*fnode{}}
	var addrs []string
	for _, p := range ps {
		n := &fnode{proc: p}
		fc.nodes = append(fc.nodes, n)
		addrs = append(addrs, p.addr())
	}
	defer func() {
		for _, n := range fc.nodes {
			n.resetClient()
		}
	}()
	ver := serverVersion(fc.nodes[0].str("INFO", "server"))
	cli := append([]string{"--cluster", "create"}, addrs...)
	cli = append(cli, "--cluster-replicas", "1", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	out, err := exec.CommandContext(ctx, "redis-cli", cli...).CombinedOutput()
	cancel()
	if err != nil || !strings.Contains(string(out), "[OK] All 16384 slots covered.") {
		return fmt.Errorf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, n := range fc.nodes {
		n.id = n.str("CLUSTER", "MYID")
		fc.byID[n.id] = n
	}
	if err := waitFor(60*time.Second, "a healthy cluster", fc.healthy); err != nil {
		return err
	}
	w := startWorkload(addrs, *writers)
	defer func() {
		if w != nil {
			w.halt()
		}
	}()
	if err := waitFor(10*time.Second, "the workload to write", func() bool { return w.writes.Load() > 100 }); err != nil {
		return err
	}
	res := &FailoverResult{Kind: "failover", Server: o.label, Version: ver, NodeTimeoutMs: *nodeTimeout}
	for run := 0; run < *runs; run++ {
		reps, ranges := fc.shards()
		ids := make([]string, 0, len(reps))
		for id := range reps {
			if len(reps[id]) > 0 && len(ranges[id]) > 0 {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return errors.New("no master with a replica")
		}
		// shards in slot order, one after the other: successive runs kill
		// masters of different shards
		sort.Slice(ids, func(i, j int) bool { return ranges[ids[i]][0][0] < ranges[ids[j]][0][0] })
		mid := ids[run%len(ids)]
		m, r := fc.byID[mid], fc.byID[reps[mid][0]]
		if m == nil || r == nil {
			return fmt.Errorf("unknown node id in CLUSTER NODES (%s / %v)", mid, reps[mid])
		}
		fr, err := killAndMeasure(fc, m, r, ranges[mid], w)
		if err != nil {
			return fmt.Errorf("run %d: %w", run+1, err)
		}
		res.Runs = append(res.Runs, fr)
		logf("%s run %d/%d: killed %s; replica %s master after %.0f ms; writes to its slots ok after %.0f ms",
			o.label, run+1, *runs, m.addr(), r.addr(), fr.PromotedMs, fr.WriteOKMs)
		m.resetClient()
		if err := m.start(); err != nil {
			return err
		}
		if err := waitFor(60*time.Second, "the restarted master to rejoin as a replica, cluster healthy", func() bool {
			return m.role() == "slave" && fc.healthy()
		}); err != nil {
			return err
		}
	}
	var wo, pr []float64
	for _, r := range res.Runs {
		wo = append(wo, r.WriteOKMs)
		pr = append(pr, r.PromotedMs)
	}
	res.MedianWriteOK, res.MedianPromoted = medianMs(wo), medianMs(pr)
	res.Writes = w.writes.Load()
	w.halt()
	w = nil
	emit(&o, res, func() {
		fmt.Printf("%s %s, node-timeout %d ms, %d runs: writes ok after median %.0f ms (%v), replica promoted after median %.0f ms\n",
			res.Server, res.Version, res.NodeTimeoutMs, len(res.Runs), res.MedianWriteOK, wo, res.MedianPromoted)
	})
	return nil
}

// keyIn returns a key whose slot is in one of the ranges.
func keyIn(ranges [][2]int, prefix string) string {
	for i := 0; ; i++ {
		k := prefix + strconv.Itoa(i)
		s := slots.OfString(k)
		for _, r := range ranges {
			if s >= r[0] && s <= r[1] {
				return k
			}
		}
	}
}

// killAndMeasure is integration/failover_test.go's procedure: a probe
// ClusterClient (seeded without the victim) writes one key of the victim's
// slots; kill -9; retry that SET (500 ms timeout, topology reload on every
// error, 5 ms apart) until it succeeds, while another goroutine polls the
// replica's ROLE.
func killAndMeasure(fc *fcluster, m, r *fnode, ranges [][2]int, w *workload) (FailoverRun, error) {
	var fr FailoverRun
	key := keyIn(ranges, "probe:")
	var addrs []string
	for _, n := range fc.nodes {
		if n != m {
			addrs = append(addrs, n.addr())
		}
	}
	cc := newClusterClient(addrs)
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := waitFor(10*time.Second, "a probe write before the kill", func() bool {
		if err := cc.Set(ctx, key, "before", 0).Err(); err != nil {
			cc.ReloadState(ctx)
			return false
		}
		return true
	}); err != nil {
		return fr, err
	}
	rc := redis.NewClient(&redis.Options{Addr: r.addr(), DialTimeout: 300 * time.Millisecond, ReadTimeout: time.Second, MaxRetries: -1})
	defer rc.Close()
	errs0 := w.errs.Load()
	start := time.Now()
	m.kill()
	deadline := start.Add(60 * time.Second)
	prom := make(chan time.Duration, 1)
	go func() {
		for time.Now().Before(deadline) {
			if v, err := rc.Do(ctx, "ROLE").Slice(); err == nil && len(v) > 0 && v[0] == "master" {
				prom <- time.Since(start)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		prom <- 0
	}()
	var writeOK time.Duration
	for writeOK == 0 {
		if time.Now().After(deadline) {
			return fr, errors.New("no write to the killed master's slots succeeded within 60s")
		}
		c, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err := cc.Set(c, key, "after", 0).Err()
		cancel()
		if err == nil {
			writeOK = time.Since(start)
		} else {
			cc.ReloadState(ctx)
			time.Sleep(5 * time.Millisecond)
		}
	}
	p := <-prom
	if p == 0 {
		return fr, errors.New("the replica never reported the master role")
	}
	fr.WriteOKMs, fr.PromotedMs, fr.Errors = ms(writeOK), ms(p), w.errs.Load()-errs0
	return fr, nil
}
