// Package redirect owns the per-command routing decision of a cluster node:
// serve the command here, or answer -MOVED, -ASK, -TRYAGAIN, -CROSSSLOT or
// -CLUSTERDOWN exactly as Redis 7 does.
//
// The decision reads an immutable routing Table that the cluster layer
// (package clusterbus) rebuilds and publishes atomically whenever its view of
// slot ownership changes. Decide takes no lock and allocates nothing on the
// served path, so it can run for every command.
package redirect

import "strconv"

// NumSlots is the number of hash slots of a Redis cluster.
const NumSlots = 16384

// None marks "no node" in the uint16 node-index arrays of a Table.
const None = uint16(0xFFFF)

// Node is what a redirect needs to know about a node: the endpoint written in
// MOVED/ASK replies ("ip:port", or "hostname:port" when the preferred
// endpoint type says so).
type Node struct {
	ID       string
	Endpoint string
}

// Table is an immutable snapshot of slot routing as seen by this node.
// Publishers build a new Table and swap a pointer; readers never mutate it.
type Table struct {
	// Owner.Get(slot) is the index in Nodes of the master serving slot, or
	// None. The three slot maps share unchanged parts with the previous
	// table's (a table is rebuilt on every SETSLOT and every slot change
	// learned by gossip; see SlotMap).
	Owner *SlotMap
	// Migrating.Get(slot) is the target node index of a slot this node is
	// migrating away (CLUSTER SETSLOT MIGRATING), or None.
	Migrating *SlotMap
	// Importing.Get(slot) is the source node index of a slot this node is
	// importing (CLUSTER SETSLOT IMPORTING), or None.
	Importing *SlotMap
	// Nodes lists every known node; indexes above point into it.
	Nodes []Node
	// Self is this node's index in Nodes.
	Self uint16
	// Master is the index of this node's master when it is a replica, else None.
	Master uint16
	// Down is true while cluster_state is fail.
	Down bool
	// ReadsWhenDown mirrors cluster-allow-reads-when-down.
	ReadsWhenDown bool
}

// NewTable returns a Table with no owners, no migrations and only self.
func NewTable(self Node) *Table {
	return &Table{Nodes: []Node{self}, Self: 0, Master: None,
		Owner: NewSlotMap(), Migrating: NewSlotMap(), Importing: NewSlotMap()}
}

// Kind is the outcome of Decide.
type Kind uint8

const (
	Serve     Kind = iota // run the command here
	Moved                 // -MOVED slot endpoint
	Ask                   // -ASK slot endpoint
	TryAgain              // -TRYAGAIN
	CrossSlot             // -CROSSSLOT
	Unbound               // -CLUSTERDOWN Hash slot not served
	Down                  // -CLUSTERDOWN The cluster is down
	DownRO                // -CLUSTERDOWN ... only accepts read commands
	NeedKeys              // caller must count present keys and call again
)

// Request describes one command as far as routing is concerned.
type Request struct {
	Slot      int  // slot of the keys; -1 when the command has no keys
	CrossSlot bool // keys hash to more than one slot
	Write     bool // command may modify the keyspace
	Asking    bool // client sent ASKING just before
	ReadOnly  bool // client sent READONLY (replica reads)
	Migrate   bool // the command is MIGRATE: served locally while the slot is open
	// KeysKnown is true when Present/Missing have been filled in; Decide
	// returns NeedKeys when it needs them and they are not known yet.
	KeysKnown bool
	Present   int
	Missing   int
}

// Verdict is where a command goes.
type Verdict struct {
	Kind     Kind
	Slot     int
	Endpoint string
}

// Decide routes one command the way Redis 7's getNodeByQuery does. It is
// safe for concurrent use on a shared Table.
func Decide(t *Table, r Request) Verdict {
	if r.CrossSlot {
		return Verdict{Kind: CrossSlot}
	}
	if r.Slot < 0 {
		return Verdict{Kind: Serve, Slot: -1}
	}
	slot := r.Slot
	owner := t.Owner.Get(slot)
	if owner == None {
		return Verdict{Kind: Unbound, Slot: slot}
	}
	if t.Down {
		if !t.ReadsWhenDown {
			return Verdict{Kind: Down, Slot: slot}
		}
		if r.Write {
			return Verdict{Kind: DownRO, Slot: slot}
		}
	}
	if r.Migrate && (t.Migrating.Get(slot) != None || t.Importing.Get(slot) != None) {
		return Verdict{Kind: Serve, Slot: slot}
	}
	if owner == t.Self {
		if mig := t.Migrating.Get(slot); mig != None {
			if !r.KeysKnown {
				return Verdict{Kind: NeedKeys, Slot: slot}
			}
			if r.Missing > 0 {
				if r.Present > 0 {
					return Verdict{Kind: TryAgain, Slot: slot}
				}
				return Verdict{Kind: Ask, Slot: slot, Endpoint: t.Nodes[mig].Endpoint}
			}
		}
		return Verdict{Kind: Serve, Slot: slot}
	}
	if t.Importing.Get(slot) != None && r.Asking {
		if !r.KeysKnown {
			return Verdict{Kind: NeedKeys, Slot: slot}
		}
		if r.Missing > 0 && r.Present+r.Missing > 1 {
			return Verdict{Kind: TryAgain, Slot: slot}
		}
		return Verdict{Kind: Serve, Slot: slot}
	}
	if !r.Write && r.ReadOnly && t.Master != None && owner == t.Master {
		return Verdict{Kind: Serve, Slot: slot}
	}
	return Verdict{Kind: Moved, Slot: slot, Endpoint: t.Nodes[owner].Endpoint}
}

// Error returns the error reply text (without the leading '-' and CRLF).
func (v Verdict) Error() string {
	switch v.Kind {
	case Moved:
		return "MOVED " + strconv.Itoa(v.Slot) + " " + v.Endpoint
	case Ask:
		return "ASK " + strconv.Itoa(v.Slot) + " " + v.Endpoint
	case TryAgain:
		return "TRYAGAIN Multiple keys request during rehashing of slot"
	case CrossSlot:
		return "CROSSSLOT Keys in request don't hash to the same slot"
	case Unbound:
		return "CLUSTERDOWN Hash slot not served"
	case Down:
		return "CLUSTERDOWN The cluster is down"
	case DownRO:
		return "CLUSTERDOWN The cluster is down and only accepts read commands"
	}
	return ""
}
