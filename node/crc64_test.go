package node

import (
	"hash/crc64"
	"math/rand"
	"testing"
)

func TestCRC64JonesSlice8(t *testing.T) {
	// Redis's own check value (src/crc64.c): crc64(0, "123456789") = 0xe9c6d914c4b8d9ca.
	if got := RedisCRC64(0, []byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("RedisCRC64(123456789) = %#x", got)
	}
	r := rand.New(rand.NewSource(1))
	for n := 0; n < 600; n++ {
		p := make([]byte, n)
		r.Read(p)
		seed := r.Uint64()
		want := ^crc64.Update(^seed, crc64Jones, p)
		if got := crc64JonesUpdate(seed, p); got != want {
			t.Fatalf("len %d: %#x, want %#x", n, got, want)
		}
	}
}

func BenchmarkRedisCRC64(b *testing.B) {
	p := make([]byte, 120)
	b.SetBytes(int64(len(p)))
	for i := 0; i < b.N; i++ {
		RedisCRC64(0, p)
	}
}
