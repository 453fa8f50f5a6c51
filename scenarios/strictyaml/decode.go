package strictyaml

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Limits that keep a hostile file from costing more than a large honest one.
const (
	maxNodes      = 1 << 18 // nodes visited, counting each expansion of an alias
	maxAliasDepth = 64
)

// Doc is what Decode learned about a file besides its values: where each key
// path is, which keys are present, and the mistakes found so far. Validation
// adds its own mistakes with Errorf so that they carry positions too.
type Doc struct {
	File string
	vals map[string]Pos // position of each present path's value
	keys map[string]Pos // position of each present path's key
	root Pos
	errs Errors
}

// Has reports whether path (e.g. "link.trace", "models[0].layers") is
// present in the file, even with an empty value.
func (d *Doc) Has(path string) bool {
	_, ok := d.vals[path]
	return ok
}

// Pos returns where path's value is, or, for a path absent from the file, the
// key of its nearest present ancestor (where the missing key belongs).
func (d *Doc) Pos(path string) Pos {
	if p, ok := d.vals[path]; ok {
		return p
	}
	for path != "" {
		path = parent(path)
		if p, ok := d.keys[path]; ok {
			return p
		}
	}
	return d.root
}

// Errorf records a mistake at path's position.
func (d *Doc) Errorf(path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.File, Pos: d.Pos(path), Path: path, Msg: oneLine(fmt.Sprintf(format, args...))})
}

// oneLine keeps a message on its line whatever text it quotes.
func oneLine(s string) string {
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}

// Err returns the mistakes recorded so far, in file order, or nil.
func (d *Doc) Err() error { return d.errs.Err() }

// parent strips the last element of a key path: "a.b[2]" → "a.b", "a.b" → "a".
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// Decode decodes the single YAML document in data into v, which must be a
// pointer to a struct whose fields carry yaml tags (untagged exported fields
// take their lower-cased name; "-" skips a field). It returns the Doc for
// further validation and the decoding mistakes, if any, as Errors. Types that
// implement yaml.Unmarshaler decode themselves; their error messages are
// given the node's position. time.Duration values are written "10ms".
func Decode(file string, data []byte, v any) (doc *Doc, err error) {
	doc = &Doc{File: file, vals: map[string]Pos{}, keys: map[string]Pos{}, root: Pos{1, 1}}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		panic(fmt.Sprintf("strictyaml: Decode of %T, want a non-nil pointer", v))
	}
	root, err := parse(file, data)
	if err != nil {
		return doc, err
	}
	doc.root = pos(root)
	d := &decoder{doc: doc}
	d.value(root, rv.Elem(), "", pos(root), 0)
	return doc, doc.Err()
}

// parse returns the content of data's one document.
func parse(file string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, Errors{{File: file, Msg: "empty file, want a mapping of keys"}}
		}
		return nil, Errors{syntaxError(file, err)}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, Errors{{File: file, Pos: pos(&next), Msg: "more than one YAML document; want one"}}
	case err != io.EOF:
		return nil, Errors{syntaxError(file, err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, Errors{{File: file, Msg: "empty file, want a mapping of keys"}}
	}
	return doc.Content[0], nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are yaml's messages from its parser (as opposed to its
// scanner), which it reports with a 0-based line number: that of the
// construct being parsed when the problem was found.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// syntaxError turns a parser message ("yaml: line 3: ...") into an Error.
func syntaxError(file string, err error) *Error {
	msg := err.Error()
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return &Error{File: file, Msg: strings.TrimPrefix(msg, "yaml: ")}
	}
	line, _ := strconv.Atoi(m[1])
	if parserProblems[m[2]] {
		line++
		m[2] += " (in what starts on this line)"
	}
	return &Error{File: file, Pos: Pos{Line: line}, Msg: m[2]}
}

func pos(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

type decoder struct {
	doc   *Doc
	nodes int
	stop  bool // a limit was hit: the rest of the file is not read
}

var (
	durationType    = reflect.TypeFor[time.Duration]()
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
)

// value decodes n into v. at is where n is used (an alias's position, not
// its anchor's), for the messages about path.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string, at Pos, depth int) {
	if d.stop {
		return
	}
	if d.nodes++; d.nodes > maxNodes {
		d.fail(path, at, "document too large (after expanding aliases)")
		return
	}
	for n.Kind == yaml.AliasNode {
		if depth++; depth > maxAliasDepth || n.Alias == nil {
			d.fail(path, at, "aliases nested too deeply")
			return
		}
		n = n.Alias
	}
	d.doc.vals[path] = at
	if isNull(n) {
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(unmarshalerType) {
		if err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			d.errorf(path, at, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		}
		return
	}
	if v.Type() == durationType {
		dur, err := ParseDuration(n)
		if err != nil {
			d.errorf(path, at, "%s", err.Error())
			return
		}
		v.SetInt(int64(dur))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.structure(n, v, path, at, depth)
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), path, at, depth)
	case reflect.Slice:
		d.sequence(n, v, path, at, depth)
	case reflect.Map:
		d.mapping(n, v, path, at, depth)
	case reflect.Interface:
		// Free-form data (a bundle's provenance): yaml's own decoding.
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.errorf(path, at, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		}
	default:
		d.scalar(n, v, path, at)
	}
}

func (d *decoder) fail(path string, at Pos, msg string) {
	d.errorf(path, at, "%s", msg)
	d.stop = true
}

func (d *decoder) errorf(path string, at Pos, format string, args ...any) {
	d.doc.errs = append(d.doc.errs, &Error{File: d.doc.File, Pos: at, Path: path, Msg: oneLine(fmt.Sprintf(format, args...))})
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// describe names what a node holds, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:37] + "..."
	}
	switch n.ShortTag() {
	case "!!int", "!!float", "!!bool", "!!null":
		return v
	}
	return strconv.Quote(v)
}

// mappingPairs checks that n is a mapping with plain, unique keys and calls
// f for each pair, in file order.
func (d *decoder) mappingPairs(n *yaml.Node, path string, at Pos, f func(key string, k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		d.errorf(path, at, "want a mapping of keys, got %s", describe(n))
		return
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		kp := join(path, k.Value)
		switch {
		case k.Kind != yaml.ScalarNode:
			d.errorf(path, pos(k), "want a plain key, got %s", describe(k))
			continue
		case k.ShortTag() == "!!merge":
			d.errorf(path, pos(k), "merge keys (<<) are not supported; repeat the keys")
			continue
		case seen[k.Value]:
			d.errorf(kp, pos(k), "key given twice")
			continue
		}
		seen[k.Value] = true
		f(k.Value, k, v)
	}
}

// join appends a key to a key path, quoting keys that are not plain words
// so that a path stays one unambiguous line.
func join(path, key string) string {
	if !plainKey(key) {
		key = strconv.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string, at Pos, depth int) {
	fields := fieldsOf(v.Type())
	d.mappingPairs(n, path, at, func(key string, k, val *yaml.Node) {
		kp := join(path, key)
		f, ok := fields.byKey[key]
		if !ok {
			d.errorf(kp, pos(k), "unknown key%s", suggest(key, fields.keys))
			return
		}
		d.doc.keys[kp] = pos(k)
		fv := v.FieldByIndex(f.index)
		if f.oneOrMany && val.Kind == yaml.MappingNode {
			one := reflect.MakeSlice(fv.Type(), 1, 1)
			d.value(val, one.Index(0), kp, pos(val), depth)
			fv.Set(one)
			return
		}
		d.value(val, fv, kp, pos(val), depth)
	})
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string, at Pos, depth int) {
	if v.Type().Key().Kind() != reflect.String {
		panic(fmt.Sprintf("strictyaml: map key type %v, want string", v.Type().Key()))
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	d.mappingPairs(n, path, at, func(key string, k, val *yaml.Node) {
		kp := join(path, key)
		d.doc.keys[kp] = pos(k)
		e := reflect.New(v.Type().Elem()).Elem()
		d.value(val, e, kp, pos(val), depth)
		v.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), e)
	})
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string, at Pos, depth int) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(path, at, "want a list, got %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.value(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i), pos(item), depth)
	}
	v.Set(s)
}

func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string, at Pos) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(path, at, "want %s, got %s", kindName(v.Kind()), describe(n))
		return
	}
	tag := n.ShortTag()
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if tag != "!!bool" || n.Decode(&b) != nil {
			d.errorf(path, at, "want true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if tag != "!!int" || n.Decode(&i) != nil || v.OverflowInt(i) {
			d.errorf(path, at, "want an integer, got %s", describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var i int64
		if tag == "!!int" && n.Decode(&i) == nil && i < 0 {
			d.errorf(path, at, "must be >= 0, got %d", i)
			return
		}
		var u uint64
		if tag != "!!int" || n.Decode(&u) != nil || v.OverflowUint(u) {
			d.errorf(path, at, "want a whole number >= 0, got %s", describe(n))
			return
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		var f float64
		if (tag != "!!int" && tag != "!!float") || n.Decode(&f) != nil {
			d.errorf(path, at, "want a number, got %s", describe(n))
			return
		}
		if math.IsNaN(f) || math.IsInf(f, 0) || v.OverflowFloat(f) {
			d.errorf(path, at, "want a finite number, got %s", n.Value)
			return
		}
		v.SetFloat(f)
	default:
		panic(fmt.Sprintf("strictyaml: cannot decode into %v", v.Type()))
	}
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number >= 0"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return k.String()
}

// ParseDuration reads a duration written like "10ms", "1.5s" or "250us".
// Bare numbers are refused: "10" could mean seconds or milliseconds.
func ParseDuration(n *yaml.Node) (time.Duration, error) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode {
		return 0, fmt.Errorf("want a duration like \"10ms\", got %s", describe(n))
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		return 0, fmt.Errorf("want a duration like \"10ms\", got a bare number %s (add a unit: ns, us, ms, s, m, h)", n.Value)
	}
	d, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil {
		return 0, fmt.Errorf("want a duration like \"10ms\", \"1.5s\" or \"250us\", got %s", describe(n))
	}
	return d, nil
}
