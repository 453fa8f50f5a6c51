package scenarios

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/tandem-edge/tandem/profiles"
	"github.com/tandem-edge/tandem/scenarios/strictyaml"
)

// Validate checks a scenario made in code, after SetDefaults, as Decode
// checks a file: values, the keys each kind needs or refuses, and that the
// profiles, trace, bundle and offloader it names exist.
func (s *Scenario) Validate() error {
	c := strictyaml.NewChecker(nil)
	s.check(c)
	if err := c.Err(); err != nil {
		return fmt.Errorf("scenarios: invalid scenario %q: %w", s.Name, err)
	}
	return nil
}

// isBuiltinDevice is profiles.IsBuiltinDevice; tests replace it to check the
// built-in scenarios before the built-in profiles are measured.
var isBuiltinDevice = profiles.IsBuiltinDevice

// check reports every mistake in s into c. With a file behind c, "given"
// means present in the file; otherwise it means non-zero.
func (s *Scenario) check(c *strictyaml.Checker) {
	hasReq, hasDur := c.Has("requests", s.Requests != 0), c.Has("duration", s.Duration != 0)
	switch {
	case hasReq && hasDur:
		c.Errorf("duration", "give requests or duration, not both")
	case !hasReq && !hasDur:
		c.Errorf("requests", "required: requests (arrivals over the fleet) or duration (simulated time)")
	case hasReq:
		positive(c, "requests", s.Requests)
	default:
		positiveDuration(c, "duration", s.Duration)
	}
	if s.Seed == 0 {
		c.Errorf("seed", "must be >= 1, got 0")
	}
	if c.Has("timeout", s.Timeout != 0) {
		positiveDuration(c, "timeout", s.Timeout)
	}
	s.checkBundle(c)
	s.Workload.check(c, s)
	s.checkEdge(c)
	s.Link.check(c, s, "link")
	s.checkClouds(c)
	s.Policy.check(c, s)
}

func (s *Scenario) checkBundle(c *strictyaml.Checker) {
	if strings.TrimSpace(s.Bundle) == "" {
		c.Errorf("bundle", "required: builtin:NAME or the path of a bundle folder")
		return
	}
	s.checkBundleRef(c, "bundle", s.Bundle)
}

func (s *Scenario) checkBundleRef(c *strictyaml.Checker, key, ref string) {
	// A built-in bundle is checked when Resolve loads it; validation reads
	// only the scenario and the files it names.
	if !strings.HasPrefix(ref, builtinPrefix) {
		if fi, err := os.Stat(s.Path(ref)); err != nil || !fi.IsDir() {
			c.Errorf(key, "no bundle folder %s", s.Path(ref))
		}
	}
}

func (w *Workload) check(c *strictyaml.Checker, s *Scenario) {
	const p = "workload"
	needs := map[string][]string{
		ArrivalPoisson:  {"rate"},
		ArrivalPeriodic: {"rate"},
		ArrivalMMPP:     {"rate", "burst_rate", "burst_mean", "normal_mean"},
		ArrivalTrace:    {"trace"},
	}
	keys, ok := needs[w.Arrival]
	if !ok {
		c.Errorf(p+".arrival", "unknown arrival %q; want one of %s", w.Arrival, strings.Join(Arrivals, ", "))
		return
	}
	given := map[string]bool{
		"rate": w.Rate != 0, "burst_rate": w.BurstRate != 0, "burst_mean": w.BurstMean != 0,
		"normal_mean": w.NormalMean != 0, "trace": w.Trace != "",
	}
	for _, k := range []string{"rate", "burst_rate", "burst_mean", "normal_mean", "trace"} {
		need := slices.Contains(keys, k)
		switch has := c.Has(p+"."+k, given[k]); {
		case need && !has:
			c.Errorf(p+"."+k, "required by arrival %s", w.Arrival)
		case !need && has:
			c.Errorf(p+"."+k, "not used by arrival %s", w.Arrival)
		case need:
			switch k {
			case "rate":
				positiveFloat(c, p+".rate", w.Rate)
			case "burst_rate":
				positiveFloat(c, p+".burst_rate", w.BurstRate)
			case "burst_mean":
				positiveDuration(c, p+".burst_mean", w.BurstMean)
			case "normal_mean":
				positiveDuration(c, p+".normal_mean", w.NormalMean)
			case "trace":
				s.checkFile(c, p+".trace", w.Trace, "arrival trace")
			}
		}
	}
}

func (s *Scenario) checkEdge(c *strictyaml.Checker) {
	if len(s.Edge) == 0 {
		c.Errorf("edge", "required: a group of edge devices ({count, device}), or a list of groups")
		return
	}
	names := map[string]int{}
	devices := 0
	for i := range s.Edge {
		e, p := &s.Edge[i], s.EdgePath(i)
		if first, dup := names[e.Name]; dup && e.Name != "" {
			c.Errorf(p+".name", "group %q already named by edge[%d]", e.Name, first)
		}
		names[e.Name] = i
		positive(c, p+".count", e.Count)
		positive(c, p+".concurrency", e.Concurrency)
		s.checkDevice(c, p+".device", e.Device)
		e.Service.check(c, p+".service")
		e.Power.Check(c, p+".power")
		if c.Has(p+".rate", e.Rate != 0) {
			if s.Workload.Arrival == ArrivalTrace {
				c.Errorf(p+".rate", "not used by arrival trace: the trace sets every device's arrivals")
			} else {
				positiveFloat(c, p+".rate", e.Rate)
			}
		}
		if c.Has(p+".bundle", e.Bundle != "") {
			switch {
			case strings.TrimSpace(e.Bundle) == "":
				c.Errorf(p+".bundle", "builtin:NAME or the path of a bundle folder, or leave it out for the scenario's")
			case s.Policy.Kind == PolicySplit:
				c.Errorf(p+".bundle", "not used by policy kind split: a split cuts the scenario's one heavy model")
			case s.Link.RequestBytes != 0 || s.Link.ResponseBytes != 0:
				c.Errorf(p+".bundle", "link.request_bytes and response_bytes are one bundle's: with a group running its own bundle, leave them to the cloud profile's serving path")
			case s.Policy.Kind == PolicyLearned && s.Policy.Threshold != 0:
				c.Errorf(p+".bundle", "policy.threshold is one offloader's operating point: with a group running its own bundle, leave it out so that each bundle's offloader keeps its own")
			case s.Policy.Offloader != "":
				c.Errorf(p+".bundle", "policy.offloader is one bundle's: with a group running its own bundle, leave it out so that each bundle's own offloader is used")
			default:
				s.checkBundleRef(c, p+".bundle", e.Bundle)
			}
		}
		if c.Has(p+".cloud", e.Cloud != "") {
			known := false
			pools := make([]string, len(s.Cloud))
			for k := range s.Cloud {
				pools[k] = strconv.Quote(s.Cloud.PoolName(k))
				known = known || s.Cloud.PoolName(k) == e.Cloud
			}
			if !known {
				c.Errorf(p+".cloud", "no cloud pool %q; the scenario's are %s", e.Cloud, strings.Join(pools, ", "))
			}
		}
		if l := e.Link; l != nil {
			l.check(c, s, p+".link")
			if l.RequestBytes != 0 || l.ResponseBytes != 0 {
				c.Errorf(p+".link.request_bytes", "request_bytes and response_bytes are the fleet's, set in the scenario's link")
			}
		}
		devices += max(e.Count, 0)
	}
	if devices > math.MaxInt32 {
		c.Errorf("edge", "%d devices over the groups; at most %d", devices, math.MaxInt32)
	}
}

func (s *Scenario) checkClouds(c *strictyaml.Checker) {
	if len(s.Cloud) == 0 {
		c.Errorf("cloud", "required: a pool of servers ({servers, device}), or a list of pools")
		return
	}
	names := map[string]int{}
	for p := range s.Cloud {
		cl, path := &s.Cloud[p], s.CloudPath(p)
		if first, dup := names[cl.Name]; dup && cl.Name != "" {
			c.Errorf(path+".name", "pool %q already named by cloud[%d]", cl.Name, first)
		}
		names[cl.Name] = p
		if p > 0 && s.Policy.Kind == PolicySplit {
			c.Errorf(path, "not used by policy kind split: a split deployment runs on one cloud pool")
		}
		cl.check(c, s, path)
	}
}

func (cl *Cloud) check(c *strictyaml.Checker, s *Scenario, p string) {
	positive(c, p+".servers", cl.Servers)
	s.checkDevice(c, p+".device", cl.Device)
	if b := cl.Batching; b != nil {
		if !c.Has(p+".batching.max_batch", true) {
			c.Errorf(p+".batching.max_batch", "required: the largest batch a server takes")
		} else {
			positive(c, p+".batching.max_batch", b.MaxBatch)
		}
		nonNegativeDuration(c, p+".batching.max_wait", b.MaxWait)
	}
	cl.Service.check(c, p+".service")
	if !slices.Contains(Protocols, cl.Protocol) {
		c.Errorf(p+".protocol", "unknown protocol %q; want one of %s", cl.Protocol, strings.Join(Protocols, ", "))
	}
}

func (sv *Service) check(c *strictyaml.Checker, p string) {
	if sv == nil {
		return
	}
	if !slices.Contains(Dists, sv.Dist) {
		c.Errorf(p+".dist", "unknown dist %q; want one of %s", sv.Dist, strings.Join(Dists, ", "))
	}
	if !c.Has(p+".mean", true) {
		c.Errorf(p+".mean", "required: the mean service time, e.g. 5ms")
	} else {
		positiveDuration(c, p+".mean", sv.Mean)
	}
	switch hasCV := c.Has(p+".cv", sv.CV != 0); {
	case sv.Dist == DistLognormal && !hasCV:
		c.Errorf(p+".cv", "required by dist lognormal: the coefficient of variation")
	case sv.Dist == DistLognormal:
		positiveFloat(c, p+".cv", sv.CV)
	case hasCV && sv.Dist == DistExponential:
		c.Errorf(p+".cv", "not used by dist exponential (its cv is 1)")
	case hasCV && sv.Dist == DistDeterministic:
		c.Errorf(p+".cv", "not used by dist deterministic (its cv is 0)")
	}
}

func (l *Link) check(c *strictyaml.Checker, s *Scenario, p string) {
	hasRate, hasTrace := c.Has(p+".uplink_mbps", l.UplinkMbps != 0), c.Has(p+".trace", l.Trace != "")
	switch {
	case hasRate && hasTrace:
		c.Errorf(p+".trace", "give uplink_mbps or trace, not both")
	case !hasRate && !hasTrace:
		c.Errorf(p+".uplink_mbps", "required: uplink_mbps (a constant rate) or trace (a capacity trace)")
	case hasRate:
		positiveFloat(c, p+".uplink_mbps", l.UplinkMbps)
	default:
		s.checkTrace(c, p+".trace", l.Trace)
	}
	if l.DownlinkMbps < 0 {
		c.Errorf(p+".downlink_mbps", "must be >= 0 (0: as the uplink), got %g", l.DownlinkMbps)
	}
	if c.Has(p+".downlink_trace", l.DownlinkTrace != "") {
		if l.DownlinkMbps != 0 {
			c.Errorf(p+".downlink_trace", "give downlink_mbps or downlink_trace, not both")
		} else {
			s.checkTrace(c, p+".downlink_trace", l.DownlinkTrace)
		}
	}
	if c.Has(p+".trace_phase", l.TracePhase != "") {
		switch {
		case !slices.Contains(TracePhases, l.TracePhase):
			c.Errorf(p+".trace_phase", "unknown trace phase %q; want one of %s", l.TracePhase, strings.Join(TracePhases, ", "))
		case !l.hasTrace():
			c.Errorf(p+".trace_phase", "applies only to trace links; this link has neither trace nor downlink_trace")
		}
	}
	if !c.Has(p+".rtt", true) {
		c.Errorf(p+".rtt", "required: the round-trip propagation delay, e.g. 20ms (0s for none)")
	} else {
		nonNegativeDuration(c, p+".rtt", l.RTT)
	}
	if l.RequestBytes < 0 {
		c.Errorf(p+".request_bytes", "must be >= 0 (0: what the cloud profile measured a request puts on the wire), got %d", l.RequestBytes)
	}
	if l.ResponseBytes < 0 {
		c.Errorf(p+".response_bytes", "must be >= 0 (0: what the cloud profile measured an answer puts on the wire), got %d", l.ResponseBytes)
	}
}

func (pl *Policy) check(c *strictyaml.Checker, s *Scenario) {
	const p = "policy"
	needs := map[string][]string{
		PolicyEdgeOnly:  nil,
		PolicyCloudOnly: nil,
		PolicyOracle:    nil,
		PolicyRandom:    {"p"},
		PolicyThreshold: {"feature", "threshold"},
		PolicyLearned:   {"offloader?", "threshold?"},
		PolicyCostAware: {"lambda", "offloader?"},
		PolicySplit:     {"after?"},
	}
	keys, ok := needs[pl.Kind]
	if pl.Kind == "" {
		c.Errorf(p+".kind", "required: the offloading policy, one of %s", strings.Join(PolicyKinds, ", "))
		return
	}
	if !ok {
		c.Errorf(p+".kind", "unknown policy kind %q; want one of %s", pl.Kind, strings.Join(PolicyKinds, ", "))
		return
	}
	given := map[string]bool{"p": pl.P != 0, "feature": pl.Feature != "", "threshold": pl.Threshold != 0, "offloader": pl.Offloader != "", "lambda": pl.Lambda != 0, "after": pl.After != ""}
	zeroOK := map[string]bool{"p": true, "threshold": true, "lambda": true} // 0 is a value, not an omission
	for _, k := range []string{"p", "feature", "threshold", "offloader", "lambda", "after"} {
		has := c.Has(p+"."+k, given[k])
		switch {
		case slices.Contains(keys, k) && !c.Has(p+"."+k, given[k] || zeroOK[k]):
			c.Errorf(p+"."+k, "required by policy kind %s", pl.Kind)
		case !slices.Contains(keys, k) && !slices.Contains(keys, k+"?") && has:
			c.Errorf(p+"."+k, "not used by policy kind %s", pl.Kind)
		}
	}
	switch pl.Kind {
	case PolicyRandom:
		if !(pl.P >= 0 && pl.P <= 1) {
			c.Errorf(p+".p", "must be from 0 to 1, got %g", pl.P)
		}
	case PolicyThreshold:
		switch pl.Feature {
		case FeatureMaxProb, FeatureMargin:
			if !(pl.Threshold >= 0 && pl.Threshold <= 1) {
				c.Errorf(p+".threshold", "must be from 0 to 1 for feature %s, got %g", pl.Feature, pl.Threshold)
			}
		case FeatureEntropy:
			if pl.Threshold < 0 {
				c.Errorf(p+".threshold", "must be >= 0 for feature entropy, got %g", pl.Threshold)
			}
		default:
			if c.Has(p+".feature", pl.Feature != "") {
				c.Errorf(p+".feature", "unknown feature %q; want one of %s", pl.Feature, strings.Join(Features, ", "))
			}
		}
	case PolicyLearned, PolicyCostAware:
		if pl.Offloader != "" {
			s.checkFile(c, p+".offloader", pl.Offloader, "offloader")
		}
		if pl.Kind == PolicyLearned && !(pl.Threshold >= 0 && pl.Threshold <= 1) {
			c.Errorf(p+".threshold", "must be from 0 to 1 (the offloader's score at which to offload), got %g", pl.Threshold)
		}
		if pl.Kind == PolicyCostAware && (!(pl.Lambda >= 0) || math.IsInf(pl.Lambda, 1)) {
			c.Errorf(p+".lambda", "must be a finite price >= 0 (accuracy per millisecond), got %g", pl.Lambda)
		}
	}
}

// checkDevice reports a device profile reference that names neither a
// built-in profile nor a file.
func (s *Scenario) checkDevice(c *strictyaml.Checker, path, ref string) {
	name, explicit := strings.CutPrefix(ref, builtinPrefix)
	switch {
	case strings.TrimSpace(ref) == "":
		c.Errorf(path, "required: a built-in device profile (%s) or a profile file's path", builtinList(profiles.BuiltinDevices()))
	case isBuiltinDevice(name):
	case explicit:
		c.Errorf(path, "no built-in profile %q (built-ins: %s)", name, builtinList(profiles.BuiltinDevices()))
	case !isFile(s.Path(ref)):
		c.Errorf(path, "no built-in profile %q and no such file%s (built-ins: %s)", ref, s.resolvedNote(ref), builtinList(profiles.BuiltinDevices()))
	}
}

// checkTrace reports a link trace reference that names neither a built-in
// trace nor a file.
func (s *Scenario) checkTrace(c *strictyaml.Checker, path, ref string) {
	name, explicit := strings.CutPrefix(ref, builtinPrefix)
	switch {
	case strings.TrimSpace(ref) == "":
		c.Errorf(path, "required: a link trace file's path")
	case profiles.IsBuiltinTrace(name):
	case explicit:
		c.Errorf(path, "no built-in link trace %q (built-ins: %s)", name, builtinList(profiles.BuiltinTraces()))
	case !isFile(s.Path(ref)):
		c.Errorf(path, "no built-in link trace %q and no such file%s (built-ins: %s)", ref, s.resolvedNote(ref), builtinList(profiles.BuiltinTraces()))
	}
}

func (s *Scenario) checkFile(c *strictyaml.Checker, path, ref, what string) {
	if !isFile(s.Path(ref)) {
		c.Errorf(path, "no such %s file %s", what, s.Path(ref))
	}
}

// resolvedNote says where a relative path was looked for, when that is not
// where the user might think.
func (s *Scenario) resolvedNote(ref string) string {
	if r := s.Path(ref); r != ref {
		return " " + r
	}
	return ""
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

func builtinList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func positive(c *strictyaml.Checker, path string, v int) {
	if v <= 0 {
		c.Errorf(path, "must be > 0, got %d", v)
	}
}

func positiveFloat(c *strictyaml.Checker, path string, v float64) {
	if !(v > 0) {
		c.Errorf(path, "must be > 0, got %g", v)
	}
}

func positiveDuration(c *strictyaml.Checker, path string, d Duration) {
	if d <= 0 {
		c.Errorf(path, "must be > 0, got %s", d)
	}
}

func nonNegativeDuration(c *strictyaml.Checker, path string, d Duration) {
	if d < 0 {
		c.Errorf(path, "must be >= 0, got %s", d)
	}
}
