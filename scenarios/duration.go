package scenarios

import (
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tandem-edge/tandem/scenarios/strictyaml"
)

// Duration is a time.Duration written in YAML as "10ms", "1.5s", "250us".
// A bare number is refused: "10" could mean seconds or milliseconds.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String writes d as it is written in a scenario file.
func (d Duration) String() string { return strictyaml.FormatDuration(time.Duration(d)) }

// UnmarshalYAML reads a duration with its unit.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := strictyaml.ParseDuration(n)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes d exactly, as "1.5s", "20ms" or "250us".
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
