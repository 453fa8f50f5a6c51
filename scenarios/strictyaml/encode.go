package strictyaml

import (
	"bytes"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// EncodeOptions adjust Encode. The zero value writes every field except
// zero-valued omitempty fields and nil pointers.
type EncodeOptions struct {
	// Keep reports whether a zero-valued omitempty field at path is written
	// anyway (a threshold of 0 that the reader must see).
	Keep func(path string) bool
	// Comment returns the line comment written after path's value, if any.
	Comment func(path string) string
}

var marshalerType = reflect.TypeFor[yaml.Marshaler]()

// Marshal writes v as YAML indented by two spaces, its keys in the order of
// the struct's fields, durations as "10ms".
func Marshal(v any, opts EncodeOptions) ([]byte, error) {
	n, err := Encode(v, opts)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("strictyaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("strictyaml: %w", err)
	}
	return b.Bytes(), nil
}

// Encode returns v as a YAML node tree, mirroring Decode.
func Encode(v any, opts EncodeOptions) (*yaml.Node, error) {
	e := encoder{opts: opts}
	return e.value(reflect.ValueOf(v), "")
}

type encoder struct{ opts EncodeOptions }

func (e *encoder) value(v reflect.Value, path string) (*yaml.Node, error) {
	if !v.IsValid() {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	if v.Type().Implements(marshalerType) && (v.Kind() != reflect.Pointer || !v.IsNil()) {
		out, err := v.Interface().(yaml.Marshaler).MarshalYAML()
		if err != nil {
			return nil, fmt.Errorf("strictyaml: %s: %w", path, err)
		}
		return encodeAny(out, path)
	}
	if v.Type() == durationType {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: FormatDuration(time.Duration(v.Int()))}, nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return e.value(reflect.Value{}, path)
		}
		return e.value(v.Elem(), path)
	case reflect.Struct:
		return e.structure(v, path)
	case reflect.Slice, reflect.Array:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		if isScalarKind(v.Type().Elem().Kind()) {
			n.Style = yaml.FlowStyle
		}
		for i := range v.Len() {
			item, err := e.value(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, item)
		}
		return n, nil
	case reflect.Map:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			ks := fmt.Sprint(k)
			val, err := e.value(v.MapIndex(k), join(path, ks))
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: ks}, val)
		}
		return n, nil
	}
	return encodeAny(v.Interface(), path)
}

func (e *encoder) structure(v reflect.Value, path string) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, f := range fieldsOf(v.Type()).list {
		fv := v.FieldByIndex(f.index)
		kp := join(path, f.key)
		if (fv.Kind() == reflect.Pointer && fv.IsNil()) ||
			(f.omitEmpty && fv.IsZero() && (e.opts.Keep == nil || !e.opts.Keep(kp))) {
			continue
		}
		if f.oneOrMany && fv.Len() == 1 {
			fv = fv.Index(0)
		}
		val, err := e.value(fv, kp)
		if err != nil {
			return nil, err
		}
		if e.opts.Comment != nil {
			val.LineComment = e.opts.Comment(kp)
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.key}, val)
	}
	return n, nil
}

func encodeAny(v any, path string) (*yaml.Node, error) {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return nil, fmt.Errorf("strictyaml: %s: %w", path, err)
	}
	return &n, nil
}

func isScalarKind(k reflect.Kind) bool {
	switch k {
	case reflect.Bool, reflect.String, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// FormatDuration writes d exactly, in the largest unit that keeps it at least
// 1 with at most three decimals: 1.5s, 1.234ms, 850us, 1234.567us, 20ns.
// time.ParseDuration reads it back to the same value.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	sign := ""
	if d < 0 {
		if d == -d { // math.MinInt64 has no positive counterpart
			return d.String()
		}
		sign, d = "-", -d
	}
	units := []struct {
		name string
		size time.Duration
	}{{"s", time.Second}, {"ms", time.Millisecond}, {"us", time.Microsecond}}
	for _, u := range units {
		if d >= u.size && d%(u.size/1000) == 0 {
			return sign + decimal(int64(d/(u.size/1000)), 3) + u.name
		}
	}
	return sign + strconv.FormatInt(int64(d), 10) + "ns"
}

// decimal writes v/10^places with trailing zeros trimmed.
func decimal(v int64, places int) string {
	s := strconv.FormatInt(v, 10)
	for len(s) <= places {
		s = "0" + s
	}
	whole, frac := s[:len(s)-places], strings.TrimRight(s[len(s)-places:], "0")
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}
