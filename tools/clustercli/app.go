package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/slotkv/slotkv/tools/clustercli/internal/cluster"
	"github.com/slotkv/slotkv/tools/clustercli/internal/ui"
)

// app is the state of one invocation.
type app struct {
	ctx     context.Context // never cancelled: commands always complete
	sig     context.Context // cancelled on SIGINT/SIGTERM: stop at a safe point
	p       *parsed
	def     *cmdDef
	ui      *ui.UI
	conn    cluster.ConnConfig
	json    bool
	yes     bool
	verbose bool
	out     any    // JSON document, printed at the end in --json mode
	tm      *timer // per-step durations (printed with -v, in JSON as "timings")
}

// interrupted reports whether the operator asked to stop.
func (a *app) interrupted() bool { return a.sig != nil && a.sig.Err() != nil }

func (a *app) info(format string, args ...any) { a.ui.Logf(ui.Info, format, args...) }
func (a *app) ok(format string, args ...any)   { a.ui.Logf(ui.OK, format, args...) }
func (a *app) warn(format string, args ...any) { a.ui.Logf(ui.Warn, format, args...) }
func (a *app) errf(format string, args ...any) { a.ui.Logf(ui.Err, format, args...) }
func (a *app) plain(format string, args ...any) {
	a.ui.Logf(ui.Plain, format, args...)
}

// finish prints the JSON document (if any) and returns code.
func (a *app) finish(code int) int {
	if a.tm != nil && len(a.tm.phases) > 0 {
		if a.verbose {
			a.plain("Timings: %s", a.tm)
		}
		if m, ok := a.out.(map[string]any); ok {
			m["timings"] = a.tm.phases
			m["total_ms"] = float64(a.tm.total().Microseconds()) / 1000
		}
	}
	if a.json && a.out != nil {
		enc := json.NewEncoder(a.ui.Out)
		enc.SetIndent("", "  ")
		_ = enc.Encode(a.out)
	}
	return code
}

// fail prints an error, records it in the JSON document and returns 1.
func (a *app) fail(err error) int {
	a.errf("[ERR] %v", err)
	if a.json {
		if a.out == nil {
			a.out = map[string]any{"ok": false, "error": err.Error()}
		} else if m, ok := a.out.(map[string]any); ok {
			m["ok"] = false
			m["error"] = err.Error()
		}
	}
	return a.finish(exitProblem)
}

// confirm asks unless --yes was given.
func (a *app) confirm(msg string) bool {
	if a.yes {
		return true
	}
	return a.ui.Confirm(msg)
}

// load loads the cluster through the entry node and prints warnings.
func (a *app) load(addr string) (*cluster.Cluster, error) {
	c, err := cluster.Load(a.ctx, a.conn, addr)
	if err != nil {
		return nil, err
	}
	for _, w := range c.Warnings {
		a.warn("%s", w)
	}
	return c, nil
}

// nodeJSON is a node in JSON output.
type nodeJSON struct {
	ID         string            `json:"id"`
	Addr       string            `json:"addr"`
	Role       string            `json:"role"`
	MasterID   string            `json:"master_id,omitempty"`
	Slots      int               `json:"slots"`
	Ranges     string            `json:"slot_ranges"`
	Keys       *int64            `json:"keys,omitempty"`
	Replicas   int               `json:"replicas"`
	Flags      string            `json:"flags"`
	Epoch      uint64            `json:"config_epoch"`
	Migrating  map[string]string `json:"migrating,omitempty"`
	Importing  map[string]string `json:"importing,omitempty"`
	Server     string            `json:"server,omitempty"`
	SlotkvVers string            `json:"slotkv_version,omitempty"`
}

func toJSON(n *cluster.Node, keys map[*cluster.Node]int64) nodeJSON {
	j := nodeJSON{ID: n.ID, Addr: n.Addr(), Role: role(n), MasterID: n.MasterID, Slots: n.Slots.Count(),
		Ranges: cluster.FormatRanges(n.Slots.List()), Replicas: n.Replicas, Flags: n.FlagString(),
		Epoch: n.ConfigEpoch, Server: n.RedisVersion, SlotkvVers: n.SlotkvVersion}
	if k, ok := keys[n]; ok {
		j.Keys = &k
	}
	if len(n.Migrating) > 0 {
		j.Migrating = map[string]string{}
		for s, id := range n.Migrating {
			j.Migrating[fmt.Sprint(s)] = id
		}
	}
	if len(n.Importing) > 0 {
		j.Importing = map[string]string{}
		for s, id := range n.Importing {
			j.Importing[fmt.Sprint(s)] = id
		}
	}
	return j
}

func role(n *cluster.Node) string {
	if n.IsReplica() {
		return "replica"
	}
	return "master"
}

// dbsizes runs DBSIZE on every node concurrently; failures are omitted.
func (a *app) dbsizes(nodes []*cluster.Node) map[*cluster.Node]int64 {
	out := map[*cluster.Node]int64{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func(n *cluster.Node) {
			defer wg.Done()
			k, err := n.Client.DBSize(a.ctx).Result()
			if err != nil {
				a.errf("Node %s replied with error:\n%v", n.Addr(), err)
				return
			}
			mu.Lock()
			out[n] = k
			mu.Unlock()
		}(n)
	}
	wg.Wait()
	return out
}

// nodeTable prints the node table: masters each followed by its replicas.
func (a *app) nodeTable(c *cluster.Cluster, keys map[*cluster.Node]int64) {
	var rows [][]string
	seen := map[*cluster.Node]bool{}
	add := func(n *cluster.Node, indent string) {
		seen[n] = true
		k := "?"
		if v, ok := keys[n]; ok {
			k = fmt.Sprint(v)
		}
		r := role(n)
		if n.IsReplica() {
			if m := c.ByID(n.MasterID); m != nil {
				r = "replica of " + m.Addr()
			} else {
				r = "replica of " + short(n.MasterID)
			}
		}
		ranges := cluster.FormatRanges(n.Slots.List())
		if !a.verbose && len(ranges) > 40 {
			ranges = ranges[:37] + "..."
		}
		var open []string
		for _, s := range sortedKeys(n.Migrating) {
			open = append(open, fmt.Sprintf("%d->%s", s, short(n.Migrating[s])))
		}
		for _, s := range sortedKeys(n.Importing) {
			open = append(open, fmt.Sprintf("%d<-%s", s, short(n.Importing[s])))
		}
		flags := n.FlagString()
		if len(open) > 0 {
			flags += " open:" + strings.Join(open, ",")
		}
		rows = append(rows, []string{indent + n.ShortID(), n.Addr(), r, fmt.Sprint(n.Slots.Count()), ranges, k, fmt.Sprint(n.Replicas), flags})
	}
	for _, m := range c.Masters() {
		add(m, "")
		for _, r := range c.Nodes {
			if r.MasterID == m.ID && !seen[r] {
				add(r, "  ")
			}
		}
	}
	for _, n := range c.Nodes {
		if !seen[n] {
			add(n, "")
		}
	}
	for _, u := range c.Unreachable {
		rows = append(rows, []string{short(u.Line.ID), u.Line.Addr(), "unreachable", fmt.Sprint(u.Line.Slots.Count()),
			cluster.FormatRanges(u.Line.Slots.List()), "?", "", strings.Join(u.Line.Flags, ",") + " (" + u.Reason + ")"})
	}
	a.ui.Table([]string{"ID", "ADDRESS", "ROLE", "SLOTS", "RANGES", "KEYS", "REPLICAS", "FLAGS"}, rows)
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// nodeInfoLines renders a node like redis-cli's clusterManagerNodeInfo.
func nodeInfoLines(n *cluster.Node, indent string) string {
	var b strings.Builder
	r := "M"
	if n.IsReplica() {
		r = "S"
	}
	if n.Dirty && n.MasterID != "" {
		fmt.Fprintf(&b, "%sS: %s %s", indent, n.ID, n.Addr())
	} else {
		fmt.Fprintf(&b, "%s%s: %s %s\n%s   slots:%s (%d slots) %s", indent, r, n.ID, n.Addr(), indent, n.Slots.String(), n.Slots.Count(), n.FlagString())
	}
	if n.MasterID != "" {
		fmt.Fprintf(&b, "\n%s   replicates %s", indent, n.MasterID)
	} else if n.Replicas > 0 {
		fmt.Fprintf(&b, "\n%s   %d additional replica(s)", indent, n.Replicas)
	}
	return b.String()
}

// countSlots returns COUNTKEYSINSLOT for each slot on n (pipelined; 0 on
// errors).
func countSlots(ctx context.Context, n *cluster.Node, slots []int) []int {
	cmds := make([]*redis.IntCmd, len(slots))
	_, _ = n.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, s := range slots {
			cmds[i] = p.ClusterCountKeysInSlot(ctx, s)
		}
		return nil
	})
	out := make([]int, len(slots))
	for i, c := range cmds {
		out[i] = int(c.Val())
	}
	return out
}

func sum(xs []int) int {
	t := 0
	for _, x := range xs {
		t += x
	}
	return t
}

func sortNodesByAddr(ns []*cluster.Node) {
	sort.SliceStable(ns, func(i, j int) bool { return ns[i].Addr() < ns[j].Addr() })
}
