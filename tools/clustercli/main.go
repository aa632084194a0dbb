// Command clustercli is the slotkv operator CLI: everything
// `redis-cli --cluster` does (create, check, info, fix, reshard, rebalance,
// add-node, del-node, call, set-timeout, import) with redis-cli's semantics
// and option names, speaking only public Redis commands, so it works against
// Redis 7, Valkey and slotkv clusters alike. Options are accepted both as
// clustercli spells them (--replicas) and as redis-cli does
// (--cluster-replicas), so runbooks translate one-to-one.
//
// Exit codes: 0 success / cluster healthy; 1 problems found or operation
// failed; 2 usage error.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/slotkv/slotkv/tools/clustercli/internal/cluster"
	"github.com/slotkv/slotkv/tools/clustercli/internal/ui"
)

// Exit codes.
const (
	exitOK      = 0
	exitProblem = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal asks for a clean stop (slots in flight are
		// settled); restoring the default handler lets a second one kill.
		<-ctx.Done()
		stop()
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// flagDef describes one option.
type flagDef struct {
	name    string   // canonical, without dashes ("replicas")
	aliases []string // other spellings without dashes ("slave")
	short   string   // one-letter form ("a"), optional
	value   string   // metavar when the option takes a value
	multi   bool     // value repeats (--weight a=1 b=2)
	help    string
}

var globalFlags = []flagDef{
	{name: "pass", short: "a", value: "password", help: "password for every node (AUTH; also passed to MIGRATE). Env REDISCLI_AUTH works too"},
	{name: "user", value: "username", help: "ACL user for every node (AUTH user pass; MIGRATE AUTH2)"},
	{name: "json", help: "print a JSON document on stdout for scripts (human output goes to stderr)"},
	{name: "yes", short: "y", help: "do not ask for confirmation (env REDISCLI_CLUSTER_YES=1 works too)"},
	{name: "no-color", help: "no ANSI colours"},
	{name: "no-progress", help: "no progress bar"},
	{name: "verbose", short: "v", help: "more detail (every slot of a plan, balances)"},
	{name: "help", short: "h", help: "help for this command"},
}

type cmdDef struct {
	name    string
	args    string
	min     int
	max     int // -1 = unlimited
	summary string
	flags   []flagDef
	example string
	run     func(a *app) int
}

var (
	fReplicas       = flagDef{name: "replicas", value: "N", help: "replicas per master (default 0)"}
	fSimulate       = flagDef{name: "simulate", help: "show the plan, change nothing"}
	fMultipleOwners = flagDef{name: "search-multiple-owners", help: "also look for slots claimed or holding keys on several masters"}
	fUnreachable    = flagDef{name: "fix-with-unreachable-masters", help: "fix even though some masters are unreachable (may lose data)"}
	fFrom           = flagDef{name: "from", value: "ids|all", help: "comma-separated source node ids (or unique prefixes, or host:port), or 'all'"}
	fTo             = flagDef{name: "to", value: "id", help: "receiving node id (or unique prefix, or host:port)"}
	fSlots          = flagDef{name: "slots", value: "N", help: "number of slots to move"}
	fTimeout        = flagDef{name: "timeout", value: "ms", help: "MIGRATE timeout in milliseconds (default 60000)"}
	fPipeline       = flagDef{name: "pipeline", value: "N", help: "keys per MIGRATE command (default 10, like redis-cli)"}
	fReplace        = flagDef{name: "replace", help: "overwrite keys that exist on the target with a different value"}
	fForce          = flagDef{name: "force", help: "proceed even though the cluster check found problems"}
	fNoFast         = flagDef{name: "no-fast-path", help: "never use the server-side whole-slot migration; always MIGRATE keys"}
	fConcurrency    = flagDef{name: "concurrency", value: "N", help: "source nodes moving slots at the same time (default 8)"}
	fWeight         = flagDef{name: "weight", value: "id=w ...", multi: true, help: "node weights (id prefixes accepted); weight 0 drains a node"}
	fUseEmpty       = flagDef{name: "use-empty-masters", help: "give slots to masters that have none"}
	fThreshold      = flagDef{name: "threshold", value: "pct", help: "only rebalance if a node is off by more than pct% (default 2)"}
	fReplica        = flagDef{name: "replica", aliases: []string{"slave"}, help: "add the node as a replica"}
	fMasterID       = flagDef{name: "master-id", value: "id", help: "master for --replica (default: the master with fewest replicas)"}
	fOnlyMasters    = flagDef{name: "only-masters", help: "run on masters only"}
	fOnlyReplicas   = flagDef{name: "only-replicas", help: "run on replicas only"}
	fImportFrom     = flagDef{name: "from", value: "host:port", help: "standalone (non-cluster) server to import from (required)"}
	fFromUser       = flagDef{name: "from-user", value: "username", help: "ACL user for the source server"}
	fFromPass       = flagDef{name: "from-pass", value: "password", help: "password for the source server"}
	fCopy           = flagDef{name: "copy", help: "copy keys (leave them on the source)"}
	fMap            = flagDef{name: "map", help: "draw the 16384 slots as a terminal map coloured by owner"}
	fWaitTimeout    = flagDef{name: "wait-timeout", value: "ms", help: "how long to wait for the nodes to agree (default 60000)"}
)

var commands []*cmdDef

func init() {
	commands = []*cmdDef{
		{name: "create", args: "host1:port1 ... hostN:portN", min: 1, max: -1,
			summary: "create a cluster from empty cluster-enabled nodes (at least 3 masters)",
			flags:   []flagDef{fReplicas, fSimulate, fWaitTimeout},
			example: "clustercli create 10.0.0.1:7000 10.0.0.2:7000 10.0.0.3:7000 10.0.0.1:7001 10.0.0.2:7001 10.0.0.3:7001 --replicas 1",
			run:     cmdCreate},
		{name: "check", args: "host:port", min: 1, max: 2,
			summary: "check slot agreement, open slots, coverage (and multiple owners); exit 1 on any problem",
			flags:   []flagDef{fMultipleOwners},
			example: "clustercli check 127.0.0.1:7000 --json",
			run:     cmdCheck},
		{name: "info", args: "host:port", min: 1, max: 2,
			summary: "show nodes, roles, slots, keys and replicas (and a slot map)",
			flags:   []flagDef{fMap},
			example: "clustercli info 127.0.0.1:7000 --map",
			run:     cmdInfo},
		{name: "fix", args: "host:port", min: 1, max: 2,
			summary: "close open slots, cover unassigned slots, settle multiple owners (keys are never dropped)",
			flags:   []flagDef{fMultipleOwners, fUnreachable, fTimeout, fPipeline, fReplace, fSimulate},
			example: "clustercli fix 127.0.0.1:7000 --yes",
			run:     cmdFix},
		{name: "reshard", args: "host:port", min: 1, max: 2,
			summary: "move N slots from some masters (or all) to one master",
			flags:   []flagDef{fFrom, fTo, fSlots, fTimeout, fPipeline, fReplace, fSimulate, fForce, fNoFast, fConcurrency},
			example: "clustercli reshard 127.0.0.1:7000 --from all --to 3f2a --slots 1000 --yes",
			run:     cmdReshard},
		{name: "rebalance", args: "host:port", min: 1, max: 2,
			summary: "even out slots across masters according to weights",
			flags:   []flagDef{fWeight, fUseEmpty, fTimeout, fSimulate, fPipeline, fThreshold, fReplace, fForce, fNoFast, fConcurrency},
			example: "clustercli rebalance 127.0.0.1:7000 --use-empty-masters --yes\n  clustercli rebalance 127.0.0.1:7000 --weight 3f2a=0 --yes   # drain node 3f2a...",
			run:     cmdRebalance},
		{name: "add-node", args: "new_host:new_port existing_host:existing_port", min: 2, max: 2,
			summary: "add an empty node as a master (or --replica) of an existing cluster",
			flags:   []flagDef{fReplica, fMasterID, fWaitTimeout},
			example: "clustercli add-node 127.0.0.1:7006 127.0.0.1:7000                            # empty master; then rebalance --use-empty-masters\n  clustercli add-node 127.0.0.1:7007 127.0.0.1:7000 --replica --master-id 3f2a   # replica of master 3f2a...",
			run:     cmdAddNode},
		{name: "del-node", args: "host:port node_id", min: 2, max: 2,
			summary: "remove a node that has no slots (re-points its replicas, FORGET everywhere, RESET SOFT); the node may be given by id, unique id prefix or host:port",
			flags:   []flagDef{fSimulate},
			example: "clustercli rebalance 127.0.0.1:7000 --weight 3f2a=0 --yes   # first move its slots away\n  clustercli del-node 127.0.0.1:7000 3f2a --yes",
			run:     cmdDelNode},
		{name: "call", args: "host:port command [arg ...]", min: 2, max: -1,
			summary: "run a command on every node",
			flags:   []flagDef{fOnlyMasters, fOnlyReplicas},
			example: "clustercli call 127.0.0.1:7000 CONFIG SET maxmemory 1gb --only-masters",
			run:     cmdCall},
		{name: "set-timeout", args: "host:port milliseconds", min: 2, max: 2,
			summary: "set cluster-node-timeout on every node (and CONFIG REWRITE)",
			example: "clustercli set-timeout 127.0.0.1:7000 5000",
			run:     cmdSetTimeout},
		{name: "import", args: "host:port", min: 1, max: 2,
			summary: "move (or --copy) every key of a standalone server into the cluster",
			flags:   []flagDef{fImportFrom, fFromUser, fFromPass, fCopy, fReplace, fTimeout, fPipeline},
			example: "clustercli import 127.0.0.1:7000 --from 10.0.0.9:6379 --copy",
			run:     cmdImport},
	}
}

// parsed holds the parsed command line.
type parsed struct {
	pos   []string
	vals  map[string][]string
	bools map[string]bool
}

func (p *parsed) has(name string) bool { return p.bools[name] || len(p.vals[name]) > 0 }

func (p *parsed) str(name string) string {
	v := p.vals[name]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

func (p *parsed) intVal(name string, def int) (int, error) {
	s := p.str(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("--%s wants an integer, got %q", name, s)
	}
	return n, nil
}

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// parseArgs parses options anywhere on the line (like redis-cli). "--"
// ends option parsing. For `call`, unknown dashed words are command
// arguments.
func parseArgs(def *cmdDef, args []string) (*parsed, error) {
	p := &parsed{vals: map[string][]string{}, bools: map[string]bool{}}
	all := append(append([]flagDef(nil), globalFlags...), def.flags...)
	find := func(tok string) *flagDef {
		long := strings.HasPrefix(tok, "--")
		name := strings.TrimLeft(tok, "-")
		if long {
			name = strings.TrimPrefix(name, "cluster-")
		}
		for i := range all {
			f := &all[i]
			if !long {
				if f.short != "" && name == f.short {
					return f
				}
				continue
			}
			if f.name == name {
				return f
			}
			for _, a := range f.aliases {
				if a == name {
					return f
				}
			}
		}
		return nil
	}
	for i := 0; i < len(args); i++ {
		tok := args[i]
		if tok == "--" {
			p.pos = append(p.pos, args[i+1:]...)
			break
		}
		if len(tok) < 2 || tok[0] != '-' || isNumber(tok) {
			p.pos = append(p.pos, tok)
			continue
		}
		name, inline, hasInline := strings.Cut(tok, "=")
		f := find(name)
		if f == nil {
			if def.name == "call" && len(p.pos) >= 2 {
				p.pos = append(p.pos, tok)
				continue
			}
			return nil, &usageError{fmt.Sprintf("unknown option %s for '%s' (see 'clustercli %s --help')", tok, def.name, def.name)}
		}
		if f.value == "" {
			if hasInline {
				return nil, &usageError{fmt.Sprintf("option --%s takes no value", f.name)}
			}
			p.bools[f.name] = true
			continue
		}
		if hasInline {
			p.vals[f.name] = append(p.vals[f.name], inline)
		} else {
			if i+1 >= len(args) {
				return nil, &usageError{fmt.Sprintf("option --%s needs a value (%s)", f.name, f.value)}
			}
			i++
			p.vals[f.name] = append(p.vals[f.name], args[i])
		}
		if f.multi {
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && strings.Contains(args[i+1], "=") {
				i++
				p.vals[f.name] = append(p.vals[f.name], args[i])
			}
		}
	}
	return p, nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "clustercli: manage Redis Cluster / slotkv clusters (redis-cli --cluster compatible)\n\n")
	fmt.Fprintf(w, "Usage: clustercli <command> [options] args...\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nGlobal options:\n")
	printFlags(w, globalFlags)
	fmt.Fprintf(w, "\nOptions may also be spelled like redis-cli (--cluster-replicas, --cluster-yes, ...).\n")
	fmt.Fprintf(w, "Run 'clustercli <command> --help' for a command's options and an example.\n")
	fmt.Fprintf(w, "Exit codes: 0 ok, 1 problems found or operation failed, 2 usage error.\n")
}

func printFlags(w io.Writer, fs []flagDef) {
	for _, f := range fs {
		name := "--" + f.name
		if f.short != "" {
			name = "-" + f.short + ", " + name
		}
		for _, a := range f.aliases {
			name += ", --" + a
		}
		if f.value != "" {
			name += " <" + f.value + ">"
		}
		fmt.Fprintf(w, "  %-34s %s\n", name, f.help)
	}
}

func cmdUsage(w io.Writer, c *cmdDef) {
	fmt.Fprintf(w, "Usage: clustercli %s %s [options]\n\n%s.\n", c.name, c.args, strings.ToUpper(c.summary[:1])+c.summary[1:])
	if len(c.flags) > 0 {
		fmt.Fprintf(w, "\nOptions:\n")
		printFlags(w, c.flags)
	}
	fmt.Fprintf(w, "\nGlobal options:\n")
	printFlags(w, globalFlags)
	fmt.Fprintf(w, "\nExample:\n  %s\n", c.example)
	if c.min >= 1 && strings.HasPrefix(c.args, "host:port") && c.name != "call" && c.name != "set-timeout" && c.name != "del-node" {
		fmt.Fprintf(w, "\nAny reachable node of the cluster can be given; '<host> <port>' also works.\n")
	}
}

func findCommand(name string) *cmdDef {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// run is the whole program, testable in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "--cluster" {
		args = args[1:] // accept "clustercli --cluster create ..." too
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c := findCommand(args[1]); c != nil {
				cmdUsage(stdout, c)
				return exitOK
			}
		}
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	def := findCommand(args[0])
	if def == nil {
		fmt.Fprintf(stderr, "clustercli: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	p, err := parseArgs(def, args[1:])
	if err != nil {
		fmt.Fprintf(stderr, "clustercli %s: %v\n", def.name, err)
		return exitUsage
	}
	if p.bools["help"] {
		cmdUsage(stdout, def)
		return exitOK
	}
	// "<host> <port>" form.
	if def.max == 2 && def.min == 1 && len(p.pos) == 2 && !strings.Contains(p.pos[0], ":") {
		if _, err := strconv.Atoi(p.pos[1]); err == nil {
			p.pos = []string{p.pos[0] + ":" + p.pos[1]}
		}
	}
	if len(p.pos) < def.min || (def.max >= 0 && len(p.pos) > def.max) || (def.min == 1 && def.max == 2 && len(p.pos) != 1) {
		fmt.Fprintf(stderr, "clustercli %s: wrong number of arguments\n\n", def.name)
		cmdUsage(stderr, def)
		return exitUsage
	}
	// Commands run on a context that signals cannot cancel, so that an
	// interrupted operation still settles what it started; long loops
	// watch a.sig and stop at a safe point.
	a := &app{ctx: context.WithoutCancel(ctx), sig: ctx, p: p, def: def, tm: newTimer()}
	a.json = p.bools["json"]
	a.yes = p.bools["yes"] || os.Getenv("REDISCLI_CLUSTER_YES") != ""
	a.verbose = p.bools["verbose"]
	color := !p.bools["no-color"] && !a.json && ui.IsTerminal(stdout) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	a.ui = ui.New(stdout, stderr, stdin, a.json, color)
	a.ui.Progress = !p.bools["no-progress"] && ui.IsTerminal(stderr)
	a.conn = cluster.DefaultConnConfig()
	a.conn.User = p.str("user")
	a.conn.Password = p.str("pass")
	if a.conn.Password == "" {
		a.conn.Password = os.Getenv("REDISCLI_AUTH")
	}
	if err := a.conn.Validate(); err != nil {
		fmt.Fprintf(stderr, "clustercli %s: %v\n", def.name, err)
		return exitUsage
	}
	if t, err := p.intVal("timeout", 60000); err != nil || t <= 0 {
		fmt.Fprintf(stderr, "clustercli %s: --timeout must be a positive number of milliseconds\n", def.name)
		return exitUsage
	} else {
		a.conn.ReadTimeout = time.Duration(t)*time.Millisecond + 10*time.Second
	}
	return def.run(a)
}

func sortedKeys[M ~map[K]V, K int | string, V any](m M) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
