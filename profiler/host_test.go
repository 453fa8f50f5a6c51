package profiler

import (
	"slices"
	"testing"

	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios"
)

func TestOtherHosts(t *testing.T) {
	here := HostFacts{CPU: "AMD EPYC", Cores: 2, Arch: "amd64"}
	xeon := &profiles.Device{Name: "edge-cpu-1t", Host: profiles.Host{CPU: "Intel(R) Xeon(R) Processor", Cores: 2, Arch: "amd64"}}
	mine := &profiles.Device{Name: "mine", Host: profiles.Host{CPU: "AMD EPYC", Cores: 2, Arch: "amd64"}}
	bigger := &profiles.Device{Name: "bigger", Host: profiles.Host{CPU: "AMD EPYC", Cores: 8, Arch: "amd64"}}
	unknown := &profiles.Device{Name: "board", Host: profiles.Host{Arch: "amd64"}}
	for _, tc := range []struct {
		name      string
		edge      []*profiles.Device
		cloud     *profiles.Device
		cloudHere bool
		want      []string
	}{
		{"all measured here", []*profiles.Device{mine}, mine, true, nil},
		{"another processor", []*profiles.Device{xeon, xeon}, mine, true, []string{"edge-cpu-1t: Intel(R) Xeon(R) Processor, 2 cores, amd64"}},
		{"more cores", []*profiles.Device{mine}, bigger, true, []string{"bigger: AMD EPYC, 8 cores, amd64"}},
		{"a remote cloud is not this machine's to match", []*profiles.Device{mine}, bigger, false, nil},
		{"facts left out are not held against a profile", []*profiles.Device{unknown, nil}, nil, true, nil},
	} {
		in := &scenarios.Inputs{CloudDevice: tc.cloud}
		for _, d := range tc.edge {
			in.Groups = append(in.Groups, scenarios.GroupInputs{EdgeDevice: d})
		}
		if got := OtherHosts(in, here, tc.cloudHere); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	// A cloud of two pools: the second pool's profile counts too.
	in := &scenarios.Inputs{CloudDevice: mine, CloudDevices: []*profiles.Device{mine, bigger}, Groups: []scenarios.GroupInputs{{EdgeDevice: mine}}}
	if got, want := OtherHosts(in, here, true), []string{"bigger: AMD EPYC, 8 cores, amd64"}; !slices.Equal(got, want) {
		t.Errorf("two pools: %q, want %q", got, want)
	}
}
