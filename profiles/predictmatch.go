package profiles

import (
	"fmt"
	"strings"
)

// MatchModel returns the profile of the model called name, after checking
// that it was measured on the same file (sha256, the model file's digest)
// and covers each of the model's layers, so that a simulation or a
// compression never runs on the profile of another model. file names the
// profile in errors, which name the field at fault. An empty sha256 skips
// the digest check, nil layers the layer check.
func (d *Device) MatchModel(file, name, sha256 string, layers []string) (*Model, error) {
	idx := -1
	var names []string
	for i := range d.Models {
		names = append(names, d.Models[i].Name)
		if d.Models[i].Name == name {
			idx = i
		}
	}
	if idx < 0 {
		return nil, fmt.Errorf("%s: models: device %q has no profile of model %q (it profiles %s); measure it with tandem profile --model %s=FILE.onnx",
			file, d.Name, name, listOrNone(names), name)
	}
	m := &d.Models[idx]
	at := fmt.Sprintf("%s: models[%d]", file, idx)
	if sha256 != "" && m.SHA256 != "" && m.SHA256 != sha256 {
		return nil, fmt.Errorf("%s.sha256: the profile of %q was measured on another file (sha256 %.12s…) than the model's (%.12s…): profile this model again",
			at, name, m.SHA256, sha256)
	}
	if layers != nil {
		have := make(map[string]bool, len(m.Layers))
		for _, l := range m.Layers {
			have[l.Name] = true
		}
		var missing []string
		for _, l := range layers {
			if !have[l] {
				missing = append(missing, l)
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("%s.layers: no latency for %d of the %d layers of model %q: %s",
				at, len(missing), len(layers), name, strings.Join(missing, ", "))
		}
	}
	return m, nil
}
