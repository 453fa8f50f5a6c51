package sweep

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/deploy"
)

// sixPoints is a sweep of 6 points whose results are made up, not
// simulated: these tests are about folders, not figures.
const sixPoints = "name: six\nscenario: builtin:default\nvary:\n  edge.count: [1, 2, 3, 4, 5, 6]\n"

var testVersion = Version{Module: "github.com/tandem-edge/tandem@v1.0.0", Revision: "abc"}

// writePart writes shard sh of spec as a run would: results, then manifest.
func writePart(t *testing.T, dir string, spec *Spec, sh Shard, v Version) {
	t.Helper()
	var results []Result
	for _, p := range spec.Points() {
		if p.Index%sh.N == sh.I {
			results = append(results, Result{Point: p.Index, Of: spec.Len(), Values: p.Values, Summary: &deploy.Summary{Requests: int64(p.Index)}})
		}
	}
	var jsonl bytes.Buffer
	if err := WriteJSONL(&jsonl, results); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{ResultsJSONL: jsonl.Bytes()}
	m := NewManifest(spec, sh, len(results), v)
	m.SetFiles(files)
	files[ManifestFile] = m.Encode()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func decode(t *testing.T, s string) *Spec {
	t.Helper()
	spec, err := Decode("s.yaml", []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func TestShardLen(t *testing.T) {
	spec := decode(t, sixPoints)
	for _, tc := range []struct {
		sh   Shard
		want int
	}{{All, 6}, {Shard{0, 4}, 2}, {Shard{1, 4}, 2}, {Shard{2, 4}, 1}, {Shard{3, 4}, 1}, {Shard{5, 8}, 1}, {Shard{6, 8}, 0}} {
		if got := spec.ShardLen(tc.sh); got != tc.want {
			t.Errorf("ShardLen(%v) = %d, want %d", tc.sh, got, tc.want)
		}
	}
}

func TestManifestRoundTrip(t *testing.T) {
	spec := decode(t, sixPoints)
	m := NewManifest(spec, Shard{2, 4}, 1, testVersion)
	m.SetFiles(map[string][]byte{ResultsJSONL: []byte("x")})
	var back Manifest
	if err := json.Unmarshal(m.Encode(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Differs(m) != "" || back.Points != 1 || back.Files[ResultsJSONL] != m.Files[ResultsJSONL] {
		t.Errorf("round trip: %+v, want %+v", back, m)
	}
	if !strings.Contains(string(m.Encode()), `"shard": "2/4"`) {
		t.Errorf("shard.json:\n%s", m.Encode())
	}
	if v := BuildVersion(); v.Module == "" {
		t.Errorf("BuildVersion() = %+v", v)
	}
}

// TestLoadPart: a folder is accepted only when its files match its manifest.
func TestLoadPart(t *testing.T) {
	spec := decode(t, sixPoints)
	cases := []struct {
		name  string
		spoil func(dir string) error
		want  string // "" for no error
	}{
		{"whole", func(string) error { return nil }, ""},
		{"no manifest", func(dir string) error { return os.Remove(filepath.Join(dir, ManifestFile)) }, "no shard.json"},
		{"truncated results", func(dir string) error { return os.Truncate(filepath.Join(dir, ResultsJSONL), 10) }, "results.jsonl does not match shard.json"},
		{"results gone", func(dir string) error { return os.Remove(filepath.Join(dir, ResultsJSONL)) }, "(named by shard.json)"},
		{"garbled manifest", func(dir string) error { return os.WriteFile(filepath.Join(dir, ManifestFile), []byte("{"), 0o644) }, "shard.json: unexpected EOF"},
		{"unknown field", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, ManifestFile), []byte(`{"sweep_sha256": "x", "extra": 1}`), 0o644)
		}, `unknown field "extra"`},
		{"a file outside", func(dir string) error {
			return editManifest(dir, func(m *Manifest) { m.Files["../x"] = "y" })
		}, `file "../x" is not in the folder`},
		{"wrong count", func(dir string) error { return editManifest(dir, func(m *Manifest) { m.Points = 5 }) }, "2 results, shard.json says 5"},
		{"another shard's points", func(dir string) error { return editManifest(dir, func(m *Manifest) { m.Shard = Shard{0, 4} }) }, "point 1 of 6 is not in shard 0/4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "shard-1")
			writePart(t, dir, spec, Shard{1, 3}, testVersion)
			if err := tc.spoil(dir); err != nil {
				t.Fatal(err)
			}
			p, err := LoadPart(dir)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("LoadPart: %v", err)
			case tc.want == "":
				if len(p.Results) != 2 || p.Results[0].Point != 1 || p.Results[1].Point != 4 {
					t.Errorf("results %+v", p.Results)
				}
			case err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), dir+": "):
				t.Errorf("LoadPart: %v, want an error starting with %s and containing %q", err, dir, tc.want)
			}
		})
	}
}

func editManifest(dir string, edit func(*Manifest)) error {
	path := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	edit(&m)
	return os.WriteFile(path, m.Encode(), 0o644)
}

// TestMergeParts: a set of folders merges only when it is every shard of
// one sweep, once, from one tandem build; otherwise the error names the
// folder and what is wrong with it.
func TestMergeParts(t *testing.T) {
	spec := decode(t, sixPoints)
	other := decode(t, strings.Replace(sixPoints, "6]", "7]", 1))
	sameLen := decode(t, strings.Replace(sixPoints, "name: six", "name: six-again", 1))
	type part struct {
		name string
		spec *Spec
		sh   Shard
		v    Version
	}
	p := func(name string, i, n int) part { return part{name, spec, Shard{i, n}, testVersion} }
	cases := []struct {
		name  string
		parts []part
		want  string
	}{
		{"three of three", []part{p("c", 2, 3), p("a", 0, 3), p("b", 1, 3)}, ""},
		{"whole", []part{p("w", 0, 1)}, ""},
		{"missing", []part{p("a", 0, 3), p("c", 2, 3)}, "shard 1/3 of sweep six is missing"},
		{"twice", []part{p("a", 0, 3), p("b", 1, 3), p("b2", 1, 3), p("c", 2, 3)}, "/b and "},
		{"another count", []part{p("a", 0, 3), p("b", 1, 2)}, "/b: shard 1/2, of 2 shards, not 3"},
		{"another sweep", []part{p("a", 0, 2), {"b", other, Shard{1, 2}, testVersion}}, "/b: another sweep file (sha256 "},
		{"another file of as many points", []part{p("a", 0, 2), {"b", sameLen, Shard{1, 2}, testVersion}}, "/b: another sweep file (sha256 "},
		{"another build", []part{p("a", 0, 2), {"b", spec, Shard{1, 2}, Version{Module: testVersion.Module, Revision: "def", Modified: true}}},
			"/b: written by tandem github.com/tandem-edge/tandem@v1.0.0 def (modified), not github.com/tandem-edge/tandem@v1.0.0 abc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			var parts []*Part
			for _, pt := range tc.parts {
				dir := filepath.Join(root, pt.name)
				writePart(t, dir, pt.spec, pt.sh, pt.v)
				loaded, err := LoadPart(dir)
				if err != nil {
					t.Fatal(err)
				}
				parts = append(parts, loaded)
			}
			results, m, err := MergeParts(parts)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("MergeParts: %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			whole := NewManifest(spec, All, 6, testVersion)
			if len(results) != 6 || m.Differs(whole) != "" || m.Points != 6 {
				t.Errorf("merged %d results, manifest %+v", len(results), m)
			}
		})
	}
	if _, _, err := MergeParts(nil); err == nil {
		t.Error("MergeParts(nil): no error")
	}
}
