package node

// Generic keyspace commands (Redis 7.0 db.c / object.c): DEL, UNLINK,
// EXISTS, TYPE, TOUCH, RENAME, RENAMENX, COPY, KEYS, SCAN, RANDOMKEY and
// OBJECT ENCODING/IDLETIME/FREQ/REFCOUNT/HELP.

import (
	"hash/maphash"
	"math/rand/v2"
	"slices"
	"strconv"
	"unsafe"

	"github.com/slotkv/slotkv/slots"
)

// Duplicator is implemented by Object types that COPY can duplicate: Dup
// returns a deep copy sharing nothing mutable with the receiver.
type Duplicator interface {
	Dup() Object
}

func init() {
	gen := func(cmd *Command) *Command {
		cmd.Group = "generic"
		cmd.ACL = append([]string{"@keyspace"}, cmd.ACL...)
		return cmd
	}
	objSub := func(name, summary, since string, proc func(*Client)) *Command {
		return &Command{Name: "object|" + name, Arity: 3, Flags: FlagReadOnly, First: 2, Last: 2, Step: 1, Group: "generic", ACL: []string{"@keyspace"}, Since: since, Summary: summary, Complexity: "O(1)", Tips: []string{"nondeterministic_output"}, Proc: proc}
	}
	register(
		gen(&Command{Name: "del", Arity: -2, Flags: FlagWrite, First: 1, Last: -1, Step: 1, Since: "1.0.0", Summary: "Delete a key", Complexity: "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).", Tips: []string{"request_policy:multi_shard", "response_policy:agg_sum"}, Proc: cmdDel}),
		gen(&Command{Name: "unlink", Arity: -2, Flags: FlagWrite | FlagFast, First: 1, Last: -1, Step: 1, Since: "4.0.0", Summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", Complexity: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.", Tips: []string{"request_policy:multi_shard", "response_policy:agg_sum"}, Proc: cmdDel}),
		gen(&Command{Name: "exists", Arity: -2, Flags: FlagReadOnly | FlagFast, First: 1, Last: -1, Step: 1, Since: "1.0.0", Summary: "Determine if a key exists", Complexity: "O(N) where N is the number of keys to check.", Tips: []string{"request_policy:multi_shard", "response_policy:agg_sum"}, Proc: cmdExists}),
		gen(&Command{Name: "type", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Since: "1.0.0", Summary: "Determine the type stored at key", Complexity: "O(1)", Proc: cmdType}),
		gen(&Command{Name: "touch", Arity: -2, Flags: FlagReadOnly | FlagFast, First: 1, Last: -1, Step: 1, Since: "3.2.1", Summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.", Complexity: "O(N) where N is the number of keys that will be touched.", Tips: []string{"request_policy:multi_shard", "response_policy:agg_sum"}, Proc: cmdTouch}),
		gen(&Command{Name: "rename", Arity: 3, Flags: FlagWrite, First: 1, Last: 2, Step: 1, Since: "1.0.0", Summary: "Rename a key", Complexity: "O(1)", Proc: func(c *Client) { renameGeneric(c, false) }}),
		gen(&Command{Name: "renamenx", Arity: 3, Flags: FlagWrite | FlagFast, First: 1, Last: 2, Step: 1, Since: "1.0.0", Summary: "Rename a key, only if the new key does not exist", Complexity: "O(1)", Proc: func(c *Client) { renameGeneric(c, true) }}),
		gen(&Command{Name: "copy", Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 2, Step: 1, Since: "6.2.0", Summary: "Copy a key", Complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.", Proc: cmdCopy}),
		gen(&Command{Name: "keys", Arity: 2, Flags: FlagReadOnly | FlagAllSlots, Since: "1.0.0", Summary: "Find all keys matching the given pattern", Complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.", ACL: []string{"@dangerous"}, Tips: []string{"request_policy:all_shards", "nondeterministic_output_order"}, Proc: cmdKeys}),
		gen(&Command{Name: "scan", Arity: -2, Flags: FlagReadOnly | FlagAllSlots, Since: "2.8.0", Summary: "Incrementally iterate the keys space", Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.", Tips: []string{"nondeterministic_output", "request_policy:special"}, Proc: cmdScan}),
		gen(&Command{Name: "randomkey", Arity: 1, Flags: FlagReadOnly | FlagAllSlots, Since: "1.0.0", Summary: "Return a random key from the keyspace", Complexity: "O(1)", Tips: []string{"request_policy:all_shards", "nondeterministic_output"}, Proc: cmdRandomkey}),
		&Command{Name: "object", Arity: -2, Group: "generic", Since: "2.2.3", Summary: "A container for object introspection commands", Complexity: "Depends on subcommand.", Sub: map[string]*Command{
			"encoding": objSub("encoding", "Inspect the internal encoding of a Redis object", "2.2.3", cmdObjectEncoding),
			"freq":     objSub("freq", "Get the logarithmic access frequency counter of a Redis object", "4.0.0", cmdObjectFreq),
			"idletime": objSub("idletime", "Get the time since a Redis object was last accessed", "2.2.3", cmdObjectIdletime),
			"refcount": objSub("refcount", "Get the number of references to the value of the key", "2.2.3", cmdObjectRefcount),
			"help":     {Name: "object|help", Arity: 2, Flags: FlagLoading | FlagStale, Group: "generic", ACL: []string{"@keyspace"}, Since: "6.2.0", Summary: "Show helpful text about the different subcommands", Complexity: "O(1)", Proc: cmdObjectHelp},
		}},
	)
}

func cmdDel(c *Client) {
	var n int64
	for _, key := range c.Argv[1:] {
		s := c.SlotFor(key)
		// Lookup first so an expired key goes through expiry (and its
		// propagation) rather than counting as deleted. Delete always: a
		// replica keeps expired keys until its master's DEL arrives.
		s.Lookup(key, c.Now)
		if s.Delete(key, c.Now) {
			n++
		}
	}
	c.Dirty += int(n)
	c.W.Int(n)
}

func cmdExists(c *Client) {
	var n int64
	for _, key := range c.Argv[1:] {
		if keysPeek(c.SlotFor(key), key, c.Now) != nil {
			n++
		}
	}
	c.W.Int(n)
}

func cmdTouch(c *Client) {
	var n int64
	for _, key := range c.Argv[1:] {
		if _, e := c.Lookup(key); e != nil {
			n++
		}
	}
	c.W.Int(n)
}

func cmdType(c *Client) {
	key := c.Argv[1]
	e := keysPeek(c.SlotFor(key), key, c.Now)
	if e == nil {
		c.W.Simple("none")
		return
	}
	c.W.Simple(e.TypeName())
}

func renameGeneric(c *Client, nx bool) {
	src, dst := c.Argv[1], c.Argv[2]
	ss := c.SlotFor(src)
	e := ss.Lookup(src, c.Now)
	if e == nil {
		c.W.Error(ErrNoSuchKey)
		return
	}
	if string(src) == string(dst) {
		if nx {
			c.W.Int(0)
		} else {
			c.W.OK()
		}
		return
	}
	ds := c.SlotFor(dst)
	if ds.Lookup(dst, c.Now) != nil && nx {
		c.W.Int(0)
		return
	}
	moved := *e // the value moves; its LRU and TTL go with it
	ss.Delete(src, c.Now)
	ds.Set(dst, &moved)
	c.Dirty++
	if nx {
		c.W.Int(1)
	} else {
		c.W.OK()
	}
}

func cmdCopy(c *Client) {
	argv := c.Argv
	replace := false
	dbid := int64(0)
	for j := 3; j < len(argv); j++ {
		switch {
		case strArgIs(argv[j], "replace"):
			replace = true
		case strArgIs(argv[j], "db") && j+1 < len(argv):
			n, ok := ParseInt(argv[j+1])
			if !ok || n < -1<<31 || n > 1<<31-1 {
				c.W.Error(ErrNotInt)
				return
			}
			dbs := int64(c.srv.Config().Databases)
			if n < 0 || n >= dbs {
				c.W.Error("ERR DB index is out of range")
				return
			}
			dbid = n
			j++
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	if dbid != 0 {
		if c.srv.Config().ClusterEnabled {
			c.W.Error("ERR Copying to another database is not allowed in cluster mode")
		} else {
			// slotkv has a single database.
			c.W.Error("ERR DB index is out of range")
		}
		return
	}
	src, dst := argv[1], argv[2]
	if string(src) == string(dst) {
		c.W.Error("ERR source and destination objects are the same")
		return
	}
	ss := c.SlotFor(src)
	e := ss.Lookup(src, c.Now)
	if e == nil {
		c.W.Int(0)
		return
	}
	ds := c.SlotFor(dst)
	if ds.Lookup(dst, c.Now) != nil && !replace {
		c.W.Int(0)
		return
	}
	ne := &Entry{Exp: e.Exp, LRU: freshLRU()} // a new object, even with REPLACE (Redis: dbDelete + dbAdd)
	if e.Obj == nil {
		ne.Str = strCopy(e.Str)
		ne.Enc = e.Enc
		if stringEncoding(e) == "int" {
			ne.Enc |= strEncUnshared
		}
	} else {
		o, err := keysDupObject(e)
		if err != nil {
			c.W.Error(err.Error())
			return
		}
		ne.Obj = o
	}
	ds.Set(dst, ne)
	c.Dirty++
	c.W.Int(1)
}

// keysDupObject deep-copies e's Object: with its Dup method when it has one,
// else through the value codec (encode + decode never aliases).
func keysDupObject(e *Entry) (Object, error) {
	if d, ok := e.Obj.(Duplicator); ok {
		return d.Dup(), nil
	}
	b, err := AppendValue(nil, e)
	if err != nil {
		return nil, err
	}
	ne, err := DecodeValue(b)
	if err != nil {
		return nil, err
	}
	return ne.Obj, nil
}

// keysBytes views a map key as bytes without copying (read only).
func keysBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// keysMatch reports whether key matches a KEYS/SCAN pattern.
func keysMatch(pattern []byte, all bool, key string) bool {
	return all || globMatchBytes(pattern, keysBytes(key), false, 0)
}

func cmdKeys(c *Client) {
	pattern := c.Argv[1]
	all := len(pattern) == 1 && pattern[0] == '*'
	var out []string
	now := c.Now
	for i := 0; i < slots.N; i++ {
		c.WithSlot(i, func(s *Slot) {
			for k, e := range s.keys.All() {
				if e.Exp != 0 && e.Exp <= now {
					continue
				}
				if keysMatch(pattern, all, k) {
					out = append(out, k)
				}
			}
		})
	}
	c.W.Array(len(out))
	for _, k := range out {
		c.W.BulkString(k)
	}
}

// SCAN cursors: the top 14 bits are the slot, the low 50 bits a position in
// that slot's keys ordered by a per-process 50-bit hash. A call resumes at
// the first key whose hash is >= the position, so every key that exists for
// the whole scan is returned at least once whatever inserts and deletes
// happen meanwhile (a key can be returned twice only if its hash collides
// with a key on a batch boundary, which batches avoid by never splitting
// equal hashes).
const (
	scanPosBits = 64 - 14
	scanPosMask = 1<<scanPosBits - 1
)

var scanSeed = maphash.MakeSeed()

func scanHash(k string) uint64 { return maphash.String(scanSeed, k) & scanPosMask }

// scanParseCursor parses like Redis's parseScanCursorOrReply (strtoul: an
// optional sign, digits; "" is 0; "-1" wraps).
func scanParseCursor(b []byte) (uint64, bool) {
	if len(b) > 0 && (b[0] == ' ' || (b[0] >= '\t' && b[0] <= '\r')) {
		return 0, false
	}
	neg := false
	d := b
	if len(d) > 0 && (d[0] == '+' || d[0] == '-') {
		neg = d[0] == '-'
		d = d[1:]
		if len(d) == 0 {
			return 0, len(b) == 0 // strtoul("+") parses nothing: eptr stays at '+'
		}
	}
	if len(d) == 0 {
		return 0, true
	}
	var n uint64
	for _, ch := range d {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		v := n*10 + uint64(ch-'0')
		if n > (1<<64-1)/10 || v < n*10 {
			return 0, false // ERANGE
		}
		n = v
	}
	if neg {
		n = -n
	}
	return n, true
}

type scanCand struct {
	h   uint64
	key string
	e   *Entry
}

func cmdScan(c *Client) {
	argv := c.Argv
	cursor, ok := scanParseCursor(argv[1])
	if !ok {
		c.W.Error("ERR invalid cursor")
		return
	}
	count := int64(10)
	var pattern, typename []byte
	usePattern := false
	for i := 2; i < len(argv); {
		more := len(argv) - i
		switch {
		case strArgIs(argv[i], "count") && more >= 2:
			n, ok := ParseInt(argv[i+1])
			if !ok {
				c.W.Error(ErrNotInt)
				return
			}
			if n < 1 {
				c.W.Error(ErrSyntax)
				return
			}
			count = n
			i += 2
		case strArgIs(argv[i], "match") && more >= 2:
			pattern = argv[i+1]
			usePattern = !(len(pattern) == 1 && pattern[0] == '*')
			i += 2
		case strArgIs(argv[i], "type") && more >= 2:
			typename = argv[i+1]
			i += 2
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	slot := int(cursor >> scanPosBits)
	pos := cursor & scanPosMask
	var out []string
	var cands []scanCand
	scanned := int64(0)
	now := c.Now
	for slot < slots.N && scanned < count {
		c.WithSlot(slot, func(s *Slot) {
			if s.keys.Len() == 0 {
				slot, pos = slot+1, 0
				return
			}
			cands = cands[:0]
			for k, e := range s.keys.All() {
				if h := scanHash(k); h >= pos {
					cands = append(cands, scanCand{h, k, e})
				}
			}
			slices.SortFunc(cands, func(a, b scanCand) int {
				switch {
				case a.h < b.h:
					return -1
				case a.h > b.h:
					return 1
				}
				return 0
			})
			want := count - scanned
			if min := int64(s.keys.Len() / 32); want < min {
				want = min // bound the passes over a huge slot
			}
			n := len(cands)
			if int64(n) > want {
				n = int(want)
				for n < len(cands) && cands[n].h == cands[n-1].h {
					n++
				}
			}
			for _, cd := range cands[:n] {
				if cd.e.Exp != 0 && cd.e.Exp <= now {
					s.Lookup(keysBytes(cd.key), now) // expire it
					continue
				}
				if typename != nil && !strArgIs(typename, cd.e.TypeName()) {
					continue
				}
				if usePattern && !globMatchBytes(pattern, keysBytes(cd.key), false, 0) {
					continue
				}
				out = append(out, cd.key)
			}
			scanned += int64(n)
			if n == len(cands) {
				slot, pos = slot+1, 0
			} else {
				pos = cands[n-1].h + 1
			}
		})
	}
	var next uint64
	if slot < slots.N {
		next = uint64(slot)<<scanPosBits | pos
	}
	var tmp [24]byte
	c.W.Array(2)
	c.W.Bulk(strconv.AppendUint(tmp[:0], next, 10))
	c.W.Array(len(out))
	for _, k := range out {
		c.W.BulkString(k)
	}
}

func cmdRandomkey(c *Client) {
	start := rand.IntN(slots.N)
	now := c.Now
	for i := 0; i < slots.N; i++ {
		found := false
		var key string
		c.WithSlot((start+i)&(slots.N-1), func(s *Slot) {
			for k, e := range s.keys.All() {
				if e.Exp != 0 && e.Exp <= now {
					s.Lookup(keysBytes(k), now) // expire it; deleting while ranging is allowed
					continue
				}
				key, found = k, true
				return
			}
		})
		if found {
			c.W.BulkString(key)
			return
		}
	}
	c.W.Null()
}

// objectLookup finds OBJECT's key without touching it; replies null when
// missing.
func objectLookup(c *Client) *Entry {
	key := c.Argv[2]
	e := keysPeek(c.SlotFor(key), key, c.Now)
	if e == nil {
		c.W.Null()
	}
	return e
}

func cmdObjectEncoding(c *Client) {
	e := objectLookup(c)
	if e == nil {
		return
	}
	if e.Obj == nil {
		c.W.BulkString(stringEncoding(e))
		return
	}
	c.W.BulkString(e.Obj.Encoding())
}

func cmdObjectRefcount(c *Client) {
	e := objectLookup(c)
	if e == nil {
		return
	}
	if e.Obj == nil {
		c.W.Int(stringRefcount(e))
		return
	}
	c.W.Int(1)
}

// objectLFUPolicy reports whether an LFU maxmemory policy is selected, in
// which case Entry.LRU holds Redis's LFU layout (16-bit minutes, 8-bit
// logarithmic counter) instead of an access time.
func objectLFUPolicy(c *Client) bool {
	p := c.srv.Config().MaxMemoryPolicy
	return p == "allkeys-lfu" || p == "volatile-lfu"
}

// objectLFUCounter is Redis's LFUDecrAndReturn with lfu-decay-time 1: the
// counter decremented by the minutes since its last decrement.
func objectLFUCounter(v uint32, nowMs int64) int64 { return int64(lfuDecayed(v, nowMs)) }

const objectLFUNote = " Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."

func cmdObjectIdletime(c *Client) {
	e := objectLookup(c)
	if e == nil {
		return
	}
	if objectLFUPolicy(c) {
		c.W.Error("ERR An LFU maxmemory policy is selected, idle time not tracked." + objectLFUNote)
		return
	}
	var idle int64
	if now := uint32(c.Now / 1000); now > e.LRU {
		idle = int64(now - e.LRU)
	}
	c.W.Int(idle)
}

func cmdObjectFreq(c *Client) {
	e := objectLookup(c)
	if e == nil {
		return
	}
	if !objectLFUPolicy(c) {
		c.W.Error("ERR An LFU maxmemory policy is not selected, access frequency not tracked." + objectLFUNote)
		return
	}
	c.W.Int(objectLFUCounter(e.LRU, c.Now))
}

var objectHelp = []string{
	"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
	"HELP",
	"    Prints this help.",
}

func cmdObjectHelp(c *Client) {
	c.W.Array(len(objectHelp))
	for _, l := range objectHelp {
		c.W.Simple(l)
	}
}
