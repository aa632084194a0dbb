package node

// CLIENT subcommands (Redis 7.0 semantics, plus 7.2's SETINFO and
// NO-TOUCH): ID, GETNAME, SETNAME, SETINFO, INFO, LIST, KILL, NO-EVICT,
// NO-TOUCH, REPLY, PAUSE, UNPAUSE, GETREDIR, TRACKING, TRACKINGINFO,
// CACHING, HELP.
//
// Concurrency: a client's own goroutine is the only writer of its Name,
// LibName, LibVer, User, Authed and W.Proto; it writes them holding
// clientInfoMu, and other goroutines (CLIENT LIST/KILL from another
// connection) read them holding clientInfoMu. State other families own
// (MULTI, subscriptions, blocking, replicas) is shown for *other* clients
// only through the bits those families publish in Client.Flags (see
// ClientFlag); the calling client's own line is computed from its fields.

import (
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ClientFlag bits live in Client.Flags. Families set them (atomically) on
// their own client so that CLIENT LIST / KILL TYPE / INFO blocked_clients
// see them from other connections.
type ClientFlag uint32

const (
	ClientMulti        ClientFlag = 1 << iota // x: inside MULTI
	ClientBlocked                             // b: blocked in BLPOP & co.
	ClientPubSub                              // P: subscribed (RESP2 pub/sub context)
	ClientReadOnly                            // r: READONLY on a cluster replica
	ClientNoEvict                             // e: CLIENT NO-EVICT on
	ClientNoTouch                             // T: CLIENT NO-TOUCH on
	ClientMaster                              // M: our master's replication link
	ClientReplica                             // S: a replica of ours
	ClientMonitor                             // O: MONITOR
	ClientDirtyCAS                            // d: a WATCHed key changed
	ClientReplyOff                            // CLIENT REPLY OFF
	ClientReplySkipArm                        // CLIENT REPLY SKIP just ran
	ClientReplySkip                           // the current command's reply is dropped

	clientReplyBits = ClientReplyOff | ClientReplySkipArm | ClientReplySkip
)

// applyReplyMode drops the replies the last command wrote after mark when
// CLIENT REPLY OFF or SKIP asks for it. The connection loop calls it after
// each command when one of clientReplyBits is set.
func (c *Client) applyReplyMode(mark int) {
	f := ClientFlag(c.Flags.Load())
	switch {
	case f&ClientReplySkipArm != 0:
		c.SetFlag(ClientReplySkipArm, false)
		c.SetFlag(ClientReplySkip, true) // the next command's reply goes
		if len(c.W.B) > mark {
			c.W.B = c.W.B[:mark]
		}
	case f&ClientReplySkip != 0:
		c.SetFlag(ClientReplySkip, false)
		if len(c.W.B) > mark {
			c.W.B = c.W.B[:mark]
		}
	case f&ClientReplyOff != 0:
		if len(c.W.B) > mark {
			c.W.B = c.W.B[:mark]
		}
	}
}

// SetFlag sets or clears flag bits on c (any goroutine).
func (c *Client) SetFlag(f ClientFlag, on bool) {
	for {
		old := c.Flags.Load()
		n := old &^ uint32(f)
		if on {
			n = old | uint32(f)
		}
		if c.Flags.CompareAndSwap(old, n) {
			return
		}
	}
}

// HasFlag reports whether all bits of f are set on c.
func (c *Client) HasFlag(f ClientFlag) bool { return ClientFlag(c.Flags.Load())&f == f }

var clientInfoMu sync.Mutex

// setClientInfo runs fn (which changes c's name/user/proto/lib fields)
// holding clientInfoMu. Only c's own goroutine may call it.
func setClientInfo(fn func()) {
	clientInfoMu.Lock()
	fn()
	clientInfoMu.Unlock()
}

// client types for CLIENT LIST/KILL TYPE
const (
	ctypeNormal = iota
	ctypeReplica
	ctypePubSub
	ctypeMaster
)

func clientTypeByName(b []byte) int {
	switch strings.ToLower(string(b)) {
	case "normal":
		return ctypeNormal
	case "slave", "replica":
		return ctypeReplica
	case "pubsub":
		return ctypePubSub
	case "master":
		return ctypeMaster
	}
	return -1
}

// clientView is a consistent snapshot of one client for CLIENT LIST.
type clientView struct {
	id                     int64
	addr, laddr, name      string
	libName, libVer, user  string
	proto                  int
	flags                  ClientFlag
	subs, psubs, ssubs     int
	multi                  int
	cmd                    string
	created                time.Time
	lastAt                 int64
	fd                     int
	obl                    int
	closeAfter, isSelfView bool
}

func (v *clientView) ctype() int {
	switch {
	case v.flags&ClientMaster != 0:
		return ctypeMaster
	case v.flags&(ClientReplica) != 0 && v.flags&ClientMonitor == 0:
		return ctypeReplica
	case v.flags&ClientPubSub != 0:
		return ctypePubSub
	}
	return ctypeNormal
}

func connFD(conn net.Conn) int {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	rc.Control(func(f uintptr) { fd = int(f) })
	return fd
}

// viewOf snapshots x as seen by self.
func viewOf(self, x *Client) clientView {
	v := clientView{id: x.ID, addr: x.Addr, laddr: x.LocalAddr, created: x.Created, lastAt: x.lastAt.Load(), fd: connFD(x.conn), multi: -1}
	v.flags = ClientFlag(x.Flags.Load())
	if cmd := x.lastCmd.Load(); cmd != nil {
		v.cmd = cmd.Name
	} else {
		v.cmd = "NULL"
	}
	if x == self {
		v.isSelfView = true
		v.name, v.libName, v.libVer, v.user, v.proto = x.Name, x.LibName, x.LibVer, x.User, x.W.Proto
		v.subs, v.psubs, v.ssubs = len(x.Subs), len(x.PSubs), len(x.SSubs)
		if x.InMulti {
			v.flags |= ClientMulti
			v.multi = len(x.MultiQ)
		}
		if x.W.Proto == 2 && x.subscribed() {
			v.flags |= ClientPubSub
		}
		if x.ReadOnly {
			v.flags |= ClientReadOnly
		}
		if x.dirtyCAS.Load() {
			v.flags |= ClientDirtyCAS
		}
		v.closeAfter = x.CloseAfterReply
		v.lastAt = time.Now().UnixMilli()
		return v
	}
	clientInfoMu.Lock()
	v.name, v.libName, v.libVer, v.user, v.proto = x.Name, x.LibName, x.LibVer, x.User, x.W.Proto
	clientInfoMu.Unlock()
	if v.flags&ClientMulti != 0 {
		v.multi = 0
	}
	return v
}

// flagString renders CLIENT LIST flags= like Redis 7.
func (v *clientView) flagString() string {
	var b []byte
	f := v.flags
	if f&ClientMonitor != 0 {
		b = append(b, 'O')
	} else if f&ClientReplica != 0 {
		b = append(b, 'S')
	}
	if f&ClientMaster != 0 {
		b = append(b, 'M')
	}
	if f&ClientPubSub != 0 {
		b = append(b, 'P')
	}
	if f&ClientMulti != 0 {
		b = append(b, 'x')
	}
	if f&ClientBlocked != 0 {
		b = append(b, 'b')
	}
	if f&ClientDirtyCAS != 0 {
		b = append(b, 'd')
	}
	if v.closeAfter {
		b = append(b, 'c')
	}
	if f&ClientReadOnly != 0 {
		b = append(b, 'r')
	}
	if f&ClientNoEvict != 0 {
		b = append(b, 'e')
	}
	if f&ClientNoTouch != 0 {
		b = append(b, 'T')
	}
	if len(b) == 0 {
		return "N"
	}
	return string(b)
}

// appendClientInfo appends one CLIENT LIST line (without the newline), in
// the field order of Redis 7.2's catClientInfoString.
func appendClientInfo(b []byte, v *clientView) []byte {
	now := time.Now()
	i := func(n int64) { b = strconv.AppendInt(b, n, 10) }
	b = append(b, "id="...)
	i(v.id)
	b = append(b, " addr="...)
	b = append(b, v.addr...)
	b = append(b, " laddr="...)
	b = append(b, v.laddr...)
	b = append(b, " fd="...)
	i(int64(v.fd))
	b = append(b, " name="...)
	b = append(b, v.name...)
	b = append(b, " age="...)
	i(int64(now.Sub(v.created) / time.Second))
	b = append(b, " idle="...)
	idle := int64(0)
	if v.lastAt > 0 {
		idle = (now.UnixMilli() - v.lastAt) / 1000
	} else {
		idle = int64(now.Sub(v.created) / time.Second)
	}
	if idle < 0 {
		idle = 0
	}
	i(idle)
	b = append(b, " flags="...)
	b = append(b, v.flagString()...)
	b = append(b, " db=0 sub="...)
	i(int64(v.subs))
	b = append(b, " psub="...)
	i(int64(v.psubs))
	b = append(b, " ssub="...)
	i(int64(v.ssubs))
	b = append(b, " multi="...)
	i(int64(v.multi))
	b = append(b, " qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl="...)
	i(int64(v.obl))
	b = append(b, " oll=0 omem=0 tot-mem=0 events=r cmd="...)
	b = append(b, v.cmd...)
	b = append(b, " user="...)
	b = append(b, v.user...)
	b = append(b, " redir=-1 resp="...)
	i(int64(v.proto))
	b = append(b, " lib-name="...)
	b = append(b, v.libName...)
	b = append(b, " lib-ver="...)
	b = append(b, v.libVer...)
	return b
}

// ClientInfoString returns x's CLIENT LIST line as seen from self.
func ClientInfoString(self, x *Client) string {
	v := viewOf(self, x)
	return string(appendClientInfo(nil, &v))
}

func init() {
	sub := func(arity int, flags Flag, since, summary string, proc func(*Client), acl ...string) *Command {
		return &Command{Arity: arity, Flags: flags, Group: "connection", Since: since, Summary: summary, Complexity: "O(1)", ACL: acl, Proc: proc}
	}
	ns := FlagNoScript | FlagLoading | FlagStale
	adm := FlagAdmin | ns
	conn := "@connection"
	list := sub(-2, adm, "2.4.0", "Lists open connections.", cmdClientList, conn)
	list.Complexity = "O(N) where N is the number of client connections"
	list.Tips = []string{"nondeterministic_output"}
	info := sub(2, ns, "6.2.0", "Returns information about the connection.", cmdClientInfo, conn)
	info.Tips = []string{"nondeterministic_output"}
	kill := sub(-3, adm, "2.4.0", "Terminates open connections.", cmdClientKill, conn)
	kill.Complexity = "O(N) where N is the number of client connections"
	setinfo := sub(4, ns, "7.2.0", "Sets information specific to the client or connection.", cmdClientSetinfo, conn)
	setinfo.Tips = []string{"request_policy:all_nodes", "response_policy:all_succeeded"}
	register(&Command{Name: "client", Arity: -2, Group: "connection", Since: "2.4.0",
		Summary: "A container for client connection commands.", Complexity: "Depends on subcommand.", ACL: []string{"@slow"},
		Sub: map[string]*Command{
			"id":           sub(2, ns, "5.0.0", "Returns the unique client ID of the connection.", func(c *Client) { c.W.Int(c.ID) }, conn),
			"getname":      sub(2, ns, "2.6.9", "Returns the name of the connection.", cmdClientGetname, conn),
			"setname":      sub(3, ns, "2.6.9", "Sets the connection name.", cmdClientSetname, conn),
			"setinfo":      setinfo,
			"info":         info,
			"list":         list,
			"kill":         kill,
			"no-evict":     sub(3, adm, "7.0.0", "Sets the client eviction mode of the connection.", onOffFlag(ClientNoEvict), conn),
			"no-touch":     sub(3, ns, "7.2.0", "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", onOffFlag(ClientNoTouch), conn),
			"reply":        sub(3, ns, "3.2.0", "Instructs the server whether to reply to commands.", cmdClientReply, conn),
			"pause":        sub(-3, adm, "3.0.0", "Suspends commands processing.", cmdClientPause, conn),
			"unpause":      sub(2, adm, "6.2.0", "Resumes processing commands from paused clients.", cmdClientUnpause, conn),
			"getredir":     sub(2, ns, "6.0.0", "Returns the client ID to which the connection's tracking notifications are redirected.", func(c *Client) { c.W.Int(-1) }, conn),
			"tracking":     sub(-3, ns, "6.0.0", "Controls server-assisted client-side caching for the connection.", cmdClientTracking, conn),
			"trackinginfo": sub(2, ns, "6.2.0", "Returns information about server-assisted client-side caching for the connection.", cmdClientTrackinginfo, conn),
			"caching":      sub(3, ns, "6.0.0", "Instructs the server whether to track the keys in the next request.", cmdClientCaching, conn),
			"unblock":      sub(-3, adm, "5.0.0", "Unblocks a client blocked by a blocking command from a different connection.", cmdClientUnblock, conn),
			"help":         sub(2, FlagLoading|FlagStale, "5.0.0", "Returns helpful text about the different subcommands.", cmdClientHelp, conn),
		}})
}

func cmdClientGetname(c *Client) {
	if c.Name == "" {
		c.W.Null()
		return
	}
	c.W.BulkString(c.Name)
}

// validClientAttr reports whether s has no spaces, newlines or special
// characters (Redis accepts '!'..'~').
func validClientAttr(s []byte) bool {
	for _, ch := range s {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

// clientSetName validates and sets c's name, writing the error reply and
// returning false when the name is invalid.
func clientSetName(c *Client, name []byte) bool {
	if !validClientAttr(name) {
		c.W.Error("ERR Client names cannot contain spaces, newlines or special characters.")
		return false
	}
	n := string(name)
	setClientInfo(func() { c.Name = n })
	return true
}

func cmdClientSetname(c *Client) {
	if clientSetName(c, c.Argv[2]) {
		c.W.OK()
	}
}

func cmdClientSetinfo(c *Client) {
	attr := string(c.Argv[2])
	val := c.Argv[3]
	var dst *string
	switch strings.ToLower(attr) {
	case "lib-name":
		dst = &c.LibName
	case "lib-ver":
		dst = &c.LibVer
	default:
		c.W.Error("ERR Unrecognized option '" + attr + "'")
		return
	}
	if !validClientAttr(val) {
		c.W.Error("ERR " + attr + " cannot contain spaces, newlines or special characters.")
		return
	}
	v := string(val)
	setClientInfo(func() { *dst = v })
	c.W.OK()
}

func cmdClientInfo(c *Client) {
	v := viewOf(c, c)
	b := appendClientInfo(make([]byte, 0, 320), &v)
	b = append(b, '\n')
	c.W.Verbatim(string(b))
}

func cmdClientList(c *Client) {
	typ := -1
	var ids []int64
	switch {
	case len(c.Argv) == 4 && argIs(c.Argv[2], "type"):
		typ = clientTypeByName(c.Argv[3])
		if typ == -1 {
			c.W.Error("ERR Unknown client type '" + string(c.Argv[3]) + "'")
			return
		}
	case len(c.Argv) > 3 && argIs(c.Argv[2], "id"):
		for _, a := range c.Argv[3:] {
			id, ok := ParseInt(a)
			if !ok {
				c.W.Error("ERR Invalid client ID")
				return
			}
			ids = append(ids, id)
		}
	case len(c.Argv) != 2:
		c.W.Error(ErrSyntax)
		return
	}
	all := c.srv.Clients()
	var b []byte
	emit := func(x *Client) {
		v := viewOf(c, x)
		if typ != -1 && v.ctype() != typ {
			return
		}
		b = appendClientInfo(b, &v)
		b = append(b, '\n')
	}
	if ids != nil {
		byID := make(map[int64]*Client, len(all))
		for _, x := range all {
			byID[x.ID] = x
		}
		for _, id := range ids {
			if x := byID[id]; x != nil {
				emit(x)
			}
		}
	} else {
		for _, x := range all {
			emit(x)
		}
	}
	c.W.Verbatim(string(b))
}

func cmdClientKill(c *Client) {
	var (
		addr, laddr, user string
		hasAddr, hasLaddr bool
		hasUser           bool
		id                int64
		typ               = -1
		skipme            = true
	)
	if len(c.Argv) == 3 {
		addr, hasAddr = string(c.Argv[2]), true
		skipme = false
	} else {
		args := c.Argv[2:]
		for i := 0; i < len(args); i += 2 {
			if i+1 >= len(args) {
				c.W.Error(ErrSyntax)
				return
			}
			val := args[i+1]
			switch {
			case argIs(args[i], "id"):
				n, ok := ParseInt(val)
				if !ok || n < 1 {
					c.W.Error("ERR client-id should be greater than 0")
					return
				}
				id = n
			case argIs(args[i], "type"):
				typ = clientTypeByName(val)
				if typ == -1 {
					c.W.Error("ERR Unknown client type '" + string(val) + "'")
					return
				}
			case argIs(args[i], "addr"):
				addr, hasAddr = string(val), true
			case argIs(args[i], "laddr"):
				laddr, hasLaddr = string(val), true
			case argIs(args[i], "user"):
				user, hasUser = string(val), true
				if user != "default" {
					c.W.Error("ERR No such user '" + user + "'")
					return
				}
			case argIs(args[i], "skipme"):
				switch {
				case argIs(val, "yes"):
					skipme = true
				case argIs(val, "no"):
					skipme = false
				default:
					c.W.Error(ErrSyntax)
					return
				}
			default:
				c.W.Error(ErrSyntax)
				return
			}
		}
	}
	killed := 0
	closeSelf := false
	for _, x := range c.srv.Clients() {
		if x != c && x.Closed() {
			continue // already going away
		}
		if hasAddr && x.Addr != addr {
			continue
		}
		if hasLaddr && x.LocalAddr != laddr {
			continue
		}
		if id != 0 && x.ID != id {
			continue
		}
		if typ != -1 || hasUser {
			v := viewOf(c, x)
			if typ != -1 && v.ctype() != typ {
				continue
			}
			if hasUser && v.user != user {
				continue
			}
		}
		if x == c {
			if skipme {
				continue
			}
			closeSelf = true
		} else {
			x.Close()
		}
		killed++
	}
	if len(c.Argv) == 3 {
		if killed == 0 {
			c.W.Error("ERR No such client")
		} else {
			c.W.OK()
		}
	} else {
		c.W.Int(int64(killed))
	}
	if closeSelf {
		c.CloseAfterReply = true
	}
}

// cmdClientUnblock is CLIENT UNBLOCK id [TIMEOUT|ERROR]: the blocking
// family releases the client (UnblockClient in blocking.go).
func cmdClientUnblock(c *Client) {
	if len(c.Argv) > 4 {
		c.W.Error("ERR unknown subcommand or wrong number of arguments for '" + string(c.Argv[1]) + "'. Try CLIENT HELP.")
		return
	}
	withErr := false
	if len(c.Argv) == 4 {
		switch {
		case argIs(c.Argv[3], "timeout"):
		case argIs(c.Argv[3], "error"):
			withErr = true
		default:
			c.W.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	}
	id, ok := ParseInt(c.Argv[2])
	if !ok {
		c.W.Error(ErrNotInt)
		return
	}
	c.srv.clientsMu.Lock()
	target := c.srv.clients[id]
	c.srv.clientsMu.Unlock()
	if target != nil && target.HasFlag(ClientBlocked) && UnblockClient(target, withErr) {
		c.W.Int(1)
		return
	}
	c.W.Int(0)
}

func onOffFlag(f ClientFlag) func(c *Client) {
	return func(c *Client) {
		switch {
		case argIs(c.Argv[2], "on"):
			c.SetFlag(f, true)
		case argIs(c.Argv[2], "off"):
			c.SetFlag(f, false)
		default:
			c.W.Error(ErrSyntax)
			return
		}
		c.W.OK()
	}
}

// cmdClientReply is CLIENT REPLY ON|OFF|SKIP: OFF and SKIP answer nothing
// themselves; the connection loop drops later replies (applyReplyMode).
func cmdClientReply(c *Client) {
	switch {
	case argIs(c.Argv[2], "on"):
		c.SetFlag(clientReplyBits, false)
		c.W.OK()
	case argIs(c.Argv[2], "off"):
		c.SetFlag(ClientReplyOff, true)
	case argIs(c.Argv[2], "skip"):
		if !c.HasFlag(ClientReplyOff) {
			c.SetFlag(ClientReplySkipArm, true)
		}
	default:
		c.W.Error(ErrSyntax)
	}
}

func cmdClientTracking(c *Client) {
	switch {
	case argIs(c.Argv[2], "off") && len(c.Argv) == 3:
		c.W.OK()
	case argIs(c.Argv[2], "on"), argIs(c.Argv[2], "off"):
		c.W.Error("ERR client-side caching (CLIENT TRACKING) is not supported by slotkv")
	default:
		c.W.Error(ErrSyntax)
	}
}

func cmdClientTrackinginfo(c *Client) {
	c.W.Map(3)
	c.W.BulkString("flags")
	c.W.Set(1)
	c.W.BulkString("off")
	c.W.BulkString("redirect")
	c.W.Int(-1)
	c.W.BulkString("prefixes")
	c.W.Array(0)
}

func cmdClientCaching(c *Client) {
	c.W.Error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
}

func cmdClientHelp(c *Client) {
	replyHelp(c, "CLIENT", []string{
		"CACHING (YES|NO)",
		"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
		"GETREDIR",
		"    Return the client ID we are redirecting to when tracking is enabled.",
		"GETNAME",
		"    Return the name of the current connection.",
		"ID",
		"    Return the ID of the current connection.",
		"INFO",
		"    Return information about the current client connection.",
		"KILL <ip:port>",
		"    Kill connection made from <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]",
		"    Kill connections. Options are:",
		"    * ADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made from the specified address",
		"    * LADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made to specified local address",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Kill connections by type.",
		"    * USER <username>",
		"      Kill connections authenticated by <username>.",
		"    * SKIPME (YES|NO)",
		"      Skip killing current connection (default: yes).",
		"LIST [options ...]",
		"    Return information about client connections. Options:",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Return clients of specified type.",
		"UNPAUSE",
		"    Stop the current client pause, resuming traffic.",
		"PAUSE <timeout> [WRITE|ALL]",
		"    Suspend all, or just write, clients for <timeout> milliseconds.",
		"REPLY (ON|OFF|SKIP)",
		"    Control the replies sent to the current connection.",
		"SETNAME <name>",
		"    Assign the name <name> to the current connection.",
		"SETINFO <option> <value>",
		"    Set client meta attr. Options are:",
		"    * LIB-NAME: the client lib name.",
		"    * LIB-VER: the client lib version.",
		"UNBLOCK <clientid> [TIMEOUT|ERROR]",
		"    Unblock the specified blocked client.",
		"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
		"         [OPTIN] [OPTOUT] [NOLOOP]",
		"    Control server assisted client side caching.",
		"TRACKINGINFO",
		"    Report tracking status for the current connection.",
		"NO-EVICT (ON|OFF)",
		"    Protect current client connection from eviction.",
		"NO-TOUCH (ON|OFF)",
		"    Will not touch LRU/LFU stats when this mode is on.",
	})
}

// ---------------------------------------------------------------------------
// CLIENT PAUSE / UNPAUSE

// pausedServers counts servers with an active client pause; the
// dispatcher's only cost when nobody pauses is loading it.
var pausedServers atomic.Int32

func cmdClientPause(c *Client) {
	if len(c.Argv) > 4 {
		c.W.Error("ERR unknown subcommand or wrong number of arguments for '" + string(c.Argv[1]) + "'. Try CLIENT HELP.")
		return
	}
	write := false
	if len(c.Argv) == 4 {
		switch {
		case argIs(c.Argv[3], "write"):
			write = true
		case argIs(c.Argv[3], "all"):
		default:
			c.W.Error("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	ms, ok := ParseInt(c.Argv[2])
	if !ok {
		c.W.Error("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		c.W.Error("ERR timeout is negative")
		return
	}
	c.srv.PauseClients(time.Duration(ms)*time.Millisecond, write)
	c.W.OK()
}

func cmdClientUnpause(c *Client) {
	c.srv.UnpauseClients()
	c.W.OK()
}

// PauseClients suspends command processing of normal clients for d (all
// commands, or only writes when writeOnly). A longer or stricter pause
// wins over a running one, as in Redis.
func (s *Server) PauseClients(d time.Duration, writeOnly bool) {
	x := extraOf(s)
	x.pauseMu.Lock()
	defer x.pauseMu.Unlock()
	end := time.Now().Add(d)
	if x.pauseCh == nil {
		x.pauseCh = make(chan struct{})
		x.pauseEnd, x.pauseWrite = end, writeOnly
		pausedServers.Add(1)
		ch := x.pauseCh
		go s.pauseTimer(ch)
		return
	}
	if end.After(x.pauseEnd) {
		x.pauseEnd = end
	}
	if !writeOnly {
		x.pauseWrite = false
	}
}

func (s *Server) pauseTimer(ch chan struct{}) {
	x := extraOf(s)
	for {
		x.pauseMu.Lock()
		if x.pauseCh != ch {
			x.pauseMu.Unlock()
			return
		}
		left := time.Until(x.pauseEnd)
		if left <= 0 {
			x.unpauseLocked()
			x.pauseMu.Unlock()
			return
		}
		x.pauseMu.Unlock()
		select {
		case <-time.After(left):
		case <-ch:
			return
		case <-s.Done():
			x.pauseMu.Lock()
			if x.pauseCh == ch {
				x.unpauseLocked()
			}
			x.pauseMu.Unlock()
			return
		}
	}
}

func (x *serverExtra) unpauseLocked() {
	if x.pauseCh != nil {
		close(x.pauseCh)
		x.pauseCh = nil
		pausedServers.Add(-1)
	}
}

// UnpauseClients ends a client pause.
func (s *Server) UnpauseClients() {
	x := extraOf(s)
	x.pauseMu.Lock()
	x.unpauseLocked()
	x.pauseMu.Unlock()
}

// pauseWait blocks c's command while the server is paused for it. The
// dispatcher calls it (no slot lock held) only when pausedServers != 0.
func (s *Server) pauseWait(c *Client, cmd *Command) {
	if c.isMaster || c.HasFlag(ClientReplica) {
		return
	}
	x := extraOf(s)
	for {
		x.pauseMu.Lock()
		ch := x.pauseCh
		affected := ch != nil && (!x.pauseWrite || cmd.Flags&(FlagWrite|FlagMayReplicate) != 0)
		x.pauseMu.Unlock()
		if !affected {
			return
		}
		c.flush()
		select {
		case <-ch:
		case <-s.Done():
			return
		}
	}
}
