package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Output collects the files a command writes into one folder so that they
// appear together or not at all: each is written under a temporary name and
// renamed into place by Commit. Abort (or a Commit that fails) removes every
// temporary file, and the folders too (dir and those under it) that Output
// created and that are left empty.
type Output struct {
	dir     string
	created bool
	subdirs []string // folders under dir that Create made, parents first
	files   []*os.File
	names   []string
}

// NewOutput prepares dir, creating it (and its parents) when missing.
func NewOutput(dir string) (*Output, error) {
	o := &Output{dir: dir}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, BadInputf("--out %s: %v", dir, err)
		}
		o.created = true
	} else if err != nil {
		return nil, BadInputf("--out %s: %v", dir, err)
	}
	return o, nil
}

// Create opens a temporary file that Commit will rename to dir/name. name
// may be a slash-separated path inside dir ("run-1/summary.json"): Create
// makes its folders, which Abort removes again when they are left empty.
func (o *Output) Create(name string) (*os.File, error) {
	name = filepath.FromSlash(name)
	if !filepath.IsLocal(name) {
		return nil, fmt.Errorf("--out %s: %s is not a file name inside it", o.dir, name)
	}
	dir := o.dir
	if sub := filepath.Dir(name); sub != "." {
		if err := o.mkdirs(sub); err != nil {
			return nil, err
		}
		dir = filepath.Join(o.dir, sub)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("--out %s: %w", o.dir, err)
	}
	if err := f.Chmod(0o644); err != nil { // CreateTemp makes it private
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	o.files = append(o.files, f)
	o.names = append(o.names, name)
	return f, nil
}

// Commit closes every file and renames each into place.
func (o *Output) Commit() error {
	for _, f := range o.files {
		if err := f.Close(); err != nil {
			o.Abort()
			return fmt.Errorf("write %s: %w", f.Name(), err)
		}
	}
	for i, f := range o.files {
		if err := os.Rename(f.Name(), filepath.Join(o.dir, o.names[i])); err != nil {
			o.Abort()
			return err
		}
	}
	o.files, o.subdirs = nil, nil
	return nil
}

// mkdirs makes the folder sub of dir and its parents inside dir, noting
// those it made.
func (o *Output) mkdirs(sub string) error {
	path := o.dir
	for _, part := range strings.Split(sub, string(filepath.Separator)) {
		path = filepath.Join(path, part)
		err := os.Mkdir(path, 0o755)
		switch {
		case err == nil:
			o.subdirs = append(o.subdirs, path)
		case errors.Is(err, os.ErrExist):
			if fi, serr := os.Stat(path); serr != nil || !fi.IsDir() {
				return fmt.Errorf("--out %s: %s is not a folder", o.dir, path)
			}
		default:
			return fmt.Errorf("--out %s: %w", o.dir, err)
		}
	}
	return nil
}

// Abort removes what was written. It is safe to call after Commit, where it
// does nothing.
func (o *Output) Abort() {
	for _, f := range o.files {
		f.Close()
		os.Remove(f.Name())
	}
	o.files = nil
	for _, d := range slices.Backward(o.subdirs) {
		os.Remove(d) // only succeeds when empty
	}
	o.subdirs = nil
	if o.created {
		os.Remove(o.dir) // only succeeds when empty
	}
}

// WriteFiles writes files into dir, all of them or none (see Output).
func WriteFiles(dir string, files map[string][]byte) error {
	out, err := NewOutput(dir)
	if err != nil {
		return err
	}
	defer out.Abort()
	for name, content := range files {
		f, err := out.Create(name)
		if err != nil {
			return err
		}
		if _, err := f.Write(content); err != nil {
			return err
		}
	}
	return out.Commit()
}

// WriteFileAtomic writes b to path through a temporary file in the same folder
// and a rename, so that path holds the old file or the new one, never a
// part of one.
func WriteFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		if rerr := os.Remove(tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return fmt.Errorf("%w (and removing %s: %v)", err, tmp, rerr)
		}
	}
	return err
}
