package bundles

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"github.com/tandem-edge/tandem/scenarios/strictyaml"
)

// The files of a bundle folder.
const (
	ManifestFile       = "bundle.yaml"
	OutcomesFile       = "outcomes.csv"
	OffloaderFile      = "offloader.json"       // optional: the learned offloader
	CompressReportFile = "compress-report.json" // the report of the compression that made edge.onnx
	OffloadReportFile  = "offload-report.json"  // optional: the report of the offloader's training
)

// The models of a bundle, as Bundle.ReadModel names them.
const (
	ModelHeavy = "heavy"
	ModelEdge  = "edge"
)

// Manifest is bundle.yaml: what the bundle holds and how it was made.
//
//	name: fashion
//	dataset: fashion-mnist
//	input_shape: [1, 28, 28]
//	classes: 10
//	class_names: [T-shirt/top, Trouser, ...]
//	models:
//	  heavy: {file: heavy.onnx, sha256: 9c1e..., params: 431080, flops: 4620000, accuracy: 0.91}
//	  edge:  {file: edge.onnx,  sha256: 52ab..., params: 61210,  flops: 700000,  accuracy: 0.87}
//	provenance:                # free-form: whatever reproduces the bundle
//	  commands: [tandem train ..., tandem compress ..., tandem offload train ...]
//	  seeds: {train: 1, compress: 1}
//	  date: "2025-06-01"
//	  tandem: v0.1.0
type Manifest struct {
	Name       string         `yaml:"name"`
	Dataset    string         `yaml:"dataset"`               // the dataset the held-out samples come from
	InputShape []int          `yaml:"input_shape"`           // one sample's shape, without the batch axis
	Classes    int            `yaml:"classes"`               // number of classes, >= 2
	ClassNames []string       `yaml:"class_names,omitempty"` // one per class when given
	Models     Models         `yaml:"models"`
	Provenance map[string]any `yaml:"provenance,omitempty"` // commands, seeds, date, tandem version: free-form
}

// Models are the bundle's two models.
type Models struct {
	Heavy ModelInfo `yaml:"heavy"` // the cloud's full model
	Edge  ModelInfo `yaml:"edge"`  // the edge's compressed model
}

// ModelInfo describes one model file of the bundle.
type ModelInfo struct {
	File   string `yaml:"file"`   // path inside the bundle folder
	SHA256 string `yaml:"sha256"` // of the file, checked when it is read
	// GraphSHA256 is the file's onnx.GraphDigest (the model without its
	// weights): a device profile measured on another file with this
	// digest times this one. Empty in bundles built before it existed.
	GraphSHA256 string  `yaml:"graph_sha256,omitempty"`
	Params      int64   `yaml:"params"`   // trainable parameters
	FLOPs       int64   `yaml:"flops"`    // per sample
	Accuracy    float64 `yaml:"accuracy"` // on the held-out samples of outcomes.csv
}

// DecodeManifest decodes and validates a bundle.yaml; name is for messages.
func DecodeManifest(name string, b []byte) (*Manifest, error) {
	var m Manifest
	doc, err := strictyaml.Decode(name, b, &m)
	if err != nil {
		return nil, err
	}
	c := strictyaml.NewChecker(doc)
	m.check(c)
	if err := c.Err(); err != nil {
		return nil, err
	}
	return &m, nil
}

// EncodeManifest writes m as a bundle.yaml, after validating it.
func EncodeManifest(m *Manifest) ([]byte, error) {
	c := strictyaml.NewChecker(nil)
	m.check(c)
	if err := c.Err(); err != nil {
		return nil, fmt.Errorf("bundles: bundle %q: %w", m.Name, err)
	}
	b, err := strictyaml.Marshal(m, strictyaml.EncodeOptions{})
	if err != nil {
		return nil, fmt.Errorf("bundles: bundle %q: %w", m.Name, err)
	}
	return b, nil
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (m *Manifest) check(c *strictyaml.Checker) {
	if strings.TrimSpace(m.Name) == "" {
		c.Errorf("name", "required: the bundle's name")
	}
	if strings.TrimSpace(m.Dataset) == "" {
		c.Errorf("dataset", "required: the dataset the held-out samples come from")
	}
	if len(m.InputShape) == 0 {
		c.Errorf("input_shape", "required: one sample's shape, e.g. [1, 28, 28]")
	}
	for i, d := range m.InputShape {
		if d <= 0 {
			c.Errorf(fmt.Sprintf("input_shape[%d]", i), "must be > 0, got %d", d)
		}
	}
	if m.Classes < 2 {
		c.Errorf("classes", "must be >= 2, got %d", m.Classes)
	}
	if m.ClassNames != nil && len(m.ClassNames) != m.Classes {
		c.Errorf("class_names", "%d names for %d classes", len(m.ClassNames), m.Classes)
	}
	for _, x := range []struct {
		key string
		m   *ModelInfo
	}{{"models.heavy", &m.Models.Heavy}, {"models.edge", &m.Models.Edge}} {
		switch {
		case x.m.File == "":
			c.Errorf(x.key+".file", "required: the model's file in the bundle folder")
		case !fs.ValidPath(x.m.File) || x.m.File == ".":
			c.Errorf(x.key+".file", "want a path inside the bundle folder, got %q", x.m.File)
		}
		if !sha256Hex.MatchString(x.m.SHA256) {
			c.Errorf(x.key+".sha256", "want 64 lower-case hex digits, got %q", x.m.SHA256)
		}
		if x.m.GraphSHA256 != "" && !sha256Hex.MatchString(x.m.GraphSHA256) {
			c.Errorf(x.key+".graph_sha256", "want 64 lower-case hex digits, got %q", x.m.GraphSHA256)
		}
		if x.m.Params < 0 {
			c.Errorf(x.key+".params", "must be >= 0, got %d", x.m.Params)
		}
		if x.m.FLOPs < 0 {
			c.Errorf(x.key+".flops", "must be >= 0, got %d", x.m.FLOPs)
		}
		if !(x.m.Accuracy >= 0 && x.m.Accuracy <= 1) {
			c.Errorf(x.key+".accuracy", "must be from 0 to 1, got %g", x.m.Accuracy)
		}
	}
}
