// Package node owns one slotkv-server process: the client protocol loop,
// the command table and its dispatch (auth, arity, MULTI queueing, cluster
// routing, per-slot locking), the slot-partitioned keyspace, and the command
// families. Replication and persistence plug in through the propagation
// hook; the cluster layer (package clusterbus) publishes the routing table
// that dispatch consults.
package node

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slotkv/slotkv/node/resp"
	"github.com/slotkv/slotkv/redirect"
	"github.com/slotkv/slotkv/slots"
)

// Version is the Redis version slotkv reports for compatibility.
const Version = "7.0.15"

// SlotkvVersion is slotkv's own version (INFO server slotkv_version).
const SlotkvVersion = "0.1.0"

// Server is one node.
type Server struct {
	cfgMu sync.Mutex // serialises UpdateConfig
	cfg   atomic.Pointer[Config]

	KS  *Keyspace
	Log *slog.Logger

	// Route is the cluster routing table; nil in standalone mode.
	Route atomic.Pointer[redirect.Table]
	// PropagateHook, when set, receives every write command that changed
	// the keyspace (after it ran, slot locks still held), for replication
	// and the AOF.
	PropagateHook func(c *Client, argv [][]byte)
	// FlushHook, when set, runs before a client's replies are written to
	// its socket (persistence: appendfsync always waits for the fsync).
	FlushHook func(c *Client)
	// Loading is set while the dataset is loaded from disk: commands
	// without FlagLoading are answered -LOADING.
	Loading atomic.Bool
	// Closers run on shutdown, in order (cluster bus, persistence...).
	Closers []func()

	repl   replState
	mem    memState
	replMu sync.Mutex // serialises ReplicaOf

	listeners []net.Listener
	clientsMu sync.Mutex
	clients   map[int64]*Client
	nextID    atomic.Int64
	stopping  atomic.Bool
	done      chan struct{}
	wg        sync.WaitGroup

	Started       time.Time
	statConns     atomic.Int64 // total_connections_received
	statCmdsDead  atomic.Int64 // commands of closed clients
	statRejected  atomic.Int64
	statExpired   atomic.Int64
	statKeyHits   atomic.Int64
	statKeyMisses atomic.Int64

	statFullSync         atomic.Int64 // sync_full
	statPartialOK        atomic.Int64 // sync_partial_ok
	statPartialErr       atomic.Int64 // sync_partial_err
	statPartialAsReplica atomic.Int64
}

// NewServer builds a server from a validated config.
func NewServer(cfg *Config, log *slog.Logger) *Server {
	startClock()
	s := &Server{KS: NewKeyspace(), Log: log, clients: map[int64]*Client{}, done: make(chan struct{}), Started: time.Now()}
	s.cfg.Store(cfg)
	s.initRepl()
	// Expired keys are propagated as DEL (PropagateHook sees them with a nil
	// client), so replicas and the AOF follow the master's expiry.
	OnExpire = func(key string) { s.propagate(nil, [][]byte{[]byte("DEL"), []byte(key)}) }
	if cfg.ClusterEnabled {
		// Until the cluster layer publishes a table, this node serves no slot.
		s.Route.Store(redirect.NewTable(redirect.Node{Endpoint: net.JoinHostPort(cfg.announceIP(), strconv.Itoa(cfg.Port))}))
	}
	return s
}

// Config returns the current configuration (read-only; use SetConfig).
func (s *Server) Config() *Config {
	return s.cfg.Load()
}

// UpdateConfig applies fn to a copy of the config and installs it.
func (s *Server) UpdateConfig(fn func(c *Config) error) error {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	n := *s.cfg.Load()
	if err := fn(&n); err != nil {
		return err
	}
	s.cfg.Store(&n)
	return nil
}

// Listen binds the client port on every bind address.
func (s *Server) Listen() error {
	cfg := s.Config()
	for _, ip := range cfg.listenAddrs() {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(cfg.Port)))
		if err != nil {
			for _, l := range s.listeners {
				l.Close()
			}
			return fmt.Errorf("could not listen on %s:%d: %w", ip, cfg.Port, err)
		}
		s.listeners = append(s.listeners, ln)
	}
	return nil
}

// Addr returns the first listener's address.
func (s *Server) Addr() net.Addr { return s.listeners[0].Addr() }

// Serve accepts clients until Shutdown. It starts background jobs first.
func (s *Server) Serve() error {
	s.applyMemoryConfig()
	s.wg.Add(1)
	go s.cron()
	var wg sync.WaitGroup
	for _, ln := range s.listeners {
		wg.Add(1)
		go func(ln net.Listener) {
			defer wg.Done()
			s.acceptLoop(ln)
		}(ln)
	}
	wg.Wait()
	return nil
}

func (s *Server) acceptLoop(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			s.Log.Warn("accept failed", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.statConns.Add(1)
		go s.serveConn(conn)
	}
}

func (s *Server) newClient(conn net.Conn) *Client {
	cfg := s.Config()
	lim := resp.DefaultLimits()
	lim.MaxBulk = cfg.ProtoMaxBulkLen
	c := &Client{
		srv:       s,
		conn:      conn,
		ID:        s.nextID.Add(1),
		Addr:      conn.RemoteAddr().String(),
		LocalAddr: conn.LocalAddr().String(),
		Created:   time.Now(),
		slot:      -1,
		Authed:    cfg.RequirePass == "",
		User:      "default",
	}
	lim.Unauthed = !c.Authed
	if c.raw = newRawIO(conn); c.raw != nil {
		c.rd = resp.NewReader(c.raw, lim)
	} else {
		c.rd = resp.NewReader(conn, lim)
	}
	c.W.Proto = 2
	c.W.B = make([]byte, 0, 4096)
	c.locked = c.lockBuf[:0]
	return c
}

func (s *Server) serveConn(conn net.Conn) {
	c := s.newClient(conn)
	s.clientsMu.Lock()
	if max := s.Config().MaxClients; max > 0 && len(s.clients) >= max {
		s.clientsMu.Unlock()
		conn.Write([]byte("-ERR max number of clients reached\r\n"))
		conn.Close()
		s.statRejected.Add(1)
		return
	}
	s.clients[c.ID] = c
	s.clientsMu.Unlock()
	defer func() {
		s.clientsMu.Lock()
		delete(s.clients, c.ID)
		s.clientsMu.Unlock()
		s.statCmdsDead.Add(c.cmds.Load())
		s.dropReplica(c)
		c.cleanup()
		c.Close()
	}()
	if s.Config().ProtectedMode && s.Config().RequirePass == "" && !isLoopback(conn.RemoteAddr()) && s.Config().bindDefault {
		conn.Write([]byte("-DENIED Running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"))
		return
	}
	if c.raw != nil {
		s.serveRaw(c)
		return
	}
	for {
		argv, err := c.rd.ReadCommand()
		if err != nil {
			s.readFailed(c, err)
			return
		}
		if s.serveCommand(c, argv) {
			return
		}
	}
}

// serveRaw is serveConn's loop for a TCP socket. It runs inside one
// syscall.RawConn.Read call for the life of the connection, so the runtime's
// read-readiness state is not reset between requests: after a short read
// (the socket was drained) and the replies are flushed, the loop parks
// in the netpoller directly instead of issuing a read that would return
// EAGAIN. That halves the read system calls (redis-benchmark -P 1: 2.0 -> 1.0
// per request, like redis-server). Data that arrives after the short read
// raises a new readiness event, so nothing is missed.
func (s *Server) serveRaw(c *Client) {
	var loopErr error
	done := false
	c.raw.active.Store(true)
	defer c.raw.active.Store(false)
	err := c.raw.rc.Read(func(fd uintptr) bool {
		c.raw.fd, c.raw.woke = fd, true
		for {
			argv, err := c.rd.ReadCommand()
			if err == errWouldBlock {
				return false // wait for readability, then this runs again
			}
			if err != nil {
				loopErr = err
				return true
			}
			if s.serveCommand(c, argv) {
				done = true
				return true
			}
		}
	})
	c.raw.fd = ^uintptr(0)
	if done {
		return
	}
	if loopErr == nil {
		loopErr = err
	}
	if loopErr != nil {
		s.readFailed(c, loopErr)
	}
}

// readFailed answers a protocol error or logs a failed read; the client is
// then disconnected.
func (s *Server) readFailed(c *Client, err error) {
	var pe *resp.ProtocolError
	if errors.As(err, &pe) {
		c.W.Error("ERR " + pe.Error())
		c.flush()
		s.Log.Debug("protocol error, closing client", "addr", c.Addr, "err", pe.Error())
	} else if err != io.EOF && !c.closing.Load() && !s.stopping.Load() {
		s.Log.Debug("client read failed", "addr", c.Addr, "err", err)
	}
}

// serveCommand runs one command read from the client and flushes the
// replies when no further command is buffered. It reports whether the
// connection must be closed.
func (s *Server) serveCommand(c *Client, argv [][]byte) bool {
	mark := len(c.W.B)
	s.Process(c, argv)
	if ClientFlag(c.Flags.Load())&clientReplyBits != 0 {
		c.applyReplyMode(mark) // cmd_client.go: CLIENT REPLY OFF|SKIP
	}
	if c.CloseAfterReply {
		c.flush()
		return true
	}
	if c.rd.Buffered() == 0 || len(c.W.B) > 64<<10 {
		if c.flush() != nil {
			return true
		}
	}
	return false
}

func isLoopback(a net.Addr) bool {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.IsLoopback()
	}
	return true
}

// cleanup releases per-client registrations (WATCH, subscriptions).
func (c *Client) cleanup() {
	c.UnwatchAll()
	for _, fn := range cleanupHooks {
		fn(c)
	}
}

// cleanupHooks run when a client disconnects (pub/sub, blocking...).
var cleanupHooks []func(c *Client)

// UnwatchAll drops every WATCH of c.
func (c *Client) UnwatchAll() {
	for _, w := range c.Watched {
		s := &c.srv.KS.slots[w.Slot]
		s.Lock()
		s.Unwatch(w.Key, c)
		s.Unlock()
	}
	c.Watched = c.Watched[:0]
	c.dirtyCAS.Store(false)
}

// Errors shared by many commands (exact Redis texts).
const (
	ErrSyntax     = "ERR syntax error"
	ErrWrongType  = "WRONGTYPE Operation against a key holding the wrong kind of value"
	ErrNotInt     = "ERR value is not an integer or out of range"
	ErrNotFloat   = "ERR value is not a valid float"
	ErrNoAuth     = "NOAUTH Authentication required."
	ErrOverflow   = "ERR increment or decrement would overflow"
	ErrNoSuchKey  = "ERR no such key"
	ErrOutOfRange = "ERR index out of range"
	ErrInvalidExp = "ERR invalid expire time in '%s' command"
	ErrCrossSlot  = "CROSSSLOT Keys in request don't hash to the same slot"
	ErrPubSubCtx  = "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
)

// Process runs one command for c: lookup, checks, routing, locking, Proc,
// propagation. argv is only valid for the duration of the call.
func (s *Server) Process(c *Client, argv [][]byte) {
	c.cmds.Add(1)
	// A connection mostly repeats one command: compare with the last one
	// found before hashing the name into the command table.
	cmd := c.lookCache
	if cmd == nil || !nameIs(argv[0], cmd.Name) {
		cmd = lookupCommand(argv[0], &c.scratch)
		c.lookCache = cmd
	}
	if cmd == nil {
		c.W.Error(unknownCommand(argv))
		c.abortMulti()
		return
	}
	if !cmd.arityOK(len(argv)) {
		c.W.Error("ERR wrong number of arguments for '" + cmd.Name + "' command")
		c.abortMulti()
		return
	}
	if cmd.Sub != nil && len(argv) > 1 { // COMMAND (arity -1) runs its own Proc without a subcommand
		sub := lookupSub(cmd, argv[1])
		if sub == nil {
			c.W.Error("ERR unknown subcommand '" + sanitize(trunc(string(argv[1]), 128)) + "'. Try " + upper(cmd.Name) + " HELP.")
			c.abortMulti()
			return
		}
		if !sub.arityOK(len(argv)) {
			c.W.Error("ERR wrong number of arguments for '" + sub.Name + "' command")
			c.abortMulti()
			return
		}
		cmd = sub
	}
	if c.isMaster {
		c.slot = -1
		if s.routeLocal(c, cmd, argv) {
			s.call(c, cmd, argv)
			c.unlockSlots()
		}
		return
	}
	if !c.Authed && cmd.Flags&FlagNoAuth == 0 {
		c.W.Error(ErrNoAuth)
		c.abortMulti()
		return
	}
	if c.subscribed() && c.W.Proto == 2 && !pubsubContextOK(cmd) { // cmd_pubsub.go
		c.W.Error(fmt.Sprintf(ErrPubSubCtx, cmd.Name))
		return
	}
	if s.Loading.Load() && cmd.Flags&FlagLoading == 0 {
		c.W.Error("LOADING Redis is loading the dataset in memory")
		c.abortMulti()
		return
	}
	if scriptsBusy.Load() != 0 && busyReject(s, c, cmd) { // script.go: -BUSY while a script is over its time limit
		return
	}
	if pausedServers.Load() != 0 {
		s.pauseWait(c, cmd)
	}
	if bgsaveErrServers.Load() != 0 && diskWriteDenied(s, c, cmd, argv) { // persistence.go: -MISCONF (stop-writes-on-bgsave-error)
		return
	}
	if c.InMulti && !multiControl(cmd) {
		if cmd.Flags&FlagNoMulti != 0 {
			c.W.Error("ERR Command not allowed inside a transaction")
			c.abortMulti()
			return
		}
		if !s.route(c, cmd, argv, true) {
			c.abortMulti()
			return
		}
		q := make([][]byte, len(argv))
		for i, a := range argv {
			q[i] = append([]byte(nil), a...)
		}
		c.MultiQ = append(c.MultiQ, q)
		c.W.Simple("QUEUED")
		return
	}
	now := nowMs()
	if now != c.lastAtSeen { // at most one atomic store per ms and per command change
		c.lastAt.Store(now)
		c.lastAtSeen = now
	}
	if cmd != c.lastCmdSeen {
		c.lastCmd.Store(cmd)
		c.lastCmdSeen = cmd
	}
	if now > writeLease.Load() && cmd.Flags&(FlagWrite|FlagMayReplicate) != 0 {
		s.leaseWait() // cmd_failover.go: the process was stalled; the cluster may have replaced this master
	}
	if cmd.Flags&FlagWrite != 0 && replicaMode.Load() && s.Route.Load() == nil {
		c.W.Error("READONLY You can't write against a read only replica.")
		return
	}
	if cmd.Flags&FlagDenyOOM != 0 && s.overMaxmemory() {
		c.W.Error("OOM command not allowed when used memory > 'maxmemory'.")
		return
	}
	if cmd.Flags&FlagWrite != 0 {
		if min := s.Config().MinReplicasToWrite; min > 0 && !replicaMode.Load() && s.goodReplicas(s.Config().MinReplicasMaxLag) < min {
			c.W.Error("NOREPLICAS Not enough good replicas to write.")
			return
		}
	}
	if !s.route(c, cmd, argv, false) {
		c.Asking = false
		return
	}
	if pausedServers.Load() != 0 && s.writePausedNow(c, cmd, argv) { // cmd_failover.go: re-check under the slot lock
		return
	}
	s.call(c, cmd, argv)
	c.unlockSlots()
}

// call runs cmd with its slots already locked (by Process, EXEC or a
// script) and propagates it if it changed the keyspace.
func (s *Server) call(c *Client, cmd *Command, argv [][]byte) {
	if cmd.Name != "asking" {
		c.Asking = false
	}
	c.Argv, c.Cmd = argv, cmd
	c.Dirty, c.Propagate = 0, nil
	c.Now = nowMs()
	if c.isMaster {
		for _, i := range c.locked {
			s.KS.slots[i].masterApply = true
		}
		cmd.Proc(c)
		for _, i := range c.locked {
			s.KS.slots[i].masterApply = false
		}
	} else {
		cmd.Proc(c)
	}
	cmd.calls.inc(c.ID)
	if monitorsActive.Load() != 0 && cmd.Flags&(FlagAdmin|FlagSkipMonitor) == 0 {
		feedMonitors(s, c, cmd, argv) // cmd_server.go: MONITOR
	}
	if c.Dirty > 0 && cmd.Flags&FlagNoPropagate == 0 {
		if c.Propagate != nil {
			s.propagate(c, c.Propagate)
		} else {
			s.propagate(c, argv)
		}
	}
	c.Argv = nil
}

// propagate hands a write that changed the keyspace to replication and to
// PropagateHook (the AOF). Slot locks of the write are held, so the stream
// order matches the order of changes per key. c is nil for expiry DELs.
func (s *Server) propagate(c *Client, argv [][]byte) {
	if c != nil && c.isMaster {
		// Forward the master's bytes verbatim so offsets match exactly.
		s.repl.mu.Lock()
		s.appendStreamLocked(c.replRaw)
		s.repl.mu.Unlock()
		c.replFed = true
	} else if s.repl.active.Load() {
		switch {
		case c != nil && len(argv) == 1 && string(argv[0]) == "MULTI":
			// EXEC and scripts wrap their writes in MULTI/EXEC: collect
			// the block and append it in one piece, so another slot's
			// writes never land inside it in the stream.
			c.replTx = true
			c.replTxBuf = encodeCommand(c.replTxBuf[:0], argv)
		case c != nil && c.replTx:
			c.replTxBuf = encodeCommand(c.replTxBuf, argv)
			if len(argv) == 1 && string(argv[0]) == "EXEC" {
				c.replTx = false
				s.repl.mu.Lock()
				s.appendStreamLocked(c.replTxBuf)
				c.woff = s.repl.offset
				s.repl.mu.Unlock()
				if cap(c.replTxBuf) > 1<<20 {
					c.replTxBuf = nil
				}
			}
		default:
			s.feedRepl(c, argv)
		}
	}
	if s.PropagateHook != nil {
		s.PropagateHook(c, argv)
	}
}

// route computes the command's slot, checks cluster routing and, unless
// checkOnly, locks the slot(s). It writes the error reply and returns false
// when the command must not run here.
func (s *Server) route(c *Client, cmd *Command, argv [][]byte, checkOnly bool) bool {
	c.slot = -1
	if !cmd.HasKeys() {
		return true
	}
	pos := cmd.KeyPositions(argv, c.keyBuf[:0])
	if len(pos) == 0 {
		return true
	}
	slot := slots.Of(argv[pos[0]])
	cross := false
	for _, p := range pos[1:] {
		if slots.Of(argv[p]) != slot {
			cross = true
			break
		}
	}
	t := s.Route.Load()
	if t != nil && !c.isMaster {
		req := redirect.Request{Slot: slot, CrossSlot: cross, Write: cmd.Flags&FlagWrite != 0, Asking: c.Asking || cmd.Flags&FlagAsking != 0, ReadOnly: c.ReadOnly, Migrate: cmd.Name == "migrate"}
		v := redirect.Decide(t, req)
		if v.Kind == redirect.NeedKeys {
			sl := &s.KS.slots[slot]
			sl.Lock()
			now := nowMs()
			for _, p := range pos {
				if sl.Lookup(argv[p], now) != nil {
					req.Present++
				} else {
					req.Missing++
				}
			}
			req.KeysKnown = true
			v = redirect.Decide(t, req)
			if v.Kind == redirect.Serve && !checkOnly {
				c.slot = slot
				c.locked = append(c.lockBuf[:0], slot)
				return true // keep the lock we already hold
			}
			sl.Unlock()
		}
		if v.Kind != redirect.Serve {
			c.W.Error(v.Error())
			return false
		}
		if checkOnly {
			return true
		}
		c.slot = slot
		c.lockSlots(append(c.lockBuf[:0], slot))
		return true
	}
	if checkOnly {
		return true
	}
	if !cross {
		c.slot = slot
		c.lockSlots(append(c.lockBuf[:0], slot))
		return true
	}
	// Standalone mode: keys in several slots; lock them in ascending order.
	ss := c.lockBuf[:0]
	for _, p := range pos {
		ss = append(ss, slots.Of(argv[p]))
	}
	sort.Ints(ss)
	ss = dedup(ss)
	c.lockSlots(ss)
	return true
}

// routeLocal locks the command's slots without any routing decision (the
// master's stream is applied whatever this node's view of ownership).
func (s *Server) routeLocal(c *Client, cmd *Command, argv [][]byte) bool {
	if !cmd.HasKeys() {
		return true
	}
	pos := cmd.KeyPositions(argv, c.keyBuf[:0])
	if len(pos) == 0 {
		return true
	}
	ss := c.lockBuf[:0]
	for _, p := range pos {
		ss = append(ss, slots.Of(argv[p]))
	}
	sort.Ints(ss)
	ss = dedup(ss)
	if len(ss) == 1 {
		c.slot = ss[0]
	}
	c.lockSlots(ss)
	return true
}

func dedup(a []int) []int {
	if len(a) < 2 {
		return a
	}
	j := 1
	for i := 1; i < len(a); i++ {
		if a[i] != a[j-1] {
			a[j] = a[i]
			j++
		}
	}
	return a[:j]
}

func multiControl(cmd *Command) bool {
	switch cmd.Name {
	case "exec", "discard", "multi", "watch", "quit", "reset":
		return true
	}
	return false
}

// abortMulti flags the open transaction as failed (EXECABORT).
func (c *Client) abortMulti() {
	if c.InMulti {
		c.MultiErr = true
	}
}

func (c *Client) subscribed() bool {
	return len(c.Subs)+len(c.PSubs)+len(c.SSubs) > 0
}

func lookupSub(cmd *Command, name []byte) *Command {
	return cmd.Sub[string(bytes.ToLower(name))]
}

func unknownCommand(argv [][]byte) string {
	var b bytes.Buffer
	b.WriteString("ERR unknown command '")
	b.WriteString(trunc(string(argv[0]), 128))
	b.WriteString("', with args beginning with: ")
	args := 0
	for _, a := range argv[1:] {
		if args >= 128 {
			break
		}
		s := "'" + trunc(string(a), 128-args) + "' "
		args += len(s)
		b.WriteString(s)
	}
	return sanitize(b.String())
}

func trunc(s string, n int) string {
	if n < 0 {
		n = 0
	}
	if len(s) > n {
		return s[:n]
	}
	return s
}

func sanitize(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if ch == '\r' || ch == '\n' {
			b[i] = ' '
		}
	}
	return string(b)
}

func upper(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if ch >= 'a' && ch <= 'z' {
			b[i] = ch - 32
		}
	}
	return string(b)
}

// Clients returns a snapshot of connected clients.
func (s *Server) Clients() []*Client {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	out := make([]*Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// cron runs periodic work: active expiry.
func (s *Server) cron() {
	defer s.wg.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	next := 0
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			var n int
			next, n = s.KS.expireCycle(next, 25*time.Millisecond)
			s.statExpired.Add(int64(n))
		}
	}
}

// Shutdown stops accepting, disconnects clients and runs closers.
func (s *Server) Shutdown() {
	if !s.stopping.CompareAndSwap(false, true) {
		return
	}
	s.Log.Info("shutting down")
	for _, ln := range s.listeners {
		ln.Close()
	}
	s.wg.Add(1) // Wait also waits for the closers (final save, AOF fsync)
	close(s.done)
	for _, c := range s.Clients() {
		c.Close()
	}
	for _, fn := range s.Closers {
		fn()
	}
	s.wg.Done()
	s.wg.Wait()
}

// Stopping reports whether Shutdown has begun.
func (s *Server) Stopping() bool { return s.stopping.Load() }

// Done is closed when Shutdown begins.
func (s *Server) Done() <-chan struct{} { return s.done }

// LogLevelVar, when set by main, lets CONFIG SET loglevel change the level.
var LogLevelVar *slog.LevelVar

// LogLevel maps Redis log levels to slog levels.
func LogLevel(s string) slog.Level {
	switch s {
	case "debug":
		return slog.LevelDebug
	case "verbose":
		return slog.LevelDebug + 2
	case "warning":
		return slog.LevelWarn
	case "nothing":
		return slog.LevelError + 4
	}
	return slog.LevelInfo
}

// StartHooks run during Start after the server is built and before it
// listens (cluster bus, persistence loading...). An error aborts startup.
var StartHooks []func(s *Server) error

// Start builds a server, runs the start hooks and binds its ports.
func Start(cfg *Config, log *slog.Logger) (*Server, error) {
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("dir %s: %w", cfg.Dir, err)
	}
	s := NewServer(cfg, log)
	s.applyMemoryConfig() // before the data load a start hook begins: loaded keys follow the eviction policy (LFU fields)
	for _, h := range StartHooks {
		if err := h(s); err != nil {
			return nil, err
		}
	}
	if err := s.Listen(); err != nil {
		return nil, err
	}
	mode := "standalone"
	if cfg.ClusterEnabled {
		mode = "cluster"
	}
	log.Info("slotkv-server ready to accept connections", "mode", mode, "port", cfg.Port, "bind", cfg.Bind, "pid", os.Getpid(), "version", SlotkvVersion)
	return s, nil
}

// Wait blocks until shutdown has completed.
func (s *Server) Wait() { <-s.done; s.wg.Wait() }
