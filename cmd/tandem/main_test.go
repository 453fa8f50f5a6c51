package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
)

// TestExitStatus runs the binary's command tree as main does and checks the
// exit status contract: 0 on success, 2 on bad usage or bad input.
func TestExitStatus(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\nworkload: {arrival: sometimes}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"--help"}, cli.ExitOK},
		{[]string{"sim", "--requests", "200", "--json"}, cli.ExitOK},
		{[]string{"scenario", "list"}, cli.ExitOK},
		{[]string{"nonsense"}, cli.ExitBadInput},
		{[]string{"sim", "--requests", "many"}, cli.ExitBadInput},
		{[]string{"sim", "--no-such-flag"}, cli.ExitBadInput},
		{[]string{"sim", bad}, cli.ExitBadInput},
		{[]string{"sim", "builtin:nope"}, cli.ExitBadInput},
		{[]string{"train", "--epochs", "many"}, cli.ExitBadInput},
		{[]string{"train", "--arch", "vgg"}, cli.ExitBadInput},
		{[]string{"eval"}, cli.ExitBadInput},
		{[]string{"profile", "--runs", "x"}, cli.ExitBadInput},
		{[]string{"offload", "train", "--out", dir, "--tolerance", "-0.1"}, cli.ExitBadInput},
		{[]string{"offload", "train", "--out", dir, "--tolerance", "100"}, cli.ExitBadInput},
		{[]string{"bundle", "show", filepath.Join(dir, "none")}, cli.ExitBadInput},
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = devnull, devnull
	defer func() { os.Stdout, os.Stderr = stdout, stderr }()
	for _, tt := range tests {
		if got := run(tt.args); got != tt.want {
			t.Errorf("tandem %v: exit %d, want %d", tt.args, got, tt.want)
		}
	}
}
