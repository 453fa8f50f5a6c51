package scenarios

import (
	"strings"
	"testing"

	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/profiles"
)

// A bundle's model takes the profile measured on its file or, failing
// that, on a file of the same graph with other weights; never another's.
func TestProfileOf(t *testing.T) {
	hex := func(c byte) string { return strings.Repeat(string(c), 64) }
	d := &profiles.Device{Name: "board", Models: []profiles.Model{
		{Name: "app/edge", SHA256: hex('1'), GraphSHA256: hex('a')},
		{Name: "app/heavy", SHA256: hex('2'), GraphSHA256: hex('b')},
		{Name: "old/edge", SHA256: hex('3')},
	}}
	b := &bundles.Bundle{Manifest: bundles.Manifest{Name: "app"}}
	tests := []struct {
		name        string
		sha, graph  string
		want, error string
	}{
		{"the file measured", hex('1'), "", "app/edge", ""},
		{"the file, whatever its graph says", hex('2'), hex('a'), "app/heavy", ""},
		{"other weights of a measured graph", hex('4'), hex('a'), "app/edge", ""},
		{"another graph", hex('4'), hex('c'), "", "graph_sha256 cccccccccccc…"},
		{"no graph digest to go by", hex('4'), "", "", "has no measurement of bundle app's edge model"},
	}
	for _, tc := range tests {
		m, err := profileOf(d, b, "edge", &bundles.ModelInfo{File: "edge.onnx", SHA256: tc.sha, GraphSHA256: tc.graph})
		switch {
		case tc.error != "":
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Errorf("%s: err = %v, want %q", tc.name, err, tc.error)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case m.Name != tc.want:
			t.Errorf("%s: profile of %s, want %s", tc.name, m.Name, tc.want)
		}
	}
}
