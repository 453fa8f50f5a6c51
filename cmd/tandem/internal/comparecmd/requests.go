package comparecmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/paired"
)

// requestsFile is where a run writes its requests beside its summary.
const requestsFile = "requests.csv"

// pairRequests compares the runs request by request when both summaries
// have their requests.csv beside them: c.Paired, or a note saying why not.
func pairRequests(c *Comparison) error {
	ra, okA, err := readOutcomes(c.A)
	if err != nil {
		return err
	}
	rb, okB, err := readOutcomes(c.B)
	if err != nil {
		return err
	}
	switch {
	case !okA && !okB:
		return nil
	case okA != okB:
		missing := c.B
		if !okA {
			missing = c.A
		}
		c.Notes = append(c.Notes, fmt.Sprintf("no paired accuracy test: %s has no %s beside it", missing, requestsFile))
		return nil
	}
	r, err := paired.Compare(ra, rb)
	var mismatch *paired.MismatchError
	if errors.As(err, &mismatch) {
		c.Notes = append(c.Notes, "no paired accuracy test: "+mismatch.Reason)
		return nil
	}
	if err != nil {
		return err
	}
	c.Paired = r
	return nil
}

// readOutcomes reads the requests.csv beside the summary at path; ok is
// false when there is none.
func readOutcomes(summary string) (outs []paired.Outcome, ok bool, err error) {
	path := filepath.Join(filepath.Dir(summary), requestsFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, cli.BadInput(err)
	}
	defer f.Close()
	outs, err = paired.ReadOutcomes(path, f)
	if err != nil {
		return nil, false, cli.BadInput(err)
	}
	return outs, true, nil
}
