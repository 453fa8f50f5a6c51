// Package profiles owns measured performance: device profiles (per-layer and
// whole-model latency of a model on a device, against batch size), link
// profiles (constant rate or a recorded capacity trace, replayed and looped),
// the latency predictor, and the built-in profiles embedded in the binary.
// Every number in a profile says where it came from (Device.Source).
package profiles

import "time"

// Link is the capacity of one direction of a network link over time.
type Link interface {
	// Name identifies the link profile (built-in name, file, or "constant 10Mbps").
	Name() string
	// TransferEnd returns when a transfer of n bytes that starts at t (since
	// the start of the run) has been fully delivered, the link serving only
	// it. Propagation delay is not included.
	TransferEnd(t time.Duration, n int) time.Duration
	// MeanMbps is the long-run mean capacity, for reports and link estimates.
	MeanMbps() float64
}
