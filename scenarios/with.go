package scenarios

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Assignment sets one key of a scenario: Key is a dotted path such as
// "edge.count" or "cloud.batching.max_wait", Value a YAML value as a scenario
// file would hold it ("20", "5ms", "builtin:fashion"). The value "null"
// removes the key, so that its default applies (or another key can take
// its place, as link.trace takes link.uplink_mbps's).
type Assignment struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ParseAssignment reads "KEY=VALUE".
func ParseAssignment(s string) (Assignment, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return Assignment{}, fmt.Errorf("scenarios: %q: want KEY=VALUE, such as edge.count=50", s)
	}
	return Assignment{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v)}, nil
}

// With returns a copy of s with the assignments applied in order, decoded
// and validated as a file would be: sweeps and plans vary scenarios this
// way, so that a varied scenario is one a user could have written. Errors
// name the assignments.
func With(s *Scenario, as ...Assignment) (*Scenario, error) {
	b, err := Marshal(s)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("scenarios: scenario %q: %w", s.Name, err)
	}
	root := doc.Content[0]
	for _, a := range as {
		if err := assign(root, a); err != nil {
			return nil, fmt.Errorf("scenarios: %s=%s: %w", a.Key, a.Value, err)
		}
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return nil, err
	}
	v, err := Decode(s.File, out)
	if err != nil {
		return nil, fmt.Errorf("scenarios: with %s: %w", describeAssignments(as), err)
	}
	return v, nil
}

func describeAssignments(as []Assignment) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.Key + "=" + a.Value
	}
	return strings.Join(parts, ", ")
}

// pathElem is one element of a key path: a key, and an index into the
// list it holds ("edge[1]"), -1 for none.
type pathElem struct {
	key   string
	index int
}

// parsePath splits "edge[1].link.rtt" into its elements.
func parsePath(key string) ([]pathElem, error) {
	var out []pathElem
	for _, part := range strings.Split(key, ".") {
		e := pathElem{key: part, index: -1}
		if k, rest, ok := strings.Cut(part, "["); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(rest, "]"))
			if err != nil || !strings.HasSuffix(rest, "]") || n < 0 {
				return nil, fmt.Errorf("%q: want KEY[N] with N a whole number", part)
			}
			e.key, e.index = k, n
		}
		if e.key == "" {
			return nil, fmt.Errorf("empty key in %q", key)
		}
		out = append(out, e)
	}
	return out, nil
}

// element is the index-th element of the list v, where a single mapping
// counts as a list of one (a group of edge devices written without a
// list); with no index, v itself unless it is a list of several.
func element(v *yaml.Node, e pathElem, path string) (*yaml.Node, error) {
	switch {
	case e.index < 0 && v.Kind == yaml.SequenceNode && len(v.Content) > 1:
		return nil, fmt.Errorf("%s is a list of %d; name one, as %s[0]", path, len(v.Content), path)
	case e.index < 0:
		if v.Kind == yaml.SequenceNode && len(v.Content) == 1 {
			return v.Content[0], nil
		}
		return v, nil
	case v.Kind == yaml.SequenceNode && e.index < len(v.Content):
		return v.Content[e.index], nil
	case v.Kind == yaml.MappingNode && e.index == 0:
		return v, nil
	}
	n := 1
	if v.Kind == yaml.SequenceNode {
		n = len(v.Content)
	}
	return nil, fmt.Errorf("%s[%d]: %s has %d", path, e.index, path, n)
}

// assign sets key a.Key of the mapping root, creating the mappings on its
// path that are missing (not list elements: those must exist).
func assign(root *yaml.Node, a Assignment) error {
	path, err := parsePath(a.Key)
	if err != nil {
		return err
	}
	n := root
	for i, e := range path {
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("%s is not a section of keys", strings.Join(keysOf(path[:i]), "."))
		}
		last := i == len(path)-1
		at := -1
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == e.key {
				at = j
				break
			}
		}
		if last && e.index < 0 {
			if a.Value == "null" {
				if at >= 0 {
					n.Content = append(n.Content[:at], n.Content[at+2:]...)
				}
				return nil
			}
			var v yaml.Node
			if err := yaml.Unmarshal([]byte(a.Value), &v); err != nil || len(v.Content) != 1 {
				return fmt.Errorf("value %q is not one YAML value", a.Value)
			}
			if at >= 0 {
				n.Content[at+1] = v.Content[0]
			} else {
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: e.key}, v.Content[0])
			}
			return nil
		}
		if at < 0 {
			if e.index >= 0 {
				return fmt.Errorf("%s: no %s in the scenario", a.Key, e.key)
			}
			m := &yaml.Node{Kind: yaml.MappingNode}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: e.key}, m)
			n = m
			continue
		}
		if n, err = element(n.Content[at+1], e, joinKeys(path[:i], e.key)); err != nil {
			return err
		}
		if last {
			return fmt.Errorf("%s is a section, not a value", a.Key)
		}
	}
	return nil
}

func keysOf(path []pathElem) []string {
	out := make([]string, len(path))
	for i, e := range path {
		out[i] = e.key
		if e.index >= 0 {
			out[i] += "[" + strconv.Itoa(e.index) + "]"
		}
	}
	return out
}

func joinKeys(path []pathElem, key string) string {
	return strings.Join(append(keysOf(path), key), ".")
}

// Get returns the value of key in s as its YAML scalar, defaults filled in;
// "" when the key is not set.
func Get(s *Scenario, key string) (string, error) {
	b, err := Marshal(s)
	if err != nil {
		return "", err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return "", err
	}
	path, err := parsePath(key)
	if err != nil {
		return "", fmt.Errorf("scenarios: %s: %w", key, err)
	}
	n := doc.Content[0]
	for i, e := range path {
		if n.Kind != yaml.MappingNode {
			return "", fmt.Errorf("scenarios: %s: not a key of a scenario", key)
		}
		var next *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == e.key {
				next = n.Content[j+1]
			}
		}
		if next == nil {
			return "", nil
		}
		if n, err = element(next, e, joinKeys(path[:i], e.key)); err != nil {
			return "", fmt.Errorf("scenarios: %w", err)
		}
	}
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("scenarios: %s is a section, not a value", key)
	}
	return n.Value, nil
}
