// Package cli holds what every tandem subcommand shares: the error kinds that
// decide the exit status, and how a command reports them.
package cli

import (
	"errors"
	"fmt"
	"github.com/spf13/cobra"
)

// Exit statuses of the tandem binary.
const (
	ExitOK       = 0
	ExitFailure  = 1 // the work itself failed
	ExitBadInput = 2 // bad usage or bad input (flags, scenario, profile, model, dataset)
	// ExitTooManyFailed: the run finished and wrote its outputs, but more of
	// its requests failed than the command allows (hil run --max-failure-rate),
	// or its results missed a bound the command was asked to check
	// (validate --max-error).
	ExitTooManyFailed = 3
)

// FailedRequestsError marks a run that finished with more failed requests
// than allowed. The binary exits with ExitTooManyFailed for it.
type FailedRequestsError struct {
	Failed, Requests int64
	Allowed          float64 // the largest failed share allowed
	Reasons          string  // the failures by reason, most first
}

func (e *FailedRequestsError) Error() string {
	return fmt.Sprintf("%d of %d requests failed (%.2f%%, more than the %.2f%% allowed by --max-failure-rate): %s",
		e.Failed, e.Requests, 100*float64(e.Failed)/float64(max(e.Requests, 1)), 100*e.Allowed, e.Reasons)
}

// BoundError marks a command that finished and wrote its outputs, but
// whose results missed a bound it was asked to hold them to (validate
// --max-error). The binary exits with ExitTooManyFailed for it, as for
// FailedRequestsError.
type BoundError struct{ Err error }

func (e *BoundError) Error() string { return e.Err.Error() }
func (e *BoundError) Unwrap() error { return e.Err }

// InputError marks an error caused by what the user gave tandem: a flag, a
// file, a value. The binary exits with ExitBadInput for it.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// BadInput wraps err as an InputError; nil stays nil.
func BadInput(err error) error {
	if err == nil {
		return nil
	}
	return &InputError{Err: err}
}

// BadInputf formats an InputError.
func BadInputf(format string, args ...any) error {
	return &InputError{Err: fmt.Errorf(format, args...)}
}

// ExitCode maps an error returned by a command to the process exit status.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ie *InputError
	if errors.As(err, &ie) {
		return ExitBadInput
	}
	var fe *FailedRequestsError
	if errors.As(err, &fe) {
		return ExitTooManyFailed
	}
	var be *BoundError
	if errors.As(err, &be) {
		return ExitTooManyFailed
	}
	return ExitFailure
}

// RangeArgs is cobra.RangeArgs whose failure is an InputError.
func RangeArgs(min, max int) func(cmd *cobra.Command, args []string) error {
	return func(cmd *cobra.Command, args []string) error {
		return BadInput(cobra.RangeArgs(min, max)(cmd, args))
	}
}

// ExactArgs is cobra.ExactArgs whose failure is an InputError.
func ExactArgs(n int) func(cmd *cobra.Command, args []string) error {
	return RangeArgs(n, n)
}
