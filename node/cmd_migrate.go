package node

import (
	"bytes"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/slotkv/slotkv/migrate"
)

// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
//
//	[AUTH password | AUTH2 username password] [KEYS key ...]
//
// Redis 7 semantics: keys are sent as pipelined RESTORE (RESTORE-ASKING in
// cluster mode) commands over a cached connection; a key is deleted here
// only after the target acknowledged it, so a timeout or I/O error leaves
// every unacknowledged key at the source. The command is propagated as DEL
// of the keys actually moved.
func init() {
	register(&Command{Name: "migrate", Arity: -6, Flags: FlagWrite, First: 3, Last: 3, Step: 1, Keys: migrateKeys,
		Group: "generic", Since: "2.6.0", Summary: "Atomically transfers a key from one Redis instance to another.",
		Complexity: "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.",
		ACL:        []string{"@keyspace", "@dangerous"}, Tips: []string{"nondeterministic_output"}, Proc: cmdMigrate})
}

// migrateKeys returns MIGRATE's key positions: argv[3], or everything after
// KEYS when argv[3] is empty.
func migrateKeys(argv [][]byte, dst []int) []int {
	if len(argv) < 6 {
		return dst
	}
	if len(argv[3]) > 0 {
		return append(dst, 3)
	}
	for i := 6; i < len(argv); i++ {
		if bytes.EqualFold(argv[i], []byte("keys")) {
			for j := i + 1; j < len(argv); j++ {
				dst = append(dst, j)
			}
			return dst
		}
		if bytes.EqualFold(argv[i], []byte("auth")) {
			i++
		} else if bytes.EqualFold(argv[i], []byte("auth2")) {
			i += 2
		}
	}
	return dst
}

var (
	migratePoolOnce sync.Once
	migratePool     *migrate.Pool
)

func (s *Server) migratePool() *migrate.Pool {
	migratePoolOnce.Do(func() {
		migratePool = migrate.NewPool()
		migratePool.LocalAddr = s.Config().BindSourceAddr
	})
	return migratePool
}

func cmdMigrate(c *Client) {
	argv := c.Argv
	copyKeys, replace := false, false
	var user, pass []byte
	first, num := 3, 1
	for j := 6; j < len(argv); j++ {
		more := len(argv) - 1 - j
		switch {
		case dumpArgIs(argv[j], "copy"):
			copyKeys = true
		case dumpArgIs(argv[j], "replace"):
			replace = true
		case dumpArgIs(argv[j], "auth"):
			if more < 1 {
				c.W.Error(ErrSyntax)
				return
			}
			j++
			pass = argv[j]
		case dumpArgIs(argv[j], "auth2"):
			if more < 2 {
				c.W.Error(ErrSyntax)
				return
			}
			user, pass = argv[j+1], argv[j+2]
			j += 2
		case dumpArgIs(argv[j], "keys"):
			if len(argv[3]) != 0 {
				c.W.Error("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string")
				return
			}
			first, num = j+1, len(argv)-j-1
			j = len(argv)
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	timeout, ok := ParseInt(argv[5])
	if !ok {
		c.W.Error(ErrNotInt)
		return
	}
	db, ok := ParseInt(argv[4])
	if !ok {
		c.W.Error(ErrNotInt)
		return
	}
	if timeout <= 0 {
		timeout = 1000
	}
	to := time.Duration(timeout) * time.Millisecond

	// Collect the keys that exist (expired ones are skipped, as Redis does).
	type kv struct {
		key []byte
		ttl int64
		e   *Entry
	}
	var keys []kv
	for i := first; i < first+num; i++ {
		_, e := c.Lookup(argv[i])
		if e == nil {
			continue
		}
		ttl := int64(0)
		if e.Exp != 0 {
			ttl = e.Exp - c.Now
			if ttl < 1 {
				ttl = 1
			}
		}
		keys = append(keys, kv{argv[i], ttl, e})
	}
	if len(keys) == 0 {
		c.W.Simple("NOKEY")
		return
	}

	restore := []byte("RESTORE")
	if c.srv.Config().ClusterEnabled {
		restore = []byte("RESTORE-ASKING")
	}
	addr := net.JoinHostPort(string(argv[1]), string(argv[2]))
	pool := c.srv.migratePool()
	for attempt := 0; attempt < 2; attempt++ {
		conn, err := pool.Get(addr, to)
		if err != nil {
			c.W.Error("IOERR error or timeout connecting to the client")
			return
		}
		var cmds [][][]byte
		authIdx, selIdx := -1, -1
		if pass != nil {
			authIdx = len(cmds)
			if user != nil {
				cmds = append(cmds, [][]byte{[]byte("AUTH"), user, pass})
			} else {
				cmds = append(cmds, [][]byte{[]byte("AUTH"), pass})
			}
		}
		if conn.DB() != int(db) {
			selIdx = len(cmds)
			cmds = append(cmds, [][]byte{[]byte("SELECT"), []byte(strconv.FormatInt(db, 10))})
		}
		base := len(cmds)
		for _, k := range keys {
			payload, err := AppendDumpPayload(nil, k.e)
			if err != nil {
				conn.Close()
				c.W.Error(err.Error())
				return
			}
			cmd := [][]byte{restore, k.key, []byte(strconv.FormatInt(k.ttl, 10)), payload}
			if replace {
				cmd = append(cmd, []byte("REPLACE"))
			}
			cmds = append(cmds, cmd)
		}
		replies, err := conn.Pipeline(cmds, to)
		// Delete what the target acknowledged, even on a later failure.
		var moved [][]byte
		targetErr := ""
		if authIdx >= 0 && authIdx < len(replies) && !replies[authIdx].OK {
			targetErr = replies[authIdx].Err
		} else if selIdx >= 0 && selIdx < len(replies) && !replies[selIdx].OK {
			targetErr = replies[selIdx].Err
		}
		for i := base; i < len(replies); i++ {
			if !replies[i].OK {
				if targetErr == "" {
					targetErr = replies[i].Err
				}
				continue
			}
			if targetErr != "" && (i == authIdx || i == selIdx) {
				continue
			}
			if !copyKeys {
				k := keys[i-base].key
				c.SlotFor(k).Delete(k, c.Now)
				moved = append(moved, append([]byte(nil), k...))
			}
		}
		if len(moved) > 0 {
			c.Dirty += len(moved)
			c.Propagate = append([][]byte{[]byte("DEL")}, moved...)
		}
		if err != nil {
			conn.Close()
			var ioe *migrate.IOError
			// A cached socket may have gone stale: retry once, as Redis
			// does, but only if nothing was acknowledged.
			if attempt == 0 && conn.Cached && len(replies) == 0 && !errors.Is(err, errTimeout(err)) {
				continue
			}
			if errors.As(err, &ioe) {
				c.W.Error("IOERR " + ioe.Error())
			} else {
				c.W.Error("IOERR error or timeout reading to target instance")
			}
			return
		}
		if selIdx >= 0 && targetErr == "" {
			conn.SelectDB(int(db))
		}
		if targetErr != "" {
			conn.SelectDB(-1)
			pool.Put(conn)
			c.W.Error("ERR Target instance replied with error: " + targetErr)
			return
		}
		pool.Put(conn)
		c.W.OK()
		return
	}
}

// errTimeout returns err itself when it is a timeout (so errors.Is matches)
// and a sentinel otherwise.
func errTimeout(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return err
	}
	return errNotTimeout
}

var errNotTimeout = errors.New("not a timeout")
