package node

// Persistence lifecycle: loading at startup (AOF when enabled, else the
// snapshot), save points, BGSAVE/SAVE, AOF on/off at runtime and automatic
// rewrites, the final save at shutdown, and INFO persistence.
//
// Loading runs in the background after the server starts listening: until
// it finishes, Server.Loading is set and commands without the loading flag
// are answered -LOADING. A load error (corrupted file, truncated snapshot,
// AOF truncated anywhere but at its tail) is logged with the file and offset
// and ends the process, never leaving it serving a partial dataset.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slotkv/slotkv/redirect"
)

func init() {
	optInt("auto-aof-rewrite-percentage", true, 0, 1<<31-1, func(c *Config) *int { return &c.AutoAOFRewritePct })
	optMem("auto-aof-rewrite-min-size", true, func(c *Config) *int64 { return &c.AutoAOFRewriteMin })
	optBool("aof-load-truncated", true, func(c *Config) *bool { return &c.AOFLoadTruncated })
	optBool("aof-use-rdb-preamble", true, func(c *Config) *bool { return &c.AOFUseRDBPreamble })
	optBool("stop-writes-on-bgsave-error", true, func(c *Config) *bool { return &c.StopWritesBgsave })
	StartHooks = append(StartHooks, startPersistence)
}

// Persistence is one server's persistence state.
type Persistence struct {
	srv     *Server
	loading atomic.Bool
	dirty   atomic.Int64 // changes since the last successful save
	aof     atomic.Pointer[aofLog]

	lastSave     atomic.Int64 // unix seconds of the last successful save
	streamOff    int64        // AOF stream offset carried across AOF restarts (mu)
	loadKeys     int64
	loadExpired  int64
	loadedFrom   string
	shutdownDone atomic.Bool

	// transactions being collected (propagate.go)
	txMu   sync.Mutex
	tx     map[*Client]*txBuf
	txOpen atomic.Int32

	mu              sync.Mutex
	bgsave          bool
	bgsaveStart     time.Time
	bgsaveOK        bool
	bgsaveLastTry   time.Time
	bgsaveLastSecs  int64
	saves           int64
	rewriteStart    time.Time
	rewriteOK       bool
	rewriteLastSecs int64
	rewrites        int64
	rewriteFails    int64
	rewriteLastTry  time.Time
	aofPending      bool // appendonly yes at runtime: AOF being created
	rewriteAgain    bool // another rewrite must follow the running one

	stop chan struct{}
	wg   sync.WaitGroup
}

func startPersistence(s *Server) error {
	p := &Persistence{srv: s, bgsaveOK: true, rewriteOK: true, stop: make(chan struct{})}
	p.lastSave.Store(time.Now().Unix())
	persistMu.Lock()
	persistences[s] = p
	persistMu.Unlock()
	s.PropagateHook = p.propagate
	s.FlushHook = p.flushWait
	s.Closers = append(s.Closers, p.closeOnShutdown)
	p.loading.Store(true)
	s.Loading.Store(true)
	p.wg.Add(1)
	go func() {
		if err := p.loadAtStartup(); err != nil {
			s.Log.Error("fatal error loading the dataset; exiting", "err", err)
			p.wg.Done()
			fatalExit(1)
			return
		}
		p.dropUnownedSlots()
		p.loading.Store(false)
		s.Loading.Store(false)
		p.cron()
	}()
	return nil
}

// flushWait is Server.FlushHook: a client's replies wait until its writes
// are in the AOF (written; fdatasync'ed under appendfsync always).
func (p *Persistence) flushWait(c *Client) {
	off := c.AckOff.Load()
	if off == 0 {
		return
	}
	a := p.aof.Load()
	if a == nil || off <= a.synced.Load() {
		return
	}
	a.waitFor(off)
}

// IsLoading reports whether the dataset is still being loaded.
func (p *Persistence) IsLoading() bool { return p.loading.Load() }

// loadAtStartup loads the AOF when enabled (creating it from the snapshot,
// if any, when it does not exist yet), else the snapshot.
func (p *Persistence) loadAtStartup() error {
	s := p.srv
	cfg := s.Config()
	start := time.Now()
	p.removeStaleTempFiles(cfg)
	if cfg.AppendOnly {
		a := newAOFLog(p, cfg, 0)
		if err := os.MkdirAll(a.dir, 0o755); err != nil {
			return fmt.Errorf("can't create the append only file directory %s: %w", a.dir, err)
		}
		m, st, err := s.loadAOF(a.dir, a.prefix, cfg.AOFLoadTruncated)
		switch {
		case errors.Is(err, errNoAOF):
			if err := p.loadSnapshotFile(cfg); err != nil {
				return err
			}
			a.rewriting.Store(true)
			if _, err := a.rewrite(); err != nil {
				return fmt.Errorf("creating the append only file in %s: %w", a.dir, err)
			}
			s.Log.Info("Creating AOF base file on server start", "dir", a.dir, "keys", p.keyCount())
		case err != nil:
			return err
		default:
			if err := a.openLive(m); err != nil {
				return fmt.Errorf("open the append only file: %w", err)
			}
			p.loadKeys = p.keyCount()
			p.loadedFrom = "aof"
			s.Log.Info("DB loaded from append only file", "dir", a.dir, "files", st.Files, "base_keys", st.BaseKeys, "commands", st.Commands, "keys", p.loadKeys, "seconds", fmt.Sprintf("%.3f", time.Since(start).Seconds()))
		}
		a.start()
		p.aof.Store(a)
		return nil
	}
	return p.loadSnapshotFile(cfg)
}

// dropUnownedSlots removes, in cluster mode, loaded keys of slots that the
// routing table assigns to another master (not to this node, not to this
// replica's master, not being imported). Slots nobody owns are kept, as
// Redis keeps them. The cluster layer's own ownership changes (SlotsLost)
// cover tables that arrive later.
func (p *Persistence) dropUnownedSlots() {
	t := p.srv.Route.Load()
	if t == nil {
		return
	}
	dropped, nslots := 0, 0
	for i := 0; i < redirect.NumSlots; i++ {
		o := t.Owner.Get(i)
		if o == redirect.None || o == t.Self || o == t.Master || t.Importing.Get(i) != redirect.None {
			continue
		}
		sl := p.srv.KS.Slot(i)
		sl.Lock()
		if n := sl.Len(); n > 0 {
			dropped += sl.Flush()
			nslots++
		}
		sl.Unlock()
	}
	if dropped > 0 {
		p.srv.Log.Warn("dropped loaded keys of slots served by other nodes", "slots", nslots, "keys", dropped)
		p.DatasetReplaced()
	}
}

// removeStaleTempFiles deletes temp files left by a crash during a save,
// a rewrite or a manifest update (they are never part of the dataset).
func (p *Persistence) removeStaleTempFiles(cfg *Config) {
	pats := []string{filepath.Join(cfg.Path("."), "temp-*.snap"), filepath.Join(cfg.Path(cfg.AppendDirname), "temp-*")}
	for _, pat := range pats {
		fs, _ := filepath.Glob(pat)
		for _, f := range fs {
			if os.Remove(f) == nil {
				p.srv.Log.Info("removed a temp file left by an interrupted save", "file", f)
			}
		}
	}
}

func (p *Persistence) loadSnapshotFile(cfg *Config) error {
	path := cfg.Path(cfg.DBFilename)
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open snapshot %s: %w", path, err)
	}
	defer f.Close()
	st, err := p.srv.LoadSnapshot(f, path, nil)
	if err != nil {
		return err
	}
	p.loadKeys, p.loadExpired, p.loadedFrom = st.Keys, st.Expired, "snapshot"
	p.srv.Log.Info("DB loaded from disk", "file", path, "keys", st.Keys, "expired_skipped", st.Expired, "seconds", fmt.Sprintf("%.3f", st.Took.Seconds()))
	return nil
}

func (p *Persistence) keyCount() int64 {
	var n int64
	for i := 0; i < len(p.srv.KS.slots); i++ {
		sl := p.srv.KS.Slot(i)
		sl.Lock()
		n += int64(sl.Len())
		sl.Unlock()
	}
	return n
}

// ---------------------------------------------------------------------------
// Snapshots

// Save writes a snapshot to dir/dbfilename now (SAVE, SHUTDOWN, save points
// through BGSAVE). It does not stop clients: the snapshot is a keyspace cut.
func (p *Persistence) Save() (SnapshotStats, error) {
	cfg := p.srv.Config()
	path := cfg.Path(cfg.DBFilename)
	var dirtyAtCut int64
	var cutAt time.Time
	st, err := p.srv.SaveSnapshotFile(path, snapshotAux("snapshot"), func() {
		dirtyAtCut = p.dirty.Load()
		cutAt = time.Now()
	})
	if err != nil {
		p.srv.Log.Warn("snapshot save failed", "file", path, "err", err)
		return st, err
	}
	p.dirty.Add(-dirtyAtCut)
	p.lastSave.Store(cutAt.Unix())
	p.mu.Lock()
	p.saves++
	p.setBgsaveOKLocked(true) // like Redis's rdbSave: any successful save clears the error
	p.mu.Unlock()
	p.srv.Log.Info("DB saved on disk", "file", path, "keys", st.Keys, "bytes", st.Bytes, "seconds", fmt.Sprintf("%.3f", st.Took.Seconds()))
	return st, nil
}

// StartBgsave starts a background snapshot; false if one is running.
func (p *Persistence) StartBgsave() bool {
	p.mu.Lock()
	if p.bgsave {
		p.mu.Unlock()
		return false
	}
	p.bgsave = true
	p.bgsaveStart = time.Now()
	p.bgsaveLastTry = p.bgsaveStart
	p.mu.Unlock()
	p.srv.Log.Info("Background saving started")
	go func() {
		_, err := p.Save()
		p.mu.Lock()
		p.bgsave = false
		p.setBgsaveOKLocked(err == nil)
		p.bgsaveLastSecs = int64(time.Since(p.bgsaveStart).Seconds())
		p.mu.Unlock()
		if err == nil {
			p.srv.Log.Info("Background saving terminated with success")
		} else {
			p.srv.Log.Warn("Background saving error", "err", err)
		}
	}()
	return true
}

// bgsaveErrServers counts the servers of this process whose last
// background save failed. While it is zero, Process pays one atomic load
// for the stop-writes-on-bgsave-error check (diskWriteDenied).
var bgsaveErrServers atomic.Int32

// setBgsaveOKLocked records the outcome of the last background save (p.mu
// held).
func (p *Persistence) setBgsaveOKLocked(ok bool) {
	if ok == p.bgsaveOK {
		return
	}
	p.bgsaveOK = ok
	if ok {
		bgsaveErrServers.Add(-1)
	} else {
		bgsaveErrServers.Add(1)
	}
}

// ErrBgsaveMisconf is Redis 7.0's shared.bgsaveerr.
const ErrBgsaveMisconf = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."

// diskWriteDenied is Redis's writeCommandsDeniedByDiskError check for
// stop-writes-on-bgsave-error: while the last background save failed, save
// points are configured and the option is on, a master answers write
// commands (and PING, as Redis does) with -MISCONF; inside MULTI the
// transaction is flagged (EXECABORT). Process calls it only while
// bgsaveErrServers is non-zero. It reports whether the command was refused.
func diskWriteDenied(s *Server, c *Client, cmd *Command, argv [][]byte) bool {
	isExec := cmd.Name == "exec" && c.InMulti
	if cmd.Flags&FlagWrite == 0 && cmd.Name != "ping" && !(isExec && multiHasWrite(c)) {
		return false
	}
	p := persistenceOf(s)
	if p == nil || replicaMode.Load() {
		return false
	}
	p.mu.Lock()
	failed := !p.bgsaveOK
	p.mu.Unlock()
	if !failed {
		return false
	}
	cfg := s.Config()
	if !cfg.StopWritesBgsave || len(savePoints(cfg.Save)) == 0 {
		return false
	}
	// Redis answers a cluster redirection (MOVED, ASK, CLUSTERDOWN...)
	// before MISCONF (processCommand checks getNodeByQuery first).
	if s.Route.Load() != nil && !c.isMaster && !s.route(c, cmd, argv, true) {
		c.Asking = false
		c.abortMulti()
		return true
	}
	if isExec { // writes queued before the save failed: the transaction is refused
		discardTransaction(c)
		c.W.Error("EXECABORT Transaction discarded because of: " + ErrBgsaveMisconf)
		return true
	}
	c.W.Error(ErrBgsaveMisconf)
	c.abortMulti()
	return true
}

// multiHasWrite reports whether c's open transaction queued a write.
func multiHasWrite(c *Client) bool {
	for _, argv := range c.MultiQ {
		if cmd := queuedCommand(c, argv); cmd != nil && cmd.Flags&FlagWrite != 0 {
			return true
		}
	}
	return false
}

// BgsaveInProgress reports whether a BGSAVE runs.
func (p *Persistence) BgsaveInProgress() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bgsave
}

// savePoints parses the "save" option.
func savePoints(s string) [][2]int64 {
	f := strings.Fields(s)
	var out [][2]int64
	for i := 0; i+1 < len(f); i += 2 {
		a, err1 := strconv.ParseInt(f[i], 10, 64)
		b, err2 := strconv.ParseInt(f[i+1], 10, 64)
		if err1 == nil && err2 == nil {
			out = append(out, [2]int64{a, b})
		}
	}
	return out
}

// cron runs save points, AOF on/off and auto rewrites.
func (p *Persistence) cron() {
	defer p.wg.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		cfg := p.srv.Config()
		now := time.Now()
		// Save points.
		p.mu.Lock()
		canSave := !p.bgsave && (p.bgsaveOK || now.Sub(p.bgsaveLastTry) >= 5*time.Second)
		p.mu.Unlock()
		if canSave {
			dirty := p.dirty.Load()
			for _, sp := range savePoints(cfg.Save) {
				if dirty >= sp[1] && now.Unix()-p.lastSave.Load() >= sp[0] && dirty > 0 {
					p.srv.Log.Info(fmt.Sprintf("%d changes in %d seconds. Saving...", dirty, sp[0]))
					p.StartBgsave()
					break
				}
			}
		}
		// AOF on/off and policy.
		a := p.aof.Load()
		switch {
		case cfg.AppendOnly && a == nil:
			p.startAOF(cfg)
		case !cfg.AppendOnly && a != nil:
			p.stopAOF()
		case a != nil:
			a.policy.Store(fsyncPolicy(cfg.AppendFsync))
			if cfg.AutoAOFRewritePct > 0 && !a.rewriting.Load() {
				size, base := a.totalSize(), a.baseSize.Load()
				if base < 1 {
					base = 1
				}
				p.mu.Lock()
				backoff := p.rewriteFails > 0 && now.Sub(p.rewriteLastTry) < 5*time.Second
				p.mu.Unlock()
				if size > cfg.AutoAOFRewriteMin && (size-base)*100/base >= int64(cfg.AutoAOFRewritePct) && !backoff {
					p.srv.Log.Info("Starting automatic rewriting of AOF", "growth_percent", (size-base)*100/base)
					p.StartRewrite()
				}
			}
		}
	}
}

// startAOF turns the AOF on at runtime: it is created by a rewrite.
func (p *Persistence) startAOF(cfg *Config) {
	p.mu.Lock()
	if p.aofPending || (p.rewriteFails > 0 && time.Since(p.rewriteLastTry) < 5*time.Second) {
		p.mu.Unlock()
		return
	}
	p.aofPending = true
	p.mu.Unlock()
	a := newAOFLog(p, cfg, p.streamOff)
	if err := os.MkdirAll(a.dir, 0o755); err != nil {
		p.srv.Log.Warn("can't create the append only file directory", "dir", a.dir, "err", err)
		p.mu.Lock()
		p.aofPending, p.rewriteFails, p.rewriteLastTry = false, p.rewriteFails+1, time.Now()
		p.mu.Unlock()
		return
	}
	a.rewriting.Store(true)
	p.aof.Store(a)
	go func() {
		p.runRewrite(a)
		p.mu.Lock()
		ok := p.rewriteOK
		p.aofPending = false
		p.mu.Unlock()
		if !ok {
			if p.aof.CompareAndSwap(a, nil) {
				a.close()
			}
			return
		}
		a.start()
		p.srv.Log.Info("Background append only file rewriting terminated with success; AOF enabled")
	}()
}

func (p *Persistence) stopAOF() {
	a := p.aof.Swap(nil)
	if a == nil {
		return
	}
	a.close()
	p.mu.Lock()
	a.mu.Lock()
	p.streamOff = a.appended
	a.mu.Unlock()
	p.mu.Unlock()
	p.srv.Log.Info("AOF disabled")
}

// StartRewrite starts BGREWRITEAOF; false if a rewrite is running.
func (p *Persistence) StartRewrite() bool {
	a := p.aof.Load()
	if a == nil {
		return true // nothing to rewrite: like Redis with appendonly no
	}
	if !a.rewriting.CompareAndSwap(false, true) {
		return false
	}
	go p.runRewrite(a)
	return true
}

// DatasetReplaced must be called after the keyspace was replaced without
// going through commands (a replica's full sync): the AOF no longer
// describes the data, so it is rebuilt from the new dataset, and the change
// counter makes the next save point fire.
func (p *Persistence) DatasetReplaced() {
	p.dirty.Add(1)
	if p.aof.Load() == nil {
		return
	}
	if !p.StartRewrite() {
		p.mu.Lock()
		p.rewriteAgain = true
		p.mu.Unlock()
	}
}

// PersistenceDatasetReplaced calls DatasetReplaced on s's persistence, if any.
func PersistenceDatasetReplaced(s *Server) {
	if p := persistenceOf(s); p != nil {
		p.DatasetReplaced()
	}
}

func (p *Persistence) runRewrite(a *aofLog) {
	p.mu.Lock()
	p.rewriteStart = time.Now()
	p.rewriteLastTry = p.rewriteStart
	p.mu.Unlock()
	p.srv.Log.Info("Background append only file rewriting started")
	st, err := a.rewrite()
	p.mu.Lock()
	p.rewriteLastSecs = int64(time.Since(p.rewriteStart).Seconds())
	p.rewriteOK = err == nil
	if err == nil {
		p.rewrites++
		p.rewriteFails = 0
	} else {
		p.rewriteFails++
	}
	p.rewriteStart = time.Time{}
	again := p.rewriteAgain
	p.rewriteAgain = false
	p.mu.Unlock()
	if again && p.aof.Load() == a {
		defer func() {
			// Unless somebody started one meanwhile (its cut is recent
			// enough), rewrite again.
			if a.rewriting.CompareAndSwap(false, true) {
				go p.runRewrite(a)
			}
		}()
	}
	if err != nil {
		p.srv.Log.Warn("Background AOF rewrite failed", "err", err)
		return
	}
	p.srv.Log.Info("Background AOF rewrite finished successfully", "keys", st.Keys, "base_bytes", st.Bytes, "seconds", fmt.Sprintf("%.3f", st.Took.Seconds()))
}

// RewriteInProgress reports whether an AOF rewrite runs.
func (p *Persistence) RewriteInProgress() bool {
	a := p.aof.Load()
	return a != nil && a.rewriting.Load()
}

// ---------------------------------------------------------------------------
// Shutdown

// ShutdownMode selects SHUTDOWN's save behaviour.
type ShutdownMode int

const (
	ShutdownDefault ShutdownMode = iota // save if save points are configured
	ShutdownSave                        // always save
	ShutdownNoSave                      // never save
)

// PrepareShutdown makes the dataset durable before the process exits: it
// flushes and fsyncs the AOF and, depending on mode, saves a snapshot. An
// error means the data is not safe (SHUTDOWN answers an error unless FORCE).
func (p *Persistence) PrepareShutdown(mode ShutdownMode) error {
	if p.loading.Load() {
		return nil // nothing loaded yet: never overwrite the files with a partial dataset
	}
	cfg := p.srv.Config()
	var err error
	if a := p.aof.Load(); a != nil {
		a.lead(func() {
			a.writeOut()
			if a.cur != nil {
				if e := fdatasync(a.cur); e != nil {
					err = fmt.Errorf("fsync of the AOF failed: %w", e)
				}
			}
		})
	}
	if mode == ShutdownSave || (mode == ShutdownDefault && len(savePoints(cfg.Save)) > 0) {
		p.srv.Log.Info("Saving the final snapshot before exiting.")
		if _, e := p.Save(); e != nil {
			p.srv.Log.Warn("Error trying to save the DB, can't exit.", "err", e)
			err = e
		}
	}
	if err == nil {
		p.shutdownDone.Store(true)
	}
	return err
}

// closeOnShutdown is a Server closer: final save (SIGTERM with save points
// configured, unless SHUTDOWN already did it), then the AOF is closed.
func (p *Persistence) closeOnShutdown() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.wg.Wait()
	if !p.shutdownDone.Load() {
		p.PrepareShutdown(ShutdownDefault)
	}
	if a := p.aof.Swap(nil); a != nil {
		a.close()
	}
	p.mu.Lock()
	p.setBgsaveOKLocked(true) // this server no longer counts in bgsaveErrServers
	p.mu.Unlock()
}

// ---------------------------------------------------------------------------
// INFO persistence

// InfoPersistence returns the "# Persistence" section's fields, in Redis's
// order.
func (p *Persistence) InfoPersistence() [][2]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	status := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "err"
	}
	now := time.Now()
	curBgsave := int64(-1)
	if p.bgsave {
		curBgsave = int64(now.Sub(p.bgsaveStart).Seconds())
	}
	a := p.aof.Load()
	rewriting := a != nil && a.rewriting.Load()
	curRewrite := int64(-1)
	if rewriting && !p.rewriteStart.IsZero() {
		curRewrite = int64(now.Sub(p.rewriteStart).Seconds())
	}
	lastBgsaveSecs := int64(-1)
	if p.saves > 0 || !p.bgsaveOK {
		lastBgsaveSecs = p.bgsaveLastSecs
	}
	lastRewriteSecs := int64(-1)
	if p.rewrites > 0 || !p.rewriteOK {
		lastRewriteSecs = p.rewriteLastSecs
	}
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	out := [][2]string{
		{"loading", b(p.loading.Load())},
		{"async_loading", "0"},
		{"current_cow_peak", "0"},
		{"current_cow_size", "0"},
		{"current_cow_size_age", "0"},
		{"current_fork_perc", "0.00"},
		{"current_save_keys_processed", "0"},
		{"current_save_keys_total", "0"},
		{"rdb_changes_since_last_save", i(p.dirty.Load())},
		{"rdb_bgsave_in_progress", b(p.bgsave)},
		{"rdb_last_save_time", i(p.lastSave.Load())},
		{"rdb_last_bgsave_status", status(p.bgsaveOK)},
		{"rdb_last_bgsave_time_sec", i(lastBgsaveSecs)},
		{"rdb_current_bgsave_time_sec", i(curBgsave)},
		{"rdb_saves", i(p.saves)},
		{"rdb_last_cow_size", "0"},
		{"rdb_last_load_keys_expired", i(p.loadExpired)},
		{"rdb_last_load_keys_loaded", i(p.loadKeys)},
		{"aof_enabled", b(a != nil)},
		{"aof_rewrite_in_progress", b(rewriting)},
		{"aof_rewrite_scheduled", b(p.rewriteAgain)},
		{"aof_last_rewrite_time_sec", i(lastRewriteSecs)},
		{"aof_current_rewrite_time_sec", i(curRewrite)},
		{"aof_last_bgrewrite_status", status(p.rewriteOK)},
		{"aof_rewrites", i(p.rewrites)},
		{"aof_rewrites_consecutive_failures", i(p.rewriteFails)},
		{"aof_last_write_status", status(a == nil || a.writeErr.Load().(string) == "")},
		{"aof_last_cow_size", "0"},
		{"module_fork_in_progress", "0"},
		{"module_fork_last_cow_size", "0"},
	}
	if a != nil {
		a.mu.Lock()
		pending := len(a.buf)
		a.mu.Unlock()
		out = append(out,
			[2]string{"aof_current_size", i(a.totalSize())},
			[2]string{"aof_base_size", i(a.baseSize.Load())},
			[2]string{"aof_pending_rewrite", "0"},
			[2]string{"aof_buffer_length", strconv.Itoa(pending)},
			[2]string{"aof_pending_bio_fsync", "0"},
			[2]string{"aof_delayed_fsync", "0"},
		)
	}
	return out
}

// PersistenceOf returns the persistence state of s (nil before Start).
func PersistenceOf(s *Server) *Persistence { return persistenceOf(s) }
