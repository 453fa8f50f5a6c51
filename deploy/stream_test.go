package deploy

import "testing"

func TestStreamSeedsDiffer(t *testing.T) {
	seen := map[[2]uint64]string{}
	for _, seed := range []uint64{0, 1, 2} {
		for kind := StreamArrivals; kind <= StreamCloud; kind++ {
			for dev := range 100 {
				a, b := streamSeed(seed, kind, dev)
				if prev, ok := seen[[2]uint64{a, b}]; ok {
					t.Fatalf("seed %d kind %d device %d collides with %s", seed, kind, dev, prev)
				}
				seen[[2]uint64{a, b}] = "another stream"
			}
		}
	}
}
