package bundles

import (
	"embed"
	"io/fs"
	"path"
	"slices"
)

// builtinFS holds the built-in bundles, one folder each. A bundle folder
// added here must be added to the embed line too (e.g. "README.md fashion");
// TestBuiltinsEmbedded fails until it is. The README keeps the pattern valid
// while there is no built-in bundle.
//
//go:embed README.md fashion digits
var builtinFS embed.FS

// Builtins lists the built-in bundles' names, sorted.
func Builtins() []string {
	entries, _ := fs.ReadDir(builtinFS, ".")
	var names []string
	for _, e := range entries {
		if _, err := fs.Stat(builtinFS, path.Join(e.Name(), ManifestFile)); e.IsDir() && err == nil {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names
}
