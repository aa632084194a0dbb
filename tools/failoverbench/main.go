// Command failoverbench measures, with the same procedure for slotkv-server
// and redis-server, what issue 6 asks `make bench` to report side by side:
//
//	failoverbench failover  3 masters + 3 replicas on 127.0.0.x, a go-redis
//	                        ClusterClient writing continuously; kill -9 one
//	                        master and time until writes to its slots
//	                        succeed again (and until its replica reports the
//	                        master role); the master is restarted, rejoins as
//	                        a replica, and the next run kills another master.
//	failoverbench repl      master + replica (standalone REPLICAOF): time for
//	                        the replica to catch up after N pipelined SETs,
//	                        then a full sync of those N keys to a new replica.
//	failoverbench table     prints the JSON results of the two commands above
//	                        (one file per run of them) side by side.
//
// Servers get the options of integration/harness.go (--save "" --appendonly
// no, cluster-announce-ip and bind-source-addr on their own 127.0.0.x).
// scripts/bench-failover.sh runs it for both servers.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// common flags of the measuring subcommands.
type common struct {
	serverBin string
	label     string
	ip        string
	basePort  int
	jsonOut   bool
	extra     string
	keep      bool
}

func (o *common) register(fs *flag.FlagSet, ip string) {
	fs.StringVar(&o.serverBin, "server-bin", "bin/slotkv-server", "server binary (slotkv-server or redis-server)")
	fs.StringVar(&o.label, "label", "", "name in the results (default: the binary's base name)")
	fs.StringVar(&o.ip, "ip", ip, "address of the first node; the others take the following 127.0.0.x")
	fs.IntVar(&o.basePort, "base-port", 0, "first port to try (0: a random free one from 30000)")
	fs.BoolVar(&o.jsonOut, "json", false, "print the result as one JSON object instead of text")
	fs.StringVar(&o.extra, "server-args", "", "extra server arguments, space separated")
	fs.BoolVar(&o.keep, "keep", false, "keep the data dirs and logs (printed) instead of removing them")
}

// cleanup kills every started server and removes root unless --keep.
func (o *common) cleanup(root string) {
	killAll()
	if o.keep {
		logf("data dirs and logs kept in %s", root)
	} else {
		os.RemoveAll(root)
	}
}

func (o *common) prepare() (root string, err error) {
	if o.label == "" {
		o.label = filepath.Base(o.serverBin)
	}
	if p, err := lookBin(o.serverBin); err != nil {
		return "", err
	} else {
		o.serverBin = p
	}
	return os.MkdirTemp("", "failoverbench-")
}

func lookBin(b string) (string, error) {
	if strings.ContainsRune(b, '/') {
		return filepath.Abs(b)
	}
	return exec.LookPath(b)
}

func (o *common) extraArgs() []string { return strings.Fields(o.extra) }

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}

func usage() {
	fmt.Fprintf(os.Stderr, `usage:
  failoverbench failover [--server-bin B] [--node-timeout 2000] [--runs 5] [--ip 127.0.0.61] [--base-port P] [--json]
  failoverbench repl     [--server-bin B] [--keys 1000000] [--value-size 32] [--pipeline 1000] [--conns 4] [--ip 127.0.0.71] [--json]
  failoverbench table    result.json ...
run "failoverbench <command> -h" for every flag
`)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	sub, args := os.Args[1], os.Args[2:]
	if strings.HasPrefix(sub, "-") { // flags only: failover
		sub, args = "failover", os.Args[1:]
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() { <-sig; killAll(); os.Exit(130) }()
	var err error
	switch sub {
	case "failover":
		err = mainFailover(args)
	case "repl":
		err = mainRepl(args)
	case "table":
		err = mainTable(args)
	default:
		usage()
	}
	killAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "failoverbench:", err)
		os.Exit(1)
	}
}

func emit(o *common, v any, text func()) {
	if o.jsonOut {
		b, _ := json.Marshal(v)
		fmt.Println(string(b))
		return
	}
	text()
}

func medianMs(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// serverVersion is INFO server's slotkv_version when there is one (slotkv
// also reports the Redis version it follows), else redis_version.
func serverVersion(info string) string {
	if v := infoField(info, "slotkv_version"); v != "" {
		return v
	}
	return infoField(info, "redis_version")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
