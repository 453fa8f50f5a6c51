package bundles

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var (
	heavyONNX = []byte("not really onnx: heavy")
	edgeONNX  = []byte("not really onnx: edge")
)

func testManifest() string {
	return `name: tiny
dataset: synthetic
input_shape: [1, 4, 4]
classes: 3
class_names: [a, b, c]
models:
  heavy: {file: heavy.onnx, sha256: ` + sum(heavyONNX) + `, params: 1000, flops: 20000, accuracy: 0.9}
  edge: {file: edge.onnx, sha256: ` + sum(edgeONNX) + `, params: 100, flops: 2000, accuracy: 0.8}
provenance:
  commands: [tandem train --seed 1]
  seeds: {train: 1}
  date: "2025-01-01"
  tandem: test
`
}

// tinyBundle writes a valid three-class bundle and returns its files, so a
// test can spoil one of them.
func tinyBundle(t *testing.T) map[string][]byte {
	t.Helper()
	var outcomes bytes.Buffer
	if err := WriteOutcomes(&outcomes, randomOutcomes(20, 3, 2)); err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		ManifestFile:       []byte(testManifest()),
		"heavy.onnx":       heavyONNX,
		"edge.onnx":        edgeONNX,
		OutcomesFile:       outcomes.Bytes(),
		CompressReportFile: []byte(`{"budget": {}, "methods": []}`),
	}
}

func writeBundle(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		if b == nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoad(t *testing.T) {
	dir := writeBundle(t, tinyBundle(t))
	b, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != "tiny" || b.Classes != 3 || len(b.Outcomes) != 20 || b.Dir != dir || b.Ref != dir {
		t.Errorf("loaded %+v", b)
	}
	if !reflect.DeepEqual(b.Outcomes, randomOutcomes(20, 3, 2)) {
		t.Error("outcomes differ from those written")
	}
	if b.Provenance["tandem"] != "test" || b.Models.Edge.Params != 100 {
		t.Errorf("manifest %+v", b.Manifest)
	}
	if got := b.InputBytes(); got != 64 {
		t.Errorf("InputBytes() = %d, want 4*16", got)
	}
	if raw, err := b.ReadModel(ModelEdge); err != nil || !bytes.Equal(raw, edgeONNX) {
		t.Errorf("ReadModel(edge) = %q, %v", raw, err)
	}
	if p, ok := b.ModelPath(ModelHeavy); !ok || p != filepath.Join(dir, "heavy.onnx") {
		t.Errorf("ModelPath(heavy) = %q, %v", p, ok)
	}
	if _, err := b.Offloader(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Offloader() of a bundle without one: %v, want fs.ErrNotExist", err)
	}
	if !b.Has(CompressReportFile) || b.Has(OffloadReportFile) {
		t.Error("Has is wrong about the reports")
	}
	if _, err := b.ReadModel("medium"); err == nil {
		t.Error("ReadModel(medium) succeeded")
	}
}

func TestLoadFS(t *testing.T) {
	mfs := fstest.MapFS{}
	for name, b := range tinyBundle(t) {
		mfs["bundles/tiny/"+name] = &fstest.MapFile{Data: b}
	}
	b, err := LoadFS(mfs, "bundles/tiny")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.ModelPath(ModelEdge); ok || b.Dir != "" {
		t.Error("an fs.FS bundle claims a path on disk")
	}
	if _, err := b.ReadModel(ModelHeavy); err != nil {
		t.Error(err)
	}
}

func TestLoadErrors(t *testing.T) {
	spoil := func(name string, b []byte) map[string][]byte {
		files := tinyBundle(t)
		files[name] = b
		return files
	}
	cases := []struct {
		name  string
		files map[string][]byte
		want  string // with DIR for the bundle folder
	}{
		{"no manifest", spoil(ManifestFile, nil), "bundles: DIR/bundle.yaml: no such file or directory"},
		{"no outcomes", spoil(OutcomesFile, nil), "bundles: DIR/outcomes.csv: no such file or directory"},
		{"no model", spoil("edge.onnx", nil), "bundles: DIR/bundle.yaml: model file DIR/edge.onnx: no such file or directory"},
		{"unknown key", spoil(ManifestFile, []byte(strings.Replace(testManifest(), "dataset:", "datset:", 1))),
			`DIR/bundle.yaml:2:1: datset: unknown key; did you mean "dataset"?`},
		{"bad sha", spoil(ManifestFile, []byte(strings.Replace(testManifest(), sum(edgeONNX), "abc", 1))),
			`DIR/bundle.yaml:8:35: models.edge.sha256: want 64 lower-case hex digits, got "abc"`},
		{"class names", spoil(ManifestFile, []byte(strings.Replace(testManifest(), "[a, b, c]", "[a, b]", 1))),
			`DIR/bundle.yaml:5:14: class_names: 2 names for 3 classes`},
		{"zero dimension", spoil(ManifestFile, []byte(strings.Replace(testManifest(), "[1, 4, 4]", "[1, 0, 4]", 1))),
			`DIR/bundle.yaml:3:18: input_shape[1]: must be > 0, got 0`},
		{"accuracy", spoil(ManifestFile, []byte(strings.Replace(testManifest(), "accuracy: 0.9}", "accuracy: 90}", 1))),
			`DIR/bundle.yaml:7:`},
		{"model outside", spoil(ManifestFile, []byte(strings.Replace(testManifest(), "file: heavy.onnx", "file: ../heavy.onnx", 1))),
			`DIR/bundle.yaml:7:17: models.heavy.file: want a path inside the bundle folder, got "../heavy.onnx"`},
		{"classes and logits", spoil(ManifestFile, []byte(strings.Replace(strings.Replace(testManifest(), "classes: 3", "classes: 4", 1), "[a, b, c]", "[a, b, c, d]", 1))),
			"DIR/outcomes.csv:1: 3 logit columns, but DIR/bundle.yaml says classes: 4"},
		{"bad outcome", spoil(OutcomesFile, []byte("sample,label,edge_pred,cloud_pred,max_prob,margin,entropy,logit_0,logit_1,logit_2\n0,7,0,0,1,1,0,1,2,3\n")),
			"DIR/outcomes.csv:2: label: must be from 0 to 2, got 7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeBundle(t, tc.files)
			_, err := Load(dir)
			want := strings.ReplaceAll(tc.want, "DIR", dir)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Load: %v\nwant %q", err, want)
			}
		})
	}
}

func TestReadModelChecksSum(t *testing.T) {
	files := tinyBundle(t)
	dir := writeBundle(t, files)
	b, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "edge.onnx"), []byte("retrained"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = b.ReadModel(ModelEdge)
	if err == nil || !strings.Contains(err.Error(), "edge.onnx: sha256 "+sum([]byte("retrained"))+", but") {
		t.Errorf("ReadModel of a changed file: %v", err)
	}
}

func TestLoadMissing(t *testing.T) {
	if _, err := Load("builtin:nope"); err == nil || !strings.HasPrefix(err.Error(), `bundles: no built-in bundle "nope" (built-ins: `) {
		t.Errorf("Load(builtin:nope) = %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "nope")); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing folder) = %v", err)
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := Load(f); err == nil || !strings.HasSuffix(err.Error(), "is not a bundle folder") {
		t.Errorf("Load(file) = %v", err)
	}
}

func TestManifestRoundTrip(t *testing.T) {
	m, err := DecodeManifest("bundle.yaml", []byte(testManifest()))
	if err != nil {
		t.Fatal(err)
	}
	out, err := EncodeManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeManifest("bundle.yaml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !reflect.DeepEqual(m, back) {
		t.Errorf("round trip changed the manifest:\n%+v\n%+v", m, back)
	}
	m.Classes = 1
	if _, err := EncodeManifest(m); err == nil {
		t.Error("EncodeManifest accepted one class")
	}
}

// TestBuiltinsEmbedded fails when a bundle folder sits in bundles/ but is
// not on builtin.go's embed line, and checks that each built-in loads.
func TestBuiltinsEmbedded(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(e.Name(), ManifestFile)); e.IsDir() && err == nil && !slices.Contains(Builtins(), e.Name()) {
			t.Errorf("bundle folder %s/ is not embedded: add it to the //go:embed line in builtin.go", e.Name())
		}
	}
	for _, name := range Builtins() {
		b, err := Load("builtin:" + name)
		if err != nil {
			t.Errorf("builtin:%s: %v", name, err)
			continue
		}
		for _, m := range []string{ModelHeavy, ModelEdge} {
			if _, err := b.ReadModel(m); err != nil {
				t.Errorf("builtin:%s: %v", name, err)
			}
		}
	}
}
