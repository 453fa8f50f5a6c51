package build

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/tandem-edge/tandem/agents/offload"
	"github.com/tandem-edge/tandem/bundles"
	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
	"github.com/tandem-edge/tandem/dnn/onnx"
)

// OffloaderConfig says how to train a bundle's offloader.
type OffloaderConfig struct {
	// Dataset is the data.Load name or path of the dataset the bundle was
	// built from; empty: the bundle's own dataset.
	Dataset string
	// Split is the split the bundle's models were trained with; nil: the
	// one its provenance records.
	Split *data.SplitConfig
	Train offload.TrainConfig
	Log   io.Writer // one line per stage; nil: quiet
}

// ValidationSamples runs both models on the validation set and returns what
// the offloader learns from: the edge model's output on each sample and
// whether each model was right. The validation samples took no part in
// training either model's weights, and the bundle's outcomes (the test set)
// take no part in training the offloader.
func ValidationSamples(heavy, edge *dnn.Graph, val *data.Set) ([]offload.Sample, error) {
	if val.Len() == 0 {
		return nil, fmt.Errorf("no validation samples: the split holds none out for validation")
	}
	outs, err := pairOutcomes(heavy, edge, val, "validation")
	if err != nil {
		return nil, err
	}
	return offload.FromOutcomes(outs), nil
}

// pairOutcomes runs both models on set (named what, for messages) and
// returns their outcomes, as outcomes.csv holds them.
func pairOutcomes(heavy, edge *dnn.Graph, set *data.Set, what string) ([]bundles.Outcome, error) {
	_, heavyPred, _, err := dnn.Evaluate(heavy, set, 0)
	if err != nil {
		return nil, fmt.Errorf("heavy model on the %s set: %w", what, err)
	}
	_, edgePred, edgeLogits, err := dnn.Evaluate(edge, set, 0)
	if err != nil {
		return nil, fmt.Errorf("edge model on the %s set: %w", what, err)
	}
	return Outcomes(set, len(edgeLogits)/set.Len(), heavyPred, edgePred, edgeLogits), nil
}

// decodeModels decodes bundle b's heavy and edge models.
func decodeModels(b *bundles.Bundle) (heavy, edge *dnn.Graph, err error) {
	var g [2]*dnn.Graph
	for i, which := range []string{bundles.ModelHeavy, bundles.ModelEdge} {
		raw, err := b.ReadModel(which)
		if err != nil {
			return nil, nil, err
		}
		if g[i], err = onnx.Decode(raw); err != nil {
			return nil, nil, fmt.Errorf("bundle %s: %s model: %w", b.Name, which, err)
		}
	}
	return g[0], g[1], nil
}

// TrainOffloader trains an offloader for bundle b on the validation split of
// its dataset and reports it on the bundle's held-out outcomes.
func TrainOffloader(b *bundles.Bundle, cfg OffloaderConfig) (*offload.Offloader, *offload.Report, error) {
	name := cfg.Dataset
	if name == "" {
		name = b.Dataset
	}
	split := cfg.Split
	if split == nil {
		var err error
		if split, err = recordedSplit(b); err != nil {
			return nil, nil, err
		}
	}
	logf(cfg.Log, "loading %s", name)
	ds, err := data.Load(name, data.Options{})
	if err != nil {
		return nil, nil, err
	}
	splits, err := ds.Split(*split)
	if err != nil {
		return nil, nil, err
	}
	heavy, edge, err := decodeModels(b)
	if err != nil {
		return nil, nil, err
	}
	logf(cfg.Log, "running both models on %d validation samples", splits.Val.Len())
	if note := OtherKernels(b); note != "" {
		logf(cfg.Log, "note: %s", note)
	}
	samples, err := ValidationSamples(heavy, edge, splits.Val)
	if err != nil {
		return nil, nil, fmt.Errorf("bundle %s: %w", b.Name, err)
	}
	if len(b.Outcomes) > 0 && len(b.Outcomes[0].Logits) != len(samples[0].Logits) {
		return nil, nil, fmt.Errorf("bundle %s: its outcomes have %d logits a sample, its edge model gives %d on %s",
			b.Name, len(b.Outcomes[0].Logits), len(samples[0].Logits), name)
	}
	test := offload.FromOutcomes(b.Outcomes)
	if cfg.Train.Embedding {
		logf(cfg.Log, "running the edge model to its features on %d validation and %d test samples", splits.Val.Len(), len(test))
		if err := embed(edge, splits.Val, samples, nil); err != nil {
			return nil, nil, fmt.Errorf("bundle %s: %w", b.Name, err)
		}
		idx := make([]int, len(b.Outcomes))
		for i, o := range b.Outcomes {
			idx[i] = o.Sample
		}
		if err := embed(edge, splits.Test, test, idx); err != nil {
			return nil, nil, fmt.Errorf("bundle %s: %w", b.Name, err)
		}
	}
	return trainAndReport(samples, test, len(b.Outcomes), name, *split, cfg)
}

// embed sets each sample's Embedding to the edge model's features before
// its classifier on set's sample idx[i] (on sample i when idx is nil).
func embed(edge *dnn.Graph, set *data.Set, samples []offload.Sample, idx []int) error {
	f, err := edge.Features()
	if err != nil {
		return err
	}
	_, _, feats, err := dnn.Evaluate(f, set, 0)
	if err != nil {
		return fmt.Errorf("edge model's features: %w", err)
	}
	d := f.Classes
	for i := range samples {
		j := i
		if idx != nil {
			j = idx[i]
		}
		if j < 0 || j >= set.Len() {
			return fmt.Errorf("sample %d of %d held out", j, set.Len())
		}
		samples[i].Embedding = feats[j*d : (j+1)*d]
	}
	return nil
}

func trainAndReport(samples, test []offload.Sample, outcomes int, dataset string, split data.SplitConfig, cfg OffloaderConfig) (*offload.Offloader, *offload.Report, error) {
	logf(cfg.Log, "training the offloader on %d samples (%d folds, %d epochs)", len(samples), orDefault(cfg.Train.Folds, 5), orDefault(cfg.Train.Epochs, 2000))
	o, err := offload.Train(samples, cfg.Train)
	if err != nil {
		return nil, nil, err
	}
	// The validation outputs are this process's engine's, whose sums follow
	// its GEMM kernels: the offloader is rebuilt bit for bit on the same ones.
	o.Training["gemm"] = dnn.GEMMName()
	o.Training["data"] = fmt.Sprintf("%s validation split (seed %d, val %g): %d samples neither model was trained on", dataset, split.Seed, split.Val, len(samples))
	rep, err := offload.NewReport(o, test, cfg.Train.Seed)
	if err != nil {
		return nil, nil, err
	}
	rep.Data = fmt.Sprintf("the bundle's %d held-out test samples (outcomes.csv), unseen in training and in choosing the threshold", outcomes)
	auc := "undefined"
	if a := rep.Rankings[0].AUC; a != nil {
		auc = fmt.Sprintf("%.4f", *a)
	}
	logf(cfg.Log, "offloader: ROC AUC %s; offloads %.1f%% for %.2f%% accuracy on the test samples",
		auc, 100*rep.Policies[0].OffloadRate, 100*rep.Policies[0].Accuracy)
	return o, rep, nil
}

// recordedSplit reads the split a bundle's provenance records.
func recordedSplit(b *bundles.Bundle) (*data.SplitConfig, error) {
	raw, ok := b.Provenance["split"]
	if !ok {
		return nil, fmt.Errorf("bundle %s: its provenance records no split: give the split the models were trained with", b.Name)
	}
	// The provenance is free-form YAML; a JSON round trip reads it into
	// the struct whatever numeric types the decoder chose.
	j, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: provenance.split: %w", b.Name, err)
	}
	var s struct {
		Val  *float64 `json:"val"`
		Test *float64 `json:"test"`
		Seed *uint64  `json:"seed"`
	}
	if err := json.Unmarshal(j, &s); err != nil || s.Val == nil || s.Test == nil || s.Seed == nil {
		return nil, fmt.Errorf("bundle %s: provenance.split: want {val, test, seed}, got %s", b.Name, j)
	}
	return &data.SplitConfig{Val: *s.Val, Test: *s.Test, Seed: *s.Seed}, nil
}

// OffloaderFiles encodes an offloader and its report as the bundle files
// offloader.json and offload-report.json.
func OffloaderFiles(o *offload.Offloader, rep *offload.Report) (map[string][]byte, error) {
	ob, err := o.Encode()
	if err != nil {
		return nil, err
	}
	rb, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, err
	}
	return map[string][]byte{bundles.OffloaderFile: ob, bundles.OffloadReportFile: append(rb, '\n')}, nil
}

func orDefault(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

// InstallOffloader writes an offloader and its report into the bundle folder
// dir and records how they were made (command, the offloader's training
// settings) under provenance.offloader in its bundle.yaml. Every file is
// written beside its final name first and renamed into place only when all
// have been written, so a failure to write leaves the bundle as it was.
func InstallOffloader(dir string, o *offload.Offloader, rep *offload.Report, command string) error {
	b, err := bundles.Load(dir)
	if err != nil {
		return err
	}
	files, err := OffloaderFiles(o, rep)
	if err != nil {
		return err
	}
	m := b.Manifest
	m.Provenance = maps.Clone(m.Provenance)
	if m.Provenance == nil {
		m.Provenance = map[string]any{}
	}
	m.Provenance["offloader"] = offloaderProvenance(o, command)
	if files[bundles.ManifestFile], err = bundles.EncodeManifest(&m); err != nil {
		return err
	}
	return replaceFiles(dir, files)
}

func offloaderProvenance(o *offload.Offloader, command string) map[string]any {
	p := maps.Clone(o.Training)
	p["command"] = command
	p["built"] = time.Now().UTC().Format(time.RFC3339)
	return p
}

// replaceFiles writes files into dir under temporary names, then renames
// them all into place; on an error before the renames it removes what it
// wrote.
func replaceFiles(dir string, files map[string][]byte) error {
	names := slices.Sorted(maps.Keys(files))
	tmp := make([]string, 0, len(names))
	cleanup := func() {
		for _, t := range tmp {
			os.Remove(t)
		}
	}
	for _, name := range names {
		f, err := os.CreateTemp(dir, "."+name+".*")
		if err != nil {
			cleanup()
			return err
		}
		tmp = append(tmp, f.Name())
		_, werr := f.Write(files[name])
		cerr := f.Close()
		if err := errors.Join(werr, cerr, os.Chmod(f.Name(), 0o644)); err != nil {
			cleanup()
			return err
		}
	}
	for i, name := range names {
		if err := os.Rename(tmp[i], filepath.Join(dir, name)); err != nil {
			cleanup()
			return err
		}
	}
	return nil
}

// Splits loads the dataset bundle b was built from, split as its provenance
// records: the training, validation and test parts its models and outcomes
// came from. dataset empty means the bundle's own.
func Splits(b *bundles.Bundle, dataset string) (*data.Splits, error) {
	if dataset == "" {
		dataset = b.Dataset
	}
	split, err := recordedSplit(b)
	if err != nil {
		return nil, err
	}
	ds, err := data.Load(dataset, data.Options{})
	if err != nil {
		return nil, err
	}
	splits, err := ds.Split(*split)
	if err != nil {
		return nil, err
	}
	if got, want := splits.Test.Len(), len(b.Outcomes); got < want {
		return nil, fmt.Errorf("bundle %s: %s has %d test samples, its outcomes describe %d", b.Name, dataset, got, want)
	}
	return splits, nil
}

// HeldOut loads the held-out test samples of bundle b, the ones its
// outcomes.csv describes in order (see Splits).
func HeldOut(b *bundles.Bundle, dataset string) (*data.Set, error) {
	splits, err := Splits(b, dataset)
	if err != nil {
		return nil, err
	}
	return splits.Test, nil
}

// OtherKernels says, when bundle b records GEMM kernels other than this
// process's, that the models' outputs here differ in their last digits from
// those the bundle was built on, and so may what is learnt from them; ""
// when the kernels are the same or the bundle records none.
func OtherKernels(b *bundles.Bundle) string {
	built, ok := b.Provenance["gemm_backend"].(string)
	if !ok || built == dnn.GEMMName() {
		return ""
	}
	return fmt.Sprintf("bundle %s was built multiplying with %s, this run with %s: the models' outputs, and what is learnt from them, can differ from the bundle's (OPENBLAS_CORETYPE chooses OpenBLAS's kernels)",
		b.Name, built, dnn.GEMMName())
}

// ValidationOutcomes runs bundle b's two models on the validation split of
// its dataset (dataset "" is the bundle's) and returns their outcomes, as
// outcomes.csv holds the test split's: what a simulation that chooses an
// operating point replays, so that the choice is not made on the samples
// it is reported on. The outcomes of a pair of model files on a dataset
// and split are computed once a process (validationMemo).
func ValidationOutcomes(b *bundles.Bundle, dataset string) ([]bundles.Outcome, error) {
	if dataset == "" {
		dataset = b.Dataset
	}
	split, err := recordedSplit(b)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%s %s %s %+v", b.Models.Heavy.SHA256, b.Models.Edge.SHA256, dataset, *split)
	validationMemo.Lock()
	defer validationMemo.Unlock()
	if outs, ok := validationMemo.outcomes[key]; ok {
		return slices.Clone(outs), nil
	}
	splits, err := Splits(b, dataset)
	if err != nil {
		return nil, err
	}
	if splits.Val.Len() == 0 {
		return nil, fmt.Errorf("bundle %s: no validation samples: the split holds none out", b.Name)
	}
	heavy, edge, err := decodeModels(b)
	if err != nil {
		return nil, err
	}
	outs, err := pairOutcomes(heavy, edge, splits.Val, "validation")
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", b.Name, err)
	}
	if validationMemo.outcomes == nil {
		validationMemo.outcomes = make(map[string][]bundles.Outcome)
	}
	validationMemo.outcomes[key] = outs
	return slices.Clone(outs), nil
}

// validationMemo holds ValidationOutcomes' results by the models' file
// digests (bundle.yaml's sha256, checked when a model is read), dataset and
// split: running a heavy model over thousands of images costs seconds, and
// the operating-point searches and their tests ask again for the same.
var validationMemo struct {
	sync.Mutex
	outcomes map[string][]bundles.Outcome
}
