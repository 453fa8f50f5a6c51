//go:build !linux

package kernlink

import (
	"context"
	"errors"
)

var errNotLinux = errors.New("kernlink: the kernel shaper needs Linux network namespaces; use the in-process shaper")

type namespace struct{ name string }

func newNamespace(context.Context, string) (*namespace, error)   { return nil, errNotLinux }
func (*namespace) batch(context.Context, string, []string) error { return errNotLinux }
func runBatch(context.Context, string, string, []string) error   { return errNotLinux }
func (*namespace) do(func() error) error                         { return errNotLinux }
func (*namespace) remove() error                                 { return nil }
func supported() error                                           { return errNotLinux }
func removeStale(context.Context)                                {}

// Namespaces lists the namespaces this process's fabrics hold now: none
// off Linux.
func Namespaces() []string { return nil }
