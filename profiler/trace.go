package profiler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// NodeEvent is one execution of one node, as ONNX Runtime's profiler
// recorded it. The node is ONNX Runtime's, after its graph optimiser ran: it
// may be several layers of the model fused into one (Conv with its
// BatchNormalization, activation and residual sum), or a layout node the
// model file does not have (ReorderInput, ReorderOutput).
type NodeEvent struct {
	Name     string        // the node's name, without the profiler's "_kernel_time" suffix
	Op       string        // args.op_name: the operator ONNX Runtime ran (Conv, FusedConv, ReorderOutput, ...)
	Start    time.Duration // since the profiler started
	Dur      time.Duration // whole microseconds: the profiler's resolution
	Inputs   [][]int64     // shapes of the node's inputs as it ran them (weights reordered and padded by the optimiser)
	Outputs  [][]int64
	Provider string // execution provider, e.g. CPUExecutionProvider
}

// ORTTrace is an ONNX Runtime profile: the node events of each run of a
// session, in run order.
type ORTTrace struct {
	Runs    [][]NodeEvent   // each run's node events, in execution order
	RunDurs []time.Duration // each run's model_run duration, profiler included
}

// kernelSuffix ends the name of the event that times a node's kernel; ONNX
// Runtime releases before 1.10 also wrote "_fence_before"/"_fence_after"
// events, which carry no time of their own and are skipped.
const kernelSuffix = "_kernel_time"

// traceEvent is one entry of the Chrome-tracing JSON array ONNX Runtime
// writes.
type traceEvent struct {
	Cat  string `json:"cat"`
	Name string `json:"name"`
	Ph   string `json:"ph"`
	TS   int64  `json:"ts"`
	Dur  int64  `json:"dur"`
	Args struct {
		OpName   string            `json:"op_name"`
		Provider string            `json:"provider"`
		Inputs   []json.RawMessage `json:"input_type_shape"`
		Outputs  []json.RawMessage `json:"output_type_shape"`
	} `json:"args"`
}

// ReadORTTrace reads the profile JSON ONNX Runtime wrote at path; see
// ParseORTTrace.
func ReadORTTrace(path string) (*ORTTrace, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("profiler: ONNX Runtime profile: %w", err)
	}
	tr, err := ParseORTTrace(b)
	if err != nil {
		return nil, fmt.Errorf("profiler: ONNX Runtime profile %s: %w", path, err)
	}
	return tr, nil
}

// ParseORTTrace parses an ONNX Runtime profile: a JSON array of events in
// the Chrome tracing format. Each "model_run" session event opens a run;
// the "Node" events whose names end in "_kernel_time" and that start within
// a run's time span are that run's node executions. Events of other kinds
// (session set-up, thread-pool statistics) are skipped.
func ParseORTTrace(b []byte) (*ORTTrace, error) {
	var events []traceEvent
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&events); err != nil {
		return nil, fmt.Errorf("not a JSON array of trace events: %w", err)
	}
	type span struct{ start, end int64 }
	var runs []span
	var nodes []traceEvent
	for i, e := range events {
		switch {
		case e.Cat == "Session" && e.Name == "model_run":
			runs = append(runs, span{e.TS, e.TS + e.Dur})
		case e.Cat == "Node" && strings.HasSuffix(e.Name, kernelSuffix):
			if e.Dur < 0 || e.TS < 0 {
				return nil, fmt.Errorf("event %d (%s): negative time (ts %d, dur %d)", i, e.Name, e.TS, e.Dur)
			}
			nodes = append(nodes, e)
		}
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("no model_run events: the session ran nothing while profiling")
	}
	slices.SortStableFunc(runs, func(a, b span) int { return cmpInt64(a.start, b.start) })
	slices.SortStableFunc(nodes, func(a, b traceEvent) int { return cmpInt64(a.TS, b.TS) })

	tr := &ORTTrace{Runs: make([][]NodeEvent, len(runs)), RunDurs: make([]time.Duration, len(runs))}
	for i, r := range runs {
		tr.RunDurs[i] = time.Duration(r.end-r.start) * time.Microsecond
	}
	r := 0
	for _, e := range nodes {
		for r < len(runs) && e.TS > runs[r].end {
			r++
		}
		if r == len(runs) || e.TS < runs[r].start {
			continue // outside every run: not part of an inference
		}
		ev, err := nodeEvent(e)
		if err != nil {
			return nil, err
		}
		tr.Runs[r] = append(tr.Runs[r], ev)
	}
	return tr, nil
}

func nodeEvent(e traceEvent) (NodeEvent, error) {
	ev := NodeEvent{
		Name:     strings.TrimSuffix(e.Name, kernelSuffix),
		Op:       e.Args.OpName,
		Start:    time.Duration(e.TS) * time.Microsecond,
		Dur:      time.Duration(e.Dur) * time.Microsecond,
		Provider: e.Args.Provider,
	}
	var err error
	if ev.Inputs, err = typeShapes(e.Args.Inputs); err != nil {
		return ev, fmt.Errorf("event %s: args.input_type_shape: %w", e.Name, err)
	}
	if ev.Outputs, err = typeShapes(e.Args.Outputs); err != nil {
		return ev, fmt.Errorf("event %s: args.output_type_shape: %w", e.Name, err)
	}
	return ev, nil
}

// typeShapes reads ONNX Runtime's list of {"<element type>": [dims]}
// objects, one per tensor.
func typeShapes(raw []json.RawMessage) ([][]int64, error) {
	shapes := make([][]int64, len(raw))
	for i, r := range raw {
		var m map[string][]int64
		if err := json.Unmarshal(r, &m); err != nil {
			return nil, fmt.Errorf("tensor %d: %w", i, err)
		}
		for _, dims := range m { // one entry: the element type names the shape
			shapes[i] = dims
		}
	}
	return shapes, nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
