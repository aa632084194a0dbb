// Command slotkv-server runs one slotkv node. It accepts redis-server style
// arguments: an optional config file, then --option value pairs.
package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/slotkv/slotkv/node"
)

const usage = `Usage: slotkv-server [/path/to/redis.conf] [--option value ...]
       slotkv-server - (read the config from stdin)
       slotkv-server -v | --version
       slotkv-server -h | --help

slotkv-server is a Redis-Cluster-compatible node. It takes redis-server 7's
configuration directives, from a file and/or as --name value flags (flags
override the file). Redis directives slotkv does not implement are accepted
with a warning in the log, so existing redis.conf files start; an invalid
value stops startup with an error naming the option.

Examples:
  slotkv-server --port 7000
  slotkv-server --port 7000 --cluster-enabled yes --cluster-config-file nodes-7000.conf \
                --cluster-node-timeout 5000 --appendonly yes --dir /var/lib/slotkv
  slotkv-server /etc/slotkv/7000.conf --loglevel verbose

Network:
  --port N                        client port (default 6379); the cluster bus uses N+10000
  --bind ADDR [ADDR...]           addresses to listen on (default all)
  --bind-source-addr ADDR         source address for outgoing connections
  --protected-mode yes|no         without requirepass, only accept loopback clients when
                                  bound to all interfaces (default yes)
  --maxclients N                  (default 10000)
  --timeout SECONDS               close idle clients (0 = never)
  --tcp-keepalive SECONDS         (default 300)
  --proto-max-bulk-len BYTES      largest accepted bulk string (default 512mb)

Cluster:
  --cluster-enabled yes|no        run as a cluster node (default no)
  --cluster-config-file FILE      cluster state file (default nodes.conf, in --dir)
  --cluster-node-timeout MS       failure-detection timeout (default 15000)
  --cluster-announce-ip IP        address announced to other nodes and clients
  --cluster-announce-port N       client port announced (default: --port)
  --cluster-announce-bus-port N   bus port announced (default: port+10000)
  --cluster-announce-hostname H   hostname announced
  --cluster-require-full-coverage yes|no

Persistence:
  --dir DIR                       working directory for nodes.conf, AOF and snapshots
  --appendonly yes|no             append-only file (default no)
  --appendfsync always|everysec|no
  --save "SECONDS CHANGES ..."    snapshot save points ("" disables)
  --dbfilename FILE               snapshot file name (default dump.rdb)

Security and replication:
  --requirepass PASS              require AUTH (user "default")
  --masterauth PASS               password for the master when replicating
  --masteruser USER

Memory:
  --maxmemory BYTES               e.g. 100mb, 2gb (0 = no limit)
  --maxmemory-policy POLICY       noeviction, allkeys-lru, volatile-lru, ...

Logging and process:
  --loglevel debug|verbose|notice|warning
  --logfile FILE                  log to FILE instead of stderr
  --daemonize no                  slotkv never forks; run it under a supervisor

CONFIG GET * lists every option. SIGTERM or SIGINT shut the server down cleanly
(a second SIGINT exits at once).
`

func main() {
	args := os.Args[1:]
	// --check-aof [--fix] FILE / --check-snapshot FILE (node/persistence_check.go)
	if handled, code := node.RunCheckTool(args, os.Stdout); handled {
		os.Exit(code)
	}
	if len(args) == 1 {
		switch args[0] {
		case "-h", "--help":
			fmt.Print(usage)
			return
		case "-v", "--version":
			fmt.Printf("slotkv-server v=%s redis_compat=%s\n", node.SlotkvVersion, node.Version)
			return
		}
	}
	cfg, warnings, err := node.LoadConfig(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "\n%v\n", err)
		os.Exit(1)
	}
	log, closeLog, err := newLogger(&cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot open log file: %v\n", err)
		os.Exit(1)
	}
	defer closeLog()
	for _, w := range warnings {
		log.Warn(w)
	}
	tuneGC()
	srv, err := node.Start(&cfg, log)
	if err != nil {
		log.Error("startup failed", "err", err)
		closeLog()
		os.Exit(1)
	}
	tuneProcs(log, srv.Loading.Load)
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sig
		log.Warn("Received signal, scheduling shutdown...", "signal", s.String())
		go func() {
			// A second SIGINT/SIGTERM while shutting down exits at once.
			s := <-sig
			log.Warn("You insist... exiting now.", "signal", s.String())
			os.Exit(1)
		}()
		srv.Shutdown()
	}()
	srv.Serve()
	srv.Wait()
	log.Info("slotkv-server is now ready to exit, bye bye...")
}

func newLogger(cfg *node.Config) (*slog.Logger, func(), error) {
	var w io.Writer = os.Stderr
	closeFn := func() {}
	if cfg.LogFile != "" {
		f, err := os.OpenFile(cfg.Path(cfg.LogFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, nil, err
		}
		w = f
		closeFn = func() { f.Close() }
	}
	level := new(slog.LevelVar)
	level.Set(node.LogLevel(cfg.LogLevel))
	node.LogLevelVar = level
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), closeFn, nil
}

// defaultGOGC is slotkv's GC target unless GOGC is set in the environment.
// The dataset is almost all long-lived objects, so Go's default of 100 (the
// heap may grow by 100% of the live heap before a collection) mostly buys
// RSS. 1M keys (16 B keys, 32 B values) through redis-benchmark-style SETs:
// RSS 145.5-151.5 bytes/key at GOGC=100, 139-140 at 50, 138 at 25;
// steady-state SET/GET/INCR traffic allocates nothing, so it is not slowed.
const defaultGOGC = 50

// tuneGC applies slotkv's garbage-collector settings.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGOGC)
	}
}
