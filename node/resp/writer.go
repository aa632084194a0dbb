package resp

import (
	"math"
	"strconv"
)

// Writer appends replies to an in-memory buffer in RESP2 or RESP3. The
// connection flushes Buf() to the socket; scripts and MULTI read it back.
type Writer struct {
	B     []byte
	Proto int // 2 or 3
}

// Reset empties the buffer, keeping its capacity.
func (w *Writer) Reset() { w.B = w.B[:0] }

// Len returns the number of buffered bytes.
func (w *Writer) Len() int { return len(w.B) }

func (w *Writer) line(prefix byte, n int64) {
	w.B = append(w.B, prefix)
	w.B = strconv.AppendInt(w.B, n, 10)
	w.B = append(w.B, '\r', '\n')
}

// Simple writes a status reply: +s
func (w *Writer) Simple(s string) {
	w.B = append(w.B, '+')
	w.B = append(w.B, s...)
	w.B = append(w.B, '\r', '\n')
}

// OK writes +OK.
func (w *Writer) OK() { w.B = append(w.B, "+OK\r\n"...) }

// ErrorHook, when set (once, at init), sees the text of every error reply
// (INFO errorstats / total_error_replies).
var ErrorHook func(msg string)

// Error writes -s; s is the full error text such as "ERR syntax error".
func (w *Writer) Error(s string) {
	if ErrorHook != nil {
		ErrorHook(s)
	}
	w.B = append(w.B, '-')
	for i := 0; i < len(s); i++ { // errors are one line
		if c := s[i]; c == '\r' || c == '\n' {
			w.B = append(w.B, ' ')
		} else {
			w.B = append(w.B, c)
		}
	}
	w.B = append(w.B, '\r', '\n')
}

// Int writes an integer reply.
func (w *Writer) Int(n int64) {
	switch n {
	case 0:
		w.B = append(w.B, ":0\r\n"...)
	case 1:
		w.B = append(w.B, ":1\r\n"...)
	default:
		w.line(':', n)
	}
}

// Bulk writes a bulk string.
func (w *Writer) Bulk(b []byte) {
	w.line('$', int64(len(b)))
	w.B = append(w.B, b...)
	w.B = append(w.B, '\r', '\n')
}

// BulkString writes a bulk string from a Go string.
func (w *Writer) BulkString(s string) {
	w.line('$', int64(len(s)))
	w.B = append(w.B, s...)
	w.B = append(w.B, '\r', '\n')
}

// BulkInt writes n as a bulk string (as Redis does for INCRBYFLOAT-like
// replies and CONFIG GET values).
func (w *Writer) BulkInt(n int64) {
	var tmp [24]byte
	w.Bulk(strconv.AppendInt(tmp[:0], n, 10))
}

// Null writes the null bulk string ($-1 in RESP2, _ in RESP3).
func (w *Writer) Null() {
	if w.Proto == 3 {
		w.B = append(w.B, "_\r\n"...)
	} else {
		w.B = append(w.B, "$-1\r\n"...)
	}
}

// NullArray writes the null array (*-1 in RESP2, _ in RESP3).
func (w *Writer) NullArray() {
	if w.Proto == 3 {
		w.B = append(w.B, "_\r\n"...)
	} else {
		w.B = append(w.B, "*-1\r\n"...)
	}
}

// Array writes an array header of n elements.
func (w *Writer) Array(n int) { w.line('*', int64(n)) }

// Map writes a map header of n pairs (a flat array of 2n in RESP2).
func (w *Writer) Map(n int) {
	if w.Proto == 3 {
		w.line('%', int64(n))
	} else {
		w.line('*', int64(2*n))
	}
}

// Set writes a set header (an array in RESP2).
func (w *Writer) Set(n int) {
	if w.Proto == 3 {
		w.line('~', int64(n))
	} else {
		w.line('*', int64(n))
	}
}

// Push writes an out-of-band push header (an array in RESP2).
func (w *Writer) Push(n int) {
	if w.Proto == 3 {
		w.line('>', int64(n))
	} else {
		w.line('*', int64(n))
	}
}

// Bool writes a boolean (#t/#f in RESP3, :1/:0 in RESP2).
func (w *Writer) Bool(v bool) {
	switch {
	case w.Proto == 3 && v:
		w.B = append(w.B, "#t\r\n"...)
	case w.Proto == 3:
		w.B = append(w.B, "#f\r\n"...)
	case v:
		w.B = append(w.B, ":1\r\n"...)
	default:
		w.B = append(w.B, ":0\r\n"...)
	}
}

// Double writes a double: ",x" in RESP3, a bulk string in RESP2, formatted
// like Redis 7.0's addReplyDouble ("%.17g", inf/-inf).
func (w *Writer) Double(f float64) {
	var tmp [32]byte
	b := FormatDouble(tmp[:0], f)
	if w.Proto == 3 {
		w.B = append(w.B, ',')
		w.B = append(w.B, b...)
		w.B = append(w.B, '\r', '\n')
		return
	}
	w.Bulk(b)
}

// FormatDouble appends f the way Redis formats scores: "%.17g", with
// "inf"/"-inf" for infinities.
func FormatDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(f):
		return append(dst, "nan"...)
	}
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}

// Verbatim writes a verbatim string (=len\r\ntxt:... in RESP3, bulk in RESP2).
func (w *Writer) Verbatim(s string) {
	if w.Proto == 3 {
		w.line('=', int64(len(s)+4))
		w.B = append(w.B, "txt:"...)
		w.B = append(w.B, s...)
		w.B = append(w.B, '\r', '\n')
		return
	}
	w.BulkString(s)
}

// Raw appends pre-encoded RESP.
func (w *Writer) Raw(b []byte) { w.B = append(w.B, b...) }
