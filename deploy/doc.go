// Package deploy owns the rules of an edge-cloud deployment that hold
// whichever driver runs it: how a transfer crosses a device's link, when a
// cloud server closes a batch, and what each request's record and the run's
// summary say. The simulator (package sim) drives these rules in virtual
// time; hardware in the loop (hil/fleet and the inference server in
// hil/oip) drives the very same functions on the wall clock, so that one
// scenario means one deployment in both.
//
// Like etcd's raft state machine, the package does no I/O, reads no clock
// and starts no goroutine: every time is a duration since the run's start
// (or any fixed origin), given by the caller.
package deploy
