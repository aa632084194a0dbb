package clusterbus

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/slotkv/slotkv/redirect"
)

// Bus is the cluster layer of one node.
//
// Concurrency: Table is lock-free and safe from any goroutine. Every other
// method is safe for concurrent use; they serialize on one internal mutex
// that is never held while calling memberlist or the Hooks.
type Bus struct {
	cfg Config
	log *slog.Logger

	mu sync.Mutex // guards st
	st *state

	table atomic.Pointer[redirect.Table]

	lmu     sync.Mutex // lifecycle: Start, Close, memberlist restarts
	ml      atomic.Pointer[memberlist.Memberlist]
	links   atomic.Pointer[linkTransport] // nil: reliable messages go through memberlist
	nt      atomic.Int64                  // cfg.NodeTimeout, for readers outside mu
	foIdle  atomic.Bool                   // failoverLoop is at its idle pace
	foKick  chan struct{}                 // wakes failoverLoop at once
	bq      atomic.Pointer[memberlist.TransmitLimitedQueue]
	started bool
	closed  bool

	counts    byteCounters
	dropped   atomic.Uint64
	received  atomic.Uint64
	sendDrops atomic.Uint64
	joining   atomic.Bool
	running   atomic.Bool // Start done and Close not yet called
	numNodes  atomic.Int64

	meetMu   sync.Mutex
	meets    map[string]time.Time // MEET addresses still to join -> give-up time
	lastDrop atomic.Int64

	sendCh     chan outMsg
	reliableCh chan outMsg
	// changes of our own record waiting to be sent, newest per address
	selfMu      sync.Mutex
	selfPending map[string]outMsg
	selfKick    chan struct{}
	notifyCh    chan func()
	saveCh      chan struct{}
	metaCh      chan struct{}
	stop        chan struct{}
	wg          sync.WaitGroup

	saveMu        sync.Mutex
	saveGen       uint64   // guarded by mu
	savedGen      uint64   // guarded by saveMu
	pendingSave   []byte   // guarded by mu
	pendingGen    uint64   // guarded by mu
	pendingNoSync bool     // the pending save may skip fsync (slot assignment only)
	saveErr       error    // guarded by saveMu
	confFile      *os.File // nodes.conf kept open for in-place writes; guarded by saveMu
	confSize      int64    // its size; guarded by saveMu
}

// New loads cfg.Path() (Redis nodes.conf format) or, when it does not exist,
// creates a fresh node with a random 40-hex id and writes the file. The bus
// is not on the network until Start.
func New(cfg Config) (*Bus, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	b := &Bus{
		cfg:         cfg,
		log:         cfg.Logger,
		sendCh:      make(chan outMsg, 8192),
		reliableCh:  make(chan outMsg, 4096),
		selfPending: map[string]outMsg{},
		selfKick:    make(chan struct{}, 1),
		notifyCh:    make(chan func(), 1024),
		saveCh:      make(chan struct{}, 1),
		metaCh:      make(chan struct{}, 1),
		stop:        make(chan struct{}),
		foKick:      make(chan struct{}, 1),
	}
	b.st = newState(&b.cfg)
	b.nt.Store(int64(cfg.NodeTimeout))
	s := b.st
	err := s.loadConfig(cfg.Path())
	switch {
	case errors.Is(err, errNoConfig):
		s.myself = &node{id: randomID(), flags: fMyself | fMaster, shardID: randomID(), added: time.Now()}
		s.nodes[s.myself.id] = s.myself
		b.log.Info("no cluster configuration found, I'm " + s.myself.id)
	case err != nil:
		return nil, err
	default:
		b.log.Info("node configuration loaded, I'm " + s.myself.id)
		if s.myself.isReplica() && s.masterOf(s.myself) == nil {
			s.setMyselfMaster()
		}
	}
	b.applyOwnAddress()
	s.forceSave = true
	b.locked(func(*state) {})
	b.saveMu.Lock()
	err = b.saveErr
	b.saveMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("cluster config file %s: %w", cfg.Path(), err)
	}
	return b, nil
}

// applyOwnAddress sets myself's advertised address from the config.
// Caller holds mu or has exclusive access.
func (b *Bus) applyOwnAddress() {
	me := b.st.myself
	c := &b.cfg
	me.port = c.Port
	if c.AnnouncePort != 0 {
		me.port = c.AnnouncePort
	}
	me.cport = c.BusPort
	if c.AnnounceBusPort != 0 {
		me.cport = c.AnnounceBusPort
	}
	me.hostname = c.AnnounceHostname
	if c.AnnounceIP != "" {
		me.ip = c.AnnounceIP
	} else if ip := net.ParseIP(c.BindIP); ip != nil && !ip.IsUnspecified() {
		me.ip = ip.String()
	}
	b.st.tableDirty = true
}

// Role returns this node's role in the cluster view.
func (b *Bus) Role() RoleChange {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.st
	rc := RoleChange{Master: s.myself.isMaster()}
	if m := s.masterOf(s.myself); m != nil {
		rc.MasterID, rc.MasterIP, rc.MasterPort = m.id, m.ip, m.port
	}
	return rc
}

// Table returns the current routing snapshot. It never blocks.
func (b *Bus) Table() *redirect.Table { return b.table.Load() }

// MyID returns this node's id.
func (b *Bus) MyID() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st.myself.id
}

// locked runs f under mu, then publishes the effects: own record, routing
// table, outbound messages, notifications and nodes.conf.
func (b *Bus) locked(f func(s *state)) {
	b.mu.Lock()
	s := b.st
	f(s)
	out, force := b.finishLocked()
	pending := b.pendingSave != nil
	b.mu.Unlock()
	b.dispatch(out)
	if force {
		b.saveNow() //nolint:errcheck // logged and kept in saveErr
	} else if pending {
		select {
		case b.saveCh <- struct{}{}:
		default:
		}
	}
}

// finishLocked must be called with mu held.
func (b *Bus) finishLocked() (out []outMsg, force bool) {
	s := b.st
	if s.stateChanged {
		s.stateChanged = false
		s.updateState(time.Now())
	}
	// Our record can only change together with one of these flags (slots
	// and roles dirty the table, epochs dirty the config), so steady-state
	// heartbeats skip the O(slots) rebuild.
	if s.myself.ip != "" && (s.selfRec == nil || s.tableDirty || s.saveDirty || s.forceSave) {
		s.publishIfChanged()
	}
	if s.tableDirty {
		s.tableDirty = false
		t := s.buildTable(b.table.Load())
		b.table.Store(t)
		if fn := b.cfg.Hooks.Publish; fn != nil {
			fn(t)
		}
	}
	if len(s.lost) > 0 && b.cfg.Hooks.SlotsLost != nil {
		lost := s.lost
		fn := b.cfg.Hooks.SlotsLost
		b.notify(func() { fn(lost) })
	}
	s.lost = nil
	if s.roleChanged {
		s.roleChanged = false
		if fn := b.cfg.Hooks.RoleChanged; fn != nil {
			rc := RoleChange{Master: s.myself.isMaster()}
			if m := s.masterOf(s.myself); m != nil {
				rc.MasterID, rc.MasterIP, rc.MasterPort = m.id, m.ip, m.port
			}
			b.notify(func() { fn(rc) })
		}
	}
	if s.saveDirty || s.forceSave || s.lightSave || s.ownerSave {
		// A rendering not written yet that needed an fsync passes the
		// need on to the one replacing it.
		mustSync := b.pendingSave != nil && !b.pendingNoSync
		b.saveGen++
		b.pendingSave = s.renderConfig()
		b.pendingGen = b.saveGen
		force = s.forceSave || s.lightSave
		// Slot-assignment changes alone (SETSLOT, owners learned from
		// peers) are written but not fsynced, as Redis does for CLUSTER
		// SETSLOT: a reshard issues several per slot on every master.
		b.pendingNoSync = !mustSync && !s.forceSave && !s.saveDirty
		s.saveDirty, s.forceSave, s.lightSave, s.ownerSave = false, false, false, false
	}
	b.numNodes.Store(int64(len(s.nodes)))
	if verifySlotView != nil {
		verifySlotView(s, b.table.Load())
	}
	if b.foIdle.Load() && s.failoverActive() {
		select {
		case b.foKick <- struct{}{}:
		default:
		}
	}
	out = s.out
	s.out = nil
	return out, force
}

func (b *Bus) notify(f func()) {
	if !b.running.Load() {
		go f()
		return
	}
	select {
	case b.notifyCh <- f:
	default:
		go f() // never block the bus on a slow hook
	}
}

// saveNow writes the pending nodes.conf synchronously.
func (b *Bus) saveNow() error {
	b.mu.Lock()
	data, gen, nosync := b.pendingSave, b.pendingGen, b.pendingNoSync
	b.pendingSave = nil
	b.mu.Unlock()
	if data == nil {
		return nil
	}
	b.saveMu.Lock()
	defer b.saveMu.Unlock()
	if gen <= b.savedGen {
		return nil
	}
	var err error
	if nosync {
		err = b.writeConfInPlace(data)
	} else {
		b.closeConf() // replaced by a new file: the open one is stale
		err = writeFileAtomic(b.cfg.Path(), data)
	}
	if err != nil {
		b.log.Error("error saving the cluster node config", "err", err)
		b.saveErr = err
		return err
	}
	b.saveErr = nil
	b.savedGen = gen
	return nil
}

// dispatch hands outbound actions to the sender goroutine.
func (b *Bus) dispatch(out []outMsg) {
	for _, m := range out {
		switch m.kind {
		case outBroadcast:
			if q := b.bq.Load(); q != nil {
				q.QueueBroadcast(&namedBroadcast{name: m.name, msg: m.data})
			}
			continue
		case outReliable:
			if m.self {
				b.selfMu.Lock()
				b.selfPending[m.addr] = m
				b.selfMu.Unlock()
				select {
				case b.selfKick <- struct{}{}:
				default:
				}
				continue
			}
			select {
			case b.reliableCh <- m:
			default:
				b.sendDrops.Add(1)
			}
			continue
		}
		select {
		case b.sendCh <- m:
		default:
			b.sendDrops.Add(1)
		}
	}
}

type namedBroadcast struct {
	name string
	msg  []byte
}

func (n *namedBroadcast) Invalidates(o memberlist.Broadcast) bool {
	if nb, ok := o.(*namedBroadcast); ok {
		return nb.name == n.name
	}
	return false
}
func (n *namedBroadcast) Message() []byte { return n.msg }
func (n *namedBroadcast) Finished()       {}
func (n *namedBroadcast) Name() string    { return n.name }

// ---- lifecycle ----

// Start joins the network: memberlist on BindIP:BusPort (TCP and UDP), the
// cron, sender and notifier goroutines, and a rejoin of every node known
// from nodes.conf (no MEET needed after a restart).
func (b *Bus) Start() error {
	b.lmu.Lock()
	defer b.lmu.Unlock()
	if b.started {
		return errors.New("clusterbus: already started")
	}
	if err := b.startMemberlist(); err != nil {
		return err
	}
	b.started = true
	b.running.Store(true)
	b.wg.Add(6)
	go b.metaLoop()
	go b.cronLoop()
	go b.senderLoop()
	go b.notifierLoop()
	go b.saverLoop()
	go b.reliableLoop()
	b.wg.Add(1)
	go b.selfLoop()
	for i := 0; i < 3; i++ {
		b.wg.Add(1)
		go b.reliableLoop()
	}
	b.wg.Add(1)
	go b.failoverLoop() // failover.go
	b.locked(func(s *state) {
		var addrs []string
		for _, n := range s.nodes {
			if n != s.myself && n.ip != "" && n.cport != 0 {
				addrs = append(addrs, joinHostPort(n.ip, n.cport))
				n.lastJoin = time.Now()
			}
		}
		if len(addrs) > 0 {
			s.out = append(s.out, outMsg{kind: outJoin, data: []byte(strings.Join(addrs, " "))})
		}
	})
	return nil
}

func (b *Bus) startMemberlist() error {
	b.mu.Lock()
	me := b.st.myself
	name := me.id
	b.mu.Unlock()

	mc := memberlist.DefaultLANConfig()
	mc.Name = name
	mc.BindAddr = b.cfg.BindIP
	mc.BindPort = b.cfg.BusPort
	mc.AdvertisePort = b.cfg.BusPort
	if b.cfg.AnnounceBusPort != 0 {
		mc.AdvertisePort = b.cfg.AnnounceBusPort
	}
	if b.cfg.AnnounceIP != "" {
		mc.AdvertiseAddr = b.cfg.AnnounceIP
	} else if ip := net.ParseIP(b.cfg.BindIP); ip != nil && !ip.IsUnspecified() {
		mc.AdvertiseAddr = ip.String()
	}
	memberlistTimings(mc, b.nodeTimeout())
	mc.EnableCompression = false
	mc.Label = "slotkv-bus"
	if b.cfg.Secret != "" {
		k := sha256.Sum256([]byte(b.cfg.Secret))
		mc.SecretKey = k[:]
	}
	mc.Logger = log.New(&slogWriter{l: b.log}, "", 0)
	d := &delegate{b: b}
	mc.Delegate = d
	mc.Events = d
	// NumNodes must not call into memberlist: GetBroadcasts holds the
	// queue lock while asking, and memberlist holds its node lock while
	// calling NotifyJoin, which may queue a broadcast (lock inversion).
	q := &memberlist.TransmitLimitedQueue{RetransmitMult: 3, NumNodes: func() int {
		return int(b.numNodes.Load())
	}}
	b.bq.Store(q)

	create := func() (*memberlist.Memberlist, error) {
		var tr memberlist.NodeAwareTransport
		if b.cfg.NewTransport != nil {
			t, err := b.cfg.NewTransport(b.cfg.BindIP, b.cfg.BusPort)
			if err != nil {
				return nil, err
			}
			tr = &countingTransport{NodeAwareTransport: t, counts: &b.counts}
		} else {
			t, err := newNetTransport(b.cfg.BindIP, b.cfg.BusPort, mc.Logger, &b.counts)
			if err != nil {
				return nil, err
			}
			tr = t
		}
		// Reliable messages go over persistent links (links.go), except
		// with a bus secret, where memberlist's encrypted streams carry
		// them.
		var lt *linkTransport
		if b.cfg.Secret == "" {
			lt = newLinkTransport(tr, b.handleMessage, mc.TCPTimeout, b.log)
			tr = lt
		}
		mc.Transport = tr
		ml, err := memberlist.Create(mc)
		if err != nil {
			if lt != nil {
				lt.Shutdown() //nolint:errcheck
			}
			return nil, err
		}
		b.links.Store(lt)
		return ml, nil
	}
	ml, err := create()
	if err != nil && mc.AdvertiseAddr == "" && strings.Contains(err.Error(), "private IP") {
		mc.AdvertiseAddr = "127.0.0.1"
		ml, err = create()
	}
	if err != nil {
		return fmt.Errorf("cluster bus on %s:%d: %w", b.cfg.BindIP, b.cfg.BusPort, err)
	}
	b.ml.Store(ml)
	ln := ml.LocalNode()
	b.locked(func(s *state) {
		if s.myself.ip == "" {
			s.myself.ip = ln.Addr.String()
			s.tableDirty = true
			s.saveDirty = true
		}
	})
	return nil
}

func (b *Bus) stopMemberlist() {
	ml := b.ml.Swap(nil)
	b.links.Store(nil)
	if ml == nil {
		return
	}
	ml.Leave(200 * time.Millisecond) //nolint:errcheck
	ml.Shutdown()                    //nolint:errcheck
}

// Close leaves the bus and stops every goroutine. nodes.conf is saved.
func (b *Bus) Close() error {
	b.lmu.Lock()
	if b.closed {
		b.lmu.Unlock()
		return nil
	}
	b.closed = true
	started := b.started
	b.running.Store(false)
	b.lmu.Unlock()
	if started {
		close(b.stop)
		b.wg.Wait()
		b.stopMemberlist()
	}
	b.mu.Lock()
	b.st.forceSave = true
	_, _ = b.finishLocked()
	b.mu.Unlock()
	err := b.saveNow()
	b.saveMu.Lock()
	b.closeConf()
	b.saveMu.Unlock()
	return err
}

// writeConfInPlace overwrites nodes.conf in place without fsync, as Redis
// 7.0's clusterSaveConfig does (see writeInPlace), for saves that need no
// fsync (SETSLOT): no inode is created or freed, whereas a rename over the
// old file makes ext4 flush the new file's data (auto_da_alloc) and free
// the old one, waiting for the journal: 0.5-85 ms per CLUSTER SETSLOT on a
// busy disk, several per slot in a redis-cli reshard. The file stays open
// between writes, so a SETSLOT costs a pwrite (and an ftruncate when it
// shrank). saveMu held.
func (b *Bus) writeConfInPlace(data []byte) error {
	if b.confFile == nil {
		f, err := os.OpenFile(b.cfg.Path(), os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		b.confFile, b.confSize = f, st.Size()
	}
	err := writeInPlace(b.confFile, b.confSize, data)
	if err != nil {
		b.closeConf()
		return err
	}
	b.confSize = int64(len(data))
	return nil
}

// closeConf closes the kept nodes.conf descriptor, if any. saveMu held.
func (b *Bus) closeConf() {
	if b.confFile != nil {
		b.confFile.Close()
		b.confFile = nil
	}
}

// ---- goroutines ----

func (b *Bus) tickInterval() time.Duration {
	iv := b.nodeTimeout() / 20
	if iv > 100*time.Millisecond {
		iv = 100 * time.Millisecond
	}
	if iv < 20*time.Millisecond {
		iv = 20 * time.Millisecond
	}
	return iv
}

func (b *Bus) cronLoop() {
	defer b.wg.Done()
	iv := b.tickInterval()
	t := time.NewTicker(iv)
	defer t.Stop()
	tick := 0
	for {
		select {
		case <-b.stop:
			return
		case now := <-t.C:
			if cur := b.tickInterval(); cur != iv { // CONFIG SET cluster-node-timeout
				iv = cur
				t.Reset(iv)
			}
			tick++
			b.locked(func(s *state) { s.cron(now, tick) })
			if tick%5 == 0 {
				b.reconnect()
			}
		}
	}
}

// reconnect Joins memberlist to known nodes that are not members (after a
// restart, a partition or memberlist declaring them dead).
func (b *Bus) reconnect() {
	ml := b.ml.Load()
	if ml == nil || b.joining.Load() {
		return
	}
	members := make(map[string]bool)
	for _, m := range ml.Members() {
		members[m.Name] = true
	}
	every := b.nodeTimeout()
	if every < time.Second {
		every = time.Second
	}
	var addrs []string
	b.mu.Lock()
	now := time.Now()
	for _, n := range b.st.nodes {
		if n == b.st.myself || members[n.id] || n.ip == "" || n.cport == 0 {
			continue
		}
		if now.Sub(n.lastJoin) < every {
			continue
		}
		n.lastJoin = now
		addrs = append(addrs, joinHostPort(n.ip, n.cport))
	}
	b.mu.Unlock()
	b.meetMu.Lock()
	for a, until := range b.meets {
		if now.After(until) {
			delete(b.meets, a)
			b.log.Warn("cluster MEET gave up: no answer", "addr", a)
			continue
		}
		addrs = append(addrs, a)
	}
	b.meetMu.Unlock()
	if len(addrs) > 0 {
		b.startJoin(addrs)
	}
}

// addMeet records a MEET target; it is retried until a Join succeeds or the
// handshake time (Redis: node timeout, at least 10 s here) passes.
func (b *Bus) addMeet(addr string) {
	d := 2 * b.nodeTimeout()
	if d < 10*time.Second {
		d = 10 * time.Second
	}
	b.meetMu.Lock()
	if b.meets == nil {
		b.meets = make(map[string]time.Time)
	}
	b.meets[addr] = time.Now().Add(d)
	b.meetMu.Unlock()
}

func (b *Bus) startJoin(addrs []string) {
	ml := b.ml.Load()
	if ml == nil || !b.joining.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer b.joining.Store(false)
		for _, a := range addrs {
			select {
			case <-b.stop:
				return
			default:
			}
			if _, err := ml.Join([]string{a}); err != nil {
				b.log.Debug("cluster bus join failed", "addr", a, "err", err)
				continue
			}
			b.meetMu.Lock()
			delete(b.meets, a)
			b.meetMu.Unlock()
		}
	}()
}

func (b *Bus) senderLoop() {
	defer b.wg.Done()
	for {
		select {
		case <-b.stop:
			return
		case m := <-b.sendCh:
			ml := b.ml.Load()
			if ml == nil {
				continue
			}
			switch m.kind {
			case outUDP:
				if err := ml.SendToAddress(memberlist.Address{Addr: m.addr, Name: m.id}, m.data); err != nil {
					b.log.Debug("bus send failed", "to", m.addr, "err", err)
				}
			case outUpdateMeta:
				select {
				case b.metaCh <- struct{}{}:
				default: // an update is already pending; it reads the latest meta
				}
			case outJoin:
				b.startJoin(strings.Fields(string(m.data)))
			}
		}
	}
}

// metaLoop re-advertises our memberlist meta. UpdateNode blocks until the
// alive broadcast went out, so it runs here, coalesced, with a timeout.
func (b *Bus) metaLoop() {
	defer b.wg.Done()
	for {
		select {
		case <-b.stop:
			return
		case <-b.metaCh:
			if ml := b.ml.Load(); ml != nil {
				if err := ml.UpdateNode(500 * time.Millisecond); err != nil {
					b.log.Debug("memberlist UpdateNode", "err", err)
				}
			}
		}
	}
}

func (b *Bus) reliableLoop() {
	defer b.wg.Done()
	for {
		select {
		case <-b.stop:
			return
		case m := <-b.reliableCh:
			b.sendReliable(m)
		}
	}
}

// selfLoop sends changes of this node's own record. A change waits
// reliableCoalesce for more (every SETSLOT of a reshard changes the record)
// and only the newest record goes to each node: memberlist dials a TCP
// connection per reliable message, which was ~15% of a node's CPU during a
// redis-cli reshard. Records are versioned, so dropping older ones is safe.
func (b *Bus) selfLoop() {
	defer b.wg.Done()
	for {
		select {
		case <-b.stop:
			return
		case <-b.selfKick:
		}
		t := time.NewTimer(reliableCoalesce)
		select {
		case <-b.stop:
			t.Stop()
			return
		case <-t.C:
		}
		b.selfMu.Lock()
		pending := b.selfPending
		b.selfPending = map[string]outMsg{}
		b.selfMu.Unlock()
		for _, m := range pending {
			select {
			case b.reliableCh <- m:
			default:
				b.sendDrops.Add(1)
			}
		}
	}
}

// reliableCoalesce is how long a change of our own record waits for more
// changes before it is sent.
const reliableCoalesce = 5 * time.Millisecond

func (b *Bus) sendReliable(m outMsg) {
	ml := b.ml.Load()
	if ml == nil {
		return
	}
	host, port, err := splitHostPort(m.addr)
	if err != nil {
		return
	}
	if lt := b.links.Load(); lt != nil {
		lt.Send(m.addr, m.data)
		return
	}
	to := &memberlist.Node{Name: m.id, Addr: host, Port: uint16(port)}
	if err := ml.SendReliable(to, m.data); err != nil {
		b.log.Debug("bus reliable send failed", "to", m.addr, "err", err)
	}
}

func splitHostPort(a string) (net.IP, int, error) {
	h, p, err := net.SplitHostPort(a)
	if err != nil {
		return nil, 0, err
	}
	ip := net.ParseIP(h)
	if ip == nil {
		return nil, 0, errors.New("bad ip")
	}
	var port int
	_, err = fmt.Sscanf(p, "%d", &port)
	return ip, port, err
}

func (b *Bus) notifierLoop() {
	defer b.wg.Done()
	for {
		select {
		case <-b.stop:
			for {
				select {
				case f := <-b.notifyCh:
					f()
				default:
					return
				}
			}
		case f := <-b.notifyCh:
			f()
		}
	}
}

func (b *Bus) saverLoop() {
	defer b.wg.Done()
	for {
		select {
		case <-b.stop:
			return
		case <-b.saveCh:
			b.saveNow() //nolint:errcheck // logged
		}
	}
}

// ---- memberlist delegates ----

// delegate implements memberlist.Delegate and memberlist.EventDelegate.
// memberlist calls it from its own goroutines, sometimes with its node lock
// held, so it only takes Bus.mu and queues everything it sends.
type delegate struct{ b *Bus }

func (d *delegate) NodeMeta(limit int) []byte {
	b := d.b
	b.mu.Lock()
	s := b.st
	me := s.myself
	m := &meta{id: me.id, flags: me.recFlags(), masterID: me.masterID, port: me.port, cport: me.cport,
		configEpoch: me.configEpoch, currentEpoch: s.currentEpoch, recVersion: me.recVersion}
	if s.selfRec != nil {
		m.slotsHash = hashRanges(s.selfRec.slots)
	}
	b.mu.Unlock()
	enc := encodeMeta(m)
	if len(enc) > limit {
		return nil
	}
	return enc
}

func (d *delegate) NotifyMsg(buf []byte) {
	d.b.handleMessage(buf)
}

func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte {
	if q := d.b.bq.Load(); q != nil {
		return q.GetBroadcasts(overhead, limit)
	}
	return nil
}

func (d *delegate) LocalState(join bool) []byte {
	b := d.b
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.st
	recs := make([]*record, 0, len(s.nodes))
	for _, n := range s.sortedNodes() {
		if n == s.myself || n.recVersion != 0 {
			if r := s.recordOf(n); r != nil {
				recs = append(recs, r)
			}
		}
	}
	return encodeRecords(s.myself.id, recs)
}

func (d *delegate) MergeRemoteState(buf []byte, join bool) {
	d.b.handleMessage(buf)
}

func (d *delegate) NotifyJoin(n *memberlist.Node)   { d.b.handleMember(n) }
func (d *delegate) NotifyUpdate(n *memberlist.Node) { d.b.handleMember(n) }
func (d *delegate) NotifyLeave(n *memberlist.Node)  {}

func (b *Bus) dropMessage(err error) {
	c := b.dropped.Add(1)
	now := time.Now().UnixNano()
	if last := b.lastDrop.Load(); now-last > int64(time.Second) && b.lastDrop.CompareAndSwap(last, now) {
		b.log.Warn("dropped invalid cluster bus message", "err", err, "dropped_total", c)
	}
}

// handleMessage decodes and applies one bus message. Invalid input is
// dropped and counted; it never panics the node.
func (b *Bus) handleMessage(buf []byte) {
	b.received.Add(1)
	m, err := decodeMessage(buf)
	if err != nil {
		b.dropMessage(err)
		return
	}
	if m.fo != nil {
		b.handleFailoverMsg(m.typ, m.fo) // failover.go
		return
	}
	b.locked(func(s *state) {
		switch m.typ {
		case msgPing, msgPong:
			s.handleHeartbeat(m.hb)
		case msgRecord, msgRecords:
			if s.isBanned(m.sender) {
				return
			}
			if m.typ == msgRecord {
				s.statsRecv["update"]++
			}
			for _, r := range m.recs {
				s.applyRecord(r, r.id == m.sender)
			}
		case msgGetRec:
			s.statsRecv["ping"]++
			if n := s.nodes[m.sender]; n != nil && n != s.myself && !s.isBanned(n.id) {
				if s.selfRec == nil {
					s.publishIfChanged()
				}
				s.queueTo(n, outReliable, encodeRecord(s.myself.id, s.selfRec), "update")
			}
		case msgFail:
			s.handleFail(m.sender, m.failing)
		}
	})
}

// handleMember learns a memberlist member from its meta.
func (b *Bus) handleMember(mn *memberlist.Node) {
	m, err := decodeMeta(mn.Meta)
	if err != nil {
		if len(mn.Meta) != 0 {
			b.dropMessage(err)
		}
		return
	}
	if m.id != mn.Name {
		b.dropMessage(errBadValue)
		return
	}
	b.locked(func(s *state) {
		if m.id == s.myself.id || s.isBanned(m.id) {
			return
		}
		now := time.Now()
		n := s.nodes[m.id]
		ip := mn.Addr.String()
		if n == nil {
			n = s.addNode(m.id)
			n.ip, n.cport, n.port = ip, int(mn.Port), m.port
			if m.flags&recReplica != 0 && m.masterID != "" {
				n.flags = fReplica
				n.masterID = m.masterID
			}
			n.configEpoch = m.configEpoch
			s.statsRecv["meet"]++
			b.log.Info("cluster bus: new node", "node", m.id, "addr", joinHostPort(ip, int(mn.Port)))
			if s.selfRec != nil {
				s.queueTo(n, outReliable, encodeRecord(s.myself.id, s.selfRec), "meet")
			}
		} else if n.ip != ip || n.cport != int(mn.Port) {
			n.ip, n.cport = ip, int(mn.Port)
			s.tableDirty = true
			s.saveDirty = true
		}
		if m.currentEpoch > s.currentEpoch {
			s.currentEpoch = m.currentEpoch
			s.saveDirty = true
		}
		if m.recVersion != n.recVersion && now.Sub(n.lastGet) > 300*time.Millisecond {
			n.lastGet = now
			s.queueTo(n, outUDP, encodeGetRec(s.myself.id), "ping")
		}
	})
}

// slogWriter routes memberlist's log lines ("[DEBUG] memberlist: ...") to
// slog at the matching level.
type slogWriter struct{ l *slog.Logger }

func (w *slogWriter) Write(p []byte) (int, error) {
	msg := string(bytes.TrimSpace(p))
	switch {
	case strings.Contains(msg, "[DEBUG]"):
		w.l.Debug(msg)
	case strings.Contains(msg, "[INFO]"):
		w.l.Debug(msg)
	case strings.Contains(msg, "[WARN]"):
		w.l.Warn(msg)
	default:
		w.l.Error(msg)
	}
	return len(p), nil
}
