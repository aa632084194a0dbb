package node

// PING, ECHO and QUIT. The rest of the connection family (HELLO, AUTH,
// SELECT, RESET) is in cmd_conn.go, CLIENT in cmd_client.go.

func init() {
	register(
		// Flags as redis-server 7.0.15's COMMAND INFO (PING is only "fast":
		// it answers -LOADING while loading, like Redis).
		&Command{Name: "ping", Arity: -1, Flags: FlagFast, Group: "connection", Since: "1.0.0",
			Summary: "Returns the server's liveliness response.", Complexity: "O(1)",
			Tips: []string{"request_policy:all_shards", "response_policy:all_succeeded"}, Proc: cmdPing},
		&Command{Name: "echo", Arity: 2, Flags: FlagFast | FlagStale | FlagLoading, Group: "connection", Since: "1.0.0",
			Summary: "Returns the given string.", Complexity: "O(1)", Proc: func(c *Client) { c.W.Bulk(c.Argv[1]) }},
		&Command{Name: "quit", Arity: -1, Flags: FlagNoScript | FlagNoAuth | FlagFast | FlagStale | FlagLoading | FlagAllowBusy, Group: "connection", Since: "1.0.0",
			Summary: "Closes the connection.", Complexity: "O(1)", Proc: func(c *Client) { c.W.OK(); c.CloseAfterReply = true }},
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
