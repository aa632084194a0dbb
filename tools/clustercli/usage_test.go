package main

import (
	"strings"
	"testing"
)

func TestHelpAndUsage(t *testing.T) {
	for _, c := range commands {
		r := cli(t, "", c.name, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "Example:") || !strings.Contains(r.stdout, "clustercli "+c.name) {
			t.Errorf("%s --help: code %d\n%s", c.name, r.code, r.stdout)
		}
		for _, f := range c.flags {
			if !strings.Contains(r.stdout, "--"+f.name) {
				t.Errorf("%s --help does not document --%s", c.name, f.name)
			}
		}
	}
	if r := cli(t, ""); r.code != exitUsage || !strings.Contains(r.stdout, "reshard") {
		t.Errorf("no args: %d %s", r.code, r.stdout)
	}
	if r := cli(t, "", "help", "reshard"); r.code != 0 || !strings.Contains(r.stdout, "--from") {
		t.Errorf("help reshard: %d %s", r.code, r.stdout)
	}
	if r := cli(t, "", "frobnicate"); r.code != exitUsage {
		t.Errorf("unknown command: %d", r.code)
	}
	if r := cli(t, "", "check", "127.0.0.1:1", "--bogus"); r.code != exitUsage || !strings.Contains(r.stderr, "unknown option --bogus") {
		t.Errorf("unknown option: %d %s", r.code, r.stderr)
	}
	if r := cli(t, "", "check"); r.code != exitUsage {
		t.Errorf("missing argument: %d", r.code)
	}
	if r := cli(t, "", "reshard", "127.0.0.1:1", "--slots"); r.code != exitUsage || !strings.Contains(r.stderr, "needs a value") {
		t.Errorf("missing value: %d %s", r.code, r.stderr)
	}
	if r := cli(t, "", "check", "127.0.0.1:1", "--user", "bob"); r.code != exitUsage || !strings.Contains(r.stderr, "password") {
		t.Errorf("--user without password: %d %s", r.code, r.stderr)
	}
	// Unreachable entry node: exit 1 with a message naming the node.
	if r := cli(t, "", "check", "127.0.0.1:1"); r.code != exitProblem || !strings.Contains(r.stdout+r.stderr, "127.0.0.1:1") {
		t.Errorf("unreachable node: %d %s %s", r.code, r.stdout, r.stderr)
	}
}

func TestParseArgs(t *testing.T) {
	def := findCommand("rebalance")
	p, err := parseArgs(def, []string{"127.0.0.1:7000", "--cluster-weight", "a=1", "b=2", "--cluster-use-empty-masters", "--cluster-threshold=5", "-a", "pw", "--cluster-yes"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.pos) != 1 || p.str("threshold") != "5" || !p.bools["use-empty-masters"] || !p.bools["yes"] || p.str("pass") != "pw" {
		t.Fatalf("parsed %+v", p)
	}
	if w := p.vals["weight"]; len(w) != 2 || w[0] != "a=1" || w[1] != "b=2" {
		t.Fatalf("weights %v", w)
	}
	// add-node accepts redis-cli's --cluster-slave.
	p, err = parseArgs(findCommand("add-node"), []string{"a:1", "b:2", "--cluster-slave", "--cluster-master-id", "x"})
	if err != nil || !p.bools["replica"] || p.str("master-id") != "x" {
		t.Fatalf("add-node: %+v %v", p, err)
	}
	// call passes unknown dashed words to the command; "--" ends options.
	p, err = parseArgs(findCommand("call"), []string{"a:1", "SET", "k", "-1", "--only-masters", "--", "--json"})
	if err != nil || strings.Join(p.pos, " ") != "a:1 SET k -1 --json" || !p.bools["only-masters"] || p.bools["json"] {
		t.Fatalf("call: %+v %v", p, err)
	}
}
