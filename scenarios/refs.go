package scenarios

import (
	"fmt"
	"os"
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

// EdgeProfile loads the profile of edge group g's devices.
func (s *Scenario) EdgeProfile(g int) (*profiles.Device, error) {
	return s.loadDevice(s.Edge[g].Device)
}

// WorkloadOf is the arrival process of edge group g's devices: the
// scenario's, at the group's rate when it has one.
func (s *Scenario) WorkloadOf(g int) *Workload {
	if r := s.Edge[g].Rate; r > 0 {
		w := s.Workload
		w.Rate = r
		return &w
	}
	return &s.Workload
}

// LinkOf is edge group g's link: its own, else the scenario's.
func (s *Scenario) LinkOf(g int) *Link {
	if l := s.Edge[g].Link; l != nil {
		return l
	}
	return &s.Link
}

// CloudProfile loads the cloud servers' profile.
func (s *Scenario) CloudProfile(p int) (*profiles.Device, error) {
	return s.loadDevice(s.Cloud[p].Device)
}

func (s *Scenario) loadDevice(ref string) (*profiles.Device, error) {
	if name, _ := strings.CutPrefix(ref, builtinPrefix); isBuiltinDevice(name) {
		if s.Profiles != "" {
			if p := filepath.Join(s.Profiles, name+".yaml"); exists(p) {
				return profiles.LoadDevice(p)
			}
		}
		return profiles.LoadDevice(name)
	}
	return profiles.LoadDevice(s.Path(ref))
}

// Uplink returns the uplink profile every device of edge group g shares:
// the constant rate or the trace, before Inputs.DeviceLinks gives each
// device its own phase.
func (s *Scenario) Uplink(g int) (profiles.Link, error) {
	l := s.LinkOf(g)
	switch {
	case l.Trace != "":
		return s.loadTrace(l.Trace)
	case l.UplinkMbps > 0:
		return profiles.Constant(l.UplinkMbps), nil
	}
	return nil, fmt.Errorf("scenarios: scenario %q: %s's link has neither uplink_mbps nor trace", s.Name, s.Edge.GroupName(g))
}

// Downlink returns each device's downlink in edge group g: its own
// constant rate or trace, or else the same profile as the uplink.
func (s *Scenario) Downlink(g int) (profiles.Link, error) {
	l := s.LinkOf(g)
	switch {
	case l.DownlinkTrace != "":
		return s.loadTrace(l.DownlinkTrace)
	case l.DownlinkMbps > 0:
		return profiles.Constant(l.DownlinkMbps), nil
	}
	return s.Uplink(g)
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

// exists says whether a file is at path.
func exists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}
