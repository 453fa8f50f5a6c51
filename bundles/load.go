package bundles

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

const builtinPrefix = "builtin:"

// Bundle is a loaded bundle: its manifest and its outcomes. The model files
// and reports stay in the folder until asked for (ReadModel, ReadFile).
type Bundle struct {
	Manifest
	Outcomes []Outcome // one per held-out sample, in file order

	Ref string // how it was loaded: builtin:NAME, a folder's path, or the name given to LoadFS
	Dir string // the folder on disk; empty for built-ins and fs.FS bundles

	fsys fs.FS
	root string // the bundle's folder inside fsys
}

// Load loads a bundle: "builtin:NAME" (see Builtins) or a folder's path.
func Load(ref string) (*Bundle, error) {
	if name, ok := strings.CutPrefix(ref, builtinPrefix); ok {
		if !slices.Contains(Builtins(), name) {
			return nil, fmt.Errorf("bundles: no built-in bundle %q (built-ins: %s)", name, list(Builtins()))
		}
		return load(builtinFS, name, ref)
	}
	fi, err := os.Stat(ref)
	if err != nil {
		return nil, fmt.Errorf("bundles: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("bundles: %s is not a bundle folder", ref)
	}
	b, err := load(os.DirFS(ref), ".", ref)
	if err != nil {
		return nil, err
	}
	b.Dir = ref
	return b, nil
}

// LoadFS loads the bundle in folder name of fsys ("." for its root).
func LoadFS(fsys fs.FS, name string) (*Bundle, error) {
	return load(fsys, name, name)
}

func load(fsys fs.FS, root, ref string) (*Bundle, error) {
	b := &Bundle{Ref: ref, fsys: fsys, root: root}
	raw, err := b.ReadFile(ManifestFile)
	if err != nil {
		return nil, err
	}
	m, err := DecodeManifest(b.display(ManifestFile), raw)
	if err != nil {
		return nil, err
	}
	b.Manifest = *m
	for _, f := range []string{m.Models.Heavy.File, m.Models.Edge.File} {
		if _, err := fs.Stat(fsys, path.Join(root, f)); err != nil {
			return nil, fmt.Errorf("bundles: %s: model file %s: %w", b.display(ManifestFile), b.display(f), unwrapPath(err))
		}
	}
	f, err := b.Open(OutcomesFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b.Outcomes, err = ReadOutcomes(b.display(OutcomesFile), f)
	if err != nil {
		return nil, err
	}
	if k := len(b.Outcomes[0].Logits); k != m.Classes {
		return nil, fmt.Errorf("%s:1: %d logit columns, but %s says classes: %d", b.display(OutcomesFile), k, b.display(ManifestFile), m.Classes)
	}
	return b, nil
}

// display names a bundle file in messages: its path on disk, or
// builtin:NAME/file.
func (b *Bundle) display(name string) string {
	if strings.HasPrefix(b.Ref, builtinPrefix) {
		return b.Ref + "/" + name
	}
	if b.root == "." && b.Ref != "." {
		return filepath.Join(b.Ref, filepath.FromSlash(name))
	}
	return path.Join(b.root, name)
}

// unwrapPath drops the fs path from an error, which display already gave.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Open opens a file of the bundle by its name in the folder ("edge.onnx",
// "offload-report.json").
func (b *Bundle) Open(name string) (fs.File, error) {
	f, err := b.fsys.Open(path.Join(b.root, name))
	if err != nil {
		return nil, fmt.Errorf("bundles: %s: %w", b.display(name), unwrapPath(err))
	}
	return f, nil
}

// ReadFile reads a file of the bundle. A missing file's error wraps
// fs.ErrNotExist, for the optional ones (offloader.json, offload-report.json).
func (b *Bundle) ReadFile(name string) ([]byte, error) {
	raw, err := fs.ReadFile(b.fsys, path.Join(b.root, name))
	if err != nil {
		return nil, fmt.Errorf("bundles: %s: %w", b.display(name), unwrapPath(err))
	}
	return raw, nil
}

// Has reports whether the bundle holds the file name.
func (b *Bundle) Has(name string) bool {
	_, err := fs.Stat(b.fsys, path.Join(b.root, name))
	return err == nil
}

// ModelInfo returns the manifest's entry for ModelHeavy or ModelEdge.
func (b *Bundle) ModelInfo(which string) (*ModelInfo, error) {
	switch which {
	case ModelHeavy:
		return &b.Models.Heavy, nil
	case ModelEdge:
		return &b.Models.Edge, nil
	}
	return nil, fmt.Errorf("bundles: no model %q in a bundle, want %q or %q", which, ModelHeavy, ModelEdge)
}

// ReadModel reads the ONNX file of ModelHeavy or ModelEdge and checks it
// against the manifest's SHA-256, so that a model and the outcomes measured
// on it cannot drift apart.
func (b *Bundle) ReadModel(which string) ([]byte, error) {
	mi, err := b.ModelInfo(which)
	if err != nil {
		return nil, err
	}
	raw, err := b.ReadFile(mi.File)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	if got := hex.EncodeToString(sum[:]); got != mi.SHA256 {
		return nil, fmt.Errorf("bundles: %s: sha256 %s, but %s says %s", b.display(mi.File), got, b.display(ManifestFile), mi.SHA256)
	}
	return raw, nil
}

// ModelPath is the model file's path on disk, for runtimes that load from
// a path; ok is false for built-in and fs.FS bundles (use ReadModel).
func (b *Bundle) ModelPath(which string) (p string, ok bool) {
	mi, err := b.ModelInfo(which)
	if err != nil || b.Dir == "" {
		return "", false
	}
	return filepath.Join(b.Dir, filepath.FromSlash(mi.File)), true
}

// Offloader reads offloader.json; the error wraps fs.ErrNotExist when the
// bundle has none.
func (b *Bundle) Offloader() ([]byte, error) { return b.ReadFile(OffloaderFile) }

// InputElements is the number of values in one sample (the product of the
// input shape).
func (b *Bundle) InputElements() int {
	n := 1
	for _, d := range b.InputShape {
		n *= d
	}
	return n
}

// InputBytes is the size of one raw sample as the models take it: float32
// values, 4 bytes each. A scenario's request_bytes: 0 means this.
func (b *Bundle) InputBytes() int { return 4 * b.InputElements() }

func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
