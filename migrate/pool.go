package migrate

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// Pool caches connections to migration targets, like Redis's
// migrate_cached_sockets: one idle connection per target, closed after
// IdleTimeout unused.
//
// Concurrency: Get/Put are safe from any goroutine; a Conn is used by one
// goroutine at a time (Get removes it from the pool until Put).
type Pool struct {
	mu          sync.Mutex
	idle        map[string]*Conn
	IdleTimeout time.Duration
	// LocalAddr, when set, is the source address of outgoing connections
	// (bind-source-addr).
	LocalAddr string
}

// NewPool returns an empty pool with Redis's 10 s idle timeout.
func NewPool() *Pool {
	return &Pool{idle: map[string]*Conn{}, IdleTimeout: 10 * time.Second}
}

// Conn is one connection to a target.
type Conn struct {
	addr    string
	c       net.Conn
	rd      *bufio.Reader
	lastDB  int
	lastUse time.Time
	// Cached reports whether the connection came from the cache (a failure
	// on it may just be a stale socket, worth one retry, as Redis does).
	Cached bool
}

// Get returns a cached connection to addr or dials a new one.
func (p *Pool) Get(addr string, timeout time.Duration) (*Conn, error) {
	p.mu.Lock()
	c := p.idle[addr]
	delete(p.idle, addr)
	p.mu.Unlock()
	if c != nil {
		if time.Since(c.lastUse) < p.IdleTimeout {
			c.Cached = true
			return c, nil
		}
		c.Close()
	}
	d := net.Dialer{Timeout: timeout}
	if p.LocalAddr != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(p.LocalAddr)}
	}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &Conn{addr: addr, c: nc, rd: bufio.NewReaderSize(nc, 16<<10), lastDB: -1}, nil
}

// Put returns a healthy connection to the cache.
func (p *Pool) Put(c *Conn) {
	c.lastUse = time.Now()
	c.Cached = false
	p.mu.Lock()
	if old := p.idle[c.addr]; old != nil {
		old.Close()
	}
	p.idle[c.addr] = c
	p.mu.Unlock()
}

// Close closes the connection.
func (c *Conn) Close() { c.c.Close() }

// Reply is a target's answer to one command: Err is the error text
// (without '-') when the target replied with an error.
type Reply struct {
	OK  bool
	Err string
	Int int64 // value of an integer reply
}

// ErrProtocol means the target sent something that is not a RESP reply we
// expect from AUTH/SELECT/RESTORE.
var ErrProtocol = errors.New("unexpected reply from target")

// Pipeline sends every command and reads one reply per command, all within
// timeout. An I/O error leaves the connection unusable (caller closes it).
func (c *Conn) Pipeline(cmds [][][]byte, timeout time.Duration) ([]Reply, error) {
	var b []byte
	for _, argv := range cmds {
		b = AppendCommand(b, argv)
	}
	if err := c.Send(b, timeout); err != nil {
		return nil, err
	}
	return c.Receive(len(cmds), timeout, make([]Reply, 0, len(cmds)))
}

// Send writes b, a pipeline of commands already encoded, within timeout.
// Its replies are read later with Receive, in order; a caller may Send the
// next pipeline before receiving the previous one's replies (two in flight).
// An I/O error leaves the connection unusable (caller closes it).
func (c *Conn) Send(b []byte, timeout time.Duration) error {
	c.c.SetWriteDeadline(time.Now().Add(timeout))
	defer c.c.SetWriteDeadline(time.Time{})
	if _, err := c.c.Write(b); err != nil {
		return &IOError{Op: "writing to", Err: err}
	}
	return nil
}

// Receive reads n simple replies into out (appended), within timeout. Only
// error replies allocate.
func (c *Conn) Receive(n int, timeout time.Duration, out []Reply) ([]Reply, error) {
	c.c.SetReadDeadline(time.Now().Add(timeout))
	defer c.c.SetReadDeadline(time.Time{})
	for i := 0; i < n; i++ {
		line, err := c.rd.ReadSlice('\n')
		if err != nil {
			return out, &IOError{Op: "reading from", Err: err}
		}
		if len(line) < 3 {
			return out, ErrProtocol
		}
		switch line[0] {
		case '+':
			out = append(out, Reply{OK: true})
		case ':':
			n, err := strconv.ParseInt(string(line[1:len(line)-2]), 10, 64)
			if err != nil {
				return out, ErrProtocol
			}
			out = append(out, Reply{OK: true, Int: n})
		case '-':
			out = append(out, Reply{Err: string(line[1 : len(line)-2])})
		default:
			return out, ErrProtocol
		}
	}
	return out, nil
}

// Text sends one command and returns its reply as text: a simple string,
// an integer or a bulk string (error replies become errors).
func (c *Conn) Text(argv [][]byte, timeout time.Duration) (string, error) {
	c.c.SetDeadline(time.Now().Add(timeout))
	defer c.c.SetDeadline(time.Time{})
	if _, err := c.c.Write(AppendCommand(nil, argv)); err != nil {
		return "", &IOError{Op: "writing to", Err: err}
	}
	line, err := c.rd.ReadString('\n')
	if err != nil {
		return "", &IOError{Op: "reading from", Err: err}
	}
	if len(line) < 3 {
		return "", ErrProtocol
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', ':':
		return body, nil
	case '-':
		return "", errors.New(body)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > 64<<20 {
			return "", ErrProtocol
		}
		if n < 0 {
			return "", nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(c.rd, b); err != nil {
			return "", &IOError{Op: "reading from", Err: err}
		}
		return string(b[:n]), nil
	}
	return "", ErrProtocol
}

// SelectDB records the target db after a successful SELECT.
func (c *Conn) SelectDB(db int) { c.lastDB = db }

// DB returns the db last selected on this connection (-1 unknown).
func (c *Conn) DB() int { return c.lastDB }

// IOError is a network failure talking to the target.
type IOError struct {
	Op  string // "writing to" / "reading from"
	Err error
}

func (e *IOError) Error() string { return "error or timeout " + e.Op + " target instance" }

// AppendCommand appends argv as a RESP multibulk.
func AppendCommand(b []byte, argv [][]byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(argv)), 10)
	b = append(b, '\r', '\n')
	for _, a := range argv {
		b = AppendBulk(b, a)
	}
	return b
}

// AppendBulk appends p as a RESP bulk string.
func AppendBulk[T string | []byte](b []byte, p T) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(p)), 10)
	b = append(b, '\r', '\n')
	b = append(b, p...)
	return append(b, '\r', '\n')
}
