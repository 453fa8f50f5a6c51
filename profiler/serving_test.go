package profiler

import (
	"strings"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/hil"
	"github.com/tandem-edge/tandem/hil/hiltest"
	"github.com/tandem-edge/tandem/profiles"
)

func TestTimeServing(t *testing.T) {
	hiltest.RequireORT(t)
	model, _ := fixturePaths("tiny")
	bare, err := TimeModel(model, Options{Runs: 30, Warmup: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("bare model: median %v", bare.Latency.P50)
	sess, err := hil.Open(model, hil.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inputSize := sess.InputSize()
	sess.Close()
	for _, protocol := range []string{profiles.ProtocolBinary, profiles.ProtocolJSON} {
		t.Run(protocol, func(t *testing.T) {
			sv, err := TimeServing(model, 1, protocol, 30, []time.Duration{2 * time.Millisecond, time.Millisecond}, 3)
			if err != nil {
				t.Fatal(err)
			}
			if sv.Protocol != protocol || sv.Runs != 30 || sv.Spread < 0 {
				t.Errorf("serving path %+v, want protocol %s and 30 runs", sv, protocol)
			}
			// A request runs the model once, and more: loose, since the
			// machines that run the tests are shared and noisy.
			if sv.Latency < bare.Latency.P50/4 {
				t.Errorf("serving latency %v, under a quarter of the bare model's %v", sv.Latency, bare.Latency.P50)
			}
			t.Logf("serving over %s: median %v, spread %.3f over %d requests, %d bytes up, %d down", protocol, sv.Latency, sv.Spread, sv.Runs, sv.RequestBytes, sv.ResponseBytes)
			// The cold curve: each gap once, ascending, its runs counted.
			if len(sv.Cold) != 2 || sv.Cold[0].Gap != time.Millisecond || sv.Cold[1].Gap != 2*time.Millisecond ||
				sv.Cold[0].Runs != 3 || sv.Cold[0].Latency <= 0 || sv.Cold[1].Latency <= 0 {
				t.Errorf("serving cold curve %+v, want 3 runs after 1ms and 2ms", sv.Cold)
			}
			// A request carries the input's float32s and its headers (a
			// few hundred bytes); an answer at least the outputs.
			tensor := 4 * inputSize
			if sv.RequestBytes <= tensor || sv.RequestBytes > tensor+1000 && protocol == profiles.ProtocolBinary || sv.ResponseBytes < 12 {
				t.Errorf("%d bytes a request, %d an answer, for a %d-byte tensor", sv.RequestBytes, sv.ResponseBytes, tensor)
			}
		})
	}
	for _, bad := range []struct {
		protocol string
		runs     int
		gaps     []time.Duration
		cold     int
		want     string
	}{
		{protocol: "grpc", runs: 5, want: `protocol "grpc", want binary or json`},
		{protocol: profiles.ProtocolJSON, runs: 0, want: "0 runs, want 1 or more"},
		{protocol: profiles.ProtocolJSON, runs: -3, want: "-3 runs"},
		{protocol: profiles.ProtocolJSON, runs: 5, gaps: []time.Duration{time.Millisecond}, want: "0 runs after each idle gap"},
		{protocol: profiles.ProtocolJSON, runs: 5, gaps: []time.Duration{-time.Millisecond}, cold: 2, want: "idle gap -1ms, want more than 0"},
	} {
		if _, err := TimeServing(model, 1, bad.protocol, bad.runs, bad.gaps, bad.cold); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("TimeServing(%s, %d runs): %v, want %q", bad.protocol, bad.runs, err, bad.want)
		}
	}
	if _, err := TimeServing(model+".missing", 1, profiles.ProtocolBinary, 1, nil, 0); err == nil {
		t.Error("a missing model: no error")
	}
}
