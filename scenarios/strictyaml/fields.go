package strictyaml

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
)

type field struct {
	key       string
	index     []int
	omitEmpty bool
	// oneOrMany lets a list of mappings be written as a single mapping
	// when it has one element (tag option "oneormany"): its keys keep the
	// list's path ("edge.count", not "edge[0].count"), so that a file
	// written before the key became a list reads, and reports, as before.
	oneOrMany bool
}

type fieldSet struct {
	list  []field // in declaration order: the order keys are written in
	byKey map[string]field
	keys  []string
}

var fieldCache sync.Map // reflect.Type → *fieldSet

// fieldsOf lists the YAML keys of a struct type from its yaml tags.
func fieldsOf(t reflect.Type) *fieldSet {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(*fieldSet)
	}
	fs := &fieldSet{byKey: map[string]field{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		if _, dup := fs.byKey[name]; dup {
			panic(fmt.Sprintf("strictyaml: %v has two fields for key %q", t, name))
		}
		f := field{key: name, index: sf.Index, omitEmpty: strings.Contains(opts, "omitempty"), oneOrMany: strings.Contains(opts, "oneormany")}
		if f.oneOrMany && sf.Type.Kind() != reflect.Slice {
			panic(fmt.Sprintf("strictyaml: %v.%s: oneormany on a %v, want a slice", t, sf.Name, sf.Type))
		}
		fs.list = append(fs.list, f)
		fs.byKey[name] = f
		fs.keys = append(fs.keys, name)
	}
	fieldCache.Store(t, fs)
	return fs
}

// suggest returns `; did you mean "x"?` for the known key closest to an
// unknown one, or the list of known keys when none is close.
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		d := distance(strings.ToLower(key), k)
		if strings.HasPrefix(k, strings.ToLower(key)) && len(key) >= 3 {
			d = min(d, 1)
		}
		if d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return fmt.Sprintf("; want one of: %s", strings.Join(known, ", "))
}

// distance is the Levenshtein edit distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
