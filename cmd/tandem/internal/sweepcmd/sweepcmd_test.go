package sweepcmd

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
)

func execute(t *testing.T, args ...string) error {
	t.Helper()
	cmd := NewCmd()
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return cmd.Execute()
}

// TestShardAndMerge runs a sweep whole and in two shards through the
// command, and checks that merge gives the same files.
func TestShardAndMerge(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(spec, []byte("scenario: builtin:threshold\nrequests: 500\nvary:\n  edge.count: [2, 4, 6]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	whole, a, b, merged := filepath.Join(dir, "whole"), filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "merged")
	for _, args := range [][]string{
		{spec, "--out", whole},
		{spec, "--shard", "0/2", "--out", a},
		{spec, "--shard", "1/2", "--out", b},
		{"merge", a, b, "--out", merged},
	} {
		if err := execute(t, args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	for _, name := range []string{"results.jsonl", "results.csv"} {
		x, err1 := os.ReadFile(filepath.Join(whole, name))
		y, err2 := os.ReadFile(filepath.Join(merged, name))
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Errorf("%s: merged shards differ from the whole (%v, %v)", name, err1, err2)
		}
	}
	// A missing shard is an error, and leaves no output.
	lone := filepath.Join(dir, "lone")
	if err := execute(t, "merge", a, "--out", lone); cli.ExitCode(err) != cli.ExitBadInput {
		t.Errorf("merge of one of two shards: %v", err)
	}
	if _, err := os.Stat(lone); !os.IsNotExist(err) {
		t.Errorf("merge left %s behind", lone)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("scenario: builtin:threshold\nvary:\n  edge.count: [0]\n"), 0o644)
	for _, args := range [][]string{
		{bad},
		{bad, "--out", filepath.Join(dir, "o"), "--shard", "2/2"},
		{filepath.Join(dir, "missing.yaml"), "--out", filepath.Join(dir, "o")},
		{bad, "--out", filepath.Join(dir, "o")},
		{"merge", dir, "--out", filepath.Join(dir, "m")},
	} {
		if err := execute(t, args...); cli.ExitCode(err) != cli.ExitBadInput {
			t.Errorf("%v: %v (exit %d), want exit %d", args, err, cli.ExitCode(err), cli.ExitBadInput)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "o")); !os.IsNotExist(err) {
		t.Error("a failed sweep left its --out folder")
	}
}
