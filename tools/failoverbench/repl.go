package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ReplResult is what `failoverbench repl --json` prints.
type ReplResult struct {
	Kind      string `json:"kind"` // "repl"
	Server    string `json:"server"`
	Version   string `json:"version"`
	Keys      int    `json:"keys"`
	ValueSize int    `json:"value_size"`
	Pipeline  int    `json:"pipeline"`
	Conns     int    `json:"conns"`
	// catch-up: N SETs pumped into a master with a connected replica
	PumpMs           float64 `json:"pump_ms"`           // until the master answered every SET
	CatchUpMs        float64 `json:"catchup_ms"`        // from the first SET until the replica's offset reached the master's
	LagAfterPumpMs   float64 `json:"lag_after_pump_ms"` // CatchUpMs - PumpMs
	MasterCPUMs      float64 `json:"master_cpu_ms"`     // master process CPU over the catch-up
	ReplicaCPUMs     float64 `json:"replica_cpu_ms"`    // replica process CPU over the catch-up
	StreamBytes      int64   `json:"stream_bytes"`      // replication stream bytes of the phase
	FullSyncMs       float64 `json:"fullsync_ms"`       // REPLICAOF -> link up and offsets equal, N keys
	FullMasterCPUMs  float64 `json:"fullsync_master_cpu_ms"`
	FullReplicaCPUMs float64 `json:"fullsync_replica_cpu_ms"`
}

// rnode is a standalone server with a plain client.
type rnode struct {
	*proc
	c *redis.Client
}

func (n *rnode) do(args ...any) (any, error) {
	ctx, cancel := qctx()
	defer cancel()
	return n.c.Do(ctx, args...).Result()
}

// roleOffset returns ROLE's offset: a master's stream offset, or a
// replica's processed offset (and whether its link is "connected").
func (n *rnode) roleOffset() (off int64, connected bool, err error) {
	v, err := n.do("ROLE")
	if err != nil {
		return 0, false, err
	}
	a, _ := v.([]any)
	if len(a) >= 2 && a[0] == "master" {
		off, _ = a[1].(int64)
		return off, true, nil
	}
	if len(a) >= 5 && a[0] == "slave" {
		off, _ = a[4].(int64)
		return off, a[3] == "connected", nil
	}
	return 0, false, fmt.Errorf("unexpected ROLE reply %v", v)
}

func (n *rnode) dbsize() int64 {
	v, _ := n.do("DBSIZE")
	i, _ := v.(int64)
	return i
}

// waitCaughtUp polls (every 2 ms) until the replica is connected and its
// offset reached the master's offset read just before.
func waitCaughtUp(m, r *rnode, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		mo, _, err1 := m.roleOffset()
		ro, up, err2 := r.roleOffset()
		if err1 == nil && err2 == nil && up && ro >= mo {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("replica %s not caught up after %v (master %d, replica %d, connected %v; %v %v)", r.addr(), timeout, mo, ro, up, err1, err2)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// pump writes keys [0, n) as SET k:<i> <value> over conns connections,
// pipeline commands per round trip.
func pump(addr string, n, valueSize, pipeline, conns int) error {
	val := strings.Repeat("v", valueSize)
	var wg sync.WaitGroup
	errc := make(chan error, conns)
	for g := 0; g < conns; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				errc <- err
				return
			}
			defer c.Close()
			rd := bufio.NewReaderSize(c, 64<<10)
			var buf []byte
			for i := g * pipeline; i < n; i += conns * pipeline {
				buf = buf[:0]
				cnt := 0
				for j := i; j < i+pipeline && j < n; j++ {
					k := "k:" + strconv.Itoa(j)
					buf = append(buf, "*3\r\n$3\r\nSET\r\n$"...)
					buf = strconv.AppendInt(buf, int64(len(k)), 10)
					buf = append(buf, "\r\n"...)
					buf = append(buf, k...)
					buf = append(buf, "\r\n$"...)
					buf = strconv.AppendInt(buf, int64(len(val)), 10)
					buf = append(buf, "\r\n"...)
					buf = append(buf, val...)
					buf = append(buf, "\r\n"...)
					cnt++
				}
				c.SetDeadline(time.Now().Add(60 * time.Second))
				if _, err := c.Write(buf); err != nil {
					errc <- err
					return
				}
				for ; cnt > 0; cnt-- {
					line, err := rd.ReadSlice('\n')
					if err != nil {
						errc <- err
						return
					}
					if line[0] != '+' {
						errc <- fmt.Errorf("SET: %s", strings.TrimSpace(string(line)))
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errc)
	return <-errc
}

func mainRepl(args []string) error {
	var o common
	fs := flag.NewFlagSet("repl", flag.ExitOnError)
	o.register(fs, "127.0.0.71")
	keys := fs.Int("keys", 1000000, "SETs pumped into the master (and keys of the full sync)")
	valueSize := fs.Int("value-size", 32, "value bytes")
	pipeline := fs.Int("pipeline", 1000, "commands per round trip")
	conns := fs.Int("conns", 4, "pumping connections")
	skipFull := fs.Bool("no-fullsync", false, "skip the full-sync measurement")
	fs.Parse(args)
	root, err := o.prepare()
	if err != nil {
		return err
	}
	defer o.cleanup(root)
	// Redis 7 waits repl-diskless-sync-delay (5 s) before a full sync for
	// more replicas to arrive; slotkv accepts the option and never waits.
	extra := append([]string{"--repl-diskless-sync-delay", "0"}, o.extraArgs()...)
	ps, err := startNodes(&o, root, 3, 0, extra)
	if err != nil {
		return err
	}
	var ns []*rnode
	for _, p := range ps {
		ns = append(ns, &rnode{proc: p, c: redis.NewClient(&redis.Options{Addr: p.addr(),
			DialTimeout: time.Second, ReadTimeout: 10 * time.Second, MaxRetries: -1})})
	}
	defer func() {
		for _, n := range ns {
			n.c.Close()
		}
	}()
	m, r, r2 := ns[0], ns[1], ns[2]
	v, _ := m.do("INFO", "server")
	info, _ := v.(string)
	res := &ReplResult{Kind: "repl", Server: o.label, Version: serverVersion(info),
		Keys: *keys, ValueSize: *valueSize, Pipeline: *pipeline, Conns: *conns}

	// 1. catch-up after N writes
	if _, err := r.do("REPLICAOF", m.ip, strconv.Itoa(m.port)); err != nil {
		return err
	}
	if err := waitCaughtUp(m, r, 30*time.Second); err != nil {
		return err
	}
	off0, _, _ := m.roleOffset()
	mc0, rc0 := m.cpu(), r.cpu()
	logf("%s: pumping %d SETs (%d-byte values, pipeline %d, %d conns) into %s, replica %s", o.label, *keys, *valueSize, *pipeline, *conns, m.addr(), r.addr())
	start := time.Now()
	if err := pump(m.addr(), *keys, *valueSize, *pipeline, *conns); err != nil {
		return fmt.Errorf("pump: %w", err)
	}
	pumped := time.Since(start)
	if err := waitCaughtUp(m, r, 5*time.Minute); err != nil {
		return err
	}
	caught := time.Since(start)
	mc1, rc1 := m.cpu(), r.cpu()
	off1, _, _ := m.roleOffset()
	res.PumpMs, res.CatchUpMs, res.LagAfterPumpMs = ms(pumped), ms(caught), ms(caught-pumped)
	res.MasterCPUMs, res.ReplicaCPUMs, res.StreamBytes = ms(mc1-mc0), ms(rc1-rc0), off1-off0
	if a, b := m.dbsize(), r.dbsize(); a != int64(*keys) || b != a {
		return fmt.Errorf("after catch-up: master has %d keys, replica %d, want %d", a, b, *keys)
	}
	logf("%s: pump %.0f ms, replica caught up after %.0f ms (%.0f ms after the pump); CPU master %.0f ms, replica %.0f ms",
		o.label, res.PumpMs, res.CatchUpMs, res.LagAfterPumpMs, res.MasterCPUMs, res.ReplicaCPUMs)

	// 2. full sync of the N keys to an empty replica
	if !*skipFull {
		mc0, rc0 = m.cpu(), r2.cpu()
		start = time.Now()
		if _, err := r2.do("REPLICAOF", m.ip, strconv.Itoa(m.port)); err != nil {
			return err
		}
		if err := waitCaughtUp(m, r2, 5*time.Minute); err != nil {
			return err
		}
		full := time.Since(start)
		res.FullSyncMs, res.FullMasterCPUMs, res.FullReplicaCPUMs = ms(full), ms(m.cpu()-mc0), ms(r2.cpu()-rc0)
		if a, b := m.dbsize(), r2.dbsize(); b != a {
			return fmt.Errorf("after full sync: master has %d keys, new replica %d", a, b)
		}
		logf("%s: full sync of %d keys: link up and offsets equal after %.0f ms; CPU master %.0f ms, replica %.0f ms",
			o.label, *keys, res.FullSyncMs, res.FullMasterCPUMs, res.FullReplicaCPUMs)
	}
	emit(&o, res, func() {
		fmt.Printf("%s %s: %d SETs of %d bytes: pumped in %.2f s, replica caught up at %.2f s (+%.2f s); CPU master %.2f s, replica %.2f s; full sync of %d keys %.2f s\n",
			res.Server, res.Version, res.Keys, res.ValueSize, res.PumpMs/1000, res.CatchUpMs/1000, res.LagAfterPumpMs/1000,
			res.MasterCPUMs/1000, res.ReplicaCPUMs/1000, res.Keys, res.FullSyncMs/1000)
	})
	return nil
}
