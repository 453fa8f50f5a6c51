package deploy

import (
	"testing"
	"time"

	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

func TestServiceOf(t *testing.T) {
	ms := time.Millisecond
	edge := &profiles.Model{Latency: ms, Cold: []profiles.ColdLatency{{Gap: 50 * ms, Latency: 2 * ms, Runs: 5}}}
	cloud := &profiles.Model{Latency: 4 * ms, Serving: []profiles.Serving{{Protocol: profiles.ProtocolJSON, Latency: 5 * ms, Runs: 5}}}
	sc := &scenarios.Scenario{Edge: scenarios.EdgeGroups{{}}, Cloud: scenarios.CloudPools{{Protocol: profiles.ProtocolJSON}}}
	cases := []struct {
		name        string
		protocol    string
		edgeService *scenarios.Service
		edge, cloud *profiles.Model
		want        Service
	}{
		{"profiles, json served", profiles.ProtocolJSON, nil, edge, cloud,
			Service{Edge: "profile", EdgeMS: 1, Cloud: "serving", Protocol: "json", CloudOverheadMS: 1}},
		{"no binary serving path", profiles.ProtocolBinary, nil, edge, cloud,
			Service{Edge: "profile", EdgeMS: 1, Cloud: "model", Protocol: "binary"}},
		{"edge overridden, no cloud", profiles.ProtocolBinary, &scenarios.Service{Mean: scenarios.Duration(3 * ms)}, edge, nil,
			Service{Edge: "override", EdgeMS: 3, Cloud: "none", Protocol: "binary"}},
		{"no edge", profiles.ProtocolJSON, nil, nil, cloud,
			Service{Edge: "none", Cloud: "serving", Protocol: "json", CloudOverheadMS: 1}},
	}
	for _, tc := range cases {
		sc.Cloud[0].Protocol, sc.Edge[0].Service = tc.protocol, tc.edgeService
		if got := ServiceOf(sc, tc.edge, tc.cloud); *got != tc.want {
			t.Errorf("%s: ServiceOf = %+v, want %+v", tc.name, *got, tc.want)
		}
	}
}
