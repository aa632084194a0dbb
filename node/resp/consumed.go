package resp

// Consumed returns the total number of bytes of complete commands returned
// by ReadCommand so far (replication offsets count these bytes).
func (r *Reader) Consumed() int64 { return r.consumed + int64(r.r) }
