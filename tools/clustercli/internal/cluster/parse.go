package cluster

import (
	"fmt"
	"strconv"
	"strings"
)

// NodeLine is one parsed line of CLUSTER NODES.
type NodeLine struct {
	ID          string
	Host        string // IP (or announced endpoint) without port
	Port        int
	BusPort     int
	Hostname    string
	Flags       []string
	MasterID    string // "" when "-"
	PingSent    int64
	PongRecv    int64
	ConfigEpoch uint64
	LinkState   string
	Slots       SlotSet
	Migrating   map[int]string // slot -> destination node id (only on "myself")
	Importing   map[int]string // slot -> source node id (only on "myself")
	SlotTokens  []string       // raw slot tokens without migration markers, as printed
}

// HasFlag reports whether the line carries flag f.
func (l *NodeLine) HasFlag(f string) bool {
	for _, x := range l.Flags {
		if x == f {
			return true
		}
	}
	return false
}

// Addr returns host:port.
func (l *NodeLine) Addr() string { return JoinHostPort(l.Host, l.Port) }

// JoinHostPort formats host:port the way Redis prints addresses (no
// brackets around IPv6, matching CLUSTER NODES and redis-cli output).
func JoinHostPort(host string, port int) string { return host + ":" + strconv.Itoa(port) }

// ParseAddr parses "ip:port[@busport][,hostname]" as printed by CLUSTER NODES.
func ParseAddr(addr string) (host string, port, busPort int, hostname string, err error) {
	if i := strings.IndexByte(addr, ','); i >= 0 {
		hostname = addr[i+1:]
		addr = addr[:i]
	}
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		busPort, _ = strconv.Atoi(addr[i+1:])
		addr = addr[:i]
	}
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "", 0, 0, "", fmt.Errorf("invalid node address %q", addr)
	}
	host = strings.TrimSuffix(strings.TrimPrefix(addr[:i], "["), "]")
	port, err = strconv.Atoi(addr[i+1:])
	if err != nil {
		return "", 0, 0, "", fmt.Errorf("invalid port in node address %q", addr)
	}
	return host, port, busPort, hostname, nil
}

// ParseNodes parses the whole CLUSTER NODES reply.
func ParseNodes(text string) ([]*NodeLine, error) {
	var out []*NodeLine
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		nl, err := ParseNodeLine(line)
		if err != nil {
			return nil, err
		}
		out = append(out, nl)
	}
	return out, nil
}

// ParseNodeLine parses one CLUSTER NODES line.
func ParseNodeLine(line string) (*NodeLine, error) {
	f := strings.Fields(line)
	if len(f) < 8 {
		return nil, fmt.Errorf("invalid CLUSTER NODES line (want at least 8 fields): %q", line)
	}
	host, port, bus, hostname, err := ParseAddr(f[1])
	if err != nil {
		return nil, err
	}
	nl := &NodeLine{
		ID:        f[0],
		Host:      host,
		Port:      port,
		BusPort:   bus,
		Hostname:  hostname,
		Flags:     strings.Split(f[2], ","),
		LinkState: f[7],
	}
	if f[3] != "-" {
		nl.MasterID = f[3]
	}
	nl.PingSent, _ = strconv.ParseInt(f[4], 10, 64)
	nl.PongRecv, _ = strconv.ParseInt(f[5], 10, 64)
	nl.ConfigEpoch, _ = strconv.ParseUint(f[6], 10, 64)
	for _, tok := range f[8:] {
		if strings.HasPrefix(tok, "[") {
			body := strings.TrimSuffix(tok[1:], "]")
			if a, b, ok := strings.Cut(body, "->-"); ok {
				s, err := parseSlot(a)
				if err != nil {
					return nil, err
				}
				if nl.Migrating == nil {
					nl.Migrating = map[int]string{}
				}
				nl.Migrating[s] = b
			} else if a, b, ok := strings.Cut(body, "-<-"); ok {
				s, err := parseSlot(a)
				if err != nil {
					return nil, err
				}
				if nl.Importing == nil {
					nl.Importing = map[int]string{}
				}
				nl.Importing[s] = b
			}
			continue
		}
		nl.SlotTokens = append(nl.SlotTokens, tok)
		a, b, isRange := strings.Cut(tok, "-")
		from, err := parseSlot(a)
		if err != nil {
			return nil, err
		}
		to := from
		if isRange {
			if to, err = parseSlot(b); err != nil {
				return nil, err
			}
		}
		nl.Slots.AddRange(from, to)
	}
	return nl, nil
}
