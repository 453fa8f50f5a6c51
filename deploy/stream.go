package deploy

import "math/rand/v2"

// Component names a kind of random stream; the values are part of the
// seeding scheme, so changing one changes every run's draws.
type Component uint64

// The components of a run, each with a stream per device (the cloud's: one).
const (
	StreamArrivals Component = iota + 1 // a device's arrival process (and its phase)
	StreamSample                        // which outcome a device's request replays
	StreamEdge                          // a device's edge service times
	StreamPolicy                        // a device's policy (random)
	StreamCloud                         // the cloud's service times
)

// splitmix64 is the finaliser of SplitMix64 (Steele, Lea, Flood 2014): a
// bijection on 64-bit words that spreads every input bit over the output.
func splitmix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// streamSeed derives the two PCG seed words of one component's stream:
//
//	k  = splitmix64(kind<<32 | uint32(index))
//	s₁ = splitmix64(seed ⊕ k)
//	s₂ = splitmix64(s₁ ⊕ 0x6a09e667f3bcc908)
//
// The stream of (kind, index) depends on nothing else, so adding a device
// leaves the other devices' streams as they were.
func streamSeed(seed uint64, kind Component, index int) (uint64, uint64) {
	k := splitmix64(uint64(kind)<<32 | uint64(uint32(index)))
	s1 := splitmix64(seed ^ k)
	s2 := splitmix64(s1 ^ 0x6a09e667f3bcc908)
	return s1, s2
}

// NewStream returns the PCG source of one component's stream.
func NewStream(seed uint64, kind Component, index int) *rand.PCG {
	return rand.NewPCG(streamSeed(seed, kind, index))
}

// PolicyStream is device's policy stream of a run seeded with seed: the
// source every driver gives that device's policy, so that they make the
// same decisions.
func PolicyStream(seed uint64, device int) rand.Source { return NewStream(seed, StreamPolicy, device) }
