// Package slots owns the mapping of keys to Redis Cluster hash slots: the
// CRC16/XMODEM hash, Redis's hash-tag rules, slot bitmaps and the textual
// range sets ("0-5460 5461 ...") used by CLUSTER NODES and nodes.conf.
package slots

import (
	"github.com/sigurn/crc16"
)

// N is the number of hash slots.
const N = 16384

var table = crc16.MakeTable(crc16.CRC16_XMODEM)

// crcTab is the XMODEM table as a plain array so the hot path does not go
// through the library's generic update loop.
var crcTab [256]uint16

func init() {
	for i := 0; i < 256; i++ {
		crcTab[i] = crc16.Checksum([]byte{byte(i)}, table)
	}
}

// CRC16 returns CRC16/XMODEM of b (poly 0x1021, init 0, no reflection).
func CRC16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crc<<8 ^ crcTab[byte(crc>>8)^c]
	}
	return crc
}

// HashTag returns the part of key that is hashed: the text between the first
// '{' and the first '}' after it when non-empty, otherwise the whole key.
func HashTag(key []byte) []byte {
	for i := 0; i < len(key); i++ {
		if key[i] == '{' {
			for j := i + 1; j < len(key); j++ {
				if key[j] == '}' {
					if j == i+1 {
						return key
					}
					return key[i+1 : j]
				}
			}
			return key
		}
	}
	return key
}

// Of returns the hash slot of key.
func Of(key []byte) int {
	return int(CRC16(HashTag(key)) & (N - 1))
}

// OfString returns the hash slot of key without copying it.
func OfString(key string) int {
	// Mirror of Of for strings, kept allocation-free.
	s, e := 0, len(key)
	for i := 0; i < len(key); i++ {
		if key[i] == '{' {
			for j := i + 1; j < len(key); j++ {
				if key[j] == '}' {
					if j > i+1 {
						s, e = i+1, j
					}
					break
				}
			}
			break
		}
	}
	var crc uint16
	for k := s; k < e; k++ {
		crc = crc<<8 ^ crcTab[byte(crc>>8)^key[k]]
	}
	return int(crc & (N - 1))
}
