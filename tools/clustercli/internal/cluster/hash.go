package cluster

import "github.com/sigurn/crc16"

var crcTable = crc16.MakeTable(crc16.CRC16_XMODEM)

// KeySlot returns the hash slot of key, honouring hash tags exactly like
// Redis (first '{', first '}' after it, non-empty content).
func KeySlot(key string) int {
	s := -1
	for i := 0; i < len(key); i++ {
		if key[i] == '{' {
			s = i
			break
		}
	}
	if s >= 0 {
		for e := s + 1; e < len(key); e++ {
			if key[e] == '}' {
				if e > s+1 {
					key = key[s+1 : e]
				}
				break
			}
		}
	}
	return int(crc16.Checksum([]byte(key), crcTable) & (NumSlots - 1))
}
