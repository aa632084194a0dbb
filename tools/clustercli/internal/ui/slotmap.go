package ui

import (
	"fmt"
	"io"
	"strings"
)

// SlotMapOwner is one owner in the slot map legend.
type SlotMapOwner struct {
	Label string // e.g. "127.0.0.1:7000 (abc12345)"
	Slots int
}

// SlotsPerCell and CellsPerRow lay the 16384 slots out as 16 rows of 64
// cells of 16 slots each.
const (
	SlotsPerCell = 16
	CellsPerRow  = 64
)

var glyphs = []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

// 256-colour backgrounds readable with black text.
var palette = []int{39, 208, 112, 199, 220, 45, 141, 203, 154, 81, 214, 177, 118, 209, 75, 226}

// Glyph returns the letter used for owner i.
func Glyph(i int) byte {
	if i < 0 {
		return '.'
	}
	return glyphs[i%len(glyphs)]
}

// RenderSlotMap draws the slot map. owner[s] is the owner index of slot s
// (-1 = unassigned); open[s] marks migrating/importing slots. Each cell
// stands for 16 slots: the owner's letter (coloured by owner), '+' for a
// cell shared by several owners, '.' unassigned, '!' partly unassigned,
// '>' a cell with a slot being migrated.
func RenderSlotMap(w io.Writer, owner []int, open []bool, owners []SlotMapOwner, color bool) {
	var b strings.Builder
	n := len(owner)
	rows := (n + SlotsPerCell*CellsPerRow - 1) / (SlotsPerCell * CellsPerRow)
	for r := 0; r < rows; r++ {
		first := r * SlotsPerCell * CellsPerRow
		fmt.Fprintf(&b, "%5d ", first)
		for c := 0; c < CellsPerRow; c++ {
			lo := first + c*SlotsPerCell
			if lo >= n {
				break
			}
			hi := min(lo+SlotsPerCell, n)
			g, col := cellGlyph(owner[lo:hi], open[lo:hi])
			if color && col >= 0 {
				fmt.Fprintf(&b, "\033[48;5;%dm\033[38;5;16m%c\033[0m", palette[col%len(palette)], g)
			} else if color && g == '>' {
				fmt.Fprintf(&b, "\033[1;33m%c\033[0m", g)
			} else if color && (g == '.' || g == '!') {
				fmt.Fprintf(&b, "\033[1;31m%c\033[0m", g)
			} else {
				b.WriteByte(g)
			}
		}
		last := min(first+SlotsPerCell*CellsPerRow, n) - 1
		fmt.Fprintf(&b, " %d\n", last)
	}
	b.WriteString("\n")
	for i, o := range owners {
		g := string(Glyph(i))
		if color {
			g = fmt.Sprintf("\033[48;5;%dm\033[38;5;16m%s\033[0m", palette[i%len(palette)], g)
		}
		fmt.Fprintf(&b, "  %s  %s  %d slots\n", g, o.Label, o.Slots)
	}
	fmt.Fprintf(&b, "  each cell = %d slots;  + shared cell   > migrating/importing   . unassigned   ! partly unassigned\n", SlotsPerCell)
	_, _ = io.WriteString(w, b.String())
}

func cellGlyph(owner []int, open []bool) (byte, int) {
	for _, o := range open {
		if o {
			return '>', -1
		}
	}
	first, mixed, unassigned := owner[0], false, 0
	for _, o := range owner {
		if o < 0 {
			unassigned++
		}
		if o != first {
			mixed = true
		}
	}
	switch {
	case unassigned == len(owner):
		return '.', -1
	case unassigned > 0:
		return '!', -1
	case mixed:
		return '+', -1
	}
	return Glyph(first), first
}
