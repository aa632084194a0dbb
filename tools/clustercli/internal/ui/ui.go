// Package ui renders clustercli's human output: redis-cli style log lines
// (">>> ...", "[OK] ...", "[ERR] ..."), tables (olekukonko/tablewriter v1),
// the terminal slot map, progress bars (schollz/progressbar v3) and the
// "type 'yes'" confirmation prompt.
package ui

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/mattn/go-isatty"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Level is a log level, coloured like redis-cli's cluster manager.
type Level int

// Levels.
const (
	Plain Level = iota
	Info        // bold: ">>> ..."
	Warn        // yellow
	Err         // red
	OK          // green
)

// UI writes human output. In JSON mode human output goes to Err (stderr)
// so that Out (stdout) carries only the JSON document.
type UI struct {
	Out   io.Writer // human or JSON output
	Human io.Writer // where log lines go (Out, or stderr in JSON mode)
	In    *bufio.Reader
	Color bool
	// Progress enables progress bars (stderr must be a terminal).
	Progress bool
	ErrW     io.Writer
	mu       sync.Mutex
}

// New builds a UI. color/progress are decided by the caller (terminal
// detection, --no-color, --json).
func New(out, errw io.Writer, in io.Reader, json, color bool) *UI {
	u := &UI{Out: out, Human: out, In: bufio.NewReader(in), Color: color, ErrW: errw}
	if json {
		u.Human = errw
	}
	return u
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// Logf prints one log line at level.
func (u *UI) Logf(l Level, format string, a ...any) {
	u.mu.Lock()
	defer u.mu.Unlock()
	msg := fmt.Sprintf(format, a...)
	if u.Color {
		code := ""
		switch l {
		case Info:
			code = "29;1m"
		case Warn:
			code = "33;1m"
		case Err:
			code = "31;1m"
		case OK:
			code = "32;1m"
		}
		if code != "" {
			msg = "\033[" + code + msg + "\033[0m"
		}
	}
	fmt.Fprintln(u.Human, msg)
}

// Printf prints plain text (no newline added).
func (u *UI) Printf(format string, a ...any) {
	u.mu.Lock()
	defer u.mu.Unlock()
	fmt.Fprintf(u.Human, format, a...)
}

// Confirm asks "msg (type 'yes' to accept): " and returns true only for
// "yes". The prompt goes to the human stream; a closed stdin means no.
func (u *UI) Confirm(msg string) bool {
	u.Printf("%s (type 'yes' to accept): ", msg)
	line, err := u.In.ReadString('\n')
	if err != nil && line == "" {
		u.Printf("\n")
		return false
	}
	return strings.TrimSpace(line) == "yes"
}

// Ask prints a prompt and returns the trimmed answer ("" on EOF).
func (u *UI) Ask(prompt string) (string, bool) {
	u.Printf("%s", prompt)
	line, err := u.In.ReadString('\n')
	if err != nil && line == "" {
		return "", false
	}
	return strings.TrimSpace(line), true
}

// Table renders rows with a header through tablewriter v1.
func (u *UI) Table(header []string, rows [][]string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	t := tablewriter.NewTable(u.Human,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleLight)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
	)
	hdr := make([]any, len(header))
	for i, h := range header {
		hdr[i] = h
	}
	t.Header(hdr...)
	for _, r := range rows {
		_ = t.Append(r)
	}
	_ = t.Render()
}
