package scenarios

import (
	"bytes"
	"reflect"
	"slices"
	"testing"
)

// The built-in scenarios name the device profiles the lead measures on this
// machine (edge-cpu-1t, server-cpu). Until they are embedded, tests that
// decode the built-ins accept those names as built-in.
var measuredProfiles = []string{"edge-cpu-1t", "server-cpu"}

func assumeProfiles(t *testing.T, names ...string) {
	t.Helper()
	real := isBuiltinDevice
	isBuiltinDevice = func(name string) bool { return real(name) || slices.Contains(names, name) }
	t.Cleanup(func() { isBuiltinDevice = real })
}

func TestBuiltinsList(t *testing.T) {
	want := []string{"burst", "busy-uplink", "cloud-only", "congested-uplink", "default", "digits", "edge-only", "many-devices", "threshold"}
	if got := Builtins(); !slices.Equal(got, want) {
		t.Fatalf("Builtins() = %v, want %v", got, want)
	}
}

func TestBuiltinsRoundTrip(t *testing.T) {
	assumeProfiles(t, measuredProfiles...)
	for _, name := range Builtins() {
		t.Run(name, func(t *testing.T) {
			s, err := Load("builtin:" + name)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != name || s.Description == "" {
				t.Errorf("name %q, description %q: want the file's name and a description", s.Name, s.Description)
			}
			bundle := "builtin:fashion"
			if name == "digits" {
				bundle = "builtin:digits"
			}
			if s.Bundle != bundle || s.Edge[0].Device != "edge-cpu-1t" || s.Cloud[0].Device != "server-cpu" {
				t.Errorf("bundle %q, edge %q, cloud %q: want %s, edge-cpu-1t, server-cpu",
					s.Bundle, s.Edge[0].Device, s.Cloud[0].Device, bundle)
			}
			out, err := Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decode("builtin:"+name, out)
			if err != nil {
				t.Fatalf("decoding Marshal's output: %v\n%s", err, out)
			}
			if !reflect.DeepEqual(s, back) {
				t.Errorf("round trip changed the scenario:\n got %+v\nwant %+v\n%s", back, s, out)
			}
			again, err := Marshal(back)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, again) {
				t.Errorf("Marshal is not stable:\n%s\nthen\n%s", out, again)
			}
		})
	}
}

// TestBuiltinsResolve checks that every built-in scenario loads against the
// profiles really embedded and resolves to the built-in bundle, whose models
// those profiles must have measured.
func TestBuiltinsResolve(t *testing.T) {
	for _, name := range Builtins() {
		s, err := Load("builtin:" + name)
		if err != nil {
			t.Errorf("builtin:%s: %v", name, err)
			continue
		}
		if _, err := Resolve(s); err != nil {
			t.Errorf("builtin:%s: %v", name, err)
		}
	}
}

func TestBuiltinsShape(t *testing.T) {
	assumeProfiles(t, measuredProfiles...)
	get := func(name string) *Scenario {
		s, err := Load("builtin:" + name)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := get("default"); s.Edge[0].Count < 10 || s.Policy.Kind != PolicyLearned || s.Workload.Arrival != ArrivalPoisson {
		t.Errorf("default: %+v", s)
	}
	// threshold is default with the fixed rule in place of the offloader.
	def, th := get("default"), get("threshold")
	if th.Policy.Kind != PolicyThreshold || th.Policy.Feature != FeatureMaxProb || !reflect.DeepEqual(th.Edge, def.Edge) || th.Link != def.Link || th.Workload != def.Workload {
		t.Errorf("threshold: %+v", th)
	}
	if s := get("cloud-only"); s.Policy.Kind != PolicyCloudOnly {
		t.Errorf("cloud-only: policy %q", s.Policy.Kind)
	}
	if s := get("edge-only"); s.Policy.Kind != PolicyEdgeOnly {
		t.Errorf("edge-only: policy %q", s.Policy.Kind)
	}
	if s := get("congested-uplink"); s.Link.UplinkMbps > 2 {
		t.Errorf("congested-uplink: uplink %g Mbps", s.Link.UplinkMbps)
	} else {
		// Offered load on each uplink: every request crosses it, as many
		// bytes as the cloud profile measured it puts on the wire.
		in, err := Resolve(s)
		if err != nil {
			t.Fatal(err)
		}
		if in.LinkBytes != LinkBytesServing {
			t.Errorf("congested-uplink: request bytes from %s, want the serving path's", in.LinkBytes)
		}
		rho := s.Workload.Rate * float64(in.RequestBytes*8) / (s.Link.UplinkMbps * 1e6)
		if rho < 0.8 || rho >= 1 {
			t.Errorf("congested-uplink: uplink utilization %.2f, want near saturation", rho)
		}
	}
	if s := get("burst"); s.Workload.Arrival != ArrivalMMPP {
		t.Errorf("burst: arrival %q", s.Workload.Arrival)
	}
	if s := get("many-devices"); s.Edge[0].Count < 1000 {
		t.Errorf("many-devices: %d devices", s.Edge[0].Count)
	}
}
