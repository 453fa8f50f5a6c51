// Package deploy owns the rules of an edge-cloud deployment that hold
// whichever driver runs it: the arrival processes, the schedule of a run and
// the seeded random streams it is drawn from; how a transfer crosses a
// device's link; when a cloud server closes a batch; how each device's
// policy is built; and what each request's record, requests.csv and the
// run's summary (with every stage's utilisation) say. The simulator
// (package sim) drives these rules in virtual time; hardware in the loop
// (hil/fleet and the inference server in hil/oip) drives the very same
// functions on the wall clock, so that one scenario means one deployment
// in both.
//
// Like etcd's raft state machine, the package does no I/O beyond encoding
// records to a writer it is given, reads no clock and starts no goroutine:
// every time is a duration since the run's start (or any fixed origin),
// given by the caller.
package deploy
