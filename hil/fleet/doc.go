// Package fleet runs a scenario's fleet of edge devices for real: each
// request of the scenario's schedule arrives at its device on the wall
// clock, runs the real edge model, is decided by the scenario's policy on
// the model's real output, crosses the device's link as the scenario shapes
// it, and is answered by a real inference server over the Open Inference
// Protocol. It records what happened in the simulator's records and summary,
// so that the two can be compared request by request.
//
// It is the hardware-in-the-loop driver of the shared core: the scenario, the
// schedule and the policies are the simulator's own; only execution and time
// are real.
package fleet
