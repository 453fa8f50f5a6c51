package profiles

import (
	"embed"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// builtinFS holds the built-in profiles: builtin/NAME.yaml device profiles
// and builtin/NAME.trace link traces. The README keeps the folder non-empty
// before any profile has been measured.
//
//go:embed builtin
var builtinFS embed.FS

// BuiltinPrefix marks a reference to a built-in ("builtin:NAME"); a bare
// NAME that is not a file's path means the same.
const BuiltinPrefix = "builtin:"

// builtinNames lists the names of the built-in files with extension ext.
func builtinNames(ext string) []string {
	entries, _ := fs.ReadDir(builtinFS, "builtin")
	var names []string
	for _, e := range entries {
		if !e.IsDir() && path.Ext(e.Name()) == ext {
			names = append(names, strings.TrimSuffix(e.Name(), ext))
		}
	}
	slices.Sort(names)
	return names
}

func readBuiltin(name, ext string) ([]byte, bool) {
	if name == "" || strings.ContainsAny(name, `/\`) {
		return nil, false
	}
	b, err := builtinFS.ReadFile("builtin/" + name + ext)
	return b, err == nil
}

// BuiltinDevices lists the built-in device profiles, sorted.
func BuiltinDevices() []string { return builtinNames(".yaml") }

// IsBuiltinDevice reports whether name (with or without "builtin:") is a
// built-in device profile.
func IsBuiltinDevice(name string) bool {
	_, ok := readBuiltin(strings.TrimPrefix(name, BuiltinPrefix), ".yaml")
	return ok
}

// BuiltinTraces lists the built-in link traces, sorted. tandem ships none:
// recorded traces are others' data; give a trace file's path instead.
func BuiltinTraces() []string { return builtinNames(".trace") }

// IsBuiltinTrace reports whether name (with or without "builtin:") is a
// built-in link trace.
func IsBuiltinTrace(name string) bool {
	_, ok := readBuiltin(strings.TrimPrefix(name, BuiltinPrefix), ".trace")
	return ok
}

// listOrNone formats built-in names for error messages.
func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
