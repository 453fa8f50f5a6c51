package oip

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/tandem-edge/tandem/deploy"
)

// Classify names why a call to a server failed, for requests.csv and the
// summary: the HTTP status a server answered, a deadline that passed, a
// connection refused (no server) or broken (a server that died), an answer
// that is not the model's, or, failing all of those, an error.
func Classify(err error) deploy.Failure {
	var se *StatusError
	var ne net.Error
	switch {
	case err == nil:
		return deploy.FailureNone
	case errors.As(err, &se):
		return deploy.FailureHTTP(se.Code)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return deploy.FailureTimeout
	case errors.Is(err, ErrBadAnswer):
		return deploy.FailureBadAnswer
	case errors.Is(err, syscall.ECONNREFUSED):
		return deploy.FailureRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), brokenByServer(err):
		return deploy.FailureConnection
	}
	return deploy.FailureError
}

// brokenByServer reports the errors net/http's transport makes, without a
// type to match, of a connection its server closed.
func brokenByServer(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "server closed idle connection") || strings.Contains(msg, "transport connection broken")
}
