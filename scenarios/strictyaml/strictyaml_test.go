package strictyaml

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                             "0s",
		1500 * time.Millisecond:       "1.5s",
		1234 * time.Microsecond:       "1.234ms",
		850 * time.Microsecond:        "850us",
		1234567 * time.Nanosecond:     "1234.567us",
		20 * time.Nanosecond:          "20ns",
		90 * time.Minute:              "5400s",
		-5 * time.Millisecond:         "-5ms",
		time.Second + time.Nanosecond: "1000000.001us",
	} {
		got := FormatDuration(d)
		if got != want {
			t.Errorf("FormatDuration(%d) = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(got); err != nil || back != d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", got, back, err, d)
		}
	}
}

type inner struct {
	D    time.Duration `yaml:"d"`
	Tags []string      `yaml:"tags,omitempty"`
}

type outer struct {
	Name  string         `yaml:"name"`
	Count int            `yaml:"count,omitempty"`
	Ratio float64        `yaml:"ratio,omitempty"`
	On    bool           `yaml:"on,omitempty"`
	In    *inner         `yaml:"in,omitempty"`
	List  []inner        `yaml:"list,omitempty"`
	Free  map[string]any `yaml:"free,omitempty"`
	Skip  string         `yaml:"-"`
}

func TestDecodeEncode(t *testing.T) {
	src := `name: x
count: 3
ratio: 0.25
on: true
in: &i {d: 250us, tags: [a, b]}
list: [*i, {d: 1s}]
free: {k: [1, two]}
`
	var v outer
	doc, err := Decode("f.yaml", []byte(src), &v)
	if err != nil {
		t.Fatal(err)
	}
	want := outer{Name: "x", Count: 3, Ratio: 0.25, On: true,
		In:   &inner{D: 250 * time.Microsecond, Tags: []string{"a", "b"}},
		List: []inner{{D: 250 * time.Microsecond, Tags: []string{"a", "b"}}, {D: time.Second}},
		Free: map[string]any{"k": []any{1, "two"}}}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("decoded %+v\nwant %+v", v, want)
	}
	for path, pos := range map[string]Pos{"count": {2, 8}, "list[0]": {6, 8}, "list[1].d": {6, 16}, "in.tags[1]": {5, 29}, "missing": {1, 1}, "in.nope": {5, 1}} {
		if got := doc.Pos(path); got != pos {
			t.Errorf("Pos(%q) = %v, want %v", path, got, pos)
		}
	}
	if !doc.Has("in.tags") || doc.Has("skip") {
		t.Error("Has is wrong")
	}
	out, err := Marshal(&v, EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var back outer
	if _, err := Decode("out.yaml", out, &back); err != nil || !reflect.DeepEqual(back, want) {
		t.Errorf("re-decoded %+v, %v\n%s", back, err, out)
	}
	if !strings.Contains(string(out), "tags: [a, b]") {
		t.Errorf("scalar lists not written inline:\n%s", out)
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"\"a\\nb\": 1\n", `f.yaml:1:1: "a\nb": unknown key; want one of: name, count, ratio, on, in, list, free`},
		{"name: {a: 1}\n", `f.yaml:1:7: name: want a string, got a mapping`},
		{"count: 1e3\n", `f.yaml:1:8: count: want an integer, got 1e3`},
		{"count: 99999999999999999999\n", `f.yaml:1:8: count: want an integer, got 99999999999999999999`},
		{"ratio: .inf\n", `f.yaml:1:8: ratio: want a finite number, got .inf`},
		{"on: yes please\n", `f.yaml:1:5: on: want true or false, got "yes please"`},
		{"in: {d: 5}\n", `f.yaml:1:9: in.d: want a duration like "10ms", got a bare number 5`},
		{"list: {d: 1s}\n", `f.yaml:1:7: list: want a list, got a mapping`},
		{"list:\n  - d: 1s\n    d: 2s\n", `f.yaml:3:5: list[0].d: key given twice`},
		{"[a]: 1\n", `f.yaml:1:1: want a plain key, got a list`},
		{"name: !!binary aGk=\n", ``},
	}
	for _, tc := range cases {
		var v outer
		_, err := Decode("f.yaml", []byte(tc.src), &v)
		if tc.want == "" {
			if err != nil {
				t.Errorf("Decode(%q): %v", tc.src, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Decode(%q): %v\nwant %q", tc.src, err, tc.want)
		}
	}
}

func TestDecodeAliasExpansionLimit(t *testing.T) {
	// 200 aliases of 200 aliases of 200 strings: 8 million strings if
	// expanded, from a file of a few kilobytes.
	const n = 200
	x := "[" + strings.Repeat("x, ", n-1) + "x]"
	a := "[&a " + x + strings.Repeat(", *a", n-1) + "]"
	src := "l: [&b " + a + strings.Repeat(", *b", n-1) + "]\n"
	var v struct {
		L [][][]string `yaml:"l"`
	}
	_, err := Decode("bomb.yaml", []byte(src), &v)
	if err == nil || !strings.Contains(err.Error(), "document too large (after expanding aliases)") {
		t.Errorf("Decode of an alias bomb: %v", err)
	}
}

type groups struct {
	Groups []inner `yaml:"groups,oneormany"`
}

// A oneormany list reads from a single mapping or a list of them, and a
// list of one is written back as the mapping it was read from.
func TestOneOrMany(t *testing.T) {
	cases := []struct {
		src, path string
		n         int
	}{
		{"groups: {d: 1s}\n", "groups.d", 1},
		{"groups: [{d: 1s}, {d: 2s}]\n", "groups[1].d", 2},
	}
	for _, tc := range cases {
		var v groups
		doc, err := Decode("g.yaml", []byte(tc.src), &v)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Groups) != tc.n || v.Groups[0].D != time.Second || !doc.Has(tc.path) {
			t.Errorf("%q: %+v, path %s present %v", tc.src, v, tc.path, doc.Has(tc.path))
		}
		out, err := Marshal(&v, EncodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var back groups
		if _, err := Decode("g.yaml", out, &back); err != nil || !reflect.DeepEqual(back, v) {
			t.Errorf("%q wrote %q, read back %+v (%v)", tc.src, out, back, err)
		}
		if tc.n == 1 && strings.HasPrefix(strings.TrimPrefix(string(out), "groups:"), "\n  -") {
			t.Errorf("a list of one written as a list: %q", out)
		}
	}
	var v groups
	_, err := Decode("g.yaml", []byte("groups: {d: 1s, x: 2}\n"), &v)
	if err == nil || !strings.Contains(err.Error(), "g.yaml:1:17: groups.x: unknown key") {
		t.Errorf("error %v", err)
	}
}
