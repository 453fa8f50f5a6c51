// Package strictyaml decodes YAML into Go structs strictly, remembering where
// every key came from, so that tandem's input files (scenarios, device
// profiles, bundle manifests) can report each mistake as
// "file:line:column: key.path: message". Unknown keys, wrong types, bare
// numbers where a duration is due, duplicate keys and NaN are errors; the
// caller's own validation reports through the same Doc so that its messages
// carry the same positions.
package strictyaml

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Pos is a position in a YAML file, 1-based. The zero Pos means unknown.
type Pos struct{ Line, Column int }

// Error is one mistake in a file.
type Error struct {
	File string
	Pos
	Path string // key path, e.g. "link.uplink_mbps" or "models[2].latency"; empty for the whole file
	Msg  string
}

// Error formats e as "file:line:column: path: msg", leaving out the parts
// that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		switch {
		case e.Line > 0 && e.Column > 0:
			fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
		case e.Line > 0:
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// MaxShown is how many errors Errors.Error lists before summing up the rest.
const MaxShown = 10

// Errors is a list of mistakes, one line each when printed, in file order.
type Errors []*Error

func (l Errors) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i == MaxShown {
			fmt.Fprintf(&b, "\n(and %d more errors)", len(l)-MaxShown)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err returns l sorted by position as an error, or nil when l is empty.
func (l Errors) Err() error {
	if len(l) == 0 {
		return nil
	}
	slices.SortStableFunc(l, func(a, b *Error) int {
		if c := cmp.Compare(a.Line, b.Line); c != 0 {
			return c
		}
		return cmp.Compare(a.Column, b.Column)
	})
	return l
}
