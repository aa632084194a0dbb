package node

// Pub/sub delivery.
//
// Each server has one hub: channel → subscribers, pattern → subscribers and
// shard channel → subscribers, under one RWMutex (publishers share it).
//
// A subscriber's connection goroutine spends its time blocked reading the
// socket, so publishers never write to the socket nor to Client.W. Once a
// client subscribes it gets a psConn: an output queue (pending, guarded by
// Client.asyncMu) and a writer goroutine that drains it. Client.async is set
// so Client.flush hands the client's own replies to the same queue (see
// pubsubFlush), which keeps replies and messages in order. A publisher only
// appends bytes under the subscriber's asyncMu and pokes its writer, so a
// slow subscriber never blocks publishers or other subscribers. Its queued
// bytes count against client-output-buffer-limit pubsub (default 32mb hard,
// 8mb soft for 60 s); past it the client is disconnected.

import (
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slotkv/slotkv/node/resp"
	"github.com/slotkv/slotkv/slots"
)

// serverExt holds this file family's per-server state (pub/sub hub and
// script engine) without widening Server.
type serverExt struct {
	srv *Server
	ps  psHub
	sc  scriptEngine
}

var (
	extMu   sync.Mutex
	exts    sync.Map // *Server → *serverExt
	lastExt atomic.Pointer[serverExt]
)

func extOf(s *Server) *serverExt {
	if e := lastExt.Load(); e != nil && e.srv == s {
		return e
	}
	if v, ok := exts.Load(s); ok {
		e := v.(*serverExt)
		lastExt.Store(e)
		return e
	}
	extMu.Lock()
	defer extMu.Unlock()
	if v, ok := exts.Load(s); ok {
		return v.(*serverExt)
	}
	e := &serverExt{srv: s}
	e.ps.init()
	e.sc.init(s)
	exts.Store(s, e)
	lastExt.Store(e)
	return e
}

type subSet map[*psConn]struct{}

type psHub struct {
	mu       sync.RWMutex
	channels map[string]subSet
	patterns map[string]subSet
	shard    map[string]subSet
	hook     atomic.Pointer[func(channel, msg []byte)]
}

func (h *psHub) init() {
	h.channels = map[string]subSet{}
	h.patterns = map[string]subSet{}
	h.shard = map[string]subSet{}
}

// SetPublishHook installs fn, called after every PUBLISH (not SPUBLISH) is
// delivered locally, so the cluster layer can forward it to other nodes;
// those call PublishLocal. nil removes it.
func (s *Server) SetPublishHook(fn func(channel, msg []byte)) {
	h := &extOf(s).ps
	if fn == nil {
		h.hook.Store(nil)
		return
	}
	h.hook.Store(&fn)
}

// PublishLocal delivers a message to this node's channel and pattern
// subscribers (a PUBLISH received from another node) and returns the
// number of receivers.
func (s *Server) PublishLocal(channel, msg []byte) int {
	return extOf(s).ps.publish(s, channel, msg, false)
}

// psConn is a subscriber's output queue and writer.
type psConn struct {
	c *Client
	// guarded by c.asyncMu
	pending  []byte
	spare    []byte
	inflight int
	proto    int
	softAt   int64    // unix ms since when the queue is above the soft limit
	dead     bool     // limit exceeded: output is dropped, client closing
	lost     []string // shard channels removed by ShardSlotRemoved, not yet dropped from c.SSubs
	nshard   int      // shard subscriptions, as ShardSlotRemoved counts them

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

var psConns sync.Map // *Client → *psConn

func init() {
	cleanupHooks = append(cleanupHooks, pubsubCleanup)
	ResetHooks = append(ResetHooks, PubSubReset)
}

// psConnOf returns c's queue, creating it and its writer on first use.
// Client goroutine only.
func psConnOf(c *Client) *psConn {
	if v, ok := psConns.Load(c); ok {
		return v.(*psConn)
	}
	p := &psConn{c: c, proto: c.W.Proto, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	psConns.Store(c, p)
	if c.conn != nil {
		go p.writer()
		c.async.Store(true)
	} else {
		close(p.done)
	}
	return p
}

func (p *psConn) poke() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *psConn) writer() {
	defer close(p.done)
	c := p.c
	for {
		stopping := false
		select {
		case <-p.kick:
		case <-p.stop:
			stopping = true
		}
		for {
			c.asyncMu.Lock()
			out := p.pending
			p.pending, p.spare = p.spare, nil
			p.inflight = len(out)
			c.asyncMu.Unlock()
			if len(out) == 0 {
				break
			}
			if stopping {
				c.conn.SetWriteDeadline(time.Now().Add(time.Second))
			}
			_, err := c.conn.Write(out)
			c.asyncMu.Lock()
			p.inflight = 0
			if p.spare == nil && cap(out) <= 256<<10 {
				p.spare = out[:0]
			}
			if p.softAt != 0 && len(p.pending) <= pubsubLimits(c.srv).soft {
				p.softAt = 0
			}
			c.asyncMu.Unlock()
			if err != nil {
				c.Close()
				c.asyncMu.Lock()
				p.dead = true
				p.pending = nil
				c.asyncMu.Unlock()
				return
			}
		}
		if stopping {
			return
		}
	}
}

// pubsubFlush is Client.flush for a client with a psConn: its buffered
// replies join the output queue. It reports false when c has no queue.
func pubsubFlush(c *Client) (bool, error) {
	v, ok := psConns.Load(c)
	if !ok {
		return false, nil
	}
	p := v.(*psConn)
	c.asyncMu.Lock()
	p.proto = c.W.Proto
	if len(c.W.B) > 0 && !p.dead {
		if len(p.pending) == 0 {
			p.pending, c.W.B = c.W.B, p.pending[:0]
		} else {
			p.pending = append(p.pending, c.W.B...)
			c.W.B = c.W.B[:0]
		}
	} else {
		c.W.B = c.W.B[:0]
	}
	dead := p.dead
	c.asyncMu.Unlock()
	p.poke()
	if dead || c.closing.Load() {
		return true, net.ErrClosed
	}
	return true, nil
}

// deliver queues one encoded message (b2 for RESP2 clients, b3 for RESP3).
// Any goroutine; takes the subscriber's asyncMu only.
func (p *psConn) deliver(b2, b3 []byte, lim psLimits) {
	c := p.c
	c.asyncMu.Lock()
	if p.dead {
		c.asyncMu.Unlock()
		return
	}
	if p.proto == 3 {
		p.pending = append(p.pending, b3...)
	} else {
		p.pending = append(p.pending, b2...)
	}
	n := len(p.pending) + p.inflight
	over := false
	if lim.hard > 0 && n > lim.hard {
		over = true
	} else if lim.soft > 0 && n > lim.soft {
		now := nowMs()
		if p.softAt == 0 {
			p.softAt = now
		} else if now-p.softAt >= lim.softMs {
			over = true
		}
	} else {
		p.softAt = 0
	}
	if over {
		p.dead = true
		p.pending = nil
	}
	c.asyncMu.Unlock()
	if over {
		c.srv.Log.Warn("Client closed for overcoming of output buffer limits.", "id", c.ID, "addr", c.Addr, "class", "pubsub", "omem", n)
		c.Close()
		return
	}
	p.poke()
}

type psLimits struct {
	hard, soft int
	softMs     int64
}

type psLimitCache struct {
	cfg *Config
	lim psLimits
}

var psLimitsCached atomic.Pointer[psLimitCache]

// pubsubLimits returns client-output-buffer-limit pubsub from the config
// (Redis's defaults 32mb 8mb 60 when not set).
func pubsubLimits(s *Server) psLimits {
	cfg := s.Config()
	if p := psLimitsCached.Load(); p != nil && p.cfg == cfg {
		return p.lim
	}
	lim := psLimits{hard: 32 << 20, soft: 8 << 20, softMs: 60000}
	if v, ok := cfg.Ignored["client-output-buffer-limit"]; ok {
		if l, ok := parseOutputLimit(v, "pubsub"); ok {
			lim = l
		}
	}
	psLimitsCached.Store(&psLimitCache{cfg: cfg, lim: lim})
	return lim
}

// parseOutputLimit finds "<class> <hard> <soft> <seconds>" in v.
func parseOutputLimit(v, class string) (psLimits, bool) {
	f := strings.Fields(v)
	for i := 0; i+3 < len(f); i += 4 {
		if !strings.EqualFold(f[i], class) {
			continue
		}
		hard, err1 := ParseMemory(f[i+1])
		soft, err2 := ParseMemory(f[i+2])
		sec, err3 := strconv.ParseInt(f[i+3], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || sec < 0 {
			return psLimits{}, false
		}
		return psLimits{hard: int(hard), soft: int(soft), softMs: sec * 1000}, true
	}
	return psLimits{}, false
}

// message encodings, built once per publish and proto.
func encodeMsg(dst []byte, push bool, kind string, parts ...[]byte) []byte {
	if push {
		dst = append(dst, '>')
	} else {
		dst = append(dst, '*')
	}
	dst = strconv.AppendInt(dst, int64(len(parts)+1), 10)
	dst = append(dst, '\r', '\n', '$')
	dst = strconv.AppendInt(dst, int64(len(kind)), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, kind...)
	dst = append(dst, '\r', '\n')
	for _, p := range parts {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(p)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, p...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// publish delivers msg to channel's subscribers (and, unless shard, to
// matching patterns) and returns the number of receivers.
func (h *psHub) publish(s *Server, channel, msg []byte, shard bool) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	var lim psLimits
	limSet := false
	subs := h.channels
	kind := "message"
	if shard {
		subs = h.shard
		kind = "smessage"
	}
	if set := subs[string(channel)]; len(set) > 0 {
		lim, limSet = pubsubLimits(s), true
		b2 := encodeMsg(nil, false, kind, channel, msg)
		b3 := encodeMsg(nil, true, kind, channel, msg)
		for p := range set {
			p.deliver(b2, b3, lim)
			n++
		}
	}
	if shard || len(h.patterns) == 0 {
		return n
	}
	ch := string(channel)
	for pat, set := range h.patterns {
		if !globMatch(pat, ch, false) {
			continue
		}
		if !limSet {
			lim, limSet = pubsubLimits(s), true
		}
		pb := []byte(pat)
		p2 := encodeMsg(nil, false, "pmessage", pb, channel, msg)
		p3 := encodeMsg(nil, true, "pmessage", pb, channel, msg)
		for p := range set {
			p.deliver(p2, p3, lim)
			n++
		}
	}
	return n
}

func (h *psHub) add(m map[string]subSet, name string, p *psConn) {
	set := m[name]
	if set == nil {
		set = subSet{}
		m[name] = set
	}
	set[p] = struct{}{}
}

func (h *psHub) remove(m map[string]subSet, name string, p *psConn) {
	if set := m[name]; set != nil {
		delete(set, p)
		if len(set) == 0 {
			delete(m, name)
		}
	}
}

// subscription kinds
const (
	psChannel = iota
	psPattern
	psShard
)

var psNames = [3][2]string{
	{"subscribe", "unsubscribe"},
	{"psubscribe", "punsubscribe"},
	{"ssubscribe", "sunsubscribe"},
}

func clientSubs(c *Client, kind int) *map[string]struct{} {
	switch kind {
	case psPattern:
		return &c.PSubs
	case psShard:
		return &c.SSubs
	}
	return &c.Subs
}

func hubMap(h *psHub, kind int) map[string]subSet {
	switch kind {
	case psPattern:
		return h.patterns
	case psShard:
		return h.shard
	}
	return h.channels
}

// subCount is the count Redis reports in (un)subscribe replies: channels
// plus patterns, or shard channels alone.
func subCount(c *Client, kind int) int {
	if kind == psShard {
		return len(c.SSubs)
	}
	return len(c.Subs) + len(c.PSubs)
}

func updatePubSubFlag(c *Client) {
	on := c.subscribed() // Redis sets CLIENT_PUBSUB for RESP3 subscribers too
	if on != c.HasFlag(ClientPubSub) {
		c.SetFlag(ClientPubSub, on)
	}
}

// reconcileLost drops shard channels the cluster layer removed (slot moved
// away) from c.SSubs. Client goroutine.
func reconcileLost(c *Client) {
	v, ok := psConns.Load(c)
	if !ok {
		return
	}
	p := v.(*psConn)
	c.asyncMu.Lock()
	lost := p.lost
	p.lost = nil
	c.asyncMu.Unlock()
	for _, ch := range lost {
		delete(c.SSubs, ch)
	}
	if len(lost) > 0 {
		updatePubSubFlag(c)
	}
}

// syncShardCount publishes len(c.SSubs) to the writer side. Client goroutine.
func syncShardCount(c *Client) {
	if v, ok := psConns.Load(c); ok {
		p := v.(*psConn)
		c.asyncMu.Lock()
		p.nshard = len(c.SSubs) - len(p.lost)
		c.asyncMu.Unlock()
	}
}

func subscribe(c *Client, kind int, names [][]byte) {
	reconcileLost(c)
	p := psConnOf(c)
	h := &extOf(c.srv).ps
	m := clientSubs(c, kind)
	if *m == nil {
		*m = map[string]struct{}{}
	}
	for _, nb := range names {
		name := string(nb)
		if _, ok := (*m)[name]; !ok {
			(*m)[name] = struct{}{}
			h.mu.Lock()
			h.add(hubMap(h, kind), name, p)
			h.mu.Unlock()
		}
		c.W.Push(3)
		c.W.BulkString(psNames[kind][0])
		c.W.Bulk(nb)
		c.W.Int(int64(subCount(c, kind)))
	}
	if kind == psShard {
		syncShardCount(c)
	}
	updatePubSubFlag(c)
}

func unsubscribe(c *Client, kind int, names [][]byte) {
	reconcileLost(c)
	m := clientSubs(c, kind)
	if len(names) == 0 {
		if len(*m) == 0 {
			c.W.Push(3)
			c.W.BulkString(psNames[kind][1])
			c.W.Null()
			c.W.Int(int64(subCount(c, kind)))
			updatePubSubFlag(c)
			return
		}
		all := make([]string, 0, len(*m))
		for k := range *m {
			all = append(all, k)
		}
		sort.Strings(all)
		for _, k := range all {
			unsubscribeOne(c, kind, k)
		}
	} else {
		for _, nb := range names {
			unsubscribeOne(c, kind, string(nb))
		}
	}
	if kind == psShard {
		syncShardCount(c)
	}
	updatePubSubFlag(c)
}

func unsubscribeOne(c *Client, kind int, name string) {
	m := clientSubs(c, kind)
	if _, ok := (*m)[name]; ok {
		delete(*m, name)
		if v, ok := psConns.Load(c); ok {
			h := &extOf(c.srv).ps
			h.mu.Lock()
			h.remove(hubMap(h, kind), name, v.(*psConn))
			h.mu.Unlock()
		}
	}
	c.W.Push(3)
	c.W.BulkString(psNames[kind][1])
	c.W.BulkString(name)
	c.W.Int(int64(subCount(c, kind)))
}

// PubSubReset drops every subscription of c without replies (RESET).
func PubSubReset(c *Client) {
	v, ok := psConns.Load(c)
	if !ok {
		return
	}
	p := v.(*psConn)
	h := &extOf(c.srv).ps
	h.mu.Lock()
	for k := range c.Subs {
		h.remove(h.channels, k, p)
	}
	for k := range c.PSubs {
		h.remove(h.patterns, k, p)
	}
	for k := range c.SSubs {
		h.remove(h.shard, k, p)
	}
	h.mu.Unlock()
	c.Subs, c.PSubs, c.SSubs = nil, nil, nil
	updatePubSubFlag(c)
}

// pubsubCleanup runs when c disconnects: unsubscribe, then let the writer
// push out what is queued (bounded) and stop.
func pubsubCleanup(c *Client) {
	v, ok := psConns.Load(c)
	if !ok {
		return
	}
	p := v.(*psConn)
	PubSubReset(c)
	close(p.stop)
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
		c.Close()
		<-p.done
	}
	psConns.Delete(c)
}

// ShardSlotRemoved unsubscribes every client from the shard channels of
// slot (the slot left this node), sending each a "sunsubscribe" message as
// Redis does. Any goroutine.
func (s *Server) ShardSlotRemoved(slot int) {
	h := &extOf(s).ps
	h.mu.Lock()
	var gone []string
	for ch := range h.shard {
		if slots.Of([]byte(ch)) == slot {
			gone = append(gone, ch)
		}
	}
	sort.Strings(gone)
	type note struct {
		p  *psConn
		ch string
	}
	var notes []note
	for _, ch := range gone {
		for p := range h.shard[ch] {
			notes = append(notes, note{p, ch})
		}
		delete(h.shard, ch)
	}
	h.mu.Unlock()
	lim := pubsubLimits(s)
	for _, n := range notes {
		c := n.p.c
		c.asyncMu.Lock()
		n.p.lost = append(n.p.lost, n.ch)
		n.p.nshard--
		left := n.p.nshard
		c.asyncMu.Unlock()
		n.p.deliver(encodeCountMsg(false, "sunsubscribe", n.ch, left), encodeCountMsg(true, "sunsubscribe", n.ch, left), lim)
	}
}

// encodeCountMsg encodes [kind, name, :count].
func encodeCountMsg(push bool, kind, name string, count int) []byte {
	var w resp.Writer
	w.Proto = 2
	if push {
		w.Proto = 3
	}
	w.Push(3)
	w.BulkString(kind)
	w.BulkString(name)
	w.Int(int64(count))
	return w.B
}
