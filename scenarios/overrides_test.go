package scenarios

import (
	"cmp"
	"strings"
	"testing"
)

func TestLoadWith(t *testing.T) {
	base, err := Load("builtin:default")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		o         Overrides
		requests  int
		seed      uint64
		wantError string
	}{
		{"none", Overrides{}, base.Requests, base.Seed, ""},
		{"requests", Overrides{Requests: 7}, 7, base.Seed, ""},
		{"seed 0 set", Overrides{SeedSet: true}, base.Requests, 0, ""},
		{"seed unset", Overrides{Seed: 9}, base.Requests, base.Seed, ""},
		{"negative requests", Overrides{Requests: -1}, 0, 0, "--requests -1"},
		{"protocol", Overrides{Protocol: "json"}, base.Requests, base.Seed, ""},
		{"unknown protocol", Overrides{Protocol: "grpc"}, 0, 0, `--protocol "grpc": want one of binary, json`},
	} {
		sc, err := LoadWith("builtin:default", tc.o)
		if tc.wantError != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantError) {
				t.Errorf("%s: error %v, want one naming %q", tc.name, err, tc.wantError)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if want := cmp.Or(tc.o.Protocol, DefaultProtocol); sc.Cloud[0].Protocol != want {
			t.Errorf("%s: protocol %q, want %q", tc.name, sc.Cloud[0].Protocol, want)
		}
		if sc.Requests != tc.requests || sc.Seed != tc.seed || (tc.o.Requests > 0 && sc.Duration != 0) {
			t.Errorf("%s: requests %d, duration %v, seed %d; want %d, 0, %d", tc.name, sc.Requests, sc.Duration.D(), sc.Seed, tc.requests, tc.seed)
		}
	}
}
