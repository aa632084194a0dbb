package integration

// Connection family: PING, ECHO, QUIT, HELLO, AUTH, SELECT, RESET and
// CLIENT. Differential tests against redis-server 7 (RESP2 and RESP3),
// go-redis (RESP3 default and RESP2) and redis-cli.

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func connSteps() []Step {
	return []Step{
		S("PING"), S("PING", "hi"), S("PING", "a", "b"), S("ECHO", "x"), S("ECHO"), S("ECHO", "a", "b"),
		S("HELLO", "4"), S("HELLO", "1"), S("HELLO", "x"), S("HELLO", "3", "FOO"), S("HELLO", "3", "SETNAME"),
		S("HELLO", "3", "AUTH", "default"), S("HELLO", "2", "AUTH", "someone", "pw"), S("HELLO", "3", "SETNAME", "a b"),
		S("AUTH", "x"), S("AUTH", "default", "x"), S("AUTH", "someone", "x"), S("AUTH", "a", "b", "c"), S("AUTH"),
		S("SELECT", "0"), S("SELECT", "x"), S("SELECT", "-1"), S("SELECT", "99999999999"), S("SELECT"), S("SELECT", "0", "1"),
		S("CLIENT", "GETNAME"), S("CLIENT", "SETNAME", "foo"), S("CLIENT", "GETNAME"), S("CLIENT", "SETNAME", "a b"),
		S("CLIENT", "SETNAME", "a\nb"), S("CLIENT", "SETNAME", ""), S("CLIENT", "GETNAME"), S("CLIENT", "SETNAME"),
		S("CLIENT", "SETNAME", "a", "b"), S("CLIENT", "NO-EVICT", "on"), S("CLIENT", "NO-EVICT", "OFF"), S("CLIENT", "NO-EVICT", "x"),
		S("CLIENT", "REPLY", "x"), S("CLIENT", "REPLY", "ON"), S("CLIENT", "REPLY", "ON", "x"), S("CLIENT", "KILL", "1.2.3.4:5"), S("CLIENT", "KILL", "ID", "999999"),
		S("CLIENT", "KILL", "ID", "x"), S("CLIENT", "KILL", "ID", "0"), S("CLIENT", "KILL", "FOO", "bar"), S("CLIENT", "KILL", "TYPE", "foo"),
		S("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "maybe"), S("CLIENT", "KILL", "ADDR"), S("CLIENT", "KILL", "USER", "nobody"),
		S("CLIENT", "KILL", "ID", "1", "ADDR"), S("CLIENT", "KILL", "SKIPME", "no", "ID", "999999"), S("CLIENT", "KILL", "laddr", "1.1.1.1:1"),
		S("CLIENT", "KILL", "TYPE", "master"), S("CLIENT", "KILL", "TYPE", "pubsub"), S("CLIENT", "KILL", "USER", "default", "ADDR", "1.1.1.1:1"),
		S("CLIENT", "LIST", "TYPE", "foo"), S("CLIENT", "LIST", "ID", "x"), S("CLIENT", "LIST", "ID", "999999"), S("CLIENT", "LIST", "foo"),
		S("CLIENT", "LIST", "TYPE", "master"), S("CLIENT", "LIST", "TYPE", "pubsub"), S("CLIENT", "LIST", "TYPE", "replica"),
		S("CLIENT", "PAUSE", "x"), S("CLIENT", "PAUSE", "-1"), S("CLIENT", "PAUSE", "10", "FOO"), S("CLIENT", "PAUSE", "10", "ALL", "x"),
		S("CLIENT", "PAUSE"), S("CLIENT", "UNPAUSE"), S("CLIENT", "UNPAUSE", "x"), S("CLIENT", "FOO"), S("CLIENT"), S("CLIENT", "INFO", "x"),
		S("CLIENT", "ID", "x"), S("CLIENT", "GETREDIR"), S("CLIENT", "TRACKING", "off"), S("CLIENT", "TRACKINGINFO"), S("CLIENT", "CACHING", "yes"),
		S("MULTI"), S("PING"), S("CLIENT", "SETNAME", "inmulti"), S("RESET"), S("EXEC"), S("CLIENT", "GETNAME"),
		S("WATCH", "k"), S("RESET"), S("MULTI"), S("EXEC"),
		S("SUBSCRIBE", "ch"), S("GET", "k"), S("RESET"), S("GET", "k"), S("PING"),
		S("RESET", "x"), S("QUIT", "x"),
	}
}

func TestConnDifferential(t *testing.T) {
	s, r := DiffPair(t)
	bothProtos(t, s, r, connSteps())
}

func TestConnRequirepassDifferential(t *testing.T) {
	args := []string{"--requirepass", "s3cret"}
	s, r := StartNode(t, Options{Args: args}), StartRedis(t, Options{Args: args})
	steps := []Step{
		S("GET", "x"), S("PING"), S("HELLO", "3"), S("HELLO"), S("CLIENT", "ID"), S("AUTH", "bad"), S("AUTH", "default", "bad"),
		S("AUTH", "someone", "s3cret"), S("HELLO", "3", "AUTH", "default", "bad"), S("HELLO", "2", "AUTH", "default"),
		S("AUTH", "s3cret"), S("GET", "x"), S("RESET"), S("GET", "x"), S("AUTH", "default", "s3cret"), S("GET", "x"), S("QUIT"),
	}
	Differential(t, s, r, 2, steps)
}

var helloRE = regexp.MustCompile(`^%7\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n\$7\r\nversion\r\n\$6\r\n7\.0\.15\r\n\$5\r\nproto\r\n:3\r\n\$2\r\nid\r\n:\d+\r\n\$4\r\nmode\r\n\$10\r\nstandalone\r\n\$4\r\nrole\r\n\$6\r\nmaster\r\n\$7\r\nmodules\r\n\*0\r\n$`)

func TestHelloRaw(t *testing.T) {
	s := StartNode(t, Options{Args: []string{"--requirepass", "pw"}})
	c := DialRaw(t, s.Addr())
	r, _ := c.Do("HELLO", "3", "AUTH", "default", "pw", "SETNAME", "raw")
	if !helloRE.MatchString(r) {
		t.Fatalf("HELLO 3 AUTH SETNAME: %q", r)
	}
	if r, _ := c.Do("CLIENT", "GETNAME"); r != "$3\r\nraw\r\n" {
		t.Errorf("CLIENT GETNAME after HELLO SETNAME: %q", r)
	}
	if r, _ := c.Do("GET", "nokey"); r != "_\r\n" {
		t.Errorf("RESP3 null: %q", r)
	}
	r, _ = c.Do("HELLO", "2")
	if !strings.HasPrefix(r, "*14\r\n$6\r\nserver\r\n") || !strings.Contains(r, "$5\r\nproto\r\n:2\r\n") {
		t.Errorf("HELLO 2: %q", r)
	}
	if r, _ := c.Do("GET", "nokey"); r != "$-1\r\n" {
		t.Errorf("RESP2 null after HELLO 2: %q", r)
	}
	if r, _ := c.Do("QUIT"); r != "+OK\r\n" {
		t.Errorf("QUIT: %q", r)
	}
	if _, err := c.ReadReply(); err == nil {
		t.Errorf("connection still open after QUIT")
	}
}

var clientLine = regexp.MustCompile(`^id=\d+ addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:\d+ fd=\d+ name=\S* age=\d+ idle=\d+ flags=[A-Za-z]+ db=0 sub=\d+ psub=\d+ ssub=\d+ multi=-?\d+ qbuf=\d+ qbuf-free=\d+ argv-mem=\d+ multi-mem=\d+ rbs=\d+ rbp=\d+ obl=\d+ oll=\d+ omem=\d+ tot-mem=\d+ events=r cmd=\S+ user=default redir=-1 resp=[23] lib-name=\S* lib-ver=\S*$`)

func TestConnGoRedis(t *testing.T) {
	s := StartNode(t, Options{})
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			ctx := Ctx(t, 20*time.Second)
			c := redis.NewClient(&redis.Options{Addr: s.Addr(), Protocol: proto, ClientName: "tester-" + strconv.Itoa(proto)})
			defer c.Close()
			if v, err := c.Ping(ctx).Result(); err != nil || v != "PONG" {
				t.Fatalf("PING: %q %v", v, err)
			}
			if v, err := c.Echo(ctx, "héllo").Result(); err != nil || v != "héllo" {
				t.Errorf("ECHO: %q %v", v, err)
			}
			id, err := c.ClientID(ctx).Result()
			if err != nil || id <= 0 {
				t.Fatalf("CLIENT ID: %d %v", id, err)
			}
			if name, err := c.ClientGetName(ctx).Result(); err != nil || name != "tester-"+strconv.Itoa(proto) {
				t.Errorf("CLIENT GETNAME: %q %v", name, err)
			}
			// go-redis sends HELLO and CLIENT SETINFO on connect
			info, err := c.ClientInfo(ctx).Result()
			if err != nil {
				t.Fatalf("CLIENT INFO: %v", err)
			}
			if info.ID != id || info.Name != "tester-"+strconv.Itoa(proto) || info.Resp != proto || info.DB != 0 || info.User != "default" {
				t.Errorf("CLIENT INFO parsed: %+v", info)
			}
			if !strings.HasPrefix(info.LibName, "go-redis") || info.LibVer == "" {
				t.Errorf("CLIENT SETINFO from go-redis not recorded: lib-name=%q lib-ver=%q", info.LibName, info.LibVer)
			}
			raw, err := c.Do(ctx, "CLIENT", "INFO").Text()
			if err != nil || !clientLine.MatchString(strings.TrimSuffix(raw, "\n")) {
				t.Errorf("CLIENT INFO line: %q %v", raw, err)
			}
			list, err := c.ClientList(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, l := range strings.Split(strings.TrimSuffix(list, "\n"), "\n") {
				if !clientLine.MatchString(l) {
					t.Errorf("CLIENT LIST line: %q", l)
				}
				if strings.HasPrefix(l, "id="+strconv.FormatInt(id, 10)+" ") {
					found = true
				}
			}
			if !found {
				t.Errorf("CLIENT LIST lacks our id %d:\n%s", id, list)
			}
			if err := c.Do(ctx, "SELECT", "0").Err(); err != nil {
				t.Errorf("SELECT 0: %v", err)
			}
			if err := c.Do(ctx, "SELECT", "1").Err(); err == nil || err.Error() != "ERR DB index is out of range" {
				t.Errorf("SELECT 1: %v", err)
			}
			if err := c.Do(ctx, "HELLO", "4").Err(); err == nil || err.Error() != "NOPROTO unsupported protocol version" {
				t.Errorf("HELLO 4: %v", err)
			}
			// kill another connection by id, then by the old ADDR form
			o := s.NewClient(t, proto)
			oid, err := o.ClientID(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			if n, err := c.ClientKillByFilter(ctx, "ID", strconv.FormatInt(oid, 10)).Result(); err != nil || n != 1 {
				t.Errorf("CLIENT KILL ID: %d %v", n, err)
			}
			Eventually(t, 5*time.Second, "killed client gone from CLIENT LIST", func() bool {
				l := c.ClientList(ctx).Val()
				return !strings.Contains(l, "id="+strconv.FormatInt(oid, 10)+" ")
			})
			raw2 := DialRaw(t, s.Addr())
			r, _ := raw2.Do("CLIENT", "INFO")
			addr := regexp.MustCompile(` addr=(\S+) `).FindStringSubmatch(r)
			if addr == nil {
				t.Fatalf("no addr in %q", r)
			}
			if err := c.ClientKill(ctx, addr[1]).Err(); err != nil {
				t.Errorf("CLIENT KILL addr: %v", err)
			}
			if _, err := raw2.ReadReply(); err == nil {
				t.Errorf("connection killed by address is still open")
			}
		})
	}
}

func TestAuthGoRedis(t *testing.T) {
	s := StartNode(t, Options{Args: []string{"--requirepass", "pw"}})
	ctx := Ctx(t, 20*time.Second)
	for _, proto := range []int{3, 2} {
		good := redis.NewClient(&redis.Options{Addr: s.Addr(), Protocol: proto, Password: "pw"})
		if err := good.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Errorf("RESP%d with the right password: %v", proto, err)
		}
		good.Close()
		bad := redis.NewClient(&redis.Options{Addr: s.Addr(), Protocol: proto, Password: "nope", MaxRetries: -1})
		if err := bad.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS invalid username-password pair or user is disabled.") {
			t.Errorf("RESP%d with a wrong password: %v", proto, err)
		}
		bad.Close()
		none := redis.NewClient(&redis.Options{Addr: s.Addr(), Protocol: proto, MaxRetries: -1})
		if err := none.Get(ctx, "k").Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
			t.Errorf("RESP%d without a password: %v", proto, err)
		}
		none.Close()
	}
	// redis-cli -a
	out, err := RedisCLI(t, "-p", strconv.Itoa(s.Port), "--no-auth-warning", "-a", "pw", "GET", "k")
	if err != nil || out != "v\n" {
		t.Errorf("redis-cli -a: %v %q", err, out)
	}
}

func TestConnRedisCLI(t *testing.T) {
	s := StartNode(t, Options{})
	port := strconv.Itoa(s.Port)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"PING"}, "PONG\n"},
		{[]string{"ECHO", "hi"}, "hi\n"},
		{[]string{"--no-raw", "SELECT", "1"}, "(error) ERR DB index is out of range\n"},
		{[]string{"CLIENT", "SETNAME", "x"}, "OK\n"},
		{[]string{"--no-raw", "CLIENT", "GETNAME"}, "(nil)\n"},
		{[]string{"--no-raw", "AUTH", "x"}, "(error) ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\n"},
		{[]string{"RESET"}, "RESET\n"},
	} {
		out, err := RedisCLI(t, append([]string{"-p", port}, tc.args...)...)
		if err != nil || out != tc.want {
			t.Errorf("redis-cli %q: %v %q, want %q", tc.args, err, out, tc.want)
		}
	}
	out, err := RedisCLI(t, "-p", port, "CLIENT", "LIST")
	if err != nil || !clientLine.MatchString(strings.TrimSpace(out)) {
		t.Errorf("redis-cli CLIENT LIST: %v %q", err, out)
	}
}

func TestClientPauseIntegration(t *testing.T) {
	s := StartNode(t, Options{})
	ctx := Ctx(t, 20*time.Second)
	admin, w := s.NewClient(t, 3), s.NewClient(t, 2)
	if err := w.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.ClientPause(ctx, 300*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := w.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 200*time.Millisecond {
		t.Errorf("SET during a 300 ms CLIENT PAUSE returned after %v", el)
	}
	// WRITE pause: reads pass, writes wait until UNPAUSE
	if err := admin.Do(ctx, "CLIENT", "PAUSE", "20000", "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := w.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET during WRITE pause: %q %v", v, err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Set(context.Background(), "k", "v2", 0).Err() }()
	select {
	case err := <-done:
		t.Fatalf("SET finished during a WRITE pause: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := admin.ClientUnpause(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SET still blocked after CLIENT UNPAUSE")
	}
}

// TestClientReplyModes pipelines CLIENT REPLY SKIP/OFF/ON around other
// commands and compares the byte stream with redis-server 7.
func TestClientReplyModes(t *testing.T) {
	s, r := DiffPair(t)
	cmds := [][]string{{"CLIENT", "REPLY", "SKIP"}, {"SET", "k", "v"}, {"GET", "k"}, {"CLIENT", "REPLY", "OFF"},
		{"GET", "k"}, {"CLIENT", "REPLY", "SKIP"}, {"INCR", "n"}, {"CLIENT", "REPLY", "ON"}, {"GET", "n"}, {"PING", "end"}}
	var b strings.Builder
	for _, c := range cmds {
		fmt.Fprintf(&b, "*%d\r\n", len(c))
		for _, a := range c {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	want := "$1\r\nv\r\n+OK\r\n$1\r\n1\r\n$3\r\nend\r\n"
	for _, n := range []*Node{r, s} {
		c := DialRaw(t, n.Addr())
		if err := c.Send(b.String()); err != nil {
			t.Fatal(err)
		}
		var got strings.Builder
		for i := 0; i < 4; i++ {
			rep, err := c.ReadReply()
			if err != nil {
				t.Fatalf("%s: %v after %q", n.Bin, err, got.String())
			}
			got.WriteString(rep)
		}
		if got.String() != want {
			t.Errorf("%s: replies %q, want %q", n.Bin, got.String(), want)
		}
	}
}

var monitorLineRE = regexp.MustCompile(`^\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "set" "a b" "x\\ny"\r\n$`)

func TestMonitor(t *testing.T) {
	s := StartNode(t, Options{})
	m := DialRaw(t, s.Addr())
	if r, _ := m.Do("MONITOR"); r != "+OK\r\n" {
		t.Fatalf("MONITOR: %q", r)
	}
	c := s.NewClient(t, 3)
	ctx := Ctx(t, 10*time.Second)
	c.ConfigGet(ctx, "port") // admin: not shown
	c.Do(ctx, "AUTH", "default", "secret")
	if err := c.Set(ctx, "a b", "x\ny", 0).Err(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for {
		l, err := m.ReadReply()
		if err != nil {
			t.Fatalf("reading the monitor stream: %v (so far %q)", err, lines)
		}
		lines = append(lines, l)
		if strings.Contains(l, `"set"`) {
			break
		}
	}
	if !monitorLineRE.MatchString(lines[len(lines)-1]) {
		t.Errorf("MONITOR line %q", lines[len(lines)-1])
	}
	for _, l := range lines {
		if strings.Contains(l, "secret") || strings.Contains(l, `"config"`) {
			t.Errorf("MONITOR showed %q", l)
		}
	}
	if !strings.Contains(strings.ToLower(strings.Join(lines, "")), `"auth" "(redacted)" "(redacted)"`) {
		t.Errorf("AUTH not shown redacted: %q", lines)
	}
}
