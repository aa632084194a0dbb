package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// mainTable reads JSON results (one object per line, any number of files)
// and prints failover and replication figures side by side. Several repl
// results of one server (alternating rounds) are shown by their median.
func mainTable(files []string) error {
	var fos []FailoverResult
	repl := map[string][]ReplResult{}
	var order []string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if !strings.HasPrefix(line, "{") {
				continue
			}
			var kind struct{ Kind string }
			if json.Unmarshal([]byte(line), &kind) != nil {
				continue
			}
			switch kind.Kind {
			case "failover":
				var r FailoverResult
				if json.Unmarshal([]byte(line), &r) == nil {
					fos = append(fos, r)
				}
			case "repl":
				var r ReplResult
				if json.Unmarshal([]byte(line), &r) == nil {
					if _, ok := repl[r.Server]; !ok {
						order = append(order, r.Server)
					}
					repl[r.Server] = append(repl[r.Server], r)
				}
			}
		}
		fh.Close()
	}
	if len(fos) > 0 {
		sort.SliceStable(fos, func(i, j int) bool { return fos[i].NodeTimeoutMs < fos[j].NodeTimeoutMs })
		fmt.Println("== failover: 3 masters + 3 replicas, go-redis ClusterClient writing; kill -9 a master")
		fmt.Printf("%-13s %-22s %5s %16s %16s   %s\n", "node-timeout", "server", "runs", "writes ok (med)", "promoted (med)", "writes ok, each run (s)")
		for _, r := range fos {
			var each []string
			for _, x := range r.Runs {
				each = append(each, fmt.Sprintf("%.2f", x.WriteOKMs/1000))
			}
			fmt.Printf("%-13s %-22s %5d %15.2fs %15.2fs   %s\n", fmt.Sprintf("%d ms", r.NodeTimeoutMs), r.Server+" "+r.Version,
				len(r.Runs), r.MedianWriteOK/1000, r.MedianPromoted/1000, strings.Join(each, " "))
		}
	}
	if len(order) > 0 {
		if len(fos) > 0 {
			fmt.Println()
		}
		r0 := repl[order[0]][0]
		fmt.Printf("== replication: %d SETs (%d-byte values, pipeline %d, %d connections) into a master with a connected replica;\n", r0.Keys, r0.ValueSize, r0.Pipeline, r0.Conns)
		fmt.Printf("   caught up = first SET -> replica offset equals the master's; lag = caught up - pump. Then a full sync of\n")
		fmt.Printf("   those %d keys to a new replica (REPLICAOF -> link up, offsets equal). CPU = process utime+stime (+ reaped\n", r0.Keys)
		fmt.Printf("   children: redis-server's fork). Median of each server's rounds.\n")
		fmt.Printf("%-22s %6s | %8s %10s %8s %11s %11s | %9s %11s %11s\n", "", "", "catch-up:", "", "", "", "", "full sync:", "", "")
		fmt.Printf("%-22s %6s | %8s %10s %8s %11s %11s | %9s %11s %11s\n", "server", "rounds", "pump", "caught up", "lag", "master CPU", "replica CPU", "time", "master CPU", "replica CPU")
		for _, s := range order {
			rs := repl[s]
			med := func(f func(ReplResult) float64) float64 {
				var v []float64
				for _, r := range rs {
					v = append(v, f(r))
				}
				return medianMs(v) / 1000
			}
			fmt.Printf("%-22s %6d | %7.2fs %9.2fs %7.2fs %10.2fs %10.2fs | %8.2fs %10.2fs %10.2fs\n", s+" "+rs[0].Version, len(rs),
				med(func(r ReplResult) float64 { return r.PumpMs }), med(func(r ReplResult) float64 { return r.CatchUpMs }),
				med(func(r ReplResult) float64 { return r.LagAfterPumpMs }), med(func(r ReplResult) float64 { return r.MasterCPUMs }),
				med(func(r ReplResult) float64 { return r.ReplicaCPUMs }), med(func(r ReplResult) float64 { return r.FullSyncMs }),
				med(func(r ReplResult) float64 { return r.FullMasterCPUMs }), med(func(r ReplResult) float64 { return r.FullReplicaCPUMs }))
		}
	}
	return nil
}
