package sim

import (
	"fmt"
	"time"
)

// EventKind is what happens at an event.
type EventKind uint8

// Event kinds.
const (
	EventArrival      EventKind = iota + 1 // a device's next request arrives (id: device)
	EventEdgeDone                          // a device finished the edge model on a request (id: request)
	EventUplinkDone                        // a request reached the cloud (id: request)
	EventBatchTimer                        // the cloud's batching window closed (id: timer generation)
	EventCloudDone                         // a cloud server finished a batch (id: server)
	EventDownlinkDone                      // a cloud answer reached its device (id: request)
)

func (k EventKind) String() string {
	switch k {
	case EventArrival:
		return "arrival"
	case EventEdgeDone:
		return "edge-done"
	case EventUplinkDone:
		return "uplink-done"
	case EventBatchTimer:
		return "batch-timer"
	case EventCloudDone:
		return "cloud-done"
	case EventDownlinkDone:
		return "downlink-done"
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// event is one entry of the queue: a small value, never boxed. Events are
// ordered by (at, seq); seq grows with every scheduled event, so events due
// at the same instant run in the order they were scheduled.
type event struct {
	at   time.Duration
	seq  uint64
	id   int32
	kind EventKind
}

// before reports whether a runs before b.
func (a *event) before(b *event) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

// State is where a request is in its life.
type State uint8

// Request states. A request starts Free (in the pool), ends Done and returns
// to Free.
const (
	StateFree         State = iota
	StateEdgeQueued         // waiting for an edge slot
	StateEdgeRunning        // the edge model runs on it
	StateUplink             // queued on or crossing the uplink
	StateCloudQueued        // waiting for a cloud server (or a batch to fill)
	StateCloudRunning       // in a batch on a cloud server
	StateDownlink           // the answer is crossing the downlink
	StateDone               // answered
	numStates
)

func (s State) String() string {
	switch s {
	case StateFree:
		return "free"
	case StateEdgeQueued:
		return "edge-queued"
	case StateEdgeRunning:
		return "edge-running"
	case StateUplink:
		return "uplink"
	case StateCloudQueued:
		return "cloud-queued"
	case StateCloudRunning:
		return "cloud-running"
	case StateDownlink:
		return "downlink"
	case StateDone:
		return "done"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// transitions[from] has bit `to` set when from → to is legal.
var transitions = [numStates]uint16{
	StateFree:         1<<StateEdgeQueued | 1<<StateUplink,
	StateEdgeQueued:   1 << StateEdgeRunning,
	StateEdgeRunning:  1<<StateDone | 1<<StateUplink,
	StateUplink:       1 << StateCloudQueued,
	StateCloudQueued:  1 << StateCloudRunning,
	StateCloudRunning: 1 << StateDownlink,
	StateDownlink:     1 << StateDone,
	StateDone:         1 << StateFree,
}

// legal reports whether a request may go from one state to the other.
func legal(from, to State) bool {
	return from < numStates && to < numStates && transitions[from]&(1<<to) != 0
}

// Tracer observes every state transition of every request, in the order the
// engine makes them. Tests rebuild queue lengths from it; it costs one
// interface call per transition, so leave it nil for production runs.
type Tracer interface {
	Transition(at time.Duration, id uint64, from, to State)
}
