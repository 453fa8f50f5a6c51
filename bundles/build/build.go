// Package build makes bundles: it trains a heavy and an edge model with
// tandem's own DNN engine, exports both as ONNX, evaluates them on the
// held-out test samples and writes the bundle folder with its provenance.
// It is kept apart from package bundles so that reading a bundle (what the
// simulator does) never links the training engine.
package build

import (
	"fmt"
	"io"
	"time"

	"github.com/tandem-edge/tandem/dnn"
	"github.com/tandem-edge/tandem/dnn/data"
)

// ModelSpec says how one model is made: its architecture from the zoo, its
// width, and how it is trained.
type ModelSpec struct {
	Arch  string  // dnn.ZooArchs
	Width float64 // channel multiplier; 0 means 1
	Seed  uint64  // initialisation
	Train dnn.TrainConfig

	// File, when set, is an ONNX model to take as it is instead of
	// training one (a model trained elsewhere, or by tandem compress);
	// Arch, Width, Seed and Train are then unused.
	File string
}

// TrainModel builds spec's architecture for the splits' data and trains it
// on splits.Train, validating on splits.Val after each epoch.
func TrainModel(spec ModelSpec, splits *data.Splits, classes int, progress func(dnn.Progress)) (*dnn.Graph, *dnn.TrainResult, error) {
	g, err := dnn.Zoo(spec.Arch, splits.Train.Shape, classes, spec.Width, spec.Seed)
	if err != nil {
		return nil, nil, err
	}
	res, err := dnn.Train(g, splits.Train, splits.Val, spec.Train, progress)
	if err != nil {
		return nil, nil, err
	}
	g.Meta["train_seconds"] = fmt.Sprintf("%.0f", res.Seconds)
	g.Meta["val_accuracy"] = fmt.Sprintf("%.4f", res.ValAccuracy)
	return g, res, nil
}

// Logf prints one line of progress to w, time-stamped, when w is not nil.
func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
}
