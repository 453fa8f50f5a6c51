package sim

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
// and samples the simulator's run of sc would have, drawn from the same
// per-device streams, so that hardware-in-the-loop replays the very requests
// a simulation predicted. trace holds the arrival offsets of a trace
// workload; outcomes is how many outcomes the bundle has. Arrivals at the
// same instant are ordered by device.
func Schedule(sc *scenarios.Scenario, trace []time.Duration, outcomes int) ([]Arrival, error) {
	if outcomes < 1 {
		return nil, errors.New("sim: schedule: no outcomes to replay")
	}
	if sc.Requests < 0 || sc.Duration < 0 || (sc.Requests == 0 && sc.Duration == 0) {
		return nil, fmt.Errorf("sim: scenario %q: requests %d and duration %v: want one positive, neither negative", sc.Name, sc.Requests, sc.Duration.D())
	}
	var period time.Duration
	if sc.Workload.Arrival == scenarios.ArrivalTrace {
		var err error
		if trace, period, err = traceArrivals(trace); err != nil {
			return nil, err
		}
	}
	work, err := newWorkload(&sc.Workload, trace, period)
	if err != nil {
		return nil, err
	}
	type dev struct {
		work              workload
		arrivals, sampler *rand.Rand
	}
	devs := make([]dev, sc.Edge.Count)
	next := make(arrivalHeap, 0, len(devs))
	until := sc.Duration.D()
	for i := range devs {
		d := &devs[i]
		d.work = work
		d.arrivals = rand.New(newStream(sc.Seed, streamArrivals, i))
		d.sampler = rand.New(newStream(sc.Seed, streamSample, i))
		if t := d.work.first(d.arrivals); until == 0 || t < until {
			next = append(next, pending{at: t, device: i})
		}
	}
	heap.Init(&next)
	var out []Arrival
	for len(next) > 0 && (sc.Requests == 0 || len(out) < sc.Requests) {
		p := next[0]
		d := &devs[p.device]
		out = append(out, Arrival{ID: uint64(len(out)), Device: p.device, At: p.at, Outcome: d.sampler.IntN(outcomes)})
		if t := d.work.next(d.arrivals, p.at); until == 0 || t < until {
			next[0].at = t
			heap.Fix(&next, 0)
		} else {
			heap.Pop(&next)
		}
	}
	return out, nil
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
