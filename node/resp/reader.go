// Package resp owns the RESP wire format on the client port: a bounded,
// resumable command reader (multibulk and inline) and a reply writer that
// speaks RESP2 or RESP3 per connection.
//
// Neither type is safe for concurrent use; each connection owns one of each.
package resp

import (
	"errors"
	"io"
	"strconv"
)

// Limits bound what one client may make the reader buffer.
type Limits struct {
	MaxBulk      int64 // proto-max-bulk-len
	MaxArgs      int   // largest accepted multibulk count
	MaxInline    int   // longest inline command / header line
	Unauthed     bool  // apply Redis's stricter limits for unauthenticated clients
	MaxAuthBulk  int64 // bulk limit while unauthenticated
	MaxAuthArgs  int   // multibulk limit while unauthenticated
	InitialBytes int   // starting buffer size
}

// DefaultLimits mirrors redis-server's defaults.
func DefaultLimits() Limits {
	return Limits{
		MaxBulk:      512 << 20,
		MaxArgs:      1<<31 - 1,
		MaxInline:    64 << 10,
		MaxAuthBulk:  16384,
		MaxAuthArgs:  10,
		InitialBytes: 16 << 10,
	}
}

// ProtocolError is a malformed request. Its text is what Redis replies
// (after "-ERR "), and the connection must be closed after replying.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "Protocol error: " + e.Msg }

var (
	errMBulkLen     = &ProtocolError{"invalid multibulk length"}
	errBulkLen      = &ProtocolError{"invalid bulk length"}
	errBigInline    = &ProtocolError{"too big inline request"}
	errBigMBulk     = &ProtocolError{"too big mbulk count string"}
	errBigBulkCount = &ProtocolError{"too big bulk count string"}
	errUnbalanced   = &ProtocolError{"unbalanced quotes in request"}
	errUnauthMBulk  = &ProtocolError{"unauthenticated multibulk length"}
	errUnauthBulk   = &ProtocolError{"unauthenticated bulk length"}
	errNeedMore     = errors.New("need more")
	errMissingCRLF  = &ProtocolError{"invalid bulk length"}
)

// Reader reads client commands. Argument slices returned by ReadCommand
// point into the reader's buffer and stay valid only until the next call.
type Reader struct {
	rd     io.Reader
	Limits Limits
	buf    []byte
	r, w   int // unread bytes are buf[r:w]

	// resumable multibulk state, offsets relative to r
	pos   int   // parse position
	want  int   // declared args, -1 before the header
	marks []int // start,end pairs of parsed args
	args  [][]byte

	consumed int64 // bytes dropped from buf by compaction/rewind (see Consumed)
}

// NewReader returns a reader over rd with limits l.
func NewReader(rd io.Reader, l Limits) *Reader {
	if l.InitialBytes <= 0 {
		l.InitialBytes = 16 << 10
	}
	return &Reader{rd: rd, Limits: l, buf: make([]byte, l.InitialBytes), want: -1}
}

// Buffered returns the number of unread bytes already received.
func (r *Reader) Buffered() int { return r.w - r.r }

// ReadCommand returns the next command's arguments (never empty). Empty
// inline lines and "*0" headers are skipped as Redis does.
func (r *Reader) ReadCommand() ([][]byte, error) {
	for {
		if r.r < r.w {
			args, err := r.parse()
			if err == nil {
				if len(args) == 0 {
					continue
				}
				return args, nil
			}
			if err != errNeedMore {
				return nil, err
			}
		}
		if err := r.fill(); err != nil {
			return nil, err
		}
	}
}

// fill reads more bytes, compacting or growing the buffer as needed.
func (r *Reader) fill() error {
	if r.r == r.w {
		r.consumed += int64(r.r)
		r.r, r.w = 0, 0
		if len(r.buf) > 4*r.Limits.InitialBytes {
			r.buf = make([]byte, r.Limits.InitialBytes) // give back a big buffer
		}
	}
	if r.w == len(r.buf) {
		if r.r > 0 {
			n := copy(r.buf, r.buf[r.r:r.w])
			r.consumed += int64(r.r)
			r.r, r.w = 0, n
		} else {
			nb := make([]byte, len(r.buf)*2)
			copy(nb, r.buf[:r.w])
			r.buf = nb
		}
	}
	n, err := r.rd.Read(r.buf[r.w:])
	r.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

func (r *Reader) reset() {
	r.pos, r.want = 0, -1
	r.marks = r.marks[:0]
}

// parse tries to complete one command from buf[r:w].
func (r *Reader) parse() ([][]byte, error) {
	b := r.buf[r.r:r.w]
	if r.want < 0 && r.pos == 0 && b[0] != '*' {
		return r.parseInline(b)
	}
	if r.want < 0 {
		line, next, err := r.line(b, 1, errBigMBulk)
		if err != nil {
			return nil, err
		}
		n, ok := parseInt(line)
		if !ok || n > int64(r.Limits.MaxArgs) || n > 1<<31-1 {
			return nil, errMBulkLen
		}
		if r.Limits.Unauthed && n > int64(r.Limits.MaxAuthArgs) {
			return nil, errUnauthMBulk
		}
		if n <= 0 {
			r.r += next
			r.reset()
			return nil, nil
		}
		r.want = int(n)
		r.pos = next
	}
	for len(r.marks)/2 < r.want {
		if r.pos >= len(b) {
			return nil, errNeedMore
		}
		if b[r.pos] != '$' {
			return nil, &ProtocolError{"expected '$', got '" + string(b[r.pos]) + "'"}
		}
		line, next, err := r.line(b, r.pos+1, errBigBulkCount)
		if err != nil {
			return nil, err
		}
		n, ok := parseInt(line)
		if !ok || n < 0 || n > r.Limits.MaxBulk {
			return nil, errBulkLen
		}
		if r.Limits.Unauthed && n > r.Limits.MaxAuthBulk {
			return nil, errUnauthBulk
		}
		end := next + int(n)
		if end+2 > len(b) {
			// Make sure the buffer can hold the whole argument before
			// asking for more, without trusting n beyond what arrives.
			return nil, errNeedMore
		}
		if b[end] != '\r' || b[end+1] != '\n' {
			return nil, errMissingCRLF
		}
		r.marks = append(r.marks, next, end)
		r.pos = end + 2
	}
	args := r.args[:0]
	for i := 0; i < len(r.marks); i += 2 {
		args = append(args, b[r.marks[i]:r.marks[i+1]:r.marks[i+1]])
	}
	r.args = args
	r.r += r.pos
	r.reset()
	return args, nil
}

// line returns the text of the CRLF-terminated line starting at from (after
// the type byte) and the offset just past its LF.
func (r *Reader) line(b []byte, from int, tooBig error) ([]byte, int, error) {
	for i := from; i < len(b); i++ {
		if b[i] == '\n' {
			if i == from || b[i-1] != '\r' {
				if tooBig == errBigMBulk {
					return nil, 0, errMBulkLen
				}
				return nil, 0, errBulkLen
			}
			return b[from : i-1], i + 1, nil
		}
		if i-from > r.Limits.MaxInline {
			return nil, 0, tooBig
		}
	}
	if len(b)-from > r.Limits.MaxInline {
		return nil, 0, tooBig
	}
	return nil, 0, errNeedMore
}

// parseInt parses a length header like strconv.ParseInt(b, 10, 64) (an
// optional sign, then digits) with a fast path for plain digit strings.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) <= 18 {
		var n int64
		for _, c := range b {
			if c < '0' || c > '9' {
				goto slow
			}
			n = n*10 + int64(c-'0')
		}
		return n, true
	}
slow:
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}

func (r *Reader) parseInline(b []byte) ([][]byte, error) {
	nl := -1
	for i, c := range b {
		if c == '\n' {
			nl = i
			break
		}
	}
	if nl < 0 {
		if len(b) > r.Limits.MaxInline {
			return nil, errBigInline
		}
		return nil, errNeedMore
	}
	if nl > r.Limits.MaxInline {
		return nil, errBigInline
	}
	line := b[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	args, err := SplitArgs(line, r.args[:0])
	if err != nil {
		return nil, errUnbalanced
	}
	r.args = args
	r.r += nl + 1
	return args, nil
}

// SplitArgs splits an inline command like Redis's sdssplitargs: spaces
// separate arguments, "double quotes" accept \n \r \t \b \a \\ \" and \xHH
// escapes, 'single quotes' accept \'. A closing quote must be followed by a
// space or the end. The returned slices are freshly allocated.
func SplitArgs(line []byte, dst [][]byte) ([][]byte, error) {
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return dst, nil
		}
		var cur []byte
		inq, insq, done := false, false, false
		cur = []byte{}
		for !done {
			if inq {
				if i >= len(line) {
					return nil, errUnbalanced
				}
				c := line[i]
				if c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]) {
					cur = append(cur, hexVal(line[i+2])<<4|hexVal(line[i+3]))
					i += 3
				} else if c == '\\' && i+1 < len(line) {
					i++
					switch line[i] {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, line[i])
					}
				} else if c == '"' {
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, errUnbalanced
					}
					done = true
				} else {
					cur = append(cur, c)
				}
			} else if insq {
				if i >= len(line) {
					return nil, errUnbalanced
				}
				c := line[i]
				if c == '\\' && i+1 < len(line) && line[i+1] == '\'' {
					i++
					cur = append(cur, '\'')
				} else if c == '\'' {
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, errUnbalanced
					}
					done = true
				} else {
					cur = append(cur, c)
				}
			} else {
				if i >= len(line) {
					done = true
					break
				}
				switch c := line[i]; c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					cur = append(cur, c)
				}
			}
			if i < len(line) {
				i++
			}
		}
		dst = append(dst, cur)
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
