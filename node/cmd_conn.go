package node

// Connection commands: HELLO, AUTH, SELECT, RESET (Redis 7.0 semantics).
// slotkv has one user, "default", whose password is requirepass (no
// password: any password is accepted for "default", like Redis's nopass).

import "crypto/subtle"

func init() {
	conn := func(name string, arity int, since, summary string, proc func(*Client)) *Command {
		return &Command{Name: name, Arity: arity, Group: "connection", Since: since, Summary: summary, Complexity: "O(1)",
			Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagNoAuth | FlagAllowBusy, Proc: proc}
	}
	sel := conn("select", 2, "1.0.0", "Changes the selected database.", cmdSelect)
	sel.Flags = FlagLoading | FlagStale | FlagFast
	register(
		conn("hello", -1, "6.0.0", "Handshakes with the Redis server.", cmdHello),
		conn("auth", -2, "1.0.0", "Authenticates the connection.", cmdAuth),
		conn("reset", 1, "6.2.0", "Resets the connection.", cmdReset),
		sel,
	)
}

// ResetHooks run on RESET (after the transaction and WATCHes are dropped)
// so families can clear per-connection state: pub/sub must unsubscribe c
// from everything without sending notifications.
var ResetHooks []func(c *Client)

// checkAuth reports whether user/pass are valid credentials.
func checkAuth(s *Server, user, pass []byte) bool {
	if string(user) != "default" {
		return false
	}
	want := s.Config().RequirePass
	if want == "" {
		return true // the default user is "nopass"
	}
	return subtle.ConstantTimeCompare([]byte(want), pass) == 1
}

// setAuthed marks c authenticated (and lifts the reader's stricter limits
// for unauthenticated clients).
func setAuthed(c *Client, on bool) {
	setClientInfo(func() {
		c.Authed = on
		c.User = "default"
	})
	if c.rd != nil {
		c.rd.Limits.Unauthed = !on
	}
}

const errWrongPass = "WRONGPASS invalid username-password pair or user is disabled."

func cmdAuth(c *Client) {
	if len(c.Argv) > 3 {
		c.W.Error(ErrSyntax)
		return
	}
	user, pass := []byte("default"), c.Argv[1]
	if len(c.Argv) == 2 {
		if c.Server().Config().RequirePass == "" {
			c.W.Error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
			return
		}
	} else {
		user, pass = c.Argv[1], c.Argv[2]
	}
	if !checkAuth(c.Server(), user, pass) {
		c.W.Error(errWrongPass)
		return
	}
	setAuthed(c, true)
	c.W.OK()
}

func cmdHello(c *Client) {
	ver := int64(0)
	next := 1
	if len(c.Argv) >= 2 {
		v, ok := ParseInt(c.Argv[1])
		if !ok {
			c.W.Error("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			c.W.Error("NOPROTO unsupported protocol version")
			return
		}
		ver = v
		next = 2
	}
	var user, pass, name []byte
	hasAuth, hasName := false, false
	for j := next; j < len(c.Argv); j++ {
		more := len(c.Argv) - 1 - j
		switch {
		case argIs(c.Argv[j], "auth") && more >= 2:
			user, pass = c.Argv[j+1], c.Argv[j+2]
			hasAuth = true
			j += 2
		case argIs(c.Argv[j], "setname") && more >= 1:
			name = c.Argv[j+1]
			hasName = true
			j++
		default:
			c.W.Error("ERR Syntax error in HELLO option '" + sanitize(string(c.Argv[j])) + "'")
			return
		}
	}
	if hasAuth {
		if !checkAuth(c.Server(), user, pass) {
			c.W.Error(errWrongPass)
			return
		}
		setAuthed(c, true)
	}
	if !c.Authed {
		c.W.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if hasName && !clientSetName(c, name) {
		return
	}
	if ver != 0 {
		setClientInfo(func() { c.W.Proto = int(ver) })
	}
	s := c.Server()
	c.W.Map(7)
	c.W.BulkString("server")
	c.W.BulkString("redis")
	c.W.BulkString("version")
	c.W.BulkString(Version)
	c.W.BulkString("proto")
	c.W.Int(int64(c.W.Proto))
	c.W.BulkString("id")
	c.W.Int(c.ID)
	c.W.BulkString("mode")
	c.W.BulkString(s.mode())
	c.W.BulkString("role")
	c.W.BulkString(s.role())
	c.W.BulkString("modules")
	c.W.Array(0)
}

func cmdSelect(c *Client) {
	id, ok := ParseInt(c.Argv[1])
	if !ok {
		c.W.Error(ErrNotInt)
		return
	}
	if id != int64(int32(id)) {
		c.W.Error("ERR value is out of range, value must between -2147483648 and 2147483647")
		return
	}
	if id != 0 && c.Server().Config().ClusterEnabled {
		c.W.Error("ERR SELECT is not allowed in cluster mode")
		return
	}
	if id != 0 {
		// slotkv has a single database.
		c.W.Error("ERR DB index is out of range")
		return
	}
	c.W.OK()
}

func cmdReset(c *Client) {
	if c.isMaster || c.HasFlag(ClientReplica|ClientMaster) {
		c.W.Error("ERR can only reset normal client connections")
		return
	}
	// discard the transaction and WATCHes
	c.InMulti, c.MultiErr, c.MultiQ = false, false, nil
	c.UnwatchAll()
	for _, fn := range ResetHooks {
		fn(c)
	}
	c.Asking, c.ReadOnly = false, false
	c.SetFlag(ClientMulti|ClientPubSub|ClientReadOnly|ClientNoEvict|ClientNoTouch|ClientDirtyCAS|clientReplyBits, false)
	authed := c.Server().Config().RequirePass == ""
	setClientInfo(func() {
		c.Name = ""
		c.W.Proto = 2
	})
	setAuthed(c, authed)
	c.W.Simple("RESET")
}
