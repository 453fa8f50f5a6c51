package oip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/tandem-edge/tandem/sim"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want sim.Failure
	}{
		{nil, sim.FailureNone},
		{&StatusError{Code: 503}, sim.FailureHTTP(503)},
		{fmt.Errorf("call: %w", &StatusError{Code: 401}), sim.FailureHTTP(401)},
		{context.DeadlineExceeded, sim.FailureTimeout},
		{&url.Error{Op: "Post", Err: timeoutErr{}}, sim.FailureTimeout},
		{fmt.Errorf("x: %w", ErrBadAnswer), sim.FailureBadAnswer},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, sim.FailureRefused},
		{&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, sim.FailureConnection},
		{&url.Error{Op: "Post", Err: io.EOF}, sim.FailureConnection},
		{&url.Error{Op: "Post", Err: &net.OpError{Op: "write", Err: net.ErrClosed}}, sim.FailureConnection},
		{&url.Error{Op: "Post", Err: errors.New("http: server closed idle connection")}, sim.FailureConnection},
		{&url.Error{Op: "Post", Err: errors.New("net/http: HTTP/1.x transport connection broken: unexpected EOF")}, sim.FailureConnection},
		{errors.New("disk on fire"), sim.FailureError},
	} {
		if got := Classify(tc.err); got != tc.want {
			t.Errorf("Classify(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }
