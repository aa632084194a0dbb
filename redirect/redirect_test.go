package redirect

import "testing"

func TestDecide(t *testing.T) {
	tb := NewTable(Node{ID: "me", Endpoint: "127.0.0.1:7000"})
	tb.Nodes = append(tb.Nodes, Node{ID: "other", Endpoint: "127.0.0.1:7001"})
	own, mig, imp := tb.Owner.Edit(), tb.Migrating.Edit(), tb.Importing.Edit()
	own.Set(1, 0)
	own.Set(2, 1)
	own.Set(3, 0)
	mig.Set(3, 1)
	own.Set(4, 1)
	imp.Set(4, 1)
	tb.Owner, tb.Migrating, tb.Importing = own.Done(), mig.Done(), imp.Done()
	cases := []struct {
		name string
		r    Request
		want string
		kind Kind
	}{
		{"no keys", Request{Slot: -1}, "", Serve},
		{"cross", Request{Slot: 1, CrossSlot: true}, "CROSSSLOT Keys in request don't hash to the same slot", CrossSlot},
		{"mine", Request{Slot: 1}, "", Serve},
		{"moved", Request{Slot: 2}, "MOVED 2 127.0.0.1:7001", Moved},
		{"unbound", Request{Slot: 5}, "CLUSTERDOWN Hash slot not served", Unbound},
		{"migrating needs keys", Request{Slot: 3}, "", NeedKeys},
		{"migrating all present", Request{Slot: 3, KeysKnown: true, Present: 2}, "", Serve},
		{"migrating none present", Request{Slot: 3, KeysKnown: true, Missing: 1}, "ASK 3 127.0.0.1:7001", Ask},
		{"migrating some present", Request{Slot: 3, KeysKnown: true, Missing: 1, Present: 1}, "TRYAGAIN Multiple keys request during rehashing of slot", TryAgain},
		{"importing without asking", Request{Slot: 4}, "MOVED 4 127.0.0.1:7001", Moved},
		{"importing asking", Request{Slot: 4, Asking: true, KeysKnown: true, Missing: 1}, "", Serve},
		{"importing asking multi missing", Request{Slot: 4, Asking: true, KeysKnown: true, Missing: 1, Present: 1}, "TRYAGAIN Multiple keys request during rehashing of slot", TryAgain},
		{"migrate command on open slot", Request{Slot: 3, Migrate: true}, "", Serve},
		{"readonly on non-replica", Request{Slot: 2, ReadOnly: true}, "MOVED 2 127.0.0.1:7001", Moved},
	}
	for _, c := range cases {
		v := Decide(tb, c.r)
		if v.Kind != c.kind || v.Error() != c.want {
			t.Errorf("%s: got %v %q, want %v %q", c.name, v.Kind, v.Error(), c.kind, c.want)
		}
	}
	tb.Master = 1
	if v := Decide(tb, Request{Slot: 2, ReadOnly: true}); v.Kind != Serve {
		t.Errorf("replica READONLY read of master's slot: %v", v.Kind)
	}
	if v := Decide(tb, Request{Slot: 2, ReadOnly: true, Write: true}); v.Kind != Moved {
		t.Errorf("replica write: %v", v.Kind)
	}
	tb.Down = true
	if v := Decide(tb, Request{Slot: 1}); v.Error() != "CLUSTERDOWN The cluster is down" {
		t.Errorf("down: %q", v.Error())
	}
	tb.ReadsWhenDown = true
	if v := Decide(tb, Request{Slot: 1}); v.Kind != Serve {
		t.Errorf("reads when down: %v", v.Kind)
	}
	if v := Decide(tb, Request{Slot: 1, Write: true}); v.Error() != "CLUSTERDOWN The cluster is down and only accepts read commands" {
		t.Errorf("write when down: %q", v.Error())
	}
}

func BenchmarkDecideServe(b *testing.B) {
	tb := NewTable(Node{ID: "me", Endpoint: "127.0.0.1:7000"})
	tb.Owner = Fill(0)
	for i := 0; i < b.N; i++ {
		Decide(tb, Request{Slot: i & 16383})
	}
}

func TestSlotMap(t *testing.T) {
	var want [NumSlots]uint16
	for i := range want {
		want[i] = None
	}
	m := NewSlotMap()
	x := uint32(7)
	for step := 0; step < 2000; step++ {
		prev := m
		prevWant := want
		e := m.Edit()
		for k := 0; k < 1+step%5; k++ {
			x = x*1664525 + 1013904223
			slot, v := int(x>>8)%NumSlots, uint16(x>>28)
			if v == 15 {
				v = None
			}
			e.Set(slot, v)
			want[slot] = v
		}
		m = e.Done()
		for i := 0; i < NumSlots; i++ {
			if m.Get(i) != want[i] || prev.Get(i) != prevWant[i] {
				t.Fatalf("step %d slot %d: got %d (was %d), want %d (was %d)", step, i, m.Get(i), prev.Get(i), want[i], prevWant[i])
			}
		}
		if step%100 == 0 {
			if c := SlotMapOf(m, &want); c != m {
				t.Fatal("SlotMapOf of an equal map did not return it")
			}
			if c := SlotMapOf(nil, &want); c == m || c.Get(5) != want[5] {
				t.Fatal("SlotMapOf(nil)")
			}
		}
	}
	if e := m.Edit(); e.Done() != m {
		t.Fatal("an edit without changes must return the original")
	}
	if f := Fill(3); f.Get(0) != 3 || f.Get(NumSlots-1) != 3 {
		t.Fatal("Fill")
	}
}
