package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExitCode(t *testing.T) {
	failed := &FailedRequestsError{Failed: 203, Requests: 1000, Allowed: 0.01, Reasons: "http_503 203"}
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"bad input", BadInputf("--out is required"), ExitBadInput},
		{"wrapped bad input", fmt.Errorf("hil run: %w", BadInputf("x")), ExitBadInput},
		{"too many failed", failed, ExitTooManyFailed},
		{"wrapped too many failed", fmt.Errorf("hil run: %w", failed), ExitTooManyFailed},
		{"bound missed", &BoundError{Err: errors.New("default: latency_p95_ms off")}, ExitTooManyFailed},
		{"wrapped bound missed", fmt.Errorf("validate: %w", &BoundError{Err: errors.New("x")}), ExitTooManyFailed},
		{"anything else", errors.New("disk full"), ExitFailure},
	} {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
	if want := "203 of 1000 requests failed (20.30%, more than the 1.00% allowed by --max-failure-rate): http_503 203"; failed.Error() != want {
		t.Errorf("%q\nwant %q", failed.Error(), want)
	}
	if BadInput(nil) != nil {
		t.Error("BadInput(nil) is not nil")
	}
}

// TestOutputFolders checks that files in folders under an output appear
// together on Commit, and that Abort leaves nothing of them behind.
func TestOutputFolders(t *testing.T) {
	for _, commit := range []bool{true, false} {
		dir := filepath.Join(t.TempDir(), "out")
		out, err := NewOutput(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"a/sim/summary.json", "a/hil-1/summary.json", "top.md"} {
			f, err := out.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(name); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := out.Create("../escape"); err == nil {
			t.Error("Create(../escape) succeeded")
		}
		if !commit {
			out.Abort()
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("after Abort: %v, want %s gone", err, dir)
			}
			continue
		}
		if err := out.Commit(); err != nil {
			t.Fatal(err)
		}
		out.Abort() // after Commit: nothing
		for _, name := range []string{"a/sim/summary.json", "a/hil-1/summary.json", "top.md"} {
			if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(b) != name {
				t.Errorf("%s: %q, %v", name, b, err)
			}
		}
	}
}

func TestPoints(t *testing.T) {
	var f float64
	v := Points(&f)
	if err := v.Set("0.1"); err != nil || f != 0.001 || v.String() != "0.1" {
		t.Errorf("Set(0.1): err %v, fraction %v, String %q", err, f, v.String())
	}
	for _, bad := range []string{"-0.1", "100", "x", "NaN"} {
		if err := v.Set(bad); err == nil || !strings.Contains(err.Error(), "want accuracy points from 0 to below 100") {
			t.Errorf("Set(%q): err %v", bad, err)
		}
	}
	if f != 0.001 {
		t.Errorf("a refused value changed the fraction to %v", f)
	}
}
