package node

// String commands. GET and SET start here; the string family extends it.

func init() {
	register(
		&Command{Name: "get", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Group: "string", Since: "1.0.0", Summary: "Returns the string value of a key.", Proc: cmdGet},
		&Command{Name: "set", Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Group: "string", Since: "1.0.0", Summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", Proc: cmdSet},
	)
}

func cmdGet(c *Client) {
	_, e := c.Lookup(c.Argv[1])
	if e == nil {
		c.W.Null()
		return
	}
	if e.Obj != nil {
		c.W.Error(ErrWrongType)
		return
	}
	c.W.Bulk(e.Str)
}

func cmdSet(c *Client) {
	if len(c.Argv) != 3 {
		c.W.Error(ErrSyntax) // options come with the string family
		return
	}
	s := c.SlotFor(c.Argv[1])
	s.Set(c.Argv[1], &Entry{Str: append([]byte(nil), c.Argv[2]...)})
	c.Dirty++
	c.W.OK()
}
