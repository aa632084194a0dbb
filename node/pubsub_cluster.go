package node

import (
	"strings"
	"sync"
	"time"

	"github.com/slotkv/slotkv/migrate"
)

// Cluster-wide PUBLISH: a message published on one node reaches the
// subscribers of every node, as in Redis Cluster (SPUBLISH stays within the
// slot's shard and is not forwarded).
//
// The publishing node delivers locally, then hands the message to one
// forwarder per peer, which sends `CLUSTER PUBLISHLOCAL channel message` on
// a connection to the peer's client port in pipelined batches. Forwarding
// never blocks the publisher: each peer has a bounded queue, and a peer that
// cannot keep up loses messages (logged), like a slow subscriber would.
//
// Concurrency: forwarders are created and fed under fwdMu; each forwarder's
// goroutine owns its connection.

const fwdQueue = 4096

type peerForwarder struct {
	endpoint string
	ch       chan [2][]byte
	stop     chan struct{}
}

type clusterPubSub struct {
	mu    sync.Mutex
	peers map[string]*peerForwarder // by node id
	drops int64
}

var (
	cpsMu sync.Mutex
	cps   = map[*Server]*clusterPubSub{}
)

func init() {
	StartHooks = append(StartHooks, startClusterPubSub)
	cl := commands["cluster"]
	if cl == nil || cl.Sub == nil {
		panic("pubsub_cluster.go: the CLUSTER container must be registered first (cmd_cluster.go)")
	}
	cl.Sub["publishlocal"] = &Command{Name: "cluster|publishlocal", Arity: 4, Flags: FlagPubSub | FlagLoading | FlagStale | FlagFast,
		Group: "cluster", Since: "slotkv", Summary: "slotkv internal: delivers a PUBLISH forwarded by another node to this node's subscribers.",
		ACL: []string{"@pubsub", "@fast"}, Proc: func(c *Client) {
			c.W.Int(int64(c.srv.PublishLocal(c.Argv[2], c.Argv[3])))
		}}
}

func startClusterPubSub(s *Server) error {
	if !s.Config().ClusterEnabled {
		return nil
	}
	cp := &clusterPubSub{peers: map[string]*peerForwarder{}}
	cpsMu.Lock()
	cps[s] = cp
	cpsMu.Unlock()
	s.SetPublishHook(func(channel, msg []byte) { cp.forward(s, channel, msg) })
	s.Closers = append(s.Closers, func() {
		cp.mu.Lock()
		for id, p := range cp.peers {
			close(p.stop)
			delete(cp.peers, id)
		}
		cp.mu.Unlock()
	})
	return nil
}

// forward queues the message for every other known node.
func (cp *clusterPubSub) forward(s *Server, channel, msg []byte) {
	b := s.ClusterBus()
	if b == nil {
		return
	}
	t := b.Table()
	me := t.Nodes[t.Self].ID
	item := [2][]byte{append([]byte(nil), channel...), append([]byte(nil), msg...)}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	live := map[string]bool{}
	for _, n := range t.Nodes {
		if n.ID == me || n.Endpoint == "" || strings.HasSuffix(n.Endpoint, ":0") {
			continue
		}
		live[n.ID] = true
		p := cp.peers[n.ID]
		if p != nil && p.endpoint != n.Endpoint {
			close(p.stop)
			p = nil
		}
		if p == nil {
			p = &peerForwarder{endpoint: n.Endpoint, ch: make(chan [2][]byte, fwdQueue), stop: make(chan struct{})}
			cp.peers[n.ID] = p
			go p.run(s)
		}
		select {
		case p.ch <- item:
		default:
			cp.drops++
			if cp.drops%1000 == 1 {
				s.Log.Warn("cluster PUBLISH forwarding queue full; dropping messages", "peer", n.ID, "dropped_total", cp.drops)
			}
		}
	}
	for id, p := range cp.peers { // forgotten nodes
		if !live[id] {
			close(p.stop)
			delete(cp.peers, id)
		}
	}
}

// run sends queued messages to the peer, reconnecting as needed.
func (p *peerForwarder) run(s *Server) {
	var conn *migrate.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	pool := migrate.NewPool()
	pool.LocalAddr = s.Config().BindSourceAddr
	for {
		var first [2][]byte
		select {
		case <-p.stop:
			return
		case <-s.Done():
			return
		case first = <-p.ch:
		}
		batch := [][][]byte{{[]byte("CLUSTER"), []byte("PUBLISHLOCAL"), first[0], first[1]}}
	more:
		for len(batch) < 256 {
			select {
			case it := <-p.ch:
				batch = append(batch, [][]byte{[]byte("CLUSTER"), []byte("PUBLISHLOCAL"), it[0], it[1]})
			default:
				break more
			}
		}
		if conn == nil {
			c, err := pool.Get(p.endpoint, 2*time.Second)
			if err != nil {
				continue // peer down: these messages are lost, as for a disconnected subscriber
			}
			conn = c
			if pass := s.Config().MasterAuth; pass != "" {
				args := [][]byte{[]byte("AUTH"), []byte(pass)}
				if u := s.Config().MasterUser; u != "" {
					args = [][]byte{[]byte("AUTH"), []byte(u), []byte(pass)}
				}
				if _, err := conn.Pipeline([][][]byte{args}, 2*time.Second); err != nil {
					conn.Close()
					conn = nil
					continue
				}
			}
		}
		if _, err := conn.Pipeline(batch, 5*time.Second); err != nil {
			conn.Close()
			conn = nil
		}
	}
}
