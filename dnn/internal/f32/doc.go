// Package f32 holds the float32 vector kernels of the dnn package's
// element-wise layers: SSE assembly on amd64 (a baseline of every amd64
// CPU, so nothing is detected at run time), and the same arithmetic lane
// by lane in Go elsewhere or with the purego tag, so that both give the
// same bits. It lives apart from dnn because a package that uses cgo
// cannot hold Go assembly.
//
// Every kernel takes slices whose length is a multiple of 8 (the lanes of
// two SSE registers) and checks nothing: its callers guarantee that, and
// that the other slices are at least as long as the first.
package f32
