package resp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func readAll(t *testing.T, in string, l Limits) ([][]string, error) {
	t.Helper()
	r := NewReader(strings.NewReader(in), l)
	var out [][]string
	for {
		args, err := r.ReadCommand()
		if err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		var s []string
		for _, a := range args {
			s = append(s, string(a))
		}
		out = append(out, s)
	}
}

func TestReaderMultibulkAndInline(t *testing.T) {
	l := DefaultLimits()
	l.InitialBytes = 8 // force growth and compaction
	in := "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n" + "PING\r\n" + "\r\n" + "*0\r\n" +
		"set \"a b\" 'c\\'d' \"\\x41\\n\"\r\n" + "*1\r\n$0\r\n\r\n"
	got, err := readAll(t, in, l)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"GET", "foo"}, {"PING"}, {"set", "a b", "c'd", "A\n"}, {""}}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("cmd %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestReaderErrors(t *testing.T) {
	cases := map[string]string{
		"*1\r\n$-1\r\n":        "Protocol error: invalid bulk length",
		"*abc\r\n":             "Protocol error: invalid multibulk length",
		"*1\r\n:1\r\n":         "Protocol error: expected '$', got ':'",
		"*1\r\n$3\r\nabcd\r\n": "Protocol error: invalid bulk length",
		"get \"x\r\n":          "Protocol error: unbalanced quotes in request",
		"*3000000000\r\n":      "Protocol error: invalid multibulk length",
		"*1\r\n$600000000\r\n": "Protocol error: invalid bulk length",
	}
	for in, want := range cases {
		_, err := readAll(t, in, DefaultLimits())
		var pe *ProtocolError
		if !errors.As(err, &pe) || pe.Error() != want {
			t.Errorf("%q: err = %v, want %q", in, err, want)
		}
	}
}

func TestReaderUnauthenticatedLimits(t *testing.T) {
	l := DefaultLimits()
	l.Unauthed = true
	_, err := readAll(t, "*11\r\n", l)
	if err == nil || err.Error() != "Protocol error: unauthenticated multibulk length" {
		t.Fatalf("err = %v", err)
	}
	_, err = readAll(t, "*1\r\n$20000\r\n", l)
	if err == nil || err.Error() != "Protocol error: unauthenticated bulk length" {
		t.Fatalf("err = %v", err)
	}
}

// A huge declared bulk must not make the reader allocate it up front.
func TestReaderDoesNotTrustDeclaredSize(t *testing.T) {
	r := NewReader(strings.NewReader("*1\r\n$536870000\r\nabc"), DefaultLimits())
	_, err := r.ReadCommand()
	if err != io.EOF {
		t.Fatalf("err = %v", err)
	}
	if len(r.buf) > 1<<20 {
		t.Fatalf("buffer grew to %d bytes for 3 bytes of data", len(r.buf))
	}
}

func TestWriterRESP2and3(t *testing.T) {
	var w Writer
	w.Proto = 2
	w.Map(1)
	w.BulkString("a")
	w.Double(1.5)
	w.Null()
	w.Bool(true)
	if got := string(w.B); got != "*2\r\n$1\r\na\r\n$3\r\n1.5\r\n$-1\r\n:1\r\n" {
		t.Fatalf("RESP2 = %q", got)
	}
	w = Writer{Proto: 3}
	w.Map(1)
	w.BulkString("a")
	w.Double(0.1)
	w.Null()
	w.Bool(false)
	w.Error("ERR bad\r\nthing")
	if got := string(w.B); got != "%1\r\n$1\r\na\r\n,0.10000000000000001\r\n_\r\n#f\r\n-ERR bad  thing\r\n" {
		t.Fatalf("RESP3 = %q", got)
	}
}

func BenchmarkReader(b *testing.B) {
	cmd := []byte("*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000001\r\n$32\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n")
	in := bytes.Repeat(cmd, 1000)
	rd := bytes.NewReader(in)
	r := NewReader(rd, DefaultLimits())
	b.ReportAllocs()
	b.SetBytes(int64(len(cmd)))
	for i := 0; i < b.N; i++ {
		if _, err := r.ReadCommand(); err != nil {
			rd.Reset(in)
			if _, err := r.ReadCommand(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// FuzzReader feeds arbitrary bytes to the reader: it must never panic, never
// return an empty command, and must stop on EOF or a protocol error.
func FuzzReader(f *testing.F) {
	for _, s := range []string{"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "PING\r\n", "*1\r\n$-1\r\n", "set \"a\\x41\" 'b'\r\n", "*0\r\n", "*-1\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := DefaultLimits()
		l.InitialBytes = 16
		l.MaxBulk = 1 << 16
		r := NewReader(bytes.NewReader(data), l)
		for i := 0; i < 10000; i++ {
			args, err := r.ReadCommand()
			if err != nil {
				return
			}
			if len(args) == 0 {
				t.Fatal("empty command")
			}
		}
	})
}
