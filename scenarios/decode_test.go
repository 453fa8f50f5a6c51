package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// base is a valid scenario; the error cases each change a few lines of it.
const base = `name: mine
seed: 7
requests: 100
bundle: builtin:fashion
workload:
  arrival: poisson
  rate: 5
edge:
  count: 3
  device: edge-cpu-1t
link:
  uplink_mbps: 10
  rtt: 20ms
cloud:
  servers: 1
  device: server-cpu
policy:
  kind: threshold
  feature: max_prob
  threshold: 0.8
`

// edit replaces whole lines of base; an empty replacement deletes the line.
func edit(t *testing.T, pairs ...string) string {
	t.Helper()
	s := base
	for i := 0; i+1 < len(pairs); i += 2 {
		old, repl := pairs[i]+"\n", pairs[i+1]
		if !strings.Contains(s, old) {
			t.Fatalf("base has no line %q", pairs[i])
		}
		if repl != "" {
			repl += "\n"
		}
		s = strings.Replace(s, old, repl, 1)
	}
	return s
}

func TestDecodeValid(t *testing.T) {
	assumeProfiles(t, measuredProfiles...)
	s, err := Decode("mine.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "mine" || s.Seed != 7 || s.Requests != 100 || s.Workload.Rate != 5 ||
		s.Edge[0].Count != 3 || s.Link.UplinkMbps != 10 || s.Link.RTT.D() != 20*time.Millisecond ||
		s.Policy.Threshold != 0.8 || s.File != "mine.yaml" {
		t.Errorf("decoded %+v", s)
	}
}

func TestDecodeDefaults(t *testing.T) {
	assumeProfiles(t, measuredProfiles...)
	s, err := Decode("dir/short.yaml", []byte(edit(t, "name: mine", "", "seed: 7", "", "  arrival: poisson", "", "  count: 3", "", "  servers: 1", "")))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		what      string
		got, want any
	}{
		{"name", s.Name, "short"},
		{"seed", s.Seed, uint64(DefaultSeed)},
		{"arrival", s.Workload.Arrival, DefaultArrival},
		{"edge.count", s.Edge[0].Count, DefaultEdgeCount},
		{"edge.concurrency", s.Edge[0].Concurrency, DefaultConcurrency},
		{"link.response_bytes", s.Link.ResponseBytes, 0}, // measured, when Resolve finds it
		{"link.request_bytes", s.Link.RequestBytes, 0},
		{"link.downlink_mbps", s.Link.DownlinkMbps, 0.0},
		{"cloud.servers", s.Cloud[0].Servers, DefaultServers},
		{"cloud.batching", s.Cloud[0].Batching == nil, true},
		{"cloud.protocol", s.Cloud[0].Protocol, DefaultProtocol},
	}
	for _, w := range want {
		if w.got != w.want {
			t.Errorf("%s = %v, want %v", w.what, w.got, w.want)
		}
	}
}

func TestDecodeZeroValues(t *testing.T) {
	assumeProfiles(t, measuredProfiles...)
	// Zero is a value, not an omission, for these keys.
	s, err := Decode("mine.yaml", []byte(edit(t,
		"  rtt: 20ms", "  rtt: 0s\n  request_bytes: 0\n  downlink_mbps: 0",
		"  threshold: 0.8", "  threshold: 0",
		"  device: server-cpu", "  device: server-cpu\n  batching: {max_batch: 4, max_wait: 0s}")))
	if err != nil {
		t.Fatal(err)
	}
	if s.Link.RTT != 0 || s.Policy.Threshold != 0 || s.Cloud[0].Batching.MaxWait != 0 {
		t.Errorf("decoded %+v", s)
	}
}

func TestDecodeErrors(t *testing.T) {
	assumeProfiles(t, measuredProfiles...)
	cases := []struct {
		name string
		yaml string
		want string // one line of the error, exactly
	}{
		{"unknown key", edit(t, "name: mine", "nmae: mine"),
			`mine.yaml:1:1: nmae: unknown key; did you mean "name"?`},
		{"unknown nested key", edit(t, "  uplink_mbps: 10", "  uplink: 10"),
			`mine.yaml:12:3: link.uplink: unknown key; did you mean "uplink_mbps"?`},
		{"unknown key far from any", edit(t, "  rate: 5", "  rate: 5\n  zzzzzz: 1"),
			`mine.yaml:8:3: workload.zzzzzz: unknown key; want one of: arrival, rate, burst_rate, burst_mean, normal_mean, trace`},
		{"key given twice", edit(t, "  count: 3", "  count: 3\n  count: 4"),
			`mine.yaml:10:3: edge.count: key given twice`},
		{"string for integer", edit(t, "  count: 3", "  count: many"),
			`mine.yaml:9:10: edge.count: want an integer, got "many"`},
		{"fraction for integer", edit(t, "  count: 3", "  count: 2.5"),
			`mine.yaml:9:10: edge.count: want an integer, got 2.5`},
		{"scalar for mapping", edit(t, "link:", "link: fast", "  uplink_mbps: 10", "", "  rtt: 20ms", ""),
			`mine.yaml:11:7: link: want a mapping of keys, got "fast"`},
		{"list for string", edit(t, "bundle: builtin:fashion", "bundle: [a, b]"),
			`mine.yaml:4:9: bundle: want a string, got a list`},
		{"string for number", edit(t, "  uplink_mbps: 10", "  uplink_mbps: ten"),
			`mine.yaml:12:16: link.uplink_mbps: want a number, got "ten"`},
		{"not a number", edit(t, "  uplink_mbps: 10", "  uplink_mbps: .nan"),
			`mine.yaml:12:16: link.uplink_mbps: want a finite number, got .nan`},
		{"negative seed", edit(t, "seed: 7", "seed: -1"),
			`mine.yaml:2:7: seed: must be >= 0, got -1`},
		{"bare number duration", edit(t, "  rtt: 20ms", "  rtt: 20"),
			`mine.yaml:13:8: link.rtt: want a duration like "10ms", got a bare number 20 (add a unit: ns, us, ms, s, m, h)`},
		{"bad duration", edit(t, "  rtt: 20ms", "  rtt: 20 parsecs"),
			`mine.yaml:13:8: link.rtt: want a duration like "10ms", "1.5s" or "250us", got "20 parsecs"`},
		{"negative duration", edit(t, "  rtt: 20ms", "  rtt: -5ms"),
			`mine.yaml:13:8: link.rtt: must be >= 0, got -5ms`},
		{"missing rtt", edit(t, "  rtt: 20ms", ""),
			`mine.yaml:11:1: link.rtt: required: the round-trip propagation delay, e.g. 20ms (0s for none)`},
		{"negative rate", edit(t, "  uplink_mbps: 10", "  uplink_mbps: -3"),
			`mine.yaml:12:16: link.uplink_mbps: must be > 0, got -3`},
		{"zero workload rate", edit(t, "  rate: 5", "  rate: 0"),
			`mine.yaml:7:9: workload.rate: must be > 0, got 0`},
		{"explicit zero count", edit(t, "  count: 3", "  count: 0"),
			`mine.yaml:9:10: edge.count: must not be 0 or empty; leave the key out for the default`},
		{"negative count", edit(t, "  count: 3", "  count: -2"),
			`mine.yaml:9:10: edge.count: must be > 0, got -2`},
		{"negative servers", edit(t, "  servers: 1", "  servers: -1"),
			`mine.yaml:15:12: cloud.servers: must be > 0, got -1`},
		{"learned threshold above 1", edit(t, "  kind: threshold\n  feature: max_prob\n  threshold: 0.8", "  kind: learned\n  threshold: 1.5"),
			`mine.yaml:19:14: policy.threshold: must be from 0 to 1 (the offloader's score at which to offload), got 1.5`},
		{"unknown protocol", edit(t, "  servers: 1", "  servers: 1\n  protocol: grpc"),
			`mine.yaml:16:13: cloud.protocol: unknown protocol "grpc"; want one of binary, json`},
		{"zero requests", edit(t, "requests: 100", "requests: 0"),
			`mine.yaml:3:11: requests: must be > 0, got 0`},
		{"negative response bytes", edit(t, "  rtt: 20ms", "  rtt: 20ms\n  response_bytes: -5"),
			`mine.yaml:14:19: link.response_bytes: must be >= 0 (0: what the cloud profile measured an answer puts on the wire), got -5`},
		{"negative request bytes", edit(t, "  rtt: 20ms", "  rtt: 20ms\n  request_bytes: -1"),
			`mine.yaml:14:18: link.request_bytes: must be >= 0 (0: what the cloud profile measured a request puts on the wire), got -1`},
		{"negative timeout", edit(t, "requests: 100", "requests: 100\ntimeout: -1s"),
			`mine.yaml:4:10: timeout: must be > 0, got -1s`},
		{"requests and duration", edit(t, "requests: 100", "requests: 100\nduration: 10s"),
			`mine.yaml:4:11: duration: give requests or duration, not both`},
		{"neither requests nor duration", edit(t, "requests: 100", ""),
			`mine.yaml:1:1: requests: required: requests (arrivals over the fleet) or duration (simulated time)`},
		{"uplink and trace", edit(t, "  uplink_mbps: 10", "  uplink_mbps: 10\n  trace: x.up"),
			`mine.yaml:13:10: link.trace: give uplink_mbps or trace, not both`},
		{"neither uplink nor trace", edit(t, "  uplink_mbps: 10", ""),
			`mine.yaml:11:1: link.uplink_mbps: required: uplink_mbps (a constant rate) or trace (a capacity trace)`},
		{"unknown arrival", edit(t, "  arrival: poisson", "  arrival: gamma"),
			`mine.yaml:6:12: workload.arrival: unknown arrival "gamma"; want one of poisson, periodic, mmpp, trace`},
		{"mmpp without burst", edit(t, "  arrival: poisson", "  arrival: mmpp"),
			`mine.yaml:5:1: workload.burst_rate: required by arrival mmpp`},
		{"burst keys on poisson", edit(t, "  rate: 5", "  rate: 5\n  burst_rate: 50"),
			`mine.yaml:8:15: workload.burst_rate: not used by arrival poisson`},
		{"unknown dist", edit(t, "  device: edge-cpu-1t", "  device: edge-cpu-1t\n  service: {dist: gamma, mean: 5ms}"),
			`mine.yaml:11:19: edge.service.dist: unknown dist "gamma"; want one of deterministic, exponential, lognormal`},
		{"lognormal without cv", edit(t, "  device: edge-cpu-1t", "  device: edge-cpu-1t\n  service: {dist: lognormal, mean: 5ms}"),
			`mine.yaml:11:3: edge.service.cv: required by dist lognormal: the coefficient of variation`},
		{"cv on exponential", edit(t, "  device: server-cpu", "  device: server-cpu\n  service: {dist: exponential, mean: 5ms, cv: 2}"),
			`mine.yaml:17:47: cloud.service.cv: not used by dist exponential (its cv is 1)`},
		{"zero service mean", edit(t, "  device: server-cpu", "  device: server-cpu\n  service: {dist: exponential, mean: 0s}"),
			`mine.yaml:17:38: cloud.service.mean: must be > 0, got 0s`},
		{"power below idle", edit(t, "  device: edge-cpu-1t", "  device: edge-cpu-1t\n  power: {idle_w: 3, busy_w: 2, source: test}"),
			`mine.yaml:11:30: edge.power.busy_w: 2 W is below idle_w (3 W): each state's figure is the whole device's draw in it, at least its idle draw`},
		{"power without source", edit(t, "  device: edge-cpu-1t", "  device: edge-cpu-1t\n  power: {idle_w: 2, busy_w: 6}"),
			`mine.yaml:11:3: edge.power.source: required: where the figures come from (the measurement, or the publication cited)`},
		{"negative battery", edit(t, "  device: edge-cpu-1t", "  device: edge-cpu-1t\n  power: {idle_w: 2, busy_w: 6, battery_wh: -1, source: x}"),
			`mine.yaml:11:45: edge.power.battery_wh: must be a finite number >= 0, got -1`},
		{"batching without max_batch", edit(t, "  device: server-cpu", "  device: server-cpu\n  batching:\n    max_wait: 2ms"),
			`mine.yaml:17:3: cloud.batching.max_batch: required: the largest batch a server takes`},
		{"unknown policy kind", edit(t, "  kind: threshold", "  kind: smart"),
			`mine.yaml:18:9: policy.kind: unknown policy kind "smart"; want one of edge-only, cloud-only, random, threshold, learned, oracle, cost-aware`},
		{"no policy kind", edit(t, "  kind: threshold", "", "  feature: max_prob", "", "  threshold: 0.8", ""),
			`mine.yaml:17:1: policy.kind: required: the offloading policy, one of edge-only, cloud-only`},
		{"cost-aware without lambda", edit(t, "  kind: threshold", "  kind: cost-aware", "  feature: max_prob", "", "  threshold: 0.8", ""),
			`mine.yaml:17:1: policy.lambda: required by policy kind cost-aware`},
		{"negative lambda", edit(t, "  kind: threshold", "  kind: cost-aware\n  lambda: -0.5", "  feature: max_prob", "", "  threshold: 0.8", ""),
			`mine.yaml:19:11: policy.lambda: must be a finite price >= 0 (accuracy per millisecond), got -0.5`},
		{"lambda on threshold", edit(t, "  threshold: 0.8", "  threshold: 0.8\n  lambda: 0.001"),
			`mine.yaml:21:11: policy.lambda: not used by policy kind threshold`},
		{"unknown feature", edit(t, "  feature: max_prob", "  feature: confidence"),
			`mine.yaml:19:12: policy.feature: unknown feature "confidence"; want one of max_prob, margin, entropy`},
		{"threshold without threshold", edit(t, "  threshold: 0.8", ""),
			`mine.yaml:17:1: policy.threshold: required by policy kind threshold`},
		{"threshold without feature", edit(t, "  feature: max_prob", ""),
			`mine.yaml:17:1: policy.feature: required by policy kind threshold`},
		{"threshold out of range", edit(t, "  threshold: 0.8", "  threshold: 1.5"),
			`mine.yaml:20:14: policy.threshold: must be from 0 to 1 for feature max_prob, got 1.5`},
		{"random p out of range", edit(t, "  kind: threshold", "  kind: random\n  p: 1.5", "  feature: max_prob", "", "  threshold: 0.8", ""),
			`mine.yaml:19:6: policy.p: must be from 0 to 1, got 1.5`},
		{"random without p", edit(t, "  kind: threshold", "  kind: random", "  feature: max_prob", "", "  threshold: 0.8", ""),
			`mine.yaml:17:1: policy.p: required by policy kind random`},
		{"p on threshold", edit(t, "  threshold: 0.8", "  threshold: 0.8\n  p: 0.5"),
			`mine.yaml:21:6: policy.p: not used by policy kind threshold`},
		{"feature on edge-only", edit(t, "  kind: threshold", "  kind: edge-only", "  threshold: 0.8", ""),
			`mine.yaml:19:12: policy.feature: not used by policy kind edge-only`},
		{"missing device", edit(t, "  device: edge-cpu-1t", "  device: foo"),
			`mine.yaml:10:11: edge.device: no built-in profile "foo" and no such file (built-ins: `},
		{"missing builtin device", edit(t, "  device: server-cpu", "  device: builtin:foo"),
			`mine.yaml:16:11: cloud.device: no built-in profile "foo" (built-ins: `},
		{"missing trace", edit(t, "  uplink_mbps: 10", "  trace: nowhere.up"),
			`mine.yaml:12:10: link.trace: no built-in link trace "nowhere.up" and no such file (built-ins: none)`},
		{"missing downlink trace", edit(t, "  uplink_mbps: 10", "  uplink_mbps: 10\n  downlink_trace: nowhere.down"),
			`mine.yaml:13:19: link.downlink_trace: no built-in link trace "nowhere.down" and no such file (built-ins: none)`},
		{"downlink rate and trace", edit(t, "  uplink_mbps: 10", "  uplink_mbps: 10\n  downlink_mbps: 5\n  downlink_trace: x.down"),
			`mine.yaml:14:19: link.downlink_trace: give downlink_mbps or downlink_trace, not both`},
		{"unknown trace phase", edit(t, "  uplink_mbps: 10", "  uplink_mbps: 10\n  trace_phase: shuffled"),
			`mine.yaml:13:16: link.trace_phase: unknown trace phase "shuffled"; want one of random, aligned`},
		{"trace phase on a constant link", edit(t, "  uplink_mbps: 10", "  uplink_mbps: 10\n  trace_phase: aligned"),
			`mine.yaml:13:16: link.trace_phase: applies only to trace links; this link has neither trace nor downlink_trace`},
		{"missing bundle", edit(t, "bundle: builtin:fashion", ""),
			`mine.yaml:1:1: bundle: required: builtin:NAME or the path of a bundle folder`},
		{"missing bundle folder", edit(t, "bundle: builtin:fashion", "bundle: nowhere"),
			`mine.yaml:4:9: bundle: no bundle folder nowhere`},
		{"merge key", edit(t, "link:", "x: &l {rtt: 20ms}\nlink:\n  <<: *l"),
			`mine.yaml:13:3: link: merge keys (<<) are not supported; repeat the keys`},
		{"syntax error", edit(t, "  count: 3", "  count: [3"),
			`mine.yaml:9: did not find expected ',' or ']' (in what starts on this line)`},
		{"two groups, one count zero", edit(t, "edge:\n  count: 3\n  device: edge-cpu-1t", "edge:\n  - name: pi\n    count: 2\n    device: edge-cpu-1t\n    rate: 2\n  - count: 0\n    device: edge-cpu-1t\n    link: {uplink_mbps: 50, rtt: 5ms}"),
			`mine.yaml:13:12: edge[1].count: must not be 0 or empty; leave the key out for the default`},
		{"group names twice", edit(t, "edge:\n  count: 3\n  device: edge-cpu-1t", "edge:\n  - name: pi\n    count: 2\n    device: edge-cpu-1t\n    rate: 2\n  - name: pi\n    count: 3\n    device: edge-cpu-1t\n    link: {uplink_mbps: 50, rtt: 5ms}"),
			`mine.yaml:13:11: edge[1].name: group "pi" already named by edge[0]`},
		{"group rate with a trace", edit(t, "  arrival: poisson\n  rate: 5", "  arrival: trace\n  trace: arrivals.txt", "edge:\n  count: 3\n  device: edge-cpu-1t", "edge:\n  - name: pi\n    count: 2\n    device: edge-cpu-1t\n    rate: 2\n  - count: 3\n    device: edge-cpu-1t\n    link: {uplink_mbps: 50, rtt: 5ms}"),
			`mine.yaml:12:11: edge[0].rate: not used by arrival trace: the trace sets every device's arrivals`},
		{"group link bytes", edit(t, "edge:\n  count: 3\n  device: edge-cpu-1t", "edge:\n  - name: pi\n    count: 2\n    device: edge-cpu-1t\n    rate: 2\n  - count: 3\n    device: edge-cpu-1t\n    link: {uplink_mbps: 50, rtt: 5ms, request_bytes: 10}"),
			`mine.yaml:15:54: edge[1].link.request_bytes: request_bytes and response_bytes are the fleet's, set in the scenario's link`},
		{"group link without rtt", edit(t, "edge:\n  count: 3\n  device: edge-cpu-1t", "edge:\n  - name: pi\n    count: 2\n    device: edge-cpu-1t\n    rate: 2\n  - count: 3\n    device: edge-cpu-1t\n    link: {uplink_mbps: 50}"),
			`mine.yaml:15:5: edge[1].link.rtt: required: the round-trip propagation delay, e.g. 20ms (0s for none)`},
		{"group bundle folder missing", edit(t, "edge:\n  count: 3\n  device: edge-cpu-1t", "edge:\n  - count: 2\n    device: edge-cpu-1t\n  - count: 3\n    device: edge-cpu-1t\n    bundle: nowhere"),
			`mine.yaml:13:13: edge[1].bundle: no bundle folder nowhere`},
		{"group bundle with a split", edit(t, "edge:\n  count: 3\n  device: edge-cpu-1t", "edge:\n  - count: 2\n    device: edge-cpu-1t\n  - count: 3\n    device: edge-cpu-1t\n    bundle: builtin:digits", "  kind: threshold", "  kind: split", "  feature: max_prob", "", "  threshold: 0.8", ""),
			`mine.yaml:13:13: edge[1].bundle: not used by policy kind split: a split cuts the scenario's one heavy model`},
		{"group bundle with the scenario's request bytes", edit(t, "edge:\n  count: 3\n  device: edge-cpu-1t", "edge:\n  - count: 2\n    device: edge-cpu-1t\n  - count: 3\n    device: edge-cpu-1t\n    bundle: builtin:digits", "  rtt: 20ms", "  rtt: 20ms\n  request_bytes: 3136"),
			`mine.yaml:13:13: edge[1].bundle: link.request_bytes and response_bytes are one bundle's`},
		{"group bundle with one threshold", edit(t, "edge:\n  count: 3\n  device: edge-cpu-1t", "edge:\n  - count: 2\n    device: edge-cpu-1t\n  - count: 3\n    device: edge-cpu-1t\n    bundle: builtin:digits", "  kind: threshold", "  kind: learned", "  feature: max_prob", ""),
			`mine.yaml:13:13: edge[1].bundle: policy.threshold is one offloader's operating point`},
		{"pool names twice", edit(t, "cloud:\n  servers: 1\n  device: server-cpu", "cloud:\n  - {name: a, servers: 1, device: server-cpu}\n  - {name: a, servers: 2, device: server-cpu}"),
			`mine.yaml:16:12: cloud[1].name: pool "a" already named by cloud[0]`},
		{"group names no pool", edit(t, "  device: edge-cpu-1t", "  device: edge-cpu-1t\n  cloud: far", "cloud:\n  servers: 1\n  device: server-cpu", "cloud:\n  - {name: near, servers: 1, device: server-cpu}\n  - {name: regional, servers: 2, device: server-cpu}"),
			`mine.yaml:11:10: edge.cloud: no cloud pool "far"; the scenario's are "near", "regional"`},
		{"second pool's servers", edit(t, "cloud:\n  servers: 1\n  device: server-cpu", "cloud:\n  - {name: a, servers: 1, device: server-cpu}\n  - {name: b, servers: -2, device: server-cpu}"),
			`mine.yaml:16:24: cloud[1].servers: must be > 0, got -2`},
		{"several pools with a split", edit(t, "cloud:\n  servers: 1\n  device: server-cpu", "cloud:\n  - {name: a, servers: 1, device: server-cpu}\n  - {name: b, servers: 2, device: server-cpu}", "  kind: threshold", "  kind: split", "  feature: max_prob", "", "  threshold: 0.8", ""),
			`mine.yaml:16:5: cloud[1]: not used by policy kind split: a split deployment runs on one cloud pool`},
		{"empty file", "# nothing\n", `mine.yaml: empty file, want a mapping of keys`},
		{"list document", "- a\n- b\n", `mine.yaml:1:1: want a mapping of keys, got a list`},
		{"two documents", base + "---\nname: other\n", `mine.yaml:21:1: more than one YAML document; want one`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode("mine.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if strings.HasPrefix(line, tc.want) {
					return
				}
			}
			t.Errorf("error:\n%v\nwant a line starting %q", err, tc.want)
		})
	}
}

func TestDecodeJoinsErrors(t *testing.T) {
	assumeProfiles(t, measuredProfiles...)
	_, err := Decode("mine.yaml", []byte(edit(t, "  count: 3", "  count: -1", "  uplink_mbps: 10", "  uplink_mbps: -3")))
	if err == nil {
		t.Fatal("no error")
	}
	want := "mine.yaml:9:10: edge.count: must be > 0, got -1\nmine.yaml:12:16: link.uplink_mbps: must be > 0, got -3"
	if err.Error() != want {
		t.Errorf("error:\n%v\nwant\n%s", err, want)
	}
}

// Relative paths in a scenario are relative to its folder, wherever tandem
// runs from.
func TestDecodeRelativePaths(t *testing.T) {
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "prof"), 0o755))
	must(t, os.MkdirAll(filepath.Join(dir, "mybundle"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "prof", "pi.yaml"), []byte(testDevice), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "link.csv"), []byte("seconds,mbps\n0,5\n1,1\n"), 0o644))
	y := edit(t, "bundle: builtin:fashion", "bundle: mybundle",
		"  device: edge-cpu-1t", "  device: prof/pi.yaml",
		"  device: server-cpu", "  device: prof/pi.yaml",
		"  uplink_mbps: 10", "  trace: link.csv")
	file := filepath.Join(dir, "mine.yaml")
	must(t, os.WriteFile(file, []byte(y), 0o644))

	s, err := LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.BundleRef(), filepath.Join(dir, "mybundle"); got != want {
		t.Errorf("BundleRef() = %q, want %q", got, want)
	}
	if d, err := s.EdgeProfile(0); err != nil || d.Name != "pi" {
		t.Errorf("EdgeProfile() = %v, %v", d, err)
	}
	up, err := s.Uplink(0)
	if err != nil {
		t.Fatal(err)
	}
	if m := up.MeanMbps(); m != 3 {
		t.Errorf("uplink mean %g Mbps, want 3", m)
	}
	down, err := s.Downlink(0)
	if err != nil || down.MeanMbps() != 3 {
		t.Errorf("Downlink() = %v, %v; want the uplink's trace", down, err)
	}
	if s.Link.TracePhase != DefaultTracePhase {
		t.Errorf("trace_phase = %q, want the default %q for a trace link", s.Link.TracePhase, DefaultTracePhase)
	}

	// The same scenario read from elsewhere does not find the files.
	_, err = Decode("elsewhere/mine.yaml", []byte(y))
	if err == nil || !strings.Contains(err.Error(), `edge.device: no built-in profile "prof/pi.yaml" and no such file elsewhere/prof/pi.yaml`) {
		t.Errorf("error %v, want one naming elsewhere/prof/pi.yaml", err)
	}
}

const testDevice = `name: pi
source: hand-written for a test
models:
  - name: m
    latency: 2ms
`

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestValidateInCode(t *testing.T) {
	assumeProfiles(t, measuredProfiles...)
	s := &Scenario{
		Requests: 10, Bundle: "builtin:fashion",
		Workload: Workload{Rate: 1},
		Edge:     EdgeGroups{{Device: "edge-cpu-1t"}},
		Link:     Link{UplinkMbps: 5},
		Cloud:    CloudPools{{Device: "server-cpu"}},
		Policy:   Policy{Kind: PolicyRandom}, // p = 0 is a valid probability
	}
	s.SetDefaults()
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	s.Policy = Policy{Kind: PolicyThreshold, Feature: FeatureEntropy, Threshold: -1}
	s.Link.UplinkMbps = -1
	err := s.Validate()
	want := "scenarios: invalid scenario \"\": link.uplink_mbps: must be > 0, got -1\npolicy.threshold: must be >= 0 for feature entropy, got -1"
	if err == nil || err.Error() != want {
		t.Errorf("Validate() = %v, want %s", err, want)
	}
}

func TestLoadUnknownBuiltin(t *testing.T) {
	_, err := Load("builtin:nope")
	if err == nil || !strings.Contains(err.Error(), `scenarios: no built-in scenario "nope" (built-ins: burst, busy-uplink, cloud-only`) {
		t.Errorf("Load(builtin:nope) = %v", err)
	}
	_, err = Load("no/such/file.yaml")
	if err == nil || !strings.HasPrefix(err.Error(), "scenarios: open no/such/file.yaml") {
		t.Errorf("Load(missing file) = %v", err)
	}
}

// A fleet of several groups decodes with each group's defaults, names and
// overrides, and writes back as it was read.
func TestDecodeGroups(t *testing.T) {
	assumeProfiles(t, measuredProfiles...)
	src := edit(t, "edge:\n  count: 3\n  device: edge-cpu-1t", "edge:\n  - name: pi\n    count: 2\n    device: edge-cpu-1t\n    rate: 2\n  - count: 3\n    device: edge-cpu-1t\n    link: {uplink_mbps: 50, rtt: 5ms}")
	s, err := Decode("mine.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Edge) != 2 || s.Edge.Devices() != 5 || s.Edge[1].Name != "group-2" || s.Edge[1].Concurrency != 1 ||
		s.WorkloadOf(0).Rate != 2 || s.WorkloadOf(1).Rate != 5 || s.LinkOf(0).UplinkMbps != 10 || s.LinkOf(1).RTT.D() != 5*time.Millisecond {
		t.Errorf("decoded %+v", s.Edge)
	}
	for device, want := range []int{0, 0, 1, 1, 1} {
		if g, first := s.Edge.Of(device); g != want || first != []int{0, 2}[g] {
			t.Errorf("device %d: group %d from %d, want group %d", device, g, first, want)
		}
	}
	b, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode("mine.yaml", b)
	if err != nil || len(back.Edge) != 2 || back.Edge[1].Link.UplinkMbps != 50 || back.Edge[0].Rate != 2 {
		t.Errorf("written as\n%s\nread back %+v (%v)", b, back, err)
	}
}
