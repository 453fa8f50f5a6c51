// Package sim owns the discrete-event simulator: the event queue and the
// engine that steps through it in virtual time, driving the deployment's
// rules (package deploy: arrivals, links, batching, policies, records and
// the summary) with the edge and cloud service-time models of the device
// profiles.
//
// The engine is a deterministic, single-threaded state machine: it does no
// I/O, reads no clock and starts no goroutine. Everything it needs arrives in
// a Config; everything it produces leaves as a deploy.Summary and as records
// handed to a deploy.Recorder. Time is integer nanoseconds (time.Duration)
// from the start of the run.
//
// Accuracy is never modelled: each request replays one real held-out sample
// (a bundles.Outcome), with both models' real predictions for it and the
// policy's decision on its real features. Only time is modelled.
//
// # Randomness
//
// Each component draws from its own PCG stream (deploy.NewStream), seeded
// from the scenario seed, the component kind and the device index. Per
// device there are four streams (arrivals, sample choice, edge service,
// policy) and the cloud has one, so adding a device or changing one
// device's load leaves every other device's draws unchanged, and hardware
// in the loop replays the same arrivals and decisions.
//
// # Metrics
//
// Latency percentiles are exact (nearest rank) while at most
// deploy.ExactLatencies latencies have been seen; past that the run
// switches to a logarithmic bucket sketch whose estimates are within
// deploy.SketchRelativeError of the exact nearest-rank value, so memory
// stays bounded whatever the request count. Utilization is busy time over
// (slots × makespan), the makespan running from time 0 to the last
// completion.
package sim
