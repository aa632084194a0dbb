package ui

import (
	"bytes"
	"strings"
	"testing"
)

func TestSlotMap(t *testing.T) {
	owner := make([]int, 16384)
	open := make([]bool, 16384)
	for i := range owner {
		owner[i] = i * 3 / 16384 // three owners, contiguous
	}
	owner[100] = -1   // partly unassigned cell
	open[9000] = true // a migrating slot
	var b bytes.Buffer
	RenderSlotMap(&b, owner, open, []SlotMapOwner{{"a", 5462}, {"b", 5461}, {"c", 5461}}, false)
	out := b.String()
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "    0 AAAAAA!") || !strings.HasSuffix(lines[0], " 1023") {
		t.Fatalf("first row: %q", lines[0])
	}
	if !strings.Contains(out, ">") || !strings.Contains(out, "+") || !strings.HasSuffix(lines[15], " 16383") {
		t.Fatalf("map:\n%s", out)
	}
	if !strings.Contains(out, "  A  a  5462 slots") || !strings.Contains(out, "  C  c  5461 slots") {
		t.Fatalf("legend:\n%s", out)
	}
}

func TestConfirm(t *testing.T) {
	var out bytes.Buffer
	u := New(&out, &out, strings.NewReader("yes\nno\n"), false, false)
	if !u.Confirm("go?") || u.Confirm("again?") || u.Confirm("eof?") {
		t.Fatal("Confirm must accept exactly 'yes' and refuse on EOF")
	}
	if !strings.Contains(out.String(), "go? (type 'yes' to accept): ") {
		t.Fatal(out.String())
	}
}

func TestJSONModeSendsHumanOutputToStderr(t *testing.T) {
	var out, errb bytes.Buffer
	u := New(&out, &errb, strings.NewReader(""), true, false)
	u.Logf(OK, "[OK] fine")
	u.Table([]string{"A"}, [][]string{{"1"}})
	if out.Len() != 0 || !strings.Contains(errb.String(), "[OK] fine") {
		t.Fatalf("stdout %q stderr %q", out.String(), errb.String())
	}
}
