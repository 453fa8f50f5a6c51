package profiler

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReadORTTrace(t *testing.T) {
	tests := []struct {
		name  string
		nodes []string // of the last run
		ops   []string
	}{
		{name: "tiny",
			nodes: []string{"relu1_nchwc", "ReorderOutput_token_5", "pool1", "relu2_nchwc", "ReorderOutput", "gap", "flatten", "fc"},
			ops:   []string{"Conv", "ReorderOutput", "MaxPool", "Conv", "ReorderOutput", "GlobalAveragePool", "Flatten", "Gemm"}},
		{name: "resnet",
			nodes: []string{"relu1_nchwc", "ReorderOutput_token_23", "layer1.0.relu1_nchwc", "ReorderOutput_token_22", "layer1.0.bn2_nchwc",
				"ReorderOutput_token_24", "layer2.0.relu1_nchwc", "ReorderOutput", "layer2.0.downbn_nchwc", "layer2.0.bn2_nchwc",
				"ReorderOutput_token_27", "layer3.0.relu1_nchwc", "ReorderOutput_token_26", "layer3.0.downbn_nchwc",
				"ReorderOutput_token_25", "layer3.0.conv2", "gap", "flatten", "fc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, path := fixturePaths(tt.name)
			tr, err := ReadORTTrace(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(tr.Runs) != fixtureRuns || len(tr.RunDurs) != fixtureRuns {
				t.Fatalf("%d runs, %d run durations; want %d", len(tr.Runs), len(tr.RunDurs), fixtureRuns)
			}
			for i, run := range tr.Runs {
				var names, ops []string
				for _, e := range run {
					names = append(names, e.Name)
					ops = append(ops, e.Op)
					if e.Dur%time.Microsecond != 0 || e.Provider != "CPUExecutionProvider" {
						t.Errorf("run %d: event %+v: want whole microseconds on the CPU provider", i, e)
					}
				}
				if !slices.Equal(names, tt.nodes) {
					t.Errorf("run %d nodes %q\nwant %q", i, names, tt.nodes)
				}
				if tt.ops != nil && !slices.Equal(ops, tt.ops) {
					t.Errorf("run %d ops %q, want %q", i, ops, tt.ops)
				}
			}
			first := tr.Runs[0][0]
			if !slices.Equal(first.Inputs[0], []int64{1, 1, 8, 8}) || !slices.Equal(first.Inputs[1], []int64{16, 1, 3, 3}) ||
				!slices.Equal(first.Outputs[0], []int64{1, 16, 8, 8}) {
				t.Errorf("first node shapes %v -> %v: want the input, the weights padded to 16 channels, and a 16-channel output", first.Inputs, first.Outputs)
			}
		})
	}
}

func TestParseORTTraceErrors(t *testing.T) {
	const run = `{"cat":"Session","name":"model_run","ph":"X","ts":10,"dur":100,"args":{}}`
	tests := []struct {
		name, json, want string
	}{
		{"not json", `{"cat":`, "not a JSON array of trace events"},
		{"object", `{"cat":"Node"}`, "not a JSON array of trace events"},
		{"no runs", `[{"cat":"Session","name":"session_initialization","ts":1,"dur":5,"args":{}}]`, "no model_run events"},
		{"negative duration", `[` + run + `,{"cat":"Node","name":"c_kernel_time","ts":20,"dur":-3,"args":{}}]`,
			"event 1 (c_kernel_time): negative time"},
		{"bad shape", `[` + run + `,{"cat":"Node","name":"c_kernel_time","ts":20,"dur":3,"args":{"input_type_shape":[{"float":"x"}]}}]`,
			"event c_kernel_time: args.input_type_shape: tensor 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseORTTrace([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseORTTraceGroupsRuns(t *testing.T) {
	// Two runs; a node outside both (session set-up) and fence events of
	// old ONNX Runtime releases are dropped.
	trace := `[
{"cat":"Node","name":"init_kernel_time","ts":1,"dur":2,"args":{}},
{"cat":"Session","name":"model_run","ts":10,"dur":20,"args":{}},
{"cat":"Node","name":"a_fence_before","ts":11,"dur":0,"args":{}},
{"cat":"Node","name":"a_kernel_time","ts":11,"dur":4,"args":{"op_name":"Conv"}},
{"cat":"Node","name":"b_kernel_time","ts":16,"dur":5,"args":{"op_name":"Relu"}},
{"cat":"Session","name":"model_run","ts":40,"dur":20,"args":{}},
{"cat":"Node","name":"b_kernel_time","ts":46,"dur":6,"args":{"op_name":"Relu"}},
{"cat":"Node","name":"a_kernel_time","ts":41,"dur":3,"args":{"op_name":"Conv"}}
]`
	tr, err := ParseORTTrace([]byte(trace))
	if err != nil {
		t.Fatal(err)
	}
	got := [][]string{}
	for _, run := range tr.Runs {
		var names []string
		for _, e := range run {
			names = append(names, e.Name+"="+e.Dur.String())
		}
		got = append(got, names)
	}
	want := [][]string{{"a=4µs", "b=5µs"}, {"a=3µs", "b=6µs"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("runs %q, want %q", got, want)
	}
	if tr.RunDurs[1] != 20*time.Microsecond {
		t.Errorf("run durations %v", tr.RunDurs)
	}
}
