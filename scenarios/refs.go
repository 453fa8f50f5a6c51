package scenarios

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tandem-edge/tandem/profiles"
)

const builtinPrefix = "builtin:"

// Path resolves a path written in the scenario: relative paths are relative
// to the scenario file's folder, so a scenario and the files beside it move
// together. Absolute paths and builtin:NAME references come back unchanged.
func (s *Scenario) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || strings.HasPrefix(p, builtinPrefix) {
		return p
	}
	if s.File == "" || strings.HasPrefix(s.File, builtinPrefix) {
		return p
	}
	return filepath.Join(filepath.Dir(s.File), p)
}

// BundleRef is the bundle to load: builtin:NAME, or the bundle folder's
// path resolved with Path.
func (s *Scenario) BundleRef() string { return s.Path(s.Bundle) }

// EdgeProfile loads the edge devices' profile.
func (s *Scenario) EdgeProfile() (*profiles.Device, error) { return s.loadDevice(s.Edge.Device) }

// CloudProfile loads the cloud servers' profile.
func (s *Scenario) CloudProfile() (*profiles.Device, error) { return s.loadDevice(s.Cloud.Device) }

func (s *Scenario) loadDevice(ref string) (*profiles.Device, error) {
	if name, _ := strings.CutPrefix(ref, builtinPrefix); isBuiltinDevice(name) {
		return profiles.LoadDevice(name)
	}
	return profiles.LoadDevice(s.Path(ref))
}

// Uplink returns the uplink profile every device shares: the constant rate
// or the trace, before Inputs.DeviceLinks gives each device its own phase.
func (s *Scenario) Uplink() (profiles.Link, error) {
	switch {
	case s.Link.Trace != "":
		return s.loadTrace(s.Link.Trace)
	case s.Link.UplinkMbps > 0:
		return profiles.Constant(s.Link.UplinkMbps), nil
	}
	return nil, fmt.Errorf("scenarios: scenario %q: link has neither uplink_mbps nor trace", s.Name)
}

// Downlink returns each device's downlink: its own constant rate, or else
// the same profile as the uplink.
func (s *Scenario) Downlink() (profiles.Link, error) {
	switch {
	case s.Link.DownlinkTrace != "":
		return s.loadTrace(s.Link.DownlinkTrace)
	case s.Link.DownlinkMbps > 0:
		return profiles.Constant(s.Link.DownlinkMbps), nil
	}
	return s.Uplink()
}

// loadTrace loads a link trace by built-in name or by path.
func (s *Scenario) loadTrace(ref string) (profiles.Link, error) {
	if name, _ := strings.CutPrefix(ref, builtinPrefix); profiles.IsBuiltinTrace(name) {
		return profiles.LoadTrace(name)
	}
	return profiles.LoadTrace(s.Path(ref))
}

// hasTrace reports whether either direction of the link replays a trace.
func (l *Link) hasTrace() bool { return l.Trace != "" || l.DownlinkTrace != "" }
