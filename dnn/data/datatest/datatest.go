// Package datatest holds what tests that need data share: the rule that
// under CI, where the setup installs them, a missing dataset fails the test,
// and elsewhere skips it; and a small generated dataset for tests that
// train.
package datatest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/dnn/data"
)

// Load loads the named dataset (see data.Load) or ends the test: a skip
// when it is not installed and CI is not true, a failure otherwise.
func Load(tb testing.TB, name string) *data.Dataset {
	tb.Helper()
	d, err := data.Load(name, data.Options{})
	var missing *data.NotInstalledError
	switch {
	case err == nil:
		return d
	case errors.As(err, &missing) && os.Getenv("CI") != "true":
		tb.Skip(err)
	default:
		tb.Fatal(err)
	}
	return nil
}

// ThirdsCSV writes n samples of a three-class 8x8 dataset, as CSV rows of a
// label and 64 pixels, into a temporary file and returns its path. Each
// class is bright in its own overlapping third of the image, noisily enough
// that a small model trained briefly errs where a larger one trained longer
// does not.
func ThirdsCSV(tb testing.TB, n int) string {
	tb.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	var b strings.Builder
	for i := range n {
		label := i % 3
		fmt.Fprint(&b, label)
		for p := range 64 {
			v := rng.IntN(140)
			if row := p / 8; row >= 2*label && row < 2*label+4 {
				v += 70
			}
			fmt.Fprintf(&b, ",%d", v)
		}
		b.WriteByte('\n')
	}
	path := filepath.Join(tb.TempDir(), "thirds.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}
