package ortcmd

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/hil/hiltest"
)

func TestArgs(t *testing.T) {
	tests := []struct {
		args     []string
		wantJSON bool
		wantExit int
	}{
		{args: []string{"check"}},
		{args: []string{"check", "--json"}, wantJSON: true},
		{args: []string{"check", "extra"}, wantExit: cli.ExitBadInput},
		{args: []string{"bogus"}, wantExit: cli.ExitBadInput},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var got *CheckOptions
			cmd := NewCmd()
			for _, c := range cmd.Commands() {
				if c.Name() == "check" {
					cmd.RemoveCommand(c)
				}
			}
			cmd.AddCommand(newCheckCmd(func(o *CheckOptions) error { got = o; return nil }))
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if code := cli.ExitCode(err); code != tt.wantExit {
				t.Fatalf("exit status %d (%v), want %d", code, err, tt.wantExit)
			}
			if tt.wantExit == 0 && got.JSON != tt.wantJSON {
				t.Errorf("json %v, want %v", got.JSON, tt.wantJSON)
			}
		})
	}
}

func TestCheckRun(t *testing.T) {
	hiltest.RequireORT(t)
	var out bytes.Buffer
	if err := checkRun(&CheckOptions{JSON: true, Out: &out}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Version string `json:"ort_version"`
		Library string `json:"library"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.Version, "1.") || got.Library == "" {
		t.Errorf("check reported %s", out.String())
	}
	out.Reset()
	if err := checkRun(&CheckOptions{Out: &out}); err != nil || !strings.Contains(out.String(), "linear model: ok") {
		t.Errorf("%v: %s", err, out.String())
	}
}
