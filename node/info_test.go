package node

import (
	"regexp"
	"strings"
	"testing"
)

// svEnv runs commands in-process against a fresh server; the client is
// registered in the server's client table (CLIENT LIST sees it).
type svEnv struct {
	t *testing.T
	s *Server
	c *Client
}

func newSvEnv(t *testing.T, edit func(*Config)) *svEnv {
	t.Helper()
	s, c := newTestServer(t, false)
	if edit != nil {
		s.UpdateConfig(func(cfg *Config) error { edit(cfg); return nil })
		c.Authed = s.Config().RequirePass == ""
	}
	e := &svEnv{t: t, s: s, c: c}
	e.register(c)
	return e
}

func (e *svEnv) register(c *Client) {
	e.s.clientsMu.Lock()
	e.s.clients[c.ID] = c
	e.s.clientsMu.Unlock()
}

// newClient adds another in-process client of the same server.
func (e *svEnv) newClient() *Client {
	_, c := newTestServer(e.t, false)
	c.srv = e.s
	c.ID = e.s.nextID.Add(1)
	c.Authed = e.s.Config().RequirePass == ""
	e.register(c)
	return c
}

func (e *svEnv) doOn(c *Client, args ...string) string {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	c.W.B = c.W.B[:0]
	e.s.Process(c, argv)
	return string(c.W.B)
}

func (e *svEnv) do(args ...string) string { return e.doOn(e.c, args...) }

func (e *svEnv) expect(want string, args ...string) {
	e.t.Helper()
	if got := e.do(args...); got != want {
		e.t.Errorf("%q:\n got  %q\n want %q", args, got, want)
	}
}

// bulkBody returns the payload of a bulk or verbatim reply.
func bulkBody(t *testing.T, r string) string {
	t.Helper()
	i := strings.Index(r, "\r\n")
	if i < 0 || (r[0] != '$' && r[0] != '=') {
		t.Fatalf("not a bulk reply: %q", r)
	}
	body := strings.TrimSuffix(r[i+2:], "\r\n")
	if r[0] == '=' {
		body = strings.TrimPrefix(body, "txt:")
	}
	return body
}

func sectionsOf(info string) []string {
	var out []string
	for _, l := range strings.Split(info, "\r\n") {
		if strings.HasPrefix(l, "# ") {
			out = append(out, l[2:])
		}
	}
	return out
}

func TestInfoSections(t *testing.T) {
	e := newSvEnv(t, nil)
	def := "Server Clients Memory Persistence Stats Replication CPU Modules Errorstats Cluster Keyspace"
	cases := []struct {
		args []string
		want string
	}{
		{nil, def},
		{[]string{"default"}, def},
		{[]string{"DEFAULT"}, def},
		{[]string{"all"}, "Server Clients Memory Persistence Stats Replication CPU Modules Commandstats Errorstats Latencystats Cluster Keyspace"},
		{[]string{"everything"}, "Server Clients Memory Persistence Stats Replication CPU Modules Commandstats Errorstats Latencystats Cluster Keyspace"},
		{[]string{"keyspace", "server"}, "Server Keyspace"},
		{[]string{"CPU", "cluster"}, "CPU Cluster"},
		{[]string{"nosuch"}, ""},
		{[]string{"commandstats"}, "Commandstats"},
	}
	for _, tc := range cases {
		args := append([]string{"INFO"}, tc.args...)
		body := bulkBody(t, e.do(args...))
		if got := strings.Join(sectionsOf(body), " "); got != tc.want {
			t.Errorf("INFO %v sections = %q, want %q", tc.args, got, tc.want)
		}
	}
	// exact layout: sections joined by an empty line, fields end with CRLF
	e.expect("$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n", "INFO", "cluster")
	e.expect("$12\r\n# Keyspace\r\n\r\n", "INFO", "keyspace")
	e.expect("$0\r\n\r\n", "INFO", "nosuch")
	e.do("SET", "a", "1")
	e.do("SET", "b", "1")
	e.expect("$44\r\n# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\n\r\n", "INFO", "keyspace")
	e.do("HELLO", "3")
	if r := e.do("INFO", "cluster"); !strings.HasPrefix(r, "=34\r\ntxt:# Cluster") {
		t.Errorf("RESP3 INFO should be a verbatim string: %q", r)
	}
}

func TestInfoFields(t *testing.T) {
	e := newSvEnv(t, nil)
	body := bulkBody(t, e.do("INFO", "everything"))
	for _, f := range []string{"redis_version:" + Version, "slotkv_version:" + SlotkvVersion, "redis_mode:standalone", "arch_bits:",
		"process_id:", "run_id:", "tcp_port:6379", "uptime_in_seconds:", "connected_clients:1", "used_memory:",
		"used_memory_human:", "used_memory_rss:", "maxmemory:0", "maxmemory_policy:noeviction", "mem_fragmentation_ratio:",
		"loading:0", "rdb_last_save_time:", "aof_enabled:0", "total_connections_received:", "total_commands_processed:",
		"instantaneous_ops_per_sec:", "expired_keys:", "keyspace_hits:", "keyspace_misses:", "role:master",
		"connected_slaves:0", "master_replid:", "master_repl_offset:", "used_cpu_sys:", "used_cpu_user:",
		"cluster_enabled:0", "cmdstat_info:calls="} {
		if !strings.Contains(body, "\r\n"+f) {
			t.Errorf("INFO everything lacks %q", f)
		}
	}
	if !regexp.MustCompile(`\r\nrun_id:[0-9a-f]{40}\r\n`).MatchString(body) {
		t.Errorf("run_id is not 40 hex chars")
	}
	// error statistics
	e.do("NOSUCHCOMMAND")
	e.do("HELLO", "9")
	es := bulkBody(t, e.do("INFO", "errorstats"))
	if !strings.Contains(es, "errorstat_ERR:count=") || !strings.Contains(es, "errorstat_NOPROTO:count=") {
		t.Errorf("errorstats: %q", es)
	}
	// RESETSTAT clears command and error statistics
	e.expect("+OK\r\n", "CONFIG", "RESETSTAT")
	if es := bulkBody(t, e.do("INFO", "errorstats")); es != "# Errorstats\r\n" {
		t.Errorf("errorstats after RESETSTAT: %q", es)
	}
	if cs := bulkBody(t, e.do("INFO", "commandstats")); strings.Contains(cs, "cmdstat_hello") {
		t.Errorf("commandstats after RESETSTAT: %q", cs)
	}
}

func TestInfoRegistration(t *testing.T) {
	e := newSvEnv(t, nil)
	SetInfoField("stats", "test_field_x", func(*Server) string { return "42" })
	SetInfoField("stats", "test_field_x", func(*Server) string { return "43" }) // replaces
	RegisterInfoSection("testsection", func(s *Server, b *strings.Builder) { InfoLine(b, "k", "v") })
	t.Cleanup(func() {
		infoMu.Lock()
		defer infoMu.Unlock()
		st := infoSectionLocked("stats")
		for i, f := range st.fields {
			if f.name == "test_field_x" {
				st.fields = append(st.fields[:i], st.fields[i+1:]...)
				break
			}
		}
		for i, sec := range infoSections {
			if sec.name == "testsection" {
				infoSections = append(infoSections[:i], infoSections[i+1:]...)
				break
			}
		}
	})
	st := bulkBody(t, e.do("INFO", "stats"))
	if strings.Count(st, "test_field_x:") != 1 || !strings.Contains(st, "\r\ntest_field_x:43\r\n") {
		t.Errorf("SetInfoField: %q", st)
	}
	if got := bulkBody(t, e.do("INFO", "testsection")); got != "# Testsection\r\nk:v\r\n" {
		t.Errorf("RegisterInfoSection: %q", got)
	}
	if !strings.HasSuffix(bulkBody(t, e.do("INFO")), "# Testsection\r\nk:v\r\n") {
		t.Errorf("a registered section should be in the default INFO, after keyspace")
	}
}

func TestBytesToHuman(t *testing.T) {
	for n, want := range map[uint64]string{0: "0B", 1023: "1023B", 1024: "1.00K", 1015208: "991.41K", 7364608: "7.02M", 25275953152: "23.54G"} {
		if got := bytesToHuman(n); got != want {
			t.Errorf("bytesToHuman(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestErrorPrefix(t *testing.T) {
	resetErrorStats()
	countError("WRONGTYPE Operation against a key")
	countError("ERR syntax error")
	countError("NOSPACEINTHISERRORMESSAGEATALL")
	countError("MOVED 3999 127.0.0.1:6381")
	got := map[string]int64{}
	errStatsMu.Lock()
	for k, v := range errStats {
		got[k] = v.Load()
	}
	errStatsMu.Unlock()
	if got["WRONGTYPE"] != 1 || got["ERR"] != 2 || got["MOVED"] != 1 || len(got) != 3 {
		t.Errorf("error prefixes: %v", got)
	}
	if errTotal.Load() != 4 {
		t.Errorf("total = %d", errTotal.Load())
	}
}
