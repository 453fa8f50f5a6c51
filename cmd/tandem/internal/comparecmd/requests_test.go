package comparecmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/deploy"
)

// withRequests writes a summary and, when rows is not empty, the
// requests.csv beside it: rows are "id,sample,correct,status".
func withRequests(t *testing.T, rows ...string) string {
	t.Helper()
	path := write(t, &deploy.Summary{Scenario: "default", Mode: deploy.ModeSim, Seed: 1, Requests: int64(len(rows))})
	if len(rows) > 0 {
		csv := "id,sample,correct,status\n" + strings.Join(rows, "\n") + "\n"
		if err := os.WriteFile(filepath.Join(filepath.Dir(path), "requests.csv"), []byte(csv), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestComparePaired(t *testing.T) {
	// Sample 4 is drawn twice, and B fixes it both times; B fails request 3.
	a := withRequests(t, "0,4,false,ok", "1,4,false,ok", "2,5,true,ok", "3,6,true,ok")
	b := withRequests(t, "0,4,true,ok", "1,4,true,ok", "2,5,true,ok", "3,6,true,failed")
	c, err := Compare(a, b)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Paired
	if p == nil || p.Requests != 4 || p.BOnly != 2 || p.AOnly != 1 || p.Samples != 3 || p.SamplesB != 1 || p.SamplesA != 1 || p.SamplesP != 1 {
		t.Fatalf("paired %+v", p)
	}
	if len(c.Notes) != 0 {
		t.Errorf("notes %v", c.Notes)
	}
	out := table(t, a, b)
	for _, want := range []string{"B right where A wrong on 2, A right where B wrong on 1", "3 distinct samples: B better on 1, A on 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestComparePairedNotes(t *testing.T) {
	tests := []struct {
		name string
		a, b []string
		want string // a note; "" for none
	}{
		{"neither has requests", nil, nil, ""},
		{"one has requests", []string{"0,1,true,ok"}, nil, "has no requests.csv beside it"},
		{"other samples", []string{"0,1,true,ok"}, []string{"0,2,true,ok"}, "request 0 replays sample 1 in A and 2 in B"},
	}
	for _, tc := range tests {
		c, err := Compare(withRequests(t, tc.a...), withRequests(t, tc.b...))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		notes := strings.Join(c.Notes, "; ")
		if c.Paired != nil || (tc.want == "") != (notes == "") || !strings.Contains(notes, tc.want) {
			t.Errorf("%s: paired %+v, notes %q, want no paired test and a note %q", tc.name, c.Paired, notes, tc.want)
		}
	}
}

func TestComparePairedBadInput(t *testing.T) {
	good := withRequests(t, "0,1,true,ok")
	bad := withRequests(t, "0,1,maybe,ok")
	_, err := Compare(good, bad)
	if cli.ExitCode(err) != cli.ExitBadInput || !strings.Contains(err.Error(), "requests.csv:2: correct: want true or false") {
		t.Errorf("err = %v, want exit 2 naming the file, line and column", err)
	}
}
