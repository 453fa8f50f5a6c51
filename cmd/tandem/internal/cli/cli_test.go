package cli

import (
	"errors"
	"fmt"
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
