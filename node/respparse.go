package node

// A small RESP2/RESP3 reply parser: scripts run commands into a buffer and
// read the replies back to convert them to Lua values.

import (
	"errors"
	"math"
	"strconv"
)

// Reply is one parsed RESP reply.
type Reply struct {
	// Kind is the RESP type byte: '+' status, '-' error, ':' integer,
	// '$' bulk, '*' array, '_' null, ',' double, '#' boolean, '%' map,
	// '~' set, '>' push, '(' big number, '=' verbatim, '|' attribute.
	Kind byte
	Str  []byte  // status, error, bulk, big number, verbatim (with its "txt:" prefix removed), double text
	Int  int64   // integer; boolean as 0/1
	Num  float64 // double
	Nil  bool    // $-1, *-1 or _
	// Elems holds array/set/push elements, or map keys and values
	// alternately.
	Elems []Reply
}

var errBadReply = errors.New("malformed reply")

// ParseReply parses one reply from b and returns it and the bytes after it.
// Slices in the Reply point into b.
func ParseReply(b []byte) (Reply, []byte, error) {
	return parseReply(b, 0)
}

func parseReply(b []byte, depth int) (Reply, []byte, error) {
	if depth > 1000 {
		return Reply{}, nil, errBadReply
	}
	line, rest, ok := replyLine(b)
	if !ok || len(line) == 0 {
		return Reply{}, nil, errBadReply
	}
	r := Reply{Kind: line[0]}
	body := line[1:]
	switch r.Kind {
	case '+', '-', '(':
		r.Str = body
		return r, rest, nil
	case ':':
		n, err := strconv.ParseInt(string(body), 10, 64)
		if err != nil {
			return r, nil, errBadReply
		}
		r.Int = n
		return r, rest, nil
	case '_':
		r.Nil = true
		return r, rest, nil
	case '#':
		if len(body) != 1 || (body[0] != 't' && body[0] != 'f') {
			return r, nil, errBadReply
		}
		if body[0] == 't' {
			r.Int = 1
		}
		return r, rest, nil
	case ',':
		r.Str = body
		f, err := strconv.ParseFloat(string(body), 64)
		if err != nil {
			switch string(body) {
			case "inf":
				f = math.Inf(1)
			case "-inf":
				f = math.Inf(-1)
			case "nan":
				f = math.NaN()
			default:
				return r, nil, errBadReply
			}
		}
		r.Num = f
		return r, rest, nil
	case '$', '=', '!':
		n, err := strconv.Atoi(string(body))
		if err != nil || n < -1 {
			return r, nil, errBadReply
		}
		if n == -1 {
			r.Nil = true
			return r, rest, nil
		}
		if len(rest) < n+2 || rest[n] != '\r' || rest[n+1] != '\n' {
			return r, nil, errBadReply
		}
		r.Str = rest[:n]
		if r.Kind == '=' && n >= 4 {
			r.Str = r.Str[4:]
		}
		if r.Kind == '!' {
			r.Kind = '-'
		}
		return r, rest[n+2:], nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(string(body))
		if err != nil || n < -1 {
			return r, nil, errBadReply
		}
		if n == -1 {
			r.Nil = true
			return r, rest, nil
		}
		if r.Kind == '%' || r.Kind == '|' {
			n *= 2
		}
		if n > len(rest) {
			return r, nil, errBadReply
		}
		r.Elems = make([]Reply, n)
		for i := 0; i < n; i++ {
			var err error
			r.Elems[i], rest, err = parseReply(rest, depth+1)
			if err != nil {
				return r, nil, err
			}
		}
		if r.Kind == '|' { // attributes precede the real reply: skip them
			return parseReply(rest, depth+1)
		}
		return r, rest, nil
	}
	return r, nil, errBadReply
}

func replyLine(b []byte) (line, rest []byte, ok bool) {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\r' && b[i+1] == '\n' {
			return b[:i], b[i+2:], true
		}
	}
	return nil, nil, false
}
