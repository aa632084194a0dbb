package node

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slotkv/slotkv/node/resp"
	"github.com/slotkv/slotkv/slots"
)

func slotOf(key []byte) int { return slots.Of(key) }

// replicaLink is this node's connection to its master, when it is a replica.
//
// One goroutine (run) owns the connection: it connects from the bind
// address, authenticates with masterauth, sends PSYNC with the last known
// replication id and offset, loads a full sync or continues a partial one,
// then applies the stream through the normal dispatch with a "master"
// client. A ticker sends REPLCONF ACK every second. Everything the link
// applies is fed on to this node's own backlog and replicas (chained
// replication).
type replicaLink struct {
	host string
	port int

	state      atomic.Value // "connect", "connecting", "sync", "connected"
	lastIO     atomic.Int64 // unix ms of the last byte from the master
	syncing    atomic.Bool
	stop       chan struct{}
	stopped    chan struct{}
	mu         sync.Mutex
	conn       net.Conn
	fullSyncs  atomic.Int64
	downSince  atomic.Int64
	linkUpOnce atomic.Bool
}

// ReplicaOf makes this node replicate host:port ("" stops replication and
// promotes the node, keeping its data). Safe from any goroutine.
func (s *Server) ReplicaOf(host string, port int) {
	s.replMu.Lock()
	defer s.replMu.Unlock()
	if l := s.repl.link; l != nil {
		if host == l.host && port == l.port {
			return
		}
		close(l.stop)
		l.mu.Lock()
		if l.conn != nil {
			l.conn.Close()
		}
		l.mu.Unlock()
		<-l.stopped
		s.repl.link = nil
	}
	if host == "" {
		if replicaMode.Load() {
			s.promote()
			s.Log.Info("replication stopped: this node is now a master", "replid", s.repl.replid)
		}
		return
	}
	replicaMode.Store(true)
	s.repl.active.Store(true)
	// Our own replicas must resync from the new history.
	s.disconnectReplicas()
	l := &replicaLink{host: host, port: port, stop: make(chan struct{}), stopped: make(chan struct{})}
	l.state.Store("connect")
	l.downSince.Store(nowMs())
	s.repl.link = l
	s.Log.Info("replicating from master", "master", fmtAddr(host, port))
	go s.runLink(l)
}

func (s *Server) disconnectReplicas() {
	s.repl.mu.Lock()
	var cs []*Client
	for rc := range s.repl.replicas {
		cs = append(cs, rc.c)
	}
	s.repl.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

// MasterLinkUp reports whether the replica's link is connected (and how
// long it has been down otherwise).
func (s *Server) MasterLinkUp() (up bool, downFor time.Duration) {
	s.replMu.Lock()
	l := s.repl.link
	s.replMu.Unlock()
	if l == nil {
		return false, 0
	}
	if st, _ := l.state.Load().(string); st == "connected" {
		return true, 0
	}
	return false, time.Duration(nowMs()-l.downSince.Load()) * time.Millisecond
}

func (s *Server) runLink(l *replicaLink) {
	defer close(l.stopped)
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-l.stop:
			return
		case <-s.done:
			return
		default:
		}
		err := s.syncOnce(l)
		l.state.Store("connect")
		if l.linkUpOnce.Load() {
			l.downSince.Store(nowMs())
			l.linkUpOnce.Store(false)
		}
		select {
		case <-l.stop:
			return
		case <-s.done:
			return
		default:
		}
		if err != nil {
			s.Log.Warn("master link failed; retrying", "master", fmtAddr(l.host, l.port), "err", err, "retry_in", backoff)
		}
		select {
		case <-l.stop:
			return
		case <-s.done:
			return
		case <-time.After(backoff):
		}
		if backoff < time.Second {
			backoff *= 2
		}
	}
}

// syncOnce runs one connection to the master until it fails.
func (s *Server) syncOnce(l *replicaLink) error {
	cfg := s.Config()
	l.state.Store("connecting")
	d := net.Dialer{Timeout: 3 * time.Second}
	if src := cfg.BindSourceAddr; src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	conn, err := d.Dial("tcp", fmtAddr(l.host, l.port))
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.conn = conn
	l.mu.Unlock()
	defer conn.Close()
	// 1 MiB: LoadSnapshot reads the full-sync payload through this very
	// reader (bufio.NewReaderSize returns it as is), so nothing of the
	// stream that follows is read ahead and lost.
	br := bufio.NewReaderSize(conn, 1<<20)
	cmd := func(args ...string) (string, error) {
		var b []byte
		b = append(b, '*')
		b = strconv.AppendInt(b, int64(len(args)), 10)
		b = append(b, "\r\n"...)
		for _, a := range args {
			b = append(b, '$')
			b = strconv.AppendInt(b, int64(len(a)), 10)
			b = append(b, "\r\n"...)
			b = append(b, a...)
			b = append(b, "\r\n"...)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write(b); err != nil {
			return "", err
		}
		line, err := br.ReadString('\n')
		return strings.TrimRight(line, "\r\n"), err
	}
	if line, err := cmd("PING"); err != nil {
		return err
	} else if strings.HasPrefix(line, "-") && !strings.HasPrefix(line, "-NOAUTH") && !strings.HasPrefix(line, "-NOMASTERLINK") {
		return fmt.Errorf("master replied to PING: %s", line)
	}
	if cfg.MasterAuth != "" {
		args := []string{"AUTH", cfg.MasterAuth}
		if cfg.MasterUser != "" {
			args = []string{"AUTH", cfg.MasterUser, cfg.MasterAuth}
		}
		if line, err := cmd(args...); err != nil {
			return err
		} else if line != "+OK" {
			return fmt.Errorf("master refused AUTH: %s", line)
		}
	}
	if _, err := cmd("REPLCONF", "listening-port", strconv.Itoa(s.announcePort())); err != nil {
		return err
	}
	if _, err := cmd("REPLCONF", "capa", "eof", "capa", "psync2"); err != nil {
		return err
	}
	s.repl.mu.Lock()
	replid, want := s.repl.replid, s.repl.offset+1
	s.repl.mu.Unlock()
	if !l.linkUpOnce.Load() && l.fullSyncs.Load() == 0 && s.KS.isEmpty() && want == 1 {
		replid = "?"
		want = -1
	}
	l.state.Store("sync")
	line, err := cmd("PSYNC", replid, strconv.FormatInt(want, 10))
	if err != nil {
		return err
	}
	conn.SetDeadline(time.Time{})
	switch {
	case strings.HasPrefix(line, "+FULLRESYNC "):
		f := strings.Fields(line)
		if len(f) != 3 {
			return fmt.Errorf("bad FULLRESYNC line %q", line)
		}
		off, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return fmt.Errorf("bad FULLRESYNC offset %q", line)
		}
		l.syncing.Store(true)
		start := time.Now()
		s.flushAllForSync()
		conn.SetReadDeadline(time.Now().Add(5 * time.Minute))
		st, err := s.LoadSnapshot(br, "full sync from "+fmtAddr(l.host, l.port), nil)
		keys := st.Keys
		l.syncing.Store(false)
		if err != nil {
			return fmt.Errorf("full sync payload: %w", err)
		}
		conn.SetReadDeadline(time.Time{})
		s.repl.mu.Lock()
		s.repl.replid = f[1]
		s.repl.offset = off
		s.repl.histLen = 0
		s.repl.histStart = off + 1
		s.repl.replid2 = "0000000000000000000000000000000000000000"
		s.repl.secondOff = -1
		s.repl.mu.Unlock()
		l.fullSyncs.Add(1)
		// Our own replicas hold the history we just replaced.
		s.disconnectReplicas()
		PersistenceDatasetReplaced(s) // the AOF is rebuilt from the new dataset
		s.Log.Info("full sync from master loaded", "master", fmtAddr(l.host, l.port), "keys", keys, "offset", off, "took", time.Since(start).Round(time.Millisecond))
	case strings.HasPrefix(line, "+CONTINUE"):
		f := strings.Fields(line)
		if len(f) == 2 && f[1] != replid {
			s.repl.mu.Lock()
			s.repl.replid2 = s.repl.replid
			s.repl.secondOff = s.repl.offset + 1
			s.repl.replid = f[1]
			s.repl.mu.Unlock()
		}
		s.statPartialAsReplica.Add(1)
		s.Log.Info("partial resync with master", "master", fmtAddr(l.host, l.port), "offset", want)
	default:
		return fmt.Errorf("master replied to PSYNC: %s", line)
	}
	l.state.Store("connected")
	l.linkUpOnce.Store(true)
	l.lastIO.Store(nowMs())
	return s.applyStream(l, conn, br)
}

// applyStream executes the master's write stream, acking every second.
func (s *Server) applyStream(l *replicaLink, conn net.Conn, br *bufio.Reader) error {
	mc := s.newClient(conn)
	mc.isMaster = true
	mc.Authed = true
	rd := resp.NewReader(br, resp.DefaultLimits())
	var wmu sync.Mutex
	ack := func() {
		off := s.ReplOffset()
		msg := "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$" + strconv.Itoa(len(strconv.FormatInt(off, 10))) + "\r\n" + strconv.FormatInt(off, 10) + "\r\n"
		wmu.Lock()
		conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		conn.Write([]byte(msg))
		wmu.Unlock()
	}
	mc.ackFn = ack
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				ack()
			}
		}
	}()
	ack()
	timeout := 60 * time.Second
	for {
		conn.SetReadDeadline(time.Now().Add(timeout))
		before := rd.Consumed()
		argv, err := rd.ReadCommand()
		if err != nil {
			return err
		}
		n := rd.Consumed() - before
		l.lastIO.Store(nowMs())
		select {
		case <-l.stop:
			return errors.New("replication stopped")
		default:
		}
		raw := encodeCommand(mc.scratchRaw[:0], argv)
		mc.scratchRaw = raw
		mc.W.B = mc.W.B[:0]
		s.applyFromMaster(mc, argv, raw, n)
	}
}

// applyFromMaster runs one stream command and advances the offset by the
// command's exact byte length, forwarding it to our own replicas.
func (s *Server) applyFromMaster(mc *Client, argv [][]byte, raw []byte, n int64) {
	// (EqualFold on a converted []byte does not allocate; ToLower did, per
	// command.)
	switch name := argv[0]; {
	case strings.EqualFold(string(name), "ping"), strings.EqualFold(string(name), "select"):
		// keepalives and db selection only advance the offset
		s.repl.mu.Lock()
		s.appendStreamLocked(raw)
		s.repl.mu.Unlock()
		return
	case strings.EqualFold(string(name), "replconf"):
		if len(argv) >= 2 && strings.EqualFold(string(argv[1]), "getack") {
			s.repl.mu.Lock()
			s.appendStreamLocked(raw)
			s.repl.mu.Unlock()
			if mc.ackFn != nil {
				mc.ackFn()
			}
			return
		}
	}
	mc.replRaw = raw
	s.Process(mc, argv)
	mc.replRaw = nil
	if !mc.replFed {
		// The command changed nothing here (or failed): still part of the
		// stream, so it counts toward the offset and is forwarded.
		s.repl.mu.Lock()
		s.appendStreamLocked(raw)
		s.repl.mu.Unlock()
	}
	mc.replFed = false
	mc.W.B = mc.W.B[:0]
}

func encodeCommand(b []byte, argv [][]byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(argv)), 10)
	b = append(b, '\r', '\n')
	for _, a := range argv {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

// flushAllForSync empties the keyspace before loading a full sync.
func (s *Server) flushAllForSync() {
	for i := 0; i < slots.N; i++ {
		sl := s.KS.Slot(i)
		sl.Lock()
		sl.Flush()
		sl.Unlock()
	}
}

func (k *Keyspace) isEmpty() bool {
	for i := range k.slots {
		s := &k.slots[i]
		s.Lock()
		n := s.keys.Len()
		s.Unlock()
		if n > 0 {
			return false
		}
	}
	return true
}

func (s *Server) announcePort() int {
	cfg := s.Config()
	if cfg.ClusterAnnouncePort != 0 {
		return cfg.ClusterAnnouncePort
	}
	return cfg.Port
}
