package build

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
	"github.com/tandem-edge/tandem/dnn/onnx"
)

// Config describes a bundle to build.
type Config struct {
	Name    string // bundle name, e.g. "fashion"
	Dataset string // data.Load name or path
	Split   data.SplitConfig
	Heavy   ModelSpec
	Edge    ModelSpec
	// EdgeNote says what the edge model is, for the provenance (e.g. that
	// it is uniformly width-reduced rather than compressed).
	EdgeNote string
	// CompressReport, when set, is the report.json of the tandem compress
	// run that made the edge model: the bundle keeps it as
	// compress-report.json and records its method, budget or target and
	// command.
	CompressReport []byte
	Command        string // the command line that asked for the build, recorded verbatim
	Out            string // the bundle folder to write

	// Offloader sets how the bundle's offloader is trained on the
	// validation split once both models are.
	Offloader offload.TrainConfig

	Log      io.Writer                  // one line per stage; nil: quiet
	Progress func(string, dnn.Progress) // training progress of the model named; nil: none
}

// Build trains both models, evaluates them on the test split, trains the
// offloader on the validation split and writes the bundle: bundle.yaml,
// heavy.onnx, edge.onnx, outcomes.csv, offloader.json and
// offload-report.json. The folder is written only once everything has
// succeeded.
func Build(cfg Config) (*bundles.Manifest, error) {
	logf(cfg.Log, "loading %s", cfg.Dataset)
	ds, err := data.Load(cfg.Dataset, data.Options{})
	if err != nil {
		return nil, err
	}
	splits, err := ds.Split(cfg.Split)
	if err != nil {
		return nil, err
	}
	classes := classCount(ds)
	logf(cfg.Log, "%s: %d train, %d validation, %d test samples of shape %v, %d classes",
		cfg.Dataset, splits.Train.Len(), splits.Val.Len(), splits.Test.Len(), splits.Train.Shape, classes)

	models := map[string]*dnn.Graph{}
	results := map[string]*dnn.TrainResult{}
	taken := map[string][]byte{} // the files of models taken as they are, kept byte for byte
	for _, m := range []struct {
		name string
		spec ModelSpec
	}{{bundles.ModelHeavy, cfg.Heavy}, {bundles.ModelEdge, cfg.Edge}} {
		if m.spec.File != "" {
			g, raw, err := importModel(m.spec.File, splits, classes)
			if err != nil {
				return nil, fmt.Errorf("%s model: %w", m.name, err)
			}
			models[m.name], taken[m.name] = g, raw
			logf(cfg.Log, "%s: taken from %s", m.name, m.spec.File)
			continue
		}
		logf(cfg.Log, "training %s: %s width %g, %d epochs", m.name, m.spec.Arch, orOne(m.spec.Width), m.spec.Train.Epochs)
		var progress func(dnn.Progress)
		if cfg.Progress != nil {
			name := m.name
			progress = func(p dnn.Progress) { cfg.Progress(name, p) }
		}
		g, res, err := TrainModel(m.spec, splits, classes, progress)
		if err != nil {
			return nil, fmt.Errorf("train %s model: %w", m.name, err)
		}
		g.Name = cfg.Name + "-" + m.name
		models[m.name], results[m.name] = g, res
		logf(cfg.Log, "%s: validation accuracy %.4f after %.0f s", m.name, res.ValAccuracy, res.Seconds)
	}

	logf(cfg.Log, "evaluating both models on %d test samples", splits.Test.Len())
	heavyAcc, heavyPred, _, err := dnn.Evaluate(models[bundles.ModelHeavy], splits.Test, 0)
	if err != nil {
		return nil, err
	}
	edgeAcc, edgePred, edgeLogits, err := dnn.Evaluate(models[bundles.ModelEdge], splits.Test, 0)
	if err != nil {
		return nil, err
	}
	outcomes := Outcomes(splits.Test, classes, heavyPred, edgePred, edgeLogits)

	logf(cfg.Log, "running both models on %d validation samples for the offloader", splits.Val.Len())
	valSamples, err := ValidationSamples(models[bundles.ModelHeavy], models[bundles.ModelEdge], splits.Val)
	if err != nil {
		return nil, err
	}
	off, offReport, err := trainAndReport(valSamples, offload.FromOutcomes(outcomes), len(outcomes), cfg.Dataset, cfg.Split, OffloaderConfig{Train: cfg.Offloader, Log: cfg.Log})
	switch {
	case errors.Is(err, offload.ErrNothingToLearn):
		// The edge model never errs where the cloud would not: a
		// bundle without an offloader says so rather than ship one that
		// learned nothing.
		logf(cfg.Log, "no offloader: %v", err)
	case err != nil:
		return nil, fmt.Errorf("offloader: %w", err)
	}

	m := &bundles.Manifest{
		Name:       cfg.Name,
		Dataset:    cfg.Dataset,
		InputShape: splits.Test.Shape,
		Classes:    classes,
		ClassNames: classNames(cfg.Dataset, classes),
	}
	files := map[string][]byte{}
	for _, e := range []struct {
		which string
		info  *bundles.ModelInfo
		acc   float64
	}{{bundles.ModelHeavy, &m.Models.Heavy, heavyAcc}, {bundles.ModelEdge, &m.Models.Edge, edgeAcc}} {
		g := models[e.which]
		// A model taken from a file stays that file, so that profiles
		// measured on it (matched by SHA-256) still apply.
		b, ok := taken[e.which]
		if !ok {
			g.Meta["test_accuracy"] = fmt.Sprintf("%.4f", e.acc)
			if b, err = onnx.Encode(g); err != nil {
				return nil, fmt.Errorf("export %s model: %w", e.which, err)
			}
		}
		flops, err := g.FLOPs()
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		graph, err := onnx.GraphDigest(b)
		if err != nil {
			return nil, fmt.Errorf("%s model: %w", e.which, err)
		}
		file := e.which + ".onnx"
		*e.info = bundles.ModelInfo{File: file, SHA256: hex.EncodeToString(sum[:]), GraphSHA256: graph,
			Params: g.Params(), FLOPs: flops, Accuracy: e.acc}
		files[file] = b
		logf(cfg.Log, "%s: test accuracy %.4f, %d params, %.2f MFLOPs", e.which, e.acc, g.Params(), float64(flops)/1e6)
	}
	var oc bytes.Buffer
	if err := bundles.WriteOutcomes(&oc, outcomes); err != nil {
		return nil, err
	}
	files[bundles.OutcomesFile] = oc.Bytes()
	m.Provenance = provenance(cfg, results, models)
	inherit(m, cfg.Out, taken)
	if cfg.CompressReport != nil {
		cp, err := compressProvenance(cfg.CompressReport, models[bundles.ModelEdge])
		if err != nil {
			return nil, err
		}
		m.Provenance["compress"] = cp
		files[bundles.CompressReportFile] = cfg.CompressReport
	}
	if off != nil {
		offFiles, err := OffloaderFiles(off, offReport)
		if err != nil {
			return nil, err
		}
		maps.Copy(files, offFiles)
		m.Provenance["offloader"] = offloaderProvenance(off, cfg.Command)
	} else {
		m.Provenance["offloader"] = "none: on the validation split the edge model is never wrong where the heavy model is right"
	}
	mb, err := bundles.EncodeManifest(m)
	if err != nil {
		return nil, err
	}
	files[bundles.ManifestFile] = mb
	if err := writeFolder(cfg.Out, files); err != nil {
		return nil, err
	}
	logf(cfg.Log, "wrote %s", cfg.Out)
	return m, nil
}

// importModel reads an ONNX model for the bundle and checks that it fits
// the dataset: its input shape and its classes. It returns the file's bytes
// too.
func importModel(path string, splits *data.Splits, classes int) (*dnn.Graph, []byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	g, err := onnx.Decode(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if !slices.Equal(g.InputShape, splits.Test.Shape) {
		return nil, nil, fmt.Errorf("%s takes inputs of shape %v; the dataset's are %v", path, g.InputShape, splits.Test.Shape)
	}
	if g.Classes != classes {
		return nil, nil, fmt.Errorf("%s gives %d classes; the dataset has %d", path, g.Classes, classes)
	}
	return g, raw, nil
}

// Outcomes pairs both models' predictions on every test sample with the
// edge model's logits and the features the offloader reads.
func Outcomes(test *data.Set, classes int, heavyPred, edgePred []int32, edgeLogits []float32) []bundles.Outcome {
	out := make([]bundles.Outcome, test.Len())
	for i := range out {
		logits := edgeLogits[i*classes : (i+1)*classes]
		mp, margin, ent := offload.Features(logits)
		out[i] = bundles.Outcome{Sample: i, Label: int(test.Y[i]), EdgePred: int(edgePred[i]), CloudPred: int(heavyPred[i]),
			MaxProb: mp, Margin: margin, Entropy: ent, Logits: logits}
	}
	return out
}

func provenance(cfg Config, res map[string]*dnn.TrainResult, models map[string]*dnn.Graph) map[string]any {
	p := map[string]any{
		"command":      cfg.Command,
		"built":        time.Now().UTC().Format(time.RFC3339),
		"go":           runtime.Version(),
		"gemm_backend": dnn.GEMMName(),
		"split":        map[string]any{"val": cfg.Split.Val, "test": cfg.Split.Test, "seed": cfg.Split.Seed},
		"test_samples": "the dataset's official test set when it has one, else the held-out test split",
	}
	for name, spec := range map[string]ModelSpec{bundles.ModelHeavy: cfg.Heavy, bundles.ModelEdge: cfg.Edge} {
		r := res[name]
		if r == nil {
			q := map[string]any{"file": spec.File, "trained": "elsewhere: taken as it is"}
			// What the model says of itself, when tandem made it: the
			// architecture, seed and training or compression that did.
			if meta := models[name].Meta; meta != nil {
				for _, k := range []string{"arch", "seed", "val_accuracy", "test_accuracy", "train_seconds", "compress_method", "command"} {
					if v, ok := meta[k]; ok {
						q[k] = v
					}
				}
				if w, err := strconv.ParseFloat(meta["width"], 64); err == nil {
					q["width"] = w
				}
			}
			p[name] = q
			continue
		}
		p[name] = map[string]any{
			"arch": spec.Arch, "width": orOne(spec.Width), "init_seed": spec.Seed,
			"train_seed": spec.Train.Seed, "epochs": len(r.Epochs), "train_seconds": round(r.Seconds, 1),
			"val_accuracy": round(r.ValAccuracy, 4),
		}
	}
	if cfg.EdgeNote != "" {
		p["edge_note"] = cfg.EdgeNote
	}
	return p
}

// inherit keeps what the bundle being replaced at out recorded of a model
// taken from a file that is byte for byte the model it had (the same
// SHA-256): a file carries the command and commit that made it only when
// tandem wrote them in, and rebuilding a bundle around the same heavy model
// must not lose how that model was trained.
func inherit(m *bundles.Manifest, out string, taken map[string][]byte) {
	raw, err := os.ReadFile(filepath.Join(out, bundles.ManifestFile))
	if err != nil {
		return
	}
	old, err := bundles.DecodeManifest(out, raw)
	if err != nil {
		return
	}
	for name, info := range map[string][2]bundles.ModelInfo{
		bundles.ModelHeavy: {old.Models.Heavy, m.Models.Heavy},
		bundles.ModelEdge:  {old.Models.Edge, m.Models.Edge},
	} {
		if _, ok := taken[name]; !ok || info[0].SHA256 != info[1].SHA256 {
			continue
		}
		was, _ := old.Provenance[name].(map[string]any)
		now, _ := m.Provenance[name].(map[string]any)
		if was == nil || now == nil {
			continue
		}
		for k, v := range was {
			if _, ok := now[k]; !ok {
				now[k] = v
			}
		}
	}
}

// compressProvenance checks that a compression report made the edge model
// and returns what the provenance records of it.
func compressProvenance(raw []byte, edge *dnn.Graph) (map[string]any, error) {
	var rep struct {
		Command string          `json:"command"`
		Best    string          `json:"best"`
		Budget  json.RawMessage `json:"budget"`
		Target  json.RawMessage `json:"target"`
		Methods []struct {
			Method string    `json:"method"`
			Params int64     `json:"params"`
			Keep   []float64 `json:"keep"`
		} `json:"methods"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, fmt.Errorf("compress report: %w", err)
	}
	if method := edge.Meta["compress_method"]; method != rep.Best {
		return nil, fmt.Errorf("compress report: its chosen method is %q, the edge model was made by %q", rep.Best, method)
	}
	for _, m := range rep.Methods {
		if m.Method != rep.Best {
			continue
		}
		if m.Params != edge.Params() {
			return nil, fmt.Errorf("compress report: method %s's model has %d parameters, the edge model %d", m.Method, m.Params, edge.Params())
		}
		p := map[string]any{"method": m.Method, "keep": m.Keep, "command": rep.Command, "report": bundles.CompressReportFile}
		var budget, target any
		if json.Unmarshal(rep.Budget, &budget) == nil && budget != nil {
			p["budget"] = budget
		}
		if json.Unmarshal(rep.Target, &target) == nil && target != nil {
			p["target"] = target
		}
		return p, nil
	}
	return nil, fmt.Errorf("compress report: no line for its chosen method %q", rep.Best)
}

// writeFolder writes files into a fresh temporary folder beside dir, then
// swaps it in, so that a failed build leaves the previous bundle intact.
func writeFolder(dir string, files map[string][]byte) error {
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".*")
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes it private
		os.RemoveAll(tmp)
		return err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			os.RemoveAll(tmp)
			return err
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	return os.Rename(tmp, dir)
}

func classCount(ds *data.Dataset) int {
	n := ds.Train.Classes
	if ds.Test != nil && ds.Test.Classes > n {
		n = ds.Test.Classes
	}
	return n
}

// classNames are the label names of the built-in datasets.
func classNames(dataset string, classes int) []string {
	switch {
	case dataset == data.FashionMNIST && classes == 10:
		return []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
	case dataset == data.MNIST && classes == 10:
		return []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	}
	return nil
}

func orOne(w float64) float64 {
	if w == 0 {
		return 1
	}
	return w
}

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}
