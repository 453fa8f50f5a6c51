package scenarios

import (
	"strings"
	"testing"
	"time"
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
		{"count", []Assignment{{"edge.count", "50"}}, func(s *Scenario) bool { return s.Edge.Count == 50 }, ""},
		{"duration", []Assignment{{"link.rtt", "5ms"}}, func(s *Scenario) bool { return s.Link.RTT.D() == 5*time.Millisecond }, ""},
		{"new section", []Assignment{{"cloud.batching.max_batch", "8"}, {"cloud.batching.max_wait", "2ms"}},
			func(s *Scenario) bool { return s.Cloud.Batching != nil && s.Cloud.Batching.MaxBatch == 8 }, ""},
		{"swap keys", []Assignment{{"link.uplink_mbps", "null"}, {"link.trace", "x.csv"}}, nil, `no built-in link trace "x.csv"`},
		{"remove to default", []Assignment{{"edge.concurrency", "null"}}, func(s *Scenario) bool { return s.Edge.Concurrency == DefaultConcurrency }, ""},
		{"bad value", []Assignment{{"edge.count", "many"}}, nil, `with edge.count=many: builtin:threshold:10:12: edge.count: want an integer, got "many"`},
		{"unknown key", []Assignment{{"edge.cuont", "3"}}, nil, `edge.cuont: unknown key; did you mean "count"?`},
		{"into a scalar", []Assignment{{"seed.x", "3"}}, nil, "seed is not a section of keys"},
		{"empty key", []Assignment{{"edge..count", "3"}}, nil, `empty key in "edge..count"`},
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
	if base.Edge.Count != 20 {
		t.Errorf("With changed its argument: edge.count %d", base.Edge.Count)
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
