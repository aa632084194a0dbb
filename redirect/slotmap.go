package redirect

// SlotMap maps every hash slot to a node index (None: no node). It is
// immutable once published in a Table. The slots are stored in 64 chunks
// of 256, so a table rebuilt after a few slots changed (every CLUSTER
// SETSLOT, every owner learned by gossip) copies the chunk pointers and the
// chunks it changes, about 1 KB, and shares the rest with its predecessor,
// instead of copying 32 KB per array: during a reshard those copies were
// 80% of a node's garbage, and its GC rescanned the keyspace for them.
// A lookup is two dependent loads, both normally in L1.
type SlotMap struct {
	c [NumSlots / chunkLen]*slotChunk
}

const chunkLen = 256

type slotChunk [chunkLen]uint16

// noneChunk is shared by every all-None chunk.
var noneChunk = func() *slotChunk {
	var c slotChunk
	for i := range c {
		c[i] = None
	}
	return &c
}()

// Get returns the node index of slot (0 <= slot < NumSlots).
func (m *SlotMap) Get(slot int) uint16 { return m.c[slot>>8][slot&(chunkLen-1)] }

// NewSlotMap returns a map with every slot set to None.
func NewSlotMap() *SlotMap {
	m := &SlotMap{}
	for i := range m.c {
		m.c[i] = noneChunk
	}
	return m
}

// SlotMapOf returns a map equal to a: prev itself when it already is (prev
// may be nil), else a map sharing prev's chunks wherever they are equal.
func SlotMapOf(prev *SlotMap, a *[NumSlots]uint16) *SlotMap {
	m := &SlotMap{}
	same := prev != nil
	for i := range m.c {
		part := (*slotChunk)(a[i*chunkLen : (i+1)*chunkLen])
		switch {
		case prev != nil && *prev.c[i] == *part:
			m.c[i] = prev.c[i]
			continue
		case *part == *noneChunk:
			m.c[i] = noneChunk
		default:
			c := *part
			m.c[i] = &c
		}
		same = false
	}
	if same {
		return prev
	}
	return m
}

// SlotMapEdit builds a changed copy of a SlotMap without modifying it:
// chunks are copied the first time a Set changes them.
type SlotMapEdit struct {
	base   *SlotMap
	m      *SlotMap
	copied [NumSlots / chunkLen]bool
}

// Edit starts a copy-on-write edit of m.
func (m *SlotMap) Edit() *SlotMapEdit { return &SlotMapEdit{base: m} }

// Set sets slot to node index v in the copy.
func (e *SlotMapEdit) Set(slot int, v uint16) {
	cur := e.base
	if e.m != nil {
		cur = e.m
	}
	if cur.Get(slot) == v {
		return
	}
	if e.m == nil {
		e.m = &SlotMap{c: e.base.c}
	}
	ci := slot >> 8
	if !e.copied[ci] {
		c := *e.m.c[ci]
		e.m.c[ci] = &c
		e.copied[ci] = true
	}
	e.m.c[ci][slot&(chunkLen-1)] = v
}

// Done returns the edited map: the original when no Set changed anything.
func (e *SlotMapEdit) Done() *SlotMap {
	if e.m == nil {
		return e.base
	}
	return e.m
}

// Fill returns a map with every slot set to v (tests, single-node tables).
func Fill(v uint16) *SlotMap {
	if v == None {
		return NewSlotMap()
	}
	var c slotChunk
	for i := range c {
		c[i] = v
	}
	m := &SlotMap{}
	for i := range m.c {
		m.c[i] = &c // shared: the map is immutable
	}
	return m
}
