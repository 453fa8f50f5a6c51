package scenariocmd

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/scenarios"
)

func execute(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := NewCmd()
	var out bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	return out.String(), err
}

func TestList(t *testing.T) {
	out, err := execute(t, "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range scenarios.Builtins() {
		if !strings.Contains(out, "builtin:"+name) {
			t.Errorf("list lacks builtin:%s", name)
		}
	}
	if strings.Contains(out, "error:") {
		t.Errorf("a built-in scenario does not load:\n%s", out)
	}
}

// TestShowRoundTrips checks that what show prints is a scenario file that
// decodes to the built-in it came from, so users can start from it.
func TestShowRoundTrips(t *testing.T) {
	for _, name := range scenarios.Builtins() {
		t.Run(name, func(t *testing.T) {
			out, err := execute(t, "show", "builtin:"+name)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), name+".yaml")
			if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := execute(t, "check", file); err != nil {
				t.Errorf("check of shown %s: %v", name, err)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\nrequests: -1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
	}{
		{"show missing file", []string{"show", "nope.yaml"}},
		{"show unknown built-in", []string{"show", "builtin:nope"}},
		{"show no argument", []string{"show"}},
		{"check bad file", []string{"check", bad}},
		{"list with argument", []string{"list", "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := execute(t, tt.args...)
			if code := cli.ExitCode(err); code != cli.ExitBadInput {
				t.Errorf("exit %d (%v), want %d", code, err, cli.ExitBadInput)
			}
		})
	}
}

// TestCheckReadsTheOffloader checks that check decodes a learned policy's
// offloader file, as sim would, and names the file when it is bad.
func TestCheckReadsTheOffloader(t *testing.T) {
	dir := t.TempDir()
	shown, err := execute(t, "show", "builtin:default")
	if err != nil {
		t.Fatal(err)
	}
	off := filepath.Join(dir, "offloader.json")
	if err := os.WriteFile(off, []byte(`{"format": "tandem-offloader/1", "classes": 10}`), 0o644); err != nil {
		t.Fatal(err)
	}
	y := strings.Replace(shown, "  kind: learned\n", "  kind: learned\n  offloader: offloader.json\n", 1)
	if y == shown {
		t.Fatalf("builtin:default has no learned policy:\n%s", shown)
	}
	file := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = execute(t, "check", file)
	if code := cli.ExitCode(err); code != cli.ExitBadInput {
		t.Errorf("exit %d (%v), want %d", code, err, cli.ExitBadInput)
	}
}
