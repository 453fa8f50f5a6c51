// Package datatest holds what tests that read the installed datasets share:
// the rule that under CI, where the setup installs them, a missing dataset
// fails the test, and elsewhere skips it.
package datatest

import (
	"errors"
	"os"
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
