package node

// SAVE, BGSAVE, LASTSAVE, BGREWRITEAOF and SHUTDOWN (Redis 7.0 replies).
// Unlike Redis, SAVE does not block other clients (it writes a keyspace
// cut), and BGSAVE may run while an AOF rewrite does (nothing forks).

func init() {
	srv := func(cmd *Command) *Command {
		cmd.Group = "server"
		cmd.ACL = []string{"@admin", "@slow", "@dangerous"}
		return cmd
	}
	register(
		srv(&Command{Name: "save", Arity: 1, Flags: FlagAdmin | FlagNoScript | FlagNoMulti, Since: "1.0.0",
			Summary: "Synchronously save the dataset to disk", Complexity: "O(N) where N is the total number of keys in all databases",
			Proc: cmdSave}),
		srv(&Command{Name: "bgsave", Arity: -1, Flags: FlagAdmin | FlagNoScript, Since: "1.0.0",
			Summary: "Asynchronously save the dataset to disk", Complexity: "O(1)", Proc: cmdBgsave}),
		srv(&Command{Name: "bgrewriteaof", Arity: 1, Flags: FlagAdmin | FlagNoScript, Since: "1.0.0",
			Summary: "Asynchronously rewrite the append-only file", Complexity: "O(1)", Proc: cmdBgrewriteaof}),
		&Command{Name: "lastsave", Arity: 1, Flags: FlagLoading | FlagStale | FlagFast, Since: "1.0.0", Group: "server",
			ACL: []string{"@admin", "@fast", "@dangerous"}, Tips: []string{"nondeterministic_output"},
			Summary: "Get the UNIX time stamp of the last successful save to disk", Complexity: "O(1)", Proc: cmdLastsave},
		srv(&Command{Name: "shutdown", Arity: -1, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale | FlagNoMulti | FlagAllowBusy, Since: "1.0.0",
			Summary:    "Synchronously save the dataset to disk and then shut down the server",
			Complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
			Proc:       cmdShutdown}),
	)
}

func persistOrErr(c *Client) *Persistence {
	p := persistenceOf(c.Server())
	if p == nil {
		c.W.Error("ERR persistence is not running")
	}
	return p
}

func cmdSave(c *Client) {
	p := persistOrErr(c)
	if p == nil {
		return
	}
	if p.BgsaveInProgress() {
		c.W.Error("ERR Background save already in progress")
		return
	}
	if _, err := p.Save(); err != nil {
		c.W.Error("ERR")
		return
	}
	c.W.OK()
}

func cmdBgsave(c *Client) {
	if len(c.Argv) > 1 && !(len(c.Argv) == 2 && dumpArgIs(c.Argv[1], "schedule")) {
		c.W.Error(ErrSyntax)
		return
	}
	p := persistOrErr(c)
	if p == nil {
		return
	}
	if !p.StartBgsave() {
		c.W.Error("ERR Background save already in progress")
		return
	}
	c.W.Simple("Background saving started")
}

func cmdBgrewriteaof(c *Client) {
	p := persistOrErr(c)
	if p == nil {
		return
	}
	if !p.StartRewrite() {
		c.W.Error("ERR Background append only file rewriting already in progress")
		return
	}
	c.W.Simple("Background append only file rewriting started")
}

func cmdLastsave(c *Client) {
	p := persistOrErr(c)
	if p == nil {
		return
	}
	c.W.Int(p.lastSave.Load())
}

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
func cmdShutdown(c *Client) {
	var save, nosave, force, abort bool
	for _, a := range c.Argv[1:] {
		switch {
		case dumpArgIs(a, "nosave"):
			nosave = true
		case dumpArgIs(a, "save"):
			save = true
		case dumpArgIs(a, "now"):
		case dumpArgIs(a, "force"):
			force = true
		case dumpArgIs(a, "abort"):
			abort = true
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	if (abort && len(c.Argv) != 2) || (save && nosave) {
		c.W.Error(ErrSyntax)
		return
	}
	if abort {
		c.W.Error("ERR No shutdown in progress.")
		return
	}
	mode := ShutdownDefault
	if save {
		mode = ShutdownSave
	} else if nosave {
		mode = ShutdownNoSave
	}
	s := c.Server()
	if p := persistenceOf(s); p != nil {
		if err := p.PrepareShutdown(mode); err != nil && !force {
			c.W.Error("ERR Errors trying to SHUTDOWN. Check logs.")
			return
		}
		p.shutdownDone.Store(true)
	}
	s.Log.Warn("User requested shutdown...", "client", c.Addr)
	c.CloseAfterReply = true
	go s.Shutdown()
}
