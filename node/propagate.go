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
	if c != nil {
		p.dirty.Add(int64(c.Dirty))
	} else {
		p.dirty.Add(1)
	}
	if a := p.aof.Load(); a != nil {
		a.append(c, argv)
	}
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
