// Package oip speaks the Open Inference Protocol (the KServe v2 protocol, also
// Triton's) over HTTP: the cloud inference server of hardware-in-the-loop runs
// and the client edge devices use to reach it, or to reach Triton, KServe or
// any other server that speaks the protocol.
//
// The server serves one model, runs it on batches that its batcher gathers
// from concurrent requests (up to a largest batch, waiting at most a set time
// for one to fill, as the simulator's cloud stage models it), and exposes
// Prometheus metrics at /metrics. The model is anything with a Run method over
// float32 batches; hil.Session is the one tandem serves.
package oip
