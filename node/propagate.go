package node

// Persistence's side of propagation. Server.propagate (server.go) hands
// every write that changed the keyspace to replication and then to
// Server.PropagateHook, which persistence sets to Persistence.propagate:
// with the command's slot locks held, and with a nil client for expiry
// deletions ("DEL key", via OnExpire). The hot path is one atomic add (the
// dirty counter behind save points and rdb_changes_since_last_save) and,
// when the AOF is on, an append to its buffer under a short mutex; the
// write and fsync happen later on the group-commit leader (aof.go).

import "sync"

// propagate is installed as Server.PropagateHook.
func (p *Persistence) propagate(c *Client, argv [][]byte) {
	if p.loading.Load() {
		return // replaying the AOF: nothing is re-logged
	}
	if c != nil && (p.txOpen.Load() > 0 || isTxMarker(argv, "MULTI")) && p.propagateTx(c, argv) {
		return
	}
	if c != nil {
		p.dirty.Add(int64(c.Dirty))
	} else {
		p.dirty.Add(1)
	}
	if a := p.aof.Load(); a != nil {
		a.append(c, argv)
	}
}

// isTxMarker reports whether argv is the MULTI or EXEC that EXEC and
// scripts propagate around their writes.
func isTxMarker(argv [][]byte, name string) bool {
	return len(argv) == 1 && string(argv[0]) == name
}

// propagateTx keeps a transaction (MULTI ... EXEC from EXEC or a script)
// contiguous in the AOF: its commands are collected per client and appended
// in one piece at EXEC, so other slots' writes never land inside it and a
// crash never leaves half of it in the file (the loader drops an
// unterminated MULTI block, like Redis). It reports whether argv was taken.
func (p *Persistence) propagateTx(c *Client, argv [][]byte) bool {
	p.txMu.Lock()
	defer p.txMu.Unlock()
	if p.tx == nil {
		p.tx = map[*Client]*txBuf{}
	}
	t := p.tx[c]
	if isTxMarker(argv, "MULTI") {
		if t == nil {
			t = &txBuf{}
			p.tx[c] = t
			p.txOpen.Add(1)
		}
		t.b = appendRESPCommand(t.b[:0], argv)
		t.n = 0
		return true
	}
	if t == nil {
		return false
	}
	t.b = appendRESPCommand(t.b, argv)
	if !isTxMarker(argv, "EXEC") {
		t.n += c.Dirty
		return true
	}
	p.dirty.Add(int64(t.n))
	if a := p.aof.Load(); a != nil {
		a.appendRaw(c, t.b)
	}
	delete(p.tx, c)
	p.txOpen.Add(-1)
	return true
}

type txBuf struct {
	b []byte
	n int // changes inside
}

// appendRESPCommand appends argv as a RESP array of bulk strings.
func appendRESPCommand(b []byte, argv [][]byte) []byte {
	b = append(b, '*')
	b = respDecimal(b, len(argv))
	b = append(b, '\r', '\n')
	for _, a := range argv {
		b = append(b, '$')
		b = respDecimal(b, len(a))
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

func respDecimal(b []byte, n int) []byte {
	if n < 10 {
		return append(b, byte('0'+n))
	}
	var tmp [20]byte
	i := len(tmp)
	for n > 0 {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, tmp[i:]...)
}

// persistences maps servers to their persistence state (for commands and
// INFO; the hot path never looks it up).
var (
	persistMu    sync.Mutex
	persistences = map[*Server]*Persistence{}
)

// persistenceOf returns s's persistence state, or nil before Start.
func persistenceOf(s *Server) *Persistence {
	persistMu.Lock()
	defer persistMu.Unlock()
	return persistences[s]
}
