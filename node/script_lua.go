package node

// The Lua side of scripting: the sandboxed environment, the redis library,
// Lua↔RESP conversion (Redis 7.0 rules) and slot acquisition for keys the
// script did not declare.

import (
	"context"
	"math"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/slotkv/slotkv/node/resp"
	"github.com/slotkv/slotkv/redirect"
	"github.com/slotkv/slotkv/slots"
)

const errReadonlyTable = "Attempt to modify a readonly table"

// removed base functions (Redis 7.0 has none of them)
var luaRemoved = []string{"dofile", "loadfile", "print", "getfenv", "setfenv", "module", "require", "_printregs", "newproxy", "_GOPHER_LUA_VERSION"}

func newLuaVM(e *scriptEngine) *luaVM {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 256, MinimizeStackMemory: true})
	for _, f := range []lua.LGFunction{lua.OpenBase, lua.OpenTable, lua.OpenString, lua.OpenMath, lua.OpenCoroutine} {
		L.Push(L.NewFunction(f))
		L.Call(0, 0)
	}
	vm := &luaVM{e: e, L: L, g: L.G.Global, fns: map[[40]byte]*lua.LFunction{}}
	vm.ctx, vm.cancel = context.WithCancel(context.Background())
	L.SetContext(vm.ctx)
	g := vm.g
	for _, n := range luaRemoved {
		g.RawSetString(n, lua.LNil)
	}
	openLuaBit(L)
	openLuaCjson(L)

	// redis library
	rl := L.NewTable()
	fns := map[string]lua.LGFunction{
		"call":               func(L *lua.LState) int { return vm.redisCall(L, true) },
		"pcall":              func(L *lua.LState) int { return vm.redisCall(L, false) },
		"error_reply":        luaErrorReply,
		"status_reply":       luaStatusReply,
		"sha1hex":            luaSha1hex,
		"log":                func(L *lua.LState) int { return vm.redisLog(L) },
		"setresp":            func(L *lua.LState) int { return vm.setResp(L) },
		"replicate_commands": func(L *lua.LState) int { L.Push(lua.LTrue); return 1 },
		"set_repl":           luaSetRepl,
		"breakpoint":         func(L *lua.LState) int { L.Push(lua.LFalse); return 1 },
		"debug":              func(L *lua.LState) int { return 0 },
		"acl_check_cmd":      luaACLCheck,
	}
	for n, f := range fns {
		rl.RawSetString(n, L.NewFunction(f))
	}
	for n, v := range map[string]int{"LOG_DEBUG": 0, "LOG_VERBOSE": 1, "LOG_NOTICE": 2, "LOG_WARNING": 3,
		"REPL_NONE": 0, "REPL_AOF": 1, "REPL_SLAVE": 2, "REPL_REPLICA": 2, "REPL_ALL": 3} {
		rl.RawSetString(n, lua.LNumber(v))
	}
	rl.RawSetString("REDIS_VERSION", lua.LString(Version))
	rl.RawSetString("REDIS_VERSION_NUM", lua.LNumber(versionNum(Version)))
	g.RawSetString("redis", rl)

	// pcall returns the "err" string of error tables (Redis 7.0's luaRedisPcall)
	basePcall := g.RawGetString("pcall").(*lua.LFunction)
	g.RawSetString("pcall", L.NewFunction(func(L *lua.LState) int {
		n := L.GetTop()
		L.Insert(basePcall, 1)
		L.Call(n, lua.MultRet)
		if L.GetTop() >= 2 && L.Get(1) == lua.LFalse {
			if t, ok := L.Get(2).(*lua.LTable); ok {
				if s, ok := t.RawGetString("err").(lua.LString); ok {
					L.Replace(2, s)
				}
			}
		}
		return L.GetTop()
	}))
	// loadstring/load: compiled chunks see the sandbox, not the real globals
	for _, name := range []string{"loadstring", "load"} {
		orig := g.RawGetString(name).(*lua.LFunction)
		g.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			n := L.GetTop()
			L.Insert(orig, 1)
			L.Call(n, lua.MultRet)
			if fn, ok := L.Get(1).(*lua.LFunction); ok {
				fn.Env = vm.env
			}
			return L.GetTop()
		}))
	}
	// rawset/setmetatable refuse protected tables
	baseRawset := g.RawGetString("rawset").(*lua.LFunction)
	g.RawSetString("rawset", L.NewFunction(func(L *lua.LState) int {
		if t, ok := L.Get(1).(*lua.LTable); ok && vm.isProtected(t) {
			L.Error(lua.LString(errReadonlyTable), 0)
		}
		n := L.GetTop()
		L.Insert(baseRawset, 1)
		L.Call(n, 1)
		return 1
	}))
	baseSetmt := g.RawGetString("setmetatable").(*lua.LFunction)
	g.RawSetString("setmetatable", L.NewFunction(func(L *lua.LState) int {
		if t, ok := L.Get(1).(*lua.LTable); ok && vm.isProtected(t) {
			L.Error(lua.LString(errReadonlyTable), 0)
		}
		n := L.GetTop()
		L.Insert(baseSetmt, 1)
		L.Call(n, 1)
		return 1
	}))

	// error() with no argument raises nil (Lua 5.1), which Redis reports as "ERR nil"
	baseError := g.RawGetString("error").(*lua.LFunction)
	g.RawSetString("error", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() == 0 {
			L.Error(lua.LNil, 0)
		}
		n := L.GetTop()
		L.Insert(baseError, 1)
		L.Call(n, 0)
		return 0
	}))
	g.RawSetString("gcinfo", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(0))
		return 1
	}))

	// read-only proxies for the libraries and for _G
	readonly := L.NewFunction(func(L *lua.LState) int {
		L.RaiseError(errReadonlyTable)
		return 0
	})
	emptyMeta := L.NewTable()
	proxy := func(real *lua.LTable) *lua.LTable {
		p := L.NewTable()
		mt := L.NewTable()
		mt.RawSetString("__index", real)
		mt.RawSetString("__newindex", readonly)
		mt.RawSetString("__metatable", emptyMeta)
		L.SetMetatable(p, mt)
		vm.protected = append(vm.protected, p)
		return p
	}
	for _, lib := range []string{"string", "table", "math", "coroutine", "redis", "bit", "cjson"} {
		if t, ok := g.RawGetString(lib).(*lua.LTable); ok {
			g.RawSetString(lib, proxy(t))
		}
	}
	// getmetatable("") gives a read-only view whose __index is the string proxy
	if smt, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
		view := L.NewTable()
		view.RawSetString("__index", g.RawGetString("string"))
		smt.RawSetString("__metatable", proxy(view))
	}
	// missing globals raise Redis's error
	gmt := L.NewTable()
	gmt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Script attempted to access nonexistent global variable '%s'", L.Get(2).String())
		return 0
	}))
	L.SetMetatable(g, gmt)
	vm.env = proxy(g)
	g.RawSetString("_G", vm.env)
	vm.protected = append(vm.protected, emptyMeta)

	vm.handler = L.NewFunction(vm.errHandler)
	return vm
}

func versionNum(v string) int {
	p := strings.Split(v, ".")
	n := 0
	for i := 0; i < 3; i++ {
		x := 0
		if i < len(p) {
			x, _ = strconv.Atoi(p[i])
		}
		n = n<<8 | x
	}
	return n
}

func (vm *luaVM) isProtected(t *lua.LTable) bool {
	if t == vm.g {
		return true
	}
	for _, p := range vm.protected {
		if p == t {
			return true
		}
	}
	return false
}

// scrub empties protected proxies a script managed to write into through
// table.* functions, so nothing leaks into the next script.
func (vm *luaVM) scrub() {
	for _, p := range vm.protected {
		if k, _ := p.Next(lua.LNil); k != lua.LNil {
			var keys []lua.LValue
			p.ForEach(func(k, _ lua.LValue) { keys = append(keys, k) })
			for _, k := range keys {
				p.RawSet(k, lua.LNil)
			}
		}
	}
}

// errHandler is the PCall message handler: it turns the error into Redis's
// error table and records where it happened.
func (vm *luaVM) errHandler(L *lua.LState) int {
	v := L.Get(1)
	r := &vm.r
	r.errLine, r.errSource = -1, ""
	for lvl := 1; lvl < 4; lvl++ {
		dbg, ok := L.GetStack(lvl)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
			break
		}
		if dbg.What == "G" {
			continue
		}
		r.errLine, r.errSource = dbg.CurrentLine, dbg.Source
		break
	}
	if _, ok := v.(*lua.LTable); !ok {
		t := L.NewTable()
		s := "nil"
		if v != lua.LNil {
			s = lua.LVAsString(v)
			if s == "" && v.Type() != lua.LTString {
				s = v.String()
			}
		}
		t.RawSetString("err", lua.LString("ERR "+s))
		v = t
	}
	L.Push(v)
	return 1
}

// run executes sc for c. keys and args are the EVAL arguments.
func (vm *luaVM) run(c *Client, sc *luaScript, keys, args [][]byte, ro bool) {
	L := vm.L
	e := vm.e
	if g := e.gen.Load(); g != vm.fnsGen {
		vm.fns = map[[40]byte]*lua.LFunction{}
		vm.fnsGen = g
	}
	fn := vm.fns[sc.sha]
	if fn == nil {
		fn = L.NewFunctionFromProto(sc.proto)
		fn.Env = vm.env
		vm.fns[sc.sha] = fn
	}
	kt := L.CreateTable(len(keys), 0)
	for i, k := range keys {
		kt.RawSetInt(i+1, lua.LString(k))
	}
	at := L.CreateTable(len(args), 0)
	for i, a := range args {
		at.RawSetInt(i+1, lua.LString(a))
	}
	vm.g.RawSetString("KEYS", kt)
	vm.g.RawSetString("ARGV", at)

	vm.r = scriptRun{c: c, ro: ro, resp: 2}
	vm.sha = sc.sha
	vm.wrote.Store(false)
	vm.mu.Lock()
	if vm.ctx.Err() != nil {
		vm.ctx, vm.cancel = context.WithCancel(context.Background())
		L.SetContext(vm.ctx)
	}
	vm.client.Store(c)
	vm.started.Store(time.Now().UnixMilli())
	vm.mu.Unlock()

	inExec := c.InMulti
	wasAll := c.allSlots
	L.Push(fn)
	err := L.PCall(0, 1, vm.handler)

	vm.mu.Lock()
	vm.started.Store(0)
	vm.client.Store(nil)
	killed := vm.killed.Swap(false)
	vm.mu.Unlock()
	if vm.busy.CompareAndSwap(true, false) {
		e.busy.Add(-1)
		scriptsBusy.Add(-1)
	}

	if vm.r.propagated {
		c.srv.propagate(c, execArgv)
	}
	if !inExec && !wasAll && c.allSlots {
		// Process unlocks c.locked (now every slot) after this command.
		c.allSlots = false
	}
	if err != nil {
		msg := "ERR unknown error"
		if ae, ok := err.(*lua.ApiError); ok {
			if t, ok := ae.Object.(*lua.LTable); ok {
				if s, ok := t.RawGetString("err").(lua.LString); ok {
					msg = string(s)
				}
			} else if ae.Object != nil && ae.Object != lua.LNil {
				msg = "ERR " + ae.Object.String()
			}
		}
		if killed {
			msg = errKilled
		}
		src := vm.r.errSource
		if src == "user_script" {
			src = "@user_script"
		}
		if vm.r.errLine >= 0 && src != "" {
			msg += " script: " + string(sc.sha[:]) + ", on " + src + ":" + strconv.Itoa(vm.r.errLine) + "."
		}
		c.W.Error(msg)
	} else {
		luaToResp(c, &c.W, L.Get(-1), vm.r.resp, 0)
	}
	L.SetTop(0)
	vm.scrub()
	vm.r = scriptRun{}
}

// luaToResp writes a script's return value (Redis 7.0 luaReplyToRedisReply).
func luaToResp(c *Client, w *resp.Writer, v lua.LValue, scriptResp int, depth int) {
	if depth > 1000 {
		w.Error("ERR reached lua stack limit")
		return
	}
	switch v := v.(type) {
	case lua.LString:
		w.BulkString(string(v))
	case lua.LBool:
		if scriptResp == 2 {
			if v {
				w.Int(1)
			} else {
				w.Null()
			}
		} else {
			w.Bool(bool(v))
		}
	case lua.LNumber:
		w.Int(luaInt(float64(v)))
	case *lua.LTable:
		if s, ok := v.RawGetString("err").(lua.LString); ok {
			w.Error(string(s))
			return
		}
		if s, ok := v.RawGetString("ok").(lua.LString); ok {
			w.Simple(oneLine(string(s)))
			return
		}
		if n, ok := v.RawGetString("double").(lua.LNumber); ok {
			w.Double(float64(n))
			return
		}
		if s, ok := v.RawGetString("big_number").(lua.LString); ok {
			if w.Proto == 3 {
				w.Raw([]byte("(" + oneLine(string(s)) + "\r\n"))
			} else {
				w.BulkString(string(s))
			}
			return
		}
		if m, ok := v.RawGetString("map").(*lua.LTable); ok {
			var ks, vs []lua.LValue
			m.ForEach(func(k, x lua.LValue) { ks = append(ks, k); vs = append(vs, x) })
			w.Map(len(ks))
			for i := range ks {
				luaToResp(c, w, ks[i], scriptResp, depth+1)
				luaToResp(c, w, vs[i], scriptResp, depth+1)
			}
			return
		}
		if m, ok := v.RawGetString("set").(*lua.LTable); ok {
			var ks []lua.LValue
			m.ForEach(func(k, _ lua.LValue) { ks = append(ks, k) })
			w.Set(len(ks))
			for _, k := range ks {
				luaToResp(c, w, k, scriptResp, depth+1)
			}
			return
		}
		if vt, ok := v.RawGetString("verbatim_string").(*lua.LTable); ok {
			if s, ok := vt.RawGetString("string").(lua.LString); ok {
				w.Verbatim(string(s))
				return
			}
		}
		n := 0
		for v.RawGetInt(n+1) != lua.LNil {
			n++
		}
		w.Array(n)
		for i := 1; i <= n; i++ {
			luaToResp(c, w, v.RawGetInt(i), scriptResp, depth+1)
		}
	default:
		w.Null()
	}
}

func oneLine(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	}
	return s
}

// luaInt converts a Lua number like C's (long long) cast on x86-64.
func luaInt(f float64) int64 {
	if f != f || f >= 9223372036854775807.0 || f < -9223372036854775808.0 {
		return math.MinInt64
	}
	return int64(f)
}

// luaArgString formats a number argument of redis.call like Redis 7.0
// ("%.17g").
func luaArgString(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	case f != f:
		return []byte("nan")
	case f == math.Trunc(f) && math.Abs(f) < 1e17:
		if f == 0 && math.Signbit(f) {
			return []byte("-0")
		}
		return strconv.AppendInt(nil, int64(f), 10)
	}
	return strconv.AppendFloat(nil, f, 'g', 17, 64)
}

func luaErrTable(L *lua.LState, msg string) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("err", lua.LString(msg))
	return t
}

// redisCall implements redis.call (raise=true) and redis.pcall.
func (vm *luaVM) redisCall(L *lua.LState, raise bool) int {
	fail := func(msg string) int {
		t := luaErrTable(L, msg)
		if raise {
			L.Error(t, 0)
			return 0
		}
		L.Push(t)
		return 1
	}
	r := &vm.r
	c := r.c
	if c == nil {
		return fail("ERR redis.call is only allowed while a script runs")
	}
	n := L.GetTop()
	if n == 0 {
		return fail("ERR Please specify at least one argument for this redis lib call")
	}
	argv := make([][]byte, n)
	for i := 1; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			argv[i-1] = []byte(v)
		case lua.LNumber:
			argv[i-1] = luaArgString(float64(v))
		default:
			return fail("ERR Lua redis lib command arguments must be strings or integers")
		}
	}
	cmd := lookupCommand(argv[0], &c.scratch)
	if cmd == nil {
		return fail("ERR Unknown Redis command called from script")
	}
	if cmd.Sub != nil && len(argv) > 1 {
		sub := lookupSub(cmd, argv[1])
		if sub == nil {
			return fail("ERR Unknown Redis command called from script")
		}
		cmd = sub
	}
	if !cmd.arityOK(len(argv)) {
		return fail("ERR Wrong number of args calling Redis command from script")
	}
	if cmd.Flags&FlagNoScript != 0 {
		return fail("ERR This Redis command is not allowed from script")
	}
	s := c.srv
	if cmd.Flags&FlagWrite != 0 {
		if r.ro {
			return fail("ERR Write commands are not allowed from read-only scripts.")
		}
		if replicaMode.Load() && s.Route.Load() == nil && !c.isMaster {
			return fail("READONLY You can't write against a read only replica.")
		}
		if cmd.Flags&FlagDenyOOM != 0 && !vm.wrote.Load() && s.overMaxmemory() {
			return fail("OOM command not allowed when used memory > 'maxmemory'.")
		}
	}
	slot, errText := vm.ensureSlots(c, cmd, argv)
	if errText != "" {
		return fail(errText)
	}
	if cmd.Flags&FlagWrite != 0 {
		vm.wrote.Store(true)
		if !r.propagated && !c.InMulti {
			s.propagate(c, multiArgv)
			r.propagated = true
		}
	}
	savedB, savedProto, savedSlot := c.W.B, c.W.Proto, c.slot
	c.W.B, c.W.Proto, c.slot = vm.buf[:0], r.resp, slot
	s.call(c, cmd, argv)
	out := c.W.B
	c.W.B, c.W.Proto, c.slot = savedB, savedProto, savedSlot
	if cap(out) <= 64<<10 {
		vm.buf = out[:0]
	} else {
		vm.buf = nil
	}
	rep, _, err := ParseReply(out)
	if err != nil {
		return fail("ERR reply of the command could not be read")
	}
	if rep.Kind == '-' {
		return fail(string(rep.Str))
	}
	L.Push(replyToLua(L, &rep, r.resp))
	return 1
}

// replyToLua converts a parsed reply (Redis 7.0 rules, RESP2 or RESP3).
func replyToLua(L *lua.LState, r *Reply, proto int) lua.LValue {
	switch r.Kind {
	case '+':
		t := L.CreateTable(0, 1)
		t.RawSetString("ok", lua.LString(r.Str))
		return t
	case '-':
		return luaErrTable(L, string(r.Str))
	case ':':
		return lua.LNumber(r.Int)
	case '$':
		if r.Nil {
			if proto == 3 {
				return lua.LNil
			}
			return lua.LFalse
		}
		return lua.LString(r.Str)
	case '_':
		if proto == 3 {
			return lua.LNil
		}
		return lua.LFalse
	case '#':
		return lua.LBool(r.Int != 0)
	case ',':
		t := L.CreateTable(0, 1)
		t.RawSetString("double", lua.LNumber(r.Num))
		return t
	case '(':
		t := L.CreateTable(0, 1)
		t.RawSetString("big_number", lua.LString(r.Str))
		return t
	case '=':
		t := L.CreateTable(0, 1)
		vt := L.CreateTable(0, 2)
		vt.RawSetString("format", lua.LString("txt"))
		vt.RawSetString("string", lua.LString(r.Str))
		t.RawSetString("verbatim_string", vt)
		return t
	case '%':
		m := L.CreateTable(0, len(r.Elems)/2)
		for i := 0; i+1 < len(r.Elems); i += 2 {
			m.RawSet(replyToLua(L, &r.Elems[i], proto), replyToLua(L, &r.Elems[i+1], proto))
		}
		t := L.CreateTable(0, 1)
		t.RawSetString("map", m)
		return t
	case '~':
		m := L.CreateTable(0, len(r.Elems))
		for i := range r.Elems {
			m.RawSet(replyToLua(L, &r.Elems[i], proto), lua.LTrue)
		}
		t := L.CreateTable(0, 1)
		t.RawSetString("set", m)
		return t
	case '*', '>':
		if r.Nil {
			if proto == 3 {
				return lua.LNil
			}
			return lua.LFalse
		}
		t := L.CreateTable(len(r.Elems), 0)
		for i := range r.Elems {
			t.RawSetInt(i+1, replyToLua(L, &r.Elems[i], proto))
		}
		return t
	}
	return lua.LNil
}

// ensureSlots makes sure the script holds the slots of cmd's keys (taking
// them when needed) and returns the slot to run cmd with (-1 for none or
// several), or an error text.
func (vm *luaVM) ensureSlots(c *Client, cmd *Command, argv [][]byte) (int, string) {
	if !cmd.HasKeys() {
		if cmd.Flags&FlagAllSlots != 0 && !c.allSlots {
			if err := vm.lockAll(c); err != "" {
				return -1, err
			}
		}
		return -1, ""
	}
	var buf [8]int
	pos := cmd.KeyPositions(argv, buf[:0])
	if len(pos) == 0 {
		if cmd.Flags&FlagAllSlots != 0 && !c.allSlots {
			if err := vm.lockAll(c); err != "" {
				return -1, err
			}
		}
		return -1, ""
	}
	first := slots.Of(argv[pos[0]])
	single := true
	var extra []int
	for _, p := range pos[1:] {
		if sl := slots.Of(argv[p]); sl != first {
			single = false
			extra = append(extra, sl)
		}
	}
	t := c.srv.Route.Load()
	if t != nil && !c.isMaster && !single {
		return -1, "ERR Script attempted to access a non local key in a cluster node"
	}
	need := append([]int{first}, extra...)
	sort.Ints(need)
	need = dedup(need)
	for _, sl := range need {
		if c.allSlots || c.holds(sl) {
			continue
		}
		if err := vm.lockSlot(c, sl); err != "" {
			return -1, err
		}
		if t != nil && !c.isMaster {
			if err := scriptRoute(c, t, cmd, argv, pos, sl); err != "" {
				return -1, err
			}
		}
	}
	if single {
		return first, ""
	}
	return -1, ""
}

// scriptRoute checks, for a slot the script took itself, that this node
// serves it (Redis 7.0's scriptVerifyClusterState). The slot is locked.
func scriptRoute(c *Client, t *redirect.Table, cmd *Command, argv [][]byte, pos []int, sl int) string {
	req := redirect.Request{Slot: sl, Write: cmd.Flags&FlagWrite != 0, ReadOnly: c.ReadOnly}
	v := redirect.Decide(t, req)
	if v.Kind == redirect.NeedKeys {
		s := c.srv.KS.Slot(sl)
		now := nowMs()
		for _, p := range pos {
			if s.Lookup(argv[p], now) != nil {
				req.Present++
			} else {
				req.Missing++
			}
		}
		req.KeysKnown = true
		v = redirect.Decide(t, req)
	}
	switch v.Kind {
	case redirect.Serve:
		return ""
	case redirect.DownRO:
		return "ERR Script attempted to execute a write command while the cluster is down and readonly"
	case redirect.Down:
		return "ERR Script attempted to execute a command while the cluster is down"
	}
	return "ERR Script attempted to access a non local key in a cluster node"
}

// slotWait bounds how long a script waits for a slot below one it holds.
const slotWait = 5 * time.Second

const errSlotWait = "ERR slotkv: timed out taking the slot of a key the script did not declare (declare every key in KEYS)"

// lockSlot takes slot sl for the rest of the script (c.locked stays
// ascending; Process unlocks everything afterwards).
func (vm *luaVM) lockSlot(c *Client, sl int) string {
	mu := &c.srv.KS.slots[sl].mu
	held := c.locked
	if len(held) == 0 || sl > held[len(held)-1] {
		mu.Lock()
	} else if !mu.TryLock() {
		deadline := time.Now().Add(slotWait)
		for spins := 0; !mu.TryLock(); spins++ {
			if vm.killed.Load() {
				return errKilled
			}
			if time.Now().After(deadline) {
				return errSlotWait
			}
			if spins < 50 {
				runtime.Gosched()
			} else {
				time.Sleep(100 * time.Microsecond)
			}
		}
	}
	nl := make([]int, 0, len(held)+1)
	i := sort.SearchInts(held, sl)
	nl = append(nl, held[:i]...)
	nl = append(nl, sl)
	nl = append(nl, held[i:]...)
	c.locked = nl
	return ""
}

// lockAll takes every slot the script does not hold yet.
func (vm *luaVM) lockAll(c *Client) string {
	var have [slots.N]bool
	max := -1
	for _, h := range c.locked {
		have[h] = true
		if h > max {
			max = h
		}
	}
	ks := c.srv.KS
	var got []int
	undo := func() {
		for _, i := range got {
			ks.slots[i].mu.Unlock()
		}
	}
	for i := 0; i < slots.N; i++ {
		if have[i] {
			continue
		}
		mu := &ks.slots[i].mu
		if i > max {
			mu.Lock()
		} else if !mu.TryLock() {
			deadline := time.Now().Add(slotWait)
			for spins := 0; !mu.TryLock(); spins++ {
				if vm.killed.Load() || time.Now().After(deadline) {
					undo()
					if vm.killed.Load() {
						return errKilled
					}
					return errSlotWait
				}
				if spins < 50 {
					runtime.Gosched()
				} else {
					time.Sleep(100 * time.Microsecond)
				}
			}
		}
		got = append(got, i)
	}
	c.locked = allSlotList
	c.allSlots = true
	return ""
}

func luaErrorReply(L *lua.LState) int {
	if L.GetTop() != 1 || L.Get(1).Type() != lua.LTString {
		L.Push(luaErrTable(L, "ERR wrong number or type of arguments"))
		return 1
	}
	L.Push(luaErrTable(L, luaErrorText(L.ToString(1))))
	return 1
}

// luaErrorText gives redis.error_reply's "CODE message" form (Redis 7.0
// luaPushErrorBuff): a leading '-' is dropped and the first word becomes
// the code; without '-', the first word is the code when a space follows.
func luaErrorText(s string) string {
	if !strings.HasPrefix(s, "-") {
		s = "-" + s
	}
	s = s[1:]
	var code, msg string
	if i := strings.IndexByte(s, ' '); i >= 0 {
		code, msg = s[:i], s[i+1:]
	} else {
		code, msg = "ERR", s
	}
	msg = strings.TrimRight(strings.TrimLeft(msg, "\r\n"), "\r\n")
	return code + " " + msg
}

func luaStatusReply(L *lua.LState) int {
	if L.GetTop() != 1 || L.Get(1).Type() != lua.LTString {
		L.Push(luaErrTable(L, "ERR wrong number or type of arguments"))
		return 1
	}
	t := L.CreateTable(0, 1)
	t.RawSetString("ok", L.Get(1))
	L.Push(t)
	return 1
}

func luaSha1hex(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.Error(luaErrTable(L, "ERR wrong number of arguments"), 0)
	}
	var b []byte
	switch v := L.Get(1).(type) {
	case lua.LString:
		b = []byte(v)
	case lua.LNumber:
		b = []byte(v.String())
	}
	h := sha1hex(b)
	L.Push(lua.LString(h[:]))
	return 1
}

func (vm *luaVM) redisLog(L *lua.LState) int {
	n := L.GetTop()
	if n < 2 {
		L.Error(luaErrTable(L, "ERR redis.log() requires two arguments or more."), 0)
	}
	lv, ok := L.Get(1).(lua.LNumber)
	if !ok {
		L.Error(luaErrTable(L, "ERR First argument must be a number (log level)."), 0)
	}
	if lv < 0 || lv > 3 {
		L.Error(luaErrTable(L, "ERR Invalid debug level."), 0)
	}
	parts := make([]string, 0, n-1)
	for i := 2; i <= n; i++ {
		parts = append(parts, lua.LVAsString(L.Get(i)))
	}
	msg := strings.Join(parts, " ")
	log := vm.e.srv.Log
	switch int(lv) {
	case 0:
		log.Debug(msg, "source", "lua")
	case 1, 2:
		log.Info(msg, "source", "lua")
	default:
		log.Warn(msg, "source", "lua")
	}
	return 0
}

func (vm *luaVM) setResp(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.Error(luaErrTable(L, "ERR redis.setresp() requires one argument."), 0)
	}
	n, ok := L.Get(1).(lua.LNumber)
	if !ok || (n != 2 && n != 3) {
		L.Error(luaErrTable(L, "ERR RESP version must be 2 or 3."), 0)
	}
	vm.r.resp = int(n)
	return 0
}

func luaSetRepl(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.Error(luaErrTable(L, "ERR redis.set_repl() requires one argument."), 0)
	}
	n, ok := L.Get(1).(lua.LNumber)
	if !ok || n < 0 || n > 3 {
		L.Error(luaErrTable(L, "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."), 0)
	}
	return 0
}

func luaACLCheck(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		L.Error(luaErrTable(L, "ERR Please specify at least one argument for this redis lib call"), 0)
	}
	var scratch [32]byte
	cmd := lookupCommand([]byte(L.ToString(1)), &scratch)
	if cmd == nil {
		L.Error(luaErrTable(L, "ERR Invalid command passed to redis.acl_check_cmd()"), 0)
	}
	L.Push(lua.LTrue)
	return 1
}
