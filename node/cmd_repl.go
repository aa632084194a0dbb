package node

import (
	"strconv"
	"strings"
	"time"
)

// Replication commands: REPLICAOF/SLAVEOF, PSYNC/SYNC, REPLCONF, WAIT, ROLE.

func init() {
	register(
		&Command{Name: "replicaof", Arity: 3, Flags: FlagAdmin | FlagNoScript | FlagStale, Group: "server", Since: "5.0.0", Summary: "Configures a server as replica of another, or promotes it to a master.", Proc: cmdReplicaOf},
		&Command{Name: "slaveof", Arity: 3, Flags: FlagAdmin | FlagNoScript | FlagStale, Group: "server", Since: "1.0.0", Summary: "Sets a Redis server as a replica of another, or promotes it to being a master.", Proc: cmdReplicaOf},
		&Command{Name: "psync", Arity: -3, Flags: FlagAdmin | FlagNoScript | FlagNoMulti, Group: "server", Since: "2.8.0", Summary: "An internal command used in replication.", Proc: cmdPsync},
		&Command{Name: "sync", Arity: 1, Flags: FlagAdmin | FlagNoScript | FlagNoMulti, Group: "server", Since: "1.0.0", Summary: "An internal command used in replication.", Proc: cmdPsync},
		&Command{Name: "replconf", Arity: -1, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale | FlagAllowBusy, Group: "server", Since: "3.0.0", Summary: "An internal command for configuring the replication stream.", Proc: cmdReplconf},
		&Command{Name: "wait", Arity: 3, Flags: FlagNoScript, Group: "generic", ACL: []string{"@connection"}, Since: "3.0.0", Summary: "Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed.", Proc: cmdWait},
		&Command{Name: "role", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast, Group: "server", ACL: []string{"@admin", "@dangerous"}, Since: "2.8.12", Summary: "Returns the replication role.", Proc: cmdRole},
	)
}

func cmdReplicaOf(c *Client) {
	s := c.srv
	if s.Config().ClusterEnabled {
		c.W.Error("ERR REPLICAOF not allowed in cluster mode.")
		return
	}
	host, port := string(c.Argv[1]), string(c.Argv[2])
	if strings.EqualFold(host, "no") && strings.EqualFold(port, "one") {
		s.ReplicaOf("", 0)
		c.W.OK()
		return
	}
	p, ok := ParseInt(c.Argv[2])
	if !ok || p < 0 || p > 65535 {
		c.W.Error("ERR Invalid master port")
		return
	}
	s.replMu.Lock()
	l := s.repl.link
	s.replMu.Unlock()
	if l != nil && l.host == host && l.port == int(p) {
		c.W.Simple("OK Already connected to specified master")
		return
	}
	s.ReplicaOf(host, int(p))
	c.W.OK()
}

func cmdPsync(c *Client) {
	if c.replica != nil {
		return // already a replica connection
	}
	if c.InMulti {
		c.W.Error("ERR Command not allowed inside a transaction")
		return
	}
	replid, off := "?", int64(-1)
	if len(c.Argv) >= 3 {
		replid = string(c.Argv[1])
		n, ok := ParseInt(c.Argv[2])
		if !ok {
			c.W.Error(ErrNotInt)
			return
		}
		off = n
	}
	c.srv.psync(c, replid, off)
}

func cmdReplconf(c *Client) {
	s := c.srv
	if len(c.Argv)%2 == 0 {
		c.W.Error(ErrSyntax)
		return
	}
	for i := 1; i+1 < len(c.Argv); i += 2 {
		opt := strings.ToLower(string(c.Argv[i]))
		val := c.Argv[i+1]
		switch opt {
		case "listening-port":
			p, ok := ParseInt(val)
			if !ok {
				c.W.Error(ErrNotInt)
				return
			}
			c.replPort = int(p)
		case "ip-address", "capa", "rdb-only", "rdb-filter-only":
		case "ack", "fack":
			off, ok := ParseInt(val)
			if !ok || c.replica == nil {
				return // Redis never replies to ACK
			}
			if off > c.replica.ackOff.Load() {
				c.replica.ackOff.Store(off)
			}
			c.replica.ackTime.Store(nowMs())
			s.notifyAck()
			return
		case "getack":
			if c.isMaster && c.ackFn != nil {
				c.ackFn()
			}
			return
		default:
			c.W.Error("ERR Unrecognized REPLCONF option: " + string(c.Argv[i]))
			return
		}
	}
	c.W.OK()
}

// notifyAck wakes WAIT callers.
func (s *Server) notifyAck() {
	s.repl.mu.Lock()
	if s.repl.ackCh != nil {
		close(s.repl.ackCh)
		s.repl.ackCh = nil
	}
	s.repl.mu.Unlock()
}

func (s *Server) ackChan() chan struct{} {
	s.repl.mu.Lock()
	defer s.repl.mu.Unlock()
	if s.repl.ackCh == nil {
		s.repl.ackCh = make(chan struct{})
	}
	return s.repl.ackCh
}

func cmdWait(c *Client) {
	s := c.srv
	if replicaMode.Load() {
		c.W.Error("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
		return
	}
	n, ok := ParseInt(c.Argv[1])
	if !ok {
		c.W.Error(ErrNotInt)
		return
	}
	ms, ok := ParseInt(c.Argv[2])
	if !ok {
		c.W.Error("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		c.W.Error("ERR timeout is negative")
		return
	}
	target := c.woff
	if got := s.countAcked(target); got >= int(n) || c.InMulti {
		c.W.Int(int64(got))
		return
	}
	s.requestAcks()
	c.flush()
	var deadline <-chan time.Time
	if ms > 0 {
		t := time.NewTimer(time.Duration(ms) * time.Millisecond)
		defer t.Stop()
		deadline = t.C
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ch := s.ackChan()
		if got := s.countAcked(target); got >= int(n) {
			c.W.Int(int64(got))
			return
		}
		select {
		case <-ch:
		case <-tick.C:
			if c.Closed() || s.Stopping() {
				c.W.Int(int64(s.countAcked(target)))
				return
			}
		case <-deadline:
			c.W.Int(int64(s.countAcked(target)))
			return
		}
	}
}

func cmdRole(c *Client) {
	s := c.srv
	s.replMu.Lock()
	l := s.repl.link
	s.replMu.Unlock()
	if l != nil {
		st, _ := l.state.Load().(string)
		if l.syncing.Load() {
			st = "sync"
		}
		c.W.Array(5)
		c.W.BulkString("slave")
		c.W.BulkString(l.host)
		c.W.Int(int64(l.port))
		c.W.BulkString(st)
		c.W.Int(s.ReplOffset())
		return
	}
	reps := s.replicaList()
	c.W.Array(3)
	c.W.BulkString("master")
	c.W.Int(s.ReplOffset())
	c.W.Array(len(reps))
	for _, r := range reps {
		c.W.Array(3)
		c.W.BulkString(r.ip)
		c.W.BulkString(strconv.Itoa(r.port))
		c.W.BulkString(strconv.FormatInt(r.offset, 10))
	}
}

// ReplicationInfo renders the INFO replication section.
func (s *Server) ReplicationInfo() string {
	var b strings.Builder
	s.replMu.Lock()
	l := s.repl.link
	s.replMu.Unlock()
	reps := s.replicaList()
	s.repl.mu.Lock()
	replid, replid2, off, second := s.repl.replid, s.repl.replid2, s.repl.offset, s.repl.secondOff
	blActive, blSize, blFirst, blHist := 0, int64(len(s.repl.backlog)), s.repl.histStart, s.repl.histLen
	if s.repl.backlog != nil {
		blActive = 1
	}
	s.repl.mu.Unlock()
	if blSize == 0 {
		blSize = s.Config().ReplBacklogSize
	}
	if l != nil {
		st, _ := l.state.Load().(string)
		link := "down"
		if st == "connected" {
			link = "up"
		}
		b.WriteString("role:slave\r\n")
		b.WriteString("master_host:" + l.host + "\r\n")
		b.WriteString("master_port:" + strconv.Itoa(l.port) + "\r\n")
		b.WriteString("master_link_status:" + link + "\r\n")
		io := int64(-1)
		if t := l.lastIO.Load(); t > 0 {
			io = (nowMs() - t) / 1000
		}
		b.WriteString("master_last_io_seconds_ago:" + strconv.FormatInt(io, 10) + "\r\n")
		b.WriteString("master_sync_in_progress:" + boolInt(l.syncing.Load()) + "\r\n")
		b.WriteString("slave_read_repl_offset:" + strconv.FormatInt(off, 10) + "\r\n")
		b.WriteString("slave_repl_offset:" + strconv.FormatInt(off, 10) + "\r\n")
		if link == "down" {
			b.WriteString("master_link_down_since_seconds:" + strconv.FormatInt((nowMs()-l.downSince.Load())/1000, 10) + "\r\n")
		}
		b.WriteString("slave_priority:100\r\n")
		b.WriteString("slave_read_only:" + boolInt(s.Config().ReplicaReadOnly) + "\r\n")
		b.WriteString("replica_announced:1\r\n")
	} else {
		b.WriteString("role:master\r\n")
	}
	b.WriteString("connected_slaves:" + strconv.Itoa(len(reps)) + "\r\n")
	for i, r := range reps {
		b.WriteString("slave" + strconv.Itoa(i) + ":ip=" + r.ip + ",port=" + strconv.Itoa(r.port) + ",state=" + r.state +
			",offset=" + strconv.FormatInt(r.offset, 10) + ",lag=" + strconv.FormatInt(r.lagSec, 10) + "\r\n")
	}
	if min := s.Config().MinReplicasToWrite; min > 0 {
		b.WriteString("min_slaves_good_slaves:" + strconv.Itoa(s.goodReplicas(s.Config().MinReplicasMaxLag)) + "\r\n")
	}
	b.WriteString("master_failover_state:no-failover\r\n")
	b.WriteString("master_replid:" + replid + "\r\n")
	b.WriteString("master_replid2:" + replid2 + "\r\n")
	b.WriteString("master_repl_offset:" + strconv.FormatInt(off, 10) + "\r\n")
	b.WriteString("second_repl_offset:" + strconv.FormatInt(second, 10) + "\r\n")
	b.WriteString("repl_backlog_active:" + strconv.Itoa(blActive) + "\r\n")
	b.WriteString("repl_backlog_size:" + strconv.FormatInt(blSize, 10) + "\r\n")
	b.WriteString("repl_backlog_first_byte_offset:" + strconv.FormatInt(blFirst, 10) + "\r\n")
	b.WriteString("repl_backlog_histlen:" + strconv.FormatInt(blHist, 10) + "\r\n")
	return b.String()
}

func boolInt(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
