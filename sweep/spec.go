// Package sweep owns parameter sweeps: a sweep file names a scenario and the
// keys to vary; its points are the scenarios of every combination of values
// (and seed); each point is simulated; results are written as JSON lines and
// CSV. A sweep splits into shards that run anywhere and merge back into
// exactly the unsharded result, because every point is a pure function of
// (scenario, point, seed).
package sweep

import (
	"bytes"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/tandem-edge/tandem/scenarios"
)

// Spec is a sweep file:
//
//	name: fleet-size
//	scenario: builtin:default      # a built-in or a path, relative to this file
//	requests: 20000                 # optional: replaces the scenario's
//	seeds: [1, 2, 3]                # optional: each point once per seed; default the scenario's
//	vary:                           # keys in order; every combination is a point
//	  edge.count: [10, 20, 50]
//	  cloud.servers: [1, 2]
type Spec struct {
	Name     string
	File     string // where it was read from
	SHA256   string // of the file's bytes, hex: what a shard's manifest names the sweep by
	Scenario string
	Requests int
	Seeds    []uint64
	Vary     []Axis
}

// Axis is one varied key and its values, as YAML scalars.
type Axis struct {
	Key    string
	Values []string
}

// Point is one scenario of a sweep.
type Point struct {
	Index  int                    // in the sweep's order: the first axis varies slowest, the seed fastest
	Seed   uint64                 // 0: the scenario's own
	Values []scenarios.Assignment // one per axis, in axis order
}

// maxPoints bounds a sweep, so that a typo cannot ask for a billion runs.
const maxPoints = 1_000_000

// Decode reads a sweep file; name is for messages. Errors name the file,
// line, column and key.
func Decode(name string, b []byte) (*Spec, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: want a mapping of keys (name, scenario, requests, seeds, vary)", name)
	}
	s := &Spec{File: name, SHA256: sum(b)}
	errf := func(n *yaml.Node, key, format string, args ...any) error {
		return fmt.Errorf("%s:%d:%d: %s: %s", name, n.Line, n.Column, key, fmt.Sprintf(format, args...))
	}
	root := doc.Content[0]
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if seen[k.Value] {
			return nil, errf(k, k.Value, "key given twice")
		}
		seen[k.Value] = true
		switch k.Value {
		case "name":
			if v.Kind != yaml.ScalarNode {
				return nil, errf(v, "name", "want a string")
			}
			s.Name = v.Value
		case "scenario":
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				return nil, errf(v, "scenario", "want builtin:NAME or a scenario file's path")
			}
			s.Scenario = v.Value
		case "requests":
			n, err := strconv.Atoi(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil || n < 1 {
				return nil, errf(v, "requests", "want a positive integer, got %q", v.Value)
			}
			s.Requests = n
		case "seeds":
			if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
				return nil, errf(v, "seeds", "want a list of seeds, such as [1, 2, 3]")
			}
			for _, e := range v.Content {
				n, err := strconv.ParseUint(e.Value, 10, 64)
				if e.Kind != yaml.ScalarNode || err != nil || n == 0 {
					return nil, errf(e, "seeds", "want a positive integer, got %q", e.Value)
				}
				s.Seeds = append(s.Seeds, n)
			}
		case "vary":
			if v.Kind != yaml.MappingNode || len(v.Content) == 0 {
				return nil, errf(v, "vary", "want the keys to vary, each with a list of values: edge.count: [10, 20]")
			}
			keys := map[string]bool{}
			for j := 0; j+1 < len(v.Content); j += 2 {
				kk, vv := v.Content[j], v.Content[j+1]
				if keys[kk.Value] {
					return nil, errf(kk, "vary."+kk.Value, "key given twice")
				}
				keys[kk.Value] = true
				if vv.Kind != yaml.SequenceNode || len(vv.Content) == 0 {
					return nil, errf(vv, "vary."+kk.Value, "want a list of values")
				}
				ax := Axis{Key: kk.Value}
				for _, e := range vv.Content {
					if e.Kind != yaml.ScalarNode {
						return nil, errf(e, "vary."+kk.Value, "want scalar values (numbers, durations, names)")
					}
					ax.Values = append(ax.Values, e.Value)
				}
				s.Vary = append(s.Vary, ax)
			}
		default:
			return nil, errf(k, k.Value, "unknown key; want name, scenario, requests, seeds or vary")
		}
	}
	switch {
	case s.Scenario == "":
		return nil, errf(root, "scenario", "required: builtin:NAME or a scenario file's path")
	case len(s.Vary) == 0:
		return nil, errf(root, "vary", "required: the keys to vary")
	}
	n := max(len(s.Seeds), 1)
	for _, ax := range s.Vary {
		n *= len(ax.Values)
		if n > maxPoints {
			return nil, errf(root, "vary", "more than %d points", maxPoints)
		}
	}
	return s, nil
}

// Len is the number of points.
func (s *Spec) Len() int {
	n := max(len(s.Seeds), 1)
	for _, ax := range s.Vary {
		n *= len(ax.Values)
	}
	return n
}

// ShardLen is the number of points in shard sh.
func (s *Spec) ShardLen(sh Shard) int {
	return (s.Len() - sh.I + sh.N - 1) / sh.N
}

// Points lists the sweep's points in order.
func (s *Spec) Points() []Point {
	seeds := s.Seeds
	if len(seeds) == 0 {
		seeds = []uint64{0}
	}
	var out []Point
	idx := make([]int, len(s.Vary))
	for {
		values := make([]scenarios.Assignment, len(s.Vary))
		for i, ax := range s.Vary {
			values[i] = scenarios.Assignment{Key: ax.Key, Value: ax.Values[idx[i]]}
		}
		for _, seed := range seeds {
			out = append(out, Point{Index: len(out), Seed: seed, Values: values})
		}
		// Advance the last axis fastest, like nested loops.
		i := len(idx) - 1
		for ; i >= 0; i-- {
			if idx[i]++; idx[i] < len(s.Vary[i].Values) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return out
		}
	}
}

// describe says what a point sets, for messages.
func (p Point) describe() string {
	var b bytes.Buffer
	for i, a := range p.Values {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%s", a.Key, a.Value)
	}
	if p.Seed != 0 {
		fmt.Fprintf(&b, ", seed=%d", p.Seed)
	}
	return b.String()
}
