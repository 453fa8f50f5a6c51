package profiler

import (
	"strings"
	"testing"

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
			sv, err := TimeServing(model, 1, protocol, 30)
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
		want     string
	}{
		{protocol: "grpc", runs: 5, want: `protocol "grpc", want binary or json`},
		{protocol: profiles.ProtocolJSON, runs: 0, want: "0 runs, want 1 or more"},
		{protocol: profiles.ProtocolJSON, runs: -3, want: "-3 runs"},
	} {
		if _, err := TimeServing(model, 1, bad.protocol, bad.runs); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("TimeServing(%s, %d runs): %v, want %q", bad.protocol, bad.runs, err, bad.want)
		}
	}
	if _, err := TimeServing(model+".missing", 1, profiles.ProtocolBinary, 1); err == nil {
		t.Error("a missing model: no error")
	}
}
