package node

// Lua scripting engine (EVAL family) on github.com/yuin/gopher-lua.
//
// Scripts are compiled once per SHA1 (the FunctionProto is shared) and run
// on pooled VMs (an LState is not goroutine-safe; each VM runs one script
// at a time). A script runs in its caller's goroutine, on the caller's
// Client: redis.call swaps the reply buffer, runs the command through
// Server.call with the slot locks the script holds, and parses the reply
// back (respparse.go).
//
// Atomicity: the dispatcher locks the slots of the declared keys (EVAL's
// key positions). A redis.call on a key of a slot the script does not hold
// takes that slot too, for the rest of the script: a slot above every held
// one is locked (ascending order, deadlock-free); a lower one is tried
// without blocking, retrying for a bounded time (another multi-slot holder
// could be waiting for one of ours). A command that walks the keyspace
// (FlagAllSlots) takes every slot the same way. In cluster mode each
// command's keys must hash to one slot served here, as Redis 7.0 checks.
//
// Time limit: a watchdog marks a script busy after busy-reply-threshold
// (lua-time-limit, default 5000 ms); while any script is busy, other
// clients get -BUSY (Server.Process calls busyReject) and SCRIPT KILL
// cancels a busy script that has not written (the VM's context, checked
// by gopher-lua between instructions).

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

const (
	errBusy        = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	errNoScript    = "NOSCRIPT No matching script. Please use EVAL."
	errNotBusy     = "NOTBUSY No scripts in execution right now."
	errUnkillable  = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
	errKilled      = "ERR Script killed by user with SCRIPT KILL..."
	errKeysNeg     = "ERR Number of keys can't be negative"
	errKeysTooMany = "ERR Number of keys can't be greater than number of args"
)

// scriptsBusy counts busy scripts of every server in the process, so the
// dispatcher's check is a single atomic load.
var scriptsBusy atomic.Int32

type luaScript struct {
	sha   [40]byte
	body  string
	proto *lua.FunctionProto
	ro    bool // shebang flags=no-writes
}

type scriptEngine struct {
	srv     *Server
	mu      sync.RWMutex
	scripts map[[40]byte]*luaScript
	gen     atomic.Uint64

	poolMu sync.Mutex
	free   []*luaVM
	all    []*luaVM

	busy   atomic.Int32
	wdOnce sync.Once
}

func (e *scriptEngine) init(s *Server) {
	e.srv = s
	e.scripts = map[[40]byte]*luaScript{}
}

func init() {
	BlockingDenied = scriptRunning
	// Redis's Lua has no implicit "arg" table in chunks; gopher-lua builds
	// one per call by default (an allocation-heavy table per EVAL).
	lua.CompatVarArg = false
}

// scriptRunning reports whether c is running a script (blocking commands
// must not block there). Only called when a command is about to block.
func scriptRunning(c *Client) bool {
	if c.srv == nil {
		return false
	}
	e := &extOf(c.srv).sc
	e.poolMu.Lock()
	defer e.poolMu.Unlock()
	for _, vm := range e.all {
		if vm.client.Load() == c {
			return true
		}
	}
	return false
}

func sha1hex(b []byte) [40]byte {
	sum := sha1.Sum(b)
	var out [40]byte
	hex.Encode(out[:], sum[:])
	return out
}

// shaKey lower-cases a client-given SHA1; ok is false when it cannot be one.
func shaKey(b []byte) (k [40]byte, ok bool) {
	if len(b) != 40 {
		return k, false
	}
	for i, ch := range b {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		k[i] = ch
	}
	return k, true
}

func (e *scriptEngine) get(k [40]byte) *luaScript {
	e.mu.RLock()
	sc := e.scripts[k]
	e.mu.RUnlock()
	return sc
}

// load compiles body (unless cached) and caches it. The error text is the
// full reply ("ERR Error compiling script ...").
func (e *scriptEngine) load(body []byte) (*luaScript, string) {
	k := sha1hex(body)
	if sc := e.get(k); sc != nil {
		return sc, ""
	}
	sc, err := compileScript(k, body)
	if err != "" {
		return nil, err
	}
	e.mu.Lock()
	if old := e.scripts[k]; old != nil {
		sc = old
	} else {
		e.scripts[k] = sc
	}
	e.mu.Unlock()
	return sc, ""
}

func (e *scriptEngine) flush() {
	e.mu.Lock()
	e.scripts = map[[40]byte]*luaScript{}
	e.gen.Add(1)
	e.mu.Unlock()
}

func compileScript(k [40]byte, body []byte) (*luaScript, string) {
	src := string(body)
	sc := &luaScript{sha: k, body: src}
	if strings.HasPrefix(src, "#!") {
		ro, code, errText := parseShebang(src)
		if errText != "" {
			return nil, errText
		}
		sc.ro = ro
		src = code
	}
	chunk, err := parse.Parse(strings.NewReader(src), "user_script")
	if err != nil {
		return nil, "ERR Error compiling script (new function): " + luaSyntaxError(err.Error(), src)
	}
	proto, err := lua.Compile(chunk, "user_script")
	if err != nil {
		return nil, "ERR Error compiling script (new function): " + luaSyntaxError(err.Error(), src)
	}
	sc.proto = proto
	return sc, ""
}

// parseShebang handles Redis 7's "#!lua flags=..." first line. The line is
// replaced by an empty one so line numbers stay right.
func parseShebang(src string) (ro bool, code string, errText string) {
	nl := strings.IndexByte(src, '\n')
	line := src
	rest := ""
	if nl >= 0 {
		line, rest = src[:nl], src[nl:]
	}
	f := strings.Fields(line[2:])
	if len(f) == 0 || f[0] != "lua" {
		eng := ""
		if len(f) > 0 {
			eng = f[0]
		}
		return false, "", "ERR Could not find engine '" + eng + "'"
	}
	for _, a := range f[1:] {
		if !strings.HasPrefix(a, "flags=") {
			return false, "", "ERR Unknown lua shebang option: " + a
		}
		for _, fl := range strings.Split(strings.TrimPrefix(a, "flags="), ",") {
			switch fl {
			case "no-writes":
				ro = true
			case "", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys":
			default:
				return false, "", "ERR Unexpected flag in script shebang: " + fl
			}
		}
	}
	return ro, rest, ""
}

// luaSyntaxError turns gopher-lua's parse error into Lua 5.1's shape
// "user_script:LINE: MESSAGE" (the message itself may differ).
func luaSyntaxError(msg, src string) string {
	msg = strings.TrimSpace(msg)
	rest := strings.TrimPrefix(msg, "user_script ")
	line := "1"
	near := ""
	if strings.HasPrefix(rest, "at EOF:") {
		line = strconv.Itoa(strings.Count(src, "\n") + 1)
		near = "'<eof>'"
		rest = strings.TrimSpace(strings.TrimPrefix(rest, "at EOF:"))
	} else if strings.HasPrefix(rest, "line:") {
		i := strings.IndexByte(rest, '(')
		if i > 5 {
			line = rest[5:i]
		}
		if j := strings.Index(rest, "near "); j >= 0 {
			k := strings.Index(rest[j:], ":")
			if k > 0 {
				near = strings.TrimSpace(rest[j+5 : j+k])
				rest = strings.TrimSpace(rest[j+k+1:])
			}
		} else if k := strings.Index(rest, ":"); k >= 0 {
			rest = strings.TrimSpace(rest[k+1:])
		}
	}
	if near == "''" {
		near = "'<eof>'"
	}
	if rest == "syntax error" && near != "" {
		rest = "unexpected symbol"
	}
	if near != "" {
		return "user_script:" + line + ": " + rest + " near " + near
	}
	return "user_script:" + line + ": " + rest
}

// acquire returns an idle VM (creating one if needed).
func (e *scriptEngine) acquire() *luaVM {
	e.wdOnce.Do(func() { go e.watchdog() })
	e.poolMu.Lock()
	if n := len(e.free); n > 0 {
		vm := e.free[n-1]
		e.free = e.free[:n-1]
		e.poolMu.Unlock()
		return vm
	}
	e.poolMu.Unlock()
	vm := newLuaVM(e)
	e.poolMu.Lock()
	e.all = append(e.all, vm)
	e.poolMu.Unlock()
	return vm
}

func (e *scriptEngine) release(vm *luaVM) {
	e.poolMu.Lock()
	e.free = append(e.free, vm)
	e.poolMu.Unlock()
}

type busyCache struct {
	cfg *Config
	ms  int64
}

var busyCached atomic.Pointer[busyCache]

// busyThreshold returns busy-reply-threshold (alias lua-time-limit) in ms;
// 0 disables the limit.
func busyThreshold(s *Server) int64 {
	cfg := s.Config()
	if p := busyCached.Load(); p != nil && p.cfg == cfg {
		return p.ms
	}
	ms := int64(5000)
	for _, name := range []string{"lua-time-limit", "busy-reply-threshold"} {
		if v, ok := cfg.Ignored[name]; ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n >= 0 {
				ms = n
			}
		}
	}
	busyCached.Store(&busyCache{cfg: cfg, ms: ms})
	return ms
}

// watchdog marks running scripts busy once they pass the threshold.
func (e *scriptEngine) watchdog() {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-e.srv.Done():
			return
		case <-t.C:
		}
		lim := busyThreshold(e.srv)
		if lim <= 0 {
			continue
		}
		now := time.Now().UnixMilli()
		e.poolMu.Lock()
		for _, vm := range e.all {
			st := vm.started.Load()
			if st != 0 && now-st >= lim && vm.busy.CompareAndSwap(false, true) {
				e.busy.Add(1)
				scriptsBusy.Add(1)
				e.srv.Log.Warn("Slow script detected: still in execution after " + strconv.FormatInt(now-st, 10) + " milliseconds. You can try killing the script using the SCRIPT KILL command. Script name is: " + string(vm.sha[:]) + ".")
			}
		}
		e.poolMu.Unlock()
	}
}

// kill implements SCRIPT KILL: it reply text is "" for +OK.
func (e *scriptEngine) kill() string {
	killed, unkillable := false, false
	e.poolMu.Lock()
	for _, vm := range e.all {
		vm.mu.Lock()
		if vm.started.Load() != 0 && vm.busy.Load() {
			if vm.wrote.Load() {
				unkillable = true
			} else {
				vm.killed.Store(true)
				vm.cancel()
				killed = true
			}
		}
		vm.mu.Unlock()
	}
	e.poolMu.Unlock()
	switch {
	case killed:
		return ""
	case unkillable:
		return errUnkillable
	}
	return errNotBusy
}

// busyReject is called by Server.Process while some script is busy. It
// writes -BUSY (or EXECABORT for EXEC) and reports true when cmd must not
// run now.
func busyReject(s *Server, c *Client, cmd *Command) bool {
	if cmd.Flags&FlagAllowBusy != 0 || extOf(s).sc.busy.Load() == 0 {
		return false
	}
	if cmd.Name == "exec" && c.InMulti {
		discardTransaction(c)
		c.W.Error("EXECABORT Transaction discarded because of: " + errBusy)
		return true
	}
	c.W.Error(errBusy)
	c.abortMulti()
	return true
}

// evalNumKeys parses EVAL's numkeys; errText is the reply when invalid.
func evalNumKeys(argv [][]byte) (int, string) {
	n, ok := ParseInt(argv[2])
	if !ok {
		return 0, ErrNotInt
	}
	if n < 0 {
		return 0, errKeysNeg
	}
	if n > int64(len(argv)-3) {
		return 0, errKeysTooMany
	}
	return int(n), ""
}

// evalKeys is EVAL's key-position function: 3..3+numkeys-1.
func evalKeys(args [][]byte, dst []int) []int {
	if len(args) < 3 {
		return dst
	}
	n, err := evalNumKeys(args)
	if err != "" {
		return dst
	}
	for i := 0; i < n; i++ {
		dst = append(dst, 3+i)
	}
	return dst
}

func cmdEval(c *Client)      { evalGeneric(c, false, false) }
func cmdEvalSHA(c *Client)   { evalGeneric(c, true, false) }
func cmdEvalRO(c *Client)    { evalGeneric(c, false, true) }
func cmdEvalSHARO(c *Client) { evalGeneric(c, true, true) }

func evalGeneric(c *Client, bySHA, ro bool) {
	numkeys, errText := evalNumKeys(c.Argv)
	if errText != "" {
		c.W.Error(errText)
		return
	}
	e := &extOf(c.srv).sc
	var sc *luaScript
	if bySHA {
		if k, ok := shaKey(c.Argv[1]); ok {
			sc = e.get(k)
		}
		if sc == nil {
			c.W.Error(errNoScript)
			return
		}
	} else {
		sc, errText = e.load(c.Argv[1])
		if errText != "" {
			c.W.Error(errText)
			return
		}
	}
	vm := e.acquire()
	vm.run(c, sc, c.Argv[3:3+numkeys], c.Argv[3+numkeys:], ro || sc.ro)
	e.release(vm)
	// Effects were propagated command by command; never the EVAL itself.
	c.Dirty, c.Propagate = 0, nil
}

// luaVM is one pooled interpreter.
type luaVM struct {
	e   *scriptEngine
	L   *lua.LState
	env *lua.LTable // what scripts see as _G (read-only proxy)
	g   *lua.LTable // the real globals behind it
	// protected tables: read-only proxies that must stay empty
	protected []*lua.LTable
	handler   *lua.LFunction
	fns       map[[40]byte]*lua.LFunction
	fnsGen    uint64
	buf       []byte // reply buffer for redis.call

	mu      sync.Mutex // ctx/cancel against SCRIPT KILL
	ctx     context.Context
	cancel  context.CancelFunc
	started atomic.Int64 // unix ms while running, else 0
	busy    atomic.Bool
	killed  atomic.Bool
	wrote   atomic.Bool
	client  atomic.Pointer[Client]
	sha     [40]byte

	// current run (owned by the running goroutine)
	r scriptRun
}

type scriptRun struct {
	c          *Client
	ro         bool
	resp       int
	propagated bool // MULTI handed to propagation
	errLine    int
	errSource  string
}
