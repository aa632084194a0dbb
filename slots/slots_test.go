package slots

import "testing"

func TestCRC16AndSlots(t *testing.T) {
	if got := CRC16([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("crc16 check value = %#x, want 0x31c3", got)
	}
	cases := map[string]int{"foo": 12182, "bar": 5061, "hello": 866, "": 0}
	for k, want := range cases {
		if got := Of([]byte(k)); got != want {
			t.Errorf("Of(%q) = %d, want %d", k, got, want)
		}
		if got := OfString(k); got != want {
			t.Errorf("OfString(%q) = %d, want %d", k, got, want)
		}
	}
}

func TestHashTags(t *testing.T) {
	cases := []struct{ key, hashed string }{
		{"{user1000}.following", "user1000"},
		{"foo{}{bar}", "foo{}{bar}"},
		{"{}{a}", "{}{a}"},
		{"a{b}{c}", "b"},
		{"}{a}", "a"},
		{"foo{{bar}}zap", "{bar"},
		{"foo{bar}{zap}", "bar"},
		{"{", "{"},
		{"no tag", "no tag"},
	}
	for _, c := range cases {
		if got := string(HashTag([]byte(c.key))); got != c.hashed {
			t.Errorf("HashTag(%q) = %q, want %q", c.key, got, c.hashed)
		}
		if Of([]byte(c.key)) != Of([]byte(c.hashed)) || OfString(c.key) != Of([]byte(c.hashed)) {
			t.Errorf("slot of %q differs from slot of %q", c.key, c.hashed)
		}
	}
}

func TestRanges(t *testing.T) {
	b, err := ParseRanges("0-5460 5462 16383")
	if err != nil {
		t.Fatal(err)
	}
	if b.Count() != 5463 {
		t.Fatalf("count = %d", b.Count())
	}
	if s := b.String(); s != "0-5460 5462 16383" {
		t.Fatalf("String = %q", s)
	}
	for _, bad := range []string{"16384", "-1", "5-3", "a", "1-x", "01"} {
		if _, err := ParseRanges(bad); err == nil {
			t.Errorf("ParseRanges(%q) accepted", bad)
		}
	}
}

func BenchmarkOf(b *testing.B) {
	k := []byte("key:000000000042")
	for i := 0; i < b.N; i++ {
		_ = Of(k)
	}
}
