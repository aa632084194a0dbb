package redirect

import "testing"

func TestDecide(t *testing.T) {
	tb := NewTable(Node{ID: "me", Endpoint: "127.0.0.1:7000"})
	tb.Nodes = append(tb.Nodes, Node{ID: "other", Endpoint: "127.0.0.1:7001"})
	tb.Owner[1] = 0
	tb.Owner[2] = 1
	tb.Owner[3] = 0
	tb.Migrating[3] = 1
	tb.Owner[4] = 1
	tb.Importing[4] = 1
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
	for i := range tb.Owner {
		tb.Owner[i] = 0
	}
	for i := 0; i < b.N; i++ {
		Decide(tb, Request{Slot: i & 16383})
	}
}
