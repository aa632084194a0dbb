package node

// Pub/sub commands. Delivery and the per-subscriber output queue live in
// pubsub.go.
//
// SSUBSCRIBE, SUNSUBSCRIBE and SPUBLISH declare their channels as key
// positions (as Redis's COMMAND INFO does, flagged not_key there) so the
// dispatcher routes them by the channel's slot in cluster mode (MOVED,
// CROSSSLOT). The dispatcher also locks those slots for the command; that
// is harmless (the hub has its own lock, taken after slot locks) and keeps
// the dispatch path free of special cases.

import (
	"sort"
)

func init() {
	psFlags := FlagPubSub | FlagNoScript | FlagLoading | FlagStale
	register(
		&Command{Name: "subscribe", Arity: -2, Flags: psFlags, Group: "pubsub", Since: "2.0.0",
			Summary: "Listens for messages published to channels.", Complexity: "O(N) where N is the number of channels to subscribe to.",
			Proc: func(c *Client) { subscribe(c, psChannel, c.Argv[1:]) }},
		&Command{Name: "unsubscribe", Arity: -1, Flags: psFlags, Group: "pubsub", Since: "2.0.0",
			Summary: "Stops listening to messages posted to channels.", Complexity: "O(N) where N is the number of channels to unsubscribe.",
			Proc: func(c *Client) { unsubscribe(c, psChannel, c.Argv[1:]) }},
		&Command{Name: "psubscribe", Arity: -2, Flags: psFlags, Group: "pubsub", Since: "2.0.0",
			Summary: "Listens for messages published to channels that match one or more patterns.", Complexity: "O(N) where N is the number of patterns to subscribe to.",
			Proc: func(c *Client) { subscribe(c, psPattern, c.Argv[1:]) }},
		&Command{Name: "punsubscribe", Arity: -1, Flags: psFlags, Group: "pubsub", Since: "2.0.0",
			Summary: "Stops listening to messages published to channels that match one or more patterns.", Complexity: "O(N) where N is the number of patterns to unsubscribe.",
			Proc: func(c *Client) { unsubscribe(c, psPattern, c.Argv[1:]) }},
		&Command{Name: "ssubscribe", Arity: -2, Flags: psFlags, First: 1, Last: -1, Step: 1, Group: "pubsub", Since: "7.0.0",
			Summary: "Listens for messages published to shard channels.", Complexity: "O(N) where N is the number of shard channels to subscribe to.",
			Proc: func(c *Client) { subscribe(c, psShard, c.Argv[1:]) }},
		&Command{Name: "sunsubscribe", Arity: -1, Flags: psFlags, First: 1, Last: -1, Step: 1, Group: "pubsub", Since: "7.0.0",
			Summary: "Stops listening to messages posted to shard channels.", Complexity: "O(N) where N is the number of shard channels to unsubscribe.",
			Proc: func(c *Client) { unsubscribe(c, psShard, c.Argv[1:]) }},
		&Command{Name: "publish", Arity: 3, Flags: FlagPubSub | FlagLoading | FlagStale | FlagFast | FlagMayReplicate, Group: "pubsub", Since: "2.0.0",
			Summary: "Posts a message to a channel.", Complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
			Proc: cmdPublish},
		&Command{Name: "spublish", Arity: 3, Flags: FlagPubSub | FlagLoading | FlagStale | FlagFast | FlagMayReplicate, First: 1, Last: 1, Step: 1, Group: "pubsub", Since: "7.0.0",
			Summary: "Post a message to a shard channel", Complexity: "O(N) where N is the number of clients subscribed to the receiving shard channel.",
			Proc: cmdSPublish},
		&Command{Name: "pubsub", Arity: -2, Group: "pubsub", Since: "2.8.0", Summary: "A container for Pub/Sub commands.", Complexity: "Depends on subcommand.",
			Sub: map[string]*Command{
				"channels": {Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale, Group: "pubsub", Since: "2.8.0",
					Summary: "Returns the active channels.", Complexity: "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
					Proc: func(c *Client) { pubsubChannels(c, false) }},
				"shardchannels": {Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale, Group: "pubsub", Since: "7.0.0",
					Summary: "Returns the active shard channels.", Complexity: "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
					Proc: func(c *Client) { pubsubChannels(c, true) }},
				"numsub": {Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale, Group: "pubsub", Since: "2.8.0",
					Summary: "Returns a count of subscribers to channels.", Complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
					Proc: func(c *Client) { pubsubNumsub(c, false) }},
				"shardnumsub": {Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale, Group: "pubsub", Since: "7.0.0",
					Summary: "Returns the count of subscribers of shard channels.", Complexity: "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
					Proc: func(c *Client) { pubsubNumsub(c, true) }},
				"numpat": {Arity: 2, Flags: FlagPubSub | FlagLoading | FlagStale, Group: "pubsub", Since: "2.8.0",
					Summary: "Returns a count of unique pattern subscriptions.", Complexity: "O(1)",
					Proc: pubsubNumpat},
				"help": {Arity: 2, Flags: FlagLoading | FlagStale, Group: "pubsub", Since: "6.2.0",
					Summary: "Returns helpful text about the different subcommands.", Complexity: "O(1)",
					Proc: pubsubHelp},
			}},
	)
}

func cmdPublish(c *Client) {
	s := c.srv
	h := &extOf(s).ps
	n := h.publish(s, c.Argv[1], c.Argv[2], false)
	if fn := h.hook.Load(); fn != nil {
		(*fn)(c.Argv[1], c.Argv[2])
	}
	c.W.Int(int64(n))
}

func cmdSPublish(c *Client) {
	s := c.srv
	c.W.Int(int64(extOf(s).ps.publish(s, c.Argv[1], c.Argv[2], true)))
}

func pubsubChannels(c *Client, shard bool) {
	h := &extOf(c.srv).ps
	var pat string
	if len(c.Argv) > 3 {
		c.W.Error("ERR unknown subcommand or wrong number of arguments for '" + sanitize(trunc(string(c.Argv[1]), 128)) + "'. Try PUBSUB HELP.")
		return
	}
	if len(c.Argv) == 3 {
		pat = string(c.Argv[2])
	}
	h.mu.RLock()
	m := h.channels
	if shard {
		m = h.shard
	}
	out := make([]string, 0, len(m))
	for ch := range m {
		if pat == "" || globMatch(pat, ch, false) {
			out = append(out, ch)
		}
	}
	h.mu.RUnlock()
	sort.Strings(out)
	c.W.Array(len(out))
	for _, ch := range out {
		c.W.BulkString(ch)
	}
}

func pubsubNumsub(c *Client, shard bool) {
	h := &extOf(c.srv).ps
	names := c.Argv[2:]
	counts := make([]int, len(names))
	h.mu.RLock()
	m := h.channels
	if shard {
		m = h.shard
	}
	for i, n := range names {
		counts[i] = len(m[string(n)])
	}
	h.mu.RUnlock()
	c.W.Array(2 * len(names)) // a flat array in RESP3 too, like Redis 7.0
	for i, n := range names {
		c.W.Bulk(n)
		c.W.Int(int64(counts[i]))
	}
}

func pubsubNumpat(c *Client) {
	h := &extOf(c.srv).ps
	h.mu.RLock()
	n := len(h.patterns)
	h.mu.RUnlock()
	c.W.Int(int64(n))
}

func pubsubHelp(c *Client) {
	lines := []string{
		"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*').",
		"NUMPAT",
		"    Return number of subscriptions to patterns.",
		"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels).",
		"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*').",
		"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)",
		"HELP",
		"    Prints this help.",
	}
	c.W.Array(len(lines))
	for _, l := range lines {
		c.W.Simple(l)
	}
}

// pubsubContextOK reports whether a RESP2 client in subscribed state may run
// cmd (Redis 7.0: the (un)subscribe commands, PING, QUIT and RESET only;
// PUBLISH and PUBSUB are refused there too).
func pubsubContextOK(cmd *Command) bool {
	switch cmd.Name {
	case "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe", "ping", "quit", "reset":
		return true
	}
	return false
}
