package hil

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// Keys of the ONNX metadata_props that carry the normalisation a model
// expects of its input: each channel c is fed as (x - mean[c]) / std[c], x
// being the pixel in [0, 1].
const (
	MetaInputMean = "tandem.input_mean"
	MetaInputStd  = "tandem.input_std"
)

func readMetadata(s *ort.DynamicAdvancedSession) (map[string]string, error) {
	md, err := s.GetModelMetadata()
	if err != nil {
		return nil, err
	}
	defer md.Destroy()
	keys, err := md.GetCustomMetadataMapKeys()
	if err != nil {
		return nil, err
	}
	meta := make(map[string]string, len(keys))
	for _, k := range keys {
		v, _, err := md.LookupCustomMetadataMap(k)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", k, err)
		}
		meta[k] = v
	}
	return meta, nil
}

// Metadata returns a copy of the model's metadata_props.
func (s *Session) Metadata() map[string]string { return maps.Clone(s.meta) }

// Normalization returns the per-channel mean and standard deviation the
// model expects its input normalised with, read from the metadata keys
// MetaInputMean and MetaInputStd; both nil when the model has neither. A
// value is a JSON array ([0.5, 0.5, 0.5]) or numbers separated by commas or
// spaces, with one entry per input channel, or one for all.
func (s *Session) Normalization() (mean, std []float32, err error) {
	m, hasMean := s.meta[MetaInputMean]
	d, hasStd := s.meta[MetaInputStd]
	if !hasMean && !hasStd {
		return nil, nil, nil
	}
	if hasMean != hasStd {
		return nil, nil, fmt.Errorf("hil: %s: metadata has only one of %s and %s", s.Name, MetaInputMean, MetaInputStd)
	}
	channels := 1
	if len(s.Input.Shape) > 1 {
		channels = int(s.Input.Shape[1])
	}
	if mean, err = parseFloats(m); err == nil {
		std, err = parseFloats(d)
	}
	if err == nil {
		err = checkNormalization(mean, std, channels)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("hil: %s: metadata %s=%q, %s=%q: %w", s.Name, MetaInputMean, m, MetaInputStd, d, err)
	}
	return mean, std, nil
}

// checkNormalization accepts one mean and one positive deviation per
// channel, or one of each for every channel.
func checkNormalization(mean, std []float32, channels int) error {
	if len(mean) != len(std) || len(mean) != 1 && len(mean) != channels {
		return fmt.Errorf("%d means and %d deviations for %d channels: want one of each per channel, or one for all", len(mean), len(std), channels)
	}
	for _, v := range std {
		if !(v > 0) {
			return fmt.Errorf("deviation %g is not positive", v)
		}
	}
	return nil
}

func parseFloats(text string) ([]float32, error) {
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "[") {
		var v []float32
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			return nil, err
		}
		return v, nil
	}
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	v := make([]float32, len(fields))
	for i, f := range fields {
		x, err := strconv.ParseFloat(f, 32)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		v[i] = float32(x)
	}
	return v, nil
}
