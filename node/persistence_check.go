package node

// Offline checkers, run by slotkv-server as
//
//	slotkv-server --check-snapshot FILE
//	slotkv-server --check-aof [--fix] FILE|DIR|MANIFEST
//
// --check-snapshot verifies a snapshot's structure, every checksum and that
// every value decodes. --check-aof verifies an AOF: a manifest (or the
// directory holding one) is checked file by file, a single file on its own.
// RESP files must parse completely and name known commands with a valid
// arity; a base in snapshot format gets the snapshot check. A tail cut in
// the middle of a command (a crash during a write) is repaired by --fix,
// which truncates the file after its last complete command — the same thing
// startup does with aof-load-truncated yes. Damage in the middle of a file
// is reported with its offset and never "fixed" by throwing data away.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// RunCheckTool handles --check-aof / --check-snapshot command lines. It
// reports whether args were such a command and the exit code.
func RunCheckTool(args []string, out io.Writer) (handled bool, code int) {
	if len(args) == 0 {
		return false, 0
	}
	switch args[0] {
	case "--check-snapshot", "--check-rdb":
		if len(args) != 2 {
			fmt.Fprintln(out, "Usage: slotkv-server --check-snapshot <file>")
			return true, 1
		}
		return true, checkSnapshotFile(args[1], out)
	case "--check-aof":
		fix := false
		var rest []string
		for _, a := range args[1:] {
			if a == "--fix" {
				fix = true // accepted before or after the file
			} else {
				rest = append(rest, a)
			}
		}
		if len(rest) != 1 {
			fmt.Fprintln(out, "Usage: slotkv-server --check-aof [--fix] <file.manifest|dir|file>")
			return true, 1
		}
		return true, checkAOFPath(rest[0], fix, out)
	}
	return false, 0
}

func checkSnapshotFile(path string, out io.Writer) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(out, "Cannot open %s: %v\n", path, err)
		return 1
	}
	defer f.Close()
	hdr, st, err := CheckSnapshot(f, path)
	if err != nil {
		fmt.Fprintf(out, "--- SNAPSHOT ERROR DETECTED ---\n%v\n[offset %d] keys before the error: %d in %d sections\nSnapshot is not valid.\n", err, errOffset(err), st.Keys, st.Sections)
		return 1
	}
	fmt.Fprintf(out, "[offset 0] Checking snapshot %s\n[info] version %d", path, hdr.Version)
	for _, k := range []string{"slotkv-ver", "redis-ver", "kind", "ctime"} {
		if v, ok := hdr.Aux[k]; ok {
			fmt.Fprintf(out, ", %s=%s", k, v)
		}
	}
	fmt.Fprintf(out, "\n[info] %d keys in %d slot sections, %d bytes\n\\o/ Snapshot looks OK! \\o/\n", st.Keys, st.Sections, st.Bytes)
	return 0
}

func errOffset(err error) int64 {
	var se *SnapshotError
	if errors.As(err, &se) {
		return se.Offset
	}
	var ae *AOFError
	if errors.As(err, &ae) {
		return ae.Offset
	}
	return -1
}

func checkAOFPath(path string, fix bool, out io.Writer) int {
	st, err := os.Stat(path)
	if err != nil {
		fmt.Fprintf(out, "Cannot open %s: %v\n", path, err)
		return 1
	}
	var manifest string
	switch {
	case st.IsDir():
		ms, _ := filepath.Glob(filepath.Join(path, "*.manifest"))
		if len(ms) != 1 {
			fmt.Fprintf(out, "Expected exactly one *.manifest in %s, found %d\n", path, len(ms))
			return 1
		}
		manifest = ms[0]
	case strings.HasSuffix(path, ".manifest"):
		manifest = path
	default:
		code, _ := checkAOFFile(path, fix, true, out)
		return code
	}
	data, err := os.ReadFile(manifest)
	if err != nil {
		fmt.Fprintf(out, "Cannot read %s: %v\n", manifest, err)
		return 1
	}
	m, err := parseManifest(data, manifest)
	if err != nil {
		fmt.Fprintln(out, err)
		return 1
	}
	dir := filepath.Dir(manifest)
	fmt.Fprintf(out, "Start checking Multi Part AOF\n")
	var files []aofFile
	if m.Base != nil {
		files = append(files, *m.Base)
	}
	files = append(files, m.Incrs...)
	for i, f := range files {
		last := i == len(files)-1
		code, _ := checkAOFFile(filepath.Join(dir, f.Name), fix && last, last, out)
		if code != 0 {
			return code
		}
	}
	fmt.Fprintf(out, "All AOF files and manifest are valid\n")
	return 0
}

// checkAOFFile checks one AOF file (RESP or snapshot base).
func checkAOFFile(path string, fix, last bool, out io.Writer) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(out, "Cannot open %s: %v\n", path, err)
		return 1, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	if head, _ := br.Peek(len(SnapshotMagic)); string(head) == SnapshotMagic {
		fmt.Fprintf(out, "Start to check BASE AOF (snapshot format).\n")
		_, st, err := CheckSnapshot(br, path)
		if err != nil {
			fmt.Fprintf(out, "%v\nAOF %s is not valid.\n", err, path)
			return 1, err
		}
		fmt.Fprintf(out, "[info] %d keys in %d sections\nAOF %s is valid\n", st.Keys, st.Sections, path)
		return 0, nil
	}
	size, _ := f.Seek(0, io.SeekEnd)
	f.Seek(0, io.SeekStart)
	br.Reset(f)
	ar := newAOFReader(br, path, 0)
	var cmds int64
	var good int64
	var scratch [32]byte
	for {
		argv, start, err := ar.next()
		if err == io.EOF {
			good = start
			break
		}
		if err == nil {
			cmd := lookupCommand(argv[0], &scratch)
			switch {
			case cmd == nil:
				err = &AOFError{File: path, Offset: start, Msg: fmt.Sprintf("unknown command '%s'", trunc(string(argv[0]), 64))}
			case !cmd.arityOK(len(argv)):
				err = &AOFError{File: path, Offset: start, Msg: fmt.Sprintf("wrong number of arguments for '%s'", cmd.Name)}
			}
		}
		if err != nil {
			var ae *AOFError
			errors.As(err, &ae)
			fmt.Fprintf(out, "AOF analyzed: filename=%s, size=%d, ok_up_to=%d, diff=%d\n", path, size, start, size-start)
			if ae != nil && ae.Truncated {
				if !last {
					fmt.Fprintf(out, "%v\nAOF %s is truncated but is not the last file: it cannot be fixed by truncation.\n", err, path)
					return 1, err
				}
				if !fix {
					fmt.Fprintf(out, "%v\nAOF %s is not valid. Use the --fix option to try fixing it.\n", err, path)
					return 1, err
				}
				if terr := os.Truncate(path, start); terr != nil {
					fmt.Fprintf(out, "Failed to truncate AOF: %v\n", terr)
					return 1, terr
				}
				fmt.Fprintf(out, "Successfully truncated AOF %s to %d bytes (%d commands kept)\n", path, start, cmds)
				return 0, nil
			}
			fmt.Fprintf(out, "%v\nAOF %s is not valid: damage in the middle of the file; not fixable by truncation without losing the commands after offset %d.\n", err, path, start)
			return 1, err
		}
		cmds++
	}
	fmt.Fprintf(out, "AOF analyzed: filename=%s, size=%d, ok_up_to=%d, diff=%d\nAOF %s is valid (%d commands)\n", path, size, good, size-good, path, cmds)
	return 0, nil
}
