package sim

import "math/rand/v2"

// component names a kind of random stream; the values are part of the
// seeding scheme, so changing one changes every run's draws.
type component uint64

const (
	streamArrivals component = iota + 1 // a device's arrival process (and its phase)
	streamSample                        // which outcome a device's request replays
	streamEdge                          // a device's edge service times
	streamPolicy                        // a device's policy (random)
	streamCloud                         // the cloud's service times
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
func streamSeed(seed uint64, kind component, index int) (uint64, uint64) {
	k := splitmix64(uint64(kind)<<32 | uint64(uint32(index)))
	s1 := splitmix64(seed ^ k)
	s2 := splitmix64(s1 ^ 0x6a09e667f3bcc908)
	return s1, s2
}

// newStream returns the PCG source of one component's stream.
func newStream(seed uint64, kind component, index int) *rand.PCG {
	return rand.NewPCG(streamSeed(seed, kind, index))
}

// PolicyStream is device's policy stream of a run seeded with seed: the
// source the simulator gives that device's policy, for a driver that makes
// the same decisions (hardware-in-the-loop).
func PolicyStream(seed uint64, device int) rand.Source { return newStream(seed, streamPolicy, device) }
