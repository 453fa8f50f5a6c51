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

	"github.com/tandem-edge/tandem/deploy"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want deploy.Failure
	}{
		{nil, deploy.FailureNone},
		{&StatusError{Code: 503}, deploy.FailureHTTP(503)},
		{fmt.Errorf("call: %w", &StatusError{Code: 401}), deploy.FailureHTTP(401)},
		{context.DeadlineExceeded, deploy.FailureTimeout},
		{&url.Error{Op: "Post", Err: timeoutErr{}}, deploy.FailureTimeout},
		{fmt.Errorf("x: %w", ErrBadAnswer), deploy.FailureBadAnswer},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, deploy.FailureRefused},
		{&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, deploy.FailureConnection},
		{&url.Error{Op: "Post", Err: io.EOF}, deploy.FailureConnection},
		{&url.Error{Op: "Post", Err: &net.OpError{Op: "write", Err: net.ErrClosed}}, deploy.FailureConnection},
		{&url.Error{Op: "Post", Err: errors.New("http: server closed idle connection")}, deploy.FailureConnection},
		{&url.Error{Op: "Post", Err: errors.New("net/http: HTTP/1.x transport connection broken: unexpected EOF")}, deploy.FailureConnection},
		{errors.New("disk on fire"), deploy.FailureError},
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
