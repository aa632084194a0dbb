package main

import (
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/slotkv/slotkv/tools/clustercli/internal/cluster"
)

func cmdImport(a *app) int {
	from := a.p.str("from")
	if from == "" {
		a.errf("[ERR] Option '--from' is required for subcommand 'import'.")
		return exitUsage
	}
	mo, err := a.moveOptions()
	if err != nil {
		a.errf("%v", err)
		return exitUsage
	}
	a.info(">>> Importing data from %s to cluster %s", from, a.p.pos[0])
	doc := map[string]any{"ok": false}
	a.out = doc
	c, err := a.load(a.p.pos[0])
	if err != nil {
		return a.fail(err)
	}
	defer c.Close()
	if r, ok := a.preflight(c, "importing"); !ok {
		doc["check"] = r
		return a.finish(exitProblem)
	}
	srcNode, err := cluster.NewNode(from)
	if err != nil {
		a.errf("[ERR] Invalid --from host: %v", err)
		return exitUsage
	}
	scc := a.conn
	scc.User, scc.Password = a.p.str("from-user"), a.p.str("from-pass")
	if err := srcNode.Connect(a.ctx, scc); err != nil {
		return a.fail(err)
	}
	defer srcNode.Close()
	isCluster, err := srcNode.IsClusterEnabled(a.ctx)
	if err != nil {
		return a.fail(fmt.Errorf("Source %s replied with error: %v", from, err))
	}
	if isCluster {
		return a.fail(fmt.Errorf("The source node should not be a cluster node (use reshard/rebalance to move slots between cluster nodes)"))
	}
	size, err := srcNode.Client.DBSize(a.ctx).Result()
	if err != nil {
		return a.fail(fmt.Errorf("Source %s replied with error: %v", from, err))
	}
	owner := make([]*cluster.Node, cluster.NumSlots)
	for _, m := range c.Masters() {
		for _, s := range m.Slots.List() {
			owner[s] = m
		}
	}
	verb := "move"
	if a.p.bools["copy"] {
		verb = "copy"
	}
	a.plain("Plan: %s %d keys of DB 0 from %s into the cluster (MIGRATE%s%s, %d keys per command).", verb, size, from,
		map[bool]string{true: " COPY"}[a.p.bools["copy"]], map[bool]string{true: " REPLACE"}[a.p.bools["replace"]], mo.Pipeline)
	if !a.confirm("Import the keys?") {
		a.warn("Aborted: nothing was changed.")
		return a.finish(exitProblem)
	}
	a.warn("*** Importing %d keys from DB 0", size)
	prog := a.ui.NewProgress("importing", int(size), 0, a.json && !a.ui.Progress)
	migrate := func(dst *cluster.Node, keys []string) []any {
		args := []any{"MIGRATE", dst.Host, strconv.Itoa(dst.Port), "", 0, mo.Timeout.Milliseconds()}
		if a.p.bools["copy"] {
			args = append(args, "COPY")
		}
		if a.p.bools["replace"] {
			args = append(args, "REPLACE")
		}
		if a.conn.Password != "" {
			if a.conn.User != "" {
				args = append(args, "AUTH2", a.conn.User, a.conn.Password)
			} else {
				args = append(args, "AUTH", a.conn.Password)
			}
		}
		args = append(args, "KEYS")
		for _, k := range keys {
			args = append(args, k)
		}
		return args
	}
	var cursor uint64
	var failure error
	for {
		keys, next, err := srcNode.Client.Scan(a.ctx, cursor, "", 1000).Result()
		if err != nil {
			failure = fmt.Errorf("Source %s replied with error: %v", from, err)
			break
		}
		byDst := map[*cluster.Node][]string{}
		var order []*cluster.Node
		for _, k := range keys {
			d := owner[cluster.KeySlot(k)]
			if d == nil {
				failure = fmt.Errorf("slot %d of key %q is not served by any master: run 'clustercli fix %s' first", cluster.KeySlot(k), k, a.p.pos[0])
				break
			}
			if _, ok := byDst[d]; !ok {
				order = append(order, d)
			}
			byDst[d] = append(byDst[d], k)
		}
		if failure != nil {
			break
		}
		type batch struct {
			dst  *cluster.Node
			keys []string
			cmd  *redis.Cmd
		}
		var batches []*batch
		for _, d := range order {
			ks := byDst[d]
			for len(ks) > 0 {
				n := min(mo.Pipeline, len(ks))
				batches = append(batches, &batch{dst: d, keys: ks[:n]})
				ks = ks[n:]
			}
		}
		_, _ = srcNode.Client.Pipelined(a.ctx, func(p redis.Pipeliner) error {
			for _, b := range batches {
				b.cmd = p.Do(a.ctx, migrate(b.dst, b.keys)...)
			}
			return nil
		})
		for _, b := range batches {
			err := b.cmd.Err()
			if err != nil {
				hint := ""
				if cluster.IsBusyKey(err) {
					hint = " (a key already exists in the cluster: use --replace to overwrite it)"
				}
				failure = fmt.Errorf("Source %s replied with error migrating %d keys to %s: %v%s", from, len(b.keys), b.dst.Addr(), err, hint)
				break
			}
			if a.verbose {
				for _, k := range b.keys {
					a.plain("Migrating %s to %s: OK", k, b.dst.Addr())
				}
			}
			prog.Keys(len(b.keys))
		}
		if failure == nil && next != 0 && a.interrupted() {
			failure = fmt.Errorf("interrupted; re-run the same import to continue")
		}
		if failure != nil || next == 0 {
			break
		}
		cursor = next
	}
	keys, _, el := prog.Finish()
	doc["keys"] = keys
	doc["seconds"] = el.Seconds()
	if failure != nil {
		a.warn("Imported %d keys before the error; re-running the import continues where it stopped (moved keys are gone from the source%s).", keys, map[bool]string{true: "; with --copy add --replace"}[a.p.bools["copy"]])
		return a.fail(failure)
	}
	a.ok("[OK] Imported %d keys in %.2fs.", keys, el.Seconds())
	doc["ok"] = true
	return a.finish(exitOK)
}
