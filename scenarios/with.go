package scenarios

import (
	"fmt"
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

// assign sets key a.Key of the mapping root, creating the mappings on its
// path that are missing.
func assign(root *yaml.Node, a Assignment) error {
	keys := strings.Split(a.Key, ".")
	n := root
	for i, k := range keys {
		if k == "" {
			return fmt.Errorf("empty key in %q", a.Key)
		}
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("%s is not a section of keys", strings.Join(keys[:i], "."))
		}
		last := i == len(keys)-1
		at := -1
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == k {
				at = j
				break
			}
		}
		if last {
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
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, v.Content[0])
			}
			return nil
		}
		if at < 0 {
			m := &yaml.Node{Kind: yaml.MappingNode}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, m)
			n = m
			continue
		}
		n = n.Content[at+1]
	}
	return nil
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
	n := doc.Content[0]
	for _, k := range strings.Split(key, ".") {
		if n.Kind != yaml.MappingNode {
			return "", fmt.Errorf("scenarios: %s: not a key of a scenario", key)
		}
		var next *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == k {
				next = n.Content[j+1]
			}
		}
		if next == nil {
			return "", nil
		}
		n = next
	}
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("scenarios: %s is a section, not a value", key)
	}
	return n.Value, nil
}
