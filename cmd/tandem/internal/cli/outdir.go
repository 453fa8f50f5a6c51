package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Output collects the files a command writes into one folder so that they
// appear together or not at all: each is written under a temporary name and
// renamed into place by Commit. Abort (or a Commit that fails) removes every
// temporary file, and the folder too when Output created it.
type Output struct {
	dir     string
	created bool
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

// Create opens a temporary file that Commit will rename to dir/name.
func (o *Output) Create(name string) (*os.File, error) {
	f, err := os.CreateTemp(o.dir, "."+name+".*.tmp")
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
	o.files = nil
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
