package deploy

import (
	"container/heap"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tandem-edge/tandem/scenarios"
)

// Arrival is one request of a scenario's workload.
type Arrival struct {
	ID      uint64        // order of arrival over the fleet, from 0
	Device  int           // the device it arrives at
	At      time.Duration // since the start of the run
	Outcome int           // the index, in the bundle's outcomes, of the sample it replays
}

// Schedule returns the arrivals of a run of sc, in order: the devices, times
// and samples the simulator's run of sc has, drawn from the same per-device
// streams, so that hardware in the loop replays the very requests a
// simulation predicted. trace holds the arrival offsets of a trace
// workload; outcomes[g] is how many outcomes edge group g's bundle has
// (its application's), or outcomes[0] every group's when it is the only
// value, and an arrival's Outcome indexes its group's. Arrivals at the
// same instant are ordered by device.
func Schedule(sc *scenarios.Scenario, trace []time.Duration, outcomes []int) ([]Arrival, error) {
	if len(outcomes) != 1 && len(outcomes) != len(sc.Edge) {
		return nil, fmt.Errorf("deploy: schedule: %d outcome counts for %d edge groups", len(outcomes), len(sc.Edge))
	}
	for _, n := range outcomes {
		if n < 1 {
			return nil, errors.New("deploy: schedule: no outcomes to replay")
		}
	}
	if sc.Requests < 0 || sc.Duration < 0 || (sc.Requests == 0 && sc.Duration == 0) {
		return nil, fmt.Errorf("deploy: scenario %q: requests %d and duration %v: want one positive, neither negative", sc.Name, sc.Requests, sc.Duration.D())
	}
	works, err := Workloads(sc, trace)
	if err != nil {
		return nil, err
	}
	type dev struct {
		work              Workload
		arrivals, sampler *rand.Rand
		outcomes          int
	}
	devs := make([]dev, sc.Edge.Devices())
	next := make(arrivalHeap, 0, len(devs))
	until := sc.Duration.D()
	for i := range devs {
		d := &devs[i]
		d.work = works[i]
		d.outcomes = outcomes[0]
		if len(outcomes) > 1 {
			g, _ := sc.Edge.Of(i)
			d.outcomes = outcomes[g]
		}
		d.arrivals = rand.New(NewStream(sc.Seed, StreamArrivals, i))
		d.sampler = rand.New(NewStream(sc.Seed, StreamSample, i))
		if t := d.work.First(d.arrivals); until == 0 || t < until {
			next = append(next, pending{at: t, device: i})
		}
	}
	heap.Init(&next)
	var out []Arrival
	for len(next) > 0 && (sc.Requests == 0 || len(out) < sc.Requests) {
		p := next[0]
		d := &devs[p.device]
		out = append(out, Arrival{ID: uint64(len(out)), Device: p.device, At: p.at, Outcome: d.sampler.IntN(d.outcomes)})
		if t := d.work.Next(d.arrivals, p.at); until == 0 || t < until {
			next[0].at = t
			heap.Fix(&next, 0)
		} else {
			heap.Pop(&next)
		}
	}
	return out, nil
}

// Workloads returns each device's arrival process: its edge group's (see
// scenarios.Scenario.WorkloadOf).
func Workloads(sc *scenarios.Scenario, trace []time.Duration) ([]Workload, error) {
	works := make([]Workload, 0, sc.Edge.Devices())
	for g := range sc.Edge {
		w, err := NewWorkload(sc.WorkloadOf(g), trace)
		if err != nil {
			if len(sc.Edge) > 1 {
				err = fmt.Errorf("%s: %w", sc.Edge.GroupName(g), err)
			}
			return nil, err
		}
		for range sc.Edge[g].Count {
			works = append(works, w)
		}
	}
	return works, nil
}

type pending struct {
	at     time.Duration
	device int
}

// arrivalHeap orders devices by their next arrival, then by index.
type arrivalHeap []pending

func (h arrivalHeap) Len() int { return len(h) }
func (h arrivalHeap) Less(i, j int) bool {
	return h[i].at < h[j].at || h[i].at == h[j].at && h[i].device < h[j].device
}
func (h arrivalHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *arrivalHeap) Push(x any)   { *h = append(*h, x.(pending)) }
func (h *arrivalHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
