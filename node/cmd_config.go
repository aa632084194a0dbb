package node

// CONFIG GET/SET/RESETSTAT/REWRITE/HELP (Redis 7.0 semantics: GET takes
// several patterns, SET several name/value pairs applied atomically).

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ConfigChangeHooks run after a successful CONFIG SET with the previous
// and the new configuration, so subsystems can react (persistence starting
// the AOF on "appendonly yes", ...). They run on the client's goroutine
// without slot locks; they must not block for long.
var ConfigChangeHooks []func(s *Server, old, cur *Config)

func init() {
	adm := FlagAdmin | FlagNoScript | FlagLoading | FlagStale
	sub := func(arity int, flags Flag, since, summary string, proc func(*Client), tips ...string) *Command {
		acl := []string{"@admin", "@slow", "@dangerous"}
		if flags&FlagAdmin == 0 {
			acl = []string{"@slow"}
		}
		return &Command{Arity: arity, Flags: flags, Group: "server", Since: since, Summary: summary, ACL: acl, Tips: tips, Proc: proc}
	}
	get := sub(-3, adm, "2.0.0", "Returns the effective values of configuration parameters.", cmdConfigGet)
	get.Complexity = "O(N) when N is the number of configuration parameters provided"
	set := sub(-4, adm, "2.0.0", "Sets configuration parameters in-flight.", cmdConfigSet, "request_policy:all_nodes", "response_policy:all_succeeded")
	set.Complexity = "O(N) when N is the number of configuration parameters provided"
	reset := sub(2, adm, "2.0.0", "Resets the server's statistics.", cmdConfigResetstat)
	reset.Complexity = "O(1)"
	rewrite := sub(2, adm, "2.8.0", "Persists the effective configuration to file.", cmdConfigRewrite)
	rewrite.Complexity = "O(1)"
	help := sub(2, FlagLoading|FlagStale, "5.0.0", "Returns helpful text about the different subcommands.", func(c *Client) {
		replyHelp(c, "CONFIG", []string{
			"GET <pattern>",
			"    Return parameters matching the glob-like <pattern> and their values.",
			"SET <directive> <value>",
			"    Set the configuration <directive> to <value>.",
			"RESETSTAT",
			"    Reset statistics reported by the INFO command.",
			"REWRITE",
			"    Rewrite the configuration file.",
		})
	})
	help.Complexity = "O(1)"
	register(&Command{Name: "config", Arity: -2, Group: "server", Since: "2.0.0",
		Summary: "A container for server configuration commands.", Complexity: "Depends on subcommand.", ACL: []string{"@slow"},
		Sub: map[string]*Command{"get": get, "set": set, "resetstat": reset, "rewrite": rewrite, "help": help}})
}

func hasGlob(s string) bool { return strings.ContainsAny(s, "[*?") }

func cmdConfigGet(c *Client) {
	cfg := c.Server().Config()
	var out [][2]string
	seen := map[string]bool{}
	for _, a := range c.Argv[2:] {
		pat := string(a)
		if !hasGlob(pat) {
			key := strings.ToLower(pat)
			if seen[key] {
				continue
			}
			if v, ok := cfg.Get(pat); ok {
				seen[key] = true
				out = append(out, [2]string{pat, v})
			}
			continue
		}
		for _, kv := range cfg.ConfigGet(pat) {
			if !seen[kv[0]] {
				seen[kv[0]] = true
				out = append(out, kv)
			}
		}
	}
	c.W.Map(len(out))
	for _, kv := range out {
		c.W.BulkString(kv[0])
		c.W.BulkString(kv[1])
	}
}

func configSetErr(name, reason string) string {
	return "ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + reason
}

func cmdConfigSet(c *Client) {
	args := c.Argv[2:]
	if len(args)%2 != 0 {
		c.W.Error("ERR wrong number of arguments for 'config|set' command")
		return
	}
	// Check every name first (unknown, immutable, duplicate), like Redis.
	seen := map[string]bool{}
	for i := 0; i < len(args); i += 2 {
		name := string(args[i])
		if _, _, known := canonicalOption(name); !known {
			c.W.Error("ERR Unknown option or number of arguments for CONFIG SET - '" + name + "'")
			return
		}
		if !Mutable(name) {
			c.W.Error(configSetErr(name, "can't set immutable config"))
			return
		}
		key := strings.ToLower(name)
		if seen[key] {
			c.W.Error(configSetErr(name, "duplicate parameter"))
			return
		}
		seen[key] = true
	}
	s := c.Server()
	old := s.Config()
	var failErr string
	err := s.UpdateConfig(func(cfg *Config) error {
		if cfg.Ignored != nil {
			ign := make(map[string]string, len(cfg.Ignored))
			for k, v := range cfg.Ignored {
				ign[k] = v
			}
			cfg.Ignored = ign
		}
		for i := 0; i < len(args); i += 2 {
			name, val := string(args[i]), string(args[i+1])
			if err := cfg.Set(name, []string{val}); err != nil {
				failErr = configSetErr(name, err.Error())
				return err
			}
		}
		if err := cfg.Validate(); err != nil {
			failErr = configSetErr(string(args[0]), err.Error())
			return err
		}
		return nil
	})
	if err != nil {
		c.W.Error(failErr)
		return
	}
	cur := s.Config()
	applyConfigChange(s, old, cur)
	for i := 0; i < len(args); i += 2 {
		if canon, o, _ := canonicalOption(string(args[i])); o == nil && !actedOn[canon] {
			s.Log.Warn("CONFIG SET of an option slotkv accepts but does not implement", "option", string(args[i]))
		}
	}
	c.W.OK()
}

// applyConfigChange makes changed options take effect.
func applyConfigChange(s *Server, old, cur *Config) {
	if old.LogLevel != cur.LogLevel && LogLevelVar != nil {
		LogLevelVar.Set(LogLevel(cur.LogLevel))
	}
	for _, h := range ConfigChangeHooks {
		h(s, old, cur)
	}
}

func cmdConfigResetstat(c *Client) {
	s := c.Server()
	s.ResetStats()
	c.W.OK()
}

// ResetStats implements CONFIG RESETSTAT: INFO counters, command and error
// statistics start again from zero.
func (s *Server) ResetStats() {
	x := extraOf(s)
	x.cmdsBase.Store(0)
	x.cmdsBase.Store(s.TotalCommands())
	for _, ctr := range []interface{ Store(int64) }{&s.statConns, &s.statRejected, &s.statExpired, &s.statKeyHits,
		&s.statKeyMisses, &s.statFullSync, &s.statPartialOK, &s.statPartialErr} {
		ctr.Store(0)
	}
	for _, cmd := range commands {
		cmd.calls.Store(0)
		for _, sc := range cmd.Sub {
			sc.calls.Store(0)
		}
	}
	resetErrorStats()
	x.peakMem.Store(0)
}

func cmdConfigRewrite(c *Client) {
	cfg := c.Server().Config()
	if cfg.ConfigFile == "" {
		c.W.Error("ERR The server is running without a config file")
		return
	}
	if err := RewriteConfig(cfg); err != nil {
		c.Server().Log.Warn("CONFIG REWRITE failed", "err", err)
		c.W.Error("ERR Rewriting config file: " + err.Error())
		return
	}
	c.Server().Log.Info("CONFIG REWRITE executed with success.")
	c.W.OK()
}

// rewriteValue formats a value for a config file line.
func rewriteValue(name, v string) string {
	switch name {
	case "save", "bind", "client-output-buffer-limit", "oom-score-adj-values", "latency-tracking-info-percentiles":
		if v == "" {
			return `""`
		}
		return v // several arguments
	}
	if v == "" || strings.ContainsAny(v, " \t\"'\\#") || strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
		return strconv.Quote(v)
	}
	return v
}

// RewriteConfig writes cfg back to cfg.ConfigFile like Redis's CONFIG
// REWRITE: lines of options that differ from the file are replaced in
// place (the first occurrence; later duplicates are dropped), comments and
// unknown lines are kept, and options changed from their defaults that the
// file does not mention are appended after a marker line. The file is
// replaced atomically.
func RewriteConfig(cfg *Config) error {
	const marker = "# Generated by CONFIG REWRITE"
	path := cfg.ConfigFile
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	def := DefaultConfig()
	lines := strings.Split(strings.TrimRight(string(old), "\n"), "\n")
	if len(old) == 0 {
		lines = nil
	}
	done := map[string]bool{}
	var out []string
	for _, line := range lines {
		t := strings.TrimSpace(line)
		if t == marker {
			continue
		}
		if t == "" || t[0] == '#' {
			out = append(out, line)
			continue
		}
		f, err := splitConfigLine(t)
		if err != nil || len(f) == 0 {
			out = append(out, line)
			continue
		}
		name := strings.ToLower(f[0])
		canon, _, known := canonicalOption(name)
		if !known || name == "include" {
			out = append(out, line)
			continue
		}
		if done[canon] {
			continue // drop duplicates (e.g. several "save" lines)
		}
		done[canon] = true
		v, _ := cfg.Get(canon)
		out = append(out, canon+" "+rewriteValue(canon, v))
	}
	var extra []string
	for _, name := range configNames() {
		if _, isAlias := aliases[name]; isAlias {
			continue
		}
		canon, _, _ := canonicalOption(name)
		if done[canon] {
			continue
		}
		v, _ := cfg.Get(canon)
		dv, _ := def.Get(canon)
		if canon == "dir" {
			if abs, err := filepath.Abs(def.Dir); err == nil {
				dv = abs
			}
		}
		if v == dv {
			continue
		}
		done[canon] = true
		extra = append(extra, canon+" "+rewriteValue(canon, v))
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		out = append(out, marker)
		out = append(out, extra...)
	}
	data := strings.Join(out, "\n") + "\n"
	tmp := fmt.Sprintf("%s.tmp-%d", path, os.Getpid())
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
