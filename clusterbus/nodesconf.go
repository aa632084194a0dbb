package clusterbus

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// nodes.conf is Redis's format: one CLUSTER NODES line per node, where the
// address field carries aux fields (",hostname,shard-id=..."), then
// "vars currentEpoch N lastVoteEpoch M". Saves that must be durable
// (epochs, votes, roles, nodes) are written with temp file + fsync + rename
// + directory fsync, so a crash leaves the old or the new file, never a torn
// one; slot-assignment-only saves (SETSLOT, owners learned from peers) are
// overwritten in place without fsync, as Redis 7.0 does (writeFileInPlace).

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

var flagNames = []struct {
	f    nodeFlags
	name string
}{
	{fMyself, "myself"}, {fMaster, "master"}, {fReplica, "slave"}, {fPFail, "fail?"},
	{fFail, "fail"}, {fHandshake, "handshake"}, {fNoAddr, "noaddr"}, {fNoFailover, "nofailover"},
}

func flagsString(f nodeFlags) string {
	var sb strings.Builder
	for _, fn := range flagNames {
		if f&fn.f != 0 {
			if sb.Len() > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(fn.name)
		}
	}
	if sb.Len() == 0 {
		return "noflags"
	}
	return sb.String()
}

// describeNode is clusterGenNodeDescription. forFile adds the aux fields
// nodes.conf carries.
func (s *state) describeNode(n *node, forFile bool, now time.Time) string {
	var sb strings.Builder
	sb.Grow(128)
	sb.WriteString(n.id)
	sb.WriteByte(' ')
	sb.WriteString(n.ip)
	sb.WriteByte(':')
	sb.WriteString(strconv.Itoa(n.port))
	sb.WriteByte('@')
	sb.WriteString(strconv.Itoa(n.cport))
	if forFile {
		sb.WriteByte(',')
		sb.WriteString(n.hostname)
		if n.shardID != "" {
			sb.WriteString(",shard-id=")
			sb.WriteString(n.shardID)
		}
	} else if n.hostname != "" {
		sb.WriteByte(',')
		sb.WriteString(n.hostname)
	}
	sb.WriteByte(' ')
	sb.WriteString(flagsString(n.flags))
	sb.WriteByte(' ')
	if n.isReplica() && n.masterID != "" {
		sb.WriteString(n.masterID)
	} else {
		sb.WriteByte('-')
	}
	sb.WriteByte(' ')
	if n == s.myself {
		sb.WriteString("0 0")
	} else {
		sb.WriteString(strconv.FormatInt(ms(n.pingSent), 10))
		sb.WriteByte(' ')
		sb.WriteString(strconv.FormatInt(ms(n.pongRecv), 10))
	}
	sb.WriteByte(' ')
	sb.WriteString(strconv.FormatUint(s.nodeEpoch(n), 10))
	sb.WriteByte(' ')
	if n == s.myself || s.linkUp(n, now) {
		sb.WriteString("connected")
	} else {
		sb.WriteString("disconnected")
	}
	if n.isMaster() {
		for _, r := range n.ranges {
			sb.WriteByte(' ')
			sb.WriteString(strconv.Itoa(int(r.start)))
			if r.end != r.start {
				sb.WriteByte('-')
				sb.WriteString(strconv.Itoa(int(r.end)))
			}
		}
	}
	if n == s.myself {
		s.marked.each(func(j int) {
			if m := s.migrating[j]; m != nil {
				fmt.Fprintf(&sb, " [%d->-%s]", j, m.id)
			} else if i := s.importing[j]; i != nil {
				fmt.Fprintf(&sb, " [%d-<-%s]", j, i.id)
			}
		})
	}
	return sb.String()
}

func (s *state) linkUp(n *node, now time.Time) bool {
	return !n.pongRecv.IsZero() && now.Sub(n.pongRecv) <= s.cfg.NodeTimeout
}

// renderConfig renders the whole nodes.conf, myself first.
func (s *state) renderConfig() []byte {
	now := time.Now()
	var sb strings.Builder
	sb.WriteString(s.describeNode(s.myself, true, now))
	sb.WriteByte('\n')
	for _, n := range s.sortedNodes() {
		if n == s.myself {
			continue
		}
		sb.WriteString(s.describeNode(n, true, now))
		sb.WriteByte('\n')
	}
	fmt.Fprintf(&sb, "vars currentEpoch %d lastVoteEpoch %d\n", s.currentEpoch, s.lastVoteEpoch)
	return []byte(sb.String())
}

// writeFileAtomic writes data to path via a temp file, fsync and rename.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		d.Sync() //nolint:errcheck // best effort on filesystems that refuse it
		d.Close()
	}
	return nil
}

// writeInPlace overwrites f (size bytes long) with data: the tail of a
// longer old content is blanked with newlines in the same write (the loader
// skips blank lines, so the file parses even if the process dies before
// the truncate), then cut off.
func writeInPlace(f *os.File, size int64, data []byte) error {
	buf := data
	if size > int64(len(data)) {
		buf = make([]byte, size)
		copy(buf, data)
		for i := len(data); i < len(buf); i++ {
			buf[i] = '\n'
		}
	}
	if _, err := f.WriteAt(buf, 0); err != nil {
		return err
	}
	if len(buf) != len(data) {
		return f.Truncate(int64(len(data)))
	}
	return nil
}

var errNoConfig = errors.New("no cluster config file")

// loadConfig reads nodes.conf into s. It returns errNoConfig when the file
// does not exist or is empty.
func (s *state) loadConfig(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return errNoConfig
	}
	if err != nil {
		return err
	}
	defer f.Close()
	type slotMark struct {
		slot int
		id   string
		imp  bool
	}
	var marks []slotMark
	type ownerClaim struct {
		n      *node
		ranges []slotRange
	}
	var claims []ownerClaim
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	lineNo := 0
	any := false
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		any = true
		fields := strings.Fields(line)
		bad := func(why string) error {
			return fmt.Errorf("unrecoverable error: corrupted cluster config file %s line %d: %s", path, lineNo, why)
		}
		if fields[0] == "vars" {
			for i := 1; i+1 < len(fields); i += 2 {
				v, err := strconv.ParseUint(fields[i+1], 10, 64)
				if err != nil {
					return bad("bad vars value")
				}
				switch fields[i] {
				case "currentEpoch":
					s.currentEpoch = v
				case "lastVoteEpoch":
					s.lastVoteEpoch = v
				}
			}
			continue
		}
		if len(fields) < 8 {
			return bad("too few fields")
		}
		id := fields[0]
		if !validID(id) {
			return bad("bad node id")
		}
		if s.nodes[id] != nil {
			return bad("duplicate node id")
		}
		n := &node{id: id, added: time.Now()}
		// address: ip:port@cport[,hostname[,aux=val...]]
		addr := fields[1]
		var aux []string
		if i := strings.IndexByte(addr, ','); i >= 0 {
			aux = strings.Split(addr[i+1:], ",")
			addr = addr[:i]
		}
		at := strings.LastIndexByte(addr, '@')
		colon := strings.LastIndexByte(addr, ':')
		if at < 0 || colon < 0 || colon > at {
			return bad("bad address")
		}
		n.ip = addr[:colon]
		if n.ip != "" && net.ParseIP(n.ip) == nil {
			return bad("bad ip")
		}
		if n.port, err = strconv.Atoi(addr[colon+1 : at]); err != nil || n.port < 0 || n.port > 65535 {
			return bad("bad port")
		}
		if n.cport, err = strconv.Atoi(addr[at+1:]); err != nil || n.cport < 0 || n.cport > 65535 {
			return bad("bad bus port")
		}
		for i, a := range aux {
			if i == 0 && !strings.Contains(a, "=") {
				if !validHostname(a) {
					return bad("bad hostname")
				}
				n.hostname = a
				continue
			}
			k, v, _ := strings.Cut(a, "=")
			switch k {
			case "hostname":
				if validHostname(v) {
					n.hostname = v
				}
			case "shard-id":
				if validID(v) {
					n.shardID = v
				}
			}
		}
		for _, fl := range strings.Split(fields[2], ",") {
			switch fl {
			case "myself":
				if s.myself != nil {
					return bad("two myself lines")
				}
				n.flags |= fMyself
				s.myself = n
			case "master":
				n.flags |= fMaster
			case "slave":
				n.flags |= fReplica
			case "fail?":
				n.flags |= fPFail
			case "fail":
				n.flags |= fFail
				n.failTime = time.Now()
			case "handshake":
				n.flags |= fHandshake
			case "noaddr":
				n.flags |= fNoAddr
			case "nofailover":
				n.flags |= fNoFailover
			case "noflags":
			default:
				return bad("unknown flag " + fl)
			}
		}
		if n.flags&fHandshake != 0 {
			continue // Redis drops handshake nodes on load too
		}
		if n.flags&(fMaster|fReplica) == 0 {
			n.flags |= fMaster
		}
		if fields[3] != "-" {
			if !validID(fields[3]) {
				return bad("bad master id")
			}
			n.masterID = fields[3]
			n.flags &^= fMaster
			n.flags |= fReplica
		}
		ep, err := strconv.ParseUint(fields[6], 10, 64)
		if err != nil {
			return bad("bad config epoch")
		}
		n.configEpoch = ep
		var rs []slotRange
		for _, sf := range fields[8:] {
			if strings.HasPrefix(sf, "[") {
				body := strings.TrimSuffix(strings.TrimPrefix(sf, "["), "]")
				var slotStr, other string
				imp := false
				if i := strings.Index(body, "->-"); i >= 0 {
					slotStr, other = body[:i], body[i+3:]
				} else if i := strings.Index(body, "-<-"); i >= 0 {
					slotStr, other, imp = body[:i], body[i+3:], true
				} else {
					return bad("bad slot marker")
				}
				sl, err := strconv.Atoi(slotStr)
				if err != nil || sl < 0 || sl >= NumSlots || !validID(other) {
					return bad("bad slot marker")
				}
				marks = append(marks, slotMark{sl, other, imp})
				continue
			}
			a, b, isRange := strings.Cut(sf, "-")
			st, err1 := strconv.Atoi(a)
			en := st
			var err2 error
			if isRange {
				en, err2 = strconv.Atoi(b)
			}
			if err1 != nil || err2 != nil || st < 0 || en >= NumSlots || st > en {
				return bad("bad slot range " + sf)
			}
			rs = append(rs, slotRange{uint16(st), uint16(en)})
		}
		if len(rs) > 0 {
			claims = append(claims, ownerClaim{n, rs})
		}
		s.nodes[id] = n
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if !any {
		return errNoConfig
	}
	if s.myself == nil {
		return fmt.Errorf("unrecoverable error: corrupted cluster config file %s: no myself line", path)
	}
	for _, c := range claims {
		for _, r := range c.ranges {
			for j := int(r.start); j <= int(r.end); j++ {
				s.setOwner(j, c.n)
				if c.n != s.myself {
					c.n.claims.set(j)
				}
			}
		}
	}
	for _, m := range marks {
		o := s.nodes[m.id]
		if o == nil {
			continue
		}
		if m.imp {
			s.setImporting(m.slot, o)
		} else {
			s.setMigrating(m.slot, o)
		}
	}
	for _, n := range s.nodes {
		if n.isReplica() && n.masterID != "" && n.shardID == "" {
			if m := s.nodes[n.masterID]; m != nil {
				n.shardID = m.shardID
			}
		}
		if n.shardID == "" {
			n.shardID = randomID()
		}
	}
	if s.currentEpoch < s.maxEpoch() {
		s.currentEpoch = s.maxEpoch()
	}
	return nil
}
