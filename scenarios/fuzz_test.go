package scenarios

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/scenarios/strictyaml"
)

// FuzzDecode checks that the decoder never panics, that every mistake it
// reports is one positioned line, and that what it accepts survives Marshal.
func FuzzDecode(f *testing.F) {
	for _, name := range Builtins() {
		b, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(base))
	f.Add([]byte("a: &x [*x, *x]\nlink: *x\n"))
	f.Add([]byte("link: {uplink_mbps: .inf, rtt: 1e400ms}\nseed: 18446744073709551616\n"))
	f.Add([]byte("edge:\n  service: {dist: lognormal, mean: 5ms, cv: 0.5}\n<<: {}\n"))
	f.Add([]byte("edge:\n  - {name: a, count: 2, device: edge-cpu-1t, rate: 3, power: {idle_w: 1, busy_w: 2, source: x}}\n  - {count: 1, link: {uplink_mbps: 5, rtt: 1ms}}\n"))
	f.Add([]byte("edge: []\nlink: {uplink_mbps: 1, rtt: 0s}\n"))
	f.Add([]byte("cloud:\n  - {name: a, servers: 2, device: server-cpu}\n  - {servers: 1, device: server-cpu, batching: {max_batch: 4}}\nedge:\n  - {count: 2, cloud: pool-2}\n  - {count: 1, cloud: a}\n"))
	f.Add([]byte("cloud: []\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		real := isBuiltinDevice
		isBuiltinDevice = func(name string) bool { return real(name) || name == "edge-cpu-1t" || name == "server-cpu" }
		defer func() { isBuiltinDevice = real }()

		s, err := Decode("fuzz.yaml", b)
		if err != nil {
			var list strictyaml.Errors
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %v (%T) is not a strictyaml.Errors", err, err)
			}
			for _, e := range list {
				if line := e.Error(); strings.ContainsAny(line, "\r\n") || !strings.HasPrefix(line, "fuzz.yaml") {
					t.Fatalf("error %q is not one line starting with the file's name", line)
				}
			}
			return
		}
		out, err := Marshal(s)
		if err != nil {
			t.Fatalf("Marshal of an accepted scenario: %v", err)
		}
		back, err := Decode("fuzz.yaml", out)
		if err != nil {
			t.Fatalf("decoding Marshal's output: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(s, back) {
			t.Fatalf("round trip changed the scenario:\n got %+v\nwant %+v\n%s", back, s, out)
		}
	})
}
