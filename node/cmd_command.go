package node

// COMMAND, COMMAND COUNT/INFO/DOCS/GETKEYS/GETKEYSANDFLAGS/LIST/HELP, all
// driven by the command table (command.go). Reply shapes are Redis 7.0's:
// COMMAND INFO entries are [name, arity, flags, first, last, step, acl
// categories, tips, key specs, subcommands]; go-redis and redis-py read
// first/last/step and the movablekeys flag to route cluster commands.

import (
	"sort"
	"strings"
)

func init() {
	sub := func(arity int, since, summary string, proc func(*Client), tips ...string) *Command {
		return &Command{Arity: arity, Flags: FlagLoading | FlagStale, Group: "server", Since: since, Summary: summary,
			ACL: []string{"@connection"}, Tips: tips, Proc: proc}
	}
	count := sub(2, "2.8.13", "Returns a count of commands.", func(c *Client) { c.W.Int(int64(len(commandNames))) })
	count.Complexity = "O(1)"
	info := sub(-2, "2.8.13", "Returns information about one, multiple or all commands.", cmdCommandInfo, "nondeterministic_output_order")
	info.Complexity = "O(N) where N is the number of commands to look up"
	docs := sub(-2, "7.0.0", "Returns documentary information about one, multiple or all commands.", cmdCommandDocs, "nondeterministic_output_order")
	docs.Complexity = "O(N) where N is the number of commands to look up"
	list := sub(-2, "7.0.0", "Returns a list of command names.", cmdCommandList, "nondeterministic_output_order")
	list.Complexity = "O(N) where N is the total number of Redis commands"
	getkeys := sub(-4, "2.8.13", "Extracts the key names from an arbitrary command.", func(c *Client) { cmdCommandGetkeys(c, false) })
	getkeys.Complexity = "O(N) where N is the number of arguments to the command"
	gkf := sub(-4, "7.0.0", "Extracts the key names and access flags for an arbitrary command.", func(c *Client) { cmdCommandGetkeys(c, true) })
	gkf.Complexity = "O(N) where N is the number of arguments to the command"
	help := sub(2, "5.0.0", "Returns helpful text about the different subcommands.", cmdCommandHelp)
	help.Complexity = "O(1)"
	register(&Command{Name: "command", Arity: -1, Flags: FlagLoading | FlagStale, Group: "server", Since: "2.8.13",
		Summary: "Returns detailed information about all commands.", Complexity: "O(N) where N is the total number of Redis commands",
		ACL: []string{"@connection"}, Tips: []string{"nondeterministic_output_order"}, Proc: cmdCommand,
		Sub: map[string]*Command{"count": count, "info": info, "docs": docs, "list": list, "getkeys": getkeys,
			"getkeysandflags": gkf, "help": help}})
}

// ---------------------------------------------------------------------------
// Flags and ACL categories

// commandFlagOrder is Redis 7.0's COMMAND INFO flag order (may_replicate
// is hidden, as in Redis).
var commandFlagOrder = []struct {
	f    Flag
	name string
}{
	{FlagWrite, "write"}, {FlagReadOnly, "readonly"}, {FlagDenyOOM, "denyoom"}, {FlagAdmin, "admin"},
	{FlagPubSub, "pubsub"}, {FlagNoScript, "noscript"}, {FlagBlocking, "blocking"}, {FlagLoading, "loading"},
	{FlagStale, "stale"}, {FlagSkipMonitor, "skip_monitor"}, {FlagSkipSlowlog, "skip_slowlog"},
	{FlagAsking, "asking"}, {FlagFast, "fast"}, {FlagNoAuth, "no_auth"},
}

// noMandatoryKeys are the commands Redis flags no_mandatory_keys.
var noMandatoryKeys = map[string]bool{"eval": true, "evalsha": true, "eval_ro": true, "evalsha_ro": true, "fcall": true, "fcall_ro": true}

// commandFlags returns cmd's COMMAND INFO flags.
func commandFlags(cmd *Command) []string {
	var out []string
	for _, n := range commandFlagOrder {
		if cmd.Flags&n.f != 0 {
			out = append(out, n.name)
		}
	}
	if noMandatoryKeys[cmd.Name] {
		out = append(out, "no_mandatory_keys")
	}
	if cmd.Flags&FlagNoMulti != 0 {
		out = append(out, "no_multi")
	}
	if cmd.Keys != nil {
		out = append(out, "movablekeys")
	}
	if cmd.Flags&FlagAllowBusy != 0 {
		out = append(out, "allow_busy")
	}
	return out
}

// aclCategoryOrder is Redis's ACL category table order.
var aclCategoryOrder = []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
	"hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection",
	"transaction", "scripting"}

var groupCategory = map[string]string{
	"generic": "keyspace", "string": "string", "bitmap": "bitmap", "hash": "hash", "list": "list", "set": "set",
	"sorted-set": "sortedset", "sorted_set": "sortedset", "zset": "sortedset", "stream": "stream", "geo": "geo",
	"hyperloglog": "hyperloglog", "pubsub": "pubsub", "transactions": "transaction", "transaction": "transaction",
	"scripting": "scripting", "connection": "connection",
}

// commandCategories derives cmd's ACL categories like Redis's
// setImplicitACLCategories: from the flags, plus cmd.ACL when set, else
// the category of cmd.Group.
func commandCategories(cmd *Command) []string {
	set := map[string]bool{}
	if cmd.ACL != nil {
		for _, a := range cmd.ACL {
			set[strings.TrimPrefix(strings.ToLower(a), "@")] = true
		}
	} else if g := groupCategory[cmd.Group]; g != "" && cmd.Sub == nil { // containers have no group category
		set[g] = true
	}
	if cmd.Flags&FlagWrite != 0 {
		set["write"] = true
	}
	if cmd.Flags&FlagReadOnly != 0 && !set["scripting"] {
		set["read"] = true
	}
	if cmd.Flags&FlagAdmin != 0 {
		set["admin"], set["dangerous"] = true, true
	}
	if cmd.Flags&FlagPubSub != 0 {
		set["pubsub"] = true
	}
	if cmd.Flags&FlagFast != 0 {
		set["fast"] = true
	}
	if cmd.Flags&FlagBlocking != 0 {
		set["blocking"] = true
	}
	if !set["fast"] {
		set["slow"] = true
	} else {
		delete(set, "slow")
	}
	out := make([]string, 0, len(set))
	for _, n := range aclCategoryOrder {
		if set[n] {
			out = append(out, "@"+n)
		}
	}
	return out
}

func hasCategory(cmd *Command, cat string) bool {
	cat = "@" + strings.TrimPrefix(strings.ToLower(cat), "@")
	for _, c := range commandCategories(cmd) {
		if c == cat {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Key specs

// keySpec is one Redis 7 key specification.
type keySpec struct {
	flags []string
	// begin_search: "index" (index), "keyword" (keyword, startfrom) or "unknown"
	bsType    string
	index     int
	keyword   string
	startfrom int
	// find_keys: "range" (lastkey, keystep, limit), "keynum" (keynumidx,
	// firstkey, keystep) or "unknown"
	fkType              string
	lastkey, keystep    int
	limit               int
	keynumidx, firstkey int
	notes               string // Redis's "notes", "" when none
}

func idxRange(flags []string, index, lastkey, step, limit int) keySpec {
	return keySpec{flags: flags, bsType: "index", index: index, fkType: "range", lastkey: lastkey, keystep: step, limit: limit}
}

func idxKeynum(flags []string, index int) keySpec {
	return keySpec{flags: flags, bsType: "index", index: index, fkType: "keynum", keynumidx: 0, firstkey: 1, keystep: 1}
}

func kwRange(flags []string, kw string, from, lastkey, step, limit int) keySpec {
	return keySpec{flags: flags, bsType: "keyword", keyword: kw, startfrom: from, fkType: "range", lastkey: lastkey, keystep: step, limit: limit}
}

var (
	ksRW     = []string{"RW", "access", "update"}
	ksRO     = []string{"RO", "access"}
	ksOW     = []string{"OW", "update"}
	ksRWDel  = []string{"RW", "access", "delete"}
	unknownK = keySpec{bsType: "unknown", fkType: "unknown"}
)

// movableKeySpecs are Redis 7.0's key specs of commands whose keys move.
var movableKeySpecs = map[string][]keySpec{
	"eval":              {idxKeynum(ksRW, 2)},
	"evalsha":           {idxKeynum(ksRW, 2)},
	"eval_ro":           {idxKeynum(ksRO, 2)},
	"evalsha_ro":        {idxKeynum(ksRO, 2)},
	"fcall":             {idxKeynum(ksRW, 2)},
	"fcall_ro":          {idxKeynum(ksRO, 2)},
	"zunionstore":       {idxRange(ksOW, 1, 0, 1, 0), idxKeynum(ksRO, 2)},
	"zinterstore":       {idxRange(ksOW, 1, 0, 1, 0), idxKeynum(ksRO, 2)},
	"zdiffstore":        {idxRange(ksOW, 1, 0, 1, 0), idxKeynum(ksRO, 2)},
	"zunion":            {idxKeynum(ksRO, 1)},
	"zinter":            {idxKeynum(ksRO, 1)},
	"zdiff":             {idxKeynum(ksRO, 1)},
	"zintercard":        {idxKeynum(ksRO, 1)},
	"sintercard":        {idxKeynum(ksRO, 1)},
	"lmpop":             {idxKeynum(ksRWDel, 1)},
	"zmpop":             {idxKeynum(ksRWDel, 1)},
	"blmpop":            {idxKeynum(ksRWDel, 2)},
	"bzmpop":            {idxKeynum(ksRWDel, 2)},
	"xread":             {kwRange(ksRO, "STREAMS", 1, -1, 1, 2)},
	"xreadgroup":        {kwRange(ksRO, "STREAMS", 4, -1, 1, 2)},
	"migrate":           {idxRange(ksRWDel, 3, 0, 1, 0), kwRange([]string{"RW", "access", "delete", "incomplete"}, "KEYS", -2, -1, 1, 0)},
	"georadius":         {idxRange(ksRO, 1, 0, 1, 0), kwRange(ksOW, "STORE", 6, 0, 1, 0), kwRange(ksOW, "STOREDIST", 6, 0, 1, 0)},
	"georadiusbymember": {idxRange(ksRO, 1, 0, 1, 0), kwRange(ksOW, "STORE", 5, 0, 1, 0), kwRange(ksOW, "STOREDIST", 5, 0, 1, 0)},
	"sort":              {idxRange(ksRO, 1, 0, 1, 0), {flags: ksOW, bsType: "unknown", fkType: "unknown"}},
	"sort_ro":           {idxRange(ksRO, 1, 0, 1, 0), {flags: ksRO, bsType: "unknown", fkType: "unknown"}},
	"memory|usage":      {idxRange([]string{"RO"}, 2, 0, 1, 0)}, // not a movable-key command: Redis's flags are RO only
}

// keyFlagsOf approximates a command's key access flags from its flags.
func keyFlagsOf(cmd *Command) []string {
	switch {
	case cmd.Flags&FlagWrite != 0:
		return []string{"RW", "update"}
	case cmd.Flags&FlagReadOnly != 0:
		return ksRO
	}
	return []string{"RO"}
}

// keySpecsOf returns cmd's key specs: Redis's for known movable-key
// commands, else derived from First/Last/Step (plus an "unknown" spec for
// other movable-key commands).
func keySpecsOf(cmd *Command) []keySpec {
	if ks, ok := redisKeySpecs[cmd.Name]; ok {
		return ks
	}
	if ks, ok := movableKeySpecs[cmd.Name]; ok {
		return ks
	}
	var out []keySpec
	if cmd.First > 0 {
		last := cmd.Last
		if last >= 0 {
			last -= cmd.First
		}
		step := cmd.Step
		if step <= 0 {
			step = 1
		}
		out = append(out, idxRange(keyFlagsOf(cmd), cmd.First, last, step, 0))
	}
	if cmd.Keys != nil {
		u := unknownK
		u.flags = keyFlagsOf(cmd)
		out = append(out, u)
	}
	return out
}

func writeKeySpec(c *Client, ks *keySpec) {
	if ks.notes != "" {
		c.W.Map(4)
		c.W.BulkString("notes")
		c.W.BulkString(ks.notes)
	} else {
		c.W.Map(3)
	}
	c.W.BulkString("flags")
	c.W.Set(len(ks.flags))
	for _, f := range ks.flags {
		c.W.Simple(f)
	}
	c.W.BulkString("begin_search")
	c.W.Map(2)
	c.W.BulkString("type")
	c.W.BulkString(ks.bsType)
	c.W.BulkString("spec")
	switch ks.bsType {
	case "index":
		c.W.Map(1)
		c.W.BulkString("index")
		c.W.Int(int64(ks.index))
	case "keyword":
		c.W.Map(2)
		c.W.BulkString("keyword")
		c.W.BulkString(ks.keyword)
		c.W.BulkString("startfrom")
		c.W.Int(int64(ks.startfrom))
	default:
		c.W.Map(0)
	}
	c.W.BulkString("find_keys")
	c.W.Map(2)
	c.W.BulkString("type")
	c.W.BulkString(ks.fkType)
	c.W.BulkString("spec")
	switch ks.fkType {
	case "range":
		c.W.Map(3)
		c.W.BulkString("lastkey")
		c.W.Int(int64(ks.lastkey))
		c.W.BulkString("keystep")
		c.W.Int(int64(ks.keystep))
		c.W.BulkString("limit")
		c.W.Int(int64(ks.limit))
	case "keynum":
		c.W.Map(3)
		c.W.BulkString("keynumidx")
		c.W.Int(int64(ks.keynumidx))
		c.W.BulkString("firstkey")
		c.W.Int(int64(ks.firstkey))
		c.W.BulkString("keystep")
		c.W.Int(int64(ks.keystep))
	default:
		c.W.Map(0)
	}
}

// ---------------------------------------------------------------------------
// Replies

func sortedSubs(cmd *Command) []*Command {
	out := make([]*Command, 0, len(cmd.Sub))
	for _, sc := range cmd.Sub {
		out = append(out, sc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func writeCommandInfo(c *Client, cmd *Command) {
	c.W.Array(10)
	c.W.BulkString(cmd.Name)
	c.W.Int(int64(cmd.Arity))
	fl := commandFlags(cmd)
	c.W.Set(len(fl))
	for _, f := range fl {
		c.W.Simple(f)
	}
	c.W.Int(int64(cmd.First))
	c.W.Int(int64(cmd.Last))
	c.W.Int(int64(cmd.Step))
	cats := commandCategories(cmd)
	c.W.Set(len(cats))
	for _, a := range cats {
		c.W.Simple(a)
	}
	c.W.Set(len(cmd.Tips))
	for _, t := range cmd.Tips {
		c.W.BulkString(t)
	}
	ks := keySpecsOf(cmd)
	c.W.Set(len(ks))
	for i := range ks {
		writeKeySpec(c, &ks[i])
	}
	subs := sortedSubs(cmd)
	if len(subs) == 0 {
		c.W.Set(0) // Redis 7.0 answers an empty set here, an array otherwise
		return
	}
	c.W.Array(len(subs))
	for _, sc := range subs {
		writeCommandInfo(c, sc)
	}
}

// lookupFullName finds "name" or "container|sub" (case-insensitive).
func lookupFullName(name string) *Command {
	name = strings.ToLower(name)
	if i := strings.IndexByte(name, '|'); i >= 0 {
		base := commands[name[:i]]
		if base == nil || base.Sub == nil {
			return nil
		}
		return base.Sub[name[i+1:]]
	}
	return commands[name]
}

func cmdCommand(c *Client) {
	c.W.Array(len(commandNames))
	for _, n := range commandNames {
		writeCommandInfo(c, commands[n])
	}
}

func cmdCommandInfo(c *Client) {
	if len(c.Argv) == 2 {
		cmdCommand(c)
		return
	}
	c.W.Array(len(c.Argv) - 2)
	for _, a := range c.Argv[2:] {
		if cmd := lookupFullName(string(a)); cmd != nil {
			writeCommandInfo(c, cmd)
		} else {
			c.W.Null()
		}
	}
}

func writeCommandDocs(c *Client, cmd *Command) {
	n := 0
	for _, v := range []string{cmd.Summary, cmd.Since, cmd.Group, cmd.Complexity} {
		if v != "" {
			n++
		}
	}
	if len(cmd.Sub) > 0 {
		n++
	}
	c.W.Map(n)
	for _, kv := range [][2]string{{"summary", cmd.Summary}, {"since", cmd.Since}, {"group", cmd.Group}, {"complexity", cmd.Complexity}} {
		if kv[1] != "" {
			c.W.BulkString(kv[0])
			c.W.BulkString(kv[1])
		}
	}
	if len(cmd.Sub) > 0 {
		c.W.BulkString("subcommands")
		subs := sortedSubs(cmd)
		c.W.Map(len(subs))
		for _, sc := range subs {
			c.W.BulkString(sc.Name)
			writeCommandDocs(c, sc)
		}
	}
}

func cmdCommandDocs(c *Client) {
	var list []*Command
	if len(c.Argv) == 2 {
		for _, n := range commandNames {
			list = append(list, commands[n])
		}
	} else {
		for _, a := range c.Argv[2:] {
			if cmd := lookupFullName(string(a)); cmd != nil {
				list = append(list, cmd)
			}
		}
	}
	c.W.Map(len(list))
	for _, cmd := range list {
		c.W.BulkString(cmd.Name)
		writeCommandDocs(c, cmd)
	}
}

// allCommandsAndSubs lists every command and subcommand, sorted by name.
func allCommandsAndSubs() []*Command {
	var out []*Command
	for _, n := range commandNames {
		cmd := commands[n]
		out = append(out, cmd)
		out = append(out, sortedSubs(cmd)...)
	}
	return out
}

func cmdCommandList(c *Client) {
	var keep func(cmd *Command) bool
	switch {
	case len(c.Argv) == 2:
		keep = func(*Command) bool { return true }
	case len(c.Argv) == 5 && argIs(c.Argv[2], "filterby"):
		arg := string(c.Argv[4])
		switch {
		case argIs(c.Argv[3], "module"):
			keep = func(*Command) bool { return false }
		case argIs(c.Argv[3], "aclcat"):
			keep = func(cmd *Command) bool { return hasCategory(cmd, arg) }
		case argIs(c.Argv[3], "pattern"):
			keep = func(cmd *Command) bool { return globMatch(arg, cmd.Name, true) }
		default:
			c.W.Error(ErrSyntax)
			return
		}
	default:
		c.W.Error(ErrSyntax)
		return
	}
	var names []string
	for _, cmd := range allCommandsAndSubs() {
		if keep(cmd) {
			names = append(names, cmd.Name)
		}
	}
	c.W.Array(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}

// resolveCommand finds the command argv would run (container + sub).
func resolveCommand(argv [][]byte) *Command {
	cmd := commands[strings.ToLower(string(argv[0]))]
	if cmd == nil {
		return nil
	}
	if cmd.Sub != nil && len(argv) >= 2 {
		return cmd.Sub[strings.ToLower(string(argv[1]))]
	}
	return cmd
}

// keyAccessFlags are the GETKEYSANDFLAGS flags for a key position.
func keyAccessFlags(cmd *Command, argv [][]byte, pos int) []string {
	if specs, ok := movableKeySpecs[cmd.Name]; ok && len(specs) > 0 {
		// the first spec covers the leading fixed key; the rest the others
		if specs[0].bsType == "index" && specs[0].fkType == "range" && pos == specs[0].index {
			return specs[0].flags
		}
		if len(specs) > 1 {
			return specs[1].flags
		}
		return specs[0].flags
	}
	return keyFlagsOf(cmd)
}

func cmdCommandGetkeys(c *Client, withFlags bool) {
	argv := c.Argv[2:]
	cmd := resolveCommand(argv)
	switch {
	case cmd == nil:
		c.W.Error("ERR Invalid command specified")
		return
	case !cmd.HasKeys():
		c.W.Error("ERR The command has no key arguments")
		return
	case !cmd.arityOK(len(argv)):
		c.W.Error("ERR Invalid number of arguments specified for command")
		return
	}
	var pos []int
	func() {
		defer func() {
			if recover() != nil {
				pos = nil // a key extractor choked on hostile input
			}
		}()
		pos = cmd.KeyPositions(argv, nil)
	}()
	if len(pos) == 0 {
		if noMandatoryKeys[cmd.Name] {
			c.W.Array(0)
		} else {
			c.W.Error("ERR Invalid arguments specified for command")
		}
		return
	}
	c.W.Array(len(pos))
	for _, p := range pos {
		if !withFlags {
			c.W.Bulk(argv[p])
			continue
		}
		c.W.Array(2)
		c.W.Bulk(argv[p])
		fl := keyAccessFlags(cmd, argv, p)
		c.W.Set(len(fl))
		for _, f := range fl {
			c.W.Simple(f)
		}
	}
}

func cmdCommandHelp(c *Client) {
	replyHelp(c, "COMMAND", []string{
		"(no subcommand)",
		"    Return details about all Redis commands.",
		"COUNT",
		"    Return the total number of commands in this Redis server.",
		"LIST",
		"    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>",
		"    Return the keys from a full Redis command.",
		"GETKEYSANDFLAGS <full-command>",
		"    Return the keys and the access flags from a full Redis command.",
	})
}

// redisKeySpecs are redis-server 7.0.15's key specs (src/commands/*.json,
// as its COMMAND INFO reports them) of the commands whose specs the
// derivation in keySpecsOf gets wrong (flags such as RM/OW/insert/delete,
// several specs per command, notes). TestCommandKeySpecsDifferential
// (integration/compat_test.go) compares every command with redis-server.
var redisKeySpecs = map[string][]keySpec{
	"append":           {{flags: []string{"RW", "insert"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"bitfield":         {{flags: []string{"RW", "access", "update", "variable_flags"}, notes: "This command allows both access and modification of the key", bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"bitop":            {{flags: []string{"OW", "update"}, bsType: "index", index: 2, fkType: "range", lastkey: 0, keystep: 1, limit: 0}, {flags: []string{"RO", "access"}, bsType: "index", index: 3, fkType: "range", lastkey: -1, keystep: 1, limit: 0}},
	"blmove":           {{flags: []string{"RW", "access", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}, {flags: []string{"RW", "insert"}, bsType: "index", index: 2, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"blpop":            {{flags: []string{"RW", "access", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: -2, keystep: 1, limit: 0}},
	"brpop":            {{flags: []string{"RW", "access", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: -2, keystep: 1, limit: 0}},
	"brpoplpush":       {{flags: []string{"RW", "access", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}, {flags: []string{"RW", "insert"}, bsType: "index", index: 2, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"bzpopmax":         {{flags: []string{"RW", "access", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: -2, keystep: 1, limit: 0}},
	"bzpopmin":         {{flags: []string{"RW", "access", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: -2, keystep: 1, limit: 0}},
	"copy":             {{flags: []string{"RO", "access"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}, {flags: []string{"OW", "update"}, bsType: "index", index: 2, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"decr":             {{flags: []string{"RW", "access", "update"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"decrby":           {{flags: []string{"RW", "access", "update"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"del":              {{flags: []string{"RM", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: -1, keystep: 1, limit: 0}},
	"eval":             {{flags: []string{"RW", "access", "update"}, notes: "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE", bsType: "index", index: 2, fkType: "keynum", keynumidx: 0, firstkey: 1, keystep: 1}},
	"eval_ro":          {{flags: []string{"RO", "access"}, notes: "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS", bsType: "index", index: 2, fkType: "keynum", keynumidx: 0, firstkey: 1, keystep: 1}},
	"exists":           {{flags: []string{"RO"}, bsType: "index", index: 1, fkType: "range", lastkey: -1, keystep: 1, limit: 0}},
	"getdel":           {{flags: []string{"RW", "access", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"getex":            {{flags: []string{"RW", "access", "update"}, notes: "RW and UPDATE because it changes the TTL", bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"getset":           {{flags: []string{"RW", "access", "update"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"hdel":             {{flags: []string{"RW", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"hexists":          {{flags: []string{"RO"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"hincrby":          {{flags: []string{"RW", "access", "update"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"hincrbyfloat":     {{flags: []string{"RW", "access", "update"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"hlen":             {{flags: []string{"RO"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"hsetnx":           {{flags: []string{"RW", "insert"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"hstrlen":          {{flags: []string{"RO"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"incr":             {{flags: []string{"RW", "access", "update"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"incrby":           {{flags: []string{"RW", "access", "update"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"incrbyfloat":      {{flags: []string{"RW", "access", "update"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"linsert":          {{flags: []string{"RW", "insert"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"llen":             {{flags: []string{"RO"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"lmove":            {{flags: []string{"RW", "access", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}, {flags: []string{"RW", "insert"}, bsType: "index", index: 2, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"lpop":             {{flags: []string{"RW", "access", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"lpush":            {{flags: []string{"RW", "insert"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"lpushx":           {{flags: []string{"RW", "insert"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"lrem":             {{flags: []string{"RW", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"ltrim":            {{flags: []string{"RW", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"mset":             {{flags: []string{"OW", "update"}, bsType: "index", index: 1, fkType: "range", lastkey: -1, keystep: 2, limit: 0}},
	"msetnx":           {{flags: []string{"OW", "insert"}, bsType: "index", index: 1, fkType: "range", lastkey: -1, keystep: 2, limit: 0}},
	"object|encoding":  {{flags: []string{"RO"}, bsType: "index", index: 2, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"object|freq":      {{flags: []string{"RO"}, bsType: "index", index: 2, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"object|idletime":  {{flags: []string{"RO"}, bsType: "index", index: 2, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"object|refcount":  {{flags: []string{"RO"}, bsType: "index", index: 2, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"psetex":           {{flags: []string{"OW", "update"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"rename":           {{flags: []string{"RW", "access", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}, {flags: []string{"OW", "update"}, bsType: "index", index: 2, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"renamenx":         {{flags: []string{"RW", "access", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}, {flags: []string{"OW", "insert"}, bsType: "index", index: 2, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"restore":          {{flags: []string{"OW", "update"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"restore-asking":   {{flags: []string{"OW", "update"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"rpop":             {{flags: []string{"RW", "access", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"rpoplpush":        {{flags: []string{"RW", "access", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}, {flags: []string{"RW", "insert"}, bsType: "index", index: 2, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"rpush":            {{flags: []string{"RW", "insert"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"rpushx":           {{flags: []string{"RW", "insert"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"sadd":             {{flags: []string{"RW", "insert"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"scard":            {{flags: []string{"RO"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"sdiffstore":       {{flags: []string{"OW", "update"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}, {flags: []string{"RO", "access"}, bsType: "index", index: 2, fkType: "range", lastkey: -1, keystep: 1, limit: 0}},
	"set":              {{flags: []string{"RW", "access", "update", "variable_flags"}, notes: "RW and ACCESS due to the optional `GET` argument", bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"setbit":           {{flags: []string{"RW", "access", "update"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"setex":            {{flags: []string{"OW", "update"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"setnx":            {{flags: []string{"OW", "insert"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"sinterstore":      {{flags: []string{"RW", "update"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}, {flags: []string{"RO", "access"}, bsType: "index", index: 2, fkType: "range", lastkey: -1, keystep: 1, limit: 0}},
	"sismember":        {{flags: []string{"RO"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"smove":            {{flags: []string{"RW", "access", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}, {flags: []string{"RW", "insert"}, bsType: "index", index: 2, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"spop":             {{flags: []string{"RW", "access", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"spublish":         {{flags: []string{"not_key"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"srem":             {{flags: []string{"RW", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"ssubscribe":       {{flags: []string{"not_key"}, bsType: "index", index: 1, fkType: "range", lastkey: -1, keystep: 1, limit: 0}},
	"strlen":           {{flags: []string{"RO"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"sunionstore":      {{flags: []string{"OW", "update"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}, {flags: []string{"RO", "access"}, bsType: "index", index: 2, fkType: "range", lastkey: -1, keystep: 1, limit: 0}},
	"sunsubscribe":     {{flags: []string{"not_key"}, bsType: "index", index: 1, fkType: "range", lastkey: -1, keystep: 1, limit: 0}},
	"touch":            {{flags: []string{"RO"}, bsType: "index", index: 1, fkType: "range", lastkey: -1, keystep: 1, limit: 0}},
	"type":             {{flags: []string{"RO"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"unlink":           {{flags: []string{"RM", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: -1, keystep: 1, limit: 0}},
	"zcard":            {{flags: []string{"RO"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"zincrby":          {{flags: []string{"RW", "access", "update"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"zpopmax":          {{flags: []string{"RW", "access", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"zpopmin":          {{flags: []string{"RW", "access", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"zrangestore":      {{flags: []string{"OW", "update"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}, {flags: []string{"RO", "access"}, bsType: "index", index: 2, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"zrem":             {{flags: []string{"RW", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"zremrangebylex":   {{flags: []string{"RW", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"zremrangebyrank":  {{flags: []string{"RW", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
	"zremrangebyscore": {{flags: []string{"RW", "delete"}, bsType: "index", index: 1, fkType: "range", lastkey: 0, keystep: 1, limit: 0}},
}
