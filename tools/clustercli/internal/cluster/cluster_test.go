package cluster

import (
	"reflect"
	"testing"
)

func TestKeySlot(t *testing.T) {
	cases := map[string]int{
		"foo": 12182, "bar": 5061, "hello": 866, "123456789": 0x31C3 & 16383,
		"{user1000}.following": KeySlot("user1000"),
		"{}{a}":                KeySlot("{}{a}"), // whole key
		"a{b}{c}":              KeySlot("b"),
		"}{a}":                 KeySlot("a"),
		"{a":                   KeySlot("{a"),
	}
	for k, want := range cases {
		if got := KeySlot(k); got != want {
			t.Errorf("KeySlot(%q) = %d, want %d", k, got, want)
		}
	}
	if KeySlot("{}{a}") == KeySlot("a") {
		t.Errorf("{}{a} must hash the whole key")
	}
}

func TestParseNodeLine(t *testing.T) {
	line := "abc 127.0.0.1:7000@17000,host1 myself,master - 0 1796183597000 1 connected 0-5460 5462 [5->-def] [7-<-ghi]"
	l, err := ParseNodeLine(line)
	if err != nil {
		t.Fatal(err)
	}
	if l.ID != "abc" || l.Host != "127.0.0.1" || l.Port != 7000 || l.BusPort != 17000 || l.Hostname != "host1" {
		t.Fatalf("bad address parse: %+v", l)
	}
	if !l.HasFlag("myself") || !l.HasFlag("master") || l.MasterID != "" || l.ConfigEpoch != 1 || l.LinkState != "connected" {
		t.Fatalf("bad fields: %+v", l)
	}
	if l.Slots.Count() != 5462 || !l.Slots.Has(5462) || l.Slots.Has(5461) {
		t.Fatalf("bad slots: %d", l.Slots.Count())
	}
	if l.Migrating[5] != "def" || l.Importing[7] != "ghi" {
		t.Fatalf("bad markers: %v %v", l.Migrating, l.Importing)
	}
	if !reflect.DeepEqual(l.SlotTokens, []string{"0-5460", "5462"}) {
		t.Fatalf("tokens %v", l.SlotTokens)
	}
	if l.Slots.String() != "[0-5460],[5462]" {
		t.Fatalf("String() = %s", l.Slots.String())
	}
	r, err := ParseNodeLine("def :0@0 slave,fail,noaddr abc 1 2 3 disconnected")
	if err != nil || r.MasterID != "abc" || r.Port != 0 || !r.HasFlag("noaddr") {
		t.Fatalf("noaddr line: %+v %v", r, err)
	}
	if _, err := ParseNodeLine("garbage"); err == nil {
		t.Fatal("want error for short line")
	}
	if _, err := ParseNodeLine("a 1.2.3.4:1@2 master - 0 0 1 connected 99999"); err == nil {
		t.Fatal("want error for slot out of range")
	}
}

func TestConfigSignature(t *testing.T) {
	a, _ := ParseNodes("n2 1.1.1.1:2@3 master - 0 0 2 connected 10-20 5\nn1 1.1.1.1:1@2 myself,master - 0 0 1 connected 0-4 [3->-n2]\nn3 1.1.1.1:3@4 slave n1 0 0 1 connected\n")
	b, _ := ParseNodes("n1 1.1.1.1:1@2 master - 0 0 1 connected 0-4\nn2 1.1.1.1:2@3 myself,master - 0 0 2 connected 5 10-20\n")
	if sa, sb := ConfigSignature(a), ConfigSignature(b); sa != sb || sa != "n1:0-4|n2:10-20,5" {
		t.Fatalf("signatures %q vs %q", sa, sb)
	}
}

func TestRanges(t *testing.T) {
	got, err := ParseRanges("5,0-2, 4 3")
	if err != nil || !reflect.DeepEqual(got, []int{0, 1, 2, 3, 4, 5}) {
		t.Fatalf("ParseRanges: %v %v", got, err)
	}
	if FormatRanges([]int{0, 1, 2, 7, 9, 10}) != "0-2,7,9-10" {
		t.Fatal(FormatRanges([]int{0, 1, 2, 7, 9, 10}))
	}
	for _, bad := range []string{"16384", "-1", "3-1", "x"} {
		if _, err := ParseRanges(bad); err == nil {
			t.Errorf("ParseRanges(%q) should fail", bad)
		}
	}
	var s SlotSet
	s.AddRange(0, 16383)
	if s.Count() != NumSlots || len(s.List()) != NumSlots {
		t.Fatal("full set")
	}
}

func TestParseAddr(t *testing.T) {
	h, p, b, hn, err := ParseAddr("::1:7000@17000")
	if err != nil || h != "::1" || p != 7000 || b != 17000 || hn != "" {
		t.Fatalf("%v %v %v %v %v", h, p, b, hn, err)
	}
	if _, err := NewNode("nocolon"); err == nil {
		t.Fatal("want error")
	}
	if n, err := NewNode("localhost:7000"); err != nil || n.Host != "localhost" || n.Port != 7000 {
		t.Fatal(n, err)
	}
}
