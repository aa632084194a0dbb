package node

// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT. The engine is in
// script.go, the Lua side in script_lua.go.

import "strings"

func init() {
	evalFlags := FlagNoScript | FlagStale | FlagSkipMonitor | FlagNoPropagate
	acl := []string{"@scripting"}
	register(
		&Command{Name: "eval", Arity: -3, Flags: evalFlags, Keys: evalKeys, Group: "scripting", Since: "2.6.0",
			Summary: "Executes a server-side Lua script.", Complexity: "Depends on the script that is executed.", ACL: acl, Proc: cmdEval},
		&Command{Name: "evalsha", Arity: -3, Flags: evalFlags, Keys: evalKeys, Group: "scripting", Since: "2.6.0",
			Summary: "Executes a server-side Lua script by SHA1 digest.", Complexity: "Depends on the script that is executed.", ACL: acl, Proc: cmdEvalSHA},
		&Command{Name: "eval_ro", Arity: -3, Flags: evalFlags | FlagReadOnly, Keys: evalKeys, Group: "scripting", Since: "7.0.0",
			Summary: "Executes a read-only server-side Lua script.", Complexity: "Depends on the script that is executed.", ACL: acl, Proc: cmdEvalRO},
		&Command{Name: "evalsha_ro", Arity: -3, Flags: evalFlags | FlagReadOnly, Keys: evalKeys, Group: "scripting", Since: "7.0.0",
			Summary: "Executes a read-only server-side Lua script by SHA1 digest.", Complexity: "Depends on the script that is executed.", ACL: acl, Proc: cmdEvalSHARO},
		&Command{Name: "script", Arity: -2, Group: "scripting", Since: "2.6.0", Summary: "A container for Lua scripts management commands.", Complexity: "Depends on subcommand.",
			Sub: map[string]*Command{
				"load": {Arity: 3, Flags: FlagNoScript | FlagStale, Group: "scripting", Since: "2.6.0", ACL: acl,
					Summary: "Loads a server-side Lua script to the script cache.", Complexity: "O(N) with N being the length in bytes of the script body.",
					Tips: []string{"request_policy:all_nodes", "response_policy:all_succeeded"}, Proc: scriptLoad},
				"exists": {Arity: -3, Flags: FlagNoScript, Group: "scripting", Since: "2.6.0", ACL: acl,
					Summary: "Determines whether server-side Lua scripts exist in the script cache.", Complexity: "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
					Tips: []string{"request_policy:all_shards", "response_policy:agg_logical_and"}, Proc: scriptExists},
				"flush": {Arity: -2, Flags: FlagNoScript, Group: "scripting", Since: "2.6.0", ACL: acl,
					Summary: "Removes all server-side Lua scripts from the script cache.", Complexity: "O(N) with N being the number of scripts in cache",
					Tips: []string{"request_policy:all_nodes", "response_policy:all_succeeded"}, Proc: scriptFlush},
				"kill": {Arity: 2, Flags: FlagNoScript | FlagAllowBusy, Group: "scripting", Since: "2.6.0", ACL: acl,
					Summary: "Terminates a server-side Lua script during execution.", Complexity: "O(1)",
					Tips: []string{"request_policy:all_shards", "response_policy:one_succeeded"}, Proc: scriptKill},
				"help": {Arity: 2, Flags: FlagLoading | FlagStale, Group: "scripting", Since: "5.0.0", ACL: acl,
					Summary: "Returns helpful text about the different subcommands.", Complexity: "O(1)", Proc: scriptHelp},
			}},
	)
}

func scriptLoad(c *Client) {
	sc, errText := extOf(c.srv).sc.load(c.Argv[2])
	if errText != "" {
		c.W.Error(errText)
		return
	}
	c.W.Bulk(sc.sha[:])
}

func scriptExists(c *Client) {
	e := &extOf(c.srv).sc
	c.W.Array(len(c.Argv) - 2)
	for _, a := range c.Argv[2:] {
		k, ok := shaKey(a)
		if ok && e.get(k) != nil {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
	}
}

func scriptFlush(c *Client) {
	if len(c.Argv) > 3 || (len(c.Argv) == 3 && !strings.EqualFold(string(c.Argv[2]), "sync") && !strings.EqualFold(string(c.Argv[2]), "async")) {
		c.W.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		return
	}
	extOf(c.srv).sc.flush()
	c.W.OK()
}

func scriptKill(c *Client) {
	if err := extOf(c.srv).sc.kill(); err != "" {
		c.W.Error(err)
		return
	}
	c.W.OK()
}

func scriptHelp(c *Client) {
	lines := []string{
		"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"DEBUG (YES|SYNC|NO)",
		"    Set the debug mode for subsequent scripts executed.",
		"EXISTS <sha1> [<sha1> ...]",
		"    Return information about the existence of the scripts in the script cache.",
		"FLUSH [ASYNC|SYNC]",
		"    Flush the Lua scripts cache. Very dangerous on replicas.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the scripts cache.",
		"    * SYNC: Synchronously flush the scripts cache.",
		"KILL",
		"    Kill the currently executing Lua script.",
		"LOAD <script>",
		"    Load a script into the scripts cache without executing it.",
		"HELP",
		"    Prints this help.",
	}
	c.W.Array(len(lines))
	for _, l := range lines {
		c.W.Simple(l)
	}
}
