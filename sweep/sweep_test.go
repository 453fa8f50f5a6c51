package sweep

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/scenarios"
)

const spec = `name: test
scenario: builtin:threshold
requests: 1500
seeds: [1, 2]
vary:
  edge.count: [5, 10]
  cloud.servers: [1, 2, 3]
`

func TestDecodeAndPoints(t *testing.T) {
	s, err := Decode("s.yaml", []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	pts := s.Points()
	if len(pts) != 2*3*2 {
		t.Fatalf("%d points, want 12", len(pts))
	}
	// The first axis varies slowest, the seed fastest.
	want := []struct {
		count, servers string
		seed           uint64
	}{{"5", "1", 1}, {"5", "1", 2}, {"5", "2", 1}}
	for i, w := range want {
		p := pts[i]
		if p.Index != i || p.Values[0] != (scenarios.Assignment{Key: "edge.count", Value: w.count}) || p.Values[1].Value != w.servers || p.Seed != w.seed {
			t.Errorf("point %d: %+v, want %+v", i, p, w)
		}
	}
	if last := pts[11]; last.Values[0].Value != "10" || last.Values[1].Value != "3" || last.Seed != 2 {
		t.Errorf("last point %+v", last)
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"unknown key", "scenario: builtin:default\nvary: {edge.count: [1]}\nvaries: 3\n", "s.yaml:3:1: varies: unknown key"},
		{"no scenario", "vary: {edge.count: [1]}\n", "s.yaml:1:1: scenario: required"},
		{"no vary", "scenario: builtin:default\n", "s.yaml:1:1: vary: required"},
		{"empty values", "scenario: builtin:default\nvary:\n  edge.count: []\n", "s.yaml:3:15: vary.edge.count: want a list of values"},
		{"scalar values", "scenario: builtin:default\nvary:\n  edge.count: 5\n", "vary.edge.count: want a list of values"},
		{"bad seed", "scenario: builtin:default\nseeds: [1, x]\nvary: {edge.count: [1]}\n", "s.yaml:2:12: seeds: want a positive integer, got \"x\""},
		{"bad requests", "scenario: builtin:default\nrequests: -4\nvary: {edge.count: [1]}\n", "requests: want a positive integer"},
		{"twice", "scenario: builtin:default\nscenario: builtin:burst\nvary: {edge.count: [1]}\n", "s.yaml:2:1: scenario: key given twice"},
		{"not a mapping", "- a\n", "want a mapping of keys"},
		{"syntax", "scenario: [\n", "s.yaml: yaml:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode("s.yaml", []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Decode: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestShardsMergeToTheWhole runs a sweep whole and in three shards: the
// merged shards are byte for byte the whole.
func TestShardsMergeToTheWhole(t *testing.T) {
	s, err := Decode("s.yaml", []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := Run(s, All, nil)
	if err != nil {
		t.Fatal(err)
	}
	var parts [][]Result
	for i := range 3 {
		r, err := Run(s, Shard{i, 3}, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Through the file format, as shards on other machines would be.
		var b bytes.Buffer
		if err := WriteJSONL(&b, r); err != nil {
			t.Fatal(err)
		}
		back, err := ReadJSONL("shard", &b)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, back)
	}
	merged, err := Merge(parts[2], parts[0], parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := WriteJSONL(&a, whole); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSONL(&b, merged); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("merged shards differ from the whole sweep:\n%s\n%s", a.String(), b.String())
	}
	var csv bytes.Buffer
	if err := WriteCSV(&csv, whole); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(csv.String()), "\n")
	if len(lines) != 13 || !strings.HasPrefix(lines[0], "point,seed,edge.count,cloud.servers,requests,") || !strings.HasPrefix(lines[1], "0,1,5,1,1500,") {
		t.Errorf("results.csv:\n%s", csv.String())
	}
}

func TestMergeErrors(t *testing.T) {
	r := func(point, of int) Result { return Result{Point: point, Of: of} }
	cases := []struct {
		name  string
		parts [][]Result
		want  string
	}{
		{"missing", [][]Result{{r(0, 3), r(2, 3)}}, "point 1 of 3 is missing"},
		{"twice", [][]Result{{r(0, 2), r(1, 2)}, {r(1, 2)}}, "point 1 is there twice"},
		{"short", [][]Result{{r(0, 3), r(1, 3)}}, "2 of 3 points"},
		{"two sweeps", [][]Result{{r(0, 2)}, {r(1, 3)}}, "results of two sweeps"},
		{"nothing", nil, "no results"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Merge(tc.parts...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Merge: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestRunNamesTheBadPoint(t *testing.T) {
	s, err := Decode("s.yaml", []byte("scenario: builtin:threshold\nrequests: 100\nvary:\n  edge.count: [2, -1]\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(s, All, nil)
	if err == nil || !strings.Contains(err.Error(), "s.yaml: point 1 (edge.count=-1):") || !strings.Contains(err.Error(), "edge.count: must be > 0, got -1") {
		t.Errorf("Run: %v", err)
	}
}

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Shard
		ok   bool
	}{{"0/4", Shard{0, 4}, true}, {"3/4", Shard{3, 4}, true}, {"4/4", Shard{}, false}, {"-1/2", Shard{}, false}, {"1", Shard{}, false}, {"a/b", Shard{}, false}} {
		got, err := ParseShard(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseShard(%q) = %v, %v", tc.in, got, err)
		}
	}
}

// FuzzDecode feeds arbitrary bytes to the sweep decoder: a spec or an
// error, never a panic, and never a spec with more points than allowed.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(spec))
	f.Add([]byte("scenario: x\nvary: {a: [1, 2], b: [3]}\n"))
	f.Add([]byte("vary: {a: [[1]]}\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := Decode("fuzz.yaml", in)
		if err != nil {
			return
		}
		n := s.Len()
		if n < 1 || n > maxPoints {
			t.Fatalf("%d points", n)
		}
		if n <= 1000 && len(s.Points()) != n {
			t.Fatalf("Points gives %d, Len %d", len(s.Points()), n)
		}
	})
}
