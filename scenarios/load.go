package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/tandem-edge/tandem/scenarios/strictyaml"
)

// builtinFS holds the built-in scenarios, builtin/NAME.yaml.
//
//go:embed builtin/*.yaml
var builtinFS embed.FS

// Builtins lists the built-in scenarios' names, sorted.
func Builtins() []string {
	entries, _ := fs.ReadDir(builtinFS, "builtin")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), path.Ext(e.Name())))
	}
	slices.Sort(names)
	return names
}

// Load reads a scenario: "builtin:NAME" (see Builtins) or a file's path.
func Load(ref string) (*Scenario, error) {
	name, ok := strings.CutPrefix(ref, builtinPrefix)
	if !ok {
		return LoadFile(ref)
	}
	b, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
	if err != nil || strings.ContainsAny(name, `/\`) {
		return nil, fmt.Errorf("scenarios: no built-in scenario %q (built-ins: %s)", name, strings.Join(Builtins(), ", "))
	}
	return Decode(ref, b)
}

// LoadFile reads the scenario file at path.
func LoadFile(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenarios: %w", err)
	}
	return Decode(path, b)
}

// Decode decodes, completes and validates a scenario file. name is the
// file's path (relative paths inside the scenario are relative to its
// folder) or builtin:NAME. Every mistake is reported, one line each, as
// "name:line:column: key.path: message", in file order; the error is then a
// strictyaml.Errors.
//
// Keys left out take their defaults (SetDefaults); an explicit zero for a
// key with a default is an error, not a request for the default.
func Decode(name string, b []byte) (*Scenario, error) {
	var s Scenario
	doc, err := strictyaml.Decode(name, b, &s)
	if err != nil {
		return nil, err
	}
	s.File = name
	c := strictyaml.NewChecker(doc)
	for _, d := range s.defaulted() {
		if d.zero && doc.Has(d.path) {
			c.Errorf(d.path, "must not be 0 or empty; leave the key out for the default")
		}
	}
	s.SetDefaults()
	s.check(c)
	if err := c.Err(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Overrides are what a command line may change of a loaded scenario.
type Overrides struct {
	// Requests, when positive, replaces the scenario's requests or
	// duration by this many arrivals over the fleet.
	Requests int
	// Seed, when set, replaces the scenario's seed.
	Seed    uint64
	SeedSet bool
	// Protocol, when set, replaces the scenario's cloud.protocol.
	Protocol string
}

// LoadWith is Load, then the overrides applied: what every command that
// runs a scenario does with its --requests and --seed.
func LoadWith(ref string, o Overrides) (*Scenario, error) {
	if o.Requests < 0 {
		return nil, fmt.Errorf("scenarios: --requests %d: want a positive count", o.Requests)
	}
	sc, err := Load(ref)
	if err != nil {
		return nil, err
	}
	if o.Requests > 0 {
		sc.Requests, sc.Duration = o.Requests, 0
	}
	if o.SeedSet {
		sc.Seed = o.Seed
	}
	if o.Protocol != "" {
		if !slices.Contains(Protocols, o.Protocol) {
			return nil, fmt.Errorf("scenarios: --protocol %q: want one of %s", o.Protocol, strings.Join(Protocols, ", "))
		}
		for p := range sc.Cloud {
			sc.Cloud[p].Protocol = o.Protocol
		}
	}
	return sc, nil
}
