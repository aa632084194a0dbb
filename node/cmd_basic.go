package node

// The smallest command set needed to boot, benchmark and test the core.
// Families live in their own cmd_*.go files and register in init().

func init() {
	register(
		&Command{Name: "ping", Arity: -1, Flags: FlagFast | FlagStale | FlagLoading, Group: "connection", Since: "1.0.0", Summary: "Returns the server's liveliness response.", Proc: cmdPing},
		&Command{Name: "echo", Arity: 2, Flags: FlagFast | FlagStale | FlagLoading, Group: "connection", Since: "1.0.0", Summary: "Returns the given string.", Proc: func(c *Client) { c.W.Bulk(c.Argv[1]) }},
		&Command{Name: "quit", Arity: -1, Flags: FlagNoAuth | FlagFast | FlagStale | FlagLoading | FlagAllowBusy, Group: "connection", Since: "1.0.0", Summary: "Closes the connection.", Proc: func(c *Client) { c.W.OK(); c.CloseAfterReply = true }},
	)
}

func cmdPing(c *Client) {
	if len(c.Argv) > 2 {
		c.W.Error("ERR wrong number of arguments for 'ping' command")
		return
	}
	if c.subscribed() && c.W.Proto == 2 {
		c.W.Array(2)
		c.W.BulkString("pong")
		if len(c.Argv) == 2 {
			c.W.Bulk(c.Argv[1])
		} else {
			c.W.BulkString("")
		}
		return
	}
	if len(c.Argv) == 2 {
		c.W.Bulk(c.Argv[1])
		return
	}
	c.W.Simple("PONG")
}
