package node

// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//
// Queueing happens in Server.Process (QUEUED, MultiErr for queue-time
// errors). EXEC runs the queue atomically: it locks, in ascending order, every
// slot touched by a queued command plus the slots of the WATCHed keys (so the
// CAS check and the commands see one consistent state), or all 16384 slots
// when a queued command walks the keyspace (FlagAllSlots). Each queued command
// then runs through Server.call with those locks held.
//
// While EXEC runs the queue, c.InMulti stays true (as CLIENT_MULTI does in
// Redis): blocking commands use it to answer at once instead of blocking.
//
// Replication: when the queue may write, EXEC hands "MULTI" to the
// propagation path before the first command and "EXEC" after the last, with
// the same client, so a consumer that groups a client's commands between
// MULTI and EXEC applies the transaction atomically (Redis wraps EXEC's
// effects the same way).

import (
	"sort"

	"github.com/slotkv/slotkv/redirect"
	"github.com/slotkv/slotkv/slots"
)

const (
	errExecAbort     = "EXECABORT Transaction discarded because of previous errors."
	errExecNoMulti   = "ERR EXEC without MULTI"
	errDiscardNoMult = "ERR DISCARD without MULTI"
	errMultiNested   = "ERR MULTI calls can not be nested"
	errWatchInMulti  = "ERR WATCH inside MULTI is not allowed"
)

func init() {
	txFlags := FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagAllowBusy
	acl := []string{"@transaction"}
	register(
		&Command{Name: "multi", Arity: 1, Flags: txFlags, Group: "transactions", Since: "1.2.0",
			Summary: "Starts a transaction.", Complexity: "O(1)", ACL: acl, Proc: cmdMulti},
		&Command{Name: "exec", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagSkipSlowlog | FlagNoPropagate,
			Group: "transactions", Since: "1.2.0", Summary: "Executes all commands in a transaction.",
			Complexity: "Depends on commands in the transaction", ACL: acl, Proc: cmdExec},
		&Command{Name: "discard", Arity: 1, Flags: txFlags, Group: "transactions", Since: "2.0.0",
			Summary: "Discards a transaction.", Complexity: "O(N), when N is the number of queued commands", ACL: acl, Proc: cmdDiscard},
		&Command{Name: "watch", Arity: -2, Flags: txFlags, First: 1, Last: -1, Step: 1, Group: "transactions", Since: "2.2.0",
			Summary: "Monitors changes to keys to determine the execution of a transaction.", Complexity: "O(1) for every key.", ACL: acl, Proc: cmdWatch},
		&Command{Name: "unwatch", Arity: 1, Flags: txFlags, Group: "transactions", Since: "2.2.0",
			Summary: "Forgets about watched keys of a transaction.", Complexity: "O(1)", ACL: acl, Proc: cmdUnwatch},
	)
}

func cmdMulti(c *Client) {
	if c.InMulti {
		c.W.Error(errMultiNested)
		return
	}
	c.InMulti = true
	c.MultiErr = false
	c.MultiQ = c.MultiQ[:0]
	c.SetFlag(ClientMulti, true)
	c.W.OK()
}

func cmdDiscard(c *Client) {
	if !c.InMulti {
		c.W.Error(errDiscardNoMult)
		return
	}
	discardTransaction(c)
	c.W.OK()
}

// discardTransaction drops the queue and every WATCH. No slot lock may be
// held by c (UnwatchAll locks the watched keys' slots).
func discardTransaction(c *Client) {
	clearMulti(c)
	c.UnwatchAll()
}

func clearMulti(c *Client) {
	if c.InMulti {
		c.SetFlag(ClientMulti, false)
	}
	c.InMulti, c.MultiErr = false, false
	for i := range c.MultiQ {
		c.MultiQ[i] = nil
	}
	if cap(c.MultiQ) > 1024 {
		c.MultiQ = nil
	} else {
		c.MultiQ = c.MultiQ[:0]
	}
}

// ResetTransaction discards an open transaction and every WATCH of c (for
// RESET). No slot lock may be held.
func ResetTransaction(c *Client) { discardTransaction(c) }

func cmdWatch(c *Client) {
	if c.InMulti {
		c.W.Error(errWatchInMulti)
		return
	}
	// The dispatcher locked the keys' slots.
	for _, k := range c.Argv[1:] {
		slot := slots.Of(k)
		dup := false
		for _, w := range c.Watched {
			if w.Slot == slot && w.Key == string(k) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		s := c.srv.KS.Slot(slot)
		// A key that is already logically expired is deleted now, before we
		// register: Redis 7 treats the later removal of a key that was
		// expired when WATCHed as no change, and a key that expires after
		// WATCH as a change (the expiry deletion touches the key).
		s.Lookup(k, c.Now)
		s.Watch(k, c)
		c.Watched = append(c.Watched, WatchedKey{Key: string(k), Slot: slot})
	}
	c.W.OK()
}

func cmdUnwatch(c *Client) {
	// Inside EXEC the watches are already gone (EXEC drops them before
	// running the queue), so this never locks a slot EXEC holds.
	c.UnwatchAll()
	c.W.OK()
}

// allSlotList is 0..16383, the lock list of an all-slots EXEC or script.
// It is shared and read-only: nobody may append to a slice of it.
var allSlotList = func() []int {
	a := make([]int, slots.N)
	for i := range a {
		a[i] = i
	}
	return a
}()

// lockAllSlots locks every slot in ascending order for c (which holds none).
func lockAllSlots(c *Client) {
	ks := c.srv.KS
	for i := 0; i < slots.N; i++ {
		ks.slots[i].Lock() // Slot.Lock: emits a pending keyspace cut first
	}
	c.locked = allSlotList
	c.allSlots = true
}

type queued struct {
	cmd  *Command
	slot int // single slot of its keys, -1 for none or several
}

// queuedCommand resolves a command queued by MULTI (subcommand included).
func queuedCommand(c *Client, argv [][]byte) *Command {
	cmd := lookupCommand(argv[0], &c.scratch)
	if cmd != nil && cmd.Sub != nil && len(argv) > 1 {
		cmd = lookupSub(cmd, argv[1])
	}
	return cmd
}

func cmdExec(c *Client) {
	if !c.InMulti {
		c.W.Error(errExecNoMulti)
		return
	}
	if c.MultiErr {
		discardTransaction(c)
		c.W.Error(errExecAbort)
		return
	}
	if c.dirtyCAS.Load() {
		discardTransaction(c)
		c.W.NullArray()
		return
	}
	s := c.srv
	q := c.MultiQ
	cmds := make([]queued, len(q))
	var ss []int
	all, write := false, false
	var keyBuf [8]int
	for i, argv := range q {
		cmd := queuedCommand(c, argv)
		if cmd == nil { // cannot happen: checked when queued
			discardTransaction(c)
			c.W.Error(errExecAbort)
			return
		}
		cmds[i] = queued{cmd: cmd, slot: -1}
		if cmd.Flags&FlagAllSlots != 0 {
			all = true
		}
		if cmd.Flags&FlagWrite != 0 || isScriptCommand(cmd) {
			write = true
		}
		if cmd.HasKeys() {
			pos := cmd.KeyPositions(argv, keyBuf[:0])
			for j, p := range pos {
				sl := slots.Of(argv[p])
				ss = append(ss, sl)
				if j == 0 {
					cmds[i].slot = sl
				} else if cmds[i].slot != sl {
					cmds[i].slot = -1
				}
			}
		}
	}
	sort.Ints(ss)
	ss = dedup(ss)

	// Cluster mode: like Redis's getNodeByQuery for EXEC, every queued key
	// must hash to one slot that this node serves.
	if t := s.Route.Load(); t != nil && len(ss) > 0 && !c.isMaster {
		if v, ok := execRoute(c, t, ss, q, cmds, write); !ok {
			discardTransaction(c)
			c.W.Error(v.Error())
			return
		}
	}

	// Lock the queue's slots and the watched keys' slots together.
	if all {
		lockAllSlots(c)
	} else {
		for _, w := range c.Watched {
			ss = append(ss, w.Slot)
		}
		sort.Ints(ss)
		ss = dedup(ss)
		c.lockSlots(ss)
	}
	defer func() { c.allSlots = false }()

	if c.dirtyCAS.Load() || watchedKeyExpired(c) {
		unwatchHeld(c)
		clearMulti(c)
		c.W.NullArray()
		return
	}
	unwatchHeld(c)

	propagated := false
	if write {
		s.propagate(c, multiArgv)
		propagated = true
	}
	c.W.Array(len(q))
	for i, argv := range q {
		c.slot = cmds[i].slot
		s.call(c, cmds[i].cmd, argv)
	}
	c.slot = -1
	if propagated {
		s.propagate(c, execArgv)
	}
	clearMulti(c)
	c.Dirty, c.Propagate = 0, nil
}

var (
	multiArgv = [][]byte{[]byte("MULTI")}
	execArgv  = [][]byte{[]byte("EXEC")}
)

// isScriptCommand reports commands whose writes are decided at run time.
func isScriptCommand(cmd *Command) bool {
	switch cmd.Name {
	case "eval", "evalsha", "fcall":
		return true
	}
	return false
}

// execRoute checks the whole queue against the routing table: one slot,
// served here (keys counted for a slot being migrated). The slot lock taken
// for counting is released again; EXEC re-locks below.
func execRoute(c *Client, t *redirect.Table, ss []int, q [][][]byte, cmds []queued, write bool) (redirect.Verdict, bool) {
	if len(ss) > 1 {
		return redirect.Verdict{Kind: redirect.CrossSlot}, false
	}
	// ASKING was checked for each command when it was queued (Redis keeps
	// the flag for the whole MULTI); here it only keeps an importing slot
	// served.
	req := redirect.Request{Slot: ss[0], Write: write, Asking: true, ReadOnly: c.ReadOnly}
	v := redirect.Decide(t, req)
	if v.Kind == redirect.NeedKeys {
		sl := c.srv.KS.Slot(ss[0])
		sl.Lock()
		now := nowMs()
		var keyBuf [8]int
		for i, argv := range q {
			if !cmds[i].cmd.HasKeys() {
				continue
			}
			for _, p := range cmds[i].cmd.KeyPositions(argv, keyBuf[:0]) {
				if sl.Lookup(argv[p], now) != nil {
					req.Present++
				} else {
					req.Missing++
				}
			}
		}
		sl.Unlock()
		req.KeysKnown = true
		v = redirect.Decide(t, req)
	}
	return v, v.Kind == redirect.Serve
}

// watchedKeyExpired reports whether a WATCHed key exists but has logically
// expired (Redis 7 aborts EXEC then). The keys' slots are locked.
func watchedKeyExpired(c *Client) bool {
	now := nowMs()
	for _, w := range c.Watched {
		if e := c.srv.KS.slots[w.Slot].keys.getString(w.Key); e != nil && e.Exp != 0 && e.Exp <= now {
			return true
		}
	}
	return false
}

// unwatchHeld drops every WATCH while their slots are already locked by c.
func unwatchHeld(c *Client) {
	for _, w := range c.Watched {
		c.srv.KS.slots[w.Slot].Unwatch(w.Key, c)
	}
	c.Watched = c.Watched[:0]
	c.dirtyCAS.Store(false)
}
