package cli

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.yaml")
	for _, content := range []string{"first\n", "second\n"} {
		if err := WriteFileAtomic(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != content {
			t.Errorf("file holds %q, want %q", b, content)
		}
	}
	if err := WriteFileAtomic(filepath.Join(dir, "none", "p.yaml"), []byte("x")); err == nil {
		t.Error("writing into a missing folder: no error")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want only p.yaml", len(entries))
	}
}
