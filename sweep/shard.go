package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
)

// ManifestFile is a sweep output folder's completion marker. It is written
// after the results, so a folder without one (or whose files no longer match
// it) is a run that did not finish.
const ManifestFile = "shard.json"

// Manifest is shard.json: what a folder holds and what wrote it. Two folders
// with equal manifests hold the same results, which is what lets a rerun
// skip a finished shard and a merge refuse parts that do not belong together.
type Manifest struct {
	Name   string            `json:"name,omitempty"` // the sweep's, for messages
	Sweep  string            `json:"sweep_sha256"`   // of the sweep file's bytes
	Shard  Shard             `json:"shard"`
	Points int               `json:"points"` // in this shard
	Of     int               `json:"of"`     // in the whole sweep
	Files  map[string]string `json:"files"`  // name: SHA-256 of its bytes
	Tandem Version           `json:"tandem"`
}

// Version is the tandem build that computed the results: the simulator's
// behaviour is a function of it, so results of two builds are not mixed.
type Version struct {
	Module   string `json:"module"`             // module path@version
	Revision string `json:"revision,omitempty"` // vcs.revision, where the build recorded it
	Modified bool   `json:"modified,omitempty"` // vcs.modified
}

func (v Version) String() string {
	s := v.Module
	if v.Revision != "" {
		s += " " + v.Revision
	}
	if v.Modified {
		s += " (modified)"
	}
	return s
}

// BuildVersion is this binary's Version, from its build information.
var BuildVersion = sync.OnceValue(func() Version {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Version{Module: "unknown"}
	}
	v := Version{Module: bi.Main.Path + "@" + bi.Main.Version}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
})

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.I, s.N) }

// MarshalText writes a shard as "I/N", as --shard takes it.
func (s Shard) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads "I/N".
func (s *Shard) UnmarshalText(b []byte) error {
	sh, err := ParseShard(string(b))
	if err != nil {
		return err
	}
	*s = sh
	return nil
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// NewManifest describes the results of shard of spec, points of them,
// computed by tandem v; SetFiles adds the files they were written to.
func NewManifest(spec *Spec, shard Shard, points int, v Version) Manifest {
	return Manifest{Name: spec.Name, Sweep: spec.SHA256, Shard: shard, Points: points, Of: spec.Len(), Tandem: v}
}

// SetFiles records the checksum of each file (name: content).
func (m *Manifest) SetFiles(files map[string][]byte) {
	m.Files = map[string]string{}
	for name, b := range files {
		m.Files[name] = sum(b)
	}
}

// Encode is the manifest as shard.json's bytes.
func (m Manifest) Encode() []byte {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		panic(err) // only strings, numbers and a map of strings
	}
	return append(b, '\n')
}

// Differs says how m's sweep, shard and tandem version differ from want's,
// or "" when they do not.
func (m Manifest) Differs(want Manifest) string {
	switch {
	case m.Sweep != want.Sweep:
		return fmt.Sprintf("another sweep file (sha256 %.12s, not %.12s)", m.Sweep, want.Sweep)
	case m.Of != want.Of:
		return fmt.Sprintf("a sweep of %d points, not %d", m.Of, want.Of)
	case m.Shard.N != want.Shard.N:
		return fmt.Sprintf("shard %v, of %d shards, not %d", m.Shard, m.Shard.N, want.Shard.N)
	case m.Shard != want.Shard:
		return fmt.Sprintf("shard %v, not %v", m.Shard, want.Shard)
	case m.Tandem != want.Tandem:
		return fmt.Sprintf("written by tandem %v, not %v", m.Tandem, want.Tandem)
	}
	return ""
}

// Part is a sweep output folder, read and checked against its manifest.
type Part struct {
	Dir      string
	Manifest Manifest
	Results  []Result
	Files    map[string][]byte
}

// ErrNoManifest is LoadPart's error for a folder without shard.json.
var ErrNoManifest = errors.New("no " + ManifestFile + " (the run did not finish, or it is not a sweep's folder)")

// LoadPart reads dir's manifest and results and checks that they agree: every
// file the manifest names has its checksum, and results.jsonl holds the
// shard's points and no others. Errors start with dir.
func LoadPart(dir string) (*Part, error) {
	raw, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", dir, ErrNoManifest)
	} else if err != nil {
		return nil, err
	}
	p := &Part{Dir: dir, Files: map[string][]byte{}}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p.Manifest); err != nil {
		return nil, fmt.Errorf("%s: %s: %v", dir, ManifestFile, err)
	}
	m := &p.Manifest
	if m.Shard.N < 1 || m.Of < 1 || m.Points < 0 || m.Files[ResultsJSONL] == "" {
		return nil, fmt.Errorf("%s: %s: not a sweep's manifest", dir, ManifestFile)
	}
	names := make([]string, 0, len(m.Files))
	for name := range m.Files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if name != filepath.Base(name) || strings.HasPrefix(name, ".") {
			return nil, fmt.Errorf("%s: %s: file %q is not in the folder", dir, ManifestFile, name)
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("%s: %v (named by %s)", dir, err, ManifestFile)
		}
		if sum(b) != m.Files[name] {
			return nil, fmt.Errorf("%s: %s does not match %s (half-written or changed since)", dir, name, ManifestFile)
		}
		p.Files[name] = b
	}
	p.Results, err = ReadJSONL(filepath.Join(dir, ResultsJSONL), bytes.NewReader(p.Files[ResultsJSONL]))
	if err != nil {
		return nil, err
	}
	if len(p.Results) != m.Points {
		return nil, fmt.Errorf("%s: %d results, %s says %d", dir, len(p.Results), ManifestFile, m.Points)
	}
	for _, r := range p.Results {
		if r.Of != m.Of || r.Point%m.Shard.N != m.Shard.I {
			return nil, fmt.Errorf("%s: point %d of %d is not in shard %v of %d points", dir, r.Point, r.Of, m.Shard, m.Of)
		}
	}
	return p, nil
}

// MergeParts joins the folders of every shard of one sweep into the sweep's
// results and the manifest of the whole (shard 0/1), which is what an
// unsharded run of the same sweep by the same tandem writes. It refuses a
// set with a shard missing or given twice, or a part of another sweep, shard
// count or tandem build, naming the folder.
func MergeParts(parts []*Part) ([]Result, Manifest, error) {
	if len(parts) == 0 {
		return nil, Manifest{}, fmt.Errorf("sweep: merge: no folders")
	}
	first := parts[0].Manifest
	byShard := make([]string, first.Shard.N)
	var results [][]Result
	for _, p := range parts {
		m := p.Manifest
		want := first
		want.Shard.I = m.Shard.I
		if d := m.Differs(want); d != "" {
			return nil, Manifest{}, fmt.Errorf("sweep: merge: %s: %s (%s has shard %v of %s)", p.Dir, d, parts[0].Dir, first.Shard, first.describe())
		}
		if prev := byShard[m.Shard.I]; prev != "" {
			return nil, Manifest{}, fmt.Errorf("sweep: merge: %s and %s are both shard %v", prev, p.Dir, m.Shard)
		}
		byShard[m.Shard.I] = p.Dir
		results = append(results, p.Results)
	}
	for i, dir := range byShard {
		if dir == "" {
			return nil, Manifest{}, fmt.Errorf("sweep: merge: shard %d/%d of %s is missing (not run, or its folder not given)", i, first.Shard.N, first.describe())
		}
	}
	all, err := Merge(results...)
	if err != nil {
		return nil, Manifest{}, err
	}
	m := first
	m.Shard, m.Points, m.Files = All, len(all), nil
	return all, m, nil
}

func (m Manifest) describe() string {
	if m.Name != "" {
		return fmt.Sprintf("sweep %s", m.Name)
	}
	return fmt.Sprintf("sweep %.12s", m.Sweep)
}
