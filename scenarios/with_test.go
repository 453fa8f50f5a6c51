package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/profiles"
)

func TestWith(t *testing.T) {
	assumeProfiles(t, measuredProfiles...)
	base, err := Load("builtin:threshold")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		as    []Assignment
		check func(*Scenario) bool
		want  string // error substring; empty: no error
	}{
		{"count", []Assignment{{"edge.count", "50"}}, func(s *Scenario) bool { return s.Edge[0].Count == 50 }, ""},
		{"duration", []Assignment{{"link.rtt", "5ms"}}, func(s *Scenario) bool { return s.Link.RTT.D() == 5*time.Millisecond }, ""},
		{"new section", []Assignment{{"cloud.batching.max_batch", "8"}, {"cloud.batching.max_wait", "2ms"}},
			func(s *Scenario) bool { return s.Cloud[0].Batching != nil && s.Cloud[0].Batching.MaxBatch == 8 }, ""},
		{"swap keys", []Assignment{{"link.uplink_mbps", "null"}, {"link.trace", "x.csv"}}, nil, `no built-in link trace "x.csv"`},
		{"remove to default", []Assignment{{"edge.concurrency", "null"}}, func(s *Scenario) bool { return s.Edge[0].Concurrency == DefaultConcurrency }, ""},
		{"bad value", []Assignment{{"edge.count", "many"}}, nil, `with edge.count=many: builtin:threshold:10:12: edge.count: want an integer, got "many"`},
		{"unknown key", []Assignment{{"edge.cuont", "3"}}, nil, `edge.cuont: unknown key; did you mean "count"?`},
		{"into a scalar", []Assignment{{"seed.x", "3"}}, nil, "seed is not a section of keys"},
		{"empty key", []Assignment{{"edge..count", "3"}}, nil, `empty key in "edge..count"`},
		{"the one group by index", []Assignment{{"edge[0].count", "7"}}, func(s *Scenario) bool { return s.Edge[0].Count == 7 }, ""},
		{"no second group", []Assignment{{"edge[1].count", "7"}}, nil, "edge[1]: edge has 1"},
		{"bad index", []Assignment{{"edge[x].count", "7"}}, nil, `"edge[x]": want KEY[N]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := With(base, tc.as...)
			switch {
			case tc.want != "":
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("With: %v, want an error containing %q", err, tc.want)
				}
			case err != nil:
				t.Fatal(err)
			case !tc.check(s):
				t.Errorf("With gave %+v", s)
			}
		})
	}
	if base.Edge[0].Count != 20 {
		t.Errorf("With changed its argument: edge.count %d", base.Edge[0].Count)
	}
}

// In a fleet of several groups a key names its group.
func TestWithGroups(t *testing.T) {
	assumeProfiles(t, measuredProfiles...)
	base, err := Load("builtin:threshold")
	if err != nil {
		t.Fatal(err)
	}
	two, err := With(base, Assignment{"edge", "[{count: 2, device: edge-cpu-1t}, {count: 3, device: edge-cpu-1t, rate: 4}]"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := With(two, Assignment{"edge[1].rate", "6"}, Assignment{"edge[0].count", "9"})
	if err != nil || s.Edge[1].Rate != 6 || s.Edge[0].Count != 9 || s.Edge.Devices() != 12 {
		t.Fatalf("%+v, %v", s, err)
	}
	if v, err := Get(s, "edge[1].rate"); v != "6" || err != nil {
		t.Errorf("edge[1].rate = %q, %v", v, err)
	}
	for _, key := range []string{"edge.count"} {
		if _, err := With(s, Assignment{key, "1"}); err == nil || !strings.Contains(err.Error(), "edge is a list of 2; name one, as edge[0]") {
			t.Errorf("%s: %v", key, err)
		}
		if _, err := Get(s, key); err == nil || !strings.Contains(err.Error(), "edge is a list of 2") {
			t.Errorf("Get %s: %v", key, err)
		}
	}
}

func TestParseAssignment(t *testing.T) {
	if a, err := ParseAssignment(" edge.count = 5 "); err != nil || a != (Assignment{"edge.count", "5"}) {
		t.Errorf("ParseAssignment: %+v, %v", a, err)
	}
	if _, err := ParseAssignment("edge.count"); err == nil {
		t.Error("no error for a missing =")
	}
}

// TestLinkBytes checks where a scenario's request and answer sizes come
// from: the scenario, the cloud profile's serving path, or the tensor.
func TestLinkBytes(t *testing.T) {
	b, err := bundles.Load("builtin:fashion")
	if err != nil {
		t.Fatal(err)
	}
	measured := &profiles.Model{Serving: []profiles.Serving{{Protocol: profiles.ProtocolBinary, Latency: 1, Runs: 1, RequestBytes: 3497, ResponseBytes: 405}}}
	for _, tc := range []struct {
		name      string
		link      Link
		cloud     *profiles.Model
		protocol  string
		req, resp int
		from      string
	}{
		{"given", Link{RequestBytes: 1000, ResponseBytes: 10}, measured, profiles.ProtocolBinary, 1000, 10, LinkBytesScenario},
		// 3 segments up, acknowledged by 2 down; 1 down, acknowledged by 1 up.
		{"measured", Link{}, measured, profiles.ProtocolBinary, 3497 + 3*66 + 66, 405 + 66 + 2*66, LinkBytesServing},
		{"measured, answer given", Link{ResponseBytes: 64}, measured, profiles.ProtocolBinary, 3497 + 3*66 + 66, 64, LinkBytesServing},
		{"not measured for the protocol", Link{}, measured, profiles.ProtocolJSON, 3136, DefaultResponseBytes, LinkBytesTensor},
		{"no cloud profile", Link{}, nil, profiles.ProtocolBinary, 3136, DefaultResponseBytes, LinkBytesTensor},
		{"request given", Link{RequestBytes: 500}, measured, profiles.ProtocolBinary, 500, DefaultResponseBytes, LinkBytesScenario},
	} {
		sc := &Scenario{Link: tc.link, Cloud: CloudPools{{Protocol: tc.protocol}}}
		in := &AppInputs{Bundle: b, CloudModel: tc.cloud}
		in.linkBytes(sc)
		if in.RequestBytes != tc.req || in.ResponseBytes != tc.resp || in.LinkBytes != tc.from {
			t.Errorf("%s: %d up, %d down, from %s; want %d, %d, %s", tc.name, in.RequestBytes, in.ResponseBytes, in.LinkBytes, tc.req, tc.resp, tc.from)
		}
	}
}

// A folder of profiles replaces the built-ins of the same names, and only
// those: a machine measured for one device class keeps the other built-in.
func TestProfilesFolder(t *testing.T) {
	d, err := profiles.LoadDevice("edge-cpu-1t")
	if err != nil {
		t.Fatal(err)
	}
	d.Host.CPU = "this machine"
	raw, err := profiles.EncodeDevice(d)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "edge-cpu-1t.yaml"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		folder          string
		edgeCPU, notCPU string
	}{
		{"", "", "this machine"},
		{dir, "this machine", ""},
	} {
		sc, err := Load("builtin:default")
		if err != nil {
			t.Fatal(err)
		}
		sc.Profiles = tc.folder
		in, err := Resolve(sc)
		if err != nil {
			t.Fatal(err)
		}
		if got := in.EdgeDevice.Host.CPU; tc.edgeCPU != "" && got != tc.edgeCPU || got == tc.notCPU {
			t.Errorf("folder %q: edge profile measured on %q", tc.folder, got)
		}
		if in.CloudDevice.Host.CPU == "this machine" {
			t.Errorf("folder %q: the cloud's built-in profile was replaced", tc.folder)
		}
	}
}
