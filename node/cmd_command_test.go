package node

import (
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestCommandTableConsistency checks what COMMAND reports for every
// registered command: categories, key specs agreeing with the key
// positions dispatch uses.
func TestCommandTableConsistency(t *testing.T) {
	for _, cmd := range allCommandsAndSubs() {
		if cmd.Arity == 0 {
			t.Errorf("%s: arity 0", cmd.Name)
		}
		cats := strings.Join(commandCategories(cmd), " ")
		if strings.Contains(cats, "@fast") == strings.Contains(cats, "@slow") {
			t.Errorf("%s: categories %q must have exactly one of @fast/@slow", cmd.Name, cats)
		}
		if cmd.Keys != nil || cmd.First <= 0 {
			continue
		}
		// A non-movable command: its range key spec must describe the
		// positions dispatch locks.
		n := cmd.Arity
		if n < 0 {
			n = -n + 3
		}
		if cmd.Last >= n {
			n = cmd.Last + 1
		}
		argv := make([][]byte, n)
		for i := range argv {
			argv[i] = []byte("a" + strconv.Itoa(i))
		}
		ks := keySpecsOf(cmd)
		if len(ks) == 0 || ks[0].bsType != "index" || ks[0].index != cmd.First {
			t.Errorf("%s: key spec %+v does not start at first key %d", cmd.Name, ks, cmd.First)
			continue
		}
		// Redis splits some commands' keys over several specs (BITOP's
		// destination and sources, RENAME's source and destination).
		var fromSpec []int
		for _, k := range ks {
			if k.bsType != "index" || k.fkType != "range" {
				continue
			}
			last := k.lastkey
			if last >= 0 {
				last += k.index
			} else {
				last += n
			}
			for i := k.index; i <= last; i += k.keystep {
				fromSpec = append(fromSpec, i)
			}
		}
		sort.Ints(fromSpec)
		if got := cmd.KeyPositions(argv, nil); !equalInts(got, fromSpec) {
			t.Errorf("%s: key positions %v, key spec says %v", cmd.Name, got, fromSpec)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCommandReplies(t *testing.T) {
	e := newSvEnv(t, nil)
	e.expect(":"+strconv.Itoa(len(commandNames))+"\r\n", "COMMAND", "COUNT")
	// byte-exact against redis-server 7.0.15
	e.expect("*1\r\n*10\r\n$4\r\nping\r\n:-1\r\n*1\r\n+fast\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@fast\r\n+@connection\r\n*2\r\n$25\r\nrequest_policy:all_shards\r\n$29\r\nresponse_policy:all_succeeded\r\n*0\r\n*0\r\n",
		"COMMAND", "INFO", "ping")
	e.expect("*1\r\n*10\r\n$11\r\nclient|list\r\n:-2\r\n*4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*4\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n+@connection\r\n*1\r\n$23\r\nnondeterministic_output\r\n*0\r\n*0\r\n",
		"COMMAND", "INFO", "client|list")
	e.expect("*1\r\n$-1\r\n", "COMMAND", "INFO", "nosuch")
	e.expect("*0\r\n", "COMMAND", "DOCS", "nosuch")
	if get := commands["get"]; get != nil && get.Flags == FlagReadOnly|FlagFast {
		e.expect("*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n",
			"COMMAND", "INFO", "get")
		e.expect("*1\r\n$1\r\na\r\n", "COMMAND", "GETKEYS", "GET", "a")
		e.expect("*1\r\n*2\r\n$1\r\na\r\n*2\r\n+RO\r\n+access\r\n", "COMMAND", "GETKEYSANDFLAGS", "get", "a")
		e.expect("-ERR Invalid number of arguments specified for command\r\n", "COMMAND", "GETKEYS", "get", "a", "b")
	}
	if commands["mset"] != nil {
		e.expect("*2\r\n$1\r\na\r\n$1\r\nc\r\n", "COMMAND", "GETKEYS", "mset", "a", "b", "c", "d")
	}
	e.expect("-ERR Invalid command specified\r\n", "COMMAND", "GETKEYS", "nosuch", "a")
	e.expect("-ERR Invalid command specified\r\n", "COMMAND", "GETKEYS", "client", "foo", "x")
	e.expect("-ERR The command has no key arguments\r\n", "COMMAND", "GETKEYS", "echo", "a", "b")
	e.expect("-ERR The command has no key arguments\r\n", "COMMAND", "GETKEYS", "config", "get", "x")
	e.expect("-ERR wrong number of arguments for 'command|getkeys' command\r\n", "COMMAND", "GETKEYS", "get")
	e.expect("-ERR syntax error\r\n", "COMMAND", "LIST", "x")
	e.expect("-ERR syntax error\r\n", "COMMAND", "LIST", "FILTERBY", "foo", "x")
	e.expect("*0\r\n", "COMMAND", "LIST", "FILTERBY", "module", "x")
	e.expect("*0\r\n", "COMMAND", "LIST", "FILTERBY", "aclcat", "nosuch")
	e.expect("*1\r\n$11\r\nclient|list\r\n", "COMMAND", "LIST", "FILTERBY", "pattern", "CLIENT|L*")
	if r := e.do("COMMAND", "LIST", "FILTERBY", "aclcat", "CONNECTION"); !strings.Contains(r, "$5\r\nhello\r\n") || strings.Contains(r, "$3\r\nget\r\n") {
		t.Errorf("FILTERBY aclcat connection: %q", r)
	}
	e.expect("*2\r\n$4\r\nping\r\n*8\r\n$7\r\nsummary\r\n$41\r\nReturns the server's liveliness response.\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n",
		"COMMAND", "DOCS", "ping")
	if r := e.do("COMMAND"); !strings.HasPrefix(r, "*"+strconv.Itoa(len(commandNames))+"\r\n") {
		t.Errorf("COMMAND: %.40q", r)
	}
	if r := e.do("COMMAND", "HELP"); !strings.HasPrefix(r, "*21\r\n+COMMAND <subcommand>") {
		t.Errorf("COMMAND HELP: %.60q", r)
	}
	// RESP3: sets and maps
	e.do("HELLO", "3")
	e.expect("*1\r\n*10\r\n$4\r\nping\r\n:-1\r\n~1\r\n+fast\r\n:0\r\n:0\r\n:0\r\n~2\r\n+@fast\r\n+@connection\r\n~2\r\n$25\r\nrequest_policy:all_shards\r\n$29\r\nresponse_policy:all_succeeded\r\n~0\r\n~0\r\n",
		"COMMAND", "INFO", "ping")
	e.expect("*1\r\n_\r\n", "COMMAND", "INFO", "nosuch")
}

func TestAclCategories(t *testing.T) {
	cases := []struct {
		cmd  *Command
		want string
	}{
		{&Command{Flags: FlagReadOnly | FlagFast, Group: "string"}, "@read @string @fast"},
		{&Command{Flags: FlagWrite, Group: "generic"}, "@keyspace @write @slow"},
		{&Command{Flags: FlagAdmin | FlagNoScript, ACL: []string{"@connection"}}, "@admin @slow @dangerous @connection"},
		{&Command{Flags: FlagLoading | FlagStale | FlagFast, ACL: []string{"@admin", "@fast", "@dangerous"}}, "@admin @fast @dangerous"},
		{&Command{Flags: FlagWrite | FlagBlocking, Group: "list"}, "@write @list @slow @blocking"},
		{&Command{Flags: FlagReadOnly, Group: "scripting"}, "@slow @scripting"},
		{&Command{Group: "server"}, "@slow"},
	}
	for _, tc := range cases {
		if got := strings.Join(commandCategories(tc.cmd), " "); got != tc.want {
			t.Errorf("flags %v acl %v group %q: %q, want %q", tc.cmd.Flags, tc.cmd.ACL, tc.cmd.Group, got, tc.want)
		}
	}
}
