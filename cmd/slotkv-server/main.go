// Command slotkv-server runs one slotkv node. It accepts redis-server style
// arguments: an optional config file, then --option value pairs.
package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/slotkv/slotkv/node"
)

const usage = `Usage: slotkv-server [/path/to/redis.conf] [--option value ...]

slotkv-server is a Redis-Cluster-compatible node. It takes redis-server's
configuration directives, from a file and/or as --name value flags
(flags override the file).

Examples:
  slotkv-server --port 7000
  slotkv-server --port 7000 --cluster-enabled yes --cluster-config-file nodes-7000.conf \
                --cluster-node-timeout 5000 --appendonly yes --dir /var/lib/slotkv
  slotkv-server /etc/slotkv/7000.conf --loglevel verbose

Common options:
  --port N                     client port (default 6379); the cluster bus uses N+10000
  --bind ADDR [ADDR...]        addresses to listen on (default all)
  --dir DIR                    working directory for nodes.conf, AOF and snapshots
  --cluster-enabled yes|no     run as a cluster node (default no)
  --cluster-config-file FILE   cluster state file (default nodes.conf)
  --cluster-node-timeout MS    failure-detection timeout (default 15000)
  --requirepass PASS           require AUTH
  --appendonly yes|no          append-only file persistence
  --loglevel debug|verbose|notice|warning
  --logfile FILE               log to FILE instead of stderr

Other:
  -v, --version                print the version
  -h, --help                   this help
`

func main() {
	args := os.Args[1:]
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
		fmt.Fprintf(os.Stderr, "\n*** FATAL CONFIG FILE ERROR ***\n%v\n", err)
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
	srv, err := node.Start(&cfg, log)
	if err != nil {
		log.Error("startup failed", "err", err)
		closeLog()
		os.Exit(1)
	}
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sig
		log.Info("received signal, shutting down", "signal", s.String())
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
